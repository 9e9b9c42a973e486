import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import http from 'node:http';
import net from 'node:net';
import { createWebhookChannel } from '../../lib/ems/notify/channels/webhook';
import { NotificationDispatcher, describeFailure, type FailureReport } from '../../lib/ems/notify/dispatcher';
import { alarm } from '../fixtures/notify/fakes';
import { within } from '../fixtures/within';

const SECRET = 'whsec-0123456789abcdef-test';

interface Received { path: string; headers: http.IncomingHttpHeaders; body: string; verified: boolean; at: number }

/** The receiver's own check, written from the header description (not with our helper). */
function verify(headers: http.IncomingHttpHeaders, body: string): boolean {
  const ts = String(headers['x-ems-timestamp'] ?? '');
  const sig = String(headers['x-ems-signature'] ?? '');
  const want = `sha256=${crypto.createHmac('sha256', SECRET).update(`${ts}.${body}`).digest('hex')}`;
  return /^\d+$/.test(ts) && Math.abs(Date.now() / 1000 - Number(ts)) < 300 && sig.length === want.length && crypto.timingSafeEqual(Buffer.from(sig), Buffer.from(want));
}

describe('alarm webhooks to a local HTTP receiver', () => {
  let server: http.Server;
  let base: string;
  const got: Received[] = [];
  /** Status answers per path, consumed in order; 200 when exhausted. */
  const script = new Map<string, number[]>();

  before(async () => {
    server = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c) => chunks.push(c));
      req.on('end', () => {
        const body = Buffer.concat(chunks).toString('utf8');
        const verified = verify(req.headers, body);
        got.push({ path: req.url ?? '', headers: req.headers, body, verified, at: Date.now() });
        const status = !verified ? 401 : script.get(req.url ?? '')?.shift() ?? 200;
        res.writeHead(status, { 'content-type': 'text/plain' }).end(status === 200 ? 'ok' : `status ${status}`);
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    base = `http://127.0.0.1:${(server.address() as net.AddressInfo).port}`;
  });

  after(async () => {
    server.closeAllConnections();
    await new Promise<void>((r) => server.close(() => r()));
  });

  const dispatcher = (url: string, failures: FailureReport[], secret = SECRET) => new NotificationDispatcher([{ userId: 'bms', channels: ['webhook'] }], {
    timeZone: 'UTC', channels: { webhook: createWebhookChannel({ url, timeoutMs: 2000 }, { secret }) }, folderIds: () => [],
    onFailure: (r) => failures.push(r), maxAttempts: 5, baseDelayMs: 100, maxDelayMs: 400,
  });

  it('posts the notification as JSON with a signature the receiver verifies', async () => {
    const failures: FailureReport[] = [];
    const d = dispatcher(`${base}/hook/ok`, failures);
    d.notify(alarm({ alarmId: 'w-1', severity: 'critical' }));
    await within(d.settled(), 10_000, 'the webhook POST');
    const r = got.filter((x) => x.path === '/hook/ok');
    assert.equal(r.length, 1);
    assert.equal(r[0].verified, true, 'HMAC-SHA256 of timestamp.body matches');
    assert.equal(r[0].headers['content-type'], 'application/json');
    assert.match(String(r[0].headers['x-ems-signature']), /^sha256=[0-9a-f]{64}$/);
    const body = JSON.parse(r[0].body);
    assert.equal(body.type, 'ems.alarm.notifications');
    assert.deepEqual(body.notifications.map((n: { alarmId: string; severity: string }) => [n.alarmId, n.severity]), [['w-1', 'critical']]);
    assert.ok(!r[0].body.includes(SECRET) && !JSON.stringify(r[0].headers).includes(SECRET), 'the secret is never sent');
    assert.deepEqual(failures, []);
    await d.close();
  });

  it('a receiver answering 500 twice then 200 gets the notification on the third attempt, after growing delays', async () => {
    script.set('/hook/flaky', [500, 500]);
    const failures: FailureReport[] = [];
    const d = dispatcher(`${base}/hook/flaky`, failures);
    d.notify(alarm({ alarmId: 'w-2' }));
    await within(d.settled(), 10_000, 'the third webhook attempt');
    const r = got.filter((x) => x.path === '/hook/flaky');
    assert.equal(r.length, 3);
    assert.ok(r.every((x) => x.verified));
    assert.ok(r[1].at - r[0].at >= 90 && r[2].at - r[1].at >= 190, `delays ${r[1].at - r[0].at} ms then ${r[2].at - r[1].at} ms`);
    assert.deepEqual(failures, []);
    await d.close();
  });

  it('a receiver that always fails ends in onFailure after the bounded attempts, with its answer', async () => {
    script.set('/hook/down', Array(20).fill(503));
    const failures: FailureReport[] = [];
    const d = dispatcher(`${base}/hook/down`, failures);
    d.notify(alarm({ alarmId: 'w-3' }));
    await within(d.settled(), 15_000, 'the dispatcher to give up');
    assert.equal(got.filter((x) => x.path === '/hook/down').length, 5);
    assert.equal(failures.length, 1);
    assert.equal(failures[0].reason, 'failed');
    assert.equal(failures[0].attempts, 5);
    assert.equal(describeFailure(failures[0]), `webhook: 1 alarm notification (w-3) not delivered after 5 attempts: webhook: POST ${base}/hook/down answered 503: status 503`);
    await d.close();
  });

  it('a wrong secret is refused by the receiver (401) and not retried; an unreachable receiver is reported after its attempts', async () => {
    const failures: FailureReport[] = [];
    const d = dispatcher(`${base}/hook/ok2`, failures, 'some-other-secret-value');
    d.notify(alarm({ alarmId: 'w-4' }));
    await within(d.settled(), 10_000, 'the refused POST');
    assert.equal(got.filter((x) => x.path === '/hook/ok2').length, 1);
    assert.equal(failures[0].attempts, 1);
    assert.match(failures[0].error, /answered 401/);
    await d.close();

    const closed = await new Promise<number>((r) => { const s = net.createServer(); s.listen(0, '127.0.0.1', () => { const p = (s.address() as net.AddressInfo).port; s.close(() => r(p)); }); });
    const f2: FailureReport[] = [];
    const d2 = dispatcher(`http://127.0.0.1:${closed}/x`, f2);
    d2.notify(alarm({ alarmId: 'w-5' }));
    await within(d2.settled(), 10_000, 'the unreachable receiver to be given up');
    assert.equal(f2[0].attempts, 5);
    assert.match(f2[0].error, new RegExp(`^webhook: POST http://127\\.0\\.0\\.1:${closed}/x failed: .*ECONNREFUSED`));
    await d2.close();
  });
});
