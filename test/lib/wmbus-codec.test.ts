/**
 * Wireless M-Bus codec: CRC-16 (EN 13757-4), AES-CMAC against RFC 4493's test vectors, format A and B
 * CRC blocks, telegrams built by our encoder (modes 0, 5, 7; short and long header) decoded back, and the
 * errors a user meets: a wrong key, a missing key, a CRC error naming its block, receiver input formats.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  aesCmac, crc16En13757, decodeWmbus, encodeFormatA, encodeFormatB, encodeWmbus, parseReceived, peekMeter, stripLinkCrc,
  WmbusDecodeError, wmbusToReadings,
} from '../../lib/protocols/wmbus';

const H = (s: string) => Buffer.from(s.replace(/\s/g, ''), 'hex');
const KEY = H('000102030405060708090A0B0C0D0E0F');
// Water volume 12.345 m3 (04 13 = 32-bit, litres), heat energy 1234 kWh (04 06).
const WATER = H('041339300000');

describe('AES-CMAC (RFC 4493 section 4 test vectors)', () => {
  const k = H('2b7e151628aed2a6abf7158809cf4f3c');
  const m = H('6bc1bee22e409f96e93d7e117393172a ae2d8a571e03ac9c9eb76fac45af8e51 30c81c46a35ce411e5fbc1191a0a52ef f69f2445df4f9b17ad2b417be66c3710');
  for (const [len, tag] of [[0, 'bb1d6929e95937287fa37d129b756746'], [16, '070a16b46b4d4144f79bdd9dd04a287c'], [40, 'dfa66747de9ae63030ca32611497c827'], [64, '51f0bebf7e3b9d92fc49741779363cfe']] as const) {
    it(`example with ${len} bytes`, () => assert.equal(aesCmac(k, m.subarray(0, len)).toString('hex'), tag));
  }
});

describe('CRC-16 EN 13757-4 and frame formats', () => {
  it('CRC of "123456789" is the catalogued check value 0xC2B7 (CRC-16/EN-13757)', () => {
    assert.equal(crc16En13757(Buffer.from('123456789')), 0xc2b7);
  });
  const plain = encodeWmbus({ manufacturer: 'ELS', id: '12345678', version: 1, deviceType: 7, accessNumber: 9, records: H('0413393000000C06341200002F2F2F2F2F2F2F2F2F2F2F2F2F2F2F2F2F2F2F2F2F2F2F2F2F2F2F'), mode: 0 });
  it('format A: a CRC after the first 10 bytes and after every 16 bytes, stripped and checked', () => {
    const a = encodeFormatA(plain);
    assert.equal(a.length, plain.length + 2 * (1 + Math.ceil((plain.length - 10) / 16)));
    const d = decodeWmbus(a);
    assert.equal(d.link.format, 'A');
    assert.equal(d.application.records[0].value, 12.345);
  });
  it('format B: the L-field counts the CRCs; long frames get a second CRC after byte 126', () => {
    const b = encodeFormatB(plain);
    assert.equal(b[0], b.length - 1);
    assert.equal(decodeWmbus(b).link.format, 'B');
    const long = encodeWmbus({ manufacturer: 'ELS', id: '12345678', version: 1, deviceType: 7, accessNumber: 9, records: Buffer.concat([H('04133930000'.padEnd(12, '0')), Buffer.alloc(130, 0x2f)]), mode: 0, format: 'B' });
    assert.ok(long.length > 128);
    const d = decodeWmbus(long);
    assert.equal(d.link.format, 'B');
    assert.equal(stripLinkCrc(long, 'B').data.length, long.length - 4);
  });
  it('a corrupted byte gives "CRC error in block N" naming the block', () => {
    const a = encodeFormatA(plain);
    a[30] ^= 0x01; // block 2 holds bytes 12..27 (+CRC), block 3 starts at 30
    assert.throws(() => decodeWmbus(a), (e: Error) => e instanceof WmbusDecodeError && e.code === 'crc' && /CRC error in block 3 \(sent [0-9A-F]{4}, computed [0-9A-F]{4}\)/.test(e.message));
    const b = encodeFormatB(plain);
    b[12] ^= 0x80;
    assert.throws(() => decodeWmbus(b, { format: 'B' }), /CRC error in block 2/);
  });
});

describe('security modes, built and decoded back', () => {
  for (const mode of [5, 7] as const) {
    for (const tpl of ['short', 'long'] as const) {
      it(`mode ${mode}, ${tpl} header: decrypts, checks 2F2F${mode === 7 ? ' and the MAC' : ''}, readings carry the value`, () => {
        const t = encodeWmbus({ manufacturer: 'KAM', id: '87654321', version: 2, deviceType: 0x04, accessNumber: 0x42, records: H('0C06341200000C1378563400'), mode, key: KEY, messageCounter: 77, tpl, format: 'A' });
        const d = decodeWmbus(t, { key: (m) => (m.id === '87654321' ? KEY : undefined) });
        assert.equal(d.security.mode, mode);
        assert.equal(d.security.decrypted, true);
        assert.equal(d.security.macChecked, mode === 7);
        const r = wmbusToReadings(d, { meter: 'heat-1', time: 1000 });
        assert.deepEqual(r.map((x) => [x.obis, x.value, x.unit]), [['6-0:1.0.0', 1234, 'kWh'], ['6-0:2.0.0', 345.678, 'm3']]);
      });
    }
  }
  const m5 = encodeWmbus({ manufacturer: 'ELS', id: '12345678', version: 1, deviceType: 7, accessNumber: 1, records: WATER, mode: 5, key: KEY });
  const m7 = encodeWmbus({ manufacturer: 'ELS', id: '12345678', version: 1, deviceType: 7, accessNumber: 1, records: WATER, mode: 7, key: KEY, messageCounter: 5 });
  const wrong = H('FFEEDDCCBBAA99887766554433221100');
  it('mode 5 with a wrong key: "wrong key (no 2F2F after decryption)" naming the meter', () => {
    assert.throws(() => decodeWmbus(m5, { key: wrong }), (e: Error) => e instanceof WmbusDecodeError && e.code === 'wrong-key'
      && e.message.startsWith('wmbus: telegram from ELS 12345678: wrong key (no 2F2F after decryption'));
  });
  it('mode 7 with a wrong key: the MAC does not match', () => {
    assert.throws(() => decodeWmbus(m7, { key: wrong }), (e: Error) => e instanceof WmbusDecodeError && e.code === 'wrong-key' && /ELS 12345678: wrong key \(MAC/.test(e.message));
  });
  it('mode 7 with a changed data byte: the MAC does not match', () => {
    const bad = Buffer.from(m7);
    bad[bad.length - 1] ^= 1;
    assert.throws(() => decodeWmbus(bad, { key: KEY }), /wrong key \(MAC/);
  });
  it('no key: a no-key error, and the meter can still be identified', () => {
    assert.throws(() => decodeWmbus(m5), (e: Error) => e instanceof WmbusDecodeError && e.code === 'no-key' && /ELS 12345678: encrypted \(security mode 5\) and no key/.test(e.message));
    assert.deepEqual(peekMeter(m7), { id: '12345678', manufacturer: 'ELS', deviceType: 7 });
  });
  it('a key that is not 32 hex digits is refused by name', () => {
    assert.throws(() => decodeWmbus(m5, { key: '0011' }), /key must be 32 hex digits/);
  });
});

describe('receiver formats', () => {
  const t = encodeWmbus({ manufacturer: 'ELS', id: '12345678', version: 1, deviceType: 7, accessNumber: 1, records: H('041339300000'), mode: 0 });
  const hex = t.toString('hex').toUpperCase();
  for (const [name, input] of [
    ['hex text', hex], ['hex with spaces', hex.match(/../g)!.join(' ')], ['a Buffer', t],
    ['an rtl-wmbus line', `T1;1;1;2026-12-07 10:00:00.000;97;148;12345678;0x${hex.toLowerCase()}`],
    ['wmbusmeters stdin:json', JSON.stringify({ telegram: hex, key: '' })], ['ESPHome raw JSON', { frame: hex, rssi: -70 }],
    ['wmbusmeters telegram= log form', `telegram=|${hex.slice(0, 22)}_${hex.slice(22)}|+12`],
  ] as const) {
    it(name, () => assert.equal(decodeWmbus(parseReceived(input).bytes).application.records[0].value, 12.345));
  }
  it('an rtl-wmbus line with CRC field 0 is refused', () => {
    assert.throws(() => parseReceived(`T1;0;1;2026-12-07 10:00:00.000;97;148;12345678;0x${hex}`), /reports a CRC error/);
  });
  it('junk is refused naming what it got', () => {
    assert.throws(() => parseReceived('hello'), /payload "hello" is not a hex telegram/);
    assert.throws(() => parseReceived({ foo: 1 }), /no telegram field/);
    assert.throws(() => parseReceived(42), /got number/);
  });
});
