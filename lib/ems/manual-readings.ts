/**
 * Readings people enter for a meter (POST /api/meters/:id/readings): one `{ time, obis, value, unit }` or
 * `{ readings: [...] }`, checked all-or-nothing; each bad reading is named by its index, field and value.
 * Accepted readings carry Quality.MANUAL, with the OBIS code and unit in their canonical form.
 */
import { ApiError } from './envelope';
import { checkYear } from './limits';
import type { Reading } from '../model/reading';
import { normaliseObis } from '../model/obis';
import { obisDimensions } from '../model/obis-units';
import { Quality } from '../model/quality';
import { isKnownUnit, toCanonical, unitInfo } from '../model/units';

/** The most readings one request may post. */
export const MAX_POSTED_READINGS = 10_000;
/** How far a posted reading may lie after the EMS clock (clock skew of the entering device). */
export const FUTURE_TOLERANCE_MS = 5 * 60_000;
/** ISO 8601 with a date, a time and an explicit offset (Z or +hh:mm): a local time without offset is ambiguous. */
const ISO_WITH_OFFSET = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,3})?)?(Z|[+-]\d{2}:?\d{2})$/;
const DECIMAL = /^[+-]?(\d+(\.\d*)?|\.\d+)$/;
const FIELDS = ['time', 'obis', 'value', 'unit'];

function show(v: unknown): string {
  const s = JSON.stringify(v) ?? String(v);
  return s.length > 60 ? `${s.slice(0, 57)}...` : s;
}

class RowError extends Error {}

function fail(field: string, value: unknown, rule: string): never {
  throw new RowError(`${field} ${show(value)} ${rule}`);
}

function timeOf(v: unknown, now: number): number {
  let t = NaN;
  if (typeof v === 'number' && Number.isInteger(v)) t = v;
  else if (typeof v === 'string' && ISO_WITH_OFFSET.test(v)) t = Date.parse(v);
  if (!Number.isFinite(t)) fail('time', v, 'must be ISO 8601 with an offset (2026-03-01T08:00:00+01:00, ...Z) or epoch milliseconds');
  try {
    checkYear('time', v, t);
  } catch (err) {
    throw new RowError((err as Error).message);
  }
  if (t > now + FUTURE_TOLERANCE_MS) fail('time', v, `lies in the future (after ${new Date(now).toISOString()})`);
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
    return normaliseObis(v);
  } catch {
    return fail('obis', v, 'must be an OBIS code such as 1-0:1.8.0');
  }
}

/** One reading of the body, or a RowError naming the field. */
function readingOf(meter: string, row: unknown, now: number): Reading {
  if (row === null || typeof row !== 'object' || Array.isArray(row)) throw new RowError(`must be an object { time, obis, value, unit }, got ${show(row)}`);
  const x = row as Record<string, unknown>;
  for (const key of Object.keys(x)) if (!FIELDS.includes(key)) fail(key, x[key], `is not a reading field (use ${FIELDS.join(', ')})`);
  const time = timeOf(x.time, now);
  const obis = obisOf(x.obis);
  const value = valueOf(x.value);
  if (!isKnownUnit(x.unit)) fail('unit', x.unit, 'is not a known unit (e.g. kWh, Wh, m3, GJ, kW, V, A)');
  const info = unitInfo(x.unit as string);
  const wanted = obisDimensions(obis);
  if (wanted && !wanted.includes(info.dimension)) fail('unit', x.unit, `(${info.dimension || 'ratio'}) does not measure ${obis} (${wanted.join(' or ')})`);
  const canonical = toCanonical(value, x.unit as string);
  return { meter, time, obis, value: canonical.value, unit: canonical.unit, quality: Quality.MANUAL };
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
      if (seen.has(key)) throw new RowError(`repeats obis ${r.obis} at time ${new Date(r.time).toISOString()} (an earlier reading has the same)`);
      seen.add(key);
      out.push(r);
    } catch (err) {
      if (err instanceof RowError) throw new ApiError(400, `readings[${i}]: ${err.message}`);
      throw err;
    }
  });
  return out;
}
