import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { nextPollTime, phaseOffset, type Clock } from '../../lib/ems/schedule';
import { PollScheduler } from '../../lib/ems/poll-scheduler';
import { checkMeterDefinition, type MeterDefinition } from '../../lib/ems/meter-definition';

const TZ = 'Europe/Berlin';
const ID = 'period-meter';

/** A checked definition (as the API stores it) with the dictionary's string values. */
function def(fields: Record<string, string>): MeterDefinition {
  return checkMeterDefinition({ name: 'p', protocol: 'iec62056-21', ...fields });
}

/** The first `n` poll times after `from`, as local Berlin wall times "YYYY-MM-DD HH:MM:SS". */
function polls(d: MeterDefinition, from: string, n: number): string[] {
  const out: string[] = [];
  let t = Date.parse(from);
  for (let i = 0; i < n; i++) {
    const next = nextPollTime(ID, d, t, TZ);
    if (next === null) break;
    out.push(new Date(next).toLocaleString('sv-SE', { timeZone: TZ }));
    t = next;
  }
  return out;
}

/** The phase of the meter inside a session (spread over the first minute), as ":SS". */
const sec = (intervalS: number) => String(phaseOffset(ID, Math.min(intervalS * 1000, 60_000)) / 1000).padStart(2, '0');

/** Timers that run when advance() passes them, in due order. */
class FakeClock implements Clock {
  private timers: { at: number; fn: () => void; id: number }[] = [];
  private seq = 0;
  constructor(public t: number) {}
  now() { return this.t; }
  setTimeout(fn: () => void, ms: number) { const id = ++this.seq; this.timers.push({ at: this.t + ms, fn, id }); return id; }
  clearTimeout(h: unknown) { this.timers = this.timers.filter((x) => x.id !== h); }
  async advance(ms: number) {
    const end = this.t + ms;
    for (let next = this.first(end); next; next = this.first(end)) {
      this.timers = this.timers.filter((x) => x !== next);
      this.t = next.at;
      next.fn();
      await new Promise((r) => setImmediate(r));
    }
    this.t = end;
  }
  private first(end: number) { return [...this.timers].sort((a, b) => a.at - b.at || a.id - b.id).find((x) => x.at <= end); }
}

describe('polling: periodType and data_polling_length', () => {
  it('the poll schedule polls a daily meter three times after each local midnight, and nothing in between', async () => {
    const start = Date.parse('2026-06-01T12:00:00+02:00');
    const clock = new FakeClock(start);
    const polled: string[] = [];
    const sched = new PollScheduler(async (m, due) => { polled.push(new Date(due).toLocaleString('sv-SE', { timeZone: TZ }).slice(0, 16)); }, { clock, timeZone: TZ });
    sched.set([{ id: ID, definition: def({ periodType: 'daily', interval_time: '300', data_polling_length: '600' }) }]);
    await clock.advance(2 * 86_400_000);
    sched.stop();
    assert.deepEqual(polled, ['2026-06-02 00:00', '2026-06-02 00:05', '2026-06-02 00:10', '2026-06-03 00:00', '2026-06-03 00:05', '2026-06-03 00:10']);
  });

  it('interval polls every interval_time seconds, whatever data_polling_length says', () => {
    const a = polls(def({ periodType: 'interval', interval_time: '900', data_polling_length: '0' }), '2026-06-01T00:00:00+02:00', 3);
    const b = polls(def({ periodType: 'interval', interval_time: '900', data_polling_length: '3600' }), '2026-06-01T00:00:00+02:00', 3);
    assert.deepEqual(a, b);
    const gaps = a.map((s) => Date.parse(s.replace(' ', 'T') + '+02:00')).map((t, i, all) => (i ? t - all[i - 1] : 0)).slice(1);
    assert.deepEqual(gaps, [900_000, 900_000]);
  });

  it('hourly with data_polling_length 0 polls once at the start of every hour', () => {
    const s = sec(60);
    assert.deepEqual(polls(def({ periodType: 'hourly', interval_time: '60', data_polling_length: '0' }), '2026-06-01T10:30:00+02:00', 3),
      [`2026-06-01 11:00:${s}`, `2026-06-01 12:00:${s}`, `2026-06-01 13:00:${s}`]);
  });

  it('daily with data_polling_length 600 and interval_time 300 polls three times after local midnight (0, 5, 10 min)', () => {
    const s = sec(300);
    assert.deepEqual(polls(def({ periodType: 'daily', interval_time: '300', data_polling_length: '600' }), '2026-06-01T12:00:00+02:00', 4),
      [`2026-06-02 00:00:${s}`, `2026-06-02 00:05:${s}`, `2026-06-02 00:10:${s}`, `2026-06-03 00:00:${s}`]);
  });

  it('daily sessions start at local midnight across the DST change and keep to days_of_week', () => {
    const s = sec(60);
    // 2026-03-29 is a Sunday (day 7) and the day Berlin moves to summer time.
    assert.deepEqual(polls(def({ periodType: 'daily', interval_time: '60', days_of_week: '7,1' }), '2026-03-28T12:00:00+01:00', 2),
      [`2026-03-29 00:00:${s}`, `2026-03-30 00:00:${s}`]);
  });

  it('weekly polls on Mondays by default, on days_of_week when given', () => {
    const s = sec(60);
    assert.deepEqual(polls(def({ periodType: 'weekly', interval_time: '60' }), '2026-06-03T12:00:00+02:00', 2), [`2026-06-08 00:00:${s}`, `2026-06-15 00:00:${s}`]);
    assert.deepEqual(polls(def({ periodType: 'weekly', interval_time: '60', days_of_week: '3' }), '2026-06-03T12:00:00+02:00', 2), [`2026-06-10 00:00:${s}`, `2026-06-17 00:00:${s}`]);
  });

  it('monthly polls on the 1st by default, on days_of_month when given; a session polls on while data_polling_length lasts', () => {
    const s = sec(3600);
    assert.deepEqual(polls(def({ periodType: 'monthly', interval_time: '3600' }), '2026-06-03T12:00:00+02:00', 2), [`2026-07-01 00:00:${s}`, `2026-08-01 00:00:${s}`]);
    assert.deepEqual(polls(def({ periodType: 'monthly', interval_time: '3600', days_of_month: '15', data_polling_length: '7200' }), '2026-06-03T12:00:00+02:00', 4),
      [`2026-06-15 00:00:${s}`, `2026-06-15 01:00:${s}`, `2026-06-15 02:00:${s}`, `2026-07-15 00:00:${s}`]);
  });

  it('an hourly session never runs into the next hour, however long data_polling_length is', () => {
    const times = polls(def({ periodType: 'hourly', interval_time: '1200', data_polling_length: '86400' }), '2026-06-01T10:59:00+02:00', 4);
    assert.deepEqual(times.map((t) => t.slice(11, 16)), ['11:00', '11:20', '11:40', '12:00']);
  });

  it('refuses a periodType outside the list, naming it', () => {
    assert.throws(() => def({ periodType: 'fortnightly' }), /periodType "fortnightly" must be one of interval, hourly, daily, weekly, monthly/);
    assert.throws(() => def({ data_polling_length: '-5' }), /data_polling_length "-5" must be a whole number/);
  });
});
