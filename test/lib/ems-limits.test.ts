import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { BillStore } from '../../lib/billing/bill-store';
import { meterBill, meterBillPaced } from '../../lib/billing/bill';
import { costCenterBill, costCenterBillPaced } from '../../lib/billing/cost-centers';
import { billedReadingsFromStore } from '../../lib/billing/store-readings';
import { operationByName, runOperation, type HttpAnswer } from '../../lib/ems/api';
import { PERIOD_LIMITS } from '../../lib/ems/limits';
import { tariffReport } from '../../lib/ems/reports';
import { openEmsServices, type EmsServices } from '../../lib/ems/services';
import type { Reading } from '../../lib/model/reading';
import { SqliteStore } from '../../lib/store/sqlite';
import { fromLocal, toLocal, useOffsetCache } from '../../lib/model/time';
import { validateTariff } from '../../lib/tariff';
import { touTariff, ZONE } from './billing-fixtures';

const NOW = Date.UTC(2026, 11, 20, 9);
const QUARTER = 15 * 60_000;
const local = (year: number, month: number, day: number) => fromLocal({ year, month, day, hour: 0, minute: 0, second: 0, millisecond: 0 }, ZONE);
/** The readings span 2026-03-21 .. 2026-11-02 local: both DST changes of 2026 (03-29 and 10-25). */
const FROM = local(2026, 3, 21);
const TO = local(2026, 11, 2);
/** Two weeks around each DST change, compared with the old path. */
const PERIODS = [[local(2026, 3, 22), local(2026, 4, 5)], [local(2026, 10, 18), local(2026, 11, 1)]];

/** 15-minute readings of 1.8.0 and T1/T2 with uneven steps (night on T1), FROM - 1 day .. TO + 1 day. */
function readings(meter: string): Reading[] {
  const out: Reading[] = [];
  let t1 = 1000;
  let t2 = 2000;
  for (let t = FROM - 86_400_000, i = 0; t <= TO + 86_400_000; t += QUARTER, i++) {
    out.push({ meter, obis: '1-0:1.8.1', time: t, value: Math.round(t1 * 1000) / 1000, unit: 'kWh' });
    out.push({ meter, obis: '1-0:1.8.2', time: t, value: Math.round(t2 * 1000) / 1000, unit: 'kWh' });
    out.push({ meter, obis: '1-0:1.8.0', time: t, value: Math.round((t1 + t2) * 1000) / 1000, unit: 'kWh' });
    const h = toLocal(t, ZONE).hour;
    if (h < 6 || h >= 22) t1 += 0.125 + (i % 5) * 0.011;
    else t2 += 0.375 + (i % 7) * 0.013;
  }
  return out;
}

type Answer = HttpAnswer & { body: any };

describe('bounded periods and paced work (DOS)', () => {
  let services: EmsServices;
  let store: SqliteStore;
  let bills: BillStore;
  let token: string;
  const call = (name: string, query: Record<string, unknown>, params: Record<string, string> = {}, body?: unknown): Promise<Answer> =>
    runOperation(operationByName(name)!, {
      services, store, bills, timeZone: ZONE, now: () => NOW,
      request: { params, query, body, headers: { authorization: `Bearer ${token}` }, cookies: {} },
    }) as Promise<Answer>;
  const refused = async (a: Promise<Answer>, message: string) => {
    const r = await a;
    assert.equal(r.status, 400, JSON.stringify(r.body));
    assert.equal(r.body.error, message);
  };

  before(async () => {
    services = await openEmsServices({ file: ':memory:', env: { EMS_ADMIN_USER: 'boss', EMS_ADMIN_PASSWORD: 'chief-pass-0417' }, now: () => NOW });
    const site = services.registry.createFolder({ name: 'Plant' });
    services.registry.createMeter({ folder_id: site._id, name: 'Main', protocol: 'modbus-tcp', profile: 'eastron-sdm630', ip_address: '127.0.0.1', port: '5020', connection_address: '1' }, undefined, 'm1');
    store = new SqliteStore({ path: ':memory:' });
    bills = new BillStore(':memory:');
    token = (await services.auth.login('boss', 'chief-pass-0417')).access_token;
    await store.write(readings('m1'));
    services.tariffs.create({ tariff: touTariff() });
    services.costCenters.create({ id: 'cc', name: 'CC', tariffs: { electricity: 'day-night' }, meters: [{ id: 'm1', energyType: 'electricity' }] });
  });
  after(async () => {
    services.close();
    bills.close();
    await store.close();
  });

  it('refuses the long-period report of the incident and periods longer than each step allows, naming parameter, value and maximum', async () => {
    await refused(call('reports.tariffs', { meter: 'm1', date1: '1000-01-01', date2: '9999-12-31', step: 'month' }), 'date1 "1000-01-01" is outside the years 1970..2100');
    await refused(call('reports.tariffs', { meter: 'm1', date1: '2026-01-01', date2: '9999-12-31', step: 'month' }), 'date2 "9999-12-31" is outside the years 1970..2100');
    await refused(call('reports.tariffs', { meter: 'm1', date1: '2020-01-01', date2: '2030-12-31', step: 'month' }),
      'date2 "2030-12-31" is 4018 days after date1 "2020-01-01": reports.tariffs with step=month allows at most 3653 days (10 years); ask for shorter periods');
    await refused(call('reports.tariffs', { meter: 'm1', date1: '2026-01-01', date2: '2029-06-01', step: 'day' }),
      'date2 "2029-06-01" is 1248 days after date1 "2026-01-01": reports.tariffs with step=day allows at most 1096 days (3 years); ask for shorter periods');
    await refused(call('reports.tariffs', { meter: 'm1', date1: '2026-03-01', date2: '2026-06-10', step: 'hour' }),
      'date2 "2026-06-10" is 102 days after date1 "2026-03-01": reports.tariffs with step=hour allows at most 93 days; ask for shorter periods');
    const month = await call('reports.tariffs', { meter: 'm1', date1: '2017-01-01', date2: '2026-12-31', step: 'month' });
    assert.equal(month.status, 200, JSON.stringify(month.body));
    assert.equal(month.body.data.rows.length, 120);
    const hour = await call('reports.tariffs', { meter: 'm1', date1: '2026-03-01', date2: '2026-05-31', step: 'hour' });
    assert.equal(hour.status, 200);
    assert.equal(hour.body.data.rows.length, 92 * 24 - 1); // the spring-forward day has 23 hours
  });

  it('refuses bills over more than 366 days or outside 1970..2100', async () => {
    const long = 'to "2027-06-01" is 457 days after from "2026-03-01": bills.meter allows at most 366 days (1 years); ask for shorter periods';
    await refused(call('bills.meter', { from: '2026-03-01', to: '2027-06-01' }, { id: 'm1' }), long);
    await refused(call('bills.meter', { from: '1000-01-01', to: '9999-12-31' }, { id: 'm1' }), 'from "1000-01-01" is outside the years 1970..2100');
    await refused(call('bills.costcenter', { from: '2026-01-01', to: '9999-12-31' }, { id: 'cc' }), 'to "9999-12-31" is outside the years 1970..2100');
    await refused(call('bills.costcenter', { from: '2026-03-01', to: '2027-06-01' }, { id: 'cc' }), long.replace('bills.meter', 'bills.costcenter'));
    await refused(call('bills.issue', {}, {}, { meter: 'm1', from: '2026-03-01', to: '2027-06-01' }), long.replace('bills.meter', 'bills.issue'));
    const year = await call('bills.meter', { from: '2026-01-01', to: '2027-01-01', tariff: 'day-night' }, { id: 'm1' });
    assert.equal(year.status, 200, JSON.stringify(year.body));
  });

  it('refuses readings and graphics beyond their windows and rows', async () => {
    await refused(call('meters.readings', { from: '2025-01-01', to: '2026-06-01', window: '1d' }, { id: 'm1' }),
      'to "2026-06-01" is 516 days after from "2025-01-01": meters.readings with window allows at most 366 days (1 years); ask for shorter periods');
    await refused(call('meters.readings', { from: '2026-01-01', to: '2026-02-01', limit: '200000' }, { id: 'm1' }), 'limit "200000" is more than 100000 rows (the most raw readings one request answers)');
    await refused(call('meters.readings', { from: '1000-01-01', to: '2026-02-01' }, { id: 'm1' }), 'from "1000-01-01" is outside the years 1970..2100');
    await refused(call('data.graphics', { meter: 'm1', date1: '2020-01-01', date2: '2026-01-01', step: '1d' }),
      'date2 "2026-01-01" is 2193 days after date1 "2020-01-01": data.graphics with step allows at most 1096 days (3 years); ask for shorter periods');
    await refused(call('data.table', { meter: 'm1', date1: '1000-01-01' }), 'date1 "1000-01-01" is outside the years 1970..2100');
    const table = await call('data.table', { meter: 'm1', date1: '1970-01-01', date2: '2100-12-31', limit: '10' });
    assert.equal(table.status, 200);
    assert.equal(table.body.data.rows.length, 10);
  });

  it('shows the maxima in the operation descriptions (the OpenAPI document)', () => {
    assert.match(operationByName('reports.tariffs')!.description!, /step=hour: at most 93 days; step=day: at most 1096 days \(3 years\); step=month: at most 3653 days \(10 years\)/);
    for (const name of ['bills.meter', 'bills.costcenter', 'bills.issue'] as const) {
      assert.match(operationByName(name)!.description!, new RegExp(`at most ${PERIOD_LIMITS[name].bill} days`));
    }
    assert.match(operationByName('meters.readings')!.description!, /at most 100000 rows/);
  });

  it('the paced bills and reports equal the old ones to the cent across both DST changes', async () => {
    const tariff = validateTariff(touTariff());
    const center = { id: 'cc', name: 'CC', tariffs: { electricity: tariff }, meters: [{ id: 'm1', energyType: 'electricity' as const }] };
    for (const [from, to] of PERIODS) {
      const fresh = await billedReadingsFromStore(store, 'm1', from, to);
      const all = readings('m1'); // straight from the fixture, not through the sliced store fetch
      useOffsetCache(false); // the old path: every local time from Intl, one sync pass
      let old;
      let oldCenter;
      let oldReport;
      try {
        old = meterBill({ tariff, meter: 'm1', from, to, readings: all });
        oldCenter = costCenterBill(center, from, to, { m1: { readings: all } });
        oldReport = await tariffReport(store, { meter: 'm1', location: [], from, to, step: 'hour', timeZone: ZONE, tariff: { _id: 'day-night', name: 'x', tariff } });
      } finally {
        useOffsetCache(true);
      }
      const paced = await meterBillPaced({ tariff, meter: 'm1', from, to, readings: fresh });
      assert.ok(Number(paced.totals.total) > 100, paced.totals.total);
      assert.deepEqual(paced.totals, old.totals);
      assert.deepEqual(paced.lines, old.lines);
      assert.deepEqual(paced.consumption, old.consumption);
      assert.deepEqual((await costCenterBillPaced(center, from, to, { m1: { readings: fresh } })).totals, oldCenter.totals);
      const report = await tariffReport(store, { meter: 'm1', location: [], from, to, step: 'hour', timeZone: ZONE, tariff: { _id: 'day-night', name: 'x', tariff } });
      assert.deepEqual(report.rows, oldReport.rows);
      assert.deepEqual(report.totals, oldReport.totals);
      const api = await call('bills.meter', { from: String(from), to: String(to), tariff: 'day-night' }, { id: 'm1' });
      assert.equal(api.body.data?.totals.total, old.totals.total, JSON.stringify(api.body.error));
    }
  });

  it('local times from the offset cache equal Intl\'s in zones with odd offsets and DST steps', () => {
    const zones = ['Europe/Berlin', 'America/New_York', 'Australia/Lord_Howe', 'Asia/Kathmandu', 'America/St_Johns', 'Pacific/Chatham'];
    const times: number[] = [];
    for (let t = Date.UTC(1970, 0, 1); t < Date.UTC(2100, 0, 1); t += 86_400_000 * 97 + 3_600_000 * 7 + 60_000 * 13 + 1234) times.push(t);
    for (const z of zones) for (const d of [Date.UTC(2026, 2, 29, 0, 30), Date.UTC(2026, 9, 25, 0, 59, 59), Date.UTC(2026, 3, 5, 15, 0)]) times.push(d - 3_600_000, d, d + 1);
    for (const zone of zones) {
      const cached = times.map((t) => toLocal(t, zone));
      useOffsetCache(false);
      try {
        assert.deepEqual(times.map((t) => toLocal(t, zone)), cached, zone);
      } finally {
        useOffsetCache(true);
      }
    }
  });
});
