/**
 * Every alarm condition raised and cleared in the EMS and delivered through the real channels, built
 * from settings the way the ems-system node builds them: email to a real SMTP server (aiosmtpd), the
 * state retained on a real Mosquitto broker (read back with mosquitto_sub), and a signed webhook to a
 * local receiver that checks the signature itself. Also: 50 alarms at once make one digest per
 * recipient, and a dead SMTP server ends in the event log after the retries.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import { storeConsumption } from '../../lib/ems/alarms/consumption';
import { feedChannels } from '../../lib/ems/notify/config';
import { generateLicenseKeys, signLicense } from '../../lib/ems/license';
import { openEmsServices, type EmsServices } from '../../lib/ems/services';
import type { AlarmNotification } from '../../lib/ems/notify/types';
import type { Reading } from '../../lib/model';
import { SqliteStore } from '../../lib/store/sqlite';
import { startSmtp, smtpUnavailable, waitForMails, type SmtpServer } from '../fixtures/notify/smtp';
import { startMosquitto, type Broker } from '../fixtures/lorawan/mosquitto';
import { findExecutable, missingPeer } from '../fixtures/sim/peers';

const SECRET = 'whsec-integration-0123456789';
const H = 3_600_000;
const ADMIN = { EMS_ADMIN_USER: 'boss', EMS_ADMIN_PASSWORD: 'chief-pass-0417' };

function unavailable(): string | undefined {
  if (!fs.existsSync('/usr/sbin/mosquitto') && !findExecutable('mosquitto')) return 'mosquitto not found (apt-get install mosquitto)';
  if (!findExecutable('mosquitto_sub')) return 'mosquitto_sub not found (apt-get install mosquitto-clients)';
  return smtpUnavailable();
}

/** The retained alarm states under <prefix>/alarms/#, read by mosquitto_sub. */
function retained(port: number, prefix: string): Promise<Map<string, AlarmNotification>> {
  return new Promise((resolve, reject) => {
    execFile('mosquitto_sub', ['-h', '127.0.0.1', '-p', String(port), '-t', `${prefix}/alarms/#`, '--retained-only', '-v', '-W', '2'], { timeout: 10_000 }, (err, stdout, stderr) => {
      if (err && (err as { code?: number }).code !== 27) { reject(new Error(`mosquitto_sub: ${stderr || err.message}`)); return; }
      const m = new Map<string, AlarmNotification>();
      for (const line of stdout.split('\n').filter(Boolean)) m.set(line.slice(0, line.indexOf(' ')), JSON.parse(line.slice(line.indexOf(' ') + 1)));
      resolve(m);
    });
  });
}

async function until<T>(what: string, ms: number, probe: () => T | undefined | false): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = probe();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('alarm conditions through real channels (SMTP, Mosquitto, webhook)', missingPeer(unavailable()), () => {
  let smtp: SmtpServer;
  let broker: Broker;
  let receiver: http.Server;
  let hookUrl: string;
  const hooks: { verified: boolean; body: { notifications: AlarmNotification[] } }[] = [];

  before(async () => {
    smtp = await startSmtp();
    broker = await startMosquitto();
    receiver = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c) => chunks.push(c));
      req.on('end', () => {
        const body = Buffer.concat(chunks).toString('utf8');
        const ts = String(req.headers['x-ems-timestamp'] ?? '');
        const want = `sha256=${crypto.createHmac('sha256', SECRET).update(`${ts}.${body}`).digest('hex')}`;
        const verified = req.headers['x-ems-signature'] === want && Math.abs(Date.now() / 1000 - Number(ts)) < 300;
        hooks.push({ verified, body: JSON.parse(body) });
        res.writeHead(verified ? 200 : 401).end();
      });
    });
    await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
    hookUrl = `http://127.0.0.1:${(receiver.address() as net.AddressInfo).port}/ems-hook`;
  });
  after(async () => {
    receiver?.closeAllConnections();
    await new Promise<void>((r) => (receiver ? receiver.close(() => r()) : r()));
    await broker?.stop();
    await smtp?.stop();
  });

  const keys = generateLicenseKeys();
  const license = (services: EmsServices, id: string, until: string) => services.license.upload(JSON.stringify(signLicense({ id, customer: 'ACME', activation_date: '2026-01-01', expiration_date: until, meter_limit: 100, issued_at: '2026-01-01' }, keys.privateKey)));

  /** EMS services (licensed for 100 meters) whose notification feeds are built from settings, as the ems-system node does. */
  async function open(clock: () => number, prefix: string, extra: { smtpPort?: number } = {}): Promise<EmsServices> {
    const { channels, problems } = feedChannels({
      smtpHost: '127.0.0.1', smtpPort: extra.smtpPort ?? smtp.port, smtpSecurity: 'none', smtpFrom: 'EMS <ems@plant.example>',
      mqttUrl: `mqtt://127.0.0.1:${broker.port}`, mqttPrefix: prefix, webhookUrl: hookUrl, webhookSecret: SECRET,
    }, 'Europe/Berlin');
    assert.deepEqual(problems, []);
    const services = await openEmsServices({
      file: ':memory:', env: ADMIN, now: clock, alarmTickMs: 0, timeZone: 'Europe/Berlin', licensePublicKey: keys.publicKey,
      notifications: { channels, dashboardUrl: 'http://ems.plant.example:1880/dashboard', timing: { gatherMs: 20, baseDelayMs: 50, maxDelayMs: 200, maxAttempts: 3 } },
    });
    license(services, 'L0', '2028-12-31');
    return services;
  }

  it('each of the nine conditions raises and clears: one mail each way, a signed webhook each way, the retained MQTT state ends "cleared"', async () => {
    const night = Date.parse('2026-12-08T01:00:00Z'); // Tuesday 02:00 in Berlin
    let clock = night - 30 * 24 * H;
    const services = await open(() => clock, 'site1/ems');
    const store = new SqliteStore({ path: ':memory:' });
    try {
      services.alarms.setConsumption(storeConsumption(() => store, 'Europe/Berlin'));
      const folder = services.registry.createFolder({ name: 'Plant A' })._id;
      for (const id of ['thr', 'stale', 'poll', 'win', 'anom', 'san', 'pre']) {
        services.registry.createMeter({ name: `Meter ${id}`, folder_id: folder, protocol: 'modbus-tcp', profile: 'eastron-sdm630', interval_time: 60 }, undefined, id);
      }
      const boss = services.users.list().find((u) => u.login === 'boss')!;
      services.notifications.setSubscription(boss.id, { channels: ['email', 'dashboard'], email: 'energy@plant.example', digest_after: 1000 }, 'boss');
      const rule = (name: string, body: Record<string, unknown>) => services.alarms.createRule({ name, severity: 'warning', ...body }, 'boss');
      const feed = (...rs: Reading[]) => services.alarms.onReadings(rs);
      const settle = () => new Promise((r) => setTimeout(r, 20));
      const reading = (meter: string, obis: string, value: number, unit: string): Reading => ({ meter, obis, value, unit, time: clock });

      // Hourly register history for the anomaly and window rules: 2 kWh/h for 4 weeks.
      const rows: Reading[] = [];
      let v = 0;
      for (let t = night - 29 * 24 * H; t <= night + 4 * H; t += H) {
        rows.push({ meter: 'anom', time: t, obis: '1-0:1.8.0', value: v, unit: 'kWh' }, { meter: 'win', time: t, obis: '1-0:1.8.0', value: v, unit: 'kWh' });
        v += t === night + H ? 6 : 2; // 03:00-04:00 local of the last night: 6 kWh
      }
      await store.write(rows);

      // 1. anomaly (03:00-04:00 against the same hour's median) and 2. window_consumption (> 5 kWh in an hour)
      rule('Night base load', { subject: { meter: 'anom' }, condition: { type: 'anomaly', window: '1h', weeks: 4, factor: 1.5, min: 0.5 } });
      rule('Hourly limit', { subject: { meter: 'win' }, condition: { type: 'window_consumption', window: '1h', above: 5 } });
      clock = night + 2 * H + 360_000;
      await services.alarms.tick();
      clock = night + 3 * H + 360_000;
      await services.alarms.tick();
      // 3. threshold
      rule('Peak power', { subject: { meter: 'thr' }, condition: { type: 'threshold', obis: '1-0:1.7.0', direction: 'above', value: 50, unit: 'kW' } });
      await feed(reading('thr', '1-0:1.7.0', 62_000, 'W'));
      await feed(reading('thr', '1-0:1.7.0', 31, 'kW'));
      // 4. stale (3 x 60 s)
      const silent = rule('Meter silent', { subject: { meter: 'stale' }, condition: { type: 'stale', intervals: 3 } });
      await feed(reading('stale', '1-0:1.8.0', 1, 'kWh'));
      clock += 181_000;
      await services.alarms.tick();
      await feed(reading('stale', '1-0:1.8.0', 2, 'kWh'));
      services.alarms.deleteRule(silent.id, 'boss'); // the clock jumps hours ahead below
      // 5. poll failures
      rule('Polls failing', { subject: { meter: 'poll' }, condition: { type: 'poll_failures', count: 2 } });
      services.alarms.onPollResult('poll', false);
      services.alarms.onPollResult('poll', false);
      await settle();
      services.alarms.onPollResult('poll', true);
      await settle();
      // 6. register sanity (backwards)
      rule('Register sanity', { subject: { meter: 'san' }, condition: { type: 'register_sanity', kinds: ['backwards'] } });
      await feed(reading('san', '1-0:1.8.0', 1000, 'kWh'));
      clock += 60_000;
      await feed(reading('san', '1-0:1.8.0', 990, 'kWh'));
      clock += 60_000;
      await feed(reading('san', '1-0:1.8.0', 991, 'kWh'));
      // 7. prepaid balance
      rule('Prepaid low', { subject: { meter: 'pre' }, condition: { type: 'prepaid_balance_below', amount: 10 } });
      services.alarms.onPrepaidBalance('pre', 4.5);
      await settle();
      services.alarms.onPrepaidBalance('pre', 50);
      await settle();
      // 8. license expiring (30 days)
      rule('License', { condition: { type: 'license_expiring', days: 30 }, subject: null });
      license(services, 'L1', '2026-12-20');
      await services.alarms.tick();
      license(services, 'L2', '2028-12-20');
      await services.alarms.tick();
      // 9. the store's spool filling up
      rule('Spool filling', { condition: { type: 'spool_filling', percent: 80 }, subject: null });
      services.alarms.setSpool(() => ({ bytes: 850, maxBytes: 1000 }));
      await services.alarms.tick();
      services.alarms.setSpool(() => ({ bytes: 10, maxBytes: 1000 }));
      await services.alarms.tick();
      // The anomaly and the hourly limit clear on the next normal hour.
      clock = night + 4 * H + 360_000;
      await services.alarms.tick();

      const names = ['Night base load', 'Hourly limit', 'Peak power', 'Meter silent', 'Polls failing', 'Register sanity', 'Prepaid low', 'License', 'Spool filling'];
      const all = services.alarms.list({});
      assert.deepEqual(all.map((a) => `${a.rule_name}:${a.state}`).sort(), names.map((n) => `${n}:cleared`).sort(), 'every condition raised once and cleared');

      // Email: one mail each way per alarm, to the subscriber, naming the rule; links to the dashboard.
      const mails = await waitForMails(smtp, 18, 20_000, '18 alarm mails (9 raised, 9 cleared)');
      await new Promise((r) => setTimeout(r, 300));
      assert.equal(smtp.mails().length, 18, 'no more than one mail per transition');
      for (const name of names) {
        const subjects = mails.filter((m) => m.subject.includes(`: ${name} at `)).map((m) => m.subject.replace(/^\[EMS \w+\] (\w+):.*$/, '$1'));
        assert.deepEqual(subjects, ['Raised', 'Cleared'], `${name}: ${JSON.stringify(mails.map((m) => m.subject))}`);
      }
      assert.ok(mails.every((m) => m.to.includes('energy@plant.example') && m.text?.includes('http://ems.plant.example:1880/dashboard/alarms')), 'addressed to the subscriber, with the link');
      const peak = mails.find((m) => m.subject.includes('Raised: Peak power'))!;
      assert.match(peak.subject, /Peak power at Meter thr: 62 kW \(limit 50 kW\)|Peak power at Meter thr: 62/);
      assert.match(peak.text!, /Plant A/, 'the folder path');

      // Webhook: every transition, signed; the receiver's own check accepts each.
      await until('18 webhook posts', 20_000, () => hooks.length >= 18);
      assert.ok(hooks.every((h) => h.verified), 'every webhook signature verifies');
      for (const name of names) {
        assert.deepEqual(hooks.flatMap((h) => h.body.notifications).filter((n) => n.rule === name).map((n) => n.state), ['raised', 'cleared'], `webhook for ${name}`);
      }
      // MQTT: each alarm's retained state is its last, "cleared".
      await services.notifications.settled();
      const states = await retained(broker.port, 'site1/ems');
      assert.deepEqual([...states.values()].map((n) => `${n.rule}:${n.state}`).sort(), names.map((n) => `${n}:cleared`).sort());
      // The dashboard inbox holds the same transitions.
      assert.equal(services.notifications.inbox(boss.id, 0, 100).length, 18);
    } finally {
      await store.close();
      services.close();
    }
  });

  it('50 alarms at once make one digest per recipient, not 50 mails', async () => {
    const before = smtp.mails().length;
    const clock = Date.parse('2026-12-07T10:00:00Z');
    const services = await open(() => clock, 'site2/ems');
    try {
      const folder = services.registry.createFolder({ name: 'Plant D' })._id;
      for (let i = 0; i < 50; i++) services.registry.createMeter({ name: `Meter d${i}`, folder_id: folder, protocol: 'modbus-tcp', profile: 'eastron-sdm630', interval_time: 60 }, undefined, `d${i}`);
      for (const [login, address] of [['anna', 'anna@plant.example'], ['bert', 'bert@plant.example']]) {
        const u = await services.users.create({ login, name: login, password: `Digest-sunflower-92-${address.length}`, role: 'operator', open_folders: [] });
        services.notifications.setSubscription(u.id, { channels: ['email'], email: address }, 'boss');
      }
      services.alarms.createRule({ name: 'Peak', subject: { folder, scope: 'subtree' }, condition: { type: 'threshold', obis: '1-0:1.7.0', direction: 'above', value: 50, unit: 'kW' } }, 'boss');
      await services.alarms.onReadings(Array.from({ length: 50 }, (_, i) => ({ meter: `d${i}`, obis: '1-0:1.7.0', value: 60, unit: 'kW', time: clock })));
      assert.equal(services.alarms.list({ state: 'active', limit: 100 }).length, 50);
      const mails = (await waitForMails(smtp, before + 2, 20_000, 'one digest each for anna and bert')).slice(before);
      await new Promise((r) => setTimeout(r, 500));
      assert.equal(smtp.mails().length, before + 2, 'exactly one mail per recipient');
      assert.deepEqual(mails.map((m) => m.to[0]).sort(), ['anna@plant.example', 'bert@plant.example']);
      for (const m of mails) {
        assert.match(m.subject, /^\[EMS\] 50 alarm notifications \(50 warning\)$/);
        assert.equal((m.text!.match(/WARNING raised: Peak at Plant D/g) ?? []).length, 50, 'the digest lists all 50');
      }
    } finally {
      services.close();
    }
  });

  it('an SMTP server that is down: retried, then logged in the event log (never dropped silently)', async () => {
    const dead = await new Promise<number>((r) => { const s = net.createServer(); s.listen(0, '127.0.0.1', () => { const p = (s.address() as net.AddressInfo).port; s.close(() => r(p)); }); });
    const clock = Date.parse('2026-12-07T10:00:00Z');
    const services = await open(() => clock, 'site3/ems', { smtpPort: dead });
    try {
      const folder = services.registry.createFolder({ name: 'Plant E' })._id;
      services.registry.createMeter({ name: 'Meter e1', folder_id: folder, protocol: 'modbus-tcp', profile: 'eastron-sdm630', interval_time: 60 }, undefined, 'e1');
      const boss = services.users.list().find((u) => u.login === 'boss')!;
      services.notifications.setSubscription(boss.id, { channels: ['email'], email: 'energy@plant.example' }, 'boss');
      services.alarms.createRule({ name: 'Peak', subject: { meter: 'e1' }, condition: { type: 'threshold', obis: '1-0:1.7.0', direction: 'above', value: 50, unit: 'kW' } }, 'boss');
      await services.alarms.onReadings([{ meter: 'e1', obis: '1-0:1.7.0', value: 60, unit: 'kW', time: clock }]);
      const logged = await until('the failed mail in the event log', 30_000, () => services.events.query({ filter: 'not delivered' }, { admin: true })[0]);
      assert.match(logged.event, new RegExp(`^notification: email to boss: 1 alarm notification \\(\\d+\\) not delivered after 3 attempts: email: sending to energy@plant.example through 127.0.0.1:${dead} failed`));
      assert.equal(logged.level, 'error');
      const hook = await until('the webhook of the same alarm', 10_000, () => hooks.find((h) => h.body.notifications.some((n) => n.rule === 'Peak' && n.meterId === 'e1')));
      assert.ok(hook.verified, 'the other channels are not held up by the dead one');
    } finally {
      services.close();
    }
  });
});
