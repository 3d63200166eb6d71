/**
 * The kubelet's API server (port 10250): the endpoints the API server reaches for a pod's logs,
 * exec, attach and port-forward, with the same paths and parameters as the real kubelet
 * (Kubernetes: pkg/kubelet/server/server.go).
 *
 *   GET  /containerLogs/{ns}/{pod}/{container}?follow&previous&sinceSeconds&sinceTime&tailLines&timestamps&limitBytes
 *   GET|POST /exec/{ns}/{pod}[/{uid}]/{container}?command=…&input=1&output=1&error=1&tty=1
 *   GET|POST /attach/{ns}/{pod}[/{uid}]/{container}?input=1&output=1&error=1&tty=1
 *   GET|POST /portForward/{ns}/{pod}[/{uid}][?port=80,8080]
 *   GET  /healthz
 * (`stdin`/`stdout`/`stderr` are accepted as well as upstream's `input`/`output`/`error`.)
 *
 * Only clients with a certificate signed by `clientCaPem` get in (the API server's
 * kube-apiserver-kubelet-client); the TLS handshake refuses everyone else.
 *
 * Streaming: the kubelet asks the runtime (CRI Exec/Attach/PortForward) for a streaming URL on
 * containerd's streaming server and relays the client's upgrade there, as the real kubelet does
 * without redirect. What the client can speak, and how it gets through (containerd 1.6 streaming
 * server = Kubernetes' kubelet/pkg/cri/streaming of 1.24):
 *
 *   exec/attach, SPDY/3.1 (X-Stream-Protocol-Version v4/v3/v2/channel.k8s.io)
 *       → relayed byte for byte; containerd picks v4.channel.k8s.io.
 *   exec/attach, WebSocket offering channel.k8s.io, base64.channel.k8s.io, v4.channel.k8s.io or
 *       v4.base64.channel.k8s.io (client libraries) → relayed byte for byte.
 *   exec/attach, WebSocket offering only v5.channel.k8s.io (kubectl ≥ 1.30) → 400: containerd
 *       has no v5, and v4 over WebSocket cannot close stdin (cp, `exec -i` with piped input
 *       would hang), so kubectl falls back to SPDY, which can. No protocol code needed.
 *   port-forward, SPDY/3.1 (portforward.k8s.io) → relayed byte for byte.
 *   port-forward, WebSocket `SPDY/3.1+portforward.k8s.io` (kubectl ≥ 1.30's tunnel) → the
 *       WebSocket is terminated here; its binary messages are the SPDY byte stream, sent to
 *       containerd over a plain SPDY upgrade made by this kubelet.
 *   port-forward, WebSocket v4.channel.k8s.io / v4.base64.channel.k8s.io with ?port= (client
 *       libraries: channel 2i = data, 2i+1 = errors of the i-th port) → relayed byte for byte.
 * Measured on containerd 1.6.20 (kubelet-server.containerd.test.ts): SPDY exec picks v4 and
 * answers 403 to v5 alone; WebSocket v5 and the SPDY tunnel protocol get 403; streaming URLs
 * are single use (404 the second time). A tty exec loses its output unless stdin is attached
 * too (kubectl always sends -t with -i).
 */
import https from 'node:https';
import net from 'node:net';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket } from 'ws';
import { CriError, GRPC_NOT_FOUND, type RuntimeService, type StreamingRequestBase } from '../cri/api.js';
import { readCriLogs, parseTimestampNs } from './cri-logs.js';
import {
  upgradeRequestHead, splice, writeRawResponse, readResponseHead, offeredSubprotocols, isWebSocketUpgrade,
} from '../../util/upgrade-relay.js';
import { logger } from '../../util/log.js';

const log = logger('kubelet-server');

/** The kubelet core's view of its pods, for the server. */
export interface PodLookup {
  /** The container of a pod running on this node (previous: the last terminated instance). */
  findContainer(namespace: string, podName: string, container: string | undefined, previous: boolean):
    Promise<{ containerId: string; logPath: string; podSandboxId: string } | { error: string; code: number }>;
  findSandbox(namespace: string, podName: string): Promise<{ podSandboxId: string } | { error: string; code: number }>;
}

export interface KubeletServerOptions {
  /** 0 = a free port. */
  port: number;
  bindAddress?: string;
  tls: { certPem: string; keyPem: string; clientCaPem: string };
  runtime: RuntimeService;
  pods: PodLookup;
  /** Log follow: longest wait between checks for new lines and container exit (default 1000 ms). */
  logPollIntervalMs?: number;
  /** Resource usage for /metrics/resource (Prometheus text) and /stats/summary (JSON). */
  stats?: { metricsResource(): Promise<string>; summary(): Promise<unknown> };
}

/** WebSocket subprotocols containerd 1.6's streaming server accepts for exec/attach. */
export const RUNTIME_EXEC_WS_PROTOCOLS = ['channel.k8s.io', 'base64.channel.k8s.io', 'v4.channel.k8s.io', 'v4.base64.channel.k8s.io'];
/** … and for port-forward (the channel protocol with ?port=; measured: not portforward.k8s.io). */
export const RUNTIME_PORTFORWARD_WS_PROTOCOLS = ['v4.channel.k8s.io', 'v4.base64.channel.k8s.io'];
/** kubectl's port-forward tunnel: SPDY/3.1 frames inside WebSocket binary messages. */
export const SPDY_TUNNEL_PROTOCOL = 'SPDY/3.1+portforward.k8s.io';

const TUNNEL_STAND_IN = 'keelson-spdy-tunnel';

type Route =
  | { kind: 'containerLogs'; namespace: string; pod: string; container: string }
  | { kind: 'exec' | 'attach'; namespace: string; pod: string; container: string }
  | { kind: 'portForward'; namespace: string; pod: string }
  | { kind: 'healthz' }
  | { kind: 'metricsResource' }
  | { kind: 'statsSummary' };

class HttpError extends Error {
  constructor(readonly code: number, message: string) { super(message); }
}

/** Go's strconv.ParseBool, as query booleans are read upstream. */
function parseBool(name: string, v: string | null): boolean {
  if (v === null || v === '') return false;
  if (['1', 't', 'T', 'TRUE', 'true', 'True'].includes(v)) return true;
  if (['0', 'f', 'F', 'FALSE', 'false', 'False'].includes(v)) return false;
  throw new HttpError(400, `invalid value for ${name}: ${JSON.stringify(v)}`);
}

function parseIntParam(name: string, v: string | null): number | undefined {
  if (v === null) return undefined;
  if (!/^-?\d+$/.test(v)) throw new HttpError(400, `invalid value for ${name}: ${JSON.stringify(v)}`);
  return Number(v);
}

function route(pathname: string): Route | undefined {
  let seg: string[];
  try { seg = pathname.split('/').filter(Boolean).map(decodeURIComponent); } catch { return undefined; }
  const [kind, ...rest] = seg;
  if (kind === 'healthz' && rest.length === 0) return { kind: 'healthz' };
  if (kind === 'metrics' && rest.length === 1 && rest[0] === 'resource') return { kind: 'metricsResource' };
  if (kind === 'stats' && rest.length === 1 && rest[0] === 'summary') return { kind: 'statsSummary' };
  if (kind === 'containerLogs' && rest.length === 3) return { kind, namespace: rest[0], pod: rest[1], container: rest[2] };
  if ((kind === 'exec' || kind === 'attach') && (rest.length === 3 || rest.length === 4)) {
    return { kind, namespace: rest[0], pod: rest[1], container: rest[rest.length - 1] };
  }
  if (kind === 'portForward' && (rest.length === 2 || rest.length === 3)) return { kind, namespace: rest[0], pod: rest[1] };
  return undefined;
}

/** Streaming options from the query: upstream's input/output/error/tty, or stdin/stdout/stderr. */
function streamOptions(q: URLSearchParams): StreamingRequestBase {
  const flag = (a: string, b: string) => parseBool(a, q.get(a)) || parseBool(b, q.get(b));
  const tty = parseBool('tty', q.get('tty'));
  const stdin = flag('input', 'stdin');
  const stdout = flag('output', 'stdout');
  // A terminal has no separate stderr (upstream drops it too).
  const stderr = tty ? false : flag('error', 'stderr');
  if (!stdin && !stdout && !stderr) throw new HttpError(400, 'you must specify at least 1 of stdin, stdout, stderr');
  return { stdin, stdout, stderr, tty };
}

function parsePorts(q: URLSearchParams): number[] {
  const ports: number[] = [];
  for (const v of [...q.getAll('port'), ...q.getAll('ports')]) {
    for (const p of v.split(',').map((s) => s.trim()).filter(Boolean)) {
      const n = Number(p);
      if (!/^\d+$/.test(p) || n < 1 || n > 65535) throw new HttpError(400, `invalid port ${JSON.stringify(p)}`);
      ports.push(n);
    }
  }
  return ports;
}

function criHttpError(err: unknown): HttpError {
  if (err instanceof HttpError) return err;
  if (err instanceof CriError) return new HttpError(err.code === GRPC_NOT_FOUND ? 404 : 500, err.message);
  return new HttpError(500, (err as Error)?.message ?? String(err));
}

export class KubeletServer {
  port = 0;
  private server?: https.Server;
  private sockets = new Set<Duplex>();
  private tunnels = new WebSocketServer({
    noServer: true, perMessageDeflate: false, maxPayload: 64 * 1024 * 1024,
    handleProtocols: (offered) => (offered.has(TUNNEL_STAND_IN) ? SPDY_TUNNEL_PROTOCOL : false),
  });

  constructor(private opts: KubeletServerOptions) {}

  async start(): Promise<void> {
    const { tls } = this.opts;
    const server = https.createServer({
      cert: tls.certPem, key: tls.keyPem, ca: tls.clientCaPem, requestCert: true, rejectUnauthorized: true,
      ALPNProtocols: ['http/1.1'],
    });
    server.on('request', (req, res) => { void this.handleRequest(req, res); });
    server.on('upgrade', (req, socket, head) => { void this.handleUpgrade(req, socket, head); });
    server.on('secureConnection', (s) => { this.sockets.add(s); s.on('close', () => this.sockets.delete(s)); });
    server.on('tlsClientError', (err) => log.debug('tls client error', { err }));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.opts.port, this.opts.bindAddress ?? '0.0.0.0', () => { server.off('error', reject); resolve(); });
    });
    this.server = server;
    this.port = (server.address() as AddressInfo).port;
    log.info('kubelet server listening', { port: this.port });
  }

  /** Stops listening and ends every open connection, streams included. */
  async stop(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    for (const ws of this.tunnels.clients) ws.terminate();
    for (const s of this.sockets) s.destroy();
    this.sockets.clear();
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  // ---- plain requests ----------------------------------------------------------------------

  private async handleRequest(req: IncomingMessage, res: ServerResponse): Promise<void> {
    try {
      const url = new URL(req.url ?? '/', 'https://kubelet');
      const r = route(url.pathname);
      if (!r) throw new HttpError(404, '404 page not found');
      if (r.kind === 'healthz') { res.writeHead(200, { 'Content-Type': 'text/plain; charset=utf-8' }); res.end('ok'); return; }
      if (r.kind === 'metricsResource' || r.kind === 'statsSummary') {
        if (!this.opts.stats) throw new HttpError(404, '404 page not found');
        if (r.kind === 'metricsResource') {
          const text = await this.opts.stats.metricsResource();
          res.writeHead(200, { 'Content-Type': 'text/plain; version=0.0.4; charset=utf-8' });
          res.end(text);
        } else {
          const body = JSON.stringify(await this.opts.stats.summary());
          res.writeHead(200, { 'Content-Type': 'application/json' });
          res.end(body);
        }
        return;
      }
      if (r.kind !== 'containerLogs') throw new HttpError(400, 'Upgrade request required');
      if (req.method !== 'GET' && req.method !== 'HEAD') throw new HttpError(405, `method ${req.method} not allowed`);
      await this.containerLogs(req, res, r, url.searchParams);
    } catch (err) {
      const e = criHttpError(err);
      if (e.code >= 500) log.warn('request failed', { url: req.url, err: e.message });
      if (!res.headersSent) {
        res.writeHead(e.code, { 'Content-Type': 'text/plain; charset=utf-8', 'X-Content-Type-Options': 'nosniff' });
        res.end(e.message);
      } else {
        res.destroy();
      }
    }
  }

  private async containerLogs(req: IncomingMessage, res: ServerResponse, r: Extract<Route, { kind: 'containerLogs' }>, q: URLSearchParams): Promise<void> {
    const follow = parseBool('follow', q.get('follow'));
    const previous = parseBool('previous', q.get('previous'));
    const timestamps = parseBool('timestamps', q.get('timestamps'));
    const sinceSeconds = parseIntParam('sinceSeconds', q.get('sinceSeconds'));
    const tailLines = parseIntParam('tailLines', q.get('tailLines'));
    const limitBytes = parseIntParam('limitBytes', q.get('limitBytes'));
    const sinceTimeRaw = q.get('sinceTime');
    // PodLogOptions validation, as upstream's ValidatePodLogOptions.
    if (sinceSeconds !== undefined && sinceTimeRaw !== null) throw new HttpError(422, 'at most one of `sinceTime` or `sinceSeconds` may be specified');
    if (sinceSeconds !== undefined && sinceSeconds < 1) throw new HttpError(422, 'sinceSeconds: Invalid value: must be greater than 0');
    if (tailLines !== undefined && tailLines < 0) throw new HttpError(422, 'tailLines: Invalid value: must be greater than or equal to 0');
    if (limitBytes !== undefined && limitBytes < 1) throw new HttpError(422, 'limitBytes: Invalid value: must be greater than 0');
    let sinceNs: bigint | undefined;
    if (sinceTimeRaw !== null) {
      sinceNs = parseTimestampNs(sinceTimeRaw);
      if (sinceNs === undefined) throw new HttpError(400, `invalid sinceTime ${JSON.stringify(sinceTimeRaw)}: must be RFC3339`);
    } else if (sinceSeconds !== undefined) {
      sinceNs = BigInt(Date.now() - sinceSeconds * 1000) * 1_000_000n;
    }
    const stream = q.get('stream');
    if (stream !== null && !['All', 'Stdout', 'Stderr'].includes(stream)) throw new HttpError(422, `stream: Unsupported value: ${JSON.stringify(stream)}: supported values: "All", "Stderr", "Stdout"`);

    const found = await this.opts.pods.findContainer(r.namespace, r.pod, r.container, previous);
    if ('error' in found) throw new HttpError(found.code, found.error);

    res.writeHead(200, { 'Content-Type': 'text/plain; charset=utf-8', 'Cache-Control': 'no-cache' });
    if (req.method === 'HEAD') { res.end(); return; }
    res.flushHeaders();
    const ac = new AbortController();
    res.on('close', () => ac.abort());
    const runtime = this.opts.runtime;
    await readCriLogs(found.logPath, {
      follow, timestamps, tailLines, limitBytes, sinceNs,
      stream: stream === 'Stdout' ? 'stdout' : stream === 'Stderr' ? 'stderr' : undefined,
    }, {
      signal: ac.signal,
      pollIntervalMs: this.opts.logPollIntervalMs,
      write: (chunk) => {
        if (res.destroyed || res.writableEnded) { ac.abort(); return; }
        if (res.write(chunk)) return;
        return new Promise<void>((resolve) => {
          const done = () => { res.off('drain', done); res.off('close', done); resolve(); };
          res.on('drain', done);
          res.on('close', done);
        });
      },
      isRunning: async () => {
        try {
          const s = await runtime.containerStatus(found.containerId);
          return s.state === 'CONTAINER_RUNNING' || s.state === 'CONTAINER_CREATED';
        } catch {
          return false;
        }
      },
    });
    if (!res.destroyed) res.end();
  }

  // ---- upgrades: exec, attach, port-forward --------------------------------------------------

  private async handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): Promise<void> {
    socket.on('error', () => socket.destroy());
    try {
      const url = new URL(req.url ?? '/', 'https://kubelet');
      const r = route(url.pathname);
      if (!r) throw new HttpError(404, '404 page not found');
      if (r.kind === 'healthz' || r.kind === 'containerLogs' || r.kind === 'metricsResource' || r.kind === 'statsSummary') throw new HttpError(400, `${url.pathname} cannot be upgraded`);
      if (req.method !== 'GET' && req.method !== 'POST') throw new HttpError(405, `method ${req.method} not allowed`);
      const q = url.searchParams;
      const ws = isWebSocketUpgrade(req.headers);
      const offered = offeredSubprotocols(req.headers['sec-websocket-protocol']);

      if (r.kind === 'portForward') {
        const tunnel = ws && offered.includes(SPDY_TUNNEL_PROTOCOL);
        if (ws && !tunnel && offered.length && !offered.some((p) => RUNTIME_PORTFORWARD_WS_PROTOCOLS.includes(p))) {
          throw new HttpError(400, `unable to upgrade: websocket protocol(s) ${offered.join(', ')} not supported; supported: ${[SPDY_TUNNEL_PROTOCOL, ...RUNTIME_PORTFORWARD_WS_PROTOCOLS].join(', ')}`);
        }
        const ports = parsePorts(q);
        const sb = await this.opts.pods.findSandbox(r.namespace, r.pod);
        if ('error' in sb) throw new HttpError(sb.code, sb.error);
        const target = new URL(await this.opts.runtime.portForward(sb.podSandboxId, ports).catch((e) => { throw criHttpError(e); }));
        if (tunnel) return await this.spdyTunnel(req, socket, head, target);
        return await this.relay(req, socket, head, target);
      }

      // exec / attach
      if (ws && offered.length && !offered.some((p) => RUNTIME_EXEC_WS_PROTOCOLS.includes(p))) {
        // kubectl offers only v5.channel.k8s.io: a refusal makes it fall back to SPDY.
        throw new HttpError(400, `unable to upgrade: websocket protocol(s) ${offered.join(', ')} not supported by the runtime; supported: ${RUNTIME_EXEC_WS_PROTOCOLS.join(', ')} (or SPDY/3.1)`);
      }
      const opts = streamOptions(q);
      const cmd = q.getAll('command');
      if (r.kind === 'exec' && cmd.length === 0) throw new HttpError(400, 'you must specify at least one command for the container');
      const c = await this.opts.pods.findContainer(r.namespace, r.pod, r.container, false);
      if ('error' in c) throw new HttpError(c.code, c.error);
      const rt = this.opts.runtime;
      const streamUrl = await (r.kind === 'exec' ? rt.exec(c.containerId, cmd, opts) : rt.attach(c.containerId, opts)).catch((e) => { throw criHttpError(e); });
      await this.relay(req, socket, head, new URL(streamUrl));
    } catch (err) {
      const e = criHttpError(err);
      log.debug('upgrade refused', { url: req.url, code: e.code, err: e.message });
      writeRawResponse(socket, e.code, e.message);
    }
  }

  /** Connects to the runtime's streaming server (plain HTTP on loopback in containerd's default). */
  private connect(target: URL): Promise<net.Socket> {
    if (target.protocol !== 'http:') return Promise.reject(new HttpError(500, `unsupported streaming URL ${target.href}`));
    return new Promise((resolve, reject) => {
      const s = net.connect({ host: target.hostname.replace(/^\[(.*)\]$/, '$1'), port: Number(target.port || 80) });
      s.once('connect', () => { s.off('error', reject); s.setNoDelay(true); resolve(s); });
      s.once('error', (err) => reject(new HttpError(500, `error dialing the runtime's streaming server: ${err.message}`)));
    });
  }

  /** The client's upgrade, re-sent to the streaming URL; everything after is spliced. */
  private async relay(req: IncomingMessage, socket: Duplex, head: Buffer, target: URL): Promise<void> {
    const upstream = await this.connect(target);
    if (socket.destroyed) { upstream.destroy(); return; }
    this.track(upstream);
    upstream.write(upgradeRequestHead(req.method ?? 'GET', target.pathname + target.search, target.host, req.rawHeaders));
    if (head.length) upstream.write(head);
    splice(socket, upstream);
  }

  /**
   * kubectl's port-forward tunnel: answer the WebSocket here and carry its binary messages as the
   * raw SPDY byte stream of a SPDY upgrade this kubelet makes to the runtime. The runtime's 101 is
   * awaited first, so a refusal still reaches the client as an error (and kubectl falls back to
   * plain SPDY).
   */
  private async spdyTunnel(req: IncomingMessage, socket: Duplex, head: Buffer, target: URL): Promise<void> {
    const upstream = await this.connect(target);
    this.track(upstream);
    upstream.write(upgradeRequestHead('POST', target.pathname + target.search, target.host, [
      'Connection', 'Upgrade', 'Upgrade', 'SPDY/3.1', 'X-Stream-Protocol-Version', 'portforward.k8s.io', 'Content-Length', '0',
    ]));
    let resp;
    try {
      resp = await readResponseHead(upstream);
    } catch (err) {
      upstream.destroy();
      throw new HttpError(500, `port-forward upgrade to the runtime failed: ${(err as Error).message}`);
    }
    if (resp.statusCode !== 101) {
      // Pass the runtime's refusal on unchanged.
      socket.write(resp.raw);
      if (resp.rest.length) socket.write(resp.rest);
      splice(socket, upstream);
      upstream.resume();
      return;
    }
    if (socket.destroyed) { upstream.destroy(); return; }
    // `SPDY/3.1+portforward.k8s.io` is not an RFC 6455 token ('/'), which `ws` refuses to parse;
    // kubectl sends it anyway. Offer `ws` a stand-in and answer with the real name.
    req.headers['sec-websocket-protocol'] = TUNNEL_STAND_IN;
    this.tunnels.handleUpgrade(req, socket, head, (ws: WebSocket) => {
      log.debug('port-forward tunnel open', { url: req.url });
      bridgeWebSocket(ws, upstream, resp.rest);
    });
  }

  private track(s: net.Socket): void {
    this.sockets.add(s);
    s.on('close', () => this.sockets.delete(s));
  }
}

/**
 * Binary WebSocket messages ↔ a byte stream, with backpressure both ways. Either side closing
 * closes the other (WebSocket close 1000 for an orderly end).
 */
export function bridgeWebSocket(ws: WebSocket, conn: net.Socket, initial: Buffer = Buffer.alloc(0)): void {
  const HIGH = 64; // messages in flight to the client before the byte stream is paused
  let inflight = 0;
  const send = (data: Buffer) => {
    if (ws.readyState !== ws.OPEN) return;
    inflight += 1;
    if (inflight > HIGH) conn.pause();
    ws.send(data, { binary: true }, () => {
      inflight -= 1;
      if (inflight <= HIGH / 2 && conn.isPaused()) conn.resume();
    });
  };
  if (initial.length) send(initial);
  conn.on('data', send);
  conn.on('end', () => { if (ws.readyState === ws.OPEN) ws.close(1000); });
  conn.on('close', () => { if (ws.readyState === ws.OPEN || ws.readyState === ws.CONNECTING) ws.close(1000); });
  conn.on('error', () => ws.terminate());
  ws.on('message', (data: Buffer | ArrayBuffer | Buffer[]) => {
    const buf = Array.isArray(data) ? Buffer.concat(data) : Buffer.isBuffer(data) ? data : Buffer.from(data);
    if (!conn.write(buf)) {
      ws.pause();
      conn.once('drain', () => ws.resume());
    }
  });
  ws.on('close', () => conn.end());
  ws.on('error', () => conn.destroy());
  conn.resume();
}
