/**
 * The edges of the AlarmService's per-pair state (lib/ems/alarms/pairs.ts, hot-paths.ts): a pair that goes
 * idle and comes back, a stale deadline moved by a late reading, rules changed or deleted while pairs are
 * pending, a meter moved to another folder, the order of raises within a batch and a tick, the value that
 * raised and the value that cleared an alarm, and the summary of active alarms.
 */
import { afterEach, beforeEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { AlarmNotification } from '../../lib/ems/alarms/types';
import { openEmsServices, type EmsServices } from '../../lib/ems/services';
import type { Reading } from '../../lib/model';

const T0 = Date.parse('2026-12-07T10:00:00Z');
const S = 1000;
const POWER = '1-0:1.7.0';
const above = (value: number) => ({ type: 'threshold', obis: POWER, direction: 'above', value, unit: 'kW' });

describe('alarm pairs: idle, pending, moved, reordered', () => {
  let services: EmsServices;
  let clock: number;
  let hallA: string;
  let hallB: string;
  let seen: AlarmNotification[];
  const meter = (id: string, folderId: string, interval = 60) => services.registry.createMeter({ name: `Meter ${id}`, folder_id: folderId, protocol: 'modbus-tcp', profile: 'eastron-sdm630', interval_time: interval }, undefined, id);
  const rule = (body: Record<string, unknown>) => services.alarms.createRule({ severity: 'warning', ...body }, 'boss');
  const kw = (m: string, value: number, time = clock): Reading => ({ meter: m, time, obis: POWER, value, unit: 'kW' });
  const feed = (...readings: Reading[]) => services.alarms.onReadings(readings);
  const at = async (t: number) => { clock = t; await services.alarms.tick(); };
  /** The active alarms as "rule/meter", oldest first. */
  const active = () => services.alarms.list({ state: 'active' }).reverse().map((a) => `${a.rule_name}/${a.meter_id}`);
  const log = () => seen.map((n) => `${n.transition} ${n.rule}/${n.meterId}`);

  const open = async (file: string) => {
    services = await openEmsServices({ file, env: { EMS_ADMIN_USER: 'boss', EMS_ADMIN_PASSWORD: 'chief-pass-0417' }, now: () => clock, alarmTickMs: 0 });
    services.alarms.on('transition', (n: AlarmNotification) => seen.push(n));
  };

  beforeEach(async () => {
    clock = T0;
    seen = [];
    await open(':memory:');
    const plant = services.registry.createFolder({ name: 'Plant' })._id;
    hallA = services.registry.createFolder({ name: 'Hall A', parent_id: plant })._id;
    hallB = services.registry.createFolder({ name: 'Hall B', parent_id: plant })._id;
    meter('m1', hallA);
    meter('m2', hallA);
    meter('m3', hallB);
  });
  afterEach(() => services.close());

  it('a pending pair that goes idle and comes back starts its delay afresh', async () => {
    rule({ name: 'Peak', subject: { meter: 'm1' }, condition: above(50), delay_s: 60 });
    await feed(kw('m1', 60));
    await at(T0 + 30 * S);
    await feed(kw('m1', 40)); // idle again
    await at(T0 + 40 * S);
    await feed(kw('m1', 70)); // back: the delay runs from here
    await at(T0 + 90 * S);
    assert.deepEqual(active(), [], '60 s after the first rise, but only 50 s after the second');
    await at(T0 + 100 * S);
    assert.deepEqual(active(), ['Peak/m1']);
    // Cleared, idle, and raised again within the hold-off: the same alarm reopens.
    await feed(kw('m1', 10));
    assert.deepEqual(active(), []);
    await feed(kw('m1', 10));
    await feed(kw('m1', 80));
    await at(T0 + 160 * S);
    assert.deepEqual(active(), ['Peak/m1']);
    assert.deepEqual(log(), ['raised Peak/m1', 'cleared Peak/m1', 'reopened Peak/m1']);
  });

  it('a late reading moves the stale deadline; an older one does not move it back', async () => {
    rule({ name: 'Stale', subject: { folder: hallA, scope: 'folder' }, condition: { type: 'stale', intervals: 3 } });
    await feed(kw('m1', 1), kw('m2', 1));
    await at(T0 + 170 * S);
    await feed(kw('m1', 1)); // m1 reports again just before its deadline
    await at(T0 + 180 * S);
    assert.deepEqual(active(), ['Stale/m2'], 'm2 is 180 s late; m1 reported 10 s ago');
    await feed(kw('m1', 1, T0 + 100 * S)); // a reading stamped before the last one
    await at(T0 + 349 * S);
    assert.deepEqual(active(), ['Stale/m2'], 'm1 is 179 s late');
    await at(T0 + 350 * S);
    assert.deepEqual(active(), ['Stale/m2', 'Stale/m1']);
    const m1 = services.alarms.list({ state: 'active', meter: 'm1' })[0];
    assert.deepEqual([m1.value, m1.limit], [180, 180]);
    await feed(kw('m2', 1));
    assert.deepEqual(active(), ['Stale/m1'], 'a reading clears the stale alarm at once');
  });

  it('a rule changed or deleted while its pairs are pending raises nothing for the old rule', async () => {
    const changed = rule({ name: 'Changed', subject: { meter: 'm1' }, condition: above(50), delay_s: 60 });
    const deleted = rule({ name: 'Deleted', subject: { meter: 'm2' }, condition: above(50), delay_s: 60 });
    await feed(kw('m1', 60), kw('m2', 60));
    services.alarms.updateRule(changed.id, { name: 'Changed', condition: above(65) }, 'boss');
    services.alarms.deleteRule(deleted.id, 'boss');
    await at(T0 + 120 * S);
    assert.deepEqual(active(), [], 'no pending raise survives the change or the deletion');
    await feed(kw('m1', 66), kw('m2', 66));
    await at(T0 + 180 * S);
    assert.deepEqual(active(), ['Changed/m1'], 'the changed rule evaluates afresh; the deleted one is gone');
  });

  it('a meter moved to another folder leaves the old folder\'s rule and joins the new one\'s', async () => {
    rule({ name: 'Hall A peak', subject: { folder: hallA, scope: 'folder' }, condition: above(50) });
    rule({ name: 'Hall B peak', subject: { folder: hallB, scope: 'folder' }, condition: above(50), delay_s: 30 });
    await feed(kw('m1', 60));
    assert.deepEqual(active(), ['Hall A peak/m1']);
    services.registry.updateMeter('m1', { folder_id: hallB });
    await at(T0 + 10 * S);
    assert.deepEqual(active(), [], 'the alarm of the rule that no longer watches m1 cleared');
    await feed(kw('m1', 60));
    await at(T0 + 40 * S);
    assert.deepEqual(active(), ['Hall B peak/m1'], 'the new folder\'s rule raises after its delay; the old one is silent');
    services.registry.updateMeter('m1', { folder_id: hallA });
    await at(T0 + 50 * S);
    await feed(kw('m1', 60));
    assert.deepEqual(active(), ['Hall A peak/m1'], 'moved back: the old rule evaluates it again');
  });

  it('raises of one batch go rule by rule, in the order the batch first came to each rule', async () => {
    rule({ name: 'R1', subject: { meter: 'm2' }, condition: above(50) });
    rule({ name: 'R2', subject: { folder: hallA, scope: 'folder' }, condition: above(50) });
    await feed(kw('m1', 60), kw('m2', 60));
    assert.deepEqual(log(), ['raised R2/m1', 'raised R2/m2', 'raised R1/m2'], 'R2 came first (at m1), then R1 (at m2)');
  });

  it('delays running out on the clock raise in the order the pairs were first evaluated', async () => {
    rule({ name: 'R', subject: { folder: hallA, scope: 'folder' }, condition: above(50), delay_s: 60 });
    await feed(kw('m1', 10)); // m1's pair is evaluated first, idle
    clock = T0 + 5 * S;
    await feed(kw('m2', 60)); // m2's pair pending first
    clock = T0 + 10 * S;
    await feed(kw('m1', 60));
    await at(T0 + 100 * S);
    assert.deepEqual(log(), ['raised R/m1', 'raised R/m2']);
  });

  it('a cleared alarm keeps the value that raised it beside the value that cleared it', async () => {
    rule({ name: 'Peak', subject: { meter: 'm1' }, condition: above(50), hysteresis: 5 });
    await feed(kw('m1', 62.3));
    await feed(kw('m1', 48)); // inside the band
    await feed(kw('m1', 44.9));
    const [a] = services.alarms.list({ meter: 'm1' });
    assert.deepEqual([a.state, a.value, a.cleared_value, a.limit], ['cleared', 62.3, 44.9, 50]);
    assert.deepEqual(seen.map((n) => [n.transition, n.value]), [['raised', 62.3], ['cleared', 44.9]], 'each notification tells its own value');
    await feed(kw('m1', 71));
    const b = services.alarms.get(a.id);
    assert.deepEqual([b.state, b.value, b.cleared_value, b.raise_count], ['raised', 71, null, 2], 'reopened: the value that reopened it');
  });

  it('the summary counts active and unacknowledged alarms per severity, scoped by the reader\'s meters', async () => {
    rule({ name: 'Crit', subject: { folder: hallA, scope: 'folder' }, condition: above(50), severity: 'critical' });
    rule({ name: 'Warn', subject: { meter: 'm3' }, condition: above(50) });
    rule({ name: 'Info', subject: { meter: 'm3' }, condition: above(70), severity: 'info' });
    await feed(kw('m1', 60), kw('m2', 60), kw('m3', 60));
    services.alarms.ack(services.alarms.list({ meter: 'm2' })[0].id, 'on it', 'boss');
    const all = services.alarms.summary();
    assert.deepEqual(all, { active: 3, unacknowledged: 2, by_severity: { info: { active: 0, unacknowledged: 0 }, warning: { active: 1, unacknowledged: 1 }, critical: { active: 2, unacknowledged: 1 } } });
    assert.deepEqual(services.alarms.summary({ scope: services.registry.scopeOf([hallB]), meters: new Set(['m3']) }),
      { active: 1, unacknowledged: 1, by_severity: { info: { active: 0, unacknowledged: 0 }, warning: { active: 1, unacknowledged: 1 }, critical: { active: 0, unacknowledged: 0 } } });
    await feed(kw('m1', 10));
    assert.equal(services.alarms.summary().active, 2, 'a cleared alarm is no longer counted');
  });

  it('an open stale alarm survives a restart and clears when the meter reports again (a pair with no state yet)', async () => {
    services.close();
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ems-alarm-pairs-'));
    try {
      await open(path.join(dir, 'ems.db'));
      const plant = services.registry.createFolder({ name: 'Plant' })._id;
      meter('m1', plant);
      rule({ name: 'Stale', subject: { folder: plant }, condition: { type: 'stale', intervals: 3 } });
      await feed(kw('m1', 1));
      await at(T0 + 200 * S);
      assert.deepEqual(active(), ['Stale/m1']);
      services.close();
      await open(path.join(dir, 'ems.db'));
      assert.deepEqual(active(), ['Stale/m1'], 'still open after the restart');
      clock = T0 + 230 * S;
      await feed(kw('m1', 1));
      assert.deepEqual(active(), [], 'the reading clears the alarm that was open before the restart');
      assert.deepEqual(log(), ['raised Stale/m1', 'cleared Stale/m1']);
    } finally {
      try { services.close(); } catch { /* closed */ }
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
