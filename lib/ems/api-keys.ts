/**
 * API keys for programs: a named key with a role, an optional folder scope and an optional expiry.
 * The plaintext `emsk_<12 hex id>_<43 base64url secret>` is shown once at creation; only its SHA-256
 * hash is stored. A revoked key stays in the table for the record. A key acts as a synthetic user
 * { id: 'key:<id>', login: 'key:<name>' } limited by its role and folders exactly like a person.
 */
import crypto from 'node:crypto';
import type { EmsDatabase } from './db';
import { ApiError } from './envelope';
import { parseDateParam } from './event-log';
import { tokenHash } from './passwords';
import { ROLES, type Role, type User } from './users';

export type ApiKeyState = 'active' | 'expired' | 'revoked';

/** A key's metadata: never its secret or hash. */
export interface ApiKey {
  id: string;
  name: string;
  role: Role;
  open_folders: string[];
  /** Epoch ms, null = never expires. */
  expires_at: number | null;
  created_by: string | null;
  created_at: number;
  last_used_at: number | null;
  last_used_from: string | null;
  revoked_at: number | null;
  revoked_by: string | null;
  state: ApiKeyState;
}

export interface ApiKeyInput { name?: unknown; role?: unknown; open_folders?: unknown; expires_at?: unknown }

interface ApiKeyRow {
  id: string; name: string; key_hash: string; role: Role; open_folders: string; expires_at: number | null; created_by: string | null;
  created_at: number; last_used_at: number | null; last_used_from: string | null; revoked_at: number | null; revoked_by: string | null;
}

/** The plaintext format; group 1 is the key's id. */
export const API_KEY_PATTERN = /^emsk_([0-9a-f]{12})_([A-Za-z0-9_-]{43})$/;
const NAME = /^[A-Za-z0-9._-]{1,64}$/;
const INPUT_FIELDS = ['name', 'role', 'open_folders', 'expires_at'];
/** last_used_at/last_used_from are written at most this often per key. */
export const KEY_TOUCH_EVERY_MS = 60_000;

export function isApiKey(value: string): boolean {
  return value.startsWith('emsk_');
}

function bad(field: string, value: unknown, rule: string): never {
  throw new ApiError(400, `${field} ${JSON.stringify(value)} ${rule}`);
}

/** The synthetic user a key acts as. */
export function keyUser(key: ApiKey): User {
  return {
    id: `key:${key.id}`, login: `key:${key.name}`, name: `API key ${key.name}`, role: key.role, active: true, last_active: key.last_used_at,
    open_page: null, open_folders: key.open_folders, open_factory: null, created_at: key.created_at, updated_at: key.created_at,
  };
}

export class ApiKeyService {
  constructor(private readonly db: EmsDatabase, private readonly now: () => number = Date.now) {}

  /** Creates a key; the answer's `key` is the only time the plaintext is seen. */
  create(input: ApiKeyInput, by: string | null): { key: string; apiKey: ApiKey } {
    if (typeof input !== 'object' || input === null || Array.isArray(input)) throw new ApiError(400, 'the body must be a JSON object with the key\'s name and role');
    for (const k of Object.keys(input)) if (!INPUT_FIELDS.includes(k)) throw new ApiError(400, `unknown field "${k}" (use ${INPUT_FIELDS.join(', ')})`);
    const t = this.now();
    if (input.name === undefined) throw new ApiError(400, 'name is required');
    if (typeof input.name !== 'string' || !NAME.test(input.name)) bad('name', input.name, 'must be 1-64 letters, digits or . _ -');
    if (input.role === undefined) throw new ApiError(400, 'role is required');
    if (!ROLES.includes(input.role as Role)) bad('role', input.role, `must be one of ${ROLES.join(', ')}`);
    let folders: string[] = [];
    if (input.open_folders !== undefined && input.open_folders !== null) {
      const f = input.open_folders;
      if (!Array.isArray(f) || f.length > 10_000 || !f.every((x) => typeof x === 'string' && x !== '' && x.length <= 100)) bad('open_folders', f, 'must be an array of folder ids (strings)');
      folders = [...new Set(f as string[])];
    }
    let expires: number | null = null;
    if (input.expires_at !== undefined && input.expires_at !== null && input.expires_at !== '') {
      expires = parseDateParam('expires_at', input.expires_at) as number;
      if (expires <= t) bad('expires_at', input.expires_at, `must be in the future (now is ${new Date(t).toISOString()})`);
    }
    if (this.db.prepare('SELECT 1 FROM api_keys WHERE name = ?').get(input.name)) throw new ApiError(409, `name ${JSON.stringify(input.name)} is taken by another API key`);
    const id = crypto.randomBytes(6).toString('hex');
    const key = `emsk_${id}_${crypto.randomBytes(32).toString('base64url')}`;
    this.db.prepare(`INSERT INTO api_keys (id, name, key_hash, role, open_folders, expires_at, created_by, created_at)
      VALUES (?, ?, ?, ?, ?, ?, ?, ?)`).run(id, input.name, tokenHash(key), input.role, JSON.stringify(folders), expires, by, t);
    return { key, apiKey: this.get(id) };
  }

  list(): ApiKey[] {
    return (this.db.prepare('SELECT * FROM api_keys ORDER BY name').all() as ApiKeyRow[]).map((r) => this.toKey(r));
  }

  get(id: string): ApiKey {
    const row = this.db.prepare('SELECT * FROM api_keys WHERE id = ?').get(id) as ApiKeyRow | undefined;
    if (!row) throw new ApiError(404, `unknown API key "${id}"`);
    return this.toKey(row);
  }

  /** Revokes a key (kept for the record); 409 when it already is. */
  revoke(id: string, by: string | null): ApiKey {
    const key = this.get(id);
    if (key.revoked_at !== null) throw new ApiError(409, `API key "${key.name}" was already revoked on ${new Date(key.revoked_at).toISOString()}`);
    this.db.prepare('UPDATE api_keys SET revoked_at = ?, revoked_by = ? WHERE id = ?').run(this.now(), by, id);
    return this.get(id);
  }

  /**
   * The key behind a plaintext, or 401 saying why (malformed, unknown, expired, revoked) without
   * echoing it. Records the last use (at most once a minute) with where it came from.
   */
  authenticate(plaintext: string | undefined, from?: string): { user: User; apiKey: ApiKey } {
    if (!plaintext) throw new ApiError(401, 'no API key given');
    const m = API_KEY_PATTERN.exec(plaintext);
    if (!m) throw new ApiError(401, 'the API key is malformed (expected emsk_<12 hex>_<43 characters>)');
    const row = this.db.prepare('SELECT * FROM api_keys WHERE id = ?').get(m[1]) as ApiKeyRow | undefined;
    const given = Buffer.from(tokenHash(plaintext), 'hex');
    // Compare even for an unknown id, so both take as long.
    const stored = Buffer.from(row?.key_hash ?? '0'.repeat(64), 'hex');
    if (!crypto.timingSafeEqual(given, stored) || !row) throw new ApiError(401, 'the API key is unknown');
    const t = this.now();
    if (row.revoked_at !== null) throw new ApiError(401, `the API key "${row.name}" was revoked on ${new Date(row.revoked_at).toISOString()}`);
    if (row.expires_at !== null && row.expires_at <= t) throw new ApiError(401, `the API key "${row.name}" expired on ${new Date(row.expires_at).toISOString()}`);
    if (row.last_used_at === null || t - row.last_used_at >= KEY_TOUCH_EVERY_MS) {
      this.db.prepare('UPDATE api_keys SET last_used_at = ?, last_used_from = ? WHERE id = ?').run(t, from ?? null, row.id);
      row.last_used_at = t;
      row.last_used_from = from ?? null;
    }
    const apiKey = this.toKey(row);
    return { user: keyUser(apiKey), apiKey };
  }

  private toKey(r: ApiKeyRow): ApiKey {
    const t = this.now();
    const state: ApiKeyState = r.revoked_at !== null ? 'revoked' : r.expires_at !== null && r.expires_at <= t ? 'expired' : 'active';
    return {
      id: r.id, name: r.name, role: r.role, open_folders: JSON.parse(r.open_folders) as string[], expires_at: r.expires_at, created_by: r.created_by,
      created_at: r.created_at, last_used_at: r.last_used_at, last_used_from: r.last_used_from, revoked_at: r.revoked_at, revoked_by: r.revoked_by, state,
    };
  }
}
