import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { NotificationDispatcher, describeFailure, type DispatcherOptions, type FailureReport } from '../../lib/ems/notify/dispatcher';
import type { Subscription } from '../../lib/ems/notify/subscriptions';
import { FakeClock, RecordingChannel, alarm } from '../fixtures/notify/fakes';

const tz = 'Europe/Berlin';
// Folder tree: site(A) > building(B1) > floor(F1); meters m1 in F1, m2 in B2 (under A), m3 in X (another site).
const chains: Record<string, string[]> = { m1: ['A', 'B1', 'F1'], m2: ['A', 'B2'], m3: ['X'] };

function setup(subs: Subscription[], over: Partial<DispatcherOptions> = {}, start = Date.UTC(2026, 11, 7, 10, 0)) {
  const clock = new FakeClock(start);
  const email = new RecordingChannel('email', 'recipient', clock);
  const dashboard = new RecordingChannel('dashboard', 'recipient', clock);
  const mqtt = new RecordingChannel('mqtt', 'shared', clock);
  const webhook = new RecordingChannel('webhook', 'shared', clock);
  const failures: FailureReport[] = [];
  const d = new NotificationDispatcher(subs, {
    timeZone: tz, clock, channels: { email, dashboard, mqtt, webhook },
    folderIds: (n) => chains[n.meterId] ?? [], onFailure: (r) => failures.push(r), gatherMs: 1000, windowMs: 600_000, ...over,
  });
  return { clock, email, dashboard, mqtt, webhook, failures, d };
}

const alice: Subscription = { userId: 'alice', email: 'alice@example.com', channels: ['email'], folders: ['B1'] };
const bob: Subscription = { userId: 'bob', email: 'bob@example.com', channels: ['email', 'dashboard', 'mqtt'], severities: ['critical'] };
const carol: Subscription = { userId: 'carol', email: 'carol@example.com', channels: ['email', 'mqtt', 'webhook'], folders: ['A'] };

describe('notification dispatcher: routing', () => {
  it('sends each notification to the subscribers whose folder subtree, severity and channels match', async () => {
    const t = setup([alice, bob, carol]);
    t.d.notify(alarm({ alarmId: 'w1', meterId: 'm1', severity: 'warning' }));   // alice (B1 subtree), carol (A)
    t.d.notify(alarm({ alarmId: 'c2', meterId: 'm2', severity: 'critical' }));  // bob (critical), carol (A); not alice (B2)
    t.d.notify(alarm({ alarmId: 'c3', meterId: 'm3', severity: 'critical' }));  // bob only
    t.d.notify(alarm({ alarmId: 'i4', meterId: 'unknown', severity: 'info' })); // nobody with a folder filter; bob wants critical only
    await t.clock.advance(1000);
    const ids = (u: string) => t.email.to(u).map((s) => s.batch.notifications.map((n) => n.alarmId).join('+'));
    assert.deepEqual(ids('alice'), ['w1']);
    assert.deepEqual(ids('bob'), ['c2', 'c3']);
    assert.deepEqual(ids('carol'), ['w1', 'c2']);
    assert.deepEqual(t.dashboard.to('bob').map((s) => s.batch.notifications[0].alarmId), ['c2', 'c3']);
    assert.ok(t.email.sent.every((s) => !s.batch.digest && s.batch.recipient?.email === `${s.batch.recipient?.userId}@example.com`));
    // Shared channels get each notification once however many subscribers chose them.
    assert.deepEqual(t.mqtt.sent.map((s) => s.batch.notifications[0].alarmId), ['w1', 'c2', 'c3']);
    assert.deepEqual(t.webhook.sent.map((s) => s.batch.notifications[0].alarmId), ['w1', 'c2']);
    assert.equal(t.mqtt.sent[0].batch.recipient, undefined);
    assert.deepEqual(t.failures, []);
    await t.d.settled();
  });

  it('a subscription naming a channel that is not configured is reported, not dropped silently', async () => {
    const t = setup([{ userId: 'dave', channels: ['webhook'] }], { channels: {} });
    t.d.notify(alarm({ alarmId: 'x' }));
    assert.equal(t.failures.length, 1);
    assert.equal(t.failures[0].reason, 'no-channel');
    assert.equal(describeFailure(t.failures[0]), 'webhook to dave: 1 alarm notification (x) not sent: channel not configured: no webhook channel is configured');
  });

  it('rejects bad subscriptions and notifications naming the field and value', () => {
    assert.throws(() => setup([{ userId: 'e', channels: ['sms' as never] }]), /subscription\.channels must be a list of email \| mqtt \| webhook \| dashboard, got \["sms"\]/);
    assert.throws(() => setup([{ userId: 'e', channels: ['email'] }]), /chooses email but has no email address/);
    assert.throws(() => setup([{ ...alice, digestAfter: 0 }]), /subscription\.digestAfter must be a whole number 1\.\.1000, got 0/);
    assert.throws(() => setup([{ ...alice, quietHours: { from: '22', to: '07:00' } }]), /quietHours\.from must be a time HH:MM/);
    assert.throws(() => setup([alice]).d.notify({ ...alarm(), state: 'gone' as never }), /notification\.state must be raised \| acknowledged \| cleared, got "gone"/);
  });
});

describe('notification dispatcher: quiet hours', () => {
  it('holds non-critical notifications until the quiet period ends; critical ones pass', async () => {
    const sub: Subscription = { userId: 'alice', email: 'alice@example.com', channels: ['email'], quietHours: { from: '22:00', to: '07:00' } };
    const t = setup([sub], {}, Date.UTC(2026, 11, 7, 22, 0)); // 23:00 Berlin
    t.d.notify(alarm({ alarmId: 'w', severity: 'warning' }));
    t.d.notify(alarm({ alarmId: 'c', severity: 'critical' }));
    await t.clock.advance(60_000);
    assert.deepEqual(t.email.sent.map((s) => s.batch.notifications.map((n) => n.alarmId)), [['c']], 'only the critical one at night');
    assert.equal(t.d.stats().held, 1);
    await t.clock.advance(Date.UTC(2026, 11, 8, 5, 59) - t.clock.now());
    assert.equal(t.email.sent.length, 1, 'still held at 06:59');
    await t.clock.advance(60_000);
    assert.deepEqual(t.email.sent.map((s) => [s.at, s.batch.notifications.map((n) => n.alarmId)]), [[Date.UTC(2026, 11, 7, 22, 0, 1), ['c']], [Date.UTC(2026, 11, 8, 6, 0), ['w']]]);
  });

  it('releases at 07:00 local on the night clocks go forward, as one digest when many waited', async () => {
    const sub: Subscription = { userId: 'alice', email: 'alice@example.com', channels: ['email'], quietHours: { from: '22:00', to: '07:00' }, digestAfter: 3 };
    const t = setup([sub], {}, Date.UTC(2026, 2, 28, 22, 0)); // 23:00 CET Saturday
    for (let i = 0; i < 10; i++) t.d.notify(alarm({ severity: 'warning' }));
    await t.clock.advance(Date.UTC(2026, 2, 29, 4, 59) - t.clock.now());
    assert.equal(t.email.sent.length, 0);
    await t.clock.advance(60_000);
    assert.equal(t.email.sent.length, 1);
    assert.equal(t.email.sent[0].at, Date.UTC(2026, 2, 29, 5, 0), '07:00 CEST');
    assert.equal(t.email.sent[0].batch.digest, true);
    assert.equal(t.email.sent[0].batch.notifications.length, 10);
  });
});

describe('notification dispatcher: digest (rate limit per recipient)', () => {
  it('50 alarms at once become one digest per recipient; a few stay single messages', async () => {
    const subs: Subscription[] = ['u1', 'u2', 'u3'].map((u) => ({ userId: u, email: `${u}@example.com`, channels: ['email'], digestAfter: 5 }));
    const t = setup(subs);
    for (let i = 0; i < 50; i++) t.d.notify(alarm({ alarmId: `burst-${i}` }));
    await t.clock.advance(1000);
    for (const u of ['u1', 'u2', 'u3']) {
      const got = t.email.to(u);
      assert.equal(got.length, 1, `${u} gets one message`);
      assert.equal(got[0].batch.digest, true);
      assert.deepEqual(got[0].batch.notifications.map((n) => n.alarmId), Array.from({ length: 50 }, (_, i) => `burst-${i}`));
    }
    // Within the window, further alarms wait for the window to end, then go as one more digest.
    t.d.notify(alarm({ alarmId: 'late-1' }));
    t.d.notify(alarm({ alarmId: 'late-2' }));
    await t.clock.advance(300_000);
    assert.equal(t.email.to('u1').length, 1);
    await t.clock.advance(300_000);
    assert.deepEqual(t.email.to('u1').map((s) => s.batch.notifications.length), [50, 2]);
    // After a quiet window, a single alarm is a single message again.
    await t.clock.advance(600_000);
    t.d.notify(alarm({ alarmId: 'alone' }));
    await t.clock.advance(1000);
    const last = t.email.to('u1').at(-1)!;
    assert.equal(last.batch.digest, false);
    assert.equal(last.batch.notifications[0].alarmId, 'alone');
  });

  it('up to digestAfter notifications in a window go one by one', async () => {
    const t = setup([{ ...alice, folders: undefined, digestAfter: 3 }]);
    for (let i = 0; i < 3; i++) t.d.notify(alarm());
    await t.clock.advance(1000);
    assert.deepEqual(t.email.sent.map((s) => s.batch.digest), [false, false, false]);
    t.d.notify(alarm());
    t.d.notify(alarm());
    await t.clock.advance(1000);
    assert.deepEqual(t.email.sent.map((s) => s.batch.notifications.length), [1, 1, 1, 2]);
    assert.equal(t.email.sent[3].batch.digest, true);
  });

  it('bounds each queue: the oldest non-critical notification is dropped and reported', async () => {
    const sub: Subscription = { userId: 'alice', email: 'alice@example.com', channels: ['email'], quietHours: { from: '00:00', to: '23:59' } };
    const t = setup([sub], { maxQueue: 3 });
    t.d.notify(alarm({ alarmId: 'c0', severity: 'critical' }));
    for (let i = 1; i <= 4; i++) t.d.notify(alarm({ alarmId: `w${i}` }));
    assert.deepEqual(t.failures.map((f) => [f.reason, f.notifications[0].alarmId]), [['queue-full', 'w1'], ['queue-full', 'w2']]);
    assert.match(t.failures[0].error, /more than 3 notifications waiting; the oldest non-critical one was dropped/);
    const s = t.d.stats();
    assert.equal(s.pending + s.held, 3);
  });
});

describe('notification dispatcher: retries', () => {
  it('retries with exponential backoff and delivers on the third attempt', async () => {
    const t = setup([alice], { baseDelayMs: 1000, maxDelayMs: 60_000 });
    t.email.failures = 2;
    t.d.notify(alarm({ alarmId: 'r', meterId: 'm1' }));
    await t.clock.advance(10_000);
    const t0 = Date.UTC(2026, 11, 7, 10, 0);
    assert.deepEqual(t.email.attempts.map((a) => a - t0), [1000, 2000, 4000]);
    assert.equal(t.email.sent.length, 1);
    assert.deepEqual(t.failures, []);
  });

  it('after the bounded attempts the failure goes to onFailure with the last error', async () => {
    const t = setup([alice], { baseDelayMs: 1000, maxDelayMs: 5000, maxAttempts: 5 });
    t.email.failures = 99;
    t.d.notify(alarm({ alarmId: 'dead', meterId: 'm1' }));
    await t.clock.advance(3_600_000);
    const t0 = Date.UTC(2026, 11, 7, 10, 0);
    assert.deepEqual(t.email.attempts.map((a) => a - t0), [1000, 2000, 4000, 8000, 13000], 'delays 1, 2, 4, 5 (capped) s');
    assert.equal(t.failures.length, 1);
    assert.deepEqual({ ...t.failures[0], notifications: t.failures[0].notifications.map((n) => n.alarmId) },
      { reason: 'failed', channel: 'email', userId: 'alice', notifications: ['dead'], attempts: 5, error: 'email: peer answered 500' });
    await t.d.settled();
  });

  it('does not retry an error a retry cannot fix', async () => {
    const t = setup([alice]);
    t.email.failures = 1;
    t.email.permanent = true;
    t.d.notify(alarm({ meterId: 'm1' }));
    await t.clock.advance(3_600_000);
    assert.equal(t.email.attempts.length, 1);
    assert.equal(t.failures[0].attempts, 1);
  });

  it('close reports what was not sent yet', async () => {
    const t = setup([alice]);
    t.email.failures = 1;
    t.d.notify(alarm({ alarmId: 'retrying', meterId: 'm1' }));
    await t.clock.advance(1000);
    t.d.notify(alarm({ alarmId: 'gathering', meterId: 'm1' }));
    await t.d.close();
    assert.deepEqual(t.failures.map((f) => [f.reason, f.notifications[0].alarmId]).sort(), [['closed', 'gathering'], ['closed', 'retrying']]);
    assert.equal(t.clock.pending(), 0, 'no timers left');
    assert.throws(() => t.d.notify(alarm()), /dispatcher closed/);
  });
});

describe('notification dispatcher: order', () => {
  it('a lane sends one message at a time, in order: a retried "raised" still arrives before its "cleared"', async () => {
    const t = setup([{ userId: 'dan', email: 'dan@example.com', channels: ['email', 'mqtt'] }], { baseDelayMs: 500 });
    t.email.failures = 1; // the first send fails once and is retried after 500 ms
    t.mqtt.failures = 1;
    t.d.notify(alarm({ alarmId: 'x1', meterId: 'm1', state: 'raised' }));
    t.d.notify(alarm({ alarmId: 'x1', meterId: 'm1', state: 'cleared' }));
    await t.clock.advance(5000);
    await t.d.settled();
    assert.deepEqual(t.email.to('dan').map((s) => s.batch.notifications[0].state), ['raised', 'cleared']);
    assert.deepEqual(t.mqtt.sent.map((s) => s.batch.notifications[0].state), ['raised', 'cleared'], 'the retained state ends as the last transition');
    assert.equal(t.email.attempts.length, 3, 'one retry, then the second message');
    assert.deepEqual(t.failures, []);
  });
});
