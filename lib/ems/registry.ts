/**
 * The poll server's folder tree and meter definitions. Folders nest (parent_id); meters hang in a
 * folder as leaves. A user's open_folders (empty = all) limit what they see: the listed folders,
 * everything below them, and the folders above them as the path to get there (without their other
 * children).
 *
 * Meter ids are never reused: deleting a meter retires its id (retired_meter_ids), so the readings,
 * bills and events stored under it can never pass to a new meter. Meter passwords are sealed at rest
 * (secret-box.ts) and opened when a record is read; ip_address literals must lie in the allowed poll
 * networks (poll-networks.ts).
 */
import crypto from 'node:crypto';
import type { EmsDatabase } from './db';
import { ApiError } from './envelope';
import { checkMeterDefinition, METER_FIELDS, publicDefinition, SECRET_FIELDS, type DefinitionRules, type MeterDefinition } from './meter-definition';
import { MeterIndex, type IndexedMeter, type MeterRow } from './meter-index';
import { parsePollNetworks, type PollNetwork } from './poll-networks';
import { DEMO_CREDENTIAL_SECRET, isSealed, SecretBox } from './secret-box';
import { checkNotUsed, checkVirtualReferences } from './virtual-meters';
import { isValidTimeZone } from '../model/time';

export const FOLDER_TYPES = ['folder', 'site', 'building', 'floor', 'factory', 'department', 'tenant', 'store', 'shopfloor', 'equipment'] as const;
/** The largest floor area a folder may give (m2): far above any site, so a typo in the unit is caught. */
export const MAX_AREA_M2 = 1e9;

export interface Folder {
  _id: string;
  name: string;
  folder_type: string;
  parent_id: string | null;
  /** Floor area in m2 (a space's per-m2 figures); null = unknown. */
  area_m2: number | null;
  /** IANA time zone of the space (its reports' days and months); null = the EMS time zone. */
  time_zone: string | null;
}

export interface MeterRecord {
  _id: string;
  folder_id: string;
  definition: MeterDefinition;
  created_at: number;
  updated_at: number;
}

/** A node of GET /api/folders: a folder with its children, or a meter leaf (folder_type "meter"). */
export interface TreeNode extends Omit<Folder, 'area_m2' | 'time_zone'>, Partial<Pick<Folder, 'area_m2' | 'time_zone'>> {
  child_folders: TreeNode[];
  meter?: string;
  meter_detail?: ReturnType<typeof publicDefinition>;
}

/** What a user may see: undefined = everything. */
export type FolderScope = ReadonlySet<string> | undefined;

export interface RegistryHooks {
  /** Called before a meter is created with the count it will make; throws to refuse (license). */
  beforeCreateMeter?: (countAfter: number) => void;
  /** Called after every change, for the event log and the scheduler. */
  onChange?: (change: { kind: 'folder' | 'meter'; action: 'create' | 'update' | 'delete'; id: string; name: string }) => void;
  /** Called once after a bulk creation with every meter created (in order); without it, onChange is called per meter. */
  onMetersCreated?: (meters: { id: string; name: string }[]) => void;
  /** A stored meter password cannot be opened (another credential secret); told once per meter. */
  onCredentialError?: (meterId: string, message: string) => void;
}

export interface RegistryOptions {
  /** Seals meter passwords at rest (EMS_CREDENTIAL_SECRET); default the demo secret. */
  credentialSecret?: string;
  /** EMS_POLL_NETWORKS (comma-separated CIDRs); undefined or blank = loopback, private and link-local ranges. */
  pollNetworks?: string;
  /** Modbus register map ids a meter may name (default: the built-in profiles). */
  modbusProfiles?: () => readonly string[];
  /** Energy category ids a meter's energy_category may name (energy-categories.ts); undefined = any. */
  energyCategories?: () => readonly string[];
}

const FOLDER_FIELDS = ['name', 'folder_type', 'parent_id', 'area_m2', 'time_zone'];

function folderOf(row: FolderRow): Folder {
  return { _id: row.id, name: row.name, folder_type: row.folder_type, parent_id: row.parent_id, area_m2: row.area_m2 ?? null, time_zone: row.time_zone ?? null };
}

interface FolderRow { id: string; name: string; folder_type: string; parent_id: string | null; area_m2: number | null; time_zone: string | null }

export class Registry {
  /** The networks meters may be polled in (the poll schedule checks resolved host names against them). */
  readonly pollNetworks: PollNetwork[];
  private readonly box: SecretBox;
  private readonly rules: DefinitionRules;
  private readonly unreadable = new Set<string>();
  /** The meters in memory, loaded on first use and kept in step by every change made here. */
  private index?: MeterIndex;
  /**
   * Each meter's definition with its password opened, frozen, by id: made once per change, so every read
   * answers the same object while the meter is unchanged (opening one per read made each list decrypt
   * every meter; followers such as the poll schedule can tell an unchanged meter by identity).
   */
  private readonly opened = new Map<string, MeterDefinition>();
  private readonly leaves = new WeakMap<IndexedMeter, TreeNode>();

  constructor(private readonly db: EmsDatabase, private readonly hooks: RegistryHooks = {}, private readonly now: () => number = Date.now, options: RegistryOptions = {}) {
    this.pollNetworks = parsePollNetworks(options.pollNetworks);
    this.box = new SecretBox(options.credentialSecret ?? DEMO_CREDENTIAL_SECRET);
    this.rules = {
      pollNetworks: this.pollNetworks, ...(options.modbusProfiles ? { modbusProfiles: options.modbusProfiles } : {}),
      ...(options.energyCategories ? { energyCategories: options.energyCategories } : {}),
    };
    this.sealPlainPasswords();
  }

  /** Seals the passwords still stored in plain text (databases from before sealing); returns how many. */
  sealPlainPasswords(): number {
    let n = 0;
    this.db.transaction(() => {
      for (const row of this.db.prepare('SELECT id, definition FROM meters').all() as { id: string; definition: string }[]) {
        const def = JSON.parse(row.definition) as Record<string, unknown>;
        const plain = SECRET_FIELDS.filter((k) => typeof def[k] === 'string' && def[k] !== '' && !isSealed(def[k] as string));
        if (!plain.length) continue;
        for (const k of plain) def[k] = this.box.seal(def[k] as string);
        this.db.prepare('UPDATE meters SET definition = ? WHERE id = ?').run(JSON.stringify(def), row.id);
        n++;
      }
    })();
    return n;
  }

  /** When the meter id was retired (its meter deleted), or null. */
  retiredAt(id: string): number | null {
    const row = this.db.prepare('SELECT retired_at FROM retired_meter_ids WHERE id = ?').get(id) as { retired_at: number } | undefined;
    return row ? row.retired_at : null;
  }

  // ---- scope ----

  /** The folder ids a user with these open_folders sees in full (the folders and their descendants). */
  scopeOf(openFolders: readonly string[]): FolderScope {
    if (openFolders.length === 0) return undefined;
    const children = this.childrenIndex();
    const seen = new Set<string>();
    const stack = [...openFolders];
    while (stack.length) {
      const id = stack.pop()!;
      if (seen.has(id)) continue;
      seen.add(id);
      stack.push(...(children.get(id) ?? []).map((f) => f.id));
    }
    return seen;
  }

  private canSee(scope: FolderScope, folderId: string): boolean {
    return scope === undefined || scope.has(folderId);
  }

  // ---- folders ----

  /** The folder tree the scope sees, with the meters as leaves (none with `withMeters` false). */
  tree(scope?: FolderScope, withMeters = true): TreeNode[] {
    const children = this.childrenIndex();
    const meters = new Map<string, IndexedMeter[]>();
    for (const m of withMeters ? this.meterIndex.all() : []) {
      const list = meters.get(m.folder_id);
      if (list) list.push(m);
      else meters.set(m.folder_id, [m]);
    }
    const build = (row: FolderRow, visible: boolean): TreeNode | null => {
      const inside = visible || this.canSee(scope, row.id);
      const kids = (children.get(row.id) ?? []).map((c) => build(c, inside)).filter((n): n is TreeNode => n !== null);
      if (!inside && kids.length === 0) return null;
      const leaves = inside ? (meters.get(row.id) ?? []).map((m) => this.leaf(m)) : [];
      return { ...folderOf(row), child_folders: [...kids, ...leaves] };
    };
    return (children.get(null) ?? []).map((r) => build(r, scope === undefined)).filter((n): n is TreeNode => n !== null);
  }

  /** A folder's time zone: its own, else the nearest folder above with one, else `fallback` (the EMS zone). */
  timeZoneOf(folderId: string, fallback: string): string {
    for (let f: string | null = folderId, guard = 0; f !== null && guard < 1000; guard++) {
      const folder = this.folder(f);
      if (folder.time_zone) return folder.time_zone;
      f = folder.parent_id;
    }
    return fallback;
  }

  folder(id: string, scope?: FolderScope): Folder {
    const row = this.db.prepare('SELECT * FROM folders WHERE id = ?').get(id) as FolderRow | undefined;
    if (!row || !this.canSee(scope, id)) throw new ApiError(404, `unknown folder "${id}"`);
    return folderOf(row);
  }

  createFolder(body: unknown, scope?: FolderScope): Folder {
    const f = this.checkFolder(body, true);
    if (f.parent_id === null && scope !== undefined) throw new ApiError(403, 'only users with every folder open may create top-level folders');
    if (f.parent_id) this.folder(f.parent_id, scope);
    const id = crypto.randomUUID();
    this.db.prepare('INSERT INTO folders (id, name, folder_type, parent_id, area_m2, time_zone) VALUES (?, ?, ?, ?, ?, ?)').run(id, f.name, f.folder_type, f.parent_id, f.area_m2 ?? null, f.time_zone ?? null);
    this.hooks.onChange?.({ kind: 'folder', action: 'create', id, name: f.name! });
    return this.folder(id);
  }

  updateFolder(id: string, body: unknown, scope?: FolderScope): Folder {
    const before = this.folder(id, scope);
    const f = this.checkFolder(body, false);
    if (f.parent_id === null && scope !== undefined && before.parent_id !== null) throw new ApiError(403, 'only users with every folder open may move a folder to the top level');
    const next = { ...before, ...Object.fromEntries(Object.entries(f).filter(([, v]) => v !== undefined)) } as Folder;
    if (f.parent_id !== undefined && f.parent_id !== null) {
      this.folder(f.parent_id, scope);
      for (let p: string | null = f.parent_id; p !== null; p = this.folder(p).parent_id) {
        if (p === id) throw new ApiError(400, `parent_id "${f.parent_id}" would put folder "${id}" inside itself`);
      }
    }
    this.db.prepare('UPDATE folders SET name = ?, folder_type = ?, parent_id = ?, area_m2 = ?, time_zone = ? WHERE id = ?').run(next.name, next.folder_type, next.parent_id, next.area_m2, next.time_zone, id);
    this.hooks.onChange?.({ kind: 'folder', action: 'update', id, name: next.name });
    return this.folder(id);
  }

  /** Deletes an empty folder (no sub-folders, no meters). */
  deleteFolder(id: string, scope?: FolderScope): void {
    const f = this.folder(id, scope);
    const kids = (this.db.prepare('SELECT COUNT(*) AS n FROM folders WHERE parent_id = ?').get(id) as { n: number }).n;
    const meters = this.meterIndex.all().filter((m) => m.folder_id === id).length;
    if (kids + meters > 0) throw new ApiError(409, `folder "${f.name}" still holds ${kids} folder(s) and ${meters} meter(s); move or delete them first`);
    this.db.prepare('DELETE FROM folders WHERE id = ?').run(id);
    this.hooks.onChange?.({ kind: 'folder', action: 'delete', id, name: f.name });
  }

  // ---- meters ----

  meters(scope?: FolderScope): MeterRecord[] {
    return this.meterIndex.all().filter((m) => this.canSee(scope, m.folder_id)).map((m) => this.toRecord(m));
  }

  /** The ids of the meters the scope sees (no definition opened). */
  meterIds(scope?: FolderScope): string[] {
    return this.meterIndex.all().filter((m) => this.canSee(scope, m.folder_id)).map((m) => m.id);
  }

  /**
   * One page of the meters the scope sees (and, with `folders`, that hang in one of those folders), in id
   * order after the id `after`: its work is the meters from the cursor to the end of the page, not the fleet.
   */
  meterPage(scope: FolderScope, after: string | undefined, limit: number, folders?: ReadonlySet<string>): { items: MeterRecord[]; more: boolean } {
    const page = this.meterIndex.page(after, limit, (m) => this.canSee(scope, m.folder_id) && (folders === undefined || folders.has(m.folder_id)));
    return { items: page.items.map((m) => this.toRecord(m)), more: page.more };
  }

  /** Meters visited by meterPage so far (a work counter for tests and benches). */
  get pageWork(): number {
    return this.meterIndex.visited;
  }

  meter(id: string, scope?: FolderScope): MeterRecord {
    const m = this.meterIndex.get(id);
    if (!m || !this.canSee(scope, m.folder_id)) throw new ApiError(404, `unknown meter "${id}"`);
    return this.toRecord(m);
  }

  meterCount(): number {
    return this.meterIndex.size;
  }

  /** Creates a meter in body.folder_id; `id` (optional) must be unique, else one is made from the name. */
  createMeter(body: unknown, scope?: FolderScope, id?: string): MeterRecord {
    const m = this.insertMeter(body, scope, id, () => this.hooks.beforeCreateMeter?.(this.meterCount() + 1));
    this.hooks.onChange?.({ kind: 'meter', action: 'create', id: m.id, name: m.definition.name });
    return this.toRecord(m);
  }

  /**
   * Creates several meters, all or none: every item is checked (later items may name earlier ones as
   * parent_meter or in an expression), and when any is refused nothing is stored and the ApiError's
   * data lists every refusal as { index, field, message }, with the refusals the caller found before
   * (`found`; items marked `invalid` are not checked again). One change is told per meter created.
   */
  createMeters(items: readonly { body: unknown; id?: string; invalid?: boolean }[], scope?: FolderScope, found: readonly BulkError[] = []): MeterRecord[] {
    this.hooks.beforeCreateMeter?.(this.meterCount() + items.length);
    const created: IndexedMeter[] = [];
    const errors: BulkError[] = [...found];
    try {
      this.db.transaction(() => {
        items.forEach((item, index) => {
          if (item.invalid) return;
          try {
            created.push(this.insertMeter(item.body, scope, item.id));
          } catch (err) {
            if (!(err instanceof ApiError)) throw err;
            errors.push({ index, field: fieldOf(err.message), message: err.message });
          }
        });
        errors.sort((a, b) => a.index - b.index);
        if (errors.length) throw new ApiError(400, `no meter was created: ${errors.length} of ${items.length} refused; the first: meters[${errors[0].index}]${errors[0].field ? ` (${errors[0].field})` : ''}: ${errors[0].message}`, { errors });
      })();
    } catch (err) {
      for (const m of created) this.meterIndex.delete(m.id);
      throw err;
    }
    if (this.hooks.onMetersCreated) this.hooks.onMetersCreated(created.map((m) => ({ id: m.id, name: m.definition.name })));
    else for (const m of created) this.hooks.onChange?.({ kind: 'meter', action: 'create', id: m.id, name: m.definition.name });
    return created.map((m) => this.toRecord(m));
  }

  /** Checks and stores one meter (no change told); `beforeInsert` runs after the checks (the license). */
  private insertMeter(body: unknown, scope: FolderScope, id: string | undefined, beforeInsert?: () => void): IndexedMeter {
    const def = checkMeterDefinition(body, undefined, this.rules);
    const folderId = this.folderIdOf(body);
    this.folder(folderId, scope);
    const meterId = id ?? this.freeMeterId(def.name);
    if (!/^[A-Za-z0-9_.-]{1,64}$/.test(meterId)) throw new ApiError(400, `meter id ${JSON.stringify(meterId)} must be 1-64 letters, digits or . _ -`);
    this.checkParentMeter(meterId, def.parent_meter, scope);
    const taken = this.meterIndex.get(meterId);
    const retired = this.retiredAt(meterId);
    if (taken && this.canSee(scope, taken.folder_id)) throw new ApiError(409, `meter id "${meterId}" is taken`);
    if (retired !== null && scope === undefined) {
      throw new ApiError(409, `meter id "${meterId}" belonged to a meter deleted on ${new Date(retired).toISOString()}; meter ids are never reused (its readings, bills and events stay its own): choose another id`);
    }
    // A caller who does not see every folder is not told whether the id is in use elsewhere or retired.
    if (taken || retired !== null) throw new ApiError(409, `meter id "${meterId}" is not available (in use or used before); meter ids are never reused: choose another id`);
    checkVirtualReferences(meterId, def, (m) => this.definitionOf(m, scope));
    beforeInsert?.();
    const t = this.now();
    const stored = this.stored(def);
    this.db.prepare('INSERT INTO meters (id, folder_id, definition, created_at, updated_at) VALUES (?, ?, ?, ?, ?)').run(meterId, folderId, JSON.stringify(stored), t, t);
    const m: IndexedMeter = { id: meterId, folder_id: folderId, definition: stored, created_at: t, updated_at: t };
    this.opened.delete(meterId);
    this.meterIndex.set(m);
    return m;
  }

  updateMeter(id: string, body: unknown, scope?: FolderScope): MeterRecord {
    const before = this.meter(id, scope);
    const def = checkMeterDefinition(body, before.definition, this.rules);
    const folderId = (body as Record<string, unknown>).folder_id === undefined ? before.folder_id : this.folderIdOf(body);
    this.folder(folderId, scope);
    checkVirtualReferences(id, def, (m) => this.definitionOf(m, scope));
    if (def.parent_meter !== before.definition.parent_meter) this.checkParentMeter(id, def.parent_meter, scope);
    const t = this.now();
    const stored = this.stored(def);
    this.db.prepare('UPDATE meters SET folder_id = ?, definition = ?, updated_at = ? WHERE id = ?').run(folderId, JSON.stringify(stored), t, id);
    this.meterIndex.set({ id, folder_id: folderId, definition: stored, created_at: before.created_at, updated_at: t });
    this.opened.delete(id);
    this.unreadable.delete(id);
    this.hooks.onChange?.({ kind: 'meter', action: 'update', id, name: def.name });
    return this.meter(id);
  }

  deleteMeter(id: string, scope?: FolderScope): void {
    const m = this.meter(id, scope);
    checkNotUsed(id, this.meterIndex.all().map((r) => ({ _id: r.id, definition: r.definition })));
    const children = [...this.parentIndex()].filter(([, parent]) => parent === id).map(([child]) => child);
    if (children.length) throw new ApiError(409, `meter "${id}" is the parent_meter of ${children.map((c) => `"${c}"`).join(', ')}; give them another parent_meter (or none) first`);
    this.db.transaction(() => {
      this.db.prepare('DELETE FROM meters WHERE id = ?').run(id);
      this.db.prepare('INSERT OR IGNORE INTO retired_meter_ids (id, retired_at, name) VALUES (?, ?, ?)').run(id, this.now(), m.definition.name);
    })();
    this.meterIndex.delete(id);
    this.opened.delete(id);
    this.hooks.onChange?.({ kind: 'meter', action: 'delete', id, name: m.definition.name });
  }
  /** The ids of the virtual meters (found in SQL, no definition parsed), at most `limit`. */
  virtualMeterIds(limit: number): string[] {
    return (this.db.prepare("SELECT id FROM meters WHERE json_extract(definition, '$.protocol') = 'virtual' ORDER BY id LIMIT ?").all(limit) as { id: string }[]).map((r) => r.id);
  }

  /** A meter's definition as stored (password still sealed) when the scope sees it: for virtual meters' references. */
  definitionOf(id: string, scope?: FolderScope): MeterDefinition | undefined {
    const m = this.meterIndex.get(id);
    return m && this.canSee(scope, m.folder_id) ? { ...m.definition } : undefined;
  }

  /** Every meter's parent_meter (only meters that have one): child id -> parent id. */
  parentIndex(): Map<string, string> {
    const out = new Map<string, string>();
    for (const m of this.meterIndex.all()) if (m.definition.parent_meter) out.set(m.id, m.definition.parent_meter);
    return out;
  }

  /** 400 when `parent` is not a meter the caller sees, is the meter itself, or would close a cycle of parents. */
  private checkParentMeter(id: string, parent: string, scope?: FolderScope): void {
    if (parent === '') return;
    if (parent === id) throw new ApiError(400, `parent_meter "${parent}" is the meter itself`);
    const row = this.meterIndex.get(parent);
    if (!row || !this.canSee(scope, row.folder_id)) throw new ApiError(400, `parent_meter "${parent}" is not a known meter`);
    const parents = this.parentIndex();
    const path = [id, parent];
    for (let p = parents.get(parent); p !== undefined; p = parents.get(p)) {
      path.push(p);
      if (p === id) throw new ApiError(400, `parent_meter "${parent}" would make a cycle of parent meters: ${path.join(' -> ')}`);
      if (path.length > 10_000) break;
    }
  }

  /** The definition as stored: the password and the DLMS keys sealed. */
  private stored(def: MeterDefinition): MeterDefinition {
    const out = { ...def, password: this.box.seal(def.password) };
    for (const k of SECRET_FIELDS) if (k !== 'password' && def[k]) out[k] = this.box.seal(def[k]);
    return out;
  }

  /** The meters in memory, read from the database on first use. */
  private get meterIndex(): MeterIndex {
    this.index ??= new MeterIndex(this.db.prepare('SELECT * FROM meters').all() as MeterRow[]);
    return this.index;
  }

  /** A meter as a record with the password opened ("" when it cannot be, told once through onCredentialError). */
  private toRecord(m: IndexedMeter): MeterRecord {
    let def = this.opened.get(m.id);
    if (!def) {
      def = { ...m.definition };
      for (const k of SECRET_FIELDS) {
        if (typeof def[k] !== 'string' || !isSealed(def[k])) continue;
        try {
          def[k] = this.box.open(def[k]);
        } catch (err) {
          def[k] = '';
          if (!this.unreadable.has(m.id)) {
            this.unreadable.add(m.id);
            this.hooks.onCredentialError?.(m.id, `meter "${m.id}": its stored ${k} cannot be read (${(err as Error).message}); set the secret it was stored with or enter the ${k} again`);
          }
        }
      }
      this.opened.set(m.id, Object.freeze(def));
    }
    return { _id: m.id, folder_id: m.folder_id, definition: def, created_at: m.created_at, updated_at: m.updated_at };
  }

  /** A meter's leaf of the tree, made once per version of the meter (each change stores a new IndexedMeter) and frozen. */
  private leaf(m: IndexedMeter): TreeNode {
    let node = this.leaves.get(m);
    if (!node) {
      node = Object.freeze({ _id: m.id, name: m.definition.name, folder_type: 'meter', parent_id: m.folder_id, child_folders: Object.freeze([]) as unknown as TreeNode[], meter: m.id, meter_detail: Object.freeze(publicDefinition(m.definition)) });
      this.leaves.set(m, node);
    }
    return node;
  }

  private childrenIndex(): Map<string | null, FolderRow[]> {
    const index = new Map<string | null, FolderRow[]>();
    for (const f of this.db.prepare('SELECT * FROM folders ORDER BY name, id').all() as FolderRow[]) {
      index.set(f.parent_id, [...(index.get(f.parent_id) ?? []), f]);
    }
    return index;
  }

  private folderIdOf(body: unknown): string {
    const v = (body as Record<string, unknown>).folder_id;
    if (typeof v !== 'string' || v === '') throw new ApiError(400, `folder_id ${JSON.stringify(v)} must be the id of the folder the meter belongs to`);
    return v;
  }

  private freeMeterId(name: string): string {
    const base = name.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-+|-+$/g, '').slice(0, 48) || 'meter';
    for (let i = 1; ; i++) {
      const id = i === 1 ? base : `${base}-${i}`;
      if (!this.meterIndex.has(id) && this.retiredAt(id) === null) return id;
    }
  }

  private checkFolder(body: unknown, creating: boolean): Partial<Folder> {
    if (typeof body !== 'object' || body === null || Array.isArray(body)) throw new ApiError(400, 'the body must be a JSON object with the folder\'s fields');
    const b = body as Record<string, unknown>;
    for (const k of Object.keys(b)) if (!FOLDER_FIELDS.includes(k)) throw new ApiError(400, `unknown field "${k}" (use ${FOLDER_FIELDS.join(', ')})`);
    const out: Partial<Folder> = {};
    if (b.name !== undefined || creating) {
      if (typeof b.name !== 'string' || b.name.trim() === '' || b.name.length > 100) throw new ApiError(400, `name ${JSON.stringify(b.name)} must be a non-empty string of at most 100 characters`);
      out.name = b.name.trim();
    }
    if (b.folder_type !== undefined || creating) {
      const t = b.folder_type ?? 'folder';
      if (!(FOLDER_TYPES as readonly unknown[]).includes(t)) throw new ApiError(400, `folder_type ${JSON.stringify(t)} must be one of ${FOLDER_TYPES.join(', ')}`);
      out.folder_type = t as string;
    }
    if (b.parent_id !== undefined || creating) {
      const p = b.parent_id ?? null;
      if (p !== null && (typeof p !== 'string' || p === '')) throw new ApiError(400, `parent_id ${JSON.stringify(p)} must be a folder id or null`);
      out.parent_id = p as string | null;
    }
    if (b.area_m2 !== undefined) {
      const a = typeof b.area_m2 === 'string' && /^\s*\d+(\.\d+)?\s*$/.test(b.area_m2) ? Number(b.area_m2) : b.area_m2;
      if (a !== null && (typeof a !== 'number' || !Number.isFinite(a) || a <= 0 || a > MAX_AREA_M2)) throw new ApiError(400, `area_m2 ${JSON.stringify(b.area_m2)} must be a positive number of square metres (at most ${MAX_AREA_M2}) or null`);
      out.area_m2 = a as number | null;
    }
    if (b.time_zone !== undefined) {
      const z = b.time_zone === '' ? null : b.time_zone;
      if (z !== null && !isValidTimeZone(z)) throw new ApiError(400, `time_zone ${JSON.stringify(b.time_zone)} must be an IANA time zone such as "Europe/Berlin", or null for the EMS time zone`);
      out.time_zone = z as string | null;
    }
    return out;
  }
}

/** One refused item of a bulk creation. */
export interface BulkError { index: number; field: string | null; message: string }

/** The field an error message is about (messages start with it), or null. */
export function fieldOf(message: string): string | null {
  if (/^meter id /.test(message)) return '_id';
  if (/^unknown folder /.test(message)) return 'folder_id';
  const unknown = /^unknown field "([^"]+)"/.exec(message);
  if (unknown) return unknown[1];
  const first = /^[A-Za-z_]+/.exec(message)?.[0];
  return first && (first === 'folder_id' || (METER_FIELDS as readonly string[]).includes(first)) ? first : null;
}
