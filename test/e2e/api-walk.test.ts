import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { OPERATIONS } from '../../lib/ems/api';
import { signLicense } from '../../lib/ems/license';
import { freePort, startEms, TEST_LICENSE_KEYS, type RunningEms } from './runtime';

const ADMIN_PASSWORD = 'walk-head-secret';
const sdm = { protocol: 'modbus-tcp', profile: 'eastron-sdm630', ip_address: '127.0.0.1', port: '5020', connection_address: '1' };

interface Answer { status: number; body: any; headers: Headers }

/** Walks the shipped API (flows/ems.json's "EMS API" tab) in a real Node-RED, as different users. */
describe('API walk (real Node-RED, flows/ems.json)', () => {
  let ems: RunningEms;
  let dbDir: string;
  const tokens: Record<string, string> = {};

  async function api(method: string, url: string, opts: { token?: string; body?: unknown; cookie?: string; form?: FormData } = {}): Promise<Answer> {
    const headers: Record<string, string> = {};
    if (opts.token) headers.authorization = `Bearer ${opts.token}`;
    if (opts.cookie) headers.cookie = opts.cookie;
    let body: string | FormData | undefined;
    if (opts.form) body = opts.form;
    else if (opts.body !== undefined) {
      headers['content-type'] = 'application/json';
      body = JSON.stringify(opts.body);
    }
    const res = await fetch(`${ems.url}${url}`, { method, headers, body });
    const text = await res.text();
    let parsed: unknown = text;
    try { parsed = JSON.parse(text); } catch { /* HTML or CSV */ }
    return { status: res.status, body: parsed, headers: res.headers };
  }

  function expectEnvelope(r: Answer, status: number, error?: RegExp): void {
    assert.equal(r.status, status, JSON.stringify(r.body));
    assert.equal(r.body.status, status);
    if (error) {
      assert.equal(r.body.data, null);
      assert.match(r.body.error, error);
    } else {
      assert.equal(r.body.error, null);
    }
  }

  async function login(username: string, password: string): Promise<string> {
    const r = await api('POST', '/api/auth/login', { body: { username, password } });
    expectEnvelope(r, 200);
    return r.body.data.access_token;
  }

  before(async () => {
    dbDir = fs.mkdtempSync(path.join(os.tmpdir(), 'ems-walk-db-'));
    // Nothing listens on the Modbus port: the demo meters fail to poll, which the API walk does not need.
    ems = await startEms({
      EMS_DB_PATH: path.join(dbDir, 'ems.db'), EMS_ADMIN_USER: 'admin', EMS_ADMIN_PASSWORD: ADMIN_PASSWORD,
      EMS_MODBUS_HOST: '127.0.0.1', EMS_MODBUS_PORT: String(await freePort()), EMS_TIME_ZONE: 'UTC',
    });
  });

  after(async () => {
    await ems?.stop();
    if (dbDir) fs.rmSync(dbDir, { recursive: true, force: true });
  });

  it('logs in: the access_token cookie is set, and the cookie or a Bearer token authenticates', async () => {
    const r = await api('POST', '/api/auth/login', { body: { username: 'admin', password: ADMIN_PASSWORD } });
    expectEnvelope(r, 200);
    const token = r.body.data.access_token as string;
    assert.ok(r.body.data.refresh_token);
    const cookie = r.headers.get('set-cookie') ?? '';
    assert.match(cookie, new RegExp(`access_token=${token.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`));
    assert.match(cookie, /HttpOnly/i);
    const byCookie = await api('GET', '/api/auth/session', { cookie: `access_token=${token}` });
    expectEnvelope(byCookie, 200);
    assert.equal(byCookie.body.data.user.login, 'admin');
    const byBearer = await api('GET', '/api/auth/session', { token });
    assert.equal(byBearer.body.data.user.role, 'admin');
    expectEnvelope(await api('POST', '/api/auth/login', { body: { username: 'admin', password: 'wrong-password' } }), 401, /./);
    tokens.admin = token;
  });

  it('answers 401 with the envelope to every non-public operation called without a token', async () => {
    const guarded = OPERATIONS.filter((op) => op.access !== 'public');
    assert.ok(guarded.length >= 40, `${guarded.length} operations`);
    const wrong: string[] = [];
    for (const op of guarded) {
      const url = op.path.replace(/:[A-Za-z_]+/g, 'walk-x');
      const r = await api(op.method, url, op.method === 'POST' || op.method === 'PUT' ? { body: {} } : {});
      const ok = r.status === 401 && r.body?.status === 401 && r.body?.data === null && typeof r.body?.error === 'string' && r.body.error !== '';
      if (!ok) wrong.push(`${op.name} ${op.method} ${url}: ${r.status} ${JSON.stringify(r.body).slice(0, 120)}`);
    }
    assert.deepEqual(wrong, [], 'every operation is served by the flow and needs a login');
    expectEnvelope(await api('GET', '/api/users', { token: 'not-a-token' }), 401, /./);
  });

  it('creates users, builds a folder tree with meters, and refuses writes by a viewer', async () => {
    const admin = tokens.admin;
    for (const [user, role] of [['olga', 'operator'], ['vera', 'viewer']]) {
      const r = await api('POST', '/api/users', { token: admin, body: { login: user, name: user, password: `${role}-pass-0417`, role } });
      expectEnvelope(r, 201);
      assert.equal(JSON.stringify(r.body).includes(`${role}-pass-0417`), false);
      tokens[user] = await login(user, `${role}-pass-0417`);
    }
    const op = tokens.olga;

    const plant = await api('POST', '/api/folders', { token: op, body: { name: 'Plant', folder_type: 'site' } });
    expectEnvelope(plant, 201);
    const hall = (await api('POST', '/api/folders', { token: op, body: { name: 'Hall A', parent_id: plant.body.data._id } })).body.data;
    const office = (await api('POST', '/api/folders', { token: op, body: { name: 'Office', parent_id: plant.body.data._id, folder_type: 'floor' } })).body.data;
    expectEnvelope(await api('POST', '/api/meters', { token: op, body: { _id: 'walk-hall', folder_id: hall._id, name: 'Hall meter', ...sdm } }), 201);
    const m = await api('POST', '/api/meters', { token: op, body: { _id: 'walk-office', folder_id: office._id, name: 'Office meter', ...sdm, password: 'meter-pw' } });
    expectEnvelope(m, 201);
    assert.equal(m.body.data.definition.password_set, true);
    assert.equal(JSON.stringify(m.body).includes('meter-pw'), false);
    const up = await api('PUT', '/api/meters/walk-office', { token: op, body: { interval_time: '30' } });
    assert.equal(up.body.data.definition.interval_time, 30);
    expectEnvelope(await api('PUT', '/api/meters/walk-office', { token: op, body: { port: 'http' } }), 400, /^port "http" must be a whole number/);

    const tree = await api('GET', '/api/folders', { token: tokens.vera });
    const names = (nodes: any[]): unknown[] => nodes.map((n) => (n.child_folders.length ? [n.name, names(n.child_folders)] : n.name));
    assert.deepEqual(names(tree.body.data), [['Plant', [['Hall A', ['Hall meter']], ['Office', ['Office meter']]]]]);

    const viewer = tokens.vera;
    expectEnvelope(await api('POST', '/api/folders', { token: viewer, body: { name: 'Nope' } }), 403, /needs the operator role/);
    expectEnvelope(await api('PUT', '/api/meters/walk-hall', { token: viewer, body: { name: 'Nope' } }), 403, /needs the operator role/);
    expectEnvelope(await api('DELETE', '/api/meters/walk-hall', { token: viewer }), 403, /needs the operator role/);
    expectEnvelope(await api('GET', '/api/users', { token: viewer }), 403, /needs the admin role/);
    expectEnvelope(await api('GET', '/api/users', { token: op }), 403, /needs the admin role/);
    assert.equal((await api('GET', '/api/meters/walk-hall', { token: viewer })).body.data.name, 'Hall meter');
  });

  it('limits a viewer with open_folders to their subtree, its meters and its events', async () => {
    const admin = tokens.admin;
    const users = (await api('GET', '/api/users', { token: admin })).body.data;
    assert.deepEqual(users.map((u: any) => u.login), ['admin', 'olga', 'vera']);
    const hall = (await api('GET', '/api/folders', { token: admin })).body.data[0].child_folders.find((f: any) => f.name === 'Hall A');
    const vera = users.find((u: any) => u.login === 'vera');
    const r = await api('PUT', `/api/users/${vera.id}`, { token: admin, body: { 'open folders': [hall._id] } });
    expectEnvelope(r, 200);
    assert.deepEqual(r.body.data.open_folders, [hall._id]);

    const v = tokens.vera;
    const tree = await api('GET', '/api/folders', { token: v });
    assert.deepEqual(tree.body.data.map((f: any) => [f.name, f.child_folders.map((c: any) => c.name)]), [['Plant', ['Hall A']]]);
    assert.deepEqual((await api('GET', '/api/meters', { token: v })).body.data.map((m: any) => m._id), ['walk-hall']);
    expectEnvelope(await api('GET', '/api/meters/walk-office', { token: v }), 404, /^unknown meter "walk-office"$/);
    expectEnvelope(await api('GET', '/api/events?meter=walk-office', { token: v }), 404, /unknown meter "walk-office"/);
    const events = (await api('GET', '/api/events?filter=meter%20created', { token: v })).body.data;
    assert.deepEqual(events.map((e: any) => e.meter_id), ['walk-hall']);
    const all = (await api('GET', '/api/events?filter=meter%20created', { token: admin })).body.data;
    assert.deepEqual(all.map((e: any) => e.meter_id).sort(), ['walk-hall', 'walk-office']);
    expectEnvelope(await api('GET', '/api/events?date1=2026-11-22&date2=2026-11-21', { token: v }), 400, /^date1 .* is after date2/);
    expectEnvelope(await api('GET', '/api/events?limit=99999', { token: v }), 400, /^limit "99999"/);
  });

  it('shows the license to viewers and installs a signed file uploaded as multipart by an admin', async () => {
    const before = await api('GET', '/api/license', { token: tokens.vera });
    expectEnvelope(before, 200);
    assert.equal(before.body.data.state, 'none');
    assert.equal(before.body.data.meters_used, 2);
    const today = new Date().toISOString().slice(0, 10);
    const text = JSON.stringify(signLicense({ id: 'WALK-1', customer: 'Walk', activation_date: '2020-01-01', expiration_date: '2099-12-31', meter_limit: 50, issued_at: today }, TEST_LICENSE_KEYS.privateKey));
    const form = () => {
      const f = new FormData();
      f.append('license', new Blob([text], { type: 'application/json' }), 'license.json');
      return f;
    };
    expectEnvelope(await api('PUT', '/api/license', { token: tokens.olga, form: form() }), 403, /needs the admin role/);
    const bad = new FormData();
    bad.append('license', new Blob([text.replace('"meter_limit": 50', '"meter_limit": 5000').replace('"meter_limit":50', '"meter_limit":5000')]), 'license.json');
    expectEnvelope(await api('PUT', '/api/license', { token: tokens.admin, form: bad }), 400, /signature does not match/);
    const r = await api('PUT', '/api/license', { token: tokens.admin, form: form() });
    expectEnvelope(r, 200);
    assert.equal(r.body.data.state, 'valid');
    assert.equal(r.body.data.meter_limit, 50);
    assert.equal(r.body.data.expiration_date, '2099-12-31');
    // License events are for administrators only.
    assert.deepEqual((await api('GET', '/api/events?filter=license', { token: tokens.vera })).body.data, []);
    const logged = (await api('GET', '/api/events?filter=license', { token: tokens.admin })).body.data;
    assert.match(logged[0].event, /^license WALK-1 installed: valid, 50 meters until 2099-12-31$/);
  });

  it('serves the OpenAPI document listing every operation, and the docs page', async () => {
    const r = await fetch(`${ems.url}/api/openapi.json`);
    assert.equal(r.status, 200);
    const doc = await r.json() as any;
    assert.equal(doc.openapi, '3.0.3');
    const missing = OPERATIONS.filter((op) => !doc.paths[op.path.replace(/:([A-Za-z_]+)/g, '{$1}')]?.[op.method.toLowerCase()]);
    assert.deepEqual(missing.map((o) => o.name), []);
    assert.equal(doc.paths['/api/events'].get.parameters.map((p: any) => p.name).join(','), 'date1,date2,filter,limit,meter,cursor');
    const page = await fetch(`${ems.url}/api/docs`);
    assert.equal(page.status, 200);
    assert.match(page.headers.get('content-type') ?? '', /^text\/html/);
    const html = await page.text();
    assert.match(html, /^<!doctype html>/i);
    assert.match(html, /<h2 id="s-Poll server">Poll server<\/h2>/);
  });

  it('logs out: the token stops working and the cookie is cleared', async () => {
    const token = await login('olga', 'operator-pass-0417');
    expectEnvelope(await api('GET', '/api/auth/session', { token }), 200);
    const out = await api('POST', '/api/auth/logout', { token });
    expectEnvelope(out, 200);
    assert.match(out.headers.get('set-cookie') ?? '', /access_token=;/);
    expectEnvelope(await api('GET', '/api/auth/session', { token }), 401, /./);
    expectEnvelope(await api('GET', '/api/meters', { token }), 401, /./);
    expectEnvelope(await api('GET', '/api/meters', { token: tokens.olga }), 200);
  });
});
