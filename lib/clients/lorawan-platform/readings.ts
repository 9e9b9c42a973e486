/** Platform values -> canonical Readings (OBIS per energy type, units converted to the canonical ones). */
import { toCanonical } from '../../model/units';
import type { Reading } from '../../model/reading';

/** The register a platform meter reports, per energyType: OBIS and the unit the platform counts in. */
/** Heat meters count kWh of heat; `factor` turns that into `unit` (3.6 MJ per kWh), then GJ. */
export const ENERGY_OBIS: Record<string, { obis: string; unit: string; factor?: number }> = {
  WATER: { obis: '8-0:1.0.0', unit: 'm3' },
  GAS: { obis: '7-0:3.0.0', unit: 'm3' },
  LIQUEFIEDGAS: { obis: '7-0:3.0.0', unit: 'm3' },
  HEATING: { obis: '6-0:1.0.0', unit: 'MJ', factor: 3.6 },
  ELECTRICITY: { obis: '1-0:1.8.0', unit: 'kWh' },
};

/** "yyyy-MM-dd HH:mm:ss" in the platform's local time (UTC + offset minutes) -> epoch ms. */
export function platformTime(text: unknown, utcOffsetMin = 0): number {
  const m = /^(\d{4})-(\d{2})-(\d{2})[ T](\d{2}):(\d{2}):(\d{2})$/.exec(String(text ?? '').trim());
  if (!m) throw new Error(`time ${JSON.stringify(text)} is not yyyy-MM-dd HH:mm:ss`);
  return Date.UTC(+m[1], +m[2] - 1, +m[3], +m[4], +m[5], +m[6]) - utcOffsetMin * 60_000;
}

/** Epoch ms -> the platform's "yyyy-MM-dd HH:mm:ss". */
export function formatPlatformTime(ms: number, utcOffsetMin = 0): string {
  return new Date(ms + utcOffsetMin * 60_000).toISOString().replace('T', ' ').slice(0, 19);
}

/** One register value as a Reading; the energy type names the OBIS code and unit. */
export function toReading(meter: string, energyType: unknown, value: unknown, time: number): Reading {
  const type = String(energyType ?? '').toUpperCase().replace(/[\s_]/g, '');
  const spec = ENERGY_OBIS[type === 'HEAT' ? 'HEATING' : type];
  if (!spec) throw new Error(`energyType ${JSON.stringify(energyType)} is not one of ${Object.keys(ENERGY_OBIS).join(', ')}`);
  const n = typeof value === 'number' ? value : Number(String(value ?? '').trim());
  if (value === '' || value === '-' || value === undefined || !Number.isFinite(n)) throw new Error(`reading ${JSON.stringify(value)} of meter ${meter} is not a number`);
  const c = toCanonical(n * (spec.factor ?? 1), spec.unit);
  return { meter, time, obis: spec.obis, value: c.value, unit: c.unit };
}

/** getMeterReadings rows -> Readings (meter id = the row's device EUI if given, else its meter address). */
export function recordsToReadings(rows: Record<string, unknown>[], utcOffsetMin = 0, meterOf?: (row: Record<string, unknown>) => string): Reading[] {
  return rows.map((r) => toReading(meterOf ? meterOf(r) : String(r.deveui ?? r.archivesAddress), r.energyType, r.readings ?? r.freezeReading, platformTime(r.meterReadingtime, utcOffsetMin)));
}
