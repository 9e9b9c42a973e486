/**
 * Reports by four tariffs (the data dictionary's "Reports data"): consumption per meter register
 * T1..T4 (cumulative 1-0:1.8.1..1.8.4, or 1-0:1.8.0 as the first tariff when the meter has no
 * tariff registers; a heat, gas or water meter's main register, e.g. 6-0:1.0.0 heat energy or 8-0:1.0.0
 * volume, when it has no active energy registers at all) per calendar step (hour, day, month in the EMS time zone; DST days have 23 or
 * 25 hourly steps), optionally priced with a tariff. Pure logic over a ReadingStore.
 *
 * The register value at a step boundary b is the newest reading at or before b; a step's consumption
 * is the value at its end minus the value at its start, so steps chain without gap or overlap. A
 * register going backwards (a reset or meter exchange) counts 0 for that step, with a note.
 */
import { mainRegister } from '../model/obis';
import type { Reading } from '../model/reading';
import { Decimal } from '../money/decimal';
import { writeCsv } from '../csv';
import { priceConsumption } from '../tariff/price';
import type { Tariff } from '../tariff/types';
import type { ReadingStore } from '../store/types';
import { DAY_MS, HOUR_MS, MAX_WINDOWS, fromLocal, toLocal, windowBoundaries } from '../model/time';
import { firstIn, isoInZone, monthStart, newestAtOrBefore } from './data';
import { Pacer } from '../billing/pace';
import { ApiError } from './envelope';

export const REPORT_STEPS = ['hour', 'day', 'month'] as const;
export type ReportStep = typeof REPORT_STEPS[number];
export const TARIFF_KEYS = ['first_tariff', 'second_tariff', 'third_tariff', 'fourth_tariff'] as const;
export type TariffKey = typeof TARIFF_KEYS[number];
const REGISTERS = ['1-0:1.8.1', '1-0:1.8.2', '1-0:1.8.3', '1-0:1.8.4'];
const TOTAL = '1-0:1.8.0';

export type TariffAmounts = Record<TariffKey | 'total', string>;

export type CostKey = `${TariffKey | 'total'}_cost`;
export const COST_KEYS = [...TARIFF_KEYS, 'total'].map((k) => `${k}_cost`) as CostKey[];

/**
 * One step. With a tariff, *_cost are the energy cost per register (energy charges only: no fixed,
 * demand or tax lines), flat so a table shows them as columns.
 */
export interface TariffReportRow extends TariffAmounts, Partial<Record<CostKey, string>> {
  /** Step start and end (ISO with the zone's offset). */
  date: string;
  date_to: string;
}

export interface TariffReport {
  meter: string;
  location: string[];
  step: ReportStep;
  from: string;
  to: string;
  unit: string;
  /**
   * Where the data begins: \`from\` when a register has a reading at or before it, else the time of the first
   * reading in the period (steps ending at or before it have no data, not zero consumption), null without any.
   */
  data_from: string | null;
  /** Which register each column carries (null: the meter has none). */
  registers: Record<TariffKey, string | null>;
  tariff: { id: string; name: string; currency: string } | null;
  rows: TariffReportRow[];
  totals: TariffAmounts & Partial<Record<CostKey, string>>;
  notes: string[];
}

export interface ReportOptions {
  meter: string;
  location: string[];
  from: number;
  to: number;
  step: ReportStep;
  timeZone: string;
  /** The stored tariff to price with, if any. */
  tariff?: { _id: string; name: string; tariff: Tariff } | null;
}

/** Calendar-aligned step boundaries covering [from, to): b[0] <= from, to <= b[n]. */
export function stepBoundaries(from: number, to: number, step: ReportStep, timeZone: string): number[] {
  try {
    if (step !== 'month') return windowBoundaries(from, to, step === 'hour' ? HOUR_MS : DAY_MS, timeZone, MAX_WINDOWS);
  } catch {
    throw new ApiError(400, `step "${step}" gives more than ${MAX_WINDOWS} steps from date1 to date2 (use a longer step or a shorter range)`);
  }
  const out = [monthStart(from, timeZone)];
  while (out[out.length - 1] < to) {
    const l = toLocal(out[out.length - 1] + 40 * DAY_MS, timeZone);
    out.push(fromLocal({ year: l.year, month: l.month, day: 1, hour: 0, minute: 0, second: 0, millisecond: 0 }, timeZone));
  }
  return out;
}

function zeros(): TariffAmounts {
  return { first_tariff: '0', second_tariff: '0', third_tariff: '0', fourth_tariff: '0', total: '0' };
}

/**
 * The register's value at each boundary (the newest reading at or before it) and its first reading
 * after bounds[0]. Hourly steps scan the readings once; longer steps seek one reading per boundary,
 * which reads far fewer rows (a month by day: 31 seeks instead of 2,880 readings per register).
 */
async function valuesAtBounds(store: ReadingStore, meter: string, obis: string, bounds: number[], step: ReportStep, pacer: Pacer): Promise<{ at: (Reading | null)[]; first: Reading | null }> {
  const b0 = bounds[0];
  const bn = bounds[bounds.length - 1];
  const at: (Reading | null)[] = [await newestAtOrBefore(store, meter, obis, b0, b0 - 366 * DAY_MS)];
  if (step === 'hour') {
    const rows: Reading[] = [];
    for (let lo = b0 + 1; lo < bn + 1; lo += 7 * DAY_MS) { // a week at a time, letting the event loop run between
      await pacer.breathe();
      for (const r of (await store.query({ meter, obis, from: lo, to: Math.min(lo + 7 * DAY_MS, bn + 1), limit: 10_000_000 })) as Reading[]) rows.push(r);
    }
    let k = 0;
    for (let i = 1; i < bounds.length; i++) {
      while (k < rows.length && rows[k].time <= bounds[i]) k++;
      at.push(k > 0 ? rows[k - 1] : at[0]);
    }
    return { at, first: rows[0] ?? null };
  }
  for (let i = 1; i < bounds.length; i++) {
    await pacer.breathe();
    const prev = at[i - 1];
    at.push((await newestAtOrBefore(store, meter, obis, bounds[i], (prev?.time ?? b0) + 1)) ?? prev);
  }
  return { at, first: at[0] ? null : await firstIn(store, meter, obis, b0 + 1, bn + 1) };
}

/** Consumption per step of one register: see the module comment. */
async function registerSteps(store: ReadingStore, meter: string, obis: string, bounds: number[], step: ReportStep, timeZone: string, notes: string[], pacer: Pacer): Promise<{ steps: Decimal[]; unit: string | null; since: number | null }> {
  const { at, first } = await valuesAtBounds(store, meter, obis, bounds, step, pacer);
  if (!at[0] && first) notes.push(`${obis}: no reading at or before ${isoInZone(bounds[0], timeZone)}; counted from the first reading at ${isoInZone(first.time, timeZone)}`);
  const steps: Decimal[] = [];
  let prev = at[0];
  for (let i = 1; i < bounds.length; i++) {
    if (!prev && first && first.time <= bounds[i]) prev = first;
    const end = at[i];
    let q = Decimal.ZERO;
    if (prev && end) {
      q = Decimal.from(end.value).sub(Decimal.from(prev.value));
      if (q.isNegative()) {
        notes.push(`${obis}: the register went back from ${prev.value} to ${end.value} by ${isoInZone(end.time, timeZone)} (reset or meter exchange); that step counts 0`);
        q = Decimal.ZERO;
      }
    }
    steps.push(q);
    prev = end ?? prev;
  }
  return { steps, unit: at[at.length - 1]?.unit ?? first?.unit ?? null, since: at[0] ? bounds[0] : first ? first.time : null };
}

/** The energy cost of one register's consumption in one step (energy lines only). */
function energyCost(tariff: Tariff, obis: string, quantity: Decimal, unit: string, from: number, to: number, warnings: Set<string>): Decimal {
  if (quantity.isZero()) return Decimal.ZERO;
  const result = priceConsumption(tariff, [{ start: from, end: to, quantity: quantity.toNumber(), unit, obis }], { from, to });
  for (const w of result.warnings) warnings.add(w);
  return Decimal.sum(result.lines.filter((l) => l.kind === 'energy').map((l) => Decimal.from(l.amount)));
}

/** The report: one row per step with consumption (and cost) per tariff register. */
export async function tariffReport(store: ReadingStore, o: ReportOptions): Promise<TariffReport> {
  const bounds = stepBoundaries(o.from, o.to, o.step, o.timeZone);
  const series = new Set((await store.latest({ meter: o.meter })).map((r) => r.obis));
  const hasRegisters = REGISTERS.some((c) => series.has(c));
  // Without active energy registers, the meter's main register (heat energy, gas or water volume) if it has one.
  const main = hasRegisters || series.has(TOTAL) ? null : mainRegister([...series].filter((c) => !c.startsWith('1-')));
  const registers = Object.fromEntries(TARIFF_KEYS.map((key, i) => {
    const code = hasRegisters ? REGISTERS[i] : i === 0 ? (main ?? TOTAL) : null;
    return [key, code && series.has(code) ? code : null];
  })) as Record<TariffKey, string | null>;
  const notes: string[] = [];
  if (main) notes.push(`no active energy registers (1-0:1.8.0..1.8.4): first_tariff carries the meter's main register ${main}`);
  else if (!hasRegisters) notes.push(series.has(TOTAL) ? `no tariff registers 1-0:1.8.1..1.8.4: first_tariff carries ${TOTAL}` : 'the meter has no active energy registers (1-0:1.8.0..1.8.4)');

  const pacer = new Pacer();
  const perKey = new Map<TariffKey, Decimal[]>();
  let unit = 'kWh';
  let since: number | null = null;
  for (const key of TARIFF_KEYS) {
    const code = registers[key];
    if (!code) continue;
    const r = await registerSteps(store, o.meter, code, bounds, o.step, o.timeZone, notes, pacer);
    perKey.set(key, r.steps);
    if (r.unit) unit = r.unit;
    if (r.since !== null && (since === null || r.since < since)) since = r.since;
  }

  const t = o.tariff ?? null;
  const warnings = new Set<string>();
  let priceable = t !== null;
  const rows: TariffReportRow[] = [];
  const sum = Object.fromEntries([...TARIFF_KEYS, 'total'].map((k) => [k, Decimal.ZERO])) as Record<TariffKey | 'total', Decimal>;
  const costSum = { ...sum };
  for (let i = 0; i + 1 < bounds.length; i++) {
    await pacer.breathe();
    const row: TariffReportRow = { date: isoInZone(bounds[i], o.timeZone), date_to: isoInZone(bounds[i + 1], o.timeZone), ...zeros() };
    if (t) for (const k of COST_KEYS) row[k] = '0';
    let total = Decimal.ZERO;
    let totalCost = Decimal.ZERO;
    for (const key of TARIFF_KEYS) {
      const q = perKey.get(key)?.[i] ?? Decimal.ZERO;
      row[key] = q.trimmed().toString();
      total = total.add(q);
      sum[key] = sum[key].add(q);
      if (t && priceable) {
        try {
          const c = energyCost(t.tariff, registers[key]!, q, unit, bounds[i], bounds[i + 1], warnings);
          row[`${key}_cost`] = c.toString();
          totalCost = totalCost.add(c);
          costSum[key] = costSum[key].add(c);
        } catch (err) {
          priceable = false;
          notes.push(`tariff "${t._id}" could not price ${registers[key]} at ${row.date}: ${err instanceof Error ? err.message : String(err)}; no costs from there on`);
        }
      }
    }
    row.total = total.trimmed().toString();
    sum.total = sum.total.add(total);
    if (t) {
      row.total_cost = totalCost.toString();
      costSum.total = costSum.total.add(totalCost);
    }
    rows.push(row);
  }
  notes.push(...warnings);
  const totals: TariffReport['totals'] = zeros();
  for (const [k, v] of Object.entries(sum)) totals[k as TariffKey] = v.trimmed().toString();
  if (t) for (const [k, v] of Object.entries(costSum)) totals[`${k as TariffKey}_cost`] = v.toString();
  return {
    meter: o.meter, location: o.location, step: o.step, from: isoInZone(bounds[0], o.timeZone), to: isoInZone(bounds[bounds.length - 1], o.timeZone),
    unit, data_from: since === null ? null : isoInZone(since, o.timeZone), registers, tariff: t ? { id: t._id, name: t.name, currency: t.tariff.currency } : null,
    rows, totals, notes,
  };
}

/** The report as CSV (lib/csv, CRLF): a header row, then one line per step (costs and currency only with a tariff). */
export function reportCsv(r: TariffReport): string {
  const head = ['date', 'date_to', ...TARIFF_KEYS, 'total', 'unit'];
  if (r.tariff) head.push(...COST_KEYS, 'currency');
  const rows = r.rows.map((row) => {
    const cells = [row.date, row.date_to, ...TARIFF_KEYS.map((k) => row[k]), row.total, r.unit];
    if (r.tariff) cells.push(...COST_KEYS.map((k) => row[k] ?? '0'), r.tariff.currency);
    return cells;
  });
  return writeCsv(head, rows);
}
