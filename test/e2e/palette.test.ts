// The package as an integrator gets it from the palette: `npm pack`, installed into a fresh Node-RED user directory
// with Node-RED's stock settings (no settings.js of ours, no environment variables, no simulators started by us
// except the meter the test reads), then the examples imported in the editor (Chromium) and deployed.
// The tarball's dependencies are installed offline from npm's cache at the versions package-lock.json pins, and
// better-sqlite3's native module is the checkout's build (same version): installing must not need a compiler or
// the network. Node-RED itself is the checkout's, so it also sees the devDependencies' node modules (both dashboards).
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { ModbusMeterSimulator } from '../../lib/sim/modbus-meter';
import { COMPLETE_EXAMPLE, DASHBOARD_EXAMPLE } from '../../lib/ems/shipped-flows';
import { missingPeer } from '../fixtures/sim/peers';
import { within } from '../fixtures/within';
import { chromiumAbsent, launchChromium } from './browser';
import { eventually, freePort } from './runtime';

const ROOT = path.resolve(__dirname, '..', '..', '..');
const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8'));
const NEW_PASSWORD = 'Vq7-sunflower-92';

function run(cmd: string, args: string[], cwd: string): string {
  const r = spawnSync(cmd, args, { cwd, encoding: 'utf8', timeout: 120_000, env: { ...process.env, npm_config_update_notifier: 'false' } });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed (${r.error?.message ?? `exit ${r.status}`}):\n${r.stdout}\n${r.stderr}`);
  return r.stdout;
}

/** The user directory's package-lock: the tarball plus the production packages of the checkout's lock (with their registry URLs). */
function lockFor(tarball: string): object {
  const lock = JSON.parse(fs.readFileSync(path.join(ROOT, 'package-lock.json'), 'utf8'));
  const packages: Record<string, any> = {};
  for (const [key, entry] of Object.entries<any>(lock.packages)) {
    if (!key || entry.dev || entry.devOptional || entry.link) continue;
    const name = key.slice(key.lastIndexOf('node_modules/') + 'node_modules/'.length);
    packages[key] = { ...entry, resolved: entry.resolved ?? `https://registry.npmjs.org/${name}/-/${name.split('/').pop()}-${entry.version}.tgz` };
  }
  const spec = `file:${tarball}`;
  return {
    name: 'palette-user', lockfileVersion: 3, requires: true,
    packages: {
      '': { name: 'palette-user', dependencies: { [pkg.name]: spec } },
      [`node_modules/${pkg.name}`]: { version: pkg.version, resolved: spec, dependencies: pkg.dependencies, peerDependencies: pkg.peerDependencies, peerDependenciesMeta: pkg.peerDependenciesMeta, bin: pkg.bin },
      ...packages,
    },
  };
}

/**
 * A new stock Node-RED greets its first visitor with the welcome tour and a question about update notifications:
 * the integrator closes the tour and says no (within a few seconds of the editor loading).
 */
async function dismissWelcome(page: Page): Promise<void> {
  const tourClose = page.locator('.red-ui-tourGuide-popover button:has(i.fa-times)');
  const noUpdates = page.getByRole('button', { name: 'No, do not enable notifications' });
  let quiet = 0;
  for (let i = 0; i < 40 && quiet < 6; i++) {
    if (await tourClose.count()) { await tourClose.first().click(); quiet = 0; } else if (await noUpdates.count()) { await noUpdates.click(); quiet = 0; } else quiet++;
    await page.waitForTimeout(250);
  }
}

describe('the packed tarball in a stock Node-RED (palette install, Import > Examples)', missingPeer(chromiumAbsent), () => {
  let work: string;
  let userDir: string;
  let red: ChildProcess | undefined;
  let log = '';
  let url: string;
  let sim: ModbusMeterSimulator;
  let simPort: number;
  let browser: Browser;
  let page: Page;

  const exampleUrl = (name: string) => `${url}/library/examples/flows/${pkg.name}/${encodeURIComponent(name)}`;
  const deployFlows = async (nodes: unknown[]) => {
    const r = await fetch(`${url}/flows`, { method: 'POST', headers: { 'content-type': 'application/json', 'Node-RED-Deployment-Type': 'full' }, body: JSON.stringify(nodes) });
    assert.ok(r.ok, `POST /flows answered ${r.status}: ${await r.text()}`);
  };

  before(async () => {
    work = fs.mkdtempSync(path.join(os.tmpdir(), 'ems-palette-'));
    const tarball = path.join(work, run('npm', ['pack', '--ignore-scripts', '--silent', '--pack-destination', work], ROOT).trim().split('\n').pop()!);
    userDir = path.join(work, 'node-red');
    fs.mkdirSync(userDir);
    const lock = lockFor(tarball) as { packages: Record<string, any> };
    fs.writeFileSync(path.join(userDir, 'package.json'), JSON.stringify(lock.packages[''], null, 2));
    fs.writeFileSync(path.join(userDir, 'package-lock.json'), JSON.stringify(lock, null, 2));
    run('npm', ['install', '--offline', '--ignore-scripts', '--no-audit', '--no-fund'], userDir);
    const native = path.join('better-sqlite3', 'build', 'Release', 'better_sqlite3.node');
    fs.mkdirSync(path.dirname(path.join(userDir, 'node_modules', native)), { recursive: true });
    fs.copyFileSync(path.join(ROOT, 'node_modules', native), path.join(userDir, 'node_modules', native));

    sim = new ModbusMeterSimulator({ units: [{ unit: 1, profile: 'eastron-sdm630' }], speed: 60 });
    simPort = await sim.listen(0);
    const port = await freePort();
    url = `http://127.0.0.1:${port}`;
    const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('EMS_') && k !== 'NODE_RED_CREDENTIAL_SECRET'));
    red = spawn(process.execPath, [require.resolve('node-red/red.js'), '--userDir', userDir, '--port', String(port), '-D', 'uiHost=127.0.0.1'], {
      cwd: userDir, env, stdio: ['ignore', 'pipe', 'pipe'],
    });
    red.stdout!.on('data', (d) => { log += d; });
    red.stderr!.on('data', (d) => { log += d; });
    await eventually(60_000, async () => (/Started flows/.test(log) ? true : undefined)).catch((err) => {
      throw new Error(`stock Node-RED did not start (${err.message}):\n${log}`);
    });
    browser = await launchChromium();
    page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
    await page.goto(url);
    await page.waitForSelector('#red-ui-palette-base-category-energy', { timeout: 60_000 });
    await page.waitForFunction(() => (window as any).RED?.workspaces?.count() > 0, undefined, { timeout: 30_000 })
      .catch((err) => { throw new Error(`the editor never loaded the (empty) flows: ${err}`); });
    await dismissWelcome(page);
  });

  after(async () => {
    await browser?.close();
    if (red && red.exitCode === null) {
      const exited = new Promise((r) => red!.once('exit', r));
      red.kill('SIGINT');
      const timer = setTimeout(() => red!.kill('SIGKILL'), 15_000);
      await exited;
      clearTimeout(timer);
    }
    await sim?.close();
    if (work) fs.rmSync(work, { recursive: true, force: true });
  });

  it('installs what the README says: the nodes, the examples, the bins; no tests, no source maps, Dashboard 2.0 not pulled in', () => {
    const installed = path.join(userDir, 'node_modules', pkg.name);
    for (const f of ['LICENSE', 'README.md', 'CHANGELOG.md', 'package.json', `examples/${COMPLETE_EXAMPLE}.json`, 'dist/nodes/system/system.js', 'dist/bin/ems-sim.js']) {
      assert.ok(fs.existsSync(path.join(installed, f)), `${f} is in the package`);
    }
    assert.ok(!fs.existsSync(path.join(installed, 'dist', 'test')), 'no compiled tests');
    const maps = run('find', [installed, '-name', '*.map'], userDir).trim();
    assert.equal(maps, '', 'no source maps');
    assert.ok(!fs.existsSync(path.join(userDir, 'node_modules', '@flowfuse')), 'Dashboard 2.0 is an optional peer, not installed with the package');
  });

  it('every example imports in the editor with no invalid node and deploys with no missing node type', async () => {
    const listing = await (await fetch(`${url}/library/examples/flows/${pkg.name}`)).json() as { fn?: string }[];
    const names = listing.map((e) => e.fn!).filter(Boolean);
    const files = fs.readdirSync(path.join(ROOT, 'examples')).filter((f) => f.endsWith('.json')).map((f) => f.slice(0, -5));
    assert.deepEqual(names.slice().sort(), files.sort());
    assert.ok(names.includes(COMPLETE_EXAMPLE) && names.includes(DASHBOARD_EXAMPLE), names.join(', '));
    for (const name of names) {
      const nodes = await (await fetch(exampleUrl(name))).json() as { id: string; type: string }[];
      const needsComplete = name === DASHBOARD_EXAMPLE;
      const complete = needsComplete ? await (await fetch(exampleUrl(COMPLETE_EXAMPLE))).json() as unknown[] : [];
      const invalid = await page.evaluate(([flows]) => {
        const RED = (window as any).RED;
        RED.nodes.clear();
        for (const flow of flows) RED.view.importNodes(flow, { generateIds: false, addFlow: false, notify: false });
        const bad: string[] = [];
        const check = (n: any) => { if (n.valid === false) bad.push(`${n.type} ${n.name || n.id}: ${JSON.stringify(n.validationErrors ?? [])}`); };
        RED.nodes.eachNode(check);
        RED.nodes.eachConfig(check);
        RED.nodes.eachNode((n: any) => { if (n.type === 'unknown') bad.push(`unknown type ${n.name}`); });
        // Every node of the example arrived (the check above is not vacuous).
        for (const flow of flows) {
          for (const n of flow as { id: string }[]) {
            if (!RED.nodes.node(n.id) && !RED.nodes.workspace(n.id) && !RED.nodes.subflow(n.id) && !RED.nodes.group(n.id)) bad.push(`${n.id} not imported`);
          }
        }
        return bad;
      }, [needsComplete ? [complete, nodes] : [nodes]] as const);
      assert.deepEqual(invalid, [], `example "${name}" in the editor`);
      const before = log.length;
      await deployFlows([...complete, ...nodes]);
      const started = await eventually(20_000, async () => (/Started flows|Waiting for missing types/.test(log.slice(before)) ? log.slice(before) : undefined));
      assert.doesNotMatch(started, /Waiting for missing types|missing type/i, `example "${name}" deployed`);
    }
    await deployFlows([]);
  });

  it('EMS - complete and its dashboard tab, imported in the editor and deployed, run the EMS: log in, define a meter, read it', async () => {
    const complete = await (await fetch(exampleUrl(COMPLETE_EXAMPLE))).json() as { id: string; type: string; z?: string }[];
    const dashboard = await (await fetch(exampleUrl(DASHBOARD_EXAMPLE))).json() as unknown[];
    await deployFlows([]);
    await page.reload();
    await page.waitForSelector('#red-ui-palette-base-category-energy', { timeout: 60_000 });
    // The palette comes before the flows: importing before they are loaded would be undone by their arrival.
    await page.waitForFunction(() => (window as any).RED?.workspaces?.count() > 0, undefined, { timeout: 30_000 })
      .catch((err) => { throw new Error(`the editor never loaded the (empty) flows: ${err}`); });
    await page.evaluate(([a, b]) => {
      const RED = (window as any).RED;
      RED.view.importNodes(a, { generateIds: false, addFlow: false });
      RED.view.importNodes(b, { generateIds: false, addFlow: false });
    }, [complete, dashboard] as const);
    await dismissWelcome(page);
    await page.screenshot({ path: '/tmp/ems-palette-import.png' });
    const before = log.length;
    await page.click('#red-ui-header-button-deploy');
    await eventually(30_000, async () => (/Started flows/.test(log.slice(before)) ? true : undefined));
    assert.equal(await page.locator('#red-ui-header-button-deploy.disabled').count(), 1, 'deployed: the Deploy button is idle again');

    // No environment variables: the system time zone, the SQLite files in the user directory.
    const opened = `EMS database ${path.join(userDir, 'ems.db')}`;
    await eventually(15_000, async () => (log.slice(before).includes(opened) ? true : undefined)).catch(() => {
      throw new Error(`no "${opened}" in the log after the deploy:\n${log.slice(before)}`);
    });
    assert.ok(fs.existsSync(path.join(userDir, 'ems.db')));
    assert.doesNotMatch(log.slice(before), /\$\{EMS_|not an IANA zone|bad config|must be an integer/);

    // The demo admin is told to choose a password of their own, and does.
    const call = async (method: string, p: string, body?: unknown, cookie?: string) => {
      const r = await fetch(`${url}${p}`, {
        method, headers: { 'content-type': 'application/json', Origin: url, ...(cookie ? { cookie } : {}) }, body: body === undefined ? undefined : JSON.stringify(body),
      });
      return { status: r.status, body: await r.json() as any, cookie: r.headers.get('set-cookie')?.split(';')[0] };
    };
    const first = await call('POST', '/api/auth/login', { username: 'admin', password: 'ems-admin' });
    assert.equal(first.status, 200, JSON.stringify(first.body));
    assert.equal(first.body.data.password_change_required, true);
    const changed = await call('POST', '/api/auth/password', { old_password: 'ems-admin', new_password: NEW_PASSWORD }, first.cookie);
    assert.equal(changed.status, 200, JSON.stringify(changed.body));
    const login = await call('POST', '/api/auth/login', { username: 'admin', password: NEW_PASSWORD });
    assert.equal(login.status, 200, JSON.stringify(login.body));
    const folder = await call('POST', '/api/folders', { name: 'Palette plant', folder_type: 'site' }, login.cookie);
    assert.equal(folder.status, 201, JSON.stringify(folder.body));
    const meter = await call('POST', '/api/meters', {
      name: 'Incomer', folder_id: folder.body.data._id, protocol: 'modbus-tcp', ip_address: '127.0.0.1', port: simPort,
      connection_address: '1', profile: 'eastron-sdm630', interval_time: 2,
    }, login.cookie);
    assert.equal(meter.status, 201, JSON.stringify(meter.body));
    const id = meter.body.data._id;
    const readings = await eventually(20_000, async () => {
      const r = await call('GET', `/api/meters/${id}/readings?obis=1-0:1.8.0&from=-1h`, undefined, login.cookie);
      return r.status === 200 && r.body.data.readings.length >= 2 ? r.body.data.readings : undefined;
    });
    assert.ok(readings.every((r: any) => r.unit === 'kWh' && r.value > 0 && r.meter === id), JSON.stringify(readings));
    assert.ok(readings[1].value >= readings[0].value, 'the energy counter rises');

    // The EMS tab on a clean start: no red status (the LoRaWAN MQTT input is off, not failing).
    await page.evaluate(() => (window as any).RED.workspaces.show('ems-tab'));
    const red = await within(page.evaluate(() => {
      const RED = (window as any).RED;
      const bad: string[] = [];
      RED.nodes.eachNode((n: any) => { if (n.z === 'ems-tab' && n.status?.fill === 'red') bad.push(`${n.name || n.type}: ${n.status.text}`); });
      return bad;
    }), 10_000, 'the EMS tab\'s node statuses');
    assert.deepEqual(red, []);
    const lorawan = await page.evaluate(() => (window as any).RED.nodes.node('lorau-uplinks')?.status);
    assert.deepEqual(lorawan, { fill: 'grey', shape: 'ring', text: 'off: EMS_MQTT_HOST not set' });
  });
});
