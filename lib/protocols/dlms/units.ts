/**
 * COSEM logical names (OBIS, 6 bytes) and the DLMS unit enumeration (Blue Book 4.3.2, scaler_unit).
 *
 *   obisFromBytes(b) -> "1-0:1.8.0.255"     obisToBytes("1-0:1.8.0") (F defaults to 255)
 *   canonicalObis("1-0:1.8.0.255") -> "1-0:1.8.0" (the project's reading form; F = 255 dropped)
 *   DLMS_UNITS[code] -> { symbol, unit? }   unit: the project's unit name (lib/model/units.ts) where one exists
 *   scaled(value, scaler, unitCode) -> { value, unit? }   value * 10^scaler with the unit named
 */
import { DlmsDecodeError } from './errors';

export function obisFromBytes(b: Uint8Array, offset = -1): string {
  if (b.length !== 6) throw new DlmsDecodeError(`logical name is ${b.length} bytes, 6 expected`, offset);
  return `${b[0]}-${b[1]}:${b[2]}.${b[3]}.${b[4]}.${b[5]}`;
}

export function obisToBytes(obis: string): Buffer {
  const m = /^(\d+)-(\d+):(\d+)\.(\d+)\.(\d+)(?:[.*&](\d+))?$/.exec(obis.trim());
  if (!m) throw new RangeError(`logical name ${JSON.stringify(obis)} is not A-B:C.D.E[.F]`);
  const parts = m.slice(1, 7).map((v, i) => (v === undefined && i === 5 ? 255 : Number(v)));
  for (const v of parts) if (v > 255) throw new RangeError(`logical name ${JSON.stringify(obis)} has a group above 255`);
  return Buffer.from(parts);
}

export function canonicalObis(obis: string): string {
  return obis.endsWith('.255') ? obis.slice(0, -4) : obis;
}

export interface DlmsUnit {
  symbol: string;
  /** The name in lib/model/units.ts, when the project knows the unit. */
  unit?: string;
}

/** The unit enumeration of the Blue Book's scaler_unit; symbols as the Blue Book writes them. */
export const DLMS_UNITS: Record<number, DlmsUnit> = {
  1: { symbol: 'a' }, 2: { symbol: 'mo' }, 3: { symbol: 'wk' }, 4: { symbol: 'd', unit: 'd' }, 5: { symbol: 'h', unit: 'h' },
  6: { symbol: 'min', unit: 'min' }, 7: { symbol: 's', unit: 's' }, 8: { symbol: '°', unit: 'deg' }, 9: { symbol: '°C', unit: 'degC' },
  10: { symbol: 'currency' }, 11: { symbol: 'm' }, 12: { symbol: 'm/s' }, 13: { symbol: 'm3', unit: 'm3' },
  14: { symbol: 'm3 (corrected)', unit: 'm3' }, 15: { symbol: 'm3/h', unit: 'm3/h' }, 16: { symbol: 'm3/h (corrected)', unit: 'm3/h' },
  17: { symbol: 'm3/d' }, 18: { symbol: 'm3/d (corrected)' }, 19: { symbol: 'l', unit: 'l' }, 20: { symbol: 'kg', unit: 'kg' },
  21: { symbol: 'N' }, 22: { symbol: 'Nm' }, 23: { symbol: 'Pa', unit: 'Pa' }, 24: { symbol: 'bar', unit: 'bar' },
  25: { symbol: 'J', unit: 'J' }, 26: { symbol: 'J/h', unit: 'J/h' }, 27: { symbol: 'W', unit: 'W' }, 28: { symbol: 'VA', unit: 'VA' },
  29: { symbol: 'var', unit: 'var' }, 30: { symbol: 'Wh', unit: 'Wh' }, 31: { symbol: 'VAh', unit: 'VAh' }, 32: { symbol: 'varh', unit: 'varh' },
  33: { symbol: 'A', unit: 'A' }, 34: { symbol: 'C' }, 35: { symbol: 'V', unit: 'V' }, 36: { symbol: 'V/m' }, 37: { symbol: 'F' },
  38: { symbol: 'Ω' }, 39: { symbol: 'Ωm2/m' }, 40: { symbol: 'Wb' }, 41: { symbol: 'T' }, 42: { symbol: 'A/m' }, 43: { symbol: 'H' },
  44: { symbol: 'Hz', unit: 'Hz' }, 45: { symbol: '1/(Wh)' }, 46: { symbol: '1/(varh)' }, 47: { symbol: '1/(VAh)' },
  48: { symbol: 'V2h' }, 49: { symbol: 'A2h' }, 50: { symbol: 'kg/s', unit: 'kg/s' }, 51: { symbol: 'S' }, 52: { symbol: 'K', unit: 'K' },
  53: { symbol: '1/(V2h)' }, 54: { symbol: '1/(A2h)' }, 55: { symbol: '1/m3' }, 56: { symbol: '%', unit: '%' }, 57: { symbol: 'Ah' },
  255: { symbol: '', unit: '' },
};

export function dlmsUnit(code: number): DlmsUnit {
  return DLMS_UNITS[code] ?? { symbol: code === 254 ? 'other' : `unit ${code}` };
}

/** value * 10^scaler, rounded to the scaler's decimals so 2306 * 10^-1 is 230.6, not 230.60000000000002. */
export function scaled(value: number, scaler: number, unitCode: number): { value: number; unit?: string; symbol: string } {
  const v = scaler < 0 ? Number((value * 10 ** scaler).toFixed(Math.min(20, -scaler))) : value * 10 ** scaler;
  const u = dlmsUnit(unitCode);
  return { value: v, unit: u.unit, symbol: u.symbol };
}
