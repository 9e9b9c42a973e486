import { after, afterEach, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import helper from 'node-red-node-test-helper';
import loraPacket from 'lora-packet';
import lorawanUplink from '../../nodes/lorawan-uplink/lorawan-uplink';

helper.init(require.resolve('node-red'));

const FIX = path.resolve(__dirname, '..', '..', '..', 'test', 'fixtures', 'lorawan');
const chirp = JSON.parse(fs.readFileSync(path.join(FIX, 'chirpstack-up.json'), 'utf8'));
const tts = fs.readFileSync(path.join(FIX, 'tts-up.json'), 'utf8');
const CS_TOPIC = 'application/17c82e96-be03-4f38-aef3-f83d48582d97/device/0101010101010101/event/up';
const nextMessage = (id: string) => new Promise<any>((resolve) => helper.getNode(id).once('input', resolve));
const quiet = (id: string, ms: number) => new Promise<boolean>((resolve) => {
  const t = setTimeout(() => resolve(true), ms);
  helper.getNode(id).once('input', () => { clearTimeout(t); resolve(false); });
});

function flow(props: Record<string, unknown>) {
  const f: any[] = [
    { id: 'tab', type: 'tab' },
    { id: 'n1', z: 'tab', type: 'ems-lorawan-uplink', format: 'auto', codec: '', wires: [['out']], ...props },
    { id: 'c1', z: 'tab', type: 'catch', scope: null, uncaught: false, wires: [['caught']] },
    { id: 'caught', z: 'tab', type: 'helper' },
    { id: 'out', z: 'tab', type: 'helper' },
  ];
  return f;
}

describe('ems-lorawan-uplink', () => {
  before(() => new Promise<void>((r) => helper.startServer(r)));
  afterEach(() => helper.unload());
  after(() => new Promise<void>((r) => helper.stopServer(r)));

  it('decodes a ChirpStack uplink with the chosen codec and counts a second gateway once', async () => {
    await helper.load(lorawanUplink, flow({ codec: 'milesight-ws52x' }));
    const ev = { ...chirp, fCnt: 41, data: Buffer.from('068356040000', 'hex').toString('base64') };
    const got = nextMessage('out');
    helper.getNode('n1').receive({ topic: CS_TOPIC, payload: JSON.stringify(ev) } as any);
    const msg = await got;
    assert.equal(msg.topic, '0101010101010101');
    assert.deepEqual(msg.payload, [{ meter: '0101010101010101', time: Date.parse('2022-07-18T09:34:15.775Z'), obis: '1-0:1.8.0', value: 1.11, unit: 'kWh' }]);
    assert.equal(msg.lorawan.fCnt, 41);
    assert.equal(msg.lorawan.rssi, -36);
    const none = quiet('out', 300);
    helper.getNode('n1').receive({ topic: CS_TOPIC, payload: JSON.stringify({ ...ev, rxInfo: [{ gatewayId: 'aa00000000000002', rssi: -99, snr: -7 }] }) } as any);
    assert.equal(await none, true, 'the repeat from a second gateway must not give readings again');
  });

  it('maps the decoded object of a TTS uplink when no codec is chosen, and ignores join events', async () => {
    await helper.load(lorawanUplink, flow({}));
    const ev = JSON.parse(tts);
    ev.uplink_message.decoded_payload = { volume_l: 123456, temperature: 12 };
    const got = nextMessage('out');
    helper.getNode('n1').receive({ topic: 'v3/app1@ttn/devices/dev1/join', payload: '{}' } as any);
    helper.getNode('n1').receive({ topic: 'v3/app1@ttn/devices/dev1/up', payload: ev } as any);
    const msg = await got;
    assert.deepEqual(msg.payload.map((r: any) => [r.meter, r.obis, r.value, r.unit]), [['0004a30b001c0530', '8-0:1.0.0', 123.456, 'm3']]);
  });

  it('checks raw frames: good MIC gives readings, a replayed FCnt and a bad MIC reach Catch', async () => {
    await helper.load(lorawanUplink, flow({ format: 'raw', codec: 'milesight-ws52x' }));
    const nwk = '44024241ed4ce9a68c6a8bc055233fd3';
    const app = 'ec925802ae430ca77fd3dd73cb2cc588';
    const frame = (fCnt: number) => loraPacket.fromFields({ MType: 'Unconfirmed Data Up', DevAddr: Buffer.from('26011bda', 'hex'), FCnt: fCnt, FPort: 85,
      payload: Buffer.from('0374ed08', 'hex') }, Buffer.from(app, 'hex'), Buffer.from(nwk, 'hex')).getPHYPayload()!.toString('hex');
    const keys = { nwkSKey: nwk, appSKey: app };
    let got = nextMessage('out');
    helper.getNode('n1').receive({ payload: frame(5), keys } as any);
    assert.deepEqual((await got).payload.map((r: any) => [r.meter, r.obis, r.value]), [['26011bda', '1-0:32.7.0', 228.5]]);
    let caught = nextMessage('caught');
    helper.getNode('n1').receive({ payload: frame(4), keys } as any);
    assert.match((await caught).error.message, /device 26011bda FCnt 4: replayed frame counter \(last accepted 5\)/);
    caught = nextMessage('caught');
    helper.getNode('n1').receive({ payload: frame(6), keys: { nwkSKey: app, appSKey: app } } as any);
    assert.match((await caught).error.message, /FCnt 6: bad MIC/);
    got = nextMessage('out');
    helper.getNode('n1').receive({ payload: frame(6), keys } as any);
    assert.equal((await got).lorawan.fCnt, 6);
  });

  it('reports JSON it cannot read, naming the problem', async () => {
    await helper.load(lorawanUplink, flow({}));
    const caught = nextMessage('caught');
    helper.getNode('n1').receive({ topic: 'v3/app1@ttn/devices/dev1/up', payload: JSON.stringify({ end_device_ids: { dev_eui: 'xyz' }, uplink_message: {} }) } as any);
    assert.match((await caught).error.message, /end_device_ids.dev_eui must be an EUI-64 \(16 hex digits\), got "xyz"/);
  });
});
