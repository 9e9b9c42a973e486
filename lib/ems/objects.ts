/**
 * Accounting objects (the data dictionary's "Accounting objects"): a tree per model ("electricity"
 * metering points, "calculation" objects) whose nodes may be bound to a meter and a tariff.
 *
 * tn1 / tn2 are the voltage transformers (ТН) and tt the current transformer (ТТ) of a metering
 * point: {ratio: "10000/100", serial, class}. transformer_factor = voltage ratio (tn1, else tn2) x
 * current ratio (tt): the factor between secondary and primary energy. It is recorded, not applied:
 * readings are billed as stored (configure the meter to read primary values).
 *
 * A caller sees an object when they see its meter. An object without a meter is seen when an object
 * below it has a meter the caller sees (it is the path to it) or when nothing below it has a meter;
 * one above only other folders' meters is hidden. In the tree, a hidden object hides its children.
 */
import crypto from 'node:crypto';
import type { EmsDatabase } from './db';
import { ApiError } from './envelope';
import type { Registry } from './registry';
import { checkName, type ConfigChange, type StoredTariff, type TariffService } from './tariffs';
import { normaliseObis } from '../model/obis';
import { isValidDate } from '../tariff/calendar';

export const OBJECT_MODELS = ['electricity', 'calculation'] as const;
export type ObjectModel = (typeof OBJECT_MODELS)[number];

export interface Transformer { ratio: string; serial?: string; class?: string }
export interface ObjectParameter { name: string; value: string | number | boolean | null; unit?: string }

export interface ObjectBody {
  date: string[];
  tn1: Transformer | null;
  tn2: Transformer | null;
  tt: Transformer | null;
  obis: Record<string, string>;
  parameters: ObjectParameter[];
  block: string[];
  location: string[];
}

export interface AccountingObject extends ObjectBody {
  _id: string;
  model: ObjectModel;
  type: string;
  name: string;
  meter_id: string | null;
  tariff_id: string | null;
  parent_id: string | null;
  transformer_factor: number;
  createdAt: string;
  updatedAt: string;
}

/** A node of GET /api/objects (without obis, block and location, which GET /api/objects/:id adds). */
export type ObjectTreeNode = Omit<AccountingObject, 'obis' | 'block' | 'location'> & { child_objects: ObjectTreeNode[] };

interface Row { id: string; model: ObjectModel; type: string; name: string; meter_id: string | null; tariff_id: string | null; parent_id: string | null; body: string; created_at: number; updated_at: number }

const COLUMNS = ['model', 'type', 'name', 'meter_id', 'tariff_id', 'parent_id'] as const;
const BODY_FIELDS = ['date', 'tn1', 'tn2', 'tt', 'obis', 'parameters', 'block', 'location'] as const;
const EMPTY: ObjectBody = { date: [], tn1: null, tn2: null, tt: null, obis: {}, parameters: [], block: [], location: [] };

export class ObjectService {
  constructor(
    private readonly db: EmsDatabase, private readonly tariffs: TariffService, private readonly registry: Registry,
    private readonly onChange: ConfigChange = () => {}, private readonly now: () => number = Date.now,
  ) {}

  /** The objects of a model (or all) as trees, children nested in child_objects. */
  tree(model?: ObjectModel, meters?: ReadonlySet<string>): ObjectTreeNode[] {
    const canSee = this.visibility(meters);
    const rows = (this.db.prepare('SELECT * FROM accounting_objects ORDER BY name, id').all() as Row[]).filter((r) => !model || r.model === model);
    const kids = new Map<string | null, Row[]>();
    for (const r of rows) kids.set(r.parent_id, [...(kids.get(r.parent_id) ?? []), r]);
    const build = (r: Row): ObjectTreeNode => {
      const { obis: _o, block: _b, location: _l, ...rest } = toObject(r);
      return { ...rest, child_objects: (kids.get(r.id) ?? []).filter(canSee).map(build) };
    };
    return (kids.get(null) ?? []).filter(canSee).map(build);
  }

  /** One object with its direct children; 404 when unknown or hidden. */
  get(id: string, meters?: ReadonlySet<string>): AccountingObject & { child_objects: ObjectTreeNode[] } {
    const canSee = this.visibility(meters);
    const row = this.row(id);
    if (!row || !canSee(row)) throw new ApiError(404, `unknown accounting object "${id}"`);
    const children = (this.db.prepare('SELECT * FROM accounting_objects WHERE parent_id = ? ORDER BY name, id').all(id) as Row[]).filter(canSee);
    return { ...toObject(row), child_objects: children.map((k) => ({ ...strip(toObject(k)), child_objects: [] })) };
  }

  create(body: unknown, meters?: ReadonlySet<string>, by?: string): AccountingObject {
    const b = asObject(body);
    const cols = this.checkColumns(b, null, meters);
    const data = checkBody(b, EMPTY);
    const id = crypto.randomUUID();
    this.checkParent(id, cols.parent_id, cols.model, meters);
    const t = this.now();
    this.db.prepare('INSERT INTO accounting_objects (id, model, type, name, meter_id, tariff_id, parent_id, body, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)')
      .run(id, cols.model, cols.type, cols.name, cols.meter_id, cols.tariff_id, cols.parent_id, JSON.stringify(data), t, t);
    this.onChange({ kind: 'object', action: 'create', id, name: cols.name, by });
    return toObject(this.row(id)!);
  }

  /** Fields given replace the stored ones (null clears meter_id, tariff_id, parent_id, tn1, tn2, tt). */
  update(id: string, body: unknown, meters?: ReadonlySet<string>, by?: string): AccountingObject {
    const before = this.row(id);
    if (!before || !this.visibility(meters)(before)) throw new ApiError(404, `unknown accounting object "${id}"`);
    const b = asObject(body);
    const cols = this.checkColumns(b, before, meters);
    const data = checkBody(b, JSON.parse(before.body) as ObjectBody);
    this.checkParent(id, cols.parent_id, cols.model, meters);
    if (cols.model !== before.model) {
      const n = (this.db.prepare('SELECT COUNT(*) AS n FROM accounting_objects WHERE parent_id = ?').get(id) as { n: number }).n;
      if (n > 0) throw new ApiError(400, `model "${cols.model}": object "${before.name}" has ${n} child object(s) of model "${before.model}"`);
    }
    this.db.prepare('UPDATE accounting_objects SET model = ?, type = ?, name = ?, meter_id = ?, tariff_id = ?, parent_id = ?, body = ?, updated_at = ? WHERE id = ?')
      .run(cols.model, cols.type, cols.name, cols.meter_id, cols.tariff_id, cols.parent_id, JSON.stringify(data), this.now(), id);
    this.onChange({ kind: 'object', action: 'update', id, name: cols.name, by });
    return toObject(this.row(id)!);
  }

  /** Deletes an object without children (409 naming them otherwise). */
  delete(id: string, meters?: ReadonlySet<string>, by?: string): void {
    const canSee = this.visibility(meters);
    const row = this.row(id);
    if (!row || !canSee(row)) throw new ApiError(404, `unknown accounting object "${id}"`);
    const kids = this.db.prepare('SELECT * FROM accounting_objects WHERE parent_id = ? ORDER BY name').all(id) as Row[];
    if (kids.length) {
      // Only the children the caller sees are named: the others belong to folders outside theirs.
      const named = kids.filter(canSee).map((k) => `"${k.name}"`);
      const others = kids.length - named.length;
      const list = named.join(', ') + (others ? `${named.length ? ' and ' : ''}${others} outside your folders` : '');
      throw new ApiError(409, `accounting object "${row.name}" still has child objects ${list}; move or delete them first`);
    }
    this.db.prepare('DELETE FROM accounting_objects WHERE id = ?').run(id);
    this.onChange({ kind: 'object', action: 'delete', id, name: row.name, by });
  }

  /**
   * The tariff bound to a meter: the tariff_id of an object bound to the meter, or of its nearest
   * ancestor that has one; electricity-model objects first, then the oldest. null when none is.
   */
  tariffForMeter(meterId: string): StoredTariff | null {
    const rows = this.db.prepare(`SELECT * FROM accounting_objects WHERE meter_id = ? ORDER BY model = 'electricity' DESC, created_at, id`).all(meterId) as Row[];
    for (const start of rows) {
      for (let r: Row | undefined = start, depth = 0; r && depth < 1000; r = r.parent_id ? this.row(r.parent_id) : undefined, depth++) {
        if (r.tariff_id) return this.tariffs.get(r.tariff_id);
      }
    }
    return null;
  }

  /** Whether a caller who sees `meters` (undefined = all) sees an object (see the file's comment). */
  private visibility(meters?: ReadonlySet<string>): (r: Row) => boolean {
    if (!meters) return () => true;
    const rows = this.db.prepare('SELECT id, meter_id, parent_id FROM accounting_objects').all() as Pick<Row, 'id' | 'meter_id' | 'parent_id'>[];
    // Per object: whether something below it (or it) has a meter, and whether one of those the caller sees.
    const metered = new Set<string>();
    const seen = new Set<string>();
    const byId = new Map(rows.map((r) => [r.id, r]));
    for (const r of rows) {
      if (r.meter_id === null) continue;
      const visible = meters.has(r.meter_id);
      for (let p: typeof r | undefined = r, depth = 0; p && depth < 1000; p = p.parent_id ? byId.get(p.parent_id) : undefined, depth++) {
        metered.add(p.id);
        if (visible) seen.add(p.id);
      }
    }
    return (r) => (r.meter_id !== null ? meters.has(r.meter_id) : !metered.has(r.id) || seen.has(r.id));
  }

  private row(id: string): Row | undefined {
    return this.db.prepare('SELECT * FROM accounting_objects WHERE id = ?').get(id) as Row | undefined;
  }

  private checkColumns(b: Record<string, unknown>, before: Row | null, meters?: ReadonlySet<string>): Pick<Row, (typeof COLUMNS)[number]> {
    for (const k of Object.keys(b)) {
      if (!(COLUMNS as readonly string[]).includes(k) && !(BODY_FIELDS as readonly string[]).includes(k)) {
        throw new ApiError(400, `unknown field "${k}" (use ${[...COLUMNS, ...BODY_FIELDS].join(', ')})`);
      }
    }
    const pick = <K extends (typeof COLUMNS)[number]>(k: K): unknown => (b[k] !== undefined ? b[k] : before ? before[k] : undefined);
    const model = pick('model') ?? 'electricity';
    if (!(OBJECT_MODELS as readonly unknown[]).includes(model)) throw new ApiError(400, `model ${JSON.stringify(model)} must be one of ${OBJECT_MODELS.join(', ')}`);
    const type = pick('type') ?? 'object';
    if (typeof type !== 'string' || type.trim() === '' || type.length > 50) throw new ApiError(400, `type ${JSON.stringify(type)} must be a non-empty string of at most 50 characters (e.g. substation, feeder, consumer)`);
    const name = checkName(pick('name'));
    const meterId = pick('meter_id') ?? null;
    if (meterId !== null) {
      if (typeof meterId !== 'string' || meterId === '') throw new ApiError(400, `meter_id ${JSON.stringify(meterId)} must be a meter id or null`);
      let known = !meters || meters.has(meterId);
      try { this.registry.meter(meterId); } catch { known = false; }
      if (!known) throw new ApiError(400, `meter_id: unknown meter "${meterId}"`);
    }
    const tariffId = pick('tariff_id') ?? null;
    if (tariffId !== null && (typeof tariffId !== 'string' || !this.tariffs.exists(tariffId))) throw new ApiError(400, `tariff_id: ${JSON.stringify(tariffId)} is not a known tariff id`);
    const parentId = pick('parent_id') ?? null;
    if (parentId !== null && (typeof parentId !== 'string' || parentId === '')) throw new ApiError(400, `parent_id ${JSON.stringify(parentId)} must be an accounting object id or null`);
    return { model: model as ObjectModel, type: type.trim(), name, meter_id: meterId as string | null, tariff_id: tariffId as string | null, parent_id: parentId as string | null };
  }

  /** The parent exists, is visible, has the same model and is not the object or below it. */
  private checkParent(id: string, parentId: string | null, model: ObjectModel, meters?: ReadonlySet<string>): void {
    if (parentId === null) return;
    const parent = this.row(parentId);
    if (!parent || !this.visibility(meters)(parent)) throw new ApiError(400, `parent_id: unknown accounting object "${parentId}"`);
    if (parent.model !== model) throw new ApiError(400, `parent_id: object "${parent.name}" is of model "${parent.model}", not "${model}"`);
    for (let r: Row | undefined = parent; r; r = r.parent_id ? this.row(r.parent_id) : undefined) {
      if (r.id === id) throw new ApiError(400, `parent_id "${parentId}" would put object "${id}" inside itself (a cycle)`);
    }
  }
}

function asObject(body: unknown): Record<string, unknown> {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw new ApiError(400, 'the body must be a JSON object');
  return body as Record<string, unknown>;
}

function strings(field: string, v: unknown, max = 200): string[] {
  if (!Array.isArray(v) || v.some((x) => typeof x !== 'string' || x.length > max)) throw new ApiError(400, `${field} ${JSON.stringify(v)} must be an array of strings (at most ${max} characters each)`);
  return v as string[];
}

/** "10000/100" -> 100; throws naming the field. */
export function ratioOf(field: string, ratio: unknown): number {
  const m = typeof ratio === 'string' ? /^\s*(\d+(?:\.\d+)?)\s*\/\s*(\d+(?:\.\d+)?)\s*$/.exec(ratio) : null;
  const value = m ? Number(m[1]) / Number(m[2]) : Number.NaN;
  if (!Number.isFinite(value) || value <= 0) throw new ApiError(400, `${field} ${JSON.stringify(ratio)} must be "primary/secondary", e.g. "10000/100" (volts) or "200/5" (amperes)`);
  return value;
}

function transformer(field: string, v: unknown): Transformer | null {
  if (v === null) return null;
  if (typeof v !== 'object' || Array.isArray(v)) throw new ApiError(400, `${field} ${JSON.stringify(v)} must be {ratio, serial, class} or null`);
  const t = v as Record<string, unknown>;
  for (const k of Object.keys(t)) if (!['ratio', 'serial', 'class'].includes(k)) throw new ApiError(400, `${field}.${k}: unknown field (use ratio, serial, class)`);
  ratioOf(`${field}.ratio`, t.ratio);
  for (const k of ['serial', 'class'] as const) {
    if (t[k] !== undefined && (typeof t[k] !== 'string' || (t[k] as string).length > 100)) throw new ApiError(400, `${field}.${k} ${JSON.stringify(t[k])} must be a string`);
  }
  return { ratio: (t.ratio as string).replace(/\s+/g, ''), ...(t.serial !== undefined ? { serial: t.serial as string } : {}), ...(t.class !== undefined ? { class: t.class as string } : {}) };
}

function checkBody(b: Record<string, unknown>, before: ObjectBody): ObjectBody {
  const out: ObjectBody = { ...EMPTY, ...before };
  if (b.date !== undefined) {
    out.date = strings('date', b.date);
    out.date.forEach((d, i) => { if (!isValidDate(d)) throw new ApiError(400, `date[${i}] ${JSON.stringify(d)} must be a date "YYYY-MM-DD"`); });
  }
  for (const k of ['tn1', 'tn2', 'tt'] as const) if (b[k] !== undefined) out[k] = transformer(k, b[k]);
  if (b.obis !== undefined) {
    if (typeof b.obis !== 'object' || b.obis === null || Array.isArray(b.obis)) throw new ApiError(400, `obis ${JSON.stringify(b.obis)} must map OBIS codes to labels, e.g. {"1-0:1.8.0": "Active energy import"}`);
    out.obis = {};
    for (const [code, label] of Object.entries(b.obis)) {
      let norm: string;
      try { norm = normaliseObis(code); } catch { throw new ApiError(400, `obis: ${JSON.stringify(code)} is not an OBIS code (e.g. 1-0:1.8.0)`); }
      if (typeof label !== 'string') throw new ApiError(400, `obis.${code} ${JSON.stringify(label)} must be a label string`);
      out.obis[norm] = label;
    }
  }
  if (b.parameters !== undefined) {
    if (!Array.isArray(b.parameters)) throw new ApiError(400, `parameters ${JSON.stringify(b.parameters)} must be an array of {name, value, unit}`);
    out.parameters = b.parameters.map((p: unknown, i: number) => {
      const x = (typeof p === 'object' && p !== null ? p : {}) as Record<string, unknown>;
      if (typeof x.name !== 'string' || x.name === '') throw new ApiError(400, `parameters[${i}].name ${JSON.stringify(x.name)} must be a non-empty string`);
      const value = x.value ?? null;
      if (value !== null && !['string', 'number', 'boolean'].includes(typeof value)) throw new ApiError(400, `parameters[${i}].value ${JSON.stringify(value)} must be a string, number, boolean or null`);
      if (x.unit !== undefined && typeof x.unit !== 'string') throw new ApiError(400, `parameters[${i}].unit ${JSON.stringify(x.unit)} must be a string`);
      return { name: x.name, value: value as ObjectParameter['value'], ...(x.unit !== undefined ? { unit: x.unit as string } : {}) };
    });
  }
  if (b.block !== undefined) out.block = strings('block', b.block);
  if (b.location !== undefined) out.location = strings('location', b.location);
  return out;
}

function strip(o: AccountingObject): Omit<AccountingObject, 'obis' | 'block' | 'location'> {
  const { obis: _o, block: _b, location: _l, ...rest } = o;
  return rest;
}

function toObject(r: Row): AccountingObject {
  const body = { ...EMPTY, ...(JSON.parse(r.body) as Partial<ObjectBody>) };
  const voltage = body.tn1 ?? body.tn2;
  const factor = (voltage ? ratioOf('tn', voltage.ratio) : 1) * (body.tt ? ratioOf('tt', body.tt.ratio) : 1);
  return {
    _id: r.id, model: r.model, type: r.type, name: r.name, meter_id: r.meter_id, tariff_id: r.tariff_id, parent_id: r.parent_id,
    ...body, transformer_factor: factor, createdAt: new Date(r.created_at).toISOString(), updatedAt: new Date(r.updated_at).toISOString(),
  };
}
