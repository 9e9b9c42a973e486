/**
 * The hot loop: splits every interval at the timeline's segment boundaries (and at fixed demand
 * windows) and adds its micro-units to per (key, segment) sums. Quantity is split in proportion to
 * time by cumulative rounding, so the pieces of an interval sum exactly to it and a piece does not
 * depend on where the billing range cuts the interval. A moving pointer follows sorted intervals;
 * an interval out of order costs a binary search. No Decimal, no Intl, no allocation per interval.
 */
import { KEYS, PriceError, type Classified } from './classify';
import type { Timeline } from './timeline';
import type { ConsumptionInterval } from './types';

export interface Sums {
  /** acc[key * segments + segment]: micro-units. */
  acc: Float64Array;
  /** Per fixed demand window: electricity micro-kWh of non-register intervals (when windows are given). */
  windowSums?: Float64Array;
  /** Intervals wholly outside the billing range (ignored). */
  outside: number;
}

function search(ends: Float64Array, t: number): number {
  let lo = 0;
  let hi = ends.length - 1;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (ends[mid] <= t) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** `windows`: fixed demand window boundaries covering [from, to) (b[0] <= from, b[last] >= to). */
export function accumulate(tl: Timeline, intervals: ConsumptionInterval[], cls: Classified, windows?: Float64Array): Sums {
  const { starts, ends, from, to } = tl;
  const nSeg = ends.length;
  const acc = new Float64Array(KEYS * nSeg);
  const versions = Int32Array.from(tl.segments, (s) => s.version);
  const nWin = windows ? windows.length - 1 : 0;
  const windowSums = windows ? new Float64Array(nWin) : undefined;
  const winEnds = windows ? windows.subarray(1) : undefined;
  let outside = 0;
  let p = 0;
  let w = 0;
  const { key, micro } = cls;
  for (let i = 0, n = intervals.length; i < n; i++) {
    const iv = intervals[i];
    const s = iv.start;
    const e = iv.end;
    if (e <= from || s >= to) {
      outside++;
      continue;
    }
    const k = key[i];
    const Q = micro[i];
    const dur = e - s;
    const t0 = s < from ? from : s;
    if (!(starts[p] <= t0 && t0 < ends[p])) p = p + 1 < nSeg && starts[p + 1] <= t0 && t0 < ends[p + 1] ? p + 1 : search(ends, t0);
    let prev = t0 === s ? 0 : Math.round((Q * (t0 - s)) / dur);
    const base = k * nSeg;
    let q = p;
    for (;;) {
      if (versions[q] < 0) throw new PriceError(`interval ${i} (start ${new Date(s).toISOString()}): no tariff version is valid at ${new Date(Math.max(t0, starts[q])).toISOString()}`);
      const pe = ends[q] < e ? ends[q] : e;
      const alloc = pe >= e ? Q : Math.round((Q * (pe - s)) / dur);
      acc[base + q] += alloc - prev;
      prev = alloc;
      if (pe >= e || q + 1 >= nSeg) break;
      q++;
    }
    p = q;
    if (windowSums && k === 0) {
      if (!(windows![w] <= t0 && t0 < winEnds![w])) w = w + 1 < nWin && windows![w + 1] <= t0 && t0 < winEnds![w + 1] ? w + 1 : search(winEnds!, t0);
      prev = t0 === s ? 0 : Math.round((Q * (t0 - s)) / dur);
      let x = w;
      for (;;) {
        const we = winEnds![x];
        const pe = we < e ? we : e;
        const alloc = pe >= e ? Q : Math.round((Q * (pe - s)) / dur);
        windowSums[x] += alloc - prev;
        prev = alloc;
        if (pe >= e || x + 1 >= nWin || we >= to) break;
        x++;
      }
      w = x;
    }
  }
  return { acc, windowSums, outside };
}
