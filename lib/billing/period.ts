/**
 * Billing periods: this month or last month in the tariff's zone (from the tariff's cycle anchor
 * day), or explicit times (ISO 8601, local ones read in the tariff's zone, or epoch ms).
 */
import { fromLocal, toLocal } from '../model/time';
import { parseTime } from '../store/query-params';

export const PERIODS = ['this-month', 'last-month'] as const;
export type PeriodName = (typeof PERIODS)[number];

/** Local midnight of day `anchor` of a month (month may be out of 1..12; the day is capped at the month's length). */
function monthStart(year: number, month: number, anchor: number, timeZone: string): number {
  const d = new Date(Date.UTC(year, month - 1, 1));
  const y = d.getUTCFullYear();
  const m = d.getUTCMonth() + 1;
  const days = new Date(Date.UTC(y, m, 0)).getUTCDate();
  return fromLocal({ year: y, month: m, day: Math.min(anchor, days), hour: 0, minute: 0, second: 0, millisecond: 0 }, timeZone);
}

/** [from, to) of the billing month containing `now` ("this-month") or the one before it. */
export function billingPeriod(name: PeriodName, now: number, timeZone: string, anchorDay = 1): { from: number; to: number } {
  const l = toLocal(now, timeZone);
  let month = l.month;
  if (monthStart(l.year, month, anchorDay, timeZone) > now) month -= 1;
  if (name === 'last-month') month -= 1;
  return { from: monthStart(l.year, month, anchorDay, timeZone), to: monthStart(l.year, month + 1, anchorDay, timeZone) };
}

/** A bill time: epoch ms, or ISO 8601 (without an offset: local time in `timeZone`). Throws naming the field. */
export function parseBillTime(field: string, value: unknown, timeZone: string): number {
  const t = typeof value === 'number' || typeof value === 'string' ? parseTime(value, Date.now(), timeZone) : Number.NaN;
  if (Number.isNaN(t) || (typeof value === 'string' && /^(now|[+-])/i.test(value.trim()))) {
    throw new Error(`${field} must be a time (ISO 8601 such as "2026-03-01" or epoch ms), got ${JSON.stringify(value)}`);
  }
  return t;
}
