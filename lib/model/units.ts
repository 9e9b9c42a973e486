/**
 * The unit table. Every unit belongs to a dimension with one canonical unit; readings are stored in
 * the canonical unit (energy kWh, power kW, volume m3, ...), converted on the way in.
 * value_in_canonical = value * factor + offset.
 */
export interface UnitInfo {
  unit: string;
  dimension: string;
  canonical: string;
  factor: number;
  offset?: number;
}

type Row = [unit: string, factor: number, offset?: number];

const DIMENSIONS: Record<string, { canonical: string; units: Row[] }> = {
  'active energy': { canonical: 'kWh', units: [['Wh', 1e-3], ['kWh', 1], ['MWh', 1e3], ['GWh', 1e6]] },
  'reactive energy': { canonical: 'kvarh', units: [['varh', 1e-3], ['kvarh', 1], ['Mvarh', 1e3]] },
  'apparent energy': { canonical: 'kVAh', units: [['VAh', 1e-3], ['kVAh', 1], ['MVAh', 1e3]] },
  'heat energy': { canonical: 'GJ', units: [['J', 1e-9], ['kJ', 1e-6], ['MJ', 1e-3], ['GJ', 1], ['TJ', 1e3]] },
  'active power': { canonical: 'kW', units: [['W', 1e-3], ['kW', 1], ['MW', 1e3]] },
  'reactive power': { canonical: 'kvar', units: [['var', 1e-3], ['kvar', 1], ['Mvar', 1e3]] },
  'apparent power': { canonical: 'kVA', units: [['VA', 1e-3], ['kVA', 1], ['MVA', 1e3]] },
  'heat power': { canonical: 'kW', units: [['J/h', 1e-3 / 3600], ['MJ/h', 1 / 3.6], ['GJ/h', 1e3 / 3.6]] },
  voltage: { canonical: 'V', units: [['mV', 1e-3], ['V', 1], ['kV', 1e3]] },
  current: { canonical: 'A', units: [['mA', 1e-3], ['A', 1], ['kA', 1e3]] },
  frequency: { canonical: 'Hz', units: [['Hz', 1], ['mHz', 1e-3]] },
  volume: { canonical: 'm3', units: [['ml', 1e-6], ['l', 1e-3], ['m3', 1], ['ft3', 0.028316846592]] },
  'volume flow': { canonical: 'm3/h', units: [['l/h', 1e-3], ['l/min', 0.06], ['l/s', 3.6], ['m3/h', 1], ['m3/min', 60], ['m3/s', 3600]] },
  mass: { canonical: 'kg', units: [['g', 1e-3], ['kg', 1], ['t', 1e3]] },
  'mass flow': { canonical: 'kg/h', units: [['kg/h', 1], ['t/h', 1e3], ['kg/s', 3600]] },
  temperature: { canonical: 'degC', units: [['degC', 1], ['degF', 5 / 9, -160 / 9], ['mdegC', 1e-3]] },
  'temperature difference': { canonical: 'K', units: [['K', 1], ['mK', 1e-3]] },
  pressure: { canonical: 'bar', units: [['mbar', 1e-3], ['bar', 1], ['Pa', 1e-5], ['kPa', 1e-2], ['MPa', 10]] },
  time: { canonical: 's', units: [['s', 1], ['min', 60], ['h', 3600], ['d', 86400]] },
  ratio: { canonical: '', units: [['', 1], ['%', 1e-2], ['ppm', 1e-6]] },
  angle: { canonical: 'deg', units: [['deg', 1], ['rad', 180 / Math.PI]] },
  'heat cost allocation': { canonical: 'HCA', units: [['HCA', 1]] },
  count: { canonical: 'count', units: [['count', 1], ['imp', 1]] },
};

/** Spellings seen in the field, mapped to the table's names. */
const ALIASES: Record<string, string> = {
  '°C': 'degC', 'Cel': 'degC', '℃': 'degC', '°F': 'degF', 'm³': 'm3', 'm^3': 'm3', 'L': 'l', 'dm3': 'l',
  'm³/h': 'm3/h', 'm^3/h': 'm3/h', 'L/h': 'l/h', 'VAr': 'var', 'VAR': 'var', 'kVAr': 'kvar', 'kVAR': 'kvar',
  'kVArh': 'kvarh', 'kVARh': 'kvarh', 'VArh': 'varh', 'Varh': 'varh', 'kW h': 'kWh', 'kW·h': 'kWh', 'KWh': 'kWh',
  'kwh': 'kWh', 'KW': 'kW', 'kw': 'kW', 'hz': 'Hz', 'pct': '%', 'sec': 's', 'ft³': 'ft3', 'none': '', '-': '',
};

const TABLE = new Map<string, UnitInfo>();
for (const [dimension, { canonical, units }] of Object.entries(DIMENSIONS)) {
  for (const [unit, factor, offset] of units) {
    if (!TABLE.has(unit)) TABLE.set(unit, { unit, dimension, canonical, factor, offset });
  }
}

/** Looks a unit up (aliases included); throws an Error naming the unit when it is not in the table. */
export function unitInfo(unit: string): UnitInfo {
  const name = unit in ALIASES ? ALIASES[unit] : unit;
  const info = TABLE.get(name);
  if (!info) throw new Error(`unknown unit "${unit}"`);
  return info;
}

export function isKnownUnit(unit: unknown): boolean {
  return typeof unit === 'string' && (TABLE.has(unit) || unit in ALIASES);
}

/** Converts a value to its dimension's canonical unit (Wh -> kWh, W -> kW, l -> m3, ...). */
export function toCanonical(value: number, unit: string): { value: number; unit: string } {
  const info = unitInfo(unit);
  return { value: roundNoise(value * info.factor + (info.offset ?? 0)), unit: info.canonical };
}

/** Converts between two units of one dimension; throws when they measure different things. */
export function convert(value: number, from: string, to: string): number {
  const a = unitInfo(from);
  const b = unitInfo(to);
  if (a.dimension !== b.dimension) throw new Error(`cannot convert ${from} (${a.dimension}) to ${to} (${b.dimension})`);
  const canonical = value * a.factor + (a.offset ?? 0);
  return roundNoise((canonical - (b.offset ?? 0)) / b.factor);
}

/** Energy in kWh from either an electrical or a heat energy unit (1 kWh = 3.6 MJ). */
export function energyToKWh(value: number, unit: string): number {
  const info = unitInfo(unit);
  if (info.dimension === 'active energy') return convert(value, unit, 'kWh');
  if (info.dimension === 'heat energy') return roundNoise(convert(value, unit, 'MJ') / 3.6);
  throw new Error(`"${unit}" is not an energy unit`);
}

/** Removes binary noise from scaling (0.1 * 3 = 0.30000000000000004) without losing meter resolution. */
export function roundNoise(x: number): number {
  return Number.isFinite(x) ? Number.parseFloat(x.toPrecision(15)) : x;
}

export function dimensions(): string[] {
  return Object.keys(DIMENSIONS);
}
