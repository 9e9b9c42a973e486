/** Notification subscriptions per user: which folders, severities and channels, quiet hours, digest threshold. */
import { parseQuietHours, type QuietHours } from './quiet-hours';
import { CHANNEL_NAMES, SEVERITIES, type AlarmNotification, type ChannelName, type Severity } from './types';

export interface Subscription {
  userId: string;
  email?: string;
  channels: ChannelName[];
  /** Folder ids; a folder covers its whole subtree. Absent or empty: every folder. */
  folders?: string[];
  /** Absent: every severity. */
  severities?: Severity[];
  /** Non-critical notifications in this period are held until it ends. */
  quietHours?: QuietHours;
  /** More notifications than this within the dispatcher's window become one digest; default 5. */
  digestAfter?: number;
}

export const DEFAULT_DIGEST_AFTER = 5;

/** The ids of a meter's folder and all its ancestors (any order); empty when the meter is unknown. */
export type FolderResolver = (n: AlarmNotification) => readonly string[];

function listOf<T extends string>(v: unknown, field: string, allowed: readonly T[] | null): T[] {
  if (!Array.isArray(v) || v.some((x) => typeof x !== 'string' || x === '' || (allowed && !allowed.includes(x as T)))) {
    throw new TypeError(`subscription.${field} must be a list of ${allowed ? allowed.join(' | ') : 'ids'}, got ${JSON.stringify(v)}`);
  }
  return v as T[];
}

/** Checks one subscription; throws naming the field and the value. */
export function validateSubscription(s: unknown): Subscription {
  if (!s || typeof s !== 'object') throw new TypeError(`subscription must be an object, got ${JSON.stringify(s)}`);
  const o = s as Subscription;
  if (typeof o.userId !== 'string' || o.userId === '') throw new TypeError(`subscription.userId must be a non-empty string, got ${JSON.stringify(o.userId)}`);
  listOf(o.channels, 'channels', CHANNEL_NAMES);
  if (o.folders !== undefined) listOf(o.folders, 'folders', null);
  if (o.severities !== undefined) listOf(o.severities, 'severities', SEVERITIES);
  if (o.email !== undefined && (typeof o.email !== 'string' || !/^[^\s@<>]+@[^\s@<>]+$/.test(o.email))) {
    throw new TypeError(`subscription.email must be an email address, got ${JSON.stringify(o.email)}`);
  }
  if (o.channels.includes('email') && !o.email) throw new TypeError(`subscription of ${JSON.stringify(o.userId)} chooses email but has no email address`);
  if (o.quietHours !== undefined) parseQuietHours(o.quietHours);
  if (o.digestAfter !== undefined && (!Number.isInteger(o.digestAfter) || o.digestAfter < 1 || o.digestAfter > 1000)) {
    throw new RangeError(`subscription.digestAfter must be a whole number 1..1000, got ${JSON.stringify(o.digestAfter)}`);
  }
  return o;
}

/** True when the subscription wants the notification (severity and folder subtree). */
export function matches(s: Subscription, n: AlarmNotification, folderIds: readonly string[]): boolean {
  if (s.severities && !s.severities.includes(n.severity)) return false;
  if (!s.folders || s.folders.length === 0) return true;
  return s.folders.some((f) => folderIds.includes(f));
}
