/**
 * `npm run bench:mbus`: M-Bus telegrams decoded per second (decodeTelegram: frame checks, header and
 * every record) over every real telegram of test/fixtures/mbus/telegrams.json and test/fixtures/mbus/real/*.json
 * (libmbus, pyMeterBus, m-bus-parser and wmbusmeters test suites), against what
 * the decoder keeps up with: the time the same frames take on an M-Bus line at 2400 baud 8E1 (11 bits
 * a character, EN 13757-2), the speed most meters run at. The ratio wire time / decode time says how
 * many fully loaded 2400-baud buses one core decodes; decode CPU per frame is given beside it (steadier
 * than frames/s on a busy machine). BENCH_ROUNDS sets the rounds (default 200; each round decodes every
 * frame 20 times); BENCH_BAUD another line speed. Prints frames/s, the ratio and peak RSS; the last
 * line of stdout is JSON.
 */
import fs from 'node:fs';
import path from 'node:path';
import { decodeTelegram } from '../lib/protocols/mbus/telegram';
import { parseHex } from '../lib/protocols/mbus/frame';
import { charMs, describeLine, parseLine } from '../lib/sim/serial/line';

const ROOT = path.resolve(__dirname, '..', '..');
const REPEAT = 20;

function envNumber(name: string, fallback: number): number {
  const v = process.env[name];
  if (v === undefined || v === '') return fallback;
  const n = Number(v);
  if (!Number.isInteger(n) || n <= 0) throw new Error(`${name} must be a positive whole number, got ${JSON.stringify(v)}`);
  return n;
}

/** Every telegram of the fixture files (a frame the decoder refuses would be a test failure, not a bench input). */
function corpusFrames(): Buffer[] {
  const dir = path.join(ROOT, 'test/fixtures/mbus');
  const files = [path.join(dir, 'telegrams.json'), ...fs.readdirSync(path.join(dir, 'real')).filter((f) => f.endsWith('.json')).sort().map((f) => path.join(dir, 'real', f))];
  const frames: Buffer[] = [];
  for (const file of files) {
    for (const t of (JSON.parse(fs.readFileSync(file, 'utf8')) as { telegrams: { hex: string }[] }).telegrams) {
      const frame = parseHex(t.hex);
      decodeTelegram(frame); // throws on a frame that does not decode: the corpus is all valid
      frames.push(frame);
    }
  }
  return frames;
}

function main(): void {
  const rounds = envNumber('BENCH_ROUNDS', 200);
  const line = parseLine('8E1', envNumber('BENCH_BAUD', 2400));
  const frames = corpusFrames();
  const bytes = frames.reduce((s, f) => s + f.length, 0);
  let decodeNs = 0n, records = 0;
  const cpu0 = process.cpuUsage();
  for (let r = 0; r < rounds; r++) {
    const t0 = process.hrtime.bigint();
    for (let k = 0; k < REPEAT; k++) for (const f of frames) records += decodeTelegram(f).records.length;
    decodeNs += process.hrtime.bigint() - t0;
  }
  const cpu = process.cpuUsage(cpu0);
  const n = rounds * REPEAT * frames.length;
  const decodeMsPerFrame = Number(decodeNs) / 1e6 / n;
  const cpuUsPerFrame = (cpu.user + cpu.system) / n;
  // The corpus once on the wire: every byte one character, back to back (no gaps: the line's best case).
  const wireMsPerFrame = (bytes * charMs(line)) / frames.length;
  const peakRssMb = process.resourceUsage().maxRSS / 1024;
  const result = {
    frames: frames.length, bytesPerRound: bytes, decoded: n, recordsPerFrame: records / n, line: describeLine(line),
    decoderFramesPerSecond: Math.round(1000 / decodeMsPerFrame), wireFramesPerSecond: Number((1000 / wireMsPerFrame).toFixed(2)),
    decodeUsPerFrame: Number((decodeMsPerFrame * 1000).toFixed(2)), cpuUsPerFrame: Number(cpuUsPerFrame.toFixed(2)), wireMsPerFrame: Number(wireMsPerFrame.toFixed(1)),
    ratio: Math.round(wireMsPerFrame / decodeMsPerFrame), peakRssMb: Number(peakRssMb.toFixed(1)),
  };
  process.stdout.write(`M-Bus decode: ${frames.length} real telegrams (${bytes} bytes, ${(bytes / frames.length).toFixed(0)} a frame), ${n} decodes\n`);
  process.stdout.write(`  decoder   ${result.decoderFramesPerSecond.toLocaleString('en')} frames/s, ${result.decodeUsPerFrame} us a frame (CPU ${result.cpuUsPerFrame} us), ${result.recordsPerFrame.toFixed(1)} records a frame\n`);
  process.stdout.write(`  the wire  ${result.wireFramesPerSecond} frames/s at ${result.line}, ${result.wireMsPerFrame} ms a frame\n`);
  process.stdout.write(`  ratio     ${result.ratio.toLocaleString('en')} (wire time / decode time: fully loaded ${result.line} buses one core decodes)\n  peak RSS  ${result.peakRssMb} MB\n`);
  process.stdout.write(JSON.stringify(result) + '\n');
}

main();
