// The editor as a person sees it, in Debian's Chromium (headless), against the shipped EMS.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { chromium, type Browser, type Page } from 'playwright-core';
import { ModbusMeterSimulator } from '../../lib/sim/modbus-meter';
import { missingPeer } from '../fixtures/sim/peers';
import { createDemoPlant, loginApi } from './api-client';
import { freePort, startEms, type RunningEms } from './runtime';
import { editorLogin } from './browser';

const CHROMIUM = process.env.EMS_CHROMIUM || '/usr/bin/chromium';
const absent = fs.existsSync(CHROMIUM) ? undefined : `${CHROMIUM} not found (apt-get install chromium, or set EMS_CHROMIUM)`;

describe('the editor in Chromium', missingPeer(absent), () => {
  let sim: ModbusMeterSimulator;
  let ems: RunningEms;
  let browser: Browser;
  let page: Page;
  let api: Awaited<ReturnType<typeof loginApi>>;
  let plant: string;
  let mbusPort: number;

  before(async () => {
    sim = new ModbusMeterSimulator({ units: [{ unit: 1, profile: 'eastron-sdm630' }, { unit: 2, profile: 'abb-a44' }, { unit: 3, profile: 'carlo-gavazzi-em24' }] });
    const port = await sim.listen(0);
    mbusPort = await freePort();
    ems = await startEms({ EMS_MODBUS_PORT: String(port), EMS_MBUS_PORT: String(mbusPort) });
    // The plant, built through the API as an integrator would: the schedule picks it up without a redeploy.
    api = await loginApi(ems.url);
    plant = await createDemoPlant(api, port, 2);
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    });
    page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
    await page.goto(ems.url);
    // Node-RED's own login page: the editor's accounts are the EMS users.
    await editorLogin(page, 'admin', 'ems-admin');
    await page.waitForSelector('#red-ui-palette-base-category-energy', { timeout: 30_000 });
    // The palette comes before the flows: wait for the shipped tab to be loaded.
    await page.waitForFunction(() => Boolean((window as any).RED?.nodes?.workspace('ems-tab')), undefined, { timeout: 30_000 })
      .catch((err) => { throw new Error(`the EMS tab never appeared in the editor: ${err}`); });
  });

  after(async () => {
    await browser?.close();
    await ems?.stop();
    await sim?.close();
  });

  it('shows the energy palette category with the suite\'s nodes', async () => {
    const labels = (await page.locator('#red-ui-palette-base-category-energy .red-ui-palette-label').allTextContents())
      .map((l) => l.replace(/\s+/g, ' ').trim());
    for (const label of ['modbus meter', 'store write', 'store query', 'ems api']) assert.ok(labels.includes(label), `${label} in ${labels.join(', ')}`);
  });

  it('shows the shipped flow with its tabs, groups and nodes labelled', async () => {
    const tabs = await page.locator('.red-ui-tab-label').allTextContents();
    for (const t of ['EMS', 'EMS API', 'EMS Dashboard']) assert.ok(tabs.some((x) => x.trim() === t), `${t} in ${tabs.join(' | ')}`);
    const groups = await page.locator('.red-ui-flow-group-label').allTextContents();
    assert.ok(groups.some((g) => g.includes('Poll the meters defined in the EMS')), groups.join(' | '));
    const labels = await page.locator('.red-ui-flow-node-label').allTextContents();
    for (const l of ["poll the EMS's meters", 'Modbus meters (TCP, RTU over TCP, serial RTU)', 'M-Bus meters', 'IEC 62056-21 optical meters', 'DSMR P1 meters', 'SML meters', 'HEX poll server',
      'G13 gateway meters', 'read LoRaWAN platform meter', 'lorawan meters', 'store readings', 'push readings to Utilitarian']) {
      assert.ok(labels.some((x) => x.includes(l)), `${l} in ${labels.join(', ')}`);
    }
    await page.screenshot({ path: '/tmp/ems-editor-tab.png' });
    // No node of the shipped flows carries the editor's invalid-configuration marker.
    const invalid = await page.evaluate(() => {
      const bad: string[] = [];
      const RED = (window as any).RED;
      RED.nodes.eachNode((n: any) => { if (n.valid === false) bad.push(`${n.type} ${n.id} ${JSON.stringify(n.validationErrors ?? [])}`); });
      RED.nodes.eachConfig((n: any) => { if (n.valid === false) bad.push(`${n.type} ${n.id} ${JSON.stringify(n.validationErrors ?? [])}`); });
      return bad;
    });
    assert.deepEqual(invalid, []);
    // The API tab: a group per section, each operation named by its summary.
    await page.evaluate(() => (window as any).RED.workspaces.show('ems-api-tab'));
    await page.waitForFunction(() => Array.from(document.querySelectorAll('.red-ui-flow-group-label')).some((e) => e.textContent?.includes('Poll server')));
    const apiGroups = (await page.locator('.red-ui-flow-group-label').allTextContents()).map((g) => g.trim());
    for (const g of ['Login', 'Users', 'Poll server', 'Reports', 'Events', 'License', 'Documentation']) assert.ok(apiGroups.includes(g), `${g} in ${apiGroups.join(' | ')}`);
    const apiLabels = await page.locator('.red-ui-flow-node-label').allTextContents();
    assert.ok(apiLabels.some((x) => x.includes('POST /api/auth/login')), apiLabels.join(', '));
    await page.evaluate(() => (window as any).RED.workspaces.show('ems-tab'));
  });

  it('has a help page for every node of the suite', async () => {
    const types = Object.keys(require('../../../package.json')['node-red'].nodes) as string[];
    const help = await page.evaluate((ts: string[]) => ts.map((t) => {
      const el = document.querySelector(`script[data-help-name="${t}"]`);
      return [t, (el?.textContent ?? '').trim().length] as [string, number];
    }), types);
    for (const [t, length] of help) assert.ok(length > 300, `help of ${t}: ${length} characters`);
  });

  it('a meter\'s edit dialog lists the register maps, validates the unit id and offers help', async () => {
    await page.evaluate(() => (window as any).RED.editor.edit((window as any).RED.nodes.node('meter-modbus')));
    await page.waitForFunction(() => document.querySelectorAll('#node-input-profile option').length >= 8);
    const options = await page.locator('#node-input-profile option').allTextContents();
    assert.ok(options.some((o) => o.includes('Eastron SDM630')), options.join(' | '));
    assert.ok(options.some((o) => o.includes('Custom map')));
    assert.equal(await page.locator('#node-input-profile').inputValue(), 'eastron-sdm630');
    await page.fill('#node-input-unit', '300');
    await page.locator('#node-input-unit').blur();
    await page.waitForFunction(() => document.querySelector('#node-input-unit')!.classList.contains('input-error'));
    await page.evaluate(() => (window as any).RED.tray.close());
    const help = await page.evaluate(async () => {
      (window as any).RED.sidebar.help.show('ems-modbus-meter');
      await new Promise((r) => setTimeout(r, 500));
      return document.body.innerText;
    });
    assert.match(help, /Reads one Modbus energy meter/);
    assert.match(help, /Inputs[\s\S]*Outputs[\s\S]*Details/);
    await page.screenshot({ path: process.env.EMS_SCREENSHOT ?? '/tmp/ems-editor-help.png' });
  });

  it('an ems-tariff dialog validates the JSON as it is typed, naming the field, and summarises a valid tariff', async () => {
    const labels = (await page.locator('#red-ui-palette-base-category-energy .red-ui-palette-label').allTextContents()).map((l) => l.trim());
    for (const label of ['price', 'bill', 'prepaid']) assert.ok(labels.some((l) => l.includes(label)), `${label} in ${labels.join(', ')}`);
    await page.evaluate(() => (window as any).RED.editor.editConfig('', 'ems-tariff', '_ADD_', 'node-input'));
    await page.waitForSelector('#ems-tariff-load');
    await page.selectOption('#ems-tariff-example', 'tou');
    await page.click('#ems-tariff-load');
    await page.waitForFunction(() => (document.querySelector('#ems-tariff-summary') as HTMLElement | null)?.innerText.includes('weekday:'), undefined, { timeout: 10_000 });
    const summary = await page.locator('#ems-tariff-summary').innerText();
    assert.match(summary, /Season \w+/);
    assert.match(summary, /\d\d:\d\d-\d\d:\d\d (valley|peak|flat|sharp|deep) [\d.]+ EUR\/kWh/);
    // Break a band's end time in the JSON editor: the problem list names the field.
    const edited = await page.evaluate(() => {
      const w = window as any;
      const breakIt = (text: string) => text.replace('"to": "07:00"', '"to": "7 o\'clock"');
      const model = w.monaco?.editor.getModels().find((m: any) => m.getValue().includes('"seasons"'));
      if (model) { model.setValue(breakIt(model.getValue())); return 'monaco'; }
      const ace = (document.querySelector('#node-config-input-tariff-editor') as any)?.env?.editor;
      if (ace) { ace.setValue(breakIt(ace.getValue()), -1); return 'ace'; }
      return 'none';
    });
    assert.notEqual(edited, 'none', 'found the JSON editor');
    await page.click('#ems-tariff-validate');
    await page.waitForFunction(() => document.querySelectorAll('#ems-tariff-problems li').length > 0, undefined, { timeout: 10_000 });
    const problems = await page.locator('#ems-tariff-problems').innerText();
    assert.match(problems, /versions\[0\]\.energy\[0\]\.seasons\[\d\]\.schedule\.\w+\[\d\]\.to/);
    assert.match(problems, /7 o'clock/);
    await page.screenshot({ path: '/tmp/ems-tariff-dialog.png' });
    await page.evaluate(() => (window as any).RED.tray.close());
  });

  it('shows the schedule\'s meter count and the last energy value polled under the nodes', async () => {
    await page.waitForFunction(() => {
      const texts = Array.from(document.querySelectorAll('.red-ui-flow-node-status-label')).map((e) => e.textContent ?? '');
      return texts.some((t) => /^3 meters, (next \d\d:\d\d:\d\d|polling \d)/.test(t)) && texts.some((t) => /kWh \d\d:\d\d:\d\d( \(queue \d+\))?$/.test(t));
    }, undefined, { timeout: 30_000 });
  });

  it('shows no i18n key as a status, not even a connection\'s status under the meters that use it', async () => {
    // No M-Bus gateway runs on the bus's port (a free one): polled, the M-Bus meters node shows its bus's connection
    // state or the failed read, translated from the node's catalog.
    const mbus = await api('POST', '/api/meters', {
      name: 'heat', folder_id: plant, protocol: 'mbus', ip_address: '127.0.0.1', port: mbusPort, connection_address: '5', interval_time: 3600,
    });
    assert.equal(mbus.status, 201, JSON.stringify(mbus.body));
    assert.equal((await api('POST', `/api/meters/${mbus.body.data._id}/poll`)).status, 200);
    await page.waitForFunction(() => Array.from(document.querySelectorAll('.red-ui-flow-node-status-label'))
      .some((e) => /^(connecting|disconnected|read failed)$/i.test(e.textContent ?? '')), undefined, { timeout: 30_000 })
      .catch(async (err) => {
        const shown = await page.evaluate(() => Array.from(document.querySelectorAll('.red-ui-flow-node-status-label')).map((e) => e.textContent));
        throw new Error(`no translated connection or read status among ${JSON.stringify(shown)}: ${err}`);
      });
    const texts = await page.evaluate(() => Array.from(document.querySelectorAll('.red-ui-flow-node-status-label')).map((e) => e.textContent ?? ''));
    assert.ok(texts.some((t) => t !== ''), 'the canvas shows statuses');
    assert.deepEqual(texts.filter((t) => /(^|[\w-])\.status\.|^[\w-]+\/[\w-]+:/.test(t)), [], 'raw i18n keys');
  });
});
