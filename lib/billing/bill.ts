/**
 * A bill for one meter over a billing period [from, to): readings, consumption per register and per
 * time-of-use period, the tariff engine's lines (energy, demand, fixed), taxes and totals.
 *
 * A bill computed here is a draft: it is derived from readings and a tariff and never stored; ask
 * again after a tariff change and it shows the new amounts. Only issuing (./bill-store) freezes it,
 * with a number, the issue time and a content hash. Corrections are credit notes (./credit-note).
 */
import { parseObis, withTariff, type QualityFlag, type Reading } from '../model';
import { Decimal } from '../money/decimal';
import { priceConsumption, validateTariff } from '../tariff';
import type { ConsumptionInterval, EnergyType, PriceLine, PriceRequest, Tariff, TouPeriod } from '../tariff/types';
import { canonicalJson, sha256 } from './hash';
import { Pacer, runPaced, runSync } from './pace';
import { qualitySummary, readingsToIntervalsSteps, registerName, type RegisterName, type RegisterReadings } from './readings';

export const DEFAULT_BILL_INTERVAL = 15 * 60_000;

export type BillKind = 'bill' | 'credit-note';
export type BillStatus = 'draft' | 'issued';

export interface BillSubject {
  type: 'meter' | 'cost-center';
  id: string;
  name?: string;
  /** The ERP/SAP id of a cost center (MyEMS external_id). */
  externalId?: string;
}

/** A priced line; `meter` names the meter in a cost center's bill. */
export interface BillLine extends PriceLine {
  meter?: string;
}

export interface BillTotals {
  energy: string;
  demand: string;
  fixed: string;
  /** energy + demand + fixed */
  subtotal: string;
  taxes: string;
  /** subtotal + taxes as the tariff rounds it */
  total: string;
}

export interface BillQuality {
  /** True when no reading or interval carries a quality flag and no reading is missing. */
  ok: boolean;
  flags: QualityFlag[];
  /** Priced intervals carrying a quality flag (estimated, gap-filled, suspect, counter reset, ...). */
  flaggedIntervals: number;
  /** Missing or late readings, consumption moved to the first interval, ... */
  notes: string[];
}

/** What the bill was computed from, so an issued bill can be checked against its inputs. */
export interface BillInputs {
  source: 'readings' | 'intervals' | 'meters';
  readings?: number;
  intervals: number;
  /** Interval length used to turn readings into intervals (ms). */
  interval?: number;
  /** sha256 of the tariff as JSON with sorted keys. */
  tariffHash: string;
}

export interface Bill {
  kind: BillKind;
  status: BillStatus;
  number?: string;
  issuedAt?: number;
  /** sha256 of the bill's content (everything but status, number, issuedAt and hash). */
  hash?: string;
  /** The issued bill a credit note cancels. */
  references?: string;
  subject: BillSubject;
  /** The billing period [from, to), epoch ms. */
  from: number;
  to: number;
  /** The tariff's zone: local dates and times of the bill are read in it. */
  timeZone: string;
  tariff: { id: string; name: string };
  currency: string;
  currencyDecimals: number;
  readings: RegisterReadings[];
  consumption: {
    registers: { register: RegisterName; obis?: string; quantity: string; unit: string }[];
    /** Quantity per time-of-use period, from the first charge priced by period. */
    periods: { period: TouPeriod; quantity: string; unit: string }[];
  };
  lines: BillLine[];
  taxes: BillLine[];
  totals: BillTotals;
  quality: BillQuality;
  warnings: string[];
  inputs: BillInputs;
  /** A cost center's bill: one bill per meter. */
  meters?: Bill[];
}

export interface MeterBillInput {
  tariff: Tariff;
  meter: string;
  meterName?: string;
  from: number;
  to: number;
  /** Cumulative readings of the meter from the one at or before `from` to the one at or before `to`. */
  readings?: readonly Reading[];
  /** Or ready intervals inside [from, to). */
  intervals?: readonly ConsumptionInterval[];
  /** Interval length readings are turned into (ms, default 15 min), aligned in the tariff's zone. */
  interval?: number;
  /** The register's modulus and the physical maximum rate (see lib/pipeline/consumption). */
  rolloverAt?: number;
  maxPower?: number;
  /** Overrides the OBIS medium of every interval. */
  energyType?: EnergyType;
  demandHistory?: PriceRequest['demandHistory'];
}

function fail(field: string, value: unknown, expected: string): never {
  throw new Error(`${field} must be ${expected}, got ${JSON.stringify(value)}`);
}

function checkPeriod(from: unknown, to: unknown): void {
  if (typeof from !== 'number' || !Number.isFinite(from)) fail('from', from, 'a time (epoch ms)');
  if (typeof to !== 'number' || !Number.isFinite(to)) fail('to', to, 'a time (epoch ms)');
  if (to <= from) fail('to', new Date(to).toISOString(), `after from (${new Date(from).toISOString()})`);
}

const sumOf = (lines: readonly PriceLine[], kind?: string): Decimal =>
  Decimal.sum(lines.filter((l) => kind === undefined || l.kind === kind).map((l) => Decimal.from(l.amount)));

/** Totals of lines and taxes; `total` is given by the engine (it applies the tariff's rounding). */
export function totalsOf(lines: readonly PriceLine[], taxes: readonly PriceLine[], total: string, decimals = 2): BillTotals {
  return {
    energy: sumOf(lines, 'energy').toString(decimals),
    demand: sumOf(lines, 'demand').toString(decimals),
    fixed: sumOf(lines, 'fixed').toString(decimals),
    subtotal: sumOf(lines).toString(decimals),
    taxes: sumOf(taxes).toString(decimals),
    total,
  };
}

/** Quantity per TOU period from the first energy charge that has periods (other charges price the same energy again). */
function periodQuantities(lines: readonly PriceLine[]): Bill['consumption']['periods'] {
  const first = lines.find((l) => l.kind === 'energy' && l.period !== undefined);
  if (!first) return [];
  const by = new Map<TouPeriod, Decimal>();
  for (const l of lines) {
    if (l.kind !== 'energy' || l.charge !== first.charge || l.period === undefined) continue;
    by.set(l.period, (by.get(l.period) ?? Decimal.ZERO).add(Decimal.from(l.quantity)));
  }
  return [...by.entries()].map(([period, q]) => ({ period, quantity: q.trimmed().toString(), unit: first.unit }));
}

/** Consumption per register (total, T1..T4) of the priced intervals. */
function registerQuantities(intervals: readonly ConsumptionInterval[]): Bill['consumption']['registers'] {
  const by = new Map<string, { register: RegisterName; obis?: string; quantity: Decimal; unit: string }>();
  for (const i of intervals) {
    const key = `${i.obis ?? ''}\u0000${i.unit}`;
    const row = by.get(key) ?? { register: i.obis ? registerName(i.obis) : 'total', obis: i.obis, quantity: Decimal.ZERO, unit: i.unit };
    row.quantity = row.quantity.add(Decimal.from(i.quantity));
    by.set(key, row);
  }
  return [...by.values()].map((r) => ({ register: r.register, ...(r.obis ? { obis: r.obis } : {}), quantity: r.quantity.trimmed().toString(), unit: r.unit }));
}

function checkIntervals(intervals: readonly ConsumptionInterval[], from: number, to: number): ConsumptionInterval[] {
  return intervals.map((i, n) => {
    if (!i || typeof i !== 'object') fail(`intervals[${n}]`, i, 'an interval {start, end, quantity, unit}');
    if (typeof i.start !== 'number' || typeof i.end !== 'number' || !(i.end > i.start)) fail(`intervals[${n}].end`, i.end, `a time after start ${JSON.stringify(i.start)}`);
    if (typeof i.quantity !== 'number' || !Number.isFinite(i.quantity)) fail(`intervals[${n}].quantity`, i.quantity, 'a finite number');
    if (typeof i.unit !== 'string') fail(`intervals[${n}].unit`, i.unit, 'a unit such as "kWh"');
    if (i.obis !== undefined) parseObis(i.obis);
    if (i.start < from || i.end > to) {
      fail(`intervals[${n}]`, `${new Date(i.start).toISOString()}/${new Date(i.end).toISOString()}`, `inside the billing period ${new Date(from).toISOString()}/${new Date(to).toISOString()}`);
    }
    return { ...i };
  });
}

/**
 * The intervals the engine prices: a meter reads its total (x.8.0) and often T1..T4 too, the same
 * energy twice. Register intervals go to the engine when the tariff has register charges, total
 * intervals when it has other charges. A meter without a total register gets its T1..T4 intervals
 * priced as the total (their sum) by the other charges, with a warning.
 */
function pricedIntervals(tariff: Tariff, intervals: ConsumptionInterval[], warnings: string[]): ConsumptionInterval[] {
  const charges = tariff.versions.flatMap((v) => v.energy);
  const isRegister = (i: ConsumptionInterval) => i.obis !== undefined && registerName(i.obis) !== 'total';
  const registers = intervals.filter(isRegister);
  let totals = intervals.filter((i) => !isRegister(i));
  const wantRegisters = charges.some((c) => c.type === 'register');
  const wantTotals = charges.some((c) => c.type !== 'register');
  if (wantTotals && totals.length === 0 && registers.length > 0) {
    totals = registers.map((i) => ({ ...i, obis: withTariff(i.obis!, 0) }));
    warnings.push('no total register reading: the sum of the tariff registers (T1..T4) is priced as the total');
  }
  return [
    ...(wantTotals ? totals : []),
    ...(wantRegisters || !wantTotals ? registers : []),
  ].sort((a, b) => a.start - b.start);
}

/**
 * A draft bill for one meter over [from, to), from cumulative readings or ready intervals. Throws an
 * Error naming the field and value for bad input; the tariff engine's PriceError passes through.
 */
export function meterBill(input: MeterBillInput): Bill {
  return runSync(meterBillSteps(input));
}

/** meterBill letting the event loop run while it turns readings into intervals (see ./pace). */
export function meterBillPaced(input: MeterBillInput, pacer?: Pacer): Promise<Bill> {
  return runPaced(meterBillSteps(input), pacer);
}

/** The work of meterBill as a generator that yields after every reading. */
export function* meterBillSteps(input: MeterBillInput): Generator<boolean | void, Bill> {
  const { meter, from, to } = input;
  if (!input.tariff || typeof input.tariff !== 'object') fail('tariff', input.tariff, 'a tariff');
  const tariff = validateTariff(input.tariff);
  if (typeof meter !== 'string' || meter === '') fail('meter', meter, 'a meter id');
  checkPeriod(from, to);
  const interval = input.interval ?? DEFAULT_BILL_INTERVAL;
  let intervals: ConsumptionInterval[];
  let registers: RegisterReadings[] = [];
  const notes: string[] = [];
  const inputs: BillInputs = { source: 'intervals', intervals: 0, tariffHash: sha256(canonicalJson(input.tariff)) };
  if (input.readings !== undefined) {
    if (!Array.isArray(input.readings)) fail('readings', input.readings, 'an array of readings');
    const r = yield* readingsToIntervalsSteps(meter, input.readings, from, to, {
      interval, timeZone: tariff.timeZone, rolloverAt: input.rolloverAt, maxPower: input.maxPower,
    });
    intervals = r.intervals;
    registers = r.registers;
    notes.push(...r.notes);
    Object.assign(inputs, { source: 'readings', readings: r.used, interval });
    const q = qualitySummary(registers.flatMap((x) => [x.opening ?? {}, x.closing ?? {}]));
    if (q.count > 0) notes.push(`${q.count} opening/closing readings flagged ${q.flags.join(', ')}`);
  } else if (input.intervals !== undefined) {
    if (!Array.isArray(input.intervals)) fail('intervals', input.intervals, 'an array of intervals');
    intervals = checkIntervals(input.intervals, from, to);
    if (intervals.length === 0) fail('intervals', [], 'at least one interval inside the billing period');
  } else {
    throw new Error('readings or intervals are required to bill a meter');
  }
  if (input.energyType) intervals = intervals.map((i) => ({ ...i, energyType: input.energyType }));
  intervals = intervals.map((i) => ({ ...i, meter }));
  const ownWarnings: string[] = [];
  yield true;
  const toPrice = pricedIntervals(tariff, intervals, ownWarnings);
  yield true;
  inputs.intervals = toPrice.length;
  const request: PriceRequest = { from, to };
  if (input.demandHistory) request.demandHistory = input.demandHistory;
  const priced = priceConsumption(tariff, toPrice, request);
  yield true;
  const consumed = registerQuantities(intervals);
  yield true;
  const q = qualitySummary([...toPrice, ...registers.flatMap((x) => [x.opening ?? {}, x.closing ?? {}])]);
  const iq = qualitySummary(toPrice);
  const flagged = iq.count;
  if (flagged > 0) notes.push(`${flagged} of ${toPrice.length} priced intervals flagged ${iq.flags.join(', ')}`);
  const missing = registers.some((x) => x.opening === null || x.closing === null || x.opening.time > from);
  return {
    kind: 'bill',
    status: 'draft',
    subject: { type: 'meter', id: meter, ...(input.meterName ? { name: input.meterName } : {}) },
    from, to,
    timeZone: tariff.timeZone,
    tariff: { id: tariff.id, name: tariff.name },
    currency: priced.currency,
    currencyDecimals: tariff.currencyDecimals ?? 2,
    readings: registers,
    consumption: { registers: consumed, periods: periodQuantities(priced.lines) },
    lines: priced.lines.map((l) => ({ ...l })),
    taxes: priced.taxes.map((l) => ({ ...l })),
    totals: totalsOf(priced.lines, priced.taxes, priced.total, tariff.currencyDecimals ?? 2),
    quality: { ok: q.flags.length === 0 && !missing && notes.length === 0, flags: q.flags, flaggedIntervals: flagged, notes },
    warnings: [...ownWarnings, ...priced.warnings],
    inputs,
  };
}
