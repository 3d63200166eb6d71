/**
 * Forwarder: asks upstream DNS servers the questions that are not the cluster's, as CoreDNS's
 * `forward` plugin does for `forward . /etc/resolv.conf`.
 *
 * - UDP first, over one shared socket per address family; every query goes out under a fresh
 *   random ID, and a reply is accepted only from the server it was sent to, with that ID and
 *   the same question bytes (RFC 5452's checks, short of source-port randomization per query).
 * - A truncated reply (TC) is asked again over TCP unless the caller accepts truncation (a UDP
 *   client, which then retries over TCP itself).
 * - Each upstream gets `timeoutMs`; on timeout or error the next upstream is tried, starting
 *   from the one that answered last. When all fail the promise rejects and the server answers
 *   SERVFAIL.
 */
import dgram from 'node:dgram';
import net from 'node:net';
import { randomInt } from 'node:crypto';
import type { Upstream } from './config.js';

export const DEFAULT_UPSTREAM_TIMEOUT_MS = 2000;
const FLAG_TC = 1 << 9;

interface Pending {
  upstream: Upstream;
  question: Buffer;
  resolve: (b: Buffer) => void;
  reject: (e: Error) => void;
  timer: NodeJS.Timeout;
}

/** Offset just past the question section (queries never use name compression). */
export function questionEnd(buf: Buffer): number | undefined {
  if (buf.length < 12 || buf.readUInt16BE(4) !== 1) return undefined;
  let off = 12;
  for (;;) {
    if (off >= buf.length) return undefined;
    const len = buf[off]!;
    if (len === 0) { off += 1; break; }
    if (len & 0xc0) return undefined;
    off += 1 + len;
  }
  off += 4; // QTYPE, QCLASS
  return off <= buf.length ? off : undefined;
}

const unmapped = (a: string) => (a.startsWith('::ffff:') && a.includes('.') ? a.slice(7) : a);

export class Forwarder {
  private sockets: { 4?: dgram.Socket; 6?: dgram.Socket } = {};
  private pending = new Map<number, Pending>();
  private preferred = 0;
  private closed = false;

  constructor(public upstreams: Upstream[], public timeoutMs = DEFAULT_UPSTREAM_TIMEOUT_MS) {}

  /**
   * Sends `msg` (a complete query) upstream and resolves with the reply, its ID set back to
   * the ID of `msg`.
   */
  async query(msg: Buffer, opts: { acceptTruncated?: boolean } = {}): Promise<Buffer> {
    const ups = this.upstreams;
    if (ups.length === 0) throw new Error('no upstream DNS servers');
    const qEnd = questionEnd(msg);
    if (qEnd === undefined) throw new Error('not a single-question query');
    const question = msg.subarray(12, qEnd);
    const id = msg.readUInt16BE(0);
    let lastErr: Error | undefined;
    const start = this.preferred % ups.length;
    for (let i = 0; i < ups.length; i++) {
      const idx = (start + i) % ups.length;
      const up = ups[idx]!;
      try {
        let reply = await this.udp(up, msg, question);
        if ((reply.readUInt16BE(2) & FLAG_TC) && !opts.acceptTruncated) reply = await this.tcp(up, msg);
        this.preferred = idx;
        const out = Buffer.from(reply);
        out.writeUInt16BE(id, 0);
        return out;
      } catch (err) {
        lastErr = err as Error;
      }
    }
    throw lastErr ?? new Error('upstreams failed');
  }

  close(): void {
    this.closed = true;
    for (const p of this.pending.values()) {
      clearTimeout(p.timer);
      p.reject(new Error('forwarder closed'));
    }
    this.pending.clear();
    this.sockets[4]?.close();
    this.sockets[6]?.close();
    this.sockets = {};
  }

  private socket(family: 4 | 6): dgram.Socket {
    let s = this.sockets[family];
    if (s) return s;
    s = dgram.createSocket(family === 6 ? 'udp6' : 'udp4');
    s.on('message', (buf, rinfo) => this.onReply(buf, rinfo));
    s.on('error', () => { /* per-query timeouts report failures */ });
    s.unref();
    this.sockets[family] = s;
    return s;
  }

  private onReply(buf: Buffer, rinfo: dgram.RemoteInfo): void {
    if (buf.length < 12) return;
    const p = this.pending.get(buf.readUInt16BE(0));
    if (!p) return;
    if (unmapped(rinfo.address) !== unmapped(p.upstream.host.split('%')[0]!) || rinfo.port !== p.upstream.port) return;
    const qEnd = questionEnd(buf);
    if (qEnd === undefined || !buf.subarray(12, qEnd).equals(p.question)) return;
    this.pending.delete(buf.readUInt16BE(0));
    clearTimeout(p.timer);
    p.resolve(buf);
  }

  private udp(up: Upstream, msg: Buffer, question: Buffer): Promise<Buffer> {
    if (this.closed) return Promise.reject(new Error('forwarder closed'));
    let id: number;
    do id = randomInt(0, 65536); while (this.pending.has(id));
    const out = Buffer.from(msg);
    out.writeUInt16BE(id, 0);
    const family = net.isIPv6(up.host.split('%')[0]!) ? 6 : 4;
    return new Promise<Buffer>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new Error(`upstream ${up.host}:${up.port} timed out`));
      }, this.timeoutMs);
      this.pending.set(id, { upstream: up, question, resolve, reject, timer });
      this.socket(family).send(out, up.port, up.host, (err) => {
        if (!err) return;
        clearTimeout(timer);
        this.pending.delete(id);
        reject(err);
      });
    });
  }

  private tcp(up: Upstream, msg: Buffer): Promise<Buffer> {
    return new Promise<Buffer>((resolve, reject) => {
      const sock = net.connect({ host: up.host, port: up.port });
      let got = Buffer.alloc(0);
      const done = (err: Error | undefined, b?: Buffer) => {
        clearTimeout(timer);
        sock.destroy();
        if (err) reject(err);
        else resolve(b!);
      };
      const timer = setTimeout(() => done(new Error(`upstream ${up.host}:${up.port} (tcp) timed out`)), this.timeoutMs);
      sock.on('connect', () => {
        const len = Buffer.alloc(2);
        len.writeUInt16BE(msg.length);
        sock.write(Buffer.concat([len, msg]));
      });
      sock.on('data', (d: Buffer) => {
        got = Buffer.concat([got, d]);
        if (got.length >= 2 && got.length >= 2 + got.readUInt16BE(0)) done(undefined, got.subarray(2, 2 + got.readUInt16BE(0)));
      });
      sock.on('error', (e) => done(e));
      sock.on('end', () => done(new Error(`upstream ${up.host}:${up.port} closed the connection`)));
    });
  }
}
