/**
 * `npm run bench:lists`: the API's meter list and meter creation at fleet size, in one process over
 * a temporary EMS database file and sqlite reading store (no HTTP: the operations as the ems-api node
 * runs them). Prints, for BENCH_METERS meters (default 10,000):
 *   create one by one   BENCH_CREATE (default 5,000) POST /api/meters, one meter each
 *   create in bulk      the same number through POST /api/meters/bulk (when the checkout has it)
 *   list                GET /api/meters (the first page, and every page walked with next_cursor),
 *                       as the admin and as a viewer with one folder of ten open; median of BENCH_ROUNDS
 *   folders tree        GET /api/folders (every folder, meters as leaves; and with meters=false), as the admin
 *   registry.meters()   every meter as a record (what a scheduler reload reads)
 * Wall and CPU (user + system of this process) times; the last line of stdout is JSON. BENCH_CPU_PROF=FILE writes a CPU profile of the list phase.
 */
import fs from 'node:fs';
import inspector from 'node:inspector';
import os from 'node:os';
import path from 'node:path';
import type { BillStore } from '../lib/billing/bill-store';
import { operationByName, runOperation, type HttpAnswer } from '../lib/ems/api';
import { generateLicenseKeys, signLicense } from '../lib/ems/license';
import { openEmsServices } from '../lib/ems/services';
import type { Reading } from '../lib/model/reading';
import { openStore } from '../lib/store';

const METERS = Number(process.env.BENCH_METERS ?? 10_000);
const CREATE = Math.min(METERS, Number(process.env.BENCH_CREATE ?? 5_000));
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
const FOLDERS = 10;
const ADMIN = { EMS_ADMIN_USER: 'admin', EMS_ADMIN_PASSWORD: 'bench-head-secret-0417' };

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const ms = (t0: bigint) => Number(process.hrtime.bigint() - t0) / 1e6;
/** CPU seconds (user + system) since `c0`: steadier than wall time on a shared machine. */
const cpuS = (c0: NodeJS.CpuUsage) => { const c = process.cpuUsage(c0); return (c.user + c.system) / 1e6; };

function meterBody(i: number, folder: string) {
  return { _id: `m${String(i).padStart(6, '0')}`, folder_id: folder, name: `Meter ${i}`, protocol: 'modbus-tcp', profile: 'eastron-sdm630', ip_address: '127.0.0.1', port: 5020, connection_address: String(1 + (i % 247)), password: i % 2 ? 'meter-secret' : '' };
}

async function main(): Promise<void> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ems-bench-lists-'));
  const keys = generateLicenseKeys();
  const services = await openEmsServices({ file: path.join(dir, 'ems.db'), env: ADMIN, alarmTickMs: 0, licensePublicKey: keys.publicKey });
  const year = new Date().getUTCFullYear();
  services.license.upload(JSON.stringify(signLicense({ id: 'bench', customer: 'bench', activation_date: `${year - 1}-01-01`, expiration_date: `${year + 1}-12-31`, meter_limit: 10 * METERS, issued_at: `${year - 1}-01-01T00:00:00Z` }, keys.privateKey)));
  const store = openStore({ backend: 'sqlite', path: path.join(dir, 'readings.db') });
  try {
    const call = async (name: string, token: string, c: { query?: Record<string, unknown>; body?: unknown } = {}): Promise<HttpAnswer & { body: any }> => {
      const op = operationByName(name);
      if (!op) throw new Error(`no operation ${name}`);
      return runOperation(op, {
        services, store, bills: {} as BillStore, timeZone: 'UTC', now: Date.now,
        request: { params: {}, query: c.query ?? {}, body: c.body, headers: { authorization: `Bearer ${token}` }, cookies: {} },
      }) as Promise<HttpAnswer & { body: any }>;
    };
    const admin = (await services.auth.login(ADMIN.EMS_ADMIN_USER, ADMIN.EMS_ADMIN_PASSWORD)).access_token;
    const folders = Array.from({ length: FOLDERS }, (_, i) => services.registry.createFolder({ name: `Site ${i}` })._id);
    const folderOf = (i: number) => folders[i % FOLDERS];
    const out: Record<string, number | null> = { meters: METERS, create: CREATE };

    let t0 = process.hrtime.bigint();
    let c0 = process.cpuUsage();
    for (let i = 0; i < CREATE; i++) {
      const r = await call('meters.create', admin, { body: meterBody(i, folderOf(i)) });
      if (r.status !== 201) throw new Error(`create ${i}: ${JSON.stringify(r.body)}`);
    }
    out.create_one_by_one_s = ms(t0) / 1000;
    out.create_one_by_one_cpu_s = cpuS(c0);

    const bulk = operationByName('meters.bulk');
    let next = CREATE;
    if (bulk) {
      t0 = process.hrtime.bigint();
      c0 = process.cpuUsage();
      const per = 1000;
      for (let start = CREATE; start < Math.min(METERS, 2 * CREATE); start += per) {
        const meters = [];
        for (let i = start; i < Math.min(start + per, METERS, 2 * CREATE); i++) meters.push(meterBody(i, folderOf(i)));
        const r = await call('meters.bulk', admin, { body: { meters } });
        if (r.status !== 201) throw new Error(`bulk at ${start}: ${JSON.stringify(r.body).slice(0, 500)}`);
        next = start + meters.length;
      }
      out.create_bulk_s = ms(t0) / 1000;
      out.create_bulk_cpu_s = cpuS(c0);
    } else {
      out.create_bulk_s = null;
      out.create_bulk_cpu_s = null;
    }
    for (let i = next; i < METERS; i++) {
      const { _id, ...body } = meterBody(i, folderOf(i));
      services.registry.createMeter(body, undefined, _id);
    }

    // Four newest values per meter.
    const readings: Reading[] = [];
    const t = Date.now() - 60_000;
    for (let i = 0; i < METERS; i++) for (const obis of ['1-0:1.8.0', '1-0:2.8.0', '1-0:1.7.0', '1-0:32.7.0']) readings.push({ meter: meterBody(i, '')._id, time: t, obis, value: i, unit: 'kWh' });
    await store.write(readings);

    await services.users.create({ login: 'viewer', name: 'Viewer', password: 'quiet-lamp-0417-x', role: 'viewer', open_folders: [folders[3]] });
    const viewer = (await services.auth.login('viewer', 'quiet-lamp-0417-x')).access_token;

    const profile = process.env.BENCH_CPU_PROF;
    const session = profile ? new inspector.Session() : null;
    const post = (m: string, p?: object) => new Promise<any>((res, rej) => session!.post(m, p ?? {}, (e, r) => (e ? rej(e) : res(r))));
    if (session) { session.connect(); await post('Profiler.enable'); await post('Profiler.start'); }

    const listAll = async (token: string): Promise<number> => {
      let n = 0;
      let cursor: string | undefined;
      for (let guard = 0; guard < 1000; guard++) {
        const r = await call('meters.list', token, { query: cursor ? { cursor } : {} });
        if (r.status !== 200) throw new Error(JSON.stringify(r.body).slice(0, 300));
        n += r.body.data.length;
        cursor = r.body.next_cursor ?? undefined;
        if (!cursor) return n;
      }
      throw new Error('more than 1000 pages');
    };
    for (const [who, token] of [['admin', admin], ['viewer', viewer]] as const) {
      const first: number[] = [];
      const firstCpu: number[] = [];
      const all: number[] = [];
      let seen = 0;
      for (let r = 0; r < ROUNDS; r++) {
        t0 = process.hrtime.bigint();
        const c1 = process.cpuUsage();
        const res = await call('meters.list', token);
        first.push(ms(t0));
        firstCpu.push(cpuS(c1) * 1000);
        if (res.status !== 200) throw new Error(JSON.stringify(res.body).slice(0, 300));
        t0 = process.hrtime.bigint();
        seen = await listAll(token);
        all.push(ms(t0));
      }
      out[`list_first_page_${who}_ms`] = median(first);
      out[`list_first_page_${who}_cpu_ms`] = median(firstCpu);
      out[`list_all_pages_${who}_ms`] = median(all);
      out[`list_meters_seen_${who}`] = seen;
    }
    const tree: number[] = [];
    for (let r = 0; r < ROUNDS; r++) {
      t0 = process.hrtime.bigint();
      const res = await call('folders.tree', admin);
      tree.push(ms(t0));
      if (res.status !== 200) throw new Error(JSON.stringify(res.body).slice(0, 300));
    }
    out.folders_tree_admin_ms = median(tree);
    const bare: number[] = [];
    for (let r = 0; r < ROUNDS; r++) {
      t0 = process.hrtime.bigint();
      await call('folders.tree', admin, { query: { meters: 'false' } });
      bare.push(ms(t0));
    }
    out.folders_tree_no_meters_ms = median(bare);
    const reload: number[] = [];
    for (let r = 0; r < ROUNDS; r++) {
      t0 = process.hrtime.bigint();
      services.registry.meters();
      reload.push(ms(t0));
    }
    out.registry_meters_ms = median(reload);
    if (session) { const { profile: p } = await post('Profiler.stop'); fs.writeFileSync(profile!, JSON.stringify(p)); session.disconnect(); }

    for (const [k, v] of Object.entries(out)) console.log(`${k.padEnd(32)} ${v === null ? '-' : Number.isInteger(v) ? v : v.toFixed(2)}`);
    console.log(JSON.stringify(out));
  } finally {
    services.close();
    await store.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((err) => { console.error(err); process.exit(1); });
