import { after, afterEach, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import helper from 'node-red-node-test-helper';
import apiNode from '../../nodes/api/api';
import storeNode from '../../nodes/store/store';
import systemNode from '../../nodes/system/system';
import { SqliteStore } from '../../lib/store/sqlite';

helper.init(require.resolve('node-red'));

describe('ems-api', () => {
  let dir: string;
  let file: string;
  const now = Date.now();
  const saved = { user: process.env.EMS_ADMIN_USER, password: process.env.EMS_ADMIN_PASSWORD };
  before(async () => {
    process.env.EMS_ADMIN_USER = 'root';
    process.env.EMS_ADMIN_PASSWORD = 'a-long-test-password';
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ems-api-'));
    file = path.join(dir, 'readings.sqlite');
    const store = new SqliteStore(file);
    await store.write([
      { meter: 'm1', time: now - 120_000, obis: '1-0:1.8.0', value: 10, unit: 'kWh' },
      { meter: 'm1', time: now - 60_000, obis: '1-0:1.8.0', value: 10.5, unit: 'kWh' },
      { meter: 'm1', time: now - 60_000, obis: '1-0:32.7.0', value: 229.8, unit: 'V' },
    ]);
    await store.close();
    await new Promise<void>((r) => helper.startServer(r));
  });
  afterEach(() => helper.unload());
  after(async () => {
    await new Promise<void>((r) => helper.stopServer(r));
    fs.rmSync(dir, { recursive: true, force: true });
    for (const [k, v] of [['EMS_ADMIN_USER', saved.user], ['EMS_ADMIN_PASSWORD', saved.password]] as const) {
      if (v === undefined) delete process.env[k]; else process.env[k] = v;
    }
  });

  const flow = (operations: string[], storePath = file): any[] => [
    { id: 'tab', type: 'tab' },
    { id: 's1', type: 'ems-store', backend: 'sqlite', path: storePath, timeZone: 'UTC' },
    { id: 'sys', type: 'ems-system', store: 's1', path: path.join(dir, 'ems.db'), billsPath: path.join(dir, 'bills.db'), timeZone: '' },
    ...operations.map((operation, i) => ({ id: `a${i}`, z: 'tab', type: 'ems-api', system: 'sys', operation, wires: [['out']] })),
    { id: 'out', z: 'tab', type: 'helper' },
  ];
  const nodes = [storeNode, systemNode, apiNode];
  const ask = async (node: string, msg: object) => {
    const got = new Promise<any>((r) => helper.getNode('out').once('input', r));
    helper.getNode(node).receive(msg as any);
    return got;
  };

  it('answers 401 with the envelope to an http request without a token', async () => {
    await helper.load(nodes, flow(['meters.readings']));
    const msg = await ask('a0', { req: { params: { id: 'm1' }, query: {}, headers: {}, cookies: {} } });
    assert.equal(msg.statusCode, 401);
    assert.equal(msg.headers['content-type'], 'application/json; charset=utf-8');
    assert.deepEqual(msg.payload, { data: null, error: 'log in first: no access token (access_token cookie or Authorization: Bearer)', status: 401 });
  });

  it('logs in (cookie for http response), then answers readings to the Bearer token and the cookie', async () => {
    await helper.load(nodes, flow(['auth.login', 'meters.readings']));
    const login = await ask('a0', { req: { body: { username: 'root', password: 'a-long-test-password' }, headers: {}, cookies: {} } });
    assert.equal(login.statusCode, 200);
    const token = login.payload.data.access_token;
    assert.equal(login.cookies.access_token.value, token);
    assert.equal(login.cookies.access_token.httpOnly, true);
    assert.ok(login.cookies.access_token.maxAge > 14 * 60_000 && login.cookies.access_token.maxAge <= 15 * 60_000);
    assert.equal(login.payload.data.session.user.login, 'root');

    const viaBearer = await ask('a1', { req: { params: { id: 'm1' }, query: { obis: '1.8.0', from: '-1h' }, headers: { authorization: `Bearer ${token}` }, cookies: {} } });
    assert.equal(viaBearer.statusCode, 200);
    assert.deepEqual(viaBearer.payload.data.readings.map((r: any) => r.value), [10, 10.5]);
    const viaCookie = await ask('a1', { req: { params: { id: 'm1' }, query: { obis: '32.7.0', from: '-1h' }, headers: {}, cookies: { access_token: token } } });
    assert.deepEqual(viaCookie.payload.data.readings.map((r: any) => r.value), [229.8]);
  });

  it('runs a flow-internal message (no msg.req) as the system, with params and query from the msg', async () => {
    await helper.load(nodes, flow(['meters.readings']));
    const msg = await ask('a0', { params: { id: 'm1' }, query: { obis: '1.8.0', from: '-1h' } });
    assert.equal(msg.statusCode, 200);
    assert.deepEqual(msg.payload.data.readings.map((r: any) => r.value), [10, 10.5]);
  });

  it('answers 400 naming the parameter, and 404 for an unknown meter', async () => {
    await helper.load(nodes, flow(['meters.readings']));
    const bad = await ask('a0', { params: { id: 'm1' }, query: { window: '1h', fn: 'median' } });
    assert.equal(bad.statusCode, 400);
    assert.match(bad.payload.error, /^fn: "median"/);
    const unknown = await ask('a0', { params: { id: 'zz' }, query: {} });
    assert.deepEqual(unknown.payload, { data: null, error: 'unknown meter "zz"', status: 404 });
  });

  it('answers 500 and reports to Catch when the store cannot be read', async () => {
    const f = flow(['meters.readings'], path.join(file, 'x.sqlite')); // under a regular file: cannot be created
    f.push({ id: 'c1', z: 'tab', type: 'catch', scope: null, uncaught: false, wires: [['caught']] }, { id: 'caught', z: 'tab', type: 'helper' });
    await helper.load(nodes, f);
    const caught = new Promise<any>((r) => helper.getNode('caught').once('input', r));
    const msg = await ask('a0', { params: { id: 'm1' }, query: {} });
    assert.equal(msg.statusCode, 500);
    assert.match(msg.payload.error, /^internal error: /);
    assert.match((await caught).error.message, /x\.sqlite|directory|open/i);
  });

  it('logs an error naming an unknown operation', async () => {
    await helper.load(nodes, flow(['no.such']));
    const logged = (helper.log().args as any[][]).map((a) => a[0]).filter((e: any) => e.type === 'ems-api' && e.level === 20 /* error */);
    assert.deepEqual(logged.map((e: any) => e.msg), ['unknown operation "no.such"']);
  });
});
