import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
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
});
