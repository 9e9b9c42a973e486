import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import path from 'node:path';

const root = path.resolve(__dirname, '../../..');
const bin = path.join(root, 'dist/bin/ems-tariff.js');
const fixture = (name: string) => path.join(root, 'test/fixtures/tariff', name);
const run = (args: string[], input?: string) => spawnSync(process.execPath, [bin, ...args], { input, encoding: 'utf8' });

describe('ems-tariff CLI', () => {
  it('prices a CSV as JSON', () => {
    const r = run(['price', '--tariff', fixture('flat-vat.json'), '--csv', fixture('two-rows.csv'), '--format', 'json']);
    assert.equal(r.status, 0, r.stderr);
    const result = JSON.parse(r.stdout);
    // 10 kWh + 6000 Wh = 16 kWh x 0.25 = 4.00; VAT 19% = 0.76; total 4.76
    assert.equal(result.lines[0].quantity, '16');
    assert.equal(result.lines[0].amount, '4.00');
    assert.equal(result.taxes[0].amount, '0.76');
    assert.equal(result.total, '4.76');
    assert.equal(result.from, Date.parse('2026-04-07T00:00:00+02:00'));
  });

  it('prints a table from stdin with subtotal and total', () => {
    const csv = 'start,end,quantity,unit\n2026-04-07 00:00,2026-04-07 01:00,4,kWh\n';
    const r = run(['price', '--tariff', fixture('flat-vat.json')], csv);
    assert.equal(r.status, 0, r.stderr);
    // 4 x 0.25 = 1.00; VAT 0.19; total 1.19
    assert.match(r.stdout, /^energy\s+Energy\s+2026-04-01\.\.2026-05-01\s+4 kWh\s+0\.25\s+1\.00$/m);
    assert.match(r.stdout, /^subtotal\s+1\.00$/m);
    assert.match(r.stdout, /^tax\s+VAT .*1\.00 EUR\s+0\.19\s+0\.19  19% of all lines$/m);
    assert.match(r.stdout, /^total\s+1\.19$/m);
  });

  it('limits pricing to --from/--to given in local time', () => {
    const r = run(['price', '--tariff', fixture('flat-vat.json'), '--csv', fixture('two-rows.csv'), '--from', '2026-04-07 01:00', '--to', '2026-04-07 02:00', '--format', 'json']);
    assert.equal(r.status, 0, r.stderr);
    // only the second row: 6 kWh x 0.25 = 1.50
    assert.equal(JSON.parse(r.stdout).lines[0].amount, '1.50');
  });

  it('prices a European spreadsheet export with --decimal-comma (separator detected)', () => {
    const r = run(['price', '--tariff', fixture('flat-vat.json'), '--csv', fixture('excel-semicolon-decimal-comma.csv'), '--decimal-comma', '--format', 'json']);
    assert.equal(r.status, 0, r.stderr);
    // 1.500,0 Wh + 2,5 kWh = 4 kWh x 0.25 = 1.00; VAT 0.19; total 1.19
    const result = JSON.parse(r.stdout);
    assert.equal(result.lines[0].quantity, '4');
    assert.equal(result.total, '1.19');
    const without = run(['price', '--tariff', fixture('flat-vat.json'), '--csv', fixture('excel-semicolon-decimal-comma.csv')]);
    assert.equal(without.status, 2);
    assert.match(without.stderr, /excel-semicolon-decimal-comma\.csv: line 2, column 3 \(quantity\): expected a number such as 1234\.56 \(for a decimal comma as in 0,5 turn decimalComma on\), got "1\.500,0"/);
    const quoted = run(['price', '--tariff', fixture('flat-vat.json'), '--csv', fixture('quoted.csv'), '--format', 'json']);
    assert.equal(quoted.status, 0, quoted.stderr);
    assert.equal(JSON.parse(quoted.stdout).total, '4.76');
  });

  it('exits 2 naming the CSV line, column and value or the option', () => {
    const bad = run(['price', '--tariff', fixture('flat-vat.json')], 'start,end,quantity,unit\n2026-04-07 00:00,2026-04-07 01:00,four,kWh\n');
    assert.equal(bad.status, 2);
    assert.match(bad.stderr, /line 2, column 3 \(quantity\): expected a number, got "four"/);
    const many = run(['price', '--tariff', fixture('flat-vat.json'), '--csv', fixture('two-rows.csv'), '--max-rows', '1']);
    assert.equal(many.status, 2);
    assert.match(many.stderr, /two-rows\.csv: CSV has too many rows: more than 1 after the header/);
    const sep = run(['price', '--tariff', fixture('flat-vat.json'), '--separator', '|'], '');
    assert.equal(sep.status, 2);
    assert.match(sep.stderr, /--separator \("\|"\) must be auto, ",", ";" or tab/);
    const option = run(['price', '--tariff', fixture('flat-vat.json'), '--format', 'xml'], '');
    assert.equal(option.status, 2);
    assert.match(option.stderr, /--format must be json or table, got "xml"/);
    const unknown = run(['price', '--bogus']);
    assert.equal(unknown.status, 2);
    assert.match(unknown.stderr, /--bogus/);
    const missing = run(['price', '--csv', '-'], '');
    assert.equal(missing.status, 2);
    assert.match(missing.stderr, /--tariff FILE is required/);
  });

  it('exits 1 naming the line an unpriceable interval came from', () => {
    const r = run(['price', '--tariff', fixture('flat-vat.json')], 'start,end,quantity,unit\n2025-04-07 00:00,2025-04-07 01:00,4,kWh\n');
    assert.equal(r.status, 1);
    assert.match(r.stderr, /line 2 .*no tariff version is valid/);
  });

  it('check prints a summary of a valid tariff and the problems of an invalid one', () => {
    const ok = run(['check', fixture('flat-vat.json')]);
    assert.equal(ok.status, 0, ok.stderr);
    assert.match(ok.stdout, /valid/);
    assert.match(ok.stdout, /0\.25/);
    const bad = run(['check', fixture('bad-band.json')]);
    assert.equal(bad.status, 1);
    assert.match(bad.stderr, /versions\[0\]\.energy\[0\]\.seasons\[0\]\.schedule\.weekday\[1\]\.from: gap: nothing covers 08:00-09:00, got "09:00"/);
  });
});
