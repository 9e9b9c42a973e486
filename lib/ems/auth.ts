/**
 * Login, refresh, logout and token checks for the EMS API. A session holds a short-lived access
 * token (the access_token cookie or `Authorization: Bearer`) and a longer refresh token; only their
 * SHA-256 hashes are stored. Repeated failed logins lock the account for a while.
 */
import crypto from 'node:crypto';
import type { EmsDatabase } from './db';
import { ApiError } from './envelope';
import { newToken, tokenHash, verifyPassword } from './passwords';
import { UserService, type Role, type User } from './users';

export interface AuthOptions {
  accessTtlMs?: number;
  refreshTtlMs?: number;
  /** Failed logins in a row that lock the account. */
  maxFailedLogins?: number;
  lockoutMs?: number;
  /** last_active is written at most this often per user. */
  touchEveryMs?: number;
}

export const AUTH_DEFAULTS: Required<AuthOptions> = {
  accessTtlMs: 15 * 60_000,
  refreshTtlMs: 7 * 24 * 3_600_000,
  maxFailedLogins: 5,
  lockoutMs: 15 * 60_000,
  touchEveryMs: 60_000,
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
}

interface SessionRow {
  id: string; user_id: string; access_expires: number; refresh_expires: number; ended_at: number | null;
}

/** A password check against this hash costs as much as a real one, so unknown logins take as long. */
const DUMMY_HASH = 'scrypt$16384$8$1$AAAAAAAAAAAAAAAAAAAAAA==$' + Buffer.alloc(64).toString('base64');

export class AuthService {
  private readonly opts: Required<AuthOptions>;

  constructor(private readonly db: EmsDatabase, readonly users: UserService, options: AuthOptions = {}, private readonly now: () => number = Date.now) {
    this.opts = { ...AUTH_DEFAULTS, ...options };
  }

  async login(login: unknown, password: unknown): Promise<LoginAnswer> {
    if (typeof login !== 'string' || login === '') throw new ApiError(400, 'login is required (a string)');
    if (typeof password !== 'string' || password === '') throw new ApiError(400, 'password is required (a string)');
    const row = this.users.credentialsByLogin(login);
    const t = this.now();
    if (row?.locked_until && row.locked_until > t) {
      throw new ApiError(423, `account "${row.login}" is locked after ${this.opts.maxFailedLogins} failed logins; try again after ${new Date(row.locked_until).toISOString()}`);
    }
    const valid = await verifyPassword(password, row?.password_hash ?? DUMMY_HASH);
    if (!row || !valid) {
      if (row) this.recordFailure(row.id, row.failed_logins + 1, t);
      throw new ApiError(401, 'wrong login or password');
    }
    if (row.active !== 1) throw new ApiError(403, `account "${row.login}" is deactivated`);
    this.db.prepare('UPDATE users SET failed_logins = 0, locked_until = NULL, last_active = ? WHERE id = ?').run(t, row.id);
    return this.openSession(row.id, t);
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
    return { access_token: access, refresh_token: refresh, session: this.sessionInfo(row.id, user) };
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
    const user = this.users.get(row.user_id);
    if (!user.active) throw new ApiError(401, `account "${user.login}" is deactivated`);
    if (user.last_active === null || t - user.last_active >= this.opts.touchEveryMs) {
      this.users.touch(user.id, t);
      user.last_active = t;
    }
    return { user, sessionId: row.id };
  }

  /**
   * The user of a live session by its id (the dashboard's socket knows the id, not the token), or
   * a 401 ApiError when the session ended, expired or its user is inactive.
   * (Minimal version by KEYS; AUTH owns this file.)
   */
  sessionUser(sessionId: string): { user: User; sessionId: string } {
    if (typeof sessionId !== 'string' || sessionId === '') throw new ApiError(401, 'no EMS session: log in to the dashboard first');
    const row = this.db.prepare('SELECT * FROM sessions WHERE id = ?').get(sessionId) as SessionRow | undefined;
    if (!row || row.ended_at !== null) throw new ApiError(401, 'the EMS session is unknown or logged out; log in again');
    if (row.refresh_expires <= this.now()) throw new ApiError(401, 'the EMS session has expired; log in again');
    const user = this.users.get(row.user_id);
    if (!user.active) throw new ApiError(401, `account "${user.login}" is deactivated`);
    return { user, sessionId: row.id };
  }

  /** Deletes sessions that ended or expired more than a day ago; returns how many. */
  prune(): number {
    const cutoff = this.now() - 24 * 3_600_000;
    return this.db.prepare('DELETE FROM sessions WHERE (ended_at IS NOT NULL AND ended_at < ?) OR refresh_expires < ?').run(cutoff, cutoff).changes;
  }

  private recordFailure(userId: string, failures: number, t: number): void {
    const lock = failures >= this.opts.maxFailedLogins;
    this.db.prepare('UPDATE users SET failed_logins = ?, locked_until = ? WHERE id = ?').run(lock ? 0 : failures, lock ? t + this.opts.lockoutMs : null, userId);
  }

  private openSession(userId: string, t: number): LoginAnswer {
    const id = crypto.randomUUID();
    const access = newToken();
    const refresh = newToken();
    this.db.prepare(`INSERT INTO sessions (id, user_id, access_hash, access_expires, refresh_hash, refresh_expires, created_at)
      VALUES (?, ?, ?, ?, ?, ?, ?)`).run(id, userId, tokenHash(access), t + this.opts.accessTtlMs, tokenHash(refresh), t + this.opts.refreshTtlMs, t);
    return { access_token: access, refresh_token: refresh, session: this.sessionInfo(id, this.users.get(userId)) };
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
 * On first start (no users yet) creates the admin from EMS_ADMIN_USER / EMS_ADMIN_PASSWORD, or the
 * documented demo defaults. Returns a warning while the admin still uses the demo password.
 */
export async function ensureAdmin(users: UserService, env: { EMS_ADMIN_USER?: string; EMS_ADMIN_PASSWORD?: string }): Promise<{ created: User | null; warning: string | null }> {
  const login = env.EMS_ADMIN_USER || DEMO_ADMIN.login;
  const password = env.EMS_ADMIN_PASSWORD || DEMO_ADMIN.password;
  let created: User | null = null;
  if (users.count() === 0) created = await users.create({ login, name: 'Administrator', password, role: 'admin' });
  const admin = users.credentialsByLogin(DEMO_ADMIN.login);
  const demo = admin && admin.active === 1 && (await verifyPassword(DEMO_ADMIN.password, admin.password_hash));
  return {
    created,
    warning: demo ? `the EMS admin "${DEMO_ADMIN.login}" still has the demo password; set EMS_ADMIN_PASSWORD before first start or change it through the API` : null,
  };
}
