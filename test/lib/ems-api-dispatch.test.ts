import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { BillStore } from '../../lib/billing/bill-store';
import { ApiReply, matchOperation, OPERATIONS, openApiDocument, openApiHtml, runOperation, type ApiContext, type Operation } from '../../lib/ems/api';
import { ApiError } from '../../lib/ems/envelope';
import { openEmsServices, type EmsServices } from '../../lib/ems/services';
import { SqliteStore } from '../../lib/store/sqlite';

const request = (over: Partial<ApiContext['request']> = {}): ApiContext['request'] => ({ params: {}, query: {}, body: undefined, headers: {}, cookies: {}, ...over });

describe('API dispatch', () => {
  let services: EmsServices;
  let base: Omit<ApiContext, 'caller' | 'request'>;
  let adminToken: string;
  let viewerToken: string;
  before(async () => {
    services = await openEmsServices({ file: ':memory:', env: { EMS_ADMIN_USER: 'boss', EMS_ADMIN_PASSWORD: 'chief-pass-0417' } });
    await services.users.create({ login: 'vera', name: 'Vera', password: 'viewer-secret', role: 'viewer' });
    base = { services, store: new SqliteStore({ path: ':memory:' }), bills: new BillStore(':memory:'), timeZone: 'UTC', now: Date.now };
    adminToken = (await services.auth.login('boss', 'chief-pass-0417')).access_token;
    viewerToken = (await services.auth.login('vera', 'viewer-secret')).access_token;
  });
  after(() => services.close());

  const probe = (access: Operation['access'], run: Operation['run'] = (ctx) => ({ who: ctx.caller?.user.login ?? null })): Operation =>
    ({ name: 'probe.run', method: 'GET', path: '/api/probe', access, tag: 'Probe', summary: 'probe', run });

  it('answers 401 without a token, 401 for an unknown one, and runs with a valid Bearer or cookie', async () => {
    const none = await runOperation(probe('viewer'), { ...base, request: request() });
    assert.equal(none.status, 401);
    assert.deepEqual(none.body, { data: null, error: 'log in first: no access token (access_token cookie or Authorization: Bearer) and no API key (X-API-Key)', status: 401 });
    const forged = await runOperation(probe('viewer'), { ...base, request: request({ headers: { authorization: 'Bearer not-a-token' } }) });
    assert.equal(forged.status, 401);
    assert.match((forged.body as any).error, /unknown or logged out/);
    const bearer = await runOperation(probe('viewer'), { ...base, request: request({ headers: { authorization: `Bearer ${viewerToken}` } }) });
    assert.deepEqual(bearer.body, { data: { who: 'vera' }, error: null, status: 200 });
    const cookie = await runOperation(probe('viewer'), { ...base, request: request({ cookies: { access_token: adminToken } }) });
    assert.deepEqual(cookie.body, { data: { who: 'boss' }, error: null, status: 200 });
  });

  it('answers 403 naming the role when the caller\'s role is too low', async () => {
    const a = await runOperation(probe('operator'), { ...base, request: request({ headers: { authorization: `Bearer ${viewerToken}` } }) });
    assert.equal(a.status, 403);
    assert.equal((a.body as any).error, 'this needs the operator role; "vera" is a viewer');
  });

  it('runs as a configured identity only when asked (no trusted path), and public operations need no token', async () => {
    const plain = await runOperation(probe('admin'), { ...base, request: request() });
    assert.equal(plain.status, 401, 'a message without credentials is not trusted');
    const asUser = await runOperation(probe("admin"), { ...base, request: request() }, { mode: "user", login: "boss" });
    assert.deepEqual((asUser.body as any).data, { who: 'boss' });
    const viewer = await runOperation(probe('admin'), { ...base, request: request() }, { mode: 'user', login: 'vera' });
    assert.equal(viewer.status, 403, 'a configured identity is limited by its role');
    const open = await runOperation(probe('public'), { ...base, request: request() });
    assert.deepEqual((open.body as any).data, { who: null });
  });

  it('passes ApiError statuses, raw bodies and cookies through, and turns other errors into 500', async () => {
    const notFound = await runOperation(probe('public', () => { throw new ApiError(404, 'unknown meter "x"'); }), { ...base, request: request() });
    assert.deepEqual(notFound.body, { data: null, error: 'unknown meter "x"', status: 404 });
    const csv = await runOperation(probe('public', () => new ApiReply({ raw: { contentType: 'text/csv', body: 'a,b\n', filename: 'r.csv' } })), { ...base, request: request() });
    assert.equal(csv.body, 'a,b\n');
    assert.equal(csv.headers['content-disposition'], 'attachment; filename="r.csv"');
    const created = await runOperation(probe('public', () => new ApiReply({ data: { id: 1 }, status: 201, cookies: { a: null } })), { ...base, request: request() });
    assert.deepEqual([created.status, created.body, created.cookies], [201, { data: { id: 1 }, error: null, status: 201 }, { a: null }]);
    const boom = await runOperation(probe('public', () => { throw new TypeError('x is undefined'); }), { ...base, request: request() });
    assert.equal(boom.status, 500);
    assert.equal((boom.body as any).error, 'internal error: x is undefined');
    assert.equal(boom.unexpected?.message, 'x is undefined');
  });

  it('logs in (setting the cookie), reads the session and logs out (clearing it, the token is dead after)', async () => {
    const byName = (n: string) => OPERATIONS.find((o) => o.name === n)!;
    const login = await runOperation(byName('auth.login'), { ...base, request: request({ body: { username: 'vera', password: 'viewer-secret' } }) });
    const token = (login.body as any).data.access_token;
    assert.equal(login.cookies?.access_token?.value, token);
    const wrong = await runOperation(byName('auth.login'), { ...base, request: request({ body: { username: 'vera', password: 'nope-nope' } }) });
    assert.equal(wrong.status, 401);
    const session = await runOperation(byName('auth.session'), { ...base, request: request({ cookies: { access_token: token } }) });
    assert.equal((session.body as any).data.user.login, 'vera');
    assert.equal((session.body as any).data.user.password_hash, undefined);
    const foreign = await runOperation(byName('auth.logout'), { ...base, request: request({ cookies: { access_token: token }, headers: { host: 'ems.local', origin: 'http://evil.example' } }) });
    assert.equal(foreign.status, 403, 'a cookie-authenticated write from another origin is refused (CSRF)');
    const out = await runOperation(byName('auth.logout'), { ...base, request: request({ cookies: { access_token: token }, headers: { host: 'ems.local', origin: 'http://ems.local' } }) });
    assert.deepEqual([out.status, out.cookies], [200, { access_token: null }]);
    const again = await runOperation(byName('auth.session'), { ...base, request: request({ cookies: { access_token: token } }) });
    assert.equal(again.status, 401);
  });

  it('has unique operation names and method+path pairs, and matches paths with parameters', () => {
    assert.equal(new Set(OPERATIONS.map((o) => o.name)).size, OPERATIONS.length);
    assert.equal(new Set(OPERATIONS.map((o) => `${o.method} ${o.path}`)).size, OPERATIONS.length);
    const m = matchOperation(OPERATIONS, 'get', '/api/meters/hvac/readings');
    assert.equal(m?.op.name, 'meters.readings');
    assert.deepEqual(m?.params, { id: 'hvac' });
    assert.equal(matchOperation(OPERATIONS, 'DELETE', '/api/auth/login'), null);
  });

  it('describes every operation in the OpenAPI document and the HTML page', () => {
    const doc = openApiDocument(OPERATIONS, '1.2.3') as any;
    assert.equal(doc.openapi, '3.0.3');
    for (const op of OPERATIONS) {
      const p = doc.paths[op.path.replace(/:([A-Za-z_]+)/g, '{$1}')]?.[op.method.toLowerCase()];
      assert.ok(p, `${op.method} ${op.path} is in the document`);
      assert.equal(p.operationId, op.name);
      for (const param of op.path.split('/').filter((s) => s.startsWith(':'))) {
        assert.ok(p.parameters.some((q: any) => q.in === 'path' && q.name === param.slice(1)), `${op.name} documents ${param}`);
      }
      if (op.access !== 'public') assert.ok(p.responses[401], `${op.name} documents 401`);
    }
    const html = openApiHtml(doc);
    assert.match(html, /^<!doctype html>/);
    for (const op of OPERATIONS) assert.ok(html.includes(`<code>${op.path.replace(/:([A-Za-z_]+)/g, '{$1}')}</code>`), op.path);
  });
});
