/**
 * Energy categories as data (MyEMS's energy categories): each has a unit, the OBIS media a meter is
 * derived into it by (when its energy_category is empty), the registers whose consumption it counts,
 * and factors to standard coal (kgce) and carbon (kgCO2e) per unit with validity periods.
 *
 * A factor period { from: 'YYYY-MM-DD', kgce, kgco2e } is valid from local midnight of its date (in the
 * zone of the report that uses it) to the next period's date; the first period also covers everything
 * before it. A report period spanning a change date is split at that instant (site-report.ts).
 *
 * Built-ins (electricity, water, gas, heat, cooling, steam) cannot be deleted, but their names and
 * factors can be edited; user-defined categories can be added and deleted.
 *
 * Default factors (editable; check them against the edition you report under):
 * - kgce: GB/T 2589-2020 "General principles for calculation of the comprehensive energy consumption",
 *   equivalent values: electricity 0.1229 kgce/kWh, heat 0.03412 kgce/MJ (34.12 per GJ, 0.1229 per kWh),
 *   natural gas 1.2143 kgce/m3 (35,544 kJ/m3), fresh water 0.2571 kgce/t (= per m3), steam (low pressure) 0.1286 kgce/kg.
 * - kgCO2e: electricity 0.380 kgCO2/kWh, the German grid mix of 2023 (Umweltbundesamt, "Entwicklung der spezifischen
 *   Treibhausgas-Emissionen des deutschen Strommix"); natural gas 2.04 kgCO2e/m3, water supply 0.149 kgCO2e/m3 and
 *   heat and steam 0.1797 kgCO2e/kWh (49.9 per GJ; steam at about 767 kWh/t: 137.8 per t) from the UK government's
 *   GHG conversion factors for company reporting 2023 (DESNZ); cooling 0.127 kgCO2e/kWh = the grid factor over a
 *   chiller COP of 3 (an assumption: edit it for your plant).
 */
import type { EmsDatabase } from './db';
import { ApiError } from './envelope';
import { checkName, type ConfigChange } from './tariffs';
import { Decimal } from '../money/decimal';
import { fromLocal } from '../model/time';
import { isKnownUnit } from '../model/units';
import { ENERGY_TYPES, type EnergyType } from '../tariff/types';

export interface FactorPeriod {
  /** Local date the factors apply from (YYYY-MM-DD). */
  from: string;
  /** kg of standard coal equivalent per unit (decimal string). */
  kgce: string;
  /** kg CO2 equivalent per unit (decimal string). */
  kgco2e: string;
}

export interface EnergyCategory {
  id: string;
  name: string;
  /** The unit consumption is reported in (kWh, m3, GJ, t, ...; the store's units, lib/model/units). */
  unit: string;
  /** OBIS media (group A) a meter without energy_category is derived into this category by. */
  media: number[];
  /** The registers counted, "A:C.D" (e.g. "1:1.8" active energy import, any channel and tariff). */
  registers: string[];
  /** Which cost-center tariff prices it (lib/tariff energy types); null = none. */
  tariff_type: EnergyType | null;
  /** Factor periods, oldest first. */
  factors: FactorPeriod[];
  built_in: boolean;
}

const F = (kgce: string, kgco2e: string): FactorPeriod[] => [{ from: '2000-01-01', kgce, kgco2e }];

/** The built-in categories with their default factors (sources in the module comment). */
export const BUILT_IN_CATEGORIES: readonly EnergyCategory[] = [
  { id: 'electricity', name: 'Electricity', unit: 'kWh', media: [1], registers: ['1:1.8'], tariff_type: 'electricity', factors: F('0.1229', '0.380'), built_in: true },
  { id: 'water', name: 'Water', unit: 'm3', media: [8, 9], registers: ['8:1.0', '9:1.0'], tariff_type: 'water', factors: F('0.2571', '0.149'), built_in: true },
  { id: 'gas', name: 'Natural gas', unit: 'm3', media: [7], registers: ['7:3.0', '7:13.0'], tariff_type: 'gas', factors: F('1.2143', '2.04'), built_in: true },
  { id: 'heat', name: 'Heat', unit: 'GJ', media: [6], registers: ['6:1.0'], tariff_type: 'heat', factors: F('34.12', '49.9'), built_in: true },
  { id: 'cooling', name: 'Cooling', unit: 'kWh', media: [5], registers: ['5:1.0'], tariff_type: null, factors: F('0.1229', '0.127'), built_in: true },
  { id: 'steam', name: 'Steam', unit: 't', media: [], registers: ['6:3.0'], tariff_type: null, factors: F('128.6', '137.8'), built_in: true },
];

const FIELDS = ['id', 'name', 'unit', 'media', 'registers', 'tariff_type', 'factors'];
const DATE = /^(\d{4})-(\d{2})-(\d{2})$/;
const DECIMAL = /^\d{1,12}(\.\d{1,12})?$/;

interface Row { id: string; body: string }

/** The instant a factor period starts in `timeZone` (local midnight of its date). */
export function factorStart(p: FactorPeriod, timeZone: string): number {
  const [, y, m, d] = DATE.exec(p.from)!.map(Number);
  return fromLocal({ year: y, month: m, day: d, hour: 0, minute: 0, second: 0, millisecond: 0 }, timeZone);
}

/** The period (index into factors) valid at `time`: the last that starts at or before it, else the first. */
export function factorIndexAt(factors: readonly FactorPeriod[], time: number, timeZone: string): number {
  let k = 0;
  for (let i = 1; i < factors.length; i++) if (factorStart(factors[i], timeZone) <= time) k = i;
  return k;
}

/** The factor change instants strictly inside (from, to), in order. */
export function factorChangesIn(factors: readonly FactorPeriod[], from: number, to: number, timeZone: string): number[] {
  return factors.slice(1).map((p) => factorStart(p, timeZone)).filter((t) => t > from && t < to);
}

/** The category a meter belongs to: its own energy_category, else the first whose media hold `medium` (null: none). */
export function categoryOf(categories: readonly EnergyCategory[], energyCategory: string, medium: number | null): EnergyCategory | null {
  if (energyCategory) return categories.find((c) => c.id === energyCategory) ?? null;
  if (medium === null) return null;
  return categories.find((c) => c.media.includes(medium)) ?? null;
}

function bad(field: string, value: unknown, rule: string): never {
  throw new ApiError(400, `${field} ${JSON.stringify(value)} ${rule}`);
}

function checkFactors(v: unknown): FactorPeriod[] {
  if (!Array.isArray(v) || v.length === 0 || v.length > 200) bad('factors', v, 'must be a list of 1-200 periods [{ from: "YYYY-MM-DD", kgce, kgco2e }]');
  const out = v.map((p: unknown, i: number): FactorPeriod => {
    const x = (typeof p === 'object' && p !== null && !Array.isArray(p) ? p : bad(`factors[${i}]`, p, 'must be an object { from, kgce, kgco2e }')) as Record<string, unknown>;
    for (const k of Object.keys(x)) if (!['from', 'kgce', 'kgco2e'].includes(k)) bad(`factors[${i}]`, k, 'is not a field (use from, kgce, kgco2e)');
    const m = typeof x.from === 'string' ? DATE.exec(x.from) : null;
    const ok = m && Number(m[2]) >= 1 && Number(m[2]) <= 12 && Number(m[3]) >= 1 && Number(m[3]) <= new Date(Date.UTC(Number(m[1]), Number(m[2]), 0)).getUTCDate();
    if (!ok || Number(m![1]) < 1970 || Number(m![1]) > 2100) bad(`factors[${i}].from`, x.from, 'must be a date YYYY-MM-DD in the years 1970..2100');
    const num = (k: 'kgce' | 'kgco2e'): string => {
      const s = typeof x[k] === 'number' && Number.isFinite(x[k]) && (x[k] as number) >= 0 ? Decimal.from(x[k] as number).toString() : x[k];
      if (typeof s !== 'string' || !DECIMAL.test(s)) bad(`factors[${i}].${k}`, x[k], 'must be a number of at least 0 (up to 12 decimals), per unit of the category');
      return Decimal.from(s).trimmed().toString();
    };
    return { from: x.from as string, kgce: num('kgce'), kgco2e: num('kgco2e') };
  });
  for (let i = 1; i < out.length; i++) if (out[i].from <= out[i - 1].from) bad(`factors[${i}].from`, out[i].from, `must come after factors[${i - 1}].from "${out[i - 1].from}" (periods oldest first, one per date)`);
  return out;
}

export class EnergyCategoryService {
  constructor(private readonly db: EmsDatabase, private readonly onChange: ConfigChange = () => {}, private readonly now: () => number = Date.now) {
    const insert = db.prepare('INSERT OR IGNORE INTO energy_categories (id, body, created_at, updated_at) VALUES (?, ?, ?, ?)');
    const t = now();
    db.transaction(() => { for (const c of BUILT_IN_CATEGORIES) insert.run(c.id, JSON.stringify(c), t, t); })();
  }

  list(): EnergyCategory[] {
    const rows = this.db.prepare('SELECT id, body FROM energy_categories').all() as Row[];
    const order = (c: EnergyCategory): number => { const i = BUILT_IN_CATEGORIES.findIndex((b) => b.id === c.id); return i < 0 ? BUILT_IN_CATEGORIES.length : i; };
    return rows.map(toCategory).sort((a, b) => order(a) - order(b) || a.id.localeCompare(b.id));
  }

  ids(): string[] {
    return (this.db.prepare('SELECT id FROM energy_categories ORDER BY id').all() as { id: string }[]).map((r) => r.id);
  }

  get(id: string): EnergyCategory {
    const row = this.db.prepare('SELECT id, body FROM energy_categories WHERE id = ?').get(id) as Row | undefined;
    if (!row) throw new ApiError(404, `unknown energy category "${id}"`);
    return toCategory(row);
  }

  create(body: unknown, by?: string): EnergyCategory {
    const b = asObject(body);
    if (typeof b.id !== 'string' || !/^[a-z0-9_-]{1,64}$/.test(b.id)) bad('id', b.id, 'must be 1-64 lower-case letters, digits, _ or -');
    if (this.db.prepare('SELECT 1 FROM energy_categories WHERE id = ?').get(b.id)) throw new ApiError(409, `energy category id "${b.id}" is taken`);
    for (const k of ['name', 'unit', 'factors']) if (b[k] === undefined) throw new ApiError(400, `${k} is required`);
    const c = this.check(b, { id: b.id, name: '', unit: '', media: [], registers: [], tariff_type: null, factors: [], built_in: false });
    const t = this.now();
    this.db.prepare('INSERT INTO energy_categories (id, body, created_at, updated_at) VALUES (?, ?, ?, ?)').run(c.id, JSON.stringify(c), t, t);
    this.onChange({ kind: 'energy category', action: 'create', id: c.id, name: c.name, by });
    return c;
  }

  /** The fields given replace the stored ones (a built-in's unit, media and registers stay). */
  update(id: string, body: unknown, by?: string): EnergyCategory {
    const before = this.get(id);
    const b = asObject(body);
    if (b.id !== undefined && b.id !== id) bad('id', b.id, `cannot be changed (it is "${id}")`);
    if (before.built_in) for (const k of ['unit', 'media', 'registers']) if (b[k] !== undefined && JSON.stringify(b[k]) !== JSON.stringify(before[k as keyof EnergyCategory])) bad(k, b[k], `of the built-in category "${id}" cannot be changed (name, tariff_type and factors can)`);
    const c = this.check(b, before);
    this.db.prepare('UPDATE energy_categories SET body = ?, updated_at = ? WHERE id = ?').run(JSON.stringify(c), this.now(), id);
    this.onChange({ kind: 'energy category', action: 'update', id, name: c.name, by });
    return c;
  }

  /** Deletes a user-defined category no meter names (`usedBy` answers the meters that do). */
  delete(id: string, usedBy: (id: string) => string[], by?: string): void {
    const c = this.get(id);
    if (c.built_in) throw new ApiError(409, `energy category "${id}" is built in; it can be edited but not deleted`);
    const users = usedBy(id);
    if (users.length) throw new ApiError(409, `energy category "${id}" is the energy_category of meter(s) ${users.slice(0, 10).map((m) => `"${m}"`).join(', ')}${users.length > 10 ? ` and ${users.length - 10} more` : ''}; change them first`);
    this.db.prepare('DELETE FROM energy_categories WHERE id = ?').run(id);
    this.onChange({ kind: 'energy category', action: 'delete', id, name: c.name, by });
  }

  private check(b: Record<string, unknown>, base: EnergyCategory): EnergyCategory {
    for (const k of Object.keys(b)) if (!FIELDS.includes(k)) throw new ApiError(400, `unknown field "${k}" (use ${FIELDS.join(', ')})`);
    const out = { ...base };
    if (b.name !== undefined) out.name = checkName(b.name);
    if (b.unit !== undefined) {
      if (typeof b.unit !== 'string' || !isKnownUnit(b.unit)) bad('unit', b.unit, 'must be a unit of the reading store (kWh, GJ, m3, t, kg, ...)');
      out.unit = b.unit;
    }
    if (b.media !== undefined) {
      if (!Array.isArray(b.media) || b.media.some((m) => !Number.isInteger(m) || m < 0 || m > 255)) bad('media', b.media, 'must be a list of OBIS media (group A, 0-255)');
      out.media = [...new Set(b.media as number[])];
    }
    if (b.registers !== undefined) {
      if (!Array.isArray(b.registers) || b.registers.length > 20 || b.registers.some((r) => typeof r !== 'string' || !/^\d{1,3}:\d{1,3}\.\d{1,3}$/.test(r))) {
        bad('registers', b.registers, 'must be a list of up to 20 registers "A:C.D" (e.g. "1:1.8" active energy import)');
      }
      out.registers = b.registers as string[];
    }
    if (b.tariff_type !== undefined) {
      if (b.tariff_type !== null && !(ENERGY_TYPES as readonly unknown[]).includes(b.tariff_type)) bad('tariff_type', b.tariff_type, `must be null or one of ${ENERGY_TYPES.join(', ')}`);
      out.tariff_type = b.tariff_type as EnergyType | null;
    }
    if (b.factors !== undefined) out.factors = checkFactors(b.factors);
    for (const other of this.list()) {
      if (other.id === out.id) continue;
      const shared = out.media.filter((m) => other.media.includes(m));
      if (shared.length) bad('media', out.media, `share medium ${shared[0]} with category "${other.id}"; a medium derives into one category`);
    }
    return out;
  }
}

function asObject(body: unknown): Record<string, unknown> {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw new ApiError(400, 'the body must be a JSON object with the energy category\'s fields');
  return body as Record<string, unknown>;
}

function toCategory(r: Row): EnergyCategory {
  return JSON.parse(r.body) as EnergyCategory;
}
