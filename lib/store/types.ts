import type { Reading } from '../model/reading';

/**
 * Aggregations a range query can apply per window. delta = a counter's consumption in the window: its value at
 * the window's end edge minus at its start edge (./edge-delta.ts).
 */
export type Aggregate = 'first' | 'last' | 'min' | 'max' | 'mean' | 'sum' | 'delta';
export const AGGREGATES: readonly Aggregate[] = ['first', 'last', 'min', 'max', 'mean', 'sum', 'delta'];

export interface RangeQuery {
  meter: string;
  /** One OBIS code; absent = every code of the meter. */
  obis?: string;
  /** Inclusive start, epoch ms. */
  from: number;
  /** Exclusive end, epoch ms. */
  to: number;
  /** Optional aggregation: one row per meter/obis/window. */
  window?: { every: number; fn: Aggregate };
  /**
   * IANA time zone the windows align to. Windows of a day or longer start at local midnight in this
   * zone (a DST day is 23 or 25 hours long); shorter windows align to multiples of `every` from the
   * local midnight. Absent = UTC.
   */
  timeZone?: string;
  /** Upper bound on rows returned (raw queries); the default is the backend's. */
  limit?: number;
}

/** One aggregated window: `time` is the window start. */
export interface WindowRow {
  meter: string;
  obis: string;
  time: number;
  value: number;
  unit: string;
  /** Number of raw readings in the window. */
  count: number;
  /** Quality flags of the row (fn=delta: INTERPOLATED when an edge lies between readings, SUSPECT across a register going backwards). */
  quality?: number;
}

export type EventLevel = 'info' | 'warning' | 'error';

/** An EMS event (the data dictionary's event log): poll failures, clock corrections, logins, ... */
export interface EmsEvent {
  time: number;
  level: EventLevel;
  /** Short machine-readable kind, e.g. "poll-failed". */
  kind: string;
  message: string;
  meter?: string;
  /** Who or what raised it (node id, user login). */
  source?: string;
}

export interface EventQuery {
  from: number;
  to: number;
  meter?: string;
  level?: EventLevel;
  limit?: number;
}

/** The key of one stored reading: a write of the same key overwrites it. */
export interface ReadingKey {
  meter: string;
  /** OBIS code (canonicalised by the store). */
  obis: string;
  /** Epoch ms. */
  time: number;
}

export interface LatestQuery {
  meter?: string;
  obis?: string;
}

/**
 * The reading store. Backends: sqlite (embedded default) and influxdb. Every method rejects with an
 * Error whose message names the backend and the cause; writes are all-or-nothing per batch.
 */
export interface ReadingStore {
  readonly kind: string;
  /** Writes a batch; returns the number of readings written (a reading already stored with the same meter/obis/time is overwritten). */
  write(readings: readonly Reading[]): Promise<number>;
  /**
   * Deletes the readings of exactly these keys (an import's undo); keys without a reading are skipped.
   * Returns the number of keys asked for. All-or-nothing on sqlite; on InfluxDB queued writes are sent first.
   */
  remove(keys: readonly ReadingKey[]): Promise<number>;
  /** Raw readings (no window) ordered by time, or one row per window when `window` is set. */
  query(q: RangeQuery): Promise<Reading[] | WindowRow[]>;
  /** The newest reading per meter and obis. */
  latest(q?: LatestQuery): Promise<Reading[]>;
  writeEvents(events: readonly EmsEvent[]): Promise<number>;
  events(q: EventQuery): Promise<EmsEvent[]>;
  close(): Promise<void>;
}
