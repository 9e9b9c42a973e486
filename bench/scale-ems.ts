// bench:scale's EMS side: the shipped EMS started as `npm start` starts it (scripts/start.js, no demo simulators,
// a temp user dir), a license for the fleet uploaded through the API, the meters created through the API (in bulk
// through POST /api/meters/bulk when the EMS has it, else one by one) and the dashboard open in headless Chromium.
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import type { Browser } from 'playwright-core';
import { generateLicenseKeys, signLicense } from '../lib/ems/license';
import { chromiumAbsent, launchChromium } from '../test/e2e/browser';
import { signIn } from '../test/e2e/dashboard-page';
import { freePort, meterBody, procChildren, ROOT, stopChild, timedJson, track, trackPid, until, type ScaleMeter } from './scale-common';

const ADMIN = { login: 'admin', password: 'ems-admin' }; // the demo admin of an EMS on loopback (settings.js)

export interface RunningEms {
  url: string;
  /** The Node-RED process (a child of scripts/start.js): the one measured. */
  redPid: number;
  token: string;
  api(method: string, route: string, body?: unknown, timeoutMs?: number): ReturnType<typeof timedJson>;
  log(): string;
  stop(): Promise<void>;
}

/** Starts scripts/start.js on `userDir` and a free loopback port, signs in as the admin and installs a license for `meters`. */
export async function startEms(userDir: string, meters: number): Promise<RunningEms> {
  const port = await freePort();
  const keys = generateLicenseKeys();
  let output = '';
  const child: ChildProcess = track(spawn(process.execPath, [path.join(ROOT, 'scripts/start.js')], {
    cwd: ROOT,
    env: {
      ...process.env, EMS_DEMO: '0', EMS_USER_DIR: userDir, PORT: String(port), HOST: '127.0.0.1', EMS_LICENSE_PUBLIC_KEY: keys.publicKey,
      EMS_CREDENTIAL_SECRET: 'ems-bench-scale', EMS_TIME_ZONE: 'UTC',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  }));
  const keep = (d: Buffer) => { output = (output + d).slice(-64_000); };
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  let redPid = 0;
  const stop = async () => {
    await stopChild(child, 'scripts/start.js (the EMS)', 20_000);
    if (redPid) { try { process.kill(redPid, 'SIGKILL'); } catch { /* stopped with start.js */ } }
  };
  try {
    await until('the EMS (scripts/start.js) to start its flows', 120_000, () => {
      if (child.exitCode !== null) throw new Error(`scripts/start.js exited ${child.exitCode}: ${output}`);
      return { value: /Started flows/.test(output) ? true : undefined, seen: output };
    });
    redPid = await until('Node-RED, the child of scripts/start.js', 10_000, () => ({ value: procChildren(child.pid!)[0], seen: `children of ${child.pid}` }));
    trackPid(redPid);
    const url = `http://127.0.0.1:${port}`;
    const login = await timedJson(`${url}/api/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username: ADMIN.login, password: ADMIN.password }) });
    if (login.status !== 200) throw new Error(`login as ${ADMIN.login}: ${login.status} ${JSON.stringify(login.body)}`);
    const token = login.body.data.access_token as string;
    const api = (method: string, route: string, body?: unknown, timeoutMs?: number) => timedJson(`${url}${route}`, {
      method, timeoutMs, headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const today = new Date().toISOString().slice(0, 10);
    const license = signLicense({ id: 'BENCH-SCALE', customer: 'bench:scale', activation_date: '2020-01-01', expiration_date: '2099-12-31', meter_limit: meters, issued_at: today }, keys.privateKey);
    const installed = await api('PUT', '/api/license', license);
    if (installed.status !== 200) throw new Error(`PUT /api/license: ${installed.status} ${JSON.stringify(installed.body)}`);
    return { url, redPid, token, api, log: () => output, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}

export interface Creation { mode: 'bulk' | 'one by one'; ms: number; perMeterMs: number }

/**
 * Creates the meters in a new folder. The first chunk goes as one POST /api/meters/bulk: when the EMS takes it (2xx),
 * the rest follow in chunks of `chunk`; when it refuses it (and created none of them), every meter is created by
 * its own POST, `parallel` at a time. Any other refusal fails, naming the meter and the answer.
 */
export async function createMeters(ems: RunningEms, meters: ScaleMeter[], ports: number[], chunk: number, parallel: number): Promise<Creation> {
  const folder = await ems.api('POST', '/api/folders', { name: 'bench:scale', folder_type: 'site' });
  if (folder.status !== 201) throw new Error(`POST /api/folders: ${folder.status} ${JSON.stringify(folder.body)}`);
  const folderId = folder.body.data._id as string;
  const bodies = meters.map((m) => meterBody(m, ports[m.portIndex], folderId));
  const started = performance.now();
  const first = await ems.api('POST', '/api/meters/bulk', { meters: bodies.slice(0, chunk) }, 600_000);
  let mode: Creation['mode'] = 'bulk';
  if (first.status >= 200 && first.status < 300) {
    for (let i = chunk; i < bodies.length; i += chunk) {
      const r = await ems.api('POST', '/api/meters/bulk', { meters: bodies.slice(i, i + chunk) }, 600_000);
      if (r.status < 200 || r.status >= 300) throw new Error(`POST /api/meters/bulk with meters ${i}..${i + chunk - 1}: ${r.status} ${JSON.stringify(r.body).slice(0, 500)}`);
    }
  } else {
    mode = 'one by one';
    const probe = await ems.api('GET', `/api/meters/${encodeURIComponent(bodies[0]._id as string)}`);
    if (probe.status === 200) throw new Error(`POST /api/meters/bulk answered ${first.status} but created meter ${String(bodies[0]._id)}: ${JSON.stringify(first.body).slice(0, 500)}`);
    let next = 0;
    let done = 0;
    const step = Math.max(1, Math.ceil(bodies.length / 10));
    const worker = async () => {
      while (next < bodies.length) {
        const body = bodies[next++];
        const r = await ems.api('POST', '/api/meters', body, 120_000);
        if (r.status !== 201) throw new Error(`POST /api/meters for meter ${String(body._id)}: ${r.status} ${JSON.stringify(r.body).slice(0, 500)}`);
        if (++done % step === 0) console.log(`[scale] ${done} of ${bodies.length} meters created one by one (${((performance.now() - started) / 1000).toFixed(1)} s)`);
      }
    };
    await Promise.all(Array.from({ length: parallel }, worker));
  }
  const ms = performance.now() - started;
  return { mode, ms, perMeterMs: ms / meters.length };
}

/** Headless Chromium signed in on the dashboard's overview (undefined, with the reason, when Chromium is missing). */
export async function openDashboard(url: string): Promise<{ browser?: Browser; skipped?: string; pid?: number }> {
  if (chromiumAbsent) return { skipped: chromiumAbsent };
  const browser = await launchChromium();
  try {
    await signIn(browser, [], url, ADMIN, { timeZone: 'UTC', start: 'overview' });
    return { browser };
  } catch (err) {
    await browser.close();
    throw err;
  }
}
