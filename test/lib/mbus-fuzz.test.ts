/**
 * Fuzz: random and mutated real telegrams through the M-Bus decoder. Whatever the bytes, the decoder
 * returns a telegram or throws MbusDecodeError / MbusFrameError naming an offset: never another
 * error, never a hang. Deterministic (seeded) so a failure can be replayed.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { decodeTelegram, decodeUserData } from '../../lib/protocols/mbus/telegram';
import { telegramToReadings } from '../../lib/protocols/mbus/readings';
import { MbusDecodeError } from '../../lib/protocols/mbus/types';
import { encodeLong, MbusFrameError, parseHex } from '../../lib/protocols/mbus/frame';

const root = path.resolve(__dirname, '../../..');
const corpus = JSON.parse(fs.readFileSync(path.join(root, 'test/fixtures/mbus/telegrams.json'), 'utf8'));
const frames: Buffer[] = corpus.telegrams.map((t: { hex: string }) => parseHex(t.hex));

function rng(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) >>> 0;
    let t = Math.imul(seed ^ (seed >>> 15), seed | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const CIS = [0x70, 0x71, 0x72, 0x73, 0x76, 0x77, 0x78, 0x7a, 0x51];
let decoded = 0, decodeErrors = 0, frameErrors = 0;

function attempt(f: () => unknown, input: Uint8Array): void {
  try {
    const t = f() as ReturnType<typeof decodeTelegram>;
    decoded++;
    // Everything decoded must also be usable: JSON-safe and convertible to readings.
    JSON.stringify(t);
    if (t.header) telegramToReadings(t, { meter: 'fuzz', time: 0 });
  } catch (e) {
    if (e instanceof MbusDecodeError) { decodeErrors++; assert.ok(Number.isInteger(e.offset) && e.offset >= -1 && e.offset <= input.length + 7, e.message); return; }
    if (e instanceof MbusFrameError) { frameErrors++; return; }
    throw new Error(`unexpected ${(e as Error).name} for ${Buffer.from(input).toString('hex')}: ${(e as Error).stack}`);
  }
}

describe('M-Bus decoder fuzz', () => {
  it('120k random and mutated inputs throw only decode errors', () => {
    const r = rng(0xbeef);
    const byte = () => (r() * 256) | 0;
    const N = 40_000;
    for (let i = 0; i < N; i++) {
      // 1) a real frame's user data, mutated (flips, inserts, deletes, truncation), re-framed with a valid checksum
      const src = frames[i % frames.length];
      const data = Array.from(src.subarray(7, src.length - 2));
      const edits = 1 + ((r() * 4) | 0);
      for (let k = 0; k < edits; k++) {
        const at = (r() * data.length) | 0;
        const op = r();
        if (op < 0.5) data[at] = byte();
        else if (op < 0.7) data.splice(at, 0, byte());
        else if (op < 0.85) data.splice(at, 1);
        else data.length = at;
      }
      const ci = r() < 0.9 ? src[6] : CIS[(r() * CIS.length) | 0];
      const body = Uint8Array.from(data.slice(0, 252));
      const frame = encodeLong(0x08, byte(), ci, body);
      attempt(() => decodeTelegram(frame), frame);
      // 2) random user data after a random CI
      const rnd = Uint8Array.from({ length: (r() * 80) | 0 }, byte);
      const rci = CIS[(r() * CIS.length) | 0];
      attempt(() => decodeUserData(rci, rnd), rnd);
      // 3) raw random bytes and bit flips of whole frames (mostly link-layer errors)
      const raw = Buffer.from(src);
      raw[(r() * raw.length) | 0] ^= 1 << ((r() * 8) | 0);
      attempt(() => decodeTelegram(raw), raw);
    }
    assert.equal(decoded + decodeErrors + frameErrors, 3 * N);
    // The mutations must reach the application layer often, or the test proves little.
    assert.ok(decodeErrors > 5_000, `decode errors ${decodeErrors}`);
    assert.ok(decoded > 10_000, `decoded ${decoded}`);
  });
});
