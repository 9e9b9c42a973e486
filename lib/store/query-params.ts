/**
 * Turns loosely typed query parameters (an HTTP query string, a msg, a node's configuration) into a
 * checked RangeQuery. Every problem throws a QueryParamError whose message names the parameter and
 * the value, fit to show a user (the HTTP API answers 400 with it).
 */
import { normaliseObis } from '../model/obis';
import { AGGREGATES, type Aggregate, type RangeQuery } from './types';
import { DAY_MS, HOUR_MS, MAX_WINDOWS, MINUTE_MS, SECOND_MS, everyProblem, fromLocal, isValidTimeZone, windowBoundaries } from '../model/time';

/** A bad query parameter. `param` names it ("from", "window", ...); `value` is what was given. */
export class QueryParamError extends Error {
  readonly param: string;
  readonly value: unknown;
  constructor(param: string, message: string, value?: unknown) {
    super(message);
    this.name = 'QueryParamError';
    this.param = param;
    this.value = value;
  }
}

/** Defaults a caller (a node's configuration, the HTTP API) applies where a parameter is absent. */
export interface RangeQueryDefaults {
  meter?: string;
  obis?: string;
  /** Start when `from` is absent: a time as `from` accepts it, or a length back from `to` ("24h", "-7d"). Default "-24h". */
  range?: string;
  from?: unknown;
  to?: unknown;
  /** Window length as `window` accepts it ("15m", "1h:delta", ms); empty = raw readings. */
  window?: unknown;
  /** Aggregate when a window is set without one. Default "mean". */
  fn?: string;
  /** IANA zone for window alignment and ISO times without an offset. Default UTC. */
  timeZone?: string;
  limit?: number;
  /** The most windows one query may produce. Default 100000. */
  maxWindows?: number;
  /** The largest `limit` accepted. Default 1000000. */
  maxLimit?: number;
}

const UNITS: Record<string, number> = {
  ms: 1, s: SECOND_MS, sec: SECOND_MS, m: MINUTE_MS, min: MINUTE_MS, h: HOUR_MS, d: DAY_MS, w: 7 * DAY_MS,
};
const DURATION = /^(\d+(?:\.\d+)?)\s*(ms|s|sec|m|min|h|d|w)$/i;
const RELATIVE = /^(?:now)?\s*([+-])\s*(\d+(?:\.\d+)?)\s*(ms|s|sec|m|min|h|d|w)$/i;
const NUMERIC = /^[+-]?\d+(?:\.\d+)?$/;
const ISO = /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d{1,9}))?)?)?\s*(Z|[+-]\d{2}(?::?\d{2})?)?$/i;

function show(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value);
  if (value instanceof Date) return JSON.stringify(Number.isNaN(value.getTime()) ? 'Invalid Date' : value.toISOString());
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}

function present(v: unknown): boolean {
  return v !== undefined && v !== null && !(typeof v === 'string' && v.trim() === '');
}

/** Parses a duration: "15m", "1h", "1d", "2w", "500ms", "30s" or a number of ms. Returns NaN when it is not one. */
export function parseDuration(value: unknown): number {
  if (typeof value === 'number') return Number.isFinite(value) && value > 0 ? value : Number.NaN;
  if (typeof value !== 'string') return Number.NaN;
  const t = value.trim();
  if (NUMERIC.test(t)) return parseDuration(Number(t));
  const m = DURATION.exec(t);
  if (!m) return Number.NaN;
  const ms = Number(m[1]) * UNITS[m[2].toLowerCase()];
  return ms > 0 ? Math.round(ms) : Number.NaN;
}

/**
 * Parses a time: epoch ms (number or numeric string), a Date, ISO 8601 (without an offset it is local
 * time in `timeZone`; a bare date is local midnight), "now", or relative to now: "-15m", "-1h", "now-7d".
 * Returns NaN when the value is not a time.
 */
export function parseTime(value: unknown, now: number, timeZone?: string): number {
  if (typeof value === 'number') return Number.isFinite(value) ? value : Number.NaN;
  if (value instanceof Date) return value.getTime();
  if (typeof value !== 'string') return Number.NaN;
  const t = value.trim();
  if (t.toLowerCase() === 'now') return now;
  if (NUMERIC.test(t)) return Number(t);
  let m = RELATIVE.exec(t);
  if (m) {
    const ms = Number(m[2]) * UNITS[m[3].toLowerCase()];
    return Math.round(m[1] === '-' ? now - ms : now + ms);
  }
  m = ISO.exec(t);
  if (!m) return Number.NaN;
  const [, y, mo, d, h = '0', mi = '0', s = '0', frac = '0', zone] = m;
  const local = {
    year: +y, month: +mo, day: +d, hour: +h, minute: +mi, second: +s, millisecond: Math.floor(Number(`0.${frac}`) * 1000),
  };
  if (local.month < 1 || local.month > 12 || local.day < 1 || local.day > 31 || local.hour > 24 || local.minute > 59 || local.second > 60) return Number.NaN;
  const check = new Date(Date.UTC(local.year, local.month - 1, local.day));
  if (check.getUTCDate() !== local.day) return Number.NaN; // 2026-02-30
  if (zone) {
    const wall = Date.UTC(local.year, local.month - 1, local.day, local.hour, local.minute, local.second, local.millisecond);
    if (/^z$/i.test(zone)) return wall;
    const zm = /^([+-])(\d{2}):?(\d{2})?$/.exec(zone)!;
    const offset = (Number(zm[2]) * 60 + Number(zm[3] ?? 0)) * MINUTE_MS;
    return zm[1] === '+' ? wall - offset : wall + offset;
  }
  return fromLocal(local, timeZone);
}

function timeParam(param: string, value: unknown, now: number, timeZone: string | undefined): number {
  const t = parseTime(value, now, timeZone);
  if (Number.isNaN(t)) {
    throw new QueryParamError(param, `${param}: ${show(value)} is not a time (use epoch ms, ISO 8601 or -1h)`, value);
  }
  return t;
}

function durationText(ms: number): string {
  for (const [unit, size] of [['w', 7 * DAY_MS], ['d', DAY_MS], ['h', HOUR_MS], ['m', MINUTE_MS], ['s', SECOND_MS]] as const) {
    if (ms % size === 0) return `${ms / size}${unit}`;
  }
  return `${ms}ms`;
}

function parseFn(param: string, value: unknown): Aggregate {
  const fn = typeof value === 'string' ? value.trim().toLowerCase() : value;
  const alias = fn === 'avg' || fn === 'average' ? 'mean' : fn === 'diff' || fn === 'difference' ? 'delta' : fn;
  if (typeof alias === 'string' && (AGGREGATES as readonly string[]).includes(alias)) return alias as Aggregate;
  throw new QueryParamError(param, `${param}: ${show(value)} is not an aggregate (use one of ${AGGREGATES.join(', ')})`, value);
}

const NO_WINDOW = new Set(['', 'none', 'raw', '0', 'false']);

/**
 * Builds a checked RangeQuery from parameters: meter, obis, from, to, range, window (with an
 * optional ":fn" suffix), fn (or agg), tz (or timeZone), limit. `now` is the reference for relative times.
 */
export function parseRangeQuery(params: Record<string, unknown>, now: number, defaults: RangeQueryDefaults = {}): RangeQuery {
  const p = params ?? {};
  const pick = (...keys: string[]): unknown => {
    for (const k of keys) if (present(p[k])) return p[k];
    return undefined;
  };

  // meter
  const meterRaw = pick('meter') ?? defaults.meter;
  if (!present(meterRaw)) throw new QueryParamError('meter', 'meter: a meter id is required', meterRaw);
  if (typeof meterRaw !== 'string' && typeof meterRaw !== 'number') {
    throw new QueryParamError('meter', `meter: ${show(meterRaw)} is not a meter id (use a string)`, meterRaw);
  }
  const meter = String(meterRaw).trim();

  // obis
  const obisRaw = pick('obis') ?? (present(defaults.obis) ? defaults.obis : undefined);
  let obis: string | undefined;
  if (obisRaw !== undefined) {
    try {
      if (typeof obisRaw !== 'string') throw new Error('not a string');
      obis = normaliseObis(obisRaw);
    } catch {
      throw new QueryParamError('obis', `obis: ${show(obisRaw)} is not an OBIS code (use A-B:C.D.E such as 1-0:1.8.0)`, obisRaw);
    }
  }

  // time zone
  const tzRaw = pick('tz', 'timeZone') ?? (present(defaults.timeZone) ? defaults.timeZone : undefined);
  let timeZone: string | undefined;
  if (tzRaw !== undefined) {
    if (!isValidTimeZone(tzRaw)) throw new QueryParamError('tz', `tz: ${show(tzRaw)} is not an IANA time zone (use e.g. Europe/Berlin or UTC)`, tzRaw);
    timeZone = (tzRaw as string).trim();
  }

  // to, then from (which may be a length back from to)
  const toRaw = pick('to') ?? (present(defaults.to) ? defaults.to : undefined);
  const to = toRaw === undefined ? now : timeParam('to', toRaw, now, timeZone);
  let from: number;
  const fromRaw = pick('from') ?? (present(defaults.from) ? defaults.from : undefined);
  if (fromRaw !== undefined) {
    from = timeParam('from', fromRaw, now, timeZone);
  } else {
    const rangeParam = pick('range') !== undefined ? 'range' : undefined;
    const rangeRaw = pick('range') ?? defaults.range ?? '-24h';
    const name = rangeParam ?? 'range';
    const text = typeof rangeRaw === 'string' ? rangeRaw.trim().replace(/^-/, '') : rangeRaw;
    const length = parseDuration(text);
    if (Number.isNaN(length)) {
      throw new QueryParamError(name, `${name}: ${show(rangeRaw)} is not a length of time (use e.g. 15m, 24h or 7d)`, rangeRaw);
    }
    from = to - length;
  }
  if (!(to > from)) {
    const fromShown = fromRaw === undefined ? new Date(from).toISOString() : show(fromRaw);
    throw new QueryParamError('to', `to: ${show(toRaw ?? 'now')} must be after from (${fromShown})`, toRaw);
  }

  // window and aggregate
  const windowRaw = pick('window') ?? (present(defaults.window) ? defaults.window : undefined);
  const fnParam = pick('fn') !== undefined ? 'fn' : pick('agg') !== undefined ? 'agg' : undefined;
  const fnRaw = fnParam ? p[fnParam] : undefined;
  let window: RangeQuery['window'];
  if (windowRaw !== undefined && !(typeof windowRaw === 'string' && NO_WINDOW.has(windowRaw.trim().toLowerCase())) && windowRaw !== 0 && windowRaw !== false) {
    let lengthPart: unknown = windowRaw;
    let fn: Aggregate | undefined;
    if (typeof windowRaw === 'string' && windowRaw.includes(':')) {
      const [len, f] = windowRaw.split(':', 2);
      lengthPart = len;
      fn = parseFn('window', f);
    }
    if (fnRaw !== undefined) fn = parseFn(fnParam!, fnRaw);
    fn ??= parseFn('fn', defaults.fn ?? 'mean');
    const every = parseDuration(lengthPart);
    if (Number.isNaN(every)) {
      throw new QueryParamError('window', `window: ${show(windowRaw)} is not a window length (use e.g. 15m, 1h, 1d or 1h:delta)`, windowRaw);
    }
    const problem = everyProblem(every);
    if (problem) {
      throw new QueryParamError('window', `window: ${show(windowRaw)} must be ${every >= DAY_MS ? 'whole days when a day or longer (e.g. 1d, 7d)' : 'a whole number of ms'}`, windowRaw);
    }
    const maxWindows = defaults.maxWindows ?? MAX_WINDOWS;
    const span = `from ${new Date(from).toISOString()} to ${new Date(to).toISOString()}`;
    if (Math.ceil((to - from) / every) > maxWindows * 2) {
      throw new QueryParamError('window', `window: ${show(windowRaw)} gives about ${Math.ceil((to - from) / every)} windows ${span}, at most ${maxWindows} (use a longer window or a shorter range)`, windowRaw);
    }
    try {
      windowBoundaries(from, to, every, timeZone, maxWindows);
    } catch {
      throw new QueryParamError('window', `window: ${show(windowRaw)} gives more than ${maxWindows} windows ${span} (use a longer window or a shorter range)`, windowRaw);
    }
    window = { every, fn };
  } else if (fnRaw !== undefined) {
    parseFn(fnParam!, fnRaw);
    throw new QueryParamError(fnParam!, `${fnParam}: ${show(fnRaw)} needs a window (e.g. window=1h)`, fnRaw);
  }

  // limit
  const limitRaw = pick('limit') ?? defaults.limit;
  let limit: number | undefined;
  if (limitRaw !== undefined) {
    const n = typeof limitRaw === 'string' && NUMERIC.test(limitRaw.trim()) ? Number(limitRaw) : limitRaw;
    const max = defaults.maxLimit ?? 1_000_000;
    if (typeof n !== 'number' || !Number.isInteger(n) || n < 1 || n > max) {
      throw new QueryParamError('limit', `limit: ${show(limitRaw)} is not a row count (use a whole number from 1 to ${max})`, limitRaw);
    }
    limit = n;
  }

  const q: RangeQuery = { meter, from, to };
  if (obis !== undefined) q.obis = obis;
  if (window) q.window = window;
  if (timeZone !== undefined) q.timeZone = timeZone;
  if (limit !== undefined) q.limit = limit;
  return q;
}

/** A window length in the short form parseDuration accepts (3600000 -> "1h"). */
export function formatDuration(ms: number): string {
  return durationText(ms);
}
