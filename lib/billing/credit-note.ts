/**
 * Corrections: an issued bill is never changed. A credit note cancels it: the same subject and
 * period, every line, tax, total and quantity negated, `references` naming the original's number.
 * Issue the credit note, then issue the corrected bill for the same meter and period.
 */
import { Decimal } from '../money/decimal';
import type { Bill, BillLine, BillTotals } from './bill';

const neg = (text: string): string => {
  const d = Decimal.from(text);
  return d.isZero() ? d.abs().toString() : d.neg().toString();
};

function negLine(l: BillLine): BillLine {
  return { ...l, quantity: neg(l.quantity), amount: neg(l.amount) };
}

/** The bill with every quantity and amount negated (the meters of a cost center's bill too). */
function negated(b: Bill): Bill {
  return {
    ...b,
    consumption: {
      registers: b.consumption.registers.map((r) => ({ ...r, quantity: neg(r.quantity) })),
      periods: b.consumption.periods.map((p) => ({ ...p, quantity: neg(p.quantity) })),
    },
    lines: b.lines.map(negLine),
    taxes: b.taxes.map(negLine),
    totals: Object.fromEntries(Object.entries(b.totals).map(([k, v]) => [k, neg(v)])) as unknown as BillTotals,
    ...(b.meters ? { meters: b.meters.map(negated) } : {}),
  };
}

/** A draft credit note for an issued bill. Throws when `original` is not an issued bill. */
export function creditNote(original: Bill, reason?: string): Bill {
  if (!original || original.status !== 'issued' || !original.number) {
    throw new Error(`original must be an issued bill (with a number), got ${JSON.stringify(original?.number ?? original?.status ?? original)}`);
  }
  if (original.kind !== 'bill') throw new Error(`original ${original.number} is a ${original.kind}: only a bill can be credited`);
  const { number: _n, issuedAt: _i, hash: _h, ...rest } = negated(original);
  return {
    ...rest,
    kind: 'credit-note',
    status: 'draft',
    references: original.number,
    warnings: [...original.warnings, ...(reason ? [`credit note: ${reason}`] : [])],
  };
}
