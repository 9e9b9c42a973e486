// A virtual meter in the shipped EMS: `main - hvac` answers per hour through the readings API, a tariff report and a data endpoint.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Quality, qualityFlags } from '../../lib/model/quality';
import { loginApi } from './api-client';
import { startEms, type RunningEms } from './runtime';

const H = 3_600_000;
const HALF = H / 2;
const DAY = Date.UTC(2026, 0, 5);
const E = '1-0:1.8.0';
/** main: +5 kWh per half hour from 00:00 (10 kWh/h); hvac: +1.5 kWh per half hour from 23:50 the day before (3 kWh/h). */
const MAIN_PER_HOUR = 10;
const HVAC_PER_HOUR = 3;

describe('a virtual meter in the shipped EMS (real Node-RED, flows/ems.json)', () => {
  let ems: RunningEms;
  let api: Awaited<ReturnType<typeof loginApi>>;
  let folder: string;

  before(async () => {
    ems = await startEms({ EMS_TIME_ZONE: 'UTC', EMS_DEMO_SEED: '0' });
    api = await loginApi(ems.url);
    const f = await api('POST', '/api/folders', { name: 'Virtual site' });
    assert.equal(f.status, 201, JSON.stringify(f.body));
    folder = f.body.data._id;
    for (const id of ['main', 'hvac']) {
      const m = await api('POST', '/api/meters', { _id: id, name: id, folder_id: folder, protocol: 'manual' });
      assert.equal(m.status, 201, JSON.stringify(m.body));
    }
    const post = async (meter: string, first: number, perHalfHour: number, start: number, count: number) => {
      const readings = Array.from({ length: count }, (_, k) => ({ time: new Date(start + k * HALF).toISOString(), obis: E, value: first + k * perHalfHour, unit: 'kWh' }));
      const r = await api('POST', `/api/meters/${meter}/readings`, { readings });
      assert.equal(r.status, 201, JSON.stringify(r.body));
    };
    await post('main', 1000, MAIN_PER_HOUR / 2, DAY, 9); // 00:00 .. 04:00
    await post('hvac', 200, HVAC_PER_HOUR / 2, DAY - 10 * 60_000, 10); // 23:50 .. 04:20, never on an hour
  });
  after(async () => {
    await ems?.stop();
  });

  it('refuses an unknown meter in the expression (400 naming it), then defines main - hvac', async () => {
    const unknown = await api('POST', '/api/meters', { _id: 'rest', name: 'Rest', folder_id: folder, protocol: 'virtual', expression: 'main - nosuch' });
    assert.equal(unknown.status, 400, JSON.stringify(unknown.body));
    assert.match(unknown.body.error, /unknown meter "nosuch"/);
    const call = await api('POST', '/api/meters', { _id: 'rest', name: 'Rest', folder_id: folder, protocol: 'virtual', expression: 'main - max(hvac, 0)' });
    assert.equal(call.status, 400, JSON.stringify(call.body));
    assert.match(call.body.error, /call max\(\.\.\.\) at position 7/);
    const ok = await api('POST', '/api/meters', { _id: 'rest', name: 'Rest', folder_id: folder, protocol: 'virtual', expression: 'main - hvac' });
    assert.equal(ok.status, 201, JSON.stringify(ok.body));
    const polling = await api('GET', '/api/polling?meter=rest');
    assert.equal(polling.status, 200, JSON.stringify(polling.body));
    assert.equal(polling.body.data[0]?.scheduled, false, 'a virtual meter is never polled');
  });

  it('answers fn=delta per hour through the readings API: main − hvac, flagged CALCULATED', async () => {
    const r = await api('GET', `/api/meters/rest/readings?obis=${E}&from=${DAY}&to=${DAY + 4 * H}&window=1h&fn=delta`);
    assert.equal(r.status, 200, JSON.stringify(r.body));
    const rows = r.body.data.readings;
    assert.deepEqual(rows.map((x: any) => [x.time, x.value, x.unit]), [0, 1, 2, 3].map((h) => [DAY + h * H, MAIN_PER_HOUR - HVAC_PER_HOUR, 'kWh']));
    for (const x of rows) assert.deepEqual(qualityFlags(x.quality), ['INTERPOLATED', 'CALCULATED'], 'hvac never reads on the hour');
    const day = await api('GET', `/api/meters/rest/readings?obis=${E}&from=${DAY}&to=${DAY + 4 * H}&window=1d&fn=delta`);
    assert.equal(day.status, 200, JSON.stringify(day.body));
    assert.equal(day.body.data.readings[0].value, 4 * (MAIN_PER_HOUR - HVAC_PER_HOUR), 'the hours add up to the whole range');
    assert.ok(day.body.data.readings[0].quality & Quality.CALCULATED);
  });

  it('appears in a tariff report per hour and in the graphics, table and dashboard data endpoints', async () => {
    const report = await api('GET', `/api/reports/tariffs?meter=rest&date1=${DAY}&date2=${DAY + 4 * H}&step=hour`);
    assert.equal(report.status, 200, JSON.stringify(report.body));
    assert.equal(report.body.data.unit, 'kWh');
    assert.deepEqual(report.body.data.rows.map((row: any) => Number(row.first_tariff)), [7, 7, 7, 7].map(() => MAIN_PER_HOUR - HVAC_PER_HOUR));
    assert.equal(Number(report.body.data.totals.total), 4 * (MAIN_PER_HOUR - HVAC_PER_HOUR));
    const graphics = await api('GET', `/api/data/graphics?meter=rest&date1=${DAY}&date2=${DAY + 4 * H}&step=1h&fn=delta`);
    assert.equal(graphics.status, 200, JSON.stringify(graphics.body));
    assert.deepEqual(graphics.body.data.rows.map((row: any) => [row.param_name, Number(row.value), row.unit]), [0, 1, 2, 3].map(() => [E, MAIN_PER_HOUR - HVAC_PER_HOUR, 'kWh']));
    const table = await api('GET', `/api/data/table?meter=rest&date1=${DAY + H}&date2=${DAY + H + 1}`);
    assert.equal(table.status, 200, JSON.stringify(table.body));
    // the register at 01:00: main read then, hvac interpolated between 00:50 and 01:20
    const hvacAt1 = 200 + (HVAC_PER_HOUR / 2) * 2 + (HVAC_PER_HOUR / 2) * (10 / 30);
    assert.deepEqual(table.body.data.rows.map((row: any) => Number(row.value)), [1000 + MAIN_PER_HOUR - hvacAt1].map((v) => Math.round(v * 1e6) / 1e6));
    // the dashboard's newest value: main − hvac at that instant (both registers grow linearly)
    const dash = await api('GET', `/api/data/dashboard?meter=rest&date1=${DAY}&date2=${DAY + 4 * H}`);
    assert.equal(dash.status, 200, JSON.stringify(dash.body));
    const row = dash.body.data.rows.find((r: any) => r.param_name === E);
    const h = (Date.parse(row.date) - DAY) / H;
    assert.ok(h > 3 && h < 4, row.date);
    assert.ok(Math.abs(Number(row.value) - (1000 + MAIN_PER_HOUR * h - (200 + HVAC_PER_HOUR * (h + 1 / 6)))) < 1e-5, JSON.stringify(row));
  });

  it('is billed like a meter: opening and closing register, the consumption priced by a tariff', async () => {
    const tariff = {
      id: 'x', name: 'Flat', currency: 'EUR', timeZone: 'UTC',
      versions: [{ validFrom: '2026-01-01', energy: [{ name: 'Energy', type: 'flat', energyType: 'electricity', unit: 'kWh', rate: '0.25' }], taxes: [] }],
    };
    const t = await api('POST', '/api/tariffs', { id: 'flat', tariff });
    assert.equal(t.status, 201, JSON.stringify(t.body));
    const bill = await api('GET', `/api/meters/rest/bill?from=${new Date(DAY + H).toISOString()}&to=${new Date(DAY + 3 * H).toISOString()}&tariff=flat`);
    assert.equal(bill.status, 200, JSON.stringify(bill.body));
    const total = bill.body.data.consumption.registers.find((x: any) => x.register === 'total');
    assert.deepEqual([total.obis, Number(total.quantity), total.unit], [E, 2 * (MAIN_PER_HOUR - HVAC_PER_HOUR), 'kWh']);
    assert.equal(bill.body.data.totals.energy, (2 * (MAIN_PER_HOUR - HVAC_PER_HOUR) * 0.25).toFixed(2));
  });

  it('refuses posting readings for it and deleting a meter it uses (409 naming the virtual meter)', async () => {
    const posted = await api('POST', '/api/meters/rest/readings', { time: new Date(DAY).toISOString(), obis: E, value: 1, unit: 'kWh' });
    assert.equal(posted.status, 409, JSON.stringify(posted.body));
    const del = await api('DELETE', '/api/meters/hvac');
    assert.equal(del.status, 409, JSON.stringify(del.body));
    assert.match(del.body.error, /used by virtual meter "rest"/);
  });
});
