/**
 * `npm run bench:store`: write throughput of ems-store-write in a real Node-RED runtime, into sqlite,
 * VictoriaMetrics (/api/v2/write) and InfluxDB 1.x, each beside a baseline in the same run:
 *
 *   sqlite-bare      better-sqlite3: the store's readings table and pragmas, a prepared INSERT in
 *                    transactions of BATCH rows
 *   sqlite-node      ems-store (sqlite) + ems-store-write, msgs of PER_MSG readings
 *   vm-bare          encodeReadings (the lib's line protocol) + one POST of BATCH lines at a time to
 *                    VictoriaMetrics /api/v2/write?precision=ms, gzipped with zlib's default level
 *                    like every body the store sends (the issue requires gzip): the same batch and
 *                    the same bytes on the wire, so the server does the same work on both sides
 *   vm-bare-plain    the same, not gzipped (for reference only: no target)
 *   vm-node          ems-store (influxdb, version 2) + ems-store-write -> VictoriaMetrics
 *   influx1-ems      ems-store (influxdb, version 1) + ems-store-write -> InfluxDB 1.x
 *   influx1-contrib  node-red-contrib-influxdb's "influxdb batch" node -> InfluxDB 1.x, msgs of
 *                    BATCH points (it writes one request per msg), acknowledged by a complete node
 *
 * Each side runs in its own worker process (its CPU and peak RSS are its own) with its own server
 * (server sides) or file. All sides are set up first; then the readings are written in BENCH_SLICES
 * slices, every side writing slice k before any writes slice k+1, in alternating order (forward on
 * even slices, backward on odd ones), so load from elsewhere on the machine hits all sides alike.
 * A reading counts when it is acknowledged: store-write's output msg (msg.stored), the complete
 * node, a 2xx, a committed transaction. The node sides keep WINDOW readings in flight. At the end
 * the bench counts what each store holds. A side named more than once in BENCH_SIDES runs once per
 * mention (side, side#2, ...: each its own worker, server and file); its ratios use the mean of its rates.
 *
 * Environment: BENCH_READINGS (default 1,000,000), BENCH_SLICES (10), BENCH_BATCH (5000), BENCH_PER_MSG
 * (1000), BENCH_WINDOW (4 x BATCH), BENCH_SIDES (comma-separated subset), BENCH_WORKER_ARGS.
 * The last line of stdout is the figures as JSON.
 */
import { fork, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ROOT, SIDES, envNumber, mib, type FromWorker, type Result, type Side, type SliceResult, type ToWorker, type WorkerConfig } from './store-write/common';
import { workerMain } from './store-write/worker';
import { startInfluxdb1, startVictoriaMetrics, type RunningService } from '../test/fixtures/services';

function fmt(n: number, digits = 0): string {
  return n.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
}

/** A side's worker process: slices on request, then its peak RSS (and its sqlite row count) on close. */
class Worker {
  private readonly child: ChildProcess;
  private waiting: { resolve: (m: FromWorker) => void; reject: (e: Error) => void } | undefined;
  readonly ready: Promise<number>;

  constructor(readonly cfg: WorkerConfig) {
    const execArgv = (process.env.BENCH_WORKER_ARGS ?? '').split(/\s+/).filter(Boolean);
    this.child = fork(__filename, ['worker'], { env: { ...process.env, BENCH_WORKER: JSON.stringify(cfg), EMS_INFLUX_TOKEN: 'bench' }, execArgv, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    this.ready = new Promise((resolve, reject) => {
      this.waiting = { resolve: (m) => resolve(m.type === 'ready' ? m.setupMs : 0), reject };
    });
    this.child.on('message', (m: FromWorker) => {
      const w = this.waiting;
      this.waiting = undefined;
      if (m.type === 'error') w?.reject(new Error(`${cfg.label} worker: ${m.message}`));
      else w?.resolve(m);
    });
    this.child.once('exit', (code) => this.waiting?.reject(new Error(`${cfg.label} worker exited with ${code}`)));
  }

  private ask(m: ToWorker): Promise<FromWorker> {
    return new Promise((resolve, reject) => {
      this.waiting = { resolve, reject };
      this.child.send(m);
    });
  }

  async slice(from: number, to: number): Promise<SliceResult> {
    const m = await this.ask({ cmd: 'run', from, to });
    if (m.type !== 'slice') throw new Error(`${this.cfg.label} worker answered ${m.type} to a slice`);
    return m.slice;
  }

  async close(): Promise<{ maxRss: number; verified?: number }> {
    const m = await this.ask({ cmd: 'close' });
    if (m.type !== 'closed') throw new Error(`${this.cfg.label} worker answered ${m.type} to close`);
    return m;
  }

  kill(): void {
    if (this.child.exitCode === null) this.child.kill();
  }
}

async function vmCount(url: string): Promise<number> {
  await fetch(`${url}/internal/force_flush`);
  const q = new URLSearchParams({ query: 'sum(count_over_time(ems_reading_value[100d]))', time: String(Date.UTC(2024, 3, 1) / 1000), nocache: '1' });
  for (let i = 0; ; i++) {
    const body = (await (await fetch(`${url}/api/v1/query?${q}`)).json()) as { data?: { result?: { value: [number, string] }[] } };
    const n = Number(body.data?.result?.[0]?.value[1] ?? 0);
    if (n > 0 || i >= 20) return n;
    await new Promise((r) => setTimeout(r, 250));
  }
}

async function influxCount(url: string, db: string): Promise<number> {
  const res = await fetch(`${url}/query?db=${db}&q=${encodeURIComponent('SELECT count("value") FROM "ems_reading"')}`);
  const body = (await res.json()) as { results?: { series?: { values: [string, number][] }[] }[] };
  return body.results?.[0]?.series?.[0]?.values[0]?.[1] ?? 0;
}

async function createDatabase(url: string, db: string): Promise<void> {
  const res = await fetch(`${url}/query`, { method: 'POST', body: new URLSearchParams({ q: `CREATE DATABASE "${db}"` }) });
  if (!res.ok) throw new Error(`CREATE DATABASE ${db}: HTTP ${res.status} ${await res.text()}`);
}

async function orchestrate(): Promise<void> {
  const readings = envNumber('BENCH_READINGS', 1_000_000);
  const batch = envNumber('BENCH_BATCH', 5000);
  const perMsg = envNumber('BENCH_PER_MSG', 1000);
  const window = envNumber('BENCH_WINDOW', 4 * batch);
  const sides = (process.env.BENCH_SIDES ? process.env.BENCH_SIDES.split(',').map((s) => s.trim()) : [...SIDES]) as Side[];
  for (const s of sides) if (!SIDES.includes(s)) throw new Error(`BENCH_SIDES: unknown side ${s} (use ${SIDES.join(', ')})`);
  if (window < batch) throw new Error('BENCH_WINDOW must be >= BENCH_BATCH (store-write waits for a full batch or its 1 s flush interval)');
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const version = (name: string) => (require(`${name}/package.json`) as { version: string }).version;
  console.log(`store write bench: ${fmt(readings)} readings per side (100 meters x 10 OBIS codes, 1 s apart), batches of ${fmt(batch)}, ${fmt(perMsg)} readings per msg into ems-store-write, ${fmt(window)} in flight`);
  console.log(`  Node-RED ${version('node-red')} embedded, node-red-contrib-influxdb ${version('node-red-contrib-influxdb')}, better-sqlite3 ${version('better-sqlite3')}; node ${process.version}, ${os.cpus().length} CPUs`);

  const slices = Math.min(envNumber('BENCH_SLICES', 10), readings);
  console.log(`  all sides set up first, then ${slices} slices of the readings, each side writing each slice, in alternating order`);
  const mentions = new Map<Side, number>();
  const instances: { side: Side; label: string; server?: RunningService; worker?: Worker }[] = sides.map((side) => {
    const n = (mentions.get(side) ?? 0) + 1;
    mentions.set(side, n);
    return { side, label: n === 1 ? side : `${side}#${n}` };
  });
  const results: (Result & { stored: number })[] = [];
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'ems-bench-store-'));
  try {
    for (const inst of instances) {
      const cfg: WorkerConfig = { side: inst.side, label: inst.label, root: ROOT, readings, batch, perMsg, window };
      if (inst.side.startsWith('vm-')) {
        inst.server = await startVictoriaMetrics();
        cfg.url = inst.server.url;
      } else if (inst.side.startsWith('influx1-')) {
        inst.server = await startInfluxdb1();
        cfg.url = inst.server.url;
        cfg.database = 'bench';
        await createDatabase(inst.server.url, 'bench');
      } else if (inst.side === 'sqlite-bare') cfg.file = path.join(tmp, `${inst.label.replace('#', '-')}.sqlite`);
      inst.worker = new Worker(cfg);
      await inst.worker.ready;
    }
    const setup = await Promise.all(instances.map((i) => i.worker!.ready));
    const totals = instances.map(() => ({ seconds: 0, acked: 0, errors: 0, firstError: undefined as string | undefined, cpuMs: 0 }));
    for (let k = 0; k < slices; k++) {
      const from = Math.floor((k * readings) / slices);
      const to = Math.floor(((k + 1) * readings) / slices);
      const order = instances.map((_, i) => i);
      if (k % 2 === 1) order.reverse();
      for (const i of order) {
        const s = await instances[i].worker!.slice(from, to);
        const t = totals[i];
        t.seconds += s.seconds;
        t.acked += s.acked;
        t.errors += s.errors;
        t.cpuMs += s.cpuMs;
        t.firstError ??= s.firstError;
      }
      process.stderr.write(`bench:store slice ${k + 1}/${slices} done\n`);
    }
    for (const [i, inst] of instances.entries()) {
      const closed = await inst.worker!.close();
      const t = totals[i];
      const r: Result = { side: inst.side, label: inst.label, ...t, setupMs: setup[i], maxRss: closed.maxRss, verified: closed.verified };
      const stored = inst.side.startsWith('vm-') ? await vmCount(inst.server!.url) : inst.side.startsWith('influx1-') ? await influxCount(inst.server!.url, 'bench') : r.verified ?? 0;
      results.push({ ...r, stored });
      console.log(`  ${inst.label.padEnd(16)} ${fmt(r.acked / r.seconds).padStart(9)} readings/s  ${fmt(r.seconds, 2).padStart(6)} s  CPU ${fmt((100 * r.cpuMs) / (r.seconds * 1000)).padStart(3)}%  ` +
        `peak RSS ${fmt(mib(r.maxRss), 1).padStart(6)} MiB  acked ${fmt(r.acked)}  stored ${fmt(stored)}${stored !== readings ? ' (MISMATCH)' : ''}` +
        `${r.errors ? `  ${r.errors} errors, first: ${r.firstError}` : ''}`);
    }
  } finally {
    for (const inst of instances) {
      inst.worker?.kill();
      await inst.server?.stop();
    }
    fs.rmSync(tmp, { recursive: true, force: true });
  }

  const rate = (side: Side) => { // the mean over the runs of the side
    const rs = results.filter((x) => x.side === side);
    return rs.length ? rs.reduce((sum, r) => sum + r.acked / r.seconds, 0) / rs.length : undefined;
  };
  console.log('');
  console.log('side               readings/s   CPU us/reading   peak RSS MiB   stored');
  for (const r of results) {
    console.log(`${r.label.padEnd(16)} ${fmt(r.acked / r.seconds).padStart(12)} ${fmt((1000 * r.cpuMs) / Math.max(r.acked, 1), 2).padStart(16)} ${fmt(mib(r.maxRss), 1).padStart(14)}   ${fmt(r.stored)}`);
  }
  const ratios: Record<string, number> = {};
  for (const [name, a, b, target] of [
    ['sqlite-node/sqlite-bare', 'sqlite-node', 'sqlite-bare', 0.8],
    ['vm-node/vm-bare', 'vm-node', 'vm-bare', 0.8],
    ['vm-node/vm-bare-plain', 'vm-node', 'vm-bare-plain', undefined],
    ['influx1-ems/influx1-contrib', 'influx1-ems', 'influx1-contrib', 1],
  ] as const) {
    const x = rate(a);
    const y = rate(b);
    if (x === undefined || y === undefined) continue;
    ratios[name] = x / y;
    const runs = `${results.filter((r) => r.side === a).length}:${results.filter((r) => r.side === b).length} runs`;
    if (target === undefined) console.log(`ratio ${name} = ${(x / y).toFixed(2)}  (${runs}; reference, no target)`);
    else console.log(`ratio ${name} = ${(x / y).toFixed(2)}  (${runs}; target ${target === 1 ? '> 1' : `>= ${target}`}: ${(target === 1 ? x / y > 1 : x / y >= target) ? 'met' : 'NOT met'})`);
  }
  const complete = results.every((r) => r.stored === readings && r.errors === 0);
  if (!complete) console.log('WARNING: a side had errors or its store does not hold every reading (see "stored")');
  console.log(JSON.stringify({
    bench: 'store-write', readings, batch, perMsg, window, nodeVersion: process.version,
    slices, sides: Object.fromEntries(results.map((r) => [r.label, {
      readingsPerSec: Math.round(r.acked / r.seconds), seconds: Number(r.seconds.toFixed(3)), cpuUsPerReading: Number(((1000 * r.cpuMs) / Math.max(r.acked, 1)).toFixed(2)),
      peakRssMiB: Number(mib(r.maxRss).toFixed(1)), setupMs: Math.round(r.setupMs), acked: r.acked, stored: r.stored, errors: r.errors,
    }])),
    ratios: Object.fromEntries(Object.entries(ratios).map(([k, v]) => [k, Number(v.toFixed(3))])), complete,
  }));
  if (!complete) process.exitCode = 1;
}

const mode = process.argv[2];
(mode === 'worker' ? workerMain : orchestrate)().catch((err: Error) => {
  if (mode === 'worker' && process.send) process.send({ type: 'error', message: err.stack ?? err.message });
  console.error(`bench:store${mode ? ` ${mode}` : ''}: ${err.stack ?? err.message}`);
  process.exit(1);
});
