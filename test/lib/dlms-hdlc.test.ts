/** HDLC framing and the TCP wrapper: published frames decode to what their sources state; encode/split/segment round-trip. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import {
  clientAddress, crc16x25, decodeControl, decodeFrame, decodeParameters, encodeControl, encodeFrame, encodeParameters, formatAddress,
  negotiate, segment, serverAddress, splitFrames, splitLlc, DEFAULT_PARAMETERS, LLC_COMMAND,
} from '../../lib/protocols/dlms/hdlc';
import { decodeWrapper, encodeWrapper, splitWrapped } from '../../lib/protocols/dlms/wrapper';
import { decodeApdu } from '../../lib/protocols/dlms/apdu';
import { DlmsDecodeError } from '../../lib/protocols/dlms/errors';

const root = path.resolve(__dirname, '../../..');
const { frames } = JSON.parse(fs.readFileSync(path.join(root, 'test/fixtures/dlms/hdlc.json'), 'utf8'));
const H = (s: string) => Buffer.from(s, 'hex');
const isDecodeError = (code?: string) => (e: unknown) => e instanceof DlmsDecodeError && (!code || e.code === code);

describe('CRC-16/X.25', () => {
  it('has the catalogue check value 0x906E for "123456789"', () => {
    assert.equal(crc16x25(Buffer.from('123456789')), 0x906e);
  });
});

describe('published HDLC frames', () => {
  for (const f of frames) {
    it(f.name, () => {
      const d = decodeFrame(H(f.hex));
      const e = f.expect;
      assert.equal(formatAddress(d.destination), e.destination);
      assert.equal(formatAddress(d.source), e.source);
      assert.equal(d.control.kind, e.kind);
      assert.equal(d.control.pf, e.pf);
      if (e.ns !== undefined) assert.equal(d.control.ns, e.ns);
      if (e.nr !== undefined) assert.equal(d.control.nr, e.nr);
      assert.equal(d.segmented, e.segmented);
      assert.equal(d.info.length, e.infoLength);
      if (f.parameters) assert.deepEqual(decodeParameters(d.info), f.parameters);
      if (f.apduType) assert.equal(decodeApdu(splitLlc(d.info).apdu).type, f.apduType);
      // our encoder produces the same bytes (HCS and FCS included)
      assert.equal(encodeFrame(d).toString('hex').toUpperCase(), f.hex.toUpperCase());
    });
  }
  it('a changed byte fails HCS or FCS; truncation and trailing bytes are errors', () => {
    const good = H(frames[4].hex);
    for (let i = 3; i < good.length - 1; i++) {
      const bad = Buffer.from(good);
      bad[i] ^= 0x04;
      assert.throws(() => decodeFrame(bad), isDecodeError('checksum'), `byte ${i}`);
    }
    const info = Buffer.from(good);
    info[20] ^= 1;
    assert.throws(() => decodeFrame(info), isDecodeError('checksum'));
    const header = Buffer.from(good);
    header[5] ^= 2; // control byte, still an I frame: the HCS catches it first
    assert.throws(() => decodeFrame(header), (e: unknown) => isDecodeError('checksum')(e) && /HCS|FCS/.test((e as Error).message));
    assert.throws(() => decodeFrame(good.subarray(0, 20)), isDecodeError('truncated'));
    assert.throws(() => decodeFrame(Buffer.concat([good, H('00')])), isDecodeError());
  });
});

describe('HDLC encoding', () => {
  it('control fields for every frame type round-trip with N(S), N(R) and P/F', () => {
    for (const c of [
      { kind: 'I', pf: false, ns: 3, nr: 5 }, { kind: 'I', pf: true, ns: 7, nr: 0 }, { kind: 'RR', pf: true, nr: 6 }, { kind: 'RNR', pf: false, nr: 2 },
      { kind: 'SNRM', pf: true }, { kind: 'UA', pf: true }, { kind: 'DISC', pf: true }, { kind: 'DM', pf: false }, { kind: 'FRMR', pf: true }, { kind: 'UI', pf: false },
    ] as const) {
      assert.deepEqual(decodeControl(encodeControl(c)), c);
    }
    assert.equal(encodeControl({ kind: 'SNRM', pf: true }), 0x93);
    assert.equal(encodeControl({ kind: 'I', pf: true, ns: 0, nr: 0 }), 0x10);
    assert.equal(encodeControl({ kind: 'RR', pf: true, nr: 1 }), 0x31);
    assert.throws(() => decodeControl(0x09), isDecodeError('unsupported')); // REJ is not used by DLMS
  });
  it('server addresses of 1, 2 and 4 bytes and a segmented frame round-trip', () => {
    for (const server of [serverAddress(1), serverAddress(1, 17), serverAddress(1, 0x3fff), serverAddress(0x3fff, 0x1234)]) {
      const frame = { destination: server, source: clientAddress(16), control: { kind: 'I' as const, pf: false, ns: 1, nr: 2 }, segmented: true, info: Buffer.from([1, 2, 3]) };
      const back = decodeFrame(encodeFrame(frame));
      assert.deepEqual(back, frame);
    }
    assert.equal(serverAddress(1, 300).size, 4);
  });
  it('splitFrames cuts a stream with shared flags, noise and a partial frame at the end', () => {
    const a = H(frames[0].hex), b = H(frames[4].hex);
    const shared = Buffer.concat([H('0000'), a, b.subarray(1), b.subarray(0, 10)]);
    const { frames: got, rest, skipped } = splitFrames(shared);
    assert.equal(got.length, 2);
    assert.equal(skipped, 2);
    assert.deepEqual(decodeFrame(got[1]).info, decodeFrame(b).info);
    assert.deepEqual(rest, b.subarray(0, 10));
  });
  it('segments an APDU by the negotiated maximum and joins it back', () => {
    const apdu = Buffer.concat([LLC_COMMAND, Buffer.alloc(300, 0xab)]);
    const parts = segment(apdu, 128);
    assert.deepEqual(parts.map((p) => [p.info.length, p.segmented]), [[128, true], [128, true], [47, false]]);
    assert.deepEqual(Buffer.concat(parts.map((p) => p.info)), apdu);
  });
  it('SNRM/UA parameters encode, decode and negotiate to the smaller values', () => {
    const p = { maxInfoTransmit: 512, maxInfoReceive: 256, windowTransmit: 1, windowReceive: 7 };
    assert.deepEqual(decodeParameters(encodeParameters(p)), p);
    assert.deepEqual(decodeParameters(Buffer.alloc(0)), DEFAULT_PARAMETERS);
    assert.deepEqual(negotiate(p, { maxInfoTransmit: 128, maxInfoReceive: 1024, windowTransmit: 1, windowReceive: 1 }),
      { maxInfoTransmit: 512, maxInfoReceive: 128, windowTransmit: 1, windowReceive: 1 });
    assert.throws(() => decodeParameters(H('818005050481')), isDecodeError('truncated'));
  });
});

describe('TCP wrapper', () => {
  it('encodes version 1, wPorts and length; decodes and splits a stream', () => {
    const pdu = encodeWrapper({ source: 0x10, destination: 0x01, apdu: H('C001C100030100010800FF0200') });
    assert.equal(pdu.toString('hex').toUpperCase(), '000100100001000DC001C100030100010800FF0200');
    assert.deepEqual(decodeWrapper(pdu), { source: 16, destination: 1, apdu: H('C001C100030100010800FF0200') });
    const stream = Buffer.concat([pdu, pdu, pdu.subarray(0, 5)]);
    const { pdus, rest } = splitWrapped(stream);
    assert.equal(pdus.length, 2);
    assert.equal(rest.length, 5);
    assert.throws(() => decodeWrapper(H('00020010000100010C')), isDecodeError());
    assert.throws(() => decodeWrapper(pdu.subarray(0, 12)), isDecodeError('truncated'));
  });
});
