// The shipped dashboard (Dashboard 2.0 at /dashboard) in Debian's Chromium (headless), against the shipped
// EMS with the Modbus simulator and three days of readings written into the store before start: behind the EMS
// login, and each user sees only the meters of their folders, in the page and over socket.io.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { openEmsServices } from '../../lib/ems/services';
import { ModbusMeterSimulator } from '../../lib/sim/modbus-meter';
import { SqliteStore } from '../../lib/store';
import type { Reading } from '../../lib/model/reading';
import { missingPeer } from '../fixtures/sim/peers';
import { signLicense } from '../../lib/ems/license';
import { startEms, TEST_LICENSE_KEYS, type RunningEms } from './runtime';
import { optionsOf, until } from './dashboard-page';

const CHROMIUM = process.env.EMS_CHROMIUM || '/usr/bin/chromium';
const absent = fs.existsSync(CHROMIUM) ? undefined : `${CHROMIUM} not found (apt-get install chromium, or set EMS_CHROMIUM)`;
const METERS = [
  { id: 'main-incomer', name: 'Main incomer', unit: 1, profile: 'eastron-sdm630', kwhPerMin: 0.1 },
  { id: 'hvac', name: 'HVAC', unit: 2, profile: 'abb-a44', kwhPerMin: 0.05 },
  { id: 'lighting', name: 'Lighting', unit: 3, profile: 'carlo-gavazzi-em24', kwhPerMin: 0.025 },
];
/** Created through the API in a second folder: the viewer sees only this one. */
const ANNEX = { id: 'annex-meter', name: 'Annex meter', unit: 4, profile: 'eastron-sdm630' };
const VIEWER = { login: 'vera', password: 'Vq7-sunflower-92' };
const START_KWH = 5000;
const MINUTE = 60_000;
const SEEDED_DAYS = 3;
const TZ = 'Europe/Berlin';
/**
 * A heat meter (heat energy in kWh, as the demo's M-Bus heat meter sends it) and a water meter (m3, as the LoRaWAN
 * platform's), pushed meters (protocol lorawan: nothing polls them) with readings seeded every 5 minutes since the start
 * of yesterday (local): the reports start there, not at an empty month before.
 */
const HEAT = { id: 'heat-meter', name: 'Heat meter', kwhPerMin: 0.2, start: 1000 };
const WATER = { id: 'water-meter', name: 'Water meter', m3PerMin: 0.001, start: 100 };

/** Local midnight starting yesterday in TZ. */
function startOfYesterday(now: number): number {
  const day = new Intl.DateTimeFormat('en-CA', { timeZone: TZ }).format(now - 86_400_000);
  for (let t = Date.parse(`${day}T00:00:00Z`) - 14 * 3_600_000; ; t += 15 * MINUTE) {
    if (new Intl.DateTimeFormat('en-CA', { timeZone: TZ }).format(t) === day) return t;
  }
}

/** Heat and water readings every 5 minutes from local midnight yesterday to 20 s ago. */
function seedOtherMedia(now: number): Reading[] {
  const out: Reading[] = [];
  const from = startOfYesterday(now);
  for (let time = from, n = 0; time <= now - 20_000; time += 5 * MINUTE, n++) {
    out.push({ meter: HEAT.id, obis: '6-0:1.0.0', unit: 'kWh', time, value: HEAT.start + 5 * n * HEAT.kwhPerMin },
      { meter: HEAT.id, obis: '6-0:8.0.0', unit: 'kW', time, value: 12 }, { meter: HEAT.id, obis: '6-0:10.0.0', unit: 'degC', time, value: 55 },
      { meter: WATER.id, obis: '8-0:1.0.0', unit: 'm3', time, value: Math.round((WATER.start + 5 * n * WATER.m3PerMin) * 1000) / 1000 });
  }
  return out;
}

/** Text a person should never see on a page: an untranslated key, undefined, NaN, [object Object]. */
function assertReadable(text: string, where: string): void {
  for (const bad of [/\bundefined\b/, /\bNaN\b/, /\[object Object\]/, /\$vuetify/, /\b[a-z][\w-]*\.[a-z][\w-]*\.[a-z][\w.-]*\b/i, /\{\{.*\}\}/]) {
    const m = bad.exec(text);
    assert.equal(m, null, `${where} shows "${m?.[0]}": ${text.slice(Math.max(0, (m?.index ?? 0) - 80), (m?.index ?? 0) + 80)}`);
  }
}

/**
 * Energy counters every minute for three days, the newest 20 s ago at the simulator's starting counters
 * (START_KWH, 70 % of it on T1 and 30 % on T2): the total 1-0:1.8.0 and the tariff registers 1-0:1.8.1
 * (06:00-22:00 local) and 1-0:1.8.2 (the night).
 */
function seedReadings(now: number): Reading[] {
  const out: Reading[] = [];
  const hour = new Intl.DateTimeFormat('en-GB', { timeZone: TZ, hour: 'numeric', hourCycle: 'h23' });
  for (const m of METERS) {
    let [total, t1, t2] = [START_KWH, 0.7 * START_KWH, 0.3 * START_KWH];
    for (let i = 0; i < SEEDED_DAYS * 1440; i++) {
      const time = now - 20_000 - i * MINUTE;
      out.push({ meter: m.id, obis: '1-0:1.8.0', unit: 'kWh', time, value: total }, { meter: m.id, obis: '1-0:1.8.1', unit: 'kWh', time, value: t1 },
        { meter: m.id, obis: '1-0:1.8.2', unit: 'kWh', time, value: t2 });
      // The minute before `time` was used on T1 or T2 by its local hour.
      const h = Number(hour.format(time - 1));
      total -= m.kwhPerMin;
      if (h >= 6 && h < 22) t1 -= m.kwhPerMin; else t2 -= m.kwhPerMin;
    }
  }
  return out;
}

/** Share of canvas pixels that differ from the most common colour (0 = blank). */
async function canvasInk(page: Page, selector: string): Promise<number> {
  return page.evaluate((sel) => {
    const canvas = document.querySelector(sel) as HTMLCanvasElement | null;
    if (!canvas) return -1;
    const { data } = canvas.getContext('2d')!.getImageData(0, 0, canvas.width, canvas.height);
    const counts = new Map<number, number>();
    for (let i = 0; i < data.length; i += 4) {
      const key = (data[i] << 24) | (data[i + 1] << 16) | (data[i + 2] << 8) | data[i + 3];
      counts.set(key, (counts.get(key) ?? 0) + 1);
    }
    const most = Math.max(...counts.values());
    return 1 - most / (data.length / 4);
  }, selector);
}

/** A screenshot is a PNG and big enough to hold a page (a blank 1400x900 page compresses to a few KB). */
function assertScreenshot(file: string): void {
  const png = fs.readFileSync(file);
  assert.equal(png.subarray(1, 4).toString(), 'PNG');
  assert.ok(png.length > 20_000, `${file}: ${png.length} bytes looks blank`);
}

describe('the dashboard in Chromium', missingPeer(absent), () => {
  let sim: ModbusMeterSimulator;
  let ems: RunningEms;
  let browser: Browser;
  let page: Page;
  let dir: string;
  let emsPort: number;
  let simPort: number;
  const shots = (name: string) => path.join(dir, `${name}.png`);
  /** Opens a dropdown widget (by its class) and clicks an option, as a person does. */
  const pick = async (dropdown: string, option: string) => {
    await page.locator(`.${dropdown} .v-field`).click();
    await page.locator('.v-overlay-container .v-list-item', { hasText: option }).click();
  };

  before(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ems-dashboard-'));
    const now = Date.now();
    const store = new SqliteStore({ path: path.join(dir, 'readings.sqlite') });
    await store.write(seedReadings(now));
    await store.write(seedOtherMedia(now));
    await store.close();
    // The demo meters in the EMS registry (creating them also logs events for the event page).
    sim = new ModbusMeterSimulator({ units: [...METERS, ANNEX].map((m) => ({ unit: m.unit, profile: m.profile, model: { initialImportKWh: START_KWH } })) });
    const port = await sim.listen(0);
    simPort = port;
    // The demo meters in the EMS registry (creating them also logs events for the event page).
    const services = await openEmsServices({ file: path.join(dir, 'ems.db'), licensePublicKey: TEST_LICENSE_KEYS.publicKey });
    // Six meters and the annex: more than the unlicensed EMS allows (5).
    const day = new Date(now).toISOString().slice(0, 10);
    services.license.upload(JSON.stringify(signLicense({
      id: 'DASH-1', customer: 'Dashboard test', activation_date: '2020-01-01', expiration_date: '2099-12-31', meter_limit: 20, issued_at: day,
    }, TEST_LICENSE_KEYS.privateKey)), 'test');
    const site = services.registry.createFolder({ name: 'Demo plant', folder_type: 'site' });
    for (const m of METERS) {
      services.registry.createMeter({
        folder_id: site._id, name: m.name, protocol: 'modbus-tcp', profile: m.profile, ip_address: '127.0.0.1', port: String(port), connection_address: String(m.unit), interval_time: '10',
      }, undefined, m.id);
    }
    for (const m of [HEAT, WATER]) services.registry.createMeter({ folder_id: site._id, name: m.name, protocol: 'lorawan', interval_time: '300' }, undefined, m.id);
    services.close();
    ems = await startEms({
      EMS_MODBUS_PORT: String(port), EMS_SQLITE_PATH: path.join(dir, 'readings.sqlite'), EMS_DB_PATH: path.join(dir, 'ems.db'), EMS_TIME_ZONE: TZ,
    });
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    });
    page = await browser.newPage({ viewport: { width: 1400, height: 900 }, timezoneId: TZ });
    emsPort = Number(new URL(ems.url).port);
  });

  after(async () => {
    await browser?.close();
    await ems?.stop();
    await sim?.close();
    if (dir && !process.env.EMS_KEEP_SCREENSHOTS) fs.rmSync(dir, { recursive: true, force: true });
  });

  it('anonymous: a page is redirected to the login page; XHR and socket.io (polling and websocket) get 401', async () => {
    const pageRequest = await fetch(`${ems.url}/dashboard/overview`, { redirect: 'manual', headers: { accept: 'text/html' } });
    assert.equal(pageRequest.status, 302);
    assert.equal(pageRequest.headers.get('location'), '/dashboard-login?next=%2Fdashboard%2Foverview');
    for (const url of ['/dashboard/_setup', '/dashboard/socket.io/?EIO=4&transport=polling', '/dashboard/assets/index.js', '/DASHBOARD/overview']) {
      const r = await fetch(`${ems.url}${url}`);
      assert.equal(r.status, 401, url);
      const body = await r.json() as { data: unknown; error: string; status: number };
      assert.deepEqual([body.data, body.status], [null, 401], url);
      assert.match(body.error, /log in first/, url);
    }
    // A forged cookie is no session either.
    const forged = await fetch(`${ems.url}/dashboard/socket.io/?EIO=4&transport=polling`, { headers: { cookie: 'access_token=forged' } });
    assert.equal(forged.status, 401);
    assert.equal(await websocketStatus(emsPort, '/dashboard/socket.io/?EIO=4&transport=websocket'), 401);

    await page.goto(`${ems.url}/dashboard/overview`);
    assert.equal(new URL(page.url()).pathname, '/dashboard-login');
    const login = await fetch(`${ems.url}/dashboard-login`);
    assert.match(login.headers.get('content-security-policy') ?? '', /script-src 'self'/);
    assert.doesNotMatch(await login.text(), /<script>|<script [^>]*>[^<]/, 'no inline script');
  });

  it('the admin logs in through the login page and lands on the page asked for', async () => {
    await page.fill('#ems-username', 'admin');
    await page.fill('#ems-password', 'wrong-password');
    await page.click('#ems-submit');
    await page.waitForFunction(() => /wrong login or password/.test(document.querySelector('#ems-error')?.textContent ?? ''), undefined, { timeout: 10_000 });
    await page.fill('#ems-password', 'ems-admin');
    await page.click('#ems-submit');
    await page.waitForURL(/\/dashboard\/overview$/, { timeout: 15_000 });
    const cookies = await page.context().cookies();
    const token = cookies.find((c) => c.name === 'access_token');
    assert.ok(token?.httpOnly, 'the session cookie is HttpOnly');
    assert.equal(token?.sameSite, 'Strict');
  });

  it('overview: consumption today and this month per medium, every meter with its main quantity and live power, no alarms', async () => {
    await page.goto(`${ems.url}/dashboard/overview`);
    await page.waitForFunction(() => /m3 water/.test(document.querySelector('.ems-dash-ov-month')?.textContent ?? ''), undefined, { timeout: 20_000 });
    // Electricity, heat and water each in their own unit, never added up: "<e> kWh electricity, <h> kWh heat, <w> m3 water".
    const amounts = async (cls: string) => {
      const text = await page.locator(cls).innerText();
      const m = /([\d.]+) kWh electricity, ([\d.]+) kWh heat, ([\d.]+) m3 water/.exec(text);
      assert.ok(m, `${cls}: ${text}`);
      return m.slice(1).map(Number);
    };
    const [month, monthHeat, monthWater] = await amounts('.ems-dash-ov-month');
    const [today, todayHeat, todayWater] = await amounts('.ems-dash-ov-today');
    // Seeded: 0.175 kWh a minute over the three meters; today = minutes since local midnight x 0.175 (+ a little live).
    const [h, min] = new Intl.DateTimeFormat('en-GB', { timeZone: TZ, hour: '2-digit', minute: '2-digit', hourCycle: 'h23' }).format(Date.now()).split(':').map(Number);
    const expectedToday = (h * 60 + min) * 0.175;
    assert.ok(Math.abs(today - expectedToday) < 0.6, `today ${today} kWh, expected about ${expectedToday.toFixed(2)}`);
    const dayOfMonth = Number(new Intl.DateTimeFormat('en-GB', { timeZone: TZ, day: 'numeric' }).format(Date.now()));
    if (dayOfMonth > SEEDED_DAYS) assert.ok(Math.abs(month - SEEDED_DAYS * 1440 * 0.175) < 1, `month ${month} kWh, expected about 756`);
    else assert.ok(month >= today, `month ${month}, today ${today}`);
    // Heat 0.2 kWh and water 0.001 m3 a minute, read every 5 minutes since local midnight yesterday.
    const sinceMidnight = h * 60 + min;
    assert.ok(Math.abs(todayHeat - sinceMidnight * HEAT.kwhPerMin) <= 1.25, `heat today ${todayHeat} kWh, expected about ${sinceMidnight * HEAT.kwhPerMin}`);
    assert.ok(Math.abs(todayWater - sinceMidnight * WATER.m3PerMin) <= 0.0065, `water today ${todayWater} m3, expected about ${sinceMidnight * WATER.m3PerMin}`);
    if (dayOfMonth > 1) assert.ok(Math.abs(monthHeat - todayHeat - 1440 * HEAT.kwhPerMin) <= 12.5 && monthWater > todayWater, `month heat ${monthHeat}, water ${monthWater}`);
    // No tariff is bound to the demo meters: the cost says so rather than showing 0.
    assert.match(await page.locator('.ems-dash-ov-month-cost').innerText(), /no tariff bound/);
    // Power comes only from polling the simulator: a number in every row means the meters are live.
    const live = () => page.evaluate(() => Array.from(document.querySelectorAll('.ems-dash-ov-meters tbody tr'))
      .map((r) => Array.from(r.querySelectorAll('td')).map((td) => td.textContent!.trim())));
    // Columns: Meter, Quantity, Reading, Unit, Power / flow, Last reading.
    await page.waitForFunction((ids) => {
      const rows = Array.from(document.querySelectorAll('.ems-dash-ov-meters tbody tr')).map((r) => Array.from(r.querySelectorAll('td')).map((td) => td.textContent!.trim()));
      const electric = rows.filter((r) => ids.includes(r[0]));
      return rows.length === 5 && electric.length === 3 && electric.every((r) => r[1] === 'Energy import' && /^\d{4}(\.\d+)?$/.test(r[2]) && r[3] === 'kWh' && /^\d+(\.\d+)? kW$/.test(r[4]));
    }, METERS.map((m) => m.id), { timeout: 25_000 }).catch(async (err) => { throw new Error(`${err.message}: ${JSON.stringify(await live())}`); });
    const table = await live();
    const row = (id: string) => table.find((r) => r[0] === id)?.slice(0, 5);
    assert.deepEqual([row(HEAT.id)?.[1], row(HEAT.id)?.[3], row(HEAT.id)?.[4]], ['Heat energy', 'kWh', '12 kW']);
    assert.ok(Number(row(HEAT.id)?.[2]) > HEAT.start, `heat reading ${row(HEAT.id)}`);
    assert.deepEqual([row(WATER.id)?.[1], row(WATER.id)?.[3], row(WATER.id)?.[4]], ['Water volume', 'm3', '']);
    assert.ok(Number(row(WATER.id)?.[2]) > WATER.start && Number(row(WATER.id)?.[2]) < WATER.start + 5, `water reading ${row(WATER.id)}`);
    const head = await page.evaluate(() => Array.from(document.querySelectorAll('.ems-dash-ov-meters thead th')).map((th) => th.textContent!.trim()));
    assert.deepEqual(head, ['Meter', 'Quantity', 'Reading', 'Unit', 'Power / flow', 'Last reading']);
    await page.waitForFunction(() => /Meters without recent readings\s*0/.test((document.querySelector('.ems-dash-ov-alarm-count') as HTMLElement)?.innerText ?? ''), undefined, { timeout: 15_000 });
    await assertTitlesOnce('overview');
    assertReadable(await page.locator('body').innerText(), 'overview');
    await page.screenshot({ path: shots('overview'), fullPage: true });
    assertScreenshot(shots('overview'));
  });

  it('meter page: picking a meter and a range charts its consumption, the same the API answers', async () => {
    const frames = recordSocket(page);
    await page.goto(`${ems.url}/dashboard/meter`);
    const totalOf = async (meter: string) => {
      const handle = await page.waitForFunction((m) => new RegExp(`${m}: ([\\d.]+) kWh`).exec(document.querySelector('.ems-dash-mt-total')?.textContent ?? '')?.[1], meter, { timeout: 30_000 });
      return Number(await handle.jsonValue());
    };
    await page.waitForFunction(() => /: [\d.]+ kWh/.test(document.querySelector('.ems-dash-mt-total')?.textContent ?? ''), undefined, { timeout: 20_000 });
    await pick('ems-dash-mt-meter', 'main-incomer');
    const day = await totalOf('main-incomer');
    // The API's own answer for the same query: the sum of the 15-minute deltas of the last 24 h.
    const login = await fetch(`${ems.url}/api/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username: 'admin', password: 'ems-admin' }) });
    const token = (await login.json()).data.access_token;
    const api = await (await fetch(`${ems.url}/api/meters/main-incomer/readings?obis=1-0:1.8.0&from=-24h&window=15m&fn=delta`, { headers: { authorization: `Bearer ${token}` } })).json();
    const apiTotal = api.data.readings.reduce((s: number, r: { value: number }) => s + r.value, 0);
    assert.ok(Math.abs(day - apiTotal) < 0.5, `dashboard ${day} kWh, API ${apiTotal} kWh`);
    // 0.1 kWh a minute, read every minute up to 20 s ago: 144 kWh, none lost between the 15-minute windows.
    assert.ok(Math.abs(day - 144) < 0.5, `24 h of 0.1 kWh a minute: ${day}`);
    await page.waitForSelector('.ems-dash-mt-chart canvas');
    await page.waitForTimeout(1000); // the chart's animation
    assert.ok(await canvasInk(page, '.ems-dash-mt-chart canvas') > 0.02, 'the chart has bars');
    await page.waitForFunction(() => document.querySelectorAll('.ems-dash-mt-live tbody tr').length >= 5, undefined, { timeout: 20_000 });
    await page.screenshot({ path: shots('meter'), fullPage: true });
    assertScreenshot(shots('meter'));
    await assertTitlesOnce('meter');
    assertReadable(await page.locator('body').innerText(), 'meter page');
    // Every bar the chart got stands at its window: its category is the window start of an API row in the EMS time
    // zone, in order, one per 15 minutes (gaps kept as empty bars), not a time centred on the bar's start.
    const bars = chartBars(frames, 'main-incomer');
    const local = (t: number) => new Intl.DateTimeFormat('sv-SE', { timeZone: TZ, dateStyle: 'short', timeStyle: 'short' }).format(t);
    const byLabel = new Map(api.data.readings.map((r: { time: number; value: number }) => [local(r.time), r.value]));
    assert.ok(bars.length >= 90 && bars.length <= 97, `${bars.length} bars for 24 h of 15 minutes`);
    for (const [i, b] of bars.entries()) {
      assert.equal(b.window, local(b.time!), `bar ${JSON.stringify(b)} is labelled with its own start`);
      if (b.value !== null && i < bars.length - 1) assert.ok(Math.abs(Number(byLabel.get(b.window)) - b.value) < 0.01, `bar ${b.window}: ${b.value}, API ${byLabel.get(b.window)}`);
    }
    for (let i = 1; i < bars.length; i++) assert.equal(bars[i].time! - bars[i - 1].time!, 15 * MINUTE, `${bars[i - 1].window} then ${bars[i].window}`);

    // The heat meter charts its heat energy in kWh, the water meter its volume in m3.
    await pick('ems-dash-mt-meter', HEAT.id);
    const heat = await page.waitForFunction((id) => new RegExp(`${id}: ([\\d.]+) kWh`).exec(document.querySelector('.ems-dash-mt-total')?.textContent ?? '')?.[1], HEAT.id, { timeout: 20_000 });
    // 15-minute deltas of readings every 5 minutes: all 24 h (288 kWh) but the minutes since the last reading.
    assert.ok(Math.abs(Number(await heat.jsonValue()) - 24 * 60 * HEAT.kwhPerMin) < 1.5, `heat in 24 h: ${await heat.jsonValue()} kWh`);
    await page.waitForFunction(() => /Heat energy/.test(document.querySelector('.ems-dash-mt-live tbody')?.textContent ?? ''), undefined, { timeout: 10_000 });
    assert.ok(frames.some((f) => f.includes('"heat-meter (kWh)"')), 'the chart series names the unit');
    await pick('ems-dash-mt-meter', WATER.id);
    await page.waitForFunction((id) => new RegExp(`${id}: [\\d.]+ m3`).test(document.querySelector('.ems-dash-mt-total')?.textContent ?? ''), WATER.id, { timeout: 20_000 });
    await pick('ems-dash-mt-meter', 'main-incomer');

    await pick('ems-dash-mt-range', 'Last 30 days');
    const month = await page.waitForFunction((d) => {
      const v = Number(/main-incomer: ([\d.]+) kWh/.exec(document.querySelector('.ems-dash-mt-total')?.textContent ?? '')?.[1]);
      return v > 2 * d ? v : undefined;
    }, day, { timeout: 15_000 });
    // Three seeded days in daily windows: about 3 x 144 kWh.
    const total30 = Number(await month.jsonValue());
    assert.ok(total30 > 400 && total30 <= 432 + 5, `30 days ${total30}`);
  });

  it('reports page: daily consumption of the selected meter by tariff register', async () => {
    await page.goto(`${ems.url}/dashboard/reports`);
    // The meter picked on the meter page is shown here too; pick another and back.
    await page.waitForFunction(() => document.querySelector('.ems-dash-rp-meter')?.textContent?.includes('main-incomer'), undefined, { timeout: 10_000 });
    await pick('ems-dash-rp-meter', 'lighting');
    await page.waitForFunction(() => /lighting: \d+ rows/.test(document.querySelector('.ems-dash-rp-status')?.textContent ?? ''), undefined, { timeout: 10_000 });
    await pick('ems-dash-rp-meter', 'main-incomer');
    await page.waitForFunction(() => /main-incomer: \d+ rows/.test(document.querySelector('.ems-dash-rp-status')?.textContent ?? ''), undefined, { timeout: 20_000 });
    const rows = await page.evaluate(() => Array.from(document.querySelectorAll('.ems-dash-rp-table tbody tr')).map((r) => Array.from(r.querySelectorAll('td')).map((td) => td.textContent!.trim())));
    const head = await page.evaluate(() => Array.from(document.querySelectorAll('.ems-dash-rp-table thead th')).map((th) => th.textContent!.trim()));
    assert.equal(head[0], 'Date');
    assert.ok(head.includes('Total (kWh)'), head.join(' | '));
    // The day before yesterday is seeded in full: 1440 minutes x 0.1 kWh.
    const dayBefore = new Intl.DateTimeFormat('en-CA', { timeZone: TZ }).format(Date.now() - 2 * 86_400_000);
    const row = rows.find((r) => r[0] === dayBefore);
    assert.ok(row, `${dayBefore} in ${rows.map((r) => r[0]).join(', ')}`);
    const kwh = (col: string) => Math.round(Number(row[head.indexOf(col)]) * 1000) / 1000;
    // 06:00-22:00 on T1, the rest on T2; a day with a DST change has an hour more or less of night.
    const offset = (t: number) => new Intl.DateTimeFormat('en-GB', { timeZone: TZ, timeZoneName: 'shortOffset' }).format(t).split(' ').pop();
    const dst = offset(Date.parse(`${dayBefore}T00:00:00Z`)) !== offset(Date.parse(`${dayBefore}T23:59:00Z`));
    assert.equal(kwh('T1 (kWh)'), 96);
    if (!dst) assert.deepEqual([kwh('T2 (kWh)'), kwh('Total (kWh)')], [48, 144]);
    // The report starts at the first day with data (three days seeded), not 30 days back.
    const seededFrom = new Intl.DateTimeFormat('en-CA', { timeZone: TZ }).format(Date.now() - SEEDED_DAYS * 86_400_000);
    assert.equal(rows[0][0], seededFrom, `first row of ${rows.map((r) => r[0]).join(', ')}`);
    assert.equal(rows.length, SEEDED_DAYS + 1);
    await page.screenshot({ path: shots('reports'), fullPage: true });
    assertScreenshot(shots('reports'));
    await assertTitlesOnce('reports');
    assertReadable(await page.locator('body').innerText(), 'reports page');

    // The water meter's report: its volume in m3 from yesterday, the first day with readings.
    await pick('ems-dash-rp-meter', WATER.id);
    await page.waitForFunction((id) => new RegExp(`${id}: \\d+ rows`).test(document.querySelector('.ems-dash-rp-status')?.textContent ?? ''), WATER.id, { timeout: 20_000 });
    const waterHead = await page.evaluate(() => Array.from(document.querySelectorAll('.ems-dash-rp-table thead th')).map((th) => th.textContent!.trim()));
    assert.deepEqual(waterHead, ['Date', 'Total (m3)']);
    const waterRows = await page.evaluate(() => Array.from(document.querySelectorAll('.ems-dash-rp-table tbody tr')).map((r) => Array.from(r.querySelectorAll('td')).map((td) => td.textContent!.trim())));
    const yesterday = new Intl.DateTimeFormat('en-CA', { timeZone: TZ }).format(startOfYesterday(Date.now()));
    assert.deepEqual(waterRows.map((r) => r[0]), [yesterday, new Intl.DateTimeFormat('en-CA', { timeZone: TZ }).format(Date.now())]);
    assert.ok(Math.abs(Number(waterRows[0][1]) - 1440 * WATER.m3PerMin) <= 60 * WATER.m3PerMin + 0.001, `yesterday's water ${waterRows[0][1]} m3 (a DST day: an hour more or less)`);
    await pick('ems-dash-rp-meter', 'main-incomer');
    await page.waitForFunction(() => /main-incomer: \d+ rows/.test(document.querySelector('.ems-dash-rp-status')?.textContent ?? ''), undefined, { timeout: 20_000 });
  });

  it('events page: the log shows the three meters being created', async () => {
    await page.goto(`${ems.url}/dashboard/events`);
    // Every meter's creation in the table (a refresh may re-render it meanwhile: wait for the whole state, not a row count).
    const names = METERS.map((m) => m.name);
    await page.waitForFunction((ns) => {
      const rows = Array.from(document.querySelectorAll('.ems-dash-ev-table tbody tr')).map((r) => r.textContent ?? '');
      return ns.every((n) => rows.some((r) => r.includes(n)));
    }, names, { timeout: 30_000 }).catch(async (err) => {
      throw new Error(`events page: ${(await page.locator('.ems-dash-ev-table tbody tr').allInnerTexts()).join(' | ')}: ${err}`);
    });
    await page.screenshot({ path: shots('events'), fullPage: true });
    assertScreenshot(shots('events'));
    await assertTitlesOnce('events');
    assertReadable(await page.locator('body').innerText(), 'events page');
  });

  it('meter picker: typing part of an id offers only the meters it matches; a whole id shows that meter', async () => {
    await page.goto(`${ems.url}/dashboard/meter`);
    await page.waitForFunction(() => /: [\d.]+ kWh/.test(document.querySelector('.ems-dash-mt-total')?.textContent ?? ''), undefined, { timeout: 20_000 });
    const find = page.locator('.ems-dash-mt-find input');
    // "meter" is in the heat and water meters' ids only (the chosen meter stays offered beside them).
    await find.fill('meter');
    await find.press('Enter');
    const offered = await until('the matches of "meter"', 15_000, async () => {
      const items = await optionsOf(page, 'ems-dash-mt-meter');
      return { value: items.includes(HEAT.id) && items.includes(WATER.id) && !items.includes('hvac') ? items : undefined, seen: items };
    });
    assert.ok(offered.length <= 3, `offered ${offered}`);
    await find.fill(HEAT.id);
    await find.press('Enter');
    await page.waitForFunction((id) => new RegExp(`${id}: [\\d.]+ kWh`).test(document.querySelector('.ems-dash-mt-total')?.textContent ?? ''), HEAT.id, { timeout: 20_000 });
    assert.deepEqual(await optionsOf(page, 'ems-dash-mt-meter'), [HEAT.id]);
    // Cleared: every meter is offered again (fewer than the picker's bound here).
    await find.fill('');
    await find.press('Enter');
    await until('every meter offered again', 15_000, async () => {
      const items = await optionsOf(page, 'ems-dash-mt-meter');
      return { value: items.length === METERS.length + 2 ? items : undefined, seen: items };
    });
    // Back to the meter the later tests start from.
    await pick('ems-dash-mt-meter', 'main-incomer');
    await page.waitForFunction(() => /main-incomer: [\d.]+ kWh/.test(document.querySelector('.ems-dash-mt-total')?.textContent ?? ''), undefined, { timeout: 20_000 });
  });

  it('a viewer limited to one folder sees only its meter, in the page and over socket.io; its poll now is refused', async () => {
    const admin = await apiLogin('admin', 'ems-admin');
    const call = async (method: string, url: string, body?: unknown) => {
      const r = await fetch(`${ems.url}${url}`, { method, headers: { authorization: `Bearer ${admin}`, 'content-type': 'application/json' }, body: body === undefined ? undefined : JSON.stringify(body) });
      const json = await r.json() as { data: any; error: string | null };
      assert.ok(r.ok, `${method} ${url}: ${r.status} ${json.error}`);
      return json.data;
    };
    const annex = await call('POST', '/api/folders', { name: 'Annex', folder_type: 'site' });
    await call('POST', '/api/meters', {
      _id: ANNEX.id, folder_id: annex._id, name: ANNEX.name, protocol: 'modbus-tcp', profile: ANNEX.profile, ip_address: '127.0.0.1', port: String(simPort), connection_address: String(ANNEX.unit), interval_time: '10',
    });
    await call('POST', '/api/users', { login: VIEWER.login, name: 'Vera', password: VIEWER.password, role: 'viewer', open_folders: [annex._id] });

    // The admin sees every meter, the new one included (once it has been polled).
    await page.goto(`${ems.url}/dashboard/overview`);
    await page.waitForFunction((id) => Array.from(document.querySelectorAll('.ems-dash-ov-meters tbody tr')).some((r) => r.textContent!.includes(id)), ANNEX.id, { timeout: 30_000 });
    assert.equal(await page.locator('.ems-dash-ov-meters tbody tr').count(), METERS.length + 3, 'the electricity meters, heat, water and annex');

    // The viewer in a browser of their own, every socket.io message recorded (polling answers and websocket frames).
    const context: BrowserContext = await browser.newContext({ viewport: { width: 1400, height: 900 }, timezoneId: TZ });
    const frames: string[] = [];
    try {
      const viewer = await context.newPage();
      viewer.on('websocket', (ws) => {
        if (ws.url().includes('/dashboard/socket.io/')) ws.on('framereceived', (f) => frames.push(String(f.payload)));
      });
      viewer.on('response', (r) => {
        if (r.url().includes('/dashboard/socket.io/') && r.request().method() === 'GET') r.text().then((t) => frames.push(t), () => undefined);
      });
      await viewer.goto(`${ems.url}/dashboard/overview`);
      await viewer.waitForURL(/dashboard-login/, { timeout: 10_000 });
      await viewer.fill('#ems-username', VIEWER.login);
      await viewer.fill('#ems-password', VIEWER.password);
      await viewer.click('#ems-submit');
      await viewer.waitForURL(/\/dashboard\/overview$/, { timeout: 15_000 });
      await viewer.waitForFunction((id) => Array.from(document.querySelectorAll('.ems-dash-ov-meters tbody tr')).some((r) => r.textContent!.includes(id)), ANNEX.id, { timeout: 30_000 });
      // Exactly one row, the viewer's meter (waited for as a whole: a refresh may be re-rendering the table).
      const rowsOf = () => viewer.evaluate(() => Array.from(document.querySelectorAll('.ems-dash-ov-meters tbody tr')).map((r) => r.textContent ?? ''));
      await viewer.waitForFunction((id) => {
        const rows = Array.from(document.querySelectorAll('.ems-dash-ov-meters tbody tr')).map((r) => r.textContent ?? '');
        return rows.length === 1 && rows[0].includes(id);
      }, ANNEX.id, { timeout: 30_000 }).catch(async (err) => { throw new Error(`viewer's overview rows: ${JSON.stringify(await rowsOf())}: ${err}`); });
      for (const row of await rowsOf()) for (const m of [...METERS, HEAT, WATER]) assert.ok(!row.includes(m.id), `the viewer's overview shows ${m.id}`);
      await viewer.waitForFunction(() => /\d+\.\d\d kWh$/.test(document.querySelector('.ems-dash-ov-month')?.textContent?.trim() ?? ''), undefined, { timeout: 20_000 });

      await viewer.goto(`${ems.url}/dashboard/meter`);
      await viewer.waitForFunction((id) => new RegExp(`${id}: [\\d.]+ kWh`).test(document.querySelector('.ems-dash-mt-total')?.textContent ?? ''), ANNEX.id, { timeout: 20_000 });
      await viewer.locator('.ems-dash-mt-meter .v-field').click();
      // The menu opens with an animation: wait for its items' text before reading them.
      await viewer.waitForFunction(() => {
        const items = Array.from(document.querySelectorAll('.v-overlay-container .v-list-item')).map((i) => (i.textContent ?? '').trim());
        return items.length > 0 && items.every((t) => t !== '');
      }, undefined, { timeout: 10_000 });
      // textContent, as waited for: innerText is empty while the menu is still fading in (a loaded machine).
      const items = await viewer.evaluate(() => Array.from(document.querySelectorAll('.v-overlay-container .v-list-item')).map((i) => (i.textContent ?? '').trim()));
      assert.deepEqual(items, [ANNEX.id]);
      await viewer.keyboard.press('Escape');
      await viewer.locator('.ems-dash-mt-poll button').click();
      await viewer.waitForFunction(() => /Refused: this needs the operator role/.test(document.querySelector('.ems-dash-mt-poll-status')?.textContent ?? ''), undefined, { timeout: 15_000 });

      await viewer.goto(`${ems.url}/dashboard/reports`);
      await viewer.waitForFunction((id) => new RegExp(`${id}: \\d+ rows`).test(document.querySelector('.ems-dash-rp-status')?.textContent ?? ''), ANNEX.id, { timeout: 20_000 });
      await viewer.goto(`${ems.url}/dashboard/events`);
      await viewer.waitForFunction((name) => document.querySelector('.ems-dash-ev-table tbody')?.textContent?.includes(name), ANNEX.name, { timeout: 20_000 });
      await viewer.waitForTimeout(11_000); // a timer refresh of the events page
      const text = await viewer.locator('body').innerText();
      for (const m of [...METERS, HEAT, WATER]) {
        assert.ok(!text.includes(m.id) && !text.includes(m.name), `the viewer's page shows ${m.id}`);
      }
      assert.ok(frames.some((f) => f.includes(ANNEX.id)), 'the socket.io messages were recorded');
      for (const m of [...METERS, HEAT, WATER]) {
        const leak = frames.find((f) => f.includes(m.id) || f.includes(m.name));
        assert.equal(leak, undefined, `a socket.io message to the viewer names ${m.id}`);
      }
    } finally {
      await context.close();
    }

    // The admin's poll now starts a poll.
    await page.goto(`${ems.url}/dashboard/meter`);
    await page.waitForFunction(() => /: [\d.]+ kWh/.test(document.querySelector('.ems-dash-mt-total')?.textContent ?? ''), undefined, { timeout: 20_000 });
    await page.locator('.ems-dash-mt-poll button').click();
    await page.waitForFunction(() => /Poll of \S+ started/.test(document.querySelector('.ems-dash-mt-poll-status')?.textContent ?? ''), undefined, { timeout: 15_000 });
  });

  /** Every title on the page (group titles, widget labels, table titles) appears once. */
  async function assertTitlesOnce(where: string): Promise<void> {
    const titles = await page.evaluate(() => {
      const groups = Array.from(document.querySelectorAll('.nrdb-ui-group')).map((g) => ({
        title: (g.querySelector('.v-card-title, .nrdb-ui-group-title, h2, h3') as HTMLElement | null)?.innerText.trim() ?? '',
        text: (g as HTMLElement).innerText,
      }));
      return groups;
    });
    assert.ok(titles.length > 0, `${where}: no groups found`);
    for (const g of titles) {
      assert.ok(g.title !== '', `${where}: a group without a title: ${g.text.slice(0, 80)}`);
      const lines = g.text.split('\n').map((l) => l.trim());
      assert.equal(lines.filter((l) => l === g.title).length, 1, `${where}: "${g.title}" appears ${lines.filter((l) => l === g.title).length} times in its group`);
    }
  }

  async function apiLogin(username: string, password: string): Promise<string> {
    const r = await fetch(`${ems.url}/api/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username, password }) });
    assert.equal(r.status, 200);
    return ((await r.json()) as { data: { access_token: string } }).data.access_token;
  }
});

/** The HTTP status a websocket upgrade request without a cookie is answered with (101 = upgraded). */
function websocketStatus(port: number, path: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = http.request({
      host: '127.0.0.1', port, path, timeout: 5_000,
      headers: { connection: 'Upgrade', upgrade: 'websocket', 'sec-websocket-version': '13', 'sec-websocket-key': Buffer.from('0123456789abcdef').toString('base64') },
    });
    req.on('upgrade', (res, socket) => { socket.destroy(); resolve(res.statusCode ?? 101); });
    req.on('response', (res) => { res.resume(); resolve(res.statusCode ?? 0); });
    req.on('timeout', () => req.destroy(new Error('no answer to the upgrade')));
    req.on('error', reject);
    req.end();
  });
}

/** Records the socket.io messages a page receives (websocket frames and polling answers). */
function recordSocket(page: Page): string[] {
  const frames: string[] = [];
  page.on('websocket', (ws) => {
    if (ws.url().includes('/dashboard/socket.io/')) ws.on('framereceived', (f) => frames.push(String(f.payload)));
  });
  page.on('response', (r) => {
    if (r.url().includes('/dashboard/socket.io/') && r.request().method() === 'GET') r.text().then((t) => frames.push(t), () => undefined);
  });
  return frames;
}

/** The bars of the newest chart message for a meter: [{ window, time, value }]. */
function chartBars(frames: string[], meter: string): { window: string; time: number | null; value: number | null }[] {
  for (const f of [...frames].reverse()) {
    if (!f.includes('msg-input:dash-mt-chart') || !f.includes(`"${meter} (`)) continue;
    const json = JSON.parse(f.slice(f.indexOf('[')));
    const msg = json[1];
    if (Array.isArray(msg?.payload) && msg.payload.length) return msg.payload;
  }
  throw new Error(`no chart message for ${meter} among ${frames.length} socket.io messages`);
}
