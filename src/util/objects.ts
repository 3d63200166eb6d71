/** Small helpers for plain JSON values. */

/** Structural equality of JSON values (key order ignored). */
export function deepEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== typeof b || a === null || b === null || typeof a !== 'object') return false;
  if (Array.isArray(a)) {
    if (!Array.isArray(b) || a.length !== b.length) return false;
    for (let i = 0; i < a.length; i++) if (!deepEqual(a[i], b[i])) return false;
    return true;
  }
  if (Array.isArray(b)) return false;
  const ak = Object.keys(a as object).filter((k) => (a as any)[k] !== undefined);
  const bk = Object.keys(b as object).filter((k) => (b as any)[k] !== undefined);
  if (ak.length !== bk.length) return false;
  for (const k of ak) if (!deepEqual((a as any)[k], (b as any)[k])) return false;
  return true;
}

/** Deep copy of a JSON value. */
export function clone<T>(v: T): T {
  return v === undefined ? v : structuredClone(v);
}

/** RFC 3339 with second precision, as metav1.Time serializes. */
export function nowRFC3339(d = new Date()): string {
  return d.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** RFC 3339 with microseconds, as metav1.MicroTime serializes. */
export function nowMicro(d = new Date()): string {
  return d.toISOString().replace(/Z$/, '000Z');
}

export const isObject = (v: unknown): v is Record<string, any> => typeof v === 'object' && v !== null && !Array.isArray(v);
