/**
 * fn=delta by index seeks (seekEdgeDeltas) gives the very rows of the walk (edgeDeltas): values to the last
 * bit, flags, counts, unit and the windows answered or left out, on many random series; and the sqlite store,
 * which picks either path per series, answers the walk's rows.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Reading } from '../../lib/model/reading';
import { DAY_MS, HOUR_MS, MINUTE_MS, fromLocal, windowBoundaries } from '../../lib/model/time';
import { EDGE_LOOKBACK_MS, edgeDeltas, seekEdgeDeltas, type EdgePoint, type EdgeSeeker } from '../../lib/store/edge-delta';
import { SEEK_READINGS_PER_EDGE, SqliteStore } from '../../lib/store/sqlite';
import type { WindowRow } from '../../lib/store/types';

const TZ = 'Europe/Berlin';
const OBIS = '1-0:1.8.0';

/** mulberry32: a fixed seed gives the same cases every run. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** `every`: the fixed window length the bounds were made with (none for calendar months). */
interface Case { from: number; to: number; bounds: number[]; every?: number; timeZone?: string; points: EdgePoint[]; label: string }

const berlinMonthStart = (year: number, month: number): number =>
  fromLocal({ year: year + Math.floor((month - 1) / 12), month: ((month - 1) % 12) + 1, day: 1, hour: 0, minute: 0, second: 0, millisecond: 0 }, TZ);

/** Window edges: fixed lengths from windowBoundaries (UTC or Berlin, across both DST changes), or Berlin calendar months. */
function randomWindows(r: () => number, maxWindows: number): Pick<Case, 'from' | 'to' | 'bounds' | 'every' | 'timeZone' | 'label'> {
  const base = Date.UTC(2026, 2, 20) + Math.floor(r() * 240) * DAY_MS + Math.floor(r() * 96) * 15 * MINUTE_MS;
  if (r() < 0.25) {
    const first = 1 + Math.floor(r() * 12);
    const months = 1 + Math.floor(r() * Math.min(maxWindows, 14));
    const bounds = Array.from({ length: months + 1 }, (_, i) => berlinMonthStart(2026, first + i));
    const from = r() < 0.5 ? bounds[0] : bounds[0] + Math.floor(r() * (bounds[1] - bounds[0]) / MINUTE_MS) * MINUTE_MS;
    const to = r() < 0.5 ? bounds[months] : bounds[months - 1] + 1 + Math.floor(r() * (bounds[months] - bounds[months - 1] - 1));
    return { from, to: Math.max(to, from + 1), bounds, timeZone: TZ, label: `${months} Berlin months` };
  }
  const every = [15 * MINUTE_MS, HOUR_MS, 2 * HOUR_MS, DAY_MS, 7 * DAY_MS][Math.floor(r() * 5)];
  const timeZone = r() < 0.7 ? TZ : undefined;
  const windows = 1 + Math.floor(r() * maxWindows);
  const from = r() < 0.5 ? base : base + Math.floor(r() * every);
  const to = from + Math.max(1, Math.floor((windows - r()) * every));
  return { from, to, bounds: windowBoundaries(from, to, every, timeZone), every, timeZone, label: `${windows} x ${every / MINUTE_MS} min ${timeZone ?? 'UTC'}` };
}

/** A register series around [from, to): on edges, between them, with gaps, resets, unit changes, outliers beyond the lookback. */
function randomPoints(r: () => number, from: number, to: number, bounds: readonly number[], maxReadings: number): EdgePoint[] {
  const span = to - from;
  const times = new Set<number>();
  const shape = r();
  const lo = shape < 0.1 ? from - 3 * span : shape < 0.2 ? to : from - span; // 0.1..0.2: only after the range
  const hi = shape < 0.1 ? from : to + span; // < 0.1: only before the range
  const clusters = Array.from({ length: 1 + Math.floor(r() * 3) }, () => lo + r() * (hi - lo));
  const count = Math.floor(r() * r() * maxReadings);
  for (let i = 0; i < count; i++) {
    const kind = r();
    let t: number;
    if (kind < 0.25) t = bounds[Math.floor(r() * bounds.length)]; // on an edge
    else if (kind < 0.3) t = r() < 0.5 ? from : to;
    else if (kind < 0.6) t = clusters[Math.floor(r() * clusters.length)] + (r() - 0.5) * span * 0.1; // gaps between clusters
    else t = lo + r() * (hi - lo);
    if (shape < 0.1 && t >= from) continue;
    if (shape >= 0.1 && shape < 0.2 && t < to) continue;
    times.add(Math.round(t / 1000) * 1000);
  }
  if (r() < 0.1) times.add(from - EDGE_LOOKBACK_MS - HOUR_MS); // beyond the lookback: seen by neither path
  if (r() < 0.1) times.add(to + EDGE_LOOKBACK_MS);
  if (r() < 0.1) times.add(from - EDGE_LOOKBACK_MS); // just inside it
  if (r() < 0.1) times.add(from - EDGE_LOOKBACK_MS - 1); // just beyond it
  if (r() < 0.1) times.add(to + EDGE_LOOKBACK_MS - 1); // just inside it
  const sorted = [...times].sort((a, b) => a - b);
  let value = r() < 0.1 ? 1e13 * r() : 1000 * r();
  let unit = 'kWh';
  return sorted.map((t) => {
    const step = r();
    if (step < 0.05) value = r() * 10; // a reset: the register goes backwards
    else if (step < 0.15) value -= r(); // a small glitch backwards
    else if (step > 0.25) value += r() * r() * 100; // else it stands still
    if (r() < 0.03) unit = unit === 'kWh' ? 'Wh' : 'kWh';
    return [t, Math.round(value * 1e4) / 1e4 + (r() < 0.2 ? r() * 1e-7 : 0), unit] as EdgePoint;
  });
}

function randomCase(r: () => number, maxWindows: number, maxReadings: number): Case {
  const w = randomWindows(r, maxWindows);
  return { ...w, points: randomPoints(r, w.from, w.to, w.bounds, maxReadings) };
}

/** The walk over the reading set a store hands it: the neighbours within the lookback and the range's readings. */
function walk(c: Case, meter = 'm'): WindowRow[] {
  const before = c.points.filter(([t]) => t < c.from && t >= c.from - EDGE_LOOKBACK_MS).at(-1);
  const after = c.points.find(([t]) => t >= c.to && t < c.to + EDGE_LOOKBACK_MS);
  const reading = (p: EdgePoint | undefined): Reading | null => (p ? { meter, obis: OBIS, time: p[0], value: p[1], unit: p[2] } : null);
  const points = c.points.filter(([t]) => t >= c.from && t < c.to);
  return edgeDeltas({ meter, obis: OBIS, before: reading(before), points, after: reading(after) }, c.bounds, c.from, c.to);
}

/** Seeks over a sorted array, as a store's index would answer them; counts the calls. */
function arraySeeker(points: readonly EdgePoint[]): EdgeSeeker & { calls: number } {
  const s = {
    calls: 0,
    lastBefore(t: number, floor: number): EdgePoint | undefined {
      s.calls++;
      return points.filter(([p]) => p < t && p >= floor).at(-1);
    },
    firstAtOrAfter(t: number, ceiling: number): EdgePoint | undefined {
      s.calls++;
      return points.find(([p]) => p >= t && p < ceiling);
    },
    count(a: number, b: number): number {
      s.calls++;
      return points.filter(([p]) => p >= a && p < b).length;
    },
  };
  return s;
}

describe('fn=delta by seeks gives the rows of the walk', () => {
  test('3,000 random series: identical rows, and the seeks are per edge, not per reading', () => {
    const r = rng(20261207);
    let answered = 0;
    let leftOut = 0;
    let flagged = 0;
    let units = 0;
    for (let k = 0; k < 3000; k++) {
      const c = randomCase(r, 40, 400);
      const seeker = arraySeeker(c.points);
      const seek = seekEdgeDeltas('m', OBIS, seeker, c.bounds, c.from, c.to);
      const expected = walk(c);
      assert.deepEqual(seek, expected, `case ${k} (${c.label}, ${c.points.length} readings, from ${c.from} to ${c.to})`);
      assert.ok(seeker.calls <= 3 * c.bounds.length, `case ${k}: ${seeker.calls} seeks for ${c.bounds.length} edges`);
      answered += expected.length;
      leftOut += c.bounds.length - 1 - expected.length;
      flagged += expected.filter((row) => row.quality).length;
      if (expected.some((row) => row.unit === 'Wh')) units++;
    }
    // The cases reach what the property is about: answered and left-out windows, flags, unit changes.
    assert.ok(answered > 10_000 && leftOut > 5_000 && flagged > 5_000 && units > 50, `answered ${answered}, left out ${leftOut}, flagged ${flagged}, Wh cases ${units}`);
  });

  test('hand cases: empty range, readings only outside it, one reading on the last edge', () => {
    const from = Date.UTC(2026, 9, 24, 22); // 25 October 2026 in Berlin, 25 hours long
    const to = from + 25 * HOUR_MS;
    const bounds = windowBoundaries(from, to, HOUR_MS, TZ);
    assert.equal(bounds.length, 26);
    const cases: [string, EdgePoint[]][] = [
      ['no readings', []],
      ['one before, within the lookback', [[from - 10 * DAY_MS, 5, 'kWh']]],
      ['one after, within the lookback', [[to + HOUR_MS, 5, 'kWh']]],
      ['one before and one after', [[from - HOUR_MS, 5, 'kWh'], [to + HOUR_MS, 32, 'Wh']]],
      ['only on the edge `to`', [[to, 7, 'kWh']]],
      ['only on `from`', [[from, 7, 'kWh']]],
      ['a reset across the DST hour', [[from, 100, 'kWh'], [from + 3 * HOUR_MS + 1, 2, 'kWh'], [to - 1, 9, 'kWh']]],
    ];
    for (const [label, points] of cases) {
      const c: Case = { from, to, bounds, timeZone: TZ, points, label };
      assert.deepEqual(seekEdgeDeltas('m', OBIS, arraySeeker(points), bounds, from, to), walk(c), label);
    }
  });
});

describe('the sqlite store answers the walk\'s rows on either path', () => {
  test('300 random series, dense (seeks) and sparse (walk), one store', async () => {
    const r = rng(7);
    const store = new SqliteStore(':memory:');
    try {
      const cases = Array.from({ length: 300 }, () => randomCase(r, 12, r() < 0.5 ? 60 : 1200));
      const readings: Reading[] = cases.flatMap((c, k) => c.points.map(([time, value, unit]) => ({ meter: `m${k}`, obis: OBIS, time, value, unit })));
      await store.write(readings);
      let seeking = 0;
      for (const [k, c] of cases.entries()) {
        const inRange = c.points.filter(([t]) => t >= c.from && t < c.to).length;
        if (inRange >= SEEK_READINGS_PER_EDGE * c.bounds.length) seeking++;
        if (c.every === undefined) continue; // calendar months: the store's windows are fixed lengths
        const rows = await store.query({ meter: `m${k}`, obis: OBIS, from: c.from, to: c.to, window: { every: c.every, fn: 'delta' }, timeZone: c.timeZone }) as WindowRow[];
        assert.deepEqual(rows, walk(c, `m${k}`), `series m${k} (${c.label}, ${c.points.length} readings)`);
      }
      assert.ok(seeking > 30 && seeking < 270, `${seeking} of 300 series take the seek path: both paths are covered`);
    } finally {
      await store.close();
    }
  });
});
