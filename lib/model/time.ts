/**
 * Window arithmetic for aggregated range queries, shared by every store backend. No I/O.
 *
 * Windows of a day or longer (whole days only) start at local midnight in the query's time zone, so a
 * DST day is 23 or 25 hours long; multi-day windows are aligned to local day numbers counted from
 * 1970-01-01 (like InfluxDB's epoch alignment). Shorter windows align to multiples of `every` counted
 * from each local midnight: a window never spans a local midnight (the last window of a day is cut
 * short when `every` does not divide the day).
 */

export const SECOND_MS = 1000;
export const MINUTE_MS = 60 * SECOND_MS;
export const HOUR_MS = 60 * MINUTE_MS;
export const DAY_MS = 24 * HOUR_MS;
/** The most windows one query may produce. */
export const MAX_WINDOWS = 100_000;

/** A local calendar date and wall-clock time; month 1-12. */
export interface LocalTime {
  year: number;
  month: number;
  day: number;
  hour: number;
  minute: number;
  second: number;
  millisecond: number;
}

const formatters = new Map<string, Intl.DateTimeFormat>();

function isUtc(timeZone: string | undefined): boolean {
  return timeZone === undefined || timeZone === '' || timeZone === 'UTC' || timeZone === 'Etc/UTC';
}

function formatter(timeZone: string): Intl.DateTimeFormat {
  let f = formatters.get(timeZone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone, hourCycle: 'h23', year: 'numeric', month: 'numeric', day: 'numeric',
      hour: 'numeric', minute: 'numeric', second: 'numeric',
    });
    formatters.set(timeZone, f);
  }
  return f;
}

/** True when `timeZone` is an IANA zone name this runtime knows (e.g. "Europe/Berlin", "UTC"). */
export function isValidTimeZone(timeZone: unknown): timeZone is string {
  if (typeof timeZone !== 'string' || timeZone.trim() === '') return false;
  try {
    formatter(timeZone);
    return true;
  } catch {
    return false;
  }
}

/** The zone this process runs in (Intl's resolved zone), "UTC" when unknown. */
export function systemTimeZone(): string {
  try {
    return Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC';
  } catch {
    return 'UTC';
  }
}

/** Local date and time from Intl (slow: about 10 µs a call); the offset cache below calls it once per hour of time seen. */
function intlLocal(time: number, timeZone: string): LocalTime {
  const parts: Record<string, number> = {};
  for (const p of formatter(timeZone).formatToParts(new Date(time))) {
    if (p.type !== 'literal') parts[p.type] = Number(p.value);
  }
  return {
    year: parts.year, month: parts.month, day: parts.day, hour: parts.hour, minute: parts.minute,
    second: parts.second, millisecond: ((time % 1000) + 1000) % 1000,
  };
}

function intlOffset(time: number, timeZone: string): number {
  return wallMs(intlLocal(time, timeZone)) - time;
}

/**
 * Offsets per zone and UTC hour: an hour whose first and last millisecond have the same offset has it
 * throughout (zones change at most once in an hour), so one Intl call serves every instant in it. Hours
 * holding a change are not cached. Bounded: a zone's map is cleared past OFFSET_CACHE_MAX hours.
 */
const offsetCache = new Map<string, Map<number, number>>();
const OFFSET_CACHE_MAX = 200_000;

let cacheOffsets = true;

/** Turns the offset cache off (every call asks Intl, as before the cache) or on; for benchmarks and tests. */
export function useOffsetCache(on: boolean): void {
  cacheOffsets = on;
  offsetCache.clear();
}

function zoneOffset(time: number, timeZone: string): number {
  if (!cacheOffsets) return intlOffset(time, timeZone);
  let byHour = offsetCache.get(timeZone);
  if (!byHour) offsetCache.set(timeZone, (byHour = new Map()));
  const h = Math.floor(time / HOUR_MS);
  const cached = byHour.get(h);
  if (cached !== undefined) return cached;
  const start = intlOffset(h * HOUR_MS, timeZone);
  if (intlOffset(h * HOUR_MS + HOUR_MS - 1, timeZone) !== start) return intlOffset(time, timeZone);
  if (byHour.size >= OFFSET_CACHE_MAX) byHour.clear();
  byHour.set(h, start);
  return start;
}

/** Local date and time of an instant in a zone (absent = UTC). */
export function toLocal(time: number, timeZone?: string): LocalTime {
  const d = new Date(isUtc(timeZone) ? time : time + zoneOffset(time, timeZone!));
  return {
    year: d.getUTCFullYear(), month: d.getUTCMonth() + 1, day: d.getUTCDate(),
    hour: d.getUTCHours(), minute: d.getUTCMinutes(), second: d.getUTCSeconds(), millisecond: d.getUTCMilliseconds(),
  };
}

/** UTC offset of the zone at an instant, in ms (Berlin in winter: +3600000). */
export function offsetAt(time: number, timeZone?: string): number {
  return isUtc(timeZone) ? 0 : zoneOffset(time, timeZone!);
}

function wallMs(l: LocalTime): number {
  return Date.UTC(l.year, l.month - 1, l.day, l.hour, l.minute, l.second, l.millisecond);
}

/**
 * The instant a local wall-clock time happens in a zone. An ambiguous time (the repeated hour when
 * clocks go back) gives the earlier instant; a time skipped when clocks go forward gives the instant
 * of the jump plus the skipped part (02:30 on a spring-forward day at 02:00 -> 03:30), as JS Dates do.
 */
export function fromLocal(l: LocalTime, timeZone?: string): number {
  const wall = wallMs(l);
  if (isUtc(timeZone)) return wall;
  // Two candidates: the offsets just before and just after the wall time; prefer the earlier instant
  // that maps back to the same wall time.
  const o1 = offsetAt(wall - DAY_MS / 2, timeZone);
  const o2 = offsetAt(wall + DAY_MS / 2, timeZone);
  const candidates = [wall - Math.max(o1, o2), wall - Math.min(o1, o2)];
  for (const t of candidates) {
    if (t + offsetAt(t, timeZone) === wall) return t;
  }
  // Skipped wall time: apply the offset in force before the jump.
  return wall - o1;
}

/** Days since 1970-01-01 of a local calendar date. */
function dayNumber(year: number, month: number, day: number): number {
  return Math.floor(Date.UTC(year, month - 1, day) / DAY_MS);
}

function dateOfDayNumber(n: number): { year: number; month: number; day: number } {
  const d = new Date(n * DAY_MS);
  return { year: d.getUTCFullYear(), month: d.getUTCMonth() + 1, day: d.getUTCDate() };
}

/** The first instant of local day number `n` (usually local midnight). */
function dayStart(n: number, timeZone?: string): number {
  const { year, month, day } = dateOfDayNumber(n);
  const t = fromLocal({ year, month, day, hour: 0, minute: 0, second: 0, millisecond: 0 }, timeZone);
  if (isUtc(timeZone)) return t;
  // Where midnight itself is skipped (a few zones change at 00:00), the day starts at the jump:
  // the earliest instant whose local date is this day. fromLocal then lands after it; search back.
  const l = toLocal(t, timeZone);
  if (l.hour === 0 && l.minute === 0 && l.second === 0) return t;
  let lo = t - 3 * HOUR_MS;
  let hi = t;
  while (hi - lo > 1000) {
    const mid = Math.floor((lo + hi) / 2 / 1000) * 1000;
    const m = toLocal(mid, timeZone);
    if (dayNumber(m.year, m.month, m.day) >= n) hi = mid;
    else lo = mid;
  }
  return hi;
}

function localDayNumber(time: number, timeZone?: string): number {
  const l = toLocal(time, timeZone);
  return dayNumber(l.year, l.month, l.day);
}

/** Checks a window length; returns a message naming the problem, or null. */
export function everyProblem(every: number): string | null {
  if (!Number.isFinite(every) || every <= 0 || !Number.isInteger(every)) return `window length must be a positive whole number of ms, got ${every}`;
  if (every >= DAY_MS && every % DAY_MS !== 0) return `a window of a day or longer must be whole days, got ${every} ms`;
  return null;
}

/** The start of the window that contains `time`. */
export function windowStartOf(time: number, every: number, timeZone?: string): number {
  const problem = everyProblem(every);
  if (problem) throw new RangeError(problem);
  let n = localDayNumber(time, timeZone);
  if (every >= DAY_MS) {
    const days = every / DAY_MS;
    n -= ((n % days) + days) % days;
    return dayStart(n, timeZone);
  }
  let start = dayStart(n, timeZone);
  if (start > time) start = dayStart(--n, timeZone); // time falls before the day's first instant (skipped midnight)
  return start + Math.floor((time - start) / every) * every;
}

/**
 * Window boundaries covering [from, to): b[0] <= from < b[1] < ... < b[n-1] < to <= b[n]. Window i is
 * [b[i], b[i+1]); there are b.length - 1 windows. Throws a RangeError when there would be more than
 * `maxWindows` windows or the arguments are not usable.
 */
export function windowBoundaries(from: number, to: number, every: number, timeZone?: string, maxWindows = MAX_WINDOWS): number[] {
  const problem = everyProblem(every);
  if (problem) throw new RangeError(problem);
  if (!Number.isFinite(from) || !Number.isFinite(to) || to <= from) throw new RangeError(`window range must have to > from, got from ${from} to ${to}`);
  // A cheap bound before the walk (DST changes the count by at most a window per day).
  const estimate = Math.ceil((to - from) / every);
  if (estimate > maxWindows + Math.ceil((to - from) / DAY_MS) + 1) throw new RangeError(`${estimate} windows of ${every} ms, at most ${maxWindows}`);
  const out: number[] = [];
  const push = (b: number): void => {
    out.push(b);
    if (out.length > maxWindows + 1) throw new RangeError(`more than ${maxWindows} windows of ${every} ms`);
  };
  if (every >= DAY_MS) {
    const days = every / DAY_MS;
    let n = localDayNumber(from, timeZone);
    n -= ((n % days) + days) % days;
    let b = dayStart(n, timeZone);
    if (b > from) b = dayStart((n -= days), timeZone);
    push(b);
    while (b < to) {
      n += days;
      b = dayStart(n, timeZone);
      push(b);
    }
    return out;
  }
  let n = localDayNumber(from, timeZone);
  let dayBegin = dayStart(n, timeZone);
  if (dayBegin > from) dayBegin = dayStart(--n, timeZone);
  let nextDay = dayStart(n + 1, timeZone);
  let b = dayBegin + Math.floor((from - dayBegin) / every) * every;
  push(b);
  while (b < to) {
    b += every;
    if (b >= nextDay) {
      b = nextDay;
      n += 1;
      nextDay = dayStart(n + 1, timeZone);
    }
    push(b);
  }
  return out;
}

/** The window starts for [from, to) (the boundaries without the final end). */
export function windowStarts(from: number, to: number, every: number, timeZone?: string, maxWindows = MAX_WINDOWS): number[] {
  return windowBoundaries(from, to, every, timeZone, maxWindows).slice(0, -1);
}
