/**
 * Cumulative register readings -> a bill's meter readings table and the intervals the tariff prices.
 *
 * Billed registers: readings in an energy or volume unit; for electricity (OBIS medium 1) only active
 * import C.D = 1.8 (1.8.0 total, 1.8.1..1.8.4 = T1..T4), so export and reactive registers are not billed.
 * The opening reading of a register is the newest at or before `from`; the closing reading the newest
 * at or before `to`. Consumption runs from opening to closing, so consecutive bills chain without a gap
 * or overlap: what lies between an opening reading and `from` is billed in the first interval at or
 * after `from` (noted), what lies after the closing reading belongs to the next bill.
 */
import { normaliseObis, parseObis, qualityFlags, readingProblem, unitInfo, type QualityFlag, type Reading } from '../model';
import { ConsumptionTracker, type ConsumptionOptions, type ConsumptionRecord } from '../pipeline/consumption';
import type { ConsumptionInterval } from '../tariff/types';
import { Decimal } from '../money/decimal';
import { Pacer, runPaced, runSync } from './pace';

export type RegisterName = 'total' | 'T1' | 'T2' | 'T3' | 'T4';

export interface RegisterPoint {
  time: number;
  value: number;
  quality: number;
}

/** One row of the readings table: a register's opening and closing readings and its consumption. */
export interface RegisterReadings {
  obis: string;
  register: RegisterName;
  unit: string;
  opening: RegisterPoint | null;
  closing: RegisterPoint | null;
  /** Decimal text: the register's consumption priced in this bill. */
  consumption: string;
}

export interface ReadingsResult {
  registers: RegisterReadings[];
  intervals: ConsumptionInterval[];
  notes: string[];
  /** Number of readings used (opening to closing). */
  used: number;
}

const BILLED_DIMENSIONS = new Set(['active energy', 'heat energy', 'volume']);

/** T1..T4 for tariff group E 1..4, else "total". */
export function registerName(obis: string): RegisterName {
  const e = parseObis(obis).tariff;
  return e >= 1 && e <= 4 ? (`T${e}` as RegisterName) : 'total';
}

/** True for a register a bill prices (see the module comment). */
export function isBilledRegister(obis: string, unit: string): boolean {
  let dimension: string;
  try {
    dimension = unitInfo(unit).dimension;
  } catch {
    return false;
  }
  if (!BILLED_DIMENSIONS.has(dimension)) return false;
  const c = parseObis(obis);
  if (c.medium === 1) return c.quantity === 1 && c.processing === 8 && c.tariff <= 4;
  return true;
}

function iso(t: number): string {
  return new Date(t).toISOString();
}

function toInterval(r: ConsumptionRecord): ConsumptionInterval {
  const out: ConsumptionInterval = { start: r.from, end: r.to, quantity: r.value, unit: r.unit, obis: r.obis, meter: r.meter };
  if (r.quality) out.quality = r.quality;
  return out;
}

/**
 * Opening/closing readings and priced intervals of one meter over [from, to). `interval` (ms) is the
 * interval length the readings are turned into (aligned in `timeZone`). Throws an Error naming the
 * field and value for bad readings, or when no register has a reading at or before `to`.
 */
export function readingsToIntervals(meter: string, readings: readonly Reading[], from: number, to: number, options: IntervalOptions): ReadingsResult {
  return runSync(readingsToIntervalsSteps(meter, readings, from, to, options));
}

/** readingsToIntervals letting the event loop run while it works (see ./pace). */
export function readingsToIntervalsPaced(meter: string, readings: readonly Reading[], from: number, to: number, options: IntervalOptions, pacer?: Pacer): Promise<ReadingsResult> {
  return runPaced(readingsToIntervalsSteps(meter, readings, from, to, options), pacer);
}

export type IntervalOptions = { interval: number; timeZone: string } & Omit<ConsumptionOptions, 'interval' | 'timeZone'>;

/** The work of readingsToIntervals as a generator that yields after every reading (true: between phases). */
export function* readingsToIntervalsSteps(meter: string, readings: readonly Reading[], from: number, to: number, options: IntervalOptions): Generator<boolean | void, ReadingsResult> {
  const series = new Map<string, Reading[]>();
  // OBIS code and unit -> the normalised code when billed, else null (parsed once per series, not per reading).
  const billed = new Map<string, string | null>();
  for (let i = 0; i < readings.length; i++) {
    const r = readings[i];
    const problem = readingProblem(r);
    if (problem) throw new Error(`readings[${i}]: ${problem}`);
    if (r.meter !== meter) continue;
    const key = `${r.obis}\u0000${r.unit}`;
    let obis = billed.get(key);
    if (obis === undefined) {
      try {
        obis = normaliseObis(r.obis);
      } catch {
        throw new Error(`readings[${i}].obis must be an OBIS code, got ${JSON.stringify(r.obis)}`);
      }
      if (!isBilledRegister(obis, r.unit)) obis = null;
      billed.set(key, obis);
    }
    if (obis === null || r.time > to) continue;
    const list = series.get(obis) ?? [];
    list.push(obis === r.obis ? r : { ...r, obis });
    series.set(obis, list);
    yield;
  }
  const registers: RegisterReadings[] = [];
  const intervals: ConsumptionInterval[] = [];
  const notes: string[] = [];
  let used = 0;
  const tracker = new ConsumptionTracker({ ...options });
  for (const [obis, list] of [...series.entries()].sort(([a], [b]) => a.localeCompare(b))) {
    list.sort((a, b) => a.time - b.time);
    let first = 0;
    for (let i = 0; i < list.length; i++) if (list[i].time <= from) first = i;
    const span = list.slice(first);
    const open = span[0];
    const close = span[span.length - 1];
    const point = (r: Reading): RegisterPoint => ({ time: r.time, value: r.value, quality: r.quality ?? 0 });
    const row: RegisterReadings = { obis, register: registerName(obis), unit: open.unit, opening: null, closing: null, consumption: '0' };
    registers.push(row);
    if (open.time > from) notes.push(`${obis}: no reading at or before the period start; consumption counted from the first reading at ${iso(open.time)}`);
    else row.opening = point(open);
    if (close.time <= from) {
      notes.push(`${obis}: no reading after the period start; no consumption billed`);
      continue;
    }
    if (row.opening === null) row.opening = point(open);
    row.closing = point(close);
    if (to - close.time > options.interval) notes.push(`${obis}: closing reading at ${iso(close.time)}, before the period end ${iso(to)}`);
    used += span.length;
    const records: ConsumptionRecord[] = [];
    for (const r of span) {
      for (const rec of tracker.push(r)) records.push(rec);
      yield;
    }
    const pending = tracker.pending(meter, obis);
    if (pending && pending.from < close.time) records.push({ ...pending, to: Math.min(pending.to, to) });
    // What lies between an opening reading before `from` and `from` is billed from `from` on: intervals
    // ending by `from` join the first later one, an interval across `from` starts at it.
    const before = records.filter((r) => r.to <= from);
    const inside = records.filter((r) => r.to > from).map((r) => (r.from < from ? { ...r, from } : r));
    if (before.length > 0 && inside.length > 0) {
      const extra = before.reduce((s, r) => s.add(Decimal.from(r.value)), Decimal.ZERO);
      inside[0] = { ...inside[0], value: Number(extra.add(Decimal.from(inside[0].value)).toString()), quality: before.reduce((q, r) => q | r.quality, inside[0].quality) };
    }
    if (open.time < from) notes.push(`${obis}: opening reading at ${iso(open.time)} is before the period start; the consumption from it is billed from ${iso(from)}`);
    yield true;
    let consumption = Decimal.ZERO;
    for (const r of inside) {
      consumption = consumption.add(Decimal.from(r.value));
      intervals.push(toInterval(r));
      yield;
    }
    row.consumption = consumption.trimmed().toString();
    yield true;
  }
  if (!registers.some((r) => r.closing !== null)) {
    throw new Error(`readings: no billed register reading of meter ${JSON.stringify(meter)} between ${iso(from)} and ${iso(to)} (need energy or volume registers such as 1-0:1.8.0)`);
  }
  yield true;
  intervals.sort((a, b) => a.start - b.start || (a.obis ?? '').localeCompare(b.obis ?? ''));
  yield true;
  return { registers, intervals, notes, used };
}

/** Quality summary of readings and intervals: flags set anywhere and the number of flagged intervals. */
export function qualitySummary(points: readonly { quality?: number }[]): { flags: QualityFlag[]; count: number } {
  let all = 0;
  let count = 0;
  for (const p of points) {
    if (p.quality) {
      all |= p.quality;
      count++;
    }
  }
  return { flags: qualityFlags(all), count };
}
