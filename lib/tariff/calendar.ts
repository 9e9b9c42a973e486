/**
 * Local calendar arithmetic for tariffs: local dates as day numbers (days since 1970-01-01), day
 * types from a working calendar, the first instant of a local day, and local ISO text for notes.
 */
import { DAY_MS, fromLocal, offsetAt, toLocal } from '../model/time';
import type { DayType, WorkingCalendar } from './types';

const DATE_RE = /^(\d{4})-(\d{2})-(\d{2})$/;

/** The day number of a valid "YYYY-MM-DD", else undefined (rejects 2026-02-30). */
export function dayNumberOf(date: string): number | undefined {
  const m = typeof date === 'string' ? DATE_RE.exec(date) : null;
  if (!m) return undefined;
  const [y, mo, d] = [Number(m[1]), Number(m[2]), Number(m[3])];
  const t = Date.UTC(y, mo - 1, d);
  const check = new Date(t);
  if (check.getUTCFullYear() !== y || check.getUTCMonth() !== mo - 1 || check.getUTCDate() !== d) return undefined;
  return t / DAY_MS;
}

export function isValidDate(date: unknown): date is string {
  return typeof date === 'string' && dayNumberOf(date) !== undefined;
}

/** "YYYY-MM-DD" of a day number. */
export function dateOfDay(n: number): string {
  return new Date(n * DAY_MS).toISOString().slice(0, 10);
}

/** 0 = Sunday ... 6 = Saturday (1970-01-01 was a Thursday). */
export function weekdayOfDay(n: number): number {
  return (((n + 4) % 7) + 7) % 7;
}

const calendarSets = new WeakMap<WorkingCalendar, { off: Set<string>; on: Set<string> }>();

function sets(calendar: WorkingCalendar): { off: Set<string>; on: Set<string> } {
  let s = calendarSets.get(calendar);
  if (!s) {
    s = { off: new Set(calendar.nonWorkingDays ?? []), on: new Set(calendar.workingDays ?? []) };
    calendarSets.set(calendar, s);
  }
  return s;
}

/** The day type of a local date: holiday when the calendar lists it non-working, else by weekday. */
export function dayType(localDate: string, calendar?: WorkingCalendar): DayType {
  const n = dayNumberOf(localDate);
  if (n === undefined) throw new RangeError(`not a local date "YYYY-MM-DD": ${JSON.stringify(localDate)}`);
  if (calendar) {
    const s = sets(calendar);
    if (s.off.has(localDate)) return 'holiday';
    if (s.on.has(localDate)) return 'weekday';
  }
  const wd = weekdayOfDay(n);
  return wd === 0 ? 'sunday' : wd === 6 ? 'saturday' : 'weekday';
}

/** The local day number of an instant in a zone. */
export function localDayOf(time: number, timeZone: string): number {
  const l = toLocal(time, timeZone);
  return Date.UTC(l.year, l.month - 1, l.day) / DAY_MS;
}

/** The first instant of local day `n` (local midnight; the jump instant where midnight is skipped). */
export function dayStartMs(n: number, timeZone: string): number {
  const d = new Date(n * DAY_MS);
  const t = fromLocal({ year: d.getUTCFullYear(), month: d.getUTCMonth() + 1, day: d.getUTCDate(), hour: 0, minute: 0, second: 0, millisecond: 0 }, timeZone);
  if (localDayOf(t, timeZone) === n && localDayOf(t - 1, timeZone) < n) return t;
  // Midnight skipped: search the first instant of the day.
  let lo = t - 3 * 3_600_000;
  let hi = t;
  while (hi - lo > 1) {
    const mid = Math.floor((lo + hi) / 2);
    if (localDayOf(mid, timeZone) >= n) hi = mid;
    else lo = mid;
  }
  return hi;
}

/** Local ISO time with offset, minutes precision: "2026-03-02T08:15+01:00". */
export function localIso(time: number, timeZone: string): string {
  const off = offsetAt(time, timeZone);
  const wall = new Date(time + off).toISOString().slice(0, 16);
  const abs = Math.abs(off) / 60_000;
  const sign = off < 0 ? '-' : '+';
  return `${wall}${sign}${String(Math.floor(abs / 60)).padStart(2, '0')}:${String(abs % 60).padStart(2, '0')}`;
}

/** Minutes since midnight of "HH:MM" ("24:00" = 1440), or undefined. */
export function minutesOf(hhmm: unknown): number | undefined {
  if (typeof hhmm !== 'string') return undefined;
  if (hhmm === '24:00') return 1440;
  const m = /^([01]\d|2[0-3]):([0-5]\d)$/.exec(hhmm);
  return m ? Number(m[1]) * 60 + Number(m[2]) : undefined;
}

/** Index 0..365 of a "MM-DD" within a leap year (02-29 = 59), or undefined. */
export function monthDayIndex(mmdd: unknown): number | undefined {
  if (typeof mmdd !== 'string' || !/^\d{2}-\d{2}$/.test(mmdd)) return undefined;
  const n = dayNumberOf(`2024-${mmdd}`);
  return n === undefined ? undefined : n - (dayNumberOf('2024-01-01') as number);
}
