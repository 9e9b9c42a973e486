/**
 * `npm run bench:api`: the EMS HTTP API in the shipped flows (Node-RED embedded, flows/ems.json)
 * against a bare node:http server doing the same store work, side by side in one run, with wrk
 * (Debian package "wrk"): -t1 -c4 -d<BENCH_SECONDS>s --latency, the Bearer token on the node side.
 *
 * Data: one meter with a year (2025, Europe/Berlin) of 15-minute cumulative registers 1-0:1.8.1..1.8.4
 * and 1.8.0 (175,200 readings) in a sqlite file both sides open. Endpoints:
 *   readings  GET /api/meters/:id/readings?from&to (one day: 480 readings)  vs  store.query
 *   report    GET /api/reports/tariffs?step=day (June: 30 rows)             vs  tariffReport
 * Each pair runs BENCH_ROUNDS times (bare and node alternating, order swapped each round); the
 * figures are the mean over rounds. ratio = node time per request / bare time per request
 * (= bare req/s / node req/s); p99 ratio likewise. Peak RSS is each server process's maxrss.
 * Environment: BENCH_SECONDS (5), BENCH_ROUNDS (2). The last line of stdout is JSON.
 */
import { execFile, fork, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Reading } from '../lib/model/reading';
import { SqliteStore } from '../lib/store/sqlite';
import { toLocal } from '../lib/model/time';
import { sideMain, type SideConfig } from './api-sides';

const ROOT = path.resolve(__dirname, '..', '..');
const TZ = 'Europe/Berlin';
const METER = 'bench-main';
const SECONDS = Number(process.env.BENCH_SECONDS ?? 5);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 2);
const PASSWORD = 'bench-head-secret';

/** A year of quarter-hour registers: T1 night, T2 weekday day, T3 weekend day, T4 a noon peak hour. */
async function seed(file: string): Promise<number> {
  const store = new SqliteStore({ path: file });
  const regs = [0, 0, 0, 0];
  let batch: Reading[] = [];
  let n = 0;
  const end = Date.parse('2025-12-31T23:00:00Z');
  for (let t = Date.parse('2024-12-31T23:00:00Z'), i = 0; t <= end; t += 900_000, i++) {
    for (let k = 0; k < 4; k++) batch.push({ meter: METER, obis: `1-0:1.8.${k + 1}`, time: t, value: Math.round(regs[k] * 1000) / 1000, unit: 'kWh' });
    batch.push({ meter: METER, obis: '1-0:1.8.0', time: t, value: Math.round((regs[0] + regs[1] + regs[2] + regs[3]) * 1000) / 1000, unit: 'kWh' });
    const l = toLocal(t, TZ);
    const weekend = new Date(Date.UTC(l.year, l.month - 1, l.day)).getUTCDay() % 6 === 0;
    const k = l.hour === 12 ? 3 : l.hour < 6 || l.hour >= 22 ? 0 : weekend ? 2 : 1;
    regs[k] += 2 + Math.sin(i / 7) ; // 1..3 kWh per quarter
    if (batch.length >= 50_000) {
      n += await store.write(batch);
      batch = [];
    }
  }
  n += await store.write(batch);
  await store.close();
  return n;
}

interface Side { child: ChildProcess; port: number; rss: () => Promise<number> }

function startSide(cfg: SideConfig): Promise<Side> {
  const child = fork(__filename, ['side'], { env: { ...process.env, BENCH_SIDE: JSON.stringify(cfg) }, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const rss = () => new Promise<number>((resolve) => {
    const on = (m: { type: string; maxRss?: number }) => { if (m.type === 'rss') { child.off('message', on); resolve(m.maxRss!); } };
    child.on('message', on);
    child.send({ cmd: 'rss' });
  });
  return new Promise((resolve, reject) => {
    child.once('message', (m: { type: string; port?: number; message?: string }) => (m.type === 'ready' ? resolve({ child, port: m.port!, rss }) : reject(new Error(`${cfg.side}: ${m.message}`))));
    child.once('exit', (code) => reject(new Error(`${cfg.side} side exited with ${code} before it was ready`)));
  });
}

/** Asks a side to exit (so it removes its temp user directory), killing it after 5 s. */
async function stopSide(s: Side): Promise<void> {
  if (s.child.exitCode !== null) return;
  const exited = new Promise((resolve) => s.child.once('exit', resolve));
  s.child.send({ cmd: 'exit' });
  const timer = setTimeout(() => s.child.kill('SIGKILL'), 5000);
  await exited;
  clearTimeout(timer);
}

interface WrkResult { rps: number; p99ms: number; requests: number }

function wrk(url: string, headers: string[]): Promise<WrkResult> {
  const args = ['-t1', '-c4', `-d${SECONDS}s`, '--latency', ...headers.flatMap((h) => ['-H', h]), url];
  return new Promise((resolve, reject) => {
    execFile('wrk', args, { timeout: (SECONDS + 30) * 1000 }, (err, stdout) => {
      if (err) return reject(new Error(`wrk failed (apt-get install -y wrk): ${err.message}`));
      const bad = /Non-2xx or 3xx responses: (\d+)/.exec(stdout);
      if (bad) return reject(new Error(`wrk: ${bad[1]} error answers from ${url}\n${stdout}`));
      const rps = Number(/Requests\/sec:\s+([\d.]+)/.exec(stdout)?.[1]);
      const p99 = /\s99%\s+([\d.]+)(us|ms|s)/.exec(stdout);
      const requests = Number(/(\d+) requests in/.exec(stdout)?.[1]);
      if (!Number.isFinite(rps) || !p99) return reject(new Error(`cannot read wrk output:\n${stdout}`));
      const p99ms = Number(p99[1]) * ({ us: 0.001, ms: 1, s: 1000 } as Record<string, number>)[p99[2]];
      resolve({ rps, p99ms, requests });
    });
  });
}

const mib = (b: number): string => `${(b / 1048576).toFixed(0)} MiB`;
const mean = (xs: number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length;

async function main(): Promise<void> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ems-bench-api-'));
  const sides: Side[] = [];
  try {
    const sqlite = path.join(dir, 'readings.sqlite');
    const t0 = Date.now();
    const written = await seed(sqlite);
    console.log(`seeded ${written.toLocaleString('en-US')} readings (a year, 5 registers, 15 min) in ${Date.now() - t0} ms`);
    const base = { root: ROOT, sqlite, dbPath: path.join(dir, 'ems.db'), timeZone: TZ };
    const node = await startSide({ ...base, side: 'node' });
    sides.push(node);
    const bare = await startSide({ ...base, side: 'bare' });
    sides.push(bare);
    const nodeUrl = `http://127.0.0.1:${node.port}`;
    const bareUrl = `http://127.0.0.1:${bare.port}`;

    const login = await fetch(`${nodeUrl}/api/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username: 'admin', password: PASSWORD }) });
    const token = ((await login.json()) as { data: { access_token: string } }).data.access_token;
    const auth = [`Authorization: Bearer ${token}`];
    const call = async (method: string, p: string, body?: unknown) => (await fetch(`${nodeUrl}${p}`, {
      method, headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: body === undefined ? undefined : JSON.stringify(body),
    })).json() as Promise<{ data: any; error: string | null }>;
    const folder = await call('POST', '/api/folders', { name: 'Bench plant', folder_type: 'site' });
    const meter = await call('POST', '/api/meters', { _id: METER, name: 'Bench meter', folder_id: folder.data?._id, protocol: 'modbus-tcp', ip_address: '127.0.0.1', port: 9, connection_address: '1', profile: 'eastron-sdm630', interval_time: 2_678_400 });
    if (meter.error) throw new Error(`creating the meter: ${meter.error}`);

    const dayFrom = Date.parse('2025-06-15T00:00:00+02:00');
    const dayTo = dayFrom + 86_400_000;
    const endpoints = [
      { name: 'readings (1 day raw)', node: `${nodeUrl}/api/meters/${METER}/readings?from=${dayFrom}&to=${dayTo}`, bare: `${bareUrl}/readings?meter=${METER}&from=${dayFrom}&to=${dayTo}` },
      { name: 'report (June by day)', node: `${nodeUrl}/api/reports/tariffs?meter=${METER}&date1=2025-06-01&date2=2025-06-30&step=day`, bare: `${bareUrl}/report?meter=${METER}&date1=2025-06-01&date2=2025-06-30&step=day` },
    ];
    // Same answers on both sides before timing them.
    const readingsNode = await call('GET', endpoints[0].node.slice(nodeUrl.length));
    const readingsBare = await (await fetch(endpoints[0].bare)).json() as unknown[];
    if (readingsNode.data.readings.length !== readingsBare.length || readingsBare.length !== 480) throw new Error(`readings differ: node ${readingsNode.data.readings.length}, bare ${readingsBare.length}`);
    const reportNode = await call('GET', endpoints[1].node.slice(nodeUrl.length));
    const reportBare = await (await fetch(endpoints[1].bare)).json() as { totals: unknown; rows: unknown[] };
    if (JSON.stringify(reportNode.data.totals) !== JSON.stringify(reportBare.totals) || reportBare.rows.length !== 30) throw new Error(`reports differ: ${JSON.stringify(reportNode.data.totals)} vs ${JSON.stringify(reportBare.totals)}`);
    console.log(`checked: ${readingsBare.length} readings per day, report totals ${JSON.stringify(reportBare.totals)}`);

    const results: Record<string, { node: WrkResult[]; bare: WrkResult[] }> = {};
    for (let round = 0; round < ROUNDS; round++) {
      for (const e of endpoints) {
        const r = (results[e.name] ??= { node: [], bare: [] });
        const order = round % 2 === 0 ? (['bare', 'node'] as const) : (['node', 'bare'] as const);
        for (const side of order) r[side].push(await wrk(side === 'node' ? e.node : e.bare, side === 'node' ? auth : []));
      }
    }
    const [nodeRss, bareRss] = [await node.rss(), await bare.rss()];
    const summary = endpoints.map((e) => {
      const r = results[e.name];
      const n = { rps: mean(r.node.map((x) => x.rps)), p99ms: mean(r.node.map((x) => x.p99ms)) };
      const b = { rps: mean(r.bare.map((x) => x.rps)), p99ms: mean(r.bare.map((x) => x.p99ms)) };
      return { endpoint: e.name, node: n, bare: b, ratio: b.rps / n.rps, p99Ratio: n.p99ms / b.p99ms };
    });
    console.log(`\nwrk -t1 -c4 -d${SECONDS}s, ${ROUNDS} round(s), mean over rounds`);
    console.log(`${'endpoint'.padEnd(22)} ${'node req/s'.padStart(11)} ${'node p99'.padStart(10)} ${'bare req/s'.padStart(11)} ${'bare p99'.padStart(10)} ${'ratio'.padStart(7)} ${'p99 ratio'.padStart(10)}`);
    for (const s of summary) {
      console.log(`${s.endpoint.padEnd(22)} ${s.node.rps.toFixed(0).padStart(11)} ${`${s.node.p99ms.toFixed(2)} ms`.padStart(10)} ${s.bare.rps.toFixed(0).padStart(11)} ${`${s.bare.p99ms.toFixed(2)} ms`.padStart(10)} ${s.ratio.toFixed(2).padStart(7)} ${s.p99Ratio.toFixed(2).padStart(10)}`);
    }
    console.log(`peak RSS: node ${mib(nodeRss)}, bare ${mib(bareRss)} (ratio ${(nodeRss / bareRss).toFixed(2)})`);
    console.log('ratio = node time per request / bare time per request (bare req/s / node req/s)');
    console.log(JSON.stringify({ seconds: SECONDS, rounds: ROUNDS, endpoints: summary, peakRss: { node: nodeRss, bare: bareRss } }));
  } finally {
    for (const s of sides) await stopSide(s);
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

if (process.argv[2] === 'side') sideMain(JSON.parse(process.env.BENCH_SIDE!) as SideConfig);
else main().catch((err) => {
  console.error(err);
  process.exitCode = 1;
});
