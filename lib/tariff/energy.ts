/**
 * Energy lines from the per-segment sums: flat, TOU (per season and period), register (T1..T4) and
 * tiered (per billing cycle, filled in time order, limits prorated by the covered share of the cycle).
 * Register charges price only intervals whose OBIS names a register (E = 1..4); the others price only
 * intervals without one (E = 0 or no OBIS), so T1..T4 and the total register are never both priced.
 * Sums stay in integer micro-units (numbers) per line slot; Decimal only when the lines are made.
 */
import { Decimal } from '../money/decimal';
import { baseToUnit, BASE_UNIT, REGISTERS } from './classify';
import type { Draft } from './lines';
import type { Timeline } from './timeline';
import { ENERGY_TYPES, TOU_PERIODS, type EnergyCharge, type Tariff, type TieredCharge, type TouPeriod } from './types';

const P = TOU_PERIODS.length;

/** One charge of one version: its accumulator keys and its micro-unit sums per line slot. */
interface Slot {
  charge: EnergyCharge;
  ci: number;
  version: number;
  keys: number[];
  /** flat: [cycle]; tou: [(cycle x seasons + season) x P + period]; register: [cycle x 5 + register]; tiered: [cycle x tiers + tier] */
  sums: Float64Array;
  /** tiered: fill position per cycle (charge micro-units) */
  fill?: Float64Array;
}

function keysOf(charge: EnergyCharge): number[] {
  const t = ENERGY_TYPES.indexOf(charge.energyType) * REGISTERS;
  return charge.type === 'register' ? [t + 1, t + 2, t + 3, t + 4] : [t];
}

/** Charge micro-units of `micro` base micro-units. */
function toChargeMicro(micro: number, charge: EnergyCharge): number {
  if (charge.unit === BASE_UNIT[charge.energyType]) return micro;
  const d = baseToUnit(micro, charge.energyType, charge.unit);
  return Number(d.units) * 10 ** (6 - d.scale);
}

const micro6 = (m: number): Decimal => Decimal.fromUnits(BigInt(m), 6).trimmed();

/** `shares[cycle]`: covered share of each billing cycle (for prorated tier limits). */
export function energyLines(tariff: Tariff, tl: Timeline, acc: Float64Array, shares: Decimal[], warnings: string[]): Draft[] {
  const nSeg = tl.segments.length;
  const nCycles = tl.cycles.length;
  const slots: Slot[][] = tariff.versions.map((v, vi) => v.energy.map((charge, ci) => {
    const width = charge.type === 'tou' ? charge.seasons.length * P : charge.type === 'register' ? REGISTERS : charge.type === 'tiered' ? charge.tiers.length : 1;
    return { charge, ci, version: vi, keys: keysOf(charge), sums: new Float64Array(nCycles * width), fill: charge.type === 'tiered' ? new Float64Array(nCycles) : undefined };
  }));
  // Tier limits per charge and cycle, in charge micro-units (prorated for partial cycles).
  const limits = new Map<EnergyCharge, number[][]>();
  for (const list of slots) {
    for (const { charge } of list) {
      if (charge.type !== 'tiered') continue;
      limits.set(charge, tl.cycles.map((_, c) => charge.tiers.map((t) => {
        if (t.upTo === undefined) return Infinity;
        const limit = charge.prorate !== false && shares[c].cmp(1) < 0 ? Decimal.from(t.upTo).mul(shares[c]).round(6, 'half-even') : Decimal.from(t.upTo);
        return Number(limit.mul(1_000_000).round(0).units);
      })));
    }
  }
  const fills: Map<string, Float64Array> = new Map(); // tier fill per charge name across versions
  for (let q = 0; q < nSeg; q++) {
    const seg = tl.segments[q];
    if (seg.version < 0) continue;
    for (const slot of slots[seg.version]) {
      const { charge } = slot;
      for (const k of slot.keys) {
        const m = acc[k * nSeg + q];
        if (m === 0) continue;
        if (charge.type === 'flat') slot.sums[seg.cycle] += m;
        else if (charge.type === 'register') slot.sums[seg.cycle * REGISTERS + (k % REGISTERS)] += m;
        else if (charge.type === 'tou') slot.sums[(seg.cycle * charge.seasons.length + seg.season[slot.ci]) * P + TOU_PERIODS.indexOf(seg.period[slot.ci] as TouPeriod)] += m;
        else {
          let fill = fills.get(charge.name);
          if (!fill) fills.set(charge.name, (fill = new Float64Array(nCycles)));
          fillTiers(slot, toChargeMicro(m, charge), limits.get(charge)![seg.cycle], seg.cycle, fill);
        }
      }
    }
  }
  return drafts(tariff, tl, slots, limits, shares, warnings);
}

/** Adds `qty` (charge micro-units) to the tiers from the cycle's fill position on. */
function fillTiers(slot: Slot, qty: number, limits: number[], cycle: number, fill: Float64Array): void {
  const n = limits.length;
  let position = fill[cycle];
  let remaining = qty;
  for (let t = 0; t < n && remaining !== 0; t++) {
    let take = remaining;
    if (remaining > 0) {
      if (position >= limits[t]) continue;
      take = Math.min(remaining, limits[t] - position);
    } else if (t + 1 < n && position > limits[t]) continue; // negative: taken back from the tier the position is in
    slot.sums[cycle * n + t] += take;
    position += take;
    remaining -= take;
  }
  fill[cycle] = position;
}

function drafts(tariff: Tariff, tl: Timeline, slots: Slot[][], limits: Map<EnergyCharge, number[][]>, shares: Decimal[], warnings: string[]): Draft[] {
  const out: Draft[] = [];
  for (const list of slots) {
    for (const { charge, version: vi, sums } of list) {
      const version = tariff.versions[vi];
      const width = sums.length / tl.cycles.length;
      for (let i = 0; i < sums.length; i++) {
        if (sums[i] === 0) continue;
        const cycleIndex = Math.floor(i / width);
        const cycle = tl.cycles[cycleIndex];
        const j = i % width;
        const common = { kind: 'energy' as const, charge: charge.name, category: charge.category ?? 'energy', cycleFrom: cycle.fullFrom, cycleTo: cycle.fullTo, version: version.validFrom, unit: charge.unit };
        let quantity: Decimal;
        let rate: string | undefined;
        let extra: Partial<Draft> = {};
        if (charge.type === 'tiered') {
          quantity = micro6(sums[i]);
          rate = charge.tiers[j].rate;
          extra = { tier: j + 1, ...tierNote(charge, j, limits.get(charge)![cycleIndex][j], shares[cycleIndex]) };
        } else {
          quantity = baseToUnit(sums[i], charge.energyType, charge.unit);
          if (charge.type === 'flat') rate = charge.rate;
          else if (charge.type === 'register') {
            extra = { register: `T${j}` };
            rate = (charge.rates as Record<string, string>)[`T${j}`];
            if (rate === undefined) {
              warnings.push(`${charge.name} (version ${version.validFrom}) has no rate for register T${j}; ${quantity.toString()} ${charge.unit} not priced`);
              continue;
            }
          } else {
            const season = charge.seasons[Math.floor(j / P)].name;
            const period = TOU_PERIODS[j % P];
            extra = { season, period };
            rate = (charge.seasonRates?.[season] as Record<string, string> | undefined)?.[period] ?? (charge.rates as Record<string, string> | undefined)?.[period];
          }
        }
        const r = Decimal.from(rate!);
        out.push({ ...common, ...extra, quantity, rate: r, amount: quantity.mul(r) });
      }
    }
  }
  return out;
}

function tierNote(charge: TieredCharge, t: number, limitMicro: number, share: Decimal): { note?: string } {
  const upTo = charge.tiers[t].upTo;
  if (upTo === undefined || charge.prorate === false || share.cmp(1) >= 0) return {};
  return { note: `limit ${micro6(limitMicro).toString()} ${charge.unit} (${upTo} prorated x ${share.toString()})` };
}
