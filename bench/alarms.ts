/**
 * `npm run bench:alarms`: what evaluating alarm rules costs next to storing the same readings
 * (issue 19; goal: evaluation < 20% of storing).
 *
 * The EMS: openEmsServices (its database on ":memory:", or a temp file with BENCH_EMS_DB=file; no
 * alarm timer) with a test license for the meters, a tree root > SITES sites > FOLDERS halls of
 * METERS_PER_FOLDER meters each (100 x 100 = 10,000), made through the registry, and 1,000 rules:
 * power thresholds per meter, per hall and per site subtree, stale per hall and over the whole tree,
 * register_sanity, window_consumption (1h) and poll_failures per hall, anomaly on some meters.
 *
 * The stream: rounds of one 1-0:1.7.0 (kW) and one 1-0:1.8.0 (kWh) reading per meter, a round a
 * minute of the EMS clock (the meters' interval_time), in batches of BATCH readings (ems-store-write's
 * size). 0.5% of the meters never report (stale alarms); rare power spikes and register glitches
 * raise and clear alarms. Per batch, in alternating order, the same readings go to
 *   store   SqliteStore.write (lib/store/sqlite.ts, a temp file): the baseline
 *   alarms  AlarmService.onReadings, plus tick() whenever 30 s of the EMS clock have passed
 *           (the service's own timer interval)
 * A repetition is ROUNDS rounds; the first is a warm-up. Figures are medians over the repetitions;
 * the ratio is alarms time / store time per repetition. A tick at the end of an hour also evaluates
 * the window_consumption and anomaly rules against the store (storeConsumption): it is timed on its
 * own and set against the time to store an hour of readings.
 *
 * Memory: each side runs the same stream alone in its own process (--expose-gc): the heap growth
 * kept after a GC, the peak heap growth and the peak RSS growth, over the side's set-up state.
 *
 * Environment: BENCH_FOLDERS (100), BENCH_METERS_PER_FOLDER (100), BENCH_ROUNDS (10 per repetition),
 * BENCH_REPS (5, plus the warm-up), BENCH_BATCH (5000), BENCH_MEMORY=0 (skip the memory processes),
 * BENCH_EMS_DB=file. The last line of stdout is JSON.
 */
import { fork } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Reading } from '../lib/model';
import { storeConsumption } from '../lib/ems/alarms/consumption';
import { lastWindow } from '../lib/ems/alarms/evaluate';
import { WINDOW_SETTLE_MS } from '../lib/ems/alarms/service';
import { generateLicenseKeys, signLicense } from '../lib/ems/license';
import { openEmsServices, type EmsServices } from '../lib/ems/services';
import { SqliteStore } from '../lib/store/sqlite';

const envNumber = (name: string, fallback: number) => {
  const v = Number(process.env[name] || fallback);
  if (!Number.isFinite(v) || v <= 0) throw new Error(`${name} must be a positive number`);
  return v;
};
const FOLDERS = envNumber('BENCH_FOLDERS', 100);
const METERS_PER_FOLDER = envNumber('BENCH_METERS_PER_FOLDER', 100);
const ROUNDS = envNumber('BENCH_ROUNDS', 10);
const REPS = envNumber('BENCH_REPS', 5);
const BATCH = envNumber('BENCH_BATCH', 5000);
const SITES = Math.min(10, FOLDERS);
const METERS = FOLDERS * METERS_PER_FOLDER;
const TOTAL_RULES = 1000;

const ROUND_MS = 60_000;
/** The stream starts 15 s into an hour and ends 15 s after the end of an hour, so its last tick is at a window end. */
const T0 = Date.parse('2026-12-07T11:00:15Z') - (REPS + 1) * ROUNDS * ROUND_MS;
const TICK_MS = 30_000;
const POWER = '1-0:1.7.0';
const ENERGY = '1-0:1.8.0';
const TIME_ZONE = 'UTC';

const meterId = (i: number) => `m${String(i).padStart(5, '0')}`;
const silent = (i: number) => i % 200 === 199;
const basePowerKw = (i: number) => 5 + ((i * 37) % 41);

/** A deterministic number in [0, 1) per (meter, round, salt). */
function noise(i: number, round: number, salt: number): number {
  let h = Math.imul(i + 1, 0x9e3779b1) ^ Math.imul(round + 1, 0x85ebca6b) ^ Math.imul(salt + 1, 0xc2b2ae35);
  h = Math.imul(h ^ (h >>> 16), 0x7feb352d);
  h = Math.imul(h ^ (h >>> 15), 0x846ca68b);
  return ((h ^ (h >>> 16)) >>> 0) / 4294967296;
}

const reporting = Array.from({ length: METERS }, (_, i) => i).filter((i) => !silent(i));

/** The readings of one round, in poll order: a meter's time spreads over the round's minute. */
function roundReadings(round: number): Reading[] {
  const start = T0 + round * ROUND_MS;
  const out: Reading[] = [];
  reporting.forEach((i, p) => {
    const time = start + Math.floor((p * ROUND_MS) / reporting.length);
    const base = basePowerKw(i);
    const spike = noise(i, round, 1) > 0.998;
    const power = spike ? base * 1.5 : base * (0.9 + 0.2 * noise(i, round, 2));
    const energy = 1000 + ((i * 7919) % 100_000) + (base * (time - T0)) / 3_600_000;
    const glitch = noise(i, round, 3) > 0.9998;
    out.push({ meter: meterId(i), time, obis: POWER, value: Math.round(power * 1000) / 1000, unit: 'kW' });
    out.push({ meter: meterId(i), time, obis: ENERGY, value: Math.round((glitch ? energy - 10 : energy) * 1000) / 1000, unit: 'kWh' });
  });
  return out;
}

interface Step { readings: Reading[]; clock: number }

/** The batches of a repetition, each with the EMS clock at its arrival (its last reading). */
function* stream(rep: number): Generator<Step> {
  for (let r = rep * ROUNDS; r < (rep + 1) * ROUNDS; r++) {
    const all = roundReadings(r);
    for (let k = 0; k < all.length; k += BATCH) {
      const readings = all.slice(k, k + BATCH);
      yield { readings, clock: readings[readings.length - 1].time };
    }
  }
}

// ---- the EMS ----

interface Ems { services: EmsServices; setupMs: { meters: number; rules: number; firstTick: number }; ruleMix: Record<string, number> }

async function openEms(dir: string, store: SqliteStore): Promise<Ems & { clock: { now: number } }> {
  const clock = { now: T0 - 1000 };
  const keys = generateLicenseKeys();
  const services = await openEmsServices({
    file: process.env.BENCH_EMS_DB === 'file' ? path.join(dir, 'ems.sqlite') : ':memory:',
    env: { EMS_ADMIN_USER: 'admin', EMS_ADMIN_PASSWORD: 'Evaluate-1000-rules-2026' },
    licensePublicKey: keys.publicKey, alarmTickMs: 0, timeZone: TIME_ZONE, now: () => clock.now,
  });
  services.license.upload(JSON.stringify(signLicense({ id: 'bench', customer: 'bench', activation_date: '2026-01-01', expiration_date: '2027-12-31', meter_limit: METERS, issued_at: '2026-01-01' }, keys.privateKey)));
  services.alarms.setConsumption(storeConsumption(() => store, TIME_ZONE));
  const { registry, alarms } = services;

  let t = performance.now();
  const root = registry.createFolder({ name: 'Company' })._id;
  const sites: string[] = [];
  const halls: string[] = [];
  const hallMeters: number[][] = [];
  services.db.transaction(() => {
    for (let s = 0; s < SITES; s++) sites.push(registry.createFolder({ name: `Site ${s + 1}`, parent_id: root })._id);
    for (let f = 0; f < FOLDERS; f++) {
      halls.push(registry.createFolder({ name: `Hall ${f + 1}`, parent_id: sites[f % SITES] })._id);
      hallMeters.push([]);
      for (let k = 0; k < METERS_PER_FOLDER; k++) {
        const i = f * METERS_PER_FOLDER + k;
        registry.createMeter({ name: `Meter ${i}`, folder_id: halls[f], protocol: 'modbus-tcp', profile: 'eastron-sdm630', interval_time: 60 }, undefined, meterId(i));
        hallMeters[f].push(i);
      }
    }
  })();
  const metersMs = performance.now() - t;

  t = performance.now();
  const mix: Record<string, number> = {};
  const rule = (kind: string, body: Record<string, unknown>) => {
    alarms.createRule({ name: `${kind} ${(mix[kind] = (mix[kind] ?? 0) + 1)}`, ...body }, 'bench');
  };
  const power = (direction: 'above' | 'below', value: number) => ({ type: 'threshold', obis: POWER, direction, value, unit: 'kW' });
  services.db.transaction(() => {
    halls.forEach((hall, f) => {
      rule('threshold hall', { subject: { folder: hall, scope: 'folder' }, condition: power('above', 60), severity: 'warning' });
      rule('stale hall', { subject: { folder: hall }, condition: { type: 'stale', intervals: 3 } });
      rule('register_sanity hall', { subject: { folder: hall }, condition: { type: 'register_sanity' } });
      rule('window_consumption hall', { subject: { folder: hall }, condition: { type: 'window_consumption', window: '1h', above: 44 } });
      rule('poll_failures hall', { subject: { folder: hall }, condition: { type: 'poll_failures', count: 3 } });
      if (f < 40) rule('anomaly meter', { subject: { meter: meterId(hallMeters[f][0]) }, condition: { type: 'anomaly', weeks: 4, factor: 2, min: 1 } });
    });
    for (const site of sites) rule('threshold site', { subject: { folder: site }, condition: power('above', 80), severity: 'critical' });
    rule('stale tree', { subject: { folder: root }, condition: { type: 'stale', intervals: 10 }, severity: 'critical' });
    // The rest: a peak limit per meter (30% over its usual power), spread over the tree.
    const left = TOTAL_RULES - Object.values(mix).reduce((a, b) => a + b, 0);
    for (let k = 0; k < left; k++) {
      const i = Math.floor((k * METERS) / left);
      rule('threshold meter', { subject: { meter: meterId(i) }, condition: power('above', Math.round(basePowerKw(i) * 1.3)), clear_after_s: 120 });
    }
  })();
  const rulesMs = performance.now() - t;
  // The first tick evaluates the window before the stream (no data yet) and builds the subject lists.
  clock.now = T0 - 1000;
  t = performance.now();
  await alarms.tick();
  const firstTick = performance.now() - t;
  return { services, clock, setupMs: { meters: metersMs, rules: rulesMs, firstTick }, ruleMix: mix };
}

/** Calls tick() whenever the clock passed 30 s since the last; says whether it was at a window end. */
function ticker(ems: { services: EmsServices; clock: { now: number } }) {
  let next = T0 + TICK_MS;
  // The service evaluates a window WINDOW_SETTLE_MS after its end: that tick is the window end's.
  const settledEnd = () => lastWindow('1h', ems.clock.now - WINDOW_SETTLE_MS, TIME_ZONE).to;
  let windowEnd = lastWindow('1h', T0 - WINDOW_SETTLE_MS, TIME_ZONE).to;
  const run = async (onTick: (ms: number, atWindowEnd: boolean) => void) => {
    const end = settledEnd();
    const atWindowEnd = end !== windowEnd;
    windowEnd = end;
    const t = performance.now();
    await ems.services.alarms.tick();
    onTick(performance.now() - t, atWindowEnd);
  };
  return {
    /** Ticks when 30 s have passed since the last tick. */
    due: async (onTick: (ms: number, atWindowEnd: boolean) => void) => {
      if (ems.clock.now < next) return;
      next += TICK_MS;
      await run(onTick);
    },
    /** Ticks at the end of the stream, once the hour that just ended has settled: that hour is evaluated. */
    atWindowEnd: (onTick: (ms: number) => void) => {
      ems.clock.now = Math.max(ems.clock.now, lastWindow('1h', ems.clock.now, TIME_ZONE).to + WINDOW_SETTLE_MS);
      return run(onTick);
    },
  };
}

function openAlarms(services: EmsServices): number {
  return (services.db.prepare("SELECT COUNT(*) AS n FROM alarms WHERE state IN ('raised', 'acknowledged')").get() as { n: number }).n;
}
function transitions(services: EmsServices): number {
  return (services.db.prepare("SELECT COUNT(*) AS n FROM events WHERE kind = 'alarm'").get() as { n: number }).n;
}

// ---- timing (both sides in this process, batch by batch) ----

interface RepFigures {
  readings: number;
  /** Wall and CPU (process user + system) time of each side. */
  storeMs: number; storeCpuMs: number; alarmsMs: number; alarmsCpuMs: number;
  onReadingsMs: number; ticks: number[];
}

/** Runs fn, adding its wall and CPU milliseconds to the counters. */
async function timed(fn: () => Promise<unknown>, add: (wallMs: number, cpuMs: number) => void): Promise<void> {
  const cpu = process.cpuUsage();
  const t = performance.now();
  await fn();
  const wall = performance.now() - t;
  const used = process.cpuUsage(cpu);
  add(wall, (used.user + used.system) / 1000);
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length === 0 ? NaN : s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};
const fmt = (n: number, digits = 0) => n.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
const mib = (bytes: number) => bytes / 1048576;

async function timing(dir: string) {
  const store = new SqliteStore({ path: path.join(dir, 'readings.sqlite') });
  const ems = await openEms(dir, store);
  const { services, clock } = ems;
  const tick = ticker(ems);
  const reps: RepFigures[] = [];
  const windowEndTicks: number[] = [];
  let batchNo = 0;
  for (let rep = 0; rep <= REPS; rep++) {
    (globalThis as { gc?: () => void }).gc?.();
    const fig: RepFigures = { readings: 0, storeMs: 0, storeCpuMs: 0, alarmsMs: 0, alarmsCpuMs: 0, onReadingsMs: 0, ticks: [] };
    for (const { readings, clock: at } of stream(rep)) {
      clock.now = at;
      const storeSide = () => timed(() => store.write(readings), (wall, cpu) => { fig.storeMs += wall; fig.storeCpuMs += cpu; });
      const alarmsSide = () => timed(() => services.alarms.onReadings(readings), (wall, cpu) => { fig.onReadingsMs += wall; fig.alarmsMs += wall; fig.alarmsCpuMs += cpu; });
      if (batchNo++ % 2 === 0) { await storeSide(); await alarmsSide(); } else { await alarmsSide(); await storeSide(); }
      fig.readings += readings.length;
      let ticked: { ms: number; atWindowEnd: boolean } | undefined;
      await timed(() => tick.due((ms, atWindowEnd) => { ticked = { ms, atWindowEnd }; }), (wall, cpu) => {
        if (!ticked) return; // no tick was due
        if (ticked.atWindowEnd) windowEndTicks.push(ticked.ms);
        else { fig.ticks.push(ticked.ms); fig.alarmsMs += wall; fig.alarmsCpuMs += cpu; }
      });
    }
    reps.push(fig);
    console.log(`  ${rep === 0 ? 'warm-up' : `rep ${rep}  `}  store ${fmt(fig.readings / (fig.storeMs / 1000)).padStart(9)} readings/s  alarms ${fmt(fig.readings / (fig.alarmsMs / 1000)).padStart(9)} readings/s` +
      `  (onReadings ${fmt(fig.onReadingsMs)} ms + ${fig.ticks.length} ticks ${fmt(fig.ticks.reduce((a, b) => a + b, 0))} ms)` +
      `  ratio ${(100 * fig.alarmsMs / fig.storeMs).toFixed(1)}% (CPU ${(100 * fig.alarmsCpuMs / fig.storeCpuMs).toFixed(1)}%)`);
  }
  // The alarms the stream left (counted before the clock jumps to the settled hour end, which makes every meter stale).
  const open = openAlarms(services);
  const logged = transitions(services);
  // The stream ended just after an hour's end: the tick that evaluates that hour once it settled (the store holds it).
  await tick.atWindowEnd((ms) => windowEndTicks.push(ms));
  const result = { reps, windowEndTicks, setupMs: ems.setupMs, ruleMix: ems.ruleMix, openAlarms: open, transitions: logged };
  services.close();
  await store.close();
  return result;
}

// ---- memory (one side alone in its own process) ----

type Side = 'store' | 'alarms';
interface MemoryFigures { side: Side; retainedHeap: number; peakHeap: number; peakRss: number }

async function memoryWorker(side: Side): Promise<void> {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (!gc) throw new Error('the memory worker needs --expose-gc');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `ems-bench-alarms-${side}-`));
  try {
    // The alarms side's consumption queries go to an empty store: only the alarm service's memory counts.
    const store = new SqliteStore({ path: side === 'store' ? path.join(dir, 'readings.sqlite') : ':memory:' });
    const ems = side === 'alarms' ? await openEms(dir, store) : undefined;
    const tick = ems ? ticker(ems) : undefined;
    gc();
    const base = process.memoryUsage();
    let peakHeap = base.heapUsed;
    let peakRss = base.rss;
    for (let rep = 0; rep <= REPS; rep++) {
      for (const { readings, clock } of stream(rep)) {
        if (ems) {
          ems.clock.now = clock;
          await ems.services.alarms.onReadings(readings);
          await tick!.due(() => undefined);
        } else await store.write(readings);
        const m = process.memoryUsage();
        peakHeap = Math.max(peakHeap, m.heapUsed);
        peakRss = Math.max(peakRss, m.rss);
      }
    }
    gc();
    const after = process.memoryUsage();
    const figures: MemoryFigures = { side, retainedHeap: after.heapUsed - base.heapUsed, peakHeap: peakHeap - base.heapUsed, peakRss: Math.max(peakRss, after.rss) - base.rss };
    process.send!(figures);
    ems?.services.close();
    await store.close();
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

function runMemoryWorker(side: Side): Promise<MemoryFigures> {
  const child = fork(__filename, ['memory', side], { execArgv: ['--expose-gc'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  return new Promise((resolve, reject) => {
    let figures: MemoryFigures | undefined;
    child.on('message', (m: MemoryFigures) => { figures = m; });
    child.once('exit', (code) => (figures ? resolve(figures) : reject(new Error(`memory worker (${side}) exited with ${code}`))));
  });
}

// ---- report ----

async function main(): Promise<void> {
  const perRound = reporting.length * 2;
  console.log(`alarm evaluation bench: ${fmt(METERS)} meters (${SITES} sites, ${FOLDERS} halls x ${METERS_PER_FOLDER}; ${METERS - reporting.length} never report), ${TOTAL_RULES} rules, ` +
    `${fmt(perRound)} readings a round (${POWER} kW, ${ENERGY} kWh), batches of ${fmt(BATCH)}, ${ROUNDS} rounds a repetition, ${REPS} repetitions after a warm-up; node ${process.version}, ${os.cpus().length} CPUs`);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ems-bench-alarms-'));
  let r: Awaited<ReturnType<typeof timing>>;
  try {
    r = await timing(dir);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
  console.log(`  rules: ${Object.entries(r.ruleMix).map(([k, n]) => `${n} ${k}`).join(', ')}`);
  console.log(`  set-up: ${fmt(METERS)} meters ${fmt(r.setupMs.meters)} ms, ${TOTAL_RULES} rules ${fmt(r.setupMs.rules)} ms, first tick ${fmt(r.setupMs.firstTick)} ms; ` +
    `after the stream ${r.openAlarms} alarms open, ${r.transitions} transitions logged`);

  const measured = r.reps.slice(1);
  const storeRate = median(measured.map((f) => f.readings / (f.storeMs / 1000)));
  const alarmsRate = median(measured.map((f) => f.readings / (f.alarmsMs / 1000)));
  const onReadingsRate = median(measured.map((f) => f.readings / (f.onReadingsMs / 1000)));
  const ratio = median(measured.map((f) => f.alarmsMs / f.storeMs));
  const cpuRatio = median(measured.map((f) => f.alarmsCpuMs / f.storeCpuMs));
  const tickMs = median(measured.flatMap((f) => f.ticks));
  const windowEndMs = median(r.windowEndTicks);
  const hourOfReadings = perRound * (3_600_000 / ROUND_MS);
  const windowEndShare = windowEndMs / ((hourOfReadings / storeRate) * 1000);
  console.log('');
  console.log(`store (SqliteStore.write)      ${fmt(storeRate).padStart(9)} readings/s`);
  console.log(`alarms (onReadings + ticks)    ${fmt(alarmsRate).padStart(9)} readings/s  (onReadings alone ${fmt(onReadingsRate)} readings/s)`);
  console.log(`ratio alarms/store time        ${(100 * ratio).toFixed(1).padStart(8)}%   (goal < 20%: ${ratio < 0.2 ? 'met' : 'NOT met'}; CPU time ${(100 * cpuRatio).toFixed(1)}%)`);
  console.log(`tick (${fmt(METERS)} meters, stale rules, pending delays)   ${fmt(tickMs, 1)} ms`);
  console.log(`tick at an hour's end (+ window_consumption, anomaly on the store)   ${fmt(windowEndMs)} ms = ${(100 * windowEndShare).toFixed(1)}% of storing an hour of readings (${fmt(hourOfReadings)})`);

  let memory: MemoryFigures[] = [];
  if (process.env.BENCH_MEMORY !== '0') {
    memory = [await runMemoryWorker('store'), await runMemoryWorker('alarms')];
    console.log('');
    console.log('memory, each side alone over the same stream   retained heap   peak heap   peak RSS (growth, MiB)');
    for (const m of memory) console.log(`  ${m.side.padEnd(45)} ${fmt(mib(m.retainedHeap), 1).padStart(13)} ${fmt(mib(m.peakHeap), 1).padStart(11)} ${fmt(mib(m.peakRss), 1).padStart(10)}`);
  }
  const round1 = (x: number) => Math.round(x * 10) / 10;
  console.log(JSON.stringify({
    bench: 'alarms', meters: METERS, rules: TOTAL_RULES, ruleMix: r.ruleMix, readingsPerRep: measured[0]?.readings, reps: REPS, batch: BATCH, nodeVersion: process.version,
    storeReadingsPerSec: Math.round(storeRate), alarmsReadingsPerSec: Math.round(alarmsRate), onReadingsReadingsPerSec: Math.round(onReadingsRate),
    ratio: Number(ratio.toFixed(3)), cpuRatio: Number(cpuRatio.toFixed(3)), goalMet: ratio < 0.2, tickMs: round1(tickMs), windowEndTickMs: Math.round(windowEndMs), windowEndShareOfHourStore: Number(windowEndShare.toFixed(3)),
    ratiosPerRep: measured.map((f) => Number((f.alarmsMs / f.storeMs).toFixed(3))), cpuRatiosPerRep: measured.map((f) => Number((f.alarmsCpuMs / f.storeCpuMs).toFixed(3))),
    setupMs: Object.fromEntries(Object.entries(r.setupMs).map(([k, v]) => [k, Math.round(v)])), openAlarms: r.openAlarms, transitions: r.transitions,
    memoryMiB: Object.fromEntries(memory.map((m) => [m.side, { retainedHeap: round1(mib(m.retainedHeap)), peakHeap: round1(mib(m.peakHeap)), peakRss: round1(mib(m.peakRss)) }])),
  }));
}

const mode = process.argv[2];
(mode === 'memory' ? memoryWorker(process.argv[3] as Side) : main()).catch((err: Error) => {
  console.error(`bench:alarms${mode ? ` ${mode}` : ''}: ${err.stack ?? err.message}`);
  process.exit(1);
});
