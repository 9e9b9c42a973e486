/** Alarm lifecycle: delay, clear_after_s, hold-off (no flapping storm), active hours, events per transition, restart. */
import { afterEach, beforeEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { isActive, step } from '../../lib/ems/alarms/lifecycle';
import { checkRule } from '../../lib/ems/alarms/rules';
import type { AlarmNotification } from '../../lib/ems/alarms/types';
import { openEmsServices, type EmsServices } from '../../lib/ems/services';
import type { Reading } from '../../lib/model';

const T0 = Date.parse('2026-12-07T10:00:00Z'); // Monday 11:00 in Berlin
const ENV = { EMS_ADMIN_USER: 'boss', EMS_ADMIN_PASSWORD: 'chief-pass-0417' };
const POWER = { type: 'threshold', obis: '1-0:1.7.0', direction: 'above', value: 50, unit: 'kW' };

describe('alarm lifecycle', () => {
  let services: EmsServices;
  let clock: number;
  let seen: AlarmNotification[];
  const kw = (value: number, m = 'm1'): Reading => ({ meter: m, time: clock, obis: '1-0:1.7.0', value, unit: 'kW' });
  const feed = (...r: Reading[]) => services.alarms.onReadings(r);
  const open = async (file = ':memory:') => {
    services = await openEmsServices({ file, env: ENV, now: () => clock, alarmTickMs: 0, timeZone: 'Europe/Berlin' });
    services.alarms.on('transition', (n: AlarmNotification) => seen.push(n));
  };
  const setup = async (file?: string) => {
    await open(file);
    const f = services.registry.createFolder({ name: 'Plant A' });
    services.registry.createMeter({ name: 'Main', folder_id: f._id, protocol: 'modbus-tcp', profile: 'eastron-sdm630', interval_time: 60 }, undefined, 'm1');
  };
  const alarmEvents = () => services.events.query({ filter: 'alarm', limit: 1000 });

  beforeEach(() => { clock = T0; seen = []; });
  afterEach(() => { try { services.close(); } catch { /* closed in the test */ } });

  it('a window\'s result is judged against the active hours at the window\'s start, not at the tick that evaluates it', () => {
    const rule = { delay_s: 0, clear_after_s: 0, active: { days: [1, 2, 3, 4, 5, 6, 7], from: '22:00', to: '06:00' } };
    const result = (at: number) => ({ meter: 'm1', state: 'true' as const, value: 3, limit: 1, unit: 'kWh', text: 'hour', at });
    const six = Date.parse('2026-12-08T05:05:00Z'); // 06:05 in Berlin: outside the rule's hours
    const ctx = { rule, open: false, now: six, timeZone: 'Europe/Berlin' };
    assert.equal(step(undefined, result(Date.parse('2026-12-08T04:00:00Z')), ctx).action, 'raise', 'the hour 05:00-06:00 lies inside 22:00-06:00');
    assert.equal(step(undefined, result(Date.parse('2026-12-07T20:00:00Z')), { ...ctx, now: Date.parse('2026-12-07T21:05:00Z') }).action, 'none', 'the hour 21:00-22:00, judged at 22:05, lies outside');
  });

  it('delay: pending until the condition held delay_s (a dip restarts it); clear_after_s: false that long before clearing', async () => {
    await setup();
    services.alarms.createRule({ name: 'Peak', subject: { meter: 'm1' }, condition: POWER, delay_s: 60, clear_after_s: 120 }, 'boss');
    await feed(kw(60));
    clock += 30_000; await services.alarms.tick();
    await feed(kw(40)); // the dip restarts the delay
    clock += 10_000; await feed(kw(70));
    clock += 59_000; await services.alarms.tick();
    assert.equal(services.alarms.list({ state: 'active' }).length, 0, '59 s held');
    clock += 1000; await services.alarms.tick();
    const [a] = services.alarms.list({ state: 'active' });
    assert.equal(a.raised_at, clock, 'raised by the clock once 60 s held');
    await feed(kw(10));
    clock += 119_000; await services.alarms.tick();
    assert.equal(services.alarms.get(a.id).state, 'raised');
    clock += 1000; await services.alarms.tick();
    assert.equal(services.alarms.get(a.id).state, 'cleared');
    assert.deepEqual(seen.map((n) => n.transition), ['raised', 'cleared']);
  });

  it('hold-off: a flapping value reopens the same alarm (one id, raise_count counts); after hold_off_s a new alarm', async () => {
    await setup();
    services.alarms.createRule({ name: 'Peak', subject: { meter: 'm1' }, condition: POWER, hold_off_s: 300 }, 'boss');
    for (let i = 0; i < 10; i++) {
      await feed(kw(60)); clock += 10_000;
      await feed(kw(40)); clock += 10_000;
    }
    const all = services.alarms.list({});
    assert.equal(all.length, 1, 'one alarm, not ten');
    assert.deepEqual([all[0].state, all[0].raise_count], ['cleared', 10]);
    assert.deepEqual(seen.slice(0, 4).map((n) => n.transition), ['raised', 'cleared', 'reopened', 'cleared']);
    assert.ok(seen.every((n) => n.alarmId === String(all[0].id)));
    assert.deepEqual(seen.slice(0, 3).map((n) => n.raiseCount), [1, 1, 2]);
    clock += 301_000;
    await feed(kw(60));
    const now = services.alarms.list({});
    assert.equal(now.length, 2, 'back after the hold-off: a new alarm');
    assert.equal(now[0].raise_count, 1);
    // Every transition is one alarm event in the event log.
    assert.equal(alarmEvents().length, seen.length);
    assert.equal(seen.length, 21);
    const raised = alarmEvents().at(-1)!;
    assert.deepEqual([raised.kind, raised.level, raised.meter_id, raised.meter_name], ['alarm', 'warning', 'm1', 'Main']);
    assert.match(raised.event, new RegExp(`^alarm #${all[0].id} raised: Peak: 1-0:1\\.7\\.0 60 kW above 50 kW at Main$`));
  });

  it('active hours (local time in the EMS zone): a night rule does not raise by day, does at night', async () => {
    await setup();
    services.alarms.createRule({ name: 'Night', subject: { meter: 'm1' }, condition: POWER, active: { days: [1, 2, 3, 4, 5], from: '22:00', to: '06:00' } }, 'boss');
    await feed(kw(80)); // Monday 11:00 Berlin
    clock += 60_000; await services.alarms.tick();
    assert.equal(services.alarms.list({}).length, 0);
    clock = Date.parse('2026-12-07T21:30:00Z'); // Monday 22:30 Berlin
    await feed(kw(80));
    assert.equal(services.alarms.list({ state: 'raised' }).length, 1);
    assert.equal(isActive({ days: [5], from: '22:00', to: '06:00' }, Date.parse('2026-12-12T04:00:00Z'), 'Europe/Berlin'), true, 'Saturday 05:00 belongs to Friday night');
    assert.equal(isActive({ days: [5], from: '22:00', to: '06:00' }, Date.parse('2026-12-13T04:00:00Z'), 'Europe/Berlin'), false, 'Sunday 05:00 belongs to Saturday night');
  });

  it('survives a restart: the same database file answers the raised alarm, which then clears as the same alarm', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ems-alarms-'));
    const file = path.join(dir, 'ems.db');
    try {
      await setup(file);
      const rule = services.alarms.createRule({ name: 'Peak', subject: { meter: 'm1' }, condition: POWER }, 'boss');
      await feed(kw(90));
      const [a] = services.alarms.list({ state: 'active' });
      services.close();
      clock += 60_000;
      await open(file);
      assert.deepEqual(services.alarms.getRule(rule.id).condition, rule.condition);
      assert.deepEqual(services.alarms.list({ state: 'active' }).map((x) => [x.id, x.state, x.value]), [[a.id, 'raised', 90]]);
      await feed(kw(90));
      assert.equal(services.alarms.list({}).length, 1, 'still raised: no second alarm');
      await feed(kw(20));
      assert.equal(services.alarms.get(a.id).state, 'cleared');
    } finally {
      try { services.close(); } catch { /* closed */ }
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('deleting or disabling a rule clears its open alarms; rules are checked field by field', async () => {
    await setup();
    const rule = services.alarms.createRule({ name: 'Peak', subject: { meter: 'm1' }, condition: POWER }, 'boss');
    await feed(kw(90));
    services.alarms.updateRule(rule.id, { enabled: false }, 'boss');
    assert.equal(services.alarms.list({ state: 'active' }).length, 0);
    await feed(kw(95));
    assert.equal(services.alarms.list({ state: 'active' }).length, 0, 'a disabled rule raises nothing');
    services.alarms.updateRule(rule.id, { enabled: true }, 'boss');
    await feed(kw(96));
    assert.equal(services.alarms.list({ state: 'active' }).length, 1);
    services.alarms.deleteRule(rule.id, 'boss');
    assert.equal(services.alarms.list({ state: 'active' }).length, 0);
    const bad = (body: unknown, msg: RegExp) => assert.throws(() => checkRule(body), (e: Error & { status?: number }) => e.status === 400 && msg.test(e.message));
    bad({ name: 'x', subject: { meter: 'm1' }, condition: { ...POWER, unit: 'furlongs' } }, /^condition\.unit "furlongs" must be a unit/);
    bad({ name: 'x', subject: { meter: 'm1' }, condition: { ...POWER, obis: 'power' } }, /^condition\.obis "power" must be an OBIS code/);
    bad({ name: 'x', subject: { meter: 'm1' }, condition: { type: 'window_consumption', window: '2h', above: 3 } }, /^condition\.window "2h" must be one of 15m, 1h, 1d/);
    bad({ name: 'x', subject: { meter: 'm1' }, condition: { type: 'anomaly', weeks: 52 } }, /^condition\.weeks 52 must be a whole number from 1 to 12/);
    bad({ name: 'x', subject: { meter: 'm1' }, condition: { type: 'boom' } }, /^condition\.type "boom" must be one of threshold, stale/);
    bad({ name: 'x', condition: { type: 'stale' } }, /^subject is required for a stale rule/);
    bad({ name: 'x', subject: { meter: 'm1' }, condition: POWER, severity: 'fatal' }, /^severity "fatal" must be one of info, warning, critical/);
    bad({ name: 'x', subject: { meter: 'm1' }, condition: POWER, active: { from: '25:00' } }, /^active\.from "25:00" must be a local time/);
    bad({ name: 'x', subject: { meter: 'm1' }, condition: { type: 'stale' }, hysteresis: 2 }, /^hysteresis 2 must be used with a threshold condition only/);
    bad({ name: 'x', subject: { folder: 'f', scope: 'tree' }, condition: POWER }, /^subject\.scope "tree" must be "folder"/);
    bad({ name: 'x', subject: { meter: 'm1' }, condition: POWER, notify: 'everyone' }, /^notify "everyone" must be "subscribers" or a list/);
    assert.throws(() => services.alarms.createRule({ name: 'x', subject: { meter: 'nope' }, condition: POWER }, 'boss'), /subject\.meter "nope" is not a meter/);
  });
});
