/**
 * One meter's part of a site report: which registers of its category it counts, and its consumption per
 * report step with kgce and kgCO2e, from the store's exact edge-to-edge windows (fn=delta, lib/store/edge-delta.ts).
 *
 * Registers: among the meter's OBIS codes, those matching the category's "A:C.D" registers on the lowest
 * channel B; the total (E = 0) when it has one, else the sum of its tariff registers (E > 0).
 * The period is cut at the category's factor change instants, so a step spanning a change is priced in two
 * pieces, each with its own factor; the store's edges at the cut are the same instants either side, so the
 * pieces add up to the step exactly. Month steps are summed from day windows.
 */
import { parseObis } from '../model/obis';
import { Quality } from '../model/quality';
import { DAY_MS, HOUR_MS } from '../model/time';
import { unitInfo } from '../model/units';
import { Decimal } from '../money/decimal';
import type { ReadingStore, WindowRow } from '../store/types';
import { factorChangesIn, factorIndexAt, type EnergyCategory } from './energy-categories';
import type { ReportStep } from './reports';

/** Consumption, kgce and kgCO2e: one step, or a total. */
export interface Figures { consumption: Decimal; kgce: Decimal; kgco2e: Decimal }

export const zeroFigures = (): Figures => ({ consumption: Decimal.ZERO, kgce: Decimal.ZERO, kgco2e: Decimal.ZERO });

export function addFigures(a: Figures, b: Figures): Figures {
  return { consumption: a.consumption.add(b.consumption), kgce: a.kgce.add(b.kgce), kgco2e: a.kgco2e.add(b.kgco2e) };
}

/** The registers of `codes` a category counts (see the module comment); [] when none. */
export function registersFor(category: EnergyCategory, codes: readonly string[]): string[] {
  const parsed = codes.flatMap((code) => {
    try {
      const c = parseObis(code);
      return category.registers.includes(`${c.medium}:${c.quantity}.${c.processing}`) ? [{ code, ...c }] : [];
    } catch {
      return [];
    }
  });
  if (parsed.length === 0) return [];
  const channel = Math.min(...parsed.map((c) => c.channel));
  const onChannel = parsed.filter((c) => c.channel === channel);
  // The first listed register the meter has, on that channel.
  const first = category.registers.find((r) => onChannel.some((c) => `${c.medium}:${c.quantity}.${c.processing}` === r))!;
  const same = onChannel.filter((c) => `${c.medium}:${c.quantity}.${c.processing}` === first);
  const total = same.find((c) => c.tariff === 0);
  return total ? [total.code] : same.map((c) => c.code).sort();
}

/** Energy units measured in MJ, so kWh and GJ convert into each other (1 kWh = 3.6 MJ). */
const MJ_PER_CANONICAL: Record<string, string> = { kWh: '3.6', GJ: '1000' };

/** The factor from `from` to `to` (value_to = value_from x factor), exact or to 12 decimals (GJ to kWh); null when they measure different things. */
export function unitFactor(from: string, to: string): Decimal | null {
  if (from === to) return Decimal.ONE;
  let a;
  let b;
  try {
    a = unitInfo(from);
    b = unitInfo(to);
  } catch {
    return null;
  }
  if (a.offset || b.offset) return null;
  const fa = Decimal.from(a.factor);
  const fb = Decimal.from(b.factor);
  if (a.dimension === b.dimension) return fa.div(fb, 12).trimmed();
  if (MJ_PER_CANONICAL[a.canonical] && MJ_PER_CANONICAL[b.canonical]) return fa.mul(MJ_PER_CANONICAL[a.canonical]).div(fb.mul(MJ_PER_CANONICAL[b.canonical]), 12).trimmed();
  return null;
}

/** What one meter's figures come with. */
export interface MeterFigures {
  total: Figures;
  /** Per report step (only when asked for). */
  steps?: Figures[];
  /** Some edge was interpolated between readings / a register went backwards across an edge. */
  interpolated: boolean;
  suspect: boolean;
  /** Units that could not be converted to the category's unit (those windows are left out). */
  badUnits: string[];
  /** Windows the store answered: 0 = no readings around the period (no data, which is not zero consumption). */
  windows: number;
}

export interface MeterPeriod {
  from: number;
  to: number;
  step: ReportStep;
  /** Step boundaries (reports.ts stepBoundaries). */
  bounds: readonly number[];
  timeZone: string;
}

/** Index of the step that holds `time`: the last boundary at or before it (0 before the first). */
function stepIndex(bounds: readonly number[], time: number, hint: number): number {
  let i = Math.max(0, Math.min(hint, bounds.length - 2));
  if (bounds[i] > time) i = 0;
  while (i + 1 < bounds.length - 1 && bounds[i + 1] <= time) i++;
  return i;
}

/**
 * The meter's consumption over the period per step and in total, with kgce and kgCO2e by the factor
 * valid in each piece. `perStep` keeps the step figures (the series, pricing); without it only totals.
 */
export async function meterFigures(store: ReadingStore, meter: string, registers: readonly string[], category: EnergyCategory, p: MeterPeriod, perStep: boolean): Promise<MeterFigures> {
  const every = p.step === 'hour' ? HOUR_MS : DAY_MS;
  const cuts = [p.from, ...factorChangesIn(category.factors, p.from, p.to, p.timeZone), p.to];
  const out: MeterFigures = { total: zeroFigures(), interpolated: false, suspect: false, badUnits: [], windows: 0 };
  if (perStep) out.steps = Array.from({ length: p.bounds.length - 1 }, zeroFigures);
  const factorCache = new Map<string, Decimal | null>();
  for (let s = 0; s + 1 < cuts.length; s++) {
    const f = category.factors[factorIndexAt(category.factors, cuts[s], p.timeZone)];
    const kgce = Decimal.from(f.kgce);
    const kgco2e = Decimal.from(f.kgco2e);
    for (const obis of registers) {
      const rows = (await store.query({ meter, obis, from: cuts[s], to: cuts[s + 1], window: { every, fn: 'delta' }, timeZone: p.timeZone })) as WindowRow[];
      let hint = 0;
      for (const row of rows) {
        if (!factorCache.has(row.unit)) factorCache.set(row.unit, unitFactor(row.unit, category.unit));
        const factor = factorCache.get(row.unit)!;
        if (!factor) {
          if (!out.badUnits.includes(row.unit)) out.badUnits.push(row.unit);
          continue;
        }
        out.windows++;
        if (row.quality && row.quality & Quality.INTERPOLATED) out.interpolated = true;
        if (row.quality && row.quality & Quality.SUSPECT) out.suspect = true;
        const q = Decimal.from(row.value).mul(factor);
        const piece: Figures = { consumption: q, kgce: q.mul(kgce), kgco2e: q.mul(kgco2e) };
        out.total = addFigures(out.total, piece);
        if (out.steps) {
          hint = stepIndex(p.bounds, row.time, hint);
          out.steps[hint] = addFigures(out.steps[hint], piece);
        }
      }
    }
  }
  return out;
}
