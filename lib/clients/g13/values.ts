/**
 * G13 values -> canonical Readings. Live values are [value, unit] string pairs ("227.1","V"), at times
 * plain numbers or strings; timestamps are gateway-local "YYYY-MM-DDTHH:MM:SS" without a zone (the
 * stored-value paths document "YYYY:MM:DDTHH:MM:SS": both are accepted).
 */
import type { Reading } from '../../model/reading';
import { Quality } from '../../model/quality';
import { roundNoise, unitInfo } from '../../model/units';
import { ENERGY_KEYS, INSTRUMENT_KEYS, POWER_KEYS, QUANTITIES, quantityOf, type Quantity } from './quantities';

export interface G13Value { value: number; unit: string }

/** ["227.1","V"] / ["0.9"] / "1.5" / 1.5 -> {value, unit}; throws naming the field and value. */
export function parseValue(raw: unknown, field = 'value'): G13Value {
  let v: unknown = raw;
  let unit = '';
  if (Array.isArray(raw)) {
    v = raw[0];
    if (raw.length > 1 && raw[1] !== null && raw[1] !== undefined) unit = String(raw[1]).trim();
  }
  const n = typeof v === 'number' ? v : typeof v === 'string' && v.trim() !== '' ? Number(v.trim()) : NaN;
  if (!Number.isFinite(n)) throw new Error(`${field} is not a number: ${JSON.stringify(raw)}`);
  return { value: n, unit };
}

const PREFIX: Record<string, number> = { '': 1, k: 1e3, K: 1e3, M: 1e6, G: 1e9, m: 1e-3 };

/**
 * Converts a value to the quantity's canonical unit. The gateway's unit strings are not always right
 * (the manual prints "W" for reactive and apparent power, "KG" for CO2): when the unit measures
 * another dimension than the quantity, only its SI prefix is used.
 */
export function toUnit(v: G13Value, canonical: string): number {
  if (canonical === '' || v.unit === canonical) return v.value;
  try {
    const given = unitInfo(v.unit);
    const target = unitInfo(canonical);
    if (given.dimension === target.dimension) return roundNoise((v.value * given.factor + (given.offset ?? 0) - (target.offset ?? 0)) / target.factor);
  } catch { /* unknown unit: fall back to the prefix */ }
  if (v.unit === '') return v.value;
  const prefixOf = (u: string) => (u.length > 1 && u[0] in PREFIX && !['min', 'mbar'].includes(u) ? PREFIX[u[0]] : 1);
  return roundNoise((v.value * prefixOf(v.unit)) / prefixOf(canonical));
}

/** A reading for a quantity, or undefined when it has no OBIS code. */
export function quantityReading(q: Quantity | undefined, raw: unknown, meter: string, time: number, field: string): Reading | undefined {
  if (!q?.obis || raw === undefined || raw === null) return undefined;
  const v = parseValue(raw, field);
  return { meter, time, obis: q.obis, value: toUnit(v, q.unit ?? v.unit), unit: q.unit ?? v.unit };
}

function get(obj: unknown, path: string): unknown {
  let cur: unknown = obj;
  for (const k of path.split('.')) cur = cur && typeof cur === 'object' ? (cur as Record<string, unknown>)[k] : undefined;
  return cur;
}

function fromKeys(body: unknown, keys: Record<string, number>, meter: string, time: number, resource: string): Reading[] {
  const out: Reading[] = [];
  for (const [path, id] of Object.entries(keys)) {
    const r = quantityReading(QUANTITIES.get(id), get(body, path), meter, time, `${resource} ${path}`);
    if (r) out.push(r);
  }
  return out;
}

/** GET /meters/<serial>/energy/<type> -> Readings (net has no tariffs; unknown keys are skipped). */
export function energyReadings(body: unknown, type: 'active' | 'reactive' | 'apparent', meter: string, time: number): Reading[] {
  return fromKeys(body, ENERGY_KEYS[type], meter, time, `energy/${type}`);
}

/** Only the tariff registers T1-T4 and the totals of import and export (1-0:1.8.0..4, 1-0:2.8.0..4). */
export function tariffReadings(body: unknown, meter: string, time: number): Reading[] {
  const keys = Object.fromEntries(Object.entries(ENERGY_KEYS.active).filter(([k]) => /^(import|export)energy\.(t[1-4]|total)$/.test(k)));
  return fromKeys(body, keys, meter, time, 'energy/active');
}

/** GET /meters/<serial>/power (or /powers) -> kW, kvar, kVA. */
export function powerReadings(body: unknown, meter: string, time: number): Reading[] {
  return fromKeys(body, POWER_KEYS, meter, time, 'power');
}

/** GET /meters/<serial>/instrument -> V, A, power factor, Hz. */
export function instrumentReadings(body: unknown, meter: string, time: number): Reading[] {
  return fromKeys(body, INSTRUMENT_KEYS, meter, time, 'instrument');
}

// ---- time ----------------------------------------------------------------------------------

const STAMP = /^(\d{4})[-:](\d{1,2})[-:](\d{1,2})[T ](\d{1,2}):(\d{1,2})(?::(\d{1,2}))?$/;

function zoneOffsetMs(utc: number, timeZone: string): number {
  const parts = new Intl.DateTimeFormat('en-US', {
    timeZone, hourCycle: 'h23', year: 'numeric', month: 'numeric', day: 'numeric', hour: 'numeric', minute: 'numeric', second: 'numeric',
  }).formatToParts(new Date(utc));
  const n = (t: string) => Number(parts.find((p) => p.type === t)?.value);
  return Date.UTC(n('year'), n('month') - 1, n('day'), n('hour'), n('minute'), n('second')) - Math.floor(utc / 1000) * 1000;
}

/** Gateway-local "YYYY-MM-DDTHH:MM:SS" (or "YYYY:MM:DD...") in `timeZone` -> epoch ms; throws naming the text. */
export function parseG13Time(text: unknown, timeZone = 'UTC', field = 'datetime'): number {
  const m = typeof text === 'string' ? STAMP.exec(text.trim()) : null;
  if (!m) throw new Error(`${field} is not a G13 date-time (YYYY-MM-DDTHH:MM:SS): ${JSON.stringify(text)}`);
  const wall = Date.UTC(+m[1], +m[2] - 1, +m[3], +m[4], +m[5], +(m[6] ?? 0));
  if (!Number.isFinite(wall) || +m[2] > 12 || +m[3] > 31 || +m[4] > 23) throw new Error(`${field} is not a valid date-time: ${JSON.stringify(text)}`);
  if (timeZone === 'UTC') return wall;
  const first = wall - zoneOffsetMs(wall, timeZone);
  return wall - zoneOffsetMs(first, timeZone);
}

/** Epoch ms -> "YYYY-MM-DDTHH:MM:SS" in `timeZone` (the gateway's clock). */
export function formatG13Time(time: number, timeZone = 'UTC'): string {
  const local = time + (timeZone === 'UTC' ? 0 : zoneOffsetMs(time, timeZone));
  return new Date(local).toISOString().slice(0, 19);
}

/** A Date, epoch ms or date text -> the gateway's path form; G13 text passes through unchanged. */
export function toG13Time(v: unknown, timeZone = 'UTC', field = 'date'): string {
  if (typeof v === 'string' && STAMP.test(v.trim())) return v.trim().replace(' ', 'T');
  const t = v instanceof Date ? v.getTime() : typeof v === 'number' ? v : typeof v === 'string' ? Date.parse(v) : NaN;
  if (!Number.isFinite(t)) throw new Error(`${field} must be a date (YYYY-MM-DDTHH:MM:SS, ISO 8601 or epoch ms), got ${JSON.stringify(v)}`);
  return formatG13Time(t, timeZone);
}

// ---- stored values -------------------------------------------------------------------------

/** Load-profile status bits (manual 6.3.73) -> quality flags (lib/model/quality). */
export const LP_STATUS = { EXISTS: 0x01, RESTART: 0x02, TOO_LONG: 0x04, TOO_SHORT: 0x08, CLOCK_CHANGED: 0x10, BAD_VALUE: 0x20 } as const;

export function loadProfileQuality(status: number): number {
  let q = 0;
  if (status & LP_STATUS.RESTART) q |= Quality.SUSPECT;
  if (status & (LP_STATUS.TOO_LONG | LP_STATUS.TOO_SHORT)) q |= Quality.SUSPECT;
  if (status & LP_STATUS.CLOCK_CHANGED) q |= Quality.CLOCK_ADJUSTED;
  if (status & LP_STATUS.BAD_VALUE) q |= Quality.SUSPECT;
  if (!(status & LP_STATUS.EXISTS)) q |= Quality.ESTIMATED;
  return q;
}

export interface LoadProfileResult { readings: Reading[]; skipped: { item: unknown; reason: string }[]; quantity?: Quantity; unit: string }

/**
 * GET .../loadprofiles/<ch>/<from>/<to|count>: {"mapping":["active_import_total","Wh"],"items":[[status,time,value],...]}.
 * Items are [status, timestamp, value] (numbers or strings); the mapping may be one pair or a list
 * of pairs. Items whose time or value will not parse are skipped and listed, never invented.
 */
export function loadProfileReadings(body: unknown, meter: string, timeZone = 'UTC', channelQuantity?: number): LoadProfileResult {
  const b = body as { mapping?: unknown; items?: unknown };
  if (!b || typeof b !== 'object' || !Array.isArray(b.items)) throw new Error(`load profile has no items array: ${JSON.stringify(body)?.slice(0, 200)}`);
  let map: unknown = b.mapping;
  if (Array.isArray(map) && Array.isArray(map[0])) map = map[0];
  const name = Array.isArray(map) ? String(map[0] ?? '') : '';
  const rawUnit = Array.isArray(map) && map.length > 1 ? String(map[1] ?? '') : '';
  const quantity = quantityOf(name) ?? (channelQuantity !== undefined ? quantityOf(channelQuantity) : undefined);
  const unit = quantity?.unit ?? rawUnit;
  const readings: Reading[] = [];
  const skipped: LoadProfileResult['skipped'] = [];
  for (const item of b.items) {
    try {
      if (!Array.isArray(item) || item.length < 3) throw new Error('not a [status, timestamp, value] item');
      const status = Number(item[0]);
      if (!Number.isInteger(status)) throw new Error(`status is not an integer: ${JSON.stringify(item[0])}`);
      const time = parseG13Time(item[1], timeZone, 'timestamp');
      const v = parseValue(Array.isArray(item[2]) ? item[2] : [item[2], rawUnit], 'value');
      if (!quantity?.obis) throw new Error(`no OBIS code for load-profile quantity "${name}"`);
      const reading: Reading = { meter, time, obis: quantity.obis, value: toUnit({ value: v.value, unit: v.unit || rawUnit }, unit), unit };
      const quality = loadProfileQuality(status);
      if (quality) reading.quality = quality;
      readings.push(reading);
    } catch (err) {
      skipped.push({ item, reason: (err as Error).message });
    }
  }
  readings.sort((a, b2) => a.time - b2.time);
  return { readings, skipped, quantity, unit };
}

/** Previous-value status (manual 6.3.69): bit1 error, bit0 clear = not available, bit2 power off. */
export function previousValueState(status: number): 'ok' | 'error' | 'not-available' | 'power-off' {
  if (status & 0x02) return 'error';
  if (!(status & 0x01)) return 'not-available';
  return status & 0x04 ? 'power-off' : 'ok';
}
