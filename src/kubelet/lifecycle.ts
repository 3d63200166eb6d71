/**
 * Runs the actions that probes and lifecycle hooks share: exec in the container (through CRI
 * ExecSync), an HTTP GET against the pod, a TCP connect, and (hooks only) sleep. Each returns
 * success or failure with the message the kubelet prints in events ("Liveness probe failed:
 * HTTP probe failed with statuscode: 500"), never throws.
 */
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import * as grpc from '@grpc/grpc-js';
import type { Container, Pod } from 'kubernetes-types/core/v1.js';
import type { RuntimeService } from './cri/api.js';

export interface ActionResult { ok: boolean; message: string; output?: string; exitCode?: number }

export interface ActionTarget {
  runtime: RuntimeService;
  containerId: string;
  pod: Pod;
  container: Container;
  podIP: string;
  signal?: AbortSignal;
}

type IntOrString = number | string;

/** Resolves a named container port ("http") to its number, as the kubelet does for probes and hooks. */
export function resolvePort(port: IntOrString | undefined, container: Container): number | undefined {
  if (port === undefined) return undefined;
  if (typeof port === 'number') return port;
  if (/^\d+$/.test(port)) return Number(port);
  const p = container.ports?.find((cp) => cp.name === port);
  return p?.containerPort;
}

export async function execAction(t: ActionTarget, command: string[], timeoutSeconds: number): Promise<ActionResult> {
  try {
    const r = await t.runtime.execSync(t.containerId, command, timeoutSeconds);
    const output = Buffer.concat([r.stdout, r.stderr]).toString('utf8');
    if (r.exitCode === 0) return { ok: true, message: '', output };
    return { ok: false, message: output.trim() || `command ${JSON.stringify(command.join(' '))} exited with ${r.exitCode}`, output, exitCode: r.exitCode };
  } catch (err) {
    const msg = (err as Error).message;
    if (/deadline|timeout/i.test(msg)) return { ok: false, message: `command timed out after ${timeoutSeconds}s` };
    return { ok: false, message: msg };
  }
}

export function httpGetAction(t: ActionTarget, get: NonNullable<Container['livenessProbe']>['httpGet'] & object, timeoutSeconds: number): Promise<ActionResult> {
  const port = resolvePort(get.port, t.container);
  if (!port) return Promise.resolve({ ok: false, message: `unknown port ${JSON.stringify(get.port)}` });
  const host = get.host || t.podIP || '127.0.0.1';
  const scheme = (get.scheme ?? 'HTTP').toUpperCase();
  let path = get.path ?? '/';
  if (!path.startsWith('/')) path = `/${path}`;
  const headers: Record<string, string> = { 'user-agent': 'kube-probe/1.32', accept: '*/*' };
  for (const h of get.httpHeaders ?? []) headers[h.name.toLowerCase()] = h.value;
  const mod = scheme === 'HTTPS' ? https : http;
  return new Promise((resolve) => {
    const url = `${scheme === 'HTTPS' ? 'https' : 'http'}://${host.includes(':') ? `[${host}]` : host}:${port}${path}`;
    const req = mod.get(url, { headers, timeout: timeoutSeconds * 1000, rejectUnauthorized: false, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      let size = 0;
      res.on('data', (c: Buffer) => { if (size < 10240) { chunks.push(c); size += c.length; } });
      res.on('end', () => {
        const code = res.statusCode ?? 0;
        const body = Buffer.concat(chunks).toString('utf8');
        // Kubernetes: 200 <= code < 400 is success (redirects are not followed across hosts).
        if (code >= 200 && code < 400) resolve({ ok: true, message: '', output: body });
        else resolve({ ok: false, message: `HTTP probe failed with statuscode: ${code}`, output: body });
      });
      res.on('error', (err) => resolve({ ok: false, message: err.message }));
    });
    req.on('timeout', () => { req.destroy(); resolve({ ok: false, message: `Get "${url}": context deadline exceeded (Client.Timeout exceeded while awaiting headers)` }); });
    req.on('error', (err) => resolve({ ok: false, message: `Get "${url}": ${describeNetError(err)}` }));
  });
}

export function tcpAction(t: ActionTarget, tcp: { port: IntOrString; host?: string }, timeoutSeconds: number): Promise<ActionResult> {
  const port = resolvePort(tcp.port, t.container);
  if (!port) return Promise.resolve({ ok: false, message: `unknown port ${JSON.stringify(tcp.port)}` });
  const host = tcp.host || t.podIP || '127.0.0.1';
  return new Promise((resolve) => {
    const sock = net.connect({ host, port, timeout: timeoutSeconds * 1000 });
    sock.once('connect', () => { sock.destroy(); resolve({ ok: true, message: '' }); });
    sock.once('timeout', () => { sock.destroy(); resolve({ ok: false, message: `dial tcp ${host}:${port}: i/o timeout` }); });
    sock.once('error', (err) => resolve({ ok: false, message: `dial tcp ${host}:${port}: ${describeNetError(err)}` }));
  });
}

function describeNetError(err: Error & { code?: string }): string {
  if (err.code === 'ECONNREFUSED') return 'connect: connection refused';
  if (err.code === 'EHOSTUNREACH') return 'connect: no route to host';
  return err.message;
}

/** Runs a lifecycle handler (postStart / preStop). */
export async function runLifecycleHandler(t: ActionTarget, handler: NonNullable<NonNullable<Container['lifecycle']>['postStart']>, timeoutSeconds: number): Promise<ActionResult> {
  if (handler.exec?.command) return execAction(t, handler.exec.command, timeoutSeconds);
  if (handler.httpGet) return httpGetAction(t, handler.httpGet, timeoutSeconds);
  if (handler.tcpSocket) return tcpAction(t, handler.tcpSocket, timeoutSeconds);
  const sleep = (handler as { sleep?: { seconds: number } }).sleep;
  if (sleep) {
    await new Promise<void>((r) => {
      const timer = setTimeout(r, Math.min(sleep.seconds, timeoutSeconds) * 1000);
      t.signal?.addEventListener('abort', () => { clearTimeout(timer); r(); }, { once: true });
    });
    return { ok: true, message: '' };
  }
  return { ok: false, message: 'handler has no action' };
}

const HEALTH_STATUS = ['UNKNOWN', 'SERVING', 'NOT_SERVING', 'SERVICE_UNKNOWN'];

/**
 * A gRPC probe: the standard health service (grpc.health.v1.Health/Check) on the pod's port,
 * success only for SERVING. The two tiny messages are encoded by hand (HealthCheckRequest
 * {string service = 1}, HealthCheckResponse {enum status = 1}).
 */
export function grpcAction(t: ActionTarget, probe: { port: number; service?: string }, timeoutSeconds: number): Promise<ActionResult> {
  const host = t.podIP || '127.0.0.1';
  const target = `${host.includes(':') ? `[${host}]` : host}:${probe.port}`;
  const client = new grpc.Client(target, grpc.credentials.createInsecure());
  const encode = (req: { service: string }) => {
    const svc = Buffer.from(req.service, 'utf8');
    if (!svc.length) return Buffer.alloc(0);
    const len: number[] = [];
    let n = svc.length;
    while (n > 0x7f) { len.push((n & 0x7f) | 0x80); n >>>= 7; }
    len.push(n);
    return Buffer.concat([Buffer.from([0x0a, ...len]), svc]);
  };
  const decode = (buf: Buffer) => {
    let status = 0;
    for (let i = 0; i < buf.length;) {
      const tag = buf[i++];
      let v = 0, shift = 0;
      for (;;) { const b = buf[i++]; v |= (b & 0x7f) << shift; shift += 7; if (!(b & 0x80) || i >= buf.length) break; }
      if (tag === 0x08) status = v;
      else break;
    }
    return { status };
  };
  return new Promise((resolve) => {
    const deadline = new Date(Date.now() + timeoutSeconds * 1000);
    client.makeUnaryRequest('/grpc.health.v1.Health/Check', encode, decode, { service: probe.service ?? '' }, new grpc.Metadata(), { deadline },
      (err: grpc.ServiceError | null, res?: { status: number }) => {
        client.close();
        if (err) {
          if (err.code === grpc.status.DEADLINE_EXCEEDED) resolve({ ok: false, message: `timeout: health rpc did not complete within ${timeoutSeconds}s` });
          else if (err.code === grpc.status.UNAVAILABLE) resolve({ ok: false, message: `timeout: failed to connect service "${target}" within ${timeoutSeconds}s: ${err.details}` });
          else resolve({ ok: false, message: `error: health rpc probe failed: ${err.details || err.message}` });
          return;
        }
        const name = HEALTH_STATUS[res?.status ?? 0] ?? String(res?.status);
        resolve(res?.status === 1 ? { ok: true, message: '' } : { ok: false, message: `service unhealthy (responded with "${name}")` });
      });
  });
}
