/**
 * The one CSV reader and writer of the suite, on csv-parse and csv-stringify (sync APIs).
 * Pure logic at the bottom of the layering: imports nothing from lib/ but may be imported by all.
 *
 * Reading: RFC 4180 quoting (separators, quotes and line breaks inside quoted fields), a UTF-8 BOM,
 * CRLF or LF, the separator (`,` `;` or tab) detected from the header line outside quotes, optional
 * comment lines, blank lines skipped, bounded input (bytes and rows). Every record keeps the line it
 * starts on, so errors name the line, the column and the value (`csvCellError`, `csvNumber`).
 *
 * Writing: RFC 4180 quoting (fields with the separator, a quote, CR or LF are quoted), one line end
 * throughout (CRLF by default), and a guard against spreadsheet formulas: text starting with
 * = + - @ tab or CR gets a leading apostrophe. Numbers (typeof number) and text that is exactly a
 * decimal number (money as "-2.40") are never altered, so negative amounts stay numbers.
 */
import { parse } from 'csv-parse/sync';
import { stringify } from 'csv-stringify/sync';

export type CsvSeparator = ',' | ';' | '\t';
export const CSV_SEPARATORS: readonly CsvSeparator[] = [',', ';', '\t'];

/** Default bounds of readCsv: 32 MiB of text and 250,000 data rows (seven meter-years of 15-minute values). */
export const CSV_MAX_BYTES = 32 * 1024 * 1024;
export const CSV_MAX_ROWS = 250_000;

/** A CSV that cannot be read, or a cell that does not hold what it should; line/column/value when known. */
export class CsvError extends Error {
  line?: number;
  column?: string;
  value?: string;
  constructor(message: string, where: { line?: number; column?: string; value?: string } = {}) {
    super(message);
    this.name = 'CsvError';
    Object.assign(this, where);
  }
}

export interface CsvReadOptions {
  /** `auto` (default): the one of `,` `;` tab that occurs most often in the header line outside quotes (`,` when none does). */
  separator?: 'auto' | CsvSeparator;
  /** Lines starting with this text are skipped (e.g. "#"); off by default. */
  comment?: string;
  /** Largest input in bytes (UTF-8); default CSV_MAX_BYTES (32 MiB). */
  maxBytes?: number;
  /** Most data rows after the header; default CSV_MAX_ROWS (250,000). */
  maxRows?: number;
}

export interface CsvRow {
  /** Line (from 1, as in an editor) on which the record starts. */
  line: number;
  cells: string[];
}

export interface CsvTable {
  separator: CsvSeparator;
  /** The header's cells, trimmed. */
  header: string[];
  /** Line of the header. */
  headerLine: number;
  rows: CsvRow[];
}

const SEPARATOR_NAMES: Record<CsvSeparator, string> = { ',': 'comma', ';': 'semicolon', '\t': 'tab' };

/** A separator option as the editor or the command line gives it: auto, `,` `;` tab (also "comma", "semicolon", "tab", "\t"). */
export function toCsvSeparator(value: unknown, field = 'separator'): 'auto' | CsvSeparator {
  if (value === undefined || value === null || value === '' || value === 'auto') return 'auto';
  const named: Record<string, CsvSeparator> = { ',': ',', comma: ',', ';': ';', semicolon: ';', '\t': '\t', '\\t': '\t', tab: '\t' };
  const s = typeof value === 'string' ? named[value.toLowerCase()] : undefined;
  if (!s) throw new CsvError(`${field} (${JSON.stringify(value)}) must be auto, ",", ";" or tab`);
  return s;
}

const stripBom = (text: string): string => (text.charCodeAt(0) === 0xfeff ? text.slice(1) : text);

/** The separator of the first line that is neither blank nor a comment, counted outside quotes. */
export function detectSeparator(text: string, comment?: string): CsvSeparator {
  const t = stripBom(text);
  let pos = 0;
  while (pos < t.length) {
    const nl = t.indexOf('\n', pos);
    const line = t.slice(pos, nl < 0 ? t.length : nl);
    if (line.trim() !== '' && !(comment && line.startsWith(comment))) break;
    pos = nl < 0 ? t.length : nl + 1;
  }
  const counts: Record<CsvSeparator, number> = { ',': 0, ';': 0, '\t': 0 };
  let quoted = false;
  for (let i = pos; i < t.length; i++) {
    const c = t[i];
    if (c === '"') quoted = !quoted; // a doubled quote toggles twice
    else if (!quoted && (c === '\n' || c === '\r')) break;
    else if (!quoted && (c === ',' || c === ';' || c === '\t')) counts[c]++;
  }
  let best: CsvSeparator = ',';
  for (const s of CSV_SEPARATORS) if (counts[s] > counts[best]) best = s;
  return best;
}

const lineBreaks = (s: string): number => (s.match(/\r\n|\r|\n/g) ?? []).length;

function parseProblem(e: { code?: string; message: string; lines?: number }, separator: CsvSeparator): CsvError {
  const line = typeof e.lines === 'number' ? e.lines : undefined;
  const at = line !== undefined ? `line ${line}: ` : '';
  const text: Record<string, string> = {
    CSV_QUOTE_NOT_CLOSED: 'a quoted field is not closed: the file ends inside quotes (a "..." field needs its closing quote; a quote inside it is written "")',
    CSV_NON_TRIMABLE_CHAR_AFTER_CLOSING_QUOTE: `a quoted field goes on after its closing quote (write a quote inside a quoted field as "", and put the ${SEPARATOR_NAMES[separator]} right after the closing quote)`,
    CSV_INVALID_CLOSING_QUOTE: `a quoted field goes on after its closing quote (write a quote inside a quoted field as "", and put the ${SEPARATOR_NAMES[separator]} right after the closing quote)`,
  };
  return new CsvError(`${at}${text[e.code ?? ''] ?? e.message}`, { line });
}

/**
 * Reads CSV text (or UTF-8 bytes) into a header and rows of trimmed string cells. Blank lines and,
 * with `comment`, comment lines are skipped; rows may have another number of cells than the header
 * (the caller says whether that is an error, see csvCellError). Throws CsvError for an empty input,
 * unreadable quoting or input above the bounds.
 */
export function readCsv(input: string | Uint8Array, options: CsvReadOptions = {}): CsvTable {
  const maxBytes = options.maxBytes ?? CSV_MAX_BYTES;
  const maxRows = options.maxRows ?? CSV_MAX_ROWS;
  // a string longer than maxBytes characters is longer in bytes too: no need to count them
  const lowerBound = typeof input === 'string' && input.length > maxBytes;
  const bytes = typeof input !== 'string' ? input.byteLength : lowerBound ? input.length : Buffer.byteLength(input, 'utf8');
  if (bytes > maxBytes) throw new CsvError(`CSV is too large: ${lowerBound ? 'at least ' : ''}${bytes} bytes, at most ${maxBytes} are read`);
  const text = stripBom(typeof input === 'string' ? input : Buffer.from(input.buffer, input.byteOffset, input.byteLength).toString('utf8'));
  const separator = !options.separator || options.separator === 'auto' ? detectSeparator(text, options.comment) : options.separator;
  let records: { record: string[]; info: { lines: number } }[];
  try {
    records = parse(text, {
      delimiter: separator,
      bom: true,
      info: true,
      trim: true,
      relax_quotes: true,
      relax_column_count: true,
      skip_empty_lines: true,
      skip_records_with_empty_values: true, // a line of only separators (";;;") is blank too
      ...(options.comment ? { comment: options.comment, comment_no_infix: true } : {}),
      to: maxRows + 2, // the header, the allowed rows and one more to know there are too many
    }) as unknown as { record: string[]; info: { lines: number } }[];
  } catch (e) {
    throw parseProblem(e as Error & { code?: string; lines?: number }, separator);
  }
  if (records.length === 0) throw new CsvError('CSV is empty: expected a header line');
  if (records.length > maxRows + 1) throw new CsvError(`CSV has too many rows: more than ${maxRows} after the header (at most ${maxRows} are read)`);
  // csv-parse's info.lines is the line a record ends on, but it counts a CRLF inside quotes as two
  // lines: take those back (for this record and every later one), then the record's own line breaks.
  let drift = 0;
  const rows = records.map(({ record, info }) => {
    let breaks = 0;
    for (const cell of record) {
      if (!cell.includes('\n') && !cell.includes('\r')) continue; // the common case: no line break to count
      drift += (cell.match(/\r\n/g) ?? []).length;
      breaks += lineBreaks(cell);
    }
    return { line: info.lines - drift - breaks, cells: record };
  });
  const [head, ...data] = rows;
  return { separator, header: head.cells, headerLine: head.line, rows: data };
}

const show = (v: string): string => JSON.stringify(v);

/** "line 4, column 3 (quantity): <problem>, got "x"", as a CsvError carrying line, column and value. */
export function csvCellError(line: number, columnIndex: number, column: string, problem: string, value?: string): CsvError {
  const got = value === undefined ? '' : `, got ${show(value)}`;
  return new CsvError(`line ${line}, column ${columnIndex + 1} (${column}): ${problem}${got}`, { line, column, value });
}

const POINT_NUMBER = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;
const COMMA_NUMBER = /^[+-]?(\d{1,3}(([.\u00a0\u202f ])\d{3})(\3\d{3})*|\d+)(,\d+)?([eE][+-]?\d+)?$/;

/**
 * A number from CSV text: `1234.56` / `-0.5` / `1e3`, or with `decimalComma` as European
 * spreadsheets write it, `1.234,56` / `0,1234` / `-12,5` (a dot, space or no-break space only as a
 * thousands separator in groups of three). Undefined when the text is not such a number.
 */
export function parseCsvNumber(text: string, options: { decimalComma?: boolean } = {}): number | undefined {
  const t = text.trim();
  let n: number;
  if (options.decimalComma) {
    const m = COMMA_NUMBER.exec(t);
    if (!m) return undefined;
    n = Number(t.replace(/[.\u00a0\u202f ]/g, '').replace(',', '.'));
  } else {
    if (!POINT_NUMBER.test(t)) return undefined;
    n = Number(t);
  }
  return Number.isFinite(n) ? n : undefined;
}

/** parseCsvNumber of a cell, or a CsvError naming line, column and value (with a hint about the decimal comma). */
export function csvNumber(text: string, where: { line: number; columnIndex: number; column: string }, options: { decimalComma?: boolean } = {}): number {
  const n = parseCsvNumber(text, options);
  if (n !== undefined) return n;
  const problem = options.decimalComma
    ? 'expected a number with a decimal comma such as 1.234,56 or 0,5 (decimalComma is on)'
    : /^[+-]?[\d.]*\d,\d+$/.test(text.trim())
      ? 'expected a number such as 1234.56 (for a decimal comma as in 0,5 turn decimalComma on)'
      : 'expected a number';
  throw csvCellError(where.line, where.columnIndex, where.column, problem, text);
}

/** A cell value to write: text, a number, a boolean, or nothing (null/undefined, an empty cell). */
export type CsvValue = string | number | bigint | boolean | null | undefined;

export interface CsvWriteOptions {
  /** Default ",". */
  separator?: CsvSeparator;
  /** Line end after every row, the last too; default "\r\n" (RFC 4180). */
  eol?: '\r\n' | '\n';
}

const FORMULA_START = /^[=+\-@\t\r]/;

/** Text for a spreadsheet cell: a leading apostrophe when it starts with = + - @ tab or CR and is not just a decimal number. */
export function guardFormula(text: string): string {
  return FORMULA_START.test(text) && !POINT_NUMBER.test(text) ? `'${text}` : text;
}

/** CSV text of a header and rows (arrays in header order, or objects keyed by the header's names). */
export function writeCsv(header: readonly string[], rows: readonly (readonly CsvValue[] | Readonly<Record<string, CsvValue>>)[], options: CsvWriteOptions = {}): string {
  const records: CsvValue[][] = [header.slice(), ...rows.map((r) => (Array.isArray(r) ? (r as CsvValue[]) : header.map((h) => (r as Record<string, CsvValue>)[h])))];
  return stringify(records, {
    delimiter: options.separator ?? ',',
    record_delimiter: options.eol ?? '\r\n',
    quoted_match: /[\r\n]/, // csv-stringify quotes the separator and quotes by itself, line breaks only when told
    cast: {
      string: guardFormula,
      boolean: (b: boolean) => (b ? 'true' : 'false'),
      bigint: (n: bigint) => n.toString(),
      number: (n: number) => String(n),
    },
  });
}
