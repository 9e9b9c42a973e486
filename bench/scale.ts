// npm run bench:scale: the shipped EMS polling a fleet of simulated Modbus TCP meters, measured from outside, next to
// the bare library polling the same meters on the same schedule against the same simulators in the same run
// (bench/README.md, "bench:scale"). Sides run one after another (bare, ems, bare by default); ratios are ems/bare.
import { fork, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { BareConfig, FromBare } from './scale-bare';
import {
  ENERGY, envNumber, installCleanup, layoutMeters, mib, parseSizes, procCpuMs, procMemory, quantile, sleep, stopChild,
  timedJson, track, trackDir, until, within, type ScaleMeter, type ScaleSize,
} from './scale-common';
import { createMeters, openDashboard, startEms, type Creation, type RunningEms } from './scale-ems';
import { pollFigures, startSims, type RunningSims } from './scale-sims';

const UNITS_PER_PORT = envNumber('BENCH_SCALE_UNITS_PER_PORT', 200, 1);
const WARMUP = envNumber('BENCH_SCALE_WARMUP', 1); // intervals before measuring
const INTERVALS = envNumber('BENCH_SCALE_INTERVALS', 3, 1); // intervals measured
const CHUNK = envNumber('BENCH_SCALE_BULK', 500, 1);
const PARALLEL = envNumber('BENCH_SCALE_PARALLEL', 4, 1);
const DASHBOARD = process.env.BENCH_SCALE_DASHBOARD !== '0';
const ORDER = (process.env.BENCH_SCALE_ORDER ?? 'bare,ems,bare').split(',').map((s) => s.trim()).filter(Boolean);
const TARGETS = { cpuShare: 0.5, p99Ms: 1000, rssBytes: 1e9 };

interface SideFigures {
  side: string;
  seconds: number;
  cpuShare: number;
  cpuPerPollMs: number;
  rssMaxMiB: number;
  peakRssMiB: number;
  simCpuShare: number;
  requested: number;
  achieved: number;
  partial: number;
  /** Polls due in the window whose first request arrived. */
  started: number;
  latenessP50: number;
  latenessP99: number;
  latenessMax: number;
  listMs: number;
  listMaxMs: number;
  readingsMs: number;
  readingsMaxMs: number;
  probes: number;
  errors: string[];
  /** The EMS side: what GET /api/polling said at the end. */
  polling?: string;
}

interface Probe { list(): Promise<number>; readings(meter: string): Promise<number> }

/** Warms up, then measures `INTERVALS` intervals of a running side: /proc CPU and RSS of `pid`, API latency, and the polls the simulators saw. */
async function measure(side: string, pid: number, meters: ScaleMeter[], sims: RunningSims, interval: number, probe: Probe): Promise<SideFigures> {
  await sleep(WARMUP * interval * 1000);
  const t0 = Date.now();
  const t1 = t0 + INTERVALS * interval * 1000;
  const simCpu = () => sims.pids.reduce((sum, p) => sum + procCpuMs(p), 0);
  const cpu0 = procCpuMs(pid);
  const sim0 = simCpu();
  let rssMax = 0;
  const sampler = (async () => {
    while (Date.now() < t1) {
      rssMax = Math.max(rssMax, procMemory(pid).rss);
      await sleep(Math.min(1000, Math.max(0, t1 - Date.now())));
    }
    return { cpu: procCpuMs(pid), sim: simCpu(), end: Date.now() };
  })();
  const list: number[] = [];
  const readings: number[] = [];
  const errors: string[] = [];
  const prober = (async () => {
    for (let i = 0; Date.now() < t1; i++) {
      try {
        list.push(await probe.list());
        readings.push(await probe.readings(meters[(i * 7919) % meters.length].id));
      } catch (err) {
        errors.push((err as Error).message);
      }
      await sleep(1000);
    }
  })();
  const end = await sampler;
  await within(`${side}'s API probes to finish`, 300_000, prober);
  // Polls due near the end of the window get one more interval (at most 30 s) to reach the meters.
  await sleep(Math.min(interval, 30) * 1000);
  const polls = pollFigures(meters, sims, t0, t1);
  // A poll that never started is later than any that did: it counts in the quantiles as infinitely late.
  const lateness = [...polls.lateness, ...Array<number>(Math.max(0, polls.requested - polls.lateness.length)).fill(Infinity)];
  const wall = end.end - t0;
  const cpuMs = end.cpu - cpu0;
  return {
    side, seconds: wall / 1000, cpuShare: cpuMs / wall, cpuPerPollMs: polls.achieved ? cpuMs / polls.achieved : NaN,
    rssMaxMiB: mib(rssMax), peakRssMiB: mib(procMemory(pid).peak), simCpuShare: (end.sim - sim0) / wall,
    requested: polls.requested, achieved: polls.achieved, partial: polls.partial,
    started: polls.lateness.length,
    latenessP50: quantile(lateness, 0.5), latenessP99: quantile(lateness, 0.99), latenessMax: quantile(lateness, 1),
    listMs: quantile(list, 0.5), listMaxMs: quantile(list, 1), readingsMs: quantile(readings, 0.5), readingsMaxMs: quantile(readings, 1),
    probes: list.length, errors: errors.slice(0, 5),
  };
}

async function runBare(meters: ScaleMeter[], sims: RunningSims, dir: string, index: number, interval: number): Promise<SideFigures> {
  const configFile = path.join(dir, `bare-${index}.json`);
  const config: BareConfig = { meters, ports: sims.ports, storeFile: path.join(dir, `bare-${index}.sqlite`) };
  fs.writeFileSync(configFile, JSON.stringify(config));
  const child: ChildProcess = track(fork(path.join(__dirname, 'scale-bare.js'), [], { env: { ...process.env, BENCH_SCALE_BARE: configFile }, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] }));
  const messages: FromBare[] = [];
  child.on('message', (m: FromBare) => messages.push(m));
  const failed = () => messages.find((m) => m.type === 'error');
  try {
    const port = await until('the bare side to start polling', 60_000, () => {
      const f = failed();
      if (f && f.type === 'error') throw new Error(`bare side: ${f.message}`);
      if (child.exitCode !== null) throw new Error(`the bare side exited ${child.exitCode}`);
      const r = messages.find((m) => m.type === 'ready');
      return { value: r && r.type === 'ready' ? r.port : undefined, seen: JSON.stringify(messages) };
    });
    const base = `http://127.0.0.1:${port}`;
    const figures = await measure(`bare#${index}`, child.pid!, meters, sims, interval, {
      list: async () => { const r = await timedJson(`${base}/meters`); if (r.status !== 200) throw new Error(`bare /meters: ${r.status}`); return r.ms; },
      readings: async (meter) => {
        const r = await timedJson(`${base}/readings?meter=${encodeURIComponent(meter)}&obis=${ENERGY}`);
        if (r.status !== 200) throw new Error(`bare /readings: ${r.status} ${JSON.stringify(r.body)}`);
        return r.ms;
      },
    });
    child.send({ cmd: 'stop' });
    await until('the bare side to stop', 30_000, () => ({ value: messages.find((m) => m.type === 'stopped'), seen: JSON.stringify(messages) }));
    const f = failed();
    if (f && f.type === 'error') figures.errors.push(f.message);
    return figures;
  } finally {
    await stopChild(child, 'the bare side', 10_000);
  }
}

/** What the EMS's GET /api/polling (every page) says at the end: meters scheduled, running, failing, and the commonest errors. */
async function pollingSummary(api: RunningEms['api']): Promise<string> {
  try {
    type Row = { scheduled: boolean; running: boolean; failures: number; last: { ok: boolean; error: string | null } | null };
    const rows: Row[] = [];
    // Paged (limit, next_cursor); at most 1,000 pages.
    for (let cursor: string | null = null, pages = 0; pages < 1000; pages++) {
      const r = await api('GET', `/api/polling?limit=1000${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`);
      if (r.status !== 200 || !Array.isArray(r.body?.data)) return `GET /api/polling: ${r.status}`;
      rows.push(...(r.body.data as Row[]));
      cursor = typeof r.body.next_cursor === 'string' ? r.body.next_cursor : null;
      if (!cursor) break;
    }
    const errors = new Map<string, number>();
    for (const row of rows) if (row.last && !row.last.ok) {
      const e = String(row.last.error).replace(/"[^"]*"|\d+/g, '#');
      errors.set(e, (errors.get(e) ?? 0) + 1);
    }
    const top = [...errors.entries()].sort((a, b) => b[1] - a[1]).slice(0, 3).map(([e, n]) => `${n}x ${e.slice(0, 120)}`);
    return `${rows.length} meters, ${rows.filter((x) => x.scheduled).length} scheduled, ${rows.filter((x) => x.running).length} running, ` +
      `${rows.filter((x) => x.last?.ok).length} last ok, ${rows.filter((x) => x.failures > 0).length} failing${top.length ? ` (${top.join('; ')})` : ''}`;
  } catch (err) {
    return `GET /api/polling: ${(err as Error).message}`;
  }
}

async function runEms(meters: ScaleMeter[], sims: RunningSims, dir: string, interval: number): Promise<{ figures: SideFigures; creation: Creation; dashboard: string }> {
  const ems = await startEms(path.join(dir, 'ems-user-dir'), meters.length);
  let browser: Awaited<ReturnType<typeof openDashboard>>['browser'];
  try {
    const creation = await createMeters(ems, meters, sims.ports, CHUNK, PARALLEL);
    console.log(`[scale] ${meters.length} meters created ${creation.mode} in ${(creation.ms / 1000).toFixed(1)} s (${creation.perMeterMs.toFixed(1)} ms a meter)`);
    let dashboard = 'not opened (BENCH_SCALE_DASHBOARD=0)';
    if (DASHBOARD) {
      const opened = await within('the dashboard to open in Chromium', 180_000, openDashboard(ems.url));
      browser = opened.browser;
      dashboard = opened.skipped ? `not opened: ${opened.skipped}` : 'open (headless Chromium, overview page)';
    }
    const since = Date.now() - 3_600_000;
    const figures = await measure('ems', ems.redPid, meters, sims, interval, {
      list: async () => { const r = await ems.api('GET', '/api/meters'); if (r.status !== 200) throw new Error(`GET /api/meters: ${r.status}`); return r.ms; },
      readings: async (meter) => {
        const r = await ems.api('GET', `/api/meters/${encodeURIComponent(meter)}/readings?obis=${ENERGY}&from=${since}`);
        if (r.status !== 200) throw new Error(`GET /api/meters/${meter}/readings: ${r.status} ${JSON.stringify(r.body).slice(0, 300)}`);
        return r.ms;
      },
    });
    figures.polling = await pollingSummary(ems.api);
    return { figures, creation, dashboard };
  } finally {
    if (browser) await within('Chromium to close', 30_000, browser.close()).catch((err: Error) => console.error(`[scale] ${err.message}`));
    await ems.stop();
  }
}

const fmt = (x: number, digits = 1) => (x === Infinity ? 'never' : Number.isFinite(x) ? x.toFixed(digits) : '-');
const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;

function report(size: ScaleSize, ports: number, sides: SideFigures[], creation: Creation | undefined, dashboard: string) {
  const bare = sides.filter((s) => s.side.startsWith('bare'));
  const ems = sides.find((s) => s.side === 'ems');
  const rows: [string, (s: SideFigures) => number, number][] = [
    ['CPU share of one core', (s) => s.cpuShare, 3],
    ['CPU per poll (ms)', (s) => s.cpuPerPollMs, 3],
    ['RSS max in window (MiB)', (s) => s.rssMaxMiB, 0],
    ['peak RSS, whole run (MiB)', (s) => s.peakRssMiB, 0],
    ['poll lateness p50 (ms)', (s) => s.latenessP50, 0],
    ['poll lateness p99 (ms)', (s) => s.latenessP99, 0],
    ['poll lateness max (ms)', (s) => s.latenessMax, 0],
    ['polls achieved / requested', (s) => s.achieved / s.requested, 3],
    ['list latency p50 (ms)', (s) => s.listMs, 1],
    ['readings query p50 (ms)', (s) => s.readingsMs, 1],
    ['simulators\' CPU share', (s) => s.simCpuShare, 3],
  ];
  console.log(`\n${size.meters} meters every ${size.interval} s (${ports} simulator ports, up to ${UNITS_PER_PORT} units each), ${INTERVALS} intervals measured after ${WARMUP} of warm-up`);
  console.log(`EMS: meters created ${creation ? `${creation.mode} in ${fmt(creation.ms / 1000)} s (${fmt(creation.perMeterMs)} ms a meter)` : '-'}; dashboard ${dashboard}`);
  const head = ['', ...sides.map((s) => s.side), 'ems/bare'];
  console.log(head.map((h, i) => (i ? h.padStart(12) : h.padEnd(28))).join(''));
  const ratios: Record<string, number> = {};
  for (const [name, get, digits] of rows) {
    const ratio = ems && bare.length ? get(ems) / mean(bare.map(get)) : NaN;
    ratios[name] = ratio;
    console.log([name.padEnd(28), ...sides.map((s) => fmt(get(s), digits).padStart(12)), (ratio === Infinity ? 'inf' : fmt(ratio, 2)).padStart(12)].join(''));
  }
  for (const s of sides) {
    console.log(`${s.side}: ${s.started} of ${s.requested} polls started, ${s.achieved} whole (${s.partial} partial), ${s.probes} API probes (list max ${fmt(s.listMaxMs, 0)} ms, readings max ${fmt(s.readingsMaxMs, 0)} ms)${s.errors.length ? `; errors: ${s.errors.join(' | ')}` : ''}`);
    if (s.polling) console.log(`${s.side}: GET /api/polling at the end: ${s.polling}`);
  }
  const targets = ems && {
    cpu: { target: `< ${TARGETS.cpuShare} core`, value: ems.cpuShare, met: ems.cpuShare < TARGETS.cpuShare },
    p99: { target: `< ${TARGETS.p99Ms} ms`, value: ems.latenessP99, met: ems.latenessP99 < TARGETS.p99Ms },
    rss: { target: '< 1 GB', value: ems.peakRssMiB, met: ems.peakRssMiB * 1024 * 1024 < TARGETS.rssBytes },
  };
  if (targets) {
    const mark = (t: { met: boolean }) => (t.met ? 'met' : 'NOT met');
    console.log(`targets (issue 22): CPU ${fmt(targets.cpu.value, 2)} core ${targets.cpu.target}: ${mark(targets.cpu)}; ` +
      `p99 lateness ${targets.p99.value === Infinity ? 'never (polls missed)' : `${fmt(targets.p99.value, 0)} ms`} ${targets.p99.target}: ${mark(targets.p99)}; peak RSS ${fmt(targets.rss.value, 0)} MiB ${targets.rss.target}: ${mark(targets.rss)}`);
  }
  return { meters: size.meters, interval: size.interval, ports, creation, dashboard, sides, ratios, targets };
}

async function runSize(size: ScaleSize) {
  const meters = layoutMeters(size.meters, UNITS_PER_PORT, size.interval);
  const dir = trackDir(fs.mkdtempSync(path.join(os.tmpdir(), 'ems-bench-scale-')));
  const sims = await startSims(meters, dir);
  try {
    const sides: SideFigures[] = [];
    let creation: Creation | undefined;
    let dashboard = '-';
    let bareRuns = 0;
    for (const side of ORDER) {
      console.log(`[scale] ${size.meters}@${size.interval}s: ${side} side`);
      if (side === 'bare') sides.push(await runBare(meters, sims, dir, ++bareRuns, size.interval));
      else if (side === 'ems') {
        const r = await runEms(meters, sims, dir, size.interval);
        sides.push(r.figures);
        creation = r.creation;
        dashboard = r.dashboard;
      } else throw new Error(`BENCH_SCALE_ORDER: ${JSON.stringify(side)} is not bare or ems`);
    }
    return report(size, sims.ports.length, sides, creation, dashboard);
  } finally {
    await sims.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

async function main() {
  installCleanup();
  const sizes = parseSizes();
  console.log(`bench:scale on ${os.cpus().length} cores, load average ${os.loadavg().map((l) => l.toFixed(2)).join(' ')}; sides in the order ${ORDER.join(', ')}`);
  const results = [];
  for (const size of sizes) results.push(await runSize(size));
  console.log(`load average at the end ${os.loadavg().map((l) => l.toFixed(2)).join(' ')}`);
  console.log(JSON.stringify({ bench: 'scale', order: ORDER, unitsPerPort: UNITS_PER_PORT, warmup: WARMUP, intervals: INTERVALS, results }));
}

main().catch((err: Error) => {
  console.error(`bench:scale failed: ${err.stack ?? err.message}`);
  process.exit(1); // the exit handler kills whatever is still running
});
