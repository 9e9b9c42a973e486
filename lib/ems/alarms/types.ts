/**
 * Alarm types shared by the rules, the evaluation, the lifecycle, the API and the notification
 * channels (lib/ems/notify consumes AlarmNotification, exactly as documented here).
 */

import type { AlarmNotification as NotifyAlarmNotification } from '../notify/types';

export const SEVERITIES = ['info', 'warning', 'critical'] as const;
export type Severity = typeof SEVERITIES[number];

export const ALARM_STATES = ['raised', 'acknowledged', 'cleared'] as const;
export type AlarmState = typeof ALARM_STATES[number];

/** What moved an alarm: raised (new), reopened (came back within hold_off_s), acknowledged, cleared. */
export type AlarmTransition = 'raised' | 'reopened' | 'acknowledged' | 'cleared';

/**
 * Which meters a rule watches: one meter, the meters directly in a folder, or every meter of a folder's
 * subtree. Extension point (issue 18): a `{ virtual_meter: id }` subject resolves to the virtual meter's
 * id in resolveSubject (lib/ems/alarms/service.ts) and is validated in checkSubject (rules.ts).
 * Rules about the EMS itself (license_expiring, spool_filling) have no subject (null).
 */
export type Subject = { meter: string } | { folder: string; scope: 'folder' | 'subtree' };

export type AlarmWindow = '15m' | '1h' | '1d';
export type SanityKind = 'backwards' | 'reset' | 'spike';

export type Condition =
  /** A reading of `obis` above/below `value` (in `unit`; readings are converted from their own unit). */
  | { type: 'threshold'; obis: string; direction: 'above' | 'below'; value: number; unit: string }
  /** No reading for `intervals` x the meter's own interval_time. */
  | { type: 'stale'; intervals: number }
  /** `count` failed polls in a row. */
  | { type: 'poll_failures'; count: number }
  /** The consumption of a register (default 1-0:1.8.0) over the last complete window above and/or below a limit (kWh, or `unit`). */
  | { type: 'window_consumption'; obis: string; window: AlarmWindow; above?: number; below?: number; unit: string }
  /** This hour's consumption above `factor` x the median of the same weekday-hour over the last `weeks` weeks (and at least `min` more). */
  | { type: 'anomaly'; obis: string; window: '1h'; weeks: number; factor: number; min: number; unit: string }
  /** A register reading that goes backwards, resets (flagged COUNTER_RESET or drops to under a tenth) or spikes (flagged SUSPECT). */
  | { type: 'register_sanity'; obis: string; kinds: SanityKind[] }
  /** A prepaid account's balance (the account named like the meter) below `amount`. */
  | { type: 'prepaid_balance_below'; amount: number }
  /** The EMS license expires within `days` days (or has expired). */
  | { type: 'license_expiring'; days: number }
  /** The reading store's disk spool (InfluxDB outage buffer) is at least `percent` % full. */
  | { type: 'spool_filling'; percent: number };

export type ConditionType = Condition['type'];

/** Local active hours: ISO weekdays (1 = Monday .. 7 = Sunday) and "HH:MM" from/to (to < from spans midnight). */
export interface ActiveHours { days: number[]; from: string; to: string }

export interface AlarmRule {
  id: string;
  name: string;
  subject: Subject | null;
  condition: Condition;
  severity: Severity;
  /** The condition must hold this long before the alarm is raised. */
  delay_s: number;
  /** threshold only: clear only once the value is this far back on the good side of the limit. */
  hysteresis: number;
  /** The condition must be false this long before the alarm clears. */
  clear_after_s: number;
  /** A cleared alarm that comes back within this many seconds reopens (same alarm id). */
  hold_off_s: number;
  /** null = always. Outside, no new alarm is raised (open ones still clear). */
  active: ActiveHours | null;
  enabled: boolean;
  /** Who is told: user ids, or "subscribers" (the users subscribed to the folder and severity). Stored here, used by lib/ems/notify. */
  notify: 'subscribers' | string[];
  created_by: string | null;
  created_at: number;
  updated_at: number;
}

/** An alarm as stored and answered by GET /api/alarms. */
export interface Alarm {
  id: number;
  rule_id: string;
  rule_name: string;
  /** null for an alarm about the EMS itself (license). */
  meter_id: string | null;
  meter_name: string | null;
  folder_id: string | null;
  state: AlarmState;
  severity: Severity;
  raised_at: number;
  acked_at: number | null;
  acked_by: string | null;
  ack_note: string | null;
  cleared_at: number | null;
  /** The value that raised the alarm (or reopened it). */
  value: number | null;
  /** The value that cleared it; null while open and when cleared without one (the rule changed, the meter left). */
  cleared_value: number | null;
  limit: number | null;
  unit: string;
  message: string;
  /** How often it was raised (1 + reopenings within the hold-off). */
  raise_count: number;
  last_change: number;
}

/** meterId and meterName of an alarm about the EMS itself (no meter; "(" is never part of a meter id). */
export const EMS_SUBJECT = { meterId: '(ems)', meterName: 'EMS' } as const;

/**
 * The plain object of every 'transition' event of AlarmService (services.alarms.on('transition', n)):
 * what the notification dispatcher (lib/ems/notify) delivers. Its fields are exactly those of
 * lib/ems/notify's AlarmNotification (so it passes validateNotification), plus the extras below.
 * JSON-safe; times are epoch ms; absent optional fields are left out (never null).
 */
export interface AlarmNotification extends NotifyAlarmNotification {
  /** The alarm's state after the transition. */
  state: AlarmState;
  severity: Severity;
  // ---- extras ----
  /** raised (new), reopened (back within hold_off_s: the same alarm; channels need not send it again), acknowledged, cleared. */
  transition: AlarmTransition;
  ruleId: string;
  folderId: string | null;
  /** One readable line: what and where ("Peak: 1-0:1.7.0 62.3 kW above 50 kW at Hall 2 main"). */
  message: string;
  /** How often it was raised (1 + reopenings within the hold-off). */
  raiseCount: number;
  /** The rule's notify list: user ids, or "subscribers". */
  notify: 'subscribers' | string[];
}
