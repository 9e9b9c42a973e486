/**
 * Interval consumption from CSV: header `start,end,quantity,unit[,obis][,meter][,energyType]` (any
 * column order, names case-insensitive). Times: ISO 8601 with offset or Z, or local
 * "YYYY-MM-DD HH:MM[:SS]" (also with "T") read in the given zone. Read by lib/csv: standard quoting,
 * a BOM, `,` `;` or tab separators (detected from the header), `#` comment lines, optional decimal
 * comma in quantities, bounded size. Errors name the line, the column and the value.
 */
import { CsvError, csvCellError, csvNumber, readCsv, type CsvReadOptions, type CsvSeparator } from '../csv';
import { fromLocal } from '../model/time';
import { ENERGY_TYPES, type ConsumptionInterval, type EnergyType } from './types';

export { CsvError };

const sepName = (s: CsvSeparator): string => (s === '\t' ? 'tabs' : `"${s}"`);

const REQUIRED = ['start', 'end', 'quantity', 'unit'] as const;
const OPTIONAL = ['obis', 'meter', 'energytype'] as const;
const ZONED = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2}(?:\.\d{1,3})?)?(?:Z|[+-]\d{2}:?\d{2})$/;
const LOCAL = /^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2})(?::(\d{2}))?$/;

/** Epoch ms of an ISO time with offset, or of a local wall time in `timeZone`; undefined when not a time. */
export function parseTime(text: string, timeZone: string): number | undefined {
  const t = text.trim();
  if (ZONED.test(t)) {
    const ms = Date.parse(t);
    return Number.isFinite(ms) ? ms : undefined;
  }
  const m = LOCAL.exec(t);
  if (!m) return undefined;
  const [year, month, day, hour, minute, second] = m.slice(1).map((x) => Number(x ?? 0));
  const check = new Date(Date.UTC(year, month - 1, day, hour, minute, second));
  if (check.getUTCMonth() !== month - 1 || check.getUTCDate() !== day || hour > 23 || minute > 59 || second > 59) return undefined;
  return fromLocal({ year, month, day, hour, minute, second, millisecond: 0 }, timeZone);
}

export interface IntervalsCsvOptions extends Pick<CsvReadOptions, 'separator' | 'maxBytes' | 'maxRows'> {
  /** Quantities written with a decimal comma (`1.234,56`, `0,5`), as European spreadsheets save them. */
  decimalComma?: boolean;
}

const HEADER_HINT = 'start,end,quantity,unit[,obis][,meter][,energyType]';

/** Parses the CSV text; errors name the line (from 1 = the first line, as in an editor), column and value. */
export function parseIntervalsCsv(text: string | Uint8Array, timeZone: string, options: IntervalsCsvOptions = {}): ConsumptionInterval[] {
  return parseIntervalsCsvRows(text, timeZone, options).intervals;
}

/** As parseIntervalsCsv, with the line each interval starts on (for messages about interval i). */
export function parseIntervalsCsvRows(text: string | Uint8Array, timeZone: string, options: IntervalsCsvOptions = {}): { intervals: ConsumptionInterval[]; rows: number[] } {
  let table;
  try {
    table = readCsv(text, { separator: options.separator, maxBytes: options.maxBytes, maxRows: options.maxRows, comment: '#' });
  } catch (e) {
    if (e instanceof CsvError && /^CSV is empty/.test(e.message)) throw new CsvError(`CSV is empty: expected a header ${HEADER_HINT}`);
    throw e;
  }
  const { header: names, headerLine } = table;
  const header = names.map((h) => h.toLowerCase());
  for (const h of REQUIRED) {
    if (!header.includes(h)) throw new CsvError(`line ${headerLine}: header lacks column "${h}" (expected ${HEADER_HINT}, separated by ${sepName(table.separator)}), got ${JSON.stringify(names.join(table.separator))}`, { line: headerLine });
  }
  header.forEach((h, i) => {
    if (!(REQUIRED as readonly string[]).includes(h) && !(OPTIONAL as readonly string[]).includes(h)) throw csvCellError(headerLine, i, names[i], `unknown column (expected ${HEADER_HINT})`);
  });
  const col = (name: string) => header.indexOf(name);
  const out: ConsumptionInterval[] = [];
  const rows: number[] = [];
  for (const { line, cells } of table.rows) {
    if (cells.length !== header.length) throw new CsvError(`line ${line}: expected ${header.length} columns separated by ${sepName(table.separator)}, got ${cells.length}`, { line });
    const cell = (name: string) => cells[col(name)];
    const fail = (name: string, problem: string) => csvCellError(line, col(name), names[col(name)], problem, cell(name));
    const time = (name: string) => {
      const t = parseTime(cell(name), timeZone);
      if (t === undefined) throw fail(name, 'expected an ISO time with offset or "YYYY-MM-DD HH:MM[:SS]"');
      return t;
    };
    const start = time('start');
    const end = time('end');
    if (end <= start) throw fail('end', 'end must be after start');
    const quantity = csvNumber(cell('quantity'), { line, columnIndex: col('quantity'), column: names[col('quantity')] }, { decimalComma: options.decimalComma });
    const unit = cell('unit');
    if (!unit) throw fail('unit', 'expected a unit such as kWh');
    const iv: ConsumptionInterval = { start, end, quantity, unit };
    if (col('obis') >= 0 && cell('obis')) iv.obis = cell('obis');
    if (col('meter') >= 0 && cell('meter')) iv.meter = cell('meter');
    if (col('energytype') >= 0 && cell('energytype')) {
      const et = cell('energytype');
      if (!ENERGY_TYPES.includes(et as EnergyType)) throw fail('energytype', `expected one of ${ENERGY_TYPES.join(', ')}`);
      iv.energyType = et as EnergyType;
    }
    out.push(iv);
    rows.push(line);
  }
  return { intervals: out, rows };
}
