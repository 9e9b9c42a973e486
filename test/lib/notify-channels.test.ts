import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { createDashboardChannel } from '../../lib/ems/notify/channels/dashboard';
import { createEmailChannel, smtpOptions } from '../../lib/ems/notify/channels/email';
import { alarmTopic, createMqttChannel, eventsTopic } from '../../lib/ems/notify/channels/mqtt';
import { createWebhookChannel, verifyWebhookSignature, webhookSignature } from '../../lib/ems/notify/channels/webhook';
import { ChannelError } from '../../lib/ems/notify/types';
import { alarm } from '../fixtures/notify/fakes';

const secret = 'a-webhook-secret-of-some-length';

describe('notification channel settings', () => {
  it('email requires STARTTLS and verifies certificates by default; self-signed only when set', () => {
    const o = smtpOptions({ host: 'smtp.example.com', from: 'EMS <ems@example.com>', timeZone: 'UTC' }, { user: 'ems', password: 'pw' });
    assert.equal(o.port, 587);
    assert.equal(o.secure, false);
    assert.equal(o.requireTLS, true);
    assert.equal((o.tls as { rejectUnauthorized: boolean }).rejectUnauthorized, true);
    const tls = smtpOptions({ host: 'smtp.example.com', security: 'tls', from: 'ems@example.com', timeZone: 'UTC', allowSelfSigned: true });
    assert.equal(tls.port, 465);
    assert.equal(tls.secure, true);
    assert.equal((tls.tls as { rejectUnauthorized: boolean }).rejectUnauthorized, false);
    assert.throws(() => smtpOptions({ host: 'h', from: 'nobody', timeZone: 'UTC' }), /email\.from must be an email address, got "nobody"/);
    assert.throws(() => smtpOptions({ host: 'h', port: 70000, from: 'a@b.c', timeZone: 'UTC' }), /email\.port must be 1\.\.65535, got 70000/);
    assert.throws(() => smtpOptions({ host: 'h', security: 'ssl' as never, from: 'a@b.c', timeZone: 'UTC' }), /email\.security must be starttls \| tls \| none, got "ssl"/);
    assert.throws(() => smtpOptions({ host: 'h', from: 'a@b.c', timeZone: 'UTC', ca: 'not a pem' }), /email\.ca must be a PEM certificate/);
  });

  it('email refuses a recipient without an address, naming the user, without retry', async () => {
    const ch = createEmailChannel({ host: '127.0.0.1', port: 1, security: 'none', from: 'ems@example.com', timeZone: 'UTC' });
    await assert.rejects(ch.send({ recipient: { userId: 'bob' }, notifications: [alarm()], digest: false }), (e: ChannelError) => {
      assert.match(e.message, /^email: recipient "bob" has no valid email address \(got null\)$/);
      assert.equal(e.retryable, false);
      return true;
    });
    await ch.close?.();
  });

  it('webhook accepts only http(s) URLs without credentials and a real secret', () => {
    assert.throws(() => createWebhookChannel({ url: 'ftp://example.com/x' }, { secret }), /webhook\.url must be an http or https URL, got "ftp:"/);
    assert.throws(() => createWebhookChannel({ url: 'file:///etc/passwd' }, { secret }), /webhook\.url must be an http or https URL/);
    assert.throws(() => createWebhookChannel({ url: 'https://u:p@example.com/x' }, { secret }), /must not hold a user name or password/);
    assert.throws(() => createWebhookChannel({ url: 'https://example.com/x' }, { secret: 'short' }), /secret must be a string of at least 16 characters/);
    assert.throws(() => createWebhookChannel({ url: 'https://example.com/x', timeoutMs: 0 }, { secret }), /webhook\.timeoutMs must be a number 100\.\.120000, got 0/);
  });

  it('webhook signatures are HMAC-SHA256 of timestamp.body and checked in constant time with a freshness window', () => {
    const body = '{"a":1}';
    const sig = webhookSignature(secret, '1765100000', body);
    assert.equal(sig, `sha256=${crypto.createHmac('sha256', secret).update(`1765100000.${body}`).digest('hex')}`);
    assert.equal(verifyWebhookSignature(secret, '1765100000', body, sig, 1765100000_000), true);
    assert.equal(verifyWebhookSignature(secret, '1765100000', `${body} `, sig, 1765100000_000), false, 'body changed');
    assert.equal(verifyWebhookSignature(secret, '1765100000', body, sig, 1765100000_000 + 301_000), false, 'too old');
    assert.equal(verifyWebhookSignature('another-secret-of-length', '1765100000', body, sig, 1765100000_000), false);
  });

  it('mqtt topics: one retained topic per alarm, one events topic; ids that would break the topic are refused', () => {
    assert.equal(alarmTopic('ems', 'a-17'), 'ems/alarms/a-17');
    assert.equal(eventsTopic('site/ems'), 'site/ems/events/alarms');
    assert.throws(() => alarmTopic('ems', 'a/b'), /alarmId "a\/b" cannot be a topic level/);
    assert.throws(() => createMqttChannel({ url: 'mqtt://127.0.0.1:1', prefix: 'ems/#' }), /mqtt\.prefix must be topic levels without \+, # or empty levels, got "ems\/#"/);
    assert.throws(() => createMqttChannel({ url: 'http://127.0.0.1:1' }), /mqtt\.url must use mqtt, mqtts, ws or wss, got "http:"/);
    assert.throws(() => createMqttChannel({ url: 'mqtt://u:secret@127.0.0.1:1' }), (e: Error) => !e.message.includes('secret') && /credentials/.test(e.message));
  });

  it('dashboard hands each recipient\'s batch to the push function and names a failing push', async () => {
    const pushed: [string, number][] = [];
    const ch = createDashboardChannel((userId, b) => { pushed.push([userId, b.notifications.length]); });
    await ch.send({ recipient: { userId: 'op' }, notifications: [alarm(), alarm()], digest: true });
    assert.deepEqual(pushed, [['op', 2]]);
    const bad = createDashboardChannel(() => { throw new Error('socket gone'); });
    await assert.rejects(bad.send({ recipient: { userId: 'op' }, notifications: [alarm()], digest: false }), /^ChannelError: dashboard: push to "op" failed: socket gone$/);
    assert.throws(() => createDashboardChannel('x' as never), /dashboard push must be a function, got string/);
  });
});
