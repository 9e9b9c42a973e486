/**
 * Gap detection: which expected interval slots of a meter's series hold no reading, for backfill.
 *
 * The expected slots over [from, to) are the windows of `interval` exactly as aggregated queries
 * align them (./windows: day-or-longer slots start at local midnight in the time zone, so a DST day
 * is one 23- or 25-hour slot; shorter slots count from local midnight). The first slot may start
 * before `from` and the last may end after `to`: a reading anywhere in a slot makes it present.
 * Consecutive missing slots merge into one Gap.
 */
import type { Reading } from '../model/reading';
import type { ReadingStore } from './types';
import { MAX_WINDOWS, windowBoundaries } from '../model/time';

/** A run of consecutive expected slots without a reading. */
export interface Gap {
  meter: string;
  obis: string;
  /** Start of the first missing slot, epoch ms (may be before the range's `from` when it is not aligned). */
  from: number;
  /** End (exclusive) of the last missing slot, epoch ms (may be after the range's `to`). */
  to: number;
  /** Number of missing slots in the run. */
  missing: number;
}

export interface FindGapsOptions {
  /** Series identity for the gaps when `readings` is empty (otherwise taken from the first reading). */
  meter?: string;
  obis?: string;
  /** The most slots the range may hold (default MAX_WINDOWS, 100000). */
  maxSlots?: number;
}

/** Index of the slot [b[i], b[i+1]) containing t, or -1 when t is outside [b[0], b[n]). */
function slotOf(bounds: readonly number[], t: number): number {
  if (!(t >= bounds[0]) || t >= bounds[bounds.length - 1]) return -1;
  let lo = 0;
  let hi = bounds.length - 2;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (bounds[mid] <= t) lo = mid;
    else hi = mid - 1;
  }
  return lo;
}

/** Marks the slots holding a reading time. */
function markPresent(bounds: readonly number[], present: Uint8Array, times: Iterable<number>): void {
  for (const t of times) {
    const i = slotOf(bounds, t);
    if (i >= 0) present[i] = 1;
  }
}

/** Merges runs of unmarked slots into gaps. */
function gapsOf(bounds: readonly number[], present: Uint8Array, meter: string, obis: string): Gap[] {
  const out: Gap[] = [];
  const slots = bounds.length - 1;
  let i = 0;
  while (i < slots) {
    if (present[i]) { i++; continue; }
    let j = i;
    while (j < slots && !present[j]) j++;
    out.push({ meter, obis, from: bounds[i], to: bounds[j], missing: j - i });
    i = j;
  }
  return out;
}

function slotBounds(from: number, to: number, interval: number, timeZone: string | undefined, maxSlots: number): number[] {
  try {
    return windowBoundaries(from, to, interval, timeZone, maxSlots);
  } catch (err) {
    throw new RangeError(`gaps: ${(err as Error).message}`);
  }
}

/**
 * The missing interval slots of one series (one meter and OBIS code) over [from, to). `readings`
 * need not be sorted; a reading anywhere in a slot (which may reach outside [from, to)) makes it
 * present, readings outside every slot are ignored. Throws a RangeError naming the problem
 * for an unusable interval or range, or when there would be more than `maxSlots` slots.
 */
export function findGaps(
  readings: readonly (Pick<Reading, 'time'> & Partial<Pick<Reading, 'meter' | 'obis'>>)[],
  from: number,
  to: number,
  interval: number,
  timeZone?: string,
  options: FindGapsOptions = {},
): Gap[] {
  const bounds = slotBounds(from, to, interval, timeZone, options.maxSlots ?? MAX_WINDOWS);
  const present = new Uint8Array(bounds.length - 1);
  markPresent(bounds, present, readings.map((r) => r.time));
  const meter = options.meter ?? readings[0]?.meter ?? '';
  const obis = options.obis ?? readings[0]?.obis ?? '';
  return gapsOf(bounds, present, meter, obis);
}

export interface GapQuery {
  /** One meter; absent = every meter the store has a latest reading for. */
  meter?: string;
  /** One OBIS code; absent = every code of the meter(s). */
  obis?: string;
  from: number;
  to: number;
  /** Slot length in ms (whole days when a day or longer). */
  interval: number;
  /** IANA zone the slots align to; absent = UTC. */
  timeZone?: string;
  /** Readings fetched per raw query (default 50000); larger series are paged. */
  pageSize?: number;
  /** The most slots the range may hold (default 100000). */
  maxSlots?: number;
}

/**
 * Gaps of every series matching the query, ordered by meter, obis, time. The series are the ones
 * store.latest() knows (a meter and OBIS code given together count as a series even when the store
 * has none of it: the whole range is then one gap); each is read with raw range queries, paged by
 * time so a backend's row limit never hides readings. Uses only the ReadingStore interface.
 */
export async function gapsForStore(store: ReadingStore, q: GapQuery): Promise<Gap[]> {
  const maxSlots = q.maxSlots ?? MAX_WINDOWS;
  const bounds = slotBounds(q.from, q.to, q.interval, q.timeZone, maxSlots);
  const pageSize = q.pageSize ?? 50_000;
  if (!Number.isInteger(pageSize) || pageSize < 1) throw new RangeError(`gaps: pageSize must be a positive integer, got ${pageSize}`);

  const latest = await store.latest({ ...(q.meter !== undefined ? { meter: q.meter } : {}), ...(q.obis !== undefined ? { obis: q.obis } : {}) });
  const seen = new Set<string>();
  const series: { meter: string; obis: string }[] = [];
  const add = (meter: string, obis: string): void => {
    const key = JSON.stringify([meter, obis]);
    if (!seen.has(key)) { seen.add(key); series.push({ meter, obis }); }
  };
  for (const r of latest) add(r.meter, r.obis);
  if (q.meter !== undefined && q.obis !== undefined && series.length === 0) add(q.meter, q.obis);
  series.sort((a, b) => (a.meter < b.meter ? -1 : a.meter > b.meter ? 1 : a.obis < b.obis ? -1 : a.obis > b.obis ? 1 : 0));

  const out: Gap[] = [];
  for (const s of series) {
    const present = new Uint8Array(bounds.length - 1);
    const end = bounds[bounds.length - 1];
    let from = bounds[0];
    for (;;) {
      const page = (await store.query({ meter: s.meter, obis: s.obis, from, to: end, limit: pageSize })) as Reading[];
      markPresent(bounds, present, page.map((r) => r.time));
      if (page.length < pageSize) break;
      const last = page[page.length - 1].time;
      // Readings are unique per meter/obis/time and ordered by time: the next page starts after the
      // last one; skip the rest of its slot, which is already present.
      const slot = slotOf(bounds, last);
      const nextFrom = slot >= 0 ? Math.max(last + 1, bounds[slot + 1]) : last + 1;
      if (nextFrom >= end || nextFrom <= from) break;
      from = nextFrom;
    }
    out.push(...gapsOf(bounds, present, s.meter, s.obis));
  }
  return out;
}
