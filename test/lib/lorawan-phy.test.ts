import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import loraPacket from 'lora-packet';
import { LORAWAN_DECODER } from '../../lib/protocols/lorawan/decode-cli';
import { aesCmac, computeMic, cryptFrmPayload, parseDataFrame, parseRaw, reconstructFCnt, toBytes, UplinkProcessor, type LorawanDevice } from '../../lib/protocols/lorawan';

// The frame and session keys of lora-packet's README (DevAddr 49be7df1, FCnt 2, FPort 1, payload "test").
const NWK = Buffer.from('44024241ed4ce9a68c6a8bc055233fd3', 'hex');
const APP = Buffer.from('ec925802ae430ca77fd3dd73cb2cc588', 'hex');
const FRAME = '40F17DBE4900020001954378762B11FF0D';

/** A frame built by lora-packet, the independent peer, with a full 32-bit FCnt. */
function peerFrame(fCnt32: number, payload: Buffer, devAddr = '26011bda', fPort = 5): Buffer {
  const msb = Buffer.alloc(2);
  msb.writeUInt16LE(fCnt32 >>> 16);
  const p = loraPacket.fromFields({ MType: 'Unconfirmed Data Up', DevAddr: Buffer.from(devAddr, 'hex'), FCnt: fCnt32 & 0xffff, FPort: fPort, payload }, APP, NWK, undefined, msb);
  return p.getPHYPayload()!;
}

const device: LorawanDevice = { meterId: 'm1', devEui: '0004a30b001c0530', devAddr: '26011bda', nwkSKey: NWK, appSKey: APP, codec: 'milesight-ws52x' };
const raw = (b: Buffer) => parseRaw({ phyPayload: b.toString('base64'), gateway: 'gw1', rssi: -40 });

describe('LoRaWAN PHYPayload', () => {
  it('parses MHDR/FHDR/FPort/FRMPayload of the lora-packet README frame', () => {
    const f = parseDataFrame(toBytes(FRAME));
    assert.equal(f.mtype, 'UnconfirmedDataUp');
    assert.equal(f.devAddr, '49be7df1');
    assert.equal(f.fCnt16, 2);
    assert.equal(f.fPort, 1);
    assert.equal(f.frmPayload.toString('hex'), '95437876');
    assert.equal(f.mic.toString('hex'), '2b11ff0d');
  });

  it('computes the MIC and decrypts "test" as lora-packet does', () => {
    const f = parseDataFrame(toBytes(FRAME));
    assert.equal(computeMic(f, NWK, 2).toString('hex'), '2b11ff0d');
    assert.equal(cryptFrmPayload(f, APP, 2).toString(), 'test');
    const peer = loraPacket.fromWire(Buffer.from(FRAME, 'hex'));
    assert.equal(loraPacket.calculateMIC(peer, NWK).toString('hex'), '2b11ff0d');
    assert.equal(loraPacket.decrypt(peer, APP, NWK).toString(), 'test');
  });

  it('AES-CMAC matches RFC 4493 examples 1, 2 and 4', () => {
    const k = Buffer.from('2b7e151628aed2a6abf7158809cf4f3c', 'hex');
    const m = Buffer.from('6bc1bee22e409f96e93d7e117393172aae2d8a571e03ac9c9eb76fac45af8e5130c81c46a35ce411e5fbc1191a0a52eff69f2445df4f9b17ad2b417be66c3710', 'hex');
    assert.equal(aesCmac(k, Buffer.alloc(0)).toString('hex'), 'bb1d6929e95937287fa37d129b756746');
    assert.equal(aesCmac(k, m.subarray(0, 16)).toString('hex'), '070a16b46b4d4144f79bdd9dd04a287c');
    assert.equal(aesCmac(k, m).toString('hex'), '51f0bebf7e3b9d92fc49741779363cfe');
  });

  it('decrypts a multi-block payload of a frame built by lora-packet, also with FCnt above 16 bits', () => {
    const text = Buffer.from('a payload longer than one AES block');
    for (const fCnt of [7, 0x10003, 0x2ffff]) {
      const f = parseDataFrame(peerFrame(fCnt, text));
      assert.equal(f.fCnt16, fCnt & 0xffff);
      assert.equal(computeMic(f, NWK, fCnt).toString('hex'), f.mic.toString('hex'));
      assert.equal(cryptFrmPayload(f, APP, fCnt).toString(), text.toString());
    }
  });

  it('reconstructs the 32-bit FCnt from 16 bits and the last counter', () => {
    assert.equal(reconstructFCnt(5, undefined), 5);
    assert.equal(reconstructFCnt(6, 5), 6);
    assert.equal(reconstructFCnt(2, 0xfffe), 0x10002); // rollover of the 16-bit field
    assert.equal(reconstructFCnt(0x0001, 0x1fff0), 0x20001);
    assert.equal(reconstructFCnt(3, 5), 3); // behind: a replay, the caller refuses it
  });
});

describe('raw uplinks through the processor', () => {
  // Milesight WS52x energy record 06 83 56 04 00 00 = 1110 Wh, published example.
  const energy = Buffer.from('068356040000', 'hex');

  it('accepts a good frame: readings from the decrypted payload, details with FCnt and gateway', () => {
    const p = new UplinkProcessor({ now: () => 1_700_000_000_000 });
    const r = p.process(raw(peerFrame(10, energy)), device)!;
    assert.deepEqual(r.readings, [{ meter: 'm1', time: 1_700_000_000_000, obis: '1-0:1.8.0', value: 1.11, unit: 'kWh' }]);
    assert.equal(r.details.fCnt, 10);
    assert.equal(r.details.fPort, 5);
    assert.equal(r.details.payload, '068356040000');
    assert.equal(r.details.rssi, -40);
  });

  it('rejects a bad MIC naming device, FCnt and reason', () => {
    const p = new UplinkProcessor();
    const b = peerFrame(10, energy);
    b[b.length - 1] ^= 0xff;
    assert.throws(() => p.process(raw(b), device), /device 0004a30b001c0530 FCnt 10: bad MIC/);
    const wrongKey = { ...device, nwkSKey: APP };
    assert.throws(() => p.process(raw(peerFrame(11, energy)), wrongKey), /FCnt 11: bad MIC/);
  });

  it('rejects a replayed FCnt and counts the same frame from two gateways once', () => {
    const p = new UplinkProcessor();
    const f10 = peerFrame(10, energy);
    assert.ok(p.process(raw(f10), device));
    assert.equal(p.process(parseRaw({ phyPayload: f10.toString('hex'), gateway: 'gw2' }), device), null);
    assert.equal(p.duplicates, 1);
    assert.ok(p.process(raw(peerFrame(12, energy)), device));
    assert.throws(() => p.process(raw(peerFrame(11, energy)), device), /device 0004a30b001c0530 FCnt 11: replayed frame counter \(last accepted 12\)/);
  });

  it('follows the FCnt across the 16-bit rollover', () => {
    const p = new UplinkProcessor();
    p.setLastFCnt('0004a30b001c0530', 0xfffe);
    const r = p.process(raw(peerFrame(0x10001, energy)), device)!;
    assert.equal(r.details.fCnt, 0x10001);
    assert.equal(p.getLastFCnt('0004a30b001c0530'), 0x10001);
  });

  it('refuses a frame of another DevAddr and frames without keys', () => {
    const p = new UplinkProcessor();
    assert.throws(() => p.process(raw(peerFrame(1, energy, '26011bdb')), device), /DevAddr 26011bdb is not the device's 26011bda/);
    assert.throws(() => p.process(raw(peerFrame(1, energy)), { meterId: 'x', devEui: '0004a30b001c0530' }), /need the session keys/);
  });
});

describe('ems-decode lorawan', () => {
  it('prints the fields, a valid MIC and the decrypted payload of the README frame; a wrong key shows an invalid MIC', () => {
    const out = LORAWAN_DECODER.decode(`${FRAME} ${NWK.toString('hex')}:${APP.toString('hex')}`) as any;
    assert.deepEqual([out.devAddr, out.fCnt, out.fPort, out.micValid, Buffer.from(out.payload, 'hex').toString()], ['49be7df1', 2, 1, true, 'test']);
    const bad = LORAWAN_DECODER.decode(`${FRAME} ${APP.toString('hex')}:${APP.toString('hex')}`) as any;
    assert.equal(bad.micValid, false);
  });
});
