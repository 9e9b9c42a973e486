/**
 * Readings people enter for a meter (POST /api/meters/:id/readings): one `{ time, obis, value, unit }` or
 * `{ readings: [...] }`, checked all-or-nothing; each bad reading is named by its index, field and value.
 * Accepted readings carry Quality.MANUAL, with the OBIS code and unit in their canonical form.
 * checkReading is the one check of a reading: file imports (./imports) use it per row, with local times.
 */
import { ApiError } from './envelope';
import { checkYear } from './limits';
import type { Reading } from '../model/reading';
import { normaliseObis } from '../model/obis';
import { obisDimensions } from '../model/obis-units';
import { Quality } from '../model/quality';
import { isKnownUnit, toCanonical, unitInfo } from '../model/units';
import { DAY_MS, offsetAt, type LocalTime } from '../model/time';

/** The most readings one request may post. */
export const MAX_POSTED_READINGS = 10_000;
/** How far a posted reading may lie after the EMS clock (clock skew of the entering device). */
export const FUTURE_TOLERANCE_MS = 5 * 60_000;
/** ISO 8601 with a date, a time and an explicit offset (Z or +hh:mm): a local time without offset is ambiguous. */
const ISO_WITH_OFFSET = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,3})?)?(Z|[+-]\d{2}:?\d{2})$/;
const DECIMAL = /^[+-]?(\d+(\.\d*)?|\.\d+)$/;
const FIELDS = ['time', 'obis', 'value', 'unit'];

/** `DD.MM.YYYY` or `YYYY-MM-DD` / `YYYY/MM/DD`, then a time `HH:MM[:SS[.sss]]` (or none: midnight), without an offset. */
const LOCAL_YMD = /^(\d{4})[-/](\d{1,2})[-/](\d{1,2})(?:[T ](\d{1,2}):(\d{2})(?::(\d{2})(?:\.(\d{1,3}))?)?)?$/;
const LOCAL_DMY = /^(\d{1,2})\.(\d{1,2})\.(\d{4})(?:[T ](\d{1,2}):(\d{2})(?::(\d{2})(?:\.(\d{1,3}))?)?)?$/;

export function show(v: unknown): string {
  const s = v instanceof Date ? JSON.stringify(v.toISOString()) : JSON.stringify(v) ?? String(v);
  return s.length > 60 ? `${s.slice(0, 57)}...` : s;
}

/** A bad reading: names the field (time, obis, value, unit, ...) and the rule it breaks. */
export class RowError extends Error {
  constructor(readonly field: string, message: string) {
    super(message);
  }
}

function fail(field: string, value: unknown, rule: string): never {
  throw new RowError(field, `${field} ${show(value)} ${rule}`);
}

/** The fields of one reading as given (JSON values, or a file's cells). */
export interface ReadingFields { time: unknown; obis: unknown; value: unknown; unit: unknown }

export interface ReadingCheck {
  /** The EMS clock: readings after now + FUTURE_TOLERANCE_MS are refused. */
  now: number;
  /** Quality flags of the accepted reading. */
  quality: number;
  /**
   * Files only: times without an offset are local date-times in this IANA zone (2026-03-01 08:00,
   * 01.03.2026 08:00:00); one skipped or repeated at a DST change is refused. Absent: an offset is required.
   */
  timeZone?: string;
}

/** The instant of a local wall-clock time in `zone`, or a RowError when the DST change skips or repeats it. */
export function localInstant(l: LocalTime, zone: string, raw: unknown): number {
  const wall = Date.UTC(l.year, l.month - 1, l.day, l.hour, l.minute, l.second, l.millisecond);
  const check = new Date(wall);
  if (check.getUTCMonth() + 1 !== l.month || check.getUTCDate() !== l.day || l.hour > 23 || l.minute > 59 || l.second > 59) fail('time', raw, 'is not a valid date and time');
  const offsets = new Set([offsetAt(wall - DAY_MS / 2, zone), offsetAt(wall + DAY_MS / 2, zone)]);
  const hits = [...offsets].map((o) => wall - o).filter((t) => t + offsetAt(t, zone) === wall);
  if (hits.length === 0) fail('time', raw, `does not exist in ${zone} (skipped when the clocks went forward); give an offset`);
  if (hits.length > 1) fail('time', raw, `happens twice in ${zone} (the clocks went back); give an offset (${hits.map((t) => new Date(t).toISOString()).join(' or ')})`);
  return hits[0];
}

function localTimeOf(v: string, zone: string): number | undefined {
  const ymd = LOCAL_YMD.exec(v);
  const dmy = ymd ? null : LOCAL_DMY.exec(v);
  const m = ymd ?? dmy;
  if (!m) return undefined;
  const [year, month, day] = ymd ? [m[1], m[2], m[3]] : [m[3], m[2], m[1]];
  const l: LocalTime = {
    year: Number(year), month: Number(month), day: Number(day),
    hour: Number(m[4] ?? 0), minute: Number(m[5] ?? 0), second: Number(m[6] ?? 0), millisecond: Number((m[7] ?? '0').padEnd(3, '0')),
  };
  return localInstant(l, zone, v);
}

function timeOf(v: unknown, c: ReadingCheck): number {
  let t = NaN;
  if (typeof v === 'number' && Number.isInteger(v)) t = v;
  else if (typeof v === 'string' && ISO_WITH_OFFSET.test(v)) t = Date.parse(v);
  else if (typeof v === 'string' && c.timeZone !== undefined) {
    const s = v.trim();
    t = /^\d{12,13}$/.test(s) ? Number(s) : localTimeOf(s, c.timeZone) ?? (ISO_WITH_OFFSET.test(s) ? Date.parse(s) : NaN);
  }
  if (!Number.isFinite(t)) {
    fail('time', v, c.timeZone === undefined
      ? 'must be ISO 8601 with an offset (2026-03-01T08:00:00+01:00, ...Z) or epoch milliseconds'
      : `must be ISO 8601 with an offset, epoch milliseconds, or a local date-time in ${c.timeZone} (2026-03-01 08:00, 01.03.2026 08:00)`);
  }
  try {
    checkYear('time', v, t);
  } catch (err) {
    throw new RowError('time', (err as Error).message);
  }
  if (t > c.now + FUTURE_TOLERANCE_MS) fail('time', v, `lies in the future (after ${new Date(c.now).toISOString()})`);
  return t;
}

function valueOf(v: unknown): number {
  const n = typeof v === 'number' ? v : typeof v === 'string' && DECIMAL.test(v.trim()) ? Number(v.trim()) : NaN;
  if (!Number.isFinite(n)) fail('value', v, 'must be a finite number or a decimal string such as "1234.5"');
  return n;
}

function obisOf(v: unknown): string {
  try {
    if (typeof v !== 'string') throw new Error();
    return normaliseObis(v.trim());
  } catch {
    return fail('obis', v, 'must be an OBIS code such as 1-0:1.8.0');
  }
}

/** Canonical OBIS codes and the dimensions they measure, by the text given (a file repeats a few codes 100,000 times). */
const obisCache = new Map<string, { obis: string; wanted: ReturnType<typeof obisDimensions> }>();

function obisInfo(v: unknown): { obis: string; wanted: ReturnType<typeof obisDimensions> } {
  const hit = typeof v === 'string' ? obisCache.get(v) : undefined;
  if (hit) return hit;
  const obis = obisOf(v);
  const info = { obis, wanted: obisDimensions(obis) };
  if (typeof v === 'string' && obisCache.size < 1000) obisCache.set(v, info);
  return info;
}

/**
 * The one check of a reading, for JSON posts and file imports alike: time, OBIS code, value and unit
 * (known, measuring that code), converted to the canonical unit. Throws a RowError naming the field.
 */
export function checkReading(meter: string, x: ReadingFields, c: ReadingCheck): Reading {
  const time = timeOf(x.time, c);
  const { obis, wanted } = obisInfo(x.obis);
  const value = valueOf(x.value);
  const unit = typeof x.unit === 'string' ? x.unit.trim() : x.unit;
  if (!isKnownUnit(unit)) fail('unit', x.unit, 'is not a known unit (e.g. kWh, Wh, m3, GJ, kW, V, A)');
  const info = unitInfo(unit as string);
  if (wanted && !wanted.includes(info.dimension)) fail('unit', x.unit, `(${info.dimension || 'ratio'}) does not measure ${obis} (${wanted.join(' or ')})`);
  const canonical = toCanonical(value, unit as string);
  return { meter, time, obis, value: canonical.value, unit: canonical.unit, quality: c.quality };
}

/** One reading of the body, or a RowError naming the field. */
function readingOf(meter: string, row: unknown, now: number): Reading {
  if (row === null || typeof row !== 'object' || Array.isArray(row)) throw new RowError('', `must be an object { time, obis, value, unit }, got ${show(row)}`);
  const x = row as Record<string, unknown>;
  for (const key of Object.keys(x)) if (!FIELDS.includes(key)) fail(key, x[key], `is not a reading field (use ${FIELDS.join(', ')})`);
  return checkReading(meter, x as unknown as ReadingFields, { now, quality: Quality.MANUAL });
}

/** The readings a POST body holds for `meter`, or a 400 naming the first bad reading by index, field and value. */
export function parsePostedReadings(meter: string, body: unknown, now: number): Reading[] {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) throw new ApiError(400, 'the body must be one reading { time, obis, value, unit } or { readings: [...] }');
  const b = body as Record<string, unknown>;
  let rows: unknown[];
  if ('readings' in b) {
    const extra = Object.keys(b).filter((k) => k !== 'readings');
    if (extra.length) throw new ApiError(400, `unknown field "${extra[0]}" next to readings (the body is { readings: [...] })`);
    if (!Array.isArray(b.readings)) throw new ApiError(400, `readings ${show(b.readings)} must be a list of { time, obis, value, unit }`);
    rows = b.readings;
    if (rows.length === 0) throw new ApiError(400, 'readings is empty: post at least one reading');
    if (rows.length > MAX_POSTED_READINGS) throw new ApiError(400, `readings holds ${rows.length} readings, more than ${MAX_POSTED_READINGS} (the most one request may post)`);
  } else {
    rows = [b];
  }
  const out: Reading[] = [];
  const seen = new Set<string>();
  rows.forEach((row, i) => {
    try {
      const r = readingOf(meter, row, now);
      const key = `${r.obis}@${r.time}`;
      if (seen.has(key)) throw new RowError('time', `repeats obis ${r.obis} at time ${new Date(r.time).toISOString()} (an earlier reading has the same)`);
      seen.add(key);
      out.push(r);
    } catch (err) {
      if (err instanceof RowError) throw new ApiError(400, `readings[${i}]: ${err.message}`);
      throw err;
    }
  });
  return out;
}
