import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { BillStore } from '../../lib/billing/bill-store';
import { OPERATIONS, runOperation, type ApiContext } from '../../lib/ems/api';
import { openEmsServices, type EmsServices } from '../../lib/ems/services';
import { isoInZone, parseDateRange } from '../../lib/ems/data';
import type { Reading } from '../../lib/model/reading';
import { SqliteStore } from '../../lib/store/sqlite';

const TZ = 'Europe/Berlin';
// 2026-03-29 is the spring-forward day in Berlin: 14:00 local = 12:00Z (CEST, +02:00).
const NOW = Date.parse('2026-03-29T12:00:00Z');
const at = (iso: string): number => Date.parse(iso);
const op = (name: string) => OPERATIONS.find((o) => o.name === name)!;

describe('data endpoints (dashboard, graphics, table, vector)', () => {
  let services: EmsServices;
  let store: SqliteStore;
  let base: Omit<ApiContext, 'caller' | 'request'>;
  let admin: string;
  let vera: string;
  const call = async (name: string, query: Record<string, unknown>, token = admin) => {
    const answer = await runOperation(op(name), { ...base, request: { params: {}, query, body: undefined, headers: { authorization: `Bearer ${token}` }, cookies: {} } });
    return answer as { status: number; body: any };
  };

  before(async () => {
    services = await openEmsServices({ file: ':memory:', env: { EMS_ADMIN_USER: 'boss', EMS_ADMIN_PASSWORD: 'chief-pass-0417' }, now: () => NOW });
    const site = services.registry.createFolder({ name: 'Plant A', folder_type: 'site' });
    const hall = services.registry.createFolder({ name: 'Hall 2', folder_type: 'building', parent_id: site._id });
    const other = services.registry.createFolder({ name: 'Office', folder_type: 'site' });
    services.registry.createMeter({ folder_id: hall._id, name: 'Main feed', protocol: 'modbus-tcp', profile: 'eastron-sdm630', connection_address: '1' }, undefined, 'm1');
    services.registry.createMeter({ folder_id: other._id, name: 'Office feed', protocol: 'modbus-tcp', profile: 'eastron-sdm630', connection_address: '2' }, undefined, 'm2');
    await services.users.create({ login: 'vera', name: 'Vera', password: 'viewer-secret', role: 'viewer', open_folders: [other._id] });
    store = new SqliteStore({ path: ':memory:' });
    base = { services, store, bills: new BillStore(':memory:'), timeZone: TZ, now: () => NOW };
    admin = (await services.auth.login('boss', 'chief-pass-0417')).access_token;
    vera = (await services.auth.login('vera', 'viewer-secret')).access_token;
    const r = (obis: string, iso: string, value: number, unit: string, meter = 'm1'): Reading => ({ meter, obis, time: at(iso), value, unit });
    await store.write([
      // active energy import: Mar 1 00:00 local (+01:00), Mar 29 00:00 local, then two readings today
      r('1-0:1.8.0', '2026-02-28T23:00:00Z', 1000, 'kWh'),
      r('1-0:1.8.0', '2026-03-28T23:00:00Z', 1500.5, 'kWh'),
      r('1-0:1.8.0', '2026-03-29T11:45:00Z', 1512.25, 'kWh'),
      r('1-0:1.8.0', '2026-03-29T12:00:00Z', 1512.75, 'kWh'),
      // L1 voltage every 15 minutes from 13:15 to 14:00 local
      r('1-0:32.7.0', '2026-03-29T11:15:00Z', 229, 'V'),
      r('1-0:32.7.0', '2026-03-29T11:30:00Z', 231, 'V'),
      r('1-0:32.7.0', '2026-03-29T11:45:00Z', 230, 'V'),
      r('1-0:32.7.0', '2026-03-29T12:00:00Z', 230.123456789, 'V'),
      r('1-0:52.7.0', '2026-03-29T12:00:00Z', 231, 'V'),
      r('1-0:72.7.0', '2026-03-29T12:00:00Z', 229, 'V'),
      r('1-0:31.7.0', '2026-03-29T12:00:00Z', 10, 'A'),
      r('1-0:51.7.0', '2026-03-29T12:00:00Z', 5, 'A'),
      r('1-0:71.7.0', '2026-03-29T12:00:00Z', 2, 'A'),
      r('1-0:33.7.0', '2026-03-29T12:00:00Z', 0.5, ''), // L1: 60 degrees lagging
      r('1-0:53.7.0', '2026-03-29T12:00:00Z', 0.8660254037844386, ''), // L2: 30 degrees...
      r('1-0:43.7.0', '2026-03-29T12:00:00Z', -1.2, 'kvar'), // ...leading (negative reactive power)
      r('1-0:13.7.0', '2026-03-29T12:00:00Z', 1, ''), // L3 falls back to the total PF: in phase
      // m2 has a voltage and a current but no power factor
      r('1-0:32.7.0', '2026-03-29T12:00:00Z', 232, 'V', 'm2'),
      r('1-0:31.7.0', '2026-03-29T12:00:00Z', 3, 'A', 'm2'),
    ]);
  });
  after(async () => {
    services.close();
    await store.close();
  });

  it('reads date1/date2 as local dates in the EMS zone, a bare date2 including its day (23 hours on the DST day)', () => {
    const day = parseDateRange('2026-03-29', '2026-03-29', NOW, TZ);
    assert.equal(new Date(day.from).toISOString(), '2026-03-28T23:00:00.000Z');
    assert.equal(new Date(day.to).toISOString(), '2026-03-29T22:00:00.000Z');
    assert.equal((day.to - day.from) / 3_600_000, 23);
    const today = parseDateRange(undefined, undefined, NOW, TZ);
    assert.deepEqual(today, day, 'the default is today');
    assert.equal(parseDateRange(String(at('2026-03-28T23:00:00Z')), '2026-03-29T03:00', NOW, TZ).to, at('2026-03-29T01:00:00Z'));
    assert.equal(isoInZone(at('2026-03-29T01:00:00Z'), TZ), '2026-03-29T03:00:00+02:00');
    const noonToEnd = parseDateRange('2026-03-28T12:00', '2026-03-28', NOW, TZ);
    assert.equal((noonToEnd.to - noonToEnd.from) / 3_600_000, 12, 'a bare date2 is the end of that day, so date1 may lie within it');
    assert.equal(isoInZone(at('2026-03-29T00:59:59Z'), TZ), '2026-03-29T01:59:59+01:00');
  });

  it('dashboard: newest value per parameter with full precision, and consumption today and this month', async () => {
    const a = await call('data.dashboard', { meter: 'm1', type: 'voltage' });
    assert.equal(a.status, 200);
    assert.deepEqual(a.body.data.location, ['Plant A', 'Hall 2']);
    assert.equal(a.body.data.as_of, '2026-03-29T14:00:00+02:00');
    assert.deepEqual(a.body.data.rows, [
      { param_name: '1-0:32.7.0', date: '2026-03-29T14:00:00+02:00', value: '230.123456789', unit: 'V' },
      { param_name: '1-0:52.7.0', date: '2026-03-29T14:00:00+02:00', value: '231', unit: 'V' },
      { param_name: '1-0:72.7.0', date: '2026-03-29T14:00:00+02:00', value: '229', unit: 'V' },
    ]);
    // today: 1512.75 - 1500.5 (00:00 local); month: 1512.75 - 1000 (Mar 1 00:00 local)
    assert.deepEqual(a.body.data.consumption, [{ param_name: '1-0:1.8.0', unit: 'kWh', today: '12.25', month: '512.75' }]);

    const past = await call('data.dashboard', { meter: 'm1', type: 'energy', date1: '2026-03-29T00:00', date2: '2026-03-29T13:50' });
    assert.equal(past.body.data.as_of, '2026-03-29T13:50:00+02:00');
    assert.deepEqual(past.body.data.rows, [{ param_name: '1-0:1.8.0', date: '2026-03-29T13:45:00+02:00', value: '1512.25', unit: 'kWh' }]);
    assert.equal(past.body.data.consumption[0].today, '11.75');
  });

  it('graphics: raw series per parameter, or one row per local hour (mean, last for registers)', async () => {
    const raw = await call('data.graphics', { meter: 'm1', type: 'voltage', limit: '3' });
    assert.deepEqual(raw.body.data.rows.map((r: any) => [r.param_name, r.date, r.value]), [
      ['1-0:32.7.0', '2026-03-29T13:15:00+02:00', '229'],
      ['1-0:32.7.0', '2026-03-29T13:30:00+02:00', '231'],
      ['1-0:32.7.0', '2026-03-29T13:45:00+02:00', '230'],
    ]);
    assert.equal(raw.body.data.truncated, true);
    const hourly = await call('data.graphics', { meter: 'm1', type: 'voltage', step: '1h' });
    assert.deepEqual(hourly.body.data.rows.filter((r: any) => r.param_name === '1-0:32.7.0').map((r: any) => [r.date, r.value]), [
      ['2026-03-29T13:00:00+02:00', '230'], // (229 + 231 + 230) / 3
      ['2026-03-29T14:00:00+02:00', '230.123456789'],
    ]);
    const energy = await call('data.graphics', { meter: 'm1', type: 'energy', step: '1d', date1: '2026-03-27', date2: '2026-03-29' });
    assert.deepEqual(energy.body.data.rows.map((r: any) => [r.date, r.value]), [
      ['2026-03-29T00:00:00+01:00', '1512.75'], // last reading of the day; Mar 27 and 28 have none in range
    ]);
    const bad = await call('data.graphics', { meter: 'm1', step: '90m', fn: 'median' });
    assert.equal(bad.status, 400);
    assert.match(bad.body.error, /fn "median" is not an aggregate/);
  });

  it('table: raw rows newest first, limited', async () => {
    const t = await call('data.table', { meter: 'm1', limit: 4, type: 'all' });
    assert.deepEqual(t.body.data.rows.map((r: any) => [r.date, r.param_name]), [
      ['2026-03-29T14:00:00+02:00', '1-0:1.8.0'],
      ['2026-03-29T14:00:00+02:00', '1-0:13.7.0'],
      ['2026-03-29T14:00:00+02:00', '1-0:31.7.0'],
      ['2026-03-29T14:00:00+02:00', '1-0:32.7.0'],
    ]);
    assert.equal(t.body.data.truncated, true);
    const v = await call('data.table', { meter: 'm1', type: 'voltage', date1: '2026-03-29T13:00', date2: '2026-03-29T14:00' });
    assert.deepEqual(v.body.data.rows.map((r: any) => r.value), ['230', '231', '229']);
    assert.equal(v.body.data.truncated, false);
  });

  it('vector: phasors with nominal voltage angles and current angles from the power factor', async () => {
    const v = await call('data.vector', { meter: 'm1' });
    assert.equal(v.status, 200);
    assert.deepEqual(v.body.data.rows.map((r: any) => [r.param_name, r.value, r.unit, r.angle, r.angle_source]), [
      ['U1', '230.123456789', 'V', '0', 'nominal'],
      ['U2', '231', 'V', '-120', 'nominal'],
      ['U3', '229', 'V', '120', 'nominal'],
      ['I1', '10', 'A', '-60', 'power factor'], // acos(0.5) = 60 lagging
      ['I2', '5', 'A', '-90', 'power factor'], // -120 + acos(0.866) = -90: leading, Q < 0
      ['I3', '2', 'A', '120', 'power factor'], // total PF 1
    ]);
    const m2 = await call('data.vector', { meter: 'm2' });
    assert.deepEqual(m2.body.data.rows.map((r: any) => [r.param_name, r.angle]), [['U1', '0'], ['I1', null]]);
    assert.deepEqual(m2.body.data.location, ['Office']);
    const voltagesOnly = await call('data.vector', { meter: 'm1', limit: '3' });
    assert.deepEqual(voltagesOnly.body.data.rows.map((r: any) => r.param_name), ['U1', 'U2', 'U3']);
    const typed = await call('data.vector', { meter: 'm1', type: 'voltage' });
    assert.equal(typed.status, 400);
    assert.match(typed.body.error, /unknown parameter "type"/);
  });

  it('refuses bad input naming the field, and hides meters outside the caller\'s folders', async () => {
    const cases: [Record<string, unknown>, number, RegExp][] = [
      [{ folder: 'nowhere' }, 404, /unknown folder "nowhere"/], // without meter: the caller's folders (test/lib/ems-api-dictionary.test.ts)
      [{ meter: 'm1', date1: '2026-03-30', date2: '2026-03-29' }, 400, /date1 "2026-03-30" is after date2 "2026-03-29"/],
      [{ meter: 'm1', date1: 'yesterday' }, 400, /date1 "yesterday" is not a date/],
      [{ meter: 'm1', type: 'watts' }, 400, /type "watts" is not a parameter type \(use all, energy, power, voltage/],
      [{ meter: 'm1', limit: '0' }, 400, /limit "0" is not a row count \(use a whole number from 1 to 100000\)/],
      [{ meter: 'm1', limit: '100001' }, 400, /limit "100001"/],
      [{ meter: 'm1', colour: 'red' }, 400, /unknown parameter "colour"/],
      [{ meter: ['m1', 'm2'] }, 400, /meter \["m1","m2"\] is not a meter id \(give one meter=<id>\)/],
      [{ meter: 'm1', date1: '2026-03-29T10:00', date2: '2026-03-29T10:00' }, 400, /date2 "2026-03-29T10:00" must be after date1 "2026-03-29T10:00"/],
      [{ meter: 'nope' }, 404, /unknown meter "nope"/],
    ];
    for (const [query, status, error] of cases) {
      const a = await call('data.table', query);
      assert.equal(a.status, status, JSON.stringify(query));
      assert.match(a.body.error, error);
    }
    const hidden = await call('data.dashboard', { meter: 'm1' }, vera);
    assert.equal(hidden.status, 404);
    assert.equal(hidden.body.error, 'unknown meter "m1"');
    const own = await call('data.dashboard', { meter: 'm2' }, vera);
    assert.equal(own.status, 200);
    assert.equal((await call('data.table', { meter: 'm1' }, 'bad-token')).status, 401);
  });
});
