/**
 * The ems-poll-schedule node in a Node-RED runtime (node-red-node-test-helper) with N meters in the EMS
 * registry; a helper node echoes every poll message back after 200 ms, as a protocol node would. Real timers.
 *   node dist/bench/poll-schedule-node.js
 * Environment: BENCH_METERS (10000), BENCH_INTERVAL (60 s), BENCH_SECONDS (60 measured, after 2 s settling),
 * BENCH_DIST (the dist/ of another built checkout to measure instead, e.g. an older commit: an A/B in turn).
 * Prints the time to create the meters (each creation reloads the schedule), polls done and expected, CPU
 * share of one core over the measured time (the test helper's spies included), lateness p50/p99 (poll start
 * minus due time), RSS and the schedule's backlog. The license's meter limit is lifted for the run.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import helper from 'node-red-node-test-helper';

const DIST = process.env.BENCH_DIST ?? path.resolve(__dirname, '..');
const N = Number(process.env.BENCH_METERS ?? 10_000);
const INTERVAL = Number(process.env.BENCH_INTERVAL ?? 60);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 60);
const LATENCY_MS = 200;

helper.init(require.resolve('node-red'));
Object.assign(process.env, { EMS_ADMIN_USER: 'root', EMS_ADMIN_PASSWORD: 'a-long-test-password' });

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

let dir: string | undefined;

async function main(): Promise<void> {
  await new Promise<void>((r) => helper.startServer(r));
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-schedule-'));
  const flow: any[] = [
    { id: 'tab', type: 'tab' },
    { id: 's1', type: 'ems-store', backend: 'sqlite', path: path.join(dir, 'r.sqlite'), timeZone: 'UTC' },
    { id: 'sys', type: 'ems-system', store: 's1', path: path.join(dir, 'ems.db'), billsPath: path.join(dir, 'bills.db'), timeZone: 'UTC' },
    { id: 'ps', z: 'tab', type: 'ems-poll-schedule', system: 'sys', protocols: '', wires: [['out']] },
    { id: 'out', z: 'tab', type: 'helper' },
  ];
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const nodes = ['poll-schedule/poll-schedule', 'store/store', 'system/system'].map((n) => require(path.join(DIST, 'nodes', n)).default);
  await helper.load(nodes, flow);
  const system = helper.getNode('sys') as any;
  const services = await system.ready();
  services.registry.hooks.beforeCreateMeter = undefined; // no license for 10,000 meters in a bench
  const folder = services.registry.createFolder({ name: 'Plant' });
  const t0 = Date.now();
  for (let i = 0; i < N; i++) {
    services.registry.createMeter({
      name: `m${i}`, folder_id: folder._id, protocol: 'modbus-tcp', profile: 'eastron-sdm630', interval_time: INTERVAL,
      ip_address: `10.${(i / 2560) | 0}.${((i / 10) | 0) % 256}.1`, connection_address: String((i % 10) + 1),
    }, undefined, `m${i}`);
  }
  const createMs = Date.now() - t0;
  const ps = helper.getNode('ps');
  const late: number[] = [];
  helper.getNode('out').on('input', (msg: any) => {
    late.push(msg.poll.started - msg.poll.due);
    setTimeout(() => ps.receive({ poll: msg.poll, topic: msg.topic, payload: [] } as any), LATENCY_MS);
  });
  await sleep(2000);
  const cpu0 = process.cpuUsage();
  const from = late.length;
  const w0 = Date.now();
  await sleep(SECONDS * 1000);
  const cpu = process.cpuUsage(cpu0);
  const wall = Date.now() - w0;
  const l = late.slice(from).sort((a, b) => a - b);
  const q = (p: number) => (l.length ? l[Math.min(l.length - 1, Math.floor(p * l.length))] : null);
  const result = {
    dist: DIST, meters: N, interval_s: INTERVAL, seconds: SECONDS, create_ms: createMs, polls: l.length, expected: Math.round((N * SECONDS) / INTERVAL),
    share_of_core: +((cpu.user + cpu.system) / 1000 / wall).toFixed(3), late_p50_ms: q(0.5), late_p99_ms: q(0.99),
    rss_mb: Math.round(process.memoryUsage().rss / 1e6), backlog: system.poller?.backlog?.() ?? null,
  };
  console.log(`${N} meters at ${INTERVAL} s: created in ${createMs} ms; ${result.polls} polls of ${result.expected} in ${SECONDS} s, `
    + `${(result.share_of_core * 100).toFixed(1)}% of a core, late p50 ${result.late_p50_ms} ms p99 ${result.late_p99_ms} ms, RSS ${result.rss_mb} MB`);
  console.log(JSON.stringify(result));
  await helper.unload();
  await new Promise<void>((r) => helper.stopServer(r));
  fs.rmSync(dir, { recursive: true, force: true });
  process.exit(0);
}

main().catch((err) => {
  console.error(err);
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
  process.exit(1);
});
