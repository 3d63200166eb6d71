/**
 * Durations and timestamps as Kubernetes prints them in tables (k8s.io/apimachinery/pkg/util/duration
 * and the printers' translateTimestampSince). Durations are in milliseconds; Go's integer conversions
 * truncate toward zero, and so do these.
 */

const SECOND = 1000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;

const trunc = Math.trunc;

/**
 * HumanDuration: about two or three significant figures.
 *   < -1s: "<invalid>"; (-2s, 0s): "0s"; < 2m: "Ns"; < 10m: "NmSs" (or "Nm");
 *   < 3h: "Nm"; < 8h: "NhMm" (or "Nh"); < 48h: "Nh"; < 8d: "NdHh" (or "Nd"); < 2y: "Nd";
 *   < 8y: "NyDd" (or "Ny"); else "Ny".
 */
export function humanDuration(ms: number): string {
  const seconds = trunc(ms / SECOND);
  if (seconds < -1) return '<invalid>';
  if (seconds < 0) return '0s';
  if (seconds < 60 * 2) return `${seconds}s`;
  const minutes = trunc(ms / MINUTE);
  if (minutes < 10) {
    const s = seconds % 60;
    return s === 0 ? `${minutes}m` : `${minutes}m${s}s`;
  }
  if (minutes < 60 * 3) return `${minutes}m`;
  const hours = trunc(ms / HOUR);
  if (hours < 8) {
    const m = minutes % 60;
    return m === 0 ? `${hours}h` : `${hours}h${m}m`;
  }
  if (hours < 48) return `${hours}h`;
  const days = trunc(hours / 24);
  if (hours < 24 * 8) {
    const h = hours % 24;
    return h === 0 ? `${days}d` : `${days}d${h}h`;
  }
  if (hours < 24 * 365 * 2) return `${days}d`;
  const years = trunc(days / 365);
  if (hours < 24 * 365 * 8) {
    const dy = days % 365;
    return dy === 0 ? `${years}y` : `${years}y${dy}d`;
  }
  return `${years}y`;
}

/** ShortHumanDuration: one unit only ("5s", "3m", "7h", "12d", "2y"). */
export function shortHumanDuration(ms: number): string {
  const seconds = trunc(ms / SECOND);
  if (seconds < -1) return '<invalid>';
  if (seconds < 0) return '0s';
  if (seconds < 60) return `${seconds}s`;
  const minutes = trunc(ms / MINUTE);
  if (minutes < 60) return `${minutes}m`;
  const hours = trunc(ms / HOUR);
  if (hours < 24) return `${hours}h`;
  if (hours < 24 * 365) return `${trunc(hours / 24)}d`;
  return `${trunc(hours / 24 / 365)}y`;
}

/** Go's zero time.Time (0001-01-01T00:00:00Z), which metav1.Time.IsZero reports as zero. */
const GO_ZERO_TIME = Date.parse('0001-01-01T00:00:00Z');

/**
 * Milliseconds since the epoch of a metav1.Time / MicroTime value, or undefined for a zero,
 * missing or unparseable time (what IsZero would report, for printing purposes).
 */
export function parseTime(v: unknown): number | undefined {
  if (typeof v !== 'string' || v === '') return undefined;
  const t = Date.parse(v);
  if (Number.isNaN(t) || t === GO_ZERO_TIME) return undefined;
  return t;
}

/** translateTimestampSince: "<unknown>" for a zero time, otherwise the HumanDuration since it. */
export function translateTimestampSince(ts: unknown, now: number): string {
  const t = parseTime(ts);
  if (t === undefined) return '<unknown>';
  return humanDuration(now - t);
}

/** translateTimestampUntil: "<unknown>" for a zero time, otherwise the HumanDuration until it. */
export function translateTimestampUntil(ts: unknown, now: number): string {
  const t = parseTime(ts);
  if (t === undefined) return '<unknown>';
  return humanDuration(t - now);
}
