/**
 * Cron schedules as CronJobs use them: five fields (minute hour day-of-month month day-of-week)
 * with `*`, `?`, lists, ranges, steps (`*\/5`, `1-10/2`, `3/4` = from 3 to the maximum) and the
 * names JAN-DEC / SUN-SAT (day-of-week 7 is also Sunday), or one of @yearly (@annually),
 * @monthly, @weekly, @daily (@midnight) and @hourly. A `CRON_TZ=<zone>` or `TZ=<zone>` prefix, or
 * the zone passed in (spec.timeZone), makes the fields wall-clock times in that IANA zone
 * (resolved with Intl); default UTC.
 *
 * Day-of-month and day-of-week: when both are restricted (neither is `*`/`?`) a day matches if
 * either does, as in classic cron; otherwise both must.
 *
 * Daylight saving: a wall time that does not exist in the zone (spring forward) is skipped; one
 * that occurs twice (fall back) fires at its first occurrence after the given instant.
 */

interface Field { min: number; max: number; names?: string[] }
const FIELDS: Field[] = [
  { min: 0, max: 59 },
  { min: 0, max: 23 },
  { min: 1, max: 31 },
  { min: 1, max: 12, names: ['JAN', 'FEB', 'MAR', 'APR', 'MAY', 'JUN', 'JUL', 'AUG', 'SEP', 'OCT', 'NOV', 'DEC'] },
  { min: 0, max: 7, names: ['SUN', 'MON', 'TUE', 'WED', 'THU', 'FRI', 'SAT'] },
];
const DESCRIPTORS: Record<string, string> = {
  '@yearly': '0 0 1 1 *', '@annually': '0 0 1 1 *', '@monthly': '0 0 1 * *', '@weekly': '0 0 * * 0',
  '@daily': '0 0 * * *', '@midnight': '0 0 * * *', '@hourly': '0 * * * *',
};
const MINUTE = 60_000;
/** How far ahead next() looks before giving up (a schedule like "0 0 30 2 *" never fires). */
const SEARCH_YEARS = 5;

export class Schedule {
  private constructor(
    readonly minutes: Set<number>, readonly hours: Set<number>, readonly doms: Set<number>,
    readonly months: Set<number>, readonly dows: Set<number>,
    readonly domStar: boolean, readonly dowStar: boolean, readonly timeZone: string,
  ) {}

  /** Parses a schedule; throws an Error describing what is wrong. `timeZone` is spec.timeZone. */
  static parse(spec: string, timeZone?: string): Schedule {
    let s = spec.trim();
    let tz = timeZone || 'UTC';
    const m = /^(?:CRON_TZ|TZ)=(\S+)\s+(.*)$/.exec(s);
    if (m) { tz = m[1]; s = m[2].trim(); }
    checkZone(tz);
    if (s.startsWith('@')) {
      const d = DESCRIPTORS[s.toLowerCase()];
      if (!d) throw new Error(`unrecognized descriptor: ${s}`);
      s = d;
    }
    const parts = s.split(/\s+/);
    if (parts.length !== 5) throw new Error(`expected exactly 5 fields, found ${parts.length}: ${JSON.stringify(spec)}`);
    const sets = parts.map((p, i) => parseField(p, FIELDS[i]));
    const dows = sets[4].values;
    if (dows.has(7)) { dows.delete(7); dows.add(0); }
    return new Schedule(sets[0].values, sets[1].values, sets[2].values, sets[3].values, dows, sets[2].star, sets[4].star, tz);
  }

  /** The first scheduled instant strictly after `after`; undefined if none within 5 years. */
  next(after: Date): Date | undefined {
    const t = after.getTime();
    // Walk wall-clock minutes from a little before `after` (a repeated hour may map a wall time
    // before wall(after) to an instant after it) and keep the earliest instant past `after`.
    let wall = Math.floor(wallOf(t, this.timeZone) / MINUTE) * MINUTE - (nearTransition(t, this.timeZone) ? 3 * 60 * MINUTE : 0);
    const limit = wall + SEARCH_YEARS * 366 * 24 * 60 * MINUTE;
    let best: number | undefined;
    let bestWall = 0;
    while (wall <= limit) {
      // Past the first match, only a nearby offset change (DST) can still yield an earlier instant.
      if (best !== undefined && (wall > bestWall + 4 * 60 * MINUTE || !nearTransition(best, this.timeZone))) break;
      const d = new Date(wall);
      if (!this.months.has(d.getUTCMonth() + 1)) {
        wall = Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 1);
        continue;
      }
      if (!this.dayMatches(d)) {
        wall = Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate() + 1);
        continue;
      }
      if (!this.hours.has(d.getUTCHours())) {
        wall = Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate(), d.getUTCHours() + 1);
        continue;
      }
      if (this.minutes.has(d.getUTCMinutes())) {
        for (const inst of instantsOf(wall, this.timeZone)) {
          if (inst > t && (best === undefined || inst < best)) { best = inst; bestWall = wall; }
        }
      }
      wall += MINUTE;
    }
    return best === undefined ? undefined : new Date(best);
  }

  private dayMatches(d: Date): boolean {
    const dom = this.doms.has(d.getUTCDate());
    const dow = this.dows.has(d.getUTCDay());
    return this.domStar || this.dowStar ? dom && dow : dom || dow;
  }
}

function parseField(expr: string, f: Field): { values: Set<number>; star: boolean } {
  const values = new Set<number>();
  let star = false;
  for (const part of expr.split(',')) {
    const [rangePart, stepPart, extra] = part.split('/');
    if (extra !== undefined || rangePart === '') throw new Error(`invalid field: ${JSON.stringify(expr)}`);
    let step = 1;
    if (stepPart !== undefined) {
      if (!/^\d+$/.test(stepPart) || Number(stepPart) < 1) throw new Error(`invalid step: ${JSON.stringify(part)}`);
      step = Number(stepPart);
    }
    let lo: number;
    let hi: number;
    if (rangePart === '*' || rangePart === '?') {
      lo = f.min; hi = f.max === 7 ? 6 : f.max;
      if (step === 1) star = true;
    } else {
      const [a, b, more] = rangePart.split('-');
      if (more !== undefined) throw new Error(`invalid range: ${JSON.stringify(part)}`);
      lo = value(a, f);
      hi = b !== undefined ? value(b, f) : stepPart !== undefined ? (f.max === 7 ? 6 : f.max) : lo;
      if (lo > hi) throw new Error(`beginning of range (${lo}) beyond end of range (${hi}): ${JSON.stringify(part)}`);
    }
    for (let v = lo; v <= hi; v += step) values.add(v);
  }
  return { values, star };
}

function value(s: string, f: Field): number {
  const i = f.names?.indexOf(s.toUpperCase()) ?? -1;
  const v = i >= 0 ? i + (f.names!.length === 12 ? 1 : 0) : /^\d+$/.test(s) ? Number(s) : NaN;
  if (Number.isNaN(v)) throw new Error(`failed to parse int from ${JSON.stringify(s)}`);
  if (v < f.min || v > f.max) throw new Error(`value (${v}) out of range [${f.min}, ${f.max}]`);
  return v;
}

// ---- time zones through Intl --------------------------------------------------------------------

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatter(tz: string): Intl.DateTimeFormat {
  let f = formatters.get(tz);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', { timeZone: tz, hourCycle: 'h23', year: 'numeric', month: 'numeric', day: 'numeric', hour: 'numeric', minute: 'numeric', second: 'numeric' });
    formatters.set(tz, f);
  }
  return f;
}

/** Throws if `tz` is not a zone Intl knows. */
export function checkZone(tz: string): void {
  try {
    formatter(tz);
  } catch {
    throw new Error(`unknown time zone ${JSON.stringify(tz)}`);
  }
}

/** The wall-clock time of instant `t` in `tz`, expressed as if it were UTC (ms). */
export function wallOf(t: number, tz: string): number {
  if (tz === 'UTC') return t;
  const p: Record<string, number> = {};
  for (const part of formatter(tz).formatToParts(new Date(t))) if (part.type !== 'literal') p[part.type] = Number(part.value);
  return Date.UTC(p.year, p.month - 1, p.day, p.hour, p.minute, p.second) + (t % 1000 + 1000) % 1000;
}

function nearTransition(t: number, tz: string): boolean {
  const h3 = 3 * 60 * MINUTE;
  return tz !== 'UTC' && wallOf(t - h3, tz) - (t - h3) !== wallOf(t + h3, tz) - (t + h3);
}

/** Every instant whose wall-clock time in `tz` is `wall` (none in a gap, two in an overlap). */
function instantsOf(wall: number, tz: string): number[] {
  if (tz === 'UTC') return [wall];
  const out = new Set<number>();
  for (const probe of [wall - 86_400_000, wall, wall + 86_400_000]) {
    const offset = wallOf(probe, tz) - probe;
    const inst = wall - offset;
    if (wallOf(inst, tz) === wall) out.add(inst);
  }
  return [...out].sort((a, b) => a - b);
}

/** RFC 3339 of `t` in `tz` (with its offset; "Z" for UTC), as the scheduled-timestamp annotation. */
export function formatInZone(t: Date, tz: string): string {
  if (tz === 'UTC') return t.toISOString().replace(/\.\d{3}Z$/, 'Z');
  const wall = wallOf(t.getTime(), tz);
  const off = Math.round((wall - t.getTime()) / MINUTE);
  const base = new Date(wall).toISOString().replace(/\.\d{3}Z$/, '');
  const sign = off < 0 ? '-' : '+';
  const a = Math.abs(off);
  return `${base}${sign}${String(Math.floor(a / 60)).padStart(2, '0')}:${String(a % 60).padStart(2, '0')}`;
}
