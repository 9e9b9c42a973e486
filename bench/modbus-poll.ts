/**
 * `npm run bench:modbus`: Modbus TCP polling throughput of the ems-modbus-meter node inside a real
 * Node-RED runtime against a bare modbus-serial loop doing the same reads, side by side.
 *
 * Processes (so each side's CPU time and peak RSS are its own):
 *   orchestrator (this file, no arguments)
 *     +- sims: every simulated meter (PORTS Modbus TCP servers x UNITS units), for the whole run
 *     +- bare worker: one modbus-serial client per port; per port a loop over its units, reading each
 *     |    unit's plan blocks (planReads of its profile) one request at a time; all ports in parallel
 *     +- node worker: Node-RED embedded (RED.init/RED.start; temp userDir with this checkout linked
 *          into its node_modules) running PORTS ems-modbus-client and PORTS*UNITS ems-modbus-meter
 *          nodes wired to a sink node (and a catch node wired to it). The bench drives sweeps per
 *          port: every meter of the port gets a msg at once (as from an inject node wired to them
 *          all) and when the sink has had the last of their outputs, the next sweep of that port
 *          starts.
 * Both sides thus poll every meter once per sweep with the same read requests on the wire.
 *
 * Both workers start up front and are then run in turn for short slices (bare,node,node,bare,...),
 * so that load from elsewhere on the machine hits both sides alike; the ratio is the median of the
 * ratios of adjacent slice pairs, the other figures are medians over slices. Beside reads/s, the CPU
 * per read of each side and their ratio (bare/node) are printed: steadier than reads/s on a busy machine.
 * "reads/s" = Modbus read requests answered per second; "polls/s" = meter polls completed per second.
 *
 * Environment: BENCH_SECONDS (measured seconds per slice, default 3), BENCH_SLICES (slices per side,
 * default 10), BENCH_WARMUP (seconds of polling before a worker's first slice, 2), BENCH_PORTS (10),
 * BENCH_UNITS (units per port, 10), BENCH_BARE_DECODE=0 (the bare loop does not decode; by default it
 * decodes each poll with the lib's decodeReadings, as the node does, so both sides do the same work),
 * BENCH_CPU_PROF=DIR (write a CPU profile of each worker's measured
 * slices, not its start-up, to DIR/modbus-poll-<side>.cpuprofile, for Chrome DevTools or VS Code),
 * BENCH_WORKER_ARGS (node options for the workers, e.g. "--max-semi-space-size=2"), BENCH_COMPARE=DIR[,DIR]
 * (other built checkouts: their nodes run as further sides node-b, node-c, ... in the same slices, to
 * A/B a change; only the nodes come from there, the bench and the simulators from this checkout).
 * The last line of stdout is the figures as JSON.
 */
import { fork, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PROFILES, ROOT, envNumber, median, mib, type FromWorker, type PortLayout, type Side, type Slice, type ToWorker, type WorkerConfig } from './modbus-poll/common';
import { loadProfile, planReads } from '../lib/protocols/modbus';
import { simsMain, workerMain } from './modbus-poll/children';

// ---------------------------------------------------------------------------------------------
// orchestrator

interface Sims { child: ChildProcess; ports: number[]; cpu(): Promise<number> }

function startSims(layout: PortLayout[]): Promise<Sims> {
  const child = fork(__filename, ['sims'], { env: { ...process.env, BENCH_SIMS: JSON.stringify(layout) }, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const waiting: ((ms: number) => void)[] = [];
  return new Promise((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`simulators exited with ${code}`)));
    child.on('message', (m: { type: string; ports?: number[]; ms?: number }) => {
      if (m.type === 'ready') {
        resolve({ child, ports: m.ports!, cpu: () => new Promise<number>((r) => { waiting.push(r); child.send('cpu'); }) });
      } else if (m.type === 'cpu') waiting.shift()?.(m.ms!);
    });
  });
}

/** A worker process: run() one slice at a time, close() for its peak RSS. */
class Worker {
  private readonly child: ChildProcess;
  private pending?: { expect: FromWorker['type']; resolve: (m: any) => void; reject: (e: Error) => void };
  private simStart?: Promise<number>;
  private simEnd?: Promise<number>;
  readonly ready: Promise<{ setupMs: number }>;
  private exited = false;

  constructor(readonly side: Side, cfg: WorkerConfig, private readonly sims: Sims) {
    const execArgv = (process.env.BENCH_WORKER_ARGS ?? '').split(/\s+/).filter(Boolean);
    this.child = fork(__filename, ['worker'], { env: { ...process.env, BENCH_WORKER: JSON.stringify(cfg) }, execArgv, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    this.ready = this.expect('ready');
    this.child.on('message', (m: FromWorker) => {
      if (m.type === 'mark') {
        if (m.at === 'start') this.simStart = this.sims.cpu();
        else this.simEnd = this.sims.cpu();
      } else if (m.type === 'error') this.fail(new Error(`${side} worker: ${m.message}`));
      else if (this.pending?.expect === m.type) {
        const p = this.pending;
        this.pending = undefined;
        p.resolve(m);
      }
    });
    this.child.once('exit', (code) => {
      this.exited = true;
      this.fail(new Error(`${side} worker exited with ${code}`));
    });
  }

  private fail(e: Error): void {
    const p = this.pending;
    this.pending = undefined;
    p?.reject(e);
  }

  private expect(type: FromWorker['type']): Promise<any> {
    return new Promise((resolve, reject) => { this.pending = { expect: type, resolve, reject }; });
  }

  async run(seconds: number, warmup: number): Promise<Slice> {
    const done = this.expect('slice');
    this.child.send({ cmd: 'run', seconds, warmup } satisfies ToWorker);
    const { slice } = (await done) as { slice: Slice };
    slice.simCpuMs = (await this.simEnd!) - (await this.simStart!);
    return slice;
  }

  async close(): Promise<number> {
    if (this.exited) return 0;
    const done = this.expect('closed');
    this.child.send({ cmd: 'close' } satisfies ToWorker);
    const { maxRss } = (await done) as { maxRss: number };
    if (!this.exited) await new Promise((r) => this.child.once('exit', r));
    return maxRss;
  }

  /** Lets go of a worker that was not closed (after a failure): it stops, tidies up and exits. */
  abandon(): void {
    if (!this.exited && this.child.connected) this.child.disconnect();
  }
}

function fmt(n: number, digits = 0): string {
  return n.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
}

async function orchestrate(): Promise<void> {
  const seconds = envNumber('BENCH_SECONDS', 3);
  const slices = envNumber('BENCH_SLICES', 10, true);
  const warmup = envNumber('BENCH_WARMUP', 2);
  const portCount = envNumber('BENCH_PORTS', 10, true);
  const unitsPerPort = envNumber('BENCH_UNITS', 10, true);
  if (seconds <= 0) throw new Error('BENCH_SECONDS must be > 0');
  const bareDecode = process.env.BENCH_BARE_DECODE !== '0';
  const cpuProfDir = process.env.BENCH_CPU_PROF ? path.resolve(process.env.BENCH_CPU_PROF) : undefined;
  const roots = new Map<Side, string>([['node', ROOT]]);
  for (const [i, dir] of (process.env.BENCH_COMPARE ?? '').split(',').filter(Boolean).entries()) {
    const root = path.resolve(dir);
    if (!fs.existsSync(path.join(root, 'dist', 'nodes', 'modbus-meter', 'modbus-meter.js'))) {
      throw new Error(`BENCH_COMPARE: ${root} has no dist/nodes/modbus-meter/modbus-meter.js (build it first)`);
    }
    roots.set(`node-${String.fromCharCode(98 + i)}`, root);
  }
  const sides: Side[] = ['bare', ...roots.keys()];
  const layout: PortLayout[] = Array.from({ length: portCount }, (_, p) => ({
    port: 0,
    units: Array.from({ length: unitsPerPort }, (_, i) => ({ unit: i + 1, profile: PROFILES[(p * unitsPerPort + i) % PROFILES.length] })),
  }));
  const blocks = (id: string) => planReads(loadProfile(id)).blocks.length;
  const perSweep = layout.reduce((s, p) => s + p.units.reduce((t, u) => t + blocks(u.profile), 0), 0);
  const meters = portCount * unitsPerPort;
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const redVersion = (require('node-red/package.json') as { version: string }).version;
  console.log(`modbus poll bench: ${meters} meters = ${portCount} Modbus TCP ports x ${unitsPerPort} units, ${perSweep} read requests per sweep of all meters`);
  console.log(`  profiles, round-robin: ${PROFILES.map((id) => `${id} (${blocks(id)} req)`).join(', ')}`);
  console.log(`  node: Node-RED ${redVersion} embedded (RED.init/RED.start), msgs into the meters per port sweep, outputs to a sink node`);
  console.log(`  bare: modbus-serial, one client per port, units and blocks in turn, ${bareDecode ? 'decoding with the lib\'s decodeReadings' : 'no decoding'}`);
  console.log(`  simulators in one child process, each side in its own worker; ${slices} slices x ${seconds} s per side, alternating (+${warmup} s warm-up)`);
  console.log(`  node ${process.version}, ${os.cpus().length} CPUs (${os.cpus()[0]?.model ?? '?'})`);

  const sims = await startSims(layout);
  layout.forEach((p, i) => { p.port = sims.ports[i]; });
  const workers: Partial<Record<Side, Worker>> = {};
  const results: Slice[] = [];
  const maxRss: Partial<Record<Side, number>> = {};
  const setupMs: Partial<Record<Side, number>> = {};
  try {
    for (const side of sides) {
      workers[side] = new Worker(side, { side, root: roots.get(side) ?? ROOT, ports: layout, bareDecode, cpuProfDir }, sims);
      setupMs[side] = (await workers[side].ready).setupMs;
    }
    const warmed = new Set<Side>();
    for (let i = 0; i < slices; i++) {
      for (const side of i % 2 === 0 ? sides : [...sides].reverse()) {
        const s = await workers[side]!.run(seconds, warmed.has(side) ? 0.2 : warmup);
        warmed.add(side);
        results.push(s);
        process.stdout.write(`  slice ${String(i + 1).padStart(2)} ${(side + ":").padEnd(7)} ${fmt(s.reads / s.seconds).padStart(7)} reads/s, client CPU ${fmt((1000 * s.cpuMs) / Math.max(s.reads, 1), 1).padStart(5)} us/read, ` +
          `sim CPU ${fmt((100 * s.simCpuMs) / (s.seconds * 1000)).padStart(3)}%, RSS ${fmt(mib(s.rss)).padStart(3)} MiB (heap ${fmt(mib(s.heapUsed)).padStart(3)})${s.errors ? `, ${s.errors} errors` : ''}\n`);
      }
    }
    for (const side of sides) maxRss[side] = await workers[side]!.close();
  } finally {
    for (const w of Object.values(workers)) w?.abandon();
    sims.child.send('close');
    if (sims.child.exitCode === null) await new Promise((r) => sims.child.once('exit', r));
  }

  const summary = (side: Side) => {
    const rs = results.filter((x) => x.side === side);
    return {
      readsPerSec: median(rs.map((x) => x.reads / x.seconds)),
      pollsPerSec: median(rs.map((x) => x.polls / x.seconds)),
      cpuUsPerRead: median(rs.map((x) => (1000 * x.cpuMs) / Math.max(x.reads, 1))),
      clientCpuPct: median(rs.map((x) => (100 * x.cpuMs) / (x.seconds * 1000))),
      simCpuPct: median(rs.map((x) => (100 * x.simCpuMs) / (x.seconds * 1000))),
      peakRssMiB: mib(maxRss[side] ?? 0),
      setupMs: setupMs[side] ?? 0,
      errors: rs.reduce((s, x) => s + x.errors, 0),
    };
  };
  // Slices ran bare,node,... then ...,node,bare: slice i of one side sits next to slice i of the others.
  const pairRatios = (side: Side) => {
    const bare = results.filter((x) => x.side === 'bare');
    return results.filter((x) => x.side === side).map((n, i) => n.reads / n.seconds / (bare[i].reads / bare[i].seconds));
  };
  const summaries = Object.fromEntries(sides.map((side) => [side, summary(side)])) as Record<Side, ReturnType<typeof summary>>;
  const ratios = Object.fromEntries(sides.filter((s) => s !== 'bare').map((side) => [side, pairRatios(side)])) as Record<Side, number[]>;
  console.log('');
  console.log('side      reads/s   polls/s   client CPU   CPU us/read   sim CPU   peak RSS MiB');
  for (const side of sides) {
    const s = summaries[side];
    console.log(`${side.padEnd(6)} ${fmt(s.readsPerSec).padStart(10)} ${fmt(s.pollsPerSec).padStart(9)} ${(fmt(s.clientCpuPct) + '%').padStart(12)}` +
      ` ${fmt(s.cpuUsPerRead, 1).padStart(13)} ${(fmt(s.simCpuPct) + '%').padStart(9)} ${fmt(s.peakRssMiB, 1).padStart(14)}`);
  }
  const ratio = median(ratios.node);
  const cpuRatio = (side: Side) => { // bare's CPU per read over the side's, per adjacent slice pair
    const bare = results.filter((x) => x.side === 'bare');
    return median(results.filter((x) => x.side === side).map((n, i) => (bare[i].cpuMs / Math.max(bare[i].reads, 1)) / (n.cpuMs / Math.max(n.reads, 1))));
  };
  for (const side of sides.filter((x) => x !== 'bare')) {
    const rs = ratios[side];
    const r = median(rs);
    console.log(`ratio (${side}/bare) = ${r.toFixed(2)}  (median of ${rs.length} adjacent slice pairs, range ${Math.min(...rs).toFixed(2)}..${Math.max(...rs).toFixed(2)}` +
      `${side === 'node' ? `; target >= 0.90: ${r >= 0.9 ? 'met' : 'NOT met'}` : `; ${roots.get(side)}`})`);
    console.log(`CPU per read (bare/${side}) = ${cpuRatio(side).toFixed(2)}  (1 = the node costs what the bare loop costs per read${bareDecode ? ', both decoding' : ', the bare loop not decoding'})`);
  }
  const round = (x: number, d = 1) => Number(x.toFixed(d));
  const json = (s: ReturnType<typeof summary>) => ({
    readsPerSec: Math.round(s.readsPerSec), pollsPerSec: Math.round(s.pollsPerSec), cpuUsPerRead: round(s.cpuUsPerRead),
    clientCpuPct: Math.round(s.clientCpuPct), simCpuPct: Math.round(s.simCpuPct), peakRssMiB: round(s.peakRssMiB), setupMs: Math.round(s.setupMs), errors: s.errors,
  });
  console.log(JSON.stringify({
    bench: 'modbus-poll', meters, ports: portCount, unitsPerPort, requestsPerSweep: perSweep, sliceSeconds: seconds, slices, warmup, bareDecode,
    nodeRedVersion: redVersion, nodeVersion: process.version,
    sides: Object.fromEntries(sides.map((side) => [side, json(summaries[side])])), ratio: round(ratio, 3), cpuPerReadRatio: round(cpuRatio('node'), 3), pairRatios: ratios.node.map((r) => round(r, 3)),
    ...(roots.size > 1 ? {
      compare: Object.fromEntries([...roots].filter(([side]) => side !== 'node').map(([side, root]) => [side, { root, ratio: round(median(ratios[side]), 3), pairRatios: ratios[side].map((r) => round(r, 3)) }])),
    } : {}),
  }));
}

const mode = process.argv[2];
const main = mode === 'sims' ? simsMain : mode === 'worker' ? workerMain : orchestrate;
main().catch((err: Error) => {
  if (mode === 'worker' && process.send) process.send({ type: 'error', message: err.stack ?? err.message });
  console.error(`bench:modbus${mode ? ` ${mode}` : ''}: ${err.stack ?? err.message}`);
  process.exit(1);
});

