/**
 * Sub-meter cost allocation: a parent meter's bill split among its sub-meters.
 *
 * Method (proportional): each sub-meter pays the share of the parent's total that its consumption
 * is of the parent's consumption; the remainder (parent minus the sum of sub-meters: losses, common
 * areas, unmetered loads) goes to a "common area" line. So every kWh bought is paid at the parent's
 * average price (tiers, demand, fixed charges and taxes included), and nothing is priced twice.
 * When the sub-meters read more than the parent (a meter error), the total is split by sub-meter
 * consumption alone, the common area is 0 and a warning says so.
 *
 * Amounts are rounded to the currency's minor unit by the largest-remainder method: every share is
 * rounded down, then the cents left over go one each to the largest remainders (ties: the larger
 * consumption, then the order given, the common area last), so the allocations sum exactly to the total.
 */
import { Decimal } from '../money/decimal';
import type { Bill } from './bill';

export const COMMON_AREA = 'common area';

export interface SubMeterUse {
  meter: string;
  name?: string;
  /** Consumption over the same period, in the parent's unit (decimal text or number). */
  quantity: string | number;
}

export interface AllocationLine {
  /** A sub-meter id, or COMMON_AREA. */
  meter: string;
  name?: string;
  quantity: string;
  /** Share of the total in percent, 4 decimals (for display; amounts are computed exactly). */
  share: string;
  amount: string;
}

export interface Allocation {
  parent: string;
  currency: string;
  total: string;
  quantity: string;
  unit: string;
  lines: AllocationLine[];
  warnings: string[];
}

/** Common scale of several decimals: the values as bigints of units of 10^-scale. */
function scaled(values: Decimal[]): bigint[] {
  const scale = Math.max(0, ...values.map((v) => v.scale));
  return values.map((v) => Decimal.fromUnits(0, scale).add(v).units);
}

/**
 * Splits `total` (minor units at `decimals`) in proportion to `weights`, summing exactly to total.
 * Weights are non-negative decimals; ties go to the larger weight, then the earlier one.
 */
export function largestRemainder(total: Decimal, weights: Decimal[], decimals: number): Decimal[] {
  if (weights.some((w) => w.isNegative())) throw new Error(`weights must not be negative, got ${weights.map(String).join(', ')}`);
  const units = total.round(decimals, 'half-up');
  if (!units.eq(total)) throw new Error(`total ${total.toString()} has more than ${decimals} decimals`);
  const t = Decimal.fromUnits(0, decimals).add(units).units; // total in minor units
  const w = scaled(weights);
  const sum = w.reduce((a, b) => a + b, 0n);
  if (sum === 0n) throw new Error('weights must not all be 0');
  const sign = t < 0n ? -1n : 1n;
  const abs = t * sign;
  const floors = w.map((x) => (abs * x) / sum);
  const rems = w.map((x) => (abs * x) % sum);
  let left = abs - floors.reduce((a, b) => a + b, 0n);
  const order = w.map((_, i) => i).sort((a, b) => (rems[b] > rems[a] ? 1 : rems[b] < rems[a] ? -1 : w[b] > w[a] ? 1 : w[b] < w[a] ? -1 : a - b));
  for (const i of order) {
    if (left === 0n) break;
    floors[i] += 1n;
    left -= 1n;
  }
  return floors.map((f) => Decimal.fromUnits(f * sign, decimals));
}

/**
 * Allocates a parent meter's total among sub-meters (see the module comment). `parentQuantity` is
 * the parent's consumption over the period; sub-meter quantities must be in the same unit.
 */
export function allocate(
  parent: { meter: string; total: string; quantity: string | number; unit: string; currency: string; currencyDecimals?: number },
  subMeters: readonly SubMeterUse[],
): Allocation {
  const decimals = parent.currencyDecimals ?? 2;
  const total = Decimal.from(parent.total);
  const pq = Decimal.from(parent.quantity);
  if (pq.isNegative()) throw new Error(`parent quantity must not be negative, got ${pq.toString()}`);
  const seen = new Set<string>();
  const qs = subMeters.map((s, i) => {
    if (!s || typeof s.meter !== 'string' || s.meter === '') throw new Error(`subMeters[${i}].meter must be a meter id, got ${JSON.stringify(s?.meter)}`);
    if (seen.has(s.meter)) throw new Error(`subMeters[${i}].meter ${JSON.stringify(s.meter)} is listed twice`);
    seen.add(s.meter);
    let q: Decimal;
    try {
      q = Decimal.from(s.quantity);
    } catch {
      throw new Error(`subMeters[${i}].quantity must be a number, got ${JSON.stringify(s.quantity)}`);
    }
    if (q.isNegative()) throw new Error(`subMeters[${i}].quantity must not be negative, got ${q.toString()}`);
    return q;
  });
  const subSum = Decimal.sum(qs);
  const warnings: string[] = [];
  let common = pq.sub(subSum);
  if (common.isNegative()) {
    warnings.push(`sub-meters read ${subSum.toString()} ${parent.unit}, more than the parent's ${pq.toString()}: split by sub-meter consumption, common area 0`);
    common = Decimal.ZERO;
  }
  const weights = [...qs, common];
  const base = Decimal.sum(weights);
  const amounts = base.isZero() ? weights.map((_, i) => (i === weights.length - 1 ? total : Decimal.ZERO)) : largestRemainder(total, weights, decimals);
  const share = (q: Decimal): string => (base.isZero() ? '0.0000' : q.mul(100).div(base, 4).toString(4));
  const lines: AllocationLine[] = subMeters.map((s, i) => ({
    meter: s.meter, ...(s.name ? { name: s.name } : {}), quantity: qs[i].toString(), share: share(qs[i]), amount: amounts[i].toString(decimals),
  }));
  lines.push({ meter: COMMON_AREA, quantity: common.toString(), share: share(common), amount: amounts[amounts.length - 1].toString(decimals) });
  return { parent: parent.meter, currency: parent.currency, total: total.toString(decimals), quantity: pq.toString(), unit: parent.unit, lines, warnings };
}

/** Allocates a parent meter's bill: its total and its total-register consumption (1.8.0, or T1..T4 summed). */
export function allocateBill(parent: Bill, subMeters: readonly SubMeterUse[]): Allocation {
  const regs = parent.consumption.registers;
  const totals = regs.filter((r) => r.register === 'total');
  const used = totals.length > 0 ? totals : regs;
  if (used.length === 0) throw new Error(`bill of ${parent.subject.id} has no consumption to allocate by`);
  const units = new Set(used.map((r) => r.unit));
  if (units.size > 1) throw new Error(`bill of ${parent.subject.id} has consumption in several units (${[...units].join(', ')})`);
  return allocate({
    meter: parent.subject.id, total: parent.totals.total, quantity: Decimal.sum(used.map((r) => Decimal.from(r.quantity))).toString(),
    unit: used[0].unit, currency: parent.currency, currencyDecimals: parent.currencyDecimals,
  }, subMeters);
}
