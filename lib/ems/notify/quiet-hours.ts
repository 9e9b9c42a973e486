/**
 * Quiet hours in the EMS time zone: "22:00" to "07:00" spans midnight; `days` names the days on
 * which a quiet period starts (all days when absent). Local wall times, so DST days are handled:
 * a period that starts at 22:00 ends at 07:00 local time the next day whatever the offset did.
 */
import { DAY_MS, fromLocal, toLocal } from '../../model/time';

export type Weekday = 'sun' | 'mon' | 'tue' | 'wed' | 'thu' | 'fri' | 'sat';
export const WEEKDAYS: readonly Weekday[] = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'];

export interface QuietHours { from: string; to: string; days?: Weekday[] }

interface Parsed { from: number; to: number; days: Set<number> }

function minutes(s: unknown, field: string): number {
  const m = typeof s === 'string' ? /^([01]\d|2[0-3]):([0-5]\d)$/.exec(s) : null;
  if (!m) throw new TypeError(`quietHours.${field} must be a time HH:MM (00:00..23:59), got ${JSON.stringify(s)}`);
  return Number(m[1]) * 60 + Number(m[2]);
}

export function parseQuietHours(q: QuietHours): Parsed {
  if (!q || typeof q !== 'object') throw new TypeError(`quietHours must be { from, to, days? }, got ${JSON.stringify(q)}`);
  const from = minutes(q.from, 'from');
  const to = minutes(q.to, 'to');
  if (from === to) throw new RangeError(`quietHours.from and quietHours.to must differ, got ${JSON.stringify(q.from)} for both`);
  let days = new Set([0, 1, 2, 3, 4, 5, 6]);
  if (q.days !== undefined) {
    if (!Array.isArray(q.days) || q.days.length === 0) throw new TypeError(`quietHours.days must be a non-empty list of ${WEEKDAYS.join(', ')}, got ${JSON.stringify(q.days)}`);
    days = new Set(q.days.map((d) => {
      const i = WEEKDAYS.indexOf(String(d).toLowerCase().slice(0, 3) as Weekday);
      if (i < 0) throw new TypeError(`quietHours.days: ${JSON.stringify(d)} is not a weekday (${WEEKDAYS.join(', ')})`);
      return i;
    }));
  }
  return { from, to, days };
}

/** Local calendar date shifted by whole days (no zone involved). */
function shiftDate(y: number, m: number, d: number, by: number) {
  const t = new Date(Date.UTC(y, m - 1, d) + by * DAY_MS);
  return { year: t.getUTCFullYear(), month: t.getUTCMonth() + 1, day: t.getUTCDate(), weekday: t.getUTCDay() };
}

function at(date: { year: number; month: number; day: number }, min: number, tz: string): number {
  return fromLocal({ ...date, hour: Math.floor(min / 60), minute: min % 60, second: 0, millisecond: 0 }, tz);
}

/**
 * When `time` falls in quiet hours: the instant they end; otherwise null.
 */
export function quietUntil(time: number, q: QuietHours | Parsed, timeZone: string): number | null {
  const end = quietEnd(time, q, timeZone);
  // The repeated hour when clocks go back: an end already past means the period is over.
  return end !== null && end > time ? end : null;
}

function quietEnd(time: number, q: QuietHours | Parsed, timeZone: string): number | null {
  const p = 'days' in q && q.days instanceof Set ? (q as Parsed) : parseQuietHours(q as QuietHours);
  const l = toLocal(time, timeZone);
  const now = l.hour * 60 + l.minute;
  const today = shiftDate(l.year, l.month, l.day, 0);
  if (p.from < p.to) {
    if (p.days.has(today.weekday) && now >= p.from && now < p.to) return at(today, p.to, timeZone);
    return null;
  }
  // Spans midnight: started today (evening part) or yesterday (morning part).
  if (now >= p.from && p.days.has(today.weekday)) return at(shiftDate(l.year, l.month, l.day, 1), p.to, timeZone);
  const yesterday = shiftDate(l.year, l.month, l.day, -1);
  if (now < p.to && p.days.has(yesterday.weekday)) return at(today, p.to, timeZone);
  return null;
}
