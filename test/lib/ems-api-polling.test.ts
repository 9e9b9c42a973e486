import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { BillStore } from '../../lib/billing/bill-store';
import { operationByName, runOperation, type ApiContext, type PollNowAnswer } from '../../lib/ems/api';
import { openEmsServices, type EmsServices } from '../../lib/ems/services';
import { SqliteStore } from '../../lib/store/sqlite';
import { PollJobs } from '../../lib/ems/poll-jobs';
import { PollScheduler } from '../../lib/ems/poll-scheduler';
import { HeapClock } from '../fixtures/fake-clock';

const NOW = Date.UTC(2026, 10, 21, 12, 0, 0);

describe('API section Polling', () => {
  let services: EmsServices;
  let base: Omit<ApiContext, 'caller' | 'request'>;
  const tokens: Record<string, string> = {};
  const calls: string[] = [];
  /** A poll schedule stand-in: "busy" is being polled; "plant-b" is not scheduled by it. */
  const poller = {
    pollNow(id: string): PollNowAnswer {
      calls.push(id);
      if (id === 'busy') return { meter: id, started: false, reason: 'busy' };
      if (id === 'plant-b') return { meter: id, started: false, reason: 'not scheduled' };
      return { meter: id, started: true };
    },
    status(id: string) {
      if (id === 'plant-b') return null;
      return { next_due: NOW + 7000, running: id === 'busy', failures: id === 'busy' ? 2 : 0, last: { time: NOW - 3000, ok: id !== 'busy', error: id === 'busy' ? 'Modbus timeout' : null, durationMs: 120 } };
    },
  };

  before(async () => {
    services = await openEmsServices({ file: ':memory:', env: { EMS_ADMIN_USER: 'boss', EMS_ADMIN_PASSWORD: 'chief-pass-0417' } });
    const a = services.registry.createFolder({ name: 'Plant A' });
    const b = services.registry.createFolder({ name: 'Plant B' });
    const meter = (id: string, folder: string) => services.registry.createMeter({ name: id, folder_id: folder, protocol: 'modbus-tcp', profile: 'eastron-sdm630', interval_time: 10 }, undefined, id);
    meter('main', a._id);
    meter('busy', a._id);
    meter('plant-b', b._id);
    await services.users.create({ login: 'olga', name: 'Olga', password: 'operator-secret', role: 'operator', open_folders: [a._id] });
    await services.users.create({ login: 'vera', name: 'Vera', password: 'viewer-secret', role: 'viewer' });
    tokens.boss = (await services.auth.login('boss', 'chief-pass-0417')).access_token;
    tokens.olga = (await services.auth.login('olga', 'operator-secret')).access_token;
    tokens.vera = (await services.auth.login('vera', 'viewer-secret')).access_token;
    base = { services, store: new SqliteStore({ path: ':memory:' }), bills: new BillStore(':memory:'), timeZone: 'UTC', now: () => NOW, poller };
  });
  after(() => services.close());

  const call = async (op: string, who: string, params: Record<string, string> = {}, query: Record<string, unknown> = {}, withPoller = true) => {
    const ctx = { ...base, poller: withPoller ? poller : undefined, request: { params, query, body: undefined, headers: { authorization: `Bearer ${tokens[who]}` }, cookies: {} } };
    const answer = await runOperation(operationByName(op)!, ctx);
    return { status: answer.status, ...(answer.body as { data: any; error: string | null }) };
  };

  it('POST /api/meters/:id/poll starts a poll, 409 while busy, 404 outside the caller\'s folders, 403 for a viewer, 503 without a schedule', async () => {
    assert.deepEqual(await call('meters.poll', 'olga', { id: 'main' }), { status: 200, data: { meter: 'main', started: true }, error: null });
    const busy = await call('meters.poll', 'olga', { id: 'busy' });
    assert.equal(busy.status, 409);
    assert.equal(busy.error, 'meter "busy" is being polled; try again when that poll has ended');
    calls.length = 0;
    const hidden = await call('meters.poll', 'olga', { id: 'plant-b' });
    assert.equal(hidden.status, 404);
    assert.equal(hidden.error, 'unknown meter "plant-b"');
    assert.equal((await call('meters.poll', 'boss', { id: 'nope' })).status, 404);
    assert.deepEqual(calls, [], 'no poll is asked for a meter the caller cannot see or that does not exist');
    assert.equal((await call('meters.poll', 'vera', { id: 'main' })).status, 403);
    const none = await call('meters.poll', 'boss', { id: 'main' }, {}, false);
    assert.equal(none.status, 503);
    assert.match(none.error!, /no poll schedule runs/);
    const unscheduled = await call('meters.poll', 'boss', { id: 'plant-b' });
    assert.equal(unscheduled.status, 503);
    assert.match(unscheduled.error!, /not polled by any poll schedule/);
  });

  it('GET /api/polling lists each visible meter with its next due time and last result', async () => {
    const all = await call('polling.status', 'vera');
    assert.equal(all.status, 200);
    assert.deepEqual(all.data.map((m: any) => m.meter), ['busy', 'main', 'plant-b']);
    assert.deepEqual(all.data.find((m: any) => m.meter === 'busy'), {
      meter: 'busy', name: 'busy', protocol: 'modbus-tcp', interval_time: 10, scheduled: true, running: true,
      next_due: '2026-11-21T12:00:07.000Z', failures: 2, waiting_since: null, skipped: 0, last: { time: '2026-11-21T11:59:57.000Z', ok: false, error: 'Modbus timeout', duration_ms: 120 },
    });
    const b = all.data.find((m: any) => m.meter === 'plant-b');
    assert.equal(b.scheduled, false);
    assert.equal(b.next_due, null);
    const olga = await call('polling.status', 'olga');
    assert.deepEqual(olga.data.map((m: any) => m.meter), ['busy', 'main']);
    const one = await call('polling.status', 'olga', {}, { meter: 'main' });
    assert.deepEqual(one.data.map((m: any) => m.meter), ['main']);
    assert.equal((await call('polling.status', 'olga', {}, { meter: 'plant-b' })).status, 404);
    const bad = await call('polling.status', 'vera', {}, { limit: '3' });
    assert.equal(bad.status, 400);
    assert.equal(bad.error, 'unknown parameter "limit" (use meter)');
  });

  it('a stuck poll shows as running with its skipped turns in GET /api/polling, and in the backlog of GET /api/polling/backlog', async () => {
    // The schedule node's poller over a real scheduler and poll jobs on a fake clock; "main" never answers.
    const clock = new HeapClock(NOW);
    const records = new Map(services.registry.meters().map((m) => [m._id, m]));
    let n = 0;
    const sent: string[] = [];
    const jobs = new PollJobs({ send: (msg) => { sent.push(msg.poll.id); if (msg.topic !== 'main') clock.setTimeout(() => jobs.answer(msg.poll.id, null), 300); }, addEvent: () => undefined, newId: () => `p${++n}`, clock });
    const scheduler = new PollScheduler((m, due) => jobs.start(records.get(m.id)!, due), { clock, timeZone: 'UTC' });
    scheduler.set([...records.values()].map((m) => ({ id: m._id, definition: m.definition })));
    const real = {
      pollNow: (id: string): PollNowAnswer => ({ meter: id, started: scheduler.pollNow(id) !== false }),
      status: (id: string) => {
        const s = scheduler.state(id);
        return s && { ...jobs.state(id), next_due: s.next_due, waiting_since: s.waiting_since, skipped: s.skipped };
      },
      backlog: () => scheduler.backlog(),
    };
    await clock.advance(40_000); // four turns of a 10 s meter
    const withReal = async (op: string, who: string, query: Record<string, unknown> = {}) => {
      const answer = await runOperation(operationByName(op)!, { ...base, now: () => clock.now(), poller: real, request: { params: {}, query, body: undefined, headers: { authorization: `Bearer ${tokens[who]}` }, cookies: {} } });
      return { status: answer.status, ...(answer.body as { data: any; error: string | null }) };
    };
    const main = (await withReal('polling.status', 'vera', { meter: 'main' })).data[0];
    // Two turns skipped while the first poll hung; after 30 s without an answer it failed and the next turn polled again.
    assert.deepEqual({ running: main.running, skipped: main.skipped, failures: main.failures, error: main.last.error },
      { running: true, skipped: 2, failures: 1, error: 'no answer within 30 s' });
    const other = (await withReal('polling.status', 'vera', { meter: 'busy' })).data[0];
    assert.deepEqual({ running: other.running, skipped: other.skipped, ok: other.last.ok }, { running: false, skipped: 0, ok: true });
    const backlog = await withReal('polling.backlog', 'vera');
    assert.equal(backlog.status, 200, JSON.stringify(backlog));
    assert.equal(backlog.data.skipped, main.skipped);
    assert.equal(backlog.data.running, 1);
    assert.equal(backlog.data.waiting, 0);
    assert.equal(backlog.data.oldest_waiting_due, null);
    assert.equal(backlog.data.meters, 3);
    assert.equal(backlog.data.started, sent.length);
    assert.equal(backlog.data.late_p99_ms, 0);
    const limited = await withReal('polling.backlog', 'olga');
    assert.equal(limited.status, 403, 'olga sees one folder, the backlog counts every meter');
    assert.equal((await withReal('polling.backlog', 'vera', { meter: 'main' })).status, 400);
    scheduler.stop();
    jobs.stop();
  });
});
