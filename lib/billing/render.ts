/**
 * A bill as CSV (one row per priced line and tax, with a header) and as a printable, self-contained
 * HTML page (inline print CSS, no scripts or external resources, all text escaped). Times are shown
 * in the bill's (the tariff's) time zone.
 */
import { writeCsv, type CsvValue } from '../csv';
import { Decimal } from '../money/decimal';
import { qualityFlags } from '../model';
import { offsetAt, toLocal } from '../model/time';
import type { Bill, BillLine } from './bill';

const pad = (n: number, w = 2): string => String(n).padStart(w, '0');

/** Local date and time with the zone's offset: "2026-03-01T00:00+01:00". */
export function localIso(time: number, timeZone: string): string {
  const l = toLocal(time, timeZone);
  const off = Math.round(offsetAt(time, timeZone) / 60_000);
  const sign = off < 0 ? '-' : '+';
  const abs = Math.abs(off);
  return `${l.year}-${pad(l.month)}-${pad(l.day)}T${pad(l.hour)}:${pad(l.minute)}${sign}${pad(Math.floor(abs / 60))}:${pad(abs % 60)}`;
}

/** "2026-03-01 08:15" in the zone. */
function localText(time: number, timeZone: string): string {
  const l = toLocal(time, timeZone);
  return `${l.year}-${pad(l.month)}-${pad(l.day)} ${pad(l.hour)}:${pad(l.minute)}`;
}

/** The period as people read it: "2026-03-01 – 2026-03-31" when it runs midnight to midnight. */
export function periodText(from: number, to: number, timeZone: string): string {
  const a = toLocal(from, timeZone);
  const b = toLocal(to, timeZone);
  const midnight = (l: typeof a) => l.hour === 0 && l.minute === 0 && l.second === 0;
  if (midnight(a) && midnight(b)) {
    const last = toLocal(to - 1, timeZone);
    return `${a.year}-${pad(a.month)}-${pad(a.day)} – ${last.year}-${pad(last.month)}-${pad(last.day)}`;
  }
  return `${localText(from, timeZone)} – ${localText(to, timeZone)}`;
}

export const CSV_COLUMNS = [
  'bill', 'kind', 'subject', 'meter', 'line', 'charge', 'category', 'cycle_from', 'cycle_to', 'version',
  'season', 'period', 'tier', 'register', 'quantity', 'unit', 'rate', 'amount', 'currency', 'note',
] as const;

function csvRow(bill: Bill, l: BillLine): Record<(typeof CSV_COLUMNS)[number], CsvValue> {
  return {
    bill: bill.number ?? 'draft', kind: bill.kind, subject: bill.subject.id, meter: l.meter ?? (bill.subject.type === 'meter' ? bill.subject.id : ''),
    line: l.kind, charge: l.charge, category: l.category, cycle_from: localIso(l.cycleFrom, bill.timeZone), cycle_to: localIso(l.cycleTo, bill.timeZone),
    version: l.version, season: l.season, period: l.period, tier: l.tier, register: l.register, quantity: l.quantity, unit: l.unit,
    rate: l.rate, amount: l.amount, currency: bill.currency, note: l.note,
  };
}

/** The bill's lines and taxes as CSV (lib/csv: RFC 4180, formulas guarded), header first, CRLF line ends. */
export function billToCsv(bill: Bill): string {
  return writeCsv(CSV_COLUMNS, [...bill.lines, ...bill.taxes].map((l) => csvRow(bill, l)));
}

/** Escapes text for HTML element content and attribute values. */
export function escapeHtml(value: unknown): string {
  return String(value ?? '').replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

const CSS = `
*{box-sizing:border-box}body{font:11pt/1.4 system-ui,-apple-system,"Segoe UI",Roboto,Arial,sans-serif;color:#111;margin:2em auto;max-width:60em;padding:0 1em}
h1{font-size:18pt;margin:0 0 .2em}h2{font-size:12pt;margin:1.4em 0 .4em;border-bottom:1px solid #999}
table{border-collapse:collapse;width:100%;margin:.3em 0}th,td{padding:.25em .5em;border-bottom:1px solid #ddd;text-align:left;vertical-align:top}
th{background:#f2f2f2}td.n,th.n{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
dl{display:grid;grid-template-columns:max-content 1fr;gap:.1em 1em;margin:0}dt{color:#555}dd{margin:0}
.readings td{white-space:nowrap}.totals td{border:none}.totals tr.total td{font-weight:bold;border-top:2px solid #111}
.warn{border:1px solid #c90;background:#fff8e5;padding:.5em 1em;margin:1em 0}.draft{color:#b00}.small{font-size:9pt;color:#555;word-break:break-all}
@media print{body{margin:0;max-width:none;font-size:10pt}.warn{border-color:#000;background:none}h2{break-after:avoid}tr{break-inside:avoid}th{background:none}}
@page{size:A4;margin:15mm}
`;

function money(text: string, decimals: number): string {
  return Decimal.from(text).toString(decimals);
}

function lineDetail(l: BillLine): string {
  return [l.season, l.period, l.tier !== undefined ? `tier ${l.tier}` : undefined, l.register, l.note].filter((x) => x !== undefined && x !== '').join(', ');
}

function table(head: string[], rows: string[][], numeric: number[], cls = ''): string {
  const cell = (tag: string, i: number, v: string) => `<${tag}${numeric.includes(i) ? ' class="n"' : ''}>${v}</${tag}>`;
  return `<table${cls ? ` class="${cls}"` : ''}><thead><tr>${head.map((h, i) => cell('th', i, escapeHtml(h))).join('')}</tr></thead><tbody>${
    rows.map((r) => `<tr>${r.map((v, i) => cell('td', i, v)).join('')}</tr>`).join('')}</tbody></table>`;
}

/** A printable HTML page of the bill (one self-contained document). */
export function billToHtml(bill: Bill): string {
  const e = escapeHtml;
  const z = bill.timeZone;
  const d = bill.currencyDecimals;
  const title = `${bill.kind === 'credit-note' ? 'Credit note' : 'Bill'}${bill.number ? ` ${bill.number}` : ''}`;
  const subject = bill.subject.name ? `${bill.subject.name} (${bill.subject.id})` : bill.subject.id;
  const facts: [string, string][] = [
    [bill.subject.type === 'meter' ? 'Meter' : 'Cost center', subject],
    ...(bill.subject.externalId ? [['External id', bill.subject.externalId] as [string, string]] : []),
    ['Period', `${periodText(bill.from, bill.to, z)} (${z})`],
    ['Tariff', bill.tariff.name],
    ['Currency', bill.currency],
    ...(bill.references ? [['Cancels bill', bill.references] as [string, string]] : []),
    ['Issued', bill.issuedAt !== undefined ? localText(bill.issuedAt, z) : 'not issued (draft, recomputed on request)'],
  ];
  const parts: string[] = [];
  parts.push(`<h1>${e(title)}${bill.status === 'draft' ? ' <span class="draft">(draft)</span>' : ''}</h1>`);
  parts.push(`<dl>${facts.map(([k, v]) => `<dt>${e(k)}</dt><dd>${e(v)}</dd>`).join('')}</dl>`);
  if (!bill.quality.ok || bill.warnings.length > 0) {
    const items = [
      ...(bill.quality.flags.length ? [`Data quality: ${bill.quality.flags.join(', ')} (${bill.quality.flaggedIntervals} intervals)`] : []),
      ...bill.quality.notes, ...bill.warnings,
    ];
    parts.push(`<div class="warn"><strong>Please note</strong><ul>${items.map((x) => `<li>${e(x)}</li>`).join('')}</ul></div>`);
  }
  if (bill.readings.length > 0) {
    parts.push('<h2>Meter readings</h2>');
    const point = (p: Bill['readings'][number]['opening']) => (p ? [e(localText(p.time, z)), e(p.value)] : ['–', '–']);
    parts.push(table(['Register', 'OBIS', 'Opening', 'Reading', 'Closing', 'Reading', 'Consumption', 'Unit', 'Flags'], bill.readings.map((r) => [
      e(r.register), e(r.obis), ...point(r.opening), ...point(r.closing), e(r.consumption), e(r.unit),
      e(qualityFlags((r.opening?.quality ?? 0) | (r.closing?.quality ?? 0)).join(', ')),
    ]), [3, 5, 6], 'readings'));
  }
  if (bill.consumption.registers.length > 0 || bill.consumption.periods.length > 0) {
    parts.push('<h2>Consumption</h2>');
    const rows = [
      ...bill.consumption.registers.map((r) => [e(`register ${r.register}${r.obis ? ` (${r.obis})` : ''}`), e(r.quantity), e(r.unit)]),
      ...bill.consumption.periods.map((p) => [e(`period ${p.period}`), e(p.quantity), e(p.unit)]),
    ];
    parts.push(table(['', 'Quantity', 'Unit'], rows, [1]));
  }
  const withMeter = bill.lines.some((l) => l.meter !== undefined);
  parts.push('<h2>Charges</h2>');
  parts.push(table([...(withMeter ? ['Meter'] : []), 'Charge', 'Detail', 'Quantity', 'Unit', 'Rate', `Amount (${bill.currency})`],
    [...bill.lines, ...bill.taxes].map((l) => [
      ...(withMeter ? [e(l.meter ?? '')] : []), e(l.charge), e(lineDetail(l)), e(l.quantity), e(l.unit), e(l.rate), e(money(l.amount, d)),
    ]), withMeter ? [3, 5, 6] : [2, 4, 5]));
  const t = bill.totals;
  const totalRows: [string, string][] = [['Energy', t.energy], ['Demand', t.demand], ['Fixed charges', t.fixed], ['Subtotal', t.subtotal], ['Taxes', t.taxes]];
  parts.push(`<table class="totals"><tbody>${totalRows.map(([k, v]) => `<tr><td>${e(k)}</td><td class="n">${e(money(v, d))} ${e(bill.currency)}</td></tr>`).join('')}` +
    `<tr class="total"><td>Total</td><td class="n">${e(money(t.total, d))} ${e(bill.currency)}</td></tr></tbody></table>`);
  if (bill.hash) parts.push(`<p class="small">Content hash (sha256): ${e(bill.hash)}</p>`);
  return `<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8"><title>${e(`${title} – ${subject}`)}</title><style>${CSS}</style></head>\n<body>${parts.join('\n')}</body></html>\n`;
}
