import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import helper from 'node-red-node-test-helper';
import lorawanUplink from '../../nodes/lorawan-uplink/lorawan-uplink';
import { mosquittoPub, startMosquitto, type Broker } from '../fixtures/lorawan/mosquitto';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const mqttNodes = require('@node-red/nodes/core/network/10-mqtt.js');
helper.init(require.resolve('node-red'));

const FIX = path.resolve(__dirname, '..', '..', '..', 'test', 'fixtures', 'lorawan');
const chirp = JSON.parse(fs.readFileSync(path.join(FIX, 'chirpstack-up.json'), 'utf8'));
const tts = JSON.parse(fs.readFileSync(path.join(FIX, 'tts-up.json'), 'utf8'));
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('LoRaWAN uplinks through a real Mosquitto broker (mqtt in -> ems-lorawan-uplink)', () => {
  let broker: Broker;
  const got: any[] = [];
  const caught: any[] = [];

  before(async () => {
    broker = await startMosquitto();
    await new Promise<void>((r) => helper.startServer(r));
    const flow: any[] = [
      { id: 'tab', type: 'tab' },
      { id: 'b1', type: 'mqtt-broker', broker: '127.0.0.1', port: String(broker.port), clientid: '', autoConnect: true, usetls: false, protocolVersion: '4', keepalive: '60', cleansession: true },
      { id: 'in1', z: 'tab', type: 'mqtt in', topic: 'application/+/device/+/event/+', qos: '1', datatype: 'utf8', broker: 'b1', wires: [['up']] },
      { id: 'in2', z: 'tab', type: 'mqtt in', topic: 'v3/+/devices/+/up', qos: '1', datatype: 'utf8', broker: 'b1', wires: [['up']] },
      { id: 'up', z: 'tab', type: 'ems-lorawan-uplink', format: 'auto', codec: '', wires: [['out']] },
      { id: 'c1', z: 'tab', type: 'catch', scope: null, uncaught: false, wires: [['caught']] },
      { id: 'caught', z: 'tab', type: 'helper' },
      { id: 'out', z: 'tab', type: 'helper' },
    ];
    await helper.load([mqttNodes, lorawanUplink], flow);
    helper.getNode('out').on('input', (m: any) => got.push(m));
    helper.getNode('caught').on('input', (m: any) => caught.push(m));
    // Wait until both subscriptions are live: a retained-free probe goes through once they are.
    for (let i = 0; i < 50 && !(helper.getNode('b1') as any).connected; i++) await sleep(100);
    await sleep(300);
  });

  after(async () => {
    await helper.unload();
    await new Promise<void>((r) => helper.stopServer(r));
    await broker?.stop();
  });

  it('replays ChirpStack and TTS events, the same uplink from two gateways, and stores each reading once', async () => {
    const csTopic = 'application/17c82e96-be03-4f38-aef3-f83d48582d97/device/0101010101010101/event/up';
    const cs = { ...chirp, fCnt: 17, object: { energy_kwh: 1234.5, voltage: 229.9 } };
    const csGw2 = { ...cs, rxInfo: [{ gatewayId: '00800000a0001234', rssi: -101, snr: -3.5 }] };
    const t = { ...tts, uplink_message: { ...tts.uplink_message, f_cnt: 9, decoded_payload: { volume: 321.123 } } };
    await mosquittoPub(broker.port, csTopic, JSON.stringify(cs));
    await mosquittoPub(broker.port, csTopic, JSON.stringify(csGw2));
    await mosquittoPub(broker.port, 'application/17c82e96-be03-4f38-aef3-f83d48582d97/device/0101010101010101/event/status', '{"margin":10}');
    await mosquittoPub(broker.port, 'v3/app1@ttn/devices/dev1/up', JSON.stringify(t));
    await mosquittoPub(broker.port, 'v3/app1@ttn/devices/dev1/up', JSON.stringify(t));
    for (let i = 0; i < 50 && got.length < 2; i++) await sleep(100);
    await sleep(500); // time for any wrong extra message to arrive
    assert.deepEqual(caught.map((m) => m.error.message), []);
    const rows = got.flatMap((m) => m.payload.map((r: any) => [r.meter, r.obis, r.value, r.unit]));
    assert.deepEqual(rows.sort(), [
      ['0004a30b001c0530', '8-0:1.0.0', 321.123, 'm3'],
      ['0101010101010101', '1-0:1.8.0', 1234.5, 'kWh'],
      ['0101010101010101', '1-0:32.7.0', 229.9, 'V'],
    ]);
    const csMsg = got.find((m) => m.lorawan.format === 'chirpstack');
    assert.equal(csMsg.lorawan.fCnt, 17);
    assert.equal(csMsg.lorawan.gateways[0].id, '0016c001f153a14c');
  });
});
