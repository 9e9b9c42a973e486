/**
 * `npm run bench:sml`: SML telegrams decoded per second by our decoder beside smartmeter-obis in the
 * same run, on the same bytes: every good frame of the real telegrams in test/fixtures/sml (ten meter
 * models). Sides, each from the raw frame bytes to scaled values:
 *   ours             decodeCapture (frame search, escapes, frame and message CRCs, messages) + toReadings
 *   open-sml         SmlFile.parse (the parser inside smartmeter-obis, message CRCs) + value x 10^scaler per entry
 *   smartmeter-obis  SmlProtocol.handleMessage (hex + regex framing, open-sml, ObisMeasurement per entry)
 * Rounds rotate which side runs first. BENCH_ROUNDS (default 100; a round decodes every frame 20 times).
 * Memory: heap retained per decoded telegram (1000 results kept, after gc) and peak RSS of the run.
 * The last line of stdout is JSON.
 */
import fs from 'node:fs';
import path from 'node:path';
import { decodeCapture, toReadings } from '../lib/protocols/sml';

const ROOT = path.resolve(__dirname, '..', '..');
const REPEAT = 20;
/* eslint-disable @typescript-eslint/no-require-imports, @typescript-eslint/no-explicit-any */
const OpenSml = require('open-sml');
const SmlProtocol = require('smartmeter-obis/lib/protocols/SmlProtocol');

function corpus(): Buffer[] {
  const dir = path.join(ROOT, 'test', 'fixtures', 'sml');
  const frames: Buffer[] = [];
  for (const f of fs.readdirSync(dir).filter((x) => x.endsWith('.hex')).sort()) {
    const bytes = Buffer.from(fs.readFileSync(path.join(dir, f), 'utf8').replace(/\s/g, ''), 'hex');
    for (const e of decodeCapture(bytes)) {
      if (!e.telegram) continue;
      // A buffer of its own at byteOffset 0: open-sml reads Buffer#offset (the byteOffset) as its own cursor.
      const own = Buffer.alloc(e.telegram.frame.raw.length);
      e.telegram.frame.raw.copy(own);
      frames.push(own);
    }
  }
  return frames;
}

const sides: Record<string, (raw: Buffer) => number> = {
  ours: (raw) => {
    let n = 0;
    for (const e of decodeCapture(raw)) if (e.telegram) n += toReadings(e.telegram.messages, { now: 0 }).length;
    return n;
  },
  'open-sml': (raw) => {
    const file = new OpenSml.SmlFile();
    file.parse(raw);
    let n = 0;
    for (const m of file.messages) {
      if (m.getMessageTag() !== OpenSml.Constants.GET_LIST_RESPONSE || !m.isValid()) continue;
      const list = m.getMessageBody().getValList();
      for (let i = 0; i < list.getLength(); i++) {
        const e = list.getListEntryAt(i);
        const v = e.getValue();
        if (typeof v === 'number') { n += v * 10 ** (e.getScaler() || 0) === v * 10 ** (e.getScaler() || 0) ? 1 : 0; }
      }
    }
    return n;
  },
  'smartmeter-obis': (raw) => {
    let n = 0;
    new SmlProtocol({ debug: 0, logger: () => undefined }, (err: unknown, r: any) => { if (!err) n = Object.keys(r).length; }).handleMessage(raw);
    return n;
  },
};

function retainedPerTelegram(decode: (raw: Buffer) => unknown, frames: Buffer[]): number {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (!gc) return NaN;
  gc(); gc();
  const before = process.memoryUsage().heapUsed;
  const keep: unknown[] = [];
  for (let i = 0; i < 1000; i++) keep.push(decode(frames[i % frames.length]));
  gc(); gc();
  const after = process.memoryUsage().heapUsed;
  return keep.length ? (after - before) / keep.length : 0;
}

function main(): void {
  const rounds = Number(process.env.BENCH_ROUNDS || 100);
  const frames = corpus();
  const bytes = frames.reduce((s, f) => s + f.length, 0);
  const names = Object.keys(sides);
  const ns: Record<string, bigint> = Object.fromEntries(names.map((n) => [n, 0n]));
  let sink = 0;
  for (let r = 0; r < rounds; r++) {
    for (let k = 0; k < names.length; k++) {
      const name = names[(r + k) % names.length];
      const t0 = process.hrtime.bigint();
      for (let i = 0; i < REPEAT; i++) for (const f of frames) sink += sides[name](f);
      ns[name] += process.hrtime.bigint() - t0;
    }
  }
  const n = rounds * REPEAT * frames.length;
  const rate = (name: string) => n / (Number(ns[name]) / 1e9);
  const fastestTheirs = rate('open-sml') >= rate('smartmeter-obis') ? 'open-sml' : 'smartmeter-obis';
  // Retained heap: what each side's result keeps alive (ours: telegram with messages and readings).
  const keepOurs = (raw: Buffer) => decodeCapture(raw).map((e) => (e.telegram ? { t: e.telegram, r: toReadings(e.telegram.messages, { now: 0 }) } : e));
  const keepOpen = (raw: Buffer) => { const f = new OpenSml.SmlFile(); f.parse(raw); return f; };
  const keepSmo = (raw: Buffer) => { let out: unknown; new SmlProtocol({ debug: 0, logger: () => undefined }, (_e: unknown, r: unknown) => { out = r; }).handleMessage(raw); return out; };
  const retained = { ours: retainedPerTelegram(keepOurs, frames), 'open-sml': retainedPerTelegram(keepOpen, frames), 'smartmeter-obis': retainedPerTelegram(keepSmo, frames) };
  const result = {
    frames: frames.length, bytes, decodesPerSide: n,
    telegramsPerSecond: Object.fromEntries(names.map((x) => [x, Math.round(rate(x))])),
    ratioVsFastest: Number((rate('ours') / rate(fastestTheirs)).toFixed(2)), fastestTheirs,
    ratioVsSmartmeterObis: Number((rate('ours') / rate('smartmeter-obis')).toFixed(2)),
    retainedBytesPerTelegram: Object.fromEntries(Object.entries(retained).map(([k, v]) => [k, Math.round(v)])),
    peakRssMb: Number((process.resourceUsage().maxRSS / 1024).toFixed(1)), checksum: sink,
  };
  const out = process.stdout;
  out.write(`SML decode: ${frames.length} real frames of 10 meter models (${bytes} bytes), ${n} decodes per side\n`);
  for (const x of names) out.write(`  ${x.padEnd(16)} ${result.telegramsPerSecond[x].toLocaleString('en').padStart(9)} telegrams/s   retained ${result.retainedBytesPerTelegram[x as keyof typeof retained]} B/telegram\n`);
  out.write(`  ratio ours / ${fastestTheirs} (fastest of theirs) ${result.ratioVsFastest}; ours / smartmeter-obis ${result.ratioVsSmartmeterObis}\n  peak RSS ${result.peakRssMb} MB\n`);
  out.write(JSON.stringify(result) + '\n');
}

main();
