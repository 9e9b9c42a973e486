/**
 * The ABB G13 gateway simulator against the manual (chapter 6): the manual's example requests and
 * responses replayed (test/fixtures/g13/manual-examples.json), then auth, access levels, admin-only
 * operations, the 512-byte limit, partial multi-field posts, /lasterror, the forced password change,
 * values that move with the clock, and HTTPS with a fingerprint.
 */
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import https from 'node:https';
import path from 'node:path';
import tls from 'node:tls';
import { DEFAULT_METERS, G13Simulator, G13_FACTORY_ADMIN, type G13SimulatorOptions } from '../../lib/sim/g13';

const ROOT = path.resolve(__dirname, '..', '..', '..');
const FIXTURE = JSON.parse(fs.readFileSync(path.join(ROOT, 'test', 'fixtures', 'g13', 'manual-examples.json'), 'utf8')) as {
  examples: { section: string; method: string; path: string; body?: unknown; status: number; match?: string; response: unknown;
    setup?: { method: string; path: string; body?: unknown }[]; waitScan?: boolean }[];
};

interface Res { status: number; headers: Record<string, string | string[] | undefined>; text: string; json?: unknown }

/** One request (HTTP or HTTPS trusting the simulator's self-signed certificate). */
function call(sim: G13Simulator, method: string, p: string, opts: { user?: string; pass?: string; body?: unknown; raw?: string; contentType?: string } = {}): Promise<Res> {
  const url = new URL(sim.url + p);
  const body = opts.raw ?? (opts.body === undefined ? undefined : JSON.stringify(opts.body));
  const headers: Record<string, string> = { 'content-type': opts.contentType ?? 'application/json' };
  if (opts.user !== undefined) headers.authorization = 'Basic ' + Buffer.from(`${opts.user}:${opts.pass}`).toString('base64');
  if (body !== undefined) headers['content-length'] = String(Buffer.byteLength(body));
  const mod = url.protocol === 'https:' ? https : require('node:http');
  return new Promise((resolve, reject) => {
    const req = mod.request(url, { method, headers, rejectUnauthorized: false, agent: false }, (res: import('node:http').IncomingMessage) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => { text += c; });
      res.on('end', () => {
        let json: unknown;
        try { json = text ? JSON.parse(text) : undefined; } catch { json = undefined; }
        resolve({ status: res.statusCode ?? 0, headers: res.headers, text, json });
      });
    });
    req.on('error', reject);
    if (body !== undefined) req.write(body);
    req.end();
  });
}

/** Structure of a response: field names, nesting, units exact; numbers/strings by type (values move). */
function shape(v: unknown): unknown {
  if (Array.isArray(v)) {
    // [value, unit] pair: value as a numeric string, the unit exactly.
    if (v.length === 2 && typeof v[0] === 'string' && /^-?\d+(\.\d+)?$/.test(v[0]) && typeof v[1] === 'string' && !/^-?\d/.test(v[1])) return ['<num>', v[1]];
    if (v.length === 2 && typeof v[0] === 'number' && typeof v[1] === 'string' && /^[A-Za-z/%]+$/.test(v[1])) return ['<number>', v[1]];
    return { '<array of>': [...new Set(v.map((x) => JSON.stringify(shape(x))))].sort() };
  }
  if (v !== null && typeof v === 'object') return Object.fromEntries(Object.keys(v).sort().map((k) => [k, shape((v as Record<string, unknown>)[k])]));
  return typeof v;
}

function keys(v: unknown): unknown {
  if (v === null || typeof v !== 'object' || Array.isArray(v)) return Array.isArray(v) ? 'array' : typeof v;
  return Object.fromEntries(Object.keys(v).sort().map((k) => [k, keys((v as Record<string, unknown>)[k])]));
}

/** Manual shapes of array elements must all occur among ours (the manual prints a few items). */
function assertShape(ours: unknown, manual: unknown, where: string): void {
  const a = shape(ours), m = shape(manual);
  const check = (x: unknown, y: unknown, at: string): void => {
    if (y && typeof y === 'object' && '<array of>' in (y as object)) {
      assert.ok(x && typeof x === 'object' && '<array of>' in (x as object), `${at}: expected an array`);
      const mine = (x as { '<array of>': string[] })['<array of>'];
      for (const s of (y as { '<array of>': string[] })['<array of>']) assert.ok(mine.includes(s), `${at}: no element shaped ${s} among ${mine.join(' | ')}`);
      return;
    }
    if (y && typeof y === 'object' && !Array.isArray(y)) {
      assert.deepEqual(Object.keys(x as object), Object.keys(y as object), `${at}: field names`);
      for (const k of Object.keys(y as object)) check((x as Record<string, unknown>)[k], (y as Record<string, unknown>)[k], `${at}.${k}`);
      return;
    }
    assert.deepEqual(x, y, at);
  };
  check(a, m, where);
}

const ADMIN = { user: 'admin', pass: 'secret1' };
/** The manual's era, so its example dates fall inside the simulated history. */
const T0 = Date.UTC(2012, 6, 24, 12, 0, 0);
const started = Date.now();
const clock = () => T0 + (Date.now() - started);
const replayOptions = (over: Partial<G13SimulatorOptions> = {}): G13SimulatorOptions => ({
  tls: false, clock, scanMs: 50,
  users: [{ name: 'admin', password: 'secret1', admin: true }],
  meters: [...DEFAULT_METERS, { serial: 'ABB01', protocol: 3, address: 30, label: 'A44 512-100' }, { serial: 'ABB02', protocol: 3, address: 31, label: 'B23 313-100' }],
  ...over,
});

describe('G13 simulator: the manual examples replayed', () => {
  const sim = new G13Simulator(replayOptions());
  before(() => sim.listen(0));
  after(() => sim.close());

  test(`${FIXTURE.examples.length} examples, in order`, async () => {
    for (const ex of FIXTURE.examples) {
      const where = `${ex.section} ${ex.method} ${ex.path}`;
      for (const s of ex.setup ?? []) assert.equal((await call(sim, s.method, s.path, { ...ADMIN, body: s.body })).status, 200, `${where} setup`);
      if (ex.waitScan) {
        for (let i = 0; i < 50 && (await call(sim, 'GET', '/meters/scanned', ADMIN)).json && ((await call(sim, 'GET', '/meters/scanned', ADMIN)).json as { scancomplete: number }).scancomplete !== 1; i++) {
          await new Promise((r) => setTimeout(r, 20));
        }
      }
      const res = await call(sim, ex.method, ex.path, { ...ADMIN, body: ex.body });
      assert.equal(res.status, ex.status, `${where}: status (${res.text})`);
      assert.equal(res.headers.server, 'embOS/IP', `${where}: Server header`);
      if (ex.response === null) { assert.equal(res.text, '', `${where}: empty body`); continue; }
      assert.ok(res.json !== undefined, `${where}: JSON body, got ${res.text}`);
      if (ex.match === 'exact') assert.deepEqual(res.json, ex.response, where);
      else if (ex.match === 'subset') {
        const ours = (res.json as { map: Record<string, string> }).map, manual = (ex.response as { map: Record<string, string> }).map;
        for (const [k, v] of Object.entries(manual)) assert.equal(ours[k], v, `${where}: map ${k}`);
      } else if (ex.match === 'keys') {
        // Every printed key (the manual cuts lists short) with the same kind of value.
        const ours = keys(res.json) as Record<string, unknown>, manual = keys(ex.response) as Record<string, unknown>;
        for (const k of Object.keys(manual)) assert.deepEqual(ours[k], manual[k], `${where}: ${k}`);
      }
      else assertShape(res.json, ex.response, where);
    }
  });
});

describe('G13 simulator: rules of chapter 6', () => {
  let advance = 0;
  const sim = new G13Simulator(replayOptions({
    clock: () => clock() + advance,
    users: [
      { name: 'admin', password: 'secret1', admin: true },
      { name: 'viewer', password: 'pw', admin: false, access: { ABB_8: 'view' } },
      { name: 'config', password: 'pw', admin: false, access: { ABB_8: 'configure', ABB_9: 'view' } },
    ],
  }));
  before(() => sim.listen(0));
  after(() => sim.close());

  test('401 with the embOS page for no or wrong credentials, on /about too', async () => {
    for (const o of [{}, { user: 'admin', pass: 'nope' }, { user: 'ghost', pass: 'x' }]) {
      const r = await call(sim, 'GET', '/about', o);
      assert.equal(r.status, 401);
      assert.equal(r.headers['content-type'], 'text/html');
      assert.match(r.text, /<H1>401 Unauthorized<\/H1>\s+Browser not authentication-capable or\s+authentication failed\./);
    }
  });

  test('per-meter access: No Access 403, View Only reads but cannot write, Configure writes', async () => {
    const viewer = { user: 'viewer', pass: 'pw' }, config = { user: 'config', pass: 'pw' };
    assert.equal((await call(sim, 'GET', '/meters/ABB_8/energy/active', viewer)).status, 200);
    const denied = await call(sim, 'GET', '/meters/ABB_9/energy/active', viewer);
    assert.equal(denied.status, 403);
    assert.deepEqual(denied.json, { status: 'error', des: 'Forbidden. Access Denied' });
    const write = { conversionfactor: { co2: 0.5 } };
    assert.equal((await call(sim, 'POST', '/meters/ABB_8/energy/conversionfactor', { ...viewer, body: write })).status, 403);
    assert.deepEqual((await call(sim, 'POST', '/meters/ABB_8/energy/conversionfactor', { ...config, body: write })).json, { status: 'success' });
    assert.equal((await call(sim, 'POST', '/meters/ABB_9/energy/conversionfactor', { ...config, body: write })).status, 403);
    // /associationobjects reports the active user's role; /meters lists only visible meters.
    assert.equal(((await call(sim, 'GET', '/meters/ABB_8/associationobjects', viewer)).json as { role: string }).role, 'View Only');
    const listed = ((await call(sim, 'GET', '/meters', viewer)).json as { locations: { meters: { serial: string }[] }[] }).locations.flatMap((l) => l.meters.map((m) => m.serial));
    assert.deepEqual(listed, ['ABB_8']);
  });

  test('gateway-admin-only operations answer 403 "Forbidden. Access Denied" to others', async () => {
    const config = { user: 'config', pass: 'pw' };
    const cases: [string, string, unknown][] = [['POST', '/gateway/reboot', undefined], ['POST', '/gateway/datetime', { datetime: '2012-05-09T16:30:52' }],
      ['POST', '/gateway', { alias: 'x' }], ['DELETE', '/gateway/events', undefined], ['POST', '/configuration/ip', { ip: '10.0.0.2' }], ['PUT', '/firmware', undefined]];
    for (const [m, p, body] of cases) {
      const r = await call(sim, m, p, { ...config, body });
      assert.equal(r.status, 403, `${m} ${p}`);
      assert.deepEqual(r.json, { status: 'error', des: 'Forbidden. Access Denied' });
    }
    assert.deepEqual((await call(sim, 'POST', '/gateway/reboot', ADMIN)).json, { status: 'Rebooting...' });
  });

  test('bodies over 512 bytes, query strings and form bodies are refused', async () => {
    const big = { alias: 'x'.repeat(600) };
    assert.equal(Buffer.byteLength(JSON.stringify(big)) > 512, true);
    const r = await call(sim, 'POST', '/meters/ABB_8', { ...ADMIN, body: big });
    assert.equal(r.status, 400);
    assert.deepEqual(r.json, { status: 'error', des: 'JSON parse error.' });
    // 512 bytes exactly is fine (alias is then too long for String 21: a different refusal).
    const exact = JSON.stringify({ alias: 'a', location: 'l'.repeat(512 - 27) });
    assert.equal(Buffer.byteLength(exact), 512);
    assert.notEqual((await call(sim, 'POST', '/meters/ABB_8', { ...ADMIN, raw: exact })).json, undefined);
    assert.equal((await call(sim, 'GET', '/meters?x=1', ADMIN)).status, 400);
    assert.equal((await call(sim, 'POST', '/gateway/datetime', { ...ADMIN, raw: 'datetime=2012-05-09T16:30:52', contentType: 'application/x-www-form-urlencoded' })).status, 400);
    assert.deepEqual((await call(sim, 'POST', '/gateway/datetime', { ...ADMIN, raw: '{"datetime":' })).json, { status: 'error', des: 'JSON parse error.' });
  });

  test('a multi-field post is applied in order up to the first failure (the manual CO2/currency example)', async () => {
    // CO2 is valid, currency is out of range (< 999999.000): CO2 stays set, the result names currency.
    const r = await call(sim, 'POST', '/meters/ABB_8/energy/conversionfactor', { ...ADMIN, body: { conversionfactor: { co2: 2.5, currency: 1000000 } } });
    assert.equal(r.status, 200);
    assert.deepEqual(r.json, { status: 'error', des: 'missing currency in JSON .' });
    let cf = (await call(sim, 'GET', '/meters/ABB_8/energy/conversionfactor', ADMIN)).json as { conversionfactor: { co2: [number, string]; currency: [number, string] } };
    assert.deepEqual(cf.conversionfactor.co2, [2.5, 'kg/kWh']);
    // CO2 fails first: currency is never tried.
    const before = cf.conversionfactor.currency[0];
    const r2 = await call(sim, 'POST', '/meters/ABB_8/energy/conversionfactor', { ...ADMIN, body: { conversionfactor: { co2: 12, currency: 5 } } });
    assert.equal(r2.status, 400);
    assert.deepEqual(r2.json, { status: 'error', des: 'missing co2 in JSON .' });
    cf = (await call(sim, 'GET', '/meters/ABB_8/energy/conversionfactor', ADMIN)).json as typeof cf;
    assert.equal(cf.conversionfactor.currency[0], before);
  });

  test('/lasterror/<id> from the Link header, also after a truncated 200', async () => {
    const r = await call(sim, 'GET', '/meters/NOPE/energy/active', ADMIN);
    assert.equal(r.status, 404);
    const link = String(r.headers.link);
    assert.match(link, /^\/lasterror\/\d+$/);
    assert.deepEqual((await call(sim, 'GET', link, ADMIN)).json, { des: 'URI not found.' });
    sim.gateway.truncateNext = 1;
    const cut = await call(sim, 'GET', '/meters/ABB_8/instrument', ADMIN);
    assert.equal(cut.status, 200);
    assert.equal(cut.json, undefined, 'body does not parse');
    assert.deepEqual((await call(sim, 'GET', String(cut.headers.link), ADMIN)).json, { des: 'received invalid response from COSEM.' });
    assert.equal((await call(sim, 'GET', '/meters/ABB_8/instrument', ADMIN)).headers.link, '/lasterror/0');
  });

  test('an offline meter answers 500 COSEM on its resources, shows status -1 and logs event 9', async () => {
    sim.gateway.meter('ABB_9')!.spec.offline = true;
    try {
      const r = await call(sim, 'GET', '/meters/ABB_9/status', ADMIN);
      assert.equal(r.status, 500);
      assert.deepEqual(r.json, { status: 'error', des: 'received invalid response from COSEM.' });
      const list = (await call(sim, 'GET', '/meters', ADMIN)).json as { locations: { meters: { serial: string; status: number }[] }[] };
      assert.equal(list.locations.flatMap((l) => l.meters).find((m) => m.serial === 'ABB_9')!.status, -1);
      const ev = (await call(sim, 'GET', '/gateway/events', ADMIN)).json as { events: { id: number; category: number }[] };
      assert.equal(ev.events[0].id, 9);
    } finally { sim.gateway.meter('ABB_9')!.spec.offline = false; }
  });

  test('a load-profile channel lists only its newest `count` records, one every interval; a channel storing none lists none', async () => {
    const m = sim.gateway.meter('ABB01')!;
    // A 1-second period (a test's fast profile; POST accepts 60 s and more) over the 30 days of simulated history.
    m.lpConfig = [[1, 1, 5], ...Array.from({ length: 7 }, () => [900, 2, 0] as [number, number, number])];
    const now = clock() + advance;
    const iso = (t: number) => new Date(t).toISOString().slice(0, 19);
    const r = await call(sim, 'GET', `/meters/ABB01/loadprofiles/1/${iso(now - 3_600_000)}/${iso(now + 60_000)}`, ADMIN);
    assert.equal(r.status, 200, r.text);
    const times = (r.json as { items: [number, string, number][] }).items.map((i) => Date.parse(`${i[1]}Z`));
    assert.equal(times.length, 5);
    assert.ok(times.every((t, i) => i === 0 || times[i - 1] - t === 1000), `newest first, 1 s apart: ${JSON.stringify(times)}`);
    assert.ok(now - times[0] < 5000, 'the newest record is the last second');
    const none = await call(sim, 'GET', `/meters/ABB01/loadprofiles/2/${iso(now - 3_600_000)}/${iso(now + 60_000)}`, ADMIN);
    assert.deepEqual((none.json as { items: unknown[] }).items, []);
  });

  test('values follow the clock: energy rises, tariffs and lines add up, net = import - export, decimals as documented', async () => {
    const read = async () => (await call(sim, 'GET', '/meters/ABB_8/energy/active', ADMIN)).json as Record<string, Record<string, [string, string]>>;
    const a = await read();
    advance += 3600000; // one hour later
    const b = await read();
    const n = (p: [string, string]) => Number(p[0]);
    // ABB_8 draws 4200 W on average: 4.20 kWh more after an hour (the next request is ms later).
    assert.ok(Math.abs(n(b.importenergy.total) - n(a.importenergy.total) - 4.2) <= 0.02, `${a.importenergy.total} -> ${b.importenergy.total}`);
    for (const e of [a, b]) {
      assert.match(e.importenergy.total[0], /^\d+\.\d{2}$/);
      const cents = (keys: string[], g: string) => keys.reduce((s, k) => s + Math.round(n(e[g][k]) * 100), 0);
      assert.equal(cents(['t1', 't2', 't3', 't4'], 'importenergy'), Math.round(n(e.importenergy.total) * 100));
      assert.equal(cents(['l1', 'l2', 'l3'], 'importenergy'), Math.round(n(e.importenergy.total) * 100));
      assert.equal(Math.round(n(e.netenergy.total) * 100), Math.round(n(e.importenergy.total) * 100) - Math.round(n(e.exportenergy.total) * 100));
    }
    const inst = (await call(sim, 'GET', '/meters/ABB_8/instrument', ADMIN)).json as Record<string, Record<string, [string, string]>>;
    assert.match(inst.l1.voltage[0], /^\d+\.\d$/);
    assert.match(inst.l1.current[0], /^\d+\.\d{2}$/);
    assert.match(inst.l1.powerfactor[0], /^\d\.\d{3}$/);
    assert.match(inst.frequency.frequency[0], /^\d+\.\d{2}$/);
    const res = (await call(sim, 'GET', '/meters/ABB_8/energy/resettable', ADMIN)).json as { resettableenergy: { activeimport: [string, string] } };
    assert.match(res.resettableenergy.activeimport[0], /^\d+\.\d{3}$/);
    assert.equal(res.resettableenergy.activeimport[1], 'Wh');
    // P = U * I * PF per phase, within the rounding of the printed strings.
    const p = (await call(sim, 'GET', '/meters/ABB_8/power', ADMIN)).json as Record<string, Record<string, [string, string]>>;
    const u = n(inst.l1.voltage), i = n(inst.l1.current), pf = n(inst.l1.powerfactor);
    assert.ok(Math.abs(u * i * pf - n(p.active.l1)) / n(p.active.l1) < 0.05, `${u}*${i}*${pf} vs ${p.active.l1}`);
    // Harmonics on Platinum only (A44 5xx yes, B23 3xx no).
    assert.equal((await call(sim, 'GET', '/meters/ABB_9/harmonics/voltage', ADMIN)).status, 500);
  });

  test('a reset of the resettable registers bumps the reset counter', async () => {
    const count = async () => ((await call(sim, 'GET', '/meters/ABB_8/energy/resetcounter', ADMIN)).json as { resetcounter: { activeimport: string } }).resetcounter.activeimport;
    const c0 = Number(await count());
    assert.deepEqual((await call(sim, 'POST', '/meters/ABB_8/energy/resettable', { ...ADMIN, body: { resettableenergy: { activeimport: true } } })).json, { status: 'success' });
    assert.equal(Number(await count()), c0 + 1);
  });
});

describe('G13 simulator: factory state, forced password change, HTTPS', () => {
  const sim = new G13Simulator();
  before(() => sim.listen(0));
  after(() => sim.close());

  test('factory admin/admin must change the password at /login: 403 text, then {name,oldkey,key}', async () => {
    assert.deepEqual(G13_FACTORY_ADMIN, { name: 'admin', password: 'admin' });
    assert.match(sim.url, /^https:\/\/127\.0\.0\.1:\d+$/);
    const factory = { user: 'admin', pass: 'admin' };
    const r = await call(sim, 'POST', '/login', factory);
    assert.equal(r.status, 403);
    assert.equal(r.text, 'Please reset password and try again.');
    assert.equal(r.headers['x-pad'], 'avoid browser bug');
    const ch = await call(sim, 'POST', '/login', { ...factory, body: { name: 'admin', oldkey: 'admin', key: 'n3wpass' } });
    assert.equal(ch.status, 200);
    assert.equal((await call(sim, 'POST', '/login', factory)).status, 401);
    assert.equal((await call(sim, 'POST', '/login', { user: 'admin', pass: 'n3wpass' })).status, 200);
  });

  test('the certificate fingerprint matches what a TLS client sees', async () => {
    const port = Number(new URL(sim.url).port);
    const seen = await new Promise<string>((resolve, reject) => {
      const s = tls.connect({ host: '127.0.0.1', port, rejectUnauthorized: false }, () => { resolve(s.getPeerCertificate().fingerprint256); s.end(); });
      s.on('error', reject);
    });
    assert.equal(seen, sim.fingerprint256);
  });

  test('setOffline drops connections', async () => {
    sim.setOffline(true);
    await assert.rejects(call(sim, 'GET', '/about', { user: 'admin', pass: 'n3wpass' }));
    sim.setOffline(false);
    assert.equal((await call(sim, 'GET', '/about', { user: 'admin', pass: 'n3wpass' })).status, 200);
  });
});

describe('G13 simulator: ems-sim g13 options', () => {
  test('parse turns options into simulator options and names a bad value', async () => {
    const { g13Cli } = await import('../../lib/sim/g13/cli');
    const o = g13Cli.parse({ port: '0', http: true, users: ['admin:pw:admin', 'viewer:pw:ABB_8=view'], meters: ['ABB_8:3:17:A44 512-100', 'WTR_1:1:12:water:offline'] });
    assert.equal(o.sim.tls, false);
    assert.deepEqual(o.sim.users![1], { name: 'viewer', password: 'pw', admin: false, access: { ABB_8: 'view' } });
    assert.deepEqual(o.sim.meters![1], { serial: 'WTR_1', protocol: 1, address: 12, kind: 'water', offline: true });
    assert.throws(() => g13Cli.parse({ users: ['Admin:pw'] }), /--users: "Admin:pw"/);
    assert.throws(() => g13Cli.parse({ meters: ['X:9:1'] }), /--meters: "X:9:1" needs protocol/);
    const running = await g13Cli.start(o);
    try { assert.match(running.describe(), /^G13 gateway at http:\/\/127\.0\.0\.1:\d+; meters ABB_8, WTR_1$/); } finally { await running.close(); }
  });
});
