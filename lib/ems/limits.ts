/**
 * How much one API request may ask for: the longest period (in days) per operation and step, the most
 * raw rows, and the years any date may fall in. One table, so the operations' descriptions (and the
 * OpenAPI document) show the same numbers the checks enforce. A request beyond them answers 400
 * naming the parameter, its value and the maximum.
 */
import { DAY_MS, HOUR_MS } from '../model/time';
import { ApiError } from './envelope';

/** Dates outside these years are refused everywhere (epoch ms of 1970-01-01 and 2101-01-01 UTC). */
export const FIRST_YEAR = 1970;
export const LAST_YEAR = 2100;
const EARLIEST = Date.UTC(FIRST_YEAR, 0, 1) - 14 * HOUR_MS;
const LATEST = Date.UTC(LAST_YEAR + 1, 0, 1) + 14 * HOUR_MS;

/** The most raw readings one request answers. */
export const MAX_RAW_ROWS = 100_000;

/** The most meters one site report covers (its folder and everything below), and the most meters x steps. */
export const MAX_SITE_METERS = 2000;
export const MAX_SITE_CELLS = 1_000_000;

/** Longest period in days, per operation and (where the work depends on it) per step or mode. */
export const PERIOD_LIMITS = {
  'reports.tariffs': { hour: 93, day: 1096, month: 3653 },
  'bills.meter': { bill: 366 },
  'bills.costcenter': { bill: 366 },
  'bills.issue': { bill: 366 },
  'data.graphics': { step: 1096 },
  'meters.readings': { window: 366 },
  'sites.report': { hour: 93, day: 1096, month: 3653 },
} as const satisfies Record<string, Record<string, number>>;

export type LimitedOperation = keyof typeof PERIOD_LIMITS;

function years(days: number): string {
  return days >= 365 ? ` (${Math.round((days / 365.25) * 10) / 10} years)` : '';
}

/** The limits of an operation as a sentence for its description. */
export function limitsText(op: LimitedOperation, rows?: string): string {
  const entries = Object.entries(PERIOD_LIMITS[op]);
  const period = entries.length === 1 && ['bill'].includes(entries[0][0])
    ? `at most ${entries[0][1]} days`
    : entries.map(([k, d]) => `${op === 'data.graphics' || op === 'meters.readings' ? `with ${k}` : `step=${k}`}: at most ${d} days${years(d)}`).join('; ');
  return `Limits: period ${period}${rows ? `; ${rows}` : ''}; dates in the years ${FIRST_YEAR}..${LAST_YEAR}. Beyond them: 400 naming the parameter, its value and the maximum.`;
}

function show(v: unknown, t: number): string {
  return JSON.stringify(v === undefined || v === '' ? new Date(t).toISOString() : v);
}

/** 400 unless `t` lies in the years FIRST_YEAR..LAST_YEAR. */
export function checkYear(param: string, value: unknown, t: number): void {
  if (!(t >= EARLIEST && t < LATEST)) throw new ApiError(400, `${param} ${show(value, t)} is outside the years ${FIRST_YEAR}..${LAST_YEAR}`);
}

export interface PeriodParams {
  /** Parameter names and given values of the start and end. */
  from: { name: string; value: unknown; time: number };
  to: { name: string; value: unknown; time: number };
}

/**
 * Both dates in FIRST_YEAR..LAST_YEAR and the period no longer than the operation's maximum for
 * `key` (a step or mode); else 400 naming the end parameter, its value and the maximum. An hour of
 * slack covers a DST change inside the period.
 */
export function checkPeriod(op: LimitedOperation, key: string, p: PeriodParams): void {
  checkYear(p.from.name, p.from.value, p.from.time);
  checkYear(p.to.name, p.to.value, p.to.time);
  const max = (PERIOD_LIMITS[op] as Record<string, number>)[key];
  if (max === undefined) return;
  const span = p.to.time - p.from.time;
  if (span > max * DAY_MS + HOUR_MS) {
    const what = key === 'bill' ? '' : op === 'reports.tariffs' || op === 'sites.report' ? ` with step=${key}` : ` with ${key}`;
    throw new ApiError(400, `${p.to.name} ${show(p.to.value, p.to.time)} is ${Math.ceil(span / DAY_MS)} days after ${p.from.name} ${show(p.from.value, p.from.time)}: `
      + `${op}${what} allows at most ${max} days${years(max)}; ask for shorter periods`);
  }
}
