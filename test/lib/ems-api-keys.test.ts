import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { BillStore } from '../../lib/billing/bill-store';
import { operationByName, runOperation, type ApiContext, type HttpAnswer } from '../../lib/ems/api';
import { auditBody, maskSecrets } from '../../lib/ems/audit';
import { openEmsServices, type EmsServices } from '../../lib/ems/services';
import { SqliteStore } from '../../lib/store/sqlite';

const T0 = Date.parse('2026-12-07T10:00:00Z');
type Answer = HttpAnswer & { body: any };
interface Call { headers?: Record<string, string>; cookies?: Record<string, string>; params?: Record<string, string>; query?: Record<string, unknown>; body?: unknown; ip?: string }

describe('API keys', () => {
  let services: EmsServices;
  let base: Omit<ApiContext, 'caller' | 'request'>;
  let clock = T0;
  let admin: string;
  let folderA: string;
  const call = (name: string, c: Call = {}): Promise<Answer> => runOperation(operationByName(name)!, {
    ...base, request: { params: c.params ?? {}, query: c.query ?? {}, body: c.body, headers: c.headers ?? {}, cookies: c.cookies ?? {}, ip: c.ip ?? '10.0.0.7' },
  }) as Promise<Answer>;
  const asAdmin = (c: Call = {}): Call => ({ ...c, headers: { authorization: `Bearer ${admin}`, ...c.headers } });
  const create = async (body: Record<string, unknown>) => {
    const r = await call('keys.create', asAdmin({ body }));
    assert.equal(r.status, 201, JSON.stringify(r.body));
    return r.body.data as { key: string; id: string; name: string; state: string };
  };
  const auditEvents = () => services.events.query({ filter: 'audit', limit: 1000 });

  before(async () => {
    services = await openEmsServices({ file: ':memory:', env: { EMS_ADMIN_USER: 'boss', EMS_ADMIN_PASSWORD: 'chief-pass-0417' }, now: () => clock });
    const a = services.registry.createFolder({ name: 'Plant A' });
    const b = services.registry.createFolder({ name: 'Plant B' });
    folderA = a._id;
    const meter = (id: string, folder: string) => services.registry.createMeter({ name: id, folder_id: folder, protocol: 'modbus-tcp', profile: 'eastron-sdm630', interval_time: 10 }, undefined, id);
    meter('a1', a._id);
    meter('b1', b._id);
    base = { services, store: new SqliteStore({ path: ':memory:' }), bills: new BillStore(':memory:'), timeZone: 'UTC', now: () => clock };
    admin = (await services.auth.login('boss', 'chief-pass-0417')).access_token;
  });
  after(() => services.close());

  it('creates a key shown once (emsk_<id>_<secret>), lists it without the secret, and refuses bad input naming the field', async () => {
    const k = await create({ name: 'ci-reader', role: 'viewer', expires_at: '2027-01-01T00:00:00Z' });
    assert.match(k.key, /^emsk_[0-9a-f]{12}_[A-Za-z0-9_-]{43}$/);
    assert.equal(k.key.split('_')[1], k.id);
    assert.equal(k.state, 'active');
    const list = await call('keys.list', asAdmin());
    const listed = list.body.data.find((x: any) => x.name === 'ci-reader');
    assert.deepEqual([listed.role, listed.expires_at, listed.created_by, listed.last_used_at], ['viewer', Date.parse('2027-01-01T00:00:00Z'), 'boss', null]);
    assert.ok(!JSON.stringify(list.body).includes(k.key.slice(-43)), 'the secret is never listed');
    assert.equal(listed.key, undefined);
    assert.equal(listed.key_hash, undefined);
    assert.equal((await call('keys.get', asAdmin({ params: { id: k.id } }))).body.data.name, 'ci-reader');
    assert.equal((await call('keys.get', asAdmin({ params: { id: 'abcdefabcdef' } }))).status, 404);

    const bad = async (body: unknown, status: number, error: RegExp) => {
      const r = await call('keys.create', asAdmin({ body }));
      assert.equal(r.status, status, JSON.stringify(r.body));
      assert.match(r.body.error, error);
    };
    await bad({ name: 'ci-reader', role: 'viewer' }, 409, /name "ci-reader" is taken/);
    await bad({ name: 'has space', role: 'viewer' }, 400, /^name "has space" must be/);
    await bad({ name: 'x', role: 'root' }, 400, /^role "root" must be one of admin, operator, viewer/);
    await bad({ role: 'viewer' }, 400, /^name is required/);
    await bad({ name: 'x', role: 'viewer', expires_at: '2020-01-01' }, 400, /^expires_at "2020-01-01" must be in the future/);
    await bad({ name: 'x', role: 'viewer', expires_at: 'soon' }, 400, /^expires_at "soon" must be an ISO date/);
    await bad({ name: 'x', role: 'viewer', open_folders: ['nope'] }, 400, /open_folders: folder "nope" does not exist/);
    await bad({ name: 'x', role: 'viewer', colour: 'red' }, 400, /unknown field "colour"/);
  });

  it('authenticates X-API-Key and Authorization: Bearer emsk_..., with the key\'s role and folder scope', async () => {
    const k = await create({ name: 'scoped-op', role: 'operator', open_folders: [folderA] });
    for (const headers of [{ 'x-api-key': k.key }, { authorization: `Bearer ${k.key}` }] as Record<string, string>[]) {
      const meters = await call('meters.list', { headers });
      assert.equal(meters.status, 200, JSON.stringify(meters.body));
      assert.deepEqual(meters.body.data.map((m: any) => m._id ?? m.id), ['a1']);
      assert.equal((await call('meters.get', { headers, params: { id: 'b1' } })).status, 404, 'another folder\'s meter is 404');
    }
    const session = await call('auth.session', { headers: { 'x-api-key': k.key } });
    assert.equal(session.body.data.user.login, 'key:scoped-op');
    assert.equal(session.body.data.user.id, `key:${k.id}`);
    // Role limits: an operator key may not manage users or keys.
    const users = await call('users.list', { headers: { 'x-api-key': k.key } });
    assert.deepEqual([users.status, users.body.error], [403, 'this needs the admin role; "key:scoped-op" is an operator']);
    const keyMaking = await call('keys.create', { headers: { 'x-api-key': k.key }, body: { name: 'escalate', role: 'admin' } });
    assert.equal(keyMaking.status, 403);
    const viewer = await create({ name: 'viewer-only', role: 'viewer' });
    const write = await call('folders.create', { headers: { 'x-api-key': viewer.key }, body: { name: 'Plant C' } });
    assert.equal(write.status, 403);
    // Session tokens keep working beside keys.
    assert.equal((await call('meters.list', asAdmin())).body.data.length, 2);
  });

  it('answers 401 naming an unknown, malformed, expired or revoked key, never echoing it', async () => {
    const k = await create({ name: 'short-lived', role: 'viewer', expires_at: T0 + 3_600_000 });
    const tampered = `${k.key.slice(0, -4)}AAAA`;
    const unknown = await call('meters.list', { headers: { 'x-api-key': tampered } });
    assert.deepEqual([unknown.status, unknown.body.error], [401, 'the API key is unknown']);
    const malformed = await call('meters.list', { headers: { authorization: 'Bearer emsk_nope' } });
    assert.match(malformed.body.error, /malformed/);
    assert.ok(!malformed.body.error.includes('emsk_nope'));
    clock = T0 + 3_600_000;
    const expired = await call('meters.list', { headers: { 'x-api-key': k.key } });
    assert.deepEqual([expired.status, expired.body.error], [401, `the API key "short-lived" expired on ${new Date(T0 + 3_600_000).toISOString()}`]);
    assert.equal((await call('keys.get', asAdmin({ params: { id: k.id } }))).status, 401, 'the admin token expired too (15 min)');
    clock = T0;
    assert.equal((await call('keys.get', asAdmin({ params: { id: k.id } }))).body.data.state, 'active');
    clock = T0 + 3_600_000;
    admin = (await services.auth.login('boss', 'chief-pass-0417')).access_token;
    assert.equal((await call('keys.get', asAdmin({ params: { id: k.id } }))).body.data.state, 'expired');

    const r = await create({ name: 'to-revoke', role: 'viewer' });
    assert.equal((await call('meters.list', { headers: { 'x-api-key': r.key } })).status, 200);
    const revoked = await call('keys.revoke', asAdmin({ params: { id: r.id } }));
    assert.deepEqual([revoked.status, revoked.body.data.state, revoked.body.data.revoked_by], [200, 'revoked', 'boss']);
    const after = await call('meters.list', { headers: { 'x-api-key': r.key } });
    assert.equal(after.status, 401);
    assert.match(after.body.error, /^the API key "to-revoke" was revoked on /);
    assert.ok(!after.body.error.includes(r.key));
    assert.equal((await call('keys.revoke', asAdmin({ params: { id: r.id } }))).status, 409);
    assert.ok((await call('keys.list', asAdmin())).body.data.some((x: any) => x.name === 'to-revoke' && x.state === 'revoked'), 'kept for the record');
    assert.ok(services.events.query({ filter: 'security' }).some((e) => e.event === 'API key "to-revoke" revoked'));
  });

  it('records the last use and its address at most once a minute', async () => {
    clock = T0 + 2 * 3_600_000;
    admin = (await services.auth.login('boss', 'chief-pass-0417')).access_token;
    const k = await create({ name: 'poller', role: 'viewer' });
    const used = async () => (await call('keys.get', asAdmin({ params: { id: k.id } }))).body.data;
    await call('meters.list', { headers: { 'x-api-key': k.key }, ip: '10.1.1.1' });
    assert.deepEqual([(await used()).last_used_at, (await used()).last_used_from], [clock, '10.1.1.1']);
    const first = clock;
    clock += 30_000;
    await call('meters.list', { headers: { 'x-api-key': k.key }, ip: '10.2.2.2' });
    assert.deepEqual([(await used()).last_used_at, (await used()).last_used_from], [first, '10.1.1.1'], 'not rewritten within the minute');
    clock += 30_000;
    await call('meters.list', { headers: { 'x-api-key': k.key }, ip: '10.2.2.2' });
    assert.deepEqual([(await used()).last_used_at, (await used()).last_used_from], [clock, '10.2.2.2']);
  });

  it('audits every write with who, what, where and the body with secrets masked; key reads at most once a minute per key', async () => {
    clock = T0 + 3 * 3_600_000;
    admin = (await services.auth.login('boss', 'chief-pass-0417')).access_token;
    const before = auditEvents().length;
    const made = await call('users.create', asAdmin({ ip: '192.168.1.5', body: { login: 'olga', name: 'Olga', password: 'operator-secret', role: 'operator' } }));
    assert.equal(made.status, 201);
    const [ev] = auditEvents();
    assert.equal(ev.event, 'users.create POST /api/users 201');
    assert.equal(ev.source, 'boss@192.168.1.5');
    assert.deepEqual(JSON.parse(ev.value!), { login: 'olga', name: 'Olga', password: '***', role: 'operator' });
    assert.ok(!JSON.stringify(auditEvents()).includes('operator-secret'));

    // Refused after authentication: audited too, with the status.
    const olga = (await services.auth.login('olga', 'operator-secret')).access_token;
    const refused = await call('users.delete', { headers: { authorization: `Bearer ${olga}` }, params: { id: 'whoever' }, ip: '10.9.9.9' });
    assert.equal(refused.status, 403);
    assert.equal(auditEvents()[0].event, 'users.delete DELETE /api/users/whoever 403');
    assert.equal(auditEvents()[0].level, 'warning');
    assert.equal(auditEvents()[0].source, 'olga@10.9.9.9');

    // A key's write is attributed to the key.
    const k = await create({ name: 'builder', role: 'operator' });
    const folder = await call('folders.create', { headers: { 'x-api-key': k.key }, ip: '10.3.3.3', body: { name: 'Plant K' } });
    assert.ok(folder.status === 201 || folder.status === 200, JSON.stringify(folder.body));
    assert.equal(auditEvents()[0].source, 'key:builder@10.3.3.3');
    assert.match(auditEvents()[0].event, /^folders\.create POST \/api\/folders 20\d$/);
    assert.deepEqual(JSON.parse(auditEvents()[0].value!), { name: 'Plant K' });
    const keyCreation = auditEvents().find((e) => e.event === 'keys.create POST /api/keys 201' && e.value?.includes('builder'));
    assert.ok(keyCreation, 'creating a key is audited');
    assert.ok(!JSON.stringify(auditEvents()).includes(k.key), 'the plaintext key never reaches the event log');

    // Reads: one event for the first, then none for a minute, then one summing up.
    const reads = () => auditEvents().filter((e) => e.event.startsWith('key:builder used:'));
    for (let i = 0; i < 5; i++) await call('meters.list', { headers: { 'x-api-key': k.key }, ip: '10.3.3.3' });
    assert.deepEqual(reads().map((e) => e.event), ['key:builder used: 1 request, last GET /api/meters 200']);
    clock += 60_000;
    await call('polling.status', { headers: { 'x-api-key': k.key }, ip: '10.3.3.3' });
    assert.equal(reads().length, 2);
    assert.match(reads()[0].event, /^key:builder used: 5 requests since .*, last GET \/api\/polling \d{3}$/);
    assert.ok(auditEvents().length - before < 20, 'reads by session users are not logged');
  });

  it('logs unauthenticated writes as security events at most once a minute per address', async () => {
    const security = () => services.events.query({ filter: 'security' }).filter((e) => e.event.startsWith('unauthenticated'));
    const n = security().length;
    for (let i = 0; i < 3; i++) assert.equal((await call('folders.create', { body: { name: 'x' }, ip: '203.0.113.9' })).status, 401);
    assert.equal(security().length, n + 1);
    assert.match(security()[0].event, /^unauthenticated POST \/api\/folders refused: log in first/);
    assert.equal(security()[0].source, 'anonymous@203.0.113.9');
    await call('folders.create', { body: { name: 'x' }, ip: '203.0.113.10' });
    assert.equal(security().length, n + 2);
    clock += 60_000;
    await call('folders.create', { body: { name: 'x' }, ip: '203.0.113.9' });
    assert.equal(security().length, n + 3);
  });

  it('refuses a cookie-authenticated write from a foreign origin (CSRF) but not a Bearer or key write', async () => {
    const cookie = { access_token: admin };
    const foreign = await call('folders.create', { cookies: cookie, headers: { host: 'ems.local:1880', origin: 'http://evil.example' }, body: { name: 'csrf' } });
    assert.equal(foreign.status, 403);
    assert.match(foreign.body.error, /origin "http:\/\/evil\.example"/);
    assert.equal(services.events.query({ filter: 'security' })[0].event, 'folders.create POST /api/folders 403');
    const none = await call('folders.create', { cookies: cookie, headers: { host: 'ems.local:1880' }, body: { name: 'csrf' } });
    assert.equal(none.status, 403);
    const own = await call('folders.create', { cookies: cookie, headers: { host: 'ems.local:1880', origin: 'http://ems.local:1880' }, body: { name: 'same origin' } });
    assert.ok(own.status < 300, JSON.stringify(own.body));
    const allowed = await runOperation(operationByName('folders.create')!, {
      ...base, allowedOrigins: ['https://scada.example'],
      request: { params: {}, query: {}, body: { name: 'allowed' }, headers: { host: 'ems.local', origin: 'https://scada.example' }, cookies: cookie },
    });
    assert.ok(allowed.status < 300);
    const bearer = await call('folders.create', asAdmin({ headers: { host: 'ems.local', origin: 'http://evil.example' }, body: { name: 'bearer' } }));
    assert.ok(bearer.status < 300, 'a Bearer token cannot be sent by a foreign page, so no origin check');
    const read = await call('meters.list', { cookies: cookie, headers: { host: 'ems.local', origin: 'http://evil.example' } });
    assert.equal(read.status, 200, 'reads are not CSRF-checked (CORS keeps their answers from foreign pages)');
  });

  it('acts for a configured identity: an active user by login, a key, a live dashboard session', async () => {
    const who = async (identity: any) => {
      const r = await runOperation(operationByName('auth.session')!, { ...base, request: { params: {}, query: {}, body: undefined, headers: {}, cookies: {} } }, identity);
      return [r.status, r.status === 200 ? (r.body as any).data.user.login : (r.body as any).error];
    };
    assert.deepEqual(await who({ mode: 'user', login: 'olga' }), [200, 'olga']);
    assert.deepEqual(await who({ mode: 'user', login: 'ghost' }), [401, 'the node\'s user "ghost" is unknown or deactivated']);
    const k = await create({ name: 'node-key', role: 'viewer' });
    assert.deepEqual(await who({ mode: 'key', key: k.key }), [200, 'key:node-key']);
    const s = await services.auth.login('olga', 'operator-secret');
    assert.deepEqual(await who({ mode: 'dashboard', sessionId: s.session.id }), [200, 'olga']);
    services.auth.logout(s.access_token);
    assert.equal((await who({ mode: 'dashboard', sessionId: s.session.id }))[0], 401);
    assert.equal((await who({ mode: 'dashboard', sessionId: undefined }))[0], 401);
    // An admin's dashboard reads and polls, but never acts as an admin.
    const boss = await services.auth.login('boss', 'chief-pass-0417');
    const asDashboard = (name: string, body?: unknown) => runOperation(operationByName(name)!, { ...base, request: { params: {}, query: {}, body, headers: {}, cookies: {} } }, { mode: 'dashboard', sessionId: boss.session.id });
    assert.equal((await asDashboard('meters.list')).status, 200);
    const refused = await asDashboard('users.list');
    assert.equal(refused.status, 403);
    assert.match((refused.body as any).error, /needs the admin role; "boss" is an operator/);
    assert.deepEqual(await who({ mode: 'request' }), [401, 'log in first: no access token (access_token cookie or Authorization: Bearer) and no API key (X-API-Key)']);
  });

  it('masks secrets at any depth and bounds the body', () => {
    assert.deepEqual(maskSecrets({ a: 1, Password: 'x', nested: [{ api_key: 'k', refresh_token: 't', ok: true }], credentials: { user: 'u' } }),
      { a: 1, Password: '***', nested: [{ api_key: '***', refresh_token: '***', ok: true }], credentials: '***' });
    const long = auditBody({ text: 'x'.repeat(10_000) })!;
    assert.ok(long.length < 2200, `${long.length}`);
    assert.match(long, /… \(\d+ characters\)$/);
    assert.equal(auditBody(undefined), null);
    assert.equal(auditBody(Buffer.from('abc')), '"<3 bytes>"');
  });
});
