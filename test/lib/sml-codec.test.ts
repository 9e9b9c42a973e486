/** SML transport and TL fields: CRC, escapes, padding, broken and truncated frames, garbage, bounds, numbers. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import {
  SmlFrameExtractor, SmlReader, SmlTelegramReader, crc16x25, decodeCapture, encodeFrame, encodeMessage, encodeTelegram, extractFrames, list, num, obisBytes, octets,
  toReadings, Tag, NOT_SET,
} from '../../lib/protocols/sml';
import { ROOT, fixtureBytes } from './sml-fixtures';

const frames = (data: Buffer) => extractFrames(data);
const real = () => fixtureBytes('itron-openway-3hz.hex'); // one complete frame, 244 bytes

/** A frame whose CRC is recomputed after `edit` changed its bytes. */
function reCrc(frame: Buffer): Buffer {
  const crc = crc16x25(frame, 0, frame.length - 2);
  frame[frame.length - 2] = crc & 0xff;
  frame[frame.length - 1] = crc >>> 8;
  return frame;
}

describe('SML transport', () => {
  it('CRC-16/X-25: the check value and the byte order real meters send', () => {
    assert.equal(crc16x25(Buffer.from('123456789')), 0x906e);
    const f = real();
    const crc = crc16x25(f, 0, f.length - 2);
    assert.deepEqual([f[f.length - 2], f[f.length - 1]], [crc & 0xff, crc >>> 8], 'low byte first');
  });

  it('unescapes 1b1b1b1b inside the data and recomputes nothing wrong', () => {
    const eight1b = Buffer.alloc(8, 0x1b);
    const msg = encodeMessage(Buffer.from('01020304', 'hex'), Tag.CLOSE_RESPONSE, list([octets(eight1b)]));
    const frame = encodeFrame(msg);
    assert.ok(frame.includes(Buffer.alloc(8, 0x1b)), 'escaped on the wire');
    const [e] = frames(frame);
    if (!e.frame) throw e.error;
    assert.deepEqual(e.frame.payload, msg);
    assert.ok(e.frame.escapes.length >= 1, 'at least one aligned escape');
    const [t] = decodeCapture(frame);
    assert.ok(t.telegram);
    const body = t.telegram.messages[0].body;
    assert.equal(body.kind, 'closeResponse');
    assert.deepEqual(body.kind === 'closeResponse' && body.globalSignature, eight1b);
  });

  it('a telegram whose server id and register hold 1b1b1b1b decodes to the values encoded (smartmeter-obis cannot frame it)', () => {
    const entry = (obis: string, value: Buffer) => ({ objName: obisBytes(obis), unit: 30, scaler: -1, value });
    const t = encodeTelegram({ serverId: Buffer.alloc(10, 0x1b), transaction: 1, secIndex: 5, entries: [entry('1-0:1.8.0', num(0x1b1b1b1b, 4)), entry('1-0:2.8.0', num(12345, 4))] });
    const [e] = decodeCapture(t);
    if (!e.telegram) throw e.error;
    assert.ok(e.telegram.frame.escapes.length >= 2);
    assert.equal(e.telegram.serverId, '1b'.repeat(10));
    assert.deepEqual(toReadings(e.telegram.messages, { now: 0 }).map((r) => [r.obis, r.value]), [['1-0:1.8.0', 0x1b1b1b1b / 10_000], ['1-0:2.8.0', 1.2345]]);
    // smartmeter-obis's framing regex ends the frame at the first escaped 1b1b1b1b: its parse fails.
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const SmlProtocol = require('smartmeter-obis/lib/protocols/SmlProtocol');
    let failure: unknown;
    new SmlProtocol({ debug: 0, logger: () => undefined }, (err: unknown) => { failure = err; }).handleMessage(t);
    assert.match(String(failure), /Error while parsing SML message/);
  });

  it('reports a CRC error naming the frame offset and goes on with the next frame', () => {
    const good = real();
    const bad = Buffer.from(good);
    bad[100] ^= 0x01;
    const ev = frames(Buffer.concat([bad, good]));
    assert.equal(ev.length, 2);
    assert.match(ev[0].error!.message, /^offset 0: CRC error: frame of 244 bytes has CRC 0x[0-9a-f]{4}, computed 0x[0-9a-f]{4}$/);
    assert.equal(ev[1].frame!.offset, 244);
  });

  it('a message CRC error names the offset of the CRC field', () => {
    const f = Buffer.from(real());
    const at = f.indexOf(Buffer.from('63c6a300', 'hex')); // the OpenResponse's CRC
    f[at + 1] ^= 0xff;
    const [e] = decodeCapture(reCrc(f));
    assert.match(e.error!.message, new RegExp(`^offset ${at}: message CRC error: received 0x39a3, computed 0xc6a3`));
  });

  it('a truncated frame is reported when the stream ends, a half frame waits for the rest', () => {
    const f = real();
    const x = new SmlFrameExtractor();
    assert.deepEqual(x.push(f.subarray(0, 200)), []);
    assert.deepEqual(x.push(f.subarray(200)).map((e) => e.frame?.offset), [0]);
    const y = new SmlFrameExtractor();
    y.push(Buffer.concat([Buffer.from('00ff', 'hex'), f.subarray(0, 150)]));
    const [end] = y.flush();
    assert.equal(end.error!.message, 'offset 2: truncated frame: 150 bytes after the start sequence and no end sequence');
  });

  it('skips garbage between frames and decodes the same fed byte by byte', () => {
    const a = fixtureBytes('iskra-mt691-ehz-ms2020.hex');
    const garbage = Buffer.from('1b1b1b00 0101 1b1b1b1b 1a00 ffffffff 00 1b 01010101 7f'.replace(/ /g, ''), 'hex');
    const stream = Buffer.concat([garbage, a.subarray(0, 216), garbage, a.subarray(216), garbage]);
    const once = frames(stream);
    assert.deepEqual(once.map((e) => e.error?.message ?? e.frame?.offset), [garbage.length, 2 * garbage.length + 216]);
    const x = new SmlFrameExtractor();
    const byByte: number[] = [];
    for (const b of stream) for (const e of x.push(Buffer.from([b]))) byByte.push(e.frame!.offset);
    assert.deepEqual(byByte, [garbage.length, 2 * garbage.length + 216]);
    assert.equal(x.stats.skippedBytes + 0, stream.length - 432 - x.buffered);
  });

  it('a frame cut by lost bytes is dropped at the next start sequence off the 4-byte grid', () => {
    const f = real();
    const cut = Buffer.concat([f.subarray(0, 50), f.subarray(51)]); // one byte lost: its end is off grid
    const ev = frames(Buffer.concat([cut, f]));
    assert.match(ev[0].error!.message, /^offset 0: frame broken off by a start sequence at offset 243 off the 4-byte grid/);
    assert.equal(ev[1].frame!.offset, 243);
  });

  it('rejects an invalid escape and too many padding bytes', () => {
    const bad = Buffer.concat([Buffer.from('1b1b1b1b010101017601', 'hex'), Buffer.from('00001b1b1b1b020202020000', 'hex')]);
    assert.match(frames(bad)[0].error!.message, /^offset 0: invalid escape sequence 1b1b1b1b 02020202 at offset 12$/);
    const pad = Buffer.concat([Buffer.from('1b1b1b1b0101010100000000000000001b1b1b1b1a04', 'hex'), Buffer.alloc(2)]);
    assert.match(frames(reCrc(pad))[0].error!.message, /claims 4 padding bytes/);
  });

  it('holds at most one frame of memory: an endless frame is dropped, then the stream recovers', () => {
    const x = new SmlFrameExtractor(4096);
    const errors: string[] = [];
    let peak = 0;
    const junk = Buffer.alloc(1000, 0x42);
    for (const e of x.push(Buffer.from('1b1b1b1b01010101', 'hex'))) errors.push(e.error!.message);
    for (let i = 0; i < 1000; i++) {
      for (const e of x.push(junk)) errors.push(e.error!.message);
      peak = Math.max(peak, x.buffered);
    }
    assert.ok(peak <= 4096 + 1000 + 8, `peak ${peak}`);
    assert.deepEqual(errors, ['offset 0: no end sequence within 4096 bytes; frame dropped']);
    assert.equal(x.push(real()).length, 1);
  });
});

describe('SML TL fields and numbers', () => {
  it('signed and unsigned integers of 1..8 bytes, bigint beyond 2^53', () => {
    const cases: [number | bigint, 1 | 2 | 3 | 4 | 5 | 6 | 7 | 8, boolean][] = [
      [-128, 1, true], [255, 1, false], [-10550, 2, true], [0xe4ee4d, 3, false], [-1, 4, true], [83916488, 5, false],
      [-(2 ** 47), 6, true], [2 ** 53 - 1, 7, false], [-(2n ** 63n), 8, true], [2n ** 64n - 1n, 8, false], [29416461614, 8, false],
    ];
    for (const [v, bytes, signed] of cases) {
      const enc = num(v, bytes, signed);
      assert.equal(enc[0], (signed ? 0x50 : 0x60) | (bytes + 1));
      const r = new SmlReader(enc);
      assert.equal(r.number('x'), v, `${signed ? 'int' : 'uint'}${bytes * 8} ${v}`);
      assert.equal(r.pos, enc.length);
    }
  });

  it('multi-byte TL fields: a 48-byte octet string (83 02) and a list of 21 (f1 05)', () => {
    const sig = Buffer.alloc(48, 7);
    const o = octets(sig);
    assert.deepEqual(o.subarray(0, 2), Buffer.from('8302', 'hex'));
    assert.deepEqual(new SmlReader(o).octets('sig'), sig);
    const l = list(Array.from({ length: 21 }, (_, i) => num(i, 1)));
    assert.deepEqual(l.subarray(0, 2), Buffer.from('f105', 'hex'));
    assert.deepEqual(new SmlReader(l).value(), Array.from({ length: 21 }, (_, i) => i));
    assert.equal(new SmlReader(NOT_SET).value(), null);
  });

  it('errors name the offset and the reason', () => {
    assert.throws(() => new SmlReader(Buffer.from('0a0102', 'hex')).value(), /^SmlError: offset 0: truncated: octet string of 9 bytes runs past the end of the data$/);
    assert.throws(() => new SmlReader(Buffer.from('6201', 'hex'), (i) => i + 100).list('valList'), /^SmlError: offset 100: valList must be a list, found unsigned$/);
    assert.throws(() => new SmlReader(Buffer.from('5900', 'hex')).value(), /truncated/);
    assert.throws(() => new SmlReader(Buffer.from('2301', 'hex')).value(), /offset 0: unknown type 2/);
  });

  it('the streaming telegram reader reports messages that do not decode', () => {
    const msg = encodeMessage(Buffer.from('01', 'hex'), Tag.GET_LIST_RESPONSE, list([NOT_SET]));
    const r = new SmlTelegramReader();
    const [e] = r.push(encodeFrame(msg));
    assert.match(e.error!.message, /^offset 19: GetListResponse must be a list of 7, found 1 elements$/);
  });
});

describe('ems-decode sml', () => {
  const bin = path.join(ROOT, 'dist', 'bin', 'ems-decode.js');
  it('prints telegrams, entries and readings as JSON; a broken frame exits 1 naming offset and reason', () => {
    const ok = spawnSync(process.execPath, [bin, 'sml', fixtureBytes('dzg-dvs-7420-neg.hex').subarray(0, 252).toString('hex')], { encoding: 'utf8' });
    assert.equal(ok.status, 0, ok.stderr);
    const j = JSON.parse(ok.stdout);
    assert.equal(j.telegrams[0].serverId, '0a01445a4700039e2053');
    const entries = j.telegrams[0].messages[1].valList;
    assert.deepEqual(entries.find((e: { obis: string }) => e.obis === '1-0:16.7.0'), { objName: '0100100700ff', obis: '1-0:16.7.0', status: null, valTime: { kind: 'secIndex', value: 0 }, unit: 27, unitSymbol: 'W', scaler: -2, raw: -10550, value: -105.5 });
    assert.equal(entries.find((e: { obis: string }) => e.obis === '1-0:96.50.1').text, 'DZG');
    assert.deepEqual(j.telegrams[0].readings.find((r: { obis: string }) => r.obis === '1-0:16.7.0').value, -0.1055);
    const f = real();
    f[60] ^= 0x10;
    const bad = spawnSync(process.execPath, [bin, 'sml', f.toString('hex')], { encoding: 'utf8' });
    assert.equal(bad.status, 1);
    assert.match(bad.stderr, /ems-decode sml: offset 0: CRC error/);
    const help = spawnSync(process.execPath, [bin, '--help'], { encoding: 'utf8' });
    assert.match(help.stdout, /sml +SML 1\.04 telegram/);
  });
});
