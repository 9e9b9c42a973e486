/**
 * Cumulative register readings (e.g. 1-0:1.8.0 in kWh) -> interval consumption, per meter and OBIS
 * code. Pure logic, no I/O; the state is a plain JSON object so a node can persist it and resume
 * after a restart with identical results.
 *
 * Rules for one step (the previous reading p, the new reading c of the same meter/obis):
 * - First reading of a series: the baseline, nothing is emitted.
 * - Same time as the last reading: ignored when the value is the same (a duplicate), refused (throws)
 *   when it differs. Earlier than the last reading: refused (throws), the state is unchanged.
 * - delta = c - p when that is >= 0.
 * - c < p with `rolloverAt` set (the register's modulus: the value at which it reads 0 again, 100000
 *   for a register showing up to 99999.9, 2^32 * scale for a 32-bit counter): when
 *   rolloverAt - p + c is at most a tenth of the register range (and, with `maxPower`, physically
 *   possible in the elapsed time) it is a rollover: delta = rolloverAt - p + c, flagged OVERFLOW
 *   (the value is exact; the flag only says the register wrapped).
 * - Any other c < p is a meter replacement or reset: the new counter started from 0, so
 *   delta = c, flagged COUNTER_RESET.
 * - `maxPower` (a rate in the series unit per hour: kW for kWh, m3/h for m3): a delta above
 *   maxPower * elapsed hours is kept and flagged SUSPECT, never dropped.
 * - The quality flags of both readings carry over to the consumption.
 *
 * Without `interval` every step gives one record [p.time, c.time]. With `interval` (ms; whole days
 * for a day or longer) records are windows aligned in `timeZone` by lib/store/windows (a DST day is
 * 23 or 25 h; sub-day windows count from local midnight). A window is emitted when a reading at or
 * after its end arrives; a series' first window starts at its first reading.
 * - A step inside one window adds to it. A reading exactly on a boundary closes the window.
 * - A step that crosses one boundary without covering a whole window (readings not aligned to the
 *   boundaries) is split linearly in time at the boundary; both parts are flagged ESTIMATED.
 * - A gap: a step that covers a whole window other than exactly one window from boundary to
 *   boundary (so readings more than one interval apart, or a missing boundary reading). With
 *   `interpolate` the step is split linearly at every boundary, each window it touches flagged
 *   ESTIMATED | GAP_FILLED. Without it, one record spans every window the step touches, flagged
 *   GAP_FILLED. Either way the values add up to the step exactly and the gap stays visible.
 * Interpolated parts are rounded to the step's resolution or 0.001, whichever is finer, in integer
 * steps so that they sum to the step exactly.
 */
import { normaliseObis, Quality, readingProblem, roundNoise, type Reading } from '../model';
import { everyProblem, HOUR_MS, isValidTimeZone, windowBoundaries, windowStartOf } from '../model/time';

export interface ConsumptionOptions {
  /** Output window length in ms (whole days for a day or longer). Absent: one record per step, no gap detection. */
  interval?: number;
  /** IANA zone the windows align in (default UTC). */
  timeZone?: string;
  /** Split a gap linearly across the windows it covers (flagged ESTIMATED | GAP_FILLED). Default false. */
  interpolate?: boolean;
  /** The register's modulus: it reads 0 again at this value. Absent: every negative step is a reset. */
  rolloverAt?: number;
  /** Physical maximum rate in the series unit per hour (kW for kWh); faster steps are flagged SUSPECT. */
  maxPower?: number;
}

/** Consumption of one meter/obis over [from, to): obis is the register's code (e.g. 1-0:1.8.0). */
export interface ConsumptionRecord {
  meter: string;
  obis: string;
  from: number;
  to: number;
  value: number;
  unit: string;
  /** Bit flags from lib/model Quality; 0 = measured. */
  quality: number;
}

export interface RegisterPoint {
  time: number;
  value: number;
  quality: number;
}

export interface OpenWindow {
  from: number;
  to: number;
  value: number;
  quality: number;
}

export interface SeriesState {
  meter: string;
  obis: string;
  unit: string;
  last: RegisterPoint;
  /** The window being filled (interval mode only), null otherwise. */
  open: OpenWindow | null;
}

export interface ConsumptionState {
  version: 1;
  series: SeriesState[];
}

/** A rollover is only believed when the register wrapped by at most this share of its range. */
export const ROLLOVER_FRACTION = 0.1;
const EPS = 1e-9;

function fail(field: string, value: unknown, expected: string): never {
  throw new Error(`${field} must be ${expected}, got ${JSON.stringify(value)}`);
}

/** Validates options; throws an Error naming the option and its value. */
export function checkConsumptionOptions(options: unknown): ConsumptionOptions {
  if (options === undefined || options === null) return {};
  if (typeof options !== 'object') fail('options', options, 'an object');
  const o = options as Record<string, unknown>;
  const out: ConsumptionOptions = {};
  if (o.interval !== undefined) {
    const problem = typeof o.interval === 'number' ? everyProblem(o.interval) : 'not a number';
    if (problem) fail('interval', o.interval, 'a positive whole number of ms (whole days for a day or longer)');
    out.interval = o.interval as number;
  }
  if (o.timeZone !== undefined) {
    if (!isValidTimeZone(o.timeZone)) fail('timeZone', o.timeZone, 'an IANA time zone such as "Europe/Berlin"');
    out.timeZone = o.timeZone;
  }
  if (o.interpolate !== undefined) {
    if (typeof o.interpolate !== 'boolean') fail('interpolate', o.interpolate, 'true or false');
    out.interpolate = o.interpolate;
  }
  for (const k of ['rolloverAt', 'maxPower'] as const) {
    const v = o[k];
    if (v === undefined) continue;
    if (typeof v !== 'number' || !Number.isFinite(v) || v <= 0) fail(k, v, 'a positive number');
    out[k] = v;
  }
  return out;
}

/** Delta and quality of one step between two readings of a register (the rules above). */
export function registerStep(p: RegisterPoint, c: RegisterPoint, options: ConsumptionOptions = {}): { value: number; quality: number } {
  const hours = (c.time - p.time) / HOUR_MS;
  const limit = options.maxPower === undefined ? Infinity : options.maxPower * hours * (1 + EPS);
  let quality = p.quality | c.quality;
  let value = exactSum(c.value, -p.value);
  if (value < 0) {
    const top = options.rolloverAt;
    const rolled = top === undefined ? NaN : exactSum(top, -p.value, c.value);
    if (rolled <= top! * ROLLOVER_FRACTION && rolled <= limit) {
      value = rolled;
      quality |= Quality.OVERFLOW;
    } else {
      value = c.value;
      quality |= Quality.COUNTER_RESET;
    }
  }
  if (value > limit) quality |= Quality.SUSPECT;
  return { value, quality };
}

function decimalsOf(x: number): number {
  for (let d = 0; d < 12; d++) {
    if (roundNoise(Math.round(x * 10 ** d) / 10 ** d) === roundNoise(x)) return d;
  }
  return 12;
}

/**
 * a + b (+ c) at the finest resolution of its terms: register values are exact decimals, and a
 * difference of two large readings (99999.9 - 99999.5) carries binary noise roundNoise cannot remove.
 */
export function exactSum(...terms: number[]): number {
  const sum = terms.reduce((s, x) => s + x, 0);
  let dec = Math.max(...terms.map(decimalsOf));
  while (dec > 0 && Math.abs(sum) * 10 ** dec > 2 ** 52) dec--;
  return roundNoise(Math.round(sum * 10 ** dec) / 10 ** dec);
}

/**
 * Splits `total` linearly in time over the segments between `cuts` (ascending instants), in integer
 * steps of the total's resolution or 0.001 (whichever is finer): the parts sum to the total exactly.
 */
export function splitLinear(total: number, cuts: number[]): number[] {
  let dec = Math.max(decimalsOf(total), 3);
  while (dec > 0 && Math.abs(total) * 10 ** dec > 2 ** 52) dec--;
  const scale = 10 ** dec;
  const whole = Math.round(total * scale);
  const span = cuts[cuts.length - 1] - cuts[0];
  const cum = cuts.map((t, i) => (i === cuts.length - 1 ? whole : Math.round(whole * ((t - cuts[0]) / span))));
  return cum.slice(1).map((v, i) => (v - cum[i]) / scale);
}

function iso(t: number): string {
  return new Date(t).toISOString();
}

/** Turns cumulative register readings of any number of meters/obis codes into consumption records. */
export class ConsumptionTracker {
  readonly options: Readonly<ConsumptionOptions>;
  private readonly series = new Map<string, SeriesState>();

  constructor(options: ConsumptionOptions = {}) {
    this.options = Object.freeze(checkConsumptionOptions(options));
  }

  /**
   * Takes one cumulative reading; returns the consumption records it completes (often none). Throws
   * an Error naming the field and value for bad input, leaving the state unchanged.
   */
  push(reading: Reading): ConsumptionRecord[] {
    const problem = readingProblem(reading);
    if (problem) throw new Error(problem);
    const obis = normaliseObis(reading.obis);
    const { meter, unit } = reading;
    if (reading.value < 0) fail('reading.value', reading.value, `a register value (not negative) for ${meter} ${obis}`);
    const top = this.options.rolloverAt;
    if (top !== undefined && reading.value >= top) fail('reading.value', reading.value, `below rolloverAt ${top} for ${meter} ${obis}`);
    const cur: RegisterPoint = { time: reading.time, value: reading.value, quality: reading.quality ?? 0 };
    const key = `${meter}\u0000${obis}`;
    const s = this.series.get(key);
    if (!s) {
      this.series.set(key, { meter, obis, unit, last: cur, open: this.options.interval === undefined ? null : this.opened(cur.time) });
      return [];
    }
    if (unit !== s.unit) throw new Error(`reading.unit "${unit}" differs from "${s.unit}" of earlier readings of ${meter} ${obis}`);
    if (cur.time === s.last.time) {
      if (cur.value === s.last.value) return [];
      throw new Error(`reading.value ${cur.value} at ${iso(cur.time)} conflicts with ${s.last.value} already read at that time for ${meter} ${obis}`);
    }
    if (cur.time < s.last.time) {
      throw new Error(`reading.time ${iso(cur.time)} is before the last reading (${iso(s.last.time)}) of ${meter} ${obis}: out-of-order readings are refused`);
    }
    const step = registerStep(s.last, cur, this.options);
    let out: ConsumptionRecord[];
    if (this.options.interval === undefined) {
      out = [this.record(s, { from: s.last.time, to: cur.time, ...step })];
    } else {
      const { records, open } = this.intoWindows(s, cur, step);
      out = records;
      s.open = open;
    }
    s.last = cur;
    return out;
  }

  /** The window being filled for a meter/obis (interval mode), or null. */
  pending(meter: string, obis: string): ConsumptionRecord | null {
    const s = this.series.get(`${meter}\u0000${normaliseObis(obis)}`);
    return s?.open ? this.record(s, s.open) : null;
  }

  /** A JSON-safe copy of the state. */
  toJSON(): ConsumptionState {
    return JSON.parse(JSON.stringify({ version: 1, series: [...this.series.values()] })) as ConsumptionState;
  }

  /** A tracker resumed from {@link toJSON}'s state. Throws an Error naming the bad field. */
  static fromJSON(state: unknown, options: ConsumptionOptions = {}): ConsumptionTracker {
    const t = new ConsumptionTracker(options);
    const st = state as ConsumptionState;
    if (!st || typeof st !== 'object' || st.version !== 1) fail('state.version', (st as { version?: unknown })?.version, '1');
    if (!Array.isArray(st.series)) fail('state.series', st.series, 'an array');
    const num = (v: unknown, field: string): number => (typeof v === 'number' && Number.isFinite(v) ? v : fail(field, v, 'a finite number'));
    st.series.forEach((x, i) => {
      const f = `state.series[${i}]`;
      if (!x || typeof x !== 'object') fail(f, x, 'an object');
      for (const k of ['meter', 'obis', 'unit'] as const) if (typeof x[k] !== 'string') fail(`${f}.${k}`, x[k], 'a string');
      if (!x.last || typeof x.last !== 'object') fail(`${f}.last`, x.last, 'a reading point');
      const last = { time: num(x.last.time, `${f}.last.time`), value: num(x.last.value, `${f}.last.value`), quality: num(x.last.quality, `${f}.last.quality`) };
      let open: OpenWindow | null = null;
      if (t.options.interval !== undefined) {
        if (x.open) {
          open = { from: num(x.open.from, `${f}.open.from`), to: num(x.open.to, `${f}.open.to`), value: num(x.open.value, `${f}.open.value`), quality: num(x.open.quality, `${f}.open.quality`) };
          if (!t.isBoundary(open.to) || open.to <= last.time) fail(`${f}.open.to`, open.to, `a window boundary after the last reading for interval ${t.options.interval}`);
        } else open = t.opened(last.time);
      }
      const obis = normaliseObis(x.obis);
      t.series.set(`${x.meter}\u0000${obis}`, { meter: x.meter, obis, unit: x.unit, last, open });
    });
    return t;
  }

  private record(s: SeriesState, w: { from: number; to: number; value: number; quality: number }): ConsumptionRecord {
    return { meter: s.meter, obis: s.obis, from: w.from, to: w.to, value: roundNoise(w.value), unit: s.unit, quality: w.quality };
  }

  private nextBoundary(t: number): number {
    return windowBoundaries(t, t + 1, this.options.interval!, this.options.timeZone)[1];
  }

  private isBoundary(t: number): boolean {
    return windowStartOf(t, this.options.interval!, this.options.timeZone) === t;
  }

  private opened(t: number): OpenWindow {
    return { from: t, to: this.nextBoundary(t), value: 0, quality: 0 };
  }

  /** Adds a step to the windows; returns the closed windows and the new open one. Does not mutate. */
  private intoWindows(s: SeriesState, c: RegisterPoint, step: { value: number; quality: number }): { records: ConsumptionRecord[]; open: OpenWindow } {
    const p = s.last;
    const records: ConsumptionRecord[] = [];
    let open: OpenWindow = { ...(s.open ?? this.opened(p.time)) };
    // Adds a part to the open window; closes it when the step reaches its end.
    const add = (value: number, quality: number, end: number): void => {
      open.value = exactSum(open.value, value);
      open.quality |= quality;
      if (end === open.to) {
        records.push(this.record(s, open));
        open = this.opened(end);
      }
    };
    if (c.time <= open.to) {
      add(step.value, step.quality, c.time);
      return { records, open };
    }
    const gap = this.nextBoundary(open.to) < c.time || this.isBoundary(p.time) || this.isBoundary(c.time);
    if (gap && !this.options.interpolate) {
      open.to = this.isBoundary(c.time) ? c.time : this.nextBoundary(c.time);
      add(step.value, step.quality | Quality.GAP_FILLED, c.time);
      return { records, open };
    }
    const flags = step.quality | Quality.ESTIMATED | (gap ? Quality.GAP_FILLED : 0);
    const inner = windowBoundaries(open.to, c.time, this.options.interval!, this.options.timeZone).filter((b) => b < c.time);
    const cuts = [p.time, ...inner, c.time];
    const parts = splitLinear(step.value, cuts);
    parts.forEach((v, i) => add(v, flags, cuts[i + 1]));
    return { records, open };
  }
}
