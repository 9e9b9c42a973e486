/**
 * Login, refresh, logout and token checks for the EMS API. A session holds a short-lived access
 * token (the access_token cookie or `Authorization: Bearer`) and a longer refresh token; only their
 * SHA-256 hashes are stored. Failed logins slow down per source, per (login, source) and per account
 * (lib/ems/login-throttle.ts); every answer to a refused login is the same 401 (or 429), whether the
 * login is unknown, deactivated or the password wrong. Optional single-use login nonces implement
 * the data dictionary's handshake (hash -> secret_word/id -> key with username/password).
 */
import crypto from 'node:crypto';
import type { EmsDatabase } from './db';
import { ApiError } from './envelope';
import type { EventLog, NewEvent } from './event-log';
import { LoginThrottle, type Reservation, type ThrottleOptions } from './login-throttle';
import { newToken, passwordProblem, tokenHash, verifyPassword } from './passwords';
import { UserService, type Role, type User } from './users';

export interface AuthOptions {
  accessTtlMs?: number;
  refreshTtlMs?: number;
  /** last_active is written at most this often per user. */
  touchEveryMs?: number;
  /** Live sessions per user; opening one more ends the oldest. */
  maxSessionsPerUser?: number;
  /** How long a login nonce (secret_word) stays valid. */
  nonceTtlMs?: number;
  /** Live nonces kept at most (the oldest go first). */
  maxNonces?: number;
  throttle?: ThrottleOptions;
}

export const AUTH_DEFAULTS = {
  accessTtlMs: 15 * 60_000,
  refreshTtlMs: 7 * 24 * 3_600_000,
  touchEveryMs: 60_000,
  maxSessionsPerUser: 20,
  nonceTtlMs: 60_000,
  maxNonces: 10_000,
};

export interface SessionInfo {
  id: string;
  user: { id: string; login: string; name: string; role: Role; open_page: string | null; open_folders: string[]; open_factory: string | null };
  access_expires: number;
  refresh_expires: number;
}

export interface LoginAnswer {
  access_token: string;
  refresh_token: string;
  session: SessionInfo;
  /** True until the user sets a password of their own (the demo admin). */
  password_change_required: boolean;
}

/** Where a login comes from; a missing ip (a flow-internal call) counts as "unknown". */
export interface LoginSource { ip?: string }

interface SessionRow {
  id: string; user_id: string; access_expires: number; refresh_expires: number; ended_at: number | null;
}

/** A password check against this hash costs as much as a real one, so unknown logins take as long. */
const DUMMY_HASH = 'scrypt$16384$8$1$AAAAAAAAAAAAAAAAAAAAAA==$' + Buffer.alloc(64).toString('base64');

export const WRONG_LOGIN = 'wrong login or password';
export const BAD_LOGIN_KEY = 'login key is unknown, used or expired';

export function sourceIp(source?: LoginSource): string {
  const ip = source?.ip;
  return typeof ip === 'string' && ip !== '' ? ip.slice(0, 100) : 'unknown';
}

/** "<login>@<ip>" for events, without control characters. */
function who(login: string, ip: string): string {
  return `${login.slice(0, 64).replace(/[\x00-\x1f\x7f]/g, '?')}@${ip}`;
}

export class AuthService {
  private readonly opts: typeof AUTH_DEFAULTS;
  readonly throttle: LoginThrottle;
  private events: EventLog | undefined;

  constructor(private readonly db: EmsDatabase, readonly users: UserService, options: AuthOptions & { events?: EventLog } = {}, private readonly now: () => number = Date.now) {
    const { throttle, events, ...rest } = options;
    this.opts = { ...AUTH_DEFAULTS, ...rest };
    this.throttle = new LoginThrottle(db, throttle, now);
    this.events = events;
  }

  /** Where logins, failed logins and throttling are logged. */
  setEventLog(events: EventLog): void {
    this.events = events;
  }

  /**
   * Checks login and password. The attempt is counted before the password is hashed, so parallel
   * attempts cannot slip through a wait; unknown, deactivated and wrong all answer the same 401.
   */
  async login(login: unknown, password: unknown, source?: LoginSource): Promise<LoginAnswer> {
    if (typeof login !== 'string' || login === '') throw new ApiError(400, 'login is required (a string)');
    if (typeof password !== 'string' || password === '') throw new ApiError(400, 'password is required (a string)');
    const ip = sourceIp(source);
    // No login is longer than 64 characters: a longer one is no account, and only its start is kept in counters and events.
    const name = login.slice(0, 100);
    const reservation = this.throttle.reserve(name, ip);
    const row = login.length <= 100 ? this.users.credentialsByLogin(login) : undefined;
    const valid = await verifyPassword(password.slice(0, 4096), row?.password_hash ?? DUMMY_HASH);
    if (!row || !valid || row.active !== 1) {
      this.refused(reservation, name, ip, !row ? 'unknown login' : !valid ? 'wrong password' : 'account deactivated');
      throw new ApiError(401, WRONG_LOGIN);
    }
    this.throttle.succeeded(reservation);
    const t = this.now();
    this.db.prepare('UPDATE users SET last_active = ? WHERE id = ?').run(t, row.id);
    this.log({ kind: 'login', level: 'info', event: 'login', value: row.login, source: who(row.login, ip) });
    return this.openSession(row.id, t);
  }

  /**
   * A user changes their own password: checks the old one (throttled like a login), applies the
   * password rules, clears password_change_required and ends the user's other sessions.
   */
  async changePassword(userId: string, sessionId: string | null, oldPassword: unknown, newPassword: unknown, source?: LoginSource): Promise<void> {
    if (typeof oldPassword !== 'string' || oldPassword === '') throw new ApiError(400, 'old_password is required (a string)');
    if (typeof newPassword !== 'string' || newPassword === '') throw new ApiError(400, 'new_password is required (a string)');
    const row = this.users.credentialsById(userId);
    if (!row) throw new ApiError(400, 'only EMS users have a password to change');
    const problem = passwordProblem(newPassword, row.login);
    if (problem) throw new ApiError(400, `new_password: ${problem.replace(/^password /, '')}`);
    if (newPassword === oldPassword) throw new ApiError(400, 'new_password must differ from old_password');
    const ip = sourceIp(source);
    const reservation = this.throttle.reserve(row.login, ip);
    if (!(await verifyPassword(oldPassword.slice(0, 4096), row.password_hash))) {
      this.refused(reservation, row.login, ip, 'wrong old password at password change');
      throw new ApiError(403, 'old_password is wrong');
    }
    this.throttle.succeeded(reservation);
    await this.users.setPassword(userId, newPassword, sessionId);
    this.log({ kind: 'security', level: 'info', event: 'password changed', value: row.login, source: who(row.login, ip) });
  }

  /** A new login nonce (the dictionary's secret_word and id), single use, valid nonceTtlMs. */
  issueNonce(hash?: unknown): { secret_word: string; id: string } {
    if (hash !== undefined && hash !== null && (typeof hash !== 'string' || hash.length > 512)) {
      throw new ApiError(400, 'hash must be a string of at most 512 characters');
    }
    const t = this.now();
    const secret = newToken();
    const id = crypto.randomUUID();
    this.db.transaction(() => {
      this.db.prepare('DELETE FROM login_nonces WHERE expires <= ?').run(t);
      this.db.prepare('INSERT INTO login_nonces (hash, id, created_at, expires) VALUES (?, ?, ?, ?)').run(tokenHash(secret), id, t, t + this.opts.nonceTtlMs);
      this.db.prepare('DELETE FROM login_nonces WHERE hash IN (SELECT hash FROM login_nonces ORDER BY created_at DESC, rowid DESC LIMIT -1 OFFSET ?)').run(this.opts.maxNonces);
    })();
    return { secret_word: secret, id };
  }

  /** Uses up a login key (a secret_word); 401 when it is unknown, used or expired. */
  consumeNonce(key: unknown): void {
    if (typeof key !== 'string' || key === '' || key.length > 200) throw new ApiError(401, BAD_LOGIN_KEY);
    const row = this.db.prepare('DELETE FROM login_nonces WHERE hash = ? RETURNING expires').get(tokenHash(key)) as { expires: number } | undefined;
    if (!row || row.expires <= this.now()) throw new ApiError(401, BAD_LOGIN_KEY);
  }

  /** A new access token (and a new refresh token: the old one stops working) for a live session. */
  refresh(refreshToken: unknown): LoginAnswer {
    if (typeof refreshToken !== 'string' || refreshToken === '') throw new ApiError(400, 'refresh_token is required (a string)');
    const t = this.now();
    const row = this.db.prepare('SELECT * FROM sessions WHERE refresh_hash = ?').get(tokenHash(refreshToken)) as SessionRow | undefined;
    if (!row || row.ended_at !== null || row.refresh_expires <= t) throw new ApiError(401, 'the refresh token is unknown, expired or logged out; log in again');
    const user = this.users.get(row.user_id);
    if (!user.active) throw new ApiError(403, `account "${user.login}" is deactivated`);
    const access = newToken();
    const refresh = newToken();
    this.db.prepare('UPDATE sessions SET access_hash = ?, access_expires = ?, refresh_hash = ?, refresh_expires = ? WHERE id = ?')
      .run(tokenHash(access), t + this.opts.accessTtlMs, tokenHash(refresh), t + this.opts.refreshTtlMs, row.id);
    return { access_token: access, refresh_token: refresh, session: this.sessionInfo(row.id, user), password_change_required: this.users.mustChangePassword(user.id) };
  }

  /** Ends the session of an access or refresh token; true when one was live. */
  logout(token: string): boolean {
    const h = tokenHash(token);
    const r = this.db.prepare('UPDATE sessions SET ended_at = ? WHERE (access_hash = ? OR refresh_hash = ?) AND ended_at IS NULL').run(this.now(), h, h);
    return r.changes > 0;
  }

  /** The user behind a live access token, or a 401 ApiError. Updates last_active. */
  authenticate(accessToken: string | undefined): { user: User; sessionId: string } {
    if (!accessToken) throw new ApiError(401, 'log in first: no access token (access_token cookie or Authorization: Bearer)');
    const t = this.now();
    const row = this.db.prepare('SELECT * FROM sessions WHERE access_hash = ?').get(tokenHash(accessToken)) as SessionRow | undefined;
    if (!row || row.ended_at !== null) throw new ApiError(401, 'the access token is unknown or logged out; log in again');
    if (row.access_expires <= t) throw new ApiError(401, 'the access token has expired; refresh it or log in again');
    return { user: this.activeUser(row.user_id, t), sessionId: row.id };
  }

  /**
   * The user of a live session by its id (the dashboard's socket knows the session id, not the
   * token): 401 when the session ended, can no longer be refreshed, or the user is inactive.
   */
  sessionUser(sessionId: string): { user: User; sessionId: string } {
    const t = this.now();
    const row = typeof sessionId === 'string' && sessionId !== ''
      ? this.db.prepare('SELECT * FROM sessions WHERE id = ?').get(sessionId) as SessionRow | undefined : undefined;
    if (!row || row.ended_at !== null || row.refresh_expires <= t) throw new ApiError(401, 'the session is unknown, expired or logged out; log in again');
    return { user: this.activeUser(row.user_id, t), sessionId: row.id };
  }

  /** True until the user sets a password of their own. */
  passwordChangeRequired(userId: string): boolean {
    return this.users.mustChangePassword(userId);
  }

  /**
   * Deletes sessions that ended or expired more than a day ago, forgotten throttle counters and
   * expired nonces; returns how many sessions.
   */
  prune(): number {
    const t = this.now();
    const cutoff = t - 24 * 3_600_000;
    this.throttle.prune();
    this.db.prepare('DELETE FROM login_nonces WHERE expires <= ?').run(t);
    return this.db.prepare('DELETE FROM sessions WHERE (ended_at IS NOT NULL AND ended_at < ?) OR refresh_expires < ?').run(cutoff, cutoff).changes;
  }

  private activeUser(userId: string, t: number): User {
    const user = this.users.get(userId);
    if (!user.active) throw new ApiError(401, `account "${user.login}" is deactivated`);
    if (user.last_active === null || t - user.last_active >= this.opts.touchEveryMs) {
      this.users.touch(user.id, t);
      user.last_active = t;
    }
    return user;
  }

  private refused(r: Reservation, login: string, ip: string, reason: string): void {
    this.log({ kind: 'login', level: 'warning', event: 'login failed', value: reason, source: who(login, ip) });
    for (const w of r.started) {
      this.log({ kind: 'security', level: 'warning', event: `logins throttled: ${w.scope} waits ${Math.ceil(w.waitMs / 1000)} s`, value: w.scope, source: who(login, ip) });
    }
  }

  private log(e: NewEvent): void {
    try {
      this.events?.add(e);
    } catch {
      // the log is best effort: a full disk must not turn a login into a 500
    }
  }

  private openSession(userId: string, t: number): LoginAnswer {
    const id = crypto.randomUUID();
    const access = newToken();
    const refresh = newToken();
    this.db.transaction(() => {
      this.db.prepare(`INSERT INTO sessions (id, user_id, access_hash, access_expires, refresh_hash, refresh_expires, created_at)
        VALUES (?, ?, ?, ?, ?, ?, ?)`).run(id, userId, tokenHash(access), t + this.opts.accessTtlMs, tokenHash(refresh), t + this.opts.refreshTtlMs, t);
      // At most maxSessionsPerUser live sessions: the oldest go.
      this.db.prepare(`DELETE FROM sessions WHERE id IN (SELECT id FROM sessions WHERE user_id = ? AND ended_at IS NULL
        ORDER BY created_at DESC, rowid DESC LIMIT -1 OFFSET ?)`).run(userId, this.opts.maxSessionsPerUser);
    })();
    return {
      access_token: access, refresh_token: refresh, session: this.sessionInfo(id, this.users.get(userId)),
      password_change_required: this.users.mustChangePassword(userId),
    };
  }

  private sessionInfo(id: string, user: User): SessionInfo {
    const row = this.db.prepare('SELECT * FROM sessions WHERE id = ?').get(id) as SessionRow;
    return {
      id,
      user: { id: user.id, login: user.login, name: user.name, role: user.role, open_page: user.open_page, open_folders: user.open_folders, open_factory: user.open_factory },
      access_expires: row.access_expires,
      refresh_expires: row.refresh_expires,
    };
  }
}

export const DEMO_ADMIN = { login: 'admin', password: 'ems-admin' };

/**
 * On first start (no users yet) creates the admin from EMS_ADMIN_USER / EMS_ADMIN_PASSWORD (which
 * must pass the password rules, else this throws naming EMS_ADMIN_PASSWORD), or the documented demo
 * admin, which skips the rules. An admin that still has the demo password must change it at its
 * next login (password_change_required) and the answer carries a warning.
 */
export async function ensureAdmin(users: UserService, env: { EMS_ADMIN_USER?: string; EMS_ADMIN_PASSWORD?: string }): Promise<{ created: User | null; warning: string | null }> {
  const login = env.EMS_ADMIN_USER || DEMO_ADMIN.login;
  let created: User | null = null;
  if (users.count() === 0) {
    const input = { login, name: 'Administrator', role: 'admin' };
    if (env.EMS_ADMIN_PASSWORD) {
      const problem = passwordProblem(env.EMS_ADMIN_PASSWORD, login);
      if (problem) throw new Error(`EMS_ADMIN_PASSWORD is refused: ${problem}. Set EMS_ADMIN_PASSWORD to a stronger password (or leave it unset for the demo admin)`);
      created = await users.create({ ...input, password: env.EMS_ADMIN_PASSWORD });
    } else {
      created = await users.create({ ...input, password: DEMO_ADMIN.password }, { bypassPasswordRules: true, mustChangePassword: true });
    }
  }
  let demoLogin: string | null = null;
  for (const l of new Set([login, DEMO_ADMIN.login])) {
    const admin = users.credentialsByLogin(l);
    if (admin && admin.active === 1 && (await verifyPassword(DEMO_ADMIN.password, admin.password_hash))) {
      if (admin.must_change_password !== 1) users.setMustChangePassword(admin.id, true);
      demoLogin ??= admin.login;
    }
  }
  return {
    created,
    warning: demoLogin ? `the EMS admin "${demoLogin}" still has the demo password; set EMS_ADMIN_PASSWORD before first start or change it through the API (POST /api/auth/password)` : null,
  };
}
