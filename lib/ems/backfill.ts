/**
 * Backfill from meter memory: when a meter's poll succeeds after failed polls (or, after an EMS
 * restart, when its newest stored reading is older than two intervals), the EMS sends one backfill
 * message for the span [last good reading, recovery poll start] to the same protocol node. The node
 * answers with the readings the meter stored for that span (each with its own time and the
 * BACKFILLED flag); the store upserts them by (meter, obis, time), so a repeat never duplicates.
 *
 * Bounds: at most `maxDays` back (EMS_BACKFILL_MAX_DAYS, default 31), one backfill per meter at a
 * time, at most `maxRunning` at once across the EMS (more wait in a queue), each ended after a
 * timeout. A failed backfill is a warning and is tried again on the next successful poll, at most
 * `maxAttempts` times in all. Backfills are not polls: they never count in the poll status or in
 * poll_failures alarm rules.
 */
import type { Reading } from '../model/reading';
import { BACKFILL_CAP as MAX_BACKFILL_READINGS } from '../model/backfill-span';
import { toLocal } from '../model/time';
import type { NewEvent } from './event-log';
import type { MeterRecord } from './registry';
import { realClock, type Clock } from './schedule';
import { pollMessage, type PollInfo, type PollMessage, type PollResult } from './poll-jobs';

/** Protocols whose node can read the meter's own memory for a span. */
export const BACKFILL_PROTOCOLS: ReadonlySet<string> = new Set(['iec62056-21', 'dlms', 'mbus', 'g13', 'lorawan-platform', 'modbus-tcp', 'modbus-rtu-over-tcp', 'modbus-rtu']);

export function supportsBackfill(protocol: string): boolean {
  return BACKFILL_PROTOCOLS.has(protocol) || protocol.startsWith('modbus-');
}

export const DEFAULT_BACKFILL_MAX_DAYS = 31;
export const DEFAULT_BACKFILL_RUNNING = 2;
export const BACKFILL_MAX_ATTEMPTS = 3;

/** EMS_BACKFILL_MAX_DAYS: whole days 1..366; anything else is an error naming the variable. */
export function backfillMaxDays(env: Record<string, string | undefined>): number {
  const raw = env.EMS_BACKFILL_MAX_DAYS;
  if (raw === undefined || raw.trim() === '') return DEFAULT_BACKFILL_MAX_DAYS;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1 || n > 366) throw new Error(`EMS_BACKFILL_MAX_DAYS must be a whole number of days 1..366, got ${JSON.stringify(raw)}`);
  return n;
}

/** A backfill takes longer than a poll: ten answer timeouts, at least 5 minutes. */
export function backfillTimeout(def: { waiting_time: number }): number {
  return Math.max(def.waiting_time * 30, 300_000);
}

/** The answer of a protocol node to a backfill message (as it comes back to the schedule node). */
export interface BackfillAnswer {
  payload?: unknown;
  /** truncated: more than the cap, the oldest dropped; unsupported: why this meter keeps no memory that could be read. */
  backfill?: { truncated?: unknown; unsupported?: unknown };
}

export interface BackfillOptions {
  send(msg: PollMessage): void;
  addEvent(e: NewEvent): void;
  newId(): string;
  clock?: Clock;
  /** How far back a backfill reaches, days (default 31). */
  maxDays?: number;
  /** Backfills running at once (default 2), unless `slots` (shared across the EMS's schedule nodes) is given. */
  maxRunning?: number;
  slots?: BackfillSlots;
  /** Attempts per gap (default 3). */
  maxAttempts?: number;
  /** Time zone of the event texts (default UTC). */
  timeZone?: string;
  source?: string;
  /** Checks (and pins) the target as a poll would; throws when the target is not allowed. */
  prepare?(record: MeterRecord): Promise<MeterRecord>;
}

/**
 * The backfills one EMS runs at once, shared by all its schedule nodes: a Backfiller takes a slot to
 * send one and gives it back when it ends; whoever waits is told when a slot frees.
 */
export class BackfillSlots {
  private used = 0;
  private readonly waiting = new Set<() => void>();
  constructor(readonly max = DEFAULT_BACKFILL_RUNNING) {}
  get running(): number { return this.used; }
  take(): boolean {
    if (this.used >= this.max) return false;
    this.used++;
    return true;
  }
  give(): void {
    this.used = Math.max(0, this.used - 1);
    for (const wake of [...this.waiting]) wake();
  }
  onFree(wake: () => void, on: boolean): void {
    if (on) this.waiting.add(wake); else this.waiting.delete(wake);
  }
}

interface Gap { from: number; to: number; attempts: number }

interface MeterState {
  /** Time of the newest reading known good (the last successful poll, or seeded from the store). */
  lastGood?: number;
  /** True when lastGood came from the store (no poll of this meter has ended since the start). */
  seeded: boolean;
  gap: Gap | null;
  /** The open backfill's id, or 'queued'. */
  running: string | null;
  /** The definition (protocol and profile) whose node answered that it cannot backfill: none is sent again until it changes. */
  unsupported?: string;
}

const signature = (r: MeterRecord) => `${r.definition.protocol}|${r.definition.profile ?? ''}`;

interface Open { id: string; record: MeterRecord; gap: Gap; timer: unknown }

export class Backfiller {
  private readonly meters = new Map<string, MeterState>();
  private readonly open = new Map<string, Open>();
  private readonly queue: MeterRecord[] = [];
  private stopped = false;

  private readonly slots: BackfillSlots;
  private readonly wake = () => this.pump();

  constructor(private readonly opts: BackfillOptions) {
    this.slots = opts.slots ?? new BackfillSlots(opts.maxRunning ?? DEFAULT_BACKFILL_RUNNING);
    this.slots.onFree(this.wake, true);
  }

  private get clock(): Clock {
    return this.opts.clock ?? realClock;
  }

  private stateOf(meter: string): MeterState {
    let s = this.meters.get(meter);
    if (!s) this.meters.set(meter, (s = { seeded: false, gap: null, running: null }));
    return s;
  }

  /** Seeds each meter's newest stored reading (the store's latest readings at start). */
  noteLastReadings(readings: readonly Pick<Reading, 'meter' | 'time'>[]): void {
    for (const r of readings) {
      const s = this.stateOf(r.meter);
      if (s.lastGood === undefined || (s.seeded && r.time > s.lastGood)) { s.lastGood = r.time; s.seeded = true; }
    }
  }

  /** The gap waiting for a backfill of a meter (null: none). */
  pending(meter: string): { from: number; to: number; attempts: number; running: boolean } | null {
    const s = this.meters.get(meter);
    return s?.gap ? { ...s.gap, running: s.running !== null } : null;
  }

  get running(): number {
    return this.open.size;
  }

  /**
   * Call after every finished poll with the failed polls in a row before it. A success after
   * failures (or the first success after a restart with a stale store) opens a gap and sends a
   * backfill for it; a success while a failed backfill's gap remains tries it again.
   */
  onPoll(record: MeterRecord, info: PollInfo, result: PollResult, failuresBefore: number): void {
    const s = this.stateOf(record._id);
    if (!result.ok) {
      s.seeded = false;
      return;
    }
    const interval = record.definition.interval_time * 1000;
    const stale = s.seeded && s.lastGood !== undefined && info.started - s.lastGood > 2 * interval;
    const able = supportsBackfill(record.definition.protocol) && s.unsupported !== signature(record);
    if (able && s.lastGood !== undefined && (failuresBefore > 0 || stale) && s.lastGood < info.started) {
      const floor = info.started - (this.opts.maxDays ?? DEFAULT_BACKFILL_MAX_DAYS) * 86_400_000;
      const from = Math.max(floor, s.gap ? Math.min(s.gap.from, s.lastGood) : s.lastGood);
      s.gap = { from, to: info.started, attempts: 0 }; // a new outage (merged with a gap still open) gets its own attempts
    }
    s.lastGood = Math.max(s.lastGood ?? -Infinity, info.started);
    s.seeded = false;
    if (s.gap && s.running === null && able) {
      s.running = 'queued';
      this.queue.push(record);
      this.pump();
    }
  }

  /** A message came back: ends its backfill. False for an unknown or finished backfill id. */
  answer(id: unknown, error: string | null, msg: BackfillAnswer = {}): boolean {
    if (typeof id !== 'string' || !this.open.has(id)) return false;
    this.end(id, error, msg);
    return true;
  }

  /** Forgets a deleted meter (its queued backfill is dropped). */
  forget(meter: string): void {
    const i = this.queue.findIndex((r) => r._id === meter);
    if (i >= 0) this.queue.splice(i, 1);
    if (![...this.open.values()].some((o) => o.record._id === meter)) this.meters.delete(meter);
  }

  /** Ends every open backfill without an event (the node is closing). */
  stop(): void {
    this.stopped = true;
    this.slots.onFree(this.wake, false);
    for (const o of this.open.values()) { this.clock.clearTimeout(o.timer); this.slots.give(); }
    this.open.clear();
    this.queue.length = 0;
  }

  private pump(): void {
    while (!this.stopped && this.queue.length > 0) {
      const record = this.queue[0];
      const s = this.stateOf(record._id);
      if (!s.gap) { this.queue.shift(); s.running = null; continue; }
      if (!this.slots.take()) return;
      this.queue.shift();
      this.dispatch(record, s, s.gap);
    }
  }

  private dispatch(record: MeterRecord, s: MeterState, gap: Gap): void {
    const id = this.opts.newId();
    const started = this.clock.now();
    const info: PollInfo = { id, meter: record._id, due: started, started, kind: 'backfill' };
    const timeout = backfillTimeout(record.definition);
    const o: Open = { id, record, gap, timer: this.clock.setTimeout(() => this.end(id, `no answer within ${timeout / 1000} s`, {}), timeout) };
    this.open.set(id, o);
    s.running = id;
    gap.attempts++;
    const send = (r: MeterRecord) => {
      if (!this.open.has(id)) return;
      try {
        this.opts.send({ ...pollMessage(r, info), backfill: { from: gap.from, to: gap.to } });
      } catch (err) {
        this.end(id, (err as Error).message, {});
      }
    };
    if (!this.opts.prepare) return send(record);
    this.opts.prepare(record).then(send, (err: Error) => this.end(id, err.message, {}));
  }

  private when(t: number): string {
    const l = toLocal(t, this.opts.timeZone);
    const p = (n: number) => String(n).padStart(2, '0');
    return `${l.year}-${p(l.month)}-${p(l.day)} ${p(l.hour)}:${p(l.minute)}:${p(l.second)}`;
  }

  private end(id: string, error: string | null, msg: BackfillAnswer): void {
    const o = this.open.get(id);
    if (!o) return;
    this.open.delete(id);
    this.clock.clearTimeout(o.timer);
    const meter = o.record._id;
    const s = this.stateOf(meter);
    s.running = null;
    const span = `from ${this.when(o.gap.from)} to ${this.when(o.gap.to)}`;
    const base = { kind: 'backfill' as const, meter_id: meter, meter_name: o.record.definition.name, source: this.opts.source ?? null, time: this.clock.now() };
    const max = this.opts.maxAttempts ?? BACKFILL_MAX_ATTEMPTS;
    try {
      if (error === null && typeof msg.backfill?.unsupported === 'string') {
        this.opts.addEvent({ ...base, level: 'info', event: `backfill: ${meter}: not possible: ${msg.backfill.unsupported}`, value: 0 });
        s.unsupported = signature(o.record);
        if (s.gap === o.gap) s.gap = null;
      } else if (error === null) {
        const n = Array.isArray(msg.payload) ? msg.payload.length : 0;
        const cut = msg.backfill?.truncated === true ? ` (more than ${MAX_BACKFILL_READINGS}: the oldest were dropped)` : '';
        this.opts.addEvent({ ...base, level: 'info', event: `backfill: ${meter}: ${n} readings ${span}${cut}`, value: n });
        if (s.gap === o.gap) s.gap = null;
      } else {
        const last = o.gap.attempts >= max;
        this.opts.addEvent({
          ...base, level: 'warning', value: o.gap.attempts,
          event: `backfill: ${meter}: failed ${span} (attempt ${o.gap.attempts} of ${max}${last ? ', given up' : ', tried again after the next successful poll'}): ${error}`,
        });
        if (last && s.gap === o.gap) s.gap = null;
      }
    } finally {
      this.slots.give(); // wakes every Backfiller waiting for a slot, this one too
    }
  }
}
