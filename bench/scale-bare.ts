// bench:scale's baseline process: the bare library polling the same meters on the same schedule as the EMS
// (lib/protocols/modbus: one bus per port, the profile's read plan, pollMeter with decoding; lib/ems/schedule's
// PollScheduler on the definitions POST /api/meters would store), writing readings to a SQLite store in batches
// (as ems-store-write does: at most 5,000 readings or every second), and answering the meter list and a readings
// query over plain node:http on loopback, without auth or envelope.
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { checkMeterDefinition, type MeterDefinition } from '../lib/ems/meter-definition';
import { PollScheduler } from '../lib/ems/poll-scheduler';
import type { Reading } from '../lib/model/reading';
import { acquireBus, loadProfile, planReads, pollMeter, releaseBus, type ModbusBus, type ReadPlan } from '../lib/protocols/modbus';
import { SqliteStore } from '../lib/store/sqlite';
import { meterFields, type ScaleMeter } from './scale-common';

export interface BareConfig { meters: ScaleMeter[]; ports: number[]; storeFile: string }
export type FromBare = { type: 'ready'; port: number } | { type: 'stopped'; ok: number; failed: number; stored: number } | { type: 'error'; message: string };

const BATCH = 5000;
const FLUSH_MS = 1000;

export async function bareMain(config: BareConfig): Promise<void> {
  const send = (m: FromBare) => process.send!(m);
  const store = new SqliteStore(config.storeFile);
  const buses = new Map<number, ModbusBus>();
  const plans = new Map<string, ReadPlan>();
  const definitions: (MeterDefinition & { _id: string })[] = [];
  const byId = new Map<string, { meter: ScaleMeter; bus: ModbusBus; plan: ReadPlan }>();
  for (const m of config.meters) {
    let bus = buses.get(m.portIndex);
    if (!bus) buses.set(m.portIndex, (bus = acquireBus({ transport: 'tcp', host: '127.0.0.1', port: config.ports[m.portIndex] })));
    let plan = plans.get(m.profile);
    if (!plan) plans.set(m.profile, (plan = planReads(loadProfile(m.profile))));
    definitions.push({ ...checkMeterDefinition(meterFields(m, config.ports[m.portIndex])), _id: m.id });
    byId.set(m.id, { meter: m, bus, plan });
  }
  const counts = { ok: 0, failed: 0, stored: 0 };
  let pending: Reading[] = [];
  let writing: Promise<void> = Promise.resolve();
  const flush = () => {
    if (!pending.length) return writing;
    const batch = pending;
    pending = [];
    writing = writing.then(async () => { counts.stored += await store.write(batch); });
    return writing;
  };
  const flushTimer = setInterval(() => void flush().catch((err: Error) => send({ type: 'error', message: `store write: ${err.message}` })), FLUSH_MS);
  const scheduler = new PollScheduler(async ({ id }) => {
    const target = byId.get(id)!;
    try {
      const result = await pollMeter(target.bus, target.plan, { meter: id, unit: target.meter.unit });
      counts.ok++;
      for (const r of result.readings) pending.push(r);
      if (pending.length >= BATCH) void flush();
    } catch {
      counts.failed++;
    }
  });
  scheduler.set(definitions.map((d) => ({ id: d._id, definition: d })));

  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const answer = (status: number, body: unknown) => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body));
    };
    if (url.pathname === '/meters') return answer(200, definitions);
    if (url.pathname === '/readings') {
      const now = Date.now();
      store.query({ meter: url.searchParams.get('meter') ?? '', obis: url.searchParams.get('obis') ?? undefined, from: now - 3_600_000, to: now })
        .then((rows) => answer(200, rows), (err: Error) => answer(500, { error: err.message }));
      return;
    }
    answer(404, { error: `no ${url.pathname}` });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  send({ type: 'ready', port: (server.address() as AddressInfo).port });

  process.on('message', (msg: { cmd?: string }) => {
    if (msg.cmd !== 'stop') return;
    scheduler.stop();
    clearInterval(flushTimer);
    void (async () => {
      server.close();
      await Promise.all([...buses.values()].map((b) => releaseBus(b)));
      await flush();
      await store.close();
      send({ type: 'stopped', ...counts });
      process.disconnect();
    })().catch((err: Error) => { send({ type: 'error', message: `stopping: ${err.message}` }); process.exit(1); });
  });
}

if (require.main === module) {
  bareMain(JSON.parse(fs.readFileSync(process.env.BENCH_SCALE_BARE ?? '', 'utf8')) as BareConfig).catch((err: Error) => {
    process.send?.({ type: 'error', message: err.stack ?? err.message });
    process.exit(1);
  });
}
