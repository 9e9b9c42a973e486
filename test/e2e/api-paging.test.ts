import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { signLicense } from '../../lib/ems/license';
import { freePort, startEms, TEST_LICENSE_KEYS, type RunningEms } from './runtime';

const ADMIN_PASSWORD = 'paging-head-secret';
const METERS = 2000;

interface Answer { status: number; body: any }

/** Paged lists and bulk meter creation through the shipped API flow in a real Node-RED. */
describe('API paging and bulk creation (real Node-RED, flows/ems.json)', () => {
  let ems: RunningEms;
  let dbDir: string;
  let admin: string;
  let viewer: string;
  let folders: string[];
  let modbusPort: number;

  async function api(method: string, url: string, token: string, body?: unknown, form?: FormData): Promise<Answer> {
    const headers: Record<string, string> = { authorization: `Bearer ${token}` };
    if (body !== undefined) headers['content-type'] = 'application/json';
    const res = await fetch(`${ems.url}${url}`, { method, headers, body: form ?? (body === undefined ? undefined : JSON.stringify(body)), signal: AbortSignal.timeout(60_000) });
    return { status: res.status, body: await res.json() };
  }
  async function login(username: string, password: string): Promise<string> {
    const res = await fetch(`${ems.url}/api/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username, password }), signal: AbortSignal.timeout(30_000) });
    const body = await res.json() as { data: { access_token: string } };
    assert.equal(res.status, 200, JSON.stringify(body));
    return body.data.access_token;
  }
  const meter = (i: number, folder: string) => ({
    _id: `pg-${String(i).padStart(5, '0')}`, folder_id: folder, name: `Paged ${i}`, protocol: 'modbus-tcp', profile: 'eastron-sdm630',
    ip_address: '127.0.0.1', port: modbusPort, connection_address: String(1 + (i % 247)), interval_time: 3600,
  });
  async function walk(token: string, limit: number, between: (page: number) => Promise<void> = async () => {}): Promise<string[][]> {
    const pages: string[][] = [];
    let cursor: string | null = null;
    do {
      const r: Answer = await api('GET', `/api/meters?limit=${limit}${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`, token);
      assert.equal(r.status, 200, JSON.stringify(r.body).slice(0, 300));
      assert.ok('next_cursor' in r.body, 'the envelope carries next_cursor');
      pages.push(r.body.data.map((m: { _id: string }) => m._id));
      assert.ok(pages.length < 1000, 'the walk ends');
      cursor = r.body.next_cursor;
      if (cursor) await between(pages.length);
    } while (cursor);
    return pages;
  }

  before(async () => {
    dbDir = fs.mkdtempSync(path.join(os.tmpdir(), 'ems-paging-db-'));
    modbusPort = await freePort(); // nothing listens: polls fail fast, which paging does not need
    ems = await startEms({
      EMS_DB_PATH: path.join(dbDir, 'ems.db'), EMS_ADMIN_USER: 'admin', EMS_ADMIN_PASSWORD: ADMIN_PASSWORD,
      EMS_MODBUS_HOST: '127.0.0.1', EMS_MODBUS_PORT: String(modbusPort), EMS_TIME_ZONE: 'UTC',
    });
    admin = await login('admin', ADMIN_PASSWORD);
    const text = JSON.stringify(signLicense({ id: 'PAGING-1', customer: 'Paging', activation_date: '2020-01-01', expiration_date: '2099-12-31', meter_limit: 5000, issued_at: '2020-01-01' }, TEST_LICENSE_KEYS.privateKey));
    const form = new FormData();
    form.append('license', new Blob([text], { type: 'application/json' }), 'license.json');
    assert.equal((await api('PUT', '/api/license', admin, undefined, form)).status, 200);
    folders = [];
    for (const name of ['North', 'South', 'East', 'West']) {
      const r = await api('POST', '/api/folders', admin, { name });
      assert.equal(r.status, 201, JSON.stringify(r.body));
      folders.push(r.body.data._id);
    }
    const u = await api('POST', '/api/users', admin, { login: 'vera', name: 'Vera', password: 'quiet-lamp-0417-v', role: 'viewer', open_folders: [folders[1]] });
    assert.equal(u.status, 201, JSON.stringify(u.body));
    viewer = await login('vera', 'quiet-lamp-0417-v');
  });

  after(async () => {
    await ems?.stop();
    if (dbDir) fs.rmSync(dbDir, { recursive: true, force: true });
  });

  it('creates meters in bulk, all or none, and the poll schedule takes them', async () => {
    const refused = await api('POST', '/api/meters/bulk', admin, { meters: [meter(0, folders[0]), { ...meter(1, folders[0]), port: 'not a port' }, { ...meter(2, 'nowhere') }] });
    assert.equal(refused.status, 400, JSON.stringify(refused.body));
    assert.deepEqual(refused.body.data.errors.map((e: { index: number; field: string }) => [e.index, e.field]), [[1, 'port'], [2, 'folder_id']]);
    assert.equal((await api('GET', '/api/meters/pg-00000', admin)).status, 404, 'nothing of the refused batch was created');

    for (let start = 0; start < METERS; start += 1000) {
      const batch = Array.from({ length: 1000 }, (_, k) => meter(start + k, folders[(start + k) % 4]));
      const r = await api('POST', '/api/meters/bulk', admin, { meters: batch });
      assert.equal(r.status, 201, JSON.stringify(r.body).slice(0, 300));
      assert.equal(r.body.data.length, 1000);
    }
    // The schedule node follows the change: a meter of the second batch polls on demand.
    const poll = await api('POST', '/api/meters/pg-01999/poll', admin, {});
    assert.equal(poll.status, 200, JSON.stringify(poll.body));
    assert.equal(poll.body.data.started, true, JSON.stringify(poll.body));
  });

  it('walks every meter exactly once, page by page, while meters are created and deleted between pages', async () => {
    const deleted: string[] = [];
    const pages = await walk(admin, 300, async (page) => {
      const ahead = `pg-${String(page * 300 + 10).padStart(5, '0')}`;
      const r = await api('DELETE', `/api/meters/${ahead}`, admin);
      assert.equal(r.status, 200, JSON.stringify(r.body));
      deleted.push(ahead);
      const c = await api('POST', '/api/meters', admin, { ...meter(90_000 + page, folders[0]), _id: `pg-${String(page * 300 - 5).padStart(5, '0')}z` });
      assert.equal(c.status, 201, JSON.stringify(c.body));
    });
    const seen = pages.flat();
    assert.equal(new Set(seen).size, seen.length, 'no meter answered twice');
    for (let i = 0; i < METERS; i++) {
      const id = `pg-${String(i).padStart(5, '0')}`;
      if (!deleted.includes(id)) assert.ok(seen.includes(id), `meter ${id} was never answered`);
    }
    for (const id of deleted) assert.ok(!seen.includes(id), `deleted meter ${id} answered`);
  });

  it('a viewer sees only her folder\'s meters on every page', async () => {
    const pages = await walk(viewer, 100);
    assert.ok(pages.length >= 5, `${pages.length} pages`);
    const all = (await walk(admin, 1000)).flat();
    const south = new Set<string>();
    for (let i = 1; i < METERS; i += 4) south.add(`pg-${String(i).padStart(5, '0')}`);
    for (const [n, p] of pages.entries()) for (const id of p) assert.ok(south.has(id), `page ${n} shows ${id}, not a meter of South`);
    assert.deepEqual(pages.flat(), all.filter((id) => south.has(id)));
  });

  it('answers 400 naming a bad limit or cursor, on every paged list', async () => {
    for (const url of ['/api/meters', '/api/users', '/api/tariffs', '/api/alarm-rules', '/api/keys']) {
      const r = await api('GET', `${url}?limit=0`, admin);
      assert.equal(r.status, 400, `${url}: ${JSON.stringify(r.body)}`);
      assert.match(r.body.error, /^limit "0" must be an integer from 1 to 1000/);
      const c = await api('GET', `${url}?cursor=bogus`, admin);
      assert.equal(c.status, 400, `${url}: ${JSON.stringify(c.body)}`);
      assert.match(c.body.error, /^cursor "bogus" is not a cursor/);
    }
    const users = await api('GET', '/api/users?limit=1', admin);
    assert.equal(users.body.data.length, 1);
    const rest = await api('GET', `/api/users?cursor=${users.body.next_cursor}`, admin);
    assert.deepEqual(rest.body.data.map((u: { login: string }) => u.login), ['vera']);
    assert.equal(rest.body.next_cursor, null);
  });
});
