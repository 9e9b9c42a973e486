/**
 * EMS users (the data dictionary's users: name, login, password, active, last_active, open_page,
 * open_folders, open_factory, role). Roles: admin (everything, users), operator (configures meters),
 * viewer (reads). open_folders limits the meters a user sees; empty = every folder.
 */
import crypto from 'node:crypto';
import type { EmsDatabase } from './db';
import { ApiError } from './envelope';
import { hashPassword, passwordProblem, MAX_PASSWORD_LENGTH } from './passwords';

export { MIN_PASSWORD_LENGTH } from './passwords';

export type Role = 'admin' | 'operator' | 'viewer';
export const ROLES: readonly Role[] = ['admin', 'operator', 'viewer'];

export interface User {
  id: string;
  login: string;
  name: string;
  role: Role;
  active: boolean;
  /** Epoch ms of the last authenticated request, null before the first. */
  last_active: number | null;
  open_page: string | null;
  open_folders: string[];
  open_factory: string | null;
  created_at: number;
  updated_at: number;
}

/** Fields a client may send to create (login, name, password and role required) or update a user. */
export interface UserInput {
  login?: unknown;
  name?: unknown;
  password?: unknown;
  role?: unknown;
  active?: unknown;
  open_page?: unknown;
  open_folders?: unknown;
  open_factory?: unknown;
}

interface UserRow {
  id: string; login: string; name: string; password_hash: string; role: Role; active: number; last_active: number | null;
  open_page: string | null; open_folders: string; open_factory: string | null; failed_logins: number; locked_until: number | null;
  must_change_password: number; created_at: number; updated_at: number;
}

/** Only for the demo admin of ensureAdmin: skip the password rules, ask for a change at first login. */
export interface InternalCreate { bypassPasswordRules?: boolean; mustChangePassword?: boolean }

const LOGIN = /^[A-Za-z0-9._@-]{1,64}$/;
const INPUT_FIELDS = ['login', 'name', 'password', 'role', 'active', 'open_page', 'open_folders', 'open_factory'];

function bad(field: string, value: unknown, rule: string): never {
  throw new ApiError(400, `${field} ${JSON.stringify(value)} ${rule}`);
}

/** 400 naming the rule a new password breaks. */
export function checkPasswordRules(password: unknown, login: string): void {
  const problem = passwordProblem(password, login);
  if (problem) throw new ApiError(400, problem);
}

function toUser(row: UserRow): User {
  return {
    id: row.id, login: row.login, name: row.name, role: row.role, active: row.active === 1, last_active: row.last_active,
    open_page: row.open_page, open_folders: JSON.parse(row.open_folders) as string[], open_factory: row.open_factory,
    created_at: row.created_at, updated_at: row.updated_at,
  };
}

function optionalText(field: string, v: unknown, max: number): string | null {
  if (v === null || v === '') return null;
  if (typeof v !== 'string' || v.length > max) bad(field, v, `must be a string of at most ${max} characters`);
  return v;
}

/** Validates an input; with `creating`, login, name, password and role are required. */
function checkInput(input: UserInput, creating: boolean): Record<string, unknown> {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) throw new ApiError(400, 'the body must be a JSON object with the user\'s fields');
  for (const key of Object.keys(input)) {
    if (!INPUT_FIELDS.includes(key)) throw new ApiError(400, `unknown field "${key}" (use ${INPUT_FIELDS.join(', ')})`);
  }
  const out: Record<string, unknown> = {};
  const has = (k: keyof UserInput) => input[k] !== undefined;
  for (const k of ['login', 'name', 'password', 'role'] as const) {
    if (creating && !has(k)) throw new ApiError(400, `${k} is required`);
  }
  if (has('login')) {
    if (typeof input.login !== 'string' || !LOGIN.test(input.login)) bad('login', input.login, 'must be 1-64 letters, digits or . _ @ -');
    out.login = input.login;
  }
  if (has('name')) {
    if (typeof input.name !== 'string' || input.name.trim() === '' || input.name.length > 200) bad('name', input.name, 'must be a non-empty string of at most 200 characters');
    out.name = input.name.trim();
  }
  if (has('password')) {
    if (typeof input.password !== 'string' || input.password === '' || input.password.length > MAX_PASSWORD_LENGTH) {
      throw new ApiError(400, `password must be a string of at most ${MAX_PASSWORD_LENGTH} characters`);
    }
    out.password = input.password;
  }
  if (has('role')) {
    if (!ROLES.includes(input.role as Role)) bad('role', input.role, `must be one of ${ROLES.join(', ')}`);
    out.role = input.role;
  }
  if (has('active')) {
    if (typeof input.active !== 'boolean') bad('active', input.active, 'must be true or false');
    out.active = input.active ? 1 : 0;
  }
  if (has('open_page')) out.open_page = optionalText('open_page', input.open_page, 500);
  if (has('open_factory')) out.open_factory = optionalText('open_factory', input.open_factory, 200);
  if (has('open_folders')) {
    const f = input.open_folders;
    if (!Array.isArray(f) || f.length > 10_000 || !f.every((x) => typeof x === 'string' && x !== '' && x.length <= 100)) {
      bad('open_folders', f, 'must be an array of folder ids (strings)');
    }
    out.open_folders = JSON.stringify([...new Set(f as string[])]);
  }
  return out;
}

export class UserService {
  constructor(private readonly db: EmsDatabase, private readonly now: () => number = Date.now) {}

  list(): User[] {
    return (this.db.prepare('SELECT * FROM users ORDER BY login').all() as UserRow[]).map(toUser);
  }

  count(): number {
    return (this.db.prepare('SELECT COUNT(*) AS n FROM users').get() as { n: number }).n;
  }

  get(id: string): User {
    const row = this.db.prepare('SELECT * FROM users WHERE id = ?').get(id) as UserRow | undefined;
    if (!row) throw new ApiError(404, `unknown user "${id}"`);
    return toUser(row);
  }

  /** The stored row with its password hash, for the auth service only. */
  credentialsByLogin(login: string): UserRow | undefined {
    return this.db.prepare('SELECT * FROM users WHERE login = ?').get(login) as UserRow | undefined;
  }

  credentialsById(id: string): UserRow | undefined {
    return this.db.prepare('SELECT * FROM users WHERE id = ?').get(id) as UserRow | undefined;
  }

  /** True until the user sets a password of their own (the demo admin). */
  mustChangePassword(id: string): boolean {
    return this.credentialsById(id)?.must_change_password === 1;
  }

  setMustChangePassword(id: string, flag: boolean): void {
    this.db.prepare('UPDATE users SET must_change_password = ? WHERE id = ?').run(flag ? 1 : 0, id);
  }

  async create(input: UserInput, internal: InternalCreate = {}): Promise<User> {
    const f = checkInput(input, true);
    if (!internal.bypassPasswordRules) checkPasswordRules(f.password, f.login as string);
    if (this.credentialsByLogin(f.login as string)) throw new ApiError(409, `login ${JSON.stringify(f.login)} is taken`);
    const id = crypto.randomUUID();
    const t = this.now();
    const hash = await hashPassword(f.password as string);
    this.db.prepare(`INSERT INTO users (id, login, name, password_hash, role, active, open_page, open_folders, open_factory, must_change_password, created_at, updated_at)
      VALUES (@id, @login, @name, @hash, @role, @active, @open_page, @open_folders, @open_factory, @must, @t, @t)`).run({
      id, login: f.login, name: f.name, hash, role: f.role, active: f.active ?? 1, open_page: f.open_page ?? null,
      open_folders: f.open_folders ?? '[]', open_factory: f.open_factory ?? null, must: internal.mustChangePassword ? 1 : 0, t,
    });
    return this.get(id);
  }

  /**
   * A user's own password change: applies the rules, clears must_change_password and ends the
   * user's other sessions (all of them without `keepSession`).
   */
  async setPassword(id: string, password: unknown, keepSession?: string | null): Promise<void> {
    const user = this.get(id);
    checkPasswordRules(password, user.login);
    const hash = await hashPassword(password as string);
    this.db.prepare('UPDATE users SET password_hash = ?, must_change_password = 0, updated_at = ? WHERE id = ?').run(hash, this.now(), id);
    this.db.prepare('UPDATE sessions SET ended_at = ? WHERE user_id = ? AND ended_at IS NULL AND id IS NOT ?').run(this.now(), id, keepSession ?? null);
  }

  /** Changes the given fields; refuses to leave the EMS without an active admin. */
  async update(id: string, input: UserInput): Promise<User> {
    const before = this.get(id);
    const f = checkInput(input, false);
    if (f.login !== undefined) {
      const other = this.credentialsByLogin(f.login as string);
      if (other && other.id !== id) throw new ApiError(409, `login ${JSON.stringify(f.login)} is taken`);
    }
    if (f.password !== undefined) checkPasswordRules(f.password, (f.login as string | undefined) ?? before.login);
    if (before.role === 'admin' && before.active && ((f.role !== undefined && f.role !== 'admin') || f.active === 0)) this.keepAnAdmin(id);
    const sets: string[] = [];
    const values: Record<string, unknown> = { id, t: this.now() };
    for (const [k, v] of Object.entries(f)) {
      if (k === 'password') continue;
      sets.push(`${k} = @${k}`);
      values[k] = v;
    }
    if (f.password !== undefined) {
      sets.push('password_hash = @hash', 'must_change_password = 0');
      values.hash = await hashPassword(f.password as string);
    }
    this.db.prepare(`UPDATE users SET ${[...sets, 'updated_at = @t'].join(', ')} WHERE id = @id`).run(values);
    // A deactivated user or a changed password ends the user's sessions.
    if (f.active === 0 || f.password !== undefined) this.db.prepare('UPDATE sessions SET ended_at = ? WHERE user_id = ? AND ended_at IS NULL').run(this.now(), id);
    return this.get(id);
  }

  delete(id: string): void {
    const user = this.get(id);
    if (user.role === 'admin' && user.active) this.keepAnAdmin(id);
    this.db.prepare('DELETE FROM users WHERE id = ?').run(id);
  }

  touch(id: string, time: number): void {
    this.db.prepare('UPDATE users SET last_active = ? WHERE id = ?').run(time, id);
  }

  private keepAnAdmin(leaving: string): void {
    const others = (this.db.prepare("SELECT COUNT(*) AS n FROM users WHERE role = 'admin' AND active = 1 AND id <> ?").get(leaving) as { n: number }).n;
    if (others === 0) throw new ApiError(409, 'the last active admin cannot be removed, deactivated or demoted');
  }
}
