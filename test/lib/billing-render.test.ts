import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { billToCsv, billToHtml, CSV_COLUMNS, meterBill, periodText } from '../../lib/billing';
import { FROM, TO, dayReadings, touTariff, ZONE } from './billing-fixtures';

const bill = () => meterBill({ tariff: touTariff(), meter: 'M1', meterName: 'Hall <script>alert("x")</script> & Co', from: FROM, to: TO, readings: dayReadings() });

describe('bill output', () => {
  it('writes one CSV row per line and tax after the header, times in the tariff zone', () => {
    const b = bill();
    const rows = billToCsv(b).split('\r\n');
    assert.equal(rows[0], CSV_COLUMNS.join(','));
    assert.equal(rows[0], 'bill,kind,subject,meter,line,charge,category,cycle_from,cycle_to,version,season,period,tier,register,quantity,unit,rate,amount,currency,note');
    assert.equal(rows.length, 6, 'header, 3 lines, 1 tax, and the final CRLF');
    assert.equal(rows[1], 'draft,bill,M1,M1,energy,Energy,energy,2026-01-01T00:00+01:00,2026-02-01T00:00+01:00,2026-01-01,all,peak,,,48,kWh,0.40,19.20,EUR,');
    assert.equal(rows[3], 'draft,bill,M1,M1,fixed,Standing charge,fixed,2026-01-01T00:00+01:00,2026-02-01T00:00+01:00,2026-01-01,,,,,1,day,0.50,0.50,EUR,');
    const vat = b.taxes[0]; // quantity, rate and note as the tariff engine writes them
    assert.equal(rows[4], `draft,bill,M1,M1,tax,VAT,tax,2026-01-01T00:00+01:00,2026-02-01T00:00+01:00,2026-01-01,,,,,${vat.quantity},EUR,${vat.rate},4.20,EUR,${vat.note}`);
    assert.equal(rows[5], '');
  });

  it('quotes CSV fields with commas or quotes and defuses formulas', () => {
    const b = bill();
    b.lines[0] = { ...b.lines[0], charge: 'Energy, "day"', note: '=HYPERLINK("x")' };
    b.lines[1] = { ...b.lines[1], amount: '-2.40' };
    const rows = billToCsv(b).split('\r\n');
    assert.match(rows[1], /,"Energy, ""day""",/);
    assert.match(rows[1], /,"'=HYPERLINK\(""x""\)"$/);
    assert.match(rows[2], /,-2\.40,EUR,$/, 'a negative amount stays a number');
  });

  it('renders a printable, self-contained HTML bill with escaped text', () => {
    const html = billToHtml(bill());
    assert.ok(html.startsWith('<!DOCTYPE html>'));
    assert.ok(!html.includes('<script'), 'no script element, the meter name is escaped');
    assert.ok(html.includes('Hall &lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; Co (M1)'));
    assert.match(html, /@media print/);
    assert.doesNotMatch(html, /<link|src=|https?:/, 'no external resources');
    assert.match(html, /<dt>Tariff<\/dt><dd>Day\/night<\/dd>/);
    assert.match(html, /<dt>Period<\/dt><dd>2026-01-05 – 2026-01-05 \(Europe\/Berlin\)<\/dd>/);
    // readings table: T1 row with opening 600 at local midnight and closing 648 the next midnight
    assert.match(html, /<td>T1<\/td><td>1-0:1\.8\.1<\/td><td>2026-01-05 00:00<\/td><td class="n">600<\/td><td>2026-01-06 00:00<\/td><td class="n">648<\/td><td class="n">48<\/td>/);
    assert.match(html, /<td>Energy<\/td><td>all, peak<\/td><td class="n">48<\/td><td>kWh<\/td><td class="n">0.40<\/td><td class="n">19.20<\/td>/);
    assert.match(html, /<tr class="total"><td>Total<\/td><td class="n">26\.30 EUR<\/td><\/tr>/);
    assert.match(html, /<h1>Bill <span class="draft">\(draft\)<\/span><\/h1>/);
  });

  it('names a period by its local dates, or times when it is not whole days', () => {
    assert.equal(periodText(FROM, TO + 30 * 86_400_000, ZONE), '2026-01-05 – 2026-02-04');
    assert.equal(periodText(FROM + 3_600_000, TO, ZONE), '2026-01-05 01:00 – 2026-01-06 00:00');
  });
});
