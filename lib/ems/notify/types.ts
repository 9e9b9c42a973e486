/**
 * Alarm notifications: what the alarm lifecycle emits on every transition, and what the
 * notification channels and the dispatcher deliver. Plain data, no I/O.
 */

export type Severity = 'info' | 'warning' | 'critical';
export type AlarmState = 'raised' | 'acknowledged' | 'cleared';
export type ChannelName = 'email' | 'mqtt' | 'webhook' | 'dashboard';

export const SEVERITIES: readonly Severity[] = ['info', 'warning', 'critical'];
export const ALARM_STATES: readonly AlarmState[] = ['raised', 'acknowledged', 'cleared'];
export const CHANNEL_NAMES: readonly ChannelName[] = ['email', 'mqtt', 'webhook', 'dashboard'];

/** One alarm transition, as the alarm lifecycle emits it. */
export interface AlarmNotification {
  alarmId: string;
  /** The rule's name ("Power above 50 kW"). */
  rule: string;
  severity: Severity;
  state: AlarmState;
  meterId: string;
  meterName: string;
  /** Folder names from the root down to the meter's folder. */
  folderPath: string[];
  /** When the alarm was first raised, epoch ms. */
  since: number;
  /** When this transition happened, epoch ms. */
  at: number;
  value?: number;
  limit?: number;
  unit?: string;
  /** The acknowledgement note. */
  note?: string;
  /** Who acknowledged. */
  by?: string;
  /** The dashboard page of the alarm. */
  link?: string;
}

/** Who a message goes to; absent for channels that serve systems rather than people (MQTT, webhook). */
export interface Recipient { userId: string; email?: string }

/**
 * One message for a channel: a single notification, or a digest of several (digest: true) when a
 * recipient's rate limit was exceeded or quiet hours held them back.
 */
export interface Batch {
  recipient?: Recipient;
  notifications: AlarmNotification[];
  digest: boolean;
}

/** A delivery channel. send() resolves once the peer accepted the message and throws a ChannelError otherwise. */
export interface Channel {
  readonly name: ChannelName;
  /**
   * 'recipient': one message per subscriber (email, dashboard); quiet hours and digests apply.
   * 'shared': one message per notification however many subscribers chose the channel (MQTT state
   * topics, a webhook into another system); sent at once, never held or digested.
   */
  readonly audience: 'recipient' | 'shared';
  send(batch: Batch): Promise<void>;
  close?(): Promise<void>;
}

/** A delivery failure; `retryable` false for errors a retry cannot fix (bad login, rejected address, 4xx). */
export class ChannelError extends Error {
  constructor(readonly channel: ChannelName, message: string, readonly retryable = true) {
    super(`${channel}: ${message}`);
    this.name = 'ChannelError';
  }
}

function fail(field: string, value: unknown, want: string): never {
  throw new TypeError(`notification.${field} must be ${want}, got ${JSON.stringify(value)}`);
}

/** Checks a notification from outside (a flow, the API); returns it typed or throws naming the field and value. */
export function validateNotification(n: unknown): AlarmNotification {
  if (!n || typeof n !== 'object' || Array.isArray(n)) throw new TypeError(`notification must be an object, got ${JSON.stringify(n)}`);
  const o = n as Record<string, unknown>;
  for (const f of ['alarmId', 'rule', 'meterId', 'meterName'] as const) {
    if (typeof o[f] !== 'string' || (o[f] as string).trim() === '') fail(f, o[f], 'a non-empty string');
  }
  if (!SEVERITIES.includes(o.severity as Severity)) fail('severity', o.severity, SEVERITIES.join(' | '));
  if (!ALARM_STATES.includes(o.state as AlarmState)) fail('state', o.state, ALARM_STATES.join(' | '));
  if (!Array.isArray(o.folderPath) || o.folderPath.some((s) => typeof s !== 'string')) fail('folderPath', o.folderPath, 'an array of folder names');
  for (const f of ['since', 'at'] as const) if (typeof o[f] !== 'number' || !Number.isFinite(o[f])) fail(f, o[f], 'a time in epoch ms');
  for (const f of ['value', 'limit'] as const) if (o[f] !== undefined && (typeof o[f] !== 'number' || !Number.isFinite(o[f]))) fail(f, o[f], 'a finite number');
  for (const f of ['unit', 'note', 'by', 'link'] as const) if (o[f] !== undefined && typeof o[f] !== 'string') fail(f, o[f], 'a string');
  if (o.link !== undefined && !/^https?:\/\//i.test(o.link as string)) fail('link', o.link, 'an http(s) URL');
  return o as unknown as AlarmNotification;
}
