/**
 * Routes alarm notifications to subscribers' channels. Per recipient and channel ("lane"):
 * notifications are gathered briefly, non-critical ones are held through quiet hours, and more than
 * `digestAfter` within the window go out as ONE digest. Each lane (and each shared channel) sends one
 * message at a time, in order, so a "cleared" never overtakes its "raised". Failed sends are retried
 * with exponential backoff up to maxAttempts (the lane waits), then reported through onFailure. Queues are bounded: when a lane is
 * full its oldest non-critical notification (else its oldest) is dropped and reported. Nothing is
 * dropped without an onFailure report. Clock and timers are injectable.
 */
import { quietUntil } from './quiet-hours';
import { DEFAULT_DIGEST_AFTER, matches, validateSubscription, type FolderResolver, type Subscription } from './subscriptions';
import { validateNotification, type AlarmNotification, type Batch, type Channel, type ChannelName } from './types';

export interface Clock {
  now(): number;
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

export const systemClock: Clock = {
  now: () => Date.now(),
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (h) => clearTimeout(h as NodeJS.Timeout),
};

export type FailureReason = 'failed' | 'queue-full' | 'no-channel' | 'closed';

export interface FailureReport {
  reason: FailureReason;
  channel: ChannelName;
  /** Absent for shared channels (MQTT, webhook). */
  userId?: string;
  notifications: AlarmNotification[];
  attempts: number;
  error: string;
}

export interface DispatcherOptions {
  timeZone: string;
  channels: Partial<Record<ChannelName, Channel>>;
  folderIds: FolderResolver;
  /** Every notification not delivered ends here (the caller logs it as an event). */
  onFailure(report: FailureReport): void;
  onDelivered?(channel: ChannelName, batch: Batch): void;
  clock?: Clock;
  /** Rate-limit window per recipient, ms; default 15 min. */
  windowMs?: number;
  /** How long a lane gathers notifications before sending, ms; default 2000. */
  gatherMs?: number;
  /** Attempts per message including the first; default 5. */
  maxAttempts?: number;
  /** First retry delay, doubled each attempt up to maxDelayMs; defaults 2000 and 300000. */
  baseDelayMs?: number;
  maxDelayMs?: number;
  /** Notifications waiting per lane (gathering or held by quiet hours); default 1000. */
  maxQueue?: number;
  /** Messages waiting for a retry, all lanes; default 1000. */
  maxRetrying?: number;
}

interface Outbox { channel: Channel; queue: Batch[]; busy: boolean }

interface Lane {
  sub: Subscription;
  channel: Channel;
  pending: AlarmNotification[];
  held: AlarmNotification[];
  sent: number[];
  holdUntil: number;
  /** Notifications were held back by the rate limit: they go out together as one digest. */
  limited: boolean;
  gather?: unknown;
  quiet?: unknown;
  quietEnd?: number;
}

/** A one-line description of a failure report for the event log (no secrets: channel errors carry none). */
export function describeFailure(r: FailureReport): string {
  const to = r.userId ? `${r.channel} to ${r.userId}` : r.channel;
  const what = `${r.notifications.length} alarm notification${r.notifications.length === 1 ? '' : 's'} (${[...new Set(r.notifications.map((n) => n.alarmId))].slice(0, 5).join(', ')})`;
  const why = { failed: `not delivered after ${r.attempts} attempt${r.attempts === 1 ? '' : 's'}`, 'queue-full': 'dropped: queue full', 'no-channel': 'not sent: channel not configured', closed: 'not sent: notifications stopped' }[r.reason];
  return `${to}: ${what} ${why}: ${r.error}`;
}

function intOpt(v: number | undefined, def: number, min: number, max: number, field: string): number {
  if (v === undefined) return def;
  if (!Number.isInteger(v) || v < min || v > max) throw new RangeError(`dispatcher.${field} must be a whole number ${min}..${max}, got ${JSON.stringify(v)}`);
  return v;
}

export class NotificationDispatcher {
  private subs: Subscription[] = [];
  private readonly lanes = new Map<string, Lane>();
  private inFlight = 0;
  private closed = false;
  private waiters: (() => void)[] = [];
  private readonly clock: Clock;
  private readonly windowMs: number;
  private readonly gatherMs: number;
  private readonly maxAttempts: number;
  private readonly baseDelayMs: number;
  private readonly maxDelayMs: number;
  private readonly maxQueue: number;
  private readonly maxRetrying: number;
  private readonly retryBatches = new Map<unknown, { channel: Channel; batch: Batch; attempts: number; done: () => void }>();
  /** Messages waiting to be sent, per lane or shared channel, one in flight at a time. */
  private readonly outboxes = new Map<string, Outbox>();

  constructor(subscriptions: Subscription[], private readonly o: DispatcherOptions) {
    if (typeof o.onFailure !== 'function') throw new TypeError('dispatcher.onFailure must be a function');
    if (typeof o.folderIds !== 'function') throw new TypeError('dispatcher.folderIds must be a function');
    this.clock = o.clock ?? systemClock;
    this.windowMs = intOpt(o.windowMs, 15 * 60_000, 1000, 86_400_000, 'windowMs');
    this.gatherMs = intOpt(o.gatherMs, 2000, 0, 600_000, 'gatherMs');
    this.maxAttempts = intOpt(o.maxAttempts, 5, 1, 20, 'maxAttempts');
    this.baseDelayMs = intOpt(o.baseDelayMs, 2000, 1, 3_600_000, 'baseDelayMs');
    this.maxDelayMs = intOpt(o.maxDelayMs, 300_000, this.baseDelayMs, 86_400_000, 'maxDelayMs');
    this.maxQueue = intOpt(o.maxQueue, 1000, 1, 1_000_000, 'maxQueue');
    this.maxRetrying = intOpt(o.maxRetrying, 1000, 1, 1_000_000, 'maxRetrying');
    this.setSubscriptions(subscriptions);
  }

  /** Replaces the subscriptions (validated first; on error the old ones stay). Lanes of removed pairs keep their queue. */
  setSubscriptions(subscriptions: Subscription[]): void {
    if (!Array.isArray(subscriptions)) throw new TypeError(`subscriptions must be a list, got ${JSON.stringify(subscriptions)}`);
    this.subs = subscriptions.map(validateSubscription);
  }

  /**
   * Routes one notification; throws on an invalid notification. `accept` narrows the subscriptions
   * further (the caller's rules: who may see the meter, the rule's notify list).
   */
  notify(input: AlarmNotification, accept: (s: Subscription) => boolean = () => true): void {
    if (this.closed) throw new Error('notifications are stopped (dispatcher closed)');
    const n = validateNotification(input);
    const ids = this.o.folderIds(n);
    const shared = new Set<ChannelName>();
    for (const sub of this.subs) {
      if (!matches(sub, n, ids) || !accept(sub)) continue;
      for (const name of sub.channels) {
        const channel = this.o.channels[name];
        if (!channel) { this.report({ reason: 'no-channel', channel: name, userId: sub.userId, notifications: [n], attempts: 0, error: `no ${name} channel is configured` }); continue; }
        if (channel.audience === 'shared') shared.add(name);
        else this.enqueue(this.lane(sub, channel), n);
      }
    }
    for (const name of shared) this.send(this.o.channels[name]!, { notifications: [n], digest: false });
  }

  /** Sends one notification to every configured shared channel (MQTT, webhook: feeds for other systems), whoever subscribed. */
  publish(input: AlarmNotification): void {
    if (this.closed) throw new Error('notifications are stopped (dispatcher closed)');
    const n = validateNotification(input);
    for (const channel of Object.values(this.o.channels)) {
      if (channel?.audience === 'shared') this.send(channel, { notifications: [n], digest: false });
    }
  }

  /** Resolves when nothing is being sent, gathered or awaiting a retry (held quiet-hour notifications do not count). */
  settled(): Promise<void> {
    if (this.idle()) return Promise.resolve();
    return new Promise((r) => this.waiters.push(r));
  }

  stats(): { pending: number; held: number; queued: number; inFlight: number; retrying: number } {
    let pending = 0;
    let held = 0;
    let queued = 0;
    for (const l of this.lanes.values()) { pending += l.pending.length; held += l.held.length; }
    for (const o of this.outboxes.values()) queued += o.queue.length;
    return { pending, held, queued, inFlight: this.inFlight, retrying: this.retryBatches.size };
  }

  /** Stops: timers cleared, everything not yet sent reported as 'closed', in-flight sends awaited. Channels stay open (the caller owns them). */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const l of this.lanes.values()) {
      if (l.gather !== undefined) this.clock.clearTimeout(l.gather);
      if (l.quiet !== undefined) this.clock.clearTimeout(l.quiet);
      const left = [...l.held, ...l.pending];
      l.held = []; l.pending = []; l.gather = undefined; l.quiet = undefined;
      if (left.length) this.report({ reason: 'closed', channel: l.channel.name, userId: l.sub.userId, notifications: left, attempts: 0, error: 'the dispatcher was closed before sending' });
    }
    for (const o of this.outboxes.values()) {
      for (const b of o.queue.splice(0)) this.report({ reason: 'closed', channel: o.channel.name, userId: b.recipient?.userId, notifications: b.notifications, attempts: 0, error: 'the dispatcher was closed before sending' });
    }
    const retries = [...this.retryBatches];
    this.retryBatches.clear();
    for (const [h, r] of retries) {
      this.clock.clearTimeout(h);
      this.report({ reason: 'closed', channel: r.channel.name, userId: r.batch.recipient?.userId, notifications: r.batch.notifications, attempts: r.attempts, error: 'the dispatcher was closed before the next retry' });
      r.done();
    }
    this.wake();
    await this.settled();
  }

  private lane(sub: Subscription, channel: Channel): Lane {
    const key = `${channel.name}\u0000${sub.userId}`;
    let l = this.lanes.get(key);
    if (!l) this.lanes.set(key, (l = { sub, channel, pending: [], held: [], sent: [], holdUntil: 0, limited: false }));
    l.sub = sub;
    return l;
  }

  private enqueue(l: Lane, n: AlarmNotification): void {
    const now = this.clock.now();
    const end = n.severity !== 'critical' && l.sub.quietHours ? quietUntil(now, l.sub.quietHours, this.o.timeZone) : null;
    if (l.pending.length + l.held.length >= this.maxQueue) this.dropOne(l);
    if (end !== null) {
      l.held.push(n);
      if (l.quiet === undefined || (l.quietEnd !== undefined && end < l.quietEnd)) {
        if (l.quiet !== undefined) this.clock.clearTimeout(l.quiet);
        l.quietEnd = end;
        l.quiet = this.clock.setTimeout(() => this.release(l), Math.max(0, end - now));
      }
      return;
    }
    l.pending.push(n);
    this.schedule(l, now + this.gatherMs);
  }

  private dropOne(l: Lane): void {
    for (const list of [l.held, l.pending]) {
      const i = list.findIndex((x) => x.severity !== 'critical');
      if (i >= 0) { this.dropAt(l, list, i); return; }
    }
    this.dropAt(l, l.held.length ? l.held : l.pending, 0);
  }

  private dropAt(l: Lane, list: AlarmNotification[], i: number): void {
    const [gone] = list.splice(i, 1);
    this.report({ reason: 'queue-full', channel: l.channel.name, userId: l.sub.userId, notifications: [gone], attempts: 0, error: `more than ${this.maxQueue} notifications waiting; the oldest ${gone.severity === 'critical' ? '' : 'non-critical '}one was dropped` });
  }

  private release(l: Lane): void {
    l.quiet = undefined; l.quietEnd = undefined;
    l.pending.push(...l.held);
    l.held = [];
    this.schedule(l, this.clock.now());
  }

  private schedule(l: Lane, when: number): void {
    if (l.gather !== undefined || this.closed) return;
    l.gather = this.clock.setTimeout(() => this.flush(l), Math.max(0, when - this.clock.now()));
  }

  private flush(l: Lane): void {
    l.gather = undefined;
    const now = this.clock.now();
    if (l.pending.length === 0 || this.closed) { this.wake(); return; }
    if (now < l.holdUntil) { l.limited = true; this.schedule(l, l.holdUntil); return; }
    l.sent = l.sent.filter((t) => t > now - this.windowMs);
    const limit = l.sub.digestAfter ?? DEFAULT_DIGEST_AFTER;
    const batch = l.pending;
    l.pending = [];
    const recipient = { userId: l.sub.userId, email: l.sub.email };
    const limited = l.limited;
    l.limited = false;
    if (!(limited && batch.length > 1) && l.sent.length + batch.length <= limit) {
      for (const n of batch) this.send(l.channel, { recipient, notifications: [n], digest: false });
    } else {
      l.holdUntil = now + this.windowMs;
      this.send(l.channel, { recipient, notifications: batch, digest: true });
    }
    for (let i = 0; i < batch.length; i++) l.sent.push(now);
    this.wake();
  }

  /** Queues a message on its outbox (the recipient's lane, or the shared channel); bounded like a lane. */
  private send(channel: Channel, batch: Batch): void {
    const key = `${channel.name}\u0000${batch.recipient?.userId ?? '*'}`;
    let o = this.outboxes.get(key);
    if (!o) this.outboxes.set(key, (o = { channel, queue: [], busy: false }));
    if (o.queue.length >= this.maxQueue) {
      const i = Math.max(0, o.queue.findIndex((b) => b.notifications.every((n) => n.severity !== 'critical')));
      const [gone] = o.queue.splice(i, 1);
      this.report({ reason: 'queue-full', channel: channel.name, userId: gone.recipient?.userId, notifications: gone.notifications, attempts: 0, error: `more than ${this.maxQueue} messages waiting to be sent; the oldest was dropped` });
    }
    o.queue.push(batch);
    this.pump(o);
  }

  private pump(o: Outbox): void {
    if (o.busy) return;
    const batch = o.queue.shift();
    if (!batch) { this.wake(); return; }
    o.busy = true;
    this.attempt(o.channel, batch, 1, () => { o.busy = false; this.pump(o); });
  }

  /** One attempt; `done` runs once the message is delivered or given up (reported). */
  private attempt(channel: Channel, batch: Batch, attempt: number, done: () => void): void {
    this.inFlight++;
    Promise.resolve().then(() => channel.send(batch)).then(
      () => {
        this.inFlight--;
        try { this.o.onDelivered?.(channel.name, batch); } catch { /* the caller's hook must not stop delivery */ }
        done();
      },
      (err: unknown) => {
        this.inFlight--;
        const e = err as { message?: string; retryable?: boolean };
        const message = e?.message ?? String(err);
        const base: FailureReport = { reason: 'failed', channel: channel.name, userId: batch.recipient?.userId, notifications: batch.notifications, attempts: attempt, error: message };
        if (e?.retryable === false || attempt >= this.maxAttempts || this.closed) { this.report(base); done(); return; }
        if (this.retryBatches.size >= this.maxRetrying) { this.report({ ...base, reason: 'queue-full', error: `${message}; ${this.maxRetrying} messages already await a retry, so this one is not retried` }); done(); return; }
        const delay = Math.min(this.baseDelayMs * 2 ** (attempt - 1), this.maxDelayMs);
        const h: unknown = this.clock.setTimeout(() => {
          this.retryBatches.delete(h);
          this.attempt(channel, batch, attempt + 1, done);
        }, delay);
        this.retryBatches.set(h, { channel, batch, attempts: attempt, done });
        this.wake();
      },
    );
  }

  private report(r: FailureReport): void {
    try { this.o.onFailure(r); } catch { /* a failing logger must not stop delivery */ }
  }

  private idle(): boolean {
    if (this.inFlight > 0 || this.retryBatches.size > 0) return false;
    for (const o of this.outboxes.values()) if (o.busy || o.queue.length > 0) return false;
    for (const l of this.lanes.values()) if (l.gather !== undefined) return false;
    return true;
  }

  private wake(): void {
    if (!this.idle()) return;
    const w = this.waiters;
    this.waiters = [];
    for (const r of w) r();
  }
}
