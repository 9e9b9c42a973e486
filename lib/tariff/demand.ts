/**
 * Demand charges: the highest average power of a window in each billing cycle. Fixed windows are
 * aligned to local midnight (summed in the hot loop at the gcd of the fixed window lengths, then
 * grouped); sliding windows end at each interval end. Only electricity intervals without a register
 * count, summed over all meters. With `periods`, only windows starting in those periods of the
 * version's first TOU charge count. The peak's version prices the line (one line per charge and cycle).
 * Ratchet: billed = max(actual, percent% x the highest demand of the previous `months` cycles, from
 * request.demandHistory and from earlier cycles of the same request).
 */
import { Decimal } from '../money/decimal';
import { unitInfo } from '../model/units';
import { dayStartMs, localIso } from './calendar';
import type { Classified } from './classify';
import { shiftCycleStart } from './cycles';
import type { Draft } from './lines';
import type { Timeline } from './timeline';
import { segmentAt } from './timeline';
import type { ConsumptionInterval, DemandCharge, PriceRequest, Tariff, TouPeriod } from './types';

const gcd = (a: number, b: number): number => (b ? gcd(b, a % b) : a);

/** The base fixed window length in minutes for the hot loop, or undefined when no fixed demand charge exists. */
export function baseWindowMinutes(tariff: Tariff): number | undefined {
  let g: number | undefined;
  for (const v of tariff.versions) for (const d of v.demand ?? []) if ((d.method ?? 'fixed') === 'fixed') g = gcd(g ?? 0, d.windowMinutes ?? 15);
  return g;
}

/** Demand windows as parallel arrays: start instant and electricity micro-kWh. */
interface Windows { start: Float64Array; micro: Float64Array; minutes: number }

/** Fixed windows of `minutes`, grouped from the base windows (each inside one local day). */
function fixedWindows(tl: Timeline, bounds: Float64Array, sums: Float64Array, minutes: number): Windows {
  const start = new Float64Array(sums.length);
  const micro = new Float64Array(sums.length);
  const len = minutes * 60_000;
  let d = 0;
  let n = -1;
  for (let i = 0; i < sums.length; i++) {
    const ws = bounds[i];
    while (d + 1 < tl.days.length && tl.days[d].dayEnd <= ws) d++;
    const dayStart = tl.days[d].dayStart;
    const groupStart = dayStart + Math.floor((ws - dayStart) / len) * len;
    if (n < 0 || start[n] !== groupStart) start[++n] = groupStart;
    micro[n] += sums[i];
  }
  return { start: start.subarray(0, n + 1), micro: micro.subarray(0, n + 1), minutes };
}

/** Sliding windows [end - W, end) at each distinct end of an electricity non-register interval. */
function slidingWindows(tl: Timeline, intervals: ConsumptionInterval[], cls: Classified, minutes: number): Windows {
  const idx: number[] = [];
  let maxLen = 0;
  for (let i = 0; i < intervals.length; i++) {
    const iv = intervals[i];
    if (cls.key[i] !== 0 || iv.end <= tl.from || iv.start >= tl.to) continue;
    idx.push(i);
    maxLen = Math.max(maxLen, iv.end - iv.start);
  }
  idx.sort((a, b) => intervals[a].start - intervals[b].start);
  const starts = idx.map((i) => intervals[i].start);
  const ends = [...new Set(idx.map((i) => intervals[i].end))].filter((e) => e <= tl.to).sort((a, b) => a - b);
  const len = minutes * 60_000;
  const outStart: number[] = [];
  const outMicro: number[] = [];
  for (const e of ends) {
    const ws = e - len;
    let lo = 0;
    let hi = starts.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (starts[mid] <= ws - maxLen) lo = mid + 1;
      else hi = mid;
    }
    let micro = 0;
    for (let j = lo; j < starts.length && starts[j] < e; j++) {
      const iv = intervals[idx[j]];
      const overlap = Math.min(iv.end, e) - Math.max(iv.start, ws);
      if (overlap > 0) micro += (cls.micro[idx[j]] * overlap) / (iv.end - iv.start);
    }
    if (ws >= tl.from) {
      outStart.push(ws);
      outMicro.push(Math.round(micro));
    }
  }
  return { start: Float64Array.from(outStart), micro: Float64Array.from(outMicro), minutes };
}

interface Peak { micro: number; start: number; version: number; minutes: number }

export function demandLines(tariff: Tariff, tl: Timeline, intervals: ConsumptionInterval[], cls: Classified, bounds: Float64Array | undefined, sums: Float64Array | undefined, request: PriceRequest): Draft[] {
  const charges = new Map<string, DemandCharge>();
  for (const v of tariff.versions) for (const d of v.demand ?? []) if (!charges.has(d.name)) charges.set(d.name, d);
  const out: Draft[] = [];
  const anchor = tariff.cycleAnchorDay ?? 1;
  for (const [name, first] of charges) {
    const minutes = first.windowMinutes ?? 15;
    const windows = (first.method ?? 'fixed') === 'fixed' ? (bounds && sums ? fixedWindows(tl, bounds, sums, minutes) : { start: new Float64Array(0), micro: new Float64Array(0), minutes }) : slidingWindows(tl, intervals, cls, minutes);
    const peaks = new Map<number, Peak>();
    // Per version: whether it has this charge and the index of its first TOU charge (for `periods`).
    const perVersion = tariff.versions.map((v) => {
      const charge = v.demand?.find((d) => d.name === name);
      return { charge, tou: v.energy.findIndex((c) => c.type === 'tou') };
    });
    let q = 0;
    for (let i = 0; i < windows.start.length; i++) {
      const start = windows.start[i];
      const micro = windows.micro[i];
      if (start < tl.from || start >= tl.to) continue;
      if (!(tl.starts[q] <= start && start < tl.ends[q])) q = segmentAt(tl, start);
      const seg = tl.segments[q];
      if (seg.version < 0) continue;
      const { charge, tou } = perVersion[seg.version];
      if (!charge) continue;
      if (charge.periods && (tou < 0 || !charge.periods.includes(seg.period[tou] as TouPeriod))) continue;
      const best = peaks.get(seg.cycle);
      if (!best) peaks.set(seg.cycle, { micro, start, version: seg.version, minutes });
      else if (micro > best.micro) {
        best.micro = micro;
        best.start = start;
        best.version = seg.version;
      }
    }
    const history = (request.demandHistory ?? []).map((h) => ({ cycleStart: h.cycleStart, value: Decimal.from(h.value) }));
    tl.cycles.forEach((cycle, ci) => {
      const dayVersion = tl.days.find((d) => d.cycle === ci && d.version >= 0 && tariff.versions[d.version].demand?.some((x) => x.name === name));
      const peak = peaks.get(ci);
      if (!peak && !dayVersion) return;
      const vi = peak?.version ?? dayVersion!.version;
      const version = tariff.versions[vi];
      const charge = version.demand!.find((d) => d.name === name)!;
      const unit = charge.unit ?? 'kW';
      const kw = peak ? Decimal.fromUnits(BigInt(peak.micro), 6).mul(60).div(peak.minutes, 6, 'half-up').trimmed() : Decimal.ZERO;
      const actual = unit === 'kW' ? kw : kw.div(Decimal.from(unitInfo(unit).factor), 6, 'half-up').trimmed();
      let billed = actual;
      let note = peak ? `demand ${actual.toString()} ${unit} at ${localIso(peak.start, tariff.timeZone)}` : 'no demand in this cycle';
      if (charge.ratchet) {
        const since = dayStartMs(shiftCycleStart(cycle.startDay, anchor, -charge.ratchet.months), tariff.timeZone);
        const past = history.filter((h) => h.cycleStart >= since && h.cycleStart < cycle.fullFrom);
        if (past.length) {
          const highest = past.reduce((m, h) => Decimal.max(m, h.value), Decimal.ZERO);
          const floor = highest.mul(charge.ratchet.percent).div(100, 6, 'half-up').trimmed();
          if (floor.cmp(actual) > 0) {
            billed = floor;
            note += `; ratchet ${charge.ratchet.percent}% of ${highest.toString()} ${unit} = ${floor.toString()} ${unit} billed`;
          }
        }
      }
      history.push({ cycleStart: cycle.fullFrom, value: actual });
      const rate = Decimal.from(charge.rate);
      out.push({
        kind: 'demand', charge: name, category: charge.category ?? 'demand', cycleFrom: cycle.fullFrom, cycleTo: cycle.fullTo,
        version: version.validFrom, quantity: billed, unit, rate, amount: billed.mul(rate), note,
      });
    });
  }
  return out;
}
