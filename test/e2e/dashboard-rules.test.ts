// The dashboard's alarm rule form (issue 19) in Debian's Chromium (headless), against the shipped EMS polling the
// Modbus simulator: an operator picks a meter of her folder (the other site is not offered), sees a bad value refused
// as the API words it, creates a threshold rule that raises an alarm from the polled readings, changes it, disables it
// and deletes it (asked twice); a viewer sees no form, and a form message forged over the viewer's socket is refused.
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
import { optionsOf, pick, rowsOf, signIn as signInAs, textOf, until, within } from './dashboard-page';
import { startEms, TEST_LICENSE_KEYS, type RunningEms } from './runtime';

const TZ = 'Europe/Berlin';
const PLANT_METER = { id: 'main-incomer', name: 'Main incomer', unit: 1, profile: 'eastron-sdm630' };
const ANNEX_METER = { id: 'annex-meter', name: 'Annex meter', unit: 2, profile: 'eastron-sdm630' };
const OPERATOR = { login: 'olga', password: 'chief-pass-0417' };
const VIEWER = { login: 'vera', password: 'Vq7-sunflower-92' };
const RULE = 'Energy limit';
/** The form's widgets (by class): none of them is shown to a viewer. */
const FORM_WIDGETS = ['rule', 'name', 'subject', 'type', 'obis', 'value', 'unit', 'save', 'enable', 'disable', 'delete'].map((w) => `.ems-dash-ru-${w}`);

interface ApiRule { id: string; name: string; enabled: boolean; created_by: string; subject: unknown; condition: Record<string, unknown> }

describe('the dashboard\'s alarm rule form in Chromium', missingPeer(chromiumAbsent), () => {
  let sim: ModbusMeterSimulator;
  let ems: RunningEms;
  let browser: Browser;
  let dir: string;
  let adminApi: Awaited<ReturnType<typeof loginApi>>;
  const admin = (method: string, url: string, body?: unknown) => within(`${method} ${url}`, 10_000, adminApi(method, url, body));
  const rules = async () => (await admin('GET', '/api/alarm-rules')).body.data as ApiRule[];
  const contexts: BrowserContext[] = [];
  const signIn = (user: { login: string; password: string }): Promise<Page> => signInAs(browser, contexts, ems.url, user, { timeZone: TZ });

  /** Types into a text input widget of the form (sent when the field loses focus or 300 ms after typing). */
  async function type(page: Page, field: string, value: string): Promise<void> {
    await page.locator(`.ems-dash-ru-${field} input`).fill(value);
    await page.locator(`.ems-dash-ru-${field} input`).blur();
  }

  async function press(page: Page, button: string): Promise<void> {
    await page.locator(`.ems-dash-ru-${button} button`).click();
  }

  /** The newest notification's text matching `pattern`. */
  const told = (page: Page, what: string, pattern: RegExp) => textOf(page, what, '.nrdb-ui-notification', pattern, 15_000);

  before(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ems-dash-rules-'));
    sim = new ModbusMeterSimulator({ units: [PLANT_METER, ANNEX_METER].map((m) => ({ unit: m.unit, profile: m.profile, model: { initialImportKWh: 5000 } })) });
    const port = await sim.listen(0);
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
    for (const [user, role] of [[OPERATOR, 'operator'], [VIEWER, 'viewer']] as const) {
      const r = await admin('POST', '/api/users', { login: user.login, name: user.login, password: user.password, role, open_folders: [folders.plant] });
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

  it('an operator creates a threshold rule on a meter of her folder, which raises an alarm; changes, disables and deletes it', async () => {
    const page = await signIn(OPERATOR);
    await page.goto(`${ems.url}/dashboard/alarms`);
    await page.locator('.ems-dash-ru-save button').waitFor({ state: 'visible', timeout: 20_000 });
    await textOf(page, 'the rules\' status', '.ems-dash-ru-status', /No alarm rules in your folders/);
    // A new rule's form: a threshold on active power.
    await until('the new rule\'s form in the fields', 15_000, async () => {
      const seen = [await page.locator('.ems-dash-ru-obis input').inputValue(), await page.locator('.ems-dash-ru-unit input').inputValue(),
        (await page.locator('.ems-dash-ru-type').innerText()).trim(), (await page.locator('.ems-dash-ru-rule').innerText()).trim()];
      return { value: seen[0] === '1-0:1.7.0' && seen[1] === 'kW' && /Threshold on a value/.test(seen[2]) && /New rule/.test(seen[3]) ? seen : undefined, seen };
    });

    // Only her site is offered as a subject.
    const subjects = await optionsOf(page, 'ems-dash-ru-subject');
    assert.deepEqual(subjects, ['Folder: Plant and below', `Meter: ${PLANT_METER.name} in Plant`]);
    await type(page, 'name', RULE);
    await pick(page, 'ems-dash-ru-subject', PLANT_METER.name);
    await type(page, 'obis', '1-0:1.8.0');
    await type(page, 'unit', 'kWh');
    await type(page, 'value', '100 kWh');
    await press(page, 'save');
    await told(page, 'the API\'s refusal of a bad value', new RegExp(`Rule "${RULE}" not saved: condition.value "100 kWh" must be a number`));
    assert.deepEqual(await rules(), [], 'nothing made');

    await type(page, 'value', '100');
    await press(page, 'save');
    await told(page, 'the rule created', new RegExp(`Rule "${RULE}" created`));
    const [made] = await rules();
    assert.deepEqual([made.name, made.subject, made.condition, made.created_by, made.enabled],
      [RULE, { meter: PLANT_METER.id }, { type: 'threshold', obis: '1-0:1.8.0', direction: 'above', value: 100, unit: 'kWh' }, OPERATOR.login, true]);
    await until('the rule\'s alarm raised from a polled reading (GET /api/alarms?rule=)', 40_000, async () => {
      const list = (await admin('GET', `/api/alarms?rule=${made.id}&state=raised`)).body.data as { value: number }[];
      return { value: list.length === 1 && list[0].value > 100 ? list : undefined, seen: list };
    });
    await until('the rule in the table', 20_000, async () => {
      const rows = await rowsOf(page, '.ems-dash-ru-table');
      return { value: rows.some((r) => r[0] === RULE && r[2] === '1-0:1.8.0 above 100 kWh' && r[6] === 'yes') ? rows : undefined, seen: rows };
    });
    await textOf(page, 'the new rule chosen in the rule dropdown', '.ems-dash-ru-rule', new RegExp(RULE));
    await page.screenshot({ path: path.join(dir, 'rule-created.png'), fullPage: true });

    // Changed: a limit the meter is far below, so its alarm clears.
    await type(page, 'value', '900000');
    await press(page, 'save');
    await told(page, 'the rule saved', new RegExp(`Rule "${RULE}" saved`));
    const [changed] = await rules();
    assert.equal(changed.condition.value, 900000);
    assert.equal(((await admin('GET', `/api/alarms?rule=${made.id}&state=active`)).body.data as unknown[]).length, 0, 'the changed rule\'s alarm cleared');

    await press(page, 'disable');
    await told(page, 'the rule disabled', new RegExp(`Rule "${RULE}" disabled`));
    assert.equal((await rules())[0].enabled, false);
    await until('the table shows it disabled', 20_000, async () => {
      const rows = await rowsOf(page, '.ems-dash-ru-table');
      return { value: rows.some((r) => r[0] === RULE && r[6] === 'no') ? rows : undefined, seen: rows };
    });

    await press(page, 'delete');
    await told(page, 'the question before deleting', new RegExp(`Delete the rule "${RULE}"\\? Press Delete again within 15 s to confirm`));
    assert.equal((await rules()).length, 1, 'not deleted at the first press');
    await press(page, 'delete');
    await told(page, 'the rule deleted', new RegExp(`Rule "${RULE}" deleted`));
    assert.deepEqual(await rules(), []);
    await textOf(page, 'the rules\' status after the delete', '.ems-dash-ru-status', /No alarm rules in your folders/);
  });

  it('a viewer sees no rule form, and a form message forged over her socket is refused', async () => {
    const page = await signIn(VIEWER);
    await page.goto(`${ems.url}/dashboard/alarms`);
    await textOf(page, 'the viewer\'s rules status', '.ems-dash-ru-status', /No alarm rules in your folders/);
    await page.waitForTimeout(7000); // both syncs of the page: nothing shows the form
    for (const w of FORM_WIDGETS) assert.equal(await page.locator(w).filter({ visible: true }).count(), 0, `${w} is not shown to a viewer`);
    await page.screenshot({ path: path.join(dir, 'viewer.png'), fullPage: true });
    // As a person would with the browser's console: the dashboard's own socket, a click on the hidden Save.
    const sent = await page.evaluate(() => {
      const app = (document.querySelector('#app') as unknown as { __vue_app__?: { _context: { provides: Record<string, { emit: (...a: unknown[]) => void }> } } }).__vue_app__;
      const socket = app?._context.provides.$socket;
      if (!socket) return false;
      socket.emit('widget-action', 'dash-ru-name', { payload: 'Forged' });
      socket.emit('widget-action', 'dash-ru-save', { payload: 'dash-ru-save' });
      return true;
    });
    assert.ok(sent, 'the dashboard\'s socket was found');
    await told(page, 'the refusal of the forged rule', /Refused: this needs the operator role; "vera" is a viewer/);
    assert.deepEqual(await rules(), []);
  });
});
