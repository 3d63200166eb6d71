/**
 * DNS messages on the wire for the cluster DNS server, over dns-packet: reading a query
 * (with its EDNS OPT record, RFC 6891) and writing a response that fits the transport.
 *
 * Sizes: over UDP a response may be at most 512 bytes unless the query carried an OPT record,
 * then at most the payload size it advertises (never below 512), capped by our own
 * advertised size (1232, the DNS Flag Day 2020 value that avoids IP fragmentation). Over TCP
 * the limit is 65535. A response that does not fit drops its additional records first, then
 * trailing answer and authority records until it fits, and sets TC (RFC 1035 §4.1.1, RFC 2181
 * §9): the client retries over TCP, and clients that never do still get usable records.
 */
import dnsPacket, { type Answer, type DecodedPacket, type Question } from 'dns-packet';
import { RCODE, type Rcode } from './records.js';

export const UDP_DEFAULT_LIMIT = 512;
/** The UDP payload size we advertise and accept at most. */
export const EDNS_PAYLOAD_SIZE = 1232;
export const TCP_LIMIT = 65535;

const FLAG_AA = 1 << 10;
const FLAG_TC = 1 << 9;
const FLAG_RD = 1 << 8;
const FLAG_RA = 1 << 7;
const FLAG_CD = 1 << 4;
const EDNS_DO = 1 << 15;
/** Extended RCODE BADVERS (16): upper 8 bits in the OPT record, lower 4 in the header. */
const BADVERS_UPPER = 1;

export interface Query {
  id: number;
  /** Header flags as sent (RD, CD are echoed). */
  flags: number;
  question: Question;
  /** Present when the query carried an OPT record. */
  edns?: { udpPayloadSize: number; version: number; dnssecOk: boolean };
}

export type ParseResult =
  | { ok: true; query: Query }
  /** An answerable error: respond with this rcode (id and question echoed when known). */
  | { ok: false; rcode: Rcode | 'BADVERS'; id: number; flags: number; question?: Question; edns?: Query['edns'] }
  /** Not a query at all (a response, or shorter than a header): drop it silently. */
  | { ok: false; drop: true };

export function parseQuery(buf: Buffer): ParseResult {
  if (buf.length < 12) return { ok: false, drop: true };
  const id = buf.readUInt16BE(0);
  const rawFlags = buf.readUInt16BE(2);
  if (rawFlags & 0x8000) return { ok: false, drop: true }; // QR set: a response, never answer it
  const flags = rawFlags & (FLAG_RD | FLAG_CD);
  const opcode = (rawFlags >> 11) & 0xf;
  let pkt: DecodedPacket;
  try {
    pkt = dnsPacket.decode(buf);
  } catch {
    return { ok: false, rcode: 'FORMERR', id, flags };
  }
  const question = pkt.questions?.length === 1 ? pkt.questions[0] : undefined;
  const opt = pkt.additionals?.find((a) => a.type === 'OPT') as (Answer & { udpPayloadSize: number; ednsVersion: number; flags: number }) | undefined;
  const edns = opt ? { udpPayloadSize: opt.udpPayloadSize, version: opt.ednsVersion, dnssecOk: ((opt.flags ?? 0) & EDNS_DO) !== 0 } : undefined;
  if (opcode !== 0) return { ok: false, rcode: 'NOTIMP', id, flags, question, edns };
  if (!question) return { ok: false, rcode: 'FORMERR', id, flags, edns };
  if (edns && edns.version !== 0) return { ok: false, rcode: 'BADVERS', id, flags, question, edns };
  return { ok: true, query: { id, flags, question, edns } };
}

/** The largest response the client accepts over UDP. */
export function udpLimit(edns: Query['edns']): number {
  if (!edns) return UDP_DEFAULT_LIMIT;
  return Math.max(UDP_DEFAULT_LIMIT, Math.min(edns.udpPayloadSize, EDNS_PAYLOAD_SIZE));
}

export interface ResponseParts {
  rcode: Rcode | 'BADVERS';
  authoritative: boolean;
  answers: Answer[];
  authorities: Answer[];
  additionals: Answer[];
}

export interface Encoded {
  buf: Buffer;
  truncated: boolean;
}

/** Encodes a response to `q` within `limit` bytes (see the file comment). */
export function encodeResponse(
  q: { id: number; flags: number; question?: Question; edns?: Query['edns'] },
  r: ResponseParts,
  limit: number,
): Encoded {
  const badvers = r.rcode === 'BADVERS';
  const rcode = badvers ? 0 : RCODE[r.rcode as Rcode];
  let flags = (q.flags & (FLAG_RD | FLAG_CD)) | FLAG_RA | rcode;
  if (r.authoritative) flags |= FLAG_AA;
  const opt: Answer[] = q.edns
    ? [{
        name: '.', type: 'OPT', udpPayloadSize: EDNS_PAYLOAD_SIZE, extendedRcode: badvers ? BADVERS_UPPER : 0, ednsVersion: 0,
        flags: q.edns.dnssecOk ? EDNS_DO : 0, flag_do: q.edns.dnssecOk, options: [],
      } as Answer]
    : [];
  const packet = {
    type: 'response' as const, id: q.id, flags,
    questions: q.question ? [q.question] : [],
    answers: r.answers, authorities: r.authorities, additionals: [...r.additionals, ...opt],
  };
  let buf = dnsPacket.encode(packet);
  if (buf.length <= limit) return { buf, truncated: false };

  // Too big: additional records go first, then answers/authorities from the end.
  packet.flags |= FLAG_TC;
  packet.additionals = opt;
  const answers = [...r.answers];
  const authorities = [...r.authorities];
  packet.answers = answers;
  packet.authorities = authorities;
  buf = dnsPacket.encode(packet);
  if (buf.length <= limit) return { buf, truncated: true };
  // Binary search on how many answer records fit (authorities dropped once answers are cut).
  packet.authorities = [];
  let lo = 0;
  let hi = answers.length;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    packet.answers = answers.slice(0, mid);
    if (dnsPacket.encodingLength(packet) <= limit) lo = mid;
    else hi = mid - 1;
  }
  packet.answers = answers.slice(0, lo);
  buf = dnsPacket.encode(packet);
  if (buf.length > limit) {
    // Not even the question fits (impossible for a valid name under 512): header only.
    packet.questions = [];
    packet.additionals = [];
    buf = dnsPacket.encode(packet);
  }
  return { buf, truncated: true };
}

/**
 * Sets the TC bit of an already encoded response and cuts it to header + question (+ OPT is
 * dropped): for forwarded answers larger than a UDP client accepts.
 */
export function truncateEncoded(buf: Buffer, limit: number): Buffer {
  try {
    const pkt = dnsPacket.decode(buf);
    const opt = pkt.additionals?.filter((a) => a.type === 'OPT') ?? [];
    const out = dnsPacket.encode({
      type: 'response', id: pkt.id, flags: ((pkt.flags ?? 0) | FLAG_TC) & 0x7fff,
      questions: pkt.questions ?? [], answers: [], authorities: [], additionals: opt,
    });
    if (out.length <= limit) return out;
  } catch { /* fall through to the bare header */ }
  const hdr = Buffer.alloc(12);
  buf.copy(hdr, 0, 0, 4);
  hdr.writeUInt16BE(hdr.readUInt16BE(2) | FLAG_TC, 2);
  return hdr;
}
