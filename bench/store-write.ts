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
 * Each side runs in its own worker process (its CPU and peak RSS are its own), one after the other,
 * with a fresh server per server side. A reading counts when it is acknowledged: store-write's
 * output msg (msg.stored), the complete node, a 2xx, a committed transaction. The node sides keep
 * WINDOW readings in flight. After each side the bench counts what the store holds. A side named
 * more than once in BENCH_SIDES runs once per mention; its ratios use the mean of its rates.
 *
 * Environment: BENCH_READINGS (default 1,000,000), BENCH_BATCH (5000), BENCH_PER_MSG (1000),
 * BENCH_WINDOW (4 x BATCH), BENCH_SIDES (comma-separated subset), BENCH_WORKER_ARGS.
 * The last line of stdout is the figures as JSON.
 */
import { fork } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ROOT, SIDES, envNumber, mib, type FromWorker, type Result, type Side, type WorkerConfig } from './store-write/common';
import { workerMain } from './store-write/worker';
import { startInfluxdb1, startVictoriaMetrics, type RunningService } from '../test/fixtures/services';

function fmt(n: number, digits = 0): string {
  return n.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
}

function runWorker(cfg: WorkerConfig): Promise<Result> {
  const execArgv = (process.env.BENCH_WORKER_ARGS ?? '').split(/\s+/).filter(Boolean);
  const child = fork(__filename, ['worker'], { env: { ...process.env, BENCH_WORKER: JSON.stringify(cfg), EMS_INFLUX_TOKEN: 'bench' }, execArgv, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  return new Promise((resolve, reject) => {
    let result: Result | undefined;
    child.on('message', (m: FromWorker) => {
      if (m.type === 'ready') child.send({ cmd: 'run' });
      else if (m.type === 'done') result = m.result;
      else reject(new Error(`${cfg.side} worker: ${m.message}`));
    });
    child.once('exit', (code) => (result ? resolve(result) : reject(new Error(`${cfg.side} worker exited with ${code}`))));
  });
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
  console.log(`  sides run one after another, each in its own worker; a fresh server per server side`);

  const results: (Result & { stored: number })[] = [];
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'ems-bench-store-'));
  try {
    for (const side of sides) {
      const cfg: WorkerConfig = { side, root: ROOT, readings, batch, perMsg, window };
      let server: RunningService | undefined;
      try {
        if (side.startsWith('vm-')) {
          server = await startVictoriaMetrics();
          cfg.url = server.url;
        } else if (side.startsWith('influx1-')) {
          server = await startInfluxdb1();
          cfg.url = server.url;
          cfg.database = 'bench';
          await createDatabase(server.url, 'bench');
        } else if (side === 'sqlite-bare') cfg.file = path.join(tmp, 'bare.sqlite');
        const r = await runWorker(cfg);
        const stored = side.startsWith('vm-') ? await vmCount(server!.url) : side.startsWith('influx1-') ? await influxCount(server!.url, 'bench') : r.verified ?? 0;
        results.push({ ...r, stored });
        console.log(`  ${side.padEnd(16)} ${fmt(r.acked / r.seconds).padStart(9)} readings/s  ${fmt(r.seconds, 2).padStart(6)} s  CPU ${fmt((100 * r.cpuMs) / (r.seconds * 1000)).padStart(3)}%  ` +
          `peak RSS ${fmt(mib(r.maxRss), 1).padStart(6)} MiB  acked ${fmt(r.acked)}  stored ${fmt(stored)}${stored !== readings ? ' (MISMATCH)' : ''}` +
          `${r.errors ? `  ${r.errors} errors, first: ${r.firstError}` : ''}`);
      } finally {
        await server?.stop();
      }
    }
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }

  const rate = (side: Side) => { // the mean over the runs of the side
    const rs = results.filter((x) => x.side === side);
    return rs.length ? rs.reduce((sum, r) => sum + r.acked / r.seconds, 0) / rs.length : undefined;
  };
  console.log('');
  console.log('side               readings/s   CPU us/reading   peak RSS MiB   stored');
  for (const r of results) {
    console.log(`${r.side.padEnd(16)} ${fmt(r.acked / r.seconds).padStart(12)} ${fmt((1000 * r.cpuMs) / Math.max(r.acked, 1), 2).padStart(16)} ${fmt(mib(r.maxRss), 1).padStart(14)}   ${fmt(r.stored)}`);
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
    sides: Object.fromEntries(results.map((r) => [r.side, {
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
