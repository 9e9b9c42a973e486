/**
 * `npm run bench:mbus`: M-Bus telegrams decoded per second (decodeTelegram: frame checks, header and
 * every record) over the corpus of real telegrams in test/fixtures/mbus/telegrams.json, beside a
 * baseline in the same run: JSON.parse of a JSON document of the same byte size per frame (an array
 * of numbers as long as the frame). Rounds alternate which side runs first, so machine noise hits
 * both. BENCH_ROUNDS sets the rounds (default 200; each round decodes every frame 20 times).
 * Prints frames/s for both, the ratio decoder/baseline and peak RSS; the last line of stdout is JSON.
 */
import fs from 'node:fs';
import path from 'node:path';
import { decodeTelegram } from '../lib/protocols/mbus/telegram';
import { parseHex } from '../lib/protocols/mbus/frame';

const ROOT = path.resolve(__dirname, '..', '..');
const REPEAT = 20;

function envNumber(name: string, fallback: number): number {
  const v = process.env[name];
  if (v === undefined || v === '') return fallback;
  const n = Number(v);
  if (!Number.isInteger(n) || n <= 0) throw new Error(`${name} must be a positive whole number, got ${JSON.stringify(v)}`);
  return n;
}

/** A JSON text of exactly `size` bytes: an array of small numbers, padded with spaces. */
function jsonOfSize(size: number, seed: number): string {
  const parts: string[] = [];
  let len = 2;
  for (let i = 0; len + 4 <= size; i++) {
    const s = String((seed + i * 7) % 100);
    parts.push(s);
    len += s.length + 1;
  }
  const text = `[${parts.join(',')}]`;
  return text.padEnd(size, ' ');
}

function main(): void {
  const rounds = envNumber('BENCH_ROUNDS', 200);
  const corpus = JSON.parse(fs.readFileSync(path.join(ROOT, 'test/fixtures/mbus/telegrams.json'), 'utf8'));
  const frames: Buffer[] = corpus.telegrams.map((t: { hex: string }) => parseHex(t.hex));
  const docs = frames.map((f, i) => jsonOfSize(f.length, i));
  const bytes = frames.reduce((s, f) => s + f.length, 0);
  let decodeNs = 0n, baselineNs = 0n, records = 0, keys = 0;
  const runDecoder = () => {
    const t0 = process.hrtime.bigint();
    for (let k = 0; k < REPEAT; k++) for (const f of frames) records += decodeTelegram(f).records.length;
    decodeNs += process.hrtime.bigint() - t0;
  };
  const runBaseline = () => {
    const t0 = process.hrtime.bigint();
    for (let k = 0; k < REPEAT; k++) for (const d of docs) keys += (JSON.parse(d) as number[]).length;
    baselineNs += process.hrtime.bigint() - t0;
  };
  for (let r = 0; r < rounds; r++) {
    if (r % 2 === 0) { runBaseline(); runDecoder(); } else { runDecoder(); runBaseline(); }
  }
  const n = rounds * REPEAT * frames.length;
  const decodeRate = n / (Number(decodeNs) / 1e9);
  const baselineRate = n / (Number(baselineNs) / 1e9);
  const peakRssMb = process.resourceUsage().maxRSS / 1024;
  const result = {
    frames: frames.length, bytesPerRound: bytes, decoded: n, recordsPerFrame: records / n,
    decoderFramesPerSecond: Math.round(decodeRate), baselineFramesPerSecond: Math.round(baselineRate),
    ratio: Number((decodeRate / baselineRate).toFixed(3)), peakRssMb: Number(peakRssMb.toFixed(1)), checksum: keys,
  };
  process.stdout.write(`M-Bus decode: ${frames.length} real telegrams (${bytes} bytes), ${n} decodes\n`);
  process.stdout.write(`  decoder   ${result.decoderFramesPerSecond.toLocaleString('en')} frames/s (${result.recordsPerFrame.toFixed(1)} records/frame)\n`);
  process.stdout.write(`  baseline  ${result.baselineFramesPerSecond.toLocaleString('en')} frames/s (JSON.parse of an equal-size document)\n`);
  process.stdout.write(`  ratio     ${result.ratio} (decoder / baseline)\n  peak RSS  ${result.peakRssMb} MB\n`);
  process.stdout.write(JSON.stringify(result) + '\n');
}

main();
