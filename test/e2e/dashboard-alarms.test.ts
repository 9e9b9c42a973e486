// The dashboard's Alarms page and alarm badge (issue 19) in Debian's Chromium (headless), against the shipped EMS
// polling the Modbus simulator: alarm rules made through the API raise alarms from the polled readings; an operator
// sees them (badge on every page, the Alarms page) and acknowledges one with a note; a viewer is refused; the rules
// table with each rule's condition (rules changed through the API show at its next refresh; the dashboard's own rule
// form: test/e2e/dashboard-rules.test.ts); a user of another folder sees none, in the page and over socket.io.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { openEmsServices } from '../../lib/ems/services';
import { ModbusMeterSimulator } from '../../lib/sim/modbus-meter';
import { missingPeer } from '../fixtures/sim/peers';
import { loginApi } from './api-client';
import { chromiumAbsent, launchChromium } from './browser';
import { pick, rowsOf, textOf, until, within } from './dashboard-page';
import { startEms, TEST_LICENSE_KEYS, type RunningEms } from './runtime';

const TZ = 'Europe/Berlin';
const START_KWH = 5000;
const PLANT_METER = { id: 'main-incomer', name: 'Main incomer', unit: 1, profile: 'eastron-sdm630' };
const ANNEX_METER = { id: 'annex-meter', name: 'Annex meter', unit: 2, profile: 'eastron-sdm630' };
/** Energy import above these limits (the simulator starts at START_KWH): both rules raise at the first poll. */
const RULES = [
  { name: 'Energy high', severity: 'critical', value: 100 },
  { name: 'Energy watch', severity: 'warning', value: 200 },
];
const OPERATOR = { login: 'olga', password: 'chief-pass-0417' };
const VIEWER = { login: 'vera', password: 'Vq7-sunflower-92' };
const ANNEX_OPERATOR = { login: 'otto', password: 'Annex-pass-5531' };
const NOTE = 'Checked the main breaker, load is fine';

interface ApiAlarm { id: number; rule_name: string; state: string; severity: string; raised_at: number; acked_by: string | null; ack_note: string | null }

/** Text a person should never see: undefined, NaN, [object Object], an unfilled template. */
function assertReadable(text: string, where: string): void {
  for (const bad of [/\bundefined\b/, /\bNaN\b/, /\[object Object\]/, /\{\{.*\}\}/]) assert.doesNotMatch(text, bad, `${where}`);
}

describe('the dashboard\'s alarms in Chromium', missingPeer(chromiumAbsent), () => {
  let sim: ModbusMeterSimulator;
  let ems: RunningEms;
  let browser: Browser;
  let dir: string;
  let adminApi: Awaited<ReturnType<typeof loginApi>>;
  /** The admin's API call, failing after 10 s with its method and path. */
  const admin = (method: string, url: string, body?: unknown) => within(`${method} ${url}`, 10_000, adminApi(method, url, body));
  const alarms: Record<string, ApiAlarm> = {};
  const contexts: BrowserContext[] = [];

  /** A browser of its own for a user, signed in through the dashboard's login page, every socket.io message recorded. */
  async function signIn(user: { login: string; password: string }, browserZone = TZ): Promise<{ page: Page; frames: string[] }> {
    const context = await browser.newContext({ viewport: { width: 1400, height: 900 }, timezoneId: browserZone });
    contexts.push(context);
    context.setDefaultTimeout(15_000); // every page action fails naming its target after 15 s
    const page = await context.newPage();
    const frames: string[] = [];
    page.on('websocket', (ws) => {
      if (ws.url().includes('/dashboard/socket.io/')) ws.on('framereceived', (f) => frames.push(String(f.payload)));
    });
    page.on('response', (r) => {
      if (r.url().includes('/dashboard/socket.io/') && r.request().method() === 'GET') r.text().then((t) => frames.push(t), () => undefined);
    });
    await page.goto(`${ems.url}/dashboard/overview`);
    await page.waitForURL(/dashboard-login/, { timeout: 10_000 });
    await page.fill('#ems-username', user.login);
    await page.fill('#ems-password', user.password);
    await page.click('#ems-submit');
    await page.waitForURL(/\/dashboard\/overview$/, { timeout: 15_000 }).catch((e: Error) => { throw new Error(`${user.login}'s login did not reach the overview: ${e.message}`); });
    return { page, frames };
  }

  const local = (t: number) => new Intl.DateTimeFormat('en-GB', { timeZone: TZ, year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit' }).format(t);

  before(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ems-dash-alarms-'));
    sim = new ModbusMeterSimulator({ units: [PLANT_METER, ANNEX_METER].map((m) => ({ unit: m.unit, profile: m.profile, model: { initialImportKWh: START_KWH } })) });
    const port = await sim.listen(0);
    // Two sites, one meter each, polled every 10 s.
    const services = await openEmsServices({ file: path.join(dir, 'ems.db'), licensePublicKey: TEST_LICENSE_KEYS.publicKey });
    const folders: Record<string, string> = {};
    for (const [key, name, meter] of [['plant', 'Plant', PLANT_METER], ['annex', 'Annex', ANNEX_METER]] as const) {
      folders[key] = services.registry.createFolder({ name, folder_type: 'site' })._id;
      services.registry.createMeter({
        folder_id: folders[key], name: meter.name, protocol: 'modbus-tcp', profile: meter.profile, ip_address: '127.0.0.1', port: String(port), connection_address: String(meter.unit), interval_time: '10',
      }, undefined, meter.id);
    }
    services.close();
    ems = await startEms({ EMS_MODBUS_PORT: String(port), EMS_SQLITE_PATH: path.join(dir, 'readings.sqlite'), EMS_DB_PATH: path.join(dir, 'ems.db'), EMS_TIME_ZONE: TZ });
    adminApi = await within('the admin\'s API login', 10_000, loginApi(ems.url));
    for (const [user, role, folder] of [[OPERATOR, 'operator', 'plant'], [VIEWER, 'viewer', 'plant'], [ANNEX_OPERATOR, 'operator', 'annex']] as const) {
      const r = await admin('POST', '/api/users', { login: user.login, name: user.login, password: user.password, role, open_folders: [folders[folder]] });
      assert.equal(r.status, 201, `creating ${user.login}: ${JSON.stringify(r.body)}`);
    }
    browser = await launchChromium();
  });

  after(async () => {
    for (const c of contexts) await c.close().catch(() => undefined);
    await browser?.close();
    await ems?.stop();
    await sim?.close();
    if (dir && !process.env.EMS_KEEP_SCREENSHOTS) fs.rmSync(dir, { recursive: true, force: true });
  });

  it('alarm rules made through the API raise alarms from the polled readings', async () => {
    for (const rule of RULES) {
      const r = await admin('POST', '/api/alarm-rules', {
        name: rule.name, subject: { meter: PLANT_METER.id }, severity: rule.severity,
        condition: { type: 'threshold', obis: '1-0:1.8.0', direction: 'above', value: rule.value, unit: 'kWh' },
      });
      assert.equal(r.status, 201, `rule ${rule.name}: ${JSON.stringify(r.body)}`);
    }
    const raised = await until('two raised alarms on main-incomer (GET /api/alarms?state=raised)', 40_000, async () => {
      const r = await admin('GET', '/api/alarms?state=raised');
      const list = (r.body.data ?? []) as ApiAlarm[];
      return { value: list.length === 2 ? list : undefined, seen: r.body };
    });
    for (const a of raised) alarms[a.severity] = a;
    assert.deepEqual(raised.map((a) => a.rule_name).sort(), ['Energy high', 'Energy watch']);
  });

  it('an operator sees the badge on every page and the alarms on the Alarms page, and acknowledges one with a note', async () => {
    // A browser in another zone: times are shown in the EMS time zone all the same.
    const { page } = await signIn(OPERATOR, 'America/New_York');
    await textOf(page, 'the operator\'s badge on the overview', '.ems-dash-al-badge-overview', /2 active alarms, worst critical, 2 not acknowledged/);
    await page.screenshot({ path: path.join(dir, 'overview.png'), fullPage: true });
    await page.goto(`${ems.url}/dashboard/reports`);
    await textOf(page, 'the operator\'s badge on the reports page', '.ems-dash-al-badge-reports', /2 active alarms, worst critical/);

    await page.goto(`${ems.url}/dashboard/alarms`);
    const crit = alarms.critical;
    const warn = alarms.warning;
    // Columns: Alarm, Severity, Since, Meter, Message, Value, State, Acknowledged by, Note.
    const activeRows = await until('both alarms in the active table', 20_000, async () => {
      const rows = await rowsOf(page, '.ems-dash-al-active-table');
      return { value: rows.length === 2 ? rows : undefined, seen: rows };
    });
    const head = await page.evaluate(() => Array.from(document.querySelectorAll('.ems-dash-al-active-table thead th')).map((th) => (th.textContent ?? '').trim()));
    assert.deepEqual(head, ['Alarm', 'Severity', 'Since', 'Meter', 'Message', 'Value', 'State', 'Acknowledged by', 'Note']);
    const row = activeRows.find((r) => r[0] === `#${crit.id}`);
    assert.ok(row, `#${crit.id} in ${JSON.stringify(activeRows)}`);
    assert.deepEqual([row[1], row[2], row[3], row[6], row[7]], ['Critical', local(crit.raised_at), PLANT_METER.name, 'raised', '']);
    assert.match(row[4], /Energy high/);
    assert.match(row[5], /^\d+(\.\d+)? kWh \(limit 100 kWh\)$/);
    await textOf(page, 'the badge on the Alarms page', '.ems-dash-al-badge-alarms', /2 active alarms, worst critical, 2 not acknowledged/);
    assertReadable(await page.locator('body').innerText(), 'alarms page');

    // Acknowledge the critical alarm with a note.
    await pick(page, 'ems-dash-al-alarm', `#${crit.id} critical`);
    // Typed and clicked at once, as a person does: the note goes out as the field loses focus, before the click.
    await page.locator('.ems-dash-al-note input').fill(NOTE);
    await page.locator('.ems-dash-al-ack button').click();
    await textOf(page, 'the acknowledgement\'s notification', '.nrdb-ui-notification', new RegExp(`Alarm #${crit.id} acknowledged`), 15_000);
    const acked = (await admin('GET', `/api/alarms/${crit.id}`)).body.data as ApiAlarm;
    assert.deepEqual([acked.state, acked.acked_by, acked.ack_note], ['acknowledged', OPERATOR.login, NOTE]);
    await until('the acknowledged alarm in the active table', 20_000, async () => {
      const rows = await rowsOf(page, '.ems-dash-al-active-table');
      const r = rows.find((x) => x[0] === `#${crit.id}`);
      return { value: r && r[6] === 'acknowledged' && r[7] === OPERATOR.login && r[8] === NOTE ? r : undefined, seen: rows };
    });
    await textOf(page, 'the badge after the acknowledgement', '.ems-dash-al-badge-alarms', /2 active alarms, worst critical, 1 not acknowledged/);
    assert.equal(await page.locator('.ems-dash-al-note input').inputValue(), '', 'the note field is emptied');
    await until('the alarm dropdown emptied (the acknowledged alarm is no longer offered)', 15_000, async () => {
      const chosen = await page.locator('.ems-dash-al-alarm .v-select__selection').allInnerTexts();
      return { value: chosen.length === 0 ? true : undefined, seen: chosen };
    });
    await page.screenshot({ path: path.join(dir, 'acknowledged.png'), fullPage: true });

    // History: newest first; filtered by state, then by severity; nothing older.
    const history = async (what: string, ids: number[]) => until(`history: ${what}`, 20_000, async () => {
      const rows = await rowsOf(page, '.ems-dash-al-history-table');
      return { value: JSON.stringify(rows.map((r) => r[0])) === JSON.stringify(ids.map((id) => `#${id}`)) ? rows : undefined, seen: rows };
    });
    await history('all alarms, newest first', [Math.max(crit.id, warn.id), Math.min(crit.id, warn.id)]);
    await pick(page, 'ems-dash-al-state', 'Acknowledged');
    await history('acknowledged only', [crit.id]);
    await pick(page, 'ems-dash-al-state', 'All states');
    await pick(page, 'ems-dash-al-severity', 'Warning');
    const warnRows = await history('warnings only', [warn.id]);
    assert.equal(warnRows[0][6], 'raised');
    await textOf(page, 'the history\'s status', '.ems-dash-al-history-status', /1 alarm, newest first/);
    await page.locator('.ems-dash-al-older button').click();
    await textOf(page, 'the notice that there is nothing older', '.nrdb-ui-notification', /No older alarms/, 15_000);
    await page.screenshot({ path: path.join(dir, 'alarms.png'), fullPage: true });
  });

  it('a viewer sees the alarms but is refused the acknowledgement, with a visible message; the alarm stays raised', async () => {
    const { page } = await signIn(VIEWER);
    await page.goto(`${ems.url}/dashboard/alarms`);
    await textOf(page, 'the viewer\'s badge', '.ems-dash-al-badge-alarms', /2 active alarms, worst critical, 1 not acknowledged/);
    await pick(page, 'ems-dash-al-alarm', `#${alarms.warning.id} warning`);
    await page.locator('.ems-dash-al-note input').fill('I looked at it');
    await page.locator('.ems-dash-al-ack button').click();
    await textOf(page, 'the refusal shown to the viewer', '.nrdb-ui-notification', /Refused: this needs the operator role; "vera" is a viewer/, 15_000);
    await page.screenshot({ path: path.join(dir, 'refused.png'), fullPage: true });
    const still = (await admin('GET', `/api/alarms/${alarms.warning.id}`)).body.data as ApiAlarm;
    assert.deepEqual([still.state, still.acked_by, still.ack_note], ['raised', null, null]);
  });

  /** The rules table's rows once `ok` holds for them (columns: Rule, Subject, Condition, Severity, Delay / clear / hold-off, Active hours, Enabled). */
  const ruleTable = (page: Page, what: string, ok: (rows: string[][]) => boolean) => until(`rules table: ${what}`, 25_000, async () => {
    const rows = await rowsOf(page, '.ems-dash-ru-table');
    return { value: ok(rows) ? rows : undefined, seen: rows };
  });
  const ruleId = async (name: string) => ((await admin('GET', '/api/alarm-rules')).body.data as { id: string; name: string }[]).find((r) => r.name === name)!.id;
  const ruleEnabled = async (name: string) => ((await admin('GET', `/api/alarm-rules/${await ruleId(name)}`)).body.data as { enabled: boolean }).enabled;

  it('an operator sees the alarm rules with a summary of each condition, and the form to manage them', async () => {
    const { page } = await signIn(OPERATOR);
    await page.goto(`${ems.url}/dashboard/alarms`);
    const rows = await ruleTable(page, 'the two rules', (r) => r.length === 2);
    const head = await page.evaluate(() => Array.from(document.querySelectorAll('.ems-dash-ru-table thead th')).map((th) => (th.textContent ?? '').trim()));
    assert.deepEqual(head, ['Rule', 'Subject', 'Condition', 'Severity', 'Delay / clear / hold-off', 'Active hours', 'Enabled']);
    assert.deepEqual(rows, [
      ['Energy high', PLANT_METER.name, '1-0:1.8.0 above 100 kWh', 'Critical', '0 s / 0 s / 5 min', 'always', 'yes'],
      ['Energy watch', PLANT_METER.name, '1-0:1.8.0 above 200 kWh', 'Warning', '0 s / 0 s / 5 min', 'always', 'yes'],
    ]);
    await textOf(page, 'the rules\' status', '.ems-dash-ru-status', /2 rules, all enabled/);
    await page.locator('.ems-dash-ru-save button').waitFor({ state: 'visible', timeout: 20_000 }).catch((e: Error) => { throw new Error(`the rule form is not shown to the operator: ${e.message}`); });
  });

  it('an admin sees the rules on the dashboard; a rule disabled and enabled through the API shows so', async () => {
    const { page } = await signIn({ login: 'admin', password: 'ems-admin' });
    await page.goto(`${ems.url}/dashboard/alarms`);
    await ruleTable(page, 'the admin sees both rules enabled', (r) => r.length === 2 && r.every((x) => x[6] === 'yes'));

    // Through the API: disabled (its open alarm cleared), the table says so at its next refresh; then enabled again.
    const id = await ruleId('Energy watch');
    const off = await admin('PUT', `/api/alarm-rules/${id}`, { enabled: false });
    assert.equal(off.status, 200, JSON.stringify(off.body));
    await ruleTable(page, 'Energy watch disabled', (r) => r.some((x) => x[0] === 'Energy watch' && x[6] === 'no') && r.some((x) => x[0] === 'Energy high' && x[6] === 'yes'));
    await textOf(page, 'the rules\' status with one disabled', '.ems-dash-ru-status', /2 rules, 1 disabled/);
    assert.equal(await ruleEnabled('Energy watch'), false);
    assert.equal(((await admin('GET', `/api/alarms/${alarms.warning.id}`)).body.data as ApiAlarm).state, 'cleared', 'the disabled rule\'s alarm is cleared');
    await page.screenshot({ path: path.join(dir, 'rules-disabled.png'), fullPage: true });
    const on = await admin('PUT', `/api/alarm-rules/${id}`, { enabled: true });
    assert.equal(on.status, 200, JSON.stringify(on.body));
    await ruleTable(page, 'Energy watch enabled again', (r) => r.length === 2 && r.every((x) => x[6] === 'yes'));
    assert.equal(await ruleEnabled('Energy watch'), true);
  });

  it('a user of another folder sees no alarm: count 0, no row, nothing of the plant over socket.io', async () => {
    const { page, frames } = await signIn(ANNEX_OPERATOR);
    await textOf(page, 'the annex user\'s badge on the overview', '.ems-dash-al-badge-overview', /^\s*No active alarms\s*$/);
    await page.goto(`${ems.url}/dashboard/alarms`);
    await textOf(page, 'the annex user\'s badge on the Alarms page', '.ems-dash-al-badge-alarms', /^\s*No active alarms\s*$/);
    await textOf(page, 'the annex user\'s history status', '.ems-dash-al-history-status', /No alarms match/);
    assert.deepEqual(await rowsOf(page, '.ems-dash-al-active-table'), []);
    assert.deepEqual(await rowsOf(page, '.ems-dash-al-history-table'), []);
    await textOf(page, 'the annex user\'s rules status', '.ems-dash-ru-status', /No alarm rules in your folders/);
    assert.deepEqual(await rowsOf(page, '.ems-dash-ru-table'), []);
    await page.waitForTimeout(11_000); // a timer refresh of the page and its badge
    await textOf(page, 'the annex user\'s badge after a refresh', '.ems-dash-al-badge-alarms', /^\s*No active alarms\s*$/);
    assert.ok(frames.some((f) => f.includes('No active alarms')), 'the socket.io messages were recorded');
    for (const secret of [PLANT_METER.id, PLANT_METER.name, 'Energy high', 'Energy watch']) {
      const leak = frames.find((f) => f.includes(secret));
      assert.equal(leak, undefined, `a socket.io message to the annex user names ${secret}`);
    }
  });
  it('a user subscribed to the dashboard channel is told of a new alarm by a toast, in their browser only', async () => {
    const olga = await within('the operator\'s API login', 10_000, loginApi(ems.url, OPERATOR.login, OPERATOR.password));
    const sub = await within('PUT /api/notifications/subscription', 10_000, olga('PUT', '/api/notifications/subscription', { channels: ['dashboard'] }));
    assert.equal(sub.status, 200, JSON.stringify(sub.body));
    const { page } = await signIn(OPERATOR);
    await textOf(page, 'the operator\'s badge before the new alarm', '.ems-dash-al-badge-overview', /active alarms/);
    await page.waitForTimeout(1000); // the first look at the inbox marks where she stands: older notifications are no toast
    const r = await admin('POST', '/api/alarm-rules', {
      name: 'Energy notice', subject: { meter: PLANT_METER.id }, severity: 'info',
      condition: { type: 'threshold', obis: '1-0:1.8.0', direction: 'above', value: 1, unit: 'kWh' },
    });
    assert.equal(r.status, 201, JSON.stringify(r.body));
    await textOf(page, 'the toast of the new alarm', '.nrdb-ui-notification', new RegExp(`Raised: Energy notice at ${PLANT_METER.name}`), 40_000);
  });
});
