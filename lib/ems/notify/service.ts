/**
 * NotificationService: the alarm lifecycle's transitions delivered through the channels.
 * - MQTT and webhook are system feeds (configured on the ems-system node): every transition goes there.
 * - Email and the dashboard go to people, per stored subscription (folders, severities, channels, quiet
 *   hours, digest): only about meters the user sees (open_folders), only to active users, and only to the
 *   users a rule names when its notify list is not "subscribers". A reopened alarm (back within the
 *   rule's hold-off) is not sent to people again: the feeds carry it, the dashboard shows it.
 * - The dashboard channel is an inbox per user in the EMS database (the newest INBOX_KEEP per user).
 * - A notification not delivered after the retries is an event in the event log (kind "system").
 */
import type { EmsDatabase } from '../db';
import { ApiError } from '../envelope';
import type { EventLog } from '../event-log';
import type { Registry } from '../registry';
import type { UserService } from '../users';
import type { AlarmService } from '../alarms/service';
import type { AlarmNotification as AlarmTransitionNotification } from '../alarms/types';
import { createDashboardChannel } from './channels/dashboard';
import { describeFailure, NotificationDispatcher, type DispatcherOptions } from './dispatcher';
import { validateSubscription, type Subscription } from './subscriptions';
import type { AlarmNotification, Batch, Channel, ChannelName } from './types';

export const INBOX_KEEP = 200;
export const MAX_SUBSCRIPTION_FOLDERS = 100;
/** Channels a person subscribes to; MQTT and webhook are system feeds. */
export const PERSONAL_CHANNELS: readonly ChannelName[] = ['email', 'dashboard'];

export type FeedChannels = Partial<Record<'email' | 'mqtt' | 'webhook', Channel>>;

export interface NotificationServiceOptions {
  timeZone: string;
  channels: FeedChannels;
  /** The dashboard's base URL (http://ems.example:1880/dashboard): notifications link to its alarms page. */
  dashboardUrl?: string;
  /** Dispatcher timing (gather, window, retries); tests shorten them. */
  timing?: Pick<DispatcherOptions, 'windowMs' | 'gatherMs' | 'maxAttempts' | 'baseDelayMs' | 'maxDelayMs' | 'clock'>;
  now?: () => number;
}

/** A subscription as the API shows it (snake_case, like the rest of the API). */
export interface SubscriptionView {
  user_id: string;
  channels: ChannelName[];
  email: string | null;
  folders: string[];
  severities: string[];
  quiet_hours: Subscription['quietHours'] | null;
  digest_after: number | null;
  updated_at: number;
}

export interface InboxEntry { id: number; time: number; digest: boolean; notifications: AlarmNotification[] }

interface SubRow { user_id: string; body: string; updated_at: number }

const SUB_FIELDS = ['channels', 'email', 'folders', 'severities', 'quiet_hours', 'digest_after'];

export class NotificationService {
  private readonly dispatcher: NotificationDispatcher;
  private readonly now: () => number;
  private readonly link?: string;
  private readonly onTransition = (n: AlarmTransitionNotification) => this.route(n);

  constructor(
    private readonly db: EmsDatabase,
    private readonly users: UserService,
    private readonly registry: Registry,
    private readonly events: EventLog,
    private readonly alarms: AlarmService,
    private readonly o: NotificationServiceOptions,
  ) {
    this.now = o.now ?? Date.now;
    if (o.dashboardUrl !== undefined) {
      if (!/^https?:\/\/[^\s]+$/i.test(o.dashboardUrl)) throw new TypeError(`dashboardUrl must be an http(s) URL, got ${JSON.stringify(o.dashboardUrl)}`);
      this.link = `${o.dashboardUrl.replace(/\/+$/, '')}/alarms`;
    }
    const channels: DispatcherOptions['channels'] = { ...o.channels, dashboard: createDashboardChannel((userId, batch) => this.toInbox(userId, batch)) };
    this.dispatcher = new NotificationDispatcher(this.loadSubscriptions(), {
      ...o.timing,
      timeZone: o.timeZone,
      channels,
      folderIds: (n) => this.folderIdsOf((n as AlarmTransitionNotification).folderId ?? null),
      onFailure: (r) => this.logFailure(describeFailure({ ...r, userId: r.userId && this.loginOf(r.userId) })),
    });
    alarms.on('transition', this.onTransition);
  }

  /** Which channels are configured (never their settings or secrets) and what is waiting. */
  status(): { channels: Record<ChannelName, boolean>; subscriptions: number } & ReturnType<NotificationDispatcher['stats']> {
    const c = this.o.channels;
    const count = (this.db.prepare('SELECT COUNT(*) AS n FROM notify_subscriptions').get() as { n: number }).n;
    return { channels: { email: !!c.email, mqtt: !!c.mqtt, webhook: !!c.webhook, dashboard: true }, subscriptions: count, ...this.dispatcher.stats() };
  }

  /** Resolves once nothing is being sent, gathered or retried (tests; held quiet-hour notifications do not count). */
  settled(): Promise<void> { return this.dispatcher.settled(); }

  /** Stops: what is not yet sent is logged as not delivered; the feeds' connections are closed. */
  async close(): Promise<void> {
    this.alarms.off('transition', this.onTransition);
    await this.dispatcher.close();
    for (const ch of Object.values(this.o.channels)) await ch?.close?.().catch(() => undefined);
  }

  // ---- subscriptions ----

  getSubscription(userId: string): SubscriptionView | null {
    const row = this.db.prepare('SELECT * FROM notify_subscriptions WHERE user_id = ?').get(userId) as SubRow | undefined;
    return row ? toView(row) : null;
  }

  listSubscriptions(): SubscriptionView[] {
    return (this.db.prepare('SELECT * FROM notify_subscriptions ORDER BY user_id').all() as SubRow[]).map(toView);
  }

  /** Stores a user's subscription (replacing theirs); a bad field is a 400 naming it. Folders must be the user's. */
  setSubscription(userId: string, body: unknown, by: string): SubscriptionView {
    const user = this.users.get(userId);
    if (typeof body !== 'object' || body === null || Array.isArray(body)) throw new ApiError(400, `subscription ${JSON.stringify(body)} must be an object`);
    const b = body as Record<string, unknown>;
    for (const k of Object.keys(b)) if (!SUB_FIELDS.includes(k)) throw new ApiError(400, `unknown field "${k}" (use ${SUB_FIELDS.join(', ')})`);
    const channels = b.channels ?? ['dashboard'];
    if (Array.isArray(channels)) {
      for (const c of channels) {
        if (c === 'mqtt' || c === 'webhook') throw new ApiError(400, `channels: ${JSON.stringify(c)} is a system feed configured on the ems-system node (it carries every alarm); choose ${PERSONAL_CHANNELS.join(' or ')}`);
      }
    }
    const folders = b.folders ?? [];
    if (Array.isArray(folders) && folders.length > MAX_SUBSCRIPTION_FOLDERS) throw new ApiError(400, `folders: at most ${MAX_SUBSCRIPTION_FOLDERS} folders, got ${folders.length}`);
    const sub: Subscription = {
      userId,
      channels: channels as ChannelName[],
      ...(b.email !== undefined && b.email !== null ? { email: b.email as string } : {}),
      folders: folders as string[],
      ...(b.severities !== undefined && b.severities !== null ? { severities: b.severities as Subscription['severities'] } : {}),
      ...(b.quiet_hours !== undefined && b.quiet_hours !== null ? { quietHours: b.quiet_hours as Subscription['quietHours'] } : {}),
      ...(b.digest_after !== undefined && b.digest_after !== null ? { digestAfter: b.digest_after as number } : {}),
    };
    try {
      validateSubscription(sub);
    } catch (err) {
      throw new ApiError(400, (err as Error).message.replace(/subscription\.quietHours/g, 'quiet_hours').replace(/subscription\.digestAfter/g, 'digest_after').replace(/subscription\./g, ''));
    }
    if (new Set(sub.channels).size !== sub.channels.length) throw new ApiError(400, `channels ${JSON.stringify(sub.channels)} names a channel twice`);
    const scope = this.registry.scopeOf(user.open_folders);
    for (const f of sub.folders ?? []) {
      try { this.registry.folder(f, scope); } catch { throw new ApiError(400, `folders: ${JSON.stringify(f)} is not a folder of user ${user.login}`); }
    }
    const t = this.now();
    const stored = { ...sub, userId: undefined };
    this.db.prepare('INSERT INTO notify_subscriptions (user_id, body, updated_at) VALUES (?, ?, ?) ON CONFLICT(user_id) DO UPDATE SET body = excluded.body, updated_at = excluded.updated_at')
      .run(userId, JSON.stringify(stored), t);
    this.reload();
    this.events.add({ kind: 'config', event: `notification subscription of ${user.login} set: ${sub.channels.join(', ') || 'no channel'}`, source: by });
    return this.getSubscription(userId)!;
  }

  deleteSubscription(userId: string, by: string): boolean {
    const user = this.users.get(userId);
    const gone = this.db.prepare('DELETE FROM notify_subscriptions WHERE user_id = ?').run(userId).changes > 0;
    if (gone) {
      this.reload();
      this.events.add({ kind: 'config', event: `notification subscription of ${user.login} removed`, source: by });
    }
    return gone;
  }

  // ---- the dashboard inbox ----

  /** The user's dashboard notifications, newest first; `after` = only newer than this id. */
  inbox(userId: string, after = 0, limit = 50): InboxEntry[] {
    const rows = this.db.prepare('SELECT id, time, digest, body FROM notify_inbox WHERE user_id = ? AND id > ? ORDER BY id DESC LIMIT ?')
      .all(userId, after, limit) as { id: number; time: number; digest: number; body: string }[];
    return rows.map((r) => ({ id: r.id, time: r.time, digest: r.digest === 1, notifications: JSON.parse(r.body) as AlarmNotification[] }));
  }

  private toInbox(userId: string, batch: Batch): void {
    const t = this.now();
    this.db.prepare('INSERT INTO notify_inbox (user_id, time, digest, body) VALUES (?, ?, ?, ?)').run(userId, t, batch.digest ? 1 : 0, JSON.stringify(batch.notifications));
    this.db.prepare('DELETE FROM notify_inbox WHERE user_id = ? AND id <= (SELECT id FROM notify_inbox WHERE user_id = ? ORDER BY id DESC LIMIT 1 OFFSET ?)').run(userId, userId, INBOX_KEEP);
  }

  // ---- routing ----

  private route(t: AlarmTransitionNotification): void {
    const n: AlarmTransitionNotification = this.link ? { ...t, link: this.link } : t;
    try {
      this.dispatcher.publish(n);
      if (t.transition === 'reopened') return;
      const path = t.folderId === null ? null : this.folderIdsOf(t.folderId);
      this.dispatcher.notify(n, (sub) => (!Array.isArray(t.notify) || t.notify.includes(sub.userId)) && this.mayKnow(sub.userId, path));
    } catch (err) {
      this.logFailure(`alarm #${t.alarmId} ${t.transition}: notification not sent: ${(err as Error).message}`);
    }
  }

  /**
   * An active user whose folders include the alarm's: one of their open folders lies on the path from the alarm's
   * folder up to the root (`path`, null for an alarm about the EMS itself, which needs every folder open).
   */
  private mayKnow(userId: string, path: readonly string[] | null): boolean {
    let user;
    try { user = this.users.get(userId); } catch { return false; }
    if (!user.active) return false;
    if (user.open_folders.length === 0) return true;
    return path !== null && user.open_folders.some((f) => path.includes(f));
  }

  private loginOf(userId: string): string {
    try { return this.users.get(userId).login; } catch { return userId; }
  }

  private folderIdsOf(folderId: string | null): string[] {
    const ids: string[] = [];
    for (let id = folderId, n = 0; id && n < 100; n++) {
      ids.push(id);
      try { id = this.registry.folder(id).parent_id; } catch { break; }
    }
    return ids;
  }

  private loadSubscriptions(): Subscription[] {
    const subs: Subscription[] = [];
    for (const row of this.db.prepare('SELECT * FROM notify_subscriptions').all() as SubRow[]) {
      try {
        subs.push(validateSubscription({ ...JSON.parse(row.body), userId: row.user_id }));
      } catch (err) {
        this.logFailure(`the notification subscription of user ${row.user_id} is unusable and ignored: ${(err as Error).message}`);
      }
    }
    return subs;
  }

  private reload(): void { this.dispatcher.setSubscriptions(this.loadSubscriptions()); }

  private logFailure(text: string): void {
    try { this.events.add({ kind: 'system', level: 'error', event: `notification: ${text}`.slice(0, 2000) }); } catch { /* closed database */ }
  }
}

function toView(row: SubRow): SubscriptionView {
  const s = JSON.parse(row.body) as Subscription;
  return {
    user_id: row.user_id, channels: s.channels, email: s.email ?? null, folders: s.folders ?? [], severities: s.severities ?? [],
    quiet_hours: s.quietHours ?? null, digest_after: s.digestAfter ?? null, updated_at: row.updated_at,
  };
}
