/**
 * GET /api/alarms: the stored alarms, filtered, scoped by the reader's meters and bounded (at most
 * MAX_ALARM_LIMIT per page; page on with before=<the last id>).
 */
import type { EmsDatabase } from '../db';
import { ApiError } from '../envelope';
import type { FolderScope, Registry } from '../registry';
import { ALARM_STATES, SEVERITIES, type Alarm, type Severity } from './types';

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

/** GET /api/alarms/summary: active (raised or acknowledged) and unacknowledged (raised) alarms, in all and per severity. */
export interface AlarmSummary {
  active: number;
  unacknowledged: number;
  by_severity: Record<Severity, { active: number; unacknowledged: number }>;
}

/** Counts of the active alarms the reader sees; reads one count per (meter, severity, state) of the open alarms, no alarm row. */
export function alarmSummary(db: EmsDatabase, reader: AlarmReader = {}): AlarmSummary {
  const bySeverity = Object.fromEntries(SEVERITIES.map((s) => [s, { active: 0, unacknowledged: 0 }])) as AlarmSummary['by_severity'];
  const out: AlarmSummary = { active: 0, unacknowledged: 0, by_severity: bySeverity };
  const rows = db.prepare("SELECT meter_id, severity, state, COUNT(*) AS n FROM alarms WHERE state IN ('raised', 'acknowledged') GROUP BY meter_id, severity, state")
    .all() as { meter_id: string; severity: Severity; state: string; n: number }[];
  for (const r of rows) {
    // Like GET /api/alarms: a reader with open folders sees their meters' alarms only (none about the EMS itself).
    if (reader.meters !== undefined && (r.meter_id === '' || !reader.meters.has(r.meter_id))) continue;
    const unacknowledged = r.state === 'raised' ? r.n : 0;
    out.active += r.n;
    out.unacknowledged += unacknowledged;
    const s = bySeverity[r.severity];
    if (s) { s.active += r.n; s.unacknowledged += unacknowledged; }
  }
  return out;
}
