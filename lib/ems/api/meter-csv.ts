/**
 * Meters from a CSV table (POST /api/meters/bulk with { "csv": "..." }): a header of meter fields
 * (_id, folder_id, name, protocol, port, ...), one meter per row; an empty cell leaves the field out.
 * Cells stay text: the meter checks read "502" as a number as they do for the data dictionary.
 */
import { CsvError, readCsv } from '../../csv';
import { ApiError } from '../envelope';
import { METER_FIELDS } from '../meter-definition';

/** The most bytes of CSV one request may carry (the API's JSON body limit is 1 MiB). */
export const MAX_METER_CSV_BYTES = 1024 * 1024;

const COLUMNS: readonly string[] = ['_id', 'folder_id', ...METER_FIELDS];

/** The meter bodies of a CSV table, with the line each row starts on; 400 naming the column or the line when it is not one. */
export function metersFromCsv(text: unknown, maxRows: number): { body: Record<string, unknown>; line: number }[] {
  if (typeof text !== 'string' || text.trim() === '') throw new ApiError(400, 'csv must be the text of a CSV table: a header of meter fields, then one meter per row');
  let table;
  try {
    table = readCsv(text, { maxBytes: MAX_METER_CSV_BYTES, maxRows });
  } catch (err) {
    if (err instanceof CsvError) throw new ApiError(400, `csv: ${err.message}`);
    throw err;
  }
  table.header.forEach((name, i) => {
    if (!COLUMNS.includes(name)) throw new ApiError(400, `csv: column ${i + 1} ${JSON.stringify(name)} is not a meter field (use ${COLUMNS.join(', ')})`);
    if (table.header.indexOf(name) !== i) throw new ApiError(400, `csv: column ${JSON.stringify(name)} appears twice`);
  });
  if (table.rows.length === 0) throw new ApiError(400, 'csv has a header but no meter rows');
  return table.rows.map((row) => {
    if (row.cells.length > table.header.length) throw new ApiError(400, `csv line ${row.line}: ${row.cells.length} cells, the header has ${table.header.length} columns`);
    const body: Record<string, unknown> = {};
    row.cells.forEach((cell, i) => { if (cell.trim() !== '') body[table.header[i]] = cell.trim(); });
    return { body, line: row.line };
  });
}
