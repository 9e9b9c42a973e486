/**
 * DLMS/COSEM unit codes (IEC 62056-62, the table SML uses) -> symbols. `unit` is the name in the EMS
 * unit table (lib/model/units) when it has one; values of other units stay in msg.sml only.
 */
import { isKnownUnit, roundNoise, toCanonical, unitInfo } from '../../model/units';

export interface DlmsUnit { symbol: string; unit?: string; factor?: number }

const U = (symbol: string, unit?: string, factor?: number): DlmsUnit => ({ symbol, unit, factor });

export const DLMS_UNITS: Record<number, DlmsUnit> = {
  1: U('a'), 2: U('mo'), 3: U('wk'), 4: U('d', 'd'), 5: U('h', 'h'), 6: U('min', 'min'), 7: U('s', 's'),
  8: U('°', 'deg'), 9: U('°C', 'degC'), 10: U('currency'), 11: U('m'), 12: U('m/s'),
  13: U('m³', 'm3'), 14: U('m³ (corrected)', 'm3'), 15: U('m³/h', 'm3/h'), 16: U('m³/h (corrected)', 'm3/h'),
  17: U('m³/d', 'm3/h', 1 / 24), 18: U('m³/d (corrected)', 'm3/h', 1 / 24), 19: U('l', 'l'), 20: U('kg', 'kg'),
  21: U('N'), 22: U('Nm'), 23: U('Pa', 'Pa'), 24: U('bar', 'bar'), 25: U('J', 'J'), 26: U('J/h', 'J/h'),
  27: U('W', 'W'), 28: U('VA', 'VA'), 29: U('var', 'var'), 30: U('Wh', 'Wh'), 31: U('VAh', 'VAh'), 32: U('varh', 'varh'),
  33: U('A', 'A'), 34: U('C'), 35: U('V', 'V'), 36: U('V/m'), 37: U('F'), 38: U('Ω'), 39: U('Ωm²/m'), 40: U('Wb'),
  41: U('T'), 42: U('A/m'), 43: U('H'), 44: U('Hz', 'Hz'), 45: U('1/(Wh)'), 46: U('1/(varh)'), 47: U('1/(VAh)'),
  48: U('V²h'), 49: U('A²h'), 50: U('kg/s', 'kg/s'), 51: U('S'), 52: U('K', 'K'), 53: U('1/(V²h)'), 54: U('1/(A²h)'),
  55: U('1/m³'), 56: U('%', '%'), 57: U('Ah'), 60: U('Wh/m³'), 61: U('J/m³'), 62: U('mol %'), 63: U('g/m³'),
  64: U('Pa s'), 65: U('J/kg'), 70: U('dBm'), 71: U('dBµV'), 72: U('dB'), 254: U('other'), 255: U('count'),
};

export function dlmsUnit(code: number | null): DlmsUnit | undefined {
  return code === null ? undefined : DLMS_UNITS[code];
}

export interface Canonical { unit: string; convert(v: number): number }
const canonical = new Map<number, Canonical | null>();

/**
 * The EMS canonical unit of a DLMS unit code and its conversion (null: not in the EMS table). Power of
 * ten factors divide or multiply (14798112.9 Wh / 1000 is exactly the nearest double of 14798.1129).
 */
export function canonicalUnit(code: number | null): Canonical | null {
  if (code === null) return null;
  let c = canonical.get(code);
  if (c !== undefined) return c;
  const u = DLMS_UNITS[code];
  c = null;
  if (u?.unit && isKnownUnit(u.unit)) {
    const info = unitInfo(u.unit);
    const f = info.factor * (u.factor ?? 1);
    const inv = Math.round(1 / f);
    if (!info.offset && Number.isInteger(f) && f >= 1) c = { unit: info.canonical, convert: (v) => v * f };
    else if (!info.offset && Math.abs(1 / f - inv) < 1e-9 && inv > 1) c = { unit: info.canonical, convert: (v) => roundNoise(v / inv) };
    else { const name = u.unit; const k = u.factor ?? 1; c = { unit: info.canonical, convert: (v) => toCanonical(v * k, name).value }; }
  }
  canonical.set(code, c);
  return c;
}
