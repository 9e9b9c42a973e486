/**
 * InfluxQL for the ReadingStore reads, and the parsers of the /query JSON answers. Pure: no I/O.
 *
 * Queries are sent to /query (InfluxDB 1.x; 2.x through DBRP mappings; 3.x) with the parameter
 * `epoch=ms` ({@link QUERY_EPOCH}), so every `time` in the answer is an integer of epoch ms (without
 * it InfluxDB answers RFC3339 strings; the parsers accept those too).
 *
 * Literals: strings in single quotes with `\` and `'` escaped by a backslash; identifiers always in
 * double quotes with `\` and `"` escaped; a newline is written as `\n` (the InfluxQL scanner's
 * escapes). Absolute times are epoch duration literals (`1700000000000ms`).
 *
 * Windows: InfluxQL's `GROUP BY time(every[, offset])` buckets are `[k*every + offset, ...)` counted
 * from the Unix epoch; `tz('Zone')` shifts day buckets to local midnight (23/25-hour days at DST).
 * lib/store/windows.ts defines the store's windows; {@link planWindows} picks the server form only
 * when it gives exactly those windows, and otherwise asks the caller to aggregate raw readings
 * itself ({@link aggregateReadings}, same arithmetic as the sqlite store).
 */
import type { Reading } from '../../model/reading';
import type { Aggregate, EmsEvent, EventLevel, EventQuery, LatestQuery, RangeQuery, ReadingKey, WindowRow } from '../types';
import { AGGREGATES } from '../types';
import { DAY_MS, HOUR_MS, MAX_WINDOWS, MINUTE_MS, SECOND_MS, everyProblem, isValidTimeZone, windowBoundaries } from '../../model/time';
import { canonicalObis } from './line-protocol';
import { DEFAULT_SCHEMA, type InfluxSchema } from './schema';
import { EDGE_LOOKBACK_MS, edgeDeltas, type EdgePoint, type EdgeSeries } from '../edge-delta';

export const DEFAULT_RAW_LIMIT = 100_000;
export const DEFAULT_EVENT_LIMIT = 10_000;
const LEVELS: readonly EventLevel[] = ['info', 'warning', 'error'];

// ---------------------------------------------------------------------------------------- literals

function escapeQuoted(text: string, quote: string): string {
  let out = '';
  for (const c of text) {
    if (c === '\\' || c === quote) out += `\\${c}`;
    else if (c === '\n') out += '\\n';
    else out += c;
  }
  return out;
}

/** An InfluxQL string literal: 'it\'s'. */
export function quoteLiteral(text: string): string {
  return `'${escapeQuoted(text, "'")}'`;
}

/** An InfluxQL identifier, always quoted: "my \"field\"". */
export function quoteIdent(name: string): string {
  return `"${escapeQuoted(name, '"')}"`;
}

/** An epoch-ms time literal; fractional ms round up (the same bound for integer timestamps). */
export function timeLiteral(ms: number): string {
  if (!Number.isFinite(ms)) throw new RangeError(`time must be epoch ms, got ${ms}`);
  return `${Math.ceil(ms)}ms`;
}

const UNITS: [number, string][] = [[DAY_MS, 'd'], [HOUR_MS, 'h'], [MINUTE_MS, 'm'], [SECOND_MS, 's'], [1, 'ms']];

/** An InfluxQL duration literal for a whole number of ms, in the largest unit that divides it: 900000 -> "15m". */
export function durationLiteral(ms: number): string {
  if (!Number.isSafeInteger(ms) || ms < 0) throw new RangeError(`duration must be a non-negative whole number of ms, got ${ms}`);
  if (ms === 0) return '0s';
  for (const [size, unit] of UNITS) if (ms % size === 0) return `${ms / size}${unit}`;
  return `${ms}ms`;
}

// ---------------------------------------------------------------------------------------- windows

export type WindowPlan =
  /** InfluxDB computes the windows: `GROUP BY time(every, offset)` plus `tz(timeZone)` when set. */
  | { mode: 'server'; every: number; offset: number; timeZone?: string; bounds: number[] }
  /** InfluxDB cannot express these windows: fetch raw readings and aggregate over `bounds`. */
  | { mode: 'client'; reason: string; bounds: number[] };

function isUtc(timeZone: string | undefined): boolean {
  return timeZone === undefined || timeZone === '' || timeZone === 'UTC' || timeZone === 'Etc/UTC';
}

/**
 * How to compute the windows of [from, to). Throws a RangeError like windowBoundaries (bad length,
 * more than MAX_WINDOWS windows) or for an unknown zone.
 * - When every window boundary of lib/store/windows.ts is congruent to the same `offset` modulo
 *   `every` (UTC; or a zone whose offset changes only by multiples of `every` in the range, e.g.
 *   15-minute or hourly windows in Europe/Berlin; or day windows in a range without a DST change),
 *   `GROUP BY time(every, offset)` yields exactly those windows, with no tz() needed.
 * - Otherwise windows of whole days use `tz(zone)`: InfluxDB then starts each window at local
 *   midnight and makes DST days 23 or 25 hours long; multi-day windows are aligned on local day
 *   numbers since 1970-01-01, as in windows.ts.
 * - Otherwise (sub-day windows across a DST change that is not a multiple of them, e.g. 2 h in
 *   Berlin; lengths that do not divide a day, which windows.ts cuts at midnight) the caller must
 *   aggregate itself (also day windows across a DST change when `timeZoneClause` is false).
 */
export interface WindowOptions {
  /**
   * The server supports the `tz()` clause (InfluxDB 1.x, 2.x: yes; InfluxDB Cloud Serverless: not
   * yet, per its "InfluxQL feature support" page). When false, day windows across a DST change are
   * aggregated client-side. Default true.
   */
  timeZoneClause?: boolean;
  /** The most windows one query may produce (default MAX_WINDOWS, as the sqlite store). */
  maxWindows?: number;
}

export function planWindows(from: number, to: number, every: number, timeZone?: string, options: WindowOptions = {}): WindowPlan {
  const maxWindows = options.maxWindows ?? MAX_WINDOWS;
  const problem = everyProblem(every);
  if (problem) throw new RangeError(problem);
  if (!isUtc(timeZone) && !isValidTimeZone(timeZone)) throw new RangeError(`unknown time zone ${JSON.stringify(timeZone)}`);
  const bounds = windowBoundaries(from, to, every, timeZone, maxWindows);
  const residue = (t: number): number => ((t % every) + every) % every;
  const offset = residue(bounds[0]);
  if (bounds.every((b) => residue(b) === offset)) return { mode: 'server', every, offset, bounds };
  if (every >= DAY_MS && !isUtc(timeZone) && options.timeZoneClause !== false) return { mode: 'server', every, offset: 0, timeZone, bounds };
  return { mode: 'client', reason: `windows of ${durationLiteral(every)} in ${timeZone ?? 'UTC'} do not fall on one InfluxDB time grid over this range`, bounds };
}

// ---------------------------------------------------------------------------------------- queries

/** What a range query turned into: the InfluxQL text and how to read its answer. */
export type ReadingQueryPlan =
  | { mode: 'raw'; query: string; meter: string }
  | { mode: 'window'; query: string; meter: string; fn: Aggregate; window: WindowPlan & { mode: 'server' } }
  /** Raw readings (no limit) that the caller aggregates with aggregateReadings(readings, window.bounds, fn). */
  | { mode: 'client-window'; query: string; meter: string; fn: Aggregate; window: WindowPlan & { mode: 'client' } }
  /** fn=delta: raw readings of the range and each series' neighbours outside it, for edgeReadings() and edgeDeltas(). */
  | { mode: 'edge-window'; query: string; meter: string; from: number; to: number; bounds: number[] };

function aggregateExpression(fn: Aggregate): string {
  const v = quoteIdent('value');
  switch (fn) {
    case 'delta': return 'delta (edges, client side)';
    case 'first': case 'last': case 'min': case 'max': case 'mean': case 'sum': return `${fn}(${v})`;
    default: throw new Error(`query.window.fn must be one of ${AGGREGATES.join(', ')}, got ${JSON.stringify(fn)}`);
  }
}

function rawSelect(q: RangeQuery, obis: string | undefined, schema: InfluxSchema, limit: number | null): string {
  const where = [`${quoteIdent('meter')} = ${quoteLiteral(q.meter)}`];
  if (obis !== undefined) where.push(`${quoteIdent('obis')} = ${quoteLiteral(obis)}`);
  where.push(`time >= ${timeLiteral(q.from)}`, `time < ${timeLiteral(q.to)}`);
  const cols = ['value', 'quality', 'meter', 'obis', 'unit'].map(quoteIdent).join(', ');
  return `SELECT ${cols} FROM ${quoteIdent(schema.readings)} WHERE ${where.join(' AND ')}${limit === null ? '' : ` LIMIT ${limit}`}`;
}

/**
 * The InfluxQL of a range query, or null when the range is empty (to <= from: the answer is []).
 * Validates like the sqlite store (meter, times, limit, window) and canonicalises the OBIS code.
 */
export function planReadingQuery(q: RangeQuery, schema: InfluxSchema = DEFAULT_SCHEMA, options: WindowOptions = {}): ReadingQueryPlan | null {
  if (!q || typeof q.meter !== 'string' || q.meter === '') throw new Error('query.meter must be a meter id');
  if (!Number.isFinite(q.from) || !Number.isFinite(q.to)) throw new Error('query.from and query.to must be epoch ms');
  if (q.obis !== undefined && (typeof q.obis !== 'string' || q.obis === '')) throw new Error('query.obis must be an OBIS code');
  const obis = q.obis === undefined ? undefined : canonicalObis(q.obis);
  if (q.to <= q.from) return null;
  if (!q.window) {
    const limit = q.limit ?? DEFAULT_RAW_LIMIT;
    if (!Number.isInteger(limit) || limit < 1) throw new Error(`query.limit must be a positive integer, got ${limit}`);
    return { mode: 'raw', query: rawSelect(q, obis, schema, limit), meter: q.meter };
  }
  const { every, fn } = q.window;
  const expr = aggregateExpression(fn);
  const window = planWindows(q.from, q.to, every, q.timeZone, options);
  if (fn === 'delta') return { mode: 'edge-window', query: edgeQuery(q, obis, schema), meter: q.meter, from: q.from, to: q.to, bounds: window.bounds };
  if (window.mode === 'client') return { mode: 'client-window', query: rawSelect(q, obis, schema, null), meter: q.meter, fn, window };
  const where = [`${quoteIdent('meter')} = ${quoteLiteral(q.meter)}`];
  if (obis !== undefined) where.push(`${quoteIdent('obis')} = ${quoteLiteral(obis)}`);
  where.push(`time >= ${timeLiteral(q.from)}`, `time < ${timeLiteral(q.to)}`);
  const time = window.offset === 0 ? `time(${durationLiteral(every)})` : `time(${durationLiteral(every)}, ${durationLiteral(window.offset)})`;
  let query = `SELECT ${expr} AS ${quoteIdent('value')}, count(${quoteIdent('value')}) AS ${quoteIdent('count')} FROM ${quoteIdent(schema.readings)}`
    + ` WHERE ${where.join(' AND ')} GROUP BY ${time}, ${quoteIdent('obis')}, ${quoteIdent('unit')} fill(none)`;
  if (window.timeZone !== undefined) query += ` tz(${quoteLiteral(window.timeZone)})`;
  return { mode: 'window', query, meter: q.meter, fn, window };
}

/**
 * fn=delta: the range's raw readings, then per series the last reading before `from` and the first at or after
 * `to` (each within EDGE_LOOKBACK_MS), as three statements of one request.
 */
function edgeQuery(q: RangeQuery, obis: string | undefined, schema: InfluxSchema): string {
  const where = [`${quoteIdent('meter')} = ${quoteLiteral(q.meter)}`];
  if (obis !== undefined) where.push(`${quoteIdent('obis')} = ${quoteLiteral(obis)}`);
  const neighbour = (fn: 'last' | 'first', from: number, to: number) =>
    `SELECT ${fn}(${quoteIdent('value')}) AS ${quoteIdent('value')}, ${quoteIdent('quality')} FROM ${quoteIdent(schema.readings)}`
    + ` WHERE ${[...where, `time >= ${timeLiteral(from)}`, `time < ${timeLiteral(to)}`].join(' AND ')}`
    + ` GROUP BY ${quoteIdent('meter')}, ${quoteIdent('obis')}, ${quoteIdent('unit')}`;
  return [rawSelect(q, obis, schema, null), neighbour('last', q.from - EDGE_LOOKBACK_MS, q.from), neighbour('first', q.to, q.to + EDGE_LOOKBACK_MS)].join('; ');
}

/** Readings (sorted by time) as one series per obis: inside [from, to), and the nearest neighbours outside within EDGE_LOOKBACK_MS. */
export function edgeSeries(readings: readonly Reading[], from: number, to: number, meter: string): EdgeSeries[] {
  const byObis = new Map<string, EdgeSeries & { points: EdgePoint[] }>();
  for (const r of readings) {
    let s = byObis.get(r.obis);
    if (!s) byObis.set(r.obis, (s = { meter, obis: r.obis, points: [] }));
    if (r.time < from) {
      if (r.time >= from - EDGE_LOOKBACK_MS && (!s.before || r.time > s.before.time)) s.before = r;
    } else if (r.time >= to) {
      if (r.time < to + EDGE_LOOKBACK_MS && (!s.after || r.time < s.after.time)) s.after = r;
    } else s.points.push([r.time, r.value, r.unit]);
  }
  return [...byObis.values()];
}

/** The newest reading per meter and obis: last() with the quality of the same point. */
export function latestQuery(q: LatestQuery = {}, schema: InfluxSchema = DEFAULT_SCHEMA): string {
  const where: string[] = [];
  if (q.meter !== undefined) where.push(`${quoteIdent('meter')} = ${quoteLiteral(q.meter)}`);
  if (q.obis !== undefined) where.push(`${quoteIdent('obis')} = ${quoteLiteral(canonicalObis(q.obis))}`);
  return `SELECT last(${quoteIdent('value')}) AS ${quoteIdent('value')}, ${quoteIdent('quality')} FROM ${quoteIdent(schema.readings)}`
    + `${where.length ? ` WHERE ${where.join(' AND ')}` : ''} GROUP BY ${quoteIdent('meter')}, ${quoteIdent('obis')}, ${quoteIdent('unit')}`;
}

/** Statements per DELETE request (one request carries them separated by ";"). */
export const DELETE_BATCH = 200;

/**
 * InfluxQL DELETE of exactly these readings (InfluxDB 1.x; POST /query), DELETE_BATCH statements per
 * request: `DELETE FROM "ems_reading" WHERE "meter" = 'm' AND "obis" = '1-0:1.8.0' AND time = 1700000000000ms`.
 */
export function deleteQueries(keys: readonly ReadingKey[], schema: InfluxSchema = DEFAULT_SCHEMA): string[] {
  const out: string[] = [];
  for (let i = 0; i < keys.length; i += DELETE_BATCH) {
    out.push(keys.slice(i, i + DELETE_BATCH).map((k, j) => {
      if (!k || typeof k.meter !== 'string' || typeof k.obis !== 'string' || !Number.isInteger(k.time)) throw new Error(`keys[${i + j}] ${JSON.stringify(k)} must be { meter, obis, time }`);
      return `DELETE FROM ${quoteIdent(schema.readings)} WHERE ${quoteIdent('meter')} = ${quoteLiteral(k.meter)}`
        + ` AND ${quoteIdent('obis')} = ${quoteLiteral(canonicalObis(k.obis))} AND time = ${timeLiteral(k.time)}`;
    }).join('; '));
  }
  return out;
}

/**
 * The body of one InfluxDB 2.x POST /api/v2/delete for a reading: start and stop are both the
 * reading's instant (the range is inclusive); the predicate names the measurement and the tags.
 */
export function deletePredicate(key: ReadingKey, schema: InfluxSchema = DEFAULT_SCHEMA): { start: string; stop: string; predicate: string } {
  for (const [name, v] of [['meter', key.meter], ['obis', key.obis]] as const) {
    if (typeof v !== 'string' || /["\\\n]/.test(v)) throw new Error(`${name} ${JSON.stringify(v)} cannot be named in a delete predicate (quote, backslash or newline)`);
  }
  if (!Number.isInteger(key.time)) throw new Error(`time ${JSON.stringify(key.time)} must be epoch ms`);
  const at = new Date(key.time).toISOString();
  return { start: at, stop: at, predicate: `_measurement="${schema.readings}" AND meter="${key.meter}" AND obis="${canonicalObis(key.obis)}"` };
}

/** Events in [from, to), oldest first; null when the range is empty. */
export function eventsQuery(q: EventQuery, schema: InfluxSchema = DEFAULT_SCHEMA): string | null {
  if (!q || !Number.isFinite(q.from) || !Number.isFinite(q.to)) throw new Error('query.from and query.to must be epoch ms');
  if (q.level !== undefined && !LEVELS.includes(q.level)) throw new Error(`query.level must be one of ${LEVELS.join(', ')}, got ${JSON.stringify(q.level)}`);
  const limit = q.limit ?? DEFAULT_EVENT_LIMIT;
  if (!Number.isInteger(limit) || limit < 1) throw new Error(`query.limit must be a positive integer, got ${limit}`);
  if (q.to <= q.from) return null;
  const where = [`time >= ${timeLiteral(q.from)}`, `time < ${timeLiteral(q.to)}`];
  if (q.meter !== undefined) where.push(`${quoteIdent('meter')} = ${quoteLiteral(q.meter)}`);
  if (q.level !== undefined) where.push(`${quoteIdent('level')} = ${quoteLiteral(q.level)}`);
  const cols = ['message', 'source', 'level', 'kind', 'meter'].map(quoteIdent).join(', ');
  return `SELECT ${cols} FROM ${quoteIdent(schema.events)} WHERE ${where.join(' AND ')} LIMIT ${limit}`;
}

// ---------------------------------------------------------------------------------------- answers

/** One series of a /query answer. */
export interface InfluxSeries {
  name: string;
  tags: Record<string, string>;
  columns: string[];
  values: unknown[][];
}

/** The error of a /query answer, with the server's message. */
export class InfluxQueryError extends Error {
  constructor(message: string, readonly statementId?: number) {
    super(message);
    this.name = 'InfluxQueryError';
  }
}

/**
 * The series of a /query answer (`{results: [{statement_id, series: [{name, tags, columns, values}]}]}`),
 * all statements flattened. An `error` at the top level or in a result throws an InfluxQueryError
 * carrying the server's message. Accepts the parsed object or the JSON text.
 */
export function parseQueryAnswer(answer: unknown): InfluxSeries[] {
  let a = answer;
  if (typeof a === 'string') {
    try {
      a = JSON.parse(a);
    } catch (err) {
      throw new InfluxQueryError(`the /query answer is not JSON: ${(err as Error).message}`);
    }
  }
  if (a === null || typeof a !== 'object') throw new InfluxQueryError(`the /query answer is not an object: ${JSON.stringify(a)}`);
  const top = a as { error?: unknown; results?: unknown };
  if (typeof top.error === 'string') throw new InfluxQueryError(top.error);
  if (!Array.isArray(top.results)) throw new InfluxQueryError('the /query answer has no results');
  const out: InfluxSeries[] = [];
  for (const r of top.results as Record<string, unknown>[]) {
    if (r === null || typeof r !== 'object') throw new InfluxQueryError('the /query answer has a malformed result');
    if (typeof r.error === 'string') throw new InfluxQueryError(r.error, typeof r.statement_id === 'number' ? r.statement_id : undefined);
    if (r.series === undefined) continue;
    if (!Array.isArray(r.series)) throw new InfluxQueryError('the /query answer has a malformed series list');
    for (const s of r.series as Record<string, unknown>[]) {
      if (!s || !Array.isArray(s.columns)) throw new InfluxQueryError('the /query answer has a series without columns');
      out.push({
        name: typeof s.name === 'string' ? s.name : '',
        tags: (s.tags && typeof s.tags === 'object' ? s.tags : {}) as Record<string, string>,
        columns: s.columns as string[],
        values: Array.isArray(s.values) ? (s.values as unknown[][]) : [],
      });
    }
  }
  return out;
}

function timeOf(x: unknown): number {
  if (typeof x === 'number' && Number.isFinite(x)) return x;
  if (typeof x === 'string') {
    const t = Date.parse(x);
    if (Number.isFinite(t)) return t;
  }
  throw new InfluxQueryError(`the /query answer has a bad time ${JSON.stringify(x)}`);
}

/** Column accessor: a row's value by column name, falling back to the series tags. */
function accessor(s: InfluxSeries): (row: unknown[], name: string) => unknown {
  const index = new Map(s.columns.map((c, i) => [c, i]));
  return (row, name) => {
    const i = index.get(name);
    const v = i === undefined ? undefined : row[i];
    return v === undefined || v === null ? s.tags[name] ?? null : v;
  };
}

function readingOf(get: (name: string) => unknown, meterFallback?: string): Reading | null {
  const value = get('value');
  if (typeof value !== 'number') return null;
  const meter = get('meter') ?? meterFallback;
  const obis = get('obis');
  if (typeof meter !== 'string' || typeof obis !== 'string') throw new InfluxQueryError('the /query answer has a reading without meter or obis');
  const unit = get('unit');
  const r: Reading = { meter, time: timeOf(get('time')), obis, value, unit: typeof unit === 'string' ? unit : '' };
  const quality = get('quality');
  if (typeof quality === 'number' && quality !== 0) r.quality = quality;
  return r;
}

const byTimeObis = (a: { time: number; obis: string }, b: { time: number; obis: string }): number =>
  a.time - b.time || (a.obis < b.obis ? -1 : a.obis > b.obis ? 1 : 0);

/** Raw readings of a range query (or a client-window plan), ordered by time then obis. */
export function parseReadings(answer: unknown, meter?: string): Reading[] {
  const out: Reading[] = [];
  for (const s of parseQueryAnswer(answer)) {
    const get = accessor(s);
    for (const row of s.values) {
      const r = readingOf((name) => get(row, name), meter);
      if (r) out.push(r);
    }
  }
  return out.sort(byTimeObis);
}

/** Window rows of a server-window plan; empty windows (null value or no readings) are dropped. */
export function parseWindowRows(answer: unknown, meter: string): WindowRow[] {
  const out: WindowRow[] = [];
  for (const s of parseQueryAnswer(answer)) {
    const get = accessor(s);
    for (const row of s.values) {
      const value = get(row, 'value');
      const count = get(row, 'count');
      if (typeof value !== 'number' || typeof count !== 'number' || count === 0) continue;
      const obis = get(row, 'obis');
      if (typeof obis !== 'string') throw new InfluxQueryError('the /query answer has a window without obis');
      const unit = get(row, 'unit');
      out.push({ meter, obis, time: timeOf(get(row, 'time')), value, unit: typeof unit === 'string' ? unit : '', count });
    }
  }
  return out.sort(byTimeObis);
}

/** The answer of latestQuery: one reading per meter and obis (the newest, should a series have two units), ordered by meter, obis. */
export function parseLatest(answer: unknown): Reading[] {
  const newest = new Map<string, Reading>();
  for (const s of parseQueryAnswer(answer)) {
    const get = accessor(s);
    for (const row of s.values) {
      const r = readingOf((name) => get(row, name));
      if (!r) continue;
      const key = `${r.meter}\u0000${r.obis}`;
      const old = newest.get(key);
      if (!old || r.time > old.time) newest.set(key, r);
    }
  }
  return [...newest.values()].sort((a, b) => (a.meter < b.meter ? -1 : a.meter > b.meter ? 1 : a.obis < b.obis ? -1 : a.obis > b.obis ? 1 : 0));
}

/** The answer of eventsQuery, oldest first. */
export function parseEvents(answer: unknown): EmsEvent[] {
  const out: EmsEvent[] = [];
  for (const s of parseQueryAnswer(answer)) {
    const get = accessor(s);
    for (const row of s.values) {
      const level = get(row, 'level');
      const kind = get(row, 'kind');
      if (!LEVELS.includes(level as EventLevel) || typeof kind !== 'string') throw new InfluxQueryError(`the /query answer has an event without level or kind: ${JSON.stringify(row)}`);
      const message = get(row, 'message');
      const e: EmsEvent = { time: timeOf(get(row, 'time')), level: level as EventLevel, kind, message: typeof message === 'string' ? message : '' };
      const meter = get(row, 'meter');
      if (typeof meter === 'string' && meter !== '') e.meter = meter;
      const source = get(row, 'source');
      if (typeof source === 'string') e.source = source;
      out.push(e);
    }
  }
  return out.sort((a, b) => a.time - b.time);
}

// ---------------------------------------------------------------------------------------- client windows

/**
 * Aggregates raw readings (any order) into the windows `bounds` (from planWindows / windowBoundaries):
 * one row per obis and non-empty window, like the sqlite store; ordered by time then obis.
 */
export function aggregateReadings(readings: readonly Reading[], bounds: readonly number[], fn: Aggregate, meter?: string): WindowRow[] {
  aggregateExpression(fn); // validates fn
  if (fn === 'delta') return edgeRows(readings, bounds, bounds[0], bounds[bounds.length - 1], meter);
  const byObis = new Map<string, Reading[]>();
  for (const r of readings) {
    let list = byObis.get(r.obis);
    if (!list) byObis.set(r.obis, (list = []));
    list.push(r);
  }
  const out: WindowRow[] = [];
  const last = bounds.length - 1;
  for (const [obis, list] of byObis) {
    list.sort((a, b) => a.time - b.time);
    let w = 0;
    let acc: { first: number; last: number; min: number; max: number; sum: number; count: number; unit: string } | null = null;
    const flush = (): void => {
      if (!acc) return;
      const value = fn === 'first' ? acc.first : fn === 'last' ? acc.last : fn === 'min' ? acc.min : fn === 'max' ? acc.max
        : fn === 'sum' ? acc.sum : fn === 'mean' ? acc.sum / acc.count : acc.last - acc.first;
      out.push({ meter: meter ?? list[0].meter, obis, time: bounds[w], value, unit: acc.unit, count: acc.count });
      acc = null;
    };
    for (const r of list) {
      if (r.time < bounds[0] || r.time >= bounds[last]) continue;
      if (r.time >= bounds[w + 1]) {
        flush();
        while (r.time >= bounds[w + 1]) w++;
      }
      if (!acc) acc = { first: r.value, last: r.value, min: r.value, max: r.value, sum: r.value, count: 1, unit: r.unit };
      else {
        acc.last = r.value;
        if (r.value < acc.min) acc.min = r.value;
        if (r.value > acc.max) acc.max = r.value;
        acc.sum += r.value;
        acc.count++;
        acc.unit = r.unit;
      }
    }
    flush();
  }
  return out.sort(byTimeObis);
}

/** fn=delta rows from readings (any order) of one meter, neighbours outside [from, to) included (edge-window plans). */
export function edgeRows(readings: readonly Reading[], bounds: readonly number[], from: number, to: number, meter?: string): WindowRow[] {
  if (readings.length === 0) return [];
  const sorted = readings.slice().sort((a, b) => a.time - b.time);
  return edgeSeries(sorted, from, to, meter ?? sorted[0].meter).flatMap((s) => edgeDeltas(s, bounds, from, to)).sort(byTimeObis);
}

/** The rows a range query's plan answers, from the /query answer. */
export function rowsOfPlan(plan: ReadingQueryPlan, answer: unknown): Reading[] | WindowRow[] {
  switch (plan.mode) {
    case 'raw': return parseReadings(answer, plan.meter);
    case 'window': return parseWindowRows(answer, plan.meter);
    case 'client-window': return aggregateReadings(parseReadings(answer, plan.meter), plan.window.bounds, plan.fn, plan.meter);
    case 'edge-window': return edgeRows(parseReadings(answer, plan.meter), plan.bounds, plan.from, plan.to, plan.meter);
  }
}
