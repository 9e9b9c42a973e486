/**
 * Exact consumption per window (fn=delta in both store backends): the register's value at the window's
 * end minus its value at the window's start, so the energy between the last reading of one window and the
 * first of the next is counted (in the window it falls in) instead of lost, and the windows of a range add
 * up to the consumption over the whole range.
 *
 * The value at an edge: the reading exactly on it; else interpolated linearly in time between the last
 * reading before and the first after (the row is flagged INTERPOLATED); with readings on one side only,
 * that reading (no energy is known before a meter's first reading or after its last). A register that goes
 * backwards across an edge (a reset, a replaced meter) is not interpolated: the edge takes the reading
 * before it and the row is flagged SUSPECT. Edge values are rounded to a millionth of the unit, so each
 * window's value is an exact difference and the windows' sum equals the range's consumption to that digit.
 *
 * The first and last edges are the query's `from` and `to` (a first window aligned before `from` counts
 * from `from`). A window is answered when readings lie on both sides of it (or in it); one before the
 * meter's first reading or after its last is left out, as an empty window always was.
 *
 * Two ways to the same rows (the edge values, flags, counts, unit and answered windows are one state, turned
 * into rows by one function): `edgeDeltas` walks every reading of the range once (the only way for a store that
 * can only stream a range); `seekEdgeDeltas` asks, per edge, for the last reading before it and the first at or
 * after it, and per window for its reading count: a few index seeks per edge instead of a visit per reading,
 * which pays when the readings outnumber the edges (a year of 15-minute readings in day windows: ~96 to one).
 */
import { Quality } from '../model/quality';
import { DAY_MS } from '../model/time';
import type { Reading } from '../model/reading';
import type { WindowRow } from './types';

/** How far before `from` (and after `to`) a store looks for the readings that bound the outer edges. */
export const EDGE_LOOKBACK_MS = 366 * DAY_MS;

/** Values beyond this are rounded to whole units (a millionth would exceed a double's exact integers). */
const MICRO_SAFE = Number.MAX_SAFE_INTEGER / 1e6;

/** A reading as the walk needs it: [time, value, unit]. */
export type EdgePoint = readonly [time: number, value: number, unit: string];

/** One series for the edges: `points` in time order inside [from, to), and its nearest readings outside. */
export interface EdgeSeries {
  meter: string;
  obis: string;
  /** The last reading before `from` (within EDGE_LOOKBACK_MS), if any. */
  before?: Reading | null;
  points: Iterable<EdgePoint>;
  /** The first reading at or after `to` (within EDGE_LOOKBACK_MS), if any. */
  after?: Reading | null;
}

function scaled(v: number): { value: number; scale: number } {
  return Math.abs(v) < MICRO_SAFE ? { value: Math.round(v * 1e6), scale: 1e6 } : { value: Math.round(v), scale: 1 };
}

/** What both paths settle before the rows are made: per edge its value, flag and whether any reading bounds it. */
interface EdgeState {
  values: Float64Array;
  flags: Uint16Array;
  known: Uint8Array;
  /** Readings per window, inside the range. */
  counts: Uint32Array;
  /** Time of the first and the last reading of the set (NaN: the set is empty). */
  firstTime: number;
  lastTime: number;
  /** The unit of the set's last reading. */
  unit: string;
}

function emptyState(n: number): EdgeState {
  return { values: new Float64Array(n + 1), flags: new Uint16Array(n + 1), known: new Uint8Array(n + 1), counts: new Uint32Array(n), firstTime: NaN, lastTime: NaN, unit: '' };
}

/** Settles edge `i` at time `e` from the last reading before it (prev, NaN time: none) and the first at or after it (next). */
function settleEdge(s: EdgeState, i: number, e: number, prevTime: number, prevValue: number, nextTime: number, nextValue: number): void {
  const hasPrev = !Number.isNaN(prevTime);
  const hasNext = !Number.isNaN(nextTime);
  if (hasNext && nextTime === e) s.values[i] = nextValue;
  else if (hasPrev && hasNext) {
    if (nextValue < prevValue) {
      s.values[i] = prevValue;
      s.flags[i] = Quality.SUSPECT;
    } else {
      s.values[i] = prevValue + ((nextValue - prevValue) * (e - prevTime)) / (nextTime - prevTime);
      s.flags[i] = Quality.INTERPOLATED;
    }
  } else if (hasNext) s.values[i] = nextValue;
  else if (hasPrev) s.values[i] = prevValue;
  s.known[i] = hasPrev || hasNext ? 1 : 0;
}

function rowsOf(s: EdgeState, meter: string, obis: string, bounds: readonly number[], from: number, to: number): WindowRow[] {
  if (Number.isNaN(s.firstTime)) return [];
  const n = bounds.length - 1;
  const edgeTime = (i: number): number => (i === 0 ? from : i === n ? to : bounds[i]);
  const out: WindowRow[] = [];
  for (let i = 0; i < n; i++) {
    if (edgeTime(i + 1) <= s.firstTime || edgeTime(i) > s.lastTime || !s.known[i] || !s.known[i + 1]) continue; // before the first reading or after the last
    const a = scaled(s.values[i]);
    const b = scaled(s.values[i + 1]);
    const value = a.scale === b.scale ? (b.value - a.value) / a.scale : Math.round(s.values[i + 1]) - Math.round(s.values[i]);
    const row: WindowRow = { meter, obis, time: bounds[i], value, unit: s.unit, count: s.counts[i] };
    const f = s.flags[i] | s.flags[i + 1];
    if (f) row.quality = f;
    out.push(row);
  }
  return out;
}

/**
 * One row per answered window of `bounds` (windowBoundaries(from, to, ...)): value = register at the
 * window's end edge minus at its start edge, count = readings inside the window and the range. The points
 * are walked once (a year of readings is not held in memory); the work per window is constant.
 */
export function edgeDeltas(series: EdgeSeries, bounds: readonly number[], from: number, to: number): WindowRow[] {
  const n = bounds.length - 1;
  const edgeTime = (i: number): number => (i === 0 ? from : i === n ? to : bounds[i]);
  const s = emptyState(n);
  let edge = 0; // the next edge to settle
  let window = 0; // the window the last point fell in
  let prevTime = NaN;
  let prevValue = NaN;
  /** Settles the edges up to `t` exclusive, with the reading (t, v) as the first at or after them (NaN: none). */
  const settle = (t: number, v: number): void => {
    while (edge <= n && (Number.isNaN(t) || edgeTime(edge) <= t)) {
      settleEdge(s, edge, edgeTime(edge), prevTime, prevValue, t, v);
      edge++;
    }
  };
  const take = (t: number, v: number, u: string): void => {
    settle(t, v);
    if (Number.isNaN(s.firstTime)) s.firstTime = t;
    prevTime = t;
    prevValue = v;
    s.unit = u;
  };
  if (series.before && series.before.time < from) take(series.before.time, series.before.value, series.before.unit);
  for (const [t, v, u] of series.points) {
    if (t < from || t >= to) continue;
    take(t, v, u);
    while (window < n - 1 && t >= edgeTime(window + 1)) window++;
    s.counts[window]++;
  }
  if (series.after && series.after.time >= to) take(series.after.time, series.after.value, series.after.unit);
  settle(NaN, NaN);
  s.lastTime = prevTime;
  return rowsOf(s, series.meter, series.obis, bounds, from, to);
}

/**
 * Index seeks into one series' readings, for `seekEdgeDeltas`. Each answers from the stored readings (any
 * time), bounded as stated; `null` or `undefined` when there is none.
 */
export interface EdgeSeeker {
  /** The last reading with floor <= time < t. */
  lastBefore(t: number, floor: number): EdgePoint | null | undefined;
  /** The first reading with t <= time < ceiling. */
  firstAtOrAfter(t: number, ceiling: number): EdgePoint | null | undefined;
  /** How many readings have a <= time < b. */
  count(a: number, b: number): number;
}

/**
 * The rows of `edgeDeltas` over the same reading set (the last reading before `from` within EDGE_LOOKBACK_MS,
 * the readings in [from, to), the first at or after `to` within EDGE_LOOKBACK_MS), from two seeks per edge and
 * one count per window: the work is per edge, not per reading. For an edge e <= to, the set's last reading
 * before e is the store's last in [from - EDGE_LOOKBACK_MS, e) and its first at or after e the store's first in
 * [e, to + EDGE_LOOKBACK_MS). The last reading before an edge is not needed when one lies on it (at `from`
 * too: the set's first reading then is at or before `from`, which answers the same windows).
 */
export function seekEdgeDeltas(meter: string, obis: string, seeker: EdgeSeeker, bounds: readonly number[], from: number, to: number): WindowRow[] {
  const n = bounds.length - 1;
  const s = emptyState(n);
  const floor = from - EDGE_LOOKBACK_MS;
  const ceiling = to + EDGE_LOOKBACK_MS;
  let first: EdgePoint | null | undefined = null;
  let last: EdgePoint | null | undefined = null;
  for (let i = 0; i <= n; i++) {
    const e = i === 0 ? from : i === n ? to : bounds[i];
    const next = seeker.firstAtOrAfter(e, ceiling);
    const prev = !next || next[0] !== e ? seeker.lastBefore(e, floor) : null;
    settleEdge(s, i, e, prev ? prev[0] : NaN, prev ? prev[1] : NaN, next ? next[0] : NaN, next ? next[1] : NaN);
    if (i === 0) first = prev ?? next;
    if (i === n) last = next ?? prev;
    if (i < n) s.counts[i] = seeker.count(e, i + 1 === n ? to : bounds[i + 1]);
  }
  if (!first || !last) return [];
  s.firstTime = first[0];
  s.lastTime = last[0];
  s.unit = last[2];
  return rowsOf(s, meter, obis, bounds, from, to);
}
