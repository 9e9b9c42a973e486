// The store-write benchmark's worker process: one side, set up once, then writes the slices of readings it is
// told to (the orchestrator interleaves the sides slice by slice), then closes and reports its peak RSS.
import fs from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import zlib from 'node:zlib';
import Database from 'better-sqlite3';
import { encodeReadings } from '../../lib/store/influxdb/line-protocol';
import { readings, sleep, type FromWorker, type ToWorker, type WorkerConfig } from './common';
import { benchUserDir, startEmbeddedNodeRed } from '../embedded-user-dir';

const gzipAsync = promisify(zlib.gzip);

interface Counters { acked: number; errors: number; firstError?: string }
interface Driver { run(counters: Counters, from: number, to: number): Promise<void>; close(): Promise<void> }

function fail(counters: Counters, message: string): void {
  counters.errors++;
  counters.firstError ??= message;
}

/** sqlite-bare: better-sqlite3, the store's table and pragmas, a prepared INSERT in transactions of `batch` rows. */
function sqliteBare(cfg: WorkerConfig): Driver {
  const db = new Database(cfg.file!);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  db.exec(`CREATE TABLE IF NOT EXISTS readings (
    meter TEXT NOT NULL, obis TEXT NOT NULL, time INTEGER NOT NULL,
    value REAL NOT NULL, unit TEXT NOT NULL, quality INTEGER,
    PRIMARY KEY (meter, obis, time)
  ) WITHOUT ROWID`);
  const insert = db.prepare('INSERT INTO readings (meter, obis, time, value, unit, quality) VALUES (?, ?, ?, ?, ?, ?)');
  const tx = db.transaction((rows: ReturnType<typeof readings>) => {
    for (const r of rows) insert.run(r.meter, r.obis, r.time, r.value, r.unit, r.quality ?? null);
  });
  return {
    async run(counters, from, to) {
      for (let i = from, k = 0; i < to; i += cfg.batch, k++) {
        const rows = readings(i, Math.min(cfg.batch, to - i));
        tx(rows);
        counters.acked += rows.length;
        if (k % 20 === 19) await sleep(0); // let IPC through, as the event loop of a runtime would
      }
    },
    async close() {
      const n = (db.prepare('SELECT count(*) FROM readings').pluck().get() as number);
      verified = n;
      db.close();
    },
  };
}

/**
 * vm-bare: the lib's encodeReadings, then one POST per `batch` lines, one at a time, gzipped with
 * zlib's default level (what the store's client library sends: the same bytes on the wire and the
 * same decompression work for the server). vm-bare-plain: the same, not gzipped (for reference).
 */
function vmBare(cfg: WorkerConfig, gzip: boolean): Driver {
  const url = `${cfg.url}/api/v2/write?org=ems&bucket=ems&precision=ms`;
  const headers: Record<string, string> = { 'Content-Type': 'text/plain; charset=utf-8', Authorization: 'Token bench' };
  if (gzip) headers['Content-Encoding'] = 'gzip';
  return {
    async run(counters, from, to) {
      for (let i = from; i < to; i += cfg.batch) {
        const rows = readings(i, Math.min(cfg.batch, to - i));
        const text = encodeReadings(rows).join('\n');
        const body = gzip ? await gzipAsync(text) : text;
        const res = await fetch(url, { method: 'POST', body, headers });
        await res.arrayBuffer();
        if (res.ok) counters.acked += rows.length;
        else fail(counters, `HTTP ${res.status}`);
      }
    },
    async close() { /* nothing held */ },
  };
}

let verified: number | undefined;

/** The node sides: Node-RED embedded (RED.init + RED.start) with the suite (and node-red-contrib-influxdb) in a temp userDir. */
async function nodeSide(cfg: WorkerConfig, counters: Counters): Promise<Driver> {
  const { userDir, modules } = benchUserDir(cfg.root, 'ems-bench-store-');

  const flow: Record<string, unknown>[] = [{ id: 'tab', type: 'tab', label: 'bench' }];
  if (cfg.side === 'influx1-contrib') {
    fs.symlinkSync(path.join(cfg.root, 'node_modules', 'node-red-contrib-influxdb'), path.join(modules, 'node-red-contrib-influxdb'), 'dir');
    const u = new URL(cfg.url!);
    flow.push({ id: 'conn', type: 'influxdb', hostname: u.hostname, port: u.port, protocol: 'http', database: cfg.database, name: '', usetls: false, tls: '', influxdbVersion: '1.x', url: cfg.url, rejectUnauthorized: false });
    flow.push({ id: 'writer', z: 'tab', type: 'influxdb batch', influxdb: 'conn', precision: 'ms', retentionPolicy: '', name: '', database: cfg.database, precisionV18FluxV20: 'ms', retentionPolicyV18Flux: '', org: '', bucket: '', x: 200, y: 60, wires: [] });
    // The batch node has no output: a complete node reports each msg it is done with.
    flow.push({ id: 'complete', z: 'tab', type: 'complete', scope: ['writer'], uncaught: false, x: 200, y: 100, wires: [['sink']] });
  } else {
    const store: Record<string, unknown> = { id: 'store', type: 'ems-store', name: '', timeZone: 'UTC', path: '', version: '1', url: '', database: '', retentionPolicy: '', org: '', bucket: '', batchSize: String(cfg.batch), flushInterval: '1000', spoolDir: '' };
    if (cfg.side === 'sqlite-node') Object.assign(store, { backend: 'sqlite', path: 'bench.sqlite' });
    else if (cfg.side === 'vm-node') Object.assign(store, { backend: 'influxdb', version: '2', url: cfg.url, org: 'ems', bucket: 'ems' });
    else Object.assign(store, { backend: 'influxdb', version: '1', url: cfg.url, database: cfg.database });
    flow.push(store);
    flow.push({ id: 'writer', z: 'tab', type: 'ems-store-write', name: '', store: 'store', batchSize: String(cfg.batch), flushInterval: '1000', x: 200, y: 60, wires: [['sink']] });
  }
  flow.push({ id: 'catch', z: 'tab', type: 'catch', scope: null, uncaught: false, x: 200, y: 20, wires: [['sink']] });
  flow.push({ id: 'sink', z: 'tab', type: 'ems-bench-sink', x: 500, y: 20, wires: [] });
  fs.writeFileSync(path.join(userDir, 'flows.json'), JSON.stringify(flow));

  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  let RED: any;
  try {
    RED = await startEmbeddedNodeRed(userDir);
  } catch (err) {
    fs.rmSync(userDir, { recursive: true, force: true });
    throw err;
  }
  const writer = RED.nodes.getNode('writer');
  if (!writer) throw new Error('the writer node did not start (see the Node-RED log above)');
  const contrib = cfg.side === 'influx1-contrib';
  // node-red-contrib-influxdb's batch node writes each msg as one request: give it msgs of `batch`
  // points, so it puts the same number of requests on the wire as the other sides.
  const perMsg = contrib ? cfg.batch : cfg.perMsg;
  const sizes = new Map<string, number>(); // msg id -> readings (the catch/complete msgs keep _msgid)
  let inFlight = 0;
  let wake: (() => void) | undefined;
  const sink = RED.nodes.getNode('sink');
  sink.on('input', (msg: { _msgid: string; stored?: number; error?: { message?: string } }, _send: unknown, done: () => void) => {
    done();
    const n = sizes.get(msg._msgid) ?? 0;
    sizes.delete(msg._msgid);
    inFlight -= n;
    if (msg.error) fail(counters, msg.error.message ?? 'error');
    else counters.acked += contrib ? n : msg.stored ?? 0;
    wake?.();
  });
  let msgId = 0;
  const message = (from: number, count: number) => {
    const rows = readings(from, count);
    const _msgid = `bench-${msgId++}`;
    sizes.set(_msgid, count);
    if (!contrib) return { _msgid, payload: rows };
    return {
      _msgid,
      payload: rows.map((r) => ({ measurement: 'ems_reading', tags: { meter: r.meter, obis: r.obis, unit: r.unit }, fields: { quality: 0, value: r.value }, timestamp: r.time })),
    };
  };
  return {
    async run(_counters, from, to) {
      let sent = from;
      while (sent < to) {
        while (inFlight + perMsg > cfg.window && inFlight > 0) await new Promise<void>((r) => { wake = r; });
        wake = undefined;
        const n = Math.min(perMsg, to - sent);
        const msg = message(sent, n);
        sent += n;
        inFlight += n;
        writer.receive(msg);
        if (msgId % 10 === 0) await sleep(0);
      }
      while (inFlight > 0) await new Promise<void>((r) => { wake = r; });
    },
    async close() {
      await RED.stop();
      if (cfg.side === 'sqlite-node') {
        const db = new Database(path.join(userDir, 'bench.sqlite'), { readonly: true });
        verified = db.prepare('SELECT count(*) FROM readings').pluck().get() as number;
        db.close();
      }
      fs.rmSync(userDir, { recursive: true, force: true });
    },
  };
}

export async function workerMain(): Promise<void> {
  const cfg = JSON.parse(process.env.BENCH_WORKER ?? '{}') as WorkerConfig;
  const send = (m: FromWorker) => process.send!(m);
  const counters: Counters = { acked: 0, errors: 0 };
  const t0 = performance.now();
  const driver = cfg.side === 'sqlite-bare' ? sqliteBare(cfg) : cfg.side === 'vm-bare' || cfg.side === 'vm-bare-plain' ? vmBare(cfg, cfg.side === 'vm-bare') : await nodeSide(cfg, counters);
  const setupMs = performance.now() - t0;
  process.on('SIGINT', () => { /* the orchestrator decides */ });
  process.on('disconnect', () => { void driver.close().catch(() => undefined).then(() => process.exit(0)); });
  const runSlice = async (from: number, to: number) => {
    const before = { ...counters };
    const cpu0 = process.cpuUsage();
    const w0 = performance.now();
    await driver.run(counters, from, to);
    const seconds = (performance.now() - w0) / 1000;
    const cpu = process.cpuUsage(cpu0);
    send({ type: 'slice', slice: { seconds, acked: counters.acked - before.acked, errors: counters.errors - before.errors, firstError: counters.firstError, cpuMs: (cpu.user + cpu.system) / 1000 } });
  };
  process.on('message', (m: ToWorker) => {
    const job = m.cmd === 'run' ? runSlice(m.from, m.to) : driver.close().then(() => {
      send({ type: 'closed', maxRss: process.resourceUsage().maxRSS * 1024, verified });
      process.disconnect();
    });
    job.catch((err: Error) => {
      send({ type: 'error', message: err.stack ?? err.message });
      process.exit(1);
    });
  });
  send({ type: 'ready', setupMs });
}
