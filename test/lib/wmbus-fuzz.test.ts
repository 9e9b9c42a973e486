/**
 * Fuzz: random and mutated wireless M-Bus telegrams (the fixtures, and telegrams of every security mode and
 * frame format built by our encoder) through the decoder with and without keys. Whatever the bytes, it
 * returns a telegram or throws WmbusDecodeError: never another error, never a hang. Seeded, so a failure replays.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { decodeWmbus, encodeWmbus, parseReceived, wmbusToReadings, WmbusDecodeError } from '../../lib/protocols/wmbus';

const dir = path.resolve(__dirname, '../../../test/fixtures/wmbus');
const fixtures: { bytes: Buffer; key?: string }[] = fs.readdirSync(dir).filter((f) => f.endsWith('.json'))
  .flatMap((f) => JSON.parse(fs.readFileSync(path.join(dir, f), 'utf8')).telegrams as { hex: string; key?: string }[])
  .map((t) => ({ bytes: parseReceived(t.hex).bytes, key: t.key }));
const KEY = Buffer.from('000102030405060708090A0B0C0D0E0F', 'hex');
for (const mode of [0, 5, 7] as const) {
  for (const format of ['A', 'B', 'none'] as const) {
    fixtures.push({ bytes: encodeWmbus({ manufacturer: 'ELS', id: '12345678', version: 1, deviceType: 7, accessNumber: 3, records: Buffer.from('0413393000000C06341200000259D409', 'hex'), mode, key: KEY, messageCounter: 9, format, tpl: mode === 7 ? 'long' : 'short' }), key: KEY.toString('hex') });
  }
}

function rng(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) >>> 0;
    let t = Math.imul(seed ^ (seed >>> 15), seed | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

describe('wireless M-Bus decoder fuzz', () => {
  it('60k mutated and random telegrams give a telegram or a WmbusDecodeError, nothing else', () => {
    const r = rng(0x3d65);
    const byte = () => (r() * 256) | 0;
    let ok = 0, errors = 0;
    const attempt = (b: Buffer, key?: string) => {
      try {
        const d = decodeWmbus(b, { key });
        JSON.stringify(d);
        wmbusToReadings(d, { meter: 'fuzz', time: 0 });
        ok++;
      } catch (e) {
        if (e instanceof WmbusDecodeError) { errors++; return; }
        throw new Error(`unexpected ${(e as Error).name} for ${b.toString('hex')}: ${(e as Error).stack}`);
      }
    };
    for (let i = 0; i < 60_000; i++) {
      const base = fixtures[i % fixtures.length];
      const b = Buffer.from(base.bytes);
      const kind = i % 5;
      if (kind === 0) b[(r() * b.length) | 0] = byte();
      else if (kind === 1) for (let k = 0; k < 4; k++) b[(r() * b.length) | 0] ^= 1 << ((r() * 8) | 0);
      else if (kind === 2) { attempt(b.subarray(0, (r() * b.length) | 0), base.key); continue; }
      else if (kind === 3) { const n = 11 + ((r() * 200) | 0); const x = Buffer.alloc(n); for (let k = 0; k < n; k++) x[k] = byte(); x[0] = n - 1; if (r() < 0.5) x[10] = [0x72, 0x7a, 0x78, 0x8c, 0x8d, 0x8e, 0x8f, 0x90][(r() * 8) | 0]; attempt(x, base.key); continue; }
      else b[0] = byte();
      attempt(b, r() < 0.8 ? base.key : undefined);
    }
    assert.ok(ok > 1000 && errors > 1000, `${ok} decoded, ${errors} refused`);
  });
});
