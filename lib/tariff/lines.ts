/**
 * Finishing a bill: line order, rounding (per line or once per bill), taxes per (cycle, version) on
 * the lines of the categories they apply to, subtotal and total.
 */
import { Decimal, type RoundingMethod } from '../money/decimal';
import { TOU_PERIODS, type PriceLine, type Tariff } from './types';

/** A line before rounding: exact quantity, rate and amount. */
export type Draft = Omit<PriceLine, 'quantity' | 'rate' | 'amount'> & { quantity: Decimal; rate: Decimal; amount: Decimal };

const KIND_RANK = { energy: 0, demand: 1, fixed: 2, tax: 3 };

function chargeRank(tariff: Tariff, line: Draft): number {
  const v = tariff.versions.find((x) => x.validFrom === line.version);
  const all = [...(v?.energy ?? []), ...(v?.demand ?? []), ...(v?.fixed ?? []), ...(v?.taxes ?? [])];
  return all.findIndex((c) => c.name === line.charge);
}

function order(tariff: Tariff, drafts: Draft[]): Draft[] {
  const rank = new Map(drafts.map((d) => [d, chargeRank(tariff, d)]));
  return drafts.sort((a, b) =>
    a.cycleFrom - b.cycleFrom || (a.version < b.version ? -1 : a.version > b.version ? 1 : 0) || KIND_RANK[a.kind] - KIND_RANK[b.kind] ||
    rank.get(a)! - rank.get(b)! || (a.season ?? '').localeCompare(b.season ?? '') ||
    TOU_PERIODS.indexOf(a.period!) - TOU_PERIODS.indexOf(b.period!) || (a.tier ?? 0) - (b.tier ?? 0) || (a.register ?? '').localeCompare(b.register ?? ''));
}

export interface Finished { lines: PriceLine[]; subtotal: string; taxes: PriceLine[]; total: string }

export function finish(tariff: Tariff, drafts: Draft[]): Finished {
  const decimals = tariff.currencyDecimals ?? 2;
  const method: RoundingMethod = tariff.rounding?.method ?? 'half-up';
  const perLine = (tariff.rounding?.mode ?? 'line') === 'line';
  const billed = (d: Decimal): Decimal => (perLine ? d.round(decimals, method) : d);
  const text = (d: Decimal): string => (perLine ? d.toString(decimals) : d.toString());
  const toLine = (d: Draft, amount: Decimal): PriceLine => {
    const { quantity, rate, ...rest } = d;
    return { ...rest, quantity: quantity.toString(), rate: rate.toString(), amount: text(amount) };
  };

  const sorted = order(tariff, drafts);
  let subtotal = Decimal.ZERO;
  const lines: PriceLine[] = [];
  const groups = new Map<string, { cycleFrom: number; cycleTo: number; version: string; lines: { category: string; amount: Decimal }[] }>();
  for (const d of sorted) {
    const amount = billed(d.amount);
    subtotal = subtotal.add(amount);
    lines.push(toLine(d, amount));
    const id = `${d.cycleFrom}|${d.version}`;
    let g = groups.get(id);
    if (!g) groups.set(id, (g = { cycleFrom: d.cycleFrom, cycleTo: d.cycleTo, version: d.version, lines: [] }));
    g.lines.push({ category: d.category, amount });
  }

  const taxes: PriceLine[] = [];
  let taxSum = Decimal.ZERO;
  for (const g of groups.values()) {
    const version = tariff.versions.find((v) => v.validFrom === g.version);
    for (const tax of version?.taxes ?? []) {
      const applies = g.lines.filter((l) => !tax.appliesTo || tax.appliesTo.includes(l.category));
      if (!applies.length) continue;
      const base = Decimal.sum(applies.map((l) => l.amount));
      const percent = Decimal.from(tax.percent);
      const rate = percent.div(100, percent.scale + 2).trimmed();
      const amount = billed(base.mul(rate));
      taxSum = taxSum.add(amount);
      taxes.push(toLine({
        kind: 'tax', charge: tax.name, category: 'tax', cycleFrom: g.cycleFrom, cycleTo: g.cycleTo, version: g.version,
        quantity: Decimal.from(text(base)), unit: tariff.currency, rate, amount, note: `${tax.percent}% of ${tax.appliesTo ? tax.appliesTo.join(', ') : 'all lines'}`,
      }, amount));
    }
  }
  const total = perLine ? subtotal.add(taxSum) : subtotal.add(taxSum).round(decimals, method);
  return { lines, subtotal: text(subtotal), taxes, total: total.toString(decimals) };
}
