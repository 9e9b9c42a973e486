/**
 * A sweep over every operation of the OpenAPI document, with each kind of credential a client can
 * hold (the access_token cookie, a Bearer session token, an API key): 401 without credentials,
 * 403 for every role below the operation's, and 404 (not 403) for another folder's meters and folders.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { BillStore } from '../../lib/billing/bill-store';
import { OPERATIONS, openApiDocument, runOperation, type ApiContext, type ApiRequest, type Operation } from '../../lib/ems/api';
import { openEmsServices, type EmsServices } from '../../lib/ems/services';
import type { Role } from '../../lib/ems/users';
import { SqliteStore } from '../../lib/store/sqlite';

const ROLES: Role[] = ['viewer', 'operator', 'admin'];
const RANK: Record<Role, number> = { viewer: 1, operator: 2, admin: 3 };
const HOST = 'ems.plant.local';
type Mode = 'cookie' | 'bearer' | 'key';
const MODES: Mode[] = ['cookie', 'bearer', 'key'];

/** The operations a caller must be logged in for (login, refresh, nonce and the docs are public). */
const guarded = OPERATIONS.filter((o) => o.access !== 'public');

describe('every API operation refuses the wrong caller (cookie, Bearer token and API key alike)', () => {
  let services: EmsServices;
  let base: Omit<ApiContext, 'caller' | 'request'>;
  let folderB: string;
  /** credentials[mode][role]: headers and cookies of a caller with that role, scoped to folder A. */
  const credentials = {} as Record<Mode, Record<Role, Pick<ApiRequest, 'headers' | 'cookies'>>>;

  before(async () => {
    services = await openEmsServices({ file: ':memory:', env: { EMS_ADMIN_USER: 'boss', EMS_ADMIN_PASSWORD: 'chief-pass-0417' } });
    const a = services.registry.createFolder({ name: 'Plant A' });
    const b = services.registry.createFolder({ name: 'Plant B' });
    folderB = b._id;
    const meter = (id: string, folder: string) => services.registry.createMeter({ name: `Meter ${id}`, folder_id: folder, protocol: 'modbus-tcp', profile: 'eastron-sdm630', interval_time: 60 }, undefined, id);
    meter('a1', a._id);
    meter('b1', b._id);
    base = { services, store: new SqliteStore({ path: ':memory:' }), bills: new BillStore(':memory:'), timeZone: 'UTC', now: Date.now };
    for (const mode of MODES) credentials[mode] = {} as Record<Role, Pick<ApiRequest, 'headers' | 'cookies'>>;
    for (const role of ROLES) {
      const login = `${role}-a`;
      const password = `Sweep-${role}-pass-2026`;
      await services.users.create({ login, name: `${role} of A`, password, role, open_folders: [a._id] });
      const token = (await services.auth.login(login, password, { ip: '10.1.1.1' })).access_token;
      const { key } = services.apiKeys.create({ name: `sweep-${role}`, role, open_folders: [a._id] }, 'boss');
      // A cookie write comes from the EMS's own pages: same Origin as Host, so only the role decides.
      credentials.cookie[role] = { headers: { host: HOST, origin: `http://${HOST}` }, cookies: { access_token: token } };
      credentials.bearer[role] = { headers: { authorization: `Bearer ${token}` }, cookies: {} };
      credentials.key[role] = { headers: { 'x-api-key': key }, cookies: {} };
    }
  });
  after(() => services.close());

  const call = (op: Operation, who: Pick<ApiRequest, 'headers' | 'cookies'> | null, over: Partial<ApiRequest> = {}) => runOperation(op, {
    ...base,
    request: { params: {}, query: {}, body: {}, headers: {}, cookies: {}, ip: '10.1.1.1', method: op.method, path: op.path, ...who, ...over },
  });
  /** Path parameters naming something that exists, so a refusal is about the caller, not the object. */
  const someParams = (op: Operation): Record<string, string> =>
    Object.fromEntries((op.path.match(/:(\w+)/g) ?? []).map((p) => [p.slice(1), op.path.startsWith('/api/folders') ? folderB : 'b1']));

  it('covers the whole OpenAPI document', () => {
    const documented = Object.entries(openApiDocument(OPERATIONS, '0').paths as Record<string, Record<string, unknown>>)
      .flatMap(([path, methods]) => Object.keys(methods).map((m) => `${m.toUpperCase()} ${path}`));
    assert.equal(documented.length, OPERATIONS.length);
    assert.ok(guarded.length > 50, `${guarded.length} guarded operations`);
  });

  it('answers 401 to every guarded operation without credentials, and with a forged token or key', async () => {
    for (const op of guarded) {
      for (const forged of [null, { headers: { authorization: 'Bearer forged-token' }, cookies: {} }, { headers: {}, cookies: { access_token: 'forged' } }, { headers: { 'x-api-key': `emsk_${'0'.repeat(12)}_${'A'.repeat(43)}` }, cookies: {} }]) {
        const r = await call(op, forged, { params: someParams(op) });
        assert.equal(r.status, 401, `${op.name} with ${JSON.stringify(forged)}: ${JSON.stringify(r.body)}`);
      }
    }
  });

  it('answers 403 naming the role to every role below the operation\'s, for each kind of credential', async () => {
    let checked = 0;
    for (const op of guarded) {
      for (const role of ROLES.filter((r) => RANK[r] < RANK[op.access as Role])) {
        for (const mode of MODES) {
          const r = await call(op, credentials[mode][role], { params: someParams(op) });
          assert.equal(r.status, 403, `${op.name} as ${role} by ${mode}: ${JSON.stringify(r.body)}`);
          assert.match((r.body as { error: string }).error, new RegExp(`needs the ${op.access} role`), op.name);
          checked++;
        }
      }
    }
    assert.ok(checked > 60, `${checked} refusals checked`);
  });

  it('answers 404, not 403, for another folder\'s meter or folder, for each kind of credential', async () => {
    const meterOps = guarded.filter((o) => /^\/api\/(meters|folders)\/:id/.test(o.path));
    const queryOps: [string, Record<string, unknown>][] = [
      ['data.dashboard', { meter: 'b1' }], ['data.graphics', { meter: 'b1' }], ['data.table', { meter: 'b1' }], ['data.vector', { meter: 'b1' }],
      ['reports.tariffs', { meter: 'b1', date1: '2026-11-01', date2: '2026-11-30' }], ['events.list', { meter: 'b1' }],
    ];
    assert.ok(meterOps.length >= 10, meterOps.map((o) => o.name).join());
    for (const mode of MODES) {
      for (const op of meterOps) {
        const who = credentials[mode][op.access as Role];
        const r = await call(op, who, { params: someParams(op), body: { name: 'Renamed by a stranger' } });
        assert.equal(r.status, 404, `${op.name} by ${mode}: ${JSON.stringify(r.body)}`);
        assert.doesNotMatch(JSON.stringify(r.body), /Meter b1|Plant B/, 'the answer names nothing of the other folder');
      }
      for (const [name, query] of queryOps) {
        const op = guarded.find((o) => o.name === name)!;
        const r = await call(op, credentials[mode].viewer, { query });
        assert.equal(r.status, 404, `${name} by ${mode}: ${JSON.stringify(r.body)}`);
      }
    }
    assert.equal(services.registry.meter('b1').definition.name, 'Meter b1', 'nothing of folder B changed');
    assert.equal(services.registry.folder(folderB).name, 'Plant B');
  });
});
