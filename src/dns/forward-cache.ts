/**
 * ForwardCache: upstream answers kept for a short while, as CoreDNS's `cache 30` in the
 * default Corefile. Without it every pod lookup of an outside name (and, through the search
 * path, of the node's own search domains) would reach the upstream server.
 *
 * - Only complete NOERROR answers with records, and NXDOMAIN/NODATA answers with an SOA
 *   (negative caching, RFC 2308: min(SOA TTL, SOA minimum)), are kept; never truncated or
 *   SERVFAIL replies.
 * - An entry lives for the smallest TTL of its records, at most `maxTtl` seconds (30).
 * - Served copies carry the remaining time as TTL (each record's TTL, capped, minus the age),
 *   so a client never keeps a record longer than the upstream allowed.
 * - Keyed by the caller (the exact query bytes after the ID), bounded, oldest out first.
 */
import dnsPacket, { type Answer, type DecodedPacket } from 'dns-packet';

export const FORWARD_CACHE_MAX_TTL = 30;
const FLAG_TC = 1 << 9;

interface Entry {
  pkt: DecodedPacket;
  stored: number;
  ttl: number;
}

export class ForwardCache {
  private entries = new Map<string, Entry>();

  constructor(private maxEntries = 10_000, private maxTtl = FORWARD_CACHE_MAX_TTL, private now: () => number = Date.now) {}

  get size(): number {
    return this.entries.size;
  }

  clear(): void {
    this.entries.clear();
  }

  /** The cached answer re-encoded for a query with this ID, or undefined. */
  get(key: string, id: number): Buffer | undefined {
    const e = this.entries.get(key);
    if (!e) return undefined;
    const age = Math.floor((this.now() - e.stored) / 1000);
    if (age >= e.ttl) {
      this.entries.delete(key);
      return undefined;
    }
    const adjust = (rs: Answer[] | undefined) => (rs ?? []).map((r) => {
      if (r.type === 'OPT') return r;
      const t = (r as { ttl?: number }).ttl ?? 0;
      return { ...r, ttl: Math.max(0, Math.min(t, e.ttl) - age) } as Answer;
    });
    return dnsPacket.encode({
      type: 'response', id, flags: e.pkt.flags, questions: e.pkt.questions,
      answers: adjust(e.pkt.answers), authorities: adjust(e.pkt.authorities), additionals: adjust(e.pkt.additionals),
    });
  }

  /** Keeps an upstream reply when it is cacheable (see the file comment). */
  put(key: string, reply: Buffer): void {
    if (this.maxTtl <= 0 || reply.length < 12 || (reply.readUInt16BE(2) & FLAG_TC)) return;
    const rcode = reply[3]! & 0xf;
    if (rcode !== 0 && rcode !== 3) return;
    let pkt: DecodedPacket;
    try { pkt = dnsPacket.decode(reply); } catch { return; }
    let ttl: number | undefined;
    const answers = (pkt.answers ?? []).filter((a) => a.type !== 'OPT');
    if (rcode === 0 && answers.length) {
      ttl = Math.min(...answers.map((a) => (a as { ttl?: number }).ttl ?? 0));
    } else {
      const soa = (pkt.authorities ?? []).find((a) => a.type === 'SOA') as { ttl?: number; data: { minimum?: number } } | undefined;
      if (soa) ttl = Math.min(soa.ttl ?? 0, soa.data.minimum ?? 0);
    }
    if (ttl === undefined) return;
    ttl = Math.min(ttl, this.maxTtl);
    if (ttl <= 0) return;
    if (this.entries.size >= this.maxEntries && !this.entries.has(key)) {
      const first = this.entries.keys().next().value;
      if (first !== undefined) this.entries.delete(first);
    }
    this.entries.set(key, { pkt, stored: this.now(), ttl });
  }
}
