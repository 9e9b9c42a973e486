// The classic node-red-dashboard (/ui) fed by ems-ui-feed, in Debian's Chromium (headless): the example flow
// "Classic dashboard - live power and energy history" deployed beside the shipped EMS against the Modbus simulator.
// /ui is behind the EMS login like /dashboard; once in, the charts draw the meter's real readings.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import type { Browser, BrowserContext, Page, WebSocket } from 'playwright-core';
import { ModbusMeterSimulator } from '../../lib/sim/modbus-meter';
import { missingPeer } from '../fixtures/sim/peers';
import { within } from '../fixtures/within';
import { chromiumAbsent, editorLogin, launchChromium } from './browser';
import { DEMO_ADMIN, editorHeaders, editorToken, startEms, type RunningEms } from './runtime';

const ROOT = path.resolve(__dirname, '..', '..', '..');
const EXAMPLE = path.join(ROOT, 'examples', 'Classic dashboard - live power and energy history.json');
const START_KWH = 5000;
const LABEL = 'main-incomer active power (kW)';

interface ChartSeen { label: string; points: { x: number; y: number }[] }

/** The datasets Chart.js draws in the ui_chart widget of node `id` (the widget's card carries node-id). */
function chartOf(page: Page, id: string): Promise<ChartSeen[] | null> {
  return page.evaluate((nodeId) => {
    const Chart = (window as any).Chart;
    const canvas = document.querySelector(`[node-id="${nodeId}"] canvas`);
    if (!Chart || !canvas) return null;
    const chart = Object.values(Chart.instances as Record<string, any>).find((c) => c.canvas === canvas || c.chart?.canvas === canvas);
    if (!chart) return null;
    return (chart.data.datasets as any[]).map((d) => ({ label: String(d.label), points: (d.data as any[]).map((p) => ({ x: +new Date(p.x), y: Number(p.y) })) }));
  }, id);
}

/** Polls `probe` in the page's world until it returns a value; fails naming `what` after `ms`. */
async function until<T>(what: string, ms: number, probe: () => Promise<T | null | undefined>): Promise<T> {
  let last: unknown;
  return within((async () => {
    for (;;) {
      const v = await probe();
      last = v;
      if (v !== null && v !== undefined) return v;
      await new Promise((r) => setTimeout(r, 250));
    }
  })(), ms, `${what} (last seen: ${JSON.stringify(last)?.slice(0, 300)})`);
}

describe('the classic dashboard (/ui) fed by ems-ui-feed, in Chromium', missingPeer(chromiumAbsent), () => {
  let sim: ModbusMeterSimulator;
  let ems: RunningEms;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  let port: number;
  let token: string;
  let livePoints: { x: number; y: number }[] = [];
  const sockets: WebSocket[] = [];

  before(async () => {
    sim = new ModbusMeterSimulator({ units: [{ unit: 1, profile: 'eastron-sdm630', model: { initialImportKWh: START_KWH } }] });
    const simPort = await sim.listen(0);
    ems = await startEms({});
    port = Number(new URL(ems.url).port);
    // The example, as imported into the running EMS: its nodes on a tab of their own, the meter's client pointed
    // at this simulator; deployed through the editor's admin API beside the shipped flows.
    const example = JSON.parse(fs.readFileSync(EXAMPLE, 'utf8')) as Record<string, any>[];
    for (const n of example) {
      if (n.type === 'ems-modbus-client') n.port = String(simPort);
      if (Array.isArray(n.wires)) n.z = 'ex-cd-flow';
    }
    token = await editorToken(ems.url);
    const current = await (await fetch(`${ems.url}/flows`, { headers: editorHeaders(token) })).json() as { rev: string; flows: unknown[] };
    const res = await fetch(`${ems.url}/flows`, {
      method: 'POST',
      headers: editorHeaders(token, { 'content-type': 'application/json', 'Node-RED-Deployment-Type': 'flows' }),
      body: JSON.stringify({ rev: current.rev, flows: [...current.flows, { id: 'ex-cd-flow', type: 'tab', label: 'Classic dashboard' }, ...example] }),
    });
    assert.equal(res.status, 200, await res.text());
    browser = await launchChromium();
    context = await browser.newContext({ viewport: { width: 1400, height: 900 } });
    page = await context.newPage();
    page.on('websocket', (ws) => { if (ws.url().includes('/ui/socket.io/')) sockets.push(ws); });
  });

  after(async () => {
    await browser?.close();
    await ems?.stop();
    await sim?.close();
  });

  it('without a session: /ui pages go to the login page, XHR and socket.io (polling and websocket) get 401', async () => {
    for (const [url, next] of [['/ui', '%2Fui'], ['/ui/', '%2Fui%2F'], ['/UI/index.html', '%2FUI%2Findex.html']]) {
      const r = await fetch(`${ems.url}${url}`, { redirect: 'manual', headers: { accept: 'text/html' } });
      assert.equal(r.status, 302, url);
      assert.equal(r.headers.get('location'), `/dashboard-login?next=${next}`, url);
    }
    for (const url of ['/ui/', '/ui/js/app.min.js', '/ui/socket.io/?EIO=4&transport=polling', '/ui/manifest.json']) {
      const r = await fetch(`${ems.url}${url}`);
      assert.equal(r.status, 401, url);
      assert.match(((await r.json()) as { error: string }).error, /log in first/, url);
    }
    const forged = await fetch(`${ems.url}/ui/socket.io/?EIO=4&transport=polling`, { headers: { cookie: 'access_token=forged' } });
    assert.equal(forged.status, 401);
    assert.equal(await websocketStatus(port, '/ui/socket.io/?EIO=4&transport=websocket'), 401);
  });

  it('the login page returns to /ui, where the gauge, the text and the live chart show the meter\'s readings', async () => {
    await page.goto(`${ems.url}/ui`);
    await page.waitForURL(/\/dashboard-login\?next=%2Fui$/, { timeout: 10_000 });
    await page.fill('#ems-username', DEMO_ADMIN.login);
    await page.fill('#ems-password', DEMO_ADMIN.password);
    await page.click('#ems-submit');
    await page.waitForURL(/\/ui\/(#.*)?$/, { timeout: 15_000 });

    // Two polls (every 10 s) drawn as two points of the meter's power series.
    const live = await until('the live chart to draw two points of the meter\'s power', 40_000, async () => {
      const sets = await chartOf(page, 'ex-cd-live-chart');
      const s = sets?.find((d) => d.label === LABEL);
      return s && s.points.length >= 2 ? sets : null;
    });
    assert.deepEqual(live.map((d) => d.label), [LABEL], 'one series, named by meter, quantity and unit');
    const points = live[0].points;
    for (const p of points) {
      // The simulated SDM630: a base load of 0.3-0.5 kW, peaks of 2-3 kW.
      assert.ok(p.y > 0.1 && p.y < 6, `power ${p.y} kW is in the simulator's range`);
      assert.ok(Math.abs(p.x - Date.now()) < 120_000, `point time ${new Date(p.x).toISOString()} is the reading's time`);
    }
    for (let i = 1; i < points.length; i++) assert.ok(points[i].x - points[i - 1].x >= 9_000, 'one point per poll, 10 s apart');
    livePoints = points;

    // The gauge shows a number, the power; the text the energy counter near the simulator's start.
    const gauge = await until('the gauge to show a number', 10_000, async () => {
      const text = await page.locator('[node-id="ex-cd-gauge"]').innerText().catch(() => '');
      const m = /(\d+\.\d\d)/.exec(text);
      return m ? Number(m[1]) : null;
    });
    assert.ok(gauge > 0.1 && gauge < 6, `gauge ${gauge} kW`);
    const energy = await until('the energy text to show kWh', 10_000, async () => {
      const text = await page.locator('[node-id="ex-cd-energy"]').innerText().catch(() => '');
      const m = /([\d,]+\.\d\d) kWh/.exec(text);
      return m ? Number(m[1].replace(/,/g, '')) : null;
    });
    assert.ok(energy >= START_KWH && energy < START_KWH + 1, `energy ${energy} kWh`);
    assert.match(await page.locator('[node-id="ex-cd-energy"]').innerText(), /Energy import/);
  });

  it('the history chart holds the stored readings as one whole chart, with the same series label', async () => {
    assert.ok(livePoints.length >= 2, 'the live chart test ran');
    // Run the store query now (the inject button) rather than waiting for its minute, again every 2 s: the store
    // writer flushes once a second, so the newest live point may not be stored yet at the first query.
    let injectedAt = 0;
    const history = await until('the history chart to draw the stored readings of the live points', 20_000, async () => {
      if (Date.now() - injectedAt > 2_000) {
        injectedAt = Date.now();
        const injected = await fetch(`${ems.url}/inject/ex-cd-history-tick`, { method: 'POST', headers: editorHeaders(token) });
        assert.equal(injected.status, 200);
      }
      const sets = await chartOf(page, 'ex-cd-history-chart');
      const stored = sets?.[0]?.points ?? [];
      return livePoints.every((p) => stored.some((h) => h.x === p.x)) ? sets : null;
    });
    assert.deepEqual(history.map((d) => d.label), [LABEL]);
    const stored = history[0].points;
    for (const p of stored) assert.ok(p.y > 0.1 && p.y < 6 && p.x <= Date.now(), JSON.stringify(p));
    for (let i = 1; i < stored.length; i++) assert.ok(stored[i].x > stored[i - 1].x, 'points in time order');
    // The readings drawn live are the readings stored: same time, same value.
    for (const p of livePoints) assert.deepEqual(stored.find((h) => h.x === p.x), p);
    await page.screenshot({ path: process.env.EMS_SCREENSHOT_CLASSIC ?? '/tmp/ems-classic-dashboard.png', fullPage: true });
  });

  it('the example is complete in the editor: every node of it known and valid, its config nodes included', async () => {
    const editor = await browser.newPage({ viewport: { width: 1400, height: 900 } });
    try {
      await editor.goto(ems.url);
      await editorLogin(editor, DEMO_ADMIN.login, DEMO_ADMIN.password);
      await editor.waitForSelector('#red-ui-palette-base-category-energy', { timeout: 30_000 });
      // The palette comes before the flows: wait for the example's tab to be loaded.
      await editor.waitForFunction(() => Boolean((window as any).RED?.nodes?.workspace('ex-cd-flow')), undefined, { timeout: 30_000 })
        .catch((err) => { throw new Error(`the example's tab ex-cd-flow never appeared in the editor: ${err}`); });
      const seen = await editor.evaluate(() => {
        const RED = (window as any).RED;
        const out: { id: string; type: string; valid: boolean; known: boolean; errors: unknown }[] = [];
        const add = (n: any) => {
          if (String(n.id).startsWith('ex-cd-')) out.push({ id: n.id, type: n.type, valid: n.valid !== false, known: !!RED.nodes.getType(n.type), errors: n.validationErrors ?? [] });
        };
        RED.nodes.eachNode(add);
        RED.nodes.eachConfig(add);
        return out;
      });
      const example = JSON.parse(fs.readFileSync(EXAMPLE, 'utf8')) as { id: string }[];
      assert.deepEqual(seen.map((n) => n.id).sort(), example.map((n) => n.id).sort(), 'every node of the example is in the editor');
      assert.deepEqual(seen.filter((n) => !n.valid || !n.known), [], 'invalid or unknown nodes');
    } finally {
      await editor.close();
    }
  });

  it('logging out closes the page\'s classic dashboard socket', async () => {
    const open = sockets.filter((ws) => !ws.isClosed());
    assert.ok(open.length > 0, `an open /ui websocket (of ${sockets.length})`);
    const closed = Promise.all(open.map((ws) => new Promise((r) => ws.once('close', r))));
    const status = await page.evaluate(async () => (await fetch('/api/auth/logout', { method: 'POST', credentials: 'same-origin' })).status);
    assert.equal(status, 200);
    await within(closed, 15_000, 'the /ui websocket to close after the logout');
    const again = await page.evaluate(async () => (await fetch('/ui/socket.io/?EIO=4&transport=polling', { credentials: 'same-origin' })).status);
    assert.equal(again, 401);
  });
});

/** The HTTP status a websocket upgrade request without a cookie is answered with (101 = upgraded). */
function websocketStatus(port: number, urlPath: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = http.request({
      host: '127.0.0.1', port, path: urlPath, timeout: 5_000,
      headers: { connection: 'Upgrade', upgrade: 'websocket', 'sec-websocket-version': '13', 'sec-websocket-key': Buffer.from('0123456789abcdef').toString('base64') },
    });
    req.on('upgrade', (res, socket) => { socket.destroy(); resolve(res.statusCode ?? 101); });
    req.on('response', (res) => { res.resume(); resolve(res.statusCode ?? 0); });
    req.on('timeout', () => req.destroy(new Error('no answer to the upgrade')));
    req.on('error', reject);
    req.end();
  });
}
