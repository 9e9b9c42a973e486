/**
 * Cost centers stored in the EMS database (MyEMS's cost centers): a name, an ERP id (external_id),
 * the stored tariff bound per energy category and the meters assigned with their category. Turned
 * into lib/billing's CostCenter (tariffs resolved) to bill.
 */
import type { EmsDatabase } from './db';
import { ApiError } from './envelope';
import type { Registry } from './registry';
import { checkName, type ConfigChange, type TariffService } from './tariffs';
import type { CostCenter } from '../billing/cost-centers';
import { ENERGY_TYPES, type EnergyType } from '../tariff/types';

export interface StoredCostCenter {
  _id: string;
  name: string;
  external_id: string | null;
  /** Tariff id per energy category. */
  tariffs: Partial<Record<EnergyType, string>>;
  meters: { id: string; name?: string; energyType: EnergyType }[];
  created_at: number;
  updated_at: number;
}

interface Row { id: string; name: string; body: string; created_at: number; updated_at: number }
type Body = Pick<StoredCostCenter, 'external_id' | 'tariffs' | 'meters'>;

const FIELDS = ['id', 'name', 'external_id', 'tariffs', 'meters'];

export class CostCenterService {
  constructor(
    private readonly db: EmsDatabase, private readonly tariffs: TariffService, private readonly registry: Registry,
    private readonly onChange: ConfigChange = () => {}, private readonly now: () => number = Date.now,
  ) {}

  /** Cost centers whose meters are all in `meters` (undefined = all). */
  list(meters?: ReadonlySet<string>): StoredCostCenter[] {
    return (this.db.prepare('SELECT * FROM cost_centers ORDER BY name').all() as Row[]).map(toStored).filter((c) => visible(c, meters));
  }

  /** 404 unless it exists and the caller sees every meter of it. */
  get(id: string, meters?: ReadonlySet<string>): StoredCostCenter {
    const row = this.db.prepare('SELECT * FROM cost_centers WHERE id = ?').get(id) as Row | undefined;
    const c = row ? toStored(row) : undefined;
    if (!c || !visible(c, meters)) throw new ApiError(404, `unknown cost center "${id}"`);
    return c;
  }

  create(body: unknown, meters?: ReadonlySet<string>, by?: string): StoredCostCenter {
    const b = asObject(body);
    const name = checkName(b.name);
    const id = b.id === undefined ? slug(name) : b.id;
    if (typeof id !== 'string' || !/^[A-Za-z0-9_.-]{1,64}$/.test(id)) throw new ApiError(400, `id ${JSON.stringify(b.id)} must be 1-64 letters, digits or . _ -`);
    if (this.db.prepare('SELECT 1 FROM cost_centers WHERE id = ?').get(id)) throw new ApiError(409, `cost center id "${id}" is taken`);
    this.checkFreeName(name);
    const data = this.checkBody(b, meters);
    const t = this.now();
    this.db.prepare('INSERT INTO cost_centers (id, name, body, created_at, updated_at) VALUES (?, ?, ?, ?, ?)').run(id, name, JSON.stringify(data), t, t);
    this.onChange({ kind: 'cost center', action: 'create', id, name, by });
    return this.get(id);
  }

  /** Fields given replace the stored ones. */
  update(id: string, body: unknown, meters?: ReadonlySet<string>, by?: string): StoredCostCenter {
    const before = this.get(id, meters);
    const b = asObject(body);
    if (b.id !== undefined && b.id !== id) throw new ApiError(400, `id ${JSON.stringify(b.id)} cannot be changed (it is "${id}")`);
    const name = b.name === undefined ? before.name : checkName(b.name);
    if (name.toLowerCase() !== before.name.toLowerCase()) this.checkFreeName(name);
    const data = this.checkBody({ external_id: before.external_id, tariffs: before.tariffs, meters: before.meters, ...b }, meters);
    this.db.prepare('UPDATE cost_centers SET name = ?, body = ?, updated_at = ? WHERE id = ?').run(name, JSON.stringify(data), this.now(), id);
    this.onChange({ kind: 'cost center', action: 'update', id, name, by });
    return this.get(id);
  }

  delete(id: string, meters?: ReadonlySet<string>, by?: string): void {
    const c = this.get(id, meters);
    this.db.prepare('DELETE FROM cost_centers WHERE id = ?').run(id);
    this.onChange({ kind: 'cost center', action: 'delete', id, name: c.name, by });
  }

  /** lib/billing's CostCenter with the bound tariffs resolved. */
  resolve(c: StoredCostCenter): CostCenter {
    const tariffs: CostCenter['tariffs'] = {};
    for (const [k, tid] of Object.entries(c.tariffs)) tariffs[k as EnergyType] = this.tariffs.get(tid!).tariff;
    return { id: c._id, name: c.name, ...(c.external_id ? { externalId: c.external_id } : {}), tariffs, meters: c.meters };
  }

  private checkBody(b: Record<string, unknown>, meters?: ReadonlySet<string>): Body {
    for (const k of Object.keys(b)) if (!FIELDS.includes(k)) throw new ApiError(400, `unknown field "${k}" (use ${FIELDS.join(', ')})`);
    const ext = b.external_id ?? null;
    if (ext !== null && (typeof ext !== 'string' || ext.length > 100)) throw new ApiError(400, `external_id ${JSON.stringify(ext)} must be a string of at most 100 characters or null`);
    const tIn = b.tariffs;
    if (typeof tIn !== 'object' || tIn === null || Array.isArray(tIn)) throw new ApiError(400, `tariffs ${JSON.stringify(tIn)} must map energy categories to tariff ids, e.g. {"electricity": "day-night"}`);
    const tariffs: Body['tariffs'] = {};
    for (const [k, v] of Object.entries(tIn)) {
      if (!(ENERGY_TYPES as readonly string[]).includes(k)) throw new ApiError(400, `tariffs.${k}: "${k}" is not an energy category (use ${ENERGY_TYPES.join(', ')})`);
      if (typeof v !== 'string' || !this.tariffs.exists(v)) throw new ApiError(400, `tariffs.${k}: ${JSON.stringify(v)} is not a known tariff id`);
      tariffs[k as EnergyType] = v;
    }
    if (!Array.isArray(b.meters) || b.meters.length === 0) throw new ApiError(400, `meters ${JSON.stringify(b.meters)} must be a non-empty array of {id, energyType}`);
    const seen = new Set<string>();
    const list = b.meters.map((m: unknown, i: number) => {
      const x = (typeof m === 'object' && m !== null ? m : {}) as Record<string, unknown>;
      const id = typeof m === 'string' ? m : x.id;
      if (typeof id !== 'string' || id === '') throw new ApiError(400, `meters[${i}].id ${JSON.stringify(id)} must be a meter id`);
      if (meters && !meters.has(id)) throw new ApiError(400, `meters[${i}].id: unknown meter "${id}"`);
      try { this.registry.meter(id); } catch { throw new ApiError(400, `meters[${i}].id: unknown meter "${id}"`); }
      if (seen.has(id)) throw new ApiError(400, `meters[${i}].id: meter "${id}" is assigned twice`);
      seen.add(id);
      const energyType = x.energyType ?? x.energy_type ?? 'electricity';
      if (!(ENERGY_TYPES as readonly unknown[]).includes(energyType)) throw new ApiError(400, `meters[${i}].energyType ${JSON.stringify(energyType)} must be one of ${ENERGY_TYPES.join(', ')}`);
      if (!tariffs[energyType as EnergyType]) throw new ApiError(400, `meters[${i}]: meter "${id}" is ${energyType} but tariffs.${energyType} names no tariff`);
      if (x.name !== undefined && typeof x.name !== 'string') throw new ApiError(400, `meters[${i}].name ${JSON.stringify(x.name)} must be a string`);
      return { id, ...(typeof x.name === 'string' ? { name: x.name } : {}), energyType: energyType as EnergyType };
    });
    return { external_id: ext as string | null, tariffs, meters: list };
  }

  private checkFreeName(name: string): void {
    if (this.db.prepare('SELECT 1 FROM cost_centers WHERE name = ?').get(name)) throw new ApiError(409, `cost center name "${name}" is taken`);
  }
}

function visible(c: StoredCostCenter, meters?: ReadonlySet<string>): boolean {
  return meters === undefined || c.meters.every((m) => meters.has(m.id));
}

function slug(name: string): string {
  return name.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-+|-+$/g, '').slice(0, 48) || 'cost-center';
}

function asObject(body: unknown): Record<string, unknown> {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw new ApiError(400, 'the body must be a JSON object');
  return body as Record<string, unknown>;
}

function toStored(r: Row): StoredCostCenter {
  return { _id: r.id, name: r.name, ...(JSON.parse(r.body) as Body), created_at: r.created_at, updated_at: r.updated_at };
}
