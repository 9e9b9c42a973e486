import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Reading } from '../../lib/model/reading';
import { SqliteStore } from '../../lib/store/sqlite';
import { loginApi } from './api-client';
import { freePort, startEms, type RunningEms } from './runtime';

const TZ = 'Europe/Berlin';
const METER = 'e2e-main';
const QUARTER = 15 * 60_000;

/**
 * 2026-03-28 00:00 .. 2026-03-30 00:00 local, every 15 minutes: T1 (1-0:1.8.1) +0.25 kWh per quarter
 * hour before local noon, T2 (1-0:1.8.2) +0.5 after; 1.8.0 = T1 + T2. So the DST day 2026-03-29 (23 h)
 * has 11 hours before noon (T1 = 11) and 12 after (T2 = 24).
 */
function readings(): Reading[] {
  const out: Reading[] = [];
  let t1 = 1000;
  let t2 = 2000;
  const end = Date.parse('2026-03-29T22:00:00Z');
  for (let t = Date.parse('2026-03-27T23:00:00Z'); t <= end; t += QUARTER) {
    for (const [obis, value] of [['1-0:1.8.1', t1], ['1-0:1.8.2', t2], ['1-0:1.8.3', 0], ['1-0:1.8.4', 0], ['1-0:1.8.0', t1 + t2]] as const) {
      out.push({ meter: METER, obis, time: t, value, unit: 'kWh' });
    }
    const localHour = new Date(t + (t >= Date.parse('2026-03-29T01:00:00Z') ? 2 : 1) * 3_600_000).getUTCHours();
    if (localHour < 12) t1 += 0.25;
    else t2 += 0.5;
  }
  for (const [obis, value, unit] of [['1-0:32.7.0', 230.5, 'V'], ['1-0:52.7.0', 231, 'V'], ['1-0:72.7.0', 229.5, 'V'], ['1-0:31.7.0', 12, 'A'], ['1-0:13.7.0', 0.5, '']] as const) {
    out.push({ meter: METER, obis, time: end, value, unit });
  }
  return out;
}

describe('data and report endpoints in the shipped flows (real Node-RED)', () => {
  let ems: RunningEms;
  let api: Awaited<ReturnType<typeof loginApi>>;
  let dir: string;

  before(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ems-api-data-'));
    const sqlite = path.join(dir, 'readings.sqlite');
    const store = new SqliteStore({ path: sqlite });
    await store.write(readings());
    await store.close();
    const deadPort = await freePort(); // nothing listens: the meter's polls fail, its stored readings stay
    ems = await startEms({ EMS_SQLITE_PATH: sqlite, EMS_DB_PATH: path.join(dir, 'ems.db'), EMS_TIME_ZONE: TZ, EMS_MODBUS_PORT: String(deadPort) });
    api = await loginApi(ems.url);
    const site = await api('POST', '/api/folders', { name: 'Plant A', folder_type: 'site' });
    const hall = await api('POST', '/api/folders', { name: 'Hall 2', folder_type: 'building', parent_id: site.body.data._id });
    const m = await api('POST', '/api/meters', {
      _id: METER, name: 'Main feed', folder_id: hall.body.data._id, protocol: 'modbus-tcp', ip_address: '127.0.0.1', port: deadPort,
      connection_address: '1', profile: 'eastron-sdm630', interval_time: 3600,
    });
    assert.equal(m.status, 201, JSON.stringify(m.body));
  });

  after(async () => {
    await ems?.stop();
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  it('GET /api/reports/tariffs: 23 hourly rows on the DST day with T1/T2 from the registers', async () => {
    const r = await api('GET', `/api/reports/tariffs?meter=${METER}&date1=2026-03-29&date2=2026-03-29&step=hour`);
    assert.equal(r.status, 200, JSON.stringify(r.body));
    const d = r.body.data;
    assert.equal(d.rows.length, 23);
    assert.deepEqual(d.location, ['Plant A', 'Hall 2']);
    assert.deepEqual([d.rows[2].date, d.rows[2].first_tariff], ['2026-03-29T03:00:00+02:00', '1']);
    assert.deepEqual([d.rows[10].date, d.rows[10].first_tariff, d.rows[10].second_tariff], ['2026-03-29T11:00:00+02:00', '1', '0']);
    assert.deepEqual([d.rows[11].date, d.rows[11].first_tariff, d.rows[11].second_tariff], ['2026-03-29T12:00:00+02:00', '0', '2']);
    assert.deepEqual(d.totals, { first_tariff: '11', second_tariff: '24', third_tariff: '0', fourth_tariff: '0', total: '35' });
  });

  it('GET /api/reports/tariffs?format=csv answers text/csv with a header row', async () => {
    const res = await fetch(`${ems.url}/api/reports/tariffs?meter=${METER}&date1=2026-03-28&date2=2026-03-29&step=day&format=csv`, {
      headers: { authorization: `Bearer ${(await login(ems.url))}` },
    });
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type') ?? '', /^text\/csv/);
    assert.equal(res.headers.get('content-disposition'), `attachment; filename="tariffs-${METER}-2026-03-28-2026-03-30-day.csv"`);
    assert.equal(await res.text(), [
      'date,date_to,first_tariff,second_tariff,third_tariff,fourth_tariff,total,unit',
      '2026-03-28T00:00:00+01:00,2026-03-29T00:00:00+01:00,12,24,0,0,36,kWh',
      '2026-03-29T00:00:00+01:00,2026-03-30T00:00:00+02:00,11,24,0,0,35,kWh',
      '',
    ].join('\r\n'));
  });

  it('GET /api/data/*: dashboard, table, graphics and vector for the meter', async () => {
    const q = `meter=${METER}&date1=2026-03-29&date2=2026-03-29`;
    const dash = await api('GET', `/api/data/dashboard?meter=${METER}&date1=2026-03-29&date2=2026-03-30&type=voltage`);
    assert.equal(dash.status, 200, JSON.stringify(dash.body));
    assert.deepEqual(dash.body.data.rows[0], { param_name: '1-0:32.7.0', date: '2026-03-30T00:00:00+02:00', value: '230.5', unit: 'V' });
    assert.deepEqual(dash.body.data.location, ['Plant A', 'Hall 2']);
    const table = await api('GET', `/api/data/table?${q}&type=energy&limit=5`);
    assert.deepEqual(table.body.data.rows.map((r: any) => [r.param_name, r.date, r.value]), [
      ['1-0:1.8.0', '2026-03-29T23:45:00+02:00', '3070.5'], // T1 + T2
      ['1-0:1.8.1', '2026-03-29T23:45:00+02:00', '1023'],
      ['1-0:1.8.2', '2026-03-29T23:45:00+02:00', '2047.5'], // 2000 + 24 (Mar 28) + 47 quarters x 0.5
      ['1-0:1.8.3', '2026-03-29T23:45:00+02:00', '0'],
      ['1-0:1.8.4', '2026-03-29T23:45:00+02:00', '0'],
    ]);
    const daily = await api('GET', `/api/data/graphics?meter=${METER}&date1=2026-03-28&date2=2026-03-29&type=energy&step=1d&fn=delta`);
    assert.deepEqual(daily.body.data.rows.filter((r: any) => r.param_name === '1-0:1.8.0').map((r: any) => [r.date, r.value]), [
      ['2026-03-28T00:00:00+01:00', '36'], // the register at the day's end minus at its start: the report's totals above
      ['2026-03-29T00:00:00+01:00', '35'],
    ]);
    const vector = await api('GET', `/api/data/vector?meter=${METER}&date1=2026-03-29&date2=2026-03-30`);
    assert.deepEqual(vector.body.data.rows.map((r: any) => [r.param_name, r.value, r.angle]), [
      ['U1', '230.5', '0'], ['U2', '231', '-120'], ['U3', '229.5', '120'], ['I1', '12', '-60'],
    ]);
  });

  it('prices the report with the tariff bound through an accounting object (POST /api/tariffs, /api/objects)', async () => {
    const tariff = {
      id: 'e2e-reg', name: 'E2E registers', currency: 'EUR', timeZone: TZ,
      versions: [{ validFrom: '2026-01-01', energy: [{ type: 'register', name: 'Energy', energyType: 'electricity', unit: 'kWh', rates: { T1: '0.25', T2: '0.30' } }] }],
    };
    const t = await api('POST', '/api/tariffs', { id: 'e2e-reg', name: 'E2E registers', tariff });
    assert.equal(t.status, 201, JSON.stringify(t.body));
    const o = await api('POST', '/api/objects', { model: 'electricity', type: 'feeder', name: 'Main feed', meter_id: METER, tariff_id: 'e2e-reg' });
    assert.equal(o.status, 201, JSON.stringify(o.body));
    const r = await api('GET', `/api/reports/tariffs?meter=${METER}&date1=2026-03-29&date2=2026-03-29&step=day`);
    assert.deepEqual(r.body.data.tariff, { id: 'e2e-reg', name: 'E2E registers', currency: 'EUR' });
    const row = r.body.data.rows[0];
    // T1 11 kWh x 0.25 = 2.75, T2 24 kWh x 0.30 = 7.20
    assert.deepEqual([row.first_tariff_cost, row.second_tariff_cost, row.third_tariff_cost, row.total_cost], ['2.75', '7.20', '0', '9.95']);
  });

  it('answers 401 without a token, 404 for an unknown meter and 400 naming a bad parameter', async () => {
    const anon = await fetch(`${ems.url}/api/data/table?meter=${METER}`);
    assert.equal(anon.status, 401);
    const ghost = await api('GET', '/api/data/dashboard?meter=ghost');
    assert.deepEqual(ghost.body, { data: null, error: 'unknown meter "ghost"', status: 404 });
    const bad = await api('GET', `/api/reports/tariffs?meter=${METER}&step=fortnight`);
    assert.equal(bad.status, 400);
    assert.equal(bad.body.error, 'step "fortnight" is not a report step (use hour, day, month)');
  });
});

async function login(url: string): Promise<string> {
  const res = await fetch(`${url}/api/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username: 'admin', password: 'ems-admin' }) });
  return ((await res.json()) as any).data.access_token;
}
