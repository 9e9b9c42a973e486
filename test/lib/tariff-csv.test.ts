import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { parseIntervalsCsv, parseIntervalsCsvRows, parseTime } from '../../lib/tariff';

const fixture = (name: string) => fs.readFileSync(path.resolve(__dirname, '../../../test/fixtures/tariff', name));
const Z = 'Europe/Berlin';

describe('tariff CSV', () => {
  it('reads ISO times with offsets and local times in the tariff zone', () => {
    assert.equal(parseTime('2026-03-02T08:00:00Z', 'Europe/Berlin'), Date.UTC(2026, 2, 2, 8));
    assert.equal(parseTime('2026-03-02T08:00+01:00', 'Europe/Berlin'), Date.UTC(2026, 2, 2, 7));
    // local 08:00 in Berlin winter (+01:00) = 07:00 UTC; in New York (-05:00) = 13:00 UTC
    assert.equal(parseTime('2026-03-02 08:00', 'Europe/Berlin'), Date.UTC(2026, 2, 2, 7));
    assert.equal(parseTime('2026-03-02 08:00:30', 'America/New_York'), Date.UTC(2026, 2, 2, 13, 0, 30));
    assert.equal(parseTime('2026-02-30 08:00', 'Europe/Berlin'), undefined);
    assert.equal(parseTime('08:00', 'Europe/Berlin'), undefined);
  });

  it('parses rows with optional columns in any order', () => {
    const rows = parseIntervalsCsv('# export\nunit,quantity,start,end,energyType,meter\nm3,1.5,2026-03-02 08:00,2026-03-02 09:00,water,w1\n\n', 'Europe/Berlin');
    assert.deepEqual(rows, [{ start: Date.UTC(2026, 2, 2, 7), end: Date.UTC(2026, 2, 2, 8), quantity: 1.5, unit: 'm3', energyType: 'water', meter: 'w1' }]);
  });

  it('reads quoted fields such as "Flat 3, north" and quoted numbers and times', () => {
    const { intervals, rows } = parseIntervalsCsvRows(fixture('quoted.csv'), Z);
    assert.deepEqual(intervals, [
      { start: Date.UTC(2026, 3, 6, 22), end: Date.UTC(2026, 3, 6, 23), quantity: 10, unit: 'kWh', meter: 'Flat 3, north' },
      { start: Date.UTC(2026, 3, 6, 23), end: Date.UTC(2026, 3, 7, 0), quantity: 6000, unit: 'Wh', meter: 'Flat 3, north' },
    ]);
    assert.deepEqual(rows, [3, 4], 'lines in the file, after the comment and the header');
  });

  it('reads a European spreadsheet export: BOM, semicolons, CRLF, decimal commas', () => {
    const rows = parseIntervalsCsv(fixture('excel-semicolon-decimal-comma.csv'), Z, { decimalComma: true });
    assert.deepEqual(rows.map((r) => [r.quantity, r.unit, r.meter]), [[1500, 'Wh', 'Wohnung 3, Nord'], [2.5, 'kWh', 'Wohnung 3, Nord']]);
    assert.throws(() => parseIntervalsCsv(fixture('excel-semicolon-decimal-comma.csv'), Z),
      /^CsvError: line 2, column 3 \(quantity\): expected a number such as 1234\.56 \(for a decimal comma as in 0,5 turn decimalComma on\), got "1\.500,0"$/);
    assert.throws(() => parseIntervalsCsv(fixture('excel-semicolon-decimal-comma.csv'), Z, { separator: ',' }),
      /^CsvError: line 1: header lacks column "start" .*separated by ","\), got "start;end;quantity;unit;meter"$/);
  });

  it('names the line, column and value of bad input', () => {
    const z = Z;
    assert.throws(() => parseIntervalsCsv('start,end,quantity\n', z), /line 1: header lacks column "unit"/);
    assert.throws(() => parseIntervalsCsv('start,end,quantity,unit,colour\n', z), /line 1, column 5 \(colour\): unknown column/);
    assert.throws(() => parseIntervalsCsv('start,end,quantity,unit\n2026-03-02 08:00,2026-03-02 09:00,1\n', z), /line 2: expected 4 columns separated by ",", got 3/);
    assert.throws(() => parseIntervalsCsv('start,end,quantity,unit\n2026-03-02 09:00,2026-03-02 08:00,1,kWh\n', z), /line 2, column 2 \(end\): end must be after start, got "2026-03-02 08:00"/);
    assert.throws(() => parseIntervalsCsv('start,end,quantity,unit,energyType\n2026-03-02 08:00,2026-03-02 09:00,1,kWh,steam\n', z), /line 2, column 5 \(energyType\): expected one of .* got "steam"/);
    // a quoted line break before: the bad record starts on line 4, not record 3
    const multi = 'start,end,quantity,unit,meter\n2026-03-02 08:00,2026-03-02 09:00,1,kWh,"Flat 3\nnorth"\n2026-03-02 09:00,2026-03-02 10:00,1.2.3,kWh,m1\n';
    assert.throws(() => parseIntervalsCsv(multi, z), (e: any) => {
      assert.equal(e.message, 'line 4, column 3 (quantity): expected a number, got "1.2.3"');
      assert.deepEqual([e.line, e.column, e.value], [4, 'quantity', '1.2.3']);
      return true;
    });
  });

  it('refuses a CSV above the row bound', () => {
    const csv = 'start,end,quantity,unit\n' + Array.from({ length: 11 }, (_, h) => `2026-03-02 ${String(h).padStart(2, '0')}:00,2026-03-02 ${String(h + 1).padStart(2, '0')}:00,1,kWh`).join('\n');
    assert.equal(parseIntervalsCsv(csv, Z, { maxRows: 11 }).length, 11);
    assert.throws(() => parseIntervalsCsv(csv, Z, { maxRows: 10 }), /CSV has too many rows: more than 10 after the header/);
  });
});
