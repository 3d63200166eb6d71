/**
 * The pod subresources served by the pod's kubelet: `log`, `exec`, `attach`, `portforward`
 * (Kubernetes: pkg/registry/core/pod/rest/log.go, subresources.go and strategy.go's
 * LogLocation/streamLocation/PortForwardLocation).
 *
 * The pod is looked up (404), the container chosen (the only one, or 400 "a container name must
 * be specified for pod X, choose one of: [a b]"), then its Node: the address is the first of
 * InternalIP, ExternalIP, Hostname, InternalDNS, ExternalDNS and the port
 * status.daemonEndpoints.kubeletEndpoint.Port (10250 when unset). The request goes to
 * https://<address>:<port>/containerLogs|exec|attach|portForward/... with the API server's
 * kubelet-client certificate; the kubelet's serving certificate is not verified (upstream's
 * default without --kubelet-certificate-authority).
 *
 *  - log: a plain GET; 200 streams as text/plain, each chunk written as it arrives (follow).
 *    A kubelet error becomes a Status as upstream's GenericHttpResponseChecker makes it: 400 →
 *    BadRequest with the kubelet's text, 500 → InternalError, others → the generic message. A pod
 *    not bound to a node has an empty log (upstream returns no location, hence no content).
 *  - exec/attach/portforward: HTTP/1.1 upgrade requests (SPDY or WebSocket), relayed byte for byte
 *    (the kubelet decides what it can speak, see kubelet-server.ts); whatever the kubelet answers,
 *    101 or an error, reaches the client unchanged, as upstream's UpgradeAwareHandler. Without an
 *    upgrade: 400 "Upgrade request required". A pod without a node: 400 "pod X does not have a
 *    host assigned".
 */
import https from 'node:https';
import tls from 'node:tls';
import net from 'node:net';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Http2ServerRequest, Http2ServerResponse } from 'node:http2';
import type { Duplex } from 'node:stream';
import {
  StatusError, badRequest, internalError, invalid, fieldError, methodNotAllowed, type FieldError, type StatusReason,
} from '../../apimachinery/errors.js';
import { upgradeRequestHead, splice } from '../../util/upgrade-relay.js';
import { logger } from '../../util/log.js';

const log = logger('apiserver');

type Req = IncomingMessage | Http2ServerRequest;
type Res = ServerResponse | Http2ServerResponse;

/** Pod subresources answered by the kubelet. */
export const NODE_PROXY_SUBRESOURCES: ReadonlySet<string> = new Set(['log', 'exec', 'attach', 'portforward']);

export interface NodeProxyOptions {
  /** The pod (throws the store's 404 StatusError when absent). */
  getPod(namespace: string, name: string): Promise<any>;
  /** The node (throws 404 when absent). */
  getNode(name: string): Promise<any>;
  /** The kube-apiserver-kubelet-client certificate and key. */
  clientCert: { certPem: string; keyPem: string };
  /** How long to wait for a kubelet connection (default 10 s). */
  dialTimeoutMs?: number;
}

export interface NodeProxyTarget {
  namespace: string;
  name: string;
  subresource: string;
  method: string;
  query: URLSearchParams;
}

/** The connection the request arrived on, when it asked for an HTTP/1.1 upgrade. */
export interface UpgradeConnection { socket: Duplex; head: Buffer; release(): void }

const PREFERRED_ADDRESS_TYPES = ['InternalIP', 'ExternalIP', 'Hostname', 'InternalDNS', 'ExternalDNS'];
const MAX_ERROR_BODY = 50_000;

/** Query booleans as Go's strconv.ParseBool reads them (PodLogOptions/PodExecOptions decoding). */
function boolOpt(q: URLSearchParams, name: string): boolean {
  const v = q.get(name);
  if (v === null || v === '') return false;
  if (['1', 't', 'T', 'TRUE', 'true', 'True'].includes(v)) return true;
  if (['0', 'f', 'F', 'FALSE', 'false', 'False'].includes(v)) return false;
  throw badRequest(`invalid boolean value for ${name}: ${JSON.stringify(v)}`);
}

function intOpt(q: URLSearchParams, name: string): number | undefined {
  const v = q.get(name);
  if (v === null) return undefined;
  if (!/^-?\d+$/.test(v.trim())) throw badRequest(`invalid integer value for ${name}: ${JSON.stringify(v)}`);
  return Number(v);
}

/** A kubelet's non-2xx answer as upstream's GenericHttpResponseChecker turns it into a Status. */
export function kubeletErrorStatus(code: number, body: string, resource: string, name: string): StatusError {
  if (code === 400) return badRequest(body);
  if (code === 500) return internalError(body);
  let reason: StatusReason = '';
  let message = `the server responded with the status code ${code} but did not return more information`;
  switch (code) {
    case 401: reason = 'Unauthorized'; message = 'the server has asked for the client to provide credentials'; break;
    case 403: reason = 'Forbidden'; message = body; break;
    case 404: reason = 'NotFound'; message = 'the server could not find the requested resource'; break;
    case 405: reason = 'MethodNotAllowed'; message = 'the server does not allow this method on the requested resource'; break;
    case 409: reason = 'Conflict'; message = 'the server reported a conflict'; break;
    case 422: reason = 'Invalid'; message = 'the server rejected our request due to an error in our request'; break;
    case 429: reason = 'TooManyRequests'; message = 'the server has received too many requests and has asked us to try again later'; break;
    case 504: reason = 'Timeout'; message = 'the server was unable to return a response in the time allotted, but may still be processing the request'; break;
    default:
      if (code >= 500) { reason = 'InternalError'; message = `an error on the server (${JSON.stringify(body)}) has prevented the request from succeeding`; }
  }
  return new StatusError(code, reason, `${message} ( ${resource} ${name})`, {
    kind: resource, name,
    // Upstream drops the kubelet's text here; keeping it as a cause costs nothing and helps.
    ...(body && code !== 403 ? { causes: [{ reason: 'UnexpectedServerResponse', message: body }] } : {}),
  });
}

export class NodeProxy {
  private agent: https.Agent;
  private relays = new Set<Duplex>();

  constructor(private opts: NodeProxyOptions) {
    this.agent = new https.Agent({
      keepAlive: true, cert: opts.clientCert.certPem, key: opts.clientCert.keyPem, rejectUnauthorized: false,
    });
  }

  /** Ends every open relay and idle kubelet connection (API server shutdown). */
  close(): void {
    for (const s of this.relays) s.destroy();
    this.relays.clear();
    this.agent.destroy();
  }

  /**
   * Serves one request for a pod's log/exec/attach/portforward. Authentication and
   * authorization are done by the caller. `upgrade` is the raw connection of an HTTP/1.1 upgrade
   * request (exec/attach/portforward need one).
   */
  async serve(req: Req, res: Res, t: NodeProxyTarget, upgrade?: UpgradeConnection): Promise<void> {
    if (t.subresource === 'log') return this.log(req, res, t);
    if (t.method !== 'GET' && t.method !== 'POST') throw methodNotAllowed('the server does not allow this method on the requested resource');

    const pod = await this.opts.getPod(t.namespace, t.name);
    const q = t.query;
    const params = new URLSearchParams();
    let path: string;
    if (t.subresource === 'portforward') {
      const ports: string[] = [];
      for (const v of q.getAll('ports')) {
        for (const p of v.split(',').map((s) => s.trim()).filter(Boolean)) {
          if (!/^\d+$/.test(p) || Number(p) < 1 || Number(p) > 65535) throw badRequest(`invalid port ${JSON.stringify(p)}`);
          ports.push(p);
        }
      }
      if (ports.length) params.set('port', ports.join(','));
      path = `/portForward/${enc(pod.metadata.namespace)}/${enc(pod.metadata.name)}`;
    } else {
      const container = chooseContainer(pod, q.get('container') ?? '');
      // PodExecOptions/PodAttachOptions → the kubelet's parameters (upstream's streamParams).
      if (boolOpt(q, 'stdin')) params.append('input', '1');
      if (boolOpt(q, 'stdout')) params.append('output', '1');
      if (boolOpt(q, 'stderr')) params.append('error', '1');
      if (boolOpt(q, 'tty')) params.append('tty', '1');
      if (t.subresource === 'exec') for (const c of q.getAll('command')) params.append('command', c);
      path = `/${t.subresource}/${enc(pod.metadata.namespace)}/${enc(pod.metadata.name)}/${enc(container)}`;
    }
    if (!pod.spec?.nodeName) throw badRequest(`pod ${t.name} does not have a host assigned`);
    const { host, port } = await this.kubeletLocation(pod.spec.nodeName);
    const qs = params.toString();
    const target = `${path}${qs ? `?${qs}` : ''}`;
    if (!upgrade) throw badRequest('Upgrade request required');

    const conn = await this.dial(host, port);
    if (upgrade.socket.destroyed) { conn.destroy(); return; }
    upgrade.release(); // from here on the connection is a relay, not an HTTP response
    this.relays.add(conn);
    this.relays.add(upgrade.socket);
    const hostHeader = net.isIPv6(host) ? `[${host}]:${port}` : `${host}:${port}`;
    const raw = (req as IncomingMessage).rawHeaders ?? [];
    conn.write(upgradeRequestHead(t.method, target, hostHeader, raw));
    if (upgrade.head.length) conn.write(upgrade.head);
    log.debug('node proxy relay', { pod: `${t.namespace}/${t.name}`, subresource: t.subresource, kubelet: hostHeader });
    splice(upgrade.socket, conn, () => { this.relays.delete(conn); this.relays.delete(upgrade.socket); });
  }

  // ---- log ----------------------------------------------------------------------------------

  private async log(req: Req, res: Res, t: NodeProxyTarget): Promise<void> {
    if (t.method !== 'GET') throw methodNotAllowed('the server does not allow this method on the requested resource');
    const q = t.query;
    const follow = boolOpt(q, 'follow');
    const previous = boolOpt(q, 'previous');
    const timestamps = boolOpt(q, 'timestamps');
    boolOpt(q, 'insecureSkipTLSVerifyBackend'); // accepted; the kubelet's certificate is never verified
    const sinceSeconds = intOpt(q, 'sinceSeconds');
    const tailLines = intOpt(q, 'tailLines');
    const limitBytes = intOpt(q, 'limitBytes');
    const sinceTimeRaw = q.get('sinceTime');
    let sinceTime: Date | undefined;
    if (sinceTimeRaw !== null) {
      sinceTime = new Date(sinceTimeRaw);
      if (!/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/.test(sinceTimeRaw) || Number.isNaN(sinceTime.getTime())) {
        throw badRequest(`invalid value for sinceTime: ${JSON.stringify(sinceTimeRaw)}: must be RFC3339`);
      }
    }
    const stream = q.get('stream');
    // ValidatePodLogOptions.
    const errs: FieldError[] = [];
    if (tailLines !== undefined && tailLines < 0) errs.push(fieldError.invalid('tailLines', tailLines, 'must be greater than or equal to 0'));
    if (limitBytes !== undefined && limitBytes < 1) errs.push(fieldError.invalid('limitBytes', limitBytes, 'must be greater than 0'));
    if (sinceSeconds !== undefined && sinceTime !== undefined) errs.push(fieldError.forbidden('', 'at most one of `sinceTime` or `sinceSeconds` may be specified'));
    else if (sinceSeconds !== undefined && sinceSeconds < 1) errs.push(fieldError.invalid('sinceSeconds', sinceSeconds, 'must be greater than 0'));
    if (stream !== null && !['All', 'Stdout', 'Stderr'].includes(stream)) errs.push(fieldError.notSupported('stream', stream, ['All', 'Stderr', 'Stdout']));
    if (stream !== null && stream !== 'All' && tailLines !== undefined) errs.push(fieldError.forbidden('', "`tailLines` and specific `stream` are mutually exclusive for now"));
    if (errs.length) throw invalid('PodLogOptions', '', t.name, errs);

    const pod = await this.opts.getPod(t.namespace, t.name);
    const container = chooseContainer(pod, q.get('container') ?? '');
    if (!pod.spec?.nodeName) {
      // Upstream: no location, so an empty body.
      (res as ServerResponse).writeHead(200, { 'Content-Type': 'text/plain', 'Cache-Control': 'no-cache, private' });
      res.end();
      return;
    }
    const { host, port } = await this.kubeletLocation(pod.spec.nodeName);
    const params = new URLSearchParams();
    if (follow) params.set('follow', 'true');
    if (previous) params.set('previous', 'true');
    if (timestamps) params.set('timestamps', 'true');
    if (sinceSeconds !== undefined) params.set('sinceSeconds', String(sinceSeconds));
    if (sinceTime) params.set('sinceTime', sinceTime.toISOString().replace(/\.\d+Z$/, 'Z'));
    if (tailLines !== undefined) params.set('tailLines', String(tailLines));
    if (limitBytes !== undefined) params.set('limitBytes', String(limitBytes));
    if (stream !== null && stream !== 'All') params.set('stream', stream);
    const qs = params.toString();
    const path = `/containerLogs/${enc(pod.metadata.namespace)}/${enc(pod.metadata.name)}/${enc(container)}${qs ? `?${qs}` : ''}`;

    await new Promise<void>((resolve, reject) => {
      const kreq = https.request({
        host, port, path, method: 'GET', agent: this.agent, headers: { Accept: '*/*', 'User-Agent': 'keelson-apiserver' },
        timeout: this.opts.dialTimeoutMs ?? 10_000,
      });
      let responded = false;
      // The client going away ends the kubelet request too (follow streams would never end).
      const onClientClose = () => { if (!kreq.destroyed) kreq.destroy(); resolve(); };
      res.on('close', onClientClose);
      kreq.on('timeout', () => { if (!responded) kreq.destroy(new Error(`timed out connecting to ${host}:${port}`)); });
      kreq.on('error', (err) => {
        res.off('close', onClientClose);
        if (!responded) reject(internalError(`error dialing backend: ${err.message}`));
        else { res.destroy(); resolve(); }
      });
      kreq.on('response', (kres) => {
        responded = true;
        kreq.setTimeout(0);
        const code = kres.statusCode ?? 500;
        if (code < 200 || code > 206) {
          const chunks: Buffer[] = [];
          let size = 0;
          kres.on('data', (c: Buffer) => { if (size < MAX_ERROR_BODY) { chunks.push(c); size += c.length; } });
          kres.on('end', () => {
            res.off('close', onClientClose);
            reject(kubeletErrorStatus(code, Buffer.concat(chunks).subarray(0, MAX_ERROR_BODY).toString(), 'pods/log', t.name));
          });
          kres.on('error', (err) => reject(internalError(err.message)));
          return;
        }
        (res as ServerResponse).writeHead(200, { 'Content-Type': 'text/plain', 'Cache-Control': 'no-cache, private' });
        (res as any).flushHeaders?.();
        kres.on('data', (c: Buffer) => {
          // Each chunk goes out at once (HTTP/2 DATA frame or HTTP/1.1 chunk): followers see
          // lines as they are written. A slow reader pauses the kubelet stream.
          if (!(res as ServerResponse).write(c)) {
            kres.pause();
            (res as ServerResponse).once('drain', () => kres.resume());
          }
        });
        kres.on('end', () => { res.off('close', onClientClose); res.end(); resolve(); });
        kres.on('error', () => { res.off('close', onClientClose); res.destroy(); resolve(); });
      });
      kreq.end();
    });
  }

  /**
   * nodes/{name}/proxy/{path}: a plain GET of the kubelet's own endpoints (/metrics/resource,
   * /stats/summary, /healthz, /containerLogs…), as `kubectl get --raw` and metrics-server use it.
   */
  async proxyNode(req: Req, res: Res, nodeName: string, path: string, method: string, query: URLSearchParams): Promise<void> {
    if (method !== 'GET') throw methodNotAllowed('the server does not allow this method on the requested resource');
    const node = await this.opts.getNode(nodeName);
    if (!node) throw new StatusError(404, 'NotFound', `nodes "${nodeName}" not found`, { kind: 'nodes', name: nodeName });
    const { host, port } = await this.kubeletLocation(nodeName);
    const qs = query.toString();
    const target = `/${path.split('/').map(enc).join('/')}${qs ? `?${qs}` : ''}`;
    await new Promise<void>((resolve, reject) => {
      const kreq = https.request({ host, port, path: target, method: 'GET', agent: this.agent, headers: { Accept: '*/*', 'User-Agent': 'keelson-apiserver' }, timeout: this.opts.dialTimeoutMs ?? 10_000 }, (kres) => {
        const headers: Record<string, string> = {};
        const ct = kres.headers['content-type'];
        if (ct) headers['Content-Type'] = String(ct);
        (res as ServerResponse).writeHead(kres.statusCode ?? 502, headers);
        kres.on('data', (d: Buffer) => { (res as ServerResponse).write(d); });
        kres.on('end', () => { res.end(); resolve(); });
        kres.on('error', reject);
      });
      kreq.on('timeout', () => kreq.destroy(new Error(`timed out connecting to ${host}:${port}`)));
      kreq.on('error', (err) => reject(internalError(`error dialing backend: ${err.message}`)));
      res.on('close', () => { if (!kreq.destroyed) kreq.destroy(); resolve(); });
      kreq.end();
    });
  }

  // ---- kubelet location and connection -------------------------------------------------------

  private async kubeletLocation(nodeName: string): Promise<{ host: string; port: number }> {
    const node = await this.opts.getNode(nodeName);
    const addrs: { type: string; address: string }[] = node?.status?.addresses ?? [];
    let host: string | undefined;
    for (const type of PREFERRED_ADDRESS_TYPES) {
      host = addrs.find((a) => a.type === type && a.address)?.address;
      if (host) break;
    }
    if (!host) {
      throw internalError(`no preferred addresses found; known addresses: [${addrs.map((a) => `{${a.type} ${a.address}}`).join(' ')}]`);
    }
    const p = Number(node?.status?.daemonEndpoints?.kubeletEndpoint?.Port);
    return { host, port: Number.isInteger(p) && p > 0 && p < 65536 ? p : 10250 };
  }

  /** A TLS connection to a kubelet for an upgrade (HTTP/1.1 only). */
  private dial(host: string, port: number): Promise<tls.TLSSocket> {
    return new Promise((resolve, reject) => {
      const s = tls.connect({
        host, port, cert: this.opts.clientCert.certPem, key: this.opts.clientCert.keyPem, rejectUnauthorized: false,
        ALPNProtocols: ['http/1.1'], ...(net.isIP(host) ? {} : { servername: host }),
      });
      const timer = setTimeout(() => s.destroy(new Error('i/o timeout')), this.opts.dialTimeoutMs ?? 10_000);
      s.once('secureConnect', () => { clearTimeout(timer); s.off('error', onError); s.setNoDelay(true); resolve(s); });
      const onError = (err: Error) => { clearTimeout(timer); reject(internalError(`error dialing backend: ${err.message}`)); };
      s.once('error', onError);
    });
  }
}

const enc = (s: string) => encodeURIComponent(s);

/**
 * The container a log/exec/attach request means: the named one (init containers included), or
 * the only one. Messages as upstream's LogLocation/streamLocation.
 */
export function chooseContainer(pod: any, container: string): string {
  const name = pod?.metadata?.name ?? '';
  const containers: string[] = (pod?.spec?.containers ?? []).map((c: any) => c.name);
  const inits: string[] = (pod?.spec?.initContainers ?? []).map((c: any) => c.name);
  const ephemeral: string[] = (pod?.spec?.ephemeralContainers ?? []).map((c: any) => c.name);
  if (!container) {
    if (containers.length === 1) return containers[0];
    if (containers.length === 0) throw badRequest(`a container name must be specified for pod ${name}`);
    let msg = `a container name must be specified for pod ${name}, choose one of: [${containers.join(' ')}]`;
    if (inits.length) msg += ` or one of the init containers: [${inits.join(' ')}]`;
    throw badRequest(msg);
  }
  if (![...containers, ...inits, ...ephemeral].includes(container)) throw badRequest(`container ${container} is not valid for pod ${name}`);
  return container;
}
