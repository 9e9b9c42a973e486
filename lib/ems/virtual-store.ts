/**
 * A ReadingStore that answers for virtual meters (virtual-meters.ts) from their meters and passes everything
 * else through, so the readings API, data endpoints, reports, bills and the dashboard see virtual meters as
 * meters. A virtual meter V = Σ cᵢ·mᵢ (flattened to stored meters) answers, per OBIS code all its meters store:
 *
 * - fn=delta windows: Σ cᵢ·(mᵢ's exact edge-to-edge consumption in the window, lib/store/edge-delta.ts). A
 *   window where any meter has no consumption row is left out (absent, never 0). Within a run of answered
 *   windows the value is the difference of the running weighted sum, rounded to a millionth, so the windows add
 *   up to the consumption over their union to that digit, whatever the coefficients.
 * - raw readings (its register): Σ cᵢ·mᵢ(t) at every instant t one of its meters has a reading in the range,
 *   the others' registers read at t or interpolated linearly between their readings around t (flagged
 *   INTERPOLATED; a register going backwards takes the reading before, flagged SUSPECT). An instant before a
 *   meter's first reading or after its last is left out.
 * - other window functions (first, last, min, max, mean, sum): that function over its raw readings per window.
 * - latest: its raw reading at the earliest of its meters' newest readings.
 *
 * Quality: the OR of the meters' flags, plus CALCULATED. Meters whose values for one OBIS code differ in unit
 * are refused (409), and so is a virtual meter whose meters store no common OBIS code (one energy category).
 * Readings are never written for (nor removed from) a virtual meter (409). Work per query: one query per stored meter (plus the
 * few that find the readings around the range for raw answers); component queries are cached by the wrapper,
 * which the EMS makes per API request.
 */
import { Quality } from '../model/quality';
import type { Reading } from '../model/reading';
import { windowBoundaries } from '../model/time';
import { EDGE_LOOKBACK_MS } from '../store/edge-delta';
import type { EmsEvent, EventQuery, LatestQuery, RangeQuery, ReadingKey, ReadingStore, WindowRow } from '../store/types';
import { ApiError } from './envelope';
import type { Registry } from './registry';
import { parseVirtualExpression, type Term } from './virtual-expression';
import { flatten } from './virtual-meters';

/** Most raw readings of one stored meter a raw or non-delta virtual answer reads. */
export const MAX_VIRTUAL_RAW_ROWS = 500_000;
const CACHE_ENTRIES = 256;

/** Resolves a meter id to its flattened weighted sum when it is virtual, else null. */
export type VirtualResolver = (meter: string) => Term[] | null;

/** The resolver over the registry's current definitions. */
export function registryResolver(registry: Pick<Registry, 'definitionOf'>): VirtualResolver {
  return (meter) => {
    const def = registry.definitionOf(meter);
    return def?.protocol === 'virtual' ? flatten(meter, (m) => registry.definitionOf(m)) : null;
  };
}

/** The ids of the registry's virtual meters (for the newest values of every meter), at most MAX_LISTED_VIRTUAL. */
export function registryVirtualIds(registry: Pick<Registry, 'virtualMeterIds'>): () => string[] {
  return () => registry.virtualMeterIds(MAX_LISTED_VIRTUAL);
}

/** Most virtual meters whose newest values an unfiltered latest() adds (each costs its meters' latest and one read). */
export const MAX_LISTED_VIRTUAL = 1000;

/**
 * `store` answering for virtual meters too (make one per request: component queries are cached inside). With
 * `virtualIds`, latest() without a meter also answers the virtual meters' newest values (a virtual meter whose
 * meters share no register is left out there).
 */
export function withVirtualMeters(store: ReadingStore, resolve: VirtualResolver, virtualIds?: () => readonly string[]): ReadingStore {
  return new VirtualMeterStore(store, resolve, virtualIds);
}

const micro = (v: number): number => Math.round(v * 1e6);

class VirtualMeterStore implements ReadingStore {
  private readonly cache = new Map<string, Promise<Reading[] | WindowRow[]>>();
  constructor(private readonly inner: ReadingStore, private readonly resolve: VirtualResolver, private readonly virtualIds?: () => readonly string[]) {}

  get kind(): string {
    return this.inner.kind;
  }

  async write(readings: readonly Reading[]): Promise<number> {
    for (const meter of new Set(readings.map((r) => r.meter))) {
      if (this.resolve(meter)) throw new ApiError(409, `meter "${meter}" is virtual: its readings are calculated from its expression, never written`);
    }
    return this.inner.write(readings);
  }

  async remove(keys: readonly ReadingKey[]): Promise<number> {
    for (const meter of new Set(keys.map((k) => k.meter))) {
      if (this.resolve(meter)) throw new ApiError(409, `meter "${meter}" is virtual: it has no stored readings to remove`);
    }
    return this.inner.remove(keys);
  }

  async query(q: RangeQuery): Promise<Reading[] | WindowRow[]> {
    const terms = this.resolve(q.meter);
    if (!terms) return this.inner.query(q);
    if (q.window?.fn === 'delta') return this.deltas(q, terms);
    if (q.window) return this.aggregate(q, terms);
    const rows = await this.raw(q.meter, terms, q.obis, q.from, q.to);
    return q.limit !== undefined ? rows.slice(0, q.limit) : rows;
  }

  async latest(q: LatestQuery = {}): Promise<Reading[]> {
    if (q.meter === undefined && this.virtualIds) {
      const out = await this.inner.latest(q);
      for (const id of this.virtualIds()) {
        try {
          out.push(...await this.latest({ ...q, meter: id }));
        } catch (err) {
          if (!(err instanceof ApiError)) throw err; // meters without a common register: no newest value
        }
      }
      return out;
    }
    const terms = q.meter ? this.resolve(q.meter) : null;
    if (!terms || !q.meter) return this.inner.latest(q);
    const newest = await Promise.all(terms.map((t) => this.inner.latest({ meter: t.meter, ...(q.obis ? { obis: q.obis } : {}) })));
    const out: Reading[] = [];
    for (const obis of commonObis(newest)) {
      const at = Math.min(...newest.map((rows) => rows.find((r) => r.obis === obis)!.time));
      const rows = await this.raw(q.meter, terms, obis, at, at + 1);
      if (rows.length) out.push(rows[rows.length - 1]);
    }
    return out;
  }

  writeEvents(events: readonly EmsEvent[]): Promise<number> {
    return this.inner.writeEvents(events);
  }

  events(q: EventQuery): Promise<EmsEvent[]> {
    return this.inner.events(q);
  }

  close(): Promise<void> {
    return this.inner.close();
  }

  /** A stored meter's query, cached for the wrapper's life. */
  private component(q: RangeQuery): Promise<Reading[] | WindowRow[]> {
    const key = JSON.stringify(q);
    let hit = this.cache.get(key);
    if (!hit) {
      hit = this.inner.query(q);
      if (this.cache.size >= CACHE_ENTRIES) this.cache.delete(this.cache.keys().next().value as string);
      this.cache.set(key, hit);
    }
    return hit;
  }

  private async deltas(q: RangeQuery, terms: Term[]): Promise<WindowRow[]> {
    const per: WindowRow[][] = [];
    for (const t of terms) per.push((await this.component({ ...q, meter: t.meter })) as WindowRow[]);
    const codes = obisCodes(q.meter, terms, per, q.obis);
    const out: WindowRow[] = [];
    for (const obis of codes) {
      const byTime = per.map((rows) => new Map(rows.filter((r) => r.obis === obis).map((r) => [r.time, r])));
      const times = [...new Set(byTime.flatMap((m) => [...m.keys()]))].sort((a, b) => a - b);
      const running = new Array<number>(terms.length).fill(0);
      let previous = 0;
      let inRun = false;
      for (const time of times) {
        const rows = byTime.map((m) => m.get(time));
        if (rows.some((r) => r === undefined)) { // a meter without consumption here: the window is absent
          inRun = false;
          continue;
        }
        if (!inRun) {
          running.fill(0);
          previous = 0;
          inRun = true;
        }
        const unit = sameUnit(q.meter, obis, terms, rows as WindowRow[]);
        let quality = Quality.CALCULATED;
        let count = 0;
        rows.forEach((r, i) => {
          running[i] += micro(r!.value);
          quality |= r!.quality ?? 0;
          count += r!.count;
        });
        const now = Math.round(terms.reduce((s, t, i) => s + t.coefficient * running[i], 0));
        out.push({ meter: q.meter, obis, time, value: (now - previous) / 1e6, unit, count, quality });
        previous = now;
      }
    }
    return out.sort((a, b) => a.time - b.time || (a.obis < b.obis ? -1 : a.obis > b.obis ? 1 : 0));
  }

  private async aggregate(q: RangeQuery, terms: Term[]): Promise<WindowRow[]> {
    const { every, fn } = q.window!;
    let bounds: number[];
    try {
      bounds = windowBoundaries(q.from, q.to, every, q.timeZone);
    } catch (err) {
      throw new ApiError(400, (err as Error).message);
    }
    const readings = await this.raw(q.meter, terms, q.obis, q.from, q.to);
    const out: WindowRow[] = [];
    const groups = new Map<string, Reading[][]>();
    for (const r of readings) {
      let g = groups.get(r.obis);
      if (!g) groups.set(r.obis, (g = bounds.slice(1).map(() => [])));
      let i = upperBound(bounds, r.time) - 1;
      if (i < 0) i = 0;
      if (i < g.length) g[i].push(r);
    }
    for (const [obis, windows] of groups) {
      windows.forEach((rs, i) => {
        if (!rs.length) return;
        const values = rs.map((r) => r.value);
        const value = fn === 'first' ? values[0] : fn === 'last' ? values[values.length - 1] : fn === 'min' ? Math.min(...values) : fn === 'max' ? Math.max(...values)
          : fn === 'sum' ? values.reduce((a, b) => a + b, 0) : values.reduce((a, b) => a + b, 0) / values.length;
        out.push({ meter: q.meter, obis, time: bounds[i], value, unit: rs[0].unit, count: rs.length, quality: rs.reduce((f, r) => f | (r.quality ?? 0), 0) });
      });
    }
    return out.sort((a, b) => a.time - b.time || (a.obis < b.obis ? -1 : a.obis > b.obis ? 1 : 0));
  }

  /** The virtual meter's calculated register readings in [from, to), per OBIS code its meters share. */
  private async raw(meter: string, terms: Term[], obis: string | undefined, from: number, to: number): Promise<Reading[]> {
    const per: Reading[][] = [];
    for (const t of terms) {
      const rows = (await this.component({ meter: t.meter, ...(obis ? { obis } : {}), from, to, limit: MAX_VIRTUAL_RAW_ROWS + 1 })) as Reading[];
      if (rows.length > MAX_VIRTUAL_RAW_ROWS) throw new ApiError(400, `virtual meter "${meter}": meter "${t.meter}" has more than ${MAX_VIRTUAL_RAW_ROWS} readings from ${new Date(from).toISOString()} to ${new Date(to).toISOString()}; ask a shorter range or fn=delta windows`);
      per.push(rows);
    }
    let codes: string[];
    if (obis) codes = [obis];
    else {
      const newest = await Promise.all(terms.map((t) => this.inner.latest({ meter: t.meter })));
      codes = commonObis(newest);
      if (!codes.length && newest.every((rows) => rows.length)) throw noCommonCode(meter, terms, newest);
    }
    const out: Reading[] = [];
    for (const code of codes) {
      const series = per.map((rows) => rows.filter((r) => r.obis === code));
      const times = [...new Set(series.flatMap((rows) => rows.map((r) => r.time)))].sort((a, b) => a - b);
      if (!times.length) continue;
      const full: Reading[][] = [];
      for (let i = 0; i < terms.length; i++) {
        const rows = series[i];
        const needBefore = !rows.length || rows[0].time > times[0];
        const needAfter = !rows.length || rows[rows.length - 1].time < times[times.length - 1];
        const before = needBefore ? await this.newestBefore(terms[i].meter, code, from) : null;
        const after = needAfter ? ((await this.component({ meter: terms[i].meter, obis: code, from: to, to: to + EDGE_LOOKBACK_MS, limit: 1 })) as Reading[])[0] : undefined;
        full.push([...(before ? [before] : []), ...rows, ...(after ? [after] : [])]);
      }
      const cursor = new Array<number>(terms.length).fill(0);
      for (const t of times) {
        let sum = 0;
        let quality = Quality.CALCULATED;
        let unit: string | undefined;
        let ok = true;
        for (let i = 0; i < terms.length && ok; i++) {
          const rows = full[i];
          while (cursor[i] < rows.length && rows[cursor[i]].time < t) cursor[i]++;
          const next = rows[cursor[i]];
          const prev = rows[cursor[i] - 1];
          let v: number;
          if (next && next.time === t) {
            v = next.value;
            quality |= next.quality ?? 0;
          } else if (next && prev) {
            quality |= (prev.quality ?? 0) | (next.quality ?? 0);
            if (next.value < prev.value) {
              v = prev.value;
              quality |= Quality.SUSPECT;
            } else {
              v = prev.value + ((next.value - prev.value) * (t - prev.time)) / (next.time - prev.time);
              quality |= Quality.INTERPOLATED;
            }
          } else {
            ok = false; // before this meter's first reading or after its last
            break;
          }
          const u = (next && next.time === t ? next : prev ?? next)!.unit;
          if (unit !== undefined && u !== unit) throw new ApiError(409, `virtual meter "${meter}": ${code} is in ${unit} at meter "${terms[0].meter}" but in ${u} at meter "${terms[i].meter}"`);
          unit = u;
          sum += terms[i].coefficient * micro(v);
        }
        if (ok) out.push({ meter, time: t, obis: code, value: Math.round(sum) / 1e6, unit: unit!, quality });
      }
    }
    return out.sort((a, b) => a.time - b.time || (a.obis < b.obis ? -1 : a.obis > b.obis ? 1 : 0));
  }

  /** The newest reading of one series before `t` (within EDGE_LOOKBACK_MS), searching back in growing spans. */
  private async newestBefore(meter: string, obis: string, t: number): Promise<Reading | null> {
    const floor = t - EDGE_LOOKBACK_MS;
    let hi = t;
    for (let span = 3_600_000; hi > floor; span *= 8) {
      const lo = Math.max(floor, hi - span);
      const rows = (await this.component({ meter, obis, from: lo, to: hi, limit: MAX_VIRTUAL_RAW_ROWS })) as Reading[];
      if (rows.length) return rows[rows.length - 1];
      hi = lo;
    }
    return null;
  }
}

/** The OBIS codes every list has (in the first list's order). */
function commonObis(lists: readonly (readonly { obis: string }[])[]): string[] {
  if (!lists.length) return [];
  const sets = lists.map((rows) => new Set(rows.map((r) => r.obis)));
  return [...sets[0]].filter((c) => sets.every((s) => s.has(c)));
}

/** The codes a delta answer covers: the query's, else those every meter has rows for (409 when they share none). */
function obisCodes(meter: string, terms: Term[], per: WindowRow[][], obis: string | undefined): string[] {
  if (obis) return [obis];
  const codes = commonObis(per);
  if (!codes.length && per.length && per.every((rows) => rows.length)) throw noCommonCode(meter, terms, per);
  return codes;
}

function noCommonCode(meter: string, terms: Term[], newest: { obis: string }[][]): ApiError {
  const what = terms.map((t, i) => `"${t.meter}": ${[...new Set(newest[i].map((r) => r.obis))].join(', ')}`).join('; ');
  return new ApiError(409, `virtual meter "${meter}": its meters store no common OBIS code (${what}); a virtual meter sums meters of one energy category`);
}

function sameUnit(meter: string, obis: string, terms: Term[], rows: WindowRow[]): string {
  const unit = rows[0].unit;
  rows.forEach((r, i) => {
    if (r.unit !== unit) throw new ApiError(409, `virtual meter "${meter}": ${obis} is in ${unit} at meter "${terms[0].meter}" but in ${r.unit} at meter "${terms[i].meter}"`);
  });
  return unit;
}

/** The index of the first bound greater than t. */
function upperBound(bounds: readonly number[], t: number): number {
  let lo = 0;
  let hi = bounds.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (bounds[mid] <= t) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

const MEDIA: Record<number, string> = { 1: 'electricity', 4: 'heat cost allocation', 5: 'cooling', 6: 'heat', 7: 'gas', 8: 'cold water', 9: 'hot water' };

/**
 * One energy category, checked when a virtual meter is defined: the meters its expression names that already
 * have readings must share an OBIS medium (1 electricity, 6 heat, 7 gas, 8/9 water, ...; abstract 0- codes
 * aside), else 400 naming the meter that differs. Meters without readings yet pass (queries answer 409 later
 * if their readings then share no OBIS code). A text that does not parse, and meters the caller cannot see, are
 * left to the definition's check.
 */
export async function checkOneEnergyCategory(store: ReadingStore, expression: unknown, visible: (meter: string) => boolean): Promise<void> {
  if (typeof expression !== 'string' || expression.trim() === '') return;
  let terms: Term[];
  try {
    terms = parseVirtualExpression(expression).terms;
  } catch {
    return;
  }
  let first: { meter: string; media: Set<number> } | null = null;
  for (const t of terms.filter((x) => visible(x.meter))) {
    const media = new Set((await store.latest({ meter: t.meter })).map((r) => Number(/^(\d+)-/.exec(r.obis)?.[1] ?? 0)).filter((m) => m !== 0));
    if (!media.size) continue;
    if (!first) first = { meter: t.meter, media };
    else if (![...media].some((m) => first!.media.has(m))) {
      const name = (s: Set<number>) => [...s].map((m) => MEDIA[m] ?? `medium ${m}`).join('/');
      throw new ApiError(400, `expression ${JSON.stringify(expression.trim())}: meter "${t.meter}" measures ${name(media)} but "${first.meter}" measures ${name(first.media)}; a virtual meter sums meters of one energy category`);
    }
  }
}
