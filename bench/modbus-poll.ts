/**
 * `npm run bench:modbus`: Modbus TCP polling throughput of the ems-modbus-meter node inside a real
 * Node-RED runtime against a bare modbus-serial loop doing the same reads, side by side.
 *
 * Processes (so each side's CPU and peak RSS are its own):
 *   orchestrator (this file, no arguments)
 *     +- sims child: every simulated meter (PORTS Modbus TCP servers x UNITS units), for the whole run
 *     +- one worker child per side and round:
 *          bare: one modbus-serial client per port, looping over its units and their plan blocks
 *          node: Node-RED embedded with RED.init/RED.start (temp userDir, this checkout linked into its
 *                node_modules), PORTS ems-modbus-client + PORTS*UNITS ems-modbus-meter nodes; each
 *                meter's output goes to a sink node whose input handler re-injects a fresh msg into
 *                that meter, so every meter polls back to back (as an inject node would drive it).
 * Rounds alternate the order (bare,node / node,bare / ...) to cancel drift; figures are medians.
 * "reads/s" = Modbus read requests answered per second; "polls/s" = meter polls completed per second.
 *
 * Environment: BENCH_SECONDS (measured seconds per side and round, default 10), BENCH_ROUNDS (3),
 * BENCH_WARMUP (seconds before measuring, 2), BENCH_PORTS (10), BENCH_UNITS (units per port, 10),
 * BENCH_BARE_DECODE=1 (the bare loop also decodes each poll with the lib's decodeReadings),
 * BENCH_CPU_PROF=DIR (write a CPU profile of each side's measured window, not its start-up, to
 * DIR/modbus-poll-<side>-r<round>.cpuprofile; open it in Chrome DevTools or VS Code), BENCH_WORKER_ARGS
 * (node options for the workers, e.g. "--max-semi-space-size=32").
 * Last line of stdout: the figures as JSON.
 */
import { fork, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import inspector from 'node:inspector';
import os from 'node:os';
import path from 'node:path';
import ModbusRTU from 'modbus-serial';
import { decodeReadings, loadProfile, planReads, type ReadPlan } from '../lib/protocols/modbus';
import { ModbusMeterSimulator } from '../lib/sim/modbus-meter';

const ROOT = path.resolve(__dirname, '..', '..');
const PROFILES = ['eastron-sdm630', 'abb-a44', 'carlo-gavazzi-em24', 'schneider-iem3000', 'eastron-sdm120'];

type Side = 'bare' | 'node';
interface PortLayout { port: number; units: { unit: number; profile: string }[] }
interface WorkerConfig { side: Side; round: number; ports: PortLayout[]; seconds: number; warmup: number; bareDecode: boolean; cpuProfDir?: string }
interface WorkerResult {
  side: Side;
  seconds: number;
  reads: number;
  polls: number;
  errors: number;
  /** Client CPU (user + system) over the measured window, ms. */
  cpuMs: number;
  /** Peak RSS of the worker process over its life (getrusage maxrss), bytes. */
  maxRss: number;
  /** Highest sampled RSS during the measured window, bytes. */
  windowRss: number;
  setupMs: number;
}
type FromWorker = { type: 'mark'; at: 'start' | 'end' } | { type: 'result'; result: WorkerResult } | { type: 'error'; message: string };

function envNumber(name: string, fallback: number, integer = false): number {
  const text = process.env[name];
  if (text === undefined || text === '') return fallback;
  const n = Number(text);
  if (!Number.isFinite(n) || n <= 0 || (integer && !Number.isInteger(n))) throw new Error(`${name} must be a positive ${integer ? 'integer' : 'number'}, got "${text}"`);
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
  const layout = JSON.parse(process.env.BENCH_SIMS ?? '[]') as PortLayout[];
  const sims: ModbusMeterSimulator[] = [];
  const ports: number[] = [];
  for (const p of layout) {
    const sim = new ModbusMeterSimulator({ units: p.units });
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
  process.send!({ type: 'ready', ports });
}

// ---------------------------------------------------------------------------------------------
// worker child: one side, one round.

interface Counters { reads: number; polls: number; errors: number }

/** The bare side: one modbus-serial client per port; per port the units and their plan blocks in turn. */
async function bareSide(cfg: WorkerConfig, counters: Counters) {
  const plans = new Map<string, ReadPlan>();
  const planOf = (id: string) => plans.get(id) ?? plans.set(id, planReads(loadProfile(id))).get(id)!;
  const clients: ModbusRTU[] = [];
  for (const p of cfg.ports) {
    const c = new ModbusRTU();
    await c.connectTCP('127.0.0.1', { port: p.port });
    c.setTimeout(1000);
    clients.push(c);
  }
  let running = true;
  const loops: Promise<void>[] = [];
  const start = () => {
    cfg.ports.forEach((p, i) => {
      const c = clients[i];
      const meters = p.units.map((u) => ({ unit: u.unit, id: `m${p.port}_${u.unit}`, plan: planOf(u.profile) }));
      loops.push((async () => {
        while (running) {
          for (const m of meters) {
            if (!running) break;
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
      })());
    });
  };
  const stop = async () => {
    running = false;
    await Promise.all(loops);
    await Promise.all(clients.map((c) => new Promise<void>((r) => c.close(() => r()))));
  };
  return { start, stop };
}

/** The node side: Node-RED embedded (RED.init + RED.start) with the suite linked into a temp userDir. */
async function nodeSide(cfg: WorkerConfig, counters: Counters) {
  const userDir = fs.mkdtempSync(path.join(os.tmpdir(), 'ems-bench-'));
  const modules = path.join(userDir, 'node_modules');
  fs.mkdirSync(path.join(modules, 'ems-bench-sink'), { recursive: true });
  fs.symlinkSync(ROOT, path.join(modules, 'node-red-contrib-ems'), 'dir');
  // A do-nothing node type (like the test helper's "helper" node); the bench adds its input handler.
  const sinkDir = path.join(modules, 'ems-bench-sink');
  fs.writeFileSync(path.join(sinkDir, 'package.json'), JSON.stringify({ name: 'ems-bench-sink', version: '1.0.0', 'node-red': { nodes: { 'ems-bench-sink': 'sink.js' } } }));
  fs.writeFileSync(path.join(sinkDir, 'sink.js'), "module.exports = (RED) => RED.nodes.registerType('ems-bench-sink', function (n) { RED.nodes.createNode(this, n); });\n");
  fs.writeFileSync(path.join(sinkDir, 'sink.html'), '<script type="text/javascript">RED.nodes.registerType("ems-bench-sink",{category:"common",defaults:{},inputs:1,outputs:0});</script>\n');

  const flow: Record<string, unknown>[] = [{ id: 'tab', type: 'tab', label: 'bench' }];
  const meterIds: string[] = [];
  cfg.ports.forEach((p, i) => {
    flow.push({ id: `c${i}`, type: 'ems-modbus-client', name: '', transport: 'tcp', host: '127.0.0.1', port: String(p.port), timeout: '1000', retries: '1', interFrameGap: '0', queueLimit: '256' });
    for (const u of p.units) {
      const id = `m${i}_${u.unit}`;
      meterIds.push(id);
      // x/y make it a flow node (without them Node-RED takes a node for a config node).
      flow.push({
        id, z: 'tab', type: 'ems-modbus-meter', name: '', client: `c${i}`, meterId: `meter-${id}`, unit: String(u.unit), profile: u.profile,
        customProfile: '', ctRatio: '1', vtRatio: '1', interval: '0', x: 200, y: 40 + 40 * meterIds.length, wires: [['sink']],
      });
    }
  });
  flow.push({ id: 'catch', z: 'tab', type: 'catch', scope: null, uncaught: false, x: 200, y: 20, wires: [['sink']] });
  flow.push({ id: 'sink', z: 'tab', type: 'ems-bench-sink', x: 500, y: 20, wires: [] });
  fs.writeFileSync(path.join(userDir, 'flows.json'), JSON.stringify(flow));

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

  const meters = new Map<string, { receive(msg: object): void }>();
  for (const id of meterIds) {
    const n = RED.nodes.getNode(id);
    if (!n) throw new Error(`meter node ${id} did not start (see the Node-RED log above)`);
    meters.set(`meter-${id}`, n); // msg.topic of its output
    meters.set(id, n); // msg.error.source.id of its failures
  }
  const sink = RED.nodes.getNode('sink');
  let running = false;
  let inFlight = 0;
  sink.on('input', (msg: { topic?: string; meter?: { requests: number }; error?: { source?: { id?: string } } }, _send: unknown, done: () => void) => {
    done();
    inFlight--;
    let id: string | undefined;
    if (msg.error) {
      counters.errors++;
      id = msg.error.source?.id;
    } else {
      counters.polls++;
      counters.reads += msg.meter!.requests;
      id = msg.topic;
    }
    const meter = id === undefined ? undefined : meters.get(id);
    if (running && meter) {
      inFlight++;
      meter.receive({ payload: 'tick' });
    }
  });
  const start = () => {
    running = true;
    for (const id of meterIds) {
      inFlight++;
      meters.get(id)!.receive({ payload: 'tick' });
    }
  };
  const stop = async () => {
    running = false;
    const deadline = Date.now() + 5000;
    while (inFlight > 0 && Date.now() < deadline) await sleep(10);
    await RED.stop();
    fs.rmSync(userDir, { recursive: true, force: true });
  };
  return { start, stop };
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
  const side = cfg.side === 'bare' ? await bareSide(cfg, counters) : await nodeSide(cfg, counters);
  const setupMs = performance.now() - t0;
  side.start();
  await sleep(cfg.warmup * 1000);

  let windowRss = 0;
  const sampler = setInterval(() => { windowRss = Math.max(windowRss, process.memoryUsage.rss()); }, 100);
  const profiler = cfg.cpuProfDir ? await startProfiler() : undefined;
  const before = { ...counters };
  const cpu0 = process.cpuUsage();
  const w0 = performance.now();
  send({ type: 'mark', at: 'start' });
  await sleep(cfg.seconds * 1000);
  const cpu = process.cpuUsage(cpu0);
  const seconds = (performance.now() - w0) / 1000;
  const after = { ...counters };
  send({ type: 'mark', at: 'end' });
  if (profiler) {
    fs.mkdirSync(cfg.cpuProfDir!, { recursive: true });
    fs.writeFileSync(path.join(cfg.cpuProfDir!, `modbus-poll-${cfg.side}-r${cfg.round}.cpuprofile`), JSON.stringify(await profiler()));
  }
  clearInterval(sampler);
  windowRss = Math.max(windowRss, process.memoryUsage.rss());

  await side.stop();
  send({
    type: 'result',
    result: {
      side: cfg.side, seconds, setupMs,
      reads: after.reads - before.reads, polls: after.polls - before.polls, errors: after.errors - before.errors,
      cpuMs: (cpu.user + cpu.system) / 1000,
      maxRss: process.resourceUsage().maxRSS * 1024, windowRss,
    },
  });
  process.disconnect();
}

// ---------------------------------------------------------------------------------------------
// orchestrator

interface Round extends WorkerResult { simCpuMs: number; round: number }

function startSims(layout: PortLayout[]): Promise<{ child: ChildProcess; ports: number[]; cpu: () => Promise<number> }> {
  const child = fork(__filename, ['sims'], { env: { ...process.env, BENCH_SIMS: JSON.stringify(layout) }, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const waiting: ((ms: number) => void)[] = [];
  return new Promise((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`simulators exited with ${code}`)));
    child.on('message', (m: { type: string; ports?: number[]; ms?: number }) => {
      if (m.type === 'ready') {
        resolve({
          child, ports: m.ports!,
          cpu: () => new Promise<number>((r) => { waiting.push(r); child.send('cpu'); }),
        });
      } else if (m.type === 'cpu') waiting.shift()?.(m.ms!);
    });
  });
}

function runWorker(cfg: WorkerConfig, simCpu: () => Promise<number>): Promise<WorkerResult & { simCpuMs: number }> {
  const execArgv = (process.env.BENCH_WORKER_ARGS ?? '').split(/\s+/).filter(Boolean);
  const child = fork(__filename, ['worker'], { env: { ...process.env, BENCH_WORKER: JSON.stringify(cfg) }, execArgv, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  let simStart: Promise<number> | undefined;
  let simEnd: Promise<number> | undefined;
  let result: WorkerResult | undefined;
  let failure = '';
  return new Promise((resolve, reject) => {
    child.on('message', (m: FromWorker) => {
      if (m.type === 'mark') {
        if (m.at === 'start') simStart = simCpu();
        else simEnd = simCpu();
      } else if (m.type === 'result') result = m.result;
      else failure = m.message;
    });
    child.once('exit', (code) => {
      if (!result || !simStart || !simEnd) return reject(new Error(`${cfg.side} worker exited with ${code}${failure ? `: ${failure}` : ''}`));
      const r = result;
      Promise.all([simStart, simEnd]).then(([a, b]) => resolve({ ...r, simCpuMs: b - a }), reject);
    });
  });
}

function fmt(n: number, digits = 0): string {
  return n.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
}

async function orchestrate(): Promise<void> {
  const seconds = envNumber('BENCH_SECONDS', 10);
  const rounds = envNumber('BENCH_ROUNDS', 3, true);
  const warmup = envNumber('BENCH_WARMUP', 2);
  const portCount = envNumber('BENCH_PORTS', 10, true);
  const unitsPerPort = envNumber('BENCH_UNITS', 10, true);
  const bareDecode = process.env.BENCH_BARE_DECODE === '1';
  const cpuProfDir = process.env.BENCH_CPU_PROF ? path.resolve(process.env.BENCH_CPU_PROF) : undefined;
  const layout: PortLayout[] = Array.from({ length: portCount }, (_, p) => ({
    port: 0,
    units: Array.from({ length: unitsPerPort }, (_, i) => ({ unit: i + 1, profile: PROFILES[(p * unitsPerPort + i) % PROFILES.length] })),
  }));
  const blocks = (id: string) => planReads(loadProfile(id)).blocks.length;
  const perSweep = layout.reduce((s, p) => s + p.units.reduce((t, u) => t + blocks(u.profile), 0), 0);
  const meters = portCount * unitsPerPort;
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const redVersion = (require('node-red/package.json') as { version: string }).version;
  const mix = PROFILES.map((id) => `${id} (${blocks(id)} req)`).join(', ');
  console.log(`modbus poll bench: ${meters} meters = ${portCount} Modbus TCP ports x ${unitsPerPort} units, ${perSweep} read requests per sweep of all meters`);
  console.log(`  profiles (round-robin): ${mix}`);
  console.log(`  simulators in one child process; each side runs in its own worker process; ${rounds} rounds x ${seconds} s measured (+${warmup} s warm-up), order alternating`);
  console.log(`  node: Node-RED ${redVersion} embedded (RED.init/RED.start), meter -> sink node re-injects; bare: modbus-serial, one client per port, sequential, ${bareDecode ? 'decoding with decodeReadings' : 'no decoding'}`);
  console.log(`  node ${process.version}, ${os.cpus().length} CPUs (${os.cpus()[0]?.model ?? '?'})`);

  const sims = await startSims(layout);
  layout.forEach((p, i) => { p.port = sims.ports[i]; });
  const results: Round[] = [];
  try {
    for (let r = 0; r < rounds; r++) {
      const order: Side[] = r % 2 === 0 ? ['bare', 'node'] : ['node', 'bare'];
      for (const side of order) {
        const res = await runWorker({ side, round: r + 1, ports: layout, seconds, warmup, bareDecode, cpuProfDir }, sims.cpu);
        results.push({ ...res, round: r + 1 });
        console.log(`  round ${r + 1} ${side.padEnd(4)}: ${fmt(res.reads / res.seconds).padStart(7)} reads/s ${fmt(res.polls / res.seconds).padStart(6)} polls/s` +
          `  client CPU ${fmt((100 * res.cpuMs) / (res.seconds * 1000)).padStart(3)}% (${fmt((1000 * res.cpuMs) / Math.max(res.reads, 1), 1)} us/read)` +
          `  sim CPU ${fmt((100 * res.simCpuMs) / (res.seconds * 1000)).padStart(3)}%  peak RSS ${fmt(mib(res.maxRss), 1)} MiB` +
          `  errors ${res.errors}  setup ${fmt(res.setupMs)} ms`);
      }
    }
  } finally {
    sims.child.send('close');
    await new Promise((r) => { if (sims.child.exitCode !== null) r(null); else sims.child.once('exit', r); });
  }

  const summary = (side: Side) => {
    const rs = results.filter((x) => x.side === side);
    return {
      readsPerSec: median(rs.map((x) => x.reads / x.seconds)),
      pollsPerSec: median(rs.map((x) => x.polls / x.seconds)),
      cpuUsPerRead: median(rs.map((x) => (1000 * x.cpuMs) / Math.max(x.reads, 1))),
      clientCpuPct: median(rs.map((x) => (100 * x.cpuMs) / (x.seconds * 1000))),
      simCpuPct: median(rs.map((x) => (100 * x.simCpuMs) / (x.seconds * 1000))),
      peakRssMiB: Math.max(...rs.map((x) => mib(x.maxRss))),
      windowRssMiB: Math.max(...rs.map((x) => mib(x.windowRss))),
      errors: rs.reduce((s, x) => s + x.errors, 0),
    };
  };
  const bare = summary('bare');
  const node = summary('node');
  const ratio = node.readsPerSec / bare.readsPerSec;
  console.log('');
  console.log('side   reads/s   polls/s   client CPU   CPU us/read   sim CPU   peak RSS MiB');
  for (const [name, s] of [['bare', bare], ['node', node]] as const) {
    console.log(`${name.padEnd(4)} ${fmt(s.readsPerSec).padStart(9)} ${fmt(s.pollsPerSec).padStart(9)} ${(fmt(s.clientCpuPct) + '%').padStart(12)}` +
      ` ${fmt(s.cpuUsPerRead, 1).padStart(13)} ${(fmt(s.simCpuPct) + '%').padStart(9)} ${fmt(s.peakRssMiB, 1).padStart(14)}`);
  }
  console.log(`ratio (node/bare) = ${ratio.toFixed(2)}  (medians of ${rounds} rounds; target >= 0.90${ratio >= 0.9 ? ', met' : ', NOT met'})`);
  console.log(JSON.stringify({
    bench: 'modbus-poll', meters, ports: portCount, unitsPerPort, requestsPerSweep: perSweep, seconds, rounds, warmup, bareDecode,
    nodeRed: redVersion, node: process.version, bare, nodeRed_: node, ratio: Number(ratio.toFixed(3)),
    rounds_: results.map((x) => ({ round: x.round, side: x.side, readsPerSec: Math.round(x.reads / x.seconds), pollsPerSec: Math.round(x.polls / x.seconds), cpuUsPerRead: Number(((1000 * x.cpuMs) / Math.max(x.reads, 1)).toFixed(1)), simCpuPct: Math.round((100 * x.simCpuMs) / (x.seconds * 1000)), peakRssMiB: Number(mib(x.maxRss).toFixed(1)), errors: x.errors })),
  }));
}

const mode = process.argv[2];
const main = mode === 'sims' ? simsMain : mode === 'worker' ? workerMain : orchestrate;
main().catch((err: Error) => {
  if (mode === 'worker' && process.send) process.send({ type: 'error', message: err.stack ?? err.message });
  console.error(`bench:modbus ${mode ?? ''}: ${err.stack ?? err.message}`);
  process.exit(1);
});
