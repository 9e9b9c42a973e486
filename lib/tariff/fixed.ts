/**
 * Covered days and fixed charges. A local day inside the range counts 1, a partial day its share of
 * the day's length (23/24/25 h on DST days); a cycle's covered share is covered days / days of the
 * cycle (used for monthly charges and prorated tier limits).
 */
import { Decimal } from '../money/decimal';
import type { Draft } from './lines';
import type { Timeline } from './timeline';
import type { Tariff } from './types';

/** Covered days per cycle and version: key `${cycle}|${version}`. */
export function coveredDays(tl: Timeline): Map<string, Decimal> {
  const out = new Map<string, Decimal>();
  for (const d of tl.days) {
    if (d.to <= d.from) continue;
    const whole = d.from === d.dayStart && d.to === d.dayEnd;
    const part = whole ? Decimal.ONE : Decimal.from(d.to - d.from).div(d.dayEnd - d.dayStart, 9, 'half-even');
    const key = `${d.cycle}|${d.version}`;
    out.set(key, (out.get(key) ?? Decimal.ZERO).add(part));
  }
  return out;
}

/** The covered share of each cycle of the timeline (all versions), 9 decimals. */
export function cycleShares(tl: Timeline, covered: Map<string, Decimal>): Decimal[] {
  return tl.cycles.map((c, i) => {
    let days = Decimal.ZERO;
    for (const [key, v] of covered) if (key.startsWith(`${i}|`)) days = days.add(v);
    return days.div(c.days, 9, 'half-even').trimmed();
  });
}

export function fixedLines(tariff: Tariff, tl: Timeline, covered: Map<string, Decimal>): Draft[] {
  const out: Draft[] = [];
  for (const [key, days] of covered) {
    const [ci, vi] = key.split('|').map(Number);
    if (vi < 0) continue;
    const cycle = tl.cycles[ci];
    const version = tariff.versions[vi];
    for (const f of version.fixed ?? []) {
      const rate = Decimal.from(f.amount);
      const common = { kind: 'fixed' as const, charge: f.name, category: f.category ?? 'fixed', cycleFrom: cycle.fullFrom, cycleTo: cycle.fullTo, version: version.validFrom, rate };
      if (f.per === 'day') {
        const quantity = days.round(6, 'half-even').trimmed();
        out.push({ ...common, quantity, unit: 'day', amount: days.mul(rate) });
      } else {
        const whole = days.cmp(cycle.days) === 0;
        const quantity = whole ? Decimal.ONE : days.div(cycle.days, 6, 'half-even').trimmed();
        const amount = whole ? rate : days.mul(rate).div(cycle.days, 12, 'half-even');
        out.push({ ...common, quantity, unit: 'month', amount, ...(whole ? {} : { note: `prorated ${days.trimmed().toString()}/${cycle.days} days` }) });
      }
    }
  }
  return out;
}
