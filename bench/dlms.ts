/**
 * `npm run bench:dlms`: DLMS readings per second through the ems-dlms-meter node (Node-RED embedded in the
 * bench process) against a bare loop of the library client alone (openTcpStream + WrapperChannel + DlmsSession
 * + DlmsClient, invocation counters in a FileCounterStore as the node keeps them), both polling the same simulated meters over the TCP wrapper, side by side; then the cost
 * of HLS-GMAC per APDU.
 *
 * Processes: the simulators (BENCH_METERS `ems-sim dlms` meters, one wrapper port each) run in a child
 * process, so their CPU time is not the measured sides'. Per meter both sides run one poll at a time, each
 * poll a whole association as the node makes it: connect, AARQ/AARE (HLS: passes 3 and 4), GET the six
 * default registers (scaler_units once per association), release, close. Slices alternate
 * (bare,node,node,bare,...) so load from elsewhere hits both alike; the ratio node/bare is the median of
 * adjacent pairs' ratios. Run for LLS and for HLS-GMAC (ciphered).
 *
 * HLS-GMAC per APDU: encoding a get-request and decoding a get-response with SC 0x30 (AES-128-GCM, tag
 * check) versus the same plain APDUs, in alternating rounds; microseconds per request/response pair.
 *
 * Environment: BENCH_SECONDS (per slice, default 2), BENCH_SLICES (per side, default 6), BENCH_METERS (4),
 * BENCH_LEVELS (lls,hls-gmac).
 * The last line of stdout is the figures as JSON.
 */
import { fork } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { benchUserDir, startEmbeddedNodeRed } from './embedded-user-dir';
import { DlmsSimulator } from '../lib/sim/dlms';
import { DEFAULT_AK, DEFAULT_EK } from '../lib/sim/dlms/cli';
import { DlmsClient } from '../lib/protocols/dlms/client';
import { FileCounterStore } from '../lib/protocols/dlms/counter';
import { DlmsSession } from '../lib/protocols/dlms/session';
import { WrapperChannel } from '../lib/protocols/dlms/transport-channel';
import { openTcpStream } from '../lib/protocols/dlms/transport';
import { parseObisList } from '../lib/protocols/dlms/meter';
import type { RegisterSpec } from '../lib/protocols/dlms/client';
import { decodeApdu, encodeCiphered } from '../lib/protocols/dlms/apdu';
import { encodeService } from '../lib/protocols/dlms/xdlms';

const ROOT = path.resolve(__dirname, '..', '..');
const KEYS = { encryptionKey: Buffer.from(DEFAULT_EK, 'hex'), authenticationKey: Buffer.from(DEFAULT_AK, 'hex') };
const BARE_TITLE = Buffer.from('4241524530303031', 'hex');
const NODE_TITLE = '4E4F444530303031';
type Level = 'lls' | 'hls-gmac';

const envNumber = (name: string, dflt: number) => {
  const v = Number(process.env[name] ?? dflt);
  if (!Number.isFinite(v) || v <= 0) throw new Error(`${name} must be a positive number, got ${JSON.stringify(process.env[name])}`);
  return v;
};
const median = (x: number[]) => [...x].sort((a, b) => a - b)[x.length >> 1];

// ------------------------------------------------------------------------------------------ simulators

async function simsMain(): Promise<void> {
  const n = Number(process.env.BENCH_METERS);
  const sims: DlmsSimulator[] = [];
  const ports: number[] = [];
  for (let i = 0; i < n; i++) {
    const s = new DlmsSimulator({ meterId: `BENCH${i}`, password: Buffer.from('12345678'), keys: KEYS, systemTitle: Buffer.from(`454D5300000000${(i + 0x40).toString(16)}`, 'hex'), logical: 1, physical: 17, utcOffsetMinutes: 60 });
    sims.push(s);
    ports.push(await s.listenWrapper(0));
  }
  process.send!({ ports });
  process.on('disconnect', () => { void Promise.all(sims.map((s) => s.close())).then(() => process.exit(0)); });
}

// ------------------------------------------------------------------------------------------ sides

const REGISTERS = parseObisList('') as RegisterSpec[];

/** One bare association: what the node does per poll, with the library alone. */
async function barePoll(port: number, level: Level, counters: FileCounterStore): Promise<number> {
  const stream = await openTcpStream('127.0.0.1', port, 5000);
  const hls = level === 'hls-gmac';
  const session = new DlmsSession({
    channel: new WrapperChannel(stream, { client: hls ? 0x30 : 0x20, server: 1, timeoutMs: 5000 }),
    mechanism: hls ? 'high-gmac' : 'low', password: hls ? undefined : Buffer.from('12345678'),
    keys: hls ? KEYS : undefined, systemTitle: hls ? BARE_TITLE : undefined, ciphered: hls, counters: hls ? counters : undefined,
  });
  await session.open();
  try {
    return (await new DlmsClient(session, { meter: `m${port}` }).readRegisters(REGISTERS)).length;
  } finally {
    await session.close();
  }
}

interface Side { poll(i: number): Promise<number> }

/** The bare loop keeps its counters as a real client must: a FileCounterStore per meter (persisted before use and at release). */
function bareSide(ports: number[], level: Level, dir: string): Side {
  const counters = ports.map((p) => new FileCounterStore(path.join(dir, `bare-${level}-${p}.json`)));
  return { poll: (i) => barePoll(ports[i], level, counters[i]) };
}

/**
 * Node-RED embedded in this process (no test helper: its sinon spies would cost the node side) with one
 * ems-dlms-meter per meter and level, wired to a sink. The secrets ride in msg.meter as the EMS sends them.
 */
async function startNodes(ports: number[], root: string): Promise<{ RED: any; userDir: string }> {
  const { userDir } = benchUserDir(root, 'ems-bench-dlms-');
  const flow: Record<string, unknown>[] = [{ id: 'tab', type: 'tab', label: 'bench' }];
  let y = 40;
  for (const level of ['lls', 'hls-gmac'] as const) {
    ports.forEach((port, i) => flow.push({
      id: `${level}-${i}`, z: 'tab', type: 'ems-dlms-meter', host: '127.0.0.1', port: String(port), serverAddress: '1', clientSap: '', security: level, systemTitle: NODE_TITLE,
      obis: '', baud: '9600', timeout: '5000', timeDifference: '0', system: '', meterId: `${level}-${i}`, x: 200, y: (y += 40), wires: [['sink']],
    }));
  }
  flow.push({ id: 'catch', z: 'tab', type: 'catch', scope: null, uncaught: false, x: 200, y: 20, wires: [['sink']] });
  flow.push({ id: 'sink', z: 'tab', type: 'ems-bench-sink', x: 500, y: 20, wires: [] });
  fs.writeFileSync(path.join(userDir, 'flows.json'), JSON.stringify(flow));
  return { RED: await startEmbeddedNodeRed(userDir), userDir };
}

function nodeSide(RED: any, ports: number[], level: Level): Side {
  const waiting = new Map<string, (n: number) => void>();
  const meter = { password: '12345678', encryption_key: DEFAULT_EK, authentication_key: DEFAULT_AK };
  RED.nodes.getNode('sink').on('input', (msg: any, _send: unknown, done: () => void) => {
    done();
    if (msg.error) {
      console.error(`node poll failed: ${msg.error.message}`);
      process.exit(1);
    }
    const resolve = waiting.get(msg.topic);
    waiting.delete(msg.topic);
    resolve?.((msg.payload as unknown[]).length);
  });
  return {
    poll: (i) => new Promise<number>((resolve) => {
      const id = `${level}-${i}`;
      waiting.set(id, resolve);
      RED.nodes.getNode(id).receive({ payload: '', meter });
    }),
  };
}

/** Every meter polled in its own loop for `seconds`; readings per second and CPU ms per reading. */
async function slice(side: Side, meters: number, seconds: number): Promise<{ perSecond: number; cpuMsPerReading: number }> {
  const end = Date.now() + seconds * 1000;
  const cpu0 = process.cpuUsage();
  const t0 = process.hrtime.bigint();
  const counts = await Promise.all(Array.from({ length: meters }, async (_, i) => {
    let n = 0;
    while (Date.now() < end) n += await side.poll(i);
    return n;
  }));
  const elapsed = Number(process.hrtime.bigint() - t0) / 1e9;
  const cpu = process.cpuUsage(cpu0);
  const total = counts.reduce((a, b) => a + b, 0);
  return { perSecond: total / elapsed, cpuMsPerReading: (cpu.user + cpu.system) / 1000 / total };
}

async function compare(RED: any, ports: number[], level: Level, seconds: number, slices: number, userDir: string) {
  const bare = bareSide(ports, level, userDir);
  const node = nodeSide(RED, ports, level);
  await slice(bare, ports.length, 0.5);
  await slice(node, ports.length, 0.5);
  const b: number[] = [], n: number[] = [], ratios: number[] = [], cpuB: number[] = [], cpuN: number[] = [];
  for (let k = 0; k < slices; k++) {
    const order = k % 2 === 0 ? [bare, node] : [node, bare];
    const r1 = await slice(order[0], ports.length, seconds);
    const r2 = await slice(order[1], ports.length, seconds);
    const [rb, rn] = order[0] === bare ? [r1, r2] : [r2, r1];
    b.push(rb.perSecond); n.push(rn.perSecond); ratios.push(rn.perSecond / rb.perSecond);
    cpuB.push(rb.cpuMsPerReading); cpuN.push(rn.cpuMsPerReading);
  }
  RED.nodes.getNode('sink').removeAllListeners('input');
  return { bare: median(b), node: median(n), ratio: median(ratios), cpuMsPerReadingBare: median(cpuB), cpuMsPerReadingNode: median(cpuN) };
}

// ------------------------------------------------------------------------------------------ HLS-GMAC per APDU

function gmacCost(): { plainMicros: number; cipheredMicros: number; extraMicros: number } {
  const invoke = { id: 1, confirmed: true, highPriority: true };
  const request = encodeService({ type: 'get-request', form: 'normal', invoke, request: { descriptor: { classId: 3, obis: '1-0:1.8.0.255', attribute: 2 } } });
  const response = encodeService({ type: 'get-response', form: 'normal', invoke, result: { data: { type: 'double-long-unsigned', value: 123456789 } } });
  const title = Buffer.from('454D530000000001', 'hex');
  const N = 20_000;
  let ic = 1;
  const cipheredResponse = encodeCiphered(response, { securityControl: 0x30, systemTitle: title, invocationCounter: 7, keys: KEYS });
  const plainPair = () => { encodeService({ type: 'get-request', form: 'normal', invoke, request: { descriptor: { classId: 3, obis: '1-0:1.8.0.255', attribute: 2 } } }); decodeApdu(response); };
  const cipheredPair = () => {
    encodeCiphered(request, { securityControl: 0x30, systemTitle: title, invocationCounter: ic++, keys: KEYS });
    decodeApdu(cipheredResponse, { keys: KEYS, systemTitle: title });
  };
  const time = (f: () => void) => { const t = process.hrtime.bigint(); for (let k = 0; k < N; k++) f(); return Number(process.hrtime.bigint() - t) / 1e3 / N; };
  const p: number[] = [], c: number[] = [];
  for (let round = 0; round < 9; round++) {
    if (round % 2) { c.push(time(cipheredPair)); p.push(time(plainPair)); } else { p.push(time(plainPair)); c.push(time(cipheredPair)); }
  }
  return { plainMicros: median(p), cipheredMicros: median(c), extraMicros: median(c) - median(p) };
}

// ------------------------------------------------------------------------------------------ main

async function main(): Promise<void> {
  const seconds = envNumber('BENCH_SECONDS', 2);
  const slices = Math.round(envNumber('BENCH_SLICES', 6));
  const meters = Math.round(envNumber('BENCH_METERS', 4));
  const child = fork(__filename, ['sims'], { env: { ...process.env, BENCH_METERS: String(meters) }, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  let userDir: string | undefined;
  let RED: any;
  try {
    const ports = await new Promise<number[]>((resolve, reject) => {
      child.once('message', (m: { ports: number[] }) => resolve(m.ports));
      child.once('exit', (code) => reject(new Error(`simulators exited with ${code}`)));
    });
    ({ RED, userDir } = await startNodes(ports, ROOT));
    const out: Record<string, unknown> = { meters, seconds, slices };
    const levels = (process.env.BENCH_LEVELS ?? 'lls,hls-gmac').split(',') as Level[];
    for (const level of levels) {
      if (level !== 'lls' && level !== 'hls-gmac') throw new Error(`BENCH_LEVELS: ${JSON.stringify(level)} is not lls or hls-gmac`);
      const r = await compare(RED, ports, level, seconds, slices, userDir);
      out[level] = r;
      console.log(`${level.padEnd(8)} readings/s: node ${r.node.toFixed(0)}, bare library ${r.bare.toFixed(0)}, ratio ${r.ratio.toFixed(3)} (goal >= 0.9); CPU ms/reading node ${r.cpuMsPerReadingNode.toFixed(3)}, bare ${r.cpuMsPerReadingBare.toFixed(3)}`);
    }
    const g = gmacCost();
    out.hlsGmacPerApdu = g;
    console.log(`HLS-GMAC (SC 0x30) per request/response pair: ${g.cipheredMicros.toFixed(2)} us vs plain ${g.plainMicros.toFixed(2)} us (+${g.extraMicros.toFixed(2)} us)`);
    console.log(JSON.stringify(out));
  } finally {
    await RED?.stop();
    child.disconnect();
    if (userDir) fs.rmSync(userDir, { recursive: true, force: true });
  }
}

if (process.argv[2] === 'sims') void simsMain();
else main().catch((e) => { console.error(e); process.exit(1); });
