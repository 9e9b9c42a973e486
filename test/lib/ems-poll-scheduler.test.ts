import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { checkMeterDefinition } from '../../lib/ems/meter-definition';
import { PollScheduler, type ScheduledMeter } from '../../lib/ems/poll-scheduler';
import { endpointOf, pollLimitsFromEnv } from '../../lib/ems/poll-endpoints';
import { phaseOffset } from '../../lib/ems/schedule';
import { HeapClock } from '../fixtures/fake-clock';

const MON = Date.UTC(2026, 10, 16, 0, 0); // Monday 00:00 UTC

/** n Modbus TCP meters, ten behind each gateway (ip:502, unit 1..10). */
function fleet(n: number, interval: number, extra: Record<string, unknown> = {}): ScheduledMeter[] {
  return Array.from({ length: n }, (_, i) => ({
    id: `meter-${i}`,
    definition: checkMeterDefinition({
      name: `Meter ${i}`, protocol: 'modbus-tcp', profile: 'eastron-sdm630', interval_time: interval,
      ip_address: `10.${(i / 2560) | 0}.${((i / 10) | 0) % 256}.1`, port: 502, connection_address: String((i % 10) + 1), ...extra,
    }),
  }));
}

/** A scheduler whose polls end `latency(id)` ms after they start on the fake clock (never, for Infinity). */
function harness(meters: ScheduledMeter[], latency: (id: string) => number, options: Partial<ConstructorParameters<typeof PollScheduler>[1]> = {}) {
  const clock = new HeapClock(MON);
  const polls: { id: string; due: number; started: number }[] = [];
  const open = new Map<string, number>();
  let overlaps = 0;
  let maxOpen = 0;
  let nowOpen = 0;
  const sched = new PollScheduler((m, due) => {
    polls.push({ id: m.id, due, started: clock.now() });
    const n = (open.get(m.id) ?? 0) + 1;
    if (n > 1) overlaps++;
    open.set(m.id, n);
    maxOpen = Math.max(maxOpen, ++nowOpen);
    const ms = latency(m.id);
    if (!Number.isFinite(ms)) return new Promise<void>(() => undefined);
    return new Promise<void>((resolve) => clock.setTimeout(() => { open.set(m.id, open.get(m.id)! - 1); nowOpen--; resolve(); }, ms));
  }, { clock, timeZone: 'UTC', ...options });
  sched.set(meters);
  return { clock, sched, polls, overlaps: () => overlaps, maxOpen: () => maxOpen };
}

describe('poll scheduler at fleet scale (fake clock)', () => {
  it('polls each of 10,000 meters once per 60 s interval at its own phase, never twice at once, and on time', async () => {
    const meters = fleet(10_000, 60);
    const { clock, sched, polls, overlaps } = harness(meters, (id) => 100 + (Number(id.slice(6)) % 900)); // 0.1 .. 1 s
    await clock.advance(180_000);
    const perMeter = new Map<string, number[]>();
    for (const p of polls) perMeter.set(p.id, [...(perMeter.get(p.id) ?? []), p.due]);
    assert.equal(perMeter.size, 10_000, 'every meter was polled');
    for (const m of meters) {
      const dues = perMeter.get(m.id)!;
      assert.equal(dues.length, 3, `${m.id} polled ${dues.length} times in three intervals`);
      const phase = phaseOffset(m.id, 60_000);
      assert.ok(dues.every((d, i) => d === MON + phase + i * 60_000 + (phase === 0 ? 60_000 : 0)), `${m.id} due at ${dues.map((d) => d - MON)} for phase ${phase}`);
    }
    assert.equal(overlaps(), 0, 'no meter polled twice concurrently');
    assert.ok(polls.every((p) => p.started === p.due), 'every poll started at its due time');
    const b = sched.backlog();
    assert.deepEqual({ waiting: b.waiting, skipped: b.skipped, started: b.started, late_p99_ms: b.late_p99_ms }, { waiting: 0, skipped: 0, started: 30_000, late_p99_ms: 0 });
    assert.ok(new Set(meters.map((m) => phaseOffset(m.id, 60_000))).size === 60, 'the phases spread over all 60 seconds');
    sched.stop();
    assert.equal(clock.pending <= 10_000, true);
  });

  it('does the same bounded work per poll for 1,000 and 10,000 meters (a counter of work, not a timing)', async () => {
    const perPoll = async (n: number) => {
      const { clock, sched } = harness(fleet(n, 60), () => 500);
      await clock.advance(60_000); // the first interval settles the heap
      const w0 = sched.getStats();
      await clock.advance(120_000);
      const w1 = sched.getStats();
      sched.stop();
      return (w1.work - w0.work) / (w1.started - w0.started);
    };
    const small = await perPoll(1_000);
    const large = await perPoll(10_000);
    // A walk over the meters per result would make the large fleet ~10x the small one; a heap adds ~3 steps (log2 10).
    assert.ok(large < small + 8, `work per poll: ${small.toFixed(1)} steps at 1,000 meters, ${large.toFixed(1)} at 10,000`);
    assert.ok(large < 40, `work per poll at 10,000 meters: ${large.toFixed(1)} steps`);
  });

  it('skips and counts the turns of a stuck poll, and keeps polling the other meters', async () => {
    const meters = fleet(3, 10, { ip_address: '10.9.0.1' });
    const { clock, sched, polls } = harness(meters, (id) => (id === 'meter-1' ? Infinity : 200));
    await clock.advance(60_000);
    const count = (id: string) => polls.filter((p) => p.id === id).length;
    assert.deepEqual([count('meter-0'), count('meter-1'), count('meter-2')], [6, 1, 6]);
    assert.deepEqual(sched.state('meter-1'), { next_due: sched.nextDue('meter-1'), running: true, waiting_since: null, skipped: 5, started: 1 });
    assert.equal(sched.state('meter-0')!.skipped, 0);
    const b = sched.backlog();
    assert.deepEqual({ running: b.running, waiting: b.waiting, skipped: b.skipped }, { running: 1, waiting: 0, skipped: 5 });
    assert.equal(sched.pollNow('meter-1'), false, 'poll now refuses a busy meter');
    sched.stop();
  });

  it('runs one poll at a time per serial bus: due polls wait in due order, show in the backlog and start when the bus frees', async () => {
    const meters = Array.from({ length: 6 }, (_, i) => ({
      id: `rtu-${i}`, definition: checkMeterDefinition({ name: `RTU ${i}`, protocol: 'modbus-rtu', profile: 'eastron-sdm630', interval_time: 60, ip_address: '/dev/ttyUSB0', connection_address: String(i + 1) }),
    }));
    const { clock, sched, polls, maxOpen } = harness(meters, () => 25_000);
    const byDue = [...meters].sort((a, b) => phaseOffset(a.id, 60_000) - phaseOffset(b.id, 60_000) || meters.indexOf(a) - meters.indexOf(b));
    const lastDue = MON + Math.max(...meters.map((m) => phaseOffset(m.id, 60_000) || 60_000));
    await clock.advance(lastDue - MON);
    const b = sched.backlog();
    assert.ok(b.running === 1 && b.waiting >= 2, `running ${b.running}, waiting ${b.waiting}`);
    assert.ok(b.oldest_waiting_due !== null && b.oldest_waiting_due < clock.now(), 'the oldest waiting poll is named');
    const waiter = meters.find((m) => sched.state(m.id)!.waiting_since !== null)!;
    assert.equal(sched.state(waiter.id)!.running, false);
    await clock.advance(6 * 25_000);
    assert.equal(maxOpen(), 1, 'never two polls on one bus');
    assert.deepEqual(polls.slice(0, 6).map((p) => p.id), byDue.map((m) => m.id), 'polls start in due order');
    assert.ok(polls.slice(1, 6).every((p) => p.started > p.due), 'the waiting ones started late, when the bus freed');
    assert.ok(sched.backlog().skipped > 0, 'a meter still waiting when its next turn came skipped that turn');
    sched.stop();
  });

  it('bounds the polls running in all, and forgets a deleted meter\'s waiting poll', async () => {
    const meters = fleet(50, 10).map((m, i) => ({ ...m, definition: { ...m.definition, ip_address: `10.1.${i}.1` } }));
    const { clock, sched, maxOpen } = harness(meters, () => Infinity, { limits: { maxRunning: 5, perEndpoint: 4 } });
    await clock.advance(10_000);
    assert.equal(maxOpen(), 5);
    assert.deepEqual({ running: sched.getStats().running, waiting: sched.getStats().waiting }, { running: 5, waiting: 45 });
    sched.set(meters.slice(0, 10));
    const s = sched.getStats();
    assert.equal(s.meters, 10);
    const kept = meters.slice(0, 10).filter((m) => sched.state(m.id)!.waiting_since !== null).length;
    assert.equal(s.waiting, kept, 'only the kept meters\' polls still wait');
    assert.equal(sched.backlog().waiting, kept);
    sched.stop();
  });

  it('groups meters by endpoint and reads its bounds from the environment, naming a bad value', () => {
    const limits = pollLimitsFromEnv({ EMS_POLL_MAX_RUNNING: '200', EMS_POLL_PER_ENDPOINT: '2' });
    assert.deepEqual(limits, { maxRunning: 200, perEndpoint: 2 });
    assert.deepEqual(pollLimitsFromEnv({}), { maxRunning: 1000, perEndpoint: 4 });
    const d = (extra: Record<string, unknown>) => checkMeterDefinition({ name: 'm', protocol: 'modbus-tcp', profile: 'eastron-sdm630', ...extra });
    assert.deepEqual(endpointOf(d({ ip_address: '10.0.0.5', port: 502 }), limits), { key: 'modbus-tcp 10.0.0.5:502', limit: 2 });
    assert.deepEqual(endpointOf(d({ protocol: 'mbus', ip_address: '10.0.0.5', port: 10001 }), limits), { key: 'mbus 10.0.0.5:10001', limit: 1 });
    assert.deepEqual(endpointOf(d({ protocol: 'modbus-rtu', ip_address: '/dev/ttyUSB1' }), limits), { key: 'serial /dev/ttyUSB1', limit: 1 });
    assert.throws(() => pollLimitsFromEnv({ EMS_POLL_PER_ENDPOINT: '0' }), /EMS_POLL_PER_ENDPOINT "0" must be a whole number from 1 to 100000/);
  });
});
