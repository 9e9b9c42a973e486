import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { nextPollTime, phaseOffset, isPollDay, type Clock } from '../../lib/ems/schedule';
import { PollScheduler, type ScheduledMeter } from '../../lib/ems/poll-scheduler';
import { checkMeterDefinition } from '../../lib/ems/meter-definition';
import { PollJobs, answerTimeout, pollMessage, type PollMessage } from '../../lib/ems/poll-jobs';
import type { NewEvent } from '../../lib/ems/event-log';
import type { MeterRecord } from '../../lib/ems/registry';

/** Timers that run when advance() passes them, in due order. */
class FakeClock implements Clock {
  t: number;
  private timers: { at: number; fn: () => void; id: number }[] = [];
  private seq = 0;
  constructor(t: number) { this.t = t; }
  now() { return this.t; }
  setTimeout(fn: () => void, ms: number) { const id = ++this.seq; this.timers.push({ at: this.t + ms, fn, id }); return id; }
  clearTimeout(h: unknown) { this.timers = this.timers.filter((x) => x.id !== h); }
  async advance(ms: number) {
    const end = this.t + ms;
    for (;;) {
      this.timers.sort((a, b) => a.at - b.at || a.id - b.id);
      const next = this.timers[0];
      if (!next || next.at > end) break;
      this.timers.shift();
      this.t = next.at;
      next.fn();
      await new Promise((r) => setImmediate(r));
    }
    this.t = end;
  }
}

const base = { name: 'm', protocol: 'modbus-tcp', profile: 'eastron-sdm630' };
const def = (extra: Record<string, unknown>) => checkMeterDefinition({ ...base, ...extra });
const MON = Date.UTC(2026, 10, 16, 0, 0); // Monday 2026-11-16 00:00 UTC

describe('poll schedule', () => {
  it('spreads meters over their interval by id, the same phase on every restart', () => {
    const offsets = Array.from({ length: 100 }, (_, i) => phaseOffset(`meter-${i}`, 60_000));
    assert.ok(offsets.every((o) => o >= 0 && o < 60_000 && o % 1000 === 0));
    assert.ok(new Set(offsets).size >= 40, `only ${new Set(offsets).size} distinct start seconds for 100 meters`);
    assert.equal(phaseOffset('meter-7', 60_000), phaseOffset('meter-7', 60_000));
  });

  it('finds the next due time on allowed days of week and month in the local zone', () => {
    const d = def({ interval_time: 3600, days_of_week: '6,7' }); // weekends only, hourly
    const phase = phaseOffset('w', 3_600_000);
    // Monday -> Saturday 2026-11-21 00:00 UTC + phase
    assert.equal(nextPollTime('w', d, MON, 'UTC'), Date.UTC(2026, 10, 21) + phase);
    // In Europe/Berlin Saturday starts at Friday 23:00 UTC
    assert.equal(nextPollTime('w', d, MON, 'Europe/Berlin'), Date.UTC(2026, 10, 20, 23) + phase);
    const monthly = def({ interval_time: 86400, days_of_month: '1' });
    const due = nextPollTime('x', monthly, MON, 'UTC')!;
    assert.equal(new Date(due).toISOString().slice(0, 10), '2026-12-01');
    assert.equal(isPollDay(def({ days_of_week: '1', days_of_month: '16' }), MON + 3_600_000, 'UTC'), true);
    assert.equal(isPollDay(def({ days_of_week: '2' }), MON, 'UTC'), false);
  });

  it('polls at the interval, skips a meter still busy, and follows updates and deletes', async () => {
    const clock = new FakeClock(MON);
    const calls: string[] = [];
    const release: (() => void)[] = [];
    const sched = new PollScheduler((m, due) => {
      calls.push(`${m.id}@${(due - MON) / 1000}`);
      if (m.id === 'slow') return new Promise<void>((r) => release.push(r));
      return Promise.resolve();
    }, { clock, timeZone: 'UTC' });
    const meters: ScheduledMeter[] = [{ id: 'fast', definition: def({ interval_time: 10 }) }, { id: 'slow', definition: def({ interval_time: 10 }) }];
    sched.set(meters);
    await clock.advance(60_000);
    const fast = calls.filter((c) => c.startsWith('fast'));
    assert.equal(fast.length, 6, calls.join(' '));
    assert.equal(calls.filter((c) => c.startsWith('slow')).length, 1, 'slow never finished, so it is not started again');
    assert.equal(sched.getStats().skippedBusy, 5);
    release.forEach((r) => r());
    await new Promise((r) => setImmediate(r));

    sched.set([{ id: 'fast', definition: def({ interval_time: 30 }) }]);
    calls.length = 0;
    await clock.advance(60_000);
    assert.deepEqual(calls.map((c) => c.split('@')[0]), ['fast', 'fast']);
    assert.equal(sched.pollNow('slow'), false, 'deleted meters are gone');
    await sched.pollNow('fast');
    assert.equal(calls.length, 3);
    sched.stop();
    await clock.advance(60_000);
    assert.equal(calls.length, 3);
  });
});

describe('poll jobs (one message per poll, ended by its answer or a timeout)', () => {
  const record = (id: string, extra: Record<string, unknown> = {}): MeterRecord => ({
    _id: id, folder_id: 'f1', definition: def({ name: `Meter ${id}`, connection_address: '4', ip_address: '10.0.0.9', port: 1502, password: 'pw', ...extra }), created_at: 0, updated_at: 0,
  });
  const setup = () => {
    const clock = new FakeClock(MON);
    const sent: PollMessage[] = [];
    const events: NewEvent[] = [];
    let n = 0;
    const jobs = new PollJobs({ send: (m) => sent.push(m), addEvent: (e) => events.push(e), newId: () => `p${++n}`, clock });
    return { clock, sent, events, jobs };
  };

  it('sends the meter definition with the Modbus hints', () => {
    const msg = pollMessage(record('m1'), { id: 'p1', meter: 'm1', due: MON, started: MON + 5 });
    assert.equal(msg.topic, 'm1');
    assert.equal(msg.meter._id, 'm1');
    assert.equal(msg.meter.folder_id, 'f1');
    assert.equal(msg.meter.password, 'pw');
    assert.equal(msg.unit, 4);
    assert.equal(msg.profile, 'eastron-sdm630');
    assert.deepEqual(msg.endpoint, { host: '10.0.0.9', port: 1502, transport: 'tcp' });
    assert.deepEqual(pollMessage(record('r1', { protocol: 'modbus-rtu-over-tcp' }), { id: 'p3', meter: 'r1', due: MON, started: MON }).endpoint, { host: '10.0.0.9', port: 1502, transport: 'rtu-over-tcp' });
    const serial = (line: string) => pollMessage(record('s1', { protocol: 'modbus-rtu', ip_address: '/dev/ttyUSB0', port: 0, serial_line: line }), { id: 'p4', meter: 's1', due: MON, started: MON }).endpoint;
    assert.deepEqual(serial('19200 8N2'), { transport: 'rtu', path: '/dev/ttyUSB0', baudRate: 19200, dataBits: 8, parity: 'none', stopBits: 2 });
    assert.deepEqual(serial(''), { transport: 'rtu', path: '/dev/ttyUSB0', baudRate: 9600, dataBits: 8, parity: 'even', stopBits: 1 }, 'the standard\'s 9600 8E1 by default');
    const mbus = pollMessage(record('h1', { protocol: 'mbus', connection_address: '12' }), { id: 'p2', meter: 'h1', due: MON, started: MON });
    assert.equal(mbus.unit, undefined);
    assert.equal(mbus.endpoint, undefined);
  });

  it('counts a poll without an answer within max(waiting_time x 3, 30 s) as failed, once', async () => {
    assert.equal(answerTimeout({ waiting_time: 1000 }), 30_000);
    assert.equal(answerTimeout({ waiting_time: 20_000 }), 60_000);
    const { clock, sent, events, jobs } = setup();
    let ended = false;
    void jobs.start(record('m1'), MON).then(() => { ended = true; });
    assert.equal(jobs.state('m1').running, true);
    await clock.advance(29_999);
    assert.equal(ended, false);
    await clock.advance(1);
    assert.equal(ended, true);
    assert.equal(events.length, 1);
    assert.deepEqual({ ...events[0], time: undefined }, {
      kind: 'poll-failed', level: 'error', event: 'poll failed: no answer within 30 s', meter_id: 'm1', meter_name: 'Meter m1', source: null, time: undefined, value: 1,
    });
    // The late answer changes nothing.
    assert.equal(jobs.answer(sent[0].poll.id), false);
    assert.deepEqual(jobs.state('m1'), { running: false, failures: 1, last: { time: MON + 30_000, ok: false, error: 'no answer within 30 s', durationMs: 30_000 } });
  });

  it('logs a repeated failure once (again when its cause changes or an hour on), and poll-recovered for the first success', async () => {
    const { sent, events, jobs, clock } = setup();
    for (const error of ['timeout', 'timeout', 'timeout', 'CRC error', null, null]) {
      const done = jobs.start(record('m1'), MON);
      assert.equal(jobs.answer(sent[sent.length - 1].poll.id, error), true);
      await done;
      await clock.advance(10_000);
    }
    assert.deepEqual(events.map((e) => `${e.kind}: ${e.event} (${e.value})`), [
      'poll-failed: poll failed: timeout (1)', 'poll-failed: poll failed: CRC error (4)', 'poll-recovered: poll recovered after 4 failed poll(s) (4)',
    ]);
    events.length = 0;
    for (let i = 0; i < 362; i++) { // a 10 s poll failing for an hour and 20 s
      const done = jobs.start(record('m1'), MON);
      jobs.answer(sent[sent.length - 1].poll.id, 'timeout');
      await done;
      await clock.advance(10_000);
    }
    assert.deepEqual(events.map((e) => e.value), [1, 361], 'the first failure, then a reminder after an hour');
    assert.equal(jobs.state('m1').failures, 362);
  });
});
