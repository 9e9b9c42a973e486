import { after, before, beforeEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { OPERATIONS, runOperation, type ApiContext } from '../../lib/ems/api';
import { AuthService, DEMO_ADMIN, type LoginAnswer } from '../../lib/ems/auth';
import { openEmsDb, type EmsDatabase } from '../../lib/ems/db';
import { ApiError } from '../../lib/ems/envelope';
import { EventLog } from '../../lib/ems/event-log';
import { passwordProblem } from '../../lib/ems/passwords';
import { openEmsServices, type EmsServices } from '../../lib/ems/services';
import { UserService } from '../../lib/ems/users';

const PASSWORD = 'admin-door-0417x';

type Outcome = { ok: true; answer: LoginAnswer } | { ok: false; status: number; message: string };

async function attempt(p: Promise<LoginAnswer>): Promise<Outcome> {
  try {
    return { ok: true, answer: await p };
  } catch (err) {
    if (!(err instanceof ApiError)) throw err;
    return { ok: false, status: err.status, message: err.message };
  }
}

function retryAfter(o: Outcome): number {
  assert.ok(!o.ok && o.status === 429, JSON.stringify(o));
  const m = /retry_after: (\d+) s/.exec(o.message);
  assert.ok(m, o.message);
  return Number(m[1]);
}

describe('login throttling', () => {
  let db: EmsDatabase;
  let users: UserService;
  let events: EventLog;
  let auth: AuthService;
  let now: number;

  beforeEach(async () => {
    now = Date.UTC(2026, 10, 21, 12, 0);
    db = openEmsDb(':memory:');
    users = new UserService(db, () => now);
    events = new EventLog(db, () => now);
    auth = new AuthService(db, users, { events }, () => now);
    await users.create({ login: 'root', name: 'Root', password: PASSWORD, role: 'admin' });
  });

  it('60 parallel wrong guesses with the right password interleaved: none gets through a wait, and the wait ends', async () => {
    const tries = Array.from({ length: 61 }, (_, i) => (i === 30 ? PASSWORD : `wrong-guess-${i}`));
    const outcomes = await Promise.all(tries.map((pw) => attempt(auth.login('root', pw, { ip: '203.0.113.9' }))));
    assert.equal(outcomes.filter((o) => o.ok).length, 0, 'the right password is refused during the wait too');
    const statuses = outcomes.map((o) => (o.ok ? 200 : o.status));
    assert.deepEqual(statuses.slice(0, 3), [401, 401, 401], 'three attempts are checked');
    assert.ok(statuses.slice(3).every((s) => s === 429), 'every attempt after them waits');
    assert.equal(retryAfter(outcomes[30]), 1);
    // Events: three failed logins, the waits that started, no success.
    const logged = events.query({ limit: 100 });
    assert.equal(logged.filter((e) => e.kind === 'login' && e.level === 'warning').length, 3);
    assert.ok(logged.every((e) => e.source === 'root@203.0.113.9'));
    assert.ok(logged.some((e) => e.kind === 'security' && e.level === 'warning' && /logins throttled: source waits 1 s/.test(e.event)));
    assert.ok(!logged.some((e) => e.kind === 'login' && e.level === 'info'));

    now += 1000;
    const ok = await attempt(auth.login('root', PASSWORD, { ip: '203.0.113.9' }));
    assert.ok(ok.ok, JSON.stringify(ok));
    const success = events.query({ filter: 'login', limit: 1 })[0];
    assert.deepEqual([success.level, success.event, success.source], ['info', 'login', 'root@203.0.113.9']);
  });

  it('doubles the wait per failure up to 5 minutes for one source, and a success resets the pair', async () => {
    const ip = { ip: '198.51.100.1' };
    const waits: number[] = [];
    for (let i = 0; i < 14; i++) {
      const o = await attempt(auth.login('root', `wrong-${i}`, ip));
      assert.equal(!o.ok && o.status, 401);
      if (i >= 2) {
        const w = retryAfter(await attempt(auth.login('root', `wrong-${i}b`, ip)));
        waits.push(w);
        now += w * 1000;
      }
    }
    assert.deepEqual(waits, [1, 2, 4, 8, 16, 32, 64, 128, 256, 300, 300, 300]);
    assert.ok((await attempt(auth.login('root', PASSWORD, ip))).ok);
    const again = await attempt(auth.login('root', 'wrong-after', ip));
    assert.equal(!again.ok && again.status, 401, 'the pair and the account start over after a success');
  });

  it('a distributed attack holds the account back for at most 30 s; a source that logged in before is not held back', async () => {
    assert.ok((await attempt(auth.login('root', PASSWORD, { ip: '192.0.2.50' }))).ok, 'the admin logs in from its own address once');
    const waits: number[] = [];
    for (let round = 0; round < 8; round++) {
      const outcomes = await Promise.all(Array.from({ length: 60 }, (_, i) => attempt(auth.login('root', `guess-${round}-${i}`, { ip: `10.${round}.0.${i}` }))));
      assert.equal(outcomes.filter((o) => o.ok).length, 0);
      const w = retryAfter(outcomes.find((o) => !o.ok && o.status === 429)!);
      waits.push(w);
      // The admin from a new address waits like everyone, never more than 30 s.
      assert.ok(retryAfter(await attempt(auth.login('root', PASSWORD, { ip: '192.0.2.99' }))) <= 30);
      now += w * 1000;
    }
    assert.deepEqual(waits, [1, 2, 4, 8, 16, 30, 30, 30]);
    const checked = events.query({ filter: 'warning', limit: 10_000 }).filter((e) => e.kind === 'login').length;
    assert.equal(checked, 10 + 7, 'ten guesses, then one per wait');
    // During the account's wait the admin's known address gets in, a new one waits at most the cap.
    assert.equal((await attempt(auth.login('root', 'one-more-guess', { ip: '10.99.0.1' }))).ok, false);
    const w = retryAfter(await attempt(auth.login('root', PASSWORD, { ip: '192.0.2.98' })));
    assert.equal(w, 30);
    assert.ok((await attempt(auth.login('root', PASSWORD, { ip: '192.0.2.50' }))).ok, 'a trusted address is not held back');
    now += w * 1000;
    assert.ok((await attempt(auth.login('root', PASSWORD, { ip: '192.0.2.98' }))).ok, 'after the cap the admin gets in from anywhere');
  });

  it('answers unknown, deactivated and wrong alike (401, as slow), and throttled known and unknown logins alike (429)', async () => {
    const v = await users.create({ login: 'vera', name: 'Vera', password: 'view-pass-0419', role: 'viewer' });
    await users.update(v.id, { active: false });
    const time = async (login: string, pw: string, ip: string) => {
      const t0 = process.hrtime.bigint();
      const o = await attempt(auth.login(login, pw, { ip }));
      return { o, ms: Number(process.hrtime.bigint() - t0) / 1e6 };
    };
    const known = [], unknown = [];
    const deactivatedTries = [];
    for (let i = 0; i < 5; i++) {
      known.push(await time('root', 'wrong-password', `192.0.2.${i}`));
      unknown.push(await time('nobody-here', 'wrong-password', `192.0.2.${10 + i}`));
      deactivatedTries.push(await time('vera', 'view-pass-0419', `192.0.2.${20 + i}`));
    }
    const deactivated = { ms: 0, o: deactivatedTries[0].o };
    for (const { o } of [...known, ...unknown, ...deactivatedTries]) assert.deepEqual(o, { ok: false, status: 401, message: 'wrong login or password' });
    const median = (xs: { ms: number }[]) => xs.map((x) => x.ms).sort((a, b) => a - b)[Math.floor(xs.length / 2)];
    // An unknown login hashes a dummy password: without it, it would answer hundreds of times faster.
    assert.ok(median(unknown) > median(known) / 4, `unknown ${median(unknown)} ms vs known ${median(known)} ms`);
    deactivated.ms = median(deactivatedTries);
    assert.ok(deactivated.ms > median(known) / 4, `deactivated ${deactivated.ms} ms vs known ${median(known)} ms`);

    for (let i = 0; i < 3; i++) {
      await attempt(auth.login('root', `x-${i}`, { ip: '198.51.100.7' }));
      await attempt(auth.login('ghost', `x-${i}`, { ip: '198.51.100.8' }));
    }
    const a = await attempt(auth.login('root', PASSWORD, { ip: '198.51.100.7' }));
    const b = await attempt(auth.login('ghost', PASSWORD, { ip: '198.51.100.8' }));
    assert.deepEqual(a, b);
    assert.equal(retryAfter(a), 1);
  });

  it('keeps only the start of an oversized login in its counters and events', async () => {
    const huge = 'x'.repeat(1_000_000);
    const o = await attempt(auth.login(huge, 'wrong-password', { ip: '192.0.2.200' }));
    assert.deepEqual(o, { ok: false, status: 401, message: 'wrong login or password' });
    const stored = events.query({ limit: 1000 }).filter((e) => e.source?.endsWith('@192.0.2.200'));
    assert.equal(stored.length, 1);
    assert.ok(stored[0].source!.length < 200, `source of ${stored[0].source!.length} characters`);
    const keys = db.prepare('SELECT MAX(LENGTH(key)) AS n FROM login_throttle').get() as { n: number };
    assert.ok(keys.n < 300, `throttle key of ${keys.n} characters`);
  });

  it('is shared by every AuthService over one database file', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ems-throttle-'));
    const file = path.join(dir, 'ems.db');
    const one = await openEmsServices({ file, env: { EMS_ADMIN_USER: 'root', EMS_ADMIN_PASSWORD: PASSWORD } });
    const two = await openEmsServices({ file, env: {} });
    try {
      for (let i = 0; i < 3; i++) await attempt(one.auth.login('root', `nope-${i}`, { ip: '10.1.1.1' }));
      const o = await attempt(two.auth.login('root', PASSWORD, { ip: '10.1.1.1' }));
      assert.equal(retryAfter(o), 1);
    } finally {
      one.close();
      two.close();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('caps live sessions per user and prunes old counters, nonces and sessions', async () => {
    const first = await auth.login('root', PASSWORD, { ip: '127.0.0.1' });
    for (let i = 0; i < 24; i++) await auth.login('root', PASSWORD, { ip: '127.0.0.1' });
    const live = (db.prepare('SELECT COUNT(*) AS n FROM sessions WHERE ended_at IS NULL').get() as { n: number }).n;
    assert.equal(live, 20);
    assert.throws(() => auth.authenticate(first.access_token), (e: ApiError) => e.status === 401, 'the oldest session ended');

    await attempt(auth.login('root', 'wrong-one', { ip: '10.2.2.2' }));
    auth.issueNonce();
    const count = (table: string) => (db.prepare(`SELECT COUNT(*) AS n FROM ${table}`).get() as { n: number }).n;
    assert.ok(count('login_throttle') > 0 && count('login_nonces') === 1);
    now += 2 * 3_600_000;
    auth.prune();
    assert.equal(count('login_nonces'), 0);
    assert.deepEqual((db.prepare('SELECT key FROM login_throttle').all() as { key: string }[]).map((r) => r.key.split(':')[0]), ['good'], 'only the trusted pair stays');
  });
});

describe('password rules', () => {
  it('needs 10 characters, not the login, not a common password', () => {
    assert.match(passwordProblem('short-pw', 'ann') ?? '', /at least|10 to 1024 characters/);
    assert.match(passwordProblem('Operator-2026', 'operator') ?? '', /must not be or contain the login "operator"/);
    assert.match(passwordProblem('ANNABELLE1', 'annabelle1') ?? '', /must not be or contain the login/);
    assert.match(passwordProblem('Password123', 'ann') ?? '', /list of common passwords/);
    assert.match(passwordProblem('qwertyuiop', 'ann') ?? '', /list of common passwords/);
    assert.equal(passwordProblem('tide-lamp-window', 'ann'), null);
    assert.equal(passwordProblem('xx-long-password-xx', 'x'), null, 'a login shorter than 3 characters may appear');
  });
});

describe('login API: handshake, JSON only, password change, cookie', () => {
  let services: EmsServices;
  let now: number;
  const request = (over: Partial<ApiContext['request']> & { ip?: string; secure?: boolean } = {}): ApiContext['request'] =>
    ({ params: {}, query: {}, body: undefined, headers: { 'content-type': 'application/json' }, cookies: {}, ip: '127.0.0.1', ...over }) as ApiContext['request'];
  const call = (name: string, over: Parameters<typeof request>[0] = {}, token?: string) => {
    const op = OPERATIONS.find((o) => o.name === name);
    assert.ok(op, name);
    const req = request(over);
    if (token) req.headers = { ...req.headers, authorization: `Bearer ${token}` };
    return runOperation(op, { services, store: {} as never, bills: {} as never, timeZone: 'UTC', now: () => now, request: req }) as Promise<any>;
  };
  const login = (body: unknown, over: Parameters<typeof request>[0] = {}) => call('auth.login', { body, ...over });

  before(async () => {
    now = Date.UTC(2026, 10, 21, 12, 0);
    services = await openEmsServices({ file: ':memory:', env: {}, now: () => now });
  });
  after(() => services.close());

  it('a single-use login key from the nonce handshake; replayed, forged and expired keys are refused', async () => {
    const n = await call('auth.nonce', { body: { hash: 'client-hash' } });
    assert.equal(n.status, 200);
    const { secret_word, id } = n.body.data;
    assert.ok(typeof secret_word === 'string' && secret_word.length >= 32 && typeof id === 'string');
    const ok = await login({ key: secret_word, username: DEMO_ADMIN.login, password: DEMO_ADMIN.password });
    assert.equal(ok.status, 200, JSON.stringify(ok.body));
    const replay = await login({ key: secret_word, username: DEMO_ADMIN.login, password: DEMO_ADMIN.password });
    assert.deepEqual([replay.status, replay.body.error], [401, 'login key is unknown, used or expired']);
    const forged = await login({ key: 'made-up-key', username: DEMO_ADMIN.login, password: DEMO_ADMIN.password });
    assert.deepEqual([forged.status, forged.body.error], [401, 'login key is unknown, used or expired']);
    // A key is used up by a failed login too.
    const k2 = (await call('auth.nonce', { body: undefined, headers: {} })).body.data.secret_word;
    assert.equal((await login({ key: k2, username: DEMO_ADMIN.login, password: 'wrong-password' })).status, 401);
    assert.equal((await login({ key: k2, username: DEMO_ADMIN.login, password: DEMO_ADMIN.password })).body.error, 'login key is unknown, used or expired');
    const k3 = (await call('auth.nonce', { body: {} })).body.data.secret_word;
    now += 61_000;
    assert.equal((await login({ key: k3, username: DEMO_ADMIN.login, password: DEMO_ADMIN.password })).body.error, 'login key is unknown, used or expired');
    assert.equal((await call('auth.nonce', { body: { hash: 42 } })).status, 400);
    // Without a key the login still works.
    assert.equal((await login({ username: DEMO_ADMIN.login, password: DEMO_ADMIN.password })).status, 200);
    const doc = OPERATIONS.find((o) => o.name === 'auth.login')!.description ?? '';
    assert.match(doc, /POST \/api\/auth\/nonce/);
  });

  it('accepts JSON only: 415 for a form body, 400 for a body that is not an object', async () => {
    const form = await login({ username: 'admin', password: 'ems-admin' }, { headers: { 'content-type': 'application/x-www-form-urlencoded' } });
    assert.equal(form.status, 415);
    assert.match(form.body.error, /content-type "application\/x-www-form-urlencoded" is not application\/json/);
    assert.equal((await login('username=admin', { headers: { 'content-type': 'text/plain;charset=UTF-8' } })).status, 415);
    const arr = await login(['admin', 'ems-admin']);
    assert.deepEqual([arr.status, arr.body.error], [400, 'the request body must be a JSON object']);
    assert.equal((await login({ username: 'admin', password: 'ems-admin' }, { headers: { 'content-type': 'application/vnd.api+json' } })).status, 200);
  });

  it('sets the Secure cookie over TLS only', async () => {
    const plain = await login({ username: 'admin', password: 'ems-admin' });
    assert.deepEqual([plain.cookies.access_token.httpOnly, plain.cookies.access_token.sameSite, plain.cookies.access_token.secure], [true, 'strict', undefined]);
    const tls = await login({ username: 'admin', password: 'ems-admin' }, { secure: true });
    assert.equal(tls.cookies.access_token.secure, true);
  });

  it('asks the demo admin to change its password until it does; the change ends its other sessions', async () => {
    const a = await login({ username: 'admin', password: 'ems-admin' });
    const b = await login({ username: 'admin', password: 'ems-admin' });
    assert.equal(a.body.data.password_change_required, true);
    const refreshed = await call('auth.refresh', { body: { refresh_token: b.body.data.refresh_token } });
    assert.equal(refreshed.body.data.password_change_required, true);
    const token = refreshed.body.data.access_token;
    assert.equal((await call('auth.session', {}, token)).body.data.password_change_required, true);

    const wrongOld = await call('auth.password', { body: { old_password: 'not-it-at-all', new_password: 'tide-lamp-window' } }, token);
    assert.deepEqual([wrongOld.status, wrongOld.body.error], [403, 'old_password is wrong']);
    const weak = await call('auth.password', { body: { old_password: 'ems-admin', new_password: 'password123' } }, token);
    assert.equal(weak.status, 400);
    assert.match(weak.body.error, /^new_password: is on the list of common passwords/);
    const mine = await call('auth.password', { body: { old_password: 'ems-admin', new_password: 'My-Admin-Pass' } }, token);
    assert.match(mine.body.error, /must not be or contain the login "admin"/);
    const form = await call('auth.password', { body: { old_password: 'ems-admin', new_password: 'tide-lamp-window' }, headers: { 'content-type': 'application/x-www-form-urlencoded' } }, token);
    assert.equal(form.status, 415);

    const changed = await call('auth.password', { body: { old_password: 'ems-admin', new_password: 'tide-lamp-window' } }, token);
    assert.equal(changed.status, 200, JSON.stringify(changed.body));
    assert.equal((await call('auth.session', {}, token)).body.data.password_change_required, false, 'this session goes on');
    assert.equal((await call('auth.session', {}, a.body.data.access_token)).status, 401, 'the other sessions end');
    assert.equal((await login({ username: 'admin', password: 'ems-admin' }, { ip: '127.0.0.2' })).status, 401);
    const fresh = await login({ username: 'admin', password: 'tide-lamp-window' }, { ip: '127.0.0.2' });
    assert.equal(fresh.body.data.password_change_required, false);
    assert.ok(services.events.query({ filter: 'security' }).some((e) => e.event === 'password changed' && e.source === 'admin@127.0.0.1'));
  });

  it('PUT /api/users/:id with a password applies the rules and clears the flag', async () => {
    const admin = (await login({ username: 'admin', password: 'tide-lamp-window' })).body.data.access_token;
    const created = await call('users.create', { body: { login: 'otto', name: 'Otto', password: 'otto-1234567', role: 'operator' } }, admin);
    assert.deepEqual([created.status, created.body.error], [400, 'password must not be or contain the login "otto"']);
    const ok = await call('users.create', { body: { login: 'otto', name: 'Otto', password: 'ops-pass-0418', role: 'operator' } }, admin);
    assert.equal(ok.status, 201);
    services.users.setMustChangePassword(ok.body.data.id, true);
    assert.equal((await login({ username: 'otto', password: 'ops-pass-0418' })).body.data.password_change_required, true);
    const short = await call('users.update', { params: { id: ok.body.data.id }, body: { password: 'short' } }, admin);
    assert.equal(short.status, 400);
    assert.equal((await call('users.update', { params: { id: ok.body.data.id }, body: { password: 'ops-pass-0419' } }, admin)).status, 200);
    assert.equal((await login({ username: 'otto', password: 'ops-pass-0419' })).body.data.password_change_required, false);
  });
});
