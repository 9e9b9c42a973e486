/**
 * Poll scheduling for meter definitions: each meter is due every interval_time seconds, at a fixed
 * offset inside its interval derived from its id (so 100 meters with a 60 s interval do not all fire
 * at :00), only on the allowed local days of week/month. A meter whose previous poll still runs is
 * skipped (counted), never queued twice. Clock and timers are injected for tests.
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

export interface ScheduledMeter {
  id: string;
  definition: MeterDefinition;
}

export interface SchedulerStats {
  meters: number;
  started: number;
  skippedBusy: number;
  running: number;
}

/**
 * Runs `poll(meter, due)` for each meter when due. `set()` replaces the meter list (create, update,
 * delete take effect without a restart); `pollNow()` runs one meter at once unless it is busy.
 */
export class PollScheduler {
  private meters = new Map<string, ScheduledMeter>();
  private timers = new Map<string, unknown>();
  private busy = new Set<string>();
  private readonly stats = { started: 0, skippedBusy: 0 };
  private stopped = false;

  constructor(
    private readonly poll: (meter: ScheduledMeter, due: number) => Promise<void>,
    private readonly options: { timeZone?: string; clock?: Clock; onSkip?: (meter: ScheduledMeter, due: number) => void } = {},
  ) {}

  private get clock(): Clock {
    return this.options.clock ?? realClock;
  }

  set(meters: ScheduledMeter[]): void {
    const next = new Map(meters.map((m) => [m.id, m]));
    for (const id of this.meters.keys()) if (!next.has(id)) this.unschedule(id);
    for (const m of meters) {
      const before = this.meters.get(m.id);
      this.meters.set(m.id, m);
      if (!before || JSON.stringify(before.definition) !== JSON.stringify(m.definition)) this.arm(m.id);
    }
  }

  /** Polls one meter now; false when it is unknown or its previous poll still runs. */
  pollNow(id: string): Promise<void> | false {
    const m = this.meters.get(id);
    if (!m || this.busy.has(id)) return false;
    return this.run(m, this.clock.now());
  }

  nextDue(id: string): number | null {
    const m = this.meters.get(id);
    return m ? nextPollTime(id, m.definition, this.clock.now(), this.options.timeZone) : null;
  }

  getStats(): SchedulerStats {
    return { meters: this.meters.size, started: this.stats.started, skippedBusy: this.stats.skippedBusy, running: this.busy.size };
  }

  stop(): void {
    this.stopped = true;
    for (const id of [...this.timers.keys()]) this.unschedule(id);
  }

  private unschedule(id: string): void {
    const h = this.timers.get(id);
    if (h !== undefined) this.clock.clearTimeout(h);
    this.timers.delete(id);
    this.meters.delete(id);
  }

  private arm(id: string): void {
    const old = this.timers.get(id);
    if (old !== undefined) this.clock.clearTimeout(old);
    const m = this.meters.get(id);
    if (!m || this.stopped) return;
    const due = nextPollTime(id, m.definition, this.clock.now(), this.options.timeZone);
    if (due === null) return;
    // Long waits are re-armed in steps (timers cap at ~24.8 days).
    const wait = Math.min(due - this.clock.now(), 6 * 3_600_000);
    this.timers.set(id, this.clock.setTimeout(() => this.fire(id, due), Math.max(0, wait)));
  }

  private fire(id: string, due: number): void {
    this.timers.delete(id);
    const m = this.meters.get(id);
    if (!m || this.stopped) return;
    if (this.clock.now() < due) return this.arm(id);
    if (this.busy.has(id)) {
      this.stats.skippedBusy++;
      this.options.onSkip?.(m, due);
    } else {
      void this.run(m, due);
    }
    this.arm(id);
  }

  private async run(m: ScheduledMeter, due: number): Promise<void> {
    this.busy.add(m.id);
    this.stats.started++;
    try {
      await this.poll(m, due);
    } catch {
      // The poll reports its own failures (events, Catch); the schedule goes on.
    } finally {
      this.busy.delete(m.id);
    }
  }
}
