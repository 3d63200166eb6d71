/**
 * Structural schemas of CustomResourceDefinitions (apiextensions-apiserver's pkg/apiserver/schema):
 * validation of custom resources against `openAPIV3Schema` (ajv underneath, errors translated to
 * the kube-openapi wording Kubernetes prints), pruning of unknown fields, defaulting, embedded
 * resource checks, x-kubernetes-list-type checks and `x-kubernetes-validations` CEL rules.
 *
 * CEL: cel-js parses the expression (its CST is the syntax tree); this file type-checks that tree
 * against the schema (undeclared references, undefined fields, "must evaluate to a bool") and
 * evaluates it with CEL's semantics (int/uint/double kept apart, integer division and overflow,
 * error-absorbing && / ||, the Kubernetes string, list, regex and quantity libraries). cel-js' own
 * evaluator is not used: it has no receiver-style functions (`self.name.startsWith('x')`), divides
 * integers as floats and does not absorb errors in logical operators.
 *
 * CEL coverage. Supported: literals (int, uint `1u`, double, string with escapes, bool, null, hex,
 * lists, maps), all operators (int/uint overflow and division/modulus by zero are errors, no
 * implicit int↔double arithmetic, numeric comparison across types), `?:`, `in`, commutative
 * error handling of `&&`/`||`, has(), the all/exists/exists_one/map/filter macros on lists and
 * maps, size(), int/uint/double/string/bool/dyn/type conversions and type names, matches (RE2
 * translated to JS), contains/startsWith/endsWith, Kubernetes' strings library (charAt, indexOf,
 * lastIndexOf, lowerAscii, upperAscii, replace, split, substring, trim, join, reverse), lists
 * library (isSorted, sum, min, max, indexOf, lastIndexOf), regex library (find, findAll),
 * quantity library (quantity, isQuantity, isGreaterThan, isLessThan, compareTo, add, sub,
 * isInteger, asInteger, asApproximateFloat, sign), sets (sets.contains/equivalent/intersects),
 * timestamp()/duration() with comparisons, arithmetic and getters (UTC or ±HH:MM offsets), date-time
 * and duration formatted strings typed as timestamp/duration, escaped property names
 * (`__dash__`, `__dot__`, …), optionalOldSelf (`oldSelf.hasValue()/value()/orValue()`,
 * optional.of/none).
 * Not supported (cel-js grammar or not implemented): the optional syntax `a.?b` / `[?k]`, raw,
 * triple-quoted and bytes literals and the bytes type, exponent doubles (`1e3`), the ip/cidr, url,
 * format, semver and authz libraries, math.* and base64.*, IANA time zone names, the cost
 * estimator and runtime cost budget, and full cel-go type checking (this checker catches
 * undeclared references, undefined fields of typed objects, field selection on scalars and
 * non-bool/non-string results; the rest fails at evaluation as "no such overload").
 *
 * Written from the documented behaviour (kubernetes.io "Extend the Kubernetes API with
 * CustomResourceDefinitions", "Validation rules", the CEL language definition); no code copied.
 */
import { isIP, isIPv4, isIPv6 } from 'node:net';
import AjvModule from 'ajv';
import { parse as celParse } from 'cel-js';
import { fieldError, type FieldError } from '../apimachinery/errors.js';
import {
  isDNS1035Label, nameIsPathSegment, tooMany, validateObjectMeta,
} from '../apimachinery/validation.js';
import { compareQuantities, parseQuantityExact, quantityToNumber, formatQuantity, isIntegerQuantity, quantityIntValue, type Quantity } from '../apimachinery/quantity.js';


// =============================================================================================
// paths

/** field.Path helpers: `a.b`, `a[0]`, `a[key]`. */
export const childPath = (p: string, name: string) => (p ? `${p}.${name}` : name);
export const indexPath = (p: string, i: number) => `${p}[${i}]`;
export const keyPath = (p: string, k: string) => `${p}[${k}]`;

const isObj = (v: unknown): v is Record<string, any> => typeof v === 'object' && v !== null && !Array.isArray(v);
const deepClone = <T>(v: T): T => (v === undefined ? v : JSON.parse(JSON.stringify(v)));

function jsonEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (Array.isArray(a)) return Array.isArray(b) && a.length === b.length && a.every((x, i) => jsonEqual(x, b[i]));
  if (isObj(a)) {
    if (!isObj(b)) return false;
    const ka = Object.keys(a);
    return ka.length === Object.keys(b).length && ka.every((k) => k in b && jsonEqual(a[k], b[k]));
  }
  return false;
}

// =============================================================================================
// Go RE2 patterns as JavaScript regular expressions

const POSIX_CLASSES: Record<string, string> = {
  alnum: '0-9A-Za-z', alpha: 'A-Za-z', ascii: '\\x00-\\x7F', blank: '\\t ', cntrl: '\\x00-\\x1F\\x7F', digit: '0-9',
  graph: '!-~', lower: 'a-z', print: ' -~', punct: '!-\\/:-@\\[-`{-~', space: '\\t\\n\\v\\f\\r ', upper: 'A-Z',
  word: '0-9A-Za-z_', xdigit: '0-9A-Fa-f',
};

/**
 * Compiles a Go (RE2) regular expression as a JavaScript RegExp: leading flag groups `(?i)`,
 * `(?s)`, `(?m)`, named groups `(?P<n>…)`, `\A`, `\z` and POSIX classes are translated.
 * Throws SyntaxError when the pattern is invalid in both.
 */
export function goRegExp(pattern: string, extraFlags = ''): RegExp {
  let src = pattern;
  let flags = extraFlags;
  for (;;) {
    const m = /^\(\?([imsU]+)\)/.exec(src);
    if (!m) break;
    for (const f of m[1]) if (f !== 'U' && !flags.includes(f)) flags += f;
    src = src.slice(m[0].length);
  }
  src = src
    .replace(/\(\?P</g, '(?<')
    .replace(/\[:(\^?)([a-z]+):\]/g, (all, neg: string, name: string) => (POSIX_CLASSES[name] ? (neg ? `^${POSIX_CLASSES[name]}` : POSIX_CLASSES[name]) : all))
    .replace(/\\A/g, '^')
    .replace(/\\z/g, '$(?![\\s\\S])');
  try {
    return new RegExp(src, flags.includes('u') ? flags : `${flags}u`);
  } catch {
    return new RegExp(src, flags.replace('u', ''));
  }
}

// =============================================================================================
// formats (kube-openapi's strfmt registry, as CRDs see it after unsupported formats are stripped)

const normalizeFormat = (f: string) => f.toLowerCase().replace(/[-_]/g, '');

const RFC3339_DATE_TIME = /^(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2}):(\d{2})(\.\d+)?([Zz]|[+-]\d{2}:?\d{2})?$/;
const GO_DURATION = /^[-+]?((\d+(\.\d*)?|\.\d+)(ns|us|µs|μs|ms|s|m|h))+$|^[-+]?0$/;

const FORMAT_CHECKS: Record<string, (s: string) => boolean> = {
  bsonobjectid: (s) => /^[0-9a-fA-F]{24}$/.test(s),
  uri: (s) => /^[a-zA-Z][a-zA-Z0-9+.-]*:\S*$/.test(s) || s.startsWith('/'),
  email: (s) => /^[^@\s]*<?[^@\s<>]+@[^@\s<>]+>?$/.test(s),
  hostname: (s) => s.length <= 255 && /^([a-zA-Z0-9\p{L}]([-a-zA-Z0-9\p{L}_]{0,62}[a-zA-Z0-9\p{L}])?)(\.([a-zA-Z0-9\p{L}]([-a-zA-Z0-9\p{L}_]{0,62}[a-zA-Z0-9\p{L}])?))*\.?$/u.test(s),
  ipv4: (s) => isIPv4(s),
  ipv6: (s) => isIPv6(s),
  cidr: (s) => {
    const m = /^(.*)\/(\d{1,3})$/.exec(s);
    if (!m || !isIP(m[1])) return false;
    return Number(m[2]) <= (isIPv4(m[1]) ? 32 : 128);
  },
  mac: (s) => /^([0-9a-fA-F]{2}[:-]){5}[0-9a-fA-F]{2}$|^([0-9a-fA-F]{2}[:-]){7}[0-9a-fA-F]{2}$|^([0-9a-fA-F]{2}[:-]){19}[0-9a-fA-F]{2}$|^([0-9a-fA-F]{4}\.){2}[0-9a-fA-F]{4}$/.test(s),
  uuid: (s) => /^[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}$/i.test(s),
  uuid3: (s) => /^[0-9a-f]{8}-?[0-9a-f]{4}-?3[0-9a-f]{3}-?[0-9a-f]{4}-?[0-9a-f]{12}$/i.test(s),
  uuid4: (s) => /^[0-9a-f]{8}-?[0-9a-f]{4}-?4[0-9a-f]{3}-?[89ab][0-9a-f]{3}-?[0-9a-f]{12}$/i.test(s),
  uuid5: (s) => /^[0-9a-f]{8}-?[0-9a-f]{4}-?5[0-9a-f]{3}-?[89ab][0-9a-f]{3}-?[0-9a-f]{12}$/i.test(s),
  isbn: (s) => /^[0-9Xx -]{10,17}$/.test(s),
  isbn10: (s) => /^[0-9Xx -]{10,13}$/.test(s),
  isbn13: (s) => /^[0-9 -]{13,17}$/.test(s),
  creditcard: (s) => /^[0-9 -]{12,23}$/.test(s),
  ssn: (s) => /^\d{3}[- ]?\d{2}[- ]?\d{4}$/.test(s),
  hexcolor: (s) => /^#?([0-9a-fA-F]{3}|[0-9a-fA-F]{6})$/.test(s),
  rgbcolor: (s) => /^rgb\(\s*\d{1,3}\s*,\s*\d{1,3}\s*,\s*\d{1,3}\s*\)$/.test(s),
  byte: (s) => /^[A-Za-z0-9+/\r\n]*={0,2}$/.test(s) && s.replace(/[\r\n]/g, '').length % 4 === 0,
  password: () => true,
  date: (s) => /^\d{4}-\d{2}-\d{2}$/.test(s) && !Number.isNaN(Date.parse(`${s}T00:00:00Z`)),
  duration: (s) => GO_DURATION.test(s) || /^\d+\s*(ns|nano|nanos|nanosecond|nanoseconds|us|micro|micros|microsecond|microseconds|ms|milli|millis|millisecond|milliseconds|s|sec|secs|second|seconds|m|min|mins|minute|minutes|h|hr|hrs|hour|hours|d|day|days|w|wk|wks|week|weeks)$/.test(s),
  datetime: (s) => RFC3339_DATE_TIME.test(s) && !Number.isNaN(Date.parse(s.replace(' ', 'T'))),
};

/** Formats a CRD schema can validate (the rest are ignored, as Kubernetes strips them). */
export const SUPPORTED_FORMATS = new Set(Object.keys(FORMAT_CHECKS));
export const isSupportedFormat = (f: string) => SUPPORTED_FORMATS.has(normalizeFormat(f));

// =============================================================================================
// CEL values

/** A CEL uint (ints are bigint, doubles are number). */
export class CelUint { constructor(readonly v: bigint) {} }
export class CelTimestamp { constructor(readonly ns: bigint) {} }
export class CelDuration { constructor(readonly ns: bigint) {} }
export class CelTypeValue { constructor(readonly name: string) {} }
export class CelQuantity { constructor(readonly q: Quantity) {} }
/** optional(T): `oldSelf` of rules with optionalOldSelf (hasValue(), value(), orValue()). */
export class CelOptional { constructor(readonly v?: CelValue) {} }
export type CelMap = Map<string | bigint | boolean, CelValue>;
export type CelValue = null | boolean | bigint | number | string | CelUint | CelTimestamp | CelDuration | CelTypeValue | CelQuantity | CelOptional | CelValue[] | CelMap;

/** A CEL runtime error (cel-go's types.Err): "no such key: x", "division by zero", … */
export class CelError extends Error {}
const NO_OVERLOAD = 'no such overload';
const noOverload = () => new CelError(NO_OVERLOAD);

const INT_MIN = -(2n ** 63n);
const INT_MAX = 2n ** 63n - 1n;
const UINT_MAX = 2n ** 64n - 1n;

function checkInt(v: bigint): bigint {
  if (v < INT_MIN || v > INT_MAX) throw new CelError('integer overflow');
  return v;
}
function checkUint(v: bigint): CelUint {
  if (v < 0n || v > UINT_MAX) throw new CelError('unsigned integer overflow');
  return new CelUint(v);
}

export function celTypeName(v: CelValue): string {
  if (v === null) return 'null_type';
  switch (typeof v) {
    case 'boolean': return 'bool';
    case 'bigint': return 'int';
    case 'number': return 'double';
    case 'string': return 'string';
    default: break;
  }
  if (Array.isArray(v)) return 'list';
  if (v instanceof Map) return 'map';
  if (v instanceof CelUint) return 'uint';
  if (v instanceof CelTimestamp) return 'google.protobuf.Timestamp';
  if (v instanceof CelDuration) return 'google.protobuf.Duration';
  if (v instanceof CelQuantity) return 'kubernetes.Quantity';
  if (v instanceof CelOptional) return 'optional_type';
  return 'type';
}

const isNum = (v: CelValue): v is bigint | number | CelUint => typeof v === 'bigint' || typeof v === 'number' || v instanceof CelUint;
const numVal = (v: bigint | number | CelUint): number | bigint => (v instanceof CelUint ? v.v : v);

/** Compares two numbers of any CEL numeric type: -1, 0, 1 (NaN: undefined). */
function numCompare(a: bigint | number | CelUint, b: bigint | number | CelUint): number | undefined {
  const x = numVal(a);
  const y = numVal(b);
  if (typeof x === 'bigint' && typeof y === 'bigint') return x < y ? -1 : x > y ? 1 : 0;
  const fx = Number(x);
  const fy = Number(y);
  if (Number.isNaN(fx) || Number.isNaN(fy)) return undefined;
  if (fx !== fy) return fx < fy ? -1 : 1;
  // equal as doubles: compare exactly when one side is an integer beyond double precision
  if (typeof x === 'bigint' && Number.isInteger(fy)) return x < BigInt(fy) ? -1 : x > BigInt(fy) ? 1 : 0;
  if (typeof y === 'bigint' && Number.isInteger(fx)) return BigInt(fx) < y ? -1 : BigInt(fx) > y ? 1 : 0;
  return 0;
}

export function celEquals(a: CelValue, b: CelValue): boolean {
  if (isNum(a) && isNum(b)) return numCompare(a, b) === 0;
  if (a === null || b === null || typeof a !== 'object' || typeof b !== 'object') return a === b;
  if (Array.isArray(a)) return Array.isArray(b) && a.length === b.length && a.every((x, i) => celEquals(x, b[i]));
  if (a instanceof Map) {
    if (!(b instanceof Map) || a.size !== b.size) return false;
    for (const [k, v] of a) {
      const other = mapGet(b, k);
      if (other === undefined || !celEquals(v, other)) return false;
    }
    return true;
  }
  if (a instanceof CelTimestamp) return b instanceof CelTimestamp && a.ns === b.ns;
  if (a instanceof CelDuration) return b instanceof CelDuration && a.ns === b.ns;
  if (a instanceof CelTypeValue) return b instanceof CelTypeValue && a.name === b.name;
  if (a instanceof CelQuantity) return b instanceof CelQuantity && compareQuantities(a.q, b.q) === 0;
  if (a instanceof CelOptional) return b instanceof CelOptional && (a.v === undefined ? b.v === undefined : b.v !== undefined && celEquals(a.v, b.v));
  return false;
}

/** Map lookup where numeric keys of different CEL types are equal. */
function mapGet(m: CelMap, k: CelValue): CelValue | undefined {
  if (typeof k === 'string' || typeof k === 'boolean' || typeof k === 'bigint') return m.has(k) ? m.get(k) : undefined;
  if (k instanceof CelUint) return m.get(k.v);
  if (typeof k === 'number' && Number.isInteger(k)) return m.get(BigInt(k));
  return undefined;
}

function mapKey(k: CelValue): string | bigint | boolean {
  if (typeof k === 'string' || typeof k === 'boolean' || typeof k === 'bigint') return k;
  if (k instanceof CelUint) return k.v;
  throw new CelError(`unsupported key type: ${celTypeName(k)}`);
}

// --- timestamps and durations

const NS_PER = { h: 3600_000_000_000n, m: 60_000_000_000n, s: 1_000_000_000n, ms: 1_000_000n, us: 1000n, ns: 1n } as const;

/** Parses a Go duration ("1h30m", "-1.5s", "300ms"). */
export function parseGoDuration(s: string): bigint | undefined {
  const m = /^([-+]?)(.*)$/.exec(s.trim());
  if (!m) return undefined;
  let rest = m[2];
  if (rest === '0') return 0n;
  if (!rest) return undefined;
  let total = 0n;
  const re = /^(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|μs|ms|s|m|h)/;
  while (rest) {
    const p = re.exec(rest);
    if (!p) return undefined;
    const unit = NS_PER[(p[2] === 'µs' || p[2] === 'μs' ? 'us' : p[2]) as keyof typeof NS_PER];
    const [whole, frac = ''] = p[1].split('.');
    total += BigInt(whole || '0') * unit;
    if (frac) total += (BigInt(frac) * unit) / 10n ** BigInt(frac.length);
    rest = rest.slice(p[0].length);
  }
  return m[1] === '-' ? -total : total;
}

/** Formats a duration as CEL's string(duration): seconds with up to 9 fractional digits, "1.5s". */
function formatDuration(ns: bigint): string {
  const neg = ns < 0n;
  const a = neg ? -ns : ns;
  const secs = a / NS_PER.s;
  const frac = a % NS_PER.s;
  let out = secs.toString();
  if (frac) out += `.${frac.toString().padStart(9, '0').replace(/0+$/, '')}`;
  return `${neg ? '-' : ''}${out}s`;
}

/** Parses an RFC 3339 timestamp to nanoseconds since the epoch. */
export function parseTimestamp(s: string): bigint | undefined {
  const m = RFC3339_DATE_TIME.exec(s);
  if (!m) return undefined;
  const base = Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]), Number(m[4]), Number(m[5]), Number(m[6]));
  if (Number.isNaN(base)) return undefined;
  let ns = BigInt(base) * NS_PER.ms;
  if (m[7]) ns += BigInt(m[7].slice(1, 10).padEnd(9, '0'));
  const tz = m[8];
  if (tz && tz !== 'Z' && tz !== 'z') {
    const sign = tz[0] === '-' ? -1n : 1n;
    const digits = tz.slice(1).replace(':', '');
    const offMin = BigInt(Number(digits.slice(0, 2)) * 60 + Number(digits.slice(2, 4)));
    ns -= sign * offMin * NS_PER.m;
  }
  return ns;
}

function formatTimestamp(ns: bigint): string {
  const ms = ns / NS_PER.ms - (ns % NS_PER.ms < 0n ? 1n : 0n);
  const base = new Date(Number(ms)).toISOString().slice(0, 19);
  const frac = ((ns % NS_PER.s) + NS_PER.s) % NS_PER.s;
  const fracStr = frac ? `.${frac.toString().padStart(9, '0').replace(/0+$/, '')}` : '';
  return `${base}${fracStr}Z`;
}

/** Offset in minutes for a timezone argument of the timestamp getters ("UTC", "+02:00", "-0530"). */
function tzOffsetMinutes(tz: string): number {
  if (tz === 'UTC' || tz === 'Z' || tz === 'Etc/UTC' || tz === 'GMT') return 0;
  const m = /^([+-])(\d{2}):?(\d{2})$/.exec(tz);
  if (!m) throw new CelError(`unknown time zone ${tz}`);
  return (m[1] === '-' ? -1 : 1) * (Number(m[2]) * 60 + Number(m[3]));
}

// --- conversion between JSON (with its schema) and CEL

/** A JSON value as CEL sees it at a schema node: integers are int, numbers double, date-time strings timestamps. */
export function toCel(v: unknown, s: any): CelValue {
  if (v === null || v === undefined) return null;
  switch (typeof v) {
    case 'boolean': return v;
    case 'string':
      if (s?.type === 'string' && typeof s.format === 'string') {
        const f = normalizeFormat(s.format);
        if (f === 'datetime') {
          const ns = parseTimestamp(v);
          if (ns !== undefined) return new CelTimestamp(ns);
        } else if (f === 'duration') {
          const ns = parseGoDuration(v);
          if (ns !== undefined) return new CelDuration(ns);
        }
      }
      return v;
    case 'number':
      if (s?.type === 'number') return v;
      if (Number.isInteger(v) && Number.isSafeInteger(v)) return BigInt(v);
      if (Number.isInteger(v) && s?.type === 'integer') return BigInt(v);
      return v;
    default: break;
  }
  if (Array.isArray(v)) return v.map((x) => toCel(x, s?.items));
  if (isObj(v)) {
    const m: CelMap = new Map();
    for (const [k, x] of Object.entries(v)) {
      const sub = s?.properties?.[k] ?? (isObj(s?.additionalProperties) ? s.additionalProperties : undefined);
      m.set(k, toCel(x, sub));
    }
    return m;
  }
  return null;
}

/** CEL's string() conversion. */
function celToString(v: CelValue): string {
  if (typeof v === 'string') return v;
  if (typeof v === 'bigint') return v.toString();
  if (v instanceof CelUint) return v.v.toString();
  if (typeof v === 'number') {
    if (Number.isInteger(v) && Math.abs(v) < 1e21) return String(v);
    return String(v);
  }
  if (typeof v === 'boolean') return String(v);
  if (v instanceof CelTimestamp) return formatTimestamp(v.ns);
  if (v instanceof CelDuration) return formatDuration(v.ns);
  if (v instanceof CelQuantity) return formatQuantity(v.q);
  throw noOverload();
}

// =============================================================================================
// CEL syntax (cel-js' CST) and source preprocessing

interface Token { image: string; startOffset: number; tokenType: { name: string } }
interface Node { name: string; children: Record<string, (Node | Token)[]> }

const KW_PREFIX = '__kid_';
/** Pseudo-identifier the preprocessing puts before global calls (`size(x)` → `__kfn.size(x)`) so they take postfix selections. */
const FN_RECEIVER = '__kfn';
const CEL_RESERVED = new Set(['true', 'false', 'null', 'in', 'as', 'break', 'const', 'continue', 'else', 'for', 'function', 'if', 'import', 'let', 'loop', 'package', 'namespace', 'return', 'var', 'void', 'while']);

interface Preprocessed { src: string; orig: number[]; error?: { offset: number; msg: string } }
interface LexTok { kind: 'ident' | 'num' | 'str' | 'punct' | 'space'; text: string; at: number }

/** A coarse CEL tokenizer (strings, identifiers, numbers, punctuation) used only to rewrite the source for cel-js. */
function lexCEL(source: string): { toks: LexTok[]; error?: { offset: number; msg: string } } {
  const toks: LexTok[] = [];
  let i = 0;
  while (i < source.length) {
    const c = source[i];
    const at = i;
    if (/\s/.test(c)) {
      while (i < source.length && /\s/.test(source[i])) i++;
      toks.push({ kind: 'space', text: source.slice(at, i), at });
    } else if (c === '/' && source[i + 1] === '/') {
      while (i < source.length && source[i] !== '\n') i++;
      toks.push({ kind: 'space', text: ' '.repeat(i - at), at });
    } else if (c === '"' || c === "'" || ((c === 'r' || c === 'R' || c === 'b' || c === 'B') && (source[i + 1] === '"' || source[i + 1] === "'"))) {
      if (c !== '"' && c !== "'") {
        return { toks, error: { offset: at, msg: `Syntax error: ${c.toLowerCase() === 'r' ? 'raw' : 'bytes'} string literals are not supported` } };
      }
      const triple = source.startsWith(c.repeat(3), i);
      const q = triple ? c.repeat(3) : c;
      let j = i + q.length;
      let closed = false;
      while (j < source.length) {
        if (source[j] === '\\') { j += 2; continue; }
        if (!triple && source[j] === '\n') break;
        if (source.startsWith(q, j)) { j += q.length; closed = true; break; }
        j++;
      }
      if (!closed) return { toks, error: { offset: at, msg: `Syntax error: token recognition error at: '${source.slice(at, Math.min(j, at + 20))}'` } };
      if (triple) return { toks, error: { offset: at, msg: 'Syntax error: triple-quoted string literals are not supported' } };
      toks.push({ kind: 'str', text: source.slice(at, j), at });
      i = j;
    } else if (/[A-Za-z_]/.test(c)) {
      while (i < source.length && /[A-Za-z0-9_]/.test(source[i])) i++;
      toks.push({ kind: 'ident', text: source.slice(at, i), at });
    } else if (/[0-9]/.test(c) || (c === '.' && /[0-9]/.test(source[i + 1] ?? ''))) {
      const m = /^(0[xX][0-9a-fA-F]+[uU]?|\d*\.\d+([eE][+-]?\d+)?|\d+[eE][+-]?\d+|\d+[uU]?)/.exec(source.slice(i)) as RegExpExecArray;
      if (/[eE]/.test(m[0]) && !/^0[xX]/.test(m[0])) return { toks, error: { offset: at, msg: 'Syntax error: exponent notation is not supported' } };
      if (m[0].startsWith('.')) return { toks, error: { offset: at, msg: `Syntax error: mismatched input '${m[0]}'` } };
      i += m[0].length;
      toks.push({ kind: 'num', text: m[0], at });
    } else {
      const two = source.slice(i, i + 2);
      if (['==', '!=', '<=', '>=', '&&', '||'].includes(two)) {
        toks.push({ kind: 'punct', text: two, at });
        i += 2;
      } else if ('.,()[]{}:?!<>+-*/%'.includes(c)) {
        toks.push({ kind: 'punct', text: c, at });
        i++;
      } else {
        return { toks, error: { offset: at, msg: `Syntax error: token recognition error at: '${c}'` } };
      }
    }
  }
  return { toks };
}

/**
 * Rewrites a CEL expression so cel-js' grammar accepts it without changing its meaning:
 * global calls get a receiver (`size(x).y` → `__kfn.size(x).y`), parenthesized expressions and
 * list/string literals followed by a selection are wrapped in `__kfn.dyn(…)`, identifiers that
 * start with true/false/null (`self.nullable`) get a prefix, and a minus before a number is
 * split from it (cel-js lexes `a-1.5` as `a` `-1.5`). `orig` maps output offsets to source ones.
 */
function preprocess(source: string): Preprocessed {
  const lexed = lexCEL(source);
  if (lexed.error) return { src: '', orig: [], error: lexed.error };
  const toks = lexed.toks;
  const sig: number[] = []; // indexes of significant tokens
  toks.forEach((t, i) => { if (t.kind !== 'space') sig.push(i); });
  const match = new Map<number, number>(); // open bracket token index -> close token index
  const stack: number[] = [];
  for (const i of sig) {
    const t = toks[i].text;
    if (t === '(' || t === '[' || t === '{') stack.push(i);
    else if (t === ')' || t === ']' || t === '}') {
      const o = stack.pop();
      if (o !== undefined) match.set(o, i);
    }
  }
  const prevSig = (i: number) => { for (let k = i - 1; k >= 0; k--) if (toks[k].kind !== 'space') return toks[k]; return undefined; };
  const nextSig = (i: number) => { for (let k = i + 1; k < toks.length; k++) if (toks[k].kind !== 'space') return toks[k]; return undefined; };
  // an operand ends before: `(` is a call, `[` is an index
  const endsOperand = (t: LexTok | undefined) => !!t && ((t.kind === 'ident' && !CEL_RESERVED.has(t.text)) || (t.kind === 'ident' && ['true', 'false', 'null'].includes(t.text)) || t.kind === 'num' || t.kind === 'str' || t.text === ')' || t.text === ']' || t.text === '}');
  const selected = (t: LexTok | undefined) => !!t && (t.text === '.' || t.text === '[');
  const closeExtra = new Map<number, string>();
  let out = '';
  const orig: number[] = [];
  const emit = (s: string, at: number) => {
    out += s;
    for (let k = 0; k < s.length; k++) orig.push(at);
  };
  toks.forEach((t, i) => {
    const prev = prevSig(i);
    const next = nextSig(i);
    if (t.kind === 'ident') {
      if (!CEL_RESERVED.has(t.text) && next?.text === '(' && prev?.text !== '.') emit(`${FN_RECEIVER}.`, t.at);
      if (/^(true|false|null)[A-Za-z0-9_]+$/.test(t.text)) emit(KW_PREFIX, t.at);
      emit(t.text, t.at);
    } else if (t.kind === 'str' && selected(next)) {
      emit(`${FN_RECEIVER}.dyn(`, t.at);
      emit(t.text, t.at);
      emit(')', t.at + t.text.length - 1);
    } else if (t.text === '(' && !endsOperand(prev) && selected(nextSig(match.get(i) ?? i))) {
      emit(`${FN_RECEIVER}.dyn`, t.at);
      emit('(', t.at);
    } else if (t.text === '[' && !endsOperand(prev) && match.has(i) && selected(nextSig(match.get(i) as number))) {
      emit(`${FN_RECEIVER}.dyn(`, t.at);
      emit('[', t.at);
      closeExtra.set(match.get(i) as number, ')');
    } else if (t.text === '-' && next?.kind === 'num' && toks[i + 1] === next) {
      emit('- ', t.at);
    } else {
      emit(t.text, t.at);
      const extra = closeExtra.get(i);
      if (extra) emit(extra, t.at);
    }
  });
  return { src: out, orig };
}

const identName = (t: Token) => (t.image.startsWith(KW_PREFIX) ? t.image.slice(KW_PREFIX.length) : t.image);

/** Unescapes a CEL string literal (quotes included). */
function unescapeCelString(lit: string): string {
  let body: string;
  if (lit.startsWith('"""') || lit.startsWith("'''")) body = lit.slice(3, -3);
  else body = lit.slice(1, -1);
  let out = '';
  for (let i = 0; i < body.length; i++) {
    const c = body[i];
    if (c !== '\\') { out += c; continue; }
    const n = body[++i];
    switch (n) {
      case '\\': out += '\\'; break;
      case '?': out += '?'; break;
      case '"': out += '"'; break;
      case "'": out += "'"; break;
      case '`': out += '`'; break;
      case 'a': out += '\x07'; break;
      case 'b': out += '\b'; break;
      case 'f': out += '\f'; break;
      case 'n': out += '\n'; break;
      case 'r': out += '\r'; break;
      case 't': out += '\t'; break;
      case 'v': out += '\v'; break;
      case 'x': case 'X': out += String.fromCodePoint(parseInt(body.slice(i + 1, i + 3), 16)); i += 2; break;
      case 'u': out += String.fromCodePoint(parseInt(body.slice(i + 1, i + 5), 16)); i += 4; break;
      case 'U': out += String.fromCodePoint(parseInt(body.slice(i + 1, i + 9), 16)); i += 8; break;
      default:
        if (/[0-3]/.test(n) && /^[0-7]{2}$/.test(body.slice(i + 1, i + 3))) {
          out += String.fromCodePoint(parseInt(body.slice(i, i + 3), 8));
          i += 2;
        } else {
          throw new CelError(`invalid escape sequence \\${n}`);
        }
    }
  }
  return out;
}

/** Postfix selections and index operations of an identifier/map expression, in source order. */
type Step = { kind: 'dot'; node: Node; at: number } | { kind: 'index'; node: Node; at: number };
function postfixSteps(children: Node['children']): Step[] {
  const steps: Step[] = [];
  for (const d of (children.identifierDotExpression ?? []) as Node[]) steps.push({ kind: 'dot', node: d, at: (d.children.Dot[0] as Token).startOffset });
  for (const x of (children.identifierIndexExpression ?? []) as Node[]) steps.push({ kind: 'index', node: x, at: (x.children.OpenBracket[0] as Token).startOffset });
  return steps.sort((a, b) => a.at - b.at);
}

function callArgs(children: Node['children']): Node[] {
  return [...((children.arg ?? []) as Node[]), ...((children.args ?? []) as Node[])];
}

/** The atomic expression an `expr` node reduces to when it has no operators (for has() and macro variables). */
function atomOf(expr: Node): Node | undefined {
  let n: Node = expr;
  for (;;) {
    const c = n.children;
    switch (n.name) {
      case 'expr': if (c.QuestionMark) return undefined; n = c.conditionalOr[0] as Node; break;
      case 'conditionalOr': case 'conditionalAnd': case 'addition': case 'multiplication':
        if (c.rhs) return undefined; n = c.lhs[0] as Node; break;
      case 'relation': if (c.rhs) return undefined; n = c.lhs[0] as Node; break;
      case 'unaryExpression': if (c.UnaryOperator) return undefined; n = c.atomicExpression[0] as Node; break;
      case 'atomicExpression': return n;
      default: return undefined;
    }
  }
}

/** The simple identifier an expression is (comprehension variables), or undefined. */
function simpleIdent(expr: Node): string | undefined {
  const a = atomOf(expr);
  const id = a?.children.identifierExpression?.[0] as Node | undefined;
  if (!id || id.children.identifierDotExpression || id.children.identifierIndexExpression) return undefined;
  return identName(id.children.Identifier[0] as Token);
}

/** CEL escaping of property names: `__dash__`, `__dot__`, `__slash__`, `__underscores__`, `__in__`, … */
export function celUnescapeField(name: string): string {
  if (!name.includes('__')) return name;
  const kw = /^__([a-z]+)__$/.exec(name);
  if (kw && CEL_RESERVED.has(kw[1])) return kw[1];
  return name.replace(/__(underscores|dot|dash|slash)__/g, (_all, w: string) => ({ underscores: '__', dot: '.', dash: '-', slash: '/' }[w] as string));
}

const TYPE_NAMES = new Set(['int', 'uint', 'double', 'string', 'bool', 'bytes', 'list', 'map', 'null_type', 'type']);
const COMPREHENSIONS = new Set(['all', 'exists', 'exists_one', 'map', 'filter']);

// =============================================================================================
// CEL library

type Fn = (...args: CelValue[]) => CelValue;

const cpLen = (s: string) => [...s].length;
function asStr(v: CelValue): string {
  if (typeof v !== 'string') throw noOverload();
  return v;
}
function asInt(v: CelValue): bigint {
  if (typeof v === 'bigint') return v;
  throw noOverload();
}
function asList(v: CelValue): CelValue[] {
  if (!Array.isArray(v)) throw noOverload();
  return v;
}
function regexOf(p: CelValue): RegExp {
  try {
    return goRegExp(asStr(p));
  } catch (e) {
    throw new CelError(`invalid regular expression: ${(e as Error).message}`);
  }
}
function celSize(v: CelValue): bigint {
  if (typeof v === 'string') return BigInt(cpLen(v));
  if (Array.isArray(v)) return BigInt(v.length);
  if (v instanceof Map) return BigInt(v.size);
  throw noOverload();
}
function toInt(v: CelValue): bigint {
  if (typeof v === 'bigint') return v;
  if (v instanceof CelUint) return checkInt(v.v);
  if (typeof v === 'number') {
    if (!Number.isFinite(v)) throw new CelError('integer overflow');
    return checkInt(BigInt(Math.trunc(v)));
  }
  if (typeof v === 'string') {
    if (!/^[-+]?\d+$/.test(v)) throw new CelError(`cannot convert string '${v}' to int`);
    return checkInt(BigInt(v));
  }
  if (v instanceof CelTimestamp) return v.ns / NS_PER.s - (v.ns % NS_PER.s < 0n ? 1n : 0n);
  throw noOverload();
}
function toDouble(v: CelValue): number {
  if (typeof v === 'number') return v;
  if (typeof v === 'bigint') return Number(v);
  if (v instanceof CelUint) return Number(v.v);
  if (typeof v === 'string') {
    const n = Number(v);
    if (v.trim() === '' || Number.isNaN(n) && v !== 'NaN') throw new CelError(`cannot convert string '${v}' to double`);
    return n;
  }
  throw noOverload();
}
function cmpForSort(a: CelValue, b: CelValue): number {
  const c = celCompare(a, b);
  if (c === undefined) throw noOverload();
  return c;
}
function celCompare(a: CelValue, b: CelValue): number | undefined {
  if (isNum(a) && isNum(b)) return numCompare(a, b);
  if (typeof a === 'string' && typeof b === 'string') return a < b ? -1 : a > b ? 1 : 0;
  if (typeof a === 'boolean' && typeof b === 'boolean') return a === b ? 0 : a ? 1 : -1;
  if (a instanceof CelTimestamp && b instanceof CelTimestamp) return a.ns < b.ns ? -1 : a.ns > b.ns ? 1 : 0;
  if (a instanceof CelDuration && b instanceof CelDuration) return a.ns < b.ns ? -1 : a.ns > b.ns ? 1 : 0;
  throw noOverload();
}
function quantityOf(v: CelValue): Quantity {
  if (v instanceof CelQuantity) return v.q;
  throw noOverload();
}
function parseCelQuantity(v: CelValue): CelQuantity {
  const q = parseQuantityExact(asStr(v));
  if (!q) throw new CelError(`quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'`);
  return new CelQuantity(q);
}
function addQuantities(a: Quantity, b: Quantity, sub: boolean): Quantity {
  const scale = Math.min(a.scale, b.scale);
  const norm = (q: Quantity) => BigInt(q.sign) * q.mantissa * 10n ** BigInt(q.scale - scale);
  const sum = norm(a) + (sub ? -norm(b) : norm(b));
  return { sign: sum < 0n ? -1 : 1, mantissa: sum < 0n ? -sum : sum, scale, format: a.format };
}
function timestampParts(ts: CelTimestamp, tz?: CelValue): Date {
  const offset = tz === undefined ? 0 : tzOffsetMinutes(asStr(tz));
  const ms = ts.ns / NS_PER.ms - (ts.ns % NS_PER.ms < 0n ? 1n : 0n);
  return new Date(Number(ms) + offset * 60_000);
}

/** Receiver-style functions: `target.name(args)`. */
const MEMBER_FUNCTIONS: Record<string, (target: CelValue, ...args: CelValue[]) => CelValue> = {
  size: (t) => celSize(t),
  contains: (t, s) => asStr(t).includes(asStr(s)),
  startsWith: (t, s) => asStr(t).startsWith(asStr(s)),
  endsWith: (t, s) => asStr(t).endsWith(asStr(s)),
  matches: (t, re) => regexOf(re).test(asStr(t)),
  lowerAscii: (t) => asStr(t).replace(/[A-Z]/g, (c) => c.toLowerCase()),
  upperAscii: (t) => asStr(t).replace(/[a-z]/g, (c) => c.toUpperCase()),
  trim: (t) => asStr(t).trim(),
  reverse: (t) => [...asStr(t)].reverse().join(''),
  replace: (t, from, to, n) => {
    const s = asStr(t);
    const f = asStr(from);
    const r = asStr(to);
    let limit = n === undefined ? -1n : asInt(n);
    if (limit < 0n) return f === '' ? (s === '' ? r : r + [...s].join(r) + r) : s.split(f).join(r);
    let out = '';
    let rest = s;
    while (limit > 0n) {
      const at = rest.indexOf(f);
      if (at < 0) break;
      out += rest.slice(0, at) + r;
      rest = rest.slice(at + f.length);
      limit--;
    }
    return out + rest;
  },
  split: (t, sep, n) => {
    const s = asStr(t);
    const p = asStr(sep);
    const limit = n === undefined ? -1n : asInt(n);
    if (limit === 0n) return [];
    const parts = p === '' ? [...s] : s.split(p);
    if (limit < 0n || BigInt(parts.length) <= limit) return parts;
    const head = parts.slice(0, Number(limit) - 1);
    return [...head, parts.slice(Number(limit) - 1).join(p)];
  },
  substring: (t, start, end) => {
    const cps = [...asStr(t)];
    const b = Number(asInt(start));
    const e = end === undefined ? cps.length : Number(asInt(end));
    if (b < 0 || b > cps.length) throw new CelError(`index out of range: ${b}`);
    if (e < 0 || e > cps.length) throw new CelError(`index out of range: ${e}`);
    if (e < b) throw new CelError(`invalid substring range. start: ${b}, end: ${e}`);
    return cps.slice(b, e).join('');
  },
  charAt: (t, i) => {
    const cps = [...asStr(t)];
    const n = Number(asInt(i));
    if (n < 0 || n > cps.length) throw new CelError(`index out of range: ${n}`);
    return cps[n] ?? '';
  },
  indexOf: (t, x, offset) => {
    if (Array.isArray(t)) return BigInt(t.findIndex((e) => celEquals(e, x)));
    const cps = [...asStr(t)];
    const sub = [...asStr(x)];
    const from = offset === undefined ? 0 : Number(asInt(offset));
    if (from < 0 || from > cps.length) throw new CelError(`index out of range: ${from}`);
    for (let i = from; i + sub.length <= cps.length; i++) if (sub.every((c, k) => cps[i + k] === c)) return BigInt(i);
    return -1n;
  },
  lastIndexOf: (t, x, offset) => {
    if (Array.isArray(t)) {
      for (let i = t.length - 1; i >= 0; i--) if (celEquals(t[i], x)) return BigInt(i);
      return -1n;
    }
    const cps = [...asStr(t)];
    const sub = [...asStr(x)];
    const from = offset === undefined ? cps.length - sub.length : Number(asInt(offset));
    if (from < 0 || from > cps.length) throw new CelError(`index out of range: ${from}`);
    for (let i = Math.min(from, cps.length - sub.length); i >= 0; i--) if (sub.every((c, k) => cps[i + k] === c)) return BigInt(i);
    return -1n;
  },
  join: (t, sep) => asList(t).map(asStr).join(sep === undefined ? '' : asStr(sep)),
  find: (t, re) => regexOf(re).exec(asStr(t))?.[0] ?? '',
  findAll: (t, re, n) => {
    const all = [...asStr(t).matchAll(new RegExp(regexOf(re).source, `${regexOf(re).flags.replace('g', '')}g`))].map((m) => m[0]);
    return n === undefined || asInt(n) < 0n ? all : all.slice(0, Number(asInt(n)));
  },
  isSorted: (t) => asList(t).every((x, i, a) => i === 0 || cmpForSort(a[i - 1], x) <= 0),
  sum: (t) => {
    const l = asList(t);
    if (l.length === 0) return 0n;
    return l.slice(1).reduce((acc: CelValue, x) => arith('+', acc, x), l[0]);
  },
  min: (t) => {
    const l = asList(t);
    if (!l.length) throw new CelError('min called on empty list');
    return l.reduce((a, b) => (cmpForSort(b, a) < 0 ? b : a));
  },
  max: (t) => {
    const l = asList(t);
    if (!l.length) throw new CelError('max called on empty list');
    return l.reduce((a, b) => (cmpForSort(b, a) > 0 ? b : a));
  },
  // timestamps and durations
  getFullYear: (t, tz) => BigInt(timestampParts(tsOf(t), tz).getUTCFullYear()),
  getMonth: (t, tz) => BigInt(timestampParts(tsOf(t), tz).getUTCMonth()),
  getDate: (t, tz) => BigInt(timestampParts(tsOf(t), tz).getUTCDate()),
  getDayOfMonth: (t, tz) => BigInt(timestampParts(tsOf(t), tz).getUTCDate() - 1),
  getDayOfWeek: (t, tz) => BigInt(timestampParts(tsOf(t), tz).getUTCDay()),
  getDayOfYear: (t, tz) => {
    const d = timestampParts(tsOf(t), tz);
    return BigInt(Math.floor((d.getTime() - Date.UTC(d.getUTCFullYear(), 0, 1)) / 86_400_000));
  },
  getHours: (t, tz) => (t instanceof CelDuration ? t.ns / NS_PER.h : BigInt(timestampParts(tsOf(t), tz).getUTCHours())),
  getMinutes: (t, tz) => (t instanceof CelDuration ? t.ns / NS_PER.m : BigInt(timestampParts(tsOf(t), tz).getUTCMinutes())),
  getSeconds: (t, tz) => (t instanceof CelDuration ? t.ns / NS_PER.s : BigInt(timestampParts(tsOf(t), tz).getUTCSeconds())),
  getMilliseconds: (t, tz) => (t instanceof CelDuration ? (t.ns % NS_PER.s) / NS_PER.ms : BigInt(timestampParts(tsOf(t), tz).getUTCMilliseconds())),
  // Kubernetes quantity library
  isGreaterThan: (t, o) => compareQuantities(quantityOf(t), quantityOf(o)) > 0,
  isLessThan: (t, o) => compareQuantities(quantityOf(t), quantityOf(o)) < 0,
  compareTo: (t, o) => BigInt(compareQuantities(quantityOf(t), quantityOf(o))),
  add: (t, o) => new CelQuantity(addQuantities(quantityOf(t), o instanceof CelQuantity ? o.q : quantityOf(parseCelQuantity(String(asInt(o)))), false)),
  sub: (t, o) => new CelQuantity(addQuantities(quantityOf(t), o instanceof CelQuantity ? o.q : quantityOf(parseCelQuantity(String(asInt(o)))), true)),
  isInteger: (t) => isIntegerQuantity(quantityOf(t)),
  asInteger: (t) => {
    const q = quantityOf(t);
    if (!isIntegerQuantity(q)) throw new CelError('cannot convert value to integer');
    return checkInt(quantityIntValue(q));
  },
  asApproximateFloat: (t) => quantityToNumber(quantityOf(t)),
  sign: (t) => {
    const q = quantityOf(t);
    return q.mantissa === 0n ? 0n : BigInt(q.sign);
  },
  // optionals
  hasValue: (t) => optionalOf(t).v !== undefined,
  value: (t) => {
    const o = optionalOf(t);
    if (o.v === undefined) throw new CelError('optional.none() dereference');
    return o.v;
  },
  orValue: (t, d) => optionalOf(t).v ?? d,
};

function optionalOf(v: CelValue): CelOptional {
  if (v instanceof CelOptional) return v;
  throw noOverload();
}

function tsOf(v: CelValue): CelTimestamp {
  if (v instanceof CelTimestamp) return v;
  throw noOverload();
}

/** Global functions: `name(args)`. */
const GLOBAL_FUNCTIONS: Record<string, Fn> = {
  size: (v) => celSize(v),
  int: (v) => toInt(v),
  uint: (v) => {
    if (v instanceof CelUint) return v;
    if (typeof v === 'bigint') return checkUint(v);
    if (typeof v === 'number') return checkUint(BigInt(Math.trunc(v)));
    if (typeof v === 'string' && /^\+?\d+$/.test(v)) return checkUint(BigInt(v));
    throw noOverload();
  },
  double: (v) => toDouble(v),
  string: (v) => celToString(v),
  bool: (v) => {
    if (typeof v === 'boolean') return v;
    if (typeof v === 'string') {
      if (['true', 'True', 'TRUE', 't', '1'].includes(v)) return true;
      if (['false', 'False', 'FALSE', 'f', '0'].includes(v)) return false;
      throw new CelError(`type conversion error from 'string' to 'bool'`);
    }
    throw noOverload();
  },
  dyn: (v) => v,
  type: (v) => new CelTypeValue(celTypeName(v)),
  duration: (v) => {
    if (v instanceof CelDuration) return v;
    const ns = parseGoDuration(asStr(v));
    if (ns === undefined) throw new CelError(`type conversion error from 'string' to 'google.protobuf.Duration'`);
    return new CelDuration(ns);
  },
  timestamp: (v) => {
    if (v instanceof CelTimestamp) return v;
    if (typeof v === 'bigint') return new CelTimestamp(v * NS_PER.s);
    const ns = parseTimestamp(asStr(v));
    if (ns === undefined) throw new CelError(`type conversion error from 'string' to 'google.protobuf.Timestamp'`);
    return new CelTimestamp(ns);
  },
  matches: (s, re) => regexOf(re).test(asStr(s)),
  quantity: (v) => parseCelQuantity(v),
  isQuantity: (v) => parseQuantityExact(asStr(v)) !== undefined,
  'optional.of': (v) => new CelOptional(v),
  'optional.none': () => new CelOptional(),
  'sets.contains': (a, b) => asList(b).every((x) => asList(a).some((y) => celEquals(x, y))),
  'sets.equivalent': (a, b) => asList(b).every((x) => asList(a).some((y) => celEquals(x, y))) && asList(a).every((x) => asList(b).some((y) => celEquals(x, y))),
  'sets.intersects': (a, b) => asList(a).some((x) => asList(b).some((y) => celEquals(x, y))),
};

// --- operators

function arith(op: string, a: CelValue, b: CelValue): CelValue {
  if (typeof a === 'bigint' && typeof b === 'bigint') {
    switch (op) {
      case '+': return checkInt(a + b);
      case '-': return checkInt(a - b);
      case '*': return checkInt(a * b);
      case '/': if (b === 0n) throw new CelError('division by zero'); return checkInt(a / b);
      case '%': if (b === 0n) throw new CelError('modulus by zero'); return a % b;
      default: throw noOverload();
    }
  }
  if (a instanceof CelUint && b instanceof CelUint) {
    switch (op) {
      case '+': return checkUint(a.v + b.v);
      case '-': return checkUint(a.v - b.v);
      case '*': return checkUint(a.v * b.v);
      case '/': if (b.v === 0n) throw new CelError('division by zero'); return new CelUint(a.v / b.v);
      case '%': if (b.v === 0n) throw new CelError('modulus by zero'); return new CelUint(a.v % b.v);
      default: throw noOverload();
    }
  }
  if (typeof a === 'number' && typeof b === 'number') {
    switch (op) {
      case '+': return a + b;
      case '-': return a - b;
      case '*': return a * b;
      case '/': return a / b;
      default: throw noOverload();
    }
  }
  if (op === '+') {
    if (typeof a === 'string' && typeof b === 'string') return a + b;
    if (Array.isArray(a) && Array.isArray(b)) return [...a, ...b];
    if (a instanceof CelTimestamp && b instanceof CelDuration) return new CelTimestamp(a.ns + b.ns);
    if (a instanceof CelDuration && b instanceof CelTimestamp) return new CelTimestamp(a.ns + b.ns);
    if (a instanceof CelDuration && b instanceof CelDuration) return new CelDuration(a.ns + b.ns);
  }
  if (op === '-') {
    if (a instanceof CelTimestamp && b instanceof CelTimestamp) return new CelDuration(a.ns - b.ns);
    if (a instanceof CelTimestamp && b instanceof CelDuration) return new CelTimestamp(a.ns - b.ns);
    if (a instanceof CelDuration && b instanceof CelDuration) return new CelDuration(a.ns - b.ns);
  }
  throw noOverload();
}

function relation(op: string, a: CelValue, b: CelValue): boolean {
  switch (op) {
    case 'Equals': return celEquals(a, b);
    case 'NotEquals': return !celEquals(a, b);
    case 'In':
      if (Array.isArray(b)) return b.some((x) => celEquals(a, x));
      if (b instanceof Map) return mapGet(b, a) !== undefined;
      throw noOverload();
    default: {
      const c = celCompare(a, b);
      if (c === undefined) return false; // NaN
      switch (op) {
        case 'LessThan': return c < 0;
        case 'LessOrEqualThan': return c <= 0;
        case 'GreaterThan': return c > 0;
        case 'GreaterOrEqualThan': return c >= 0;
        default: throw noOverload();
      }
    }
  }
}

// =============================================================================================
// CEL interpreter over the cel-js CST

class Scope {
  constructor(private readonly vars: Map<string, CelValue>, private readonly parent?: Scope) {}
  get(name: string): CelValue | undefined {
    return this.vars.has(name) ? this.vars.get(name) : this.parent?.get(name);
  }
  has(name: string): boolean {
    return this.vars.has(name) || (this.parent?.has(name) ?? false);
  }
  with(name: string, v: CelValue): Scope {
    return new Scope(new Map([[name, v]]), this);
  }
}

function evalNode(n: Node, scope: Scope): CelValue {
  const c = n.children;
  switch (n.name) {
    case 'expr': {
      const cond = evalNode(c.conditionalOr[0] as Node, scope);
      if (!c.QuestionMark) return cond;
      if (typeof cond !== 'boolean') throw noOverload();
      return evalNode((cond ? c.lhs[0] : c.rhs[0]) as Node, scope);
    }
    case 'conditionalOr': case 'conditionalAnd': {
      const operands = [c.lhs[0], ...(c.rhs ?? [])] as Node[];
      if (operands.length === 1) return evalNode(operands[0], scope);
      const short = n.name === 'conditionalOr';
      let err: Error | undefined;
      for (const o of operands) {
        try {
          const v = evalNode(o, scope);
          if (v === short) return short;
          if (typeof v !== 'boolean') err ??= noOverload();
        } catch (e) {
          err ??= e as Error;
        }
      }
      if (err) throw err;
      return !short;
    }
    case 'relation': {
      const l = evalNode(c.lhs[0] as Node, scope);
      if (!c.rhs) return l;
      return relation((c.ComparisonOperator[0] as Token).tokenType.name, l, evalNode(c.rhs[0] as Node, scope));
    }
    case 'addition': case 'multiplication': {
      let acc = evalNode(c.lhs[0] as Node, scope);
      const ops = (n.name === 'addition' ? c.AdditionOperator : c.MultiplicationOperator) ?? [];
      ((c.rhs ?? []) as Node[]).forEach((r, i) => {
        acc = arith((ops[i] as Token).image, acc, evalNode(r, scope));
      });
      return acc;
    }
    case 'unaryExpression': {
      let v = evalNode(c.atomicExpression[0] as Node, scope);
      const ops = (c.UnaryOperator ?? []) as Token[];
      for (let i = ops.length - 1; i >= 0; i--) {
        if (ops[i].image === '!') {
          if (typeof v !== 'boolean') throw noOverload();
          v = !v;
        } else if (typeof v === 'bigint') v = checkInt(-v);
        else if (typeof v === 'number') v = -v;
        else if (v instanceof CelDuration) v = new CelDuration(-v.ns);
        else throw noOverload();
      }
      return v;
    }
    case 'parenthesisExpression': return evalNode(c.expr[0] as Node, scope);
    case 'atomicExpression': return evalAtom(n, scope);
    case 'indexExpression': return evalNode(c.expr[0] as Node, scope);
    default: throw new CelError(`unsupported syntax: ${n.name}`);
  }
}

function evalAtom(n: Node, scope: Scope): CelValue {
  const c = n.children;
  if (c.parenthesisExpression) return evalNode(c.parenthesisExpression[0] as Node, scope);
  if (c.Null) return null;
  if (c.BooleanLiteral) return (c.BooleanLiteral[0] as Token).image === 'true';
  if (c.StringLiteral) return unescapeCelString((c.StringLiteral[0] as Token).image);
  if (c.Float) return Number((c.Float[0] as Token).image);
  if (c.Integer) return checkInt(BigInt((c.Integer[0] as Token).image));
  if (c.HexInteger) return checkInt(BigInt((c.HexInteger[0] as Token).image));
  if (c.UnsignedInteger) return checkUint(BigInt((c.UnsignedInteger[0] as Token).image.slice(0, -1)));
  if (c.HexUnsignedInteger) return checkUint(BigInt((c.HexUnsignedInteger[0] as Token).image.slice(0, -1)));
  if (c.listExpression) {
    const l = c.listExpression[0] as Node;
    const items = [...(l.children.lhs ?? []), ...(l.children.rhs ?? [])].map((e) => evalNode(e as Node, scope));
    if (!l.children.Index) return items;
    return indexValue(items, evalNode(l.children.Index[0] as Node, scope));
  }
  if (c.mapExpression) {
    const m = c.mapExpression[0] as Node;
    const out: CelMap = new Map();
    for (const kv of (m.children.keyValues ?? []) as Node[]) {
      const k = mapKey(evalNode(kv.children.key[0] as Node, scope));
      if (out.has(k)) throw new CelError(`Failed with repeated key: ${String(k)}`);
      out.set(k, evalNode(kv.children.value[0] as Node, scope));
    }
    return applySteps(out, postfixSteps(m.children), scope);
  }
  if (c.macrosExpression) {
    const m = c.macrosExpression[0] as Node;
    const name = identName(m.children.Identifier[0] as Token);
    const args = callArgs(m.children);
    if (name === 'has') return evalHas(args[0], scope);
    const fn = GLOBAL_FUNCTIONS[name];
    if (!fn) throw new CelError(`undeclared reference to '${name}'`);
    return fn(...args.map((a) => evalNode(a, scope)));
  }
  if (c.identifierExpression) {
    const id = c.identifierExpression[0] as Node;
    const name = identName(id.children.Identifier[0] as Token);
    const steps = postfixSteps(id.children);
    const first = steps[0];
    if (name === FN_RECEIVER && first?.kind === 'dot' && first.node.children.OpenParenthesis) {
      const fname = identName(first.node.children.Identifier[0] as Token);
      const args = callArgs(first.node.children);
      let v: CelValue;
      if (fname === 'has') v = evalHas(args[0], scope);
      else {
        const fn = GLOBAL_FUNCTIONS[fname];
        if (!fn) throw new CelError(`undeclared reference to '${fname}'`);
        v = fn(...args.map((a) => evalNode(a, scope)));
      }
      return applySteps(v, steps.slice(1), scope);
    }
    if (scope.has(name)) return applySteps(scope.get(name) as CelValue, steps, scope);
    if (first?.kind === 'dot' && first.node.children.OpenParenthesis) {
      const fname = `${name}.${identName(first.node.children.Identifier[0] as Token)}`;
      const fn = GLOBAL_FUNCTIONS[fname];
      if (fn) return applySteps(fn(...callArgs(first.node.children).map((a) => evalNode(a, scope))), steps.slice(1), scope);
    }
    if (TYPE_NAMES.has(name)) return applySteps(new CelTypeValue(name), steps, scope);
    throw new CelError(`undeclared reference to '${name}'`);
  }
  throw new CelError('unsupported expression');
}

function selectField(target: CelValue, name: string): CelValue {
  if (!(target instanceof Map)) throw noOverload();
  if (target.has(name)) return target.get(name) as CelValue;
  const unescaped = celUnescapeField(name);
  if (unescaped !== name && target.has(unescaped)) return target.get(unescaped) as CelValue;
  throw new CelError(`no such key: ${name}`);
}

function indexValue(target: CelValue, idx: CelValue): CelValue {
  if (Array.isArray(target)) {
    let i: bigint;
    if (typeof idx === 'bigint') i = idx;
    else if (idx instanceof CelUint) i = idx.v;
    else if (typeof idx === 'number' && Number.isInteger(idx)) i = BigInt(idx);
    else throw noOverload();
    if (i < 0n || i >= BigInt(target.length)) throw new CelError(`index out of bounds: ${i}`);
    return target[Number(i)];
  }
  if (target instanceof Map) {
    const v = mapGet(target, idx);
    if (v === undefined) throw new CelError(`no such key: ${celToStringLoose(idx)}`);
    return v;
  }
  throw noOverload();
}

const celToStringLoose = (v: CelValue) => {
  try {
    return celToString(v);
  } catch {
    return celTypeName(v);
  }
};

function applySteps(value: CelValue, steps: Step[], scope: Scope): CelValue {
  let v = value;
  for (const s of steps) {
    if (s.kind === 'index') {
      v = indexValue(v, evalNode(s.node.children.expr[0] as Node, scope));
      continue;
    }
    const name = identName(s.node.children.Identifier[0] as Token);
    if (!s.node.children.OpenParenthesis) {
      v = selectField(v, name);
      continue;
    }
    const args = callArgs(s.node.children);
    if (COMPREHENSIONS.has(name)) {
      v = evalComprehension(name, v, args, scope);
      continue;
    }
    const fn = MEMBER_FUNCTIONS[name];
    if (!fn) throw new CelError(`undeclared reference to '${name}'`);
    v = fn(v, ...args.map((a) => evalNode(a, scope)));
  }
  return v;
}

function evalHas(arg: Node | undefined, scope: Scope): boolean {
  const atom = arg && atomOf(arg);
  const id = atom?.children.identifierExpression?.[0] as Node | undefined;
  const steps = id ? postfixSteps(id.children) : [];
  const last = steps[steps.length - 1];
  if (!id || !last || last.kind !== 'dot' || last.node.children.OpenParenthesis) throw new CelError('invalid argument to has() macro');
  const name = identName(id.children.Identifier[0] as Token);
  if (!scope.has(name)) throw new CelError(`undeclared reference to '${name}'`);
  const target = applySteps(scope.get(name) as CelValue, steps.slice(0, -1), scope);
  const field = identName(last.node.children.Identifier[0] as Token);
  if (!(target instanceof Map)) throw noOverload();
  return target.has(field) || target.has(celUnescapeField(field));
}

function evalComprehension(macro: string, target: CelValue, args: Node[], scope: Scope): CelValue {
  const varName = args[0] && simpleIdent(args[0]);
  if (!varName) throw new CelError(`${macro}() variable name must be a simple identifier`);
  let items: CelValue[];
  if (Array.isArray(target)) items = target;
  else if (target instanceof Map) items = [...target.keys()];
  else throw noOverload();
  const pred = (x: CelValue, node: Node) => evalNode(node, scope.with(varName, x));
  switch (macro) {
    case 'all': case 'exists': {
      const want = macro === 'exists';
      if (args.length !== 2) throw noOverload();
      let err: Error | undefined;
      for (const x of items) {
        try {
          const r = pred(x, args[1]);
          if (typeof r !== 'boolean') { err ??= noOverload(); continue; }
          if (r === want) return want;
        } catch (e) {
          err ??= e as Error;
        }
      }
      if (err) throw err;
      return !want;
    }
    case 'exists_one': {
      if (args.length !== 2) throw noOverload();
      let n = 0;
      for (const x of items) {
        const r = pred(x, args[1]);
        if (typeof r !== 'boolean') throw noOverload();
        if (r) n++;
      }
      return n === 1;
    }
    case 'filter': {
      if (args.length !== 2) throw noOverload();
      return items.filter((x) => {
        const r = pred(x, args[1]);
        if (typeof r !== 'boolean') throw noOverload();
        return r;
      });
    }
    case 'map': {
      if (args.length === 2) return items.map((x) => pred(x, args[1]));
      if (args.length !== 3) throw noOverload();
      const out: CelValue[] = [];
      for (const x of items) {
        const r = pred(x, args[1]);
        if (typeof r !== 'boolean') throw noOverload();
        if (r) out.push(pred(x, args[2]));
      }
      return out;
    }
    default: throw noOverload();
  }
}

// =============================================================================================
// CEL type checking against the schema

/** Static types: enough to catch what cel-go's checker catches most often. */
export type SType =
  | { t: 'dyn' | 'bool' | 'int' | 'uint' | 'double' | 'string' | 'null' | 'timestamp' | 'duration' | 'type' | 'quantity' }
  | { t: 'list'; e: SType }
  | { t: 'map'; v: SType }
  | { t: 'object'; fields: Record<string, any>; root: boolean };

const DYN: SType = { t: 'dyn' };
const prim = (t: 'bool' | 'int' | 'uint' | 'double' | 'string' | 'null' | 'timestamp' | 'duration' | 'type' | 'quantity'): SType => ({ t });

/** The CEL type of a schema node (isResourceRoot: apiVersion, kind and metadata.name/generateName are visible). */
export function schemaCelType(s: any, isResourceRoot = false): SType {
  if (!isObj(s)) return DYN;
  if (s['x-kubernetes-int-or-string']) return DYN;
  switch (s.type) {
    case 'boolean': return prim('bool');
    case 'integer': return prim('int');
    case 'number': return prim('double');
    case 'string': {
      const f = typeof s.format === 'string' ? normalizeFormat(s.format) : '';
      if (f === 'datetime') return prim('timestamp');
      if (f === 'duration') return prim('duration');
      return prim('string');
    }
    case 'array': return { t: 'list', e: schemaCelType(s.items, !!s.items?.['x-kubernetes-embedded-resource']) };
    case 'object': {
      if (isObj(s.additionalProperties)) return { t: 'map', v: schemaCelType(s.additionalProperties, !!s.additionalProperties['x-kubernetes-embedded-resource']) };
      const props = isObj(s.properties) ? s.properties : {};
      const root = isResourceRoot || !!s['x-kubernetes-embedded-resource'];
      if (!Object.keys(props).length && !root && (s['x-kubernetes-preserve-unknown-fields'] || s.additionalProperties === true)) return DYN;
      return { t: 'object', fields: props, root };
    }
    default: return DYN;
  }
}

const ROOT_META_FIELDS: Record<string, any> = {
  apiVersion: { type: 'string' },
  kind: { type: 'string' },
  metadata: { type: 'object', properties: { name: { type: 'string' }, generateName: { type: 'string' } } },
};

function fieldType(t: SType & { t: 'object' }, name: string): SType | undefined {
  const key = t.fields[name] !== undefined ? name : celUnescapeField(name);
  if (t.root && ROOT_META_FIELDS[key]) {
    if (key === 'metadata') return { t: 'object', fields: ROOT_META_FIELDS.metadata.properties, root: false };
    return prim('string');
  }
  const s = t.fields[key];
  if (s === undefined) return undefined;
  return schemaCelType(s, !!s?.['x-kubernetes-embedded-resource']);
}

const MEMBER_RESULT: Record<string, SType> = {
  size: prim('int'), contains: prim('bool'), startsWith: prim('bool'), endsWith: prim('bool'), matches: prim('bool'),
  lowerAscii: prim('string'), upperAscii: prim('string'), trim: prim('string'), reverse: prim('string'), replace: prim('string'),
  split: { t: 'list', e: prim('string') }, substring: prim('string'), charAt: prim('string'), indexOf: prim('int'),
  lastIndexOf: prim('int'), join: prim('string'), find: prim('string'), findAll: { t: 'list', e: prim('string') },
  isSorted: prim('bool'), sum: DYN, min: DYN, max: DYN,
  getFullYear: prim('int'), getMonth: prim('int'), getDate: prim('int'), getDayOfMonth: prim('int'), getDayOfWeek: prim('int'),
  getDayOfYear: prim('int'), getHours: prim('int'), getMinutes: prim('int'), getSeconds: prim('int'), getMilliseconds: prim('int'),
  isGreaterThan: prim('bool'), isLessThan: prim('bool'), compareTo: prim('int'), add: prim('quantity'), sub: prim('quantity'),
  isInteger: prim('bool'), asInteger: prim('int'), asApproximateFloat: prim('double'), sign: prim('int'),
  hasValue: prim('bool'), value: DYN, orValue: DYN,
};
const GLOBAL_RESULT: Record<string, SType> = {
  size: prim('int'), int: prim('int'), uint: prim('uint'), double: prim('double'), string: prim('string'), bool: prim('bool'),
  dyn: DYN, type: prim('type'), duration: prim('duration'), timestamp: prim('timestamp'), matches: prim('bool'),
  quantity: prim('quantity'), isQuantity: prim('bool'), 'sets.contains': prim('bool'), 'sets.equivalent': prim('bool'),
  'sets.intersects': prim('bool'), has: prim('bool'), 'optional.of': DYN, 'optional.none': DYN,
};

interface Issue { offset: number; msg: string }

class Checker {
  issues: Issue[] = [];
  usesOldSelf = false;
  constructor(private readonly orig: number[]) {}

  private report(offset: number, msg: string): void {
    this.issues.push({ offset: this.orig[offset] ?? offset, msg });
  }

  check(n: Node, env: Map<string, SType>): SType {
    const c = n.children;
    switch (n.name) {
      case 'expr': {
        const cond = this.check(c.conditionalOr[0] as Node, env);
        if (!c.QuestionMark) return cond;
        const a = this.check(c.lhs[0] as Node, env);
        const b = this.check(c.rhs[0] as Node, env);
        return a.t === b.t ? a : DYN;
      }
      case 'conditionalOr': case 'conditionalAnd': {
        const operands = [c.lhs[0], ...(c.rhs ?? [])] as Node[];
        const types = operands.map((o) => this.check(o, env));
        return operands.length === 1 ? types[0] : prim('bool');
      }
      case 'relation': {
        const l = this.check(c.lhs[0] as Node, env);
        if (!c.rhs) return l;
        this.check(c.rhs[0] as Node, env);
        return prim('bool');
      }
      case 'addition': case 'multiplication': {
        let acc = this.check(c.lhs[0] as Node, env);
        for (const r of (c.rhs ?? []) as Node[]) {
          const t = this.check(r, env);
          if (acc.t === 'dyn' || t.t === 'dyn') acc = DYN;
          else if (acc.t === 'timestamp' && t.t === 'timestamp') acc = prim('duration');
          else if (acc.t === 'timestamp' || t.t === 'timestamp') acc = prim('timestamp');
          else if (acc.t !== t.t) acc = DYN;
        }
        return acc;
      }
      case 'unaryExpression': {
        const t = this.check(c.atomicExpression[0] as Node, env);
        return c.UnaryOperator ? ((c.UnaryOperator[0] as Token).image === '!' ? prim('bool') : t) : t;
      }
      case 'parenthesisExpression': case 'indexExpression': return this.check(c.expr[0] as Node, env);
      case 'atomicExpression': return this.checkAtom(n, env);
      default: return DYN;
    }
  }

  private checkAtom(n: Node, env: Map<string, SType>): SType {
    const c = n.children;
    if (c.parenthesisExpression) return this.check(c.parenthesisExpression[0] as Node, env);
    if (c.Null) return prim('null');
    if (c.BooleanLiteral) return prim('bool');
    if (c.StringLiteral) {
      const tok = c.StringLiteral[0] as Token;
      try {
        unescapeCelString(tok.image);
      } catch (e) {
        this.report(tok.startOffset, `Syntax error: ${(e as Error).message}`);
      }
      return prim('string');
    }
    if (c.Float) return prim('double');
    if (c.Integer || c.HexInteger) return prim('int');
    if (c.UnsignedInteger || c.HexUnsignedInteger) return prim('uint');
    if (c.listExpression) {
      const l = c.listExpression[0] as Node;
      const types = [...(l.children.lhs ?? []), ...(l.children.rhs ?? [])].map((e) => this.check(e as Node, env));
      const e = types.length && types.every((t) => t.t === types[0].t) ? types[0] : DYN;
      if (l.children.Index) {
        this.check(l.children.Index[0] as Node, env);
        return e;
      }
      return { t: 'list', e };
    }
    if (c.mapExpression) {
      const m = c.mapExpression[0] as Node;
      const vals = ((m.children.keyValues ?? []) as Node[]).map((kv) => {
        this.check(kv.children.key[0] as Node, env);
        return this.check(kv.children.value[0] as Node, env);
      });
      const v = vals.length && vals.every((t) => t.t === vals[0].t) ? vals[0] : DYN;
      return this.steps({ t: 'map', v }, postfixSteps(m.children), env);
    }
    if (c.macrosExpression) {
      const m = c.macrosExpression[0] as Node;
      return this.checkCall(m.children.Identifier[0] as Token, callArgs(m.children), env);
    }
    if (c.identifierExpression) {
      return this.checkIdent(c.identifierExpression[0] as Node, env);
    }
    return DYN;
  }

  private checkCall(tok: Token, args: Node[], env: Map<string, SType>): SType {
    {
      const name = identName(tok);
      if (name === 'has') {
        const atom = args.length === 1 ? atomOf(args[0]) : undefined;
        const id = atom?.children.identifierExpression?.[0] as Node | undefined;
        const steps = id ? postfixSteps(id.children) : [];
        const last = steps[steps.length - 1];
        if (!id || !last || last.kind !== 'dot' || last.node.children.OpenParenthesis) {
          this.report(tok.startOffset, 'invalid argument to has() macro');
          return prim('bool');
        }
        // the selected field must exist on object types, as for a plain selection
        this.check(args[0], env);
        return prim('bool');
      }
      for (const a of args) this.check(a, env);
      if (!GLOBAL_RESULT[name]) {
        this.report(tok.startOffset, `undeclared reference to '${name}' (in container '')`);
        return DYN;
      }
      if (name === 'dyn') return DYN;
      return GLOBAL_RESULT[name];
    }
  }

  private checkIdent(id: Node, env: Map<string, SType>): SType {
    {
      const tok = id.children.Identifier[0] as Token;
      const name = identName(tok);
      const steps = postfixSteps(id.children);
      const head = steps[0];
      if (name === FN_RECEIVER && head?.kind === 'dot' && head.node.children.OpenParenthesis) {
        const ftok = head.node.children.Identifier[0] as Token;
        return this.steps(this.checkCall(ftok, callArgs(head.node.children), env), steps.slice(1), env);
      }
      if (env.has(name)) {
        if (name === 'oldSelf') this.usesOldSelf = true;
        return this.steps(env.get(name) as SType, steps, env);
      }
      const first = steps[0];
      if (first?.kind === 'dot' && first.node.children.OpenParenthesis) {
        const fname = `${name}.${identName(first.node.children.Identifier[0] as Token)}`;
        if (GLOBAL_RESULT[fname]) {
          for (const a of callArgs(first.node.children)) this.check(a, env);
          return this.steps(GLOBAL_RESULT[fname], steps.slice(1), env);
        }
      }
      if (TYPE_NAMES.has(name)) return this.steps(prim('type'), steps, env);
      this.report(tok.startOffset, `undeclared reference to '${name}' (in container '')`);
      return DYN;
    }
  }

  private steps(start: SType, steps: Step[], env: Map<string, SType>): SType {
    let t = start;
    for (const s of steps) {
      if (s.kind === 'index') {
        this.check(s.node.children.expr[0] as Node, env);
        t = t.t === 'list' ? t.e : t.t === 'map' ? t.v : DYN;
        continue;
      }
      const tok = s.node.children.Identifier[0] as Token;
      const name = identName(tok);
      if (!s.node.children.OpenParenthesis) {
        if (t.t === 'object') {
          const f = fieldType(t, name);
          if (!f) {
            this.report(s.at, `undefined field '${name}'`);
            t = DYN;
          } else t = f;
        } else if (t.t === 'map') t = t.v;
        else if (t.t !== 'dyn') {
          this.report(s.at, `type '${t.t === 'timestamp' ? 'google.protobuf.Timestamp' : t.t === 'duration' ? 'google.protobuf.Duration' : t.t}' does not support field selection`);
          t = DYN;
        }
        continue;
      }
      const args = callArgs(s.node.children);
      if (COMPREHENSIONS.has(name)) {
        const v = args[0] && simpleIdent(args[0]);
        if (!v) {
          this.report(tok.startOffset, `argument must be a simple name`);
          t = DYN;
          continue;
        }
        const elem = t.t === 'list' ? t.e : t.t === 'map' || t.t === 'object' ? prim('string') : DYN;
        const inner = new Map(env);
        inner.set(v, elem);
        const bodies = args.slice(1).map((a) => this.check(a, inner));
        if (name === 'map') t = { t: 'list', e: bodies[bodies.length - 1] ?? DYN };
        else if (name === 'filter') t = t.t === 'list' ? t : { t: 'list', e: elem };
        else t = prim('bool');
        continue;
      }
      for (const a of args) this.check(a, env);
      const r = MEMBER_RESULT[name];
      if (!r) {
        this.report(tok.startOffset, `undeclared reference to '${name}' (in container '')`);
        t = DYN;
        continue;
      }
      if ((name === 'min' || name === 'max') && t.t === 'list') t = t.e;
      else if (name === 'sum' && t.t === 'list') t = t.e;
      else t = r;
    }
    return t;
  }
}

/** A compiled CEL expression. */
export interface CelProgram {
  source: string;
  usesOldSelf: boolean;
  /** The statically known result type ('dyn' when unknown). */
  resultType: string;
  evaluate(vars: Record<string, CelValue>): CelValue;
}

export type CelCompileResult = { program: CelProgram; error?: undefined } | { program?: undefined; error: string };

function formatIssues(source: string, issues: Issue[]): string {
  return issues.map(({ offset, msg }) => {
    const before = source.slice(0, offset);
    const line = before.split('\n').length;
    const lineStart = before.lastIndexOf('\n') + 1;
    const col = [...source.slice(lineStart, offset)].length;
    const text = source.slice(lineStart).split('\n')[0];
    return `ERROR: <input>:${line}:${col + 1}: ${msg}\n | ${text}\n | ${'.'.repeat(col)}^`;
  }).join('\n');
}

/** A chevrotain parse error as cel-go words syntax errors (`mismatched input '<EOF>' expecting …`). */
function syntaxIssue(source: string, raw: string): Issue {
  let m = /Redundant input, expecting EOF but found: (.*)$/s.exec(raw);
  if (m) {
    const at = source.lastIndexOf(m[1].trim());
    return { offset: at >= 0 ? at : 0, msg: `Syntax error: extraneous input '${m[1].trim()}' expecting <EOF>` };
  }
  m = /Expecting token of type --> (\w+) <-- but found --> '(.*)' <--/s.exec(raw);
  const found = m ? m[2] : /but found: '(.*)'\s*$/s.exec(raw)?.[1];
  const expecting = m ? ` expecting ${m[1] === 'Identifier' ? 'IDENTIFIER' : m[1]}` : '';
  if (found === undefined || found === '') return { offset: source.length, msg: `Syntax error: mismatched input '<EOF>'${expecting}` };
  const at = source.indexOf(found);
  return { offset: at >= 0 ? at : 0, msg: `Syntax error: mismatched input '${found}'${expecting}` };
}

/**
 * Parses (cel-js) and checks a CEL expression with `self` (and `oldSelf`) typed by the schema
 * node. Errors are worded as cel-go's issues (`ERROR: <input>:1:6: undefined field 'foo'` …).
 */
export function compileCEL(expression: string, vars: Record<string, SType> = {}): CelCompileResult {
  const pre = preprocess(expression);
  if (pre.error) return { error: formatIssues(expression, [{ offset: pre.error.offset, msg: pre.error.msg }]) };
  const parsed = celParse(pre.src);
  if (!parsed.isSuccess) return { error: formatIssues(expression, [syntaxIssue(expression, parsed.errors[0] ?? '')]) };
  const cst = parsed.cst as unknown as Node;
  const checker = new Checker(pre.orig);
  const t = checker.check(cst, new Map(Object.entries(vars)));
  if (checker.issues.length) return { error: formatIssues(expression, checker.issues) };
  return {
    program: {
      source: expression,
      usesOldSelf: checker.usesOldSelf,
      resultType: t.t,
      evaluate: (v) => evalNode(cst, new Scope(new Map(Object.entries(v)))),
    },
  };
}

/** Parses and evaluates a CEL expression with plain JSON variables (a convenience for tests and callers). */
export function evaluateCEL(expression: string, vars: Record<string, unknown> = {}): CelValue {
  const types: Record<string, SType> = {};
  for (const k of Object.keys(vars)) types[k] = DYN;
  const r = compileCEL(expression, types);
  if (r.error !== undefined) throw new CelError(r.error);
  const values: Record<string, CelValue> = {};
  for (const [k, v] of Object.entries(vars)) values[k] = toCel(v, undefined);
  return r.program.evaluate(values);
}

// =============================================================================================
// x-kubernetes-validations rules

export interface ValidationRule {
  rule: string;
  message?: string;
  messageExpression?: string;
  reason?: 'FieldValueInvalid' | 'FieldValueForbidden' | 'FieldValueRequired' | 'FieldValueDuplicate' | string;
  fieldPath?: string;
  optionalOldSelf?: boolean;
}

export interface CompiledRule {
  rule: ValidationRule;
  program?: CelProgram;
  messageProgram?: CelProgram;
  /** Compile error of the rule (`compilation failed: …` or `cel expression must evaluate to a bool`). */
  error?: string;
  /** Compile error of messageExpression. */
  messageError?: string;
  usesOldSelf: boolean;
}

/** Compiles one x-kubernetes-validations rule of a schema node as the CRD validation does. */
export function compileValidationRule(rule: ValidationRule, nodeSchema: any, isResourceRoot = false): CompiledRule {
  const selfType = schemaCelType(nodeSchema, isResourceRoot);
  const vars = { self: selfType, oldSelf: rule?.optionalOldSelf === true ? DYN : selfType };
  const out: CompiledRule = { rule, usesOldSelf: false };
  if (!String(rule?.rule ?? '').trim()) return out;
  const r = compileCEL(String(rule.rule), vars);
  if (r.error !== undefined) out.error = `compilation failed: ${r.error}`;
  else if (r.program.resultType !== 'bool' && r.program.resultType !== 'dyn') out.error = 'cel expression must evaluate to a bool';
  else {
    out.program = r.program;
    out.usesOldSelf = r.program.usesOldSelf;
  }
  if (rule.messageExpression && rule.messageExpression.trim()) {
    const m = compileCEL(rule.messageExpression, vars);
    if (m.error !== undefined) out.messageError = `messageExpression compilation failed: ${m.error}`;
    else if (m.program.resultType !== 'string' && m.program.resultType !== 'dyn') out.messageError = 'messageExpression must evaluate to a string';
    else out.messageProgram = m.program;
  }
  return out;
}

/** ValidFieldPath: a rule's fieldPath (`.spec.x`, `['a.b']`) resolved against the schema; the field.Path string or an error. */
export function resolveRuleFieldPath(fieldPath: string, s: any): { path?: string; error?: string } {
  let path = '';
  let cur = s;
  let i = 0;
  const step = (name: string, named: boolean): string | undefined => {
    if (named) {
      path = childPath(path, name);
      const next = cur?.properties?.[name];
      if (next === undefined) return 'does not refer to a valid field';
      cur = next;
    } else {
      path = keyPath(path, name);
      cur = cur.additionalProperties;
    }
    return undefined;
  };
  const kindOf = () => (isObj(cur?.properties) ? 'named' : isObj(cur?.additionalProperties) ? 'map' : undefined);
  while (i < fieldPath.length) {
    const c = fieldPath[i];
    if (c === '.') {
      let j = i + 1;
      while (j < fieldPath.length && !'.[]'.includes(fieldPath[j])) j++;
      const name = fieldPath.slice(i + 1, j);
      if (!name) return { error: 'unexpected end of JSON path' };
      const k = kindOf();
      if (!k) return { error: 'does not refer to a valid field' };
      const err = step(name, k === 'named');
      if (err) return { error: err };
      i = j;
    } else if (c === '[') {
      const m = /^\['((?:[^'\\]|\\.)*)'\]/.exec(fieldPath.slice(i));
      if (!m) return { error: `expected single quoted string but got ${fieldPath.slice(i + 1)}` };
      const k = kindOf();
      if (!k) return { error: 'does not refer to a valid field' };
      const err = step(m[1].replace(/\\(.)/g, '$1'), k === 'named');
      if (err) return { error: err };
      i += m[0].length;
    } else {
      return { error: `expected [ or . but got: ${fieldPath.slice(i)}` };
    }
  }
  return { path };
}

// =============================================================================================
// the structural schema

type AjvValidate = ((data: unknown) => boolean) & { errors?: any[] | null };

const Ajv: any = (AjvModule as any).default ?? AjvModule;

function regExpEngine(pattern: string): RegExp {
  try {
    return goRegExp(pattern);
  } catch {
    return /(?:)/; // patterns JavaScript cannot express are not enforced
  }
}
(regExpEngine as any).code = 'RegExp';

let sharedAjv: any;
function ajvInstance(): any {
  if (!sharedAjv) {
    sharedAjv = new Ajv({ allErrors: true, strict: false, verbose: true, validateSchema: false, addUsedSchema: false, code: { regExp: regExpEngine } });
    for (const [name, check] of Object.entries(FORMAT_CHECKS)) {
      sharedAjv.addFormat(`k8s-${name}`, { type: 'string', validate: check });
    }
  }
  return sharedAjv;
}

/** The int-or-string anyOf/allOf patterns (redundant with the type the extension implies). */
function isIntOrStringAnyOf(xs: unknown): boolean {
  return Array.isArray(xs) && xs.length === 2 && xs[0]?.type === 'integer' && xs[1]?.type === 'string'
    && Object.keys(xs[0]).length === 1 && Object.keys(xs[1]).length === 1;
}

/** The JSON schema ajv validates with, translated from an OpenAPI v3 structural schema node. */
function toAjvSchema(s: any): any {
  if (!isObj(s)) return {};
  const out: any = {};
  const intOrString = !!s['x-kubernetes-int-or-string'];
  if (intOrString) out.type = s.nullable ? ['integer', 'string', 'null'] : ['integer', 'string'];
  else if (typeof s.type === 'string' && s.type) out.type = s.nullable ? [s.type, 'null'] : s.type;
  if (typeof s.format === 'string' && isSupportedFormat(s.format) && (s.type === 'string' || intOrString)) out.format = `k8s-${normalizeFormat(s.format)}`;
  for (const k of ['maxLength', 'minLength', 'pattern', 'maxItems', 'minItems', 'uniqueItems', 'multipleOf', 'maxProperties', 'minProperties', 'required', 'enum']) {
    if (s[k] !== undefined) out[k] = s[k];
  }
  if (typeof s.maximum === 'number') {
    if (s.exclusiveMaximum === true) out.exclusiveMaximum = s.maximum; else out.maximum = s.maximum;
  }
  if (typeof s.minimum === 'number') {
    if (s.exclusiveMinimum === true) out.exclusiveMinimum = s.minimum; else out.minimum = s.minimum;
  }
  if (isObj(s.properties)) {
    out.properties = {};
    for (const [k, v] of Object.entries(s.properties)) out.properties[k] = toAjvSchema(v);
  }
  if (isObj(s.additionalProperties)) out.additionalProperties = toAjvSchema(s.additionalProperties);
  else if (s.additionalProperties === false) out.additionalProperties = false;
  if (isObj(s.items)) out.items = toAjvSchema(s.items);
  if (Array.isArray(s.allOf)) {
    const all = s.allOf.map((x: any, i: number) => (i === 0 && intOrString && isIntOrStringAnyOf(x?.anyOf) ? { ...x, anyOf: undefined } : x));
    out.allOf = all.map(toAjvSchema);
  }
  if (Array.isArray(s.anyOf) && !(intOrString && isIntOrStringAnyOf(s.anyOf))) out.anyOf = s.anyOf.map(toAjvSchema);
  if (Array.isArray(s.oneOf)) out.oneOf = s.oneOf.map(toAjvSchema);
  if (isObj(s.not)) out.not = toAjvSchema(s.not);
  return out;
}

/** JSON type of a value as kube-openapi names it in type errors. */
function jsonTypeName(v: unknown): string {
  if (v === null || v === undefined) return 'null';
  if (Array.isArray(v)) return 'array';
  if (typeof v === 'number') return Number.isInteger(v) ? 'integer' : 'number';
  return typeof v;
}

/** Go's %v of a number (what kube-openapi prints for limits). */
const goNumber = (n: unknown) => (typeof n === 'number' && Number.isFinite(n) && Math.abs(n) >= 1e21 ? n.toExponential().replace('e+', 'e+') : String(n));

export interface StructuralSchemaOptions {
  /** The schema is the root of a resource (apiVersion/kind/metadata are implicitly kept and visible). Default true. */
  resourceRoot?: boolean;
}

const OBJECT_META_FIELDS = new Set([
  'name', 'generateName', 'namespace', 'selfLink', 'uid', 'resourceVersion', 'generation', 'creationTimestamp',
  'deletionTimestamp', 'deletionGracePeriodSeconds', 'labels', 'annotations', 'ownerReferences', 'finalizers', 'managedFields',
]);

/** Errors that stop CEL rules from running (wrong types, missing required fields, enum, maxLength/maxItems/maxProperties). */
const BLOCKING_TYPES = new Set<FieldError['type']>(['FieldValueNotSupported', 'FieldValueRequired', 'FieldValueTooLong', 'FieldValueTooMany', 'FieldValueTypeInvalid']);
const BLOCKING_MESSAGE = 'some validation rules were not checked because the object was invalid; correct the existing errors to complete validation';

/**
 * A CRD version's structural schema: validates, prunes and defaults custom resources, and runs
 * the x-kubernetes-validations rules. Compiles everything once; methods never throw.
 */
export class StructuralSchema {
  readonly schema: any;
  private readonly resourceRoot: boolean;
  private ajvValidate?: AjvValidate;
  private ajvError?: string;
  private readonly rules = new WeakMap<object, CompiledRule[]>();
  private readonly hasRules: boolean;

  constructor(openAPIV3Schema: any, opts: StructuralSchemaOptions = {}) {
    this.schema = isObj(openAPIV3Schema) ? openAPIV3Schema : {};
    this.resourceRoot = opts.resourceRoot ?? true;
    try {
      this.ajvValidate = ajvInstance().compile(toAjvSchema(this.schema)) as AjvValidate;
    } catch (e) {
      this.ajvError = (e as Error).message;
    }
    this.hasRules = this.compileRules(this.schema, this.resourceRoot);
  }

  private compileRules(s: any, isResourceRoot: boolean): boolean {
    if (!isObj(s)) return false;
    let any = false;
    const xv = s['x-kubernetes-validations'];
    if (Array.isArray(xv) && xv.length) {
      this.rules.set(s, xv.map((r: ValidationRule) => compileValidationRule(r, s, isResourceRoot)));
      any = true;
    }
    if (isObj(s.properties)) for (const p of Object.values(s.properties)) any = this.compileRules(p, !!(p as any)?.['x-kubernetes-embedded-resource']) || any;
    if (isObj(s.additionalProperties)) any = this.compileRules(s.additionalProperties, !!s.additionalProperties['x-kubernetes-embedded-resource']) || any;
    if (isObj(s.items)) any = this.compileRules(s.items, !!s.items['x-kubernetes-embedded-resource']) || any;
    return any;
  }

  /** Validates a custom resource (create): schema, list types, embedded resources, CEL rules. */
  validate(obj: any, path = ''): FieldError[] {
    return this.run(obj, undefined, path, false);
  }

  /** Validates an update: as validate, with transition rules (those using oldSelf) evaluated against old. */
  validateUpdate(obj: any, old: any, path = ''): FieldError[] {
    return this.run(obj, old, path, true);
  }

  /** Only the OpenAPI schema part of validation (no CEL, list types or embedded resources). */
  validateSchema(obj: any, path = ''): FieldError[] {
    const errs: FieldError[] = [];
    if (this.ajvError) {
      errs.push(fieldError.invalid(path || '<nil>', '', `error building validator: ${this.ajvError}`));
      return errs;
    }
    const v = this.ajvValidate as AjvValidate;
    if (v(obj)) return errs;
    const all = v.errors ?? [];
    // composite keywords (anyOf/oneOf/not) report their own message instead of their branches' errors
    const composite = all.filter((e: any) => e.keyword === 'anyOf' || e.keyword === 'oneOf' || e.keyword === 'not').map((e: any) => `${e.schemaPath}/`);
    for (const e of all) {
      if (composite.some((p: string) => e.schemaPath.startsWith(p) && `${e.schemaPath}/` !== p)) continue;
      const err = this.translate(e, obj, path);
      if (err) errs.push(err);
    }
    return errs;
  }

  private translate(e: any, root: any, prefix: string): FieldError | undefined {
    const rel = pointerToPath(root, e.instancePath);
    const field = (name: string) => (prefix ? (name ? `${prefix}.${name}` : prefix) : name || '<nil>');
    const data = e.data;
    const ps = e.parentSchema ?? {};
    switch (e.keyword) {
      case 'required': {
        const name = rel ? `${rel}.${e.params.missingProperty}` : e.params.missingProperty;
        return fieldError.required(field(name), undefined);
      }
      case 'type': {
        const expected = ps['x-kubernetes-int-or-string'] || (Array.isArray(ps.type) && ps.type.includes('integer') && ps.type.includes('string'))
          ? 'integer,string' : (Array.isArray(ps.type) ? ps.type.filter((t: string) => t !== 'null').join(',') : ps.type);
        const actual = jsonTypeName(data);
        return fieldError.typeInvalid(field(rel), actual, `${rel} in body must be of type ${expected}: ${JSON.stringify(actual)}`);
      }
      case 'format': {
        const fmt = String(e.schema).replace(/^k8s-/, '');
        const original = this.originalFormat(rel, root) ?? fmt;
        return fieldError.typeInvalid(field(rel), data, `${rel} in body must be of type ${original}: ${JSON.stringify(data)}`);
      }
      case 'enum': {
        const allowed = (e.params.allowedValues as unknown[]).map((x) => (typeof x === 'string' ? x : JSON.stringify(x)));
        return fieldError.notSupported(field(rel), data, allowed);
      }
      case 'maximum': return fieldError.invalid(field(rel), data, `${rel} in body should be less than or equal to ${goNumber(e.params.limit)}`);
      case 'exclusiveMaximum': return fieldError.invalid(field(rel), data, `${rel} in body should be less than ${goNumber(e.params.limit)}`);
      case 'minimum': return fieldError.invalid(field(rel), data, `${rel} in body should be greater than or equal to ${goNumber(e.params.limit)}`);
      case 'exclusiveMinimum': return fieldError.invalid(field(rel), data, `${rel} in body should be greater than ${goNumber(e.params.limit)}`);
      case 'multipleOf': return fieldError.invalid(field(rel), data, `${rel} in body should be a multiple of ${goNumber(e.params.multipleOf)}`);
      case 'maxLength': return { type: 'FieldValueTooLong', field: field(rel), value: data, detail: `may not be longer than ${e.params.limit}` };
      case 'minLength': return fieldError.invalid(field(rel), data, `${rel} in body should be at least ${e.params.limit} chars long`);
      case 'pattern': return fieldError.invalid(field(rel), data, `${rel} in body should match '${e.params.pattern}'`);
      case 'maxItems': return tooMany(field(rel), Array.isArray(data) ? data.length : -1, e.params.limit);
      case 'minItems': return fieldError.invalid(field(rel), Array.isArray(data) ? data.length : 0, `${rel} in body should have at least ${e.params.limit} items`);
      case 'uniqueItems': return fieldError.invalid(field(rel), '', `${rel} in body shouldn't contain duplicates`);
      case 'maxProperties': return tooMany(field(rel), isObj(data) ? Object.keys(data).length : -1, e.params.limit);
      case 'minProperties': return fieldError.invalid(field(rel), isObj(data) ? Object.keys(data).length : 0, `${rel} in body should have at least ${e.params.limit} properties`);
      case 'additionalProperties': return fieldError.invalid(field(rel), e.params.additionalProperty, `${rel}.${e.params.additionalProperty} in body is a forbidden property`);
      case 'anyOf': return fieldError.invalid(field(rel), '', `${JSON.stringify(rel)} must validate at least one schema (anyOf)`);
      case 'oneOf': {
        const passing = e.params.passingSchemas;
        const more = Array.isArray(passing) ? `Found ${passing.length} valid alternatives` : 'Found none valid';
        return fieldError.invalid(field(rel), '', `${JSON.stringify(rel)} must validate one and only one schema (oneOf). ${more}`);
      }
      case 'not': return fieldError.invalid(field(rel), '', `${JSON.stringify(rel)} must not validate the schema (not)`);
      default: return fieldError.invalid(field(rel), data ?? '', `${rel} in body ${e.message}`);
    }
  }

  private originalFormat(rel: string, root: any): string | undefined {
    const s = this.schemaAt(rel, root);
    return typeof s?.format === 'string' ? s.format : undefined;
  }

  /** The schema node for a data path (as produced by pointerToPath). */
  private schemaAt(rel: string, root: any): any {
    let s = this.schema;
    let d = root;
    for (const tok of rel.match(/[^.[\]]+|\[\d+\]/g) ?? []) {
      if (tok.startsWith('[') && Array.isArray(d)) {
        s = s?.items;
        d = d[Number(tok.slice(1, -1))];
      } else {
        s = s?.properties?.[tok] ?? (isObj(s?.additionalProperties) ? s.additionalProperties : undefined);
        d = d?.[tok];
      }
    }
    return s;
  }

  private run(obj: any, old: any, path: string, update: boolean): FieldError[] {
    const errs = this.validateSchema(obj, path);
    errs.push(...validateListTypes(this.schema, obj, path));
    errs.push(...validateEmbeddedResources(this.schema, obj, path, false));
    if (this.hasRules) {
      if (errs.some((e) => BLOCKING_TYPES.has(e.type))) {
        errs.push(fieldError.invalid('<nil>', null, BLOCKING_MESSAGE));
      } else {
        this.evalRules(this.schema, obj, update ? old : undefined, path, errs);
      }
    }
    return errs;
  }

  private evalRules(s: any, obj: any, old: any, path: string, errs: FieldError[]): void {
    if (!isObj(s) || obj === null || obj === undefined) return;
    const compiled = this.rules.get(s);
    if (compiled) this.evalNodeRules(s, compiled, obj, old, path, errs);
    if (Array.isArray(obj)) {
      if (!isObj(s.items)) return;
      const keys: string[] | undefined = s['x-kubernetes-list-type'] === 'map' ? s['x-kubernetes-list-map-keys'] : undefined;
      obj.forEach((item, i) => {
        let oldItem: any;
        if (keys && Array.isArray(old) && isObj(item)) oldItem = old.find((o) => isObj(o) && keys.every((k) => jsonEqual(o[k], item[k])));
        this.evalRules(s.items, item, oldItem, indexPath(path, i), errs);
      });
      return;
    }
    if (!isObj(obj)) return;
    const correlatable = s['x-kubernetes-map-type'] !== 'atomic';
    const oldMap = correlatable && isObj(old) ? old : undefined;
    if (isObj(s.additionalProperties)) {
      for (const [k, v] of Object.entries(obj)) this.evalRules(s.additionalProperties, v, oldMap?.[k], keyPath(path, k), errs);
    }
    if (isObj(s.properties)) {
      for (const [k, v] of Object.entries(obj)) {
        const p = s.properties[k];
        if (p !== undefined) this.evalRules(p, v, oldMap?.[k], childPath(path, k), errs);
      }
    }
  }

  private evalNodeRules(s: any, compiled: CompiledRule[], obj: any, old: any, nodePath: string, errs: FieldError[]): void {
    const path = nodePath || '<nil>';
    const typeWord = typeof s.type === 'string' ? s.type : '';
    const isRoot = s === this.schema ? this.resourceRoot : !!s['x-kubernetes-embedded-resource'];
    const selfSchema = isRoot ? withTypeAndObjectMeta(s) : s;
    let self: CelValue | undefined;
    let oldSelf: CelValue | undefined;
    for (const cr of compiled) {
      const rule = cr.rule;
      if (cr.error) {
        errs.push(fieldError.invalid(path, typeWord, `rule compile error: ${cr.error}`));
        continue;
      }
      if (!cr.program) continue;
      const optionalOld = cr.usesOldSelf && rule.optionalOldSelf === true;
      const hasOld = old !== undefined && old !== null;
      if (cr.usesOldSelf && !hasOld && !optionalOld) continue;
      self ??= toCel(isRoot ? restrictRootMeta(obj) : obj, selfSchema);
      if (cr.usesOldSelf && hasOld) oldSelf ??= toCel(isRoot ? restrictRootMeta(old) : old, selfSchema);
      const vars: Record<string, CelValue> = { self };
      if (optionalOld) vars.oldSelf = new CelOptional(hasOld ? oldSelf : undefined);
      else if (oldSelf !== undefined) vars.oldSelf = oldSelf;
      let result: CelValue;
      try {
        result = cr.program.evaluate(vars);
      } catch (e) {
        const msg = (e as Error).message;
        if (msg.startsWith(NO_OVERLOAD)) errs.push(fieldError.invalid(path, typeWord, `'${msg}': call arguments did not match a supported operator, function or macro signature for rule: ${ruleErrorString(rule)}`));
        else errs.push(fieldError.invalid(path, typeWord, `${msg} evaluating rule: ${ruleErrorString(rule)}`));
        continue;
      }
      if (result === true) continue;
      let field = path;
      if (rule.fieldPath && rule.fieldPath.trim()) {
        const fp = resolveRuleFieldPath(rule.fieldPath.trim(), s);
        if (fp.path) field = nodePath ? (fp.path.startsWith('[') ? `${nodePath}${fp.path}` : `${nodePath}.${fp.path}`) : fp.path;
      }
      let detail: string | undefined;
      if (cr.messageProgram) {
        try {
          const m = cr.messageProgram.evaluate(vars);
          if (typeof m === 'string') {
            const t = m.trim();
            if (t && t.length <= 5000 && !/[\n]/.test(t)) detail = t;
          }
        } catch {
          // messageExpression failures fall back to message (logged upstream)
        }
      }
      detail ??= ruleMessageOrDefault(rule);
      errs.push(fieldErrorForReason(field, typeWord, detail, rule.reason));
    }
  }

  /**
   * Removes fields the schema does not specify (unless x-kubernetes-preserve-unknown-fields),
   * keeping apiVersion/kind/metadata at the root and in embedded resources; unknown ObjectMeta
   * fields of embedded resources are dropped too. Returns the removed paths, sorted.
   */
  prune(obj: any): string[] {
    const removed: string[] = [];
    const root = this.resourceRoot ? { ...this.schema, 'x-kubernetes-embedded-resource': true } : this.schema;
    pruneValue(obj, root, '', removed, true);
    return removed.sort();
  }

  /**
   * Applies defaults for missing fields (and nulls in non-nullable fields) recursively through
   * properties, additionalProperties and items; nulls of non-nullable fields without a default
   * are dropped first, as Kubernetes does before defaulting.
   */
  applyDefaults(obj: any): void {
    pruneNonNullableNulls(obj, this.schema);
    applyDefaultsTo(obj, this.schema);
  }
}

function ruleErrorString(rule: ValidationRule): string {
  return rule.message && rule.message.length ? rule.message.trim() : String(rule.rule).trim();
}

function ruleMessageOrDefault(rule: ValidationRule): string {
  return rule.message && rule.message.length ? rule.message.trim() : `failed rule: ${ruleErrorString(rule)}`;
}

function fieldErrorForReason(path: string, value: string, detail: string, reason?: string): FieldError {
  switch (reason) {
    case 'FieldValueForbidden': return fieldError.forbidden(path, detail);
    case 'FieldValueRequired': return fieldError.required(path, detail);
    case 'FieldValueDuplicate': return fieldError.duplicate(path, value);
    default: return fieldError.invalid(path, value, detail);
  }
}

/** The schema CEL sees at a resource root: apiVersion, kind and metadata.name/generateName added. */
function withTypeAndObjectMeta(s: any): any {
  return { ...s, properties: { ...(isObj(s.properties) ? s.properties : {}), ...ROOT_META_FIELDS } };
}

function restrictRootMeta(obj: any): any {
  if (!isObj(obj) || !isObj(obj.metadata)) return obj;
  const meta: Record<string, unknown> = {};
  if (obj.metadata.name !== undefined) meta.name = obj.metadata.name;
  if (obj.metadata.generateName !== undefined) meta.generateName = obj.metadata.generateName;
  return { ...obj, metadata: meta };
}

/** JSON pointer (ajv instancePath) to a Kubernetes field path: `spec.items[0].name`. */
function pointerToPath(root: any, pointer: string): string {
  if (!pointer) return '';
  let cur = root;
  let out = '';
  for (const raw of pointer.split('/').slice(1)) {
    const seg = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    if (Array.isArray(cur)) {
      out += `[${seg}]`;
      cur = cur[Number(seg)];
    } else {
      out = out ? `${out}.${seg}` : seg;
      cur = cur?.[seg];
    }
  }
  return out;
}

// --- pruning

function pruneValue(x: any, s: any, path: string, removed: string[], isRoot = false): void {
  if (isObj(s) && s['x-kubernetes-preserve-unknown-fields']) {
    skipPrune(x, s, path, removed, isRoot);
    return;
  }
  if (Array.isArray(x)) {
    x.forEach((v, i) => pruneValue(v, isObj(s) ? s.items : undefined, indexPath(path, i), removed));
    return;
  }
  if (!isObj(x)) return;
  for (const k of Object.keys(x)) {
    const v = x[k];
    if (isObj(s) && s['x-kubernetes-embedded-resource'] && keepMeta(k, v)) {
      if (k === 'metadata' && !isRoot) pruneEmbeddedMeta(v, childPath(path, k), removed);
      continue;
    }
    const prop = isObj(s) && isObj(s.properties) ? s.properties[k] : undefined;
    if (prop !== undefined) pruneValue(v, prop, childPath(path, k), removed);
    else if (isObj(s) && s.additionalProperties !== undefined && s.additionalProperties !== false) {
      pruneValue(v, isObj(s.additionalProperties) ? s.additionalProperties : undefined, childPath(path, k), removed);
    } else {
      removed.push(childPath(path, k));
      delete x[k];
    }
  }
}

function keepMeta(k: string, v: unknown): boolean {
  if (k === 'apiVersion' || k === 'kind') return typeof v === 'string';
  if (k === 'metadata') return isObj(v);
  return false;
}

function pruneEmbeddedMeta(meta: any, path: string, removed: string[]): void {
  for (const k of Object.keys(meta)) {
    if (!OBJECT_META_FIELDS.has(k)) {
      removed.push(childPath(path, k));
      delete meta[k];
    }
  }
}

function skipPrune(x: any, s: any, path: string, removed: string[], isRoot = false): void {
  if (!isObj(s)) return;
  if (Array.isArray(x)) {
    x.forEach((v, i) => skipPrune(v, s.items, indexPath(path, i), removed));
    return;
  }
  if (!isObj(x)) return;
  for (const k of Object.keys(x)) {
    const v = x[k];
    if (s['x-kubernetes-embedded-resource'] && keepMeta(k, v)) {
      if (k === 'metadata' && !isRoot) pruneEmbeddedMeta(v, childPath(path, k), removed);
      continue;
    }
    const prop = isObj(s.properties) ? s.properties[k] : undefined;
    if (prop !== undefined) pruneValue(v, prop, childPath(path, k), removed);
    else if (isObj(s.additionalProperties)) pruneValue(v, s.additionalProperties, childPath(path, k), removed);
  }
}

// --- defaulting

function schemaForField(s: any, k: string): any {
  if (!isObj(s)) return undefined;
  if (isObj(s.properties) && s.properties[k] !== undefined) return s.properties[k];
  if (isObj(s.additionalProperties)) return s.additionalProperties;
  return undefined;
}

function pruneNonNullableNulls(x: any, s: any): void {
  if (Array.isArray(x)) {
    for (const v of x) pruneNonNullableNulls(v, isObj(s) ? s.items : undefined);
    return;
  }
  if (!isObj(x)) return;
  for (const k of Object.keys(x)) {
    const sub = schemaForField(s, k);
    if (x[k] === null && isObj(sub) && !sub.nullable && sub.default === undefined) delete x[k];
    else pruneNonNullableNulls(x[k], sub);
  }
}

const isNonNullableNull = (v: unknown, s: any) => v === null && isObj(s) && !s.nullable;

function applyDefaultsTo(x: any, s: any): void {
  if (!isObj(s)) return;
  if (Array.isArray(x)) {
    for (let i = 0; i < x.length; i++) {
      if (isNonNullableNull(x[i], s.items) && s.items.default !== undefined) x[i] = deepClone(s.items.default);
      applyDefaultsTo(x[i], s.items);
    }
    return;
  }
  if (!isObj(x)) return;
  if (isObj(s.properties)) {
    for (const [k, prop] of Object.entries<any>(s.properties)) {
      if (!isObj(prop) || prop.default === undefined || prop.default === null) continue;
      if (!(k in x) || isNonNullableNull(x[k], prop)) x[k] = deepClone(prop.default);
    }
  }
  for (const k of Object.keys(x)) {
    if (isObj(s.properties) && s.properties[k] !== undefined) applyDefaultsTo(x[k], s.properties[k]);
    else if (isObj(s.additionalProperties)) {
      if (isNonNullableNull(x[k], s.additionalProperties) && s.additionalProperties.default !== undefined) x[k] = deepClone(s.additionalProperties.default);
      applyDefaultsTo(x[k], s.additionalProperties);
    }
  }
}

// --- x-kubernetes-list-type (set/map) duplicates

function validateListTypes(s: any, x: any, path: string): FieldError[] {
  const errs: FieldError[] = [];
  const walk = (s: any, x: any, path: string) => {
    if (!isObj(s) || x === null || x === undefined) return;
    if (Array.isArray(x)) {
      const lt = s['x-kubernetes-list-type'];
      if (lt === 'set') {
        x.forEach((v, i) => {
          if (x.slice(0, i).some((w) => jsonEqual(v, w))) errs.push(fieldError.duplicate(indexPath(path, i), v));
        });
      } else if (lt === 'map') {
        const keys: string[] = Array.isArray(s['x-kubernetes-list-map-keys']) ? s['x-kubernetes-list-map-keys'] : [];
        const keyOf = (v: any) => {
          const k: Record<string, unknown> = {};
          for (const name of keys) {
            const dv = isObj(v) && v[name] !== undefined ? v[name] : s.items?.properties?.[name]?.default;
            if (dv !== undefined) k[name] = dv;
          }
          return k;
        };
        x.forEach((v, i) => {
          const k = keyOf(v);
          if (x.slice(0, i).some((w) => jsonEqual(keyOf(w), k))) errs.push(fieldError.duplicate(indexPath(path, i), k));
        });
      }
      x.forEach((v, i) => walk(s.items, v, indexPath(path, i)));
      return;
    }
    if (!isObj(x)) return;
    for (const [k, v] of Object.entries(x)) {
      if (isObj(s.properties) && s.properties[k] !== undefined) walk(s.properties[k], v, childPath(path, k));
      else if (isObj(s.additionalProperties)) walk(s.additionalProperties, v, keyPath(path, k));
    }
  };
  walk(s, x, path);
  return errs;
}

// --- embedded resources (x-kubernetes-embedded-resource): apiVersion, kind and metadata

/** schema.ParseGroupVersion's error, or undefined. */
export function parseGroupVersionError(gv: string): string | undefined {
  if (gv === '' || gv === '/') return undefined;
  const n = gv.split('/').length - 1;
  if (n > 1) return `unexpected GroupVersion string: ${gv}`;
  return undefined;
}

/**
 * objectmeta.Validate: apiVersion and kind required (and well formed) and metadata valid in every
 * x-kubernetes-embedded-resource object (and in x itself when isResourceRoot).
 */
export function validateEmbeddedResources(s: any, x: any, path: string, isResourceRoot: boolean): FieldError[] {
  const errs: FieldError[] = [];
  const walk = (s: any, x: any, path: string, embedded: boolean) => {
    if (!isObj(s)) return;
    if (Array.isArray(x)) {
      x.forEach((v, i) => walk(s.items, v, indexPath(path, i), !!s.items?.['x-kubernetes-embedded-resource']));
      return;
    }
    if (!isObj(x)) return;
    if (embedded) errs.push(...validateEmbeddedResource(path, x));
    for (const [k, v] of Object.entries(x)) {
      if (isObj(s.properties) && s.properties[k] !== undefined) walk(s.properties[k], v, childPath(path, k), !!s.properties[k]?.['x-kubernetes-embedded-resource']);
      else if (isObj(s.additionalProperties)) walk(s.additionalProperties, v, keyPath(path, k), !!s.additionalProperties['x-kubernetes-embedded-resource']);
    }
  };
  walk(s, x, path, isResourceRoot);
  return errs;
}

function validateEmbeddedResource(path: string, x: Record<string, any>): FieldError[] {
  const errs: FieldError[] = [];
  if (!('apiVersion' in x)) errs.push(fieldError.required(childPath(path, 'apiVersion'), ''));
  if (!('kind' in x)) errs.push(fieldError.required(childPath(path, 'kind'), ''));
  for (const [k, v] of Object.entries(x)) {
    if (k === 'apiVersion') {
      if (typeof v !== 'string') errs.push(fieldError.invalid(childPath(path, k), v, 'must be a string'));
      else if (!v) errs.push(fieldError.required(childPath(path, k), ''));
      else {
        const e = parseGroupVersionError(v);
        if (e) errs.push(fieldError.invalid(childPath(path, k), v, e));
      }
    } else if (k === 'kind') {
      if (typeof v !== 'string') errs.push(fieldError.invalid(childPath(path, k), v, 'must be a string'));
      else if (!v) errs.push(fieldError.required(childPath(path, k), ''));
      else {
        const e = isDNS1035Label(v.toLowerCase());
        if (e.length) errs.push(fieldError.invalid(childPath(path, k), v, `may have mixed case, but should otherwise match: ${e.join(',')}`));
      }
    } else if (k === 'metadata') {
      if (!isObj(v)) {
        errs.push(fieldError.invalid(childPath(path, k), v, 'must be an object'));
        continue;
      }
      const meta: Record<string, any> = { ...v, name: v.name || 'fakename' };
      errs.push(...validateObjectMeta(meta, { namespaced: meta.namespace ? true : undefined, nameFn: nameIsPathSegment, kubeFinalizers: false }, childPath(path, 'metadata')));
    }
  }
  return errs;
}
