import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { BillStore } from '../../lib/billing/bill-store';
import { operationByName, runOperation, type HttpAnswer, type UploadedFile } from '../../lib/ems/api';
import { generateLicenseKeys, signLicense, type LicenseTerms } from '../../lib/ems/license';
import { openEmsServices, type EmsServices } from '../../lib/ems/services';
import { openStore, type ReadingStore } from '../../lib/store';

const NOW = Date.UTC(2026, 10, 21, 9); // 2026-11-21 09:00 UTC
/** The test's own license key pair (no private key ships). */
const LICENSE_KEYS = generateLicenseKeys();
const sdm = { protocol: 'modbus-tcp', profile: 'eastron-sdm630', ip_address: '127.0.0.1', port: '5020', connection_address: '1' };

interface Call { token?: string; headers?: Record<string, string>; params?: Record<string, string>; query?: Record<string, unknown>; body?: unknown; files?: UploadedFile[] }

/** One EMS (":memory:" services and reading store) with an admin, and a way to call operations as someone. */
async function openEms() {
  const services = await openEmsServices({ file: ':memory:', env: { EMS_ADMIN_USER: 'admin', EMS_ADMIN_PASSWORD: 'head-pass-0417' }, licensePublicKey: LICENSE_KEYS.publicKey, now: () => NOW });
  const store = openStore({ backend: 'sqlite', path: ':memory:' });
  const call = async (name: string, c: Call = {}): Promise<HttpAnswer & { body: any }> => {
    const op = operationByName(name);
    assert.ok(op, `operation ${name}`);
    return runOperation(op, {
      services, store, bills: {} as BillStore, timeZone: 'UTC', now: () => NOW,
      request: { params: c.params ?? {}, query: c.query ?? {}, body: c.body, headers: { ...c.headers, ...(c.token ? { authorization: `Bearer ${c.token}` } : {}) }, cookies: {}, files: c.files },
    }) as Promise<HttpAnswer & { body: any }>;
  };
  const token = async (login: string, password: string) => (await services.auth.login(login, password)).access_token;
  const admin = await token('admin', 'head-pass-0417');
  /** Creates a user through the API and logs them in. */
  const user = async (login: string, role: string, extra: Record<string, unknown> = {}) => {
    const r = await call('users.create', { token: admin, body: { login, name: login, password: `pw-of-${login.length}-${role}-0417`, role, ...extra } });
    assert.equal(r.status, 201, JSON.stringify(r.body));
    return { id: r.body.data.id as string, token: await token(login, `pw-of-${login.length}-${role}-0417`) };
  };
  return { services, store, call, admin, user, close: async () => { services.close(); await store.close(); } };
}
type Ems = Awaited<ReturnType<typeof openEms>>;

function expectError(r: HttpAnswer & { body: any }, status: number, error: RegExp): void {
  assert.equal(r.status, status, JSON.stringify(r.body));
  assert.equal(r.body.status, status);
  assert.equal(r.body.data, null);
  assert.match(r.body.error, error);
}

describe('API: users (admin only)', () => {
  let ems: Ems;
  before(async () => { ems = await openEms(); });
  after(() => ems.close());

  it('creates, lists, reads, updates and deletes users, never showing a password or hash', async () => {
    const { call, admin, services } = ems;
    const site = services.registry.createFolder({ name: 'Site' });
    const created = await call('users.create', { token: admin, body: { login: 'olga', name: 'Olga', password: 'ops-pass-0418', role: 'operator', 'open folders': [site._id], open_page: ['/dashboard'], last_active: '2020-01-01' } });
    assert.equal(created.status, 201);
    const olga = created.body.data;
    assert.equal(olga.login, 'olga');
    assert.equal(olga.role, 'operator');
    assert.equal(olga.active, true);
    assert.deepEqual(olga.open_folders, [site._id], 'the dictionary\'s "open folders" spelling is accepted');
    assert.equal(olga.open_page, '/dashboard');
    assert.equal(olga.last_active, null, 'last_active is read-only');

    const list = await call('users.list', { token: admin });
    assert.equal(list.status, 200);
    assert.deepEqual(list.body.data.map((u: any) => u.login), ['admin', 'olga']);
    const text = JSON.stringify(list.body);
    assert.ok(!text.includes('ops-pass-0418') && !/password/.test(text), text);

    const got = await call('users.get', { token: admin, params: { id: olga.id } });
    assert.equal(got.body.data.name, 'Olga');
    const roundTrip = await call('users.update', { token: admin, params: { id: olga.id }, body: { ...got.body.data, open_factory: 'Plant 2' } });
    assert.equal(roundTrip.status, 200, 'a user read with GET can be sent back with changes');
    assert.equal(roundTrip.body.data.open_factory, 'Plant 2');
    expectError(await call('users.update', { token: admin, params: { id: olga.id }, body: { id: 'other' } }), 400, /^id "other" cannot be set/);

    const updated = await call('users.update', { token: admin, params: { id: olga.id }, body: { name: 'Olga K.', open_folders: '', active: false } });
    assert.equal(updated.status, 200);
    assert.equal(updated.body.data.name, 'Olga K.');
    assert.equal(updated.body.data.active, false);
    assert.deepEqual(updated.body.data.open_folders, []);
    await assert.rejects(services.auth.login('olga', 'ops-pass-0418'), (e: any) => e.status === 401 && /^wrong login or password$/.test(e.message), 'a deactivated account answers like a wrong password');

    const deleted = await call('users.delete', { token: admin, params: { id: olga.id } });
    assert.deepEqual(deleted.body, { data: 'deleted user "olga"', error: null, status: 200 });
    expectError(await call('users.get', { token: admin, params: { id: olga.id } }), 404, new RegExp(`unknown user "${olga.id}"`));
    const events = services.events.query({ filter: 'user' }).filter((e) => e.kind === 'config').map((e) => `${e.event} ${e.value} by ${e.source}`);
    assert.deepEqual(events, ['user deleted olga by admin', 'user updated olga by admin', 'user updated olga by admin', 'user created olga by admin']);
  });

  it('refuses bad input with 400/404/409 naming the field, changing nothing', async () => {
    const { call, admin, services } = ems;
    const count = services.users.count();
    expectError(await call('users.create', { token: admin, body: { login: 'x', name: 'X', role: 'viewer' } }), 400, /^password is required$/);
    expectError(await call('users.create', { token: admin, body: { login: 'x', name: 'X', password: 'long-enough', role: 'boss' } }), 400, /^role "boss" must be one of admin, operator, viewer$/);
    expectError(await call('users.create', { token: admin, body: { login: 'x', name: 'X', password: 'long-enough', role: 'viewer', active: 'yes' } }), 400, /^active "yes" must be true or false$/);
    expectError(await call('users.create', { token: admin, body: { login: 'x', name: 'X', password: 'long-enough', role: 'viewer', open_folders: ['no-such-folder'] } }), 400, /^open_folders: folder "no-such-folder" does not exist$/);
    expectError(await call('users.create', { token: admin, body: { login: 'admin', name: 'Again', password: 'long-enough', role: 'viewer' } }), 409, /login "admin" is taken/);
    expectError(await call('users.create', { token: admin, body: ['not', 'an', 'object'] }), 400, /body must be a JSON object/);
    assert.equal(services.users.count(), count);

    expectError(await call('users.update', { token: admin, params: { id: 'nobody' }, body: { name: 'N' } }), 404, /unknown user "nobody"/);
    const adminId = services.users.list().find((u) => u.login === 'admin')!.id;
    expectError(await call('users.update', { token: admin, params: { id: adminId }, body: { role: 'viewer' } }), 409, /last active admin/);
    expectError(await call('users.delete', { token: admin, params: { id: adminId } }), 409, /last active admin/);
    assert.equal(services.users.get(adminId).role, 'admin');
  });

  it('answers 403 to operators and viewers and 401 without a token', async () => {
    const { call, user, services } = ems;
    const op = await user('otto', 'operator');
    const viewer = await user('vic', 'viewer');
    const count = services.users.count();
    for (const token of [op.token, viewer.token]) {
      expectError(await call('users.list', { token }), 403, /needs the admin role/);
      expectError(await call('users.create', { token, body: { login: 'sneaky', name: 'S', password: 'long-enough', role: 'admin' } }), 403, /needs the admin role/);
      expectError(await call('users.delete', { token, params: { id: op.id } }), 403, /needs the admin role/);
    }
    expectError(await call('users.list'), 401, /./);
    assert.equal(services.users.count(), count);
  });
});

describe('API: poll server (folders and meters)', () => {
  let ems: Ems;
  let op: string;
  before(async () => {
    ems = await openEms();
    op = (await ems.user('olga', 'operator')).token;
  });
  after(() => ems.close());

  it('builds a folder tree with meters as leaves and lists meters with their newest readings', async () => {
    const { call, store } = ems;
    const plant = await call('folders.create', { token: op, body: { name: 'Plant', folder_type: 'site' } });
    assert.equal(plant.status, 201);
    assert.equal(plant.body.data.parent_id, null);
    const hall = (await call('folders.create', { token: op, body: { name: 'Hall A', parent_id: plant.body.data._id } })).body.data;
    assert.equal(hall.folder_type, 'folder');
    await call('folders.create', { token: op, body: { name: 'Office', parent_id: plant.body.data._id, folder_type: 'floor' } });

    const created = await call('meters.create', { token: op, body: { _id: 'main-incomer', folder_id: hall._id, name: 'Main incomer', ...sdm, password: 'pw-1234', days_of_week: '5,1' } });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    const m = created.body.data;
    assert.equal(m._id, 'main-incomer');
    assert.equal(m.folder_id, hall._id);
    assert.equal(m.definition.port, 5020, 'the dictionary\'s string "5020" is a number');
    assert.deepEqual(m.definition.days_of_week, [1, 5]);
    assert.equal(m.definition.password_set, true);
    assert.ok(!JSON.stringify(created.body).includes('pw-1234'));
    assert.equal(m.last_seen, null);
    assert.deepEqual(m.values, []);
    const auto = await call('meters.create', { token: op, body: { folder_id: hall._id, name: 'Heat pump', protocol: 'mbus', connection_address: '7', ip_address: '/dev/ttyUSB0', port: 0 } });
    assert.equal(auto.body.data._id, 'heat-pump', 'an id made from the name');

    await store.write([
      { meter: 'main-incomer', time: NOW - 60_000, obis: '1-0:1.8.0', value: 1200.5, unit: 'kWh' },
      { meter: 'main-incomer', time: NOW - 10_000, obis: '1-0:1.8.0', value: 1201, unit: 'kWh' },
      { meter: 'main-incomer', time: NOW - 20_000, obis: '1-0:32.7.0', value: 231.2, unit: 'V' },
    ]);
    const list = await call('meters.list', { token: op });
    assert.deepEqual(list.body.data.map((x: any) => [x._id, x.last_seen, x.values.map((v: any) => `${v.obis}=${v.value} ${v.unit}`)]), [
      ['heat-pump', null, []],
      ['main-incomer', NOW - 10_000, ['1-0:1.8.0=1201 kWh', '1-0:32.7.0=231.2 V']],
    ]);

    const tree = await call('folders.tree', { token: op });
    const names = (nodes: any[]): unknown[] => nodes.map((n) => (n.child_folders.length ? [n.name, names(n.child_folders)] : n.name));
    assert.deepEqual(names(tree.body.data), [['Plant', [['Hall A', ['Heat pump', 'Main incomer']], 'Office']]]);
    const one = await call('folders.get', { token: op, params: { id: hall._id } });
    assert.equal(one.body.data.name, 'Hall A');
    const leaf = one.body.data.child_folders.find((n: any) => n.meter === 'main-incomer');
    assert.equal(leaf.folder_type, 'meter');
    assert.equal(leaf.meter_detail.profile, 'eastron-sdm630');

    const up = await call('meters.update', { token: op, params: { id: 'main-incomer' }, body: { interval_time: '30', name: 'Incomer' } });
    assert.equal(up.body.data.definition.interval_time, 30);
    assert.equal(up.body.data.definition.profile, 'eastron-sdm630', 'fields not sent are kept');
    assert.equal(up.body.data.values.length, 2);
    const renamed = await call('folders.update', { token: op, params: { id: hall._id }, body: { name: 'Hall B' } });
    assert.equal(renamed.body.data.name, 'Hall B');

    expectError(await call('folders.delete', { token: op, params: { id: hall._id } }), 409, /still holds 0 folder\(s\) and 2 meter\(s\)/);
    const del = await call('meters.delete', { token: op, params: { id: 'heat-pump' } });
    assert.equal(del.body.data, 'deleted meter "Heat pump" (heat-pump)');
    expectError(await call('meters.get', { token: op, params: { id: 'heat-pump' } }), 404, /^unknown meter "heat-pump"$/);
    assert.deepEqual((await call('meters.list', { token: op })).body.data.map((x: any) => x._id), ['main-incomer']);
  });

  it('refuses bad input with 400/404 naming the field, changing nothing', async () => {
    const { call, services } = ems;
    const f = services.registry.createFolder({ name: 'Bad input' });
    const meters = services.registry.meterCount();
    // Without folder_id a meter goes to the caller's first open folder (test/lib/ems-api-dictionary.test.ts); an empty one is refused.
    expectError(await call('meters.create', { token: op, body: { name: 'No folder', folder_id: '', ...sdm } }), 400, /^folder_id "" must be the id of the folder/);
    expectError(await call('meters.create', { token: op, body: { folder_id: f._id, ...sdm } }), 400, /^name is required$/);
    expectError(await call('meters.create', { token: op, body: { folder_id: f._id, name: 'X', ...sdm, port: 'http' } }), 400, /^port "http" must be a whole number from 0 to 65535$/);
    expectError(await call('meters.create', { token: op, body: { folder_id: f._id, name: 'X', ...sdm, intervall: 5 } }), 400, /unknown field "intervall"/);
    expectError(await call('meters.create', { token: op, body: { folder_id: 'nowhere', name: 'X', ...sdm } }), 404, /unknown folder "nowhere"/);
    expectError(await call('meters.create', { token: op, body: { _id: 42, folder_id: f._id, name: 'X', ...sdm } }), 400, /^_id 42 must be a string$/);
    assert.equal(services.registry.meterCount(), meters);
    const m = services.registry.createMeter({ folder_id: f._id, name: 'Kept', ...sdm });
    expectError(await call('meters.update', { token: op, params: { id: m._id }, body: { waiting_time: 5 } }), 400, /^waiting_time 5 must be a whole number from 50/);
    assert.equal(services.registry.meter(m._id).definition.waiting_time, 1000);
    expectError(await call('meters.update', { token: op, params: { id: 'ghost' }, body: {} }), 404, /unknown meter "ghost"/);
    expectError(await call('folders.create', { token: op, body: { name: '', parent_id: f._id } }), 400, /^name "" must be a non-empty string/);
    expectError(await call('folders.create', { token: op, body: { name: 'T', folder_type: 'cave' } }), 400, /^folder_type "cave" must be one of folder, site/);
    expectError(await call('folders.get', { token: op, params: { id: 'ghost' } }), 404, /unknown folder "ghost"/);
    expectError(await call('folders.tree', { token: op, query: { lists: 'all' } }), 400, /unknown parameter "lists"/);
  });

  it('lets viewers read but not write', async () => {
    const { call, user, services } = ems;
    const viewer = (await user('vera', 'viewer')).token;
    const f = services.registry.createFolder({ name: 'Read only' });
    assert.equal((await call('folders.tree', { token: viewer })).status, 200);
    assert.equal((await call('meters.list', { token: viewer })).status, 200);
    expectError(await call('folders.create', { token: viewer, body: { name: 'Nope' } }), 403, /needs the operator role; "vera" is a viewer/);
    expectError(await call('folders.delete', { token: viewer, params: { id: f._id } }), 403, /operator/);
    expectError(await call('meters.create', { token: viewer, body: { folder_id: f._id, name: 'Nope', ...sdm } }), 403, /operator/);
    assert.equal(services.registry.folder(f._id).name, 'Read only');
  });
});

describe('API: folder scoping', () => {
  it('shows a user with open_folders only their subtree, its meters and its events', async () => {
    const ems = await openEms();
    const { call, user, services } = ems;
    const plant = services.registry.createFolder({ name: 'Plant' });
    const a = services.registry.createFolder({ name: 'A', parent_id: plant._id });
    const a1 = services.registry.createFolder({ name: 'A1', parent_id: a._id });
    const b = services.registry.createFolder({ name: 'B', parent_id: plant._id });
    services.registry.createMeter({ folder_id: a1._id, name: 'in A1', ...sdm }, undefined, 'm-a1');
    services.registry.createMeter({ folder_id: b._id, name: 'in B', ...sdm }, undefined, 'm-b');
    services.events.add({ kind: 'poll-failed', level: 'error', event: 'no answer', meter_id: 'm-a1', meter_name: 'in A1', time: NOW - 3000 });
    services.events.add({ kind: 'poll-failed', level: 'error', event: 'no answer', meter_id: 'm-b', meter_name: 'in B', time: NOW - 2000 });
    services.events.add({ kind: 'system', event: 'EMS restarted', time: NOW - 1000 });

    const vera = (await user('vera', 'viewer', { open_folders: [a._id] })).token;
    const names = (nodes: any[]): unknown[] => nodes.map((n) => (n.child_folders.length ? [n.name, names(n.child_folders)] : n.name));
    assert.deepEqual(names((await call('folders.tree', { token: vera })).body.data), [['Plant', [['A', [['A1', ['in A1']]]]]]]);
    assert.deepEqual((await call('meters.list', { token: vera })).body.data.map((m: any) => m._id), ['m-a1']);
    assert.equal((await call('meters.get', { token: vera, params: { id: 'm-a1' } })).status, 200);
    expectError(await call('meters.get', { token: vera, params: { id: 'm-b' } }), 404, /^unknown meter "m-b"$/);
    expectError(await call('folders.get', { token: vera, params: { id: b._id } }), 404, /unknown folder/);
    expectError(await call('folders.get', { token: vera, params: { id: plant._id } }), 404, /unknown folder/);
    assert.equal((await call('folders.get', { token: vera, params: { id: a._id } })).body.data.name, 'A');

    const events = (await call('events.list', { token: vera })).body.data;
    assert.ok(events.every((e: any) => e.meter_id === 'm-a1' || (e.kind === 'login' && e.value === 'vera')), JSON.stringify(events));
    assert.deepEqual(events.filter((e: any) => e.kind === 'poll-failed').map((e: any) => `${e.meter_id} ${e.event}`), ['m-a1 no answer']);
    assert.ok(!events.some((e: any) => e.event === 'EMS restarted'), 'system events are for administrators only');
    assert.deepEqual((await call('events.list', { token: vera, query: { filter: 'no answer' } })).body.data.map((e: any) => e.meter_id), ['m-a1']);
    expectError(await call('events.list', { token: vera, query: { meter: 'm-b' } }), 404, /unknown meter "m-b"/);
    const adminSees = (await call('events.list', { token: ems.admin, query: { meter: 'm-b' } })).body.data;
    assert.deepEqual(adminSees.map((e: any) => e.event), ['meter created', 'no answer']);

    const olga = (await user('olga', 'operator', { open_folders: [a._id] })).token;
    expectError(await call('meters.create', { token: olga, body: { folder_id: b._id, name: 'Sneaky', ...sdm } }), 404, /unknown folder/);
    expectError(await call('meters.delete', { token: olga, params: { id: 'm-b' } }), 404, /unknown meter "m-b"/);
    expectError(await call('folders.create', { token: olga, body: { name: 'Top' } }), 403, /top-level/);
    assert.equal(services.registry.meterCount(), 2);
    await ems.close();
  });
});

describe('API: events', () => {
  it('filters by dates, text, kind and meter, with a limit, and refuses bad parameters', async () => {
    const ems = await openEms();
    const { call, admin, services } = ems;
    const H = 3_600_000;
    services.events.add({ kind: 'poll-failed', level: 'error', event: 'timeout after 1000 ms', meter_id: 'sdm', meter_name: 'Main incomer', value: 3, time: NOW - 3 * H });
    services.events.add({ kind: 'alarm', level: 'warning', event: 'voltage high', meter_id: 'a44', meter_name: 'HVAC', value: 253.1, time: NOW - 2 * H });
    services.events.add({ kind: 'poll-recovered', event: 'answering again', meter_id: 'sdm', meter_name: 'Main incomer', time: NOW - H });
    const list = async (query: Record<string, unknown>) => {
      const r = await call('events.list', { token: admin, query });
      assert.equal(r.status, 200, JSON.stringify(r.body));
      return r.body.data.filter((e: any) => e.kind !== 'system').map((e: any) => `${e.meter_id}:${e.event}`);
    };
    const all = (await call('events.list', { token: admin })).body.data;
    const first = all.find((e: any) => e.meter_id === 'a44');
    assert.deepEqual(first, { id: first.id, meter_id: 'a44', date: '2026-11-21T07:00:00.000Z', meter_name: 'HVAC', event: 'voltage high', value: '253.1', kind: 'alarm', level: 'warning', source: null });
    assert.deepEqual(await list({ date1: '2026-11-21T06:30:00Z', date2: String(NOW - H - 1) }), ['a44:voltage high']);
    assert.deepEqual(await list({ date1: '2026-11-21T06:00:00Z', date2: '2026-11-21T08:00:00Z' }), ['sdm:answering again', 'a44:voltage high', 'sdm:timeout after 1000 ms']);
    assert.deepEqual(await list({ filter: 'incomer' }), ['sdm:answering again', 'sdm:timeout after 1000 ms']);
    assert.deepEqual(await list({ filter: 'alarm' }), ['a44:voltage high']);
    assert.deepEqual(await list({ meter: 'sdm', limit: '1' }), ['sdm:answering again']);

    expectError(await call('events.list', { token: admin, query: { date1: '2026-11-22', date2: '2026-11-21' } }), 400, /^date1 \(2026-11-22T00:00:00.000Z\) is after date2 \(2026-11-21T00:00:00.000Z\)$/);
    expectError(await call('events.list', { token: admin, query: { limit: '50000' } }), 400, /^limit "50000" must be a whole number from 1 to 10000$/);
    expectError(await call('events.list', { token: admin, query: { date2: 'tomorrow' } }), 400, /^date2 "tomorrow" must be an ISO date/);
    expectError(await call('events.list', { token: admin, query: { since: '1' } }), 400, /unknown parameter "since"/);
    expectError(await call('events.list', {}), 401, /./);
    await ems.close();
  });
});

describe('API: license', () => {
  const terms = (t: Partial<LicenseTerms> = {}): LicenseTerms => ({
    id: 'L-1', customer: 'ACME', activation_date: '2026-01-01', expiration_date: '2027-12-31', meter_limit: 6, issued_at: '2026-01-01T00:00:00Z', ...t,
  });
  const file = (t: Partial<LicenseTerms> = {}) => JSON.stringify(signLicense(terms(t), LICENSE_KEYS.privateKey));

  it('shows the demo limit, refuses bad files, installs a signed one and enforces its meter_limit', async () => {
    const ems = await openEms();
    const { call, admin, user, services } = ems;
    const viewer = (await user('vera', 'viewer')).token;
    const op = (await user('olga', 'operator')).token;
    const none = await call('license.get', { token: viewer });
    assert.deepEqual(none.body.data, {
      state: 'none', message: 'no license: the EMS runs as a demo limited to 5 meters', id: null, customer: null,
      activation_date: null, deactivation_date: null, expiration_date: null, meter_limit: 5, meters_used: 0,
    });
    const f = services.registry.createFolder({ name: 'F' });
    for (let i = 1; i <= 5; i++) assert.equal((await call('meters.create', { token: op, body: { folder_id: f._id, name: `m${i}`, ...sdm } })).status, 201);
    expectError(await call('meters.create', { token: op, body: { folder_id: f._id, name: 'm6', ...sdm } }), 403, /^cannot create meter number 6: the demo meter_limit is 5$/);
    assert.equal(services.registry.meterCount(), 5);

    const tampered = JSON.parse(file());
    tampered.license.meter_limit = 600;
    expectError(await call('license.upload', { token: admin, body: { license: JSON.stringify(tampered) } }), 400, /signature does not match/);
    expectError(await call('license.upload', { token: admin, body: { license: 'hello' } }), 400, /^license: not JSON/);
    expectError(await call('license.upload', { token: admin, body: {} }), 400, /^license is missing/);
    expectError(await call('license.upload', { token: admin, body: { license: file({ expiration_date: '2026-06-30' }) } }), 400, /expired on 2026-06-30; the current license is kept/);
    expectError(await call('license.upload', { token: op, body: { license: file() } }), 403, /needs the admin role/);
    assert.equal(services.license.status().state, 'none', 'refused uploads change nothing');

    const up = await call('license.upload', { token: admin, body: { license: file() } });
    assert.equal(up.status, 200, JSON.stringify(up.body));
    assert.deepEqual(up.body.data, {
      state: 'valid', message: 'license L-1 for ACME: 6 meters until 2027-12-31', id: 'L-1', customer: 'ACME',
      activation_date: '2026-01-01', deactivation_date: null, expiration_date: '2027-12-31', meter_limit: 6, meters_used: 5,
    });
    const logged = services.events.query({ filter: 'license' });
    assert.deepEqual(logged.map((e) => [e.event, e.value, e.source]), [['license L-1 installed: valid, 6 meters until 2027-12-31', 'ACME', 'admin']]);
    assert.equal((await call('meters.create', { token: op, body: { folder_id: f._id, name: 'm6', ...sdm } })).status, 201);
    expectError(await call('meters.create', { token: op, body: { folder_id: f._id, name: 'm7', ...sdm } }), 403, /^cannot create meter number 7: the license's meter_limit is 6$/);
    assert.equal((await call('license.get', { token: viewer })).body.data.meters_used, 6);

    // A multipart file upload and a text/plain body work too.
    const multipart = await call('license.upload', { token: admin, body: {}, files: [{ fieldname: 'license', originalname: 'l.json', buffer: Buffer.from(file({ id: 'L-2', meter_limit: 10 })) }] });
    assert.equal(multipart.body.data.id, 'L-2');
    assert.equal(multipart.body.data.meter_limit, 10);
    // A PUT multipart body reaches the operation raw (Node-RED's http in parses uploads for POST only).
    const boundary = '----ems7MA4YWxkTrZu0gW';
    const raw = `--${boundary}\r\nContent-Disposition: form-data; name="note"\r\n\r\nrenewal\r\n`
      + `--${boundary}\r\nContent-Disposition: form-data; name="license"; filename="Lizenz für Müller.json"\r\nContent-Type: application/json\r\n\r\n${file({ id: 'L-ü', meter_limit: 12 })}\r\n--${boundary}--\r\n`;
    const rawUp = await call('license.upload', { token: admin, headers: { 'content-type': `multipart/form-data; boundary=${boundary}` }, body: Buffer.from(raw, 'utf8') });
    assert.equal(rawUp.status, 200, JSON.stringify(rawUp.body));
    assert.deepEqual([rawUp.body.data.id, rawUp.body.data.meter_limit], ['L-ü', 12]);
    expectError(await call('license.upload', { token: admin, headers: { 'content-type': `multipart/form-data; boundary=${boundary}` }, body: Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="note"\r\n\r\nx\r\n--${boundary}--\r\n`) }), 400, /no "license" field or file/);
    const text = await call('license.upload', { token: admin, body: file({ id: 'L-3', meter_limit: 3 }) });
    assert.equal(text.body.data.id, 'L-3');
    assert.equal(services.events.query({ filter: 'license' })[0].level, 'warning', 'a license below the meters in use is installed with a warning');
    expectError(await call('meters.create', { token: op, body: { folder_id: f._id, name: 'm7', ...sdm } }), 403, /meter_limit is 3/);
    await ems.close();
  });
});
