/**
 * The EMS event log (the dictionary's "Event log data": meter_id, date, meter_name, event, value),
 * fed by poll failures, alarms, prepaid cut-offs and configuration changes. Stored in the EMS
 * database; queried by date1/date2 (ISO or epoch ms), filter (a kind, a level, or text) and limit.
 */
import type { EmsDatabase } from './db';
import { ApiError } from './envelope';

export const EVENT_KINDS = ['poll-failed', 'poll-recovered', 'backfill', 'alarm', 'prepaid', 'config', 'login', 'clock', 'license', 'system', 'audit', 'security', 'import'] as const;
export type EventKind = typeof EVENT_KINDS[number];
export type EventLevel = 'info' | 'warning' | 'error';

export interface LoggedEvent {
  id: number;
  meter_id: string | null;
  /** ISO 8601 UTC. */
  date: string;
  meter_name: string | null;
  event: string;
  value: string | null;
  kind: EventKind;
  level: EventLevel;
  /** Who or what caused it: a login, a node id. */
  source: string | null;
}

export interface NewEvent {
  kind: EventKind;
  level?: EventLevel;
  event: string;
  meter_id?: string | null;
  meter_name?: string | null;
  value?: string | number | null;
  source?: string | null;
  time?: number;
}

/** Kinds only administrators see (a viewer or operator sees their own login events at most). */
export const ADMIN_EVENT_KINDS: readonly EventKind[] = ['login', 'audit', 'security', 'system', 'license'];

/**
 * Who reads the log. `meters` (a scoped caller's meters) keeps only the events of those meters;
 * `admin` shows the administrators' kinds; `login` lets a non-admin see their own login events.
 */
export interface EventReader {
  meters?: ReadonlySet<string>;
  admin?: boolean;
  login?: string;
}

/** Events older than this many days are deleted (EMS_EVENT_RETENTION_DAYS). */
export const DEFAULT_EVENT_RETENTION_DAYS = 400;

export const MAX_EVENT_LIMIT = 10_000;
export const DEFAULT_EVENT_LIMIT = 100;

interface EventRow { id: number; time: number; meter_id: string | null; meter_name: string | null; event: string; value: string | null; kind: EventKind; level: EventLevel; source: string | null }

export function parseDateParam(name: string, v: unknown): number | undefined {
  if (v === undefined || v === '') return undefined;
  if (typeof v === 'number' && Number.isFinite(v)) return v;
  if (typeof v === 'string') {
    if (/^\d{10,14}$/.test(v)) return Number(v);
    if (/^\d{4}-\d{2}-\d{2}/.test(v)) {
      const t = Date.parse(v);
      if (!Number.isNaN(t)) return t;
    }
  }
  throw new ApiError(400, `${name} ${JSON.stringify(v)} must be an ISO date/time (2026-11-21 or 2026-11-21T08:00:00Z) or epoch milliseconds`);
}

export class EventLog {
  constructor(private readonly db: EmsDatabase, private readonly now: () => number = Date.now) {}

  add(e: NewEvent): LoggedEvent {
    if (!(EVENT_KINDS as readonly string[]).includes(e.kind)) throw new ApiError(400, `kind ${JSON.stringify(e.kind)} must be one of ${EVENT_KINDS.join(', ')}`);
    if (typeof e.event !== 'string' || e.event === '') throw new ApiError(400, 'event must be a non-empty string');
    const r = this.db.prepare(`INSERT INTO events (time, meter_id, meter_name, event, value, kind, level, source) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`).run(
      e.time ?? this.now(), e.meter_id ?? null, e.meter_name ?? null, e.event.slice(0, 2000), e.value === undefined || e.value === null ? null : String(e.value),
      e.kind, e.level ?? 'info', e.source ?? null,
    );
    return this.get(Number(r.lastInsertRowid));
  }

  get(id: number): LoggedEvent {
    const row = this.db.prepare('SELECT * FROM events WHERE id = ?').get(id) as EventRow | undefined;
    if (!row) throw new ApiError(404, `unknown event ${id}`);
    return toEvent(row);
  }

  /**
   * Newest first. `filter`: an event kind, a level, or text found in the event, meter id or name.
   * `meter` keeps only that meter's events. `reader` limits what the caller sees (EventReader);
   * without it every event is answered (trusted callers).
   */
  query(params: { date1?: unknown; date2?: unknown; filter?: unknown; limit?: unknown; meter?: unknown }, reader?: EventReader, before?: { time: number; id: number }): LoggedEvent[] {
    for (const k of Object.keys(params)) if (!['date1', 'date2', 'filter', 'limit', 'meter'].includes(k)) throw new ApiError(400, `unknown parameter "${k}" (use date1, date2, filter, limit, meter)`);
    const from = parseDateParam('date1', params.date1);
    const to = parseDateParam('date2', params.date2);
    if (from !== undefined && to !== undefined && from > to) throw new ApiError(400, `date1 (${new Date(from).toISOString()}) is after date2 (${new Date(to).toISOString()})`);
    let limit = DEFAULT_EVENT_LIMIT;
    if (params.limit !== undefined && params.limit !== '') {
      limit = Number(params.limit);
      if (!Number.isSafeInteger(limit) || limit < 1 || limit > MAX_EVENT_LIMIT) throw new ApiError(400, `limit ${JSON.stringify(params.limit)} must be a whole number from 1 to ${MAX_EVENT_LIMIT}`);
    }
    const where: string[] = [];
    const args: unknown[] = [];
    if (from !== undefined) { where.push('time >= ?'); args.push(from); }
    if (to !== undefined) { where.push('time <= ?'); args.push(to); }
    // A page after `before` (the last event of the previous page, newest first).
    if (before) { where.push('(time < ? OR (time = ? AND id < ?))'); args.push(before.time, before.time, before.id); }
    const m = params.meter;
    if (m !== undefined && m !== '') {
      if (typeof m !== 'string' || m.length > 100) throw new ApiError(400, `meter ${JSON.stringify(m)} must be a meter id`);
      where.push('meter_id = ?'); args.push(m);
    }
    const f = params.filter;
    if (f !== undefined && f !== '') {
      if (typeof f !== 'string' || f.length > 200) throw new ApiError(400, `filter ${JSON.stringify(f)} must be text of at most 200 characters`);
      if ((EVENT_KINDS as readonly string[]).includes(f)) { where.push('kind = ?'); args.push(f); }
      else if (['info', 'warning', 'error'].includes(f)) { where.push('level = ?'); args.push(f); }
      else {
        where.push("(event LIKE ? ESCAPE '\\' OR meter_id LIKE ? ESCAPE '\\' OR meter_name LIKE ? ESCAPE '\\')");
        const like = `%${f.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
        args.push(like, like, like);
      }
    }
    if (reader) {
      // (a meter kind, of a meter the reader sees) OR (an administrators' kind: every one for an admin, else own logins)
      const marks = ADMIN_EVENT_KINDS.map(() => '?').join(', ');
      let visible = `kind NOT IN (${marks})`;
      args.push(...ADMIN_EVENT_KINDS);
      if (reader.meters) { visible += ' AND meter_id IN (SELECT value FROM json_each(?))'; args.push(JSON.stringify([...reader.meters])); }
      if (reader.admin) {
        where.push(`((${visible}) OR kind IN (${marks}))`);
        args.push(...ADMIN_EVENT_KINDS);
      } else if (reader.login) {
        where.push(`((${visible}) OR (kind = 'login' AND (source = ? OR source LIKE ? ESCAPE '\\')))`);
        args.push(reader.login, `${reader.login.replace(/[\\%_]/g, (c) => `\\${c}`)}@%`);
      } else {
        where.push(`(${visible})`);
      }
    }
    const sql = `SELECT * FROM events ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY time DESC, id DESC LIMIT ?`;
    return (this.db.prepare(sql).all(...args, limit) as EventRow[]).map(toEvent);
  }

  /** Deletes the events older than `days` days; returns how many. */
  prune(days = DEFAULT_EVENT_RETENTION_DAYS): number {
    return this.db.prepare('DELETE FROM events WHERE time < ?').run(this.now() - days * 86_400_000).changes;
  }
}

function toEvent(r: EventRow): LoggedEvent {
  return { id: r.id, meter_id: r.meter_id, date: new Date(r.time).toISOString(), meter_name: r.meter_name, event: r.event, value: r.value, kind: r.kind, level: r.level, source: r.source };
}
