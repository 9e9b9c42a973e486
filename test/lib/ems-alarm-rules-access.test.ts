/**
 * Who manages alarm rules: operators and admins within their open folders (like meters), viewers read only;
 * rules about the EMS itself need every folder open; every change is in the audit trail with who and what.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { BillStore } from '../../lib/billing/bill-store';
import { operationByName, runOperation, type ApiContext, type HttpAnswer } from '../../lib/ems/api';
import { openEmsServices, type EmsServices } from '../../lib/ems/services';
import { SqliteStore } from '../../lib/store/sqlite';

const T0 = Date.parse('2026-12-07T10:00:00Z');
type Answer = HttpAnswer & { body: any };
const POWER = { type: 'threshold', obis: '1-0:1.7.0', direction: 'above', value: 50, unit: 'kW' };
const OUTSIDE = 'lies outside your folders: only rules whose subject lies in your open folders can be managed';

describe('alarm rules: who may manage them', () => {
  let services: EmsServices;
  let base: Omit<ApiContext, 'caller' | 'request'>;
  const tokens: Record<string, string> = {};
  const ids: Record<string, string> = {};
  const f: Record<string, string> = {};
  const call = (name: string, who: string, req: { params?: Record<string, string>; body?: unknown } = {}): Promise<Answer> => runOperation(operationByName(name)!, {
    ...base, request: { params: req.params ?? {}, query: {}, body: req.body, headers: { authorization: `Bearer ${tokens[who]}` }, cookies: {}, ip: '10.0.0.9' },
  }) as Promise<Answer>;
  const create = (who: string, body: Record<string, unknown>) => call('alarmrules.create', who, { body: { name: 'rule', condition: POWER, ...body } });

  before(async () => {
    services = await openEmsServices({ file: ':memory:', env: { EMS_ADMIN_USER: 'boss', EMS_ADMIN_PASSWORD: 'chief-pass-0417' }, now: () => T0, alarmTickMs: 0 });
    f.a = services.registry.createFolder({ name: 'Plant A' })._id;
    f.b = services.registry.createFolder({ name: 'Plant B' })._id;
    f.hall = services.registry.createFolder({ name: 'Hall 1', parent_id: f.a })._id;
    const meter = (id: string, folder: string) => services.registry.createMeter({ name: `Meter ${id}`, folder_id: folder, protocol: 'modbus-tcp', profile: 'eastron-sdm630', interval_time: 60 }, undefined, id);
    meter('a0', f.a);
    meter('a1', f.hall);
    meter('b1', f.b);
    base = { services, store: new SqliteStore({ path: ':memory:' }), bills: new BillStore(':memory:'), timeZone: 'UTC', now: () => T0 };
    tokens.boss = (await services.auth.login('boss', 'chief-pass-0417')).access_token;
    for (const [login, role, folders] of [['op-a', 'operator', [f.a]], ['op-hall', 'operator', [f.hall]], ['view-a', 'viewer', [f.a]], ['op-all', 'operator', []]] as const) {
      ids[login] = (await services.users.create({ login, name: login, password: `Vq7-sunflower-92`, role, open_folders: folders.map((k) => k) })).id;
      tokens[login] = (await services.auth.login(login, `Vq7-sunflower-92`)).access_token;
    }
  });
  after(() => services.close());

  it('an operator creates, changes and deletes rules on meters and folders in their folders; each change is audited', async () => {
    const onMeter = await create('op-a', { name: 'Hall peak', subject: { meter: 'a1' }, notify: [ids['view-a']] });
    assert.equal(onMeter.status, 201, JSON.stringify(onMeter.body));
    assert.equal(onMeter.body.data.created_by, 'op-a');
    const onFolder = await create('op-a', { name: 'Plant A peak', subject: { folder: f.a, scope: 'subtree' } });
    assert.equal(onFolder.status, 201, JSON.stringify(onFolder.body));
    const id = onMeter.body.data.id;
    const changed = await call('alarmrules.update', 'op-a', { params: { id }, body: { enabled: false, subject: { folder: f.hall } } });
    assert.deepEqual([changed.status, changed.body.data.enabled, changed.body.data.subject], [200, false, { folder: f.hall, scope: 'subtree' }]);
    const gone = await call('alarmrules.delete', 'op-a', { params: { id } });
    assert.deepEqual([gone.status, gone.body.data], [200, { deleted: id }]);
    const audit = services.events.query({ filter: 'audit', limit: 50 }).filter((e) => e.source?.startsWith('op-a@'));
    const said = audit.map((e) => e.event);
    for (const what of ['alarmrules.create POST /api/alarm-rules 201', `alarmrules.update PUT /api/alarm-rules/${id} 200`, `alarmrules.delete DELETE /api/alarm-rules/${id} 200`]) {
      assert.ok(said.includes(what), `audit entry "${what}" in ${JSON.stringify(said)}`);
    }
    assert.match(String(audit.find((e) => e.event.startsWith('alarmrules.update'))!.value), /"enabled":false/, 'the audit entry says what changed');
  });

  it('an operator is refused (403 naming it) a subject outside their folders, a rule about one, and moving a rule out', async () => {
    const foreignMeter = await create('op-a', { subject: { meter: 'b1' } });
    assert.deepEqual([foreignMeter.status, foreignMeter.body.error], [403, `subject.meter "b1" ${OUTSIDE}`]);
    const foreignFolder = await create('op-a', { subject: { folder: f.b } });
    assert.deepEqual([foreignFolder.status, foreignFolder.body.error], [403, `subject.folder "${f.b}" ${OUTSIDE}`]);
    // Hall 1's operator: the folder above theirs (its subtree is not wholly theirs), its own meter a0.
    assert.equal((await create('op-hall', { subject: { folder: f.a } })).status, 403);
    assert.equal((await create('op-hall', { subject: { meter: 'a0' } })).status, 403);
    assert.equal((await create('op-hall', { subject: { folder: f.hall, scope: 'folder' } })).status, 201);

    const bRule = (await create('boss', { name: 'B peak', subject: { meter: 'b1' } })).body.data.id;
    const change = await call('alarmrules.update', 'op-a', { params: { id: bRule }, body: { enabled: false } });
    assert.deepEqual([change.status, change.body.error], [403, `alarm rule "${bRule}" watches a meter outside your folders: only rules whose subject lies in your open folders can be managed`]);
    assert.equal((await call('alarmrules.delete', 'op-a', { params: { id: bRule } })).status, 403);
    const aRule = (await create('op-a', { name: 'A0 peak', subject: { meter: 'a0' } })).body.data.id;
    const moveOut = await call('alarmrules.update', 'op-a', { params: { id: aRule }, body: { subject: { meter: 'b1' } } });
    assert.deepEqual([moveOut.status, moveOut.body.error], [403, `subject.meter "b1" ${OUTSIDE}`]);
    const stays = (await call('alarmrules.get', 'boss', { params: { id: aRule } })).body.data;
    assert.deepEqual(stays.subject, { meter: 'a0' }, 'the refused change changed nothing');
    // An unknown meter is still a 400 naming it.
    const unknown = await create('op-a', { subject: { meter: 'nope' } });
    assert.deepEqual([unknown.status, unknown.body.error], [400, 'subject.meter "nope" is not a meter']);
  });

  it('a viewer is refused every write (403)', async () => {
    const rule = (await create('boss', { name: 'A view', subject: { meter: 'a1' } })).body.data.id;
    assert.equal((await create('view-a', { subject: { meter: 'a1' } })).status, 403);
    const put = await call('alarmrules.update', 'view-a', { params: { id: rule }, body: { enabled: false } });
    assert.deepEqual([put.status, put.body.error], [403, 'this needs the operator role; "view-a" is a viewer']);
    assert.equal((await call('alarmrules.delete', 'view-a', { params: { id: rule } })).status, 403);
    assert.equal((await call('alarmrules.get', 'boss', { params: { id: rule } })).body.data.enabled, true);
  });

  it('rules about the EMS itself need every folder open; an admin manages anything', async () => {
    const lic = { name: 'License', condition: { type: 'license_expiring', days: 30 } };
    const scoped = await call('alarmrules.create', 'op-a', { body: lic });
    assert.deepEqual([scoped.status, scoped.body.error], [403, 'only users with every folder open may manage rules about the EMS itself (license_expiring, spool_filling)']);
    const all = await call('alarmrules.create', 'op-all', { body: lic });
    assert.equal(all.status, 201, 'an operator with every folder open');
    const id = all.body.data.id;
    const change = await call('alarmrules.update', 'op-a', { params: { id }, body: { condition: { type: 'license_expiring', days: 10 } } });
    assert.deepEqual([change.status, change.body.error], [403, `alarm rule "${id}" is about the EMS itself: only users with every folder open may change it`]);
    assert.equal((await call('alarmrules.delete', 'op-a', { params: { id } })).status, 403);
    // The admin: any subject, any rule.
    const bRule = (await create('boss', { name: 'B low', subject: { folder: f.b }, condition: { ...POWER, direction: 'below' } })).body.data.id;
    assert.equal((await call('alarmrules.update', 'boss', { params: { id: bRule }, body: { subject: { meter: 'a1' } } })).status, 200);
    assert.equal((await call('alarmrules.delete', 'boss', { params: { id } })).status, 200);
  });

  it('notify names existing users only (400 naming the id); an operator may name users', async () => {
    const bad = await create('op-a', { subject: { meter: 'a1' }, notify: ['no-such-user'] });
    assert.deepEqual([bad.status, bad.body.error], [400, 'notify: user "no-such-user" does not exist']);
    const ok = await create('op-a', { name: 'Told', subject: { meter: 'a1' }, notify: [ids['op-hall'], ids['view-a']] });
    assert.deepEqual([ok.status, ok.body.data.notify], [201, [ids['op-hall'], ids['view-a']]]);
  });
});
