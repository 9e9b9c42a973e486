// Safe by default, tried as an attacker would: a real Node-RED with settings.js and the shipped flows,
// and Debian's Chromium for the editor's login page and a drive-by page on another origin.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import os from 'node:os';
import path from 'node:path';
import type { Browser, BrowserContext } from 'playwright-core';
import { missingPeer } from '../fixtures/sim/peers';
import { loginApi } from './api-client';
import { chromiumAbsent, editorLogin, launchChromium } from './browser';
import { editorHeaders, editorToken, eventually, freePort, startEms, type RunningEms } from './runtime';

const ROOT = path.resolve(__dirname, '..', '..', '..');
const PASSWORD = 'Vq7-sunflower-92';

/** The flows revision and node count, read as the admin through the editor's API. */
async function flowsState(url: string, token: string): Promise<{ rev: string; count: number }> {
  const res = await fetch(`${url}/flows`, { headers: editorHeaders(token) });
  assert.equal(res.status, 200);
  const body = await res.json() as { rev: string; flows: unknown[] };
  return { rev: body.rev, count: body.flows.length };
}

/** The attacker's page: tries each attack against the EMS and writes what it could see into its title. */
function attackerPage(ems: string): string {
  return `<!doctype html><html><head><title>working</title></head><body>
<iframe name="sink" style="display:none"></iframe>
<form id="login" method="POST" action="${ems}/api/auth/login" target="sink">
  <input name="login" value="admin"><input name="password" value="ems-admin">
</form>
<script>
const ems = ${JSON.stringify(ems)};
const seen = {};
const attempt = async (name, f) => {
  try { seen[name] = await f(); } catch (err) { seen[name] = 'blocked: ' + err.name; }
  console.log('attack ' + name + ': ' + seen[name]);
};
(async () => {
  document.getElementById('login').submit();
  await new Promise((r) => setTimeout(r, 500));
  await attempt('form-login-fetch', async () => (await fetch(ems + '/api/auth/login', { method: 'POST', mode: 'no-cors', credentials: 'include',
    body: new URLSearchParams({ login: 'admin', password: 'ems-admin' }) })).type);
  // The attack that worked before: a readable form login hands over a token, then the API and the editor with it.
  let token = 'none';
  await attempt('read-form-login', async () => {
    const text = await (await fetch(ems + '/api/auth/login', { method: 'POST', body: new URLSearchParams({ login: 'admin', password: 'ems-admin' }) })).text();
    try { token = JSON.parse(text).data.access_token || token; } catch {}
    return 'read: ' + text.slice(0, 80);
  });
  await attempt('read-login', async () => (await (await fetch(ems + '/api/auth/login', { method: 'POST', credentials: 'include',
    headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ login: 'admin', password: 'ems-admin' }) })).text()).slice(0, 80));
  await attempt('read-users-bearer', async () => (await (await fetch(ems + '/api/users', { headers: { Authorization: 'Bearer ' + token } })).text()).slice(0, 80));
  await attempt('deploy-json', async () => (await (await fetch(ems + '/flows', { method: 'POST',
    headers: { 'Content-Type': 'application/json' }, body: JSON.stringify([{ id: 'x2', type: 'tab', label: 'pwned' }]) })).text()).slice(0, 80));
  await attempt('read-users', async () => (await (await fetch(ems + '/api/users', { credentials: 'include' })).text()).slice(0, 80));
  await attempt('create-user', async () => (await fetch(ems + '/api/users', { method: 'POST', mode: 'no-cors', credentials: 'include',
    headers: { 'Content-Type': 'text/plain' }, body: JSON.stringify({ login: 'mallory', name: 'M', password: 'Mallory-pass-123', role: 'admin' }) })).type);
  await attempt('deploy', async () => (await fetch(ems + '/flows', { method: 'POST', mode: 'no-cors', credentials: 'include',
    headers: { 'Content-Type': 'text/plain' }, body: JSON.stringify([{ id: 'x1', type: 'tab', label: 'pwned' }]) })).type);
  await attempt('read-flows', async () => (await (await fetch(ems + '/flows', { credentials: 'include' })).text()).slice(0, 80));
  await attempt('read-dashboard', async () => (await (await fetch(ems + '/dashboard', { credentials: 'include' })).text()).slice(0, 80));
  await attempt('frame-users', () => new Promise((resolve) => {
    const f = document.createElement('iframe');
    f.src = ems + '/api/users';
    f.onload = () => { try { resolve('read: ' + f.contentDocument.body.innerText.slice(0, 80)); } catch (err) { resolve('blocked: ' + err.name); } };
    document.body.appendChild(f);
    setTimeout(() => resolve('blocked: no load'), 3000);
  }));
  document.title = 'done ' + JSON.stringify(seen);
})();
</script></body></html>`;
}

describe('safe by default (real Node-RED, real Chromium)', missingPeer(chromiumAbsent), () => {
  let ems: RunningEms;
  let browser: Browser;
  let attacker: http.Server;
  let attackerUrl: string;
  let adminApi: Awaited<ReturnType<typeof loginApi>>;

  before(async () => {
    ems = await startEms({ EMS_DEMO: '0' });
    adminApi = await loginApi(ems.url);
    for (const [login, role] of [['olga', 'operator'], ['vera', 'viewer']]) {
      const r = await adminApi('POST', '/api/users', { login, name: login, password: PASSWORD, role });
      assert.equal(r.status, 201, JSON.stringify(r.body));
    }
    browser = await launchChromium();
    attacker = http.createServer((_req, res) => {
      res.setHeader('Content-Type', 'text/html');
      res.end(attackerPage(ems.url));
    });
    const port = await freePort();
    await new Promise<void>((r) => attacker.listen(port, '127.0.0.1', r));
    attackerUrl = `http://127.0.0.1:${port}/`;
  });

  after(async () => {
    await browser?.close();
    await new Promise((r) => (attacker ? attacker.close(r) : r(undefined)));
    await ems?.stop();
  });

  describe('the editor answers only to EMS users with the right role', () => {
    it('anonymous: the login page, and 401 from the admin API', async () => {
      assert.equal((await fetch(`${ems.url}/flows`)).status, 401);
      assert.equal((await fetch(`${ems.url}/nodes`, { headers: { Accept: 'application/json' } })).status, 401);
      const page = await browser.newPage();
      try {
        await page.goto(ems.url);
        await page.waitForSelector('#node-dialog-login-username', { timeout: 30_000 });
        assert.equal(await page.locator('#red-ui-palette-base-category-energy').count(), 0);
      } finally {
        await page.close();
      }
    });

    it('a viewer is refused at the login page and by the token endpoint', async () => {
      const page = await browser.newPage();
      try {
        await page.goto(ems.url);
        await editorLogin(page, 'vera', PASSWORD);
        await page.waitForSelector('#node-dialog-login-failed', { state: 'visible', timeout: 10_000 });
      } finally {
        await page.close();
      }
      await assert.rejects(editorToken(ems.url, 'vera', PASSWORD, ''), /refused/);
      await assert.rejects(editorToken(ems.url, 'admin', 'wrong-password'), /refused/);
    });

    it('an operator reads the flows but cannot deploy (403)', async () => {
      await assert.rejects(editorToken(ems.url, 'olga', PASSWORD, '*'), /refused/, 'an operator cannot ask for full rights');
      const token = await editorToken(ems.url, 'olga', PASSWORD, '');
      const flows = await fetch(`${ems.url}/flows`, { headers: editorHeaders(token) });
      assert.equal(flows.status, 200);
      const { rev, flows: nodes } = await flows.json() as { rev: string; flows: unknown[] };
      const deploy = await fetch(`${ems.url}/flows`, { method: 'POST', headers: editorHeaders(token, { 'Content-Type': 'application/json' }), body: JSON.stringify({ rev, flows: nodes }) });
      assert.equal(deploy.status, 403);
      const page = await browser.newPage();
      try {
        await page.goto(ems.url);
        await editorLogin(page, 'olga', PASSWORD);
        await page.waitForSelector('#red-ui-palette-base-category-energy', { timeout: 30_000 });
        assert.equal(await page.evaluate(() => (window as any).RED.user.hasPermission('flows.write')), false);
      } finally {
        await page.close();
      }
    });

    it('the admin signs in through the login page and deploys; the deploy is in the audit trail', async () => {
      const page = await browser.newPage();
      try {
        await page.goto(ems.url);
        await editorLogin(page, 'admin', 'ems-admin');
        await page.waitForSelector('#red-ui-palette-base-category-energy', { timeout: 30_000 });
        assert.equal(await page.evaluate(() => (window as any).RED.user.hasPermission('flows.write')), true);
      } finally {
        await page.close();
      }
      const token = await editorToken(ems.url);
      const before = await flowsState(ems.url, token);
      const { flows } = await (await fetch(`${ems.url}/flows`, { headers: editorHeaders(token) })).json() as { flows: unknown[] };
      const deploy = await fetch(`${ems.url}/flows`, {
        method: 'POST', headers: editorHeaders(token, { 'Content-Type': 'application/json', 'Node-RED-Deployment-Type': 'reload' }),
        body: JSON.stringify({ rev: before.rev, flows }),
      });
      assert.equal(deploy.status, 200, await deploy.text());
      const audit = await eventually(10_000, async () => {
        // While the flows restart after the deploy, /api answers Node-RED's 404 page for a moment.
        const r = await adminApi('GET', '/api/events?filter=audit').catch(() => undefined);
        return r?.body.data?.find((e: any) => e.event.startsWith('editor flows.set'));
      });
      assert.equal(audit.source, 'editor:admin@127.0.0.1');
      assert.equal(audit.kind, 'audit');
    });
  });

  describe('a page from another origin can neither read nor change anything', () => {
    let context: BrowserContext;
    after(async () => { await context?.close(); });

    it('tries a form login, reading the API, creating a user, deploying a flow and reading the dashboard', async () => {
      const token = await editorToken(ems.url);
      const flowsBefore = await flowsState(ems.url, token);
      const usersBefore = (await adminApi('GET', '/api/users')).body.data.map((u: any) => u.login).sort();
      context = await browser.newContext();
      // The victim is signed in to the EMS and the editor in the same browser.
      const victim = await context.newPage();
      await victim.goto(ems.url);
      await editorLogin(victim, 'admin', 'ems-admin');
      await victim.waitForSelector('#red-ui-palette-base-category-energy', { timeout: 30_000 });
      const signedIn = await victim.evaluate(async () => (await fetch('/api/auth/login', { method: 'POST', headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ login: 'admin', password: 'ems-admin' }) })).status);
      assert.equal(signedIn, 200);
      assert.ok((await context.cookies(ems.url)).some((c) => c.name === 'access_token'));

      const page = await context.newPage();
      const log: string[] = [];
      page.on('console', (m) => log.push(m.text()));
      await page.goto(attackerUrl);
      await page.waitForFunction(() => document.title.startsWith('done '), undefined, { timeout: 30_000 });
      const seen = JSON.parse((await page.title()).slice(5)) as Record<string, string>;
      // Reads fail in the browser: no Access-Control-Allow-Origin, no framing.
      for (const k of ['read-form-login', 'read-login', 'read-users-bearer', 'deploy-json', 'read-users', 'read-flows', 'read-dashboard', 'frame-users']) assert.match(seen[k], /^blocked/, `${k}: ${seen[k]} (${log.join(' | ')})`);
      // Blind writes get an opaque answer: nothing is learnt, and (below) nothing changed.
      for (const k of ['form-login-fetch', 'create-user', 'deploy']) assert.ok(seen[k] === 'opaque' || /^blocked/.test(seen[k]), `${k}: ${seen[k]}`);

      const usersAfter = (await adminApi('GET', '/api/users')).body.data.map((u: any) => u.login).sort();
      assert.deepEqual(usersAfter, usersBefore);
      assert.deepEqual(await flowsState(ems.url, token), flowsBefore);
    });
  });

  describe('answers carry no cross-origin grant, no internals and no unbounded body', () => {
    it('has security headers and no Access-Control-Allow-Origin or X-Powered-By on API, editor and dashboard', async () => {
      for (const p of ['/api/auth/login', '/api/docs', '/', '/flows', '/dashboard', '/api/meters']) {
        const res = await fetch(`${ems.url}${p}`, { headers: { Origin: 'http://evil.example' } });
        assert.equal(res.headers.get('access-control-allow-origin'), null, p);
        assert.equal(res.headers.get('x-powered-by'), null, p);
        assert.equal(res.headers.get('x-content-type-options'), 'nosniff', p);
        assert.match(res.headers.get('content-security-policy') ?? '', /frame-ancestors 'none'/, p);
        await res.arrayBuffer();
      }
      const preflight = await fetch(`${ems.url}/api/users`, { method: 'OPTIONS', headers: { Origin: 'http://evil.example', 'Access-Control-Request-Method': 'POST', 'Access-Control-Request-Headers': 'content-type' } });
      assert.equal(preflight.headers.get('access-control-allow-origin'), null);
      assert.equal(preflight.headers.get('access-control-allow-methods'), null);
    });

    it('refuses a 10 MB text/plain login and malformed or form bodies in the envelope, without a stack trace', async () => {
      const big = await fetch(`${ems.url}/api/auth/login`, { method: 'POST', headers: { 'Content-Type': 'text/plain' }, body: 'a'.repeat(10 * 1024 * 1024) });
      assert.ok([413, 415].includes(big.status), String(big.status));
      const body = await big.json() as { data: unknown; error: string; status: number };
      assert.equal(body.data, null);
      assert.equal(body.status, big.status);
      assert.doesNotMatch(body.error, /node_modules|\bat \w|Error:/);
      const huge = await fetch(`${ems.url}/api/auth/login`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ login: 'a'.repeat(3 * 1024 * 1024) }) });
      assert.equal(huge.status, 413);
      assert.deepEqual(await huge.json(), { data: null, error: 'the body is larger than 1 MiB', status: 413 });
      const form = await fetch(`${ems.url}/api/auth/login`, { method: 'POST', body: new URLSearchParams({ login: 'admin', password: 'ems-admin' }) });
      assert.equal(form.status, 415);
      const missing = await fetch(`${ems.url}/api/no-such-thing`);
      assert.deepEqual(await missing.json(), { data: null, error: 'no such endpoint', status: 404 });
      const broken = await fetch(`${ems.url}/api/auth/login`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: '{"login":' });
      assert.deepEqual(await broken.json(), { data: null, error: 'the body is not valid JSON', status: 400 });
      // The editor's API (Node-RED's own parsers): no HTML stack trace with install paths either.
      const token = await editorToken(ems.url);
      const adminBroken = await fetch(`${ems.url}/flows`, { method: 'POST', headers: editorHeaders(token, { 'Content-Type': 'application/json' }), body: '{"flows":' });
      assert.equal(adminBroken.status, 400);
      assert.doesNotMatch(await adminBroken.text(), /node_modules|at \w+ \(|SyntaxError/);
    });
  });

  describe('deployment defaults', () => {
    const runSettings = async (env: Record<string, string>): Promise<{ code: number | null; output: string }> => {
      const userDir = fs.mkdtempSync(path.join(os.tmpdir(), 'ems-e2e-host-'));
      try {
        const child = spawn(process.execPath, [require.resolve('node-red/red.js'), '--settings', path.join(ROOT, 'settings.js')], {
          cwd: ROOT, env: { ...process.env, PORT: String(await freePort()), EMS_USER_DIR: userDir, EMS_ADMIN_PASSWORD: '', EMS_CREDENTIAL_SECRET: '', ...env },
          stdio: ['ignore', 'pipe', 'pipe'],
        });
        let output = '';
        child.stdout.on('data', (d) => { output += d; });
        child.stderr.on('data', (d) => { output += d; });
        const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
        const code = await new Promise<number | null>((r) => child.once('exit', (c) => r(c)));
        clearTimeout(timer);
        return { code, output };
      } finally {
        fs.rmSync(userDir, { recursive: true, force: true });
      }
    };

    it('refuses HOST=0.0.0.0 with the demo password, saying what to set', async () => {
      const demo = await runSettings({ HOST: '0.0.0.0' });
      assert.equal(demo.code, 1, demo.output);
      assert.match(demo.output, /refusing to listen on HOST=0\.0\.0\.0[\s\S]*EMS_ADMIN_PASSWORD[\s\S]*EMS_CREDENTIAL_SECRET/);
      assert.doesNotMatch(demo.output, /Started flows/);
      const demoPassword = await runSettings({ HOST: '0.0.0.0', EMS_ADMIN_PASSWORD: 'ems-admin', EMS_CREDENTIAL_SECRET: 'a-long-random-secret' });
      assert.equal(demoPassword.code, 1);
      assert.match(demoPassword.output, /set EMS_ADMIN_PASSWORD \(a password of your own/);
      assert.doesNotMatch(demoPassword.output, /set [^\n]*EMS_CREDENTIAL_SECRET/);
    });

    it('serves the editor and the API over HTTPS with EMS_TLS_CERT / EMS_TLS_KEY', async () => {
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ems-e2e-tls-'));
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      const selfsigned = require('selfsigned') as { generate(a: unknown, o: unknown): Promise<{ private: string; cert: string }> };
      const pems = await selfsigned.generate([{ name: 'commonName', value: 'localhost' }], { keyType: 'ec', days: 1, algorithm: 'sha256' });
      fs.writeFileSync(path.join(dir, 'cert.pem'), pems.cert);
      fs.writeFileSync(path.join(dir, 'key.pem'), pems.private);
      const tls = await startEms({ EMS_TLS_CERT: path.join(dir, 'cert.pem'), EMS_TLS_KEY: path.join(dir, 'key.pem') });
      try {
        const get = (p: string, init: https.RequestOptions = {}, body?: string) => new Promise<{ status: number; headers: http.IncomingHttpHeaders; text: string }>((resolve, reject) => {
          const req = https.request(`${tls.url.replace('http:', 'https:')}${p}`, { rejectUnauthorized: false, ...init }, (res) => {
            let text = '';
            res.on('data', (d) => { text += d; });
            res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, text }));
          });
          req.on('error', reject);
          req.end(body);
        });
        const editor = await get('/');
        assert.equal(editor.status, 200);
        assert.match(editor.text, /node-red-contrib-ems/);
        const login = await get('/api/auth/login', { method: 'POST', headers: { 'Content-Type': 'application/json' } }, JSON.stringify({ login: 'admin', password: 'ems-admin' }));
        assert.equal(login.status, 200, login.text);
        assert.equal(login.headers['x-content-type-options'], 'nosniff');
        // Plain HTTP on the same port gets no answer.
        await assert.rejects(fetch(`${tls.url}/api/docs`));
      } finally {
        await tls.stop();
        fs.rmSync(dir, { recursive: true, force: true });
      }
    });

    it('npm start brings Node-RED back after it dies, with backoff, and stops on SIGTERM', async () => {
      const userDir = fs.mkdtempSync(path.join(os.tmpdir(), 'ems-e2e-start-'));
      const port = await freePort();
      const start = spawn(process.execPath, [path.join(ROOT, 'scripts', 'start.js')], {
        cwd: ROOT, env: { ...process.env, EMS_DEMO: '0', PORT: String(port), HOST: '127.0.0.1', EMS_USER_DIR: userDir, EMS_CREDENTIAL_SECRET: 'e2e-secret' },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let output = '';
      start.stdout.on('data', (d) => { output += d; });
      start.stderr.on('data', (d) => { output += d; });
      const killer = setTimeout(() => start.kill('SIGKILL'), 90_000);
      try {
        const started = (n: number) => eventually(40_000, async () => ((output.match(/Started flows/g) ?? []).length >= n ? true : undefined));
        await started(1);
        const pid = await eventually(5_000, async () => {
          const res = await fetch(`http://127.0.0.1:${port}/api/auth/login`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: '{}' }).catch(() => undefined);
          return res ? Number(fs.readFileSync(`/proc/${start.pid}/task/${start.pid}/children`, 'utf8').trim().split(/\s+/)[0]) : undefined;
        });
        process.kill(pid, 'SIGKILL');
        await started(2);
        assert.match(output, /\[ems\] Node-RED died \(signal SIGKILL\) after \d+ s; restart 1 in 1 s/);
        const res = await fetch(`http://127.0.0.1:${port}/api/auth/login`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ login: 'admin', password: 'ems-admin' }) });
        assert.equal(res.status, 200);
        const exited = new Promise<number | null>((r) => start.once('exit', (c) => r(c)));
        start.kill('SIGTERM');
        assert.equal(await exited, 0);
      } finally {
        clearTimeout(killer);
        if (start.exitCode === null) start.kill('SIGKILL');
        fs.rmSync(userDir, { recursive: true, force: true });
      }
    });
  });
});
