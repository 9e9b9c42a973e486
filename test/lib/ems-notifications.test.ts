/**
 * Alarm notifications wired into the EMS: subscriptions through the API, routing by folder scope,
 * severity and a rule's notify list, feeds that carry every transition, the dashboard inbox, and
 * failures in the event log. Channels are recording fakes here (the real ones: test/integration).
 */
import { afterEach, beforeEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { BillStore } from '../../lib/billing/bill-store';
import { operationByName, runOperation, type ApiContext, type HttpAnswer } from '../../lib/ems/api';
import { openEmsServices, type EmsServices } from '../../lib/ems/services';
import type { AlarmNotification } from '../../lib/ems/notify/types';
import { SqliteStore } from '../../lib/store/sqlite';
import { FakeClock, RecordingChannel } from '../fixtures/notify/fakes';

const T0 = Date.parse('2026-12-07T10:00:00Z');
type Answer = HttpAnswer & { body: any };
const POWER = { type: 'threshold', obis: '1-0:1.7.0', direction: 'above', value: 50, unit: 'kW' };

describe('alarm notifications in the EMS', () => {
  let services: EmsServices;
  let clock: FakeClock;
  let email: RecordingChannel;
  let mqtt: RecordingChannel;
  let base: Omit<ApiContext, 'caller' | 'request'>;
  const tokens: Record<string, string> = {};
  const ids: Record<string, string> = {};
  let plantA: string;
  let plantB: string;
  const call = (name: string, token: string, c: { params?: Record<string, string>; query?: Record<string, unknown>; body?: unknown } = {}): Promise<Answer> => runOperation(operationByName(name)!, {
    ...base, request: { params: c.params ?? {}, query: c.query ?? {}, body: c.body, headers: { authorization: `Bearer ${token}` }, cookies: {}, ip: '10.0.0.7' },
  }) as Promise<Answer>;
  const power = async (meter: string, kw: number) => services.alarms.onReadings([{ meter, obis: '1-0:1.7.0', value: kw, unit: 'kW', time: clock.now() }]);
  /** Lets the dispatcher gather and send (its clock is the fake one). */
  const flush = async () => { await clock.advance(5_000); await services.notifications.settled(); };
  const mailsTo = (user: string) => email.to(ids[user]).map((s) => s.batch.notifications.map((n) => `${n.rule}:${n.state}`).join('+'));

  beforeEach(async () => {
    clock = new FakeClock(T0);
    email = new RecordingChannel('email', 'recipient', clock);
    mqtt = new RecordingChannel('mqtt', 'shared', clock);
    services = await openEmsServices({
      file: ':memory:', env: { EMS_ADMIN_USER: 'boss', EMS_ADMIN_PASSWORD: 'chief-pass-0417' }, now: () => clock.now(), alarmTickMs: 0,
      notifications: { channels: { email, mqtt }, dashboardUrl: 'https://ems.example/dashboard/', timing: { clock, gatherMs: 1000, baseDelayMs: 1000, maxAttempts: 3 } },
    });
    plantA = services.registry.createFolder({ name: 'Plant A' })._id;
    plantB = services.registry.createFolder({ name: 'Plant B' })._id;
    const hall = services.registry.createFolder({ name: 'Hall 1', parent_id: plantA })._id;
    const meter = (id: string, folder: string) => services.registry.createMeter({ name: `Meter ${id}`, folder_id: folder, protocol: 'modbus-tcp', profile: 'eastron-sdm630', interval_time: 60 }, undefined, id);
    meter('a1', hall);
    meter('b1', plantB);
    base = { services, store: new SqliteStore({ path: ':memory:' }), bills: new BillStore(':memory:'), timeZone: 'UTC', now: () => clock.now() };
    tokens.admin = (await services.auth.login('boss', 'chief-pass-0417')).access_token;
    ids.admin = services.users.list().find((u) => u.login === 'boss')!.id;
    for (const [login, role, folders] of [['ops', 'operator', []], ['view-a', 'viewer', [plantA]], ['view-b', 'viewer', [plantB]]] as const) {
      ids[login] = (await services.users.create({ login, name: login, password: `Notify-pass-${role}-2026-x`, role, open_folders: [...folders] })).id;
      tokens[login] = (await services.auth.login(login, `Notify-pass-${role}-2026-x`)).access_token;
    }
  });
  afterEach(() => services.close());

  it('a user sets their own subscription; bad fields are 400 naming field and value; folders must be their own; admins see all', async () => {
    const none = await call('notifications.subscription.get', tokens['view-a']);
    assert.deepEqual([none.status, none.body.data], [200, null]);
    const set = await call('notifications.subscription.set', tokens['view-a'], { body: { channels: ['email', 'dashboard'], email: 'anna@example.com', severities: ['critical'], quiet_hours: { from: '22:00', to: '06:00' } } });
    assert.equal(set.status, 200, JSON.stringify(set.body));
    assert.deepEqual({ ...set.body.data, updated_at: 0 }, {
      user_id: ids['view-a'], channels: ['email', 'dashboard'], email: 'anna@example.com', folders: [], severities: ['critical'],
      quiet_hours: { from: '22:00', to: '06:00' }, digest_after: null, updated_at: 0,
    });
    const cases: [unknown, RegExp][] = [
      [{ channels: ['email'] }, /has no email address/],
      [{ channels: ['sms'] }, /channels must be a list of email \| mqtt \| webhook \| dashboard, got \["sms"\]/],
      [{ channels: ['mqtt'] }, /"mqtt" is a system feed configured on the ems-system node/],
      [{ email: 'not-an-address', channels: ['email'] }, /email must be an email address, got "not-an-address"/],
      [{ quiet_hours: { from: '25:00', to: '06:00' } }, /25:00/],
      [{ digest_after: 0 }, /digest_after must be a whole number 1\.\.1000, got 0/],
      [{ folders: [plantB] }, new RegExp(`folders: "${plantB}" is not a folder of user view-a`)],
      [{ colour: 'red' }, /unknown field "colour"/],
    ];
    for (const [body, want] of cases) {
      const bad = await call('notifications.subscription.set', tokens['view-a'], { body });
      assert.equal(bad.status, 400, `${JSON.stringify(body)} -> ${JSON.stringify(bad.body)}`);
      assert.match(bad.body.error, want);
    }
    assert.equal((await call('notifications.subscriptions.list', tokens['view-a'])).status, 403, 'viewers do not list everyone\'s');
    assert.equal((await call('notifications.subscriptions.set', tokens.ops, { params: { user_id: ids['view-a'] }, body: {} })).status, 403, 'operators do not set others\'');
    const all = await call('notifications.subscriptions.list', tokens.admin);
    assert.deepEqual(all.body.data.map((s: any) => s.user_id), [ids['view-a']]);
    const byAdmin = await call('notifications.subscriptions.set', tokens.admin, { params: { user_id: ids['view-b'] }, body: { channels: ['dashboard'], folders: [plantB] } });
    assert.equal(byAdmin.status, 200);
    assert.equal((await call('notifications.subscriptions.set', tokens.admin, { params: { user_id: 'nobody' }, body: {} })).status, 404);
    assert.deepEqual((await call('notifications.subscription.delete', tokens['view-a'])).body.data, { deleted: true });
    assert.deepEqual((await call('notifications.subscription.delete', tokens['view-a'])).body.data, { deleted: false });
    const status = await call('notifications.status', tokens.admin);
    assert.deepEqual(status.body.data.channels, { email: true, mqtt: true, webhook: false, dashboard: true });
    assert.equal((await call('notifications.status', tokens.ops)).status, 403);
  });

  it('routes by folder scope, severity and the rule\'s notify list; feeds get every transition; reopened goes to feeds only', async () => {
    await call('notifications.subscription.set', tokens.ops, { body: { channels: ['email', 'dashboard'], email: 'ops@example.com' } });
    await call('notifications.subscription.set', tokens['view-a'], { body: { channels: ['email'], email: 'anna@example.com' } });
    await call('notifications.subscription.set', tokens['view-b'], { body: { channels: ['email'], email: 'bert@example.com' } });
    const a = (await call('alarmrules.create', tokens.admin, { body: { name: 'A peak', subject: { folder: plantA }, condition: POWER, severity: 'critical', hold_off_s: 600 } })).body.data;
    await call('alarmrules.create', tokens.admin, { body: { name: 'B peak', subject: { meter: 'b1' }, condition: POWER, notify: [ids['view-b']] } });

    await power('a1', 60);
    await power('b1', 70);
    await flush();
    assert.deepEqual(mailsTo('ops'), ['A peak:raised'], 'B peak notifies only view-b (its notify list)');
    assert.deepEqual(mailsTo('view-a'), ['A peak:raised'], 'view-a sees Plant A');
    assert.deepEqual(mailsTo('view-b'), ['B peak:raised'], 'view-b sees only Plant B');
    assert.deepEqual(mqtt.sent.map((s) => s.batch.notifications[0].rule).sort(), ['A peak', 'B peak'], 'the MQTT feed carries every alarm, with no subscriber needed');
    const n = email.to(ids.ops)[0].batch.notifications[0] as AlarmNotification;
    assert.equal(n.link, 'https://ems.example/dashboard/alarms', 'messages link to the dashboard\'s alarms page');
    assert.deepEqual(n.folderPath, ['Plant A', 'Hall 1']);

    // Cleared, then back within the hold-off: the same alarm reopens; people are not told again, the feed is.
    clock.t += 60_000;
    await power('a1', 10);
    await flush();
    clock.t += 60_000;
    await power('a1', 80);
    await flush();
    assert.deepEqual(mailsTo('ops'), ['A peak:raised', 'A peak:cleared']);
    assert.deepEqual(mqtt.sent.filter((s) => s.batch.notifications[0].rule === 'A peak').map((s) => s.batch.notifications[0].state), ['raised', 'cleared', 'raised']);
    assert.equal(services.alarms.list({ rule: a.id }).length, 1, 'one alarm, reopened');

    // The dashboard inbox: the caller's own entries, newest first, polled with after=.
    const inbox = await call('notifications.inbox', tokens.ops);
    assert.deepEqual(inbox.body.data.map((e: any) => e.notifications.map((x: any) => x.state)), [['cleared'], ['raised']]);
    const newer = await call('notifications.inbox', tokens.ops, { query: { after: String(inbox.body.data[0].id) } });
    assert.deepEqual(newer.body.data, []);
    assert.deepEqual((await call('notifications.inbox', tokens['view-a'])).body.data, [], 'view-a chose email only');
    assert.equal((await call('notifications.inbox', tokens.ops, { query: { limit: '9999' } })).status, 400);

    // A deactivated user is told nothing more.
    await services.users.update(ids['view-a'], { active: false });
    clock.t += 3_600_000;
    await power('a1', 5);
    await flush();
    assert.deepEqual(mailsTo('view-a'), ['A peak:raised', 'A peak:cleared'], 'nothing after deactivation');
    assert.equal(mailsTo('ops').length, 3);
  });

  it('severity filter, folder filter, and EMS-wide alarms only to users with every folder open', async () => {
    await call('notifications.subscription.set', tokens.ops, { body: { channels: ['email'], email: 'ops@example.com', severities: ['critical'], folders: [plantB] } });
    await call('notifications.subscription.set', tokens['view-a'], { body: { channels: ['email'], email: 'anna@example.com' } });
    await call('alarmrules.create', tokens.admin, { body: { name: 'A warn', subject: { meter: 'a1' }, condition: POWER, severity: 'warning' } });
    await call('alarmrules.create', tokens.admin, { body: { name: 'B warn', subject: { meter: 'b1' }, condition: POWER, severity: 'warning' } });
    await call('alarmrules.create', tokens.admin, { body: { name: 'B crit', subject: { meter: 'b1' }, condition: { ...POWER, value: 100 }, severity: 'critical' } });
    await call('alarmrules.create', tokens.admin, { body: { name: 'Spool', condition: { type: 'spool_filling', percent: 80 }, severity: 'critical' } });
    services.alarms.setSpool(() => ({ bytes: 900, maxBytes: 1000 }));
    await power('a1', 60);
    await power('b1', 120);
    await services.alarms.tick();
    await flush();
    assert.deepEqual(mailsTo('ops'), ['B crit:raised'], 'ops: critical in Plant B only (the spool alarm has no folder)');
    assert.deepEqual(mailsTo('view-a'), ['A warn:raised'], 'view-a: Plant A only; the EMS-wide spool alarm is not for a scoped user');
    await call('notifications.subscription.set', tokens.ops, { body: { channels: ['email'], email: 'ops@example.com', severities: ['critical'] } });
    services.alarms.setSpool(() => ({ bytes: 100, maxBytes: 1000 }));
    await services.alarms.tick();
    await flush();
    assert.deepEqual(mailsTo('ops'), ['B crit:raised', 'Spool:cleared'], 'without a folder filter ops hears about the EMS itself');
  });

  it('a notification that keeps failing is retried, then written to the event log naming channel, recipient and alarm', async () => {
    await call('notifications.subscription.set', tokens.ops, { body: { channels: ['email'], email: 'ops@example.com' } });
    await call('alarmrules.create', tokens.admin, { body: { name: 'A peak', subject: { meter: 'a1' }, condition: POWER } });
    email.failures = 10;
    await power('a1', 60);
    await clock.advance(60_000);
    await services.notifications.settled();
    assert.equal(email.attempts.length, 3, 'maxAttempts 3');
    const logged = services.events.query({ filter: 'not delivered' }, { admin: true }).map((e) => e.event);
    assert.equal(logged.length, 1, JSON.stringify(logged));
    assert.match(logged[0], new RegExp(`^notification: email to ops: 1 alarm notification \\(\\d+\\) not delivered after 3 attempts: email: peer answered 500`));
  });
});
