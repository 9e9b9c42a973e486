/**
 * Runs `poll(meter, due)` for each meter when due (lib/ems/schedule.ts says when), at fleet scale:
 * - one timer for the whole fleet over a min-heap of due times (a tick touches only the meters due);
 * - polls per endpoint (a gateway, a serial bus: lib/ems/poll-endpoints.ts) and in all are bounded; a due
 *   poll without a free slot waits in its endpoint's queue (the backlog) and starts when one frees;
 * - a meter whose previous poll still runs or waits is skipped for that turn and the skip counted;
 * - every result and every due poll costs O(1) (O(log n) for the heap): nothing walks the fleet.
 * `set()` replaces the meter list (create, update, delete take effect without a restart); `pollNow()`
 * runs one meter at once (within the bounds) unless it is busy. Clock and timers are injected for tests.
 */
import { DueHeap } from './due-heap';
import { endpointOf, type PollEndpoint, type PollLimits, DEFAULT_POLL_LIMITS } from './poll-endpoints';
import { nextPollTime, realClock, type Clock } from './schedule';
import type { MeterDefinition } from './meter-definition';

export interface ScheduledMeter {
  id: string;
  definition: MeterDefinition;
}

export interface SchedulerStats {
  meters: number;
  /** Polls started (scheduled and poll-now). */
  started: number;
  /** Turns skipped because the meter's previous poll still ran or waited. */
  skippedBusy: number;
  running: number;
  /** Polls due but not started: waiting for a free slot of their endpoint or of the whole schedule. */
  waiting: number;
  /** Elementary steps done (heap moves, queue moves, dispatches): a counter of work, for tests and benches. */
  work: number;
}

/** What GET /api/polling/backlog shows of one schedule. */
export interface PollBacklog {
  meters: number; running: number; waiting: number;
  /** Due time of the poll that has waited longest, null when none waits. */
  oldest_waiting_due: number | null;
  skipped: number; started: number;
  /** Start minus due time of the latest polls (up to 1,024), ms. */
  late_p50_ms: number | null; late_p99_ms: number | null;
  max_running: number; per_endpoint: number;
}

/** One meter's schedule state. */
export interface MeterScheduleState {
  next_due: number | null;
  running: boolean;
  /** Due time of its poll waiting for a free slot, null when none waits. */
  waiting_since: number | null;
  skipped: number;
  started: number;
}

interface Entry {
  id: string;
  meter: ScheduledMeter;
  /** The schedule fields as text: a change re-arms the meter. */
  signature: string;
  due: number | null;
  /** Heap entries of an older generation are stale (the meter was re-armed or removed). */
  gen: number;
  phase: 'idle' | 'waiting' | 'running' | 'removed';
  waitingDue: number;
  endpoint: Lane | null;
  skipped: number;
  started: number;
  /** Resolves the promise of a poll-now while it waits. */
  onEnd: (() => void) | null;
}

/** An endpoint's running count and queue of waiting meters (a FIFO: entries enqueue in due order). */
interface Lane {
  key: string;
  limit: number;
  running: number;
  queue: Entry[];
  head: number;
  /** Live entries in the queue (deleted meters stay in it until popped). */
  count: number;
  /** In the ready ring: has waiting entries and a free slot, held back by the schedule-wide bound only. */
  ready: boolean;
}

const LATENESS_SAMPLES = 1024;
/** Timers cap at ~24.8 days; long waits are re-armed in steps. */
const MAX_WAIT_MS = 6 * 3_600_000;

const signatureOf = (d: MeterDefinition): string =>
  `${d.interval_time}|${d.periodType}|${d.data_polling_length}|${d.days_of_week.join(',')}|${d.days_of_month.join(',')}`;

export class PollScheduler {
  private entries = new Map<string, Entry>();
  private heap = new DueHeap<Entry>();
  private lanes = new Map<string, Lane>();
  /** Lanes with waiting entries and a free slot, in turn. */
  private ready: Lane[] = [];
  private readyHead = 0;
  private timer: unknown;
  private timerAt: number | null = null;
  private running = 0;
  private waiting = 0;
  private readonly stats = { started: 0, skippedBusy: 0, work: 0 };
  private readonly late = new Float64Array(LATENESS_SAMPLES);
  private lateCount = 0;
  private stopped = false;
  private readonly limits: PollLimits;

  constructor(
    private readonly poll: (meter: ScheduledMeter, due: number) => Promise<void>,
    private readonly options: {
      timeZone?: string; clock?: Clock;
      onSkip?: (meter: ScheduledMeter, due: number) => void;
      /** Bounds on polls running at once (default DEFAULT_POLL_LIMITS). */
      limits?: PollLimits;
      /** The endpoint a meter's polls count against (default endpointOf its definition). */
      endpointOf?: (meter: ScheduledMeter, limits: PollLimits) => PollEndpoint;
    } = {},
  ) {
    this.limits = options.limits ?? DEFAULT_POLL_LIMITS;
  }

  private get clock(): Clock {
    return this.options.clock ?? realClock;
  }

  set(meters: ScheduledMeter[]): void {
    const seen = new Set<string>();
    for (const m of meters) {
      seen.add(m.id);
      const e = this.entries.get(m.id);
      if (e && e.meter.definition === m.definition) { // the same record object: nothing changed
        e.meter = m;
        continue;
      }
      const signature = signatureOf(m.definition);
      if (!e) {
        const entry: Entry = { id: m.id, meter: m, signature, due: null, gen: 0, phase: 'idle', waitingDue: 0, endpoint: null, skipped: 0, started: 0, onEnd: null };
        this.entries.set(m.id, entry);
        this.schedule(entry, this.clock.now());
      } else {
        e.meter = m;
        if (e.signature !== signature) {
          e.signature = signature;
          this.schedule(e, this.clock.now());
        }
      }
    }
    if (seen.size !== this.entries.size) for (const id of [...this.entries.keys()]) if (!seen.has(id)) this.remove(id);
    this.armTimer();
  }

  /** Polls one meter now (waiting for a free slot if its endpoint is busy); false when it is unknown or its previous poll still runs or waits. */
  pollNow(id: string): Promise<void> | false {
    const e = this.entries.get(id);
    if (!e || e.phase !== 'idle' || this.stopped) return false;
    const ended = new Promise<void>((resolve) => { e.onEnd = resolve; });
    this.dispatch(e, this.clock.now());
    return ended;
  }

  /** The meter's next scheduled due time (null: unknown meter or no allowed day within 400 days). */
  nextDue(id: string): number | null {
    return this.entries.get(id)?.due ?? null;
  }

  /** The earliest due time over all meters, or null. */
  firstDue(): number | null {
    return this.peek()?.due ?? null;
  }

  state(id: string): MeterScheduleState | null {
    const e = this.entries.get(id);
    if (!e) return null;
    return { next_due: e.due, running: e.phase === 'running', waiting_since: e.phase === 'waiting' ? e.waitingDue : null, skipped: e.skipped, started: e.started };
  }

  getStats(): SchedulerStats {
    return { meters: this.entries.size, started: this.stats.started, skippedBusy: this.stats.skippedBusy, running: this.running, waiting: this.waiting, work: this.stats.work };
  }

  /** The backlog: work proportional to the endpoints with polls running or waiting and to the lateness samples, not to the fleet. */
  backlog(): PollBacklog {
    let oldest: number | null = null;
    for (const lane of this.lanes.values()) {
      if (lane.count === 0) continue;
      const head = this.liveHead(lane);
      if (head && (oldest === null || head.waitingDue < oldest)) oldest = head.waitingDue;
    }
    const n = Math.min(this.lateCount, LATENESS_SAMPLES);
    const sorted = Array.from(this.late.subarray(0, n)).sort((a, b) => a - b);
    const q = (p: number) => (n ? sorted[Math.min(n - 1, Math.floor(p * n))] : null);
    return {
      meters: this.entries.size, running: this.running, waiting: this.waiting, oldest_waiting_due: oldest,
      skipped: this.stats.skippedBusy, started: this.stats.started, late_p50_ms: q(0.5), late_p99_ms: q(0.99),
      max_running: this.limits.maxRunning, per_endpoint: this.limits.perEndpoint,
    };
  }

  stop(): void {
    this.stopped = true;
    if (this.timer !== undefined) this.clock.clearTimeout(this.timer);
    this.timer = undefined;
    this.timerAt = null;
    for (const id of [...this.entries.keys()]) this.remove(id);
  }

  // ---- the timer and the heap ----

  private schedule(e: Entry, after: number): void {
    e.gen++;
    e.due = this.stopped ? null : nextPollTime(e.id, e.meter.definition, after, this.options.timeZone);
    if (e.due !== null) this.stats.work += this.heap.push(e.due, e.gen, e);
  }

  /** The heap's earliest live entry (stale ones are dropped on the way). */
  private peek(): { due: number; item: Entry } | null {
    for (;;) {
      const top = this.heap.peek();
      if (!top) return null;
      if (top.gen === top.item.gen && top.item.phase !== 'removed') return top;
      this.stats.work += this.heap.pop();
    }
  }

  private armTimer(): void {
    if (this.stopped) return;
    const top = this.peek();
    const at = top ? top.due : null;
    if (at === this.timerAt) return;
    if (this.timer !== undefined) this.clock.clearTimeout(this.timer);
    this.timer = undefined;
    this.timerAt = at;
    if (at === null) return;
    const wait = Math.min(Math.max(0, at - this.clock.now()), MAX_WAIT_MS);
    this.timer = this.clock.setTimeout(() => this.tick(), wait);
  }

  private tick(): void {
    this.timer = undefined;
    this.timerAt = null;
    if (this.stopped) return;
    const now = this.clock.now();
    for (let top = this.peek(); top && top.due <= now; top = this.peek()) {
      this.stats.work += this.heap.pop();
      const e = top.item;
      this.dispatch(e, top.due);
      if (e.phase !== 'removed') this.schedule(e, Math.max(now, top.due));
    }
    this.armTimer();
  }

  // ---- bounds, queues and runs ----

  private dispatch(e: Entry, due: number): void {
    this.stats.work++;
    if (e.phase !== 'idle') {
      e.skipped++;
      this.stats.skippedBusy++;
      this.options.onSkip?.(e.meter, due);
      return;
    }
    const lane = this.laneOf(e);
    if (lane.running < lane.limit && this.running < this.limits.maxRunning) {
      this.start(e, lane, due);
      return;
    }
    e.phase = 'waiting';
    e.waitingDue = due;
    e.endpoint = lane;
    lane.queue.push(e);
    lane.count++;
    this.waiting++;
    if (lane.running < lane.limit) this.markReady(lane);
  }

  private laneOf(e: Entry): Lane {
    const ep = (this.options.endpointOf ?? ((m, l) => endpointOf(m.definition, l)))(e.meter, this.limits);
    let lane = this.lanes.get(ep.key);
    if (!lane) this.lanes.set(ep.key, (lane = { key: ep.key, limit: ep.limit, running: 0, queue: [], head: 0, count: 0, ready: false }));
    lane.limit = ep.limit;
    return lane;
  }

  private start(e: Entry, lane: Lane, due: number): void {
    const now = this.clock.now();
    e.phase = 'running';
    e.endpoint = lane;
    e.started++;
    lane.running++;
    this.running++;
    this.stats.started++;
    this.late[this.lateCount++ % LATENESS_SAMPLES] = Math.max(0, now - due);
    let ran: Promise<void>;
    try {
      ran = this.poll(e.meter, due);
    } catch (err) {
      ran = Promise.reject(err);
    }
    // The poll reports its own failures (events, Catch); the schedule goes on.
    ran.catch(() => undefined).finally(() => this.finish(e, lane));
  }

  private finish(e: Entry, lane: Lane): void {
    this.stats.work++;
    lane.running--;
    this.running--;
    if (e.phase === 'running') e.phase = 'idle';
    e.endpoint = null;
    const onEnd = e.onEnd;
    e.onEnd = null;
    if (!this.stopped) {
      if (lane.count > 0) this.markReady(lane);
      this.pump();
      this.retire(lane);
    }
    onEnd?.();
  }

  /** Forgets an endpoint with nothing running or waiting (meters come and go). */
  private retire(lane: Lane): void {
    if (lane.running === 0 && lane.count === 0 && !lane.ready && this.lanes.get(lane.key) === lane) this.lanes.delete(lane.key);
  }

  private markReady(lane: Lane): void {
    if (lane.ready) return;
    lane.ready = true;
    this.ready.push(lane);
  }

  /** Starts waiting polls while both their endpoint and the schedule have free slots, endpoints in turn. */
  private pump(): void {
    while (this.readyHead < this.ready.length && this.running < this.limits.maxRunning) {
      const lane = this.ready[this.readyHead++];
      lane.ready = false;
      const e = lane.running < lane.limit ? this.shift(lane) : null;
      if (e) this.start(e, lane, e.waitingDue);
      if (lane.count > 0 && lane.running < lane.limit) this.markReady(lane);
      this.retire(lane);
    }
    if (this.readyHead > 1024 && this.readyHead * 2 > this.ready.length) {
      this.ready = this.ready.slice(this.readyHead);
      this.readyHead = 0;
    }
  }

  /** The lane's first waiting entry, taken off its queue. */
  private shift(lane: Lane): Entry | null {
    const e = this.liveHead(lane);
    if (!e) return null;
    lane.head++;
    lane.count--;
    this.waiting--;
    this.stats.work++;
    if (lane.head > 64 && lane.head * 2 > lane.queue.length) {
      lane.queue = lane.queue.slice(lane.head);
      lane.head = 0;
    }
    return e;
  }

  /** The lane's first live queued entry (deleted meters' entries are dropped). */
  private liveHead(lane: Lane): Entry | null {
    while (lane.head < lane.queue.length && lane.queue[lane.head].phase !== 'waiting') lane.head++;
    return lane.head < lane.queue.length ? lane.queue[lane.head] : null;
  }

  private remove(id: string): void {
    const e = this.entries.get(id);
    if (!e) return;
    this.entries.delete(id);
    const wasWaiting = e.phase === 'waiting';
    if (wasWaiting && e.endpoint) {
      e.endpoint.count--;
      this.waiting--;
      this.retire(e.endpoint);
    }
    e.phase = 'removed';
    e.gen++;
    if (wasWaiting) {
      // A running poll's promise ends with the poll (finish); a waiting one never starts.
      const onEnd = e.onEnd;
      e.onEnd = null;
      onEnd?.();
    }
  }
}
