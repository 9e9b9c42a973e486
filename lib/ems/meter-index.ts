/**
 * The registry's meters in memory, in id order: read from the database once, then kept in step by
 * each create, update and delete (no reload of every meter per change). Definitions are held as
 * stored (the password sealed, defaults of fields added later applied).
 */
import { METER_DEFAULTS, type MeterDefinition } from './meter-definition';

export interface IndexedMeter {
  id: string;
  folder_id: string;
  /** The definition as stored: the password still sealed. */
  definition: MeterDefinition;
  created_at: number;
  updated_at: number;
}

export interface MeterRow { id: string; folder_id: string; definition: string; created_at: number; updated_at: number }

export function indexedOf(row: MeterRow): IndexedMeter {
  return { id: row.id, folder_id: row.folder_id, definition: { ...METER_DEFAULTS, ...JSON.parse(row.definition) } as MeterDefinition, created_at: row.created_at, updated_at: row.updated_at };
}

export class MeterIndex {
  private readonly byId = new Map<string, IndexedMeter>();
  /** Every id, sorted (as SQLite's ORDER BY id for the ASCII ids meters have). */
  private readonly ids: string[] = [];
  /** Work counter: meters visited by pages (tests check a page's work does not grow with the fleet). */
  visited = 0;

  constructor(rows: readonly MeterRow[]) {
    for (const row of rows) this.byId.set(row.id, indexedOf(row));
    this.ids.push(...this.byId.keys());
    this.ids.sort(compare);
  }

  get size(): number {
    return this.byId.size;
  }

  get(id: string): IndexedMeter | undefined {
    return this.byId.get(id);
  }

  has(id: string): boolean {
    return this.byId.has(id);
  }

  /** Adds a meter or replaces the one with its id. */
  set(m: IndexedMeter): void {
    if (!this.byId.has(m.id)) this.ids.splice(this.firstAfter(m.id, true), 0, m.id);
    this.byId.set(m.id, m);
  }

  delete(id: string): void {
    if (!this.byId.delete(id)) return;
    const i = this.firstAfter(id, true);
    if (this.ids[i] === id) this.ids.splice(i, 1);
  }

  /** Every meter in id order. */
  all(): IndexedMeter[] {
    return this.ids.map((id) => this.byId.get(id)!);
  }

  /**
   * Up to `limit` meters with an id after `after` (all when undefined) that `accept`s, in id order,
   * and whether more such meters follow. Visits only meters from the cursor on, until the page is full.
   */
  page(after: string | undefined, limit: number, accept: (m: IndexedMeter) => boolean): { items: IndexedMeter[]; more: boolean } {
    const items: IndexedMeter[] = [];
    for (let i = after === undefined ? 0 : this.firstAfter(after, false); i < this.ids.length; i++) {
      this.visited++;
      const m = this.byId.get(this.ids[i])!;
      if (!accept(m)) continue;
      if (items.length === limit) return { items, more: true };
      items.push(m);
    }
    return { items, more: false };
  }

  /** The position of the first id > key (or >= key when `inclusive`): a binary search. */
  private firstAfter(key: string, inclusive: boolean): number {
    let lo = 0;
    let hi = this.ids.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      const c = compare(this.ids[mid], key);
      if (c < 0 || (c === 0 && !inclusive)) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
