import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { generateLicenseKeys } from '../../lib/ems/license';

const ROOT = path.resolve(__dirname, '..', '..', '..');

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
  });
}

/** The tests' own license key pair: every Node-RED started here trusts its public key. */
export const TEST_LICENSE_KEYS = generateLicenseKeys();

export interface RunningEms {
  url: string;
  userDir: string;
  log: () => string;
  /** Stops Node-RED and removes the user directory (kept with keepUserDir, for a restart on it). */
  stop: (opts?: { keepUserDir?: boolean }) => Promise<void>;
}

/** Starts a real Node-RED with the project's settings.js in a fresh user directory (or `existingUserDir`). */
export async function startEms(env: Record<string, string>, existingUserDir?: string): Promise<RunningEms> {
  const port = await freePort();
  const userDir = existingUserDir ?? fs.mkdtempSync(path.join(os.tmpdir(), 'ems-e2e-'));
  let output = '';
  const child: ChildProcess = spawn(process.execPath, [require.resolve('node-red/red.js'), '--settings', path.join(ROOT, 'settings.js')], {
    cwd: ROOT,
    env: { ...process.env, PORT: String(port), HOST: '127.0.0.1', EMS_USER_DIR: userDir, EMS_CREDENTIAL_SECRET: 'e2e-secret', EMS_LICENSE_PUBLIC_KEY: TEST_LICENSE_KEYS.publicKey, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout!.on('data', (d) => { output += d; });
  child.stderr!.on('data', (d) => { output += d; });
  const url = `http://127.0.0.1:${port}`;
  const stop = async (opts: { keepUserDir?: boolean } = {}) => {
    if (child.exitCode === null) {
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGINT');
      const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
      await exited;
      clearTimeout(timer);
    }
    if (!opts.keepUserDir) fs.rmSync(userDir, { recursive: true, force: true });
  };
  const deadline = Date.now() + 30_000;
  while (!/Started flows/.test(output)) {
    if (child.exitCode !== null || Date.now() > deadline) {
      await stop();
      throw new Error(`Node-RED did not start:\n${output}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return { url, userDir, log: () => output, stop };
}

export async function getJson(url: string): Promise<{ status: number; body: any }> {
  const res = await fetch(url);
  return { status: res.status, body: await res.json() };
}

/** Polls `probe` until it returns a value, or fails after `ms` with the last reason. */
export async function eventually<T>(ms: number, probe: () => Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await probe();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`condition not met within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

export const DEMO_ADMIN = { login: 'admin', password: 'ems-admin' };

/**
 * A token of the Node-RED editor's admin API (the editor's accounts are the EMS users), as the editor
 * gets one: POST /auth/token with client_id node-red-editor. Scope '*' needs an admin; '' takes the
 * user's own permissions (an operator's 'read'). Throws with the status when refused.
 */
export async function editorToken(url: string, login = DEMO_ADMIN.login, password = DEMO_ADMIN.password, scope = '*'): Promise<string> {
  const res = await fetch(`${url}/auth/token`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ client_id: 'node-red-editor', grant_type: 'password', scope, username: login, password }),
  });
  if (res.status !== 200) throw new Error(`editor login of ${login} refused: ${res.status} ${await res.text()}`);
  return ((await res.json()) as { access_token: string }).access_token;
}

/** Headers for the editor's admin API with a token (JSON, API version v2). */
export function editorHeaders(token: string, extra: Record<string, string> = {}): Record<string, string> {
  return { Authorization: `Bearer ${token}`, 'Node-RED-API-Version': 'v2', Accept: 'application/json', ...extra };
}
