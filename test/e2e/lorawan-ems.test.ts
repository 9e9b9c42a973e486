import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { loginApi } from './api-client';
import { eventually, startEms, type RunningEms } from './runtime';
import { mosquittoPub, startMosquitto, type Broker } from '../fixtures/lorawan/mosquitto';

const FIX = path.resolve(__dirname, '..', '..', '..', 'test', 'fixtures', 'lorawan');
const chirp = JSON.parse(fs.readFileSync(path.join(FIX, 'chirpstack-up.json'), 'utf8'));
const tts = JSON.parse(fs.readFileSync(path.join(FIX, 'tts-up.json'), 'utf8'));
const DEV = '70b3d5e75e001a01';
const TOPIC = `application/17c82e96-be03-4f38-aef3-f83d48582d97/device/${DEV}/event/up`;

describe('the EMS stores uplinks of lorawan meters (real Node-RED with flows/ems.json, real Mosquitto)', () => {
  let broker: Broker;
  let ems: RunningEms;
  let api: Awaited<ReturnType<typeof loginApi>>;

  before(async () => {
    broker = await startMosquitto();
    ems = await startEms({ EMS_MQTT_HOST: '127.0.0.1', EMS_MQTT_PORT: String(broker.port), EMS_TIME_ZONE: 'UTC', EMS_DEMO_SEED: '0' });
    api = await loginApi(ems.url);
  });

  after(async () => {
    await ems?.stop();
    await broker?.stop();
  });

  const readings = async (id: string, obis: string): Promise<any[]> => {
    const { status, body } = await api('GET', `/api/meters/${id}/readings?obis=${obis}&from=-1h`);
    assert.equal(status, 200, JSON.stringify(body));
    return body.data.readings;
  };

  it('a lorawan meter created through the API gets the readings of its ChirpStack and TTS uplinks, once each', async () => {
    const f = await api('POST', '/api/folders', { name: 'LoRaWAN site' });
    assert.equal(f.status, 201, JSON.stringify(f.body));
    const folder = f.body.data._id;
    const socket = await api('POST', '/api/meters', { _id: 'lw-socket', name: 'kitchen socket', folder_id: folder, protocol: 'lorawan',
      number_meter: DEV.toUpperCase(), profile: 'milesight-ws52x' });
    assert.equal(socket.status, 201, JSON.stringify(socket.body));
    const water = await api('POST', '/api/meters', { _id: 'lw-water', name: 'water main', folder_id: folder, protocol: 'lorawan', number_meter: '00-04-A3-0B-00-1C-05-30' });
    assert.equal(water.status, 201, JSON.stringify(water.body));

    await eventually(10_000, async () => (/Subscribed to|connected to broker/i.test(ems.log()) ? true : undefined)).catch(() => undefined);
    const now = new Date().toISOString();
    // Milesight WS52x energy record 06 83 56 04 00 00 = 1110 Wh, heard by two gateways.
    const ev = { ...chirp, time: now, fCnt: 3, deviceInfo: { ...chirp.deviceInfo, devEui: DEV }, data: Buffer.from('068356040000', 'hex').toString('base64') };
    const t = { ...tts, received_at: now, uplink_message: { ...tts.uplink_message, received_at: now, f_cnt: 4, decoded_payload: { volume_l: 2500 } } };
    await eventually(15_000, async () => {
      await mosquittoPub(broker.port, TOPIC, JSON.stringify(ev));
      return (await readings('lw-socket', '1-0:1.8.0')).length ? true : undefined;
    });
    await mosquittoPub(broker.port, TOPIC, JSON.stringify({ ...ev, rxInfo: [{ gatewayId: '00800000a0009999', rssi: -110, snr: -9 }] }));
    await mosquittoPub(broker.port, 'v3/app1@ttn/devices/dev1/up', JSON.stringify(t));
    const w = await eventually(10_000, async () => { const r = await readings('lw-water', '8-0:1.0.0'); return r.length ? r : undefined; });
    assert.equal(w.length, 1);
    assert.equal(w[0].value, 2.5);
    const e = await readings('lw-socket', '1-0:1.8.0');
    assert.equal(e.length, 1, `one reading for one uplink heard twice: ${JSON.stringify(e)}`);
    assert.equal(e[0].value, 1.11);
  });

  it('an uplink of a DevEUI the EMS does not know stores nothing and is reported', async () => {
    const stranger = { ...chirp, time: new Date().toISOString(), fCnt: 1, deviceInfo: { ...chirp.deviceInfo, devEui: 'ffffffffffff0001' } };
    await mosquittoPub(broker.port, 'application/x/device/ffffffffffff0001/event/up', JSON.stringify(stranger));
    await eventually(10_000, async () => (/unknown LoRaWAN device DevEUI ffffffffffff0001/.test(ems.log()) ? true : undefined));
  });
});
