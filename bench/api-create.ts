/**
 * Meter creation through the shipped flows in a real Node-RED (test/e2e/runtime.ts starts it on a free
 * loopback port with a temporary user directory): BENCH_METERS (2,000) meters created one by one with
 * POST /api/meters, then as many with POST /api/meters/bulk, 1,000 a request (when the checkout has it),
 * then the first page of GET /api/meters. Meters poll a closed local port every hour (the schedule holds
 * them, nothing answers). Run after a build: node dist/bench/api-create.js. The last line of stdout is JSON.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { signLicense } from '../lib/ems/license';
import { freePort, startEms, TEST_LICENSE_KEYS } from '../test/e2e/runtime';

const N = Number(process.env.BENCH_METERS ?? 2000);
const PASSWORD = 'create-head-secret';

async function main(): Promise<void> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ems-bench-create-'));
  const port = await freePort();
  const ems = await startEms({ EMS_DB_PATH: path.join(dir, 'ems.db'), EMS_ADMIN_USER: 'admin', EMS_ADMIN_PASSWORD: PASSWORD, EMS_MODBUS_HOST: '127.0.0.1', EMS_MODBUS_PORT: String(port), EMS_TIME_ZONE: 'UTC' });
  try {
    const call = async (method: string, url: string, token: string | null, body?: unknown, form?: FormData): Promise<{ status: number; body: any }> => {
      const headers: Record<string, string> = { ...(token ? { authorization: `Bearer ${token}` } : {}), ...(body ? { 'content-type': 'application/json' } : {}) };
      const r = await fetch(ems.url + url, { method, headers, body: form ?? (body ? JSON.stringify(body) : undefined), signal: AbortSignal.timeout(120_000) });
      return { status: r.status, body: await r.json() };
    };
    const token = (await call('POST', '/api/auth/login', null, { username: 'admin', password: PASSWORD })).body.data.access_token as string;
    const form = new FormData();
    form.append('license', new Blob([JSON.stringify(signLicense({ id: 'BENCH', customer: 'bench', activation_date: '2020-01-01', expiration_date: '2099-12-31', meter_limit: 10 * N, issued_at: '2020-01-01' }, TEST_LICENSE_KEYS.privateKey))]), 'license.json');
    if ((await call('PUT', '/api/license', token, undefined, form)).status !== 200) throw new Error('the license was refused');
    const folder = (await call('POST', '/api/folders', token, { name: 'Bench' })).body.data._id as string;
    const meter = (i: number) => ({ _id: `c${i}`, folder_id: folder, name: `C ${i}`, protocol: 'modbus-tcp', profile: 'eastron-sdm630', ip_address: '127.0.0.1', port, connection_address: '1', interval_time: 3600 });
    let t0 = Date.now();
    for (let i = 0; i < N; i++) {
      const r = await call('POST', '/api/meters', token, meter(i));
      if (r.status !== 201) throw new Error(JSON.stringify(r.body));
      if ((i + 1) % 1000 === 0) console.log(`one by one: ${i + 1} meters after ${((Date.now() - t0) / 1000).toFixed(1)} s`);
    }
    const oneByOne = (Date.now() - t0) / 1000;
    t0 = Date.now();
    let bulk: number | null = null;
    for (let start = N; start < 2 * N; start += 1000) {
      const meters = Array.from({ length: Math.min(1000, 2 * N - start) }, (_, k) => meter(start + k));
      const r = await call('POST', '/api/meters/bulk', token, { meters });
      if (r.status === 404) break;
      if (r.status !== 201) throw new Error(JSON.stringify(r.body).slice(0, 300));
      bulk = (Date.now() - t0) / 1000;
    }
    t0 = Date.now();
    const list = await call('GET', '/api/meters', token);
    const out = { meters: N, one_by_one_s: oneByOne, bulk_s: bulk, list_first_page_ms: Date.now() - t0, listed: list.body.data.length };
    for (const [k, v] of Object.entries(out)) console.log(`${k.padEnd(20)} ${v ?? '-'}`);
    console.log(JSON.stringify(out));
  } finally {
    await ems.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((err) => { console.error(err); process.exit(1); });
