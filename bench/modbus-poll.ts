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
 * ratios of adjacent slice pairs, the other figures are medians over slices.
 * "reads/s" = Modbus read requests answered per second; "polls/s" = meter polls completed per second.
 *
 * Environment: BENCH_SECONDS (measured seconds per slice, default 3), BENCH_SLICES (slices per side,
 * default 10), BENCH_WARMUP (seconds of polling before a worker's first slice, 2), BENCH_PORTS (10),
 * BENCH_UNITS (units per port, 10), BENCH_BARE_DECODE=1 (the bare loop also decodes each poll with
 * the lib's decodeReadings), BENCH_CPU_PROF=DIR (write a CPU profile of each worker's measured
 * slices, not its start-up, to DIR/modbus-poll-<side>.cpuprofile, for Chrome DevTools or VS Code),
 * BENCH_WORKER_ARGS (node options for the workers, e.g. "--max-semi-space-size=2"), BENCH_COMPARE=DIR[,DIR]
 * (other built checkouts: their nodes run as further sides node-b, node-c, ... in the same slices, to
 * A/B a change; only the nodes come from there, the bench and the simulators from this checkout).
 * The last line of stdout is the figures as JSON.
 */
import { fork, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import inspector from 'node:inspector';
import os from 'node:os';
import path from 'node:path';
import ModbusRTU from 'modbus-serial';
import { decodeReadings, loadProfile, planReads, type ReadPlan } from '../lib/protocols/modbus';
import type { ModbusMeterSimulator } from '../lib/sim/modbus-meter';

const ROOT = path.resolve(__dirname, '..', '..');
const PROFILES = ['eastron-sdm630', 'abb-a44', 'carlo-gavazzi-em24', 'schneider-iem3000', 'eastron-sdm120'];

/** bare, node, and node-b, node-c... for the checkouts listed in BENCH_COMPARE (A/B runs of a change). */
type Side = string;
interface PortLayout { port: number; units: { unit: number; profile: string }[] }
interface WorkerConfig { side: Side; root: string; ports: PortLayout[]; bareDecode: boolean; cpuProfDir?: string }
interface Slice {
  side: Side;
  seconds: number;
  reads: number;
  polls: number;
  errors: number;
  /** Worker CPU (user + system, all threads) over the measured window, ms. */
  cpuMs: number;
  /** Simulator process CPU over the same window, ms (filled in by the orchestrator). */
  simCpuMs: number;
  /** Worker RSS and V8 heap in use at the end of the window, bytes. */
  rss: number;
  heapUsed: number;
}
type ToWorker = { cmd: 'run'; seconds: number; warmup: number } | { cmd: 'close' };
type FromWorker =
  | { type: 'ready'; setupMs: number }
  | { type: 'mark'; at: 'start' | 'end' }
  | { type: 'slice'; slice: Slice }
  | { type: 'closed'; maxRss: number }
  | { type: 'error'; message: string };

function envNumber(name: string, fallback: number, integer = false): number {
  const text = process.env[name];
  if (text === undefined || text === '') return fallback;
  const n = Number(text);
  if (!Number.isFinite(n) || n < 0 || (integer && (!Number.isInteger(n) || n < 1))) {
    throw new Error(`${name} must be a ${integer ? 'positive integer' : 'number >= 0'}, got "${text}"`);
  }
  return n;
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
const mib = (bytes: number) => bytes / 1024 / 1024;
const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};

// ---------------------------------------------------------------------------------------------
// sims child: all simulators in one process; answers 'cpu' with its CPU time; exits when the parent goes.

async function simsMain(): Promise<void> {
  // Loaded here only, so the workers' RSS does not include the simulator code.
  const { ModbusMeterSimulator: Simulator } = await import('../lib/sim/modbus-meter');
  const layout = JSON.parse(process.env.BENCH_SIMS ?? '[]') as PortLayout[];
  const sims: ModbusMeterSimulator[] = [];
  const ports: number[] = [];
  for (const p of layout) {
    const sim = new Simulator({ units: p.units });
    ports.push(await sim.listen(0, '127.0.0.1'));
    sims.push(sim);
  }
  const close = async () => {
    await Promise.all(sims.map((s) => s.close()));
    process.exit(0);
  };
  process.on('message', (m) => {
    if (m === 'cpu') {
      const c = process.cpuUsage();
      process.send!({ type: 'cpu', ms: (c.user + c.system) / 1000 });
    } else if (m === 'close') void close();
  });
  process.on('disconnect', () => void close());
  process.on('SIGINT', () => { /* the orchestrator decides; its end disconnects us */ });
  process.send!({ type: 'ready', ports });
}

// ---------------------------------------------------------------------------------------------
// workers: set up once, then poll during each 'run' slice, stopping (and draining) in between.

interface Counters { reads: number; polls: number; errors: number }
interface Driver { start(): void; stop(): Promise<void>; close(): Promise<void> }

/** The bare side: one modbus-serial client per port; per port a loop over its units and their plan blocks. */
async function bareSide(cfg: WorkerConfig, counters: Counters): Promise<Driver> {
  const plans = new Map<string, ReadPlan>();
  const planOf = (id: string) => plans.get(id) ?? plans.set(id, planReads(loadProfile(id))).get(id)!;
  const ports = cfg.ports.map((p) => ({ client: new ModbusRTU(), port: p.port, meters: p.units.map((u) => ({ unit: u.unit, id: `p${p.port}-u${u.unit}`, plan: planOf(u.profile) })) }));
  for (const p of ports) {
    await p.client.connectTCP('127.0.0.1', { port: p.port });
    p.client.setTimeout(1000);
  }
  let running = false;
  let loops: Promise<void>[] = [];
  async function loop(c: ModbusRTU, meters: (typeof ports)[number]['meters']): Promise<void> {
    while (running) {
      for (const m of meters) {
        c.setID(m.unit);
        const data: Buffer[] = [];
        try {
          for (const b of m.plan.blocks) {
            const r = b.table === 'holding' ? await c.readHoldingRegisters(b.start, b.count) : await c.readInputRegisters(b.start, b.count);
            data.push(r.buffer);
          }
          if (cfg.bareDecode) decodeReadings(m.plan, data, { meter: m.id, time: Date.now() });
          counters.reads += m.plan.blocks.length;
          counters.polls++;
        } catch {
          counters.errors++;
        }
      }
    }
  }
  return {
    start() {
      running = true;
      loops = ports.map((p) => loop(p.client, p.meters));
    },
    async stop() {
      running = false; // each port finishes its sweep
      await Promise.all(loops);
    },
    async close() {
      await Promise.all(ports.map((p) => new Promise<void>((r) => p.client.close(() => r()))));
    },
  };
}

/** The node side: Node-RED embedded (RED.init + RED.start) with the suite linked into a temp userDir. */
async function nodeSide(cfg: WorkerConfig, counters: Counters): Promise<Driver> {
  const userDir = fs.mkdtempSync(path.join(os.tmpdir(), 'ems-bench-'));
  const modules = path.join(userDir, 'node_modules');
  fs.mkdirSync(path.join(modules, 'ems-bench-sink'), { recursive: true });
  fs.symlinkSync(cfg.root, path.join(modules, 'node-red-contrib-ems'), 'dir');
  // A do-nothing node type (like the test helper's "helper" node); the bench adds its input handler.
  const sinkDir = path.join(modules, 'ems-bench-sink');
  fs.writeFileSync(path.join(sinkDir, 'package.json'), JSON.stringify({ name: 'ems-bench-sink', version: '1.0.0', 'node-red': { nodes: { 'ems-bench-sink': 'sink.js' } } }));
  fs.writeFileSync(path.join(sinkDir, 'sink.js'), "module.exports = (RED) => RED.nodes.registerType('ems-bench-sink', function (n) { RED.nodes.createNode(this, n); });\n");
  fs.writeFileSync(path.join(sinkDir, 'sink.html'), '<script type="text/javascript">RED.nodes.registerType("ems-bench-sink",{category:"common",defaults:{},inputs:1,outputs:0});</script>\n');

  const flow: Record<string, unknown>[] = [{ id: 'tab', type: 'tab', label: 'bench' }];
  let y = 60;
  cfg.ports.forEach((p, i) => {
    flow.push({ id: `c${i}`, type: 'ems-modbus-client', name: '', transport: 'tcp', host: '127.0.0.1', port: String(p.port), timeout: '1000', retries: '1', interFrameGap: '0', queueLimit: '256' });
    for (const u of p.units) {
      // x/y make it a flow node (without them Node-RED takes a node for a config node).
      flow.push({
        id: `m${i}_${u.unit}`, z: 'tab', type: 'ems-modbus-meter', name: '', client: `c${i}`, meterId: `p${p.port}-u${u.unit}`, unit: String(u.unit),
        profile: u.profile, customProfile: '', ctRatio: '1', vtRatio: '1', interval: '0', x: 200, y: (y += 40), wires: [['sink']],
      });
    }
  });
  flow.push({ id: 'catch', z: 'tab', type: 'catch', scope: null, uncaught: false, x: 200, y: 20, wires: [['sink']] });
  flow.push({ id: 'sink', z: 'tab', type: 'ems-bench-sink', x: 500, y: 20, wires: [] });
  fs.writeFileSync(path.join(userDir, 'flows.json'), JSON.stringify(flow));

  try {
    return await startNodeRed(cfg, counters, userDir);
  } catch (err) {
    fs.rmSync(userDir, { recursive: true, force: true });
    throw err;
  }
}

async function startNodeRed(cfg: WorkerConfig, counters: Counters, userDir: string): Promise<Driver> {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const RED = require('node-red');
  const server = http.createServer(); // never listens: nobody opens the editor during the bench
  RED.init(server, {
    userDir, flowFile: 'flows.json', credentialSecret: 'ems-bench',
    httpAdminRoot: '/', httpNodeRoot: false, uiHost: '127.0.0.1',
    logging: { console: { level: 'error', metrics: false, audit: false } },
    editorTheme: { tours: false, palette: { catalogues: [] } },
    diagnostics: { enabled: false, ui: false }, runtimeState: { enabled: false, ui: false }, telemetry: { enabled: false },
    externalModules: { palette: { allowInstall: false }, autoInstall: false },
  });
  const started = new Promise<void>((resolve) => RED.events.once('flows:started', () => resolve()));
  await RED.start();
  await started;

  // Sweeps: all meters of a port get a msg at once (their requests queue on the port's bus); the
  // next sweep of the port starts when its last meter has answered.
  interface Port { meters: { receive(msg: object): void }[]; pending: number }
  const ports: Port[] = cfg.ports.map(() => ({ meters: [], pending: 0 }));
  const portOf = new Map<string, Port>();
  cfg.ports.forEach((p, i) => {
    for (const u of p.units) {
      const id = `m${i}_${u.unit}`;
      const n = RED.nodes.getNode(id);
      if (!n) throw new Error(`meter node ${id} did not start (see the Node-RED log above)`);
      ports[i].meters.push(n);
      portOf.set(`p${p.port}-u${u.unit}`, ports[i]); // msg.topic of its output
      portOf.set(id, ports[i]); // msg.error.source.id of its failures
    }
  });
  let running = false;
  const sweep = (port: Port) => {
    port.pending = port.meters.length;
    for (const m of port.meters) m.receive({ payload: 'sweep' });
  };
  const sink = RED.nodes.getNode('sink');
  sink.on('input', (msg: { topic?: string; meter?: { requests: number }; error?: { source?: { id?: string } } }, _send: unknown, done: () => void) => {
    done();
    let port: Port | undefined;
    if (msg.error) {
      counters.errors++;
      port = portOf.get(msg.error.source?.id ?? '');
    } else {
      counters.polls++;
      counters.reads += msg.meter!.requests;
      port = portOf.get(msg.topic ?? '');
    }
    if (port && --port.pending === 0 && running) sweep(port);
  });
  return {
    start() {
      running = true;
      ports.forEach(sweep);
    },
    async stop() {
      running = false; // each port finishes its sweep
      const deadline = Date.now() + 10_000;
      while (ports.some((p) => p.pending > 0)) {
        if (Date.now() > deadline) throw new Error('meters did not answer within 10 s after the slice');
        await sleep(5);
      }
    },
    async close() {
      await RED.stop();
      fs.rmSync(userDir, { recursive: true, force: true });
    },
  };
}

/** Starts the V8 sampling profiler in this process; the returned function stops it and gives the profile. */
async function startProfiler(): Promise<() => Promise<object>> {
  const session = new inspector.Session();
  session.connect();
  const post = (method: string, params?: object) => new Promise<any>((resolve, reject) => {
    session.post(method, params ?? {}, (err, res) => (err ? reject(err) : resolve(res)));
  });
  await post('Profiler.enable');
  await post('Profiler.start');
  return async () => {
    const { profile } = await post('Profiler.stop');
    session.disconnect();
    return profile;
  };
}

async function workerMain(): Promise<void> {
  const cfg = JSON.parse(process.env.BENCH_WORKER ?? '{}') as WorkerConfig;
  const send = (m: FromWorker) => process.send!(m);
  const counters: Counters = { reads: 0, polls: 0, errors: 0 };
  const t0 = performance.now();
  const driver = cfg.side === 'bare' ? await bareSide(cfg, counters) : await nodeSide(cfg, counters);
  let stopProfiler: (() => Promise<object>) | undefined;
  // Without the orchestrator (it failed, or Ctrl-C took it down) there is nothing to report to: tidy up
  // (Node-RED's temp userDir) and go. SIGINT is left to the orchestrator for the same reason.
  let closing = false;
  process.on('SIGINT', () => { /* the orchestrator decides; its end disconnects us */ });
  process.on('disconnect', () => {
    if (closing) return;
    closing = true;
    driver.stop().catch(() => undefined).then(() => driver.close()).catch(() => undefined).then(() => process.exit(0));
  });
  // One command at a time, in order.
  let queue = Promise.resolve();
  process.on('message', (m: ToWorker) => {
    queue = queue.then(async () => {
      if (m.cmd === 'run') {
        driver.start();
        await sleep(m.warmup * 1000);
        if (cfg.cpuProfDir && !stopProfiler) stopProfiler = await startProfiler();
        const before = { ...counters };
        const cpu0 = process.cpuUsage();
        const w0 = performance.now();
        send({ type: 'mark', at: 'start' });
        await sleep(m.seconds * 1000);
        const cpu = process.cpuUsage(cpu0);
        const seconds = (performance.now() - w0) / 1000;
        const { rss, heapUsed } = process.memoryUsage();
        send({ type: 'mark', at: 'end' });
        const after = { ...counters };
        await driver.stop();
        send({
          type: 'slice',
          slice: {
            side: cfg.side, seconds, simCpuMs: 0, cpuMs: (cpu.user + cpu.system) / 1000, rss, heapUsed,
            reads: after.reads - before.reads, polls: after.polls - before.polls, errors: after.errors - before.errors,
          },
        });
      } else {
        closing = true;
        if (stopProfiler) {
          fs.mkdirSync(cfg.cpuProfDir!, { recursive: true });
          fs.writeFileSync(path.join(cfg.cpuProfDir!, `modbus-poll-${cfg.side}.cpuprofile`), JSON.stringify(await stopProfiler()));
        }
        await driver.close();
        send({ type: 'closed', maxRss: process.resourceUsage().maxRSS * 1024 });
        process.disconnect();
      }
    }).catch((err: Error) => {
      send({ type: 'error', message: err.stack ?? err.message });
      process.exit(1);
    });
  });
  send({ type: 'ready', setupMs: performance.now() - t0 });
}

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
  const bareDecode = process.env.BENCH_BARE_DECODE === '1';
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
  for (const side of sides.filter((x) => x !== 'bare')) {
    const rs = ratios[side];
    const r = median(rs);
    console.log(`ratio (${side}/bare) = ${r.toFixed(2)}  (median of ${rs.length} adjacent slice pairs, range ${Math.min(...rs).toFixed(2)}..${Math.max(...rs).toFixed(2)}` +
      `${side === 'node' ? `; target >= 0.90: ${r >= 0.9 ? 'met' : 'NOT met'}` : `; ${roots.get(side)}`})`);
  }
  const round = (x: number, d = 1) => Number(x.toFixed(d));
  const json = (s: ReturnType<typeof summary>) => ({
    readsPerSec: Math.round(s.readsPerSec), pollsPerSec: Math.round(s.pollsPerSec), cpuUsPerRead: round(s.cpuUsPerRead),
    clientCpuPct: Math.round(s.clientCpuPct), simCpuPct: Math.round(s.simCpuPct), peakRssMiB: round(s.peakRssMiB), setupMs: Math.round(s.setupMs), errors: s.errors,
  });
  console.log(JSON.stringify({
    bench: 'modbus-poll', meters, ports: portCount, unitsPerPort, requestsPerSweep: perSweep, sliceSeconds: seconds, slices, warmup, bareDecode,
    nodeRedVersion: redVersion, nodeVersion: process.version,
    sides: Object.fromEntries(sides.map((side) => [side, json(summaries[side])])), ratio: round(ratio, 3), pairRatios: ratios.node.map((r) => round(r, 3)),
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
