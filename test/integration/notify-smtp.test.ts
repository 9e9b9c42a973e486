import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createEmailChannel, type EmailSettings } from '../../lib/ems/notify/channels/email';
import { NotificationDispatcher, type FailureReport } from '../../lib/ems/notify/dispatcher';
import type { Channel } from '../../lib/ems/notify/types';
import { alarm } from '../fixtures/notify/fakes';
import { startSmtp, smtpUnavailable, waitForMails, type SmtpServer } from '../fixtures/notify/smtp';
import { missingPeer } from '../fixtures/sim/peers';
import { within } from '../fixtures/within';

const USER = 'ems-mailer';
const PASSWORD = 'correct horse battery staple';
const tz = 'Europe/Berlin';

describe('alarm mails through a real SMTP server (aiosmtpd, STARTTLS required, AUTH required)', missingPeer(smtpUnavailable()), () => {
  let smtp: SmtpServer;
  let ca: string;
  const channels: Channel[] = [];
  const settings = (): EmailSettings => ({ host: '127.0.0.1', port: smtp.port, security: 'starttls', from: 'EMS <ems@example.com>', ca, timeZone: tz, timeoutMs: 5000 });

  before(async () => {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const selfsigned = require('selfsigned') as { generate(a: unknown, o: unknown): Promise<{ private: string; cert: string }> };
    const pems = await selfsigned.generate([{ name: 'commonName', value: 'smtp.test' }], {
      keyType: 'ec', days: 1, algorithm: 'sha256',
      extensions: [{ name: 'subjectAltName', altNames: [{ type: 7, ip: '127.0.0.1' }] }],
    });
    ca = pems.cert;
    smtp = await startSmtp({ user: USER, password: PASSWORD, cert: pems.cert, key: pems.private });
  });

  after(async () => {
    for (const c of channels) await c.close?.();
    await smtp?.stop();
  });

  function email(over: Partial<EmailSettings> = {}, password = PASSWORD): Channel {
    const c = createEmailChannel({ ...settings(), ...over }, { user: USER, password });
    channels.push(c);
    return c;
  }

  it('a raised and a cleared alarm arrive as two mails saying what, where, since when, value and limit, and the link', async () => {
    const failures: FailureReport[] = [];
    const d = new NotificationDispatcher([{ userId: 'alice', email: 'alice@example.com', channels: ['email'] }], {
      timeZone: tz, channels: { email: email() }, folderIds: () => ['site'], onFailure: (r) => failures.push(r), gatherMs: 50,
    });
    const since = Date.UTC(2026, 11, 7, 21, 30);
    d.notify(alarm({ alarmId: 'p-1', severity: 'critical', since, at: since, link: 'https://ems.example/dashboard/alarms/p-1' }));
    await within(d.settled(), 15_000, 'the raised mail to be accepted');
    d.notify(alarm({ alarmId: 'p-1', severity: 'critical', state: 'cleared', since, at: since + 45 * 60_000, value: 38.2, link: 'https://ems.example/dashboard/alarms/p-1' }));
    await within(d.settled(), 15_000, 'the cleared mail to be accepted');
    const mails = await waitForMails(smtp, 2, 10_000, 'the raised and the cleared mail');
    assert.deepEqual(failures, []);
    assert.deepEqual(mails.map((m) => m.to), [['alice@example.com'], ['alice@example.com']]);
    assert.deepEqual(mails.map((m) => m.subject), [
      '[EMS critical] Raised: Power above 50 kW at Main incomer: 62.4 kW (limit 50 kW)',
      '[EMS critical] Cleared: Power above 50 kW at Main incomer',
    ]);
    assert.ok(mails.every((m) => m.tls && m.authenticated), 'sent over STARTTLS after AUTH');
    assert.match(mails[0].text!, /^Where: Site A \/ Building 1 \/ Main incomer$/m);
    assert.match(mails[0].text!, /^Since: 2026-12-07 22:30 UTC\+01:00$/m);
    assert.match(mails[0].text!, /^Value: 62\.4 kW \(limit 50 kW\)$/m);
    assert.match(mails[0].text!, /^Dashboard: https:\/\/ems\.example\/dashboard\/alarms\/p-1$/m);
    assert.match(mails[0].html!, /<a href="https:\/\/ems\.example\/dashboard\/alarms\/p-1">/);
    assert.match(mails[1].text!, /^Cleared: 2026-12-07 23:15 UTC\+01:00$/m);
    assert.match(mails[1].text!, /^Value: 38\.2 kW \(limit 50 kW\)$/m);
    await d.close();
  });

  it('a burst of 50 alarms arrives as one digest per recipient', async () => {
    const before = smtp.mails().length;
    const failures: FailureReport[] = [];
    const users = ['bob', 'carol'];
    const d = new NotificationDispatcher(users.map((u) => ({ userId: u, email: `${u}@example.com`, channels: ['email' as const], digestAfter: 5 })), {
      timeZone: tz, channels: { email: email() }, folderIds: () => [], onFailure: (r) => failures.push(r), gatherMs: 200,
    });
    for (let i = 0; i < 50; i++) d.notify(alarm({ alarmId: `burst-${i}`, meterName: `Meter ${i}`, severity: i % 10 === 0 ? 'critical' : 'warning' }));
    await within(d.settled(), 20_000, 'the digests to be accepted');
    const mails = (await waitForMails(smtp, before + 2, 10_000, 'one digest per recipient')).slice(before);
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(smtp.mails().length, before + 2, 'no further mails');
    assert.deepEqual(failures, []);
    assert.deepEqual(mails.map((m) => m.to[0]).sort(), ['bob@example.com', 'carol@example.com']);
    for (const m of mails) {
      assert.equal(m.subject, '[EMS] 50 alarm notifications (5 critical, 45 warning)');
      assert.equal(m.text!.split('\n').filter((l) => / raised: Power above 50 kW at /.test(l)).length, 50);
      assert.match(m.text!, /CRITICAL raised: Power above 50 kW at Site A \/ Building 1 \/ Meter 0 - 62\.4 kW \(limit 50 kW\)/);
    }
    await d.close();
  });

  it('a wrong password fails with a clear error naming the user and server, not the password, and is not retried', async () => {
    const wrong = 'not-the-password';
    const ch = email({}, wrong);
    await assert.rejects(ch.send({ recipient: { userId: 'alice', email: 'alice@example.com' }, notifications: [alarm()], digest: false }), (e: Error & { retryable?: boolean }) => {
      assert.match(e.message, new RegExp(`^email: the SMTP server 127\\.0\\.0\\.1:${smtp.port} rejected the login of user "${USER}": .*535`));
      assert.ok(!e.message.includes(wrong));
      assert.equal(e.retryable, false);
      return true;
    });
    const failures: FailureReport[] = [];
    const d = new NotificationDispatcher([{ userId: 'alice', email: 'alice@example.com', channels: ['email'] }], {
      timeZone: tz, channels: { email: ch }, folderIds: () => [], onFailure: (r) => failures.push(r), gatherMs: 10,
    });
    d.notify(alarm({ alarmId: 'auth' }));
    await within(d.settled(), 15_000, 'the failed login to be reported');
    assert.equal(failures.length, 1);
    assert.equal(failures[0].attempts, 1);
    assert.match(failures[0].error, /rejected the login/);
    await d.close();
  });

  it('verifies the server certificate: without the pinned CA the self-signed server is refused; allowSelfSigned accepts it', async () => {
    const before = smtp.mails().length;
    const batch = { recipient: { userId: 'alice', email: 'alice@example.com' }, notifications: [alarm()], digest: false };
    await assert.rejects(email({ ca: undefined }).send(batch), (e: Error & { retryable?: boolean }) => {
      assert.match(e.message, /^email: sending to alice@example\.com through 127\.0\.0\.1:\d+ failed: .*(certificate|self[- ]signed)/i);
      assert.equal(e.retryable, false);
      return true;
    });
    await email({ ca: undefined, allowSelfSigned: true }).send(batch);
    await waitForMails(smtp, before + 1, 10_000, 'the mail sent with allowSelfSigned');
  });
});
