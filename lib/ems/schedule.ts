/**
 * Poll scheduling for meter definitions: each meter is due every interval_time seconds, at a fixed
 * offset inside its interval derived from its id (so 100 meters with a 60 s interval do not all fire
 * at :00), only on the allowed local days of week/month. A meter whose previous poll still runs is
 * skipped (counted), never queued twice (lib/ems/poll-scheduler.ts runs the polls). Clock and timers are
 * injected for tests.
 */
import { fromLocal, toLocal, DAY_MS } from '../model/time';
import type { MeterDefinition, PeriodType } from './meter-definition';

/** A stable offset in [0, intervalMs) for a meter id (FNV-1a), so restarts keep the same phase. */
export function phaseOffset(meterId: string, intervalMs: number): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < meterId.length; i++) {
    h ^= meterId.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return intervalMs <= 1000 ? 0 : (h % Math.floor(intervalMs / 1000)) * 1000;
}

/** True when the local day of `time` is an allowed polling day. */
export function isPollDay(def: Pick<MeterDefinition, 'days_of_week' | 'days_of_month'>, time: number, timeZone?: string): boolean {
  if (def.days_of_week.length === 0 && def.days_of_month.length === 0) return true;
  const l = toLocal(time, timeZone);
  const isoWeekday = ((new Date(Date.UTC(l.year, l.month - 1, l.day)).getUTCDay() + 6) % 7) + 1;
  if (def.days_of_week.length && !def.days_of_week.includes(isoWeekday)) return false;
  if (def.days_of_month.length && !def.days_of_month.includes(l.day)) return false;
  return true;
}

type ScheduleFields = Pick<MeterDefinition, 'interval_time' | 'days_of_week' | 'days_of_month'> & Partial<Pick<MeterDefinition, 'periodType' | 'data_polling_length'>>;

/**
 * The first due time strictly after `after` for this meter, or null when no allowed day comes within 400 days.
 *
 * periodType says how often a polling session starts, data_polling_length how long it lasts:
 * - interval: polls every interval_time seconds, all day on the allowed days (data_polling_length unused);
 * - hourly / daily: a session at the start of every local hour / at local midnight of every allowed day;
 * - weekly: a session at local midnight of each day of days_of_week (Monday when empty);
 * - monthly: a session at local midnight of each day of days_of_month (the 1st when empty).
 * A session polls at its start and then every interval_time seconds while data_polling_length seconds have not
 * passed (0 = one poll per session), never beyond the session's own hour, day, week or month.
 */
export function nextPollTime(meterId: string, def: ScheduleFields, after: number, timeZone?: string): number | null {
  const period = def.periodType ?? 'interval';
  if (period !== 'interval') return nextSessionPoll(meterId, def, period, after, timeZone);
  const every = def.interval_time * 1000;
  const phase = phaseOffset(meterId, every);
  let t = Math.floor((after - phase) / every) * every + phase;
  while (t <= after) t += every;
  const limit = after + 400 * DAY_MS;
  while (t <= limit) {
    if (isPollDay(def, t, timeZone)) return t;
    if (every >= DAY_MS) {
      t += every;
      continue;
    }
    // Skip to the first slot of the next local day.
    const l = toLocal(t, timeZone);
    const nextDay = fromLocal({ year: l.year, month: l.month, day: l.day + 1, hour: 0, minute: 0, second: 0, millisecond: 0 }, timeZone);
    t = Math.ceil((nextDay - phase) / every) * every + phase;
  }
  return null;
}

/** Local midnight of the day `days` after the local day of `t`. */
function localMidnight(t: number, days: number, timeZone?: string): number {
  const l = toLocal(t, timeZone);
  return fromLocal({ year: l.year, month: l.month, day: l.day + days, hour: 0, minute: 0, second: 0, millisecond: 0 }, timeZone);
}

/** Whether a session of `period` starts on the local day beginning at `midnight`. */
function sessionDay(def: ScheduleFields, period: Exclude<PeriodType, 'interval'>, midnight: number, timeZone?: string): boolean {
  if (period === 'weekly' && def.days_of_week.length === 0) return isPollDay({ days_of_week: [1], days_of_month: def.days_of_month }, midnight, timeZone);
  if (period === 'monthly' && def.days_of_month.length === 0) return isPollDay({ days_of_week: def.days_of_week, days_of_month: [1] }, midnight, timeZone);
  return isPollDay(def, midnight, timeZone);
}

function nextSessionPoll(meterId: string, def: ScheduleFields, period: Exclude<PeriodType, 'interval'>, after: number, timeZone?: string): number | null {
  const every = def.interval_time * 1000;
  const length = (def.data_polling_length ?? 0) * 1000;
  // Meters spread over the first minute of a session, so a hundred hourly meters do not all start at :00:00.
  const phase = phaseOffset(meterId, Math.min(every, 60_000));
  const firstAfter = (start: number, end: number): number | null => {
    const last = Math.min(start + phase + length, end - 1);
    let t = start + phase;
    if (t <= after) t += Math.ceil((after - t + 1) / every) * every;
    return t <= last ? t : null;
  };
  // A session that started up to a month ago may still run (a monthly session with a long data_polling_length).
  for (let day = localMidnight(after, -31, timeZone), n = 0; n < 432; n++, day = localMidnight(day, 1, timeZone)) {
    if (day > after + 400 * DAY_MS) return null;
    if (!sessionDay(def, period, day, timeZone)) continue;
    const nextDay = localMidnight(day, 1, timeZone);
    if (period === 'hourly') {
      if (nextDay <= after) continue;
      for (let hour = day; hour < nextDay; hour += 3_600_000) {
        const t = firstAfter(hour, Math.min(hour + 3_600_000, nextDay));
        if (t !== null) return t;
      }
      continue;
    }
    const end = period === 'daily' ? nextDay : period === 'weekly' ? localMidnight(day, 7, timeZone) : localMidnight(day, daysInMonthFrom(day, timeZone), timeZone);
    if (end <= after) continue;
    const t = firstAfter(day, end);
    if (t !== null) return t;
  }
  return null;
}

/** Days from the local day of `t` to the same day of the next month (the month's session may run that long). */
function daysInMonthFrom(t: number, timeZone?: string): number {
  const l = toLocal(t, timeZone);
  return new Date(Date.UTC(l.year, l.month, 0)).getUTCDate();
}

export interface Clock {
  now(): number;
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

export const realClock: Clock = {
  now: () => Date.now(),
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (h) => clearTimeout(h as NodeJS.Timeout),
};
