/**
 * The alarm scenario an energy manager lives through, end to end: the shipped EMS in a real Node-RED,
 * a meter served by the `ems-sim` command, a real SMTP server (aiosmtpd). The meter is killed with
 * `ems-sim --fault 1:dead`: a stale alarm is raised after k intervals and one mail says so; the meter
 * comes back: the alarm clears and one more mail says so. A viewer may not acknowledge; an operator may.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { startSmtp, smtpUnavailable, type SmtpServer } from '../fixtures/notify/smtp';
import { missingPeer, ROOT } from '../fixtures/sim/peers';
import { loginApi } from './api-client';
import { eventually, freePort, startEms, type RunningEms } from './runtime';

const SIM = path.join(ROOT, 'dist', 'bin', 'ems-sim.js');

/** Starts `ems-sim modbus-meter` on `port` (with --fault args) and waits for its "listening" line. */
async function startSim(port: number, ...fault: string[]): Promise<ChildProcess> {
  const p = spawn(process.execPath, [SIM, 'modbus-meter', '--port', String(port), '--profile', 'eastron-sdm630', '--units', '1', '--speed', '60', ...fault], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`ems-sim did not report listening within 10 s: ${out}`)), 10_000);
    p.stdout!.on('data', (d) => { out += d; if (out.includes('listening on')) { clearTimeout(timer); resolve(); } });
    p.stderr!.on('data', (d) => { out += d; });
    p.once('exit', (code) => { clearTimeout(timer); reject(new Error(`ems-sim exited ${code}: ${out}`)); });
  });
  return p;
}

async function stopSim(p: ChildProcess | undefined): Promise<void> {
  if (!p || p.exitCode !== null) return;
  const gone = new Promise((r) => p.once('exit', r));
  p.kill('SIGTERM');
  const t = setTimeout(() => p.kill('SIGKILL'), 5000);
  await gone;
  clearTimeout(t);
}

describe('alarm scenario: a meter killed with ems-sim --fault (real Node-RED, SMTP)', missingPeer(smtpUnavailable()), () => {
  let smtp: SmtpServer;
  let ems: RunningEms;
  let sim: ChildProcess | undefined;
  let simPort: number;
  let api: Awaited<ReturnType<typeof loginApi>>;

  before(async () => {
    smtp = await startSmtp();
    simPort = await freePort();
    sim = await startSim(simPort);
    ems = await startEms({
      EMS_TIME_ZONE: 'UTC', EMS_DEMO_SEED: '0', EMS_ALARM_TICK_SECONDS: '1',
      EMS_SMTP_HOST: '127.0.0.1', EMS_SMTP_PORT: String(smtp.port), EMS_SMTP_SECURITY: 'none', EMS_SMTP_FROM: 'EMS <ems@plant.example>',
      EMS_DASHBOARD_URL: 'http://ems.plant.example:1880/dashboard',
    });
    api = await loginApi(ems.url);
  });
  after(async () => {
    await stopSim(sim);
    await ems?.stop();
    await smtp?.stop();
  });

  it('stale after 3 intervals: one mail raised, one mail cleared; a viewer\'s acknowledge is refused, an operator\'s accepted', async () => {
    const folder = (await api('POST', '/api/folders', { name: 'Plant North' })).body.data._id;
    const meter = await api('POST', '/api/meters', {
      _id: 'north-main', name: 'North main', folder_id: folder, protocol: 'modbus-tcp', ip_address: '127.0.0.1', port: simPort,
      connection_address: '1', profile: 'eastron-sdm630', interval_time: 2, waiting_time: 500,
    });
    assert.equal(meter.status, 201, JSON.stringify(meter.body));
    const rule = await api('POST', '/api/alarm-rules', { name: 'Meter silent', subject: { folder }, condition: { type: 'stale', intervals: 3 }, severity: 'critical' });
    assert.equal(rule.status, 201, JSON.stringify(rule.body));
    const sub = await api('PUT', '/api/notifications/subscription', { channels: ['email', 'dashboard'], email: 'energy@plant.example' });
    assert.equal(sub.status, 200, JSON.stringify(sub.body));
    for (const [login, role] of [['vic', 'viewer'], ['olga', 'operator']]) {
      const u = await api('POST', '/api/users', { login, name: login, password: 'Vq7-sunflower-92', role, open_folders: [folder] });
      assert.equal(u.status, 201, JSON.stringify(u.body));
    }

    // Healthy: readings arrive, no alarm.
    await eventually(20_000, async () => {
      const r = await api('GET', '/api/meters/north-main/readings?obis=1-0:1.8.0&from=-1h');
      return r.body.data?.readings?.length >= 2 ? true : undefined;
    });
    assert.deepEqual((await api('GET', '/api/alarms?state=active')).body.data, []);

    // Killed: the simulator restarts with unit 1 dead (no answer).
    await stopSim(sim);
    sim = await startSim(simPort, '--fault', '1:dead');
    const killedAt = Date.now();
    const raised = await eventually(30_000, async () => (await api('GET', '/api/alarms?state=active')).body.data[0]);
    const after = Date.now() - killedAt;
    assert.ok(after >= 4000, `raised ${after} ms after the kill: not before 3 x 2 s without a reading (less the time since the last one)`);
    assert.deepEqual([raised.rule_name, raised.meter_id, raised.state, raised.severity, raised.unit, raised.limit], ['Meter silent', 'north-main', 'raised', 'critical', 's', 6]);
    const first = await eventually(15_000, async () => (smtp.mails().length >= 1 ? smtp.mails() : undefined));
    assert.match(first[0].subject, /^\[EMS critical\] Raised: Meter silent at North main/);
    assert.deepEqual(first[0].to, ['energy@plant.example']);
    assert.match(first[0].text!, /Plant North/);
    assert.match(first[0].text!, /http:\/\/ems\.plant\.example:1880\/dashboard\/alarms/);

    // A viewer may not acknowledge; an operator may, with a note.
    const login = async (name: string) => loginApi(ems.url, name, 'Vq7-sunflower-92');
    const viewer = await login('vic');
    const refused = await viewer('POST', `/api/alarms/${raised.id}/ack`, { note: 'seen' });
    assert.equal(refused.status, 403, JSON.stringify(refused.body));
    assert.equal((await api('GET', `/api/alarms/${raised.id}`)).body.data.state, 'raised', 'still raised after the viewer\'s try');
    const operator = await login('olga');
    const acked = await operator('POST', `/api/alarms/${raised.id}/ack`, { note: 'electrician on the way' });
    assert.equal(acked.status, 200, JSON.stringify(acked.body));
    assert.deepEqual([acked.body.data.state, acked.body.data.acked_by, acked.body.data.ack_note], ['acknowledged', 'olga', 'electrician on the way']);

    // Back: the simulator answers again; the next reading clears the alarm.
    await stopSim(sim);
    sim = await startSim(simPort);
    const cleared = await eventually(30_000, async () => {
      const a = (await api('GET', `/api/alarms/${raised.id}`)).body.data;
      return a.state === 'cleared' ? a : undefined;
    });
    assert.ok(cleared.cleared_at > raised.raised_at);
    const mails = await eventually(15_000, async () => (smtp.mails().filter((m) => /Cleared/.test(m.subject)).length >= 1 ? smtp.mails() : undefined));
    await new Promise((r) => setTimeout(r, 3000)); // nothing more follows
    const subjects = smtp.mails().map((m) => m.subject.replace(/^\[EMS \w+\] (\w+): (.*?) at (.*?)(:.*)?$/, '$1 $2 at $3'));
    assert.deepEqual(subjects, ['Raised Meter silent at North main', 'Acknowledged Meter silent at North main', 'Cleared Meter silent at North main'], JSON.stringify(mails.map((m) => m.subject)));
    assert.equal((await api('GET', '/api/alarms')).body.data.length, 1, 'one alarm through it all');
    const inbox = await api('GET', '/api/notifications/inbox');
    assert.deepEqual(inbox.body.data.map((e: any) => e.notifications[0].state), ['cleared', 'acknowledged', 'raised']);
    const events = await api('GET', '/api/events?filter=alarm');
    assert.ok(events.body.data.filter((e: any) => /alarm #\d+ (raised|acknowledged|cleared)/.test(e.event)).length >= 3, 'every transition is in the event log');
  });
});
