import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { Quality } from '../../lib/model/quality';
import { ModbusMeterSimulator } from '../../lib/sim/modbus-meter';
import { influxdbMissing, startInfluxdb1, type RunningService } from '../fixtures/services';
import { missingPeer } from '../fixtures/sim/peers';
import { createDemoPlant, loginApi } from './api-client';
import { eventually, startEms, type RunningEms } from './runtime';

const ENERGY = '1-0:1.8.0';
const energyOf = (meter: any) => meter.values.find((v: any) => v.obis === ENERGY);

async function influxql(influx: RunningService, q: string, method: 'GET' | 'POST' = 'GET'): Promise<any> {
  const url = `${influx.url}/query?db=ems&epoch=ms&q=${encodeURIComponent(q)}`;
  const res = await fetch(url, { method });
  const body = await res.json();
  assert.equal(res.status, 200, JSON.stringify(body));
  return body;
}

describe('shipped EMS flow on InfluxDB 1.x (EMS_STORE=influxdb)', missingPeer(influxdbMissing()), () => {
  let influx: RunningService;
  let sim: ModbusMeterSimulator;
  let ems: RunningEms;
  let api: Awaited<ReturnType<typeof loginApi>>;
  const getJson = (url: string) => api('GET', url.slice(ems.url.length));

  before(async () => {
    influx = await startInfluxdb1();
    await influxql(influx, 'CREATE DATABASE ems', 'POST');
    sim = new ModbusMeterSimulator({
      units: [{ unit: 1, profile: 'eastron-sdm630' }, { unit: 2, profile: 'abb-a44' }, { unit: 3, profile: 'carlo-gavazzi-em24' }],
      speed: 120,
    });
    const port = await sim.listen(0);
    ems = await startEms({
      EMS_STORE: 'influxdb', EMS_INFLUX_URL: influx.url, EMS_INFLUX_VERSION: '1', EMS_INFLUX_DB: 'ems',
      EMS_MODBUS_HOST: '127.0.0.1', EMS_MODBUS_PORT: String(port), EMS_TIME_ZONE: 'Europe/Berlin',
    });
    api = await loginApi(ems.url);
    await createDemoPlant(api, port, 10);
  });

  after(async () => {
    await ems?.stop();
    await sim?.close();
    await influx?.stop();
  });

  it('answers GET /api/meters from InfluxDB with the three meters and rising energy', async () => {
    const first = await eventually(30_000, async () => {
      const { status, body } = await getJson(`${ems.url}/api/meters`);
      assert.equal(status, 200, JSON.stringify(body));
      return body.data.length === 3 && body.data.every(energyOf) ? body : undefined;
    });
    assert.equal(first.error, null);
    assert.deepEqual(first.data.map((m: any) => m._id), ['hvac', 'lighting', 'main-incomer']);
    assert.equal(energyOf(first.data.find((m: any) => m._id === 'main-incomer')).unit, 'kWh');

    await eventually(35_000, async () => {
      const { body } = await getJson(`${ems.url}/api/meters`);
      return first.data.every((m: any) => {
        const now = body.data.find((x: any) => x._id === m._id);
        return now && energyOf(now).time > energyOf(m).time && energyOf(now).value > energyOf(m).value;
      }) ? true : undefined;
    });
    // The embedded store was not used.
    assert.ok(!fs.existsSync(path.join(ems.userDir, 'ems-readings.sqlite')), 'no sqlite file in the user dir');
  });

  it('has written the points to the server (a direct InfluxQL query shows them)', async () => {
    const body = await influxql(influx, `SELECT count("value") FROM "ems_reading" WHERE "obis" = '${ENERGY}' GROUP BY "meter"`);
    const series = body.results[0].series as any[];
    assert.deepEqual(series.map((s) => s.tags.meter).sort(), ['hvac', 'lighting', 'main-incomer']);
    for (const s of series) assert.ok(s.values[0][1] >= 2, `${s.tags.meter}: ${s.values[0][1]} energy points`);
    const last = await influxql(influx, `SELECT last("value"), "unit" FROM "ems_reading" WHERE "meter" = 'main-incomer' AND "obis" = '${ENERGY}'`);
    const [, value, unit] = last.results[0].series[0].values[0];
    assert.ok(value > 0);
    assert.equal(unit, 'kWh');
  });
  it('undoes a file import on InfluxDB: the added readings are deleted, the replaced one has its value and quality back', async () => {
    const folders = await api('GET', '/api/folders');
    const folder = folders.body.data.find((f: any) => f.name === 'Demo plant')._id;
    assert.equal((await api('POST', '/api/meters', { _id: 'hand-water', name: 'Water by hand', folder_id: folder, protocol: 'manual' })).status, 201);
    const t1 = Date.UTC(2026, 0, 10, 7); // 08:00 in Berlin
    assert.equal((await api('POST', '/api/meters/hand-water/readings', { time: t1, obis: '8-0:1.0.0', value: 40, unit: 'm3' })).status, 201);
    const csv = 'meter;time;obis;value;unit\r\nhand-water;10.01.2026 08:00;8-0:1.0.0;41,5;m3\r\nhand-water;11.01.2026 08:00;8-0:1.0.0;47,25;m3\r\n';
    const login = await fetch(`${ems.url}/api/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username: 'admin', password: 'ems-admin' }) });
    const token = ((await login.json()) as any).data.access_token;
    const res = await fetch(`${ems.url}/api/imports?mode=commit`, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'text/csv' }, body: csv, signal: AbortSignal.timeout(20_000) });
    const commit = await res.json() as any;
    assert.equal(res.status, 201, JSON.stringify(commit));
    const stored = async () => {
      const body = await influxql(influx, `SELECT "value", "quality" FROM "ems_reading" WHERE "meter" = 'hand-water'`);
      return (body.results[0].series?.[0]?.values ?? []).map(([t, v, q]: number[]) => [new Date(t).toISOString(), v, q]);
    };
    assert.deepEqual(await stored(), [['2026-01-10T07:00:00.000Z', 41.5, Quality.MANUAL | Quality.IMPORTED], ['2026-01-11T07:00:00.000Z', 47.25, Quality.MANUAL | Quality.IMPORTED]]);
    const undo = await api('DELETE', `/api/imports/${commit.data.import}`);
    assert.equal(undo.status, 200, JSON.stringify(undo.body));
    assert.deepEqual([undo.body.data.removed, undo.body.data.restored], [1, 1]);
    assert.deepEqual(await stored(), [['2026-01-10T07:00:00.000Z', 40, Quality.MANUAL]]);
    const back = await api('GET', `/api/meters/hand-water/readings?from=${t1 - 3_600_000}&to=${t1 + 2 * 86_400_000}`);
    assert.deepEqual(back.body.data.readings.map((r: any) => [r.time, r.value, r.quality]), [[t1, 40, Quality.MANUAL]]);
  });
});
