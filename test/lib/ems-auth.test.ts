import { describe, it, beforeEach } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { openEmsDb, migrate, schemaVersion, MIGRATIONS, type EmsDatabase, type Migration } from '../../lib/ems/db';
import { UserService } from '../../lib/ems/users';
import { AuthService, ensureAdmin, DEMO_ADMIN } from '../../lib/ems/auth';
import { hashPassword, verifyPassword } from '../../lib/ems/passwords';
import { ApiError } from '../../lib/ems/envelope';

const MIN = 60_000;

async function rejectsWith(p: Promise<unknown> | (() => unknown), status: number, text: RegExp): Promise<void> {
  await assert.rejects(async () => (typeof p === 'function' ? p() : p), (err: unknown) => {
    assert.ok(err instanceof ApiError, String(err));
    assert.equal(err.status, status, err.message);
    assert.match(err.message, text);
    return true;
  });
}

describe('EMS database migrations', () => {
  it('applies each migration once, in order, and remembers the version across reopening', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ems-db-'));
    const file = path.join(dir, 'sub', 'ems.db');
    const n = Math.max(...MIGRATIONS.map((m) => m.version)); // the newest version (versions may leave gaps)
    const extra: Migration[] = [{ version: n + 1, name: 'notes', sql: 'CREATE TABLE notes (id INTEGER PRIMARY KEY)' }];
    let db = openEmsDb(file);
    assert.equal(schemaVersion(db), n);
    assert.deepEqual(migrate(db, [...MIGRATIONS, ...extra]), [n + 1]);
    db.close();
    db = openEmsDb(file, [...MIGRATIONS, ...extra]);
    assert.equal(schemaVersion(db), n + 1);
    db.close();
    // An older package must not run against a newer database.
    assert.throws(() => openEmsDb(file), new RegExp(`schema version ${n + 1}, newer than this package knows \\(${n}\\)`));
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('runs a migration that lands below the newest applied one (two lines of work merged) instead of skipping it', () => {
    const n = Math.max(...MIGRATIONS.map((m) => m.version));
    const later: Migration = { version: n + 2, name: 'later', sql: 'CREATE TABLE later (id INTEGER PRIMARY KEY)' };
    const between: Migration = { version: n + 1, name: 'between', sql: 'CREATE TABLE between_table (id INTEGER PRIMARY KEY)' };
    const db = openEmsDb(':memory:', [...MIGRATIONS, later]);
    assert.equal(schemaVersion(db), n + 2);
    assert.deepEqual(migrate(db, [...MIGRATIONS, between, later]), [n + 1]);
    assert.ok(db.prepare("SELECT name FROM sqlite_master WHERE name = 'between_table'").get(), 'the table of the migration below the newest exists');
    assert.deepEqual(migrate(db, [...MIGRATIONS, between, later]), [], 'and it runs once');
    db.close();
  });
});

describe('passwords', () => {
  it('hashes with scrypt and a fresh salt, and verifies only the right password', async () => {
    const a = await hashPassword('correct horse');
    const b = await hashPassword('correct horse');
    assert.match(a, /^scrypt\$16384\$8\$1\$/);
    assert.notEqual(a, b);
    assert.equal(await verifyPassword('correct horse', a), true);
    assert.equal(await verifyPassword('correct hors', a), false);
    assert.equal(await verifyPassword('x', 'plain-text'), false);
  });
});

describe('users and auth', () => {
  let db: EmsDatabase;
  let users: UserService;
  let auth: AuthService;
  let now: number;

  beforeEach(() => {
    now = Date.UTC(2026, 10, 21, 12, 0);
    db = openEmsDb(':memory:');
    users = new UserService(db, () => now);
    auth = new AuthService(db, users, {}, () => now);
  });

  it('creates users without ever returning the password, and validates every field', async () => {
    const u = await users.create({ login: 'ops', name: 'Operator', password: 'longenough', role: 'operator', open_folders: ['f1', 'f1', 'f2'] });
    assert.equal(u.role, 'operator');
    assert.deepEqual(u.open_folders, ['f1', 'f2']);
    assert.equal(JSON.stringify(users.list()).includes('longenough'), false);
    assert.equal('password_hash' in u, false);
    await rejectsWith(users.create({ login: 'x', name: 'X', password: 'short', role: 'viewer' }), 400, /password must be 10 to 1024 characters long \(it has 5\)/);
    await rejectsWith(users.create({ login: 'x y', name: 'X', password: 'longenough', role: 'viewer' }), 400, /login "x y" must be/);
    await rejectsWith(users.create({ login: 'x', name: 'X', password: 'longenough', role: 'root' }), 400, /role "root" must be one of admin, operator, viewer/);
    await rejectsWith(users.create({ login: 'x', name: 'X', password: 'longenough' }), 400, /role is required/);
    await rejectsWith(users.create({ login: 'OPS', name: 'Again', password: 'longenough', role: 'viewer' }), 409, /login "OPS" is taken/);
    await rejectsWith(users.create({ login: 'x', name: 'X', password: 'longenough', role: 'viewer', colour: 'red' } as any), 400, /unknown field "colour"/);
    await rejectsWith(users.update(u.id, { open_folders: 'f1' }), 400, /open_folders "f1" must be an array/);
    await rejectsWith(users.update('nope', { name: 'N' }), 404, /unknown user "nope"/);
    assert.equal(users.count(), 1);
  });

  it('logs in, authenticates the access token, refreshes (old refresh token dies) and logs out', async () => {
    await users.create({ login: 'ann', name: 'Ann', password: 'river-s3cret-pw', role: 'viewer' });
    const a = await auth.login('ann', 'river-s3cret-pw');
    assert.equal(a.session.user.login, 'ann');
    assert.equal(a.password_change_required, false);
    assert.equal(a.session.access_expires, now + 15 * MIN);
    assert.equal(auth.authenticate(a.access_token).user.login, 'ann');
    assert.equal(users.list()[0].last_active, now);

    now += 16 * MIN;
    assert.throws(() => auth.authenticate(a.access_token), /access token has expired/);
    const b = auth.refresh(a.refresh_token);
    assert.equal(b.password_change_required, false);
    assert.equal(auth.authenticate(b.access_token).user.login, 'ann');
    assert.throws(() => auth.refresh(a.refresh_token), /refresh token is unknown, expired or logged out/);
    assert.equal(auth.sessionUser(b.session.id).user.login, 'ann', 'the session id names a live session');

    assert.equal(auth.logout(b.access_token), true);
    assert.throws(() => auth.authenticate(b.access_token), (e: ApiError) => e.status === 401);
    assert.throws(() => auth.refresh(b.refresh_token), (e: ApiError) => e.status === 401);
    assert.throws(() => auth.sessionUser(b.session.id), (e: ApiError) => e.status === 401 && /session is unknown, expired or logged out/.test(e.message));
    assert.throws(() => auth.sessionUser('no-such-session'), (e: ApiError) => e.status === 401);
    assert.throws(() => auth.authenticate(undefined), /log in first/);
  });

  it('never locks an account for good: failures slow logins down, then the right password works', async () => {
    await users.create({ login: 'bob', name: 'Bob', password: 'stone-s3cret-pw', role: 'operator' });
    for (let i = 0; i < 3; i++) await rejectsWith(auth.login('bob', 'guess' + i, { ip: '10.0.0.7' }), 401, /^wrong login or password$/);
    await rejectsWith(auth.login('bob', 'stone-s3cret-pw', { ip: '10.0.0.7' }), 429, /retry_after: 1 s/);
    now += 1000;
    const ok = await auth.login('bob', 'stone-s3cret-pw', { ip: '10.0.0.7' });
    assert.equal(ok.session.user.login, 'bob');
    await rejectsWith(auth.login('nobody', 'whatever1'), 401, /^wrong login or password$/);
  });

  it('ends sessions of a deactivated user (who then gets the same 401 as a wrong password) and keeps at least one active admin', async () => {
    const admin = await users.create({ login: 'root', name: 'Root', password: 'r00t-pass-word', role: 'admin' });
    const v = await users.create({ login: 'viv', name: 'Viv', password: 'cloud-s3cret-pw', role: 'viewer' });
    const s = await auth.login('viv', 'cloud-s3cret-pw');
    await users.update(v.id, { active: false });
    assert.throws(() => auth.authenticate(s.access_token), (e: ApiError) => e.status === 401);
    assert.throws(() => auth.sessionUser(s.session.id), (e: ApiError) => e.status === 401);
    await rejectsWith(auth.login('viv', 'cloud-s3cret-pw'), 401, /^wrong login or password$/);
    await rejectsWith(users.update(admin.id, { role: 'viewer' }), 409, /last active admin/);
    await rejectsWith(() => users.delete(admin.id), 409, /last active admin/);
    users.delete(v.id);
    assert.deepEqual(users.list().map((u) => u.login), ['root']);
  });

  it('creates the first admin from EMS_ADMIN_USER/PASSWORD (which must pass the rules), or the demo admin flagged to change its password', async () => {
    await assert.rejects(ensureAdmin(users, { EMS_ADMIN_USER: 'boss', EMS_ADMIN_PASSWORD: 'boss-secret' }), /EMS_ADMIN_PASSWORD is refused: password must not be or contain the login "boss"/);
    await assert.rejects(ensureAdmin(users, { EMS_ADMIN_PASSWORD: 'short' }), /EMS_ADMIN_PASSWORD is refused: password must be 10 to 1024 characters/);
    await assert.rejects(ensureAdmin(users, { EMS_ADMIN_PASSWORD: 'password123' }), /EMS_ADMIN_PASSWORD is refused: password is on the list of common passwords/);
    assert.equal(users.count(), 0);
    const r = await ensureAdmin(users, { EMS_ADMIN_USER: 'boss', EMS_ADMIN_PASSWORD: 'chief-pass-0417' });
    assert.equal(r.created?.role, 'admin');
    assert.equal(r.warning, null);
    assert.equal((await auth.login('boss', 'chief-pass-0417')).password_change_required, false);
    assert.equal((await ensureAdmin(users, {})).created, null, 'only on first start');

    const db2 = openEmsDb(':memory:');
    const users2 = new UserService(db2);
    const d = await ensureAdmin(users2, {});
    assert.equal(d.created?.login, DEMO_ADMIN.login);
    assert.match(d.warning ?? '', /still has the demo password/);
    const demo = await new AuthService(db2, users2).login(DEMO_ADMIN.login, DEMO_ADMIN.password);
    assert.equal(demo.password_change_required, true);
  });
});
