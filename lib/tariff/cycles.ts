/**
 * Billing cycles: [anchor day of a local month 00:00, the anchor day of the next month 00:00) in the
 * tariff's zone (cycleAnchorDay 1 = calendar months). Tiers, demand and monthly charges are per cycle.
 */
import { DAY_MS } from '../model/time';
import { dayStartMs, localDayOf } from './calendar';
import type { Tariff } from './types';

export interface BillingCycle {
  /** The part of the cycle inside the requested range. */
  from: number;
  to: number;
  /** The whole cycle. */
  fullFrom: number;
  fullTo: number;
}

/** The local day number on which the cycle holding day `n` starts. */
export function cycleStartDay(n: number, anchor: number): number {
  const d = new Date(n * DAY_MS);
  const month = d.getUTCDate() >= anchor ? d.getUTCMonth() : d.getUTCMonth() - 1;
  return Date.UTC(d.getUTCFullYear(), month, anchor) / DAY_MS;
}

/** The start day of the cycle `months` cycles after (negative: before) the one starting on `startDay`. */
export function shiftCycleStart(startDay: number, anchor: number, months: number): number {
  const d = new Date(startDay * DAY_MS);
  return Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + months, anchor) / DAY_MS;
}

export interface CycleInfo extends BillingCycle {
  startDay: number;
  /** Local days in the whole cycle (28..31). */
  days: number;
}

/** The cycles overlapping [from, to), with their local start day and length in days. */
export function cycleInfos(tariff: Tariff, from: number, to: number): CycleInfo[] {
  if (!(to > from)) throw new RangeError(`billing range needs to > from, got from ${from} to ${to}`);
  const anchor = tariff.cycleAnchorDay ?? 1;
  const out: CycleInfo[] = [];
  let startDay = cycleStartDay(localDayOf(from, tariff.timeZone), anchor);
  let fullFrom = dayStartMs(startDay, tariff.timeZone);
  while (fullFrom < to) {
    const nextDay = shiftCycleStart(startDay, anchor, 1);
    const fullTo = dayStartMs(nextDay, tariff.timeZone);
    if (fullTo > from) out.push({ from: Math.max(from, fullFrom), to: Math.min(to, fullTo), fullFrom, fullTo, startDay, days: nextDay - startDay });
    startDay = nextDay;
    fullFrom = fullTo;
  }
  return out;
}

/** The billing cycles overlapping [from, to): each clipped to the range (from/to) and whole (fullFrom/fullTo). */
export function billingCycles(tariff: Tariff, from: number, to: number): BillingCycle[] {
  return cycleInfos(tariff, from, to).map(({ from: f, to: t, fullFrom, fullTo }) => ({ from: f, to: t, fullFrom, fullTo }));
}
