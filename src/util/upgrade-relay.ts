/**
 * Relaying HTTP/1.1 upgrade requests (SPDY/3.1, WebSocket) byte for byte, as Kubernetes'
 * UpgradeAwareHandler does for exec, attach and port-forward: the client's request is re-sent
 * to the backend with a new request line and Host, everything the backend answers (the 101 or
 * an error response) goes back to the client unchanged, and from then on both connections are
 * spliced. Used by the API server (to the kubelet) and the kubelet (to the runtime's streaming
 * server).
 */
import type { Duplex } from 'node:stream';
import { STATUS_CODES } from 'node:http';

/** Headers never forwarded: the new request sets Host; credentials for this hop stay here. */
const DROP = new Set(['host', 'authorization', 'proxy-authorization', 'proxy-connection', 'keep-alive', 'te', 'trailer', 'transfer-encoding']);

/**
 * The request head to send to the backend: `method target HTTP/1.1`, Host, then the client's
 * headers as received (repeated ones such as X-Stream-Protocol-Version stay separate lines),
 * minus hop credentials and any in `drop` (lower case), plus `extra`.
 */
export function upgradeRequestHead(method: string, target: string, host: string, rawHeaders: string[], opts: { drop?: Iterable<string>; extra?: [string, string][] } = {}): string {
  const drop = new Set([...DROP, ...[...(opts.drop ?? [])].map((h) => h.toLowerCase())]);
  const lines = [`${method} ${target} HTTP/1.1`, `Host: ${host}`];
  for (let i = 0; i + 1 < rawHeaders.length; i += 2) {
    const name = rawHeaders[i];
    if (drop.has(name.toLowerCase())) continue;
    lines.push(`${name}: ${rawHeaders[i + 1].replace(/[\r\n]/g, ' ')}`);
  }
  for (const [k, v] of opts.extra ?? []) lines.push(`${k}: ${v}`);
  return `${lines.join('\r\n')}\r\n\r\n`;
}

/**
 * Joins two connections until either closes. An orderly end of one side ends the other's
 * writing (pending bytes are still delivered); an error or reset destroys both.
 */
export function splice(a: Duplex, b: Duplex, onClose?: () => void): void {
  let closed = 0;
  const done = () => { if (++closed === 2) onClose?.(); };
  const wire = (from: Duplex, to: Duplex) => {
    from.pipe(to);
    from.on('error', () => { to.destroy(); from.destroy(); });
    from.on('close', () => {
      // A peer that went away without a FIN: end the other side once its writes are flushed,
      // and make sure it does not linger half-open.
      if (!to.destroyed) {
        to.end();
        setTimeout(() => to.destroy(), 5000).unref();
      }
      done();
    });
  };
  wire(a, b);
  wire(b, a);
}

/** Writes a complete plain-text HTTP/1.1 response on a raw connection and closes it. */
export function writeRawResponse(socket: Duplex, code: number, body: string, headers: Record<string, string> = {}): void {
  if (socket.destroyed) return;
  const buf = Buffer.from(body);
  const head = [`HTTP/1.1 ${code} ${STATUS_CODES[code] ?? 'Unknown'}`, 'Content-Type: text/plain; charset=utf-8',
    `Content-Length: ${buf.length}`, 'Connection: close', ...Object.entries(headers).map(([k, v]) => `${k}: ${v}`)];
  socket.end(Buffer.concat([Buffer.from(`${head.join('\r\n')}\r\n\r\n`), buf]));
  // A client that never closes its side must not keep the connection forever.
  setTimeout(() => socket.destroy(), 10_000).unref();
}

export interface ResponseHead {
  statusCode: number;
  headers: Record<string, string>;
  /** The head bytes as received (status line through the blank line). */
  raw: Buffer;
  /** Bytes received after the head. */
  rest: Buffer;
}

/**
 * Reads an HTTP/1.1 response head from a raw connection (the backend's answer to an upgrade).
 * Rejects on close, error, a head larger than 64 KiB or after `timeoutMs`.
 */
export function readResponseHead(socket: Duplex, timeoutMs = 30_000): Promise<ResponseHead> {
  return new Promise((resolve, reject) => {
    let buf = Buffer.alloc(0);
    const cleanup = () => {
      clearTimeout(timer);
      socket.off('data', onData);
      socket.off('error', onError);
      socket.off('close', onClose);
    };
    const onError = (err: Error) => { cleanup(); reject(err); };
    const onClose = () => { cleanup(); reject(new Error('connection closed before a response')); };
    const onData = (chunk: Buffer) => {
      buf = Buffer.concat([buf, chunk]);
      const end = buf.indexOf('\r\n\r\n');
      if (end < 0) {
        if (buf.length > 64 * 1024) { cleanup(); reject(new Error('response head too large')); }
        return;
      }
      cleanup();
      socket.pause();
      const raw = buf.subarray(0, end + 4);
      const lines = raw.toString('latin1').split('\r\n');
      const m = /^HTTP\/1\.[01] (\d{3})/.exec(lines[0] ?? '');
      if (!m) { reject(new Error(`malformed response: ${JSON.stringify(lines[0])}`)); return; }
      const headers: Record<string, string> = {};
      for (const l of lines.slice(1)) {
        const i = l.indexOf(':');
        if (i > 0) {
          const k = l.slice(0, i).trim().toLowerCase();
          const v = l.slice(i + 1).trim();
          headers[k] = headers[k] !== undefined ? `${headers[k]}, ${v}` : v;
        }
      }
      resolve({ statusCode: Number(m[1]), headers, raw, rest: buf.subarray(end + 4) });
    };
    const timer = setTimeout(() => { cleanup(); reject(new Error('timed out waiting for the upgrade response')); }, timeoutMs);
    socket.on('data', onData);
    socket.on('error', onError);
    socket.on('close', onClose);
  });
}

/** The offered WebSocket subprotocols of a request (Sec-WebSocket-Protocol, comma separated, possibly repeated). */
export function offeredSubprotocols(header: string | string[] | undefined): string[] {
  const all = Array.isArray(header) ? header.join(',') : header ?? '';
  return all.split(',').map((p) => p.trim()).filter(Boolean);
}

export function isWebSocketUpgrade(headers: Record<string, string | string[] | undefined>): boolean {
  const up = headers['upgrade'];
  return typeof up === 'string' && up.toLowerCase().split(',').map((s) => s.trim()).includes('websocket');
}
