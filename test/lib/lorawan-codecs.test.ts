import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { CODECS, findCodec, parseUplink, toReading, UplinkProcessor, valuesFromObject } from '../../lib/protocols/lorawan';

const FIX = path.resolve(__dirname, '..', '..', '..', 'test', 'fixtures', 'lorawan');
const fixture = (name: string) => fs.readFileSync(path.join(FIX, name), 'utf8');

// Axioma Qalcosonic W1 "enhanced 24h" example of the TTN device repository (vendor/axioma/qalcosonic-w1-codec.yaml):
// timestamp 1788390574, log volume 5.938 m3, deltas 0.116 m3, current volume 6.054 m3.
const W1 = Buffer.from('01aeac986a003217000000000000000000008003800054000e4005100048000240020000200000000000000000000000000000', 'hex');

describe('LoRaWAN meter codecs (known-answer examples)', () => {
  it('Axioma Qalcosonic W1: current volume 6.054 m3 at the meter time', () => {
    assert.equal(W1.length, 51);
    const [v] = CODECS['axioma-qalcosonic-w1'].decode(W1, 100);
    assert.deepEqual(toReading('w1', v, 0), { meter: 'w1', time: 1788390574000, obis: '8-0:1.0.0', value: 6.054, unit: 'm3' });
  });

  it('Axioma W1 refuses a wrong length or port with the reason', () => {
    assert.throws(() => CODECS['axioma-qalcosonic-w1'].decode(W1.subarray(0, 50), 100), /axioma-qalcosonic-w1: expects a 51-byte frame, got 50 bytes/);
    assert.throws(() => CODECS['axioma-qalcosonic-w1'].decode(W1, 1), /expects FPort 100, got 1/);
  });

  it('Milesight WS52x: voltage 228.5 V and energy 1110 Wh = 1.11 kWh', () => {
    const c = CODECS['milesight-ws52x'];
    assert.deepEqual(c.decode(Buffer.from([0x03, 0x74, 0xed, 0x08]), 85), [{ obis: '1-0:32.7.0', value: 228.5, unit: 'V' }]);
    const [e] = c.decode(Buffer.from([0x06, 0x83, 0x56, 0x04, 0x00, 0x00]), 85);
    assert.deepEqual(toReading('s', e, 5), { meter: 's', time: 5, obis: '1-0:1.8.0', value: 1.11, unit: 'kWh' });
    assert.throws(() => c.decode(Buffer.from([0x09, 0x99, 0x00]), 85), /unknown channel 0x09 type 0x99 at byte 0/);
  });

  it('Milesight EM300-DI: battery 92 %, 256 pulses x 10 l = 2.56 m3', () => {
    const { codec, param } = findCodec('milesight-em300-di:10');
    const values = codec.decode(Buffer.from([0x01, 0x75, 0x5c, 0x05, 0xc8, 0x00, 0x01, 0x00, 0x00]), 85, param);
    assert.deepEqual(values.map((v) => toReading('p', v, 0)), [{ meter: 'p', time: 0, obis: '8-0:1.0.0', value: 0.256 * 10, unit: 'm3' }]);
    assert.throws(() => findCodec('acme-9000'), /unknown LoRaWAN codec "acme-9000"/);
  });

  it('maps an NS-decoded object by field names and aliases; heat kWh becomes GJ', () => {
    const vs = valuesFromObject({ Energy_kWh: 12.5, voltage: '230.1', temperature: 21, volume_l: 1500, heat_energy_kwh: 1000 });
    assert.deepEqual(vs.map((v) => toReading('x', v, 1)).map((r) => [r.obis, r.value, r.unit]), [
      ['1-0:1.8.0', 12.5, 'kWh'], ['1-0:32.7.0', 230.1, 'V'], ['8-0:1.0.0', 1.5, 'm3'], ['6-0:1.0.0', 3.6, 'GJ'],
    ]);
  });
});

describe('network server uplink events (documented samples)', () => {
  it('ChirpStack v4 "up" event of the ChirpStack docs', () => {
    const up = parseUplink('application/17c82e96-be03-4f38-aef3-f83d48582d97/device/0101010101010101/event/up', fixture('chirpstack-up.json'));
    assert.equal(up.format, 'chirpstack');
    assert.equal(up.devEui, '0101010101010101');
    assert.equal(up.fPort, 1);
    assert.equal(up.fCnt, 0); // omitted by the protobuf JSON mapping when zero
    assert.equal(up.payload!.toString('hex'), 'aa');
    assert.deepEqual(up.gateways, [{ id: '0016c001f153a14c', rssi: -36, snr: 10.5 }]);
    assert.equal(up.time, Date.parse('2022-07-18T09:34:15.775Z'));
  });

  it('The Things Stack v3 uplink message example of the TTS docs', () => {
    const up = parseUplink('v3/app1@ttn/devices/dev1/up', fixture('tts-up.json'));
    assert.equal(up.format, 'tts');
    assert.equal(up.devEui, '0004a30b001c0530');
    assert.equal(up.fCnt, 1);
    assert.equal(up.payload!.toString('hex'), '8241de');
    assert.deepEqual(up.object, { temperature: 1.0, luminosity: 0.64 });
    assert.deepEqual(up.gateways, [{ id: '9C5C8E00001A05C4', rssi: -35, snr: 5 }]);
    assert.equal(up.time, Date.parse('2020-02-12T15:15:45.789Z'));
  });

  it('detects the format from the body when the topic says nothing and refuses non-JSON', () => {
    assert.equal(parseUplink(undefined, JSON.parse(fixture('tts-up.json'))).format, 'tts');
    assert.throws(() => parseUplink('x', '{not json'), /uplink payload is not valid JSON/);
    assert.throws(() => parseUplink('x', { foo: 1 }), /cannot tell the uplink format of topic "x"/);
  });

  it('counts an uplink heard by two gateways (two events) once', () => {
    const p = new UplinkProcessor();
    const ev = JSON.parse(fixture('chirpstack-up.json'));
    ev.object = { energy_kwh: 42 };
    const dev = { meterId: 'm', devEui: '0101010101010101' };
    const a = p.process(parseUplink(undefined, ev), dev);
    const b = p.process(parseUplink(undefined, { ...ev, rxInfo: [{ gatewayId: 'aa00000000000001', rssi: -90, snr: -2 }] }), dev);
    assert.deepEqual(a!.readings.map((r) => r.value), [42]);
    assert.equal(b, null);
    assert.throws(() => p.process(parseUplink(undefined, { ...ev, fCnt: 7, object: undefined }), dev), /device 0101010101010101 FCnt 7: no codec is chosen/);
  });
});
