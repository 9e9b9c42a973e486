/**
 * Lenient reading of a request's argument object: the seed spells the same field several ways
 * (priceId/priceld/pricelId/pricelid, areaId/areald/areaid, devEui/devEUI/deveui, gasType/meterType,
 * energyType/energyTypes, id/Id), sends numbers as strings and uses "" for "absent".
 */
import { Decimal } from '../../money/decimal';

/** Platform failure: errcode "-31" (authentication) or "-1" (everything else). */
export class PlatformError extends Error {
  constructor(readonly errcode: '-1' | '-31', message: string) {
    super(message);
    this.name = 'PlatformError';
  }
}

export const fail = (message: string): never => { throw new PlatformError('-1', message); };

/** Accepted spellings of each field (digest §5). */
export const ALIASES: Record<string, string[]> = {
  priceId: ['priceId', 'priceld', 'pricelId', 'pricelid', 'priceid', 'priceID'],
  areaId: ['areaId', 'areald', 'areaid', 'areaID', 'areaOrgId'],
  devEui: ['devEui', 'devEUI', 'deveui', 'DevEui', 'DEVEUI'],
  devEuis: ['devEuis', 'devEUIs', 'deveuis', 'devEui', 'devEUI', 'deveui'],
  gasType: ['gasType', 'meterType'],
  energyType: ['energyType', 'energyTypes'],
  id: ['id', 'Id', 'ID'],
  oldDeveui: ['oldDeveui', 'oldDevEui', 'oldDevEUI'],
  newDeveui: ['newDeveui', 'newDevEui', 'newDevEUI'],
  topUpAmount: ['topUpAmount', 'topUpToDeviceAmount'],
  gwID: ['gwID', 'gwId', 'gwid'],
};

export const ENERGY_TYPES = ['WATER', 'ELECTRICITY', 'HEATING', 'GAS', 'LIQUEFIEDGAS'] as const;
export type EnergyType = typeof ENERGY_TYPES[number];
/** Bills give the energy type as a number (0 water, 1 electricity, 3 gas; 2 heating, 4 LPG inferred). */
export const ENERGY_CODE: Record<EnergyType, number> = { WATER: 0, ELECTRICITY: 1, HEATING: 2, GAS: 3, LIQUEFIEDGAS: 4 };

export class Params {
  constructor(readonly raw: Record<string, unknown>) {}

  /** The first present spelling of `name`; "" and null count as absent. */
  get(name: string): unknown {
    for (const key of ALIASES[name] ?? [name]) {
      const v = this.raw[key];
      if (v !== undefined && v !== null && v !== '') return v;
    }
    return undefined;
  }

  has(name: string): boolean {
    return this.get(name) !== undefined;
  }

  str(name: string, required = false): string | undefined {
    const v = this.get(name);
    if (v === undefined) return required ? fail(`${name} is required`) : undefined;
    if (typeof v !== 'string' && typeof v !== 'number' && typeof v !== 'boolean') return fail(`${name} ${JSON.stringify(v)} must be text`);
    return String(v).trim();
  }

  int(name: string, opts: { required?: boolean; min?: number; max?: number } = {}): number | undefined {
    const s = this.str(name, opts.required);
    if (s === undefined) return undefined;
    const n = Number(s);
    const min = opts.min ?? 0;
    const max = opts.max ?? Number.MAX_SAFE_INTEGER;
    if (!/^-?\d+$/.test(s) || n < min || n > max) return fail(`${name} ${JSON.stringify(this.get(name))} must be a whole number from ${min} to ${max}`);
    return n;
  }

  dec(name: string, required = false): Decimal | undefined {
    const s = this.str(name, required);
    if (s === undefined) return undefined;
    const d = Decimal.parse(s);
    return d ?? fail(`${name} ${JSON.stringify(this.get(name))} must be a decimal number`);
  }

  energyType(required = false): EnergyType | undefined {
    const s = this.str('energyType', required);
    if (s === undefined) return undefined;
    const norm = s.toUpperCase().replace(/[\s_]/g, '');
    const t = norm === 'HEAT' ? 'HEATING' : norm;
    if (!(ENERGY_TYPES as readonly string[]).includes(t) && t !== 'BUILDINGS') {
      return fail(`energyType ${JSON.stringify(s)} must be one of ${ENERGY_TYPES.join(', ')}`);
    }
    return t as EnergyType;
  }

  /** A device EUI: 16 hex characters (the seed's "16-byte hex"). */
  devEui(name = 'devEui', required = true): string | undefined {
    const s = this.str(name, required);
    if (s === undefined) return undefined;
    return checkEui(name, s);
  }

  /** A list of EUIs from an array or a comma-separated string. */
  devEuis(name = 'devEuis'): string[] {
    const v = this.get(name);
    if (v === undefined) return fail(`${name} is required`);
    const items = Array.isArray(v) ? v.map(String) : String(v).split(',');
    const list = items.map((x) => x.trim()).filter(Boolean);
    if (!list.length) fail(`${name} ${JSON.stringify(v)} lists no device`);
    return list.map((x) => checkEui(name, x));
  }

  page(maxSize: number): { pageNumber: number; pageSize: number } {
    const pageNumber = this.int('pageNumber', { min: 1 }) ?? 1;
    const pageSize = this.int('pageSize', { min: 1, max: maxSize }) ?? 10;
    return { pageNumber, pageSize };
  }
}

export function checkEui(name: string, s: string): string {
  if (!/^[0-9a-fA-F]{16}$/.test(s)) fail(`${name} ${JSON.stringify(s)} must be 16 hexadecimal characters`);
  return s.toLowerCase();
}

/** One page of `rows` and its pageInfo (pageTotal = the number of records, digest §2.9). */
export function paged<T>(rows: T[], page: { pageNumber: number; pageSize: number }) {
  const start = (page.pageNumber - 1) * page.pageSize;
  return { pageInfo: { pageTotal: rows.length, pageNumber: page.pageNumber, pageSize: page.pageSize }, values: rows.slice(start, start + page.pageSize) };
}

/** Platform-local "yyyy-MM-dd HH:mm:ss" (the clock's UTC plus `offsetMin`). */
export function formatTime(ms: number, offsetMin: number): string {
  return new Date(ms + offsetMin * 60_000).toISOString().replace('T', ' ').slice(0, 19);
}

export function parseTime(name: string, text: string | undefined, offsetMin: number): number {
  const m = text === undefined ? null : /^(\d{4})-(\d{2})-(\d{2}) (\d{2}):(\d{2}):(\d{2})$/.exec(text);
  if (!m) return fail(`${name} ${JSON.stringify(text ?? '')} must be a time yyyy-MM-dd HH:mm:ss`);
  const ms = Date.UTC(+m[1], +m[2] - 1, +m[3], +m[4], +m[5], +m[6]);
  if (Number.isNaN(ms) || new Date(ms).getUTCDate() !== +m[3]) fail(`${name} ${JSON.stringify(text)} is not a valid date`);
  return ms - offsetMin * 60_000;
}

/** Fuzzy match (substring, case-insensitive) of `needle` in any of `fields`. */
export function fuzzy(needle: string | undefined, ...fields: unknown[]): boolean {
  if (!needle) return true;
  const n = needle.toLowerCase();
  return fields.some((f) => f !== undefined && f !== null && String(f).toLowerCase().includes(n));
}
