// Backfill orchestration with a fake clock: PollJobs and Backfiller wired as the ems-poll-schedule node wires them.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Clock } from '../../lib/ems/schedule';
import { checkMeterDefinition } from '../../lib/ems/meter-definition';
import { PollJobs, type PollMessage } from '../../lib/ems/poll-jobs';
import { Backfiller, BackfillSlots, backfillMaxDays, supportsBackfill } from '../../lib/ems/backfill';
import type { NewEvent } from '../../lib/ems/event-log';
import type { MeterRecord } from '../../lib/ems/registry';

class FakeClock implements Clock {
  private timers: { at: number; fn: () => void; id: number }[] = [];
  private seq = 0;
  constructor(public t: number) {}
  now() { return this.t; }
  setTimeout(fn: () => void, ms: number) { const id = ++this.seq; this.timers.push({ at: this.t + ms, fn, id }); return id; }
  clearTimeout(h: unknown) { this.timers = this.timers.filter((x) => x.id !== h); }
  advance(ms: number) {
    const end = this.t + ms;
    for (;;) {
      this.timers.sort((a, b) => a.at - b.at || a.id - b.id);
      const next = this.timers[0];
      if (!next || next.at > end) break;
      this.timers.shift();
      this.t = next.at;
      next.fn();
    }
    this.t = end;
  }
}

const T0 = Date.UTC(2026, 11, 7, 10, 0);
const record = (id: string, protocol: string, extra: Record<string, unknown> = {}): MeterRecord => ({
  _id: id, folder_id: 'f1',
  definition: checkMeterDefinition({ name: `meter ${id}`, protocol, ip_address: '127.0.0.1', port: 6210, interval_time: 900, ...(protocol.startsWith('modbus') ? { profile: 'eastron-sdm630' } : {}), ...extra }),
} as MeterRecord);

function setup(opts: { maxRunning?: number; maxDays?: number } = {}) {
  const clock = new FakeClock(T0);
  const polls: PollMessage[] = [];
  const backfills: PollMessage[] = [];
  const events: NewEvent[] = [];
  const pollResults: { meter: string; ok: boolean }[] = [];
  let n = 0;
  const records = new Map<string, MeterRecord>();
  const backfill = new Backfiller({ send: (m) => backfills.push(m), addEvent: (e) => events.push(e), newId: () => `b${++n}`, clock, timeZone: 'Europe/Berlin', ...opts });
  const jobs = new PollJobs({
    send: (m) => polls.push(m), addEvent: (e) => events.push(e), newId: () => `p${++n}`, clock,
    onResult: (meter, r) => pollResults.push({ meter, ok: r.ok }),
    onFinished: (info, result, before) => backfill.onPoll(records.get(info.meter)!, info, result, before),
  });
  /** One poll of a meter at the current time, answered ok or with an error. */
  const poll = async (r: MeterRecord, error: string | null = null) => {
    records.set(r._id, r);
    const done = jobs.start(r, clock.now());
    const msg = polls[polls.length - 1];
    assert.equal(msg.poll.kind, undefined);
    jobs.answer(msg.poll.id, error);
    await done;
  };
  return { clock, polls, backfills, events, pollResults, backfill, jobs, poll };
}

describe('backfill orchestration', () => {
  it('a success after failed polls sends exactly one backfill for [last good poll, recovery poll start]', async () => {
    const s = setup();
    const m = record('iec-1', 'iec62056-21');
    await s.poll(m);
    const lastGood = s.clock.now();
    for (let i = 0; i < 4; i++) { s.clock.advance(900_000); await s.poll(m, 'no identification'); }
    s.clock.advance(900_000);
    const recovery = s.clock.now();
    await s.poll(m);
    assert.equal(s.backfills.length, 1);
    const b = s.backfills[0];
    assert.deepEqual(b.backfill, { from: lastGood, to: recovery });
    assert.equal(b.poll.kind, 'backfill');
    assert.equal(b.topic, 'iec-1');
    assert.equal(b.meter.protocol, 'iec62056-21');
    // Further good polls send nothing more while it runs (a poll now, before its timeout), and nothing after it succeeded.
    s.clock.advance(60_000); await s.poll(m);
    assert.equal(s.backfills.length, 1);
    const readings = Array.from({ length: 96 }, (_, i) => ({ meter: 'iec-1', obis: '1-0:1.8.0', time: lastGood + (i + 1) * 60_000, value: i, unit: 'kWh', quality: 256 }));
    assert.equal(s.backfill.answer(b.poll.id, null, { payload: readings }), true);
    assert.equal(s.backfill.answer(b.poll.id, null, { payload: readings }), false, 'a second answer ends nothing');
    const info = s.events.filter((e) => e.kind === 'backfill');
    assert.equal(info.length, 1);
    assert.equal(info[0].level, 'info');
    // 10:00 UTC is 11:00 in Berlin.
    assert.equal(info[0].event, 'backfill: iec-1: 96 readings from 2026-12-07 11:00:00 to 2026-12-07 12:15:00');
    s.clock.advance(900_000); await s.poll(m);
    assert.equal(s.backfills.length, 1);
    assert.equal(s.backfill.pending('iec-1'), null);
  });

  it('a backfill never counts as a poll: the poll status and poll results see polls only', async () => {
    const s = setup();
    const m = record('mb', 'mbus', { port: 10001 });
    await s.poll(m);
    s.clock.advance(900_000); await s.poll(m, 'timeout');
    s.clock.advance(900_000); await s.poll(m);
    const before = { ...s.jobs.state('mb') };
    s.backfill.answer(s.backfills[0].poll.id, 'the meter has no storage numbers');
    assert.deepEqual(s.jobs.state('mb'), before);
    assert.equal(s.jobs.answer(s.backfills[0].poll.id, null), false, 'poll jobs do not know backfill ids');
    assert.deepEqual(s.pollResults.map((r) => r.ok), [true, false, true]);
    assert.equal(s.events.filter((e) => e.kind === 'poll-failed').length, 1);
  });

  it('a protocol without backfill support never gets one', async () => {
    const s = setup();
    for (const m of [record('p1', 'p1', { port: 2001 }), record('sml', 'sml', { port: 7259 }), record('hex', 'hex', { port: 6211, profile: 'raw:0103' })]) {
      await s.poll(m);
      s.clock.advance(900_000); await s.poll(m, 'down');
      s.clock.advance(900_000); await s.poll(m);
    }
    assert.equal(s.backfills.length, 0);
    assert.deepEqual(['iec62056-21', 'mbus', 'g13', 'lorawan-platform', 'modbus-tcp', 'modbus-rtu', 'modbus-rtu-over-tcp', 'p1', 'sml', 'hex', 'lorawan'].filter(supportsBackfill),
      ['iec62056-21', 'mbus', 'g13', 'lorawan-platform', 'modbus-tcp', 'modbus-rtu', 'modbus-rtu-over-tcp']);
  });

  it('a node that answers msg.backfill.unsupported gets no further backfill until the definition changes', async () => {
    const s = setup();
    const m = record('mb-log', 'modbus-tcp', { port: 502 });
    const outage = async (r: MeterRecord) => { s.clock.advance(900_000); await s.poll(r, 'timeout'); s.clock.advance(900_000); await s.poll(r); };
    await s.poll(m);
    await outage(m);
    s.backfill.answer(s.backfills[0].poll.id, null, { payload: [], backfill: { unsupported: 'the register map has no log' } });
    assert.equal(s.events.filter((e) => e.kind === 'backfill')[0].event, 'backfill: mb-log: not possible: the register map has no log');
    await outage(m);
    assert.equal(s.backfills.length, 1);
    await outage(record('mb-log', 'modbus-tcp', { port: 502, profile: 'abb-a44' }));
    assert.equal(s.backfills.length, 2, 'another register map is tried');
  });

  it('a failed backfill is a warning, tried again on the next good poll, at most 3 times', async () => {
    const s = setup();
    const m = record('iec-2', 'iec62056-21');
    await s.poll(m);
    s.clock.advance(900_000); await s.poll(m, 'down');
    s.clock.advance(900_000); await s.poll(m);
    const span = s.backfills[0].backfill;
    for (let i = 0; i < 5; i++) {
      const last = s.backfills[s.backfills.length - 1];
      s.backfill.answer(last.poll.id, 'NAK to R5 P.01');
      s.clock.advance(900_000); await s.poll(m);
    }
    assert.equal(s.backfills.length, 3);
    assert.ok(s.backfills.every((b) => b.backfill!.from === span!.from && b.backfill!.to === span!.to), 'the same gap each time');
    const warnings = s.events.filter((e) => e.kind === 'backfill');
    assert.equal(warnings.length, 3);
    assert.ok(warnings.every((w) => w.level === 'warning'));
    assert.match(warnings[0].event, /attempt 1 of 3, tried again after the next successful poll\): NAK to R5 P\.01$/);
    assert.match(warnings[2].event, /attempt 3 of 3, given up/);
    // A backfill that never answers fails by its timeout.
    const t = setup();
    await t.poll(m);
    t.clock.advance(900_000); await t.poll(m, 'down');
    t.clock.advance(900_000); await t.poll(m);
    t.clock.advance(300_000);
    assert.match(t.events.filter((e) => e.kind === 'backfill')[0].event, /no answer within 300 s/);
  });

  it('after a restart, a meter whose newest stored reading is older than 2 intervals is backfilled on its first good poll', async () => {
    const s = setup();
    const stale = record('stale', 'mbus', { port: 10001 });
    const fresh = record('fresh', 'mbus', { port: 10002 });
    const newest = T0 - 5 * 3_600_000;
    s.backfill.noteLastReadings([
      { meter: 'stale', time: newest - 900_000 }, { meter: 'stale', time: newest },
      { meter: 'fresh', time: T0 - 900_000 },
    ]);
    await s.poll(stale);
    await s.poll(fresh);
    assert.deepEqual(s.backfills.map((b) => [b.topic, b.backfill]), [['stale', { from: newest, to: T0 }]]);
  });

  it('reaches at most EMS_BACKFILL_MAX_DAYS back and runs a bounded number at once', async () => {
    const s = setup({ maxDays: 2, maxRunning: 1 });
    const a = record('a', 'iec62056-21');
    const b = record('b', 'modbus-tcp', { port: 502 });
    s.backfill.noteLastReadings([{ meter: 'a', time: T0 - 40 * 86_400_000 }, { meter: 'b', time: T0 - 86_400_000 }]);
    await s.poll(a);
    await s.poll(b);
    assert.equal(s.backfills.length, 1, 'the second waits');
    assert.deepEqual(s.backfills[0].backfill, { from: T0 - 2 * 86_400_000, to: T0 });
    s.backfill.answer(s.backfills[0].poll.id, null, { payload: [], backfill: { truncated: true } });
    assert.equal(s.backfills.length, 2);
    assert.equal(s.backfills[1].topic, 'b');
    assert.equal(s.backfills[1].unit, 1, 'a Modbus backfill carries the poll hints');
    assert.match(s.events.find((e) => e.kind === 'backfill')!.event, /0 readings .* \(more than 10000: the oldest were dropped\)$/);
    // Two schedule nodes of one EMS share its slots.
    const slots = new BackfillSlots(1);
    const sent: string[] = [];
    const mk = (name: string) => new Backfiller({ send: (m) => sent.push(`${name}:${m.topic}`), addEvent: () => undefined, newId: () => `${name}${sent.length}`, clock: new FakeClock(T0), slots });
    const one = mk('one');
    const two = mk('two');
    const ok = { time: T0, ok: true, error: null, durationMs: 1 };
    one.noteLastReadings([{ meter: 'x', time: T0 - 86_400_000 }]);
    two.noteLastReadings([{ meter: 'y', time: T0 - 86_400_000 }]);
    one.onPoll(record('x', 'mbus'), { id: 'p', meter: 'x', due: T0, started: T0 }, ok, 0);
    two.onPoll(record('y', 'mbus'), { id: 'q', meter: 'y', due: T0, started: T0 }, ok, 0);
    assert.deepEqual(sent, ['one:x']);
    one.answer('one0', null, { payload: [] });
    assert.deepEqual(sent, ['one:x', 'two:y'], 'the freed slot goes to the other node');
    assert.equal(backfillMaxDays({}), 31);
    assert.equal(backfillMaxDays({ EMS_BACKFILL_MAX_DAYS: '7' }), 7);
    assert.throws(() => backfillMaxDays({ EMS_BACKFILL_MAX_DAYS: '0.5' }), /EMS_BACKFILL_MAX_DAYS must be a whole number of days 1\.\.366, got "0\.5"/);
  });
});

describe('the backfill message contract (lib/model/backfill-span) as the EMS relies on it', () => {
  it('keeps from < time <= to, adds BACKFILLED to the readings\' own flags and keeps the newest 10000', async () => {
    const { backfillAnswer, parseBackfill, BACKFILL_CAP } = await import('../../lib/model/backfill-span');
    assert.throws(() => parseBackfill({ from: '2026-12-01', to: 2 }), /msg\.backfill\.from must be a time in epoch ms, got "2026-12-01"/);
    const r = (time: number, quality?: number) => ({ meter: 'm', obis: '1-0:1.8.0', time, value: time, unit: 'kWh', ...(quality ? { quality } : {}) });
    const a = backfillAnswer([r(30, 4), r(10), r(20), r(40)], { from: 10, to: 30 });
    assert.deepEqual(a.readings.map((x) => [x.time, x.quality]), [[20, 256], [30, 256 | 4]]);
    assert.equal(a.truncated, false);
    const many = Array.from({ length: BACKFILL_CAP + 5 }, (_, i) => r(i + 1));
    const b = backfillAnswer(many, { from: 0, to: 1e9 });
    assert.equal(b.truncated, true);
    assert.equal(b.readings.length, BACKFILL_CAP);
    assert.equal(b.readings[0].time, 6, 'the oldest are dropped');
  });
});
