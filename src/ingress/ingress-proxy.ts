/**
 * IngressProxy: the data path of the ingress controller — an HTTP and an HTTPS listener that
 * route every request through the current RoutingTable to a pod.
 *
 * - The table is one immutable object; setTable() swaps the reference. A request reads it once
 *   when it arrives, so a swap never affects a request in flight, and since the listeners are
 *   never restarted, open keep-alive connections simply see the new table on their next request.
 * - HTTPS picks the certificate by SNI (exact host, then `*.` wildcard) from the table and falls
 *   back to the default (self-signed) certificate; HTTP/1.1 only (ALPN `http/1.1`).
 * - Plain-HTTP requests for a host that has a certificate are redirected to HTTPS with 308 (the
 *   HTTPS port is added to the Location when it is not 443).
 * - No route and no default backend → 404 from the proxy itself; a backend without ready
 *   endpoints (or an unknown Service) → 503; a pod that cannot be reached → 502, one that does
 *   not answer within the upstream timeout → 504.
 * - Requests go straight to the pod IP:port, endpoints taken round-robin per backend (the counter
 *   survives table swaps), over a keep-alive agent. Bodies stream both ways, never buffered:
 *   the request body is piped to the pod as it arrives and the response back the same way.
 * - A request without a body and with a safe method (GET, HEAD, OPTIONS) that fails before any
 *   response (refused, reset — e.g. a keep-alive connection the pod closed at that moment —
 *   or a connect timeout) is retried on the next endpoints, up to 3 tries, as nginx's
 *   proxy_next_upstream does for errors.
 * - Headers: hop-by-hop headers (RFC 9110 §7.6.1, plus those named in Connection) are dropped
 *   both ways; Host is passed through; X-Forwarded-For gets the client address appended;
 *   X-Forwarded-Proto, -Host and -Port and X-Real-IP are set.
 * - HTTP/1.1 upgrades (WebSocket) are relayed: the upgrade request goes to the pod on its own
 *   connection and, once the pod answers 101, the two sockets are piped to each other.
 * - stop() stops accepting, lets requests in flight finish (answering them with
 *   `Connection: close`) up to a grace period, then closes whatever is left.
 */
import http from 'node:http';
import https from 'node:https';
import type net from 'node:net';
import type { AddressInfo } from 'node:net';
import type { SecureContext } from 'node:tls';
import { RoutingTable, normalizeHost, type Backend, type Endpoint } from './routing-table.js';
import { secureContextFrom, type CertificatePem } from './certificates.js';
import { logger } from '../util/log.js';

const log = logger('ingress');

export interface IngressProxyOptions {
  /** 0 = any free port. */
  httpPort: number;
  httpsPort: number;
  /** Default 0.0.0.0. */
  bindAddress?: string;
  /** Served when no Ingress has a certificate for the SNI name. */
  defaultCertificate: CertificatePem;
  /** Connecting to a pod (default 5 s, nginx's proxy_connect_timeout). */
  connectTimeoutMs?: number;
  /** Waiting for the pod's response or its next bytes (default 60 s, nginx's proxy_read_timeout). */
  upstreamTimeoutMs?: number;
  /** Idle client keep-alive connections are closed after this (default 75 s, nginx's keepalive_timeout). */
  keepAliveTimeoutMs?: number;
}

export interface ProxyStats {
  /** Client connections accepted (both listeners). */
  connections: number;
  requests: number;
  upgrades: number;
  /** Responses by status code, as sent to clients. */
  status: Record<number, number>;
  upstreamErrors: number;
  retries: number;
}

const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'te', 'trailer', 'transfer-encoding', 'upgrade', 'proxy-authenticate', 'proxy-authorization']);
const RETRYABLE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);
const MAX_TRIES = 3;

/** Where a request is going: the Host it names, its path without the query, and path + query. */
export function requestTarget(req: http.IncomingMessage): { host: string; path: string; pathAndQuery: string } {
  let url = req.url ?? '/';
  let host = req.headers.host ?? '';
  // Absolute-form (RFC 9112 §3.2.2): the URL's authority wins over the Host header.
  if (!url.startsWith('/') && /^https?:\/\//i.test(url)) {
    try {
      const u = new URL(url);
      host = u.host;
      url = `${u.pathname}${u.search}`;
    } catch { /* keep as sent */ }
  }
  const q = url.indexOf('?');
  return { host, path: q >= 0 ? url.slice(0, q) : url, pathAndQuery: url };
}

const clientIP = (s: net.Socket) => (s.remoteAddress ?? '').replace(/^::ffff:(?=\d+\.)/, '');

/** Header tokens named in Connection (hop-by-hop by declaration). */
function connectionTokens(value: string | string[] | undefined): Set<string> {
  const out = new Set<string>();
  for (const v of Array.isArray(value) ? value : value ? [value] : []) for (const t of v.split(',')) if (t.trim()) out.add(t.trim().toLowerCase());
  return out;
}

/** The headers sent to the pod. */
export function upstreamHeaders(req: http.IncomingMessage, secure: boolean, upgrade?: string): http.OutgoingHttpHeaders {
  const drop = connectionTokens(req.headers.connection);
  const out: http.OutgoingHttpHeaders = {};
  for (const [k, v] of Object.entries(req.headers)) {
    if (v === undefined || HOP_BY_HOP.has(k) || drop.has(k) || k === 'expect') continue;
    out[k] = v;
  }
  // The body arrives de-chunked; chunked again towards the pod (Node encodes it).
  if (req.headers['transfer-encoding']) out['transfer-encoding'] = 'chunked';
  if (upgrade) {
    out.connection = 'Upgrade';
    out.upgrade = upgrade;
  }
  const ip = clientIP(req.socket);
  const xff = req.headers['x-forwarded-for'];
  out['x-forwarded-for'] = xff ? `${Array.isArray(xff) ? xff.join(', ') : xff}, ${ip}` : ip;
  out['x-real-ip'] = ip;
  out['x-forwarded-proto'] = secure ? 'https' : 'http';
  if (req.headers.host) out['x-forwarded-host'] = req.headers.host;
  out['x-forwarded-port'] = String(req.socket.localPort ?? '');
  return out;
}

/** The pod's response headers (raw, as a flat name/value list) minus hop-by-hop ones. */
export function downstreamHeaders(raw: string[], keep: (name: string) => boolean = () => false): string[] {
  const names: string[] = [];
  for (let i = 0; i < raw.length; i += 2) if (raw[i].toLowerCase() === 'connection') names.push(raw[i + 1]);
  const drop = connectionTokens(names);
  const out: string[] = [];
  for (let i = 0; i < raw.length; i += 2) {
    const k = raw[i].toLowerCase();
    if ((HOP_BY_HOP.has(k) || drop.has(k)) && !keep(k)) continue;
    out.push(raw[i], raw[i + 1]);
  }
  return out;
}

function rawHead(statusCode: number, statusMessage: string | undefined, headers: string[]): string {
  let s = `HTTP/1.1 ${statusCode} ${statusMessage ?? http.STATUS_CODES[statusCode] ?? ''}\r\n`;
  for (let i = 0; i < headers.length; i += 2) s += `${headers[i]}: ${headers[i + 1]}\r\n`;
  return `${s}\r\n`;
}

export class IngressProxy {
  private table: RoutingTable = RoutingTable.EMPTY;
  private httpServer?: http.Server;
  private httpsServer?: https.Server;
  private readonly agent: http.Agent;
  private readonly defaultContext: SecureContext;
  private rr = new Map<string, number>();
  private upgraded = new Set<net.Socket>();
  private inFlight = 0;
  private idleWaiters: Array<() => void> = [];
  private stopping = false;
  private boundPorts = { http: 0, https: 0 };
  readonly stats: ProxyStats = { connections: 0, requests: 0, upgrades: 0, status: {}, upstreamErrors: 0, retries: 0 };

  constructor(readonly opts: IngressProxyOptions) {
    this.defaultContext = secureContextFrom(opts.defaultCertificate);
    // Idle pooled connections are dropped after 4 s, before a pod's own keep-alive timeout
    // (5 s is common, e.g. Node's) can close one under a request.
    this.agent = new http.Agent({ keepAlive: true, maxFreeSockets: 256, scheduling: 'lifo', timeout: 4000 });
  }

  get httpPort(): number { return this.boundPorts.http; }
  get httpsPort(): number { return this.boundPorts.https; }

  /** The table requests are routed by from now on. */
  get routingTable(): RoutingTable { return this.table; }

  /** Swaps the routing table (atomically: one reference). */
  setTable(table: RoutingTable): void {
    this.table = table;
    const live = new Set(table.backends().map((b) => b.key));
    for (const k of this.rr.keys()) if (!live.has(k)) this.rr.delete(k);
  }

  /** Binds both listeners; rejects (binding neither) when one cannot be bound. */
  async start(): Promise<void> {
    const bind = this.opts.bindAddress ?? '0.0.0.0';
    const httpServer = http.createServer({ requestTimeout: 0, headersTimeout: 60_000 }, (req, res) => this.onRequest(req, res, false));
    const httpsServer = https.createServer({
      cert: this.opts.defaultCertificate.certPem, key: this.opts.defaultCertificate.keyPem,
      SNICallback: (name, cb) => cb(null, this.table.certificate(name)?.context ?? this.defaultContext),
      ALPNProtocols: ['http/1.1'], requestTimeout: 0, headersTimeout: 60_000,
    }, (req, res) => this.onRequest(req, res, true));
    for (const [s, secure] of [[httpServer, false], [httpsServer, true]] as const) {
      s.keepAliveTimeout = this.opts.keepAliveTimeoutMs ?? 75_000;
      s.on(secure ? 'secureConnection' : 'connection', () => { this.stats.connections++; });
      s.on('upgrade', (req: http.IncomingMessage, socket: net.Socket, head: Buffer) => this.onUpgrade(req, socket, head, secure));
      s.on('clientError', (_err, socket: net.Socket) => {
        if (socket.writable && !socket.destroyed) socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
        else socket.destroy();
      });
    }
    const listen = (s: net.Server, port: number) => new Promise<number>((resolve, reject) => {
      const onError = (err: Error) => reject(err);
      s.once('error', onError);
      s.listen(port, bind, () => {
        s.removeListener('error', onError);
        s.on('error', (err) => log.error('listener error', { err: err.message }));
        resolve((s.address() as AddressInfo).port);
      });
    });
    try {
      this.boundPorts.http = await listen(httpServer, this.opts.httpPort);
      this.boundPorts.https = await listen(httpsServer, this.opts.httpsPort);
    } catch (err) {
      httpServer.close();
      httpsServer.close();
      throw new Error(`cannot listen on ${bind}: ${(err as Error).message}`);
    }
    this.httpServer = httpServer;
    this.httpsServer = httpsServer;
  }

  /**
   * Stops accepting connections, waits up to `graceMs` for requests in flight (upgraded
   * connections are not waited for), then closes every connection.
   */
  async stop(graceMs = 10_000): Promise<void> {
    if (this.stopping) return;
    this.stopping = true;
    const servers = [this.httpServer, this.httpsServer].filter((s): s is http.Server => !!s);
    const closed = Promise.all(servers.map((s) => new Promise<void>((r) => s.close(() => r()))));
    for (const s of servers) s.closeIdleConnections();
    if (this.inFlight > 0) {
      await Promise.race([
        new Promise<void>((r) => this.idleWaiters.push(r)),
        new Promise<void>((r) => setTimeout(r, graceMs).unref()),
      ]);
    }
    for (const s of servers) s.closeAllConnections();
    for (const s of this.upgraded) s.destroy();
    await closed;
    this.agent.destroy();
  }

  // ---- plain requests -------------------------------------------------------------------------

  private onRequest(req: http.IncomingMessage, res: http.ServerResponse, secure: boolean): void {
    this.stats.requests++;
    this.inFlight++;
    res.once('close', () => {
      this.stats.status[res.statusCode] = (this.stats.status[res.statusCode] ?? 0) + 1;
      if (--this.inFlight === 0 && this.idleWaiters.length) {
        const w = this.idleWaiters;
        this.idleWaiters = [];
        for (const f of w) f();
      }
    });
    try {
      const table = this.table;
      const { host, path } = requestTarget(req);
      if (!secure && table.redirectsToHTTPS(host)) return this.redirect(req, res, host);
      const { backend } = table.route(host, path);
      if (!backend) return this.reply(req, res, 404, 'default backend - 404\n');
      if (!backend.endpoints.length) return this.reply(req, res, 503, '503 Service Temporarily Unavailable\n');
      this.forward(req, res, backend, secure, 1);
    } catch (err) {
      // E.g. a request Node's client refuses to send on (characters it will not write): never crash the data path.
      log.warn('request failed', { err: (err as Error).message });
      if (!res.headersSent) this.reply(req, res, 400, '400 Bad Request\n');
      else res.destroy();
    }
  }

  private reply(req: http.IncomingMessage, res: http.ServerResponse, status: number, body: string, headers: Record<string, string> = {}): void {
    req.resume();
    if (this.stopping) res.shouldKeepAlive = false;
    res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8', 'content-length': Buffer.byteLength(body), ...headers });
    res.end(req.method === 'HEAD' ? undefined : body);
  }

  private redirectLocation(req: http.IncomingMessage, host: string): string {
    const port = this.boundPorts.https;
    const h = normalizeHost(host);
    return `https://${h}${port === 443 ? '' : `:${port}`}${requestTarget(req).pathAndQuery}`;
  }

  private redirect(req: http.IncomingMessage, res: http.ServerResponse, host: string): void {
    const location = this.redirectLocation(req, host);
    this.reply(req, res, 308, `308 Permanent Redirect: ${location}\n`, { location });
  }

  private pick(b: Backend): Endpoint {
    const n = this.rr.get(b.key) ?? 0;
    this.rr.set(b.key, n + 1);
    return b.endpoints[n % b.endpoints.length];
  }

  private forward(req: http.IncomingMessage, res: http.ServerResponse, backend: Backend, secure: boolean, attempt: number): void {
    const ep = this.pick(backend);
    const bodyless = !req.headers['transfer-encoding'] && (!req.headers['content-length'] || req.headers['content-length'] === '0');
    const retryable = bodyless && RETRYABLE_METHODS.has(req.method ?? '') && attempt < Math.min(MAX_TRIES, backend.endpoints.length + 1);
    const up = http.request({
      host: ep.ip, port: ep.port, method: req.method, path: requestTarget(req).pathAndQuery, headers: upstreamHeaders(req, secure), agent: this.agent,
    });
    let responded = false;
    let connectTimer: NodeJS.Timeout | undefined;
    up.on('socket', (s: net.Socket) => {
      if (!s.connecting) return;
      connectTimer = setTimeout(() => up.destroy(Object.assign(new Error(`connect to ${ep.ip}:${ep.port} timed out`), { code: 'ETIMEDOUT' })), this.opts.connectTimeoutMs ?? 5000);
      s.once('connect', () => clearTimeout(connectTimer));
    });
    up.setTimeout(this.opts.upstreamTimeoutMs ?? 60_000, () => up.destroy(Object.assign(new Error('upstream timed out'), { code: 'UPSTREAM_TIMEOUT' })));
    const onClientGone = () => { if (!res.writableFinished) up.destroy(); };
    res.once('close', onClientGone);
    up.on('response', (upRes) => {
      responded = true;
      clearTimeout(connectTimer);
      const done = () => { if (!res.writableEnded) res.destroy(); };
      upRes.once('aborted', done);
      upRes.once('error', done);
      // Stopping: the client learns to reconnect elsewhere rather than reuse this connection.
      if (this.stopping) res.shouldKeepAlive = false;
      try {
        res.writeHead(upRes.statusCode ?? 502, upRes.statusMessage, downstreamHeaders(upRes.rawHeaders));
      } catch (err) {
        log.warn('response from the pod cannot be relayed', { backend: backend.key, err: (err as Error).message });
        upRes.destroy();
        this.reply(req, res, 502, '502 Bad Gateway\n');
        return;
      }
      upRes.pipe(res);
    });
    up.on('error', (err: NodeJS.ErrnoException) => {
      clearTimeout(connectTimer);
      if (responded || res.headersSent) { res.destroy(); return; }
      if (res.destroyed) return;
      this.stats.upstreamErrors++;
      const timedOut = err.code === 'UPSTREAM_TIMEOUT';
      if (retryable && !timedOut) {
        this.stats.retries++;
        res.removeListener('close', onClientGone);
        log.debug('upstream failed; retrying on the next endpoint', { backend: backend.key, endpoint: `${ep.ip}:${ep.port}`, err: err.message });
        this.forward(req, res, backend, secure, attempt + 1);
        return;
      }
      log.warn('upstream failed', { backend: backend.key, endpoint: `${ep.ip}:${ep.port}`, err: err.message });
      this.reply(req, res, timedOut ? 504 : 502, timedOut ? '504 Gateway Time-out\n' : '502 Bad Gateway\n');
    });
    if (bodyless) {
      req.resume();
      up.end();
    } else {
      // A client gone mid-upload: the pod's request goes too.
      req.once('error', () => up.destroy());
      req.once('aborted', () => up.destroy());
      req.pipe(up);
    }
  }

  // ---- upgrades (WebSocket) -------------------------------------------------------------------

  private onUpgrade(req: http.IncomingMessage, socket: net.Socket, head: Buffer, secure: boolean): void {
    this.stats.upgrades++;
    socket.on('error', () => socket.destroy());
    try {
      this.relayUpgrade(req, socket, head, secure);
    } catch (err) {
      log.warn('upgrade failed', { err: (err as Error).message });
      socket.destroy();
    }
  }

  private relayUpgrade(req: http.IncomingMessage, socket: net.Socket, head: Buffer, secure: boolean): void {
    const rawReply = (status: number, body: string, extra: string[] = []) => {
      this.stats.status[status] = (this.stats.status[status] ?? 0) + 1;
      socket.end(rawHead(status, undefined, ['Content-Type', 'text/plain; charset=utf-8', 'Content-Length', String(Buffer.byteLength(body)), 'Connection', 'close', ...extra]) + body);
    };
    const table = this.table;
    const { host, path } = requestTarget(req);
    if (!secure && table.redirectsToHTTPS(host)) {
      const location = this.redirectLocation(req, host);
      return rawReply(308, `308 Permanent Redirect: ${location}\n`, ['Location', location]);
    }
    const { backend } = table.route(host, path);
    if (!backend) return rawReply(404, 'default backend - 404\n');
    if (!backend.endpoints.length) return rawReply(503, '503 Service Temporarily Unavailable\n');
    const ep = this.pick(backend);
    const up = http.request({
      host: ep.ip, port: ep.port, method: req.method, path: requestTarget(req).pathAndQuery, agent: false,
      headers: upstreamHeaders(req, secure, String(req.headers.upgrade ?? 'websocket')),
    });
    const connectTimer = setTimeout(() => up.destroy(new Error('connect timed out')), this.opts.connectTimeoutMs ?? 5000);
    up.on('socket', (s: net.Socket) => s.once('connect', () => clearTimeout(connectTimer)));
    up.setTimeout(this.opts.upstreamTimeoutMs ?? 60_000, () => up.destroy(new Error('no answer to the upgrade request')));
    socket.once('close', () => up.destroy());
    up.on('upgrade', (upRes, upSocket: net.Socket, upHead: Buffer) => {
      clearTimeout(connectTimer);
      if (socket.destroyed) { upSocket.destroy(); return; }
      this.stats.status[101] = (this.stats.status[101] ?? 0) + 1;
      upSocket.on('error', () => socket.destroy());
      socket.on('error', () => upSocket.destroy());
      upSocket.once('close', () => socket.destroy());
      socket.once('close', () => upSocket.destroy());
      this.upgraded.add(socket);
      socket.once('close', () => this.upgraded.delete(socket));
      socket.setNoDelay(true);
      upSocket.setNoDelay(true);
      socket.setTimeout(0);
      upSocket.setTimeout(0);
      socket.write(rawHead(upRes.statusCode ?? 101, upRes.statusMessage, downstreamHeaders(upRes.rawHeaders, (k) => k === 'connection' || k === 'upgrade')));
      if (upHead.length) socket.write(upHead);
      // Bytes the client sent right after its request head belong to the upgraded stream.
      if (head.length) socket.unshift(head);
      upSocket.pipe(socket);
      socket.pipe(upSocket);
    });
    up.on('response', (upRes) => {
      // The pod declined the upgrade: relay its answer and close.
      clearTimeout(connectTimer);
      this.stats.status[upRes.statusCode ?? 502] = (this.stats.status[upRes.statusCode ?? 502] ?? 0) + 1;
      // The body arrives de-chunked: it is sent as is (Content-Length kept, else up to the close).
      socket.write(rawHead(upRes.statusCode ?? 502, upRes.statusMessage, [...downstreamHeaders(upRes.rawHeaders), 'Connection', 'close']));
      upRes.pipe(socket);
      upRes.once('error', () => socket.destroy());
    });
    up.on('error', (err) => {
      clearTimeout(connectTimer);
      if (socket.destroyed) return;
      this.stats.upstreamErrors++;
      log.warn('upstream upgrade failed', { backend: backend.key, endpoint: `${ep.ip}:${ep.port}`, err: err.message });
      rawReply(502, '502 Bad Gateway\n');
    });
    up.end();
  }
}
