/**
 * A reader for the protobuf wire format (https://protobuf.dev/programming-guides/encoding/), just
 * enough to decode the gogo-protobuf messages Kubernetes clients send: varints (up to 64 bits),
 * fixed32/fixed64, length-delimited fields, and skipping of anything unknown, groups included.
 *
 * Every read is bounds-checked; malformed input throws `ProtobufDecodeError` (a 400 BadRequest
 * StatusError), never a RangeError or a silent garbage value.
 */
import { StatusError } from '../errors.js';

/** Malformed protobuf bytes. Surfaces as 400 BadRequest. */
export class ProtobufDecodeError extends StatusError {
  constructor(message: string) {
    super(400, 'BadRequest', message);
    this.name = 'ProtobufDecodeError';
  }
}

/** Wire types (the low three bits of a field key). */
export const WireType = {
  Varint: 0,
  Fixed64: 1,
  LengthDelimited: 2,
  StartGroup: 3,
  EndGroup: 4,
  Fixed32: 5,
} as const;
export type WireType = (typeof WireType)[keyof typeof WireType];

export interface FieldKey {
  /** Field number (1 … 2^29-1). */
  field: number;
  wireType: WireType;
}

const TWO_32 = 0x1_0000_0000;
const MAX_GROUP_DEPTH = 100;

const utf8 = new TextDecoder('utf-8'); // non-fatal: invalid sequences become U+FFFD, as Go's JSON encoder does

/** A cursor over `buf[start, end)`. Sub-messages get their own reader over their bytes. */
export class ProtoReader {
  pos: number;
  readonly end: number;

  constructor(readonly buf: Uint8Array, start = 0, end = buf.length) {
    if (start < 0 || end > buf.length || start > end) throw new ProtobufDecodeError(`protobuf: invalid range [${start}, ${end}) of ${buf.length} bytes`);
    this.pos = start;
    this.end = end;
  }

  eof(): boolean {
    return this.pos >= this.end;
  }

  private fail(what: string, at = this.pos): never {
    throw new ProtobufDecodeError(`protobuf: ${what} at offset ${at}`);
  }

  private need(n: number): void {
    if (n > this.end - this.pos) this.fail(`unexpected end of input (need ${n} bytes, have ${this.end - this.pos})`);
  }

  /**
   * A varint as two 32-bit halves (low, high), both unsigned. Accepts at most 10 bytes; the 10th
   * may only carry the top bit, as the encoding of a 64-bit value requires.
   */
  private varint64(): [number, number] {
    const start = this.pos;
    let lo = 0;
    let hi = 0;
    for (let i = 0; i < 10; i++) {
      if (this.pos >= this.end) this.fail('truncated varint', start);
      const b = this.buf[this.pos++]!;
      const bits = b & 0x7f;
      if (i < 4) {
        lo += bits * 2 ** (7 * i);
      } else if (i === 4) {
        lo += (bits & 0x0f) * 2 ** 28;
        hi += bits >>> 4;
      } else {
        if (i === 9 && bits > 1) this.fail('varint overflows 64 bits', start);
        hi += bits * 2 ** (7 * i - 32);
      }
      if (!(b & 0x80)) return [lo >>> 0, hi >>> 0];
    }
    return this.fail('varint longer than 10 bytes', start);
  }

  /** Unsigned varint that must fit in a JS number (2^53); used for lengths and keys. */
  uint53(): number {
    const start = this.pos;
    const [lo, hi] = this.varint64();
    if (hi >= 0x20_0000) this.fail('varint too large', start);
    return hi * TWO_32 + lo;
  }

  /** A field key, or throws on field number 0 / invalid wire types. */
  key(): FieldKey {
    const start = this.pos;
    const k = this.uint53();
    const wireType = k % 8;
    const field = Math.floor(k / 8);
    if (field === 0 || field > 0x1fff_ffff) this.fail(`invalid field number ${field}`, start);
    if (wireType > 5) this.fail(`invalid wire type ${wireType} for field ${field}`, start);
    return { field, wireType: wireType as WireType };
  }

  /** int32 (negative values come as 10-byte varints; the low 32 bits are the value). */
  int32(): number {
    return this.varint64()[0] | 0;
  }

  uint32(): number {
    return this.varint64()[0];
  }

  int64(): bigint {
    const [lo, hi] = this.varint64();
    return BigInt.asIntN(64, (BigInt(hi) << 32n) | BigInt(lo));
  }

  uint64(): bigint {
    const [lo, hi] = this.varint64();
    return (BigInt(hi) << 32n) | BigInt(lo);
  }

  /** int64 as a number: exact up to ±2^53, rounded beyond (JSON consumers get a number either way). */
  int64Number(): number {
    const [lo, hi] = this.varint64();
    if (hi & 0x8000_0000) return Number(BigInt.asIntN(64, (BigInt(hi) << 32n) | BigInt(lo)));
    return hi * TWO_32 + lo;
  }

  uint64Number(): number {
    const [lo, hi] = this.varint64();
    return hi * TWO_32 + lo;
  }

  sint32(): number {
    const n = this.varint64()[0];
    return (n >>> 1) ^ -(n & 1);
  }

  sint64(): bigint {
    const u = this.uint64();
    return (u >> 1n) ^ -(u & 1n);
  }

  bool(): boolean {
    const [lo, hi] = this.varint64();
    return lo !== 0 || hi !== 0;
  }

  fixed32(): number {
    this.need(4);
    const b = this.buf;
    const p = this.pos;
    this.pos += 4;
    return (b[p]! | (b[p + 1]! << 8) | (b[p + 2]! << 16)) + b[p + 3]! * 0x100_0000;
  }

  sfixed32(): number {
    return this.fixed32() | 0;
  }

  fixed64(): bigint {
    const lo = this.fixed32();
    const hi = this.fixed32();
    return (BigInt(hi) << 32n) | BigInt(lo);
  }

  sfixed64(): bigint {
    return BigInt.asIntN(64, this.fixed64());
  }

  float(): number {
    this.need(4);
    const v = new DataView(this.buf.buffer, this.buf.byteOffset + this.pos, 4).getFloat32(0, true);
    this.pos += 4;
    return v;
  }

  double(): number {
    this.need(8);
    const v = new DataView(this.buf.buffer, this.buf.byteOffset + this.pos, 8).getFloat64(0, true);
    this.pos += 8;
    return v;
  }

  /** A length-delimited payload (a view, not a copy). */
  bytes(): Uint8Array {
    const start = this.pos;
    const n = this.uint53();
    if (n > this.end - this.pos) this.fail(`length ${n} exceeds the remaining ${this.end - this.pos} bytes`, start);
    const out = this.buf.subarray(this.pos, this.pos + n);
    this.pos += n;
    return out;
  }

  string(): string {
    return utf8.decode(this.bytes());
  }

  /** A reader over the next length-delimited payload (an embedded message or packed field). */
  sub(): ProtoReader {
    const start = this.pos;
    const n = this.uint53();
    if (n > this.end - this.pos) this.fail(`length ${n} exceeds the remaining ${this.end - this.pos} bytes`, start);
    const r = new ProtoReader(this.buf, this.pos, this.pos + n);
    this.pos += n;
    return r;
  }

  /** Skips the value of a field whose key was just read. */
  skip(wireType: WireType, field = 0, depth = 0): void {
    switch (wireType) {
      case WireType.Varint:
        this.varint64();
        return;
      case WireType.Fixed64:
        this.need(8);
        this.pos += 8;
        return;
      case WireType.LengthDelimited:
        this.bytes();
        return;
      case WireType.Fixed32:
        this.need(4);
        this.pos += 4;
        return;
      case WireType.StartGroup: {
        if (depth >= MAX_GROUP_DEPTH) this.fail('groups nested too deeply');
        for (;;) {
          if (this.eof()) this.fail(`unterminated group ${field}`);
          const k = this.key();
          if (k.wireType === WireType.EndGroup) {
            if (k.field !== field) this.fail(`end of group ${k.field} inside group ${field}`);
            return;
          }
          this.skip(k.wireType, k.field, depth + 1);
        }
      }
      case WireType.EndGroup:
        this.fail(`unexpected end of group ${field}`);
    }
  }
}
