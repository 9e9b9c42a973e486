/**
 * The site report of a space (a folder and everything below it) over a period, per energy category:
 * consumption, kgce, kgCO2e, per m2 (the folder's area_m2), cost (the tariffs bound to the meters), the
 * per-step series with peak / average / load factor, the sub-meter breakdown with each master meter's
 * unmetered remainder, the child spaces' totals, the base period against the reporting period and the
 * top consumers. Pure logic over a ReadingStore; the API is lib/ems/api/sites.ts.
 *
 * Counting: a meter counts in a space's totals unless its parent_meter is a counted meter of the same
 * category inside that space (the master already measured that energy), so nothing is counted twice.
 * Virtual meters (protocol "virtual") are listed but never counted. Remainder = master - sum of its
 * sub-meters of the same category; a negative remainder is kept as it is and flagged.
 *
 * The base period is compared only where it has data: a category (and the totals) whose meters have no readings
 * around the base period get base null and a note, never a base of zero.
 *
 * Peak, average and load factor come from the category's per-step consumption of the space: peak = the
 * largest step, average = total / number of steps in the period, load factor = average / peak (1 = flat).
 * Sums are exact decimals (lib/money/decimal); per-m2 and ratios are rounded to 6 decimals, % to 2.
 */
import { Decimal } from '../money/decimal';
import { priceConsumption } from '../tariff/price';
import type { Tariff } from '../tariff/types';
import type { ReadingStore } from '../store/types';
import { mainRegister, parseObis } from '../model/obis';
import { isoInZone } from './data';
import { categoryOf, type EnergyCategory } from './energy-categories';
import { stepBoundaries, type ReportStep } from './reports';
import { addFigures, meterFigures, registersFor, zeroFigures, type Figures, type MeterPeriod } from './site-report-meters';

export interface SiteFolder { _id: string; name: string; folder_type: string; parent_id: string | null; area_m2: number | null; time_zone: string | null }
export interface SiteMeter { id: string; name: string; folder_id: string; parent_meter: string; energy_category: string; protocol: string }
export interface PricedTariff { _id: string; name: string; tariff: Tariff }

export interface SiteReportOptions {
  folder: SiteFolder;
  /** The folder and every folder below it. */
  folders: readonly SiteFolder[];
  location: string[];
  /** The meters of those folders. */
  meters: readonly SiteMeter[];
  categories: readonly EnergyCategory[];
  from: number;
  to: number;
  step: ReportStep;
  timeZone: string;
  base?: { from: number; to: number } | null;
  /** The tariff pricing a meter's consumption of a category (accounting objects, cost centers), or null. */
  tariffFor?: (meter: string, category: EnergyCategory) => PricedTariff | null;
  /** How many top consumers per category (default 10). */
  top?: number;
}

type Amounts = { consumption: string; kgce: string; kgco2e: string };
const text = (f: Figures): Amounts => ({ consumption: f.consumption.trimmed().toString(), kgce: f.kgce.trimmed().toString(), kgco2e: f.kgco2e.trimmed().toString() });

function perArea(f: Figures, area: number | null): Amounts | null {
  if (area === null) return null;
  const a = Decimal.from(area);
  const d = (x: Decimal) => x.div(a, 6).trimmed().toString();
  return { consumption: d(f.consumption), kgce: d(f.kgce), kgco2e: d(f.kgco2e) };
}

function change(now: Decimal, before: Decimal): { change: string; change_pct: string | null } {
  const c = now.sub(before);
  return { change: c.trimmed().toString(), change_pct: before.isZero() ? null : c.mul(100).div(before, 2).toString() };
}

interface MeterState {
  m: SiteMeter;
  category: EnergyCategory | null;
  registers: string[];
  virtual: boolean;
  eligible: boolean;
  total: Figures;
  steps?: Figures[];
  base?: Figures;
  flags: string[];
  cost: { amount: Decimal; currency: string; tariff: string } | null;
}

/** Meters counted in a space holding `ids`: eligible, and not under an eligible master of the same category in it. */
function countedIn(states: Map<string, MeterState>, ids: ReadonlySet<string>): MeterState[] {
  return [...ids].map((id) => states.get(id)!).filter((s) => {
    if (!s.eligible) return false;
    const p = s.m.parent_meter ? states.get(s.m.parent_meter) : undefined;
    return !(p && ids.has(p.m.id) && p.eligible && p.category?.id === s.category?.id);
  });
}

function subtreeIds(folders: readonly SiteFolder[], root: string): Set<string> {
  const out = new Set([root]);
  for (let grew = true; grew;) {
    grew = false;
    for (const f of folders) if (f.parent_id !== null && out.has(f.parent_id) && !out.has(f._id)) { out.add(f._id); grew = true; }
  }
  return out;
}

function sumByCategory(list: readonly MeterState[], pick: (s: MeterState) => Figures | undefined): Map<string, Figures> {
  const out = new Map<string, Figures>();
  for (const s of list) out.set(s.category!.id, addFigures(out.get(s.category!.id) ?? zeroFigures(), pick(s) ?? zeroFigures()));
  return out;
}

export async function siteReport(store: ReadingStore, o: SiteReportOptions) {
  const bounds = stepBoundaries(o.from, o.to, o.step, o.timeZone);
  const period: MeterPeriod = { from: o.from, to: o.to, step: o.step, bounds, timeZone: o.timeZone };
  const notes: string[] = [];
  const ids = new Set(o.meters.map((m) => m.id));
  const codes = new Map<string, string[]>();
  for (const r of await store.latest()) if (ids.has(r.meter)) codes.set(r.meter, [...(codes.get(r.meter) ?? []), r.obis]);
  // A virtual meter's registers are its meters' common ones: the store answers them when asked by meter.
  for (const m of o.meters) {
    if (m.protocol !== 'virtual' || codes.has(m.id)) continue;
    try {
      codes.set(m.id, (await store.latest({ meter: m.id })).map((r) => r.obis));
    } catch (err) {
      notes.push(`virtual meter "${m.id}": ${err instanceof Error ? err.message : String(err)}`);
    }
  }

  const states = new Map<string, MeterState>();
  for (const m of o.meters) {
    const own = codes.get(m.id) ?? [];
    const main = mainRegister(own);
    const category = categoryOf(o.categories, m.energy_category, main ? parseObis(main).medium : null);
    const registers = category ? registersFor(category, own) : [];
    const virtual = m.protocol === 'virtual';
    if (!category) notes.push(`meter "${m.id}": no energy category (set energy_category, or it has no readings of a known medium); not counted`);
    else if (!registers.length && !virtual) notes.push(`meter "${m.id}": no ${category.id} register (${category.registers.join(', ')}) among its readings; not counted`);
    states.set(m.id, { m, category, registers, virtual, eligible: !virtual && !!category && registers.length > 0, total: zeroFigures(), flags: [], cost: null });
  }
  const counted = countedIn(states, ids);
  const countedIds = new Set(counted.map((s) => s.m.id));

  for (const s of states.values()) {
    if (!s.category || !s.registers.length) continue;
    const r = await meterFigures(store, s.m.id, s.registers, s.category, period, countedIds.has(s.m.id));
    s.total = r.total;
    s.steps = r.steps;
    if (r.interpolated) s.flags.push('interpolated');
    if (r.suspect) s.flags.push('suspect');
    for (const u of r.badUnits) notes.push(`meter "${s.m.id}": readings in ${u} cannot be converted to ${s.category.unit} (${s.category.id}); left out`);
    if (r.suspect) notes.push(`meter "${s.m.id}": a register went backwards (reset or meter exchange) in the period; those steps take the reading before it`);
    if (o.base && s.eligible) {
      // A meter without readings around the base period has no base (no data is not zero consumption).
      const b = await meterFigures(store, s.m.id, s.registers, s.category, { ...period, ...o.base, step: 'day', bounds: [o.base.from, o.base.to] }, false);
      if (b.windows > 0) s.base = b.total;
    }
    if (s.steps && o.tariffFor) s.cost = priceMeter(s, o, bounds, notes);
  }

  // Per category: totals, series, cost, base, peak.
  const categories = o.categories.filter((c) => counted.some((s) => s.category!.id === c.id)).map((c) => {
    const mine = counted.filter((s) => s.category!.id === c.id);
    const total = mine.reduce((a, s) => addFigures(a, s.total), zeroFigures());
    const series = bounds.slice(0, -1).map((b, i) => ({ start: b, figures: mine.reduce((a, s) => addFigures(a, s.steps![i]), zeroFigures()) }));
    let peak = series[0];
    for (const x of series) if (x.figures.consumption.cmp(peak.figures.consumption) > 0) peak = x;
    const average = total.consumption.div(series.length, 6);
    const costs: Record<string, Decimal> = {};
    for (const s of mine) if (s.cost) costs[s.cost.currency] = (costs[s.cost.currency] ?? Decimal.ZERO).add(s.cost.amount);
    const base = o.base && mine.some((s) => s.base) ? mine.reduce((a, s) => addFigures(a, s.base ?? zeroFigures()), zeroFigures()) : null;
    if (o.base && !base) notes.push(`${c.id}: no readings in the base period; nothing to compare with`);
    return {
      id: c.id, name: c.name, unit: c.unit, ...text(total), per_m2: perArea(total, o.folder.area_m2),
      cost: Object.keys(costs).length ? Object.fromEntries(Object.entries(costs).map(([k, v]) => [k, v.toString()])) : null,
      meters_counted: mine.length,
      peak: { date: isoInZone(peak.start, o.timeZone), consumption: peak.figures.consumption.trimmed().toString() },
      average: average.trimmed().toString(),
      load_factor: peak.figures.consumption.isZero() ? null : average.div(peak.figures.consumption, 6).trimmed().toString(),
      base: base && {
        ...text(base),
        consumption_change: change(total.consumption, base.consumption), kgce_change: change(total.kgce, base.kgce), kgco2e_change: change(total.kgco2e, base.kgco2e),
      },
      series: series.map((x, i) => ({ date: isoInZone(Math.max(x.start, o.from), o.timeZone), date_to: isoInZone(Math.min(bounds[i + 1], o.to), o.timeZone), ...text(x.figures) })),
      top: topConsumers(states, c, o.top ?? 10),
    };
  });

  const grand = counted.reduce((a, s) => addFigures(a, { consumption: Decimal.ZERO, kgce: s.total.kgce, kgco2e: s.total.kgco2e }), zeroFigures());
  const grandBase = o.base && counted.some((s) => s.base) ? counted.reduce((a, s) => addFigures(a, { consumption: Decimal.ZERO, kgce: s.base?.kgce ?? Decimal.ZERO, kgco2e: s.base?.kgco2e ?? Decimal.ZERO }), zeroFigures()) : null;
  const submeters = breakdown(states, notes);
  const spaces = o.folders.filter((f) => f.parent_id === o.folder._id).map((f) => {
    const inside = subtreeIds(o.folders, f._id);
    const byCat = sumByCategory(countedIn(states, new Set(o.meters.filter((m) => inside.has(m.folder_id)).map((m) => m.id))), (s) => s.total);
    return {
      _id: f._id, name: f.name, folder_type: f.folder_type, area_m2: f.area_m2,
      categories: [...byCat].map(([id, fig]) => ({ id, unit: o.categories.find((c) => c.id === id)!.unit, ...text(fig), per_m2: perArea(fig, f.area_m2) })),
    };
  });
  return {
    folder: { _id: o.folder._id, name: o.folder.name, folder_type: o.folder.folder_type, area_m2: o.folder.area_m2, time_zone: o.timeZone },
    location: o.location, step: o.step, from: isoInZone(o.from, o.timeZone), to: isoInZone(o.to, o.timeZone),
    base: o.base ? { from: isoInZone(o.base.from, o.timeZone), to: isoInZone(o.base.to, o.timeZone) } : null,
    totals: {
      kgce: grand.kgce.trimmed().toString(), kgco2e: grand.kgco2e.trimmed().toString(),
      per_m2: o.folder.area_m2 === null ? null : { kgce: grand.kgce.div(Decimal.from(o.folder.area_m2), 6).trimmed().toString(), kgco2e: grand.kgco2e.div(Decimal.from(o.folder.area_m2), 6).trimmed().toString() },
      base: grandBase && { kgce: grandBase.kgce.trimmed().toString(), kgco2e: grandBase.kgco2e.trimmed().toString(), kgce_change: change(grand.kgce, grandBase.kgce), kgco2e_change: change(grand.kgco2e, grandBase.kgco2e) },
    },
    categories,
    submeters,
    spaces,
    meters: [...states.values()].map((s) => ({
      meter: s.m.id, name: s.m.name, folder_id: s.m.folder_id, parent_meter: s.m.parent_meter || null, protocol: s.m.protocol,
      category: s.category?.id ?? null, registers: s.registers, unit: s.category?.unit ?? null, virtual: s.virtual, counted: countedIds.has(s.m.id),
      ...(s.category && s.registers.length ? text(s.total) : { consumption: null, kgce: null, kgco2e: null }),
      cost: s.cost ? { amount: s.cost.amount.toString(), currency: s.cost.currency, tariff: s.cost.tariff } : null, flags: s.flags,
    })),
    notes,
  };
}

export type SiteReport = Awaited<ReturnType<typeof siteReport>>;

/** Sub-meters per master meter id: the report's non-virtual meters of the master's category with data. */
function childrenIndex(states: Map<string, MeterState>): Map<string, MeterState[]> {
  const out = new Map<string, MeterState[]>();
  for (const s of states.values()) {
    const p = s.m.parent_meter ? states.get(s.m.parent_meter) : undefined;
    if (!p || s.virtual || !s.registers.length || !s.category || s.category.id !== p.category?.id) continue;
    out.set(p.m.id, [...(out.get(p.m.id) ?? []), s]);
  }
  return out;
}

/** Each master meter with its sub-meters (same category) and the unmetered remainder. */
function breakdown(states: Map<string, MeterState>, notes: string[]) {
  const out = [];
  const index = childrenIndex(states);
  for (const master of states.values()) {
    if (!master.category || !master.registers.length) continue;
    const children = index.get(master.m.id) ?? [];
    if (!children.length) continue;
    const sum = children.reduce((a, s) => addFigures(a, s.total), zeroFigures());
    const rest: Figures = { consumption: master.total.consumption.sub(sum.consumption), kgce: master.total.kgce.sub(sum.kgce), kgco2e: master.total.kgco2e.sub(sum.kgco2e) };
    const negative = rest.consumption.isNegative();
    if (negative) notes.push(`meter "${master.m.id}": its sub-meters measured ${sum.consumption.trimmed()} ${master.category.unit}, more than its own ${master.total.consumption.trimmed()}: the remainder ${rest.consumption.trimmed()} is negative (check the meters, their parent_meter and their readings)`);
    out.push({
      meter: master.m.id, name: master.m.name, category: master.category.id, unit: master.category.unit, ...text(master.total),
      submeters: children.map((s) => ({ meter: s.m.id, name: s.m.name, ...text(s.total) })),
      submeters_total: text(sum),
      remainder: { ...text(rest), negative },
    });
  }
  return out;
}

/** The disjoint parts of a category (meters without same-category sub-meters, and each master's remainder), largest first. */
function topConsumers(states: Map<string, MeterState>, c: EnergyCategory, n: number) {
  const parts: { meter: string; name: string; remainder: boolean; consumption: Decimal }[] = [];
  const index = childrenIndex(states);
  for (const [id, s] of states) {
    if (!s.eligible || s.category!.id !== c.id) continue;
    const kids = (index.get(id) ?? []).filter((k) => k.eligible);
    if (!kids.length) parts.push({ meter: id, name: s.m.name, remainder: false, consumption: s.total.consumption });
    else parts.push({ meter: id, name: `${s.m.name} (unmetered remainder)`, remainder: true, consumption: kids.reduce((a, k) => a.sub(k.total.consumption), s.total.consumption) });
  }
  return parts.sort((a, b) => b.consumption.cmp(a.consumption) || a.meter.localeCompare(b.meter)).slice(0, n)
    .map((p) => ({ meter: p.meter, name: p.name, remainder: p.remainder, consumption: p.consumption.trimmed().toString() }));
}

/** The energy cost of a meter's steps by its tariff (energy charges only, as reports.ts), or null. */
function priceMeter(s: MeterState, o: SiteReportOptions, bounds: readonly number[], notes: string[]): MeterState['cost'] {
  const t = o.tariffFor!(s.m.id, s.category!);
  if (!t) return null;
  try {
    const intervals = s.steps!.map((f, i) => ({ start: Math.max(bounds[i], o.from), end: Math.min(bounds[i + 1], o.to), quantity: f.consumption.toNumber(), unit: s.category!.unit, obis: s.registers[0] }))
      .filter((x) => x.quantity !== 0);
    if (!intervals.length) return { amount: Decimal.ZERO, currency: t.tariff.currency, tariff: t._id };
    const r = priceConsumption(t.tariff, intervals, { from: o.from, to: o.to });
    for (const w of r.warnings) notes.push(`meter "${s.m.id}", tariff "${t._id}": ${w}`);
    return { amount: Decimal.sum(r.lines.filter((l) => l.kind === 'energy').map((l) => Decimal.from(l.amount))), currency: t.tariff.currency, tariff: t._id };
  } catch (err) {
    notes.push(`meter "${s.m.id}": tariff "${t._id}" could not price its consumption: ${err instanceof Error ? err.message : String(err)}`);
    return null;
  }
}
