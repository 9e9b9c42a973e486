/**
 * `npm run bench:p1`: DSMR P1 telegrams decoded per second, side by side in one process on the same
 * bytes, over the published telegrams in test/fixtures/p1 (12 telegrams, DSMR 2.2 to 5.0, e-MUCS,
 * Smarty, Austria, Kamstrup; 0.4-1.5 KB each) concatenated into one stream:
 *
 * - p1 (ours): TelegramExtractor on the stream + decodeP1Frame per telegram: CRC-16 check, data sets,
 *   timestamps with their S/W flag in Europe/Amsterdam, canonical readings, M-Bus channels, power
 *   failure log, summary. CRC checking is on (the four published telegrams whose CRC does not match are
 *   decoded with checkCrc off, as ems-decode with EMS_P1_CHECK_CRC=0 does).
 * - regex (baseline, the fastest we run): split the stream at '/', one global regex per telegram picking
 *   OBIS(value*unit) of each line, parseFloat. No CRC, no timestamps, no channels, no units table.
 * - smartmeter-obis (a published decoder, devDependency): its D0 protocol's prepareResult over each
 *   telegram's data lines (OBIS objects with values and units; no CRC, no timestamps).
 *
 * Rounds rotate which side runs first, so machine noise hits all. BENCH_ROUNDS (default 40; each round
 * decodes the stream 20 times per side). Memory: peak RSS, heap per decoded telegram (growth of
 * heapUsed while decoding the stream once, results kept, after a GC when --expose-gc is given), and the
 * extractor's bound: 64 MiB of junk (with and without '/') pushed through in 64 KiB chunks, its largest
 * pending buffer and the RSS growth. The last line of stdout is JSON.
 */
import fs from 'node:fs';
import path from 'node:path';
import { TelegramExtractor, decodeP1Frame } from '../lib/protocols/p1';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const D0Protocol = require('smartmeter-obis/lib/protocols/D0Protocol') as new (o: object, cb: () => void) => { prepareResult(data: string): Record<string, unknown> };

const ROOT = path.resolve(__dirname, '..', '..');
const REPEAT = 20;
const rounds = Number(process.env.BENCH_ROUNDS || 40);
const gc = (globalThis as { gc?: () => void }).gc;

const files = fs.readdirSync(path.join(ROOT, 'test/fixtures/p1')).filter((f) => f.endsWith('.txt')).sort();
const telegrams = files.map((f) => fs.readFileSync(path.join(ROOT, 'test/fixtures/p1', f)));
const stream = Buffer.concat(telegrams);
const bad = new Set(['dsmr-4.0-spec-example.txt', 'dsmr-5.0-spec-example.txt', 'emucs-h-spec-example.txt', 'kamstrup-omnia.txt']);
const checkCrc = files.map((f) => !bad.has(f));

function ours(keep?: unknown[]): number {
  const frames = new TelegramExtractor().push(stream);
  let n = 0;
  for (let i = 0; i < frames.length; i++) {
    const d = decodeP1Frame(frames[i], { meter: 'bench', now: 0, checkCrc: checkCrc[i] });
    n += d.readings.length;
    keep?.push(d);
  }
  return n;
}

const LINE = /^(\d+-\d+:\d+\.\d+\.\d+)\(([^)*]*)(?:\*([^)]*))?\)/gm;
function regex(keep?: unknown[]): number {
  const text = stream.toString('latin1');
  let n = 0;
  for (const t of text.split('/')) {
    if (!t) continue;
    const out: { obis: string; value: number; unit?: string }[] = [];
    for (const m of t.matchAll(LINE)) if (m[3] !== undefined) out.push({ obis: m[1], value: parseFloat(m[2]), unit: m[3] });
    n += out.length;
    keep?.push(out);
  }
  return n;
}

const d0 = new D0Protocol({ obisFallbackMedium: 1, debug: 0, logger: () => undefined }, () => undefined);
function smartmeterObis(keep?: unknown[]): number {
  const text = stream.toString('latin1');
  let n = 0;
  for (const t of text.split('/')) {
    if (!t) continue;
    const body = t.slice(t.indexOf('\n') + 1, t.indexOf('!'));
    const r = d0.prepareResult(body);
    n += Object.keys(r).length;
    keep?.push(r);
  }
  return n;
}

const sides = [{ name: 'p1', run: ours }, { name: 'regex', run: regex }, { name: 'smartmeter-obis', run: smartmeterObis }];

function heapPerTelegram(run: (keep: unknown[]) => number): number {
  gc?.();
  const before = process.memoryUsage().heapUsed;
  const keep: unknown[] = [];
  for (let k = 0; k < 50; k++) run(keep);
  const grown = process.memoryUsage().heapUsed - before;
  return Math.round(grown / (50 * telegrams.length) + keep.length * 0);
}

function junkBound(): { junkMiB: number; maxPendingBytes: number; rssGrowthMb: number } {
  gc?.();
  const rss0 = process.memoryUsage().rss;
  const x = new TelegramExtractor();
  let maxPending = 0;
  const plain = Buffer.alloc(64 * 1024, 0x41);
  const slashes = Buffer.from('/XXX5 junk\r\n1-0:1.8.1(1*kWh)\r\n'.repeat(2200).slice(0, 64 * 1024), 'latin1');
  for (let i = 0; i < 1024; i++) {
    x.push(i % 2 ? plain : slashes);
    maxPending = Math.max(maxPending, x.pending);
  }
  gc?.();
  return { junkMiB: 64, maxPendingBytes: maxPending, rssGrowthMb: Number(((process.memoryUsage().rss - rss0) / 1048576).toFixed(1)) };
}

function main(): void {
  const counts = sides.map((s) => s.run());
  const ns = sides.map(() => 0n);
  for (let r = 0; r < rounds; r++) {
    for (let k = 0; k < sides.length; k++) {
      const i = (r + k) % sides.length;
      const t0 = process.hrtime.bigint();
      for (let j = 0; j < REPEAT; j++) sides[i].run();
      ns[i] += process.hrtime.bigint() - t0;
    }
  }
  const n = rounds * REPEAT * telegrams.length;
  const rate = ns.map((x) => n / (Number(x) / 1e9));
  const fastestBaseline = rate[1] >= rate[2] ? 1 : 2;
  const heap = sides.map((s) => heapPerTelegram(s.run));
  const bound = junkBound();
  const result = {
    telegrams: telegrams.length, bytes: stream.length, decodedPerSide: n,
    valuesPerStream: Object.fromEntries(sides.map((s, i) => [s.name, counts[i]])),
    telegramsPerSecond: Object.fromEntries(sides.map((s, i) => [s.name, Math.round(rate[i])])),
    baseline: sides[fastestBaseline].name,
    ratio: Number((rate[0] / rate[fastestBaseline]).toFixed(3)),
    ratioVsSmartmeterObis: Number((rate[0] / rate[2]).toFixed(3)),
    heapBytesPerTelegram: Object.fromEntries(sides.map((s, i) => [s.name, heap[i]])),
    extractorBound: bound,
    peakRssMb: Number((process.resourceUsage().maxRSS / 1024).toFixed(1)),
  };
  const out = (s: string) => process.stdout.write(s + '\n');
  out(`P1 decode: ${telegrams.length} published telegrams (${stream.length} bytes), ${n} decodes per side${gc ? '' : ' (run with --expose-gc for the heap figures)'}`);
  for (let i = 0; i < sides.length; i++) {
    out(`  ${sides[i].name.padEnd(16)} ${Math.round(rate[i]).toLocaleString('en').padStart(9)} telegrams/s  ${String(counts[i]).padStart(4)} values/stream  heap ${heap[i]} B/telegram`);
  }
  out(`  ratio            ${result.ratio} (p1 / ${result.baseline}, the fastest baseline); ${result.ratioVsSmartmeterObis} against smartmeter-obis`);
  out(`  junk             ${bound.junkMiB} MiB pushed: largest pending buffer ${bound.maxPendingBytes} bytes, RSS +${bound.rssGrowthMb} MB`);
  out(`  peak RSS         ${result.peakRssMb} MB`);
  out(JSON.stringify(result));
}

main();
