import { after, afterEach, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import helper from 'node-red-node-test-helper';
import supertest from 'supertest';
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

  const flow = (operations: string[], storePath = file, extra: object = {}): any[] => [
    { id: 'tab', type: 'tab' },
    { id: 's1', type: 'ems-store', backend: 'sqlite', path: storePath, timeZone: 'UTC' },
    { id: 'sys', type: 'ems-system', store: 's1', path: path.join(dir, 'ems.db'), billsPath: path.join(dir, 'bills.db'), timeZone: '' },
    ...operations.map((operation, i) => ({ id: `a${i}`, z: 'tab', type: 'ems-api', system: 'sys', operation, ...extra, wires: [['out']] })),
    { id: 'out', z: 'tab', type: 'helper' },
    { id: 'c1', z: 'tab', type: 'catch', scope: null, uncaught: false, wires: [['caught']] },
    { id: 'caught', z: 'tab', type: 'helper' },
  ];
  const nodes = [storeNode, systemNode, apiNode];
  /** Resolves with the first message `id` receives, or rejects after a second. */
  const next = (id: string, ms = 1000) => new Promise<any>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no message at ${id} within ${ms} ms`)), ms);
    helper.getNode(id).once('input', (m: any) => { clearTimeout(timer); resolve(m); });
  });
  const ask = async (node: string, msg: object) => {
    const got = next('out');
    helper.getNode(node).receive(msg as any);
    return got;
  };
  /** The envelope of an answer to http in: JSON text, parsed. */
  const envelope = (msg: any) => {
    assert.equal(typeof msg.payload, 'string', 'answers to http in are JSON text');
    return JSON.parse(msg.payload);
  };
  const services = async () => (helper.getNode('sys') as any).ready();

  it('answers 401 with the envelope to an http request without a token', async () => {
    await helper.load(nodes, flow(['meters.readings']));
    const msg = await ask('a0', { req: { params: { id: 'm1' }, query: {}, headers: {}, cookies: {} } });
    assert.equal(msg.statusCode, 401);
    assert.equal(msg.headers['content-type'], 'application/json; charset=utf-8');
    assert.deepEqual(envelope(msg), { data: null, error: 'log in first: no access token (access_token cookie or Authorization: Bearer) and no API key (X-API-Key)', status: 401 });
  });

  it('logs in (cookie for http response), then answers readings to the Bearer token and the cookie', async () => {
    await helper.load(nodes, flow(['auth.login', 'meters.readings']));
    const login = await ask('a0', { req: { body: { username: 'root', password: 'a-long-test-password' }, headers: {}, cookies: {} } });
    assert.equal(login.statusCode, 200);
    login.payload = envelope(login);
    const token = login.payload.data.access_token;
    assert.equal(login.cookies.access_token.value, token);
    assert.equal(login.cookies.access_token.httpOnly, true);
    assert.ok(login.cookies.access_token.maxAge > 14 * 60_000 && login.cookies.access_token.maxAge <= 15 * 60_000);
    assert.equal(login.payload.data.session.user.login, 'root');

    const viaBearer = await ask('a1', { req: { params: { id: 'm1' }, query: { obis: '1.8.0', from: '-1h' }, headers: { authorization: `Bearer ${token}` }, cookies: {} } });
    assert.equal(viaBearer.statusCode, 200);
    assert.deepEqual(envelope(viaBearer).data.readings.map((r: any) => r.value), [10, 10.5]);
    const viaCookie = await ask('a1', { req: { params: { id: 'm1' }, query: { obis: '32.7.0', from: '-1h' }, headers: {}, cookies: { access_token: token } } });
    assert.deepEqual(envelope(viaCookie).data.readings.map((r: any) => r.value), [229.8]);
  });

  it('refuses a message without msg.req under identity "request" (the default): Catch gets an error naming the setting, a waiting client 401', async () => {
    await helper.load(nodes, flow(['meters.readings']));
    const caught = next('caught');
    helper.getNode('a0').receive({ params: { id: 'm1' }, query: {} } as any);
    const err = (await caught).error.message;
    assert.match(err, /no msg\.req/);
    assert.match(err, /identity setting is "request"/);
    // With msg.res (an http in message that lost its msg.req) the client gets a 401 instead of waiting.
    const answered = next('out');
    const caughtAgain = next('caught');
    helper.getNode('a0').receive({ res: {}, params: { id: 'm1' } } as any);
    const msg = await answered;
    assert.equal(msg.statusCode, 401);
    assert.equal(msg.payload.status, 401);
    await caughtAgain;
  });

  it('identity "user" runs flow-internal messages as that active user, with params and query from the msg', async () => {
    await helper.load(nodes, flow(['meters.readings'], file, { identity: 'user', user: 'root' }));
    const msg = await ask('a0', { params: { id: 'm1' }, query: { obis: '1.8.0', from: '-1h' } });
    assert.equal(msg.statusCode, 200);
    assert.deepEqual(msg.payload.data.readings.map((r: any) => r.value), [10, 10.5], 'flow-internal answers keep the object payload');
    const bad = await ask('a0', { params: { id: 'm1' }, query: { window: '1h', fn: 'median' } });
    assert.equal(bad.statusCode, 400);
    assert.match(bad.payload.error, /^fn: "median"/);
    const unknown = await ask('a0', { params: { id: 'zz' }, query: {} });
    assert.deepEqual(unknown.payload, { data: null, error: 'unknown meter "zz"', status: 404 });
  });

  it('identity "user" answers 401 for an unknown or deactivated user, looked up on every message', async () => {
    await helper.load(nodes, flow(['auth.session'], file, { identity: 'user', user: 'vic' }));
    const ems = await services();
    const ghost = await ask('a0', {});
    assert.deepEqual([ghost.statusCode, ghost.payload.error], [401, 'the node\'s user "vic" is unknown or deactivated']);
    const vic = await ems.users.create({ login: 'vic', name: 'Vic', password: 'viewer-password', role: 'viewer' });
    const ok = await ask('a0', {});
    assert.deepEqual([ok.statusCode, ok.payload.data.user.role], [200, 'viewer']);
    await ems.users.update(vic.id, { active: false });
    assert.equal((await ask('a0', {})).statusCode, 401);
    ems.users.delete(vic.id);
  });

  it('identity "key" acts as the API key in the credentials, limited by its role', async () => {
    await helper.load(nodes, flow(['auth.session'], file));
    const { key } = (await services()).apiKeys.create({ name: `node-key-${Date.now()}`, role: 'viewer' }, 'root');
    await helper.unload();
    await helper.load(nodes, flow(['auth.session', 'users.list'], file, { identity: 'key' }), { a0: { apiKey: key }, a1: { apiKey: key } });
    const session = await ask('a0', {});
    assert.match(session.payload.data.user.login, /^key:node-key-/);
    const users = await ask('a1', {});
    assert.equal(users.statusCode, 403);
  });

  it('identity "dashboard" acts as the user of the live session in msg._client, 401 without one', async () => {
    await helper.load(nodes, flow(['auth.session'], file, { identity: 'dashboard' }));
    const s = await (await services()).auth.login('root', 'a-long-test-password');
    const msg = await ask('a0', { _client: { socketId: 'x', emsSessionId: s.session.id } });
    assert.deepEqual([msg.statusCode, msg.payload.data.user.login], [200, 'root']);
    assert.equal((await ask('a0', { _client: { socketId: 'x' } })).statusCode, 401);
    (await services()).auth.logout(s.access_token);
    assert.equal((await ask('a0', { _client: { emsSessionId: s.session.id } })).statusCode, 401);
  });

  it('refuses at deploy an identity without its user or key, naming the property', async () => {
    await helper.load(nodes, flow(['auth.session', 'auth.session'], file, { identity: 'user' }).map((n) => (n.id === 'a1' ? { ...n, identity: 'key' } : n)));
    const logged = (helper.log().args as any[][]).map((a) => a[0]).filter((e: any) => e.type === 'ems-api' && e.level === 20).map((e: any) => e.msg);
    assert.ok(logged.includes('identity "user" needs the login of an EMS user (property user)'), JSON.stringify(logged));
    assert.ok(logged.includes('identity "key" needs an API key (credential apiKey)'), JSON.stringify(logged));
  });

  it('answers real HTTP with JSON text: ?callback= does not turn it into JSONP; X-API-Key works', async () => {
    let app: any;
    const grab = (RED: any) => { app = RED.httpNode; };
    const httpIn = require('@node-red/nodes/core/network/21-httpin.js');
    await helper.load([...nodes, httpIn, grab], [
      ...flow([]),
      { id: 'in', z: 'tab', type: 'http in', url: '/api/meters/:id/readings', method: 'get', wires: [['api']] },
      { id: 'api', z: 'tab', type: 'ems-api', system: 'sys', operation: 'meters.readings', wires: [['res']] },
      { id: 'res', z: 'tab', type: 'http response', wires: [] },
      { id: 'in2', z: 'tab', type: 'http in', url: '/api/auth/session', method: 'get', wires: [['api2']] },
      { id: 'api2', z: 'tab', type: 'ems-api', system: 'sys', operation: 'auth.session', wires: [['res']] },
    ]);
    const anon = await supertest(app).get('/api/meters/m1/readings?callback=steal').timeout(5000);
    assert.equal(anon.status, 401);
    assert.match(anon.headers['content-type'], /^application\/json/);
    assert.ok(!anon.text.includes('steal'), anon.text);
    assert.equal(JSON.parse(anon.text).status, 401);
    const { key } = (await services()).apiKeys.create({ name: `http-key-${Date.now()}`, role: 'viewer' }, 'root');
    const ok = await supertest(app).get('/api/meters/m1/readings?obis=1.8.0&from=-1h&callback=steal').set('X-API-Key', key).timeout(5000);
    assert.equal(ok.status, 400, 'callback is not a parameter of the operation');
    const plain = await supertest(app).get('/api/meters/m1/readings?obis=1.8.0&from=-1h').set('X-API-Key', key).timeout(5000);
    assert.equal(plain.status, 200, plain.text);
    assert.match(plain.headers['content-type'], /^application\/json/);
    assert.deepEqual(JSON.parse(plain.text).data.readings.map((r: any) => r.value), [10, 10.5]);
    const session = await supertest(app).get('/api/auth/session?callback=steal').set('Authorization', `Bearer ${key}`).timeout(5000);
    assert.equal(session.status, 200, session.text);
    assert.match(session.headers['content-type'], /^application\/json/);
    assert.match(JSON.parse(session.text).data.user.login, /^key:http-key-/, 'plain JSON, not steal(...)');
    const audit = (await services()).events.query({ filter: 'audit' });
    assert.match(audit[0].event, /^key:http-key-\d+ used: 1 request, last GET \/api\/meters\/m1\/readings 400$/);
    assert.match(audit[0].source, /^key:http-key-\d+@.*127\.0\.0\.1$/);
  });

  it('answers 500 and reports to Catch when the store cannot be read', async () => {
    const f = flow(['meters.readings'], path.join(file, 'x.sqlite'), { identity: 'user', user: 'root' }); // under a regular file: cannot be created
    await helper.load(nodes, f);
    const caught = next('caught');
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
