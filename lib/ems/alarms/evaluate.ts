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
  // The parts of the texts that are the same for every meter, made once.
  const thresholdHead = c.type === 'threshold' ? `${c.obis} ` : '';
  const thresholdTail = c.type === 'threshold' ? ` ${c.unit} ${c.direction} ${c.value} ${c.unit}` : '';
  const staleTails = new Map<number, string>();
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
        const beyond = c.direction === 'above' ? v > c.value : v < c.value;
        const band = c.direction === 'above' ? v > c.value - rule.hysteresis : v < c.value + rule.hysteresis;
        const shown = r3(v);
        push(beyond ? 'true' : rule.hysteresis > 0 && band ? 'hold' : 'false', shown, c.value, c.unit, thresholdHead + shown + thresholdTail);
        break;
      }
      case 'stale': {
        const limitS = c.intervals * meter.interval_s;
        if (readings && readings.length) { push('false', 0, limitS, 's', 'readings arrive'); break; }
        if (!inputs.tick) break;
        const last = inputs.lastReadingAt?.(meter.id) ?? Math.max(inputs.since ?? inputs.now, meter.created_at ?? -Infinity);
        const age = Math.max(0, Math.round((inputs.now - last) / 1000));
        let tail = staleTails.get(meter.interval_s);
        if (tail === undefined) staleTails.set(meter.interval_s, (tail = ` s (${c.intervals} x interval ${meter.interval_s} s = ${limitS} s)`));
        push(age >= limitS ? 'true' : 'false', age, limitS, 's', `no reading for ${age}${tail}`);
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
        const series = (readings ?? []).filter((r) => r.obis === c.obis);
        if (series.length === 0) break;
        let prev = inputs.previous?.(meter.id, c.obis);
        let found: { kind: string; value: number; before: number | null } | null = null;
        for (const r of series) {
          const q = r.quality ?? 0;
          const p = prev?.value;
          const drop = p !== undefined && r.value < p && (q & Quality.OVERFLOW) === 0;
          const kind = (q & Quality.SUSPECT) && c.kinds.includes('spike') ? 'spike'
            : ((q & Quality.COUNTER_RESET) || (drop && r.value < p! * 0.1)) && c.kinds.includes('reset') ? 'reset'
              : drop && c.kinds.includes('backwards') ? 'backwards' : null;
          if (kind) found = { kind, value: r.value, before: p ?? null };
          prev = { value: r.value, time: r.time };
        }
        const unit = series[series.length - 1].unit;
        if (found) push('true', found.value, found.before, unit, `register ${c.obis} ${found.kind}: ${found.value} ${unit}${found.before !== null ? ` after ${found.before} ${unit}` : ''}`);
        else push('false', prev!.value, null, unit, `register ${c.obis} is sane`);
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
