import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { TelegramExtractor, decodeP1Frame, decryptFrame, encryptFrame, P1DecryptError, parseTelegram, toP1Readings } from '../../lib/protocols/p1';
import { findDecoder } from '../../lib/protocols/decoders';

const FIX = path.resolve(__dirname, '../../../test/fixtures/p1');
const fixture = (name: string) => fs.readFileSync(path.join(FIX, name));
const hexFixture = (name: string) => Buffer.from(fs.readFileSync(path.join(FIX, name), 'utf8').replace(/\s+/g, ''), 'hex');
/** A captured telegram as one frame: what the meter sent from "/" to the CRC (the CR LF after it is not part of it). */
const frame = (name: string) => fixture(name).subarray(0, fixture(name).indexOf(0x21) + 1 + (/[0-9A-Fa-f]{4}/.test(fixture(name).toString('latin1', fixture(name).indexOf(0x21) + 1, fixture(name).indexOf(0x21) + 5)) ? 4 : 0));

const V5 = 'dsmr-5.0-iskra.txt';
const V42 = 'dsmr-4.2-kaifa-1.txt';
const V22 = 'dsmr-2.2-iskra-mt382.txt';

describe('P1 telegram extractor', () => {
  it('cuts a stream of telegrams of every version, junk between them skipped', () => {
    const x = new TelegramExtractor();
    const junk = Buffer.from('\x00\xff garbage !!12 ', 'latin1');
    const frames = x.push(Buffer.concat([junk, fixture(V5), junk, fixture(V22), fixture(V42), junk]));
    assert.deepEqual(frames.map((f) => f.toString('latin1')), [frame(V5), frame(V22), frame(V42)].map((f) => f.toString('latin1')));
    assert.equal(x.discarded, junk.length * 3, 'junk counted');
    assert.equal(x.pending, 0);
  });

  it('gives the same telegrams when the stream arrives byte by byte or in odd chunks', () => {
    const stream = Buffer.concat([fixture(V42), fixture(V5), fixture(V22), fixture(V42)]);
    for (const size of [1, 7, 64, 1000]) {
      const x = new TelegramExtractor();
      const got: string[] = [];
      for (let i = 0; i < stream.length; i += size) for (const f of x.push(stream.subarray(i, i + size))) got.push(f.toString('latin1'));
      assert.deepEqual(got, [V42, V5, V22, V42].map((n) => frame(n).toString('latin1')), `chunks of ${size}`);
      for (const f of got) assert.doesNotThrow(() => parseTelegram(f), `chunks of ${size}`);
    }
  });

  it('drops a telegram cut short by the next one (a reconnect mid-telegram)', () => {
    const x = new TelegramExtractor();
    const head = fixture(V42).subarray(0, 300);
    const frames = x.push(Buffer.concat([head, fixture(V5)]));
    assert.equal(frames.length, 1);
    assert.equal(frames[0].toString('latin1'), frame(V5).toString('latin1'));
    assert.equal(x.discarded, 300);
  });

  it('keeps its buffer bounded on endless garbage, with or without "/", and resynchronises', () => {
    const x = new TelegramExtractor({ maxBytes: 4096 });
    let peak = 0;
    for (let i = 0; i < 500; i++) {
      const chunk = Buffer.alloc(1000, i % 2 ? 0x41 : 0x2f); // "AAAA..." and "////..."
      x.push(chunk);
      peak = Math.max(peak, x.pending);
    }
    const endless = Buffer.from('/XXX5 never ends\r\n' + '1-0:1.8.1(000001.000*kWh)\r\n'.repeat(2000), 'latin1');
    x.push(endless);
    peak = Math.max(peak, x.pending);
    assert.ok(peak <= 4096, `peak ${peak} bytes`);
    const frames = x.push(fixture(V5));
    assert.equal(frames.length, 1, 'the next real telegram is found');
    assert.equal(frames[0].toString('latin1'), frame(V5).toString('latin1'));
  });

  it('strips parity bits of 7E1 bytes read as 8N1', () => {
    const withParity = Buffer.from(fixture(V22).map((b) => b | 0x80));
    const [f] = new TelegramExtractor({ sevenBit: true }).push(withParity);
    assert.equal(f.toString('latin1'), frame(V22).toString('latin1'));
  });

  it('a CRC error in one telegram does not hide the next ones', () => {
    const bad = Buffer.from(fixture(V42).toString('latin1').replace('02.027', '02.028'), 'latin1');
    const frames = new TelegramExtractor().push(Buffer.concat([fixture(V5), bad, fixture(V42)]));
    const results = frames.map((f) => { try { return decodeP1Frame(f, { meter: 'm' }).telegram.crc?.ok; } catch (e) { return (e as Error).name; } });
    assert.deepEqual(results, [true, 'P1CrcError', true]);
  });
});

describe('P1 encrypted (Luxembourg Smarty, Austria)', () => {
  const KEY = '0123456789abcdef01234567890abcde';
  const plain = fixture('luxembourg-smarty-spec-example.txt').toString('latin1').replace('\r\n\r\n', '\r\n').replace(/\r\n$/, '');

  it('decrypts the published frames with their key, with and without AAD', () => {
    const withAad = decryptFrame(hexFixture('luxembourg-smarty-encrypted-with-aad.hex'), { key: KEY, aad: 'ffeeddccbbaa99887766554433221100' });
    assert.equal(withAad.plaintext.toString('latin1'), plain);
    assert.equal(withAad.systemTitle, 'systitle');
    assert.equal(withAad.frameCounter, 0x11223344);
    const without = decryptFrame(hexFixture('luxembourg-smarty-encrypted-without-aad.hex'), { key: KEY });
    assert.equal(without.plaintext.toString('latin1'), plain);
    // The published plaintext lost the spec's empty line, so its CRC no longer matches.
    assert.throws(() => decodeP1Frame(hexFixture('luxembourg-smarty-encrypted-without-aad.hex'), { meter: 'lux', key: KEY }), /expected 6DA1 .*got 8B52/);
    const d = decodeP1Frame(hexFixture('luxembourg-smarty-encrypted-with-aad.hex'), { meter: 'lux', key: KEY, aad: 'FFEEDDCCBBAA99887766554433221100', checkCrc: false, timeZone: 'Europe/Luxembourg' });
    assert.equal(d.telegram.equipmentId, 'SAG1030790002574');
    assert.equal(d.telegram.systemTitle, 'systitle');
    assert.equal(d.readings.find((r) => r.obis === '1-0:1.8.0')?.value, 25.653);
  });

  it('a wrong key or AAD fails with a clear error', () => {
    const f = hexFixture('luxembourg-smarty-encrypted-with-aad.hex');
    assert.throws(() => decryptFrame(f, { key: '000102030405060708090A0B0C0D0E0F' }), (e: Error) => e instanceof P1DecryptError && /system title systitle: the GCM tag does not match, so the key is wrong/.test(e.message));
    assert.throws(() => decryptFrame(f, { key: KEY, aad: '00112233445566778899AABBCCDDEEFF' }), /key is wrong or the AAD\/authentication key is/);
    assert.throws(() => decryptFrame(f, { key: 'abc' }), /32 hex digits/);
    assert.throws(() => decodeP1Frame(f, { meter: 'm' }), /no decryption key is set/);
    const cut = f.subarray(0, 500);
    assert.throws(() => decryptFrame(cut, { key: KEY }), /truncated: 500 bytes, 1515 announced/);
  });

  it('finds encrypted frames in a stream, split anywhere, junk skipped', () => {
    const a = hexFixture('luxembourg-smarty-encrypted-with-aad.hex');
    const own = encryptFrame(fixture(V5).subarray(0, fixture(V5).length - 2), { key: KEY, systemTitle: Buffer.from('ABCDEFGH'), frameCounter: 7 });
    const stream = Buffer.concat([Buffer.from('junk\xdb\x09xx', 'latin1'), a, own, Buffer.from([0x00, 0x01])]);
    for (const size of [1, 13, 4096]) {
      const x = new TelegramExtractor({ encrypted: true });
      const got: Buffer[] = [];
      for (let i = 0; i < stream.length; i += size) got.push(...x.push(stream.subarray(i, i + size)));
      assert.deepEqual(got.map((g) => g.length), [a.length, own.length], `chunks of ${size}`);
    }
    const d = decodeP1Frame(own, { meter: 'm', key: KEY });
    assert.deepEqual([d.telegram.version, d.telegram.frameCounter, d.telegram.systemTitle, d.telegram.crc?.ok], ['5.0', 7, 'ABCDEFGH', true]);
  });

  it('ems-decode p1 takes the hex frame and EMS_P1_KEY / EMS_P1_AAD', () => {
    const text = fs.readFileSync(path.join(FIX, 'luxembourg-smarty-encrypted-with-aad.hex'), 'latin1');
    const { decodeP1Text } = require('../../lib/protocols/p1') as typeof import('../../lib/protocols/p1');
    assert.throws(() => findDecoder('p1')!.decode(text), /no decryption key/);
    const out = decodeP1Text(text, { EMS_P1_KEY: KEY, EMS_P1_AAD: 'ffeeddccbbaa99887766554433221100', EMS_P1_CHECK_CRC: '0' }) as { equipmentId: string; crc: { ok: boolean } };
    assert.deepEqual([out.equipmentId, out.crc.ok], ['SAG1030790002574', false]);
    assert.ok(toP1Readings(parseTelegram(plain, { checkCrc: false }), { meter: 'x' }).readings.length > 30);
  });
});
