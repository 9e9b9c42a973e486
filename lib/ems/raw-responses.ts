/**
 * Raw poll-server responses (the dictionary's "Meter data polling": meter_id, date, data), as HEX,
 * stored in the EMS database by ems-hex-poll and served by GET /api/meters/:id/responses.
 */
import type { EmsDatabase } from './db';
import { ApiError } from './envelope';
import { parseDateParam } from './event-log';

export interface RawResponse {
  meter_id: string;
  /** ISO 8601 UTC. */
  date: string;
  /** The response frame(s) in HEX. */
  data: string;
}

export const DEFAULT_RESPONSE_LIMIT = 100;
export const MAX_RESPONSE_LIMIT = 10_000;
/** Responses kept per meter; older ones are dropped as new ones arrive. */
export const KEEP_PER_METER = 10_000;
/** Responses older than this many days are deleted (EMS_RAW_RESPONSE_RETENTION_DAYS). */
export const DEFAULT_RESPONSE_RETENTION_DAYS = 90;

export class RawResponses {
  constructor(private readonly db: EmsDatabase, private readonly now: () => number = Date.now) {}

  add(meterId: string, data: string, time = this.now()): RawResponse {
    if (typeof meterId !== 'string' || meterId === '') throw new ApiError(400, `meter_id ${JSON.stringify(meterId)} must be a meter id`);
    if (typeof data !== 'string' || !/^[0-9A-Fa-f]*$/.test(data)) throw new ApiError(400, 'data must be HEX digits');
    this.db.prepare('INSERT INTO raw_responses (meter_id, date, data) VALUES (?, ?, ?)').run(meterId, time, data.toUpperCase());
    this.db.prepare(`DELETE FROM raw_responses WHERE meter_id = ? AND id <= (
      SELECT id FROM raw_responses WHERE meter_id = ? ORDER BY id DESC LIMIT 1 OFFSET ?)`).run(meterId, meterId, KEEP_PER_METER);
    return { meter_id: meterId, date: new Date(time).toISOString(), data: data.toUpperCase() };
  }

  /** Newest first, between date1 and date2 (inclusive, ISO or epoch ms). */
  query(meterId: string, params: { date1?: unknown; date2?: unknown; limit?: unknown }): RawResponse[] {
    return this.page(meterId, params).items;
  }

  /** Like query, after `before` (the key of the previous page's last response), with the key of this page's last one. */
  page(meterId: string, params: { date1?: unknown; date2?: unknown; limit?: unknown }, before?: { time: number; id: number }): { items: RawResponse[]; limit: number; last: { time: number; id: number } | null } {
    for (const k of Object.keys(params)) if (!['date1', 'date2', 'limit'].includes(k)) throw new ApiError(400, `unknown parameter "${k}" (use date1, date2, limit)`);
    const from = parseDateParam('date1', params.date1);
    const to = parseDateParam('date2', params.date2);
    if (from !== undefined && to !== undefined && from > to) throw new ApiError(400, `date1 (${new Date(from).toISOString()}) is after date2 (${new Date(to).toISOString()})`);
    let limit = DEFAULT_RESPONSE_LIMIT;
    if (params.limit !== undefined && params.limit !== '') {
      limit = Number(params.limit);
      if (!Number.isSafeInteger(limit) || limit < 1 || limit > MAX_RESPONSE_LIMIT) throw new ApiError(400, `limit ${JSON.stringify(params.limit)} must be a whole number from 1 to ${MAX_RESPONSE_LIMIT}`);
    }
    const after = before ? 'AND (date < ? OR (date = ? AND id < ?))' : '';
    const rows = this.db.prepare(`SELECT id, meter_id, date, data FROM raw_responses WHERE meter_id = ? AND date >= ? AND date <= ? ${after} ORDER BY date DESC, id DESC LIMIT ?`)
      .all(meterId, from ?? 0, to ?? Number.MAX_SAFE_INTEGER, ...(before ? [before.time, before.time, before.id] : []), limit) as { id: number; meter_id: string; date: number; data: string }[];
    const tail = rows[rows.length - 1];
    return { items: rows.map((r) => ({ meter_id: r.meter_id, date: new Date(r.date).toISOString(), data: r.data })), limit, last: tail ? { time: tail.date, id: tail.id } : null };
  }

  /** Deletes responses older than `days` days and all but the `keep` newest of each meter; returns how many. */
  prune(days = DEFAULT_RESPONSE_RETENTION_DAYS, keep = KEEP_PER_METER): number {
    return this.db.transaction(() => {
      const old = this.db.prepare('DELETE FROM raw_responses WHERE date < ?').run(this.now() - days * 86_400_000).changes;
      const over = this.db.prepare(`DELETE FROM raw_responses WHERE id IN (
        SELECT id FROM (SELECT id, ROW_NUMBER() OVER (PARTITION BY meter_id ORDER BY id DESC) AS n FROM raw_responses) WHERE n > ?)`).run(keep).changes;
      return old + over;
    })();
  }
}
