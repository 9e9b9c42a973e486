/**
 * The boundary timeline of a tariff over a range: [from, to) cut at every instant where a price can
 * change (local midnights, hence version, cycle and season changes and day types; DST offset changes;
 * TOU band edges of every TOU charge). Each segment knows its version, cycle, day type and, per TOU
 * charge, its season and period. Built once per (tariff, range) and cached; the pricing hot loop then
 * only walks the `starts`/`ends` arrays.
 *
 * Classification is by the local wall time at each instant: a band edge at a wall time that occurs
 * twice (fall-back) cuts at both instants, one at a skipped wall time (spring-forward) cuts nowhere.
 */
import { DAY_MS, offsetAt } from '../model/time';
import { dateOfDay, dayStartMs, dayType as dayTypeOf, localDayOf, minutesOf, monthDayIndex } from './calendar';
import { cycleInfos, cycleStartDay, type CycleInfo } from './cycles';
import { seasonDays } from './validate-schedule';
import type { DayType, Tariff, TouCharge, TouPeriod } from './types';

export interface Segment {
  start: number;
  end: number;
  /** Index into tariff.versions; -1 where no version is in force. */
  version: number;
  /** Index into Timeline.cycles. */
  cycle: number;
  dayType: DayType;
  /** Per energy charge index of the version: the season index and period of TOU charges (else -1 / undefined). */
  season: number[];
  period: (TouPeriod | undefined)[];
}

export interface TimelineDay {
  day: number;
  /** The whole local day, and its part inside the range. */
  dayStart: number;
  dayEnd: number;
  from: number;
  to: number;
  version: number;
  cycle: number;
}

export interface Timeline {
  from: number;
  to: number;
  segments: Segment[];
  starts: Float64Array;
  ends: Float64Array;
  cycles: CycleInfo[];
  days: TimelineDay[];
}

interface Band { from: number; to: number; period: TouPeriod }
interface TouIndex { seasonOfDay: Int16Array; bands: Record<DayType, Band[]>[] }

const FALLBACK: Record<DayType, DayType[]> = {
  weekday: ['weekday'], saturday: ['saturday', 'weekday'], sunday: ['sunday', 'saturday', 'weekday'],
  holiday: ['holiday', 'sunday', 'saturday', 'weekday'],
};

const touIndexes = new WeakMap<TouCharge, TouIndex>();

function touIndex(charge: TouCharge): TouIndex {
  let idx = touIndexes.get(charge);
  if (idx) return idx;
  const seasonOfDay = new Int16Array(366).fill(-1);
  charge.seasons.forEach((s, i) => {
    for (const d of seasonDays(s)) seasonOfDay[d] = i;
  });
  const bands = charge.seasons.map((s) => {
    const out = {} as Record<DayType, Band[]>;
    for (const dt of ['weekday', 'saturday', 'sunday', 'holiday'] as DayType[]) {
      const list = FALLBACK[dt].map((k) => s.schedule[k]).find((b) => b !== undefined) ?? s.schedule.weekday;
      out[dt] = list.map((b) => ({ from: minutesOf(b.from)!, to: minutesOf(b.to)!, period: b.period as TouPeriod })).sort((a, b) => a.from - b.from);
    }
    return out;
  });
  idx = { seasonOfDay, bands };
  touIndexes.set(charge, idx);
  return idx;
}

/** The index of the version in force on local day `n`, or -1. */
export function versionOnDay(tariff: Tariff, n: number): number {
  const date = dateOfDay(n);
  for (let i = tariff.versions.length - 1; i >= 0; i--) {
    const v = tariff.versions[i];
    if (v.validFrom > date) continue;
    if (v.validTo !== undefined && date >= v.validTo) return -1;
    return i;
  }
  return -1;
}

/** The first instant in (lo, hi] whose UTC offset differs from the one at lo. */
function offsetChange(lo: number, hi: number, zone: string): number {
  const o = offsetAt(lo, zone);
  while (hi - lo > 1) {
    const mid = Math.floor((lo + hi) / 2);
    if (offsetAt(mid, zone) === o) lo = mid;
    else hi = mid;
  }
  return hi;
}

const cache = new WeakMap<Tariff, Map<string, Timeline>>();

/** The (cached) timeline of a validated tariff over [from, to). */
export function buildTimeline(tariff: Tariff, from: number, to: number): Timeline {
  let perTariff = cache.get(tariff);
  if (!perTariff) cache.set(tariff, (perTariff = new Map()));
  const key = `${from}/${to}`;
  let tl = perTariff.get(key);
  if (!tl) {
    tl = computeTimeline(tariff, from, to);
    if (perTariff.size >= 16) perTariff.delete(perTariff.keys().next().value as string);
    perTariff.set(key, tl);
  }
  return tl;
}

function computeTimeline(tariff: Tariff, from: number, to: number): Timeline {
  const zone = tariff.timeZone;
  const anchor = tariff.cycleAnchorDay ?? 1;
  const cycles = cycleInfos(tariff, from, to);
  const cycleByStart = new Map(cycles.map((c, i) => [c.startDay, i]));
  const segments: Segment[] = [];
  const days: TimelineDay[] = [];
  const lastDay = localDayOf(to - 1, zone);
  let n = localDayOf(from, zone);
  let S = dayStartMs(n, zone);
  for (; n <= lastDay; n++) {
    const E = dayStartMs(n + 1, zone);
    const version = versionOnDay(tariff, n);
    const cycle = cycleByStart.get(cycleStartDay(n, anchor)) ?? 0;
    const date = dateOfDay(n);
    const dt = dayTypeOf(date, tariff.calendar);
    const lo = Math.max(S, from);
    const hi = Math.min(E, to);
    days.push({ day: n, dayStart: S, dayEnd: E, from: lo, to: hi, version, cycle });
    // The day in pieces of constant UTC offset (two on a DST day).
    const o1 = offsetAt(S, zone);
    const o2 = offsetAt(E - 1, zone);
    const T = o1 === o2 ? E : offsetChange(S, E - 1, zone);
    const W = n * DAY_MS; // local midnight as wall-clock ms
    const energy = version >= 0 ? tariff.versions[version].energy : [];
    const md = monthDayIndex(date.slice(5))!;
    const season: number[] = energy.map(() => -1);
    const bandsOf: (Band[] | undefined)[] = energy.map(() => undefined);
    const cuts = new Set<number>([lo]);
    if (T > lo && T < hi) cuts.add(T);
    energy.forEach((charge, ci) => {
      if (charge.type !== 'tou') return;
      const idx = touIndex(charge);
      season[ci] = idx.seasonOfDay[md];
      const bands = idx.bands[season[ci]][dt];
      bandsOf[ci] = bands;
      for (const b of bands) {
        if (b.from === 0) continue;
        const t1 = W + b.from * 60_000 - o1;
        if (t1 > S && t1 < T && t1 > lo && t1 < hi) cuts.add(t1);
        const t2 = W + b.from * 60_000 - o2;
        if (t2 > T && t2 < E && t2 > lo && t2 < hi) cuts.add(t2);
      }
    });
    const sorted = [...cuts].sort((a, b) => a - b);
    for (let i = 0; i < sorted.length; i++) {
      const x = sorted[i];
      const wallMinute = Math.floor((x + (x < T ? o1 : o2) - W) / 60_000);
      const period = bandsOf.map((bands) => bands?.find((b) => wallMinute >= b.from && wallMinute < b.to)?.period);
      segments.push({ start: x, end: i + 1 < sorted.length ? sorted[i + 1] : hi, version, cycle, dayType: dt, season: season.slice(), period });
    }
    S = E;
  }
  return {
    from, to, segments, cycles, days,
    starts: Float64Array.from(segments, (s) => s.start),
    ends: Float64Array.from(segments, (s) => s.end),
  };
}

/** The index of the segment holding instant t (from <= t < to), by binary search. */
export function segmentAt(tl: Timeline, t: number): number {
  let lo = 0;
  let hi = tl.ends.length - 1;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (tl.ends[mid] <= t) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

export interface TouSpan {
  start: number;
  end: number;
  version: string;
  season: string;
  dayType: DayType;
  period: TouPeriod;
}

/**
 * The TOU periods over [from, to) of the charge named `chargeName` (default: each version's first TOU
 * charge), adjacent equal spans merged. Days without a version or TOU charge are left out.
 */
export function touTimeline(tariff: Tariff, from: number, to: number, chargeName?: string): TouSpan[] {
  const tl = buildTimeline(tariff, from, to);
  const out: TouSpan[] = [];
  for (const s of tl.segments) {
    if (s.version < 0) continue;
    const v = tariff.versions[s.version];
    const ci = v.energy.findIndex((c) => c.type === 'tou' && (chargeName === undefined || c.name === chargeName));
    if (ci < 0) continue;
    const charge = v.energy[ci] as TouCharge;
    const span: TouSpan = { start: s.start, end: s.end, version: v.validFrom, season: charge.seasons[s.season[ci]].name, dayType: s.dayType, period: s.period[ci]! };
    const last = out[out.length - 1];
    if (last && last.end === span.start && last.version === span.version && last.season === span.season && last.dayType === span.dayType && last.period === span.period) last.end = span.end;
    else out.push(span);
  }
  return out;
}
