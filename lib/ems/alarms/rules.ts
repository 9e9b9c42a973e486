/**
 * Alarm rules as data: checked field by field; a bad field is a 400 naming the field and its value.
 * Whether the subject's meter or folder exists (and is the caller's) is checked by AlarmService.
 */
import { isKnownUnit, isObis, normaliseObis, unitInfo } from '../../model';
import { DAY_MS } from '../../model/time';
import { ApiError } from '../envelope';
import { SEVERITIES, type ActiveHours, type AlarmRule, type AlarmWindow, type Condition, type SanityKind, type Subject } from './types';

export const CONDITION_TYPES = ['threshold', 'stale', 'poll_failures', 'window_consumption', 'anomaly', 'register_sanity', 'prepaid_balance_below', 'license_expiring', 'spool_filling'] as const;
/** Conditions about the EMS itself: no subject. */
export const EMS_CONDITIONS: readonly string[] = ['license_expiring', 'spool_filling'];
export const WINDOWS: Record<AlarmWindow, number> = { '15m': 15 * 60_000, '1h': 3_600_000, '1d': 86_400_000 };
export const SANITY_KINDS: readonly SanityKind[] = ['backwards', 'reset', 'spike'];
export const DEFAULT_HOLD_OFF_S = 300;
export const MAX_DELAY_S = 7 * 86_400;
export const MAX_ANOMALY_WEEKS = 12;
export const MAX_NOTIFY = 100;
export const DEFAULT_ENERGY_OBIS = '1-0:1.8.0';

const RULE_FIELDS = ['name', 'subject', 'condition', 'severity', 'delay_s', 'hysteresis', 'clear_after_s', 'hold_off_s', 'active', 'enabled', 'notify'];

/** The fields of a rule a client sets. */
export type RuleInput = Omit<AlarmRule, 'id' | 'created_by' | 'created_at' | 'updated_at'>;

function bad(field: string, value: unknown, want: string): never {
  throw new ApiError(400, `${field} ${JSON.stringify(value) ?? 'undefined'} must be ${want}`);
}

function num(field: string, v: unknown, min: number, max: number, integer = false): number {
  if (typeof v !== 'number' || !Number.isFinite(v) || v < min || v > max || (integer && !Number.isInteger(v))) {
    bad(field, v, `${integer ? 'a whole number' : 'a number'} from ${min} to ${max}`);
  }
  return v;
}

function obj(field: string, v: unknown, known: readonly string[]): Record<string, unknown> {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) bad(field, v, 'an object');
  const o = v as Record<string, unknown>;
  for (const k of Object.keys(o)) if (!known.includes(k)) throw new ApiError(400, `${field}: unknown field "${k}" (use ${known.join(', ')})`);
  return o;
}

function obisOf(field: string, v: unknown, fallback?: string): string {
  if (v === undefined && fallback) return fallback;
  if (typeof v !== 'string' || !isObis(v)) bad(field, v, 'an OBIS code such as "1-0:1.8.0"');
  return normaliseObis(v);
}

function unitOf(field: string, v: unknown, fallback?: string): string {
  if (v === undefined && fallback !== undefined) return fallback;
  if (!isKnownUnit(v)) bad(field, v, 'a unit of the unit table (kW, W, kWh, m3, V, ...)');
  return unitInfo(v as string).unit;
}

export function checkSubject(v: unknown): Subject {
  // Extension point (issue 18): accept { virtual_meter: id } here once virtual meters exist.
  const o = obj('subject', v, ['meter', 'folder', 'scope']);
  if (o.meter !== undefined) {
    if (o.folder !== undefined || o.scope !== undefined) throw new ApiError(400, 'subject: give either meter or folder (with scope), not both');
    if (typeof o.meter !== 'string' || o.meter === '' || o.meter.length > 64) bad('subject.meter', o.meter, 'a meter id');
    return { meter: o.meter };
  }
  if (typeof o.folder !== 'string' || o.folder === '' || o.folder.length > 100) bad('subject.folder', o.folder, 'a folder id (or give subject.meter)');
  const scope = o.scope ?? 'subtree';
  if (scope !== 'folder' && scope !== 'subtree') bad('subject.scope', scope, '"folder" (its own meters) or "subtree" (with every sub-folder)');
  return { folder: o.folder, scope };
}

export function checkCondition(v: unknown): Condition {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) bad('condition', v, `an object with a type (${CONDITION_TYPES.join(', ')})`);
  const type = (v as Record<string, unknown>).type;
  const f = (k: string) => `condition.${k}`;
  switch (type) {
    case 'threshold': {
      const o = obj('condition', v, ['type', 'obis', 'direction', 'value', 'unit']);
      if (o.direction !== 'above' && o.direction !== 'below') bad(f('direction'), o.direction, '"above" or "below"');
      return { type, obis: obisOf(f('obis'), o.obis), direction: o.direction, value: num(f('value'), o.value, -1e15, 1e15), unit: unitOf(f('unit'), o.unit) };
    }
    case 'stale': {
      const o = obj('condition', v, ['type', 'intervals']);
      return { type, intervals: num(f('intervals'), o.intervals ?? 3, 1, 1000) };
    }
    case 'poll_failures': {
      const o = obj('condition', v, ['type', 'count']);
      return { type, count: num(f('count'), o.count ?? 3, 1, 10_000, true) };
    }
    case 'window_consumption': {
      const o = obj('condition', v, ['type', 'obis', 'window', 'above', 'below', 'unit']);
      if (typeof o.window !== 'string' || !(o.window in WINDOWS)) bad(f('window'), o.window, `one of ${Object.keys(WINDOWS).join(', ')}`);
      if (o.above === undefined && o.below === undefined) throw new ApiError(400, 'condition: window_consumption needs above, below or both');
      const c: Condition = { type, obis: obisOf(f('obis'), o.obis, DEFAULT_ENERGY_OBIS), window: o.window as AlarmWindow, unit: unitOf(f('unit'), o.unit, 'kWh') };
      if (o.above !== undefined) c.above = num(f('above'), o.above, 0, 1e15);
      if (o.below !== undefined) c.below = num(f('below'), o.below, 0, 1e15);
      if (c.above !== undefined && c.below !== undefined && c.below >= c.above) bad(f('below'), c.below, `below above (${c.above})`);
      return c;
    }
    case 'anomaly': {
      const o = obj('condition', v, ['type', 'obis', 'window', 'weeks', 'factor', 'min', 'unit']);
      if ((o.window ?? '1h') !== '1h') bad(f('window'), o.window, '"1h" (this hour against the same weekday-hour of past weeks)');
      return {
        type, obis: obisOf(f('obis'), o.obis, DEFAULT_ENERGY_OBIS), window: '1h', weeks: num(f('weeks'), o.weeks ?? 4, 1, MAX_ANOMALY_WEEKS, true),
        factor: num(f('factor'), o.factor ?? 1.5, 1, 1000), min: num(f('min'), o.min ?? 0, 0, 1e15), unit: unitOf(f('unit'), o.unit, 'kWh'),
      };
    }
    case 'register_sanity': {
      const o = obj('condition', v, ['type', 'obis', 'kinds']);
      const kinds = o.kinds ?? [...SANITY_KINDS];
      if (!Array.isArray(kinds) || kinds.length === 0 || kinds.some((k) => !SANITY_KINDS.includes(k))) bad(f('kinds'), kinds, `a non-empty list of ${SANITY_KINDS.join(', ')}`);
      return { type, obis: obisOf(f('obis'), o.obis, DEFAULT_ENERGY_OBIS), kinds: [...new Set(kinds as SanityKind[])] };
    }
    case 'prepaid_balance_below': {
      const o = obj('condition', v, ['type', 'amount']);
      return { type, amount: num(f('amount'), o.amount, -1e12, 1e12) };
    }
    case 'license_expiring': {
      const o = obj('condition', v, ['type', 'days']);
      return { type, days: num(f('days'), o.days ?? 30, 0, 3650, true) };
    }
    case 'spool_filling': {
      const o = obj('condition', v, ['type', 'percent']);
      return { type, percent: num(f('percent'), o.percent ?? 80, 1, 100) };
    }
    default:
      return bad('condition.type', type, `one of ${CONDITION_TYPES.join(', ')}`);
  }
}

const HHMM = /^([01]\d|2[0-3]):[0-5]\d$/;

export function checkActive(v: unknown): ActiveHours | null {
  if (v === null) return null;
  const o = obj('active', v, ['days', 'from', 'to']);
  const days = o.days ?? [1, 2, 3, 4, 5, 6, 7];
  if (!Array.isArray(days) || days.length === 0 || days.some((d) => !Number.isInteger(d) || d < 1 || d > 7)) bad('active.days', days, 'a non-empty list of ISO weekdays 1 (Monday) .. 7 (Sunday)');
  const from = o.from ?? '00:00';
  const to = o.to ?? '24:00';
  if (typeof from !== 'string' || !HHMM.test(from)) bad('active.from', from, 'a local time "HH:MM"');
  if (typeof to !== 'string' || (!HHMM.test(to) && to !== '24:00')) bad('active.to', to, 'a local time "HH:MM" (or "24:00")');
  if (from === to) bad('active.to', to, `different from active.from (${from})`);
  return { days: [...new Set(days as number[])].sort(), from, to };
}

function checkNotify(v: unknown): 'subscribers' | string[] {
  if (v === 'subscribers') return v;
  if (!Array.isArray(v) || v.length > MAX_NOTIFY || v.some((u) => typeof u !== 'string' || u === '' || u.length > 100)) {
    bad('notify', v, `"subscribers" or a list of at most ${MAX_NOTIFY} user ids`);
  }
  return [...new Set(v as string[])];
}

/** Checks a rule body; with `before` (PUT) absent fields keep their value. */
export function checkRule(body: unknown, before?: RuleInput): RuleInput {
  const b = obj('the body', body, RULE_FIELDS);
  const has = (k: string) => b[k] !== undefined;
  if (!before) for (const k of ['name', 'condition']) if (!has(k)) throw new ApiError(400, `${k} is required`);
  let name = before?.name ?? '';
  if (has('name') || !before) {
    if (typeof b.name !== 'string' || b.name.trim() === '' || b.name.length > 100) bad('name', b.name, 'a non-empty string of at most 100 characters');
    name = b.name.trim();
  }
  const condition = has('condition') ? checkCondition(b.condition) : before!.condition;
  let subject = before ? before.subject : null;
  if (b.subject !== undefined) subject = b.subject === null ? null : checkSubject(b.subject);
  if (EMS_CONDITIONS.includes(condition.type)) {
    if (b.subject !== undefined && b.subject !== null) bad('subject', b.subject, `absent or null: ${condition.type} is about the EMS itself`);
    subject = null;
  } else if (subject === null) {
    throw new ApiError(400, `subject is required for a ${condition.type} rule ({ "meter": id } or { "folder": id, "scope": "folder" | "subtree" })`);
  }
  const severity = b.severity ?? before?.severity ?? 'warning';
  if (!(SEVERITIES as readonly unknown[]).includes(severity)) bad('severity', severity, `one of ${SEVERITIES.join(', ')}`);
  const hysteresis = has('hysteresis') ? num('hysteresis', b.hysteresis, 0, 1e15) : condition.type === 'threshold' ? before?.hysteresis ?? 0 : 0;
  if (hysteresis > 0 && condition.type !== 'threshold') bad('hysteresis', hysteresis, 'used with a threshold condition only (use clear_after_s)');
  const enabled = b.enabled ?? before?.enabled ?? true;
  if (typeof enabled !== 'boolean') bad('enabled', enabled, 'true or false');
  return {
    name, subject, condition, severity: severity as RuleInput['severity'],
    delay_s: has('delay_s') ? num('delay_s', b.delay_s, 0, MAX_DELAY_S, true) : before?.delay_s ?? 0,
    hysteresis,
    clear_after_s: has('clear_after_s') ? num('clear_after_s', b.clear_after_s, 0, MAX_DELAY_S, true) : before?.clear_after_s ?? 0,
    hold_off_s: has('hold_off_s') ? num('hold_off_s', b.hold_off_s, 0, MAX_DELAY_S, true) : before?.hold_off_s ?? DEFAULT_HOLD_OFF_S,
    active: b.active !== undefined ? checkActive(b.active) : before?.active ?? null,
    enabled,
    notify: has('notify') ? checkNotify(b.notify) : before?.notify ?? 'subscribers',
  };
}

/** A row of alarm_rules. */
export interface RuleRow { id: string; name: string; body: string; created_by: string | null; created_at: number; updated_at: number }

export function toRule(row: RuleRow): AlarmRule {
  const body = JSON.parse(row.body) as RuleInput;
  return { id: row.id, ...body, name: row.name, created_by: row.created_by, created_at: row.created_at, updated_at: row.updated_at };
}

/** The end of a license's last day (expiration_date is a UTC day, valid through that day). */
export function licenseEnd(expirationDate: string | undefined): number | null {
  if (!expirationDate) return null;
  const t = Date.parse(`${expirationDate}T00:00:00Z`);
  return Number.isNaN(t) ? null : t + DAY_MS;
}
