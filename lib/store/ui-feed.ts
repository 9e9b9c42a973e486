/**
 * Readings and store query results shaped for the classic node-red-dashboard (ui_chart, ui_gauge, ui_text).
 *
 * - Live: a meter node's readings become one message per reading, `{topic: series label, payload: number,
 *   timestamp: epoch ms}`: a point for ui_chart (series = topic, x = timestamp), the value for ui_gauge and ui_text.
 * - Chart: an ems-store-query range result (raw readings or window rows) becomes ui_chart's whole-chart format,
 *   `[{series: [label, ...], data: [[{x, y}, ...], ...], labels: ['']}]`, one series per meter and OBIS code.
 *
 * The series label is the same in both ("main-incomer active power (kW)"), so history and live points of a
 * quantity can go to one chart. Work is bounded: at most MAX_POINTS_PER_SERIES points per series and MAX_SERIES
 * series per chart, at most MAX_INPUT_ROWS rows in. Pure: no Node-RED.
 */
import { normaliseObis, parseObis, formatObis } from '../model/obis';
import { quantityName, quantityNames } from '../model/quantities';
import { readingProblem, type Reading } from '../model/reading';
import { formatDuration } from './query-params';
import { AGGREGATES } from './types';

/** Most points of one series: a chart thins a longer series evenly, live keeps the newest. */
export const MAX_POINTS_PER_SERIES = 5000;
/** Most series of one chart. */
export const MAX_SERIES = 50;
/** Most rows of one input message (the store's largest query limit). */
export const MAX_INPUT_ROWS = 1_000_000;

export type FeedMode = 'auto' | 'live' | 'chart';
export const FEED_MODES: readonly FeedMode[] = ['auto', 'live', 'chart'];

/** A bad input message: the node reports it with the message. */
export class FeedInputError extends Error {}

/** Which quantities pass: OBIS codes (canonical) and names (lower case). Both empty = every quantity. */
export interface QuantitySelection {
  codes: ReadonlySet<string>;
  names: ReadonlySet<string>;
}

/**
 * Parses the quantities to feed: OBIS codes (full or shorthand, `1-0:16.7.0`, `1.8.0`) or quantity names
 * (`active power`, `energy import T1`), separated by commas, semicolons or new lines. Empty = every quantity.
 * Throws an Error naming the first entry that is neither.
 */
export function parseQuantities(spec: string | readonly string[] | undefined): QuantitySelection {
  const entries = (Array.isArray(spec) ? spec : String(spec ?? '').split(/[,;\n]+/)).map((s) => String(s).trim()).filter(Boolean);
  const codes = new Set<string>();
  const names = new Set<string>();
  const known = new Set(quantityNames().map((n) => n.toLowerCase()));
  for (const e of entries) {
    let code: string | undefined;
    try { code = normaliseObis(e); } catch { /* not a code: a name? */ }
    if (code !== undefined) { codes.add(code); continue; }
    const name = e.toLowerCase().replace(/\s+/g, ' ');
    if (known.has(name.replace(/ t\d{1,3}$/, ''))) { names.add(name); continue; }
    throw new Error(`quantities: ${JSON.stringify(e)} is neither an OBIS code (such as 1-0:16.7.0) nor a quantity name (such as active power, energy import, voltage L1)`);
  }
  return { codes, names };
}

/** True when the selection takes a reading of this OBIS code. A name matches the code on any channel B. */
export function selects(sel: QuantitySelection, obis: string): boolean {
  if (sel.codes.size === 0 && sel.names.size === 0) return true;
  if (sel.codes.has(obis)) return true;
  let c;
  try { c = parseObis(obis); } catch { return false; }
  if (sel.codes.has(formatObis(c))) return true;
  if (sel.names.size === 0) return false;
  const name = quantityName(formatObis({ ...c, channel: 0 }));
  return name !== undefined && sel.names.has(name.toLowerCase());
}

/** The window of a store query: its length (ms) and aggregate. */
export interface FeedWindow { every: number; fn: string }

/**
 * The series label a person reads: meter, quantity name (or the OBIS code when unnamed) and unit, plus the window
 * of aggregated rows, e.g. "main-incomer active power (kW)", "hvac energy import (kWh, 15m delta)".
 */
export function seriesLabel(meter: string, obis: string, unit: string, window?: FeedWindow): string {
  const extra = [unit, window ? `${formatDuration(window.every)} ${window.fn}` : ''].filter(Boolean).join(', ');
  return `${meter} ${quantityName(obis) ?? obis}${extra ? ` (${extra})` : ''}`;
}

/** One live value: what ui_chart (a point), ui_gauge and ui_text read. */
export interface LiveMessage {
  topic: string;
  payload: number;
  timestamp: number;
  reading: Reading;
}

export interface LiveResult {
  messages: LiveMessage[];
  /** Readings of quantities not selected. */
  skipped: number;
  /** Older readings left out because a series had more than the cap. */
  dropped: number;
}

/** One message per selected reading, oldest first; a series over `max` readings keeps its newest `max`. */
export function liveMessages(readings: readonly Reading[], sel: QuantitySelection, max = MAX_POINTS_PER_SERIES): LiveResult {
  const bySeries = new Map<string, LiveMessage[]>();
  let skipped = 0;
  for (const r of readings) {
    if (!selects(sel, r.obis)) { skipped++; continue; }
    const topic = seriesLabel(r.meter, r.obis, r.unit);
    let list = bySeries.get(topic);
    if (!list) bySeries.set(topic, (list = []));
    list.push({ topic, payload: r.value, timestamp: r.time, reading: r });
  }
  let dropped = 0;
  const messages: LiveMessage[] = [];
  for (const list of bySeries.values()) {
    sortByTime(list, (m) => m.timestamp);
    if (list.length > max) { dropped += list.length - max; list.splice(0, list.length - max); }
    messages.push(...list);
  }
  sortByTime(messages, (m) => m.timestamp);
  return { messages, skipped, dropped };
}

/** ui_chart's whole-chart format (one element of msg.payload). */
export interface ChartData {
  series: string[];
  data: { x: number; y: number }[][];
  labels: string[];
}

export interface ChartResult {
  chart: ChartData;
  /** Points in the chart, all series. */
  points: number;
  /** Labels of the series thinned to the cap, with their length before. */
  thinned: { series: string; from: number }[];
  skipped: number;
}

/**
 * The whole chart of rows (readings or window rows): one series per meter and code in the order they first
 * appear, points ordered by time; a series over `max` points is thinned to `max` evenly spaced ones, the first
 * and the last kept. Throws a FeedInputError for more than MAX_SERIES series.
 */
export function chartOf(rows: readonly Reading[], sel: QuantitySelection, window?: FeedWindow, max = MAX_POINTS_PER_SERIES): ChartResult {
  const bySeries = new Map<string, { x: number; y: number }[]>();
  let skipped = 0;
  for (const r of rows) {
    if (!selects(sel, r.obis)) { skipped++; continue; }
    const label = seriesLabel(r.meter, r.obis, r.unit, window);
    let list = bySeries.get(label);
    if (!list) {
      if (bySeries.size >= MAX_SERIES) throw new FeedInputError(`the query result has more than ${MAX_SERIES} series (meter and code pairs): pick fewer quantities or query one meter`);
      bySeries.set(label, (list = []));
    }
    list.push({ x: r.time, y: r.value });
  }
  const chart: ChartData = { series: [], data: [], labels: [''] };
  const thinned: ChartResult['thinned'] = [];
  let points = 0;
  for (const [label, list] of bySeries) {
    sortByTime(list, (p) => p.x);
    const kept = list.length > max ? thin(list, max) : list;
    if (kept !== list) thinned.push({ series: label, from: list.length });
    chart.series.push(label);
    chart.data.push(kept);
    points += kept.length;
  }
  return { chart, points, thinned, skipped };
}

/** `max` (>= 2) items evenly spaced over the list, its first and last included. */
export function thin<T>(list: readonly T[], max: number): T[] {
  if (list.length <= max) return [...list];
  if (max < 2) return list.slice(-Math.max(max, 0));
  const out: T[] = [];
  for (let i = 0; i < max; i++) out.push(list[Math.round((i * (list.length - 1)) / (max - 1))]);
  return out;
}

function sortByTime<T>(list: T[], time: (t: T) => number): void {
  for (let i = 1; i < list.length; i++) {
    if (time(list[i]) < time(list[i - 1])) { list.sort((a, b) => time(a) - time(b)); return; }
  }
}

/** What an input message is. */
export type FeedInput =
  | { kind: 'live'; readings: Reading[] }
  | { kind: 'chart'; rows: Reading[]; window?: FeedWindow };

/**
 * Tells a meter node's readings from an ems-store-query result by msg.query (set by ems-store-query): a range
 * result is charted whole, a latest result and readings without msg.query are live values. `mode` 'live' or
 * 'chart' forces one. Throws a FeedInputError naming what the message holds when it is neither.
 */
export function classifyInput(payload: unknown, query: unknown, mode: FeedMode = 'auto'): FeedInput {
  const q = query !== null && typeof query === 'object' ? (query as { mode?: unknown; window?: unknown }) : undefined;
  if (q?.mode === 'gaps') {
    throw new FeedInputError('msg.payload is an ems-store-query gaps result (missing intervals, no values): there is nothing to chart; query in range mode');
  }
  if (!Array.isArray(payload)) {
    throw new FeedInputError(`msg.payload must be an array of readings (a meter node's output) or an ems-store-query range result, got ${describe(payload)}`);
  }
  if (payload.length > MAX_INPUT_ROWS) throw new FeedInputError(`msg.payload has ${payload.length} rows, more than ${MAX_INPUT_ROWS}: query a shorter range or use a window`);
  for (let i = 0; i < payload.length; i++) {
    const p = readingProblem(payload[i]);
    if (p === null) continue;
    const x = payload[i] as Record<string, unknown> | null;
    if (x && typeof x === 'object' && 'missing' in x && 'from' in x) throw new FeedInputError(`msg.payload[${i}] is a gap {meter, obis, from, to, missing}, not a reading: gaps have no values to chart`);
    throw new FeedInputError(`msg.payload[${i}] is not a reading: ${p}`);
  }
  const readings = payload as Reading[];
  const kind = mode === 'auto' ? (q?.mode === 'range' ? 'chart' : 'live') : mode;
  if (kind === 'live') return { kind, readings };
  const w = q?.window as { every?: unknown; fn?: unknown } | undefined;
  const window = w && typeof w.every === 'number' && w.every > 0 && (AGGREGATES as readonly unknown[]).includes(w.fn) ? { every: w.every, fn: w.fn as string } : undefined;
  return window ? { kind: 'chart', rows: readings, window } : { kind: 'chart', rows: readings };
}

/** A short description of a value for error messages: its type and the start of its JSON. */
export function describe(v: unknown): string {
  if (v === undefined) return 'undefined';
  if (v === null) return 'null';
  if (Buffer.isBuffer(v)) return `a Buffer of ${v.length} bytes`;
  let json: string;
  try { json = JSON.stringify(v) ?? String(v); } catch { json = String(v); }
  if (json.length > 60) json = `${json.slice(0, 57)}...`;
  return `${Array.isArray(v) ? 'array' : typeof v} ${json}`;
}
