/**
 * Per-interval classification before the hot loop: energy type, register and the quantity in integer
 * micro-units of the energy type's base unit (kWh for electricity and heat, m3 for water and gas).
 * Lookups are cached per OBIS text and unit, so this pass does no parsing per interval.
 */
import { Decimal } from '../money/decimal';
import { parseObis } from '../model/obis';
import { unitInfo } from '../model/units';
import { ENERGY_TYPES, type ConsumptionInterval, type EnergyType } from './types';

/** An error naming the interval or field that cannot be priced. */
export class PriceError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PriceError';
  }
}

/** Accumulator key of an interval: energy type index x 5 + register (0 = not a register, 1..4 = T1..T4). */
export const REGISTERS = 5;
export const KEYS = ENERGY_TYPES.length * REGISTERS;
export const BASE_UNIT: Record<EnergyType, string> = { electricity: 'kWh', heat: 'kWh', water: 'm3', gas: 'm3' };

const MEDIUM_TYPE: Record<number, EnergyType> = { 1: 'electricity', 6: 'heat', 7: 'gas', 8: 'water', 9: 'water' };
const KWH_PER_GJ = 1e6 / 3600;

/** Factor from `unit` to the energy type's base unit, or undefined when the unit does not fit. */
function baseFactor(unit: string, type: EnergyType): number | undefined {
  const info = unitInfo(unit);
  if (type === 'water' || type === 'gas') return info.dimension === 'volume' ? info.factor : undefined;
  if (info.dimension === 'active energy') return info.factor;
  if (type === 'heat' && info.dimension === 'heat energy') return info.factor * KWH_PER_GJ;
  return undefined;
}

function where(iv: ConsumptionInterval, i: number): string {
  return `interval ${i}${Number.isFinite(iv.start) ? ` (start ${new Date(iv.start).toISOString()})` : ''}`;
}

function badInterval(iv: ConsumptionInterval, i: number): never {
  if (!Number.isFinite(iv.start) || !Number.isFinite(iv.end)) throw new PriceError(`${where(iv, i)}: start and end must be epoch ms, got ${JSON.stringify(iv.start)} and ${JSON.stringify(iv.end)}`);
  if (iv.end <= iv.start) throw new PriceError(`${where(iv, i)}: end must be after start, got end ${new Date(iv.end).toISOString()}`);
  throw new PriceError(`${where(iv, i)}: quantity must be a finite number, got ${JSON.stringify(iv.quantity)}`);
}

/** Accumulator key and factor to micro base units of one interval's obis/unit/energyType. */
function classify(iv: ConsumptionInterval, i: number, obisCache: Map<string, { type?: EnergyType; register: number }>, unitCache: Map<string, number | undefined>): { key: number; factor: number } {
  let o: { type?: EnergyType; register: number } = { register: 0 };
  if (iv.obis !== undefined) {
    const cached = obisCache.get(iv.obis);
    if (cached) o = cached;
    else {
      let code;
      try {
        code = parseObis(iv.obis);
      } catch (e) {
        throw new PriceError(`${where(iv, i)}: obis ${(e as Error).message}`);
      }
      o = { type: MEDIUM_TYPE[code.medium], register: code.tariff >= 1 && code.tariff <= 4 ? code.tariff : 0 };
      obisCache.set(iv.obis, o);
    }
  }
  let type = iv.energyType ?? o.type;
  if (type !== undefined && !ENERGY_TYPES.includes(type)) throw new PriceError(`${where(iv, i)}: energyType must be one of ${ENERGY_TYPES.join(', ')}, got ${JSON.stringify(type)}`);
  let info;
  try {
    info = unitInfo(iv.unit);
  } catch {
    throw new PriceError(`${where(iv, i)}: unknown unit ${JSON.stringify(iv.unit)}`);
  }
  if (type === undefined) {
    if (info.dimension === 'active energy') type = 'electricity';
    else if (info.dimension === 'heat energy') type = 'heat';
    else throw new PriceError(`${where(iv, i)}: unit ${JSON.stringify(iv.unit)} needs an energyType or obis to tell water from gas`);
  }
  const ukey = `${type}|${iv.unit}`;
  if (!unitCache.has(ukey)) unitCache.set(ukey, baseFactor(iv.unit, type));
  const factor = unitCache.get(ukey);
  if (factor === undefined) throw new PriceError(`${where(iv, i)}: unit ${JSON.stringify(iv.unit)} does not measure ${type}`);
  return { key: ENERGY_TYPES.indexOf(type) * REGISTERS + o.register, factor };
}

export interface Classified {
  key: Int32Array;
  micro: Float64Array;
}

export function classifyIntervals(intervals: ConsumptionInterval[]): Classified {
  const n = intervals.length;
  const key = new Int32Array(n);
  const micro = new Float64Array(n);
  const obisCache = new Map<string, { type?: EnergyType; register: number }>();
  const unitCache = new Map<string, number | undefined>();
  // The previous interval's obis/unit/energyType and result: series of one meter repeat them.
  let lastObis: string | undefined;
  let lastUnit: string | undefined;
  let lastType: EnergyType | undefined;
  let lastKey = -1;
  let lastFactor = 0;
  for (let i = 0; i < n; i++) {
    const iv = intervals[i];
    if (!iv || typeof iv !== 'object') throw new PriceError(`interval ${i}: expected an object, got ${JSON.stringify(iv)}`);
    const { start, end, quantity } = iv;
    if (!(end > start) || !Number.isFinite(start) || !Number.isFinite(end) || typeof quantity !== 'number' || !Number.isFinite(quantity)) badInterval(iv, i);
    if (lastKey < 0 || iv.obis !== lastObis || iv.unit !== lastUnit || iv.energyType !== lastType) {
      const c = classify(iv, i, obisCache, unitCache);
      lastObis = iv.obis;
      lastUnit = iv.unit;
      lastType = iv.energyType;
      lastKey = c.key;
      lastFactor = c.factor;
    }
    key[i] = lastKey;
    micro[i] = Math.round(quantity * lastFactor * 1e6);
  }
  return { key, micro };
}

/** Micro-units of an energy type's base unit converted to `unit`, at 6 decimals. */
export function baseToUnit(micro: bigint | number, type: EnergyType, unit: string): Decimal {
  const q = Decimal.fromUnits(typeof micro === 'bigint' ? micro : BigInt(micro), 6);
  const info = unitInfo(unit);
  if (info.dimension === 'heat energy') return q.mul('0.0036').div(Decimal.from(info.factor), 6, 'half-even').trimmed();
  if (info.unit === BASE_UNIT[type]) return q.trimmed();
  return q.div(Decimal.from(info.factor), 6, 'half-even').trimmed();
}
