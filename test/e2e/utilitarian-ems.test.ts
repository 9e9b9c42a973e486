/**
 * The shipped EMS forwards stored readings to Utilitarian: a real Node-RED with flows/ems.json and
 * EMS_UTILITARIAN_URL set, the demo Modbus meters polled, their readings arriving in the Utilitarian
 * simulator as meter readings, and pulled back with the client equal to what the EMS stored.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ModbusMeterSimulator } from '../../lib/sim/modbus-meter';
import { UtilitarianSimulator, DEFAULT_TOKEN } from '../../lib/sim/utilitarian';
import { UtilitarianClient } from '../../lib/clients/utilitarian';
import { createDemoPlant, DEMO_METERS, loginApi } from './api-client';
import { eventually, startEms, type RunningEms } from './runtime';

const ENERGY = '1-0:1.8.0';

describe('EMS readings flow to Utilitarian and back (real Node-RED, flows/ems.json)', () => {
  let modbus: ModbusMeterSimulator;
  let util: UtilitarianSimulator;
  let utilUrl: string;
  let ems: RunningEms;
  let api: Awaited<ReturnType<typeof loginApi>>;

  before(async () => {
    modbus = new ModbusMeterSimulator({ units: DEMO_METERS.map(([, unit, profile]) => ({ unit, profile })), speed: 120 });
    const port = await modbus.listen(0);
    util = new UtilitarianSimulator();
    utilUrl = `http://127.0.0.1:${await util.listen(0)}/v1`;
    ems = await startEms({
      EMS_MODBUS_HOST: '127.0.0.1', EMS_MODBUS_PORT: String(port), EMS_TIME_ZONE: 'UTC', EMS_DEMO_SEED: '0',
      EMS_UTILITARIAN_URL: utilUrl, EMS_UTILITARIAN_TOKEN: DEFAULT_TOKEN,
    });
    api = await loginApi(ems.url);
    await createDemoPlant(api, port, 2);
  });

  after(async () => {
    await ems?.stop();
    await modbus?.close();
    await util?.close();
  });

  it('creates one meter device per demo meter and stores their readings as meter readings', async () => {
    const client = new UtilitarianClient({ url: utilUrl, token: DEFAULT_TOKEN });
    const names = await eventually(20_000, async () => {
      const devs = (await client.listMeterDevices()).map((d) => d.name).sort();
      return devs.length === DEMO_METERS.length ? devs : undefined;
    });
    assert.deepEqual(names, DEMO_METERS.map(([id]) => id).sort());
    const series = await client.list('/metering/meter-reading-series', { name: '1.0.1.8.0.255' });
    assert.equal(series.length, 1, 'one energy series, created once although three meters push at once');
    assert.equal(series[0].unit, 'kWh');
  });

  it('pulls back the readings the EMS stored, equal in time, OBIS, value and unit', async () => {
    const client = new UtilitarianClient({ url: utilUrl, token: DEFAULT_TOKEN });
    for (const [id] of DEMO_METERS) {
      const stored = await eventually(20_000, async () => {
        const r = await api('GET', `/api/meters/${id}/readings?obis=${ENERGY}&from=-1h`);
        assert.equal(r.status, 200, JSON.stringify(r.body));
        return r.body.data.readings.length >= 3 ? r.body.data.readings : undefined;
      });
      const upto = stored[stored.length - 1].time;
      const pulled = await eventually(10_000, async () => {
        const p = await client.pullReadings(id, { obis: [ENERGY], to: upto });
        return p.length >= stored.length ? p : undefined;
      });
      const emsRows = stored.map((r: any) => ({ meter: r.meter, time: r.time, obis: r.obis, value: r.value, unit: r.unit }));
      assert.deepEqual(pulled.slice(0, emsRows.length), emsRows, `meter ${id}`);
    }
  });

  it('the EMS events show no failed pushes', async () => {
    assert.doesNotMatch(ems.log(), /utilitarian.*(error|HTTP 4)/i);
  });
});
