/** The alarm API: rules (operators and admins write within their folders, scoped reads), alarms scoped by open_folders, acknowledge by operator, refused to viewers, bounded lists. */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { BillStore } from '../../lib/billing/bill-store';
import { operationByName, runOperation, type ApiContext, type HttpAnswer } from '../../lib/ems/api';
import { openEmsServices, type EmsServices } from '../../lib/ems/services';
import { SqliteStore } from '../../lib/store/sqlite';

const T0 = Date.parse('2026-12-07T10:00:00Z');
type Answer = HttpAnswer & { body: any };
interface Call { token: string; params?: Record<string, string>; query?: Record<string, unknown>; body?: unknown }
const POWER = { type: 'threshold', obis: '1-0:1.7.0', direction: 'above', value: 50, unit: 'kW' };

describe('alarm API', () => {
  let services: EmsServices;
  let base: Omit<ApiContext, 'caller' | 'request'>;
  const clock = T0;
  const tokens: Record<string, string> = {};
  let plantA: string;
  let plantB: string;
  const call = (name: string, c: Call): Promise<Answer> => runOperation(operationByName(name)!, {
    ...base, request: { params: c.params ?? {}, query: c.query ?? {}, body: c.body, headers: { authorization: `Bearer ${c.token}` }, cookies: {}, ip: '10.0.0.7' },
  }) as Promise<Answer>;

  before(async () => {
    services = await openEmsServices({ file: ':memory:', env: { EMS_ADMIN_USER: 'boss', EMS_ADMIN_PASSWORD: 'chief-pass-0417' }, now: () => clock, alarmTickMs: 0 });
    plantA = services.registry.createFolder({ name: 'Plant A' })._id;
    plantB = services.registry.createFolder({ name: 'Plant B' })._id;
    const hall = services.registry.createFolder({ name: 'Hall 1', parent_id: plantA })._id;
    const meter = (id: string, folder: string) => services.registry.createMeter({ name: `Meter ${id}`, folder_id: folder, protocol: 'modbus-tcp', profile: 'eastron-sdm630', interval_time: 60 }, undefined, id);
    meter('a1', hall);
    meter('b1', plantB);
    base = { services, store: new SqliteStore({ path: ':memory:' }), bills: new BillStore(':memory:'), timeZone: 'UTC', now: () => clock };
    tokens.admin = (await services.auth.login('boss', 'chief-pass-0417')).access_token;
    for (const [login, role, folders] of [['op-a', 'operator', [plantA]], ['view-a', 'viewer', [plantA]], ['admin-a', 'admin', [plantA]]] as const) {
      await services.users.create({ login, name: login, password: `Alarm-pass-${role}-2026-x`, role, open_folders: [...folders] });
      tokens[login] = (await services.auth.login(login, `Alarm-pass-${role}-2026-x`)).access_token;
    }
  });
  after(() => services.close());

  it('rules: admins create (201), a bad field is 400 naming it, viewers read only, everyone scoped by folder', async () => {
    const created = await call('alarmrules.create', { token: tokens.admin, body: { name: 'A peak', subject: { folder: plantA }, condition: POWER, severity: 'critical' } });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    assert.deepEqual([created.body.data.subject, created.body.data.hold_off_s, created.body.data.created_by], [{ folder: plantA, scope: 'subtree' }, 300, 'boss']);
    const b = await call('alarmrules.create', { token: tokens.admin, body: { name: 'B peak', subject: { meter: 'b1' }, condition: POWER } });
    assert.equal(b.status, 201);
    const lic = await call('alarmrules.create', { token: tokens.admin, body: { name: 'License', condition: { type: 'license_expiring', days: 30 } } });
    assert.equal(lic.status, 201);
    const bad = await call('alarmrules.create', { token: tokens.admin, body: { name: 'x', subject: { meter: 'a1' }, condition: { ...POWER, value: 'lots' } } });
    assert.deepEqual([bad.status, bad.body.error], [400, 'condition.value "lots" must be a number from -1000000000000000 to 1000000000000000']);
    for (const who of ['op-a', 'view-a']) {
      // A viewer may not write at all; the operator not outside Plant A (test/lib/ems-alarm-rules-access.test.ts).
      const write = await call('alarmrules.create', { token: tokens[who], body: { name: 'x', subject: { meter: who === 'view-a' ? 'a1' : 'b1' }, condition: POWER } });
      assert.equal(write.status, 403);
      const list = await call('alarmrules.list', { token: tokens[who] });
      assert.deepEqual(list.body.data.map((r: any) => r.name), ['A peak'], `${who} sees only Plant A's rules`);
      assert.equal((await call('alarmrules.get', { token: tokens[who], params: { id: b.body.data.id } })).status, 404);
    }
    assert.deepEqual((await call('alarmrules.list', { token: tokens.admin })).body.data.map((r: any) => r.name), ['A peak', 'B peak', 'License']);
    // A scoped admin manages only rules on their folders.
    const foreign = await call('alarmrules.create', { token: tokens['admin-a'], body: { name: 'x', subject: { meter: 'b1' }, condition: POWER } });
    assert.deepEqual([foreign.status, foreign.body.error], [403, 'subject.meter "b1" lies outside your folders: only rules whose subject lies in your open folders can be managed']);
    assert.equal((await call('alarmrules.delete', { token: tokens['admin-a'], params: { id: b.body.data.id } })).status, 403);
    const upd = await call('alarmrules.update', { token: tokens['admin-a'], params: { id: created.body.data.id }, body: { clear_after_s: 30 } });
    assert.deepEqual([upd.status, upd.body.data.clear_after_s, upd.body.data.name], [200, 30, 'A peak']);
    const del = await call('alarmrules.delete', { token: tokens.admin, params: { id: lic.body.data.id } });
    assert.deepEqual(del.body.data, { deleted: lic.body.data.id });
  });

  it('alarms: scoped by open_folders and folder=, acknowledged by an operator with a note, refused to a viewer (403), bounded list', async () => {
    await services.alarms.onReadings([
      { meter: 'a1', time: T0, obis: '1-0:1.7.0', value: 75, unit: 'kW' },
      { meter: 'b1', time: T0, obis: '1-0:1.7.0', value: 80_000, unit: 'W' },
    ]);
    const all = (await call('alarms.list', { token: tokens.admin, query: { state: 'raised' } })).body.data;
    assert.deepEqual(all.map((a: any) => [a.meter_id, a.value, a.severity]).sort(), [['a1', 75, 'critical'], ['b1', 80, 'warning']]);
    const aId = all.find((a: any) => a.meter_id === 'a1').id;
    const bId = all.find((a: any) => a.meter_id === 'b1').id;
    const mine = await call('alarms.list', { token: tokens['view-a'] });
    assert.deepEqual(mine.body.data.map((a: any) => a.meter_id), ['a1']);
    assert.equal((await call('alarms.get', { token: tokens['view-a'], params: { id: String(bId) } })).status, 404);
    assert.equal((await call('alarms.list', { token: tokens['view-a'], query: { folder: plantB } })).status, 404);
    assert.equal((await call('alarms.list', { token: tokens['view-a'], query: { meter: 'b1' } })).status, 404);
    assert.deepEqual((await call('alarms.list', { token: tokens.admin, query: { folder: plantA } })).body.data.map((a: any) => a.meter_id), ['a1'], 'folder= takes the subtree');
    assert.deepEqual((await call('alarms.list', { token: tokens.admin, query: { severity: 'warning' } })).body.data.map((a: any) => a.meter_id), ['b1']);

    const viewer = await call('alarms.ack', { token: tokens['view-a'], params: { id: String(aId) }, body: { note: 'seen' } });
    assert.deepEqual([viewer.status, viewer.body.error], [403, 'this needs the operator role; "view-a" is a viewer']);
    assert.equal((await call('alarms.ack', { token: tokens['op-a'], params: { id: String(bId) }, body: {} })).status, 404, 'another folder\'s alarm');
    const acked = await call('alarms.ack', { token: tokens['op-a'], params: { id: String(aId) }, body: { note: 'compressor test run' } });
    assert.equal(acked.status, 200, JSON.stringify(acked.body));
    assert.deepEqual([acked.body.data.state, acked.body.data.acked_by, acked.body.data.ack_note, acked.body.data.acked_at], ['acknowledged', 'op-a', 'compressor test run', T0]);
    const again = await call('alarms.ack', { token: tokens['op-a'], params: { id: String(aId) }, body: { note: 'x' } });
    assert.deepEqual([again.status, again.body.error], [409, `alarm ${aId} is acknowledged (by op-a); only a raised alarm can be acknowledged`]);
    const ev = services.events.query({ filter: 'alarm', limit: 10 })[0];
    assert.match(ev.event, new RegExp(`^alarm #${aId} acknowledged: A peak: acknowledged by op-a: compressor test run$`));
    assert.equal(ev.source, 'op-a');
    assert.ok(services.events.query({ filter: 'audit', limit: 50 }).some((e) => e.source?.startsWith('op-a') && /alarms/.test(e.event)), 'the ack is in the audit trail');
    assert.deepEqual((await call('alarms.list', { token: tokens.admin, query: { state: 'active' } })).body.data.length, 2);

    const tooMany = await call('alarms.list', { token: tokens.admin, query: { limit: '1001' } });
    assert.deepEqual([tooMany.status, tooMany.body.error], [400, 'limit "1001" must be a whole number from 1 to 1000']);
    assert.equal((await call('alarms.list', { token: tokens.admin, query: { state: 'open' } })).status, 400);
    assert.equal((await call('alarms.list', { token: tokens.admin, query: { colour: 'red' } })).body.error, 'unknown parameter "colour" (use state, severity, meter, folder, rule, limit, before)');
    const page1 = (await call('alarms.list', { token: tokens.admin, query: { limit: '1' } })).body.data;
    const page2 = (await call('alarms.list', { token: tokens.admin, query: { limit: '1', before: String(page1[0].id) } })).body.data;
    assert.deepEqual([page1.length, page2.length], [1, 1]);
    assert.ok(page2[0].id < page1[0].id);
  });
});
