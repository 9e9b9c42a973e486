/**
 * Wireless M-Bus meters defined through the API are received by the shipped EMS (real Node-RED with
 * flows/ems.json, real Mosquitto): `ems-sim wmbus` publishes encrypted telegrams (modes 5 and 7) on
 * wmbus/telegram as a radio receiver would; the meters' readings are stored with the simulator's values,
 * a meter defined with a wrong key logs an event saying so and stores nothing, an unknown meter is ignored.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { loginApi } from './api-client';
import { eventually, startEms, type RunningEms } from './runtime';
import { startMosquitto, type Broker } from '../fixtures/lorawan/mosquitto';
import { WmbusSimulator } from '../../lib/sim/wmbus';

const KEY = '000102030405060708090A0B0C0D0E0F';

describe('wmbus meters in the shipped EMS (real Node-RED, real Mosquitto, ems-sim wmbus)', () => {
  let broker: Broker;
  let ems: RunningEms;
  let sim: WmbusSimulator | undefined;
  let api: Awaited<ReturnType<typeof loginApi>>;
  let folder: string;

  before(async () => {
    broker = await startMosquitto();
    ems = await startEms({ EMS_MQTT_HOST: '127.0.0.1', EMS_MQTT_PORT: String(broker.port), EMS_TIME_ZONE: 'UTC', EMS_DEMO_SEED: '0' });
    api = await loginApi(ems.url);
    folder = (await api('POST', '/api/folders', { name: 'wM-Bus flats' })).body.data._id;
  });

  after(async () => {
    await sim?.close();
    await ems?.stop();
    await broker?.stop();
  });

  const readings = async (id: string, obis: string): Promise<{ value: number; unit: string }[]> => {
    const { status, body } = await api('GET', `/api/meters/${id}/readings?obis=${obis}&from=-1h`);
    assert.equal(status, 200, JSON.stringify(body));
    return body.data.readings;
  };

  it('refuses a wmbus meter without a meter id or with a key that is not 32 hex digits, naming the field', async () => {
    const noId = await api('POST', '/api/meters', { name: 'x', folder_id: folder, protocol: 'wmbus' });
    assert.equal(noId.status, 400);
    assert.match(noId.body.error, /^connection_address "1" must be the wireless M-Bus meter's 8-digit id/);
    const badKey = await api('POST', '/api/meters', { name: 'x', folder_id: folder, protocol: 'wmbus', connection_address: '12345678', password: 'secret' });
    assert.equal(badKey.status, 400);
    assert.match(badKey.body.error, /^password "\(hidden\)" must be empty \(unencrypted meter\) or the meter's 32-hex-digit AES-128 key/);
    assert.doesNotMatch(badKey.body.error, /secret/);
  });

  it('stores the readings of meters defined with their keys (mode 5 water, mode 7 heat); a wrong key logs an event and stores nothing', async () => {
    for (const m of [
      { _id: 'wm-water', name: 'flat 1 water', connection_address: '12345678', password: KEY },
      { _id: 'wm-heat', name: 'flat 1 heat', connection_address: 'EMS12345679', password: KEY },
      { _id: 'wm-gas', name: 'flat 1 gas', connection_address: '12345680', password: 'FFEEDDCCBBAA99887766554433221100' },
    ]) {
      const r = await api('POST', '/api/meters', { ...m, folder_id: folder, protocol: 'wmbus' });
      assert.equal(r.status, 201, JSON.stringify(r.body));
      assert.equal(r.body.data.definition.password, undefined, 'the key is never answered');
    }
    await eventually(15_000, async () => (/Subscribed to|connected to broker/i.test(ems.log()) ? true : undefined)).catch(() => undefined);
    // Four meters: the fourth (12345681) is not defined in the EMS.
    sim = new WmbusSimulator({ meters: 4, firstId: '12345678', mode: 'mixed', key: Buffer.from(KEY, 'hex'), intervalMs: 1000, mqttUrl: `mqtt://127.0.0.1:${broker.port}`, topic: 'wmbus/telegram' });
    await sim.start();

    const water = await eventually(30_000, async () => { const r = await readings('wm-water', '8-0:1.0.0'); return r.length ? r : undefined; })
      .catch(() => { throw new Error(`no water reading of wm-water within 30 s\n${ems.log().slice(-4000)}`); });
    assert.equal(water[0].unit, 'm3');
    const sent = sim.meters[0];
    assert.ok(water.every((r) => r.value >= 10 && r.value <= sent.litres / 1000), `water ${JSON.stringify(water)} within what the meter sent (${sent.litres} l)`);
    const heat = await eventually(15_000, async () => { const r = await readings('wm-heat', '6-0:1.0.0'); return r.length ? r : undefined; });
    assert.equal(heat[0].unit, 'kWh');
    assert.ok(heat.every((r) => r.value >= 5000 && r.value <= sim!.meters[1].kwh), `heat ${JSON.stringify(heat)} (meter at ${sim.meters[1].kwh} kWh)`);
    assert.equal(sim.meters[1].spec.mode, 7);

    const events = await eventually(15_000, async () => {
      const e = (await api('GET', '/api/events?meter=wm-gas')).body.data;
      return Array.isArray(e) && e.some((x: { event: string }) => /wrong key/.test(x.event)) ? e : undefined;
    });
    const wrong = events.find((x: { event: string }) => /wrong key/.test(x.event));
    assert.match(wrong.event, /wmbus: telegram from EMS 12345680: wrong key \(no 2F2F after decryption/);
    assert.equal(wrong.level, 'error');
    assert.doesNotMatch(JSON.stringify(events), /FFEEDDCC|000102030405/);
    assert.deepEqual(await readings('wm-gas', '7-0:3.0.0'), []);
    assert.equal(events.filter((x: { event: string }) => /wrong key/.test(x.event)).length, 1, 'a repeated failure is logged once');
    assert.doesNotMatch(ems.log(), /12345681/, 'the unknown meter is counted, not reported');
  });
});
