/**
 * Cost centers as in MyEMS: {id, name, external_id} with tariffs bound per energy category and
 * meters assigned to it.
 *
 * A cost center's bill groups the bills of its meters: each meter is priced on its own with the
 * tariff bound to its energy category, and the cost center's lines are the meters' lines (each naming
 * its meter), its totals their sums. Pricing the summed consumption instead would be wrong for every
 * charge that belongs to a connection, not to energy: demand (the peaks of two meters do not add up
 * to the peak of their sum), block tiers and fixed charges per meter. The grouped bill also matches
 * the meter bills to the cent. A meter whose category has no bound tariff is an error, never skipped.
 */
import { Decimal } from '../money/decimal';
import type { Reading } from '../model';
import { ENERGY_TYPES, type ConsumptionInterval, type EnergyType, type Tariff, type TouPeriod } from '../tariff/types';
import { canonicalJson, sha256 } from './hash';
import { meterBillSteps, type Bill, type BillLine, type BillTotals } from './bill';
import { Pacer, runPaced, runSync } from './pace';

export interface CostCenterMeter {
  id: string;
  name?: string;
  energyType: EnergyType;
}

export interface CostCenter {
  id: string;
  name: string;
  /** The ERP/SAP id (MyEMS external_id). */
  externalId?: string;
  /** The tariff bound per energy category. */
  tariffs: Partial<Record<EnergyType, Tariff>>;
  meters: CostCenterMeter[];
}

/** Per meter id: its cumulative readings or ready intervals for the period. */
export type MeterData = Record<string, { readings?: readonly Reading[]; intervals?: readonly ConsumptionInterval[] }>;

function fail(field: string, value: unknown, expected: string): never {
  throw new Error(`${field} must be ${expected}, got ${JSON.stringify(value)}`);
}

/** Checks a cost center (MyEMS's `external_id` is accepted for externalId). Throws naming the field. */
export function checkCostCenter(value: unknown): CostCenter {
  if (!value || typeof value !== 'object') fail('costCenter', value, 'an object');
  const c = value as Record<string, unknown>;
  if (typeof c.id !== 'string' || c.id === '') fail('costCenter.id', c.id, 'a non-empty string');
  if (typeof c.name !== 'string' || c.name === '') fail('costCenter.name', c.name, 'a non-empty string');
  const externalId = c.externalId ?? c.external_id;
  if (externalId !== undefined && typeof externalId !== 'string') fail('costCenter.externalId', externalId, 'a string');
  if (!c.tariffs || typeof c.tariffs !== 'object') fail('costCenter.tariffs', c.tariffs, 'tariffs per energy category');
  for (const k of Object.keys(c.tariffs)) {
    if (!(ENERGY_TYPES as readonly string[]).includes(k)) fail(`costCenter.tariffs.${k}`, k, `an energy category (${ENERGY_TYPES.join(', ')})`);
  }
  if (!Array.isArray(c.meters) || c.meters.length === 0) fail('costCenter.meters', c.meters, 'a non-empty array of meters');
  const seen = new Set<string>();
  c.meters.forEach((m: unknown, i: number) => {
    const x = m as Record<string, unknown>;
    if (!x || typeof x.id !== 'string' || x.id === '') fail(`costCenter.meters[${i}].id`, x?.id, 'a meter id');
    if (seen.has(x.id)) fail(`costCenter.meters[${i}].id`, x.id, 'assigned once');
    seen.add(x.id);
    if (!(ENERGY_TYPES as readonly unknown[]).includes(x.energyType)) fail(`costCenter.meters[${i}].energyType`, x.energyType, `one of ${ENERGY_TYPES.join(', ')}`);
  });
  const out = { ...(c as unknown as CostCenter) };
  if (externalId !== undefined) out.externalId = externalId as string;
  return out;
}

/** The tariff bound to the cost center for an energy category. Throws naming both when none is. */
export function tariffFor(center: CostCenter, energyType: EnergyType): Tariff {
  const t = center.tariffs[energyType];
  if (!t) throw new Error(`cost center ${JSON.stringify(center.id)} has no tariff bound for ${energyType}`);
  return t;
}

const tag = (meter: string) => (l: BillLine): BillLine => ({ ...l, meter });

function addTotals(a: BillTotals, b: BillTotals): BillTotals {
  const out = {} as Record<keyof BillTotals, string>;
  for (const k of Object.keys(a) as (keyof BillTotals)[]) out[k] = Decimal.from(a[k]).add(Decimal.from(b[k])).toString();
  return out;
}

/**
 * A draft bill for a cost center over [from, to): one meter bill per assigned meter (see the module
 * comment). `interval` is the interval length readings are turned into (ms).
 */
export function costCenterBill(centerIn: CostCenter, from: number, to: number, data: MeterData, options: { interval?: number } = {}): Bill {
  return runSync(costCenterBillSteps(centerIn, from, to, data, options));
}

/** costCenterBill letting the event loop run while it works (see ./pace). */
export function costCenterBillPaced(centerIn: CostCenter, from: number, to: number, data: MeterData, options: { interval?: number } = {}, pacer?: Pacer): Promise<Bill> {
  return runPaced(costCenterBillSteps(centerIn, from, to, data, options), pacer);
}

function* costCenterBillSteps(centerIn: CostCenter, from: number, to: number, data: MeterData, options: { interval?: number }): Generator<boolean | void, Bill> {
  const center = checkCostCenter(centerIn);
  for (const m of center.meters) tariffFor(center, m.energyType); // every binding first: no half-computed bill
  const meters: Bill[] = [];
  for (const [i, m] of center.meters.entries()) {
    const d = data[m.id];
    if (!d || (d.readings === undefined && d.intervals === undefined)) fail(`meters.${m.id}`, d ?? null, `readings or intervals for cost center meter ${i}`);
    meters.push(yield* meterBillSteps({ tariff: tariffFor(center, m.energyType), meter: m.id, meterName: m.name, from, to, energyType: m.energyType, interval: options.interval, ...d }));
  }
  const currencies = new Set(meters.map((b) => b.currency));
  if (currencies.size > 1) throw new Error(`cost center ${JSON.stringify(center.id)}: its tariffs bill in several currencies (${[...currencies].join(', ')})`);
  const zones = new Set(meters.map((b) => b.timeZone));
  const tariffs = [...new Map(meters.map((b) => [b.tariff.id, b.tariff])).values()];
  const registers = new Map<string, { register: Bill['consumption']['registers'][number]['register']; obis?: string; quantity: Decimal; unit: string }>();
  const periods = new Map<string, { period: TouPeriod; quantity: Decimal; unit: string }>();
  for (const b of meters) {
    for (const r of b.consumption.registers) {
      const k = `${r.obis ?? r.register}\u0000${r.unit}`;
      const row = registers.get(k) ?? { register: r.register, ...(r.obis ? { obis: r.obis } : {}), quantity: Decimal.ZERO, unit: r.unit };
      row.quantity = row.quantity.add(Decimal.from(r.quantity));
      registers.set(k, row);
    }
    for (const p of b.consumption.periods) {
      const k = `${p.period}\u0000${p.unit}`;
      const row = periods.get(k) ?? { period: p.period, quantity: Decimal.ZERO, unit: p.unit };
      row.quantity = row.quantity.add(Decimal.from(p.quantity));
      periods.set(k, row);
    }
  }
  const lines = meters.flatMap((b) => b.lines.map(tag(b.subject.id)));
  const taxes = meters.flatMap((b) => b.taxes.map(tag(b.subject.id)));
  const totals = meters.slice(1).reduce((t, b) => addTotals(t, b.totals), meters[0].totals);
  const notes = meters.flatMap((b) => b.quality.notes.map((n) => `${b.subject.id}: ${n}`));
  return {
    kind: 'bill',
    status: 'draft',
    subject: { type: 'cost-center', id: center.id, name: center.name, ...(center.externalId ? { externalId: center.externalId } : {}) },
    from, to,
    timeZone: meters[0].timeZone,
    tariff: { id: tariffs.map((t) => t.id).join(', '), name: tariffs.map((t) => t.name).join(', ') },
    currency: meters[0].currency,
    currencyDecimals: meters[0].currencyDecimals,
    readings: [],
    consumption: {
      registers: [...registers.values()].map((r) => ({ ...r, quantity: r.quantity.toString() })),
      periods: [...periods.values()].map((p) => ({ ...p, quantity: p.quantity.toString() })),
    },
    lines,
    taxes,
    totals,
    quality: {
      ok: meters.every((b) => b.quality.ok),
      flags: [...new Set(meters.flatMap((b) => b.quality.flags))],
      flaggedIntervals: meters.reduce((n, b) => n + b.quality.flaggedIntervals, 0),
      notes,
    },
    warnings: [
      ...(zones.size > 1 ? [`tariffs in several time zones (${[...zones].join(', ')}): the bill shows times in ${meters[0].timeZone}`] : []),
      ...meters.flatMap((b) => b.warnings.map((w) => `${b.subject.id}: ${w}`)),
    ],
    inputs: {
      source: 'meters',
      intervals: meters.reduce((n, b) => n + b.inputs.intervals, 0),
      tariffHash: sha256(canonicalJson(meters.map((b) => b.inputs.tariffHash))),
    },
    meters,
  };
}
