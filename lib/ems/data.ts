/**
 * The data dictionary's data endpoints as pure logic over a ReadingStore: the common query (meter,
 * date1, date2, type, limit), parameter families, and the dashboard, graphics, data table and vector
 * diagram answers. Rows are { param_name, date, value, unit }: param_name the OBIS code (U1..I3 on the
 * vector diagram), date ISO with the zone's offset, value decimal text at full precision.
 */
import { Decimal } from '../money/decimal';
import { parseObis, unitInfo, type Reading } from '../model';
import { parseDuration, parseTime } from '../store/query-params';
import type { Aggregate, ReadingStore, WindowRow } from '../store/types';
import { AGGREGATES } from '../store/types';
import { DAY_MS, HOUR_MS, MAX_WINDOWS, everyProblem, fromLocal, offsetAt, toLocal, windowBoundaries, windowStartOf } from '../model/time';
import { Pacer } from '../billing/pace';
import { ApiError } from './envelope';
import { checkYear } from './limits';
import type { Registry } from './registry';

export const PARAM_TYPES = ['all', 'energy', 'power', 'voltage', 'current', 'power_factor', 'frequency', 'angle', 'temperature', 'other'] as const;
export type ParamType = typeof PARAM_TYPES[number];

export const DEFAULT_LIMIT = 1000;
export const MAX_LIMIT = 100_000;
/** Raw queries inside this module cut by time, not by count. */
const NO_LIMIT = 10_000_000;

export interface DataRow { param_name: string; date: string; value: string; unit: string }

export interface DataQuery {
  meter: string;
  /** [from, to) epoch ms. */
  from: number;
  to: number;
  type: ParamType;
  limit: number;
  timeZone: string;
}

function show(v: unknown): string {
  return typeof v === 'string' ? JSON.stringify(v) : String(v);
}

const BARE_DATE = /^\s*\d{4}-\d{2}-\d{2}\s*$/;

/** The next local midnight after the local day that starts at `t`. */
function nextDay(t: number, timeZone: string): number {
  const l = toLocal(t + 36 * HOUR_MS, timeZone);
  return fromLocal({ year: l.year, month: l.month, day: l.day, hour: 0, minute: 0, second: 0, millisecond: 0 }, timeZone);
}

/**
 * date1/date2 as [from, to): ISO (without an offset = local time in `timeZone`), a local date, or epoch ms.
 * A bare local date as date2 includes that whole day. Default: today (local).
 */
export function parseDateRange(date1: unknown, date2: unknown, now: number, timeZone: string): { from: number; to: number } {
  const today = windowStartOf(now, DAY_MS, timeZone);
  const one = (name: string, v: unknown, fallback: number): number => {
    if (v === undefined || v === '') return fallback;
    const t = typeof v === 'string' || typeof v === 'number' ? parseTime(v, now, timeZone) : Number.NaN;
    if (Number.isNaN(t)) throw new ApiError(400, `${name} ${show(v)} is not a date (use 2026-11-01, 2026-11-01T08:00, an ISO time with offset, or epoch ms)`);
    return t;
  };
  const from = one('date1', date1, today);
  checkYear('date1', date1, from);
  const given = one('date2', date2, nextDay(today, timeZone));
  checkYear('date2', date2, given);
  const to = typeof date2 === 'string' && BARE_DATE.test(date2) ? nextDay(given, timeZone) : given;
  const shown = (v: unknown, t: number): string => show(v ?? isoInZone(t, timeZone));
  if (from >= to) {
    throw new ApiError(400, from > given ? `date1 ${shown(date1, from)} is after date2 ${shown(date2, to)}` : `date2 ${shown(date2, to)} must be after date1 ${shown(date1, from)}`);
  }
  return { from, to };
}

/** A whole number from 1 to `max`, or 400 naming the field. */
export function parseCount(name: string, v: unknown, fallback: number, max: number): number {
  if (v === undefined || v === '') return fallback;
  const n = typeof v === 'string' && /^\s*\d+\s*$/.test(v) ? Number(v) : v;
  if (typeof n !== 'number' || !Number.isInteger(n) || n < 1 || n > max) throw new ApiError(400, `${name} ${show(v)} is not a row count (use a whole number from 1 to ${max})`);
  return n;
}

/** The query every data endpoint shares; `known` are the parameters the endpoint accepts. */
export function parseDataQuery(query: Record<string, unknown>, now: number, timeZone: string, known: readonly string[]): DataQuery {
  for (const key of Object.keys(query)) {
    if (!known.includes(key)) throw new ApiError(400, `unknown parameter "${key}" (use ${known.join(', ')})`);
  }
  const meter = query.meter;
  if (meter === undefined || meter === '') throw new ApiError(400, 'meter "" is required (a meter id)');
  if (typeof meter !== 'string' || meter.trim() === '') throw new ApiError(400, `meter ${JSON.stringify(meter)} is not a meter id (give one meter=<id>)`);
  const type = query.type ?? 'all';
  if (!(PARAM_TYPES as readonly unknown[]).includes(type)) throw new ApiError(400, `type ${show(type)} is not a parameter type (use ${PARAM_TYPES.join(', ')})`);
  return {
    meter: meter.trim(), ...parseDateRange(query.date1, query.date2, now, timeZone), type: type as ParamType,
    limit: parseCount('limit', query.limit, DEFAULT_LIMIT, MAX_LIMIT), timeZone,
  };
}

/** The family of a parameter, from its unit's dimension (and the OBIS code for power factors). */
export function paramType(obis: string, unit: string): Exclude<ParamType, 'all'> {
  let dim: string;
  try {
    dim = unitInfo(unit).dimension;
  } catch {
    return 'other';
  }
  if (dim === 'voltage' || dim === 'current' || dim === 'frequency' || dim === 'angle' || dim === 'temperature') return dim;
  if (dim.endsWith('energy') || dim === 'volume' || dim === 'mass' || dim === 'heat cost allocation') return 'energy';
  if (dim.endsWith('power') || dim.endsWith('flow')) return 'power';
  if (dim === 'ratio') {
    try {
      if ([13, 33, 53, 73].includes(parseObis(obis).quantity)) return 'power_factor';
    } catch { /* not an OBIS code */ }
  }
  return 'other';
}

export function matchesType(type: ParamType, obis: string, unit: string): boolean {
  return type === 'all' || paramType(obis, unit) === type;
}

/** ISO 8601 with the zone's offset, to the second (milliseconds only when set): 2026-03-29T03:00:00+02:00. */
export function isoInZone(t: number, timeZone: string): string {
  const off = offsetAt(t, timeZone);
  const wall = new Date(t + off).toISOString();
  const text = t % 1000 === 0 ? wall.slice(0, 19) : wall.slice(0, 23);
  const abs = Math.abs(off) / 60_000;
  return `${text}${off < 0 ? '-' : '+'}${String(Math.floor(abs / 60)).padStart(2, '0')}:${String(abs % 60).padStart(2, '0')}`;
}

/** A value as plain decimal text, the shortest that reads back as the same number (no exponent). */
export function valueText(v: number): string {
  return Decimal.from(v).toString();
}

export function toRow(r: { obis: string; time: number; value: number; unit: string }, timeZone: string): DataRow {
  return { param_name: r.obis, date: isoInZone(r.time, timeZone), value: valueText(r.value), unit: r.unit };
}

/** The folder path (root first) of a meter in the registry, or null when the registry does not know it. */
export function locationOf(registry: Registry, meterId: string): string[] | null {
  let folderId: string | null;
  try {
    folderId = registry.meter(meterId).folder_id;
  } catch (err) {
    if (err instanceof ApiError && err.status === 404) return null;
    throw err;
  }
  const names: string[] = [];
  for (let guard = 0; folderId !== null && guard < 100; guard++) {
    const f = registry.folder(folderId);
    names.unshift(f.name);
    folderId = f.parent_id;
  }
  return names;
}

export interface MeterView {
  location: string[];
  /** The newest reading of each series of the meter, by OBIS code. */
  series: Reading[];
}

/** The meter's location and series; 404 when neither the registry nor the store knows it. */
export async function meterView(registry: Registry, store: ReadingStore, meterId: string): Promise<MeterView> {
  const location = locationOf(registry, meterId);
  const series = await store.latest({ meter: meterId });
  if (location === null && series.length === 0) throw new ApiError(404, `unknown meter "${meterId}"`);
  return { location: location ?? [], series };
}

/**
 * The newest reading of one series with floor <= time <= t, searching back from t in growing spans
 * (so a dense series costs one small query). `latest` (the series' newest reading) short-cuts it.
 */
export async function newestAtOrBefore(store: ReadingStore, meter: string, obis: string, t: number, floor: number, latest?: Reading): Promise<Reading | null> {
  if (latest && latest.time <= t) return latest.time >= floor ? latest : null;
  let hi = t + 1;
  for (let span = HOUR_MS; hi > floor; span *= 4) {
    const lo = Math.max(floor, hi - span);
    const rows = (await store.query({ meter, obis, from: lo, to: hi, limit: NO_LIMIT })) as Reading[];
    if (rows.length) return rows[rows.length - 1];
    hi = lo;
  }
  return null;
}

/** The first reading of one series in [from, to), or null. */
export async function firstIn(store: ReadingStore, meter: string, obis: string, from: number, to: number): Promise<Reading | null> {
  const rows = (await store.query({ meter, obis, from, to, limit: 1 })) as Reading[];
  return rows[0] ?? null;
}

/** Local midnight of the first day of the month containing `t`. */
export function monthStart(t: number, timeZone: string): number {
  const l = toLocal(t, timeZone);
  return fromLocal({ year: l.year, month: l.month, day: 1, hour: 0, minute: 0, second: 0, millisecond: 0 }, timeZone);
}

/** Consumption of a cumulative register over [start, end]: the reading at end minus the newest at or before start (or the first after it). */
async function registerDelta(store: ReadingStore, meter: string, obis: string, start: number, end: Reading): Promise<string> {
  const open = (await newestAtOrBefore(store, meter, obis, start, start - 62 * DAY_MS)) ?? (await firstIn(store, meter, obis, start, end.time + 1));
  if (!open || open.time > end.time) return '0';
  return Decimal.from(end.value).sub(Decimal.from(open.value)).trimmed().toString();
}

export interface DashboardAnswer {
  location: string[];
  /** The values are the newest up to now, or before the end of the range when it lies in the past. */
  as_of: string;
  rows: DataRow[];
  /** Today's and this month's consumption (up to as_of) of each cumulative register. */
  consumption: { param_name: string; unit: string; today: string; month: string }[];
}

/** The newest value of each parameter in range, and today's and this month's consumption per register. */
export async function dashboard(store: ReadingStore, view: MeterView, q: DataQuery, now: number): Promise<DashboardAnswer> {
  const asOf = Math.min(now, q.to - 1);
  const rows: DataRow[] = [];
  const consumption: DashboardAnswer['consumption'] = [];
  const dayStart = windowStartOf(asOf, DAY_MS, q.timeZone);
  const month = monthStart(asOf, q.timeZone);
  for (const s of view.series) {
    const wanted = matchesType(q.type, s.obis, s.unit);
    const cumulative = paramType(s.obis, s.unit) === 'energy' && parseObis(s.obis).processing === 8;
    if (!wanted && !cumulative) continue;
    if (wanted && rows.length < q.limit) {
      const r = await newestAtOrBefore(store, q.meter, s.obis, asOf, q.from, s);
      if (r) rows.push(toRow(r, q.timeZone));
    }
    if (cumulative) {
      const end = await newestAtOrBefore(store, q.meter, s.obis, asOf, month - 62 * DAY_MS, s);
      if (!end) continue;
      consumption.push({
        param_name: s.obis, unit: s.unit,
        today: end.time >= dayStart ? await registerDelta(store, q.meter, s.obis, dayStart, end) : '0',
        month: end.time >= month ? await registerDelta(store, q.meter, s.obis, month, end) : '0',
      });
    }
  }
  return { location: view.location, as_of: isoInZone(Math.min(now, q.to), q.timeZone), rows, consumption };
}

export interface SeriesAnswer {
  location: string[];
  rows: DataRow[];
  /** True when `limit` cut the rows. */
  truncated: boolean;
}

/** step (window) and fn of data.graphics: a checked window, or undefined for raw readings. */
export function parseStep(step: unknown, fn: unknown, from: number, to: number, timeZone: string): { every: number; fn?: Aggregate } | undefined {
  if (step === undefined || step === '' || step === 'raw') {
    if (fn !== undefined && fn !== '') throw new ApiError(400, `fn ${show(fn)} needs a step (e.g. step=1h)`);
    return undefined;
  }
  const every = parseDuration(step);
  if (Number.isNaN(every) || everyProblem(every)) throw new ApiError(400, `step ${show(step)} is not a window length (use e.g. 15m, 1h or 1d; a day or longer in whole days)`);
  try {
    windowBoundaries(from, to, every, timeZone, MAX_WINDOWS);
  } catch {
    throw new ApiError(400, `step ${show(step)} gives more than ${MAX_WINDOWS} windows from date1 to date2 (use a longer step or a shorter range)`);
  }
  if (fn === undefined || fn === '') return { every };
  if (!(AGGREGATES as readonly unknown[]).includes(fn)) throw new ApiError(400, `fn ${show(fn)} is not an aggregate (use ${AGGREGATES.join(', ')})`);
  return { every, fn: fn as Aggregate };
}

/**
 * Time series per parameter, oldest first, grouped by parameter. With a step, one row per window
 * (its start): fn, else "last" for cumulative registers and "mean" for the rest.
 */
export async function graphics(store: ReadingStore, view: MeterView, q: DataQuery, step?: { every: number; fn?: Aggregate }): Promise<SeriesAnswer> {
  const rows: DataRow[] = [];
  let truncated = false;
  const pacer = new Pacer();
  for (const s of view.series) {
    if (!matchesType(q.type, s.obis, s.unit)) continue;
    await pacer.breathe();
    const room = q.limit - rows.length;
    if (room <= 0) {
      truncated = true;
      break;
    }
    let got: (Reading | WindowRow)[];
    if (step) {
      const fn = step.fn ?? (paramType(s.obis, s.unit) === 'energy' && parseObis(s.obis).processing === 8 ? 'last' : 'mean');
      got = await store.query({ meter: q.meter, obis: s.obis, from: q.from, to: q.to, window: { every: step.every, fn }, timeZone: q.timeZone });
    } else {
      got = await store.query({ meter: q.meter, obis: s.obis, from: q.from, to: q.to, limit: room + 1 });
    }
    if (got.length > room) {
      truncated = true;
      got = got.slice(0, room);
    }
    for (const r of got) rows.push(toRow(r, q.timeZone));
  }
  return { location: view.location, rows, truncated };
}

/** Raw readings, newest first, at most `limit` (read backwards from date2 in growing spans). */
export async function table(store: ReadingStore, view: MeterView, q: DataQuery): Promise<SeriesAnswer> {
  const picked: Reading[] = [];
  let hi = q.to;
  const pacer = new Pacer();
  for (let span = HOUR_MS; hi > q.from && picked.length <= q.limit; span *= 2) {
    await pacer.breathe();
    const lo = Math.max(q.from, hi - span);
    const got = (await store.query({ meter: q.meter, from: lo, to: hi, limit: NO_LIMIT })) as Reading[];
    for (let i = got.length - 1; i >= 0; i--) if (matchesType(q.type, got[i].obis, got[i].unit)) picked.push(got[i]);
    hi = lo;
  }
  picked.sort((a, b) => b.time - a.time || (a.obis < b.obis ? -1 : a.obis > b.obis ? 1 : 0));
  const truncated = picked.length > q.limit;
  return { location: view.location, rows: picked.slice(0, q.limit).map((r) => toRow(r, q.timeZone)), truncated };
}

/** One phasor of the vector diagram: magnitude (value) and angle in degrees, with where the angle came from. */
export interface PhasorRow extends DataRow {
  obis: string;
  /** Degrees in (-180, 180], rounded to 0.01; null when the meter gives no power factor or angle for a current. */
  angle: string | null;
  angle_source: 'meter' | 'nominal' | 'power factor' | null;
}

export interface VectorAnswer { location: string[]; as_of: string; rows: PhasorRow[] }

const PHASES = [
  { u: 'U1', i: 'I1', volt: '1-0:32.7.0', amp: '1-0:31.7.0', pf: '1-0:33.7.0', qPlus: '1-0:23.7.0', qMinus: '1-0:24.7.0', uAngle: null, iAngle: '1-0:81.7.40', nominal: 0 },
  { u: 'U2', i: 'I2', volt: '1-0:52.7.0', amp: '1-0:51.7.0', pf: '1-0:53.7.0', qPlus: '1-0:43.7.0', qMinus: '1-0:44.7.0', uAngle: '1-0:81.7.10', iAngle: '1-0:81.7.51', nominal: -120 },
  { u: 'U3', i: 'I3', volt: '1-0:72.7.0', amp: '1-0:71.7.0', pf: '1-0:73.7.0', qPlus: '1-0:63.7.0', qMinus: '1-0:64.7.0', uAngle: '1-0:81.7.20', iAngle: '1-0:81.7.62', nominal: 120 },
] as const;
const TOTAL_PF = '1-0:13.7.0';

/** An angle in degrees normalised to (-180, 180] as text with at most two decimals. */
export function angleText(deg: number): string {
  let a = deg % 360;
  if (a <= -180) a += 360;
  if (a > 180) a -= 360;
  return Decimal.from(Math.round(a * 100) / 100).toString();
}

/**
 * The phasors as of the end of the range (or now): per phase the voltage (angle from the meter's
 * 81.7.10/81.7.20, else nominal 0/-120/120) and the current, whose angle is the meter's I-U angle
 * (81.7.40/51/62) or the voltage angle minus acos(|PF|) (per-phase PF, else the total 13.7.0): lagging,
 * unless the phase's reactive power is negative (or only Q- flows), or, without reactive power, the PF
 * is negative; then leading.
 */
export async function vector(store: ReadingStore, view: MeterView, q: DataQuery, now: number): Promise<VectorAnswer> {
  const asOf = Math.min(now, q.to - 1);
  const bySeries = new Map(view.series.map((s) => [s.obis, s]));
  const value = async (obis: string | null): Promise<Reading | null> => {
    const s = obis ? bySeries.get(obis) : undefined;
    return s ? newestAtOrBefore(store, q.meter, s.obis, asOf, q.from, s) : null;
  };
  const totalPf = await value(TOTAL_PF);
  const rows: PhasorRow[] = [];
  for (const p of PHASES) {
    const u = await value(p.volt);
    const uAngleReading = await value(p.uAngle);
    const uAngle = uAngleReading ? uAngleReading.value : p.nominal;
    if (u) rows.push({ ...toRow(u, q.timeZone), param_name: p.u, obis: u.obis, angle: angleText(uAngle), angle_source: uAngleReading ? 'meter' : 'nominal' });
    const i = await value(p.amp);
    if (!i) continue;
    let angle: string | null = null;
    let source: PhasorRow['angle_source'] = null;
    const iu = await value(p.iAngle);
    const pf = (await value(p.pf)) ?? totalPf;
    if (iu) {
      angle = angleText(uAngle + iu.value);
      source = 'meter';
    } else if (pf) {
      const phi = (Math.acos(Math.min(1, Math.abs(pf.value))) * 180) / Math.PI;
      const qPlus = await value(p.qPlus);
      const qMinus = await value(p.qMinus);
      const leading = qPlus && qPlus.value !== 0 ? qPlus.value < 0 : qMinus && qMinus.value !== 0 ? qMinus.value > 0 : pf.value < 0;
      angle = angleText(leading ? uAngle + phi : uAngle - phi);
      source = 'power factor';
    }
    rows.push({ ...toRow(i, q.timeZone), param_name: p.i, obis: i.obis, angle, angle_source: source });
  }
  const order = ['U1', 'U2', 'U3', 'I1', 'I2', 'I3'];
  rows.sort((a, b) => order.indexOf(a.param_name) - order.indexOf(b.param_name));
  return { location: view.location, as_of: isoInZone(Math.min(now, q.to), q.timeZone), rows: rows.slice(0, q.limit) };
}
