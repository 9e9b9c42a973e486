/**
 * Consumption as it arrives in messages, checked into ConsumptionIntervals: either intervals
 * {start, end, quantity, unit} or ems-consumption records {meter, obis, from, to, value, unit,
 * quality}, with times as epoch ms, ISO 8601 text or Dates. Errors name the field and its value.
 */
import type { ConsumptionInterval, EnergyType } from './types';

const show = (v: unknown): string => (v === undefined ? 'undefined' : JSON.stringify(v));
const iso = (ms: number): string => new Date(ms).toISOString();

/** Epoch ms from a number, an ISO 8601 string or a Date; throws naming the field. */
export function toTime(v: unknown, field: string): number {
  if (typeof v === 'number' && Number.isFinite(v)) return v;
  if (v instanceof Date && Number.isFinite(v.getTime())) return v.getTime();
  if (typeof v === 'string' && v.trim() !== '') {
    const n = /^-?\d+(\.\d+)?$/.test(v.trim()) ? Number(v) : Date.parse(v);
    if (Number.isFinite(n)) return n;
  }
  throw new Error(`${field} (${show(v)}) must be a time: epoch ms or an ISO 8601 string such as "2026-01-14T00:00:00+01:00"`);
}

/** One interval from an interval or an ems-consumption record; `nonNegative` refuses negative quantities. */
export function toInterval(x: unknown, where: string, options: { nonNegative?: boolean } = {}): ConsumptionInterval {
  if (x === null || typeof x !== 'object' || Array.isArray(x)) {
    throw new Error(`${where} (${show(x)}) must be a consumption interval {start, end, quantity, unit} or record {from, to, value, unit}`);
  }
  const r = x as Record<string, unknown>;
  const record = r.start === undefined && r.end === undefined && r.quantity === undefined;
  const [kStart, kEnd, kQty] = record ? ['from', 'to', 'value'] : ['start', 'end', 'quantity'];
  const start = toTime(r[kStart], `${where}.${kStart}`);
  const end = toTime(r[kEnd], `${where}.${kEnd}`);
  if (end < start) throw new Error(`${where}.${kEnd} (${show(r[kEnd])} = ${iso(end)}) is before ${kStart} (${iso(start)})`);
  if (end === start) throw new Error(`${where}.${kEnd} (${show(r[kEnd])}) equals ${kStart}: an interval must have a duration`);
  const quantity = typeof r[kQty] === 'string' && (r[kQty] as string).trim() !== '' ? Number(r[kQty]) : r[kQty];
  if (typeof quantity !== 'number' || !Number.isFinite(quantity)) throw new Error(`${where}.${kQty} (${show(r[kQty])}) must be a number`);
  if (options.nonNegative && quantity < 0) throw new Error(`${where}.${kQty} (${show(r[kQty])}) must be a number >= 0`);
  if (typeof r.unit !== 'string' || r.unit.trim() === '') throw new Error(`${where}.unit (${show(r.unit)}) must be a unit such as "kWh" or "m3"`);
  const out: ConsumptionInterval = { start, end, quantity, unit: r.unit };
  if (typeof r.obis === 'string') out.obis = r.obis;
  if (typeof r.energyType === 'string') out.energyType = r.energyType as EnergyType;
  if (typeof r.meter === 'string') out.meter = r.meter;
  if (typeof r.quality === 'number') out.quality = r.quality;
  return out;
}

/** An array of intervals/records, or a single one, named `where` in errors. */
export function toIntervals(value: unknown, where: string, options: { nonNegative?: boolean } = {}): ConsumptionInterval[] {
  if (Array.isArray(value)) {
    if (value.length === 0) throw new Error(`${where} is an empty array: no consumption in it`);
    return value.map((x, i) => toInterval(x, `${where}[${i}]`, options));
  }
  return [toInterval(value, where, options)];
}
