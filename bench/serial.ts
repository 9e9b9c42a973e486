/**
 * `npm run bench:serial`: wire utilisation of our Modbus RTU master (ModbusBus + ModbusSerialIO, as
 * ems-modbus-client runs it) on 32 meters sharing one serial line, at 9600 and 19200 baud 8E1.
 *
 * Per bus: socat links two pseudo-terminals; a child process serves the 32 simulated meters on one
 * end through the baud-paced line (lib/sim/serial: answers leave at the line rate, requests count
 * from when their last byte would have arrived, RTU frames end after t3.5); this process polls every
 * meter's plan blocks (planReads of its profile, profiles round-robin as in bench:modbus) in a loop,
 * all meters at once, so the bus queue is never empty. After a warm-up, the simulator marks the
 * start and end of BENCH_SECONDS of polling on its own clock and reports what its line recorded.
 *
 *   utilisation = time the line carried frames (requests + answers) / elapsed time
 *   theoretical = the same frames (those recorded in the window) with only the standard's mandatory
 *                 silences: request, t3.5 (the slave sees the request end), simulator turnaround (0),
 *                 answer, t3.5 (before the next request)
 *   ratio       = utilisation / theoretical
 *
 * Environment: BENCH_SECONDS (10), BENCH_WARMUP (2), BENCH_UNITS (32), BENCH_BAUDS (9600,19200),
 * EMS_SOCAT (path of socat). The last line of stdout is the figures as JSON.
 */
import { fork, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ModbusBus, ModbusSerialIO, loadProfile, planReads, pollMeter } from '../lib/protocols/modbus';
import { interFrameGapMs, charTimeMs } from '../lib/protocols/modbus/serial-timing';
import { ModbusMeterSimulator } from '../lib/sim/modbus-meter';
import { MbusSerial, ModbusRtuSerial, openPtyPair, type LineSettings, type PacedLine } from '../lib/sim/serial';
import { MbusSimulator, parseSlave, DEFAULT_SLAVES } from '../lib/sim/mbus';
import { MbusMaster, SerialTransport } from '../lib/protocols/mbus';

const PROFILES = ['eastron-sdm630', 'abb-a44', 'carlo-gavazzi-em24', 'schneider-iem3000', 'eastron-sdm120'];
const BITS = 11; // 8E1

function envNumber(name: string, fallback: number): number {
  const t = process.env[name];
  if (t === undefined || t === '') return fallback;
  const n = Number(t);
  if (!Number.isFinite(n) || n <= 0) throw new Error(`${name}=${JSON.stringify(t)} is not a positive number`);
  return n;
}

interface SimReport {
  elapsedMs: number; busyMs: number; utilisation: number; requests: number; rxFrames: number; txFrames: number;
  brokenFrames: number; collisions: number; maxTxLateMs: number; minGapMs: number; medianGapMs: number;
  /** Median silence from a request's end to the answer's start, ms (t3.5 + turnaround on Modbus). */
  medianAnswerGapMs: number;
}

// ---------------------------------------------------------------------------------------------
// simulator child: serves the meters on its end of the pty pair, marks and reports on request

async function simMain(): Promise<void> {
  const cfg = JSON.parse(process.env.BENCH_SERIAL_SIM!) as { kind: 'modbus' | 'mbus'; path: string; line: LineSettings; units: number };
  let serial: { line: PacedLine; close(): Promise<void> };
  if (cfg.kind === 'modbus') {
    const sim = new ModbusMeterSimulator({ units: Array.from({ length: cfg.units }, (_, i) => ({ unit: i + 1, profile: PROFILES[i % PROFILES.length] })) });
    serial = await ModbusRtuSerial.open(sim, cfg.path, cfg.line);
  } else {
    serial = await MbusSerial.open(new MbusSimulator({ slaves: mbusSlaves(cfg.units) }), cfg.path, cfg.line);
  }
  let from = 0;
  let spans0 = 0;
  let rx0 = 0;
  process.on('message', async (m: string) => {
    if (m === 'mark') {
      from = serial.line.now();
      spans0 = serial.line.rxGapsMs.length;
      rx0 = serial.line.stats.rxFrames;
      process.send!({ type: 'marked' });
    } else if (m === 'report') {
      const to = serial.line.now();
      const line = serial.line;
      const gaps = line.rxGapsMs.slice(spans0).filter((g) => Number.isFinite(g)).sort((a, b) => a - b);
      const spans = line.spans.filter((x) => x.start >= from);
      const answerGaps = spans.flatMap((x, i) => (i > 0 && x.dir === 'tx' && spans[i - 1].dir === 'rx' ? [x.start - spans[i - 1].end] : [])).sort((a, b) => a - b);
      const report: SimReport = {
        elapsedMs: to - from, busyMs: line.busyMs(from, to), utilisation: line.utilisation(from, to), requests: line.stats.rxFrames - rx0,
        rxFrames: line.stats.rxFrames, txFrames: line.stats.txFrames, brokenFrames: line.stats.brokenFrames,
        collisions: line.stats.collisions, maxTxLateMs: line.stats.maxTxLateMs,
        minGapMs: gaps[0] ?? NaN, medianGapMs: gaps[Math.floor(gaps.length / 2)] ?? NaN,
        medianAnswerGapMs: answerGaps[Math.floor(answerGaps.length / 2)] ?? NaN,
      };
      process.send!({ type: 'report', report });
    } else if (m === 'close') {
      await serial.close();
      process.exit(0);
    }
  });
  process.send!({ type: 'ready' });
}

/** `n` M-Bus slaves at primary addresses 1..n, the default telegrams round-robin. */
function mbusSlaves(n: number) {
  const names = DEFAULT_SLAVES.split(',').map((s) => s.split(':')[1]);
  return Array.from({ length: n }, (_, i) => parseSlave(`${i + 1}:${names[i % names.length]}:${String(11_000_000 + i + 1)}`));
}

// ---------------------------------------------------------------------------------------------
// orchestrator: the master side

function ask<T>(child: ChildProcess, msg: string, reply: string, timeoutMs = 15_000): Promise<T> {
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`the simulator did not answer "${msg}" within ${timeoutMs} ms`)), timeoutMs);
    const exited = () => { clearTimeout(t); reject(new Error(`the simulator exited while we waited for "${reply}"`)); };
    const on = (m: { type: string }) => {
      if (m.type !== reply) return;
      clearTimeout(t);
      child.off('message', on);
      child.off('exit', exited);
      resolve(m as T);
    };
    child.on('message', on);
    child.once('exit', exited);
    if (msg) child.send(msg);
  });
}

async function runBus(baud: number, units: number, seconds: number, warmup: number, socat: string) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ems-bench-serial-'));
  const pair = await openPtyPair(dir, socat);
  const line: LineSettings = { baudRate: baud, dataBits: 8, parity: 'even', stopBits: 1 };
  const child = fork(__filename, ['sim'], { env: { ...process.env, BENCH_SERIAL_SIM: JSON.stringify({ kind: 'modbus', path: pair.slave, line, units }) }, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const bus = new ModbusBus(new ModbusSerialIO({ transport: 'rtu', path: pair.master, baudRate: baud, parity: 'even', dataBits: 8, stopBits: 1 }),
    { baudRate: baud, bitsPerChar: BITS, timeout: 1000, retries: 1 });
  try {
    await ask(child, '', 'ready');
    const plans = Array.from({ length: units }, (_, i) => planReads(loadProfile(PROFILES[i % PROFILES.length])));
    let stop = false;
    let polls = 0;
    const errors = new Map<string, number>();
    const loops = plans.map(async (plan, i) => {
      while (!stop) {
        try {
          await pollMeter(bus, plan, { meter: `m${i + 1}`, unit: i + 1 });
          polls++;
        } catch (err) {
          const m = (err as Error).message;
          errors.set(m, (errors.get(m) ?? 0) + 1);
          await new Promise((r) => setTimeout(r, 100));
        }
      }
    });
    await new Promise((r) => setTimeout(r, warmup * 1000));
    await ask(child, 'mark', 'marked');
    const req0 = bus.stats.requests;
    const polls0 = polls;
    const t0 = performance.now();
    await new Promise((r) => setTimeout(r, seconds * 1000));
    const { report } = await ask<{ report: SimReport }>(child, 'report', 'report');
    const wall = (performance.now() - t0) / 1000;
    const requests = bus.stats.requests - req0;
    stop = true;
    await Promise.all(loops);
    // The same frames as recorded in the window, with only the mandatory silences: t3.5 before each answer
    // (the slave sees the request end), none for the simulator's turnaround, t3.5 before the next request.
    const theoretical = report.busyMs / (report.busyMs + report.requests * 2 * interFrameGapMs(baud, BITS));
    const ct = charTimeMs(baud, BITS);
    return {
      bus: `${baud} 8E1`, units, requestsPerSecond: requests / wall, pollsPerSecond: (polls - polls0) / wall,
      utilisation: report.utilisation, theoretical, ratio: report.utilisation / theoretical,
      minGapChars: report.minGapMs / ct, medianGapChars: report.medianGapMs / ct, medianAnswerGapChars: report.medianAnswerGapMs / ct, timeouts: bus.stats.timeouts,
      brokenFrames: report.brokenFrames, collisions: report.collisions, simMaxLateMs: report.maxTxLateMs,
      errors: [...errors.entries()].map(([m, n]) => `${n}x ${m}`),
    };
  } finally {
    await bus.close();
    if (child.connected) child.send('close');
    await new Promise((r) => { const t = setTimeout(r, 3000); child.once('exit', () => { clearTimeout(t); r(undefined); }); });
    if (child.exitCode === null) child.kill('SIGTERM');
    await pair.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * M-Bus at `baud` 8E1: `slaves` slaves read in turn by our MbusMaster (read(): REQ_UD2 and what it needs). The
 * theoretical figure keeps the recorded frames and adds only the standard's minimum silences per
 * request: the slave's 11 bit times before it answers, the master's 11 bit times before the next request.
 */
async function runMbus(baud: number, slaves: number, seconds: number, warmup: number, socat: string) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ems-bench-mbus-'));
  const pair = await openPtyPair(dir, socat);
  const line: LineSettings = { baudRate: baud, dataBits: 8, parity: 'even', stopBits: 1 };
  const child = fork(__filename, ['sim'], { env: { ...process.env, BENCH_SERIAL_SIM: JSON.stringify({ kind: 'mbus', path: pair.slave, line, units: slaves }) }, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const master = new MbusMaster(new SerialTransport({ kind: 'serial', path: pair.master, baudRate: baud, parity: 'even', dataBits: 8, stopBits: 1 }), { retries: 0 });
  try {
    await ask(child, '', 'ready');
    let stop = false;
    let reads = 0;
    const errors = new Map<string, number>();
    const loops = Array.from({ length: slaves }, async (_, i) => {
      while (!stop) {
        try {
          await master.read({ primary: i + 1 });
          reads++;
        } catch (err) {
          const m = (err as Error).message;
          errors.set(m, (errors.get(m) ?? 0) + 1);
        }
      }
    });
    await new Promise((r) => setTimeout(r, warmup * 1000));
    await ask(child, 'mark', 'marked');
    const reads0 = reads;
    const sent0 = master.stats.requests;
    const t0 = performance.now();
    await new Promise((r) => setTimeout(r, seconds * 1000));
    const { report } = await ask<{ report: SimReport }>(child, 'report', 'report');
    const wall = (performance.now() - t0) / 1000;
    const sent = master.stats.requests - sent0;
    stop = true;
    await Promise.all(loops);
    const bitMs = 1000 / baud;
    const theoretical = report.busyMs / (report.busyMs + report.requests * 2 * 11 * bitMs);
    const ct = 11 * bitMs;
    return {
      bus: `M-Bus ${baud} 8E1`, slaves, requestsPerSecond: report.requests / (report.elapsedMs / 1000), masterRequestsPerSecond: sent / wall, readsPerSecond: (reads - reads0) / wall,
      utilisation: report.utilisation, theoretical, ratio: report.utilisation / theoretical,
      minGapChars: report.minGapMs / ct, medianGapChars: report.medianGapMs / ct, timeouts: master.stats.timeouts,
      collisions: report.collisions, simMaxLateMs: report.maxTxLateMs, errors: [...errors.entries()].map(([m, n]) => `${n}x ${m}`),
    };
  } finally {
    await master.close();
    if (child.connected) child.send('close');
    await new Promise((r) => { const t = setTimeout(r, 3000); child.once('exit', () => { clearTimeout(t); r(undefined); }); });
    if (child.exitCode === null) child.kill('SIGTERM');
    await pair.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  const socat = process.env.EMS_SOCAT || 'socat';
  const seconds = envNumber('BENCH_SECONDS', 10);
  const warmup = envNumber('BENCH_WARMUP', 2);
  const units = Math.round(envNumber('BENCH_UNITS', 32));
  const bauds = (process.env.BENCH_BAUDS ?? '9600,19200').split(',').filter(Boolean).map(Number);
  const results = [];
  console.log(`32 Modbus RTU meters per bus, ${seconds} s per bus after ${warmup} s warm-up; profiles ${PROFILES.join(', ')}`);
  console.log('bus          reads/s  polls/s  utilisation  theoretical  ratio  min gap  median gap  answer gap  timeouts  broken  sim late');
  for (const baud of bauds) {
    const r = await runBus(baud, units, seconds, warmup, socat);
    results.push(r);
    const pct = (x: number) => `${(100 * x).toFixed(1)} %`;
    console.log(`${r.bus.padEnd(12)} ${r.requestsPerSecond.toFixed(1).padStart(7)}  ${r.pollsPerSecond.toFixed(2).padStart(7)}  ${pct(r.utilisation).padStart(11)}  ${pct(r.theoretical).padStart(11)}  ${r.ratio.toFixed(3)}  ${r.minGapChars.toFixed(2).padStart(5)} ch  ${r.medianGapChars.toFixed(2).padStart(7)} ch  ${r.medianAnswerGapChars.toFixed(2).padStart(7)} ch  ${String(r.timeouts).padStart(8)}  ${String(r.brokenFrames).padStart(6)}  ${r.simMaxLateMs.toFixed(2)} ms`);
    for (const e of r.errors.slice(0, 5)) console.log(`  error: ${e}`);
  }
  const mbusBauds = (process.env.BENCH_MBUS_BAUDS ?? '2400').split(',').filter(Boolean).map(Number);
  const slaves = Math.round(envNumber('BENCH_MBUS_SLAVES', 8));
  const mbus = [];
  if (mbusBauds.length) console.log(`\n${slaves} M-Bus slaves per bus, read in turn by MbusMaster.read (REQ_UD2, SND_NKE when the link needs a reset)\nbus              requests/s  reads/s  utilisation  theoretical  ratio  min gap  median gap  timeouts  sim late`);
  for (const baud of mbusBauds) {
    const r = await runMbus(baud, slaves, seconds, warmup, socat);
    mbus.push(r);
    const pct = (x: number) => `${(100 * x).toFixed(1)} %`;
    console.log(`${r.bus.padEnd(16)} ${r.requestsPerSecond.toFixed(1).padStart(10)}  ${r.readsPerSecond.toFixed(2).padStart(7)}  ${pct(r.utilisation).padStart(11)}  ${pct(r.theoretical).padStart(11)}  ${r.ratio.toFixed(3)}  ${r.minGapChars.toFixed(2).padStart(5)} ch  ${r.medianGapChars.toFixed(2).padStart(7)} ch  ${String(r.timeouts).padStart(8)}  ${r.simMaxLateMs.toFixed(2)} ms`);
    for (const e of r.errors.slice(0, 5)) console.log(`  error: ${e}`);
  }
  console.log(JSON.stringify({ bench: 'serial', results, mbus }));
}

if (process.argv[2] === 'sim') void simMain();
else main().catch((err) => { console.error(err); process.exit(1); });
