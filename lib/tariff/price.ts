/**
 * priceConsumption: interval consumption -> explained bill lines. Steps: classify the intervals
 * (energy type, register, micro-units), walk them over the cached boundary timeline (hot loop), then
 * build energy, demand and fixed lines per cycle, round, add taxes.
 */
import { Decimal } from '../money/decimal';
import { windowBoundaries } from '../model/time';
import { accumulate } from './accumulate';
import { BASE_UNIT, baseToUnit, classifyIntervals, KEYS, PriceError, REGISTERS } from './classify';
import { baseWindowMinutes, demandLines } from './demand';
import { energyLines } from './energy';
import { coveredDays, cycleShares, fixedLines } from './fixed';
import { finish } from './lines';
import { buildTimeline, type Timeline } from './timeline';
import { ENERGY_TYPES, type ConsumptionInterval, type EnergyType, type PriceRequest, type PriceResult, type Tariff } from './types';

export { PriceError };

const windowCache = new WeakMap<Timeline, Map<number, Float64Array>>();

function fixedWindowBounds(tariff: Tariff, tl: Timeline, minutes: number): Float64Array {
  let m = windowCache.get(tl);
  if (!m) windowCache.set(tl, (m = new Map()));
  let b = m.get(minutes);
  if (!b) {
    b = Float64Array.from(windowBoundaries(tl.from, tl.to, minutes * 60_000, tariff.timeZone, Number.MAX_SAFE_INTEGER));
    m.set(minutes, b);
  }
  return b;
}

function range(intervals: ConsumptionInterval[], request: PriceRequest): { from: number; to: number } {
  let from = request.from;
  let to = request.to;
  if (from === undefined || to === undefined) {
    let lo = Infinity;
    let hi = -Infinity;
    for (const iv of intervals) {
      if (iv.start < lo) lo = iv.start;
      if (iv.end > hi) hi = iv.end;
    }
    from ??= lo;
    to ??= hi;
  }
  if (!Number.isFinite(from)) throw new PriceError(`request.from must be epoch ms (or give intervals), got ${JSON.stringify(request.from)}`);
  if (!Number.isFinite(to)) throw new PriceError(`request.to must be epoch ms (or give intervals), got ${JSON.stringify(request.to)}`);
  if (to <= from) throw new PriceError(`request.to must be after request.from, got from ${new Date(from).toISOString()} to ${new Date(to).toISOString()}`);
  return { from, to };
}

function checkRequest(request: PriceRequest): void {
  (request.demandHistory ?? []).forEach((h, i) => {
    if (!Number.isFinite(h?.cycleStart)) throw new PriceError(`request.demandHistory[${i}].cycleStart must be epoch ms, got ${JSON.stringify(h?.cycleStart)}`);
    if (typeof h.value !== 'string' || !Decimal.parse(h.value)) throw new PriceError(`request.demandHistory[${i}].value must be a decimal string, got ${JSON.stringify(h.value)}`);
  });
}

/** Prices interval consumption with a validated tariff (see validateTariff) over request.from..to. */
export function priceConsumption(tariff: Tariff, intervals: ConsumptionInterval[], request: PriceRequest = {}): PriceResult {
  if (!Array.isArray(intervals)) throw new PriceError(`intervals must be an array, got ${typeof intervals}`);
  checkRequest(request);
  const cls = classifyIntervals(intervals);
  const { from, to } = range(intervals, request);
  const tl = buildTimeline(tariff, from, to);
  const minutes = baseWindowMinutes(tariff);
  const bounds = minutes ? fixedWindowBounds(tariff, tl, minutes) : undefined;
  const sums = accumulate(tl, intervals, cls, bounds);
  const warnings: string[] = [];
  if (sums.outside) warnings.push(`${sums.outside} interval(s) outside the billing range ${new Date(from).toISOString()} - ${new Date(to).toISOString()} were ignored`);

  const covered = coveredDays(tl);
  const drafts = [
    ...energyLines(tariff, tl, sums.acc, cycleShares(tl, covered), warnings),
    ...demandLines(tariff, tl, intervals, cls, bounds, sums.windowSums, request),
    ...fixedLines(tariff, tl, covered),
  ];
  const finished = finish(tariff, drafts);
  return {
    tariff: tariff.id, currency: tariff.currency, from, to, ...finished,
    quantities: quantities(tariff, tl, sums.acc, warnings), warnings,
  };
}

function priced(tariff: Tariff, version: number, key: number): boolean {
  const type = ENERGY_TYPES[Math.floor(key / REGISTERS)];
  const register = key % REGISTERS !== 0;
  return tariff.versions[version].energy.some((c) => c.energyType === type && (c.type === 'register') === register);
}

/** Totals per energy type (intervals without a register; register totals only where there are none) and warnings for unpriced energy. */
function quantities(tariff: Tariff, tl: Timeline, acc: Float64Array, warnings: string[]): PriceResult['quantities'] {
  const nSeg = tl.segments.length;
  const total = new Float64Array(KEYS);
  const unpriced = new Float64Array(KEYS);
  for (let k = 0; k < KEYS; k++) {
    for (let q = 0; q < nSeg; q++) {
      const m = acc[k * nSeg + q];
      if (m === 0) continue;
      total[k] += m;
      if (!priced(tariff, tl.segments[q].version, k)) unpriced[k] += m;
    }
  }
  const out: PriceResult['quantities'] = [];
  ENERGY_TYPES.forEach((type: EnergyType, t) => {
    const unit = tariff.versions.flatMap((v) => v.energy).find((c) => c.energyType === type)?.unit ?? BASE_UNIT[type];
    let registers = 0;
    for (let r = 1; r < REGISTERS; r++) registers += total[t * REGISTERS + r];
    const micro = total[t * REGISTERS] !== 0 ? total[t * REGISTERS] : registers;
    if (micro !== 0 || total[t * REGISTERS] !== 0) out.push({ energyType: type, unit, quantity: baseToUnit(micro, type, unit).toString() });
    for (let r = 0; r < REGISTERS; r++) {
      const u = unpriced[t * REGISTERS + r];
      if (u !== 0) warnings.push(`${baseToUnit(u, type, BASE_UNIT[type]).toString()} ${BASE_UNIT[type]} of ${type}${r ? ` register T${r}` : ''} not priced: no ${r ? 'register' : 'energy'} charge for it`);
    }
  });
  return out;
}
