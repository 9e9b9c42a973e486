/**
 * Scenario (issue 19): a night base-load jump on a simulated meter raises the anomaly alarm, and a normal
 * night does not. No external peer: our Modbus meter simulator (eastron-sdm630, unit 1) runs on a fake
 * clock the test advances, so five weeks pass in seconds. Every 15 simulated minutes the project's Modbus
 * client (pollMeter on a bus from acquireBus, the profile's whole read plan) polls it over real Modbus TCP
 * on 127.0.0.1, and the readings go with the simulated time into a SqliteStore. The EMS's AlarmService
 * (openEmsServices, fake now, Europe/Berlin) reads that store through storeConsumption and ticks 5 s after
 * every hour has settled (WINDOW_SETTLE_MS after its end), as its 30 s timer would.
 *
 * Why factor 1.5 and min 0.5 kWh (the README's example) are safe here: the model's daily profile is the
 * same every day (base load plus three Gaussian peaks) and its only noise is +-4 % per 10 s bucket, which
 * averages over the 360 buckets of an hour to about 0.1 %. So a night hour varies week to week by a few Wh
 * and its 4-week median is its own value; with a 400 W base load the limit is max(1.5 x 0.4, 0.4 + 0.5) =
 * 0.9 kWh (the min dominates at night), far above a normal 0.4 kWh and far below the 2.5 kWh of a
 * 2500 W night. The test reports the closest a normal hour came to its limit.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { storeConsumption } from '../../lib/ems/alarms/consumption';
import type { ConsumptionFn } from '../../lib/ems/alarms/evaluate';
import { WINDOW_SETTLE_MS } from '../../lib/ems/alarms/service';
import type { AlarmNotification } from '../../lib/ems/alarms/types';
import { openEmsServices, type EmsServices } from '../../lib/ems/services';
import { fromLocal, offsetAt, toLocal } from '../../lib/model/time';
import { acquireBus, releaseBus, type ModbusBus } from '../../lib/protocols/modbus';
import { planReads } from '../../lib/protocols/modbus/plan';
import { loadProfile } from '../../lib/protocols/modbus/profile';
import { pollMeter } from '../../lib/protocols/modbus/poll';
import { ModbusMeterSimulator } from '../../lib/sim/modbus-meter';
import { SqliteStore } from '../../lib/store/sqlite';
import { within } from '../fixtures/within';

const TZ = 'Europe/Berlin';
const H = 3_600_000;
const STEP = 15 * 60_000;
/** The alarm clock ticks 5 s after a window has settled (WINDOW_SETTLE_MS after its end): each hour is judged at that tick. */
const TICK_AFTER = WINDOW_SETTLE_MS + 5_000;
const ENERGY = '1-0:1.8.0';
const BASE_W = 400;
const JUMP_W = 2500;
const at = (month: number, day: number, hour: number) => fromLocal({ year: 2026, month, day, hour, minute: 0, second: 0, millisecond: 0 }, TZ);

// Summer time throughout (Berlin is UTC+2 from 29 March to 25 October 2026): the simulator's model has a
// fixed UTC offset, so the whole scenario stays inside one offset (checked below).
const START = at(6, 1, 0); // Monday 1 June 2026, 00:00
const JUMP_FROM = at(7, 9, 2); // Thursday 9 July, 02:00: 5 weeks and 3 days of normal load before
const JUMP_TO = at(7, 9, 4);
const DAY_JUMP_FROM = at(7, 10, 7); // Friday 10 July, 07:00-09:00: the same jump on top of the morning peak
const DAY_JUMP_TO = at(7, 10, 9);
const END = at(7, 10, 12);

interface Seen { at: number; n: AlarmNotification }

describe('anomaly alarm against the Modbus meter simulator, five simulated weeks', () => {
  let now = START;
  let sim: ModbusMeterSimulator;
  let bus: ModbusBus;
  let services: EmsServices;
  let store: SqliteStore;
  let nightRule: string;
  let allDayRule: string;
  const seen: Seen[] = [];
  /** The simulator's own import register (kWh, unrounded) at every hour end. */
  const simKWh = new Map<number, number>();
  /** The windows the alarm service asked the store about at each tick, with the answer. */
  let asked = new Map<string, number | null>();
  /** Per tick of the night rule's window: the hour's consumption and the past weeks' answers (for the report). */
  const hours: { to: number; value: number | null; past: (number | null)[] }[] = [];
  let polls = 0;
  let readingsStored = 0;

  before(async () => {
    for (const t of [START, END]) assert.equal(offsetAt(t, TZ), 120 * 60_000, 'the scenario stays in Berlin summer time');
    sim = new ModbusMeterSimulator({
      units: [{ unit: 1, profile: 'eastron-sdm630', model: { baseLoadW: BASE_W, peakW: 2500, utcOffsetMinutes: 120 } }],
      clock: () => now, start: START,
    });
    const port = await within(sim.listen(0, '127.0.0.1'), 5000, 'the Modbus simulator to listen');
    bus = acquireBus({ transport: 'tcp', host: '127.0.0.1', port }, { timeout: 2000, retries: 0 });
    store = new SqliteStore({ path: ':memory:' });
    services = await within(openEmsServices({
      file: ':memory:', alarmTickMs: 0, now: () => now, timeZone: TZ,
      env: { EMS_ADMIN_USER: 'boss', EMS_ADMIN_PASSWORD: 'chief-pass-0417' },
    }), 10_000, 'openEmsServices');
    const consumption = storeConsumption(() => store, TZ);
    // A pass-through spy: what the service asked and got, for the report; the answers are the store's.
    const spy: ConsumptionFn = async (meter, obis, from, to) => {
      const a = await consumption(meter, obis, from, to);
      asked.set(`${from}-${to}`, a ? a.value : null);
      return a;
    };
    services.alarms.setConsumption(spy);
    const folder = services.registry.createFolder({ name: 'Plant A' })._id;
    services.registry.createMeter({ name: 'Main incomer', folder_id: folder, protocol: 'modbus-tcp', profile: 'eastron-sdm630', interval_time: 900 }, undefined, 'main');
    const condition = { type: 'anomaly', window: '1h', weeks: 4, factor: 1.5, min: 0.5 };
    nightRule = services.alarms.createRule({ name: 'Night base load', subject: { meter: 'main' }, condition, severity: 'warning', active: { from: '22:00', to: '06:00' } }, 'boss').id;
    // The same condition at every hour: shows when the condition itself holds, so the night rule's silence
    // in the daytime is its active hours, not a quiet condition.
    allDayRule = services.alarms.createRule({ name: 'Any hour', subject: { meter: 'main' }, condition, severity: 'info' }, 'boss').id;
    services.alarms.on('transition', (n: AlarmNotification) => seen.push({ at: now, n }));
  });

  after(async () => {
    if (bus) await within(releaseBus(bus), 5000, 'the Modbus bus to close');
    if (sim) await within(sim.close(), 5000, 'the Modbus simulator to close');
    if (store) await within(store.close(), 5000, 'the reading store to close');
    services?.close();
  });

  const plan = planReads(loadProfile('eastron-sdm630'));
  /** The next poll's simulated time. */
  let next = START;

  /** Runs the simulated time up to `until`: base-load changes, a poll every 15 min, a tick 5 s after every hour end. */
  async function runTo(until: number): Promise<void> {
    for (let t = next; t <= until; t = next) {
      next = t + STEP;
      now = t;
      if (t === JUMP_FROM || t === DAY_JUMP_FROM) sim.setBaseLoad(1, JUMP_W);
      if (t === JUMP_TO || t === DAY_JUMP_TO) sim.setBaseLoad(1, BASE_W);
      const { readings } = await within(pollMeter(bus, plan, { meter: 'main', unit: 1, now: () => now }), 5000, `the poll of unit 1 at ${new Date(t).toISOString()}`);
      polls++;
      readingsStored += await within(store.write(readings), 5000, `the store write at ${new Date(t).toISOString()}`);
      if (toLocal(t, TZ).minute !== 0) continue;
      simKWh.set(t, sim.valueOf(1, ENERGY));
      if (t === START) continue;
      now = t + TICK_AFTER;
      asked = new Map();
      await within(services.alarms.tick(), 5000, `the alarm tick at ${new Date(now).toISOString()}`);
      const past = [1, 2, 3, 4].map((k) => asked.get(`${t - H - k * 7 * 24 * H}-${t - k * 7 * 24 * H}`) ?? null);
      hours.push({ to: t, value: asked.get(`${t - H}-${t}`) ?? null, past });
    }
    now = until;
  }

  const ofRule = (rule: string) => seen.filter((s) => s.n.ruleId === rule);
  const simUsed = (to: number) => simKWh.get(to)! - simKWh.get(to - H)!;
  const median = (xs: number[]) => { const s = [...xs].sort((a, b) => a - b); const m = s.length >> 1; return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2; };

  it('5 weeks and 3 days of normal load: hours evaluated against a baseline, no alarm at all', async (t) => {
    const started = Date.now();
    await within(runTo(JUMP_FROM), 45_000, 'the normal weeks to run');
    assert.deepEqual(seen.map((s) => `${s.n.rule} ${s.n.transition}`), [], 'no anomaly alarm in the normal weeks');
    // An hour is evaluated when it has data and at least ceil(4 / 2) past weeks do.
    const evaluated = hours.filter((h) => h.value !== null && h.past.filter((p) => p !== null).length >= 2);
    const withFour = evaluated.filter((h) => h.past.every((p) => p !== null));
    const nights = evaluated.filter((h) => { const l = toLocal(h.to - H, TZ).hour; return l >= 22 || l < 6; });
    assert.ok(evaluated.length >= 24 * 24, `at least 24 days of hours had a baseline (${evaluated.length})`);
    assert.ok(withFour.length >= 10 * 24, `at least 10 days of hours had all 4 past weeks (${withFour.length})`);
    // The service's answers are the simulator's energy, within float32 register resolution.
    for (const h of evaluated) assert.ok(Math.abs(h.value! - simUsed(h.to)) < 0.002, `hour to ${new Date(h.to).toISOString()}: store ${h.value} kWh, simulator ${simUsed(h.to)} kWh`);
    // For the report: how far an hour strays from its median, and the least headroom below the limit.
    let spread = 0;
    let closest = { headroom: Infinity, to: 0, value: 0, limit: 0 };
    for (const h of evaluated) {
      const base = median(h.past.filter((p): p is number => p !== null));
      const limit = Math.max(base * 1.5, base + 0.5);
      spread = Math.max(spread, Math.abs(h.value! / base - 1));
      if (limit - h.value! < closest.headroom) closest = { headroom: limit - h.value!, to: h.to, value: h.value!, limit };
    }
    const nightValues = nights.map((h) => h.value!);
    t.diagnostic(`${polls} polls over Modbus TCP, ${readingsStored} readings stored, ${hours.length} hour ends ticked, ${evaluated.length} hours evaluated against a baseline (${withFour.length} with all 4 weeks, ${nights.length} night hours), ${((Date.now() - started) / 1000).toFixed(1)} s real time`);
    t.diagnostic(`normal night hours used ${Math.min(...nightValues).toFixed(3)}..${Math.max(...nightValues).toFixed(3)} kWh; an hour strayed at most ${(100 * spread).toFixed(2)} % from its median; the least headroom: ${closest.value.toFixed(3)} kWh against a limit of ${closest.limit.toFixed(3)} kWh in the hour to ${new Date(closest.to).toISOString()}`);
  });

  it('a night base-load jump (400 W -> 2500 W, 02:00-04:00) raises at 03:00 with the hour\'s energy and the 4-week limit, and clears at 05:00', async (t) => {
    await within(runTo(JUMP_FROM + H + TICK_AFTER), 10_000, 'the first jump hour');
    const raised = ofRule(nightRule);
    assert.deepEqual(raised.map((s) => [s.n.transition, s.at]), [['raised', JUMP_FROM + H + TICK_AFTER]], 'raised at the end of the first hour of the jump');
    const a = raised[0].n;
    const used = simUsed(JUMP_FROM + H);
    assert.ok(Math.abs(a.value! - used) < 0.002, `value ${a.value} kWh is the simulator's energy in 02:00-03:00 (${used} kWh)`);
    assert.ok(Math.abs(used - JUMP_W / 1000) < 0.03 * JUMP_W / 1000, `the simulator used about ${JUMP_W} W x 1 h (${used} kWh)`);
    const past = [1, 2, 3, 4].map((k) => simUsed(JUMP_FROM + H - k * 7 * 24 * H));
    const base = median(past);
    const limit = Math.max(1.5 * base, base + 0.5);
    assert.ok(Math.abs(a.limit! - limit) < 0.002, `limit ${a.limit} kWh is max(1.5 x, + 0.5) of the median ${base} of the simulator's same hours ${past.join(', ')}`);
    assert.equal(a.unit, 'kWh');
    assert.equal(a.meterId, 'main');
    assert.match(a.message, /^Night base load: consumption [\d.]+ kWh in the hour from 2026-07-09 02:00 against a median of [\d.]+ kWh over 4 week\(s\) at Main incomer$/);
    assert.equal(services.alarms.list({ state: 'active', rule: nightRule }).length, 1);

    await within(runTo(JUMP_TO + TICK_AFTER), 10_000, 'the second jump hour');
    assert.equal(ofRule(nightRule).length, 1, 'still the one alarm in 03:00-04:00, nothing new');
    await within(runTo(JUMP_TO + H + TICK_AFTER), 10_000, 'the hour back to normal');
    const night = ofRule(nightRule);
    assert.deepEqual(night.map((s) => [s.n.transition, s.at]), [['raised', JUMP_FROM + H + TICK_AFTER], ['cleared', JUMP_TO + H + TICK_AFTER]], 'cleared at the end of the first normal hour (04:00-05:00)');
    assert.equal(services.alarms.get(Number(a.alarmId)).state, 'cleared');
    t.diagnostic(`jump hour 02:00-03:00: ${a.value} kWh (simulator ${used.toFixed(4)} kWh) against limit ${a.limit} kWh (median ${base.toFixed(4)} of ${past.map((p) => p.toFixed(4)).join(', ')}); message: ${a.message}`);
  });

  it('the next night is normal again and raises nothing', async () => {
    const from = seen.length;
    await within(runTo(JUMP_FROM + 28 * H + TICK_AFTER), 10_000, 'the next night (to 06:00)');
    assert.deepEqual(seen.slice(from).map((s) => `${s.n.rule} ${s.n.transition}`), []);
  });

  it('a daytime jump on top of the morning peak: the condition holds (the all-hours rule raises), the night rule stays silent (active hours)', async (t) => {
    const from = seen.length;
    await within(runTo(END), 10_000, 'the morning');
    const day = seen.slice(from);
    assert.deepEqual(ofRule(nightRule).slice(2), [], 'the night rule raises nothing in the daytime');
    assert.deepEqual(day.map((s) => [s.n.rule, s.n.transition, s.at]), [
      ['Any hour', 'raised', DAY_JUMP_FROM + H + TICK_AFTER],
      ['Any hour', 'cleared', DAY_JUMP_TO + H + TICK_AFTER],
    ]);
    const peak = hours.find((h) => h.to === DAY_JUMP_FROM + H)!;
    const usual = hours.find((h) => h.to === DAY_JUMP_FROM + H - 24 * H)!;
    assert.ok(usual.value! > 2 * hours.find((h) => h.to === JUMP_FROM + H - 24 * H)!.value!, 'the usual 07:00-08:00 hour (the morning peak) uses over twice a night hour');
    t.diagnostic(`07:00-08:00 usually ${usual.value!.toFixed(3)} kWh, with the jump ${peak.value!.toFixed(3)} kWh (all-hours rule: value ${day[0].n.value}, limit ${day[0].n.limit})`);
  });
});
