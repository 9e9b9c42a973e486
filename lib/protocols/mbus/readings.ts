/**
 * Decoded telegram -> canonical Readings. OBIS codes come from obis-map.ts; units are converted to
 * the unit table's canonical units (Wh -> kWh, J -> GJ unless `energyUnit` says otherwise, W -> kW,
 * m3/min -> m3/h, °C -> degC). Current values (storage 0) take the poll time; historic values
 * (storage > 0) take the date of the date record with the same storage number and carry the
 * HISTORIC quality flag (none when the telegram has no such date). Records that are errors, maxima,
 * minima, limits, durations or unknown give no reading; a record error VIFE marks the value SUSPECT.
 */
import type { Reading } from '../../model/reading';
import { Quality } from '../../model/quality';
import { convert, toCanonical, unitInfo } from '../../model/units';
import { ALLOWED_MODIFIERS, MEDIUM_TO_OBIS, obisFor } from './obis-map';
import type { MbusRecord, MbusTelegram } from './types';

export interface ReadingOptions {
  /** EMS meter id. */
  meter: string;
  /** Poll time (epoch ms) for current values. */
  time: number;
  /** Unit for all energy values; default kWh for Wh and GJ for J. */
  energyUnit?: 'kWh' | 'GJ' | 'MWh';
  /** OBIS medium (A) to use instead of the one derived from the telegram (e.g. 8 for a pulse counter on water). */
  medium?: number;
  /** Meter clock's offset from UTC in minutes (meters send local time): 60 for CET. Default 0. */
  utcOffsetMinutes?: number;
}

/** M-Bus SI unit -> a unit of lib/model/units. */
const UNIT_NAMES: Record<string, string> = {
  Wh: 'Wh', J: 'J', m3: 'm3', kg: 'kg', W: 'W', 'J/h': 'J/h', 'm3/h': 'm3/h', 'm3/min': 'm3/min', 'm3/s': 'm3/s', 'kg/h': 'kg/h',
  '°C': 'degC', '°F': 'degF', K: 'K', bar: 'bar', V: 'V', A: 'A', Hz: 'Hz', HCA: 'HCA', varh: 'varh', var: 'var', VA: 'VA',
  s: 's', min: 'min', h: 'h', d: 'd', ft3: 'ft3',
};

function isDate(r: MbusRecord): boolean {
  return (r.quantity === 'date' || r.quantity === 'date-time') && r.time !== undefined && !r.modifiers && r.function === 'instantaneous';
}

export function telegramToReadings(t: MbusTelegram, opts: ReadingOptions): Reading[] {
  if (typeof opts.meter !== 'string' || opts.meter === '') throw new Error(`meter must be a non-empty string, got ${JSON.stringify(opts.meter)}`);
  if (!Number.isFinite(opts.time)) throw new Error(`time must be epoch milliseconds, got ${JSON.stringify(opts.time)}`);
  const medium = opts.medium ?? (t.header ? MEDIUM_TO_OBIS[t.header.medium] : undefined);
  if (medium === undefined) return [];
  const offsetMs = (opts.utcOffsetMinutes ?? 0) * 60_000;
  const dates = new Map<string, number>();
  for (const r of t.records) {
    const key = `${r.storage}/${r.subunit}`;
    if (isDate(r) && !dates.has(key)) dates.set(key, r.time! - offsetMs);
    if (isDate(r) && !dates.has(`${r.storage}/*`)) dates.set(`${r.storage}/*`, r.time! - offsetMs);
  }
  const out: Reading[] = [];
  for (const r of t.records) {
    if (r.unknown || typeof r.value !== 'number' || r.function !== 'instantaneous') continue;
    const mods = r.modifiers ?? [];
    if (mods.some((m) => !ALLOWED_MODIFIERS.has(m))) continue;
    const obis = obisFor(medium, r.quantity, mods, r.subunit, r.tariff);
    const unit = UNIT_NAMES[r.unit];
    if (!obis || unit === undefined) continue;
    let time = opts.time;
    let quality = 0;
    if (r.storage > 0) {
      const d = dates.get(`${r.storage}/${r.subunit}`) ?? dates.get(`${r.storage}/*`);
      if (d === undefined) continue;
      time = d;
      quality |= Quality.HISTORIC;
    }
    if (r.recordError && r.recordError.code !== 0) quality |= Quality.SUSPECT;
    const v = normalise(r.value, unit, opts.energyUnit);
    if (!v) continue;
    const reading: Reading = { meter: opts.meter, time, obis, value: v.value, unit: v.unit };
    if (quality) reading.quality = quality;
    out.push(reading);
  }
  return out;
}

function normalise(value: number, unit: string, energyUnit?: 'kWh' | 'GJ' | 'MWh'): { value: number; unit: string } | undefined {
  try {
    const dim = unitInfo(unit).dimension;
    if (energyUnit && (dim === 'active energy' || dim === 'heat energy')) {
      const kwh = dim === 'active energy' ? convert(value, unit, 'kWh') : convert(value, unit, 'MJ') / 3.6;
      if (energyUnit === 'kWh') return { value: round(kwh), unit: 'kWh' };
      if (energyUnit === 'MWh') return { value: round(kwh / 1000), unit: 'MWh' };
      return { value: round(kwh * 0.0036), unit: 'GJ' };
    }
    return toCanonical(value, unit);
  } catch {
    return undefined;
  }
}

const round = (x: number) => Number.parseFloat(x.toPrecision(15));
