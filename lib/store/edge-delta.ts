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

/**
 * One row per answered window of `bounds` (windowBoundaries(from, to, ...)): value = register at the
 * window's end edge minus at its start edge, count = readings inside the window and the range. The points
 * are walked once (a year of readings is not held in memory); the work per window is constant.
 */
export function edgeDeltas(series: EdgeSeries, bounds: readonly number[], from: number, to: number): WindowRow[] {
  const n = bounds.length - 1;
  const edgeTime = (i: number): number => (i === 0 ? from : i === n ? to : bounds[i]);
  const values = new Float64Array(n + 1);
  const flags = new Uint16Array(n + 1);
  const known = new Uint8Array(n + 1);
  const counts = new Uint32Array(n);
  let edge = 0; // the next edge to settle
  let window = 0; // the window the last point fell in
  let prevTime = NaN;
  let prevValue = NaN;
  let firstTime = NaN;
  let unit = '';
  /** Settles the edges up to `t` exclusive, with the reading (t, v) as the first at or after them (NaN: none). */
  const settle = (t: number, v: number): void => {
    while (edge <= n && (Number.isNaN(t) || edgeTime(edge) <= t)) {
      const e = edgeTime(edge);
      const hasPrev = !Number.isNaN(prevTime);
      const hasNext = !Number.isNaN(t);
      if (hasNext && t === e) values[edge] = v;
      else if (hasPrev && hasNext) {
        if (v < prevValue) {
          values[edge] = prevValue;
          flags[edge] = Quality.SUSPECT;
        } else {
          values[edge] = prevValue + ((v - prevValue) * (e - prevTime)) / (t - prevTime);
          flags[edge] = Quality.INTERPOLATED;
        }
      } else if (hasNext) values[edge] = v;
      else if (hasPrev) values[edge] = prevValue;
      known[edge] = hasPrev || hasNext ? 1 : 0;
      edge++;
    }
  };
  const take = (t: number, v: number, u: string): void => {
    settle(t, v);
    if (Number.isNaN(firstTime)) firstTime = t;
    prevTime = t;
    prevValue = v;
    unit = u;
  };
  if (series.before && series.before.time < from) take(series.before.time, series.before.value, series.before.unit);
  for (const [t, v, u] of series.points) {
    if (t < from || t >= to) continue;
    take(t, v, u);
    while (window < n - 1 && t >= edgeTime(window + 1)) window++;
    counts[window]++;
  }
  if (series.after && series.after.time >= to) take(series.after.time, series.after.value, series.after.unit);
  settle(NaN, NaN);
  if (Number.isNaN(firstTime)) return [];
  const lastTime = prevTime;
  const out: WindowRow[] = [];
  for (let i = 0; i < n; i++) {
    if (edgeTime(i + 1) <= firstTime || edgeTime(i) > lastTime || !known[i] || !known[i + 1]) continue; // before the first reading or after the last
    const a = scaled(values[i]);
    const b = scaled(values[i + 1]);
    const value = a.scale === b.scale ? (b.value - a.value) / a.scale : Math.round(values[i + 1]) - Math.round(values[i]);
    const row: WindowRow = { meter: series.meter, obis: series.obis, time: bounds[i], value, unit, count: counts[i] };
    const f = flags[i] | flags[i + 1];
    if (f) row.quality = f;
    out.push(row);
  }
  return out;
}
