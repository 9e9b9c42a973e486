/**
 * Tariffs stored in the EMS database: the tariff engine's JSON (lib/tariff), checked by
 * validateTariff, under a unique name. The stored id is also the tariff's own `id`, so bills name it.
 * A tariff bound to an accounting object or a cost center cannot be deleted.
 */
import crypto from 'node:crypto';
import type { EmsDatabase } from './db';
import { ApiError } from './envelope';
import { validateTariff } from '../tariff';
import type { Tariff } from '../tariff/types';

export interface StoredTariff {
  _id: string;
  name: string;
  tariff: Tariff;
  created_at: number;
  updated_at: number;
}

/** Called after each change (the event log). */
export type ConfigChange = (c: { kind: string; action: 'create' | 'update' | 'delete'; id: string; name: string; by?: string }) => void;

interface Row { id: string; name: string; body: string; created_at: number; updated_at: number }

const ID_RE = /^[A-Za-z0-9_.-]{1,64}$/;

export function checkName(v: unknown, field = 'name'): string {
  if (typeof v !== 'string' || v.trim() === '' || v.length > 100) throw new ApiError(400, `${field} ${JSON.stringify(v)} must be a non-empty string of at most 100 characters`);
  return v.trim();
}

export class TariffService {
  constructor(private readonly db: EmsDatabase, private readonly onChange: ConfigChange = () => {}, private readonly now: () => number = Date.now) {}

  list(): StoredTariff[] {
    return (this.db.prepare('SELECT * FROM tariffs ORDER BY name').all() as Row[]).map(toStored);
  }

  get(id: string): StoredTariff {
    const row = this.db.prepare('SELECT * FROM tariffs WHERE id = ?').get(id) as Row | undefined;
    if (!row) throw new ApiError(404, `unknown tariff "${id}"`);
    return toStored(row);
  }

  exists(id: string): boolean {
    return this.db.prepare('SELECT 1 FROM tariffs WHERE id = ?').get(id) !== undefined;
  }

  /** Body: { name?, tariff } (or the tariff JSON itself); `id` (optional, else from the name) must be free. */
  create(body: unknown, by?: string): StoredTariff {
    const { name, tariff, id: wanted } = this.check(body);
    const id = wanted ?? this.freeId(name);
    if (!ID_RE.test(id)) throw new ApiError(400, `id ${JSON.stringify(id)} must be 1-64 letters, digits or . _ -`);
    if (this.exists(id)) throw new ApiError(409, `tariff id "${id}" is taken`);
    this.checkFreeName(name);
    const t = this.now();
    this.db.prepare('INSERT INTO tariffs (id, name, body, created_at, updated_at) VALUES (?, ?, ?, ?, ?)').run(id, name, JSON.stringify(withId(tariff, id, name)), t, t);
    this.onChange({ kind: 'tariff', action: 'create', id, name, by });
    return this.get(id);
  }

  /** Replaces the tariff JSON and/or renames it. */
  update(id: string, body: unknown, by?: string): StoredTariff {
    const before = this.get(id);
    const b = asObject(body);
    const bare = b.tariff === undefined && b.versions !== undefined; // the tariff JSON itself
    if (!bare) for (const k of Object.keys(b)) if (!['name', 'tariff'].includes(k)) throw new ApiError(400, `unknown field "${k}" (use name, tariff)`);
    const tariffIn = bare ? b : b.tariff;
    const name = b.name !== undefined ? checkName(b.name) : before.name;
    const tariff = tariffIn === undefined ? before.tariff : this.validate(tariffIn, id, name);
    if (name.toLowerCase() !== before.name.toLowerCase()) this.checkFreeName(name);
    this.db.prepare('UPDATE tariffs SET name = ?, body = ?, updated_at = ? WHERE id = ?').run(name, JSON.stringify(withId(tariff, id, name)), this.now(), id);
    this.onChange({ kind: 'tariff', action: 'update', id, name, by });
    return this.get(id);
  }

  delete(id: string, by?: string): void {
    const t = this.get(id);
    const users = this.usersOf(id);
    if (users.length > 0) throw new ApiError(409, `tariff "${t.name}" is in use by ${users.join(', ')}; unbind it first`);
    this.db.prepare('DELETE FROM tariffs WHERE id = ?').run(id);
    this.onChange({ kind: 'tariff', action: 'delete', id, name: t.name, by });
  }

  /** The accounting objects and cost centers bound to the tariff, as text ("object \"Feeder 1\""). */
  usersOf(id: string): string[] {
    const objects = (this.db.prepare('SELECT name FROM accounting_objects WHERE tariff_id = ? ORDER BY name').all(id) as { name: string }[]).map((o) => `object "${o.name}"`);
    const centers = (this.db.prepare('SELECT name, body FROM cost_centers ORDER BY name').all() as { name: string; body: string }[])
      .filter((c) => Object.values((JSON.parse(c.body) as { tariffs?: Record<string, string> }).tariffs ?? {}).includes(id))
      .map((c) => `cost center "${c.name}"`);
    return [...objects, ...centers];
  }

  private check(body: unknown): { name: string; tariff: Tariff; id?: string } {
    const b = asObject(body);
    const wrapped = b.tariff !== undefined;
    if (wrapped) for (const k of Object.keys(b)) if (!['id', 'name', 'tariff'].includes(k)) throw new ApiError(400, `unknown field "${k}" (use id, name, tariff)`);
    const tariffIn = wrapped ? b.tariff : b;
    if (typeof tariffIn !== 'object' || tariffIn === null || Array.isArray(tariffIn)) throw new ApiError(400, `tariff ${JSON.stringify(tariffIn)} must be a tariff JSON object (see the tariff README)`);
    const t = tariffIn as Record<string, unknown>;
    const name = checkName(wrapped ? (b.name ?? t.name) : t.name);
    const idIn = wrapped ? (b.id ?? t.id) : t.id;
    if (idIn !== undefined && typeof idIn !== 'string') throw new ApiError(400, `id ${JSON.stringify(idIn)} must be a string`);
    const id = idIn === undefined || idIn === '' ? undefined : idIn;
    return { name, id, tariff: this.validate(tariffIn, id ?? 'new', name) };
  }

  private validate(tariffIn: unknown, id: string, name: string): Tariff {
    if (typeof tariffIn !== 'object' || tariffIn === null || Array.isArray(tariffIn)) throw new ApiError(400, `tariff ${JSON.stringify(tariffIn)} must be a tariff JSON object`);
    try {
      return validateTariff({ ...(tariffIn as object), id, name });
    } catch (err) {
      throw new ApiError(400, err instanceof Error ? err.message : String(err));
    }
  }

  private checkFreeName(name: string): void {
    const row = this.db.prepare('SELECT id FROM tariffs WHERE name = ?').get(name) as { id: string } | undefined;
    if (row) throw new ApiError(409, `tariff name "${name}" is taken (by tariff "${row.id}")`);
  }

  private freeId(name: string): string {
    const base = name.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-+|-+$/g, '').slice(0, 48) || crypto.randomUUID().slice(0, 8);
    for (let i = 1; ; i++) {
      const id = i === 1 ? base : `${base}-${i}`;
      if (!this.exists(id)) return id;
    }
  }
}

function asObject(body: unknown): Record<string, unknown> {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw new ApiError(400, 'the body must be a JSON object');
  return body as Record<string, unknown>;
}

function withId(t: Tariff, id: string, name: string): Tariff {
  return { ...t, id, name };
}

function toStored(r: Row): StoredTariff {
  return { _id: r.id, name: r.name, tariff: JSON.parse(r.body) as Tariff, created_at: r.created_at, updated_at: r.updated_at };
}
