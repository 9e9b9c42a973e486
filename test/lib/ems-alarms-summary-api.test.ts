/** GET /api/alarms/summary: counts for the dashboard badge, scoped by the caller's folders; the path is not taken for an alarm id. */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { BillStore } from '../../lib/billing/bill-store';
import { matchOperation, OPERATIONS, runOperation, type ApiContext, type HttpAnswer } from '../../lib/ems/api';
import { openEmsServices, type EmsServices } from '../../lib/ems/services';
import { SqliteStore } from '../../lib/store/sqlite';

const T0 = Date.parse('2026-12-07T10:00:00Z');
type Answer = HttpAnswer & { body: any };
const POWER = { type: 'threshold', obis: '1-0:1.7.0', direction: 'above', value: 50, unit: 'kW' };

describe('alarm summary API', () => {
  let services: EmsServices;
  let base: Omit<ApiContext, 'caller' | 'request'>;
  const tokens: Record<string, string> = {};
  const get = (path: string, token: string, query: Record<string, unknown> = {}): Promise<Answer> => {
    const found = matchOperation(OPERATIONS, 'GET', path);
    assert.ok(found, `an operation for GET ${path}`);
    return runOperation(found.op, { ...base, request: { params: found.params, query, body: undefined, headers: { authorization: `Bearer ${token}` }, cookies: {}, ip: '10.0.0.7' } }) as Promise<Answer>;
  };

  before(async () => {
    services = await openEmsServices({ file: ':memory:', env: { EMS_ADMIN_USER: 'boss', EMS_ADMIN_PASSWORD: 'chief-pass-0417' }, now: () => T0, alarmTickMs: 0 });
    const plantA = services.registry.createFolder({ name: 'Plant A' })._id;
    const plantB = services.registry.createFolder({ name: 'Plant B' })._id;
    const meter = (id: string, folder: string) => services.registry.createMeter({ name: `Meter ${id}`, folder_id: folder, protocol: 'modbus-tcp', profile: 'eastron-sdm630', interval_time: 60 }, undefined, id);
    meter('a1', plantA);
    meter('b1', plantB);
    base = { services, store: new SqliteStore({ path: ':memory:' }), bills: new BillStore(':memory:'), timeZone: 'UTC', now: () => T0 };
    tokens.admin = (await services.auth.login('boss', 'chief-pass-0417')).access_token;
    await services.users.create({ login: 'view-a', name: 'view-a', password: 'Alarm-pass-viewer-2026-x', role: 'viewer', open_folders: [plantA] });
    tokens.viewer = (await services.auth.login('view-a', 'Alarm-pass-viewer-2026-x')).access_token;
    services.alarms.createRule({ name: 'A peak', subject: { folder: plantA }, condition: POWER, severity: 'critical' }, 'boss');
    services.alarms.createRule({ name: 'B peak', subject: { folder: plantB }, condition: POWER }, 'boss');
    services.alarms.createRule({ name: 'Spool', condition: { type: 'spool_filling', percent: 80 }, severity: 'info' }, 'boss');
    services.alarms.setSpool(() => ({ bytes: 90, maxBytes: 100 }));
    await services.alarms.onReadings([{ meter: 'a1', time: T0, obis: '1-0:1.7.0', value: 60, unit: 'kW' }, { meter: 'b1', time: T0, obis: '1-0:1.7.0', value: 70, unit: 'kW' }]);
    await services.alarms.tick(); // the spool is 90 % full: an alarm about the EMS itself
  });
  after(() => services.close());

  it('answers the counts per severity for everyone, and only the caller\'s meters for a user with open folders', async () => {
    const all = await get('/api/alarms/summary', tokens.admin);
    assert.equal(all.status, 200, JSON.stringify(all.body));
    assert.deepEqual(all.body.data, { active: 3, unacknowledged: 3, by_severity: { info: { active: 1, unacknowledged: 1 }, warning: { active: 1, unacknowledged: 1 }, critical: { active: 1, unacknowledged: 1 } } });
    const scoped = await get('/api/alarms/summary', tokens.viewer);
    assert.deepEqual(scoped.body.data, { active: 1, unacknowledged: 1, by_severity: { info: { active: 0, unacknowledged: 0 }, warning: { active: 0, unacknowledged: 0 }, critical: { active: 1, unacknowledged: 1 } } },
      'Plant A only; the alarm about the EMS itself only with every folder open');
    const [a1] = services.alarms.list({ meter: 'a1' });
    services.alarms.ack(a1.id, null, 'boss');
    assert.deepEqual((await get('/api/alarms/summary', tokens.viewer)).body.data.by_severity.critical, { active: 1, unacknowledged: 0 });
  });

  it('takes no parameters, and an alarm id still reaches GET /api/alarms/:id', async () => {
    const bad = await get('/api/alarms/summary', tokens.admin, { severity: 'critical' });
    assert.equal(bad.status, 400);
    assert.match(bad.body.error, /severity/);
    const [a1] = services.alarms.list({ meter: 'a1' });
    const one = await get(`/api/alarms/${a1.id}`, tokens.viewer);
    assert.deepEqual([one.status, one.body.data.id, one.body.data.rule_name], [200, a1.id, 'A peak']);
  });
});
