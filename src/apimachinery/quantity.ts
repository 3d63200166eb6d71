/**
 * Kubernetes resource quantities (k8s.io/apimachinery/pkg/api/resource), as the API server
 * parses and prints them. A quantity is an exact decimal: sign × mantissa × 10^scale, kept in
 * BigInt so nothing is lost to floating point. On write Kubernetes always re-serializes a
 * quantity in canonical form (`0.5` → `500m`, `1024Mi` → `1Gi`, `1000` → `1k`); resource lists
 * are also rounded up to milli precision by defaulting (`100u` → `1m`).
 *
 * Written from the documented behaviour of resource.Quantity; no code copied.
 */

export type QuantityFormat = 'DecimalSI' | 'BinarySI' | 'DecimalExponent';

export interface Quantity {
  /** -1 for negative values, 1 otherwise (zero is positive). */
  sign: 1 | -1;
  /** Absolute unscaled value. */
  mantissa: bigint;
  /** Power of ten: value = sign × mantissa × 10^scale. */
  scale: number;
  /** The format the quantity will be printed in (the suffix family it was written with). */
  format: QuantityFormat;
}

/** The message the API server gives for an unparseable quantity (resource.ErrFormatWrong). */
export const QUANTITY_FORMAT_ERROR = "quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'";
/** resource.ErrSuffix. */
export const QUANTITY_SUFFIX_ERROR = "unable to parse quantity's suffix";

const DECIMAL_SUFFIXES: Record<string, number> = { n: -9, u: -6, m: -3, '': 0, k: 3, M: 6, G: 9, T: 12, P: 15, E: 18 };
const BINARY_SUFFIXES: Record<string, number> = { Ki: 10, Mi: 20, Gi: 30, Ti: 40, Pi: 50, Ei: 60 };
const DECIMAL_BY_EXPONENT: Record<number, string> = { [-9]: 'n', [-6]: 'u', [-3]: 'm', 0: '', 3: 'k', 6: 'M', 9: 'G', 12: 'T', 15: 'P', 18: 'E' };
const BINARY_BY_POWER = ['', 'Ki', 'Mi', 'Gi', 'Ti', 'Pi', 'Ei'];
const MAX_INT64 = (1n << 63n) - 1n;

const pow10 = (n: number): bigint => 10n ** BigInt(n);
const isDigit = (c: string | undefined) => c !== undefined && c >= '0' && c <= '9';

interface Split { positive: boolean; num: string; denom: string; suffix: string }

/** Splits a quantity string into sign, integer digits, fraction digits and suffix, or returns an error message. */
function splitQuantity(str: string): Split | string {
  let pos = 0;
  const end = str.length;
  let positive = true;
  if (str[0] === '-') { positive = false; pos++; } else if (str[0] === '+') pos++;
  // leading zeros
  while (pos < end && str[pos] === '0') pos++;
  if (pos >= end) return { positive, num: '0', denom: '', suffix: '' };
  const numStart = pos;
  while (pos < end && isDigit(str[pos])) pos++;
  let num = str.slice(numStart, pos);
  if (num === '') num = '0';
  let denom = '';
  if (pos < end && str[pos] === '.') {
    pos++;
    const denomStart = pos;
    while (pos < end && isDigit(str[pos])) pos++;
    denom = str.slice(denomStart, pos);
  }
  if (pos >= end) return { positive, num, denom, suffix: '' };
  const suffixStart = pos;
  while (pos < end && 'eEinumkKMGTP'.includes(str[pos])) pos++;
  if (pos < end && (str[pos] === '-' || str[pos] === '+')) pos++;
  while (pos < end && isDigit(str[pos])) pos++;
  if (pos < end) return QUANTITY_FORMAT_ERROR;
  return { positive, num, denom, suffix: str.slice(suffixStart) };
}

function interpretSuffix(s: string): { base: 10 | 2; exponent: number; format: QuantityFormat } | undefined {
  if (s in DECIMAL_SUFFIXES) return { base: 10, exponent: DECIMAL_SUFFIXES[s], format: 'DecimalSI' };
  if (s in BINARY_SUFFIXES) return { base: 2, exponent: BINARY_SUFFIXES[s], format: 'BinarySI' };
  if (s.length > 1 && (s[0] === 'e' || s[0] === 'E') && /^[+-]?[0-9]+$/.test(s.slice(1))) {
    const exponent = Number(s.slice(1));
    if (!Number.isSafeInteger(exponent) || Math.abs(exponent) > 2 ** 31) return undefined;
    return { base: 10, exponent, format: 'DecimalExponent' };
  }
  return undefined;
}

/** Parses a quantity exactly; returns an error message string when it is not a valid quantity. */
export function parseQuantityOrError(input: string | number): Quantity | string {
  const str = (typeof input === 'number' ? String(input) : String(input)).trim();
  if (str.length === 0) return QUANTITY_FORMAT_ERROR;
  if (str === '0') return { sign: 1, mantissa: 0n, scale: 0, format: 'DecimalSI' };
  const parts = splitQuantity(str);
  if (typeof parts === 'string') return parts;
  const suffix = interpretSuffix(parts.suffix);
  if (!suffix) return QUANTITY_SUFFIX_ERROR;
  let mantissa = BigInt(parts.num + parts.denom);
  let scale = -parts.denom.length;
  let format = suffix.format;
  if (suffix.base === 10) scale += suffix.exponent;
  else mantissa *= 1n << BigInt(suffix.exponent);
  // Anything finer than nano is rounded up (away from zero) to the next nano.
  if (mantissa !== 0n && scale < -9) {
    const f = pow10(-9 - scale);
    mantissa = (mantissa + f - 1n) / f;
    scale = -9;
  }
  if (format === 'BinarySI') {
    if (compareAbs(mantissa, scale, MAX_INT64, 0) > 0) { mantissa = MAX_INT64; scale = 0; }
    // Fractional binary quantities below one print as decimal.
    if (mantissa !== 0n && compareAbs(mantissa, scale, 1n, 0) < 0) format = 'DecimalSI';
  }
  const sign: 1 | -1 = parts.positive || mantissa === 0n ? 1 : -1;
  return { sign, mantissa, scale, format };
}

/** Parses a quantity exactly, or undefined if it is not one. */
export function parseQuantityExact(input: string | number): Quantity | undefined {
  const q = parseQuantityOrError(input);
  return typeof q === 'string' ? undefined : q;
}

/** Parses a quantity; `value` is in base units (cores, bytes) and may be fractional. */
export function parseQuantity(input: string | number): { value: number; quantity: Quantity } | undefined {
  const q = parseQuantityExact(input);
  if (!q) return undefined;
  return { value: quantityToNumber(q), quantity: q };
}

export function quantityToNumber(q: Quantity): number {
  return q.sign * Number(q.mantissa) * 10 ** q.scale;
}

function compareAbs(m1: bigint, s1: number, m2: bigint, s2: number): number {
  const s = Math.min(s1, s2);
  const a = m1 * pow10(s1 - s);
  const b = m2 * pow10(s2 - s);
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Compares two quantities by value: -1, 0 or 1. */
export function compareQuantities(a: Quantity, b: Quantity): -1 | 0 | 1 {
  const s = Math.min(a.scale, b.scale);
  const x = BigInt(a.sign) * a.mantissa * pow10(a.scale - s);
  const y = BigInt(b.sign) * b.mantissa * pow10(b.scale - s);
  return x < y ? -1 : x > y ? 1 : 0;
}

export const isZeroQuantity = (q: Quantity) => q.mantissa === 0n;
export const quantitySign = (q: Quantity): -1 | 0 | 1 => (q.mantissa === 0n ? 0 : q.sign);

/** Rounds away from zero to a multiple of 10^scale (resource.Quantity.RoundUp). */
export function roundUpQuantity(q: Quantity, scale: number): Quantity {
  if (q.scale >= scale || q.mantissa === 0n) return q;
  const f = pow10(scale - q.scale);
  return { ...q, mantissa: (q.mantissa + f - 1n) / f, scale };
}

/** The value in thousandths of a base unit, rounded up (Quantity.MilliValue). */
export function quantityMilliValue(q: Quantity): bigint {
  const r = roundUpQuantity(q, -3);
  const v = r.scale >= -3 ? r.mantissa * pow10(r.scale + 3) : r.mantissa;
  return BigInt(r.sign) * v;
}

/** The value in base units, rounded up (Quantity.Value). */
export function quantityIntValue(q: Quantity): bigint {
  const r = roundUpQuantity(q, 0);
  return BigInt(r.sign) * (r.scale >= 0 ? r.mantissa * pow10(r.scale) : r.mantissa);
}

/** True if the value is a whole number of base units. */
export function isIntegerQuantity(q: Quantity): boolean {
  if (q.scale >= 0 || q.mantissa === 0n) return true;
  return q.mantissa % pow10(-q.scale) === 0n;
}

/** Prints a quantity the way the API server serializes it. */
export function formatQuantity(q: Quantity): string {
  if (q.mantissa === 0n) return '0';
  const sign = q.sign < 0 ? '-' : '';
  let format = q.format;
  if (format === 'BinarySI') {
    if (compareAbs(q.mantissa, q.scale, 1024n, 0) < 0) format = 'DecimalSI';
    else if (!isIntegerQuantity(q)) format = 'DecimalSI';
  }
  if (format === 'BinarySI') {
    let v = q.scale >= 0 ? q.mantissa * pow10(q.scale) : q.mantissa / pow10(-q.scale);
    let power = 0;
    while (v % 1024n === 0n && power < BINARY_BY_POWER.length - 1) { v /= 1024n; power++; }
    return `${sign}${v}${BINARY_BY_POWER[power]}`;
  }
  // Decimal: strip factors of ten, then lower the exponent to a multiple of three.
  let m = q.mantissa;
  let e = q.scale;
  while (m % 10n === 0n) { m /= 10n; e++; }
  const r = ((e % 3) + 3) % 3;
  if (r) { m *= pow10(r); e -= r; }
  if (format === 'DecimalExponent') return `${sign}${m}${e === 0 ? '' : `e${e}`}`;
  const suffix = DECIMAL_BY_EXPONENT[e];
  if (suffix === undefined) return `${sign}${m}e${e}`;
  return `${sign}${m}${suffix}`;
}

/** The canonical form of a quantity string, or undefined if it does not parse. */
export function canonicalQuantity(input: string | number): string | undefined {
  const q = parseQuantityExact(input);
  return q ? formatQuantity(q) : undefined;
}

/**
 * The canonical form after the milli rounding Kubernetes applies to every resource list
 * (SetDefaults_ResourceList), or undefined if it does not parse.
 */
export function canonicalResourceQuantity(input: string | number): string | undefined {
  const q = parseQuantityExact(input);
  return q ? formatQuantity(roundUpQuantity(q, -3)) : undefined;
}
