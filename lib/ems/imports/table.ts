/**
 * A file of readings as a table: CSV (lib/csv: BOM, `,` `;` or tab detected, quoting, CRLF) or XLSX
 * (read-excel-file, one sheet). Cells stay as given (text; numbers and Dates from XLSX); the columns
 * are mapped by ./readings.ts. Bounded: the file's bytes, the rows, and an XLSX's unzipped size: the
 * sizes the zip's central directory declares, then the real size of every entry, each inflated once
 * with a cap on its output before the library unzips it (declared sizes can lie).
 */
import zlib from 'node:zlib';
import { CsvError, readCsv, type CsvSeparator } from '../../csv';
import { ApiError } from '../envelope';

/** The largest file an import takes (the http guard refuses larger uploads before reading them). */
export const MAX_IMPORT_BYTES = 10 * 1024 * 1024;
/** The most data rows one file may hold (after the header). */
export const MAX_IMPORT_ROWS = 100_000;
/** The largest total an XLSX's parts may unzip to. */
export const MAX_XLSX_UNZIPPED = 200 * 1024 * 1024;

export type FileFormat = 'csv' | 'xlsx';

export interface TableRow {
  /** Line (CSV) or spreadsheet row number (XLSX), from 1 as the user sees it. */
  line: number;
  cells: unknown[];
}

export interface Table {
  format: FileFormat;
  /** CSV: the separator found; decimal comma numbers are read when it is ";". */
  separator?: CsvSeparator;
  /** XLSX: the sheet read. */
  sheet?: string;
  header: string[];
  rows: TableRow[];
}

const ZIP_LOCAL = 0x04034b50;
const ZIP_END = 0x06054b50;
const ZIP_CENTRAL = 0x02014b50;

/** True for a zip archive (an XLSX is one). */
export function isZip(bytes: Buffer): boolean {
  return bytes.length >= 4 && bytes.readUInt32LE(0) === ZIP_LOCAL;
}

/**
 * The sum of the uncompressed sizes a zip's central directory declares, or a 400 when it cannot be
 * found. (A zip bomb declares its size here; read-excel-file inflates what the directory lists.)
 */
export function zipUnzippedSize(bytes: Buffer): number {
  let end = -1;
  for (let i = bytes.length - 22; i >= Math.max(0, bytes.length - 22 - 0xffff); i--) {
    if (bytes.readUInt32LE(i) === ZIP_END) { end = i; break; }
  }
  if (end < 0) throw new ApiError(400, 'file: not a readable XLSX (the zip has no end of central directory)');
  const entries = bytes.readUInt16LE(end + 10);
  let pos = bytes.readUInt32LE(end + 16);
  let total = 0;
  for (let i = 0; i < entries; i++) {
    if (pos + 46 > bytes.length || bytes.readUInt32LE(pos) !== ZIP_CENTRAL) throw new ApiError(400, 'file: not a readable XLSX (a broken zip directory)');
    const size = bytes.readUInt32LE(pos + 24);
    total += size === 0xffffffff ? Number.MAX_SAFE_INTEGER : size; // zip64: far too big for an import anyway
    pos += 46 + bytes.readUInt16LE(pos + 28) + bytes.readUInt16LE(pos + 30) + bytes.readUInt16LE(pos + 32);
  }
  return total;
}

/**
 * Inflates every local entry of the zip in order, as a streaming unzipper reads them, stopping with a 400
 * as soon as their output together passes `limit` bytes: a zip bomb whose directory understates its sizes is
 * refused after at most `limit` bytes of work. Answers the real unzipped size.
 */
export function checkZipInflation(bytes: Buffer, limit = MAX_XLSX_UNZIPPED): number {
  const bad = (why: string) => new ApiError(400, `file: not a readable XLSX (${why})`);
  let pos = 0;
  let total = 0;
  while (pos + 30 <= bytes.length && bytes.readUInt32LE(pos) === ZIP_LOCAL) {
    const flags = bytes.readUInt16LE(pos + 6);
    const method = bytes.readUInt16LE(pos + 8);
    const compressed = bytes.readUInt32LE(pos + 18);
    const data = pos + 30 + bytes.readUInt16LE(pos + 26) + bytes.readUInt16LE(pos + 28);
    const sized = (flags & 0x08) === 0; // else the sizes follow the data (a data descriptor)
    if (data > bytes.length || (sized && data + compressed > bytes.length)) throw bad('a zip entry runs past the end');
    let used: number;
    if (method === 0) {
      if (!sized) throw bad('a stored zip entry without its size');
      total += compressed;
      used = compressed;
    } else if (method === 8) {
      let out: { buffer: Buffer; engine: { bytesWritten: number } } | undefined;
      try {
        out = zlib.inflateRawSync(sized ? bytes.subarray(data, data + compressed) : bytes.subarray(data), { info: true, maxOutputLength: Math.max(1, limit - total + 1) }) as unknown as { buffer: Buffer; engine: { bytesWritten: number } };
      } catch (err) {
        if ((err as { code?: string }).code === 'ERR_BUFFER_TOO_LARGE') total = limit + 1;
        else throw bad(`a zip entry does not inflate: ${(err as Error).message}`);
      }
      if (out) {
        total += out.buffer.length;
        used = sized ? compressed : out.engine.bytesWritten;
      } else used = 0;
    } else throw bad(`zip compression method ${method}`);
    if (total > limit) throw new ApiError(400, `file: the XLSX unzips to more than ${limit} bytes (refused while unzipping)`);
    pos = data + used;
    if (!sized) pos += bytes.length >= pos + 4 && bytes.readUInt32LE(pos) === 0x08074b50 ? 16 : 12;
  }
  return total;
}

function headerOf(cells: unknown[]): string[] {
  return cells.map((c) => (c === null || c === undefined ? '' : String(c).trim()));
}

function readCsvTable(bytes: Buffer): Table {
  try {
    const t = readCsv(bytes, { maxBytes: MAX_IMPORT_BYTES, maxRows: MAX_IMPORT_ROWS });
    return { format: 'csv', separator: t.separator, header: t.header, rows: t.rows.map((r) => ({ line: r.line, cells: r.cells })) };
  } catch (err) {
    if (err instanceof CsvError) throw new ApiError(400, `file: ${err.message}`);
    throw err;
  }
}

type ReadSheet = (input: Buffer, sheet?: string | number) => Promise<unknown[][]>;

async function readXlsxTable(bytes: Buffer, sheet?: string): Promise<Table> {
  const unzipped = zipUnzippedSize(bytes);
  if (unzipped > MAX_XLSX_UNZIPPED) throw new ApiError(400, `file: the XLSX unzips to ${unzipped} bytes, more than ${MAX_XLSX_UNZIPPED} (refused before unzipping)`);
  checkZipInflation(bytes);
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const xlsx = require('read-excel-file/node') as { default: (input: Buffer) => Promise<{ sheet: string; data: unknown[][] }[]>; readSheet: ReadSheet };
  let sheets: { sheet: string; data: unknown[][] }[];
  try {
    sheets = await xlsx.default(bytes);
  } catch (err) {
    throw new ApiError(400, `file: not a readable XLSX (${(err as Error).message})`);
  }
  if (sheets.length === 0) throw new ApiError(400, 'file: the XLSX has no sheet');
  const chosen = sheet === undefined ? sheets[0] : sheets.find((s) => s.sheet === sheet);
  if (!chosen) throw new ApiError(400, `sheet ${JSON.stringify(sheet)} is not in the file (its sheets: ${sheets.map((s) => JSON.stringify(s.sheet)).join(', ')})`);
  // read-excel-file drops rows and columns that are empty at the start and end; row numbers below count
  // from the first row it returns, which is the header row: a leading empty row would shift them.
  const rows = chosen.data
    .map((cells, i) => ({ line: i + 1, cells: cells.map((c) => (typeof c === 'string' ? c.trim() : c)) }))
    .filter((r) => r.cells.some((c) => c !== null && c !== undefined && c !== ''));
  if (rows.length === 0) throw new ApiError(400, `file: sheet ${JSON.stringify(chosen.sheet)} is empty: expected a header row`);
  if (rows.length - 1 > MAX_IMPORT_ROWS) throw new ApiError(400, `file: sheet ${JSON.stringify(chosen.sheet)} has ${rows.length - 1} rows, more than ${MAX_IMPORT_ROWS} (the most one import takes)`);
  const [head, ...data] = rows;
  return { format: 'xlsx', sheet: chosen.sheet, header: headerOf(head.cells), rows: data };
}

/** The table of an uploaded file: XLSX when the bytes are a zip, else CSV (UTF-8). `sheet` picks an XLSX sheet by name. */
export async function readTable(bytes: Buffer, sheet?: string): Promise<Table> {
  if (bytes.length === 0) throw new ApiError(400, 'file is empty');
  if (bytes.length > MAX_IMPORT_BYTES) throw new ApiError(413, `file is ${bytes.length} bytes, more than ${MAX_IMPORT_BYTES} (the largest import)`);
  if (isZip(bytes)) return readXlsxTable(bytes, sheet);
  if (sheet !== undefined) throw new ApiError(400, `sheet ${JSON.stringify(sheet)} applies to XLSX files only; this file is CSV`);
  return readCsvTable(bytes);
}
