/**
 * Pure evaluation of one alarm rule over its subject's meters: given the inputs of this moment (new
 * readings, last-reading times, poll failure counts, prepaid balances, the license, and the store's
 * consumption through an injected function), answers per meter whether the condition holds, with
 * the value and limit for the message. A meter without the inputs its condition needs gets no result
 * (its state is unchanged). Bounded: at most MAX_METERS_PER_EVALUATION meters and
 * MAX_STORE_QUERIES_PER_EVALUATION consumption queries per call (`truncated` says when cut).
 */
import { convert, Quality, type Reading } from '../../model';
import { DAY_MS, fromLocal, toLocal, windowStartOf } from '../../model/time';
import { WINDOWS } from './rules';
import type { AlarmRule, Condition } from './types';

export const MAX_METERS_PER_EVALUATION = 10_000;
export const MAX_STORE_QUERIES_PER_EVALUATION = 2_000;
/** Store queries between two turns of the event loop. */
const YIELD_EVERY_QUERIES = 20;

export interface MeterInfo {
  id: string; name: string; folder_id: string;
  /** The meter's own interval_time. */
  interval_s: number;
  /** When the meter was created (a new meter is not stale before k intervals have passed). */
  created_at?: number;
}
export interface Amount { value: number; unit: string }
/** Consumption of a register over [from, to) (the store's), or null without data. */
export type ConsumptionFn = (meter: string, obis: string, from: number, to: number) => Promise<Amount | null>;

export interface EvalInputs {
  now: number;
  /** The EMS time zone (windows and weekday-hours are local). */
  timeZone: string;
  /** New readings (already stored) by meter, in time order. */
  readings?: ReadonlyMap<string, readonly Reading[]>;
  /** The reading of a register before this batch (register_sanity). */
  previous?: (meter: string, obis: string) => { value: number; time: number } | undefined;
  /** A clock tick: stale and license conditions are evaluated. */
  tick?: boolean;
  /** When each meter's last reading came (stale); unknown meters count from `since`. */
  lastReadingAt?: (meter: string) => number | undefined;
  /** Since when readings are watched (the service start). */
  since?: number;
  /** Failed polls in a row, for the meters just polled. */
  pollFailures?: ReadonlyMap<string, number>;
  /** Prepaid balances just reported, by meter. */
  balances?: ReadonlyMap<string, number>;
  /** The license's expiry (epoch ms of the end of its last day), null without a license. Tick only. */
  licenseExpiresAt?: number | null;
  /** The store's disk spool use, null for a store without one. Tick only. */
  spool?: { bytes: number; maxBytes: number } | null;
  /** Set to evaluate window_consumption and anomaly rules (at a window end). */
  consumption?: ConsumptionFn;
}

export type ConditionState = 'true' | 'false' | 'hold';

export interface ConditionResult {
  /** null for a rule about the EMS itself (license). */
  meter: string | null;
  /** hold: inside the hysteresis band (neither raises nor clears). */
  state: ConditionState;
  value: number | null;
  limit: number | null;
  unit: string;
  /** What the value is, for the message ("power import 1-0:1.7.0 62.3 kW above 50 kW"). */
  text: string;
  /** The time the result is about when that is not now (a window's start): active hours are judged at it. */
  at?: number;
}

export interface Evaluation { results: ConditionResult[]; truncated: boolean }

const r3 = (x: number) => Math.round(x * 1000) / 1000;

/** A local time in the EMS zone for messages: "2026-07-09 02:00". */
function localStamp(t: number, timeZone: string): string {
  const l = toLocal(t, timeZone);
  const two = (n: number) => String(n).padStart(2, '0');
  return `${l.year}-${two(l.month)}-${two(l.day)} ${two(l.hour)}:${two(l.minute)}`;
}

/** The last complete window [from, to) at `now` for a window length in the EMS zone. */
export function lastWindow(window: keyof typeof WINDOWS, now: number, timeZone: string): { from: number; to: number } {
  const every = WINDOWS[window];
  const to = windowStartOf(now, every, timeZone);
  return { from: windowStartOf(to - 1, every, timeZone), to };
}

/** The same local weekday-hour `weeks` weeks before [from, to). */
export function weeksBefore(from: number, to: number, weeks: number, timeZone: string): { from: number; to: number } {
  const shift = (t: number) => { const l = toLocal(t, timeZone); return fromLocal({ ...l, day: l.day - 7 * weeks }, timeZone); };
  return { from: shift(from), to: shift(to) };
}

export function median(values: readonly number[]): number {
  const s = [...values].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

function convertTo(a: Amount, unit: string): number | null {
  try { return convert(a.value, a.unit, unit); } catch { return null; }
}

type ThresholdCondition = Extract<Condition, { type: 'threshold' }>;
type StaleCondition = Extract<Condition, { type: 'stale' }>;
type SanityCondition = Extract<Condition, { type: 'register_sanity' }>;

/** A threshold's state for a value in the condition's unit: beyond the limit, inside the hysteresis band (hold) or not. */
export function thresholdState(c: ThresholdCondition, hysteresis: number, v: number): ConditionState {
  const beyond = c.direction === 'above' ? v > c.value : v < c.value;
  if (beyond) return 'true';
  const band = c.direction === 'above' ? v > c.value - hysteresis : v < c.value + hysteresis;
  return hysteresis > 0 && band ? 'hold' : 'false';
}

export function thresholdResult(c: ThresholdCondition, meter: string, state: ConditionState, v: number): ConditionResult {
  const shown = r3(v);
  return { meter, state, value: shown, limit: c.value, unit: c.unit, text: `${c.obis} ${shown} ${c.unit} ${c.direction} ${c.value} ${c.unit}` };
}

/** A stale condition on the clock: no reading since `last`. */
export function staleResult(c: StaleCondition, meter: MeterInfo, now: number, last: number): ConditionResult {
  const limitS = c.intervals * meter.interval_s;
  const age = Math.max(0, Math.round((now - last) / 1000));
  return { meter: meter.id, state: age >= limitS ? 'true' : 'false', value: age, limit: limitS, unit: 's', text: `no reading for ${age} s (${c.intervals} x interval ${meter.interval_s} s = ${limitS} s)` };
}

/** A stale condition when readings came. */
export function staleResultOnReading(c: StaleCondition, meter: MeterInfo): ConditionResult {
  return { meter: meter.id, state: 'false', value: 0, limit: c.intervals * meter.interval_s, unit: 's', text: 'readings arrive' };
}

/**
 * register_sanity over a meter's new readings (in time order; those of other registers are skipped) after
 * the register's previous reading. null without a reading of the register; with `sane` false, 'sane'
 * instead of the result of a sane register (no result made: the caller only wants to know about a finding).
 */
export function registerSanity(c: SanityCondition, meter: string, readings: readonly Reading[], previous: { value: number } | undefined, sane: true): ConditionResult | null;
export function registerSanity(c: SanityCondition, meter: string, readings: readonly Reading[], previous: { value: number } | undefined, sane: false): ConditionResult | 'sane' | null;
export function registerSanity(c: SanityCondition, meter: string, readings: readonly Reading[], previous: { value: number } | undefined, sane: boolean): ConditionResult | 'sane' | null {
  let prev: number | undefined = previous?.value;
  let last: Reading | undefined;
  let found: { kind: string; value: number; before: number | null } | null = null;
  for (const r of readings) {
    if (r.obis !== c.obis) continue;
    const q = r.quality ?? 0;
    const drop = prev !== undefined && r.value < prev && (q & Quality.OVERFLOW) === 0;
    if ((q & (Quality.SUSPECT | Quality.COUNTER_RESET)) || drop) {
      const kind = (q & Quality.SUSPECT) && c.kinds.includes('spike') ? 'spike'
        : ((q & Quality.COUNTER_RESET) || (drop && r.value < prev! * 0.1)) && c.kinds.includes('reset') ? 'reset'
          : drop && c.kinds.includes('backwards') ? 'backwards' : null;
      if (kind) found = { kind, value: r.value, before: prev ?? null };
    }
    prev = r.value;
    last = r;
  }
  if (!last) return null;
  const unit = last.unit;
  if (found) return { meter, state: 'true', value: found.value, limit: found.before, unit, text: `register ${c.obis} ${found.kind}: ${found.value} ${unit}${found.before !== null ? ` after ${found.before} ${unit}` : ''}` };
  return sane ? { meter, state: 'false', value: last.value, limit: null, unit, text: `register ${c.obis} is sane` } : 'sane';
}

export async function evaluateRule(rule: Pick<AlarmRule, 'condition' | 'hysteresis'>, meters: readonly MeterInfo[], inputs: EvalInputs): Promise<Evaluation> {
  const c = rule.condition;
  const results: ConditionResult[] = [];
  let truncated = meters.length > MAX_METERS_PER_EVALUATION;
  const list = truncated ? meters.slice(0, MAX_METERS_PER_EVALUATION) : meters;
  if (c.type === 'license_expiring') {
    if (inputs.tick && inputs.licenseExpiresAt !== undefined) results.push(license(c, inputs.licenseExpiresAt, inputs.now));
    return { results, truncated: false };
  }
  if (c.type === 'spool_filling') {
    if (inputs.tick && inputs.spool) {
      const pct = r3((100 * inputs.spool.bytes) / inputs.spool.maxBytes);
      results.push({ meter: null, state: pct >= c.percent ? 'true' : 'false', value: pct, limit: c.percent, unit: '%', text: `the store's spool is ${pct} % full (${inputs.spool.bytes} of ${inputs.spool.maxBytes} bytes)` });
    }
    return { results, truncated: false };
  }
  let queries = 0;
  const query = async (m: string, obis: string, from: number, to: number): Promise<Amount | null | undefined> => {
    if (++queries > MAX_STORE_QUERIES_PER_EVALUATION) { truncated = true; return undefined; }
    // The embedded store answers synchronously: let the rest of the process (polls, API) run between queries.
    if (queries % YIELD_EVERY_QUERIES === 0) await new Promise<void>((r) => setImmediate(r));
    return inputs.consumption!(m, obis, from, to);
  };
  /** Consumption of `obis` in a window, in `unit`; null without a store, data or a convertible unit. */
  const consumed = async (m: string, obis: string, w: { from: number; to: number }, unit: string): Promise<number | null> => {
    if (!inputs.consumption) return null;
    const a = await query(m, obis, w.from, w.to);
    return a ? convertTo(a, unit) : null;
  };
  let meter = list[0]; // the meter the loop is at (one push closure for them all)
  const push = (state: ConditionState, value: number | null, limit: number | null, unit: string, text: string, at?: number) => results.push({ meter: meter.id, state, value, limit, unit, text, ...(at !== undefined ? { at } : {}) });
  for (meter of list) {
    const readings = inputs.readings?.get(meter.id);
    switch (c.type) {
      case 'threshold': {
        let last: Reading | undefined;
        for (const r of readings ?? []) if (r.obis === c.obis && (!last || r.time >= last.time)) last = r;
        if (!last) break;
        const v = convertTo(last, c.unit);
        if (v === null) break; // a reading of another dimension (a misconfigured rule): nothing to say
        results.push(thresholdResult(c, meter.id, thresholdState(c, rule.hysteresis, v), v));
        break;
      }
      case 'stale': {
        if (readings && readings.length) { results.push(staleResultOnReading(c, meter)); break; }
        if (!inputs.tick) break;
        results.push(staleResult(c, meter, inputs.now, inputs.lastReadingAt?.(meter.id) ?? Math.max(inputs.since ?? inputs.now, meter.created_at ?? -Infinity)));
        break;
      }
      case 'poll_failures': {
        const n = inputs.pollFailures?.get(meter.id);
        if (n === undefined) break;
        push(n >= c.count ? 'true' : 'false', n, c.count, 'polls', `${n} failed poll(s) in a row`);
        break;
      }
      case 'prepaid_balance_below': {
        const b = inputs.balances?.get(meter.id);
        if (b === undefined) break;
        push(b < c.amount ? 'true' : 'false', b, c.amount, '', `prepaid balance ${b} (below ${c.amount} alarms)`);
        break;
      }
      case 'register_sanity': {
        const r = readings ? registerSanity(c, meter.id, readings, inputs.previous?.(meter.id, c.obis), true) : null;
        if (r) results.push(r);
        break;
      }
      case 'window_consumption': {
        const w = lastWindow(c.window, inputs.now, inputs.timeZone);
        const v = await consumed(meter.id, c.obis, w, c.unit);
        if (v === null) break;
        const high = c.above !== undefined && v > c.above;
        const low = c.below !== undefined && v < c.below;
        const limit = high ? c.above! : low ? c.below! : (c.above ?? c.below!);
        push(high || low ? 'true' : 'false', r3(v), limit, c.unit, `consumption ${r3(v)} ${c.unit} in ${c.window} from ${localStamp(w.from, inputs.timeZone)}${high ? ` above ${c.above}` : low ? ` below ${c.below}` : ''}`, w.from);
        break;
      }
      case 'anomaly': {
        const w = lastWindow(c.window, inputs.now, inputs.timeZone);
        const v = await consumed(meter.id, c.obis, w, c.unit);
        if (v === null) break;
        const past: number[] = [];
        for (let k = 1; k <= c.weeks; k++) {
          const bv = await consumed(meter.id, c.obis, weeksBefore(w.from, w.to, k, inputs.timeZone), c.unit);
          if (bv !== null) past.push(bv);
        }
        if (past.length < Math.ceil(c.weeks / 2)) break; // no baseline yet
        const base = median(past);
        const limit = r3(Math.max(base * c.factor, base + c.min));
        push(v > limit ? 'true' : 'false', r3(v), limit, c.unit, `consumption ${r3(v)} ${c.unit} in the hour from ${localStamp(w.from, inputs.timeZone)} against a median of ${r3(base)} ${c.unit} over ${past.length} week(s)`, w.from);
        break;
      }
    }
  }
  return { results, truncated };
}

function license(c: Extract<Condition, { type: 'license_expiring' }>, expiresAt: number | null, now: number): ConditionResult {
  if (expiresAt === null) return { meter: null, state: 'false', value: null, limit: c.days, unit: 'd', text: 'no license' };
  const days = Math.floor((expiresAt - now) / DAY_MS);
  return { meter: null, state: days < c.days ? 'true' : 'false', value: days, limit: c.days, unit: 'd', text: days < 0 ? `the license expired ${-days} day(s) ago` : `the license expires in ${days} day(s)` };
}
