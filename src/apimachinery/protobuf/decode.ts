/**
 * Decoding of `application/vnd.kubernetes.protobuf` request bodies into the JSON object the client
 * would have sent as `application/json` (kubectl ≥ 1.31 and client-go typed clients send protobuf
 * for built-in kinds; see shared/reference/kubectl-wire.md §4).
 *
 * A body is the magic `k8s\0` followed by a runtime.Unknown envelope:
 *   {1: TypeMeta{1 apiVersion, 2 kind}, 2: raw (the object message), 3: contentEncoding, 4: contentType}
 * The raw object is decoded with keelson's table (tables.ts) for its group/version/kind.
 *
 * JSON shaping, so the result equals what client-go's JSON encoder would have produced:
 *  - gogo-protobuf writes every non-pointer scalar, zero values included; Go's JSON omits the
 *    `omitempty` ones. Zero scalars ("" / 0 / false / empty bytes) of non-pointer fields are
 *    therefore dropped unless the schema lists the field in `required` (no omitempty).
 *  - Pointer fields are on the wire only when set, so their values are kept even when zero
 *    (spec.replicas: 0, suspend: false, storageClassName: "").
 *  - Embedded messages are kept, also when empty (`emptyDir: {}`, `status: {}`), except zero
 *    Time/MicroTime (JSON null) and empty RawExtension/FieldsV1/JSON (JSON null).
 *  - repeated → arrays, map<…> → objects, bytes → base64 strings (Secret.data, binaryData, caBundle…),
 *    Time → RFC 3339 (whole seconds), MicroTime → RFC 3339 with microseconds, Duration → Go
 *    duration string, Quantity → its string, IntOrString → number or string, RawExtension and
 *    FieldsV1 → the embedded JSON, `json:",inline"` embedded structs → merged into the parent.
 *  - Unknown field numbers are skipped (as gogo-protobuf does).
 */
import { StatusError } from '../errors.js';
import { messageForKind, protoMessage, type ProtoField, type ProtoMessage } from './tables.js';
import { ProtoReader, ProtobufDecodeError, WireType } from './wire.js';

export { ProtobufDecodeError } from './wire.js';

/** The four bytes every Kubernetes protobuf body starts with: "k8s\0". */
export const PROTOBUF_MAGIC: readonly number[] = [0x6b, 0x38, 0x73, 0x00];

/** No protobuf table for the body's group/version/kind. Surfaces as 415 UnsupportedMediaType. */
export class ProtobufUnsupportedKindError extends StatusError {
  constructor(readonly apiVersion: string, readonly kind: string) {
    super(415, 'UnsupportedMediaType',
      `the body of the request was in an unknown format - protobuf is not supported for ${apiVersion ? `${apiVersion}, ` : ''}Kind=${kind}; accepted media types include: application/json, application/yaml`);
    this.name = 'ProtobufUnsupportedKindError';
  }
}

export interface DecodedProtobufObject {
  apiVersion: string;
  kind: string;
  /** The object as JSON, `apiVersion` and `kind` first. */
  object: any;
}

/** Whether a body starts with the Kubernetes protobuf magic. */
export function isProtobufBody(buf: Buffer | Uint8Array): boolean {
  return buf.length >= 4 && buf[0] === 0x6b && buf[1] === 0x38 && buf[2] === 0x73 && buf[3] === 0x00;
}

const MAX_DEPTH = 200;

/** Decodes a whole protobuf request body (magic + runtime.Unknown envelope) into its JSON object. */
export function decodeProtobufObject(buf: Buffer | Uint8Array): DecodedProtobufObject {
  return decodeEnvelope(buf, 0);
}

function decodeEnvelope(buf: Uint8Array, depth: number): DecodedProtobufObject {
  if (!isProtobufBody(buf)) {
    throw new ProtobufDecodeError('provided data does not appear to be a protobuf message, expected prefix [107 56 115 0]');
  }
  const r = new ProtoReader(buf, 4);
  let apiVersion = '';
  let kind = '';
  let raw: Uint8Array | undefined;
  let contentEncoding = '';
  let contentType = '';
  while (!r.eof()) {
    const { field, wireType } = r.key();
    if (field >= 1 && field <= 4 && wireType !== WireType.LengthDelimited) {
      throw new ProtobufDecodeError(`protobuf: runtime.Unknown field ${field} has wire type ${wireType}, expected 2`);
    }
    switch (field) {
      case 1: {
        const tm = r.sub();
        while (!tm.eof()) {
          const k = tm.key();
          if ((k.field === 1 || k.field === 2) && k.wireType === WireType.LengthDelimited) {
            if (k.field === 1) apiVersion = tm.string();
            else kind = tm.string();
          } else tm.skip(k.wireType, k.field);
        }
        break;
      }
      case 2: raw = r.bytes(); break;
      case 3: contentEncoding = r.string(); break;
      case 4: contentType = r.string(); break;
      default: r.skip(wireType, field);
    }
  }
  if (!kind) throw new ProtobufDecodeError(`Object 'Kind' is missing in the protobuf envelope${apiVersion ? ` (apiVersion ${apiVersion})` : ''}`);
  if (contentEncoding) throw new ProtobufDecodeError(`protobuf: unsupported content encoding "${contentEncoding}"`);
  const head = { apiVersion, kind };
  if (contentType && contentType !== 'application/vnd.kubernetes.protobuf') {
    if (contentType !== 'application/json') throw new ProtobufUnsupportedKindError(apiVersion, kind);
    const o = parseJSON(raw ?? new Uint8Array(0), 'runtime.Unknown raw');
    if (!o || typeof o !== 'object' || Array.isArray(o)) throw new ProtobufDecodeError('protobuf: runtime.Unknown raw JSON is not an object');
    return { apiVersion, kind, object: { ...head, ...o } };
  }
  const name = messageForKind(apiVersion, kind);
  const msg = name ? protoMessage(name) : undefined;
  if (!name || !msg) throw new ProtobufUnsupportedKindError(apiVersion, kind);
  const body = decodeMessageObject(new ProtoReader(raw ?? new Uint8Array(0)), name, msg, depth + 1);
  return { apiVersion, kind, object: { ...head, ...body } };
}

/**
 * Decodes one message (without envelope) by table name, e.g. k8s.io.api.core.v1.PodSpec. Special
 * messages give their JSON value (a string for Time, a number or string for IntOrString…);
 * `undefined` stands for JSON null (zero Time, empty RawExtension).
 */
export function decodeProtobufMessage(bytes: Uint8Array, messageName: string): unknown {
  const v = decodeValue(bytes, messageName, 0);
  return v === OMIT ? undefined : v;
}

/** Marks a value Go's JSON encoder would have written as null: the field is left out. */
const OMIT: unique symbol = Symbol('omit');
type Value = unknown;

function lookup(name: string): ProtoMessage {
  const m = protoMessage(name);
  if (!m) throw new ProtobufUnsupportedKindError('', name);
  return m;
}

function decodeValue(bytes: Uint8Array, typeName: string, depth: number): Value | typeof OMIT {
  if (depth > MAX_DEPTH) throw new ProtobufDecodeError(`protobuf: messages nested deeper than ${MAX_DEPTH}`);
  const msg = lookup(typeName);
  const r = new ProtoReader(bytes);
  if (msg.special) return decodeSpecial(r, typeName, msg, depth);
  return decodeMessageObject(r, typeName, msg, depth);
}

const base64 = (b: Uint8Array) => Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('base64');

function parseJSON(b: Uint8Array, what: string): unknown {
  const text = Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('utf8');
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new ProtobufDecodeError(`protobuf: ${what} is not valid JSON: ${(e as Error).message}`);
  }
}

function expectWire(got: number, want: number, msgName: string, f: ProtoField, n: number): void {
  if (got !== want) throw new ProtobufDecodeError(`protobuf: field ${msgName}.${f.name} (#${n}) has wire type ${got}, expected ${want}`);
}

const VARINT_TYPES = new Set(['int32', 'int64', 'uint32', 'uint64', 'bool', 'sint32', 'sint64']);
const FIXED64_TYPES = new Set(['fixed64', 'sfixed64', 'double']);
const FIXED32_TYPES = new Set(['fixed32', 'sfixed32', 'float']);

function wireTypeOf(type: string): number {
  if (VARINT_TYPES.has(type)) return WireType.Varint;
  if (FIXED64_TYPES.has(type)) return WireType.Fixed64;
  if (FIXED32_TYPES.has(type)) return WireType.Fixed32;
  return WireType.LengthDelimited; // string, bytes, messages
}

/** Reads one scalar of `type` (the wire type has been checked). */
function readScalar(r: ProtoReader, type: string): Value {
  switch (type) {
    case 'string': return r.string();
    case 'bytes': return base64(r.bytes());
    case 'bool': return r.bool();
    case 'int32': return r.int32();
    case 'uint32': return r.uint32();
    case 'sint32': return r.sint32();
    case 'int64': return r.int64Number();
    case 'uint64': return r.uint64Number();
    case 'sint64': return Number(r.sint64());
    case 'fixed32': return r.fixed32();
    case 'sfixed32': return r.sfixed32();
    case 'fixed64': return Number(r.fixed64());
    case 'sfixed64': return Number(r.sfixed64());
    case 'float': return r.float();
    case 'double': return r.double();
    default: throw new ProtobufDecodeError(`protobuf: unknown scalar type ${type}`);
  }
}

const isScalar = (type: string) => wireTypeOf(type) !== WireType.LengthDelimited || type === 'string' || type === 'bytes';

function isZero(v: Value): boolean {
  return v === '' || v === 0 || v === false;
}

function decodeMessageObject(r: ProtoReader, msgName: string, msg: ProtoMessage, depth: number): Record<string, unknown> {
  if (depth > MAX_DEPTH) throw new ProtobufDecodeError(`protobuf: messages nested deeper than ${MAX_DEPTH}`);
  const out: Record<string, unknown> = {};
  // Non-repeated message fields may legally occur more than once; protobuf merges them, which is
  // the same as decoding the concatenation of their payloads. Collect first, decode at the end.
  let chunks: Map<number, Uint8Array[]> | undefined;
  const order: number[] = [];
  while (!r.eof()) {
    const { field, wireType } = r.key();
    const f = Object.prototype.hasOwnProperty.call(msg.fields, field) ? msg.fields[field] : undefined;
    if (!f) {
      r.skip(wireType, field);
      continue;
    }
    if (f.type === 'map') {
      expectWire(wireType, WireType.LengthDelimited, msgName, f, field);
      let m = out[f.name] as Record<string, unknown> | undefined;
      if (!m) out[f.name] = m = {};
      readMapEntry(r.sub(), f, msgName, field, m, depth);
      continue;
    }
    if (isScalar(f.type)) {
      const want = wireTypeOf(f.type);
      if (f.repeated) {
        let arr = out[f.name] as Value[] | undefined;
        if (!arr) out[f.name] = arr = [];
        if (wireType === WireType.LengthDelimited && want !== WireType.LengthDelimited) {
          const packed = r.sub();
          while (!packed.eof()) arr.push(readScalar(packed, f.type));
        } else {
          expectWire(wireType, want, msgName, f, field);
          arr.push(readScalar(r, f.type));
        }
      } else {
        expectWire(wireType, want, msgName, f, field);
        out[f.name] = readScalar(r, f.type);
      }
      continue;
    }
    // Embedded message.
    expectWire(wireType, WireType.LengthDelimited, msgName, f, field);
    const payload = r.bytes();
    if (f.repeated) {
      let arr = out[f.name] as Value[] | undefined;
      if (!arr) out[f.name] = arr = [];
      const v = decodeValue(payload, f.type, depth + 1);
      if (v !== OMIT) arr.push(v);
    } else {
      chunks ??= new Map();
      const list = chunks.get(field);
      if (list) list.push(payload);
      else {
        chunks.set(field, [payload]);
        order.push(field);
        if (!f.inline) out[f.name] = undefined; // keeps the wire order of keys; filled in below
      }
    }
  }
  for (const field of order) {
    const f = msg.fields[field]!;
    const list = chunks!.get(field)!;
    const payload = list.length === 1 ? list[0]! : Buffer.concat(list);
    const v = decodeValue(payload, f.type, depth + 1);
    if (v === OMIT) {
      delete out[f.name];
      continue;
    }
    if (f.inline) {
      if (v && typeof v === 'object' && !Array.isArray(v)) Object.assign(out, v);
    } else out[f.name] = v;
  }
  // Shaping: drop the zero values Go's JSON encoder would have omitted (non-pointer omitempty scalars).
  for (const key of Object.keys(msg.fields)) {
    const f = msg.fields[key]!;
    if (f.inline || !(f.name in out)) continue;
    const v = out[f.name];
    if (f.repeated || f.type === 'map') {
      if ((Array.isArray(v) && v.length === 0) || (f.type === 'map' && v && Object.keys(v).length === 0)) delete out[f.name];
      continue;
    }
    if (!isScalar(f.type)) continue;
    if (f.type === 'bytes' ? v === '' && !f.required : !f.pointer && !f.required && isZero(v)) delete out[f.name];
  }
  return out;
}

function readMapEntry(r: ProtoReader, f: ProtoField, msgName: string, n: number, into: Record<string, unknown>, depth: number): void {
  const { key: keyType, value: valueType } = f.map!;
  let key: Value = keyType === 'string' ? '' : 0;
  let value: Value | typeof OMIT | undefined;
  let valueChunks: Uint8Array[] | undefined;
  while (!r.eof()) {
    const k = r.key();
    if (k.field === 1) {
      expectWire(k.wireType, wireTypeOf(keyType), msgName, f, n);
      key = readScalar(r, keyType);
    } else if (k.field === 2) {
      if (isScalar(valueType)) {
        expectWire(k.wireType, wireTypeOf(valueType), msgName, f, n);
        value = readScalar(r, valueType);
      } else {
        expectWire(k.wireType, WireType.LengthDelimited, msgName, f, n);
        (valueChunks ??= []).push(r.bytes());
      }
    } else r.skip(k.wireType, k.field);
  }
  if (!isScalar(valueType)) {
    const payload = !valueChunks ? new Uint8Array(0) : valueChunks.length === 1 ? valueChunks[0]! : Buffer.concat(valueChunks);
    value = decodeValue(payload, valueType, depth + 1);
  } else if (value === undefined) {
    value = valueType === 'string' || valueType === 'bytes' ? '' : valueType === 'bool' ? false : 0;
  }
  if (value === OMIT) value = null;
  into[String(key)] = value;
}

// ---------------------------------------------------------------------------------------------
// Special messages
// ---------------------------------------------------------------------------------------------

/** Reads a special message's fields by number into a plain record of raw values. */
function rawFields(r: ProtoReader, typeName: string, msg: ProtoMessage, depth: number): Map<number, Value[]> {
  const out = new Map<number, Value[]>();
  while (!r.eof()) {
    const { field, wireType } = r.key();
    const f = Object.prototype.hasOwnProperty.call(msg.fields, field) ? msg.fields[field] : undefined;
    if (!f) {
      r.skip(wireType, field);
      continue;
    }
    let v: Value | typeof OMIT;
    if (isScalar(f.type)) {
      expectWire(wireType, wireTypeOf(f.type), typeName, f, field);
      v = f.type === 'bytes' ? r.bytes() : readScalar(r, f.type);
    } else {
      expectWire(wireType, WireType.LengthDelimited, typeName, f, field);
      v = decodeValue(r.bytes(), f.type, depth + 1);
    }
    if (v === OMIT) continue;
    const list = out.get(field);
    if (list) list.push(v);
    else out.set(field, [v]);
  }
  return out;
}

const last = <T>(m: Map<number, T[]>, n: number): T | undefined => m.get(n)?.at(-1);

function decodeSpecial(r: ProtoReader, typeName: string, msg: ProtoMessage, depth: number): Value | typeof OMIT {
  switch (msg.special) {
    case 'time':
    case 'microTime': {
      const f = rawFields(r, typeName, msg, depth);
      const seconds = (last(f, 1) as number | undefined) ?? 0;
      const nanos = (last(f, 2) as number | undefined) ?? 0;
      if (seconds === 0 && nanos === 0) return OMIT;
      return formatTime(seconds, msg.special === 'microTime' ? nanos : undefined);
    }
    case 'duration': {
      const f = rawFields(r, typeName, msg, depth);
      return goDuration(BigInt((last(f, 1) as number | undefined) ?? 0));
    }
    case 'quantity': {
      const f = rawFields(r, typeName, msg, depth);
      const s = last(f, 1) as string | undefined;
      return s === undefined || s === '' ? '0' : s;
    }
    case 'intOrString': {
      const f = rawFields(r, typeName, msg, depth);
      return (last(f, 1) as number | undefined) === 1 ? ((last(f, 3) as string | undefined) ?? '') : ((last(f, 2) as number | undefined) ?? 0);
    }
    case 'rawExtension': {
      const f = rawFields(r, typeName, msg, depth);
      const raw = last(f, 1) as Uint8Array | undefined;
      if (!raw || raw.length === 0) return OMIT;
      if (isProtobufBody(raw)) return decodeEnvelope(raw, depth + 1).object;
      return parseJSON(raw, 'RawExtension');
    }
    case 'fieldsV1':
    case 'json': {
      const f = rawFields(r, typeName, msg, depth);
      const raw = last(f, 1) as Uint8Array | undefined;
      if (!raw || raw.length === 0) return OMIT;
      return parseJSON(raw, msg.special === 'json' ? 'JSON' : 'FieldsV1');
    }
    case 'schemaOrArray': {
      const f = rawFields(r, typeName, msg, depth);
      const many = f.get(2);
      if (many && many.length) return many;
      return last(f, 1) ?? OMIT;
    }
    case 'schemaOrBool': {
      const f = rawFields(r, typeName, msg, depth);
      const schema = last(f, 2);
      if (schema !== undefined) return schema;
      return (last(f, 1) as boolean | undefined) ?? false;
    }
    case 'schemaOrStringArray': {
      const f = rawFields(r, typeName, msg, depth);
      const props = f.get(2);
      if (props && props.length) return props;
      return last(f, 1) ?? OMIT;
    }
    case 'items': {
      const items = msg.fields['1'];
      const f = rawFields(r, typeName, msg, depth);
      const list = f.get(1) ?? [];
      return items?.type === 'bytes' ? list.map((b) => base64(b as Uint8Array)) : list;
    }
    default:
      throw new ProtobufDecodeError(`protobuf: unhandled special message ${typeName}`);
  }
}

const pad = (n: number, w: number) => String(n).padStart(w, '0');

/** RFC 3339 in UTC, as metav1.Time (whole seconds) or, with nanos, metav1.MicroTime (6 digits). */
export function formatTime(seconds: number, nanos?: number): string {
  const d = new Date(seconds * 1000);
  if (Number.isNaN(d.getTime())) throw new ProtobufDecodeError(`protobuf: timestamp ${seconds} out of range`);
  const y = d.getUTCFullYear();
  const base = `${y < 0 ? '-' : ''}${pad(Math.abs(y), 4)}-${pad(d.getUTCMonth() + 1, 2)}-${pad(d.getUTCDate(), 2)}T${pad(d.getUTCHours(), 2)}:${pad(d.getUTCMinutes(), 2)}:${pad(d.getUTCSeconds(), 2)}`;
  if (nanos === undefined) return `${base}Z`;
  const micros = Math.floor(Math.min(Math.max(nanos, 0), 999_999_999) / 1000);
  return `${base}.${pad(micros, 6)}Z`;
}

/** Go's time.Duration.String(): "0s", "1.5s", "2m0s", "1h0m0s", "250ms", "1µs", "-3s". */
export function goDuration(ns: bigint): string {
  if (ns === 0n) return '0s';
  const sign = ns < 0n ? '-' : '';
  let u = ns < 0n ? -ns : ns;
  const frac = (v: bigint, unit: bigint, digits: number) => {
    const whole = v / unit;
    const rest = v % unit;
    if (rest === 0n) return `${whole}`;
    return `${whole}.${rest.toString().padStart(digits, '0').replace(/0+$/, '')}`;
  };
  if (u < 1_000n) return `${sign}${u}ns`;
  if (u < 1_000_000n) return `${sign}${frac(u, 1_000n, 3)}µs`;
  if (u < 1_000_000_000n) return `${sign}${frac(u, 1_000_000n, 6)}ms`;
  const h = u / 3_600_000_000_000n;
  u %= 3_600_000_000_000n;
  const m = u / 60_000_000_000n;
  u %= 60_000_000_000n;
  const s = `${frac(u, 1_000_000_000n, 9)}s`;
  if (h > 0n) return `${sign}${h}h${m}m${s}`;
  if (m > 0n) return `${sign}${m}m${s}`;
  return `${sign}${s}`;
}
