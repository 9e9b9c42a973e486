/**
 * GET /api/alarms: the stored alarms, filtered, scoped by the reader's meters and bounded (at most
 * MAX_ALARM_LIMIT per page; page on with before=<the last id>).
 */
import type { EmsDatabase } from '../db';
import { ApiError } from '../envelope';
import type { FolderScope, Registry } from '../registry';
import { ALARM_STATES, SEVERITIES, type Alarm } from './types';

export const DEFAULT_ALARM_LIMIT = 100;
export const MAX_ALARM_LIMIT = 1000;

/** Who asks: undefined scope/meters = everything. */
export interface AlarmReader { scope?: FolderScope; meters?: ReadonlySet<string> }

export interface AlarmRow extends Omit<Alarm, 'limit' | 'meter_id'> { limit_value: number | null; meter_id: string }

/** Newest change first; filters state (raised, acknowledged, cleared, or active = raised or acknowledged), severity, meter, folder (its subtree), rule. */
export function queryAlarms(db: EmsDatabase, registry: Registry, query: Record<string, unknown>, reader: AlarmReader = {}): Alarm[] {
  const known = ['state', 'severity', 'meter', 'folder', 'rule', 'limit', 'before'];
  for (const k of Object.keys(query)) if (!known.includes(k)) throw new ApiError(400, `unknown parameter "${k}" (use ${known.join(', ')})`);
  const where: string[] = [];
  const args: unknown[] = [];
  const text = (k: string) => { const v = query[k]; if (v === undefined || v === '') return undefined; if (typeof v !== 'string' || v.length > 100) throw new ApiError(400, `${k} ${JSON.stringify(v)} must be text of at most 100 characters`); return v; };
  const state = text('state');
  if (state === 'active') where.push("state IN ('raised', 'acknowledged')");
  else if (state !== undefined) {
    if (!(ALARM_STATES as readonly string[]).includes(state)) throw new ApiError(400, `state ${JSON.stringify(state)} must be one of ${ALARM_STATES.join(', ')}, active`);
    where.push('state = ?'); args.push(state);
  }
  const severity = text('severity');
  if (severity !== undefined) {
    if (!(SEVERITIES as readonly string[]).includes(severity)) throw new ApiError(400, `severity ${JSON.stringify(severity)} must be one of ${SEVERITIES.join(', ')}`);
    where.push('severity = ?'); args.push(severity);
  }
  const meter = text('meter');
  if (meter !== undefined) {
    if (reader.meters && !reader.meters.has(meter)) throw new ApiError(404, `unknown meter "${meter}"`);
    where.push('meter_id = ?'); args.push(meter);
  }
  const folder = text('folder');
  if (folder !== undefined) {
    registry.folder(folder, reader.scope);
    where.push('folder_id IN (SELECT value FROM json_each(?))'); args.push(JSON.stringify([...registry.scopeOf([folder])!]));
  }
  const rule = text('rule');
  if (rule !== undefined) { where.push('rule_id = ?'); args.push(rule); }
  if (reader.meters) { where.push('meter_id IN (SELECT value FROM json_each(?))'); args.push(JSON.stringify([...reader.meters])); }
  let limit = DEFAULT_ALARM_LIMIT;
  if (query.limit !== undefined && query.limit !== '') {
    limit = Number(query.limit);
    if (!Number.isSafeInteger(limit) || limit < 1 || limit > MAX_ALARM_LIMIT) throw new ApiError(400, `limit ${JSON.stringify(query.limit)} must be a whole number from 1 to ${MAX_ALARM_LIMIT}`);
  }
  if (query.before !== undefined && query.before !== '') {
    const before = Number(query.before);
    if (!Number.isSafeInteger(before) || before < 1) throw new ApiError(400, `before ${JSON.stringify(query.before)} must be an alarm id (the last id of the previous page)`);
    where.push('id < ?'); args.push(before);
  }
  const sql = `SELECT * FROM alarms ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY id DESC LIMIT ?`;
  return (db.prepare(sql).all(...args, limit) as AlarmRow[]).map(toAlarm);
}

export function toAlarm(r: AlarmRow): Alarm {
  const { limit_value, ...rest } = r;
  return { ...rest, meter_id: r.meter_id === '' ? null : r.meter_id, limit: limit_value };
}
