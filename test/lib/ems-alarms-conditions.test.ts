/** Every alarm condition fires and clears through AlarmService, with a fake clock (services.alarms, no timer). */
import { afterEach, beforeEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { storeConsumption } from '../../lib/ems/alarms/consumption';
import type { AlarmNotification } from '../../lib/ems/alarms/types';
import { validateNotification } from '../../lib/ems/notify/types';
import { generateLicenseKeys, signLicense } from '../../lib/ems/license';
import { openEmsServices, type EmsServices } from '../../lib/ems/services';
import { Quality, type Reading } from '../../lib/model';
import { SqliteStore } from '../../lib/store/sqlite';

const T0 = Date.parse('2026-12-07T10:00:00Z'); // a Monday
const H = 3_600_000;

describe('alarm conditions fire and clear', () => {
  let services: EmsServices;
  let clock: number;
  let folder: string;
  let sub: string;
  let seen: AlarmNotification[];
  const meter = (id: string, folderId: string, interval = 300) => services.registry.createMeter({ name: `Meter ${id}`, folder_id: folderId, protocol: 'modbus-tcp', profile: 'eastron-sdm630', interval_time: interval }, undefined, id);
  const rule = (body: Record<string, unknown>) => services.alarms.createRule({ name: 'r', severity: 'warning', ...body }, 'boss');
  const r = (m: string, obis: string, value: number, unit: string, extra: Partial<Reading> = {}): Reading => ({ meter: m, time: clock, obis, value, unit, ...extra });
  const active = () => services.alarms.list({ state: 'active' });
  const feed = (...readings: Reading[]) => services.alarms.onReadings(readings);

  beforeEach(async () => {
    clock = T0;
    seen = [];
    services = await openEmsServices({ file: ':memory:', env: { EMS_ADMIN_USER: 'boss', EMS_ADMIN_PASSWORD: 'chief-pass-0417' }, now: () => clock, alarmTickMs: 0, timeZone: 'Europe/Berlin' });
    folder = services.registry.createFolder({ name: 'Plant A' })._id;
    sub = services.registry.createFolder({ name: 'Hall 2', parent_id: folder })._id;
    meter('m1', sub, 300);
    meter('m2', folder, 60);
    services.alarms.on('transition', (n: AlarmNotification) => seen.push(n));
  });
  afterEach(() => {
    // Every transition is a notification lib/ems/notify accepts as it is.
    for (const n of seen) validateNotification(n);
    services.close();
  });

  it('threshold converts units (W and kW readings against 50 kW) and clears only past the hysteresis', async () => {
    rule({ name: 'Peak power', subject: { meter: 'm1' }, condition: { type: 'threshold', obis: '1-0:1.7.0', direction: 'above', value: 50, unit: 'kW' }, hysteresis: 5, severity: 'critical' });
    await feed(r('m1', '1-0:1.7.0', 49_000, 'W'));
    assert.equal(active().length, 0, '49 kW is below 50 kW');
    await feed(r('m1', '1-0:1.7.0', 62_300, 'W'));
    const [a] = active();
    assert.deepEqual([a.state, a.value, a.limit, a.unit, a.severity, a.meter_id], ['raised', 62.3, 50, 'kW', 'critical', 'm1']);
    await feed(r('m1', '1-0:1.7.0', 48, 'kW'));
    assert.equal(active().length, 1, '48 kW is inside the 5 kW hysteresis band: still raised');
    await feed(r('m1', '1-0:1.7.0', 44.9, 'kW'));
    assert.equal(active().length, 0);
    assert.equal(services.alarms.get(a.id).state, 'cleared');
    await feed(r('m1', '1-0:1.8.0', 99_999, 'kWh'));
    assert.equal(active().length, 0, 'another OBIS code is not the rule\'s');
    const n = seen[0];
    assert.deepEqual(n, {
      alarmId: String(a.id), rule: 'Peak power', severity: 'critical', state: 'raised', meterId: 'm1', meterName: 'Meter m1', folderPath: ['Plant A', 'Hall 2'],
      since: T0, at: T0, value: 62.3, limit: 50, unit: 'kW', transition: 'raised', ruleId: n.ruleId, folderId: sub,
      message: 'Peak power: 1-0:1.7.0 62.3 kW above 50 kW at Meter m1', raiseCount: 1, notify: 'subscribers',
    });
    assert.equal(JSON.stringify(n).includes('null'), false, 'absent fields are left out, never null');
    assert.deepEqual(seen.map((x) => x.transition), ['raised', 'cleared']);
  });

  it('stale: no reading for k x the meter\'s own interval (300 s and 60 s meters in one folder), clears when a reading arrives', async () => {
    rule({ name: 'Stale', subject: { folder, scope: 'subtree' }, condition: { type: 'stale', intervals: 3 } });
    await feed(r('m1', '1-0:1.8.0', 1, 'kWh'), r('m2', '1-0:1.8.0', 1, 'kWh'));
    clock = T0 + 179_000;
    await services.alarms.tick();
    assert.equal(active().length, 0);
    clock = T0 + 180_000;
    await services.alarms.tick();
    assert.deepEqual(active().map((a) => [a.meter_id, a.value, a.limit]), [['m2', 180, 180]], 'the 60 s meter after 3 x 60 s; the 300 s meter is not late yet');
    clock = T0 + 899_000;
    await services.alarms.tick();
    assert.equal(active().length, 1);
    clock = T0 + 900_000;
    await services.alarms.tick();
    assert.deepEqual(active().map((a) => a.meter_id).sort(), ['m1', 'm2']);
    await feed(r('m1', '1-0:1.8.0', 2, 'kWh'));
    assert.deepEqual(active().map((a) => a.meter_id), ['m2'], 'm1 cleared by its reading');
    meter('m3', sub, 60);
    clock += 60_000;
    await services.alarms.tick();
    assert.deepEqual(active().map((a) => a.meter_id), ['m2'], 'a meter created a minute ago is not stale yet');
    services.registry.deleteMeter('m2');
    await services.alarms.tick();
    assert.deepEqual(active().map((a) => a.meter_id), [], 'a deleted meter\'s alarm clears');
    clock += 120_000;
    await services.alarms.tick();
    assert.deepEqual(active().map((a) => a.meter_id), ['m3'], '3 x 60 s after its creation');
  });

  it('stale across a restart: the store\'s last readings are seeded, so a meter silent for an hour is stale at the first tick', async () => {
    rule({ name: 'Stale', subject: { meter: 'm1' }, condition: { type: 'stale', intervals: 3 } });
    services.alarms.noteLastReadings([r('m1', '1-0:1.8.0', 5, 'kWh', { time: T0 - 3_600_000 }), r('m1', '1-0:1.7.0', 1, 'kW', { time: T0 - 7_200_000 })]);
    await services.alarms.tick();
    assert.deepEqual(active().map((a) => [a.meter_id, a.value, a.limit]), [['m1', 3600, 900]], 'silent since the newest of its readings, an hour ago');
  });

  it('poll_failures: N failed polls in a row raise, a good poll clears', async () => {
    rule({ subject: { meter: 'm1' }, condition: { type: 'poll_failures', count: 3 } });
    services.alarms.onPollResult('m1', false);
    services.alarms.onPollResult('m1', false);
    services.alarms.onPollResult('m1', true);
    services.alarms.onPollResult('m1', false);
    services.alarms.onPollResult('m1', false);
    await new Promise((res) => setImmediate(res));
    assert.equal(active().length, 0, 'never 3 in a row');
    services.alarms.onPollResult('m1', false);
    await new Promise((res) => setImmediate(res));
    assert.deepEqual(active().map((a) => [a.value, a.limit]), [[3, 3]]);
    services.alarms.onPollResult('m1', true);
    await new Promise((res) => setImmediate(res));
    assert.equal(active().length, 0);
  });

  it('register_sanity: backwards, reset and spike (flags of the consumption engine), sane readings clear', async () => {
    rule({ subject: { meter: 'm1' }, condition: { type: 'register_sanity', kinds: ['backwards', 'reset'] } });
    const spikes = rule({ name: 'spikes', subject: { meter: 'm2' }, condition: { type: 'register_sanity', kinds: ['spike'] } });
    await feed(r('m1', '1-0:1.8.0', 1000, 'kWh'));
    clock += 60_000;
    await feed(r('m1', '1-0:1.8.0', 1001, 'kWh'));
    assert.equal(active().length, 0);
    clock += 60_000;
    await feed(r('m1', '1-0:1.8.0', 995, 'kWh'));
    assert.match(active()[0].message, /register 1-0:1\.8\.0 backwards: 995 kWh after 1001 kWh/);
    clock += 60_000;
    await feed(r('m1', '1-0:1.8.0', 996, 'kWh'));
    assert.equal(active().length, 0, 'rising again clears');
    clock += 600_000;
    await feed(r('m1', '1-0:1.8.0', 3, 'kWh'));
    assert.match(active()[0].message, /reset: 3 kWh after 996 kWh/);
    clock += 60_000;
    await feed(r('m2', '1-0:1.8.0', 50, 'kWh'), { ...r('m2', '1-0:1.8.0', 900, 'kWh', { quality: Quality.SUSPECT }), time: clock + 1 });
    assert.deepEqual(services.alarms.list({ state: 'raised', rule: spikes.id }).map((a) => a.meter_id), ['m2']);
  });

  it('prepaid_balance_below and license_expiring', async () => {
    rule({ subject: { meter: 'm1' }, condition: { type: 'prepaid_balance_below', amount: 10 } });
    services.alarms.onPrepaidBalance('m1', 12.5);
    services.alarms.onPrepaidBalance('m1', 9.99);
    await new Promise((res) => setImmediate(res));
    assert.deepEqual(active().map((a) => [a.value, a.limit]), [[9.99, 10]]);
    services.alarms.onPrepaidBalance('m1', 40);
    await new Promise((res) => setImmediate(res));
    assert.equal(active().length, 0);

    const keys = generateLicenseKeys();
    services.close();
    services = await openEmsServices({ file: ':memory:', env: { EMS_ADMIN_USER: 'boss', EMS_ADMIN_PASSWORD: 'chief-pass-0417' }, now: () => clock, alarmTickMs: 0, licensePublicKey: keys.publicKey });
    services.alarms.on('transition', (n: AlarmNotification) => seen.push(n));
    const lic = services.alarms.createRule({ name: 'License', condition: { type: 'license_expiring', days: 30 }, severity: 'critical' }, 'boss');
    assert.equal(lic.subject, null);
    services.license.upload(JSON.stringify(signLicense({ id: 'L1', customer: 'ACME', activation_date: '2026-01-01', expiration_date: '2027-02-15', meter_limit: 50, issued_at: '2026-01-01' }, keys.privateKey)));
    await services.alarms.tick();
    assert.equal(services.alarms.list({ state: 'active' }).length, 0, '70 days left');
    clock = Date.parse('2027-01-20T08:00:00Z');
    await services.alarms.tick();
    const [a] = services.alarms.list({ state: 'active' });
    assert.deepEqual([a.meter_id, a.value, a.limit, a.unit], [null, 26, 30, 'd']);
    assert.deepEqual([seen.at(-1)!.meterId, seen.at(-1)!.meterName, seen.at(-1)!.folderPath], ['(ems)', 'EMS', []], 'an alarm about the EMS itself');
    services.license.upload(JSON.stringify(signLicense({ id: 'L2', customer: 'ACME', activation_date: '2026-01-01', expiration_date: '2028-02-15', meter_limit: 50, issued_at: '2027-01-20' }, keys.privateKey)));
    await services.alarms.tick();
    assert.equal(services.alarms.get(a.id).state, 'cleared', 'a renewed license clears it');
  });

  it('window_consumption over the last complete hour from the store, above and below', async () => {
    const store = new SqliteStore({ path: ':memory:' });
    services.alarms.setConsumption(storeConsumption(() => store, 'Europe/Berlin'));
    rule({ subject: { meter: 'm1' }, condition: { type: 'window_consumption', window: '1h', above: 10, below: 1 } });
    // 15-minute register readings: 2 kWh per quarter (8 kWh/h) from 08:00 to 10:00 UTC, then 4 kWh per quarter (16 kWh/h).
    const rows: Reading[] = [];
    let v = 100;
    for (let t = T0 - 2 * H; t <= T0 + H; t += 900_000) { rows.push({ meter: 'm1', time: t, obis: '1-0:1.8.0', value: v, unit: 'kWh' }); v += t < T0 ? 2 : 4; }
    await store.write(rows);
    clock = T0 + 360_000; // 10:06 (windows settle 5 min): the hour 09:00-10:00 used 8 kWh
    await services.alarms.tick();
    assert.equal(active().length, 0);
    clock = T0 + H + 360_000; // 11:06: 10:00-11:00 used 16 kWh
    await services.alarms.tick();
    const [a] = active();
    assert.deepEqual([a.value, a.limit, a.unit], [16, 10, 'kWh']);
    await services.alarms.tick();
    assert.equal(services.alarms.list({}).length, 1, 'one evaluation per window end');
    clock = T0 + 2 * H + 360_000; // 12:06: no readings in 11:00-12:00: no data, no change
    await services.alarms.tick();
    assert.equal(active().length, 1);
    await store.write([{ meter: 'm1', time: T0 + 2 * H + 1000, obis: '1-0:1.8.0', value: v - 4 + 5, unit: 'kWh' }]);
    clock = T0 + 3 * H + 360_000;
    await services.alarms.tick(); // 12:00-13:00 used 5 kWh: normal, clears
    assert.equal(active().length, 0);
    await store.close();
  });

  it('anomaly: the night hour against the median of the same weekday-hour over 4 weeks; fires on a base-load jump, not on a normal night', async () => {
    const store = new SqliteStore({ path: ':memory:' });
    services.alarms.setConsumption(storeConsumption(() => store, 'Europe/Berlin'));
    rule({ name: 'Night base load', subject: { meter: 'm1' }, condition: { type: 'anomaly', window: '1h', weeks: 4, factor: 1.5, min: 0.5 } });
    const night = Date.parse('2026-12-08T01:00:00Z'); // Tuesday 02:00 in Berlin
    const rows: Reading[] = [];
    let v = 0;
    // Hourly readings for 5 weeks: 2.0 kWh/h (past weeks vary 1.8..2.2), except a jump to 6 kWh/h in this week's 03:00-04:00.
    for (let t = night - 29 * 24 * H; t <= night + 3 * H; t += H) {
      rows.push({ meter: 'm1', time: t, obis: '1-0:1.8.0', value: v, unit: 'kWh' });
      const thisWeek = t >= night - H;
      v += thisWeek && t === night + H ? 6 : thisWeek ? 2.1 : 1.8 + (Math.floor((night - t) / (7 * 24 * H)) % 3) * 0.2;
    }
    await store.write(rows);
    clock = night + H + 360_000; // 03:06 local: 02:00-03:00 used 2.1 kWh, the past median about 2
    await services.alarms.tick();
    assert.equal(active().length, 0, 'a normal night raises nothing');
    clock = night + 2 * H + 360_000; // 04:06 local: 03:00-04:00 used 6 kWh
    await services.alarms.tick();
    const [a] = active();
    assert.equal(a.value, 6);
    // The same hour of the past 4 weeks used 1.8, 2.0, 2.2 and 1.8 kWh: median 1.9, limit 1.5 x 1.9.
    assert.equal(a.limit, 2.85);
    assert.match(a.message, /against a median of 1\.9 kWh over 4 week\(s\)/);
    await store.close();
  });
});
