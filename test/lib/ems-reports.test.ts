import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { BillStore } from '../../lib/billing/bill-store';
import { OPERATIONS, runOperation, type ApiContext } from '../../lib/ems/api';
import { openEmsServices, type EmsServices } from '../../lib/ems/services';
import { reportCsv, stepBoundaries, tariffReport } from '../../lib/ems/reports';
import type { Reading } from '../../lib/model/reading';
import { SqliteStore } from '../../lib/store/sqlite';
import { toLocal } from '../../lib/model/time';
import { validateTariff } from '../../lib/tariff';

const TZ = 'Europe/Berlin';
const NOW = Date.parse('2026-04-02T10:00:00Z');
const QUARTER = 15 * 60_000;
const op = OPERATIONS.find((o) => o.name === 'reports.tariffs')!;

/** A two-register tariff: T1 (night) 0.20 EUR/kWh, T2 (day) 0.315 EUR/kWh. */
const TARIFF = validateTariff({
  id: 'two-reg', name: 'Day/night registers', currency: 'EUR', timeZone: TZ,
  versions: [{ validFrom: '2026-01-01', energy: [{ type: 'register', name: 'Energy', energyType: 'electricity', unit: 'kWh', rates: { T1: '0.20', T2: '0.315', T3: '0.10', T4: '0.10' } }] }],
});

/**
 * m1 counts T1 (1-0:1.8.1) at night (local 22:00-06:00) at 1.5 kWh/h and T2 (1-0:1.8.2) by day at
 * 2.25 kWh/h, in 15-minute readings from 2026-03-28 00:00 to 2026-03-31 00:00 local; T3/T4 stay 0.
 * So a 24-hour day is T1 8 h x 1.5 = 12, T2 16 h x 2.25 = 36; the DST day 2026-03-29 (23 h) has one
 * night hour less: T1 10.5, T2 36.
 */
function registerReadings(): Reading[] {
  const out: Reading[] = [];
  let t1 = 100;
  let t2 = 200;
  for (let t = Date.parse('2026-03-27T23:00:00Z'); t <= Date.parse('2026-03-30T22:00:00Z'); t += QUARTER) {
    out.push({ meter: 'm1', obis: '1-0:1.8.1', time: t, value: t1, unit: 'kWh' });
    out.push({ meter: 'm1', obis: '1-0:1.8.2', time: t, value: t2, unit: 'kWh' });
    out.push({ meter: 'm1', obis: '1-0:1.8.3', time: t, value: 7, unit: 'kWh' });
    out.push({ meter: 'm1', obis: '1-0:1.8.4', time: t, value: 0, unit: 'kWh' });
    const hour = toLocal(t, TZ).hour; // the quarter [t, t + 15 min) is priced by its local start hour
    if (hour >= 6 && hour < 22) t2 += 0.5625;
    else t1 += 0.375;
  }
  return out;
}

describe('reports by four tariffs', () => {
  let services: EmsServices;
  let store: SqliteStore;
  let base: Omit<ApiContext, 'caller' | 'request'>;
  let token: string;
  const call = async (query: Record<string, unknown>) =>
    (await runOperation(op, { ...base, request: { params: {}, query, body: undefined, headers: { authorization: `Bearer ${token}` }, cookies: {} } })) as { status: number; body: any; headers: Record<string, string> };

  before(async () => {
    services = await openEmsServices({ file: ':memory:', env: { EMS_ADMIN_USER: 'boss', EMS_ADMIN_PASSWORD: 'chief-pass-0417' }, now: () => NOW });
    const site = services.registry.createFolder({ name: 'Plant A', folder_type: 'site' });
    services.registry.createMeter({ folder_id: site._id, name: 'Main feed', protocol: 'modbus-tcp', profile: 'eastron-sdm630', connection_address: '1' }, undefined, 'm1');
    store = new SqliteStore({ path: ':memory:' });
    base = { services, store, bills: new BillStore(':memory:'), timeZone: TZ, now: () => NOW };
    token = (await services.auth.login('boss', 'chief-pass-0417')).access_token;
    await store.write(registerReadings());
    services.tariffs.create({ id: 'two-reg', name: 'Day/night registers', tariff: TARIFF });
    // m2 (not in the registry, only in the store) has only the total register 1.8.0
    await store.write([
      { meter: 'm2', obis: '1-0:1.8.0', time: Date.parse('2026-03-28T23:00:00Z'), value: 50, unit: 'kWh' },
      { meter: 'm2', obis: '1-0:1.8.0', time: Date.parse('2026-03-29T10:00:00Z'), value: 55.5, unit: 'kWh' },
      { meter: 'm2', obis: '1-0:1.8.0', time: Date.parse('2026-03-29T22:00:00Z'), value: 61.25, unit: 'kWh' },
    ]);
  });
  after(async () => {
    services.close();
    await store.close();
  });

  it('steps: 23 hours on the spring-forward day, 25 on the fall-back day, calendar months', () => {
    const spring = stepBoundaries(Date.parse('2026-03-28T23:00:00Z'), Date.parse('2026-03-29T22:00:00Z'), 'hour', TZ);
    assert.equal(spring.length - 1, 23);
    const fall = stepBoundaries(Date.parse('2026-10-24T22:00:00Z'), Date.parse('2026-10-25T23:00:00Z'), 'hour', TZ);
    assert.equal(fall.length - 1, 25);
    const months = stepBoundaries(Date.parse('2026-02-10T00:00:00Z'), Date.parse('2026-03-31T22:00:00Z'), 'month', TZ);
    assert.deepEqual(months.map((t) => new Date(t).toISOString()), ['2026-01-31T23:00:00.000Z', '2026-02-28T23:00:00.000Z', '2026-03-31T22:00:00.000Z']);
  });

  it('hourly on the DST day: 23 rows, night hours on T1, day hours on T2', async () => {
    const a = await call({ meter: 'm1', date1: '2026-03-29', date2: '2026-03-29', step: 'hour' });
    assert.equal(a.status, 200);
    const d = a.body.data;
    assert.equal(d.rows.length, 23);
    assert.deepEqual(d.rows.slice(0, 4).map((r: any) => [r.date, r.first_tariff, r.second_tariff, r.third_tariff, r.total]), [
      ['2026-03-29T00:00:00+01:00', '1.5', '0', '0', '1.5'],
      ['2026-03-29T01:00:00+01:00', '1.5', '0', '0', '1.5'],
      ['2026-03-29T03:00:00+02:00', '1.5', '0', '0', '1.5'], // 02:00-03:00 does not exist
      ['2026-03-29T04:00:00+02:00', '1.5', '0', '0', '1.5'],
    ]);
    assert.deepEqual([d.rows[5].date, d.rows[5].second_tariff], ['2026-03-29T06:00:00+02:00', '2.25']);
    assert.equal(d.rows[22].date_to, '2026-03-30T00:00:00+02:00');
    assert.deepEqual(d.totals, { first_tariff: '10.5', second_tariff: '36', third_tariff: '0', fourth_tariff: '0', total: '46.5' });
    assert.deepEqual(d.registers, { first_tariff: '1-0:1.8.1', second_tariff: '1-0:1.8.2', third_tariff: '1-0:1.8.3', fourth_tariff: '1-0:1.8.4' });
    assert.deepEqual(d.location, ['Plant A']);
    assert.equal(d.tariff, null);
  });

  it('daily with the bound tariff: costs per register as decimal strings, and the same as CSV', async () => {
    services.objects.create({ model: 'electricity', type: 'feeder', name: 'Main feed', meter_id: 'm1', tariff_id: 'two-reg' });
    const a = await call({ meter: 'm1', date1: '2026-03-28', date2: '2026-03-30', step: 'day' });
    const d = a.body.data;
    assert.deepEqual(d.tariff, { id: 'two-reg', name: 'Day/night registers', currency: 'EUR' });
    assert.deepEqual(d.rows.map((r: any) => [r.date, r.first_tariff, r.second_tariff, r.total, r.first_tariff_cost, r.second_tariff_cost, r.total_cost]), [
      ['2026-03-28T00:00:00+01:00', '12', '36', '48', '2.40', '11.34', '13.74'], // 12 x 0.20, 36 x 0.315
      ['2026-03-29T00:00:00+01:00', '10.5', '36', '46.5', '2.10', '11.34', '13.44'],
      ['2026-03-30T00:00:00+02:00', '12', '36', '48', '2.40', '11.34', '13.74'],
    ]);
    assert.deepEqual(d.totals, {
      first_tariff: '34.5', second_tariff: '108', third_tariff: '0', fourth_tariff: '0', total: '142.5',
      first_tariff_cost: '6.90', second_tariff_cost: '34.02', third_tariff_cost: '0', fourth_tariff_cost: '0', total_cost: '40.92',
    });

    const csv = await call({ meter: 'm1', date1: '2026-03-28', date2: '2026-03-30', step: 'day', format: 'csv' });
    assert.equal(csv.status, 200);
    assert.equal(csv.headers['content-type'], 'text/csv; charset=utf-8');
    assert.equal(csv.headers['content-disposition'], 'attachment; filename="tariffs-m1-2026-03-28-2026-03-31-day.csv"');
    assert.equal(csv.body, [
      'date,date_to,first_tariff,second_tariff,third_tariff,fourth_tariff,total,unit,first_tariff_cost,second_tariff_cost,third_tariff_cost,fourth_tariff_cost,total_cost,currency',
      '2026-03-28T00:00:00+01:00,2026-03-29T00:00:00+01:00,12,36,0,0,48,kWh,2.40,11.34,0,0,13.74,EUR',
      '2026-03-29T00:00:00+01:00,2026-03-30T00:00:00+02:00,10.5,36,0,0,46.5,kWh,2.10,11.34,0,0,13.44,EUR',
      '2026-03-30T00:00:00+02:00,2026-03-31T00:00:00+02:00,12,36,0,0,48,kWh,2.40,11.34,0,0,13.74,EUR',
      '',
    ].join('\r\n'));
  });

  it('monthly: counts from the first reading when none precedes the period, and says so', async () => {
    const a = await call({ meter: 'm1', date1: '2026-03-01', date2: '2026-03-31', step: 'month', tariff: 'two-reg' });
    const d = a.body.data;
    assert.deepEqual(d.rows.map((r: any) => [r.date, r.date_to, r.first_tariff, r.second_tariff, r.total_cost]), [
      ['2026-03-01T00:00:00+01:00', '2026-04-01T00:00:00+02:00', '34.5', '108', '40.92'],
    ]);
    assert.match(d.notes.join('\n'), /1-0:1\.8\.1: no reading at or before 2026-03-01T00:00:00\+01:00; counted from the first reading at 2026-03-28T00:00:00\+01:00/);
  });

  it('without T1..T4 registers first_tariff carries 1.8.0; a meter known only to the store has no location', async () => {
    const r = await tariffReport(store, { meter: 'm2', location: [], from: Date.parse('2026-03-28T23:00:00Z'), to: Date.parse('2026-03-29T22:00:00Z'), step: 'day', timeZone: TZ });
    assert.deepEqual(r.rows.map((x) => [x.first_tariff, x.second_tariff, x.third_tariff, x.fourth_tariff, x.total]), [['11.25', '0', '0', '0', '11.25']]);
    assert.deepEqual(r.registers, { first_tariff: '1-0:1.8.0', second_tariff: null, third_tariff: null, fourth_tariff: null });
    assert.equal(reportCsv(r).split('\r\n')[1], '2026-03-29T00:00:00+01:00,2026-03-30T00:00:00+02:00,11.25,0,0,0,11.25,kWh');
    const api = await call({ meter: 'm2', date1: '2026-03-29', date2: '2026-03-29', step: 'hour' });
    assert.equal(api.body.data.totals.first_tariff, '11.25');
    assert.deepEqual(api.body.data.location, []);
    assert.equal(api.body.data.rows[10].first_tariff, '5.5', '10:00Z is 12:00 local: the step 11:00-12:00 closes on 55.5');
  });

  it('a heat or water meter counts its main register in its own unit; data_from says where the data begins', async () => {
    await store.write([
      // An M-Bus heat meter (energy in kWh, plus volume and temperature) and a LoRaWAN platform water meter (m3), from the 28th at 12:00 local.
      ...[0, 1, 2].flatMap((d) => {
        const time = Date.parse('2026-03-28T11:00:00Z') + d * 86_400_000;
        return [
          { meter: 'heat', obis: '6-0:1.0.0', time, value: 1000 + 50 * d, unit: 'kWh' }, { meter: 'heat', obis: '6-0:2.0.0', time, value: 10 + d, unit: 'm3' },
          { meter: 'heat', obis: '6-0:10.0.0', time, value: 60, unit: 'degC' }, { meter: 'water', obis: '8-0:1.0.0', time, value: 100 + 0.25 * d, unit: 'm3' },
        ];
      }),
    ]);
    const heat = await tariffReport(store, { meter: 'heat', location: [], from: Date.parse('2026-03-25T23:00:00Z'), to: Date.parse('2026-03-30T22:00:00Z'), step: 'day', timeZone: TZ });
    assert.deepEqual([heat.unit, heat.registers.first_tariff, heat.data_from], ['kWh', '6-0:1.0.0', '2026-03-28T12:00:00+01:00']);
    assert.deepEqual(heat.rows.map((r) => [r.date.slice(0, 10), r.total]), [['2026-03-26', '0'], ['2026-03-27', '0'], ['2026-03-28', '0'], ['2026-03-29', '50'], ['2026-03-30', '50']]);
    assert.match(heat.notes.join('\n'), /first_tariff carries the meter's main register 6-0:1\.0\.0/);
    const water = await call({ meter: 'water', date1: '2026-03-28', date2: '2026-03-30', step: 'day' });
    assert.deepEqual([water.body.data.unit, water.body.data.registers.first_tariff, water.body.data.totals.total], ['m3', '8-0:1.0.0', '0.5']);
    // A period with a reading before it starts with data; one without any reading has none.
    const later = await tariffReport(store, { meter: 'water', location: [], from: Date.parse('2026-03-29T22:00:00Z'), to: Date.parse('2026-03-30T22:00:00Z'), step: 'day', timeZone: TZ });
    assert.equal(later.data_from, '2026-03-30T00:00:00+02:00');
    const none = await tariffReport(store, { meter: 'water', location: [], from: Date.parse('2026-01-01T00:00:00Z'), to: Date.parse('2026-01-02T00:00:00Z'), step: 'hour', timeZone: TZ });
    assert.equal(none.data_from, null);
    const electric = await tariffReport(store, { meter: 'm2', location: [], from: Date.parse('2026-03-28T23:00:00Z'), to: Date.parse('2026-03-29T22:00:00Z'), step: 'hour', timeZone: TZ });
    assert.equal(electric.data_from, '2026-03-29T00:00:00+01:00', 'a reading at the start: data from the start');
  });

  it('a register that goes back (reset or meter exchange) counts 0 for that step, with a note', async () => {
    await store.write([
      { meter: 'm3', obis: '1-0:1.8.0', time: Date.parse('2026-03-27T23:00:00Z'), value: 10, unit: 'kWh' },
      { meter: 'm3', obis: '1-0:1.8.0', time: Date.parse('2026-03-28T23:00:00Z'), value: 15, unit: 'kWh' },
      { meter: 'm3', obis: '1-0:1.8.0', time: Date.parse('2026-03-29T10:00:00Z'), value: 2, unit: 'kWh' },
      { meter: 'm3', obis: '1-0:1.8.0', time: Date.parse('2026-03-30T22:00:00Z'), value: 4.5, unit: 'kWh' },
    ]);
    const r = await tariffReport(store, { meter: 'm3', location: [], from: Date.parse('2026-03-27T23:00:00Z'), to: Date.parse('2026-03-30T22:00:00Z'), step: 'day', timeZone: TZ });
    assert.deepEqual(r.rows.map((x) => [x.date.slice(0, 10), x.first_tariff]), [['2026-03-28', '5'], ['2026-03-29', '0'], ['2026-03-30', '2.5']]);
    assert.match(r.notes.join('\n'), /1-0:1\.8\.0: the register went back from 15 to 2 by 2026-03-29T12:00:00\+02:00 \(reset or meter exchange\); that step counts 0/);
  });

  it('refuses bad parameters naming them', async () => {
    const cases: [Record<string, unknown>, number, string][] = [
      [{ meter: 'm1', step: 'week' }, 400, 'step "week" is not a report step (use hour, day, month)'],
      [{ meter: 'm1', format: 'xml' }, 400, 'format "xml" is not a report format (use json or csv)'],
      [{ meter: 'm1', date1: '2026-04-02', date2: '2026-04-01' }, 400, 'date1 "2026-04-02" is after date2 "2026-04-01"'],
      [{ meter: 'm1', tariff: 'gold' }, 404, 'unknown tariff "gold"'],
      [{ meter: 'ghost' }, 404, 'unknown meter "ghost"'],
      [{ meter: 'm1', window: '1h' }, 400, 'unknown parameter "window" (use meter, date1, date2, step, format, tariff)'],
    ];
    for (const [query, status, error] of cases) {
      const a = await call(query);
      assert.equal(a.status, status, JSON.stringify(query));
      assert.equal(a.body.error, error);
    }
  });
});
