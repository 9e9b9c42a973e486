/**
 * Draft bills of the EMS: a meter's readings from the reading store priced with the tariff bound to
 * it (its accounting object's tariff_id) or a chosen one; a cost center's meters with the tariffs
 * bound per energy category. Issued bills live in the BillStore; everything is scoped by the
 * meters a caller may see.
 */
import { billedReadingsFromStore, costCenterBillPaced, meterBillPaced, parseBillTime, billingPeriod, billToCsv, billToHtml, type Bill, type MeterData } from '../billing';
import type { ReadingStore } from '../store/types';
import { Pacer } from '../billing/pace';
import { ApiError } from './envelope';
import { checkPeriod, checkYear, type LimitedOperation } from './limits';
import type { EmsServices } from './services';

export const BILL_FORMATS = ['json', 'csv', 'html'] as const;
export type BillFormat = (typeof BILL_FORMATS)[number];

/** A meter's billed registers for [from, to] (see lib/billing/store-readings). */
export const billReadings = billedReadingsFromStore;

/** [from, to) from ISO (local dates/times in `timeZone`) or epoch ms; both absent = last month. */
export function billPeriod(fromIn: unknown, toIn: unknown, timeZone: string, now: number, op?: LimitedOperation): { from: number; to: number } {
  const given = (v: unknown) => v !== undefined && v !== null && v !== '';
  if (!given(fromIn) && !given(toIn)) return billingPeriod('last-month', now, timeZone);
  if (!given(fromIn)) throw new ApiError(400, `from is missing (to is ${JSON.stringify(toIn)}): give both from and to`);
  if (!given(toIn)) throw new ApiError(400, `to is missing (from is ${JSON.stringify(fromIn)}): give both from and to`);
  const time = (field: string, v: unknown) => {
    try {
      return parseBillTime(field, v, timeZone);
    } catch (err) {
      throw new ApiError(400, (err as Error).message);
    }
  };
  const from = time('from', fromIn);
  const to = time('to', toIn);
  checkYear('from', fromIn, from);
  checkYear('to', toIn, to);
  if (to <= from) throw new ApiError(400, `to ${JSON.stringify(toIn)} is not after from ${JSON.stringify(fromIn)}`);
  if (op) checkPeriod(op, 'bill', { from: { name: 'from', value: fromIn, time: from }, to: { name: 'to', value: toIn, time: to } });
  return { from, to };
}

export function billFormat(v: unknown): BillFormat {
  const f = v === undefined || v === '' ? 'json' : v;
  if (!(BILL_FORMATS as readonly unknown[]).includes(f)) throw new ApiError(400, `format ${JSON.stringify(v)} must be one of ${BILL_FORMATS.join(', ')}`);
  return f as BillFormat;
}

/** A billing error (no readings, a tariff that does not price them) as 409 naming the subject. */
function cannotBill(what: string, err: unknown): never {
  if (err instanceof ApiError) throw err;
  throw new ApiError(409, `cannot bill ${what}: ${err instanceof Error ? err.message : String(err)}`);
}

export interface DraftInput {
  services: EmsServices;
  store: ReadingStore;
  /** Meters the caller may see; undefined = all. */
  meters: ReadonlySet<string> | undefined;
  from: number;
  to: number;
}

/** A meter's draft bill; `tariffId` overrides the bound tariff. */
export async function meterDraft(x: DraftInput, meterId: string, tariffId?: string): Promise<Bill> {
  if (x.meters && !x.meters.has(meterId)) throw new ApiError(404, `unknown meter "${meterId}"`);
  const meter = x.services.registry.meter(meterId);
  let stored;
  if (tariffId !== undefined) {
    if (!x.services.tariffs.exists(tariffId)) throw new ApiError(400, `tariff: ${JSON.stringify(tariffId)} is not a known tariff id`);
    stored = x.services.tariffs.get(tariffId);
  } else {
    stored = x.services.objects.tariffForMeter(meterId);
    if (!stored) throw new ApiError(409, `meter "${meterId}" has no tariff: bind one with an accounting object's tariff_id, or give tariff=<id>`);
  }
  const pacer = new Pacer();
  const readings = await billReadings(x.store, meterId, x.from, x.to, pacer);
  try {
    return await meterBillPaced({ tariff: stored.tariff, meter: meterId, meterName: meter.definition.name, from: x.from, to: x.to, readings }, pacer);
  } catch (err) {
    cannotBill(`meter "${meterId}"`, err);
  }
}

/** A cost center's draft bill (404 unless the caller sees every meter of it). */
export async function costCenterDraft(x: DraftInput, id: string): Promise<Bill> {
  const stored = x.services.costCenters.get(id, x.meters);
  const center = x.services.costCenters.resolve(stored);
  const data: MeterData = {};
  const pacer = new Pacer();
  for (const m of center.meters) data[m.id] = { readings: await billReadings(x.store, m.id, x.from, x.to, pacer) };
  try {
    return await costCenterBillPaced(center, x.from, x.to, data, {}, pacer);
  } catch (err) {
    cannotBill(`cost center "${id}"`, err);
  }
}

/** True when the caller sees the bill's meter, or every meter of a cost center's bill. */
export function billVisible(bill: Bill, meters: ReadonlySet<string> | undefined): boolean {
  if (!meters) return true;
  if (bill.subject.type === 'meter') return meters.has(bill.subject.id);
  return (bill.meters ?? []).every((b) => meters.has(b.subject.id));
}

/** The bill as CSV or HTML (raw body), or undefined for JSON. */
export function renderBill(bill: Bill, format: BillFormat): { contentType: string; body: string; filename?: string } | undefined {
  if (format === 'json') return undefined;
  const name = `${bill.number ?? `draft-${bill.subject.id}`}.${format}`;
  return format === 'csv'
    ? { contentType: 'text/csv; charset=utf-8', body: billToCsv(bill), filename: name }
    : { contentType: 'text/html; charset=utf-8', body: billToHtml(bill) }; // shown in the browser, printable
}

/** A line of GET /api/bills. */
export function billSummary(b: Bill): Record<string, unknown> {
  return {
    number: b.number, kind: b.kind, subject: b.subject, from: new Date(b.from).toISOString(), to: new Date(b.to).toISOString(),
    total: b.totals.total, currency: b.currency, issuedAt: b.issuedAt !== undefined ? new Date(b.issuedAt).toISOString() : null,
    references: b.references ?? null, tariff: b.tariff,
  };
}
