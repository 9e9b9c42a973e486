// The dashboard's Site page (issue 18) in Debian's Chromium (headless), against the shipped EMS: a site with an area, a
// hall below it, a main meter and a sub-meter entered by hand (manual meters, POST /api/meters/:id/readings). A viewer of
// the site opens /dashboard/site, picks last month and sees the site's electricity, per m², the sub-meter breakdown with
// the unmetered remainder and the hall; picking the hall shows the hall's own figures. A user of another site never
// gets this site as a choice.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { fromLocal, toLocal } from '../../lib/model/time';
import { missingPeer } from '../fixtures/sim/peers';
import { loginApi } from './api-client';
import { chromiumAbsent, launchChromium } from './browser';
import { pick, rowsOf, signIn as signInAs, until, within } from './dashboard-page';
import { startEms, type RunningEms } from './runtime';

const TZ = 'Europe/Berlin';
const H = 3_600_000;
const VIEWER = { login: 'sina', password: 'Site-viewer-4471' };
const OTHER = { login: 'otis', password: 'Other-site-8812' };

describe('the dashboard\'s Site page in Chromium', missingPeer(chromiumAbsent), () => {
  let ems: RunningEms;
  let browser: Browser;
  let dir: string;
  let adminApi: Awaited<ReturnType<typeof loginApi>>;
  const admin = (method: string, url: string, body?: unknown) => within(`${method} ${url}`, 10_000, adminApi(method, url, body));
  const contexts: BrowserContext[] = [];
  /** Hours of last month in the EMS zone, and its label as the page shows it. */
  let hours = 0;
  let lastMonth = '';
  let lastDay = '';
  /** The user's own browser, signed in, on the Site page. */
  const signIn = async (user: { login: string; password: string }): Promise<Page> => {
    const page = await signInAs(browser, contexts, ems.url, user, { timeZone: TZ });
    await page.goto(`${ems.url}/dashboard/site`);
    return page;
  };

  before(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ems-dash-site-'));
    ems = await startEms({ EMS_SQLITE_PATH: path.join(dir, 'readings.sqlite'), EMS_DB_PATH: path.join(dir, 'ems.db'), EMS_TIME_ZONE: TZ });
    adminApi = await within('the admin\'s API login', 10_000, loginApi(ems.url));
    const folder = async (body: Record<string, unknown>) => {
      const r = await admin('POST', '/api/folders', body);
      assert.equal(r.status, 201, `folder ${JSON.stringify(body)}: ${JSON.stringify(r.body)}`);
      return r.body.data._id as string;
    };
    const site = await folder({ name: 'Werk Nord', folder_type: 'site', area_m2: 2000 });
    const hall = await folder({ name: 'Halle 2', folder_type: 'building', parent_id: site, area_m2: 800 });
    const other = await folder({ name: 'Werk Süd', folder_type: 'site' });
    for (const [id, name, folderId, parent] of [['site-main', 'Main incomer', site, ''], ['hall-sub', 'Hall feeder', hall, 'site-main']]) {
      const r = await admin('POST', '/api/meters', { _id: id, name, folder_id: folderId, protocol: 'manual', interval_time: 3600, ...(parent ? { parent_meter: parent } : {}) });
      assert.equal(r.status, 201, `meter ${id}: ${JSON.stringify(r.body)}`);
    }
    // Hourly registers from the start of last month (EMS zone) to the last full hour: main +10 kWh/h, the hall +4 kWh/h.
    const now = Date.now();
    const today = toLocal(now, TZ);
    const prev = today.month === 1 ? { year: today.year - 1, month: 12 } : { year: today.year, month: today.month - 1 };
    const start = fromLocal({ ...prev, day: 1, hour: 0, minute: 0, second: 0, millisecond: 0 }, TZ);
    hours = (fromLocal({ year: today.year, month: today.month, day: 1, hour: 0, minute: 0, second: 0, millisecond: 0 }, TZ) - start) / H;
    lastMonth = `${prev.year}-${String(prev.month).padStart(2, '0')}`;
    lastDay = String(new Date(Date.UTC(prev.year, prev.month, 0)).getUTCDate());
    const last = Math.floor((now - start) / H) - 1;
    for (const [id, perHour] of [['site-main', 10], ['hall-sub', 4]] as const) {
      const readings = Array.from({ length: last + 1 }, (_, k) => ({ time: start + k * H, obis: '1-0:1.8.0', value: 1000 + perHour * k, unit: 'kWh' }));
      const r = await admin('POST', `/api/meters/${id}/readings`, { readings });
      assert.equal(r.status, 201, `readings of ${id}: ${JSON.stringify(r.body)}`);
    }
    for (const [user, folderId] of [[VIEWER, site], [OTHER, other]] as const) {
      const r = await admin('POST', '/api/users', { login: user.login, name: user.login, password: user.password, role: 'viewer', open_folders: [folderId] });
      assert.equal(r.status, 201, `creating ${user.login}: ${JSON.stringify(r.body)}`);
    }
    browser = await launchChromium();
  });

  after(async () => {
    for (const c of contexts) await c.close().catch(() => undefined);
    await browser?.close();
    await ems?.stop();
    if (dir && !process.env.EMS_KEEP_SCREENSHOTS) fs.rmSync(dir, { recursive: true, force: true });
  });

  it('a viewer picks last month and sees the site\'s electricity, per m², the remainder and the hall; then the hall alone', async () => {
    const page = await signIn(VIEWER);
    await until('the Site page\'s status naming the site', 20_000, async () => {
      const seen = await page.locator('.ems-dash-si-status').innerText().catch((e: Error) => e.message);
      return { value: /Werk Nord, 2,000 m²/.test(seen) ? seen : undefined, seen };
    });
    await pick(page, 'ems-dash-si-period', 'Last month');
    const fmt = (n: number) => n.toLocaleString('en-US', { maximumFractionDigits: 3 });
    const main = 10 * hours;
    const sub = 4 * hours;
    // Columns: Category, Consumption, Per m², Cost, kgce, kgCO2e, A year before, Change, Peak, Load factor.
    const cats = await until(`last month's electricity (${fmt(main)} kWh) in the category table`, 20_000, async () => {
      const rows = await rowsOf(page, '.ems-dash-si-cat');
      return { value: rows.length === 1 && rows[0][1] === `${fmt(main)} kWh` ? rows : undefined, seen: rows };
    });
    assert.equal(cats[0][0], 'Electricity');
    assert.equal(cats[0][2], `${fmt(main / 2000)} kWh`, 'per m² of the site\'s 2000 m²');
    assert.match(cats[0][8], new RegExp(`^240 kWh \\(${lastMonth}-\\d\\d\\)$`), 'the peak day: 24 h x 10 kWh');
    const breakdown = await rowsOf(page, '.ems-dash-si-sub');
    assert.deepEqual(breakdown.map((r) => [r[0], r[1], r[2]]), [
      ['Main incomer', 'master meter', `${fmt(main)} kWh`], ['Hall feeder', 'sub-meter', `${fmt(sub)} kWh`], ['Main incomer: unmetered', 'remainder', `${fmt(main - sub)} kWh`],
    ]);
    const spaces = await rowsOf(page, '.ems-dash-si-spaces');
    assert.deepEqual(spaces.map((r) => [r[0], r[2], r[3], r[4]]), [['Halle 2', 'Electricity', `${fmt(sub)} kWh`, `${fmt(sub / 800)} kWh`]]);
    const status = await page.locator('.ems-dash-si-status').innerText();
    assert.match(status, new RegExp(`Werk Nord, 2,000 m², ${lastMonth}-01 to ${lastMonth}-${lastDay}:`), 'the period with its last day');
    await page.screenshot({ path: path.join(dir, 'site.png'), fullPage: true });

    await pick(page, 'ems-dash-si-folder', 'Werk Nord / Halle 2');
    await until(`the hall's own electricity (${fmt(sub)} kWh)`, 20_000, async () => {
      const rows = await rowsOf(page, '.ems-dash-si-cat');
      return { value: rows.length === 1 && rows[0][1] === `${fmt(sub)} kWh` && rows[0][2] === `${fmt(sub / 800)} kWh` ? rows : undefined, seen: rows };
    });
    assert.match(await page.locator('.ems-dash-si-status').innerText(), /Werk Nord \/ Halle 2, 800 m², /);
  });

  it('a user of another site is never offered this site', async () => {
    const page = await signIn(OTHER);
    await until('the other user\'s status naming their own site', 20_000, async () => {
      const seen = await page.locator('.ems-dash-si-status').innerText().catch((e: Error) => e.message);
      return { value: /Werk Süd, /.test(seen) ? seen : undefined, seen };
    });
    await page.locator('.ems-dash-si-folder .v-field').click();
    const offered = await page.locator('.v-overlay-container .v-list-item').allTextContents();
    assert.deepEqual(offered.map((t) => t.trim()), ['Werk Süd']);
  });
});
