// The modbus-poll benchmark's child processes: the simulators, and one worker per side.
import fs from 'node:fs';
import inspector from 'node:inspector';
import path from 'node:path';
import ModbusRTU from 'modbus-serial';
import { decodeReadings, loadProfile, planReads, type ReadPlan } from '../../lib/protocols/modbus';
import type { ModbusMeterSimulator } from '../../lib/sim/modbus-meter';
import { sleep, type FromWorker, type PortLayout, type ToWorker, type WorkerConfig } from './common';
import { benchUserDir, startEmbeddedNodeRed } from '../embedded-user-dir';

// ---------------------------------------------------------------------------------------------
// sims child: all simulators in one process; answers 'cpu' with its CPU time; exits when the parent goes.

export async function simsMain(): Promise<void> {
  // Loaded here only, so the workers' RSS does not include the simulator code.
  const { ModbusMeterSimulator: Simulator } = await import('../../lib/sim/modbus-meter');
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
  const { userDir } = benchUserDir(cfg.root, 'ems-bench-');

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
  const RED = await startEmbeddedNodeRed(userDir);

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

export async function workerMain(): Promise<void> {
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

