/**
 * Interval consumption from CSV: header `start,end,quantity,unit[,obis][,meter][,energyType]` (any
 * column order, names case-insensitive). Times: ISO 8601 with offset or Z, or local
 * "YYYY-MM-DD HH:MM[:SS]" (also with "T") read in the given zone. Errors name the row and column.
 */
import { fromLocal } from '../model/time';
import { ENERGY_TYPES, type ConsumptionInterval, type EnergyType } from './types';

export class CsvError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CsvError';
  }
}

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

function splitRow(line: string): string[] {
  return line.split(',').map((c) => c.trim().replace(/^"(.*)"$/, '$1'));
}

/** Parses the CSV text; rows are numbered from 1 = the header line, as in an editor. */
export function parseIntervalsCsv(text: string, timeZone: string): ConsumptionInterval[] {
  return parseIntervalsCsvRows(text, timeZone).intervals;
}

/** As parseIntervalsCsv, with the row number of each interval (for messages about interval i). */
export function parseIntervalsCsvRows(text: string, timeZone: string): { intervals: ConsumptionInterval[]; rows: number[] } {
  const lines = text.split(/\r?\n/);
  const headerRow = lines.findIndex((l) => l.trim() !== '' && !l.trim().startsWith('#'));
  if (headerRow < 0) throw new CsvError('CSV is empty: expected a header start,end,quantity,unit[,obis][,meter][,energyType]');
  const header = splitRow(lines[headerRow]).map((h) => h.toLowerCase());
  for (const h of REQUIRED) if (!header.includes(h)) throw new CsvError(`row ${headerRow + 1}: header lacks column "${h}" (expected start,end,quantity,unit[,obis][,meter][,energyType])`);
  header.forEach((h, i) => {
    if (!(REQUIRED as readonly string[]).includes(h) && !(OPTIONAL as readonly string[]).includes(h)) throw new CsvError(`row ${headerRow + 1}, column ${i + 1}: unknown column "${h}"`);
  });
  const col = (name: string) => header.indexOf(name);
  const out: ConsumptionInterval[] = [];
  const rows: number[] = [];
  for (let r = headerRow + 1; r < lines.length; r++) {
    const line = lines[r];
    if (line.trim() === '' || line.trim().startsWith('#')) continue;
    const cells = splitRow(line);
    const where = (name: string) => `row ${r + 1}, column ${col(name) + 1} (${name})`;
    if (cells.length !== header.length) throw new CsvError(`row ${r + 1}: expected ${header.length} columns, got ${cells.length}`);
    const time = (name: string) => {
      const t = parseTime(cells[col(name)], timeZone);
      if (t === undefined) throw new CsvError(`${where(name)}: expected an ISO time with offset or "YYYY-MM-DD HH:MM[:SS]", got ${JSON.stringify(cells[col(name)])}`);
      return t;
    };
    const start = time('start');
    const end = time('end');
    if (end <= start) throw new CsvError(`${where('end')}: end must be after start, got ${JSON.stringify(cells[col('end')])}`);
    const qText = cells[col('quantity')];
    const quantity = Number(qText);
    if (qText === '' || !/^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(qText) || !Number.isFinite(quantity)) throw new CsvError(`${where('quantity')}: expected a number, got ${JSON.stringify(qText)}`);
    const unit = cells[col('unit')];
    if (!unit) throw new CsvError(`${where('unit')}: expected a unit such as kWh, got ""`);
    const iv: ConsumptionInterval = { start, end, quantity, unit };
    if (col('obis') >= 0 && cells[col('obis')]) iv.obis = cells[col('obis')];
    if (col('meter') >= 0 && cells[col('meter')]) iv.meter = cells[col('meter')];
    if (col('energytype') >= 0 && cells[col('energytype')]) {
      const et = cells[col('energytype')];
      if (!ENERGY_TYPES.includes(et as EnergyType)) throw new CsvError(`${where('energytype')}: expected one of ${ENERGY_TYPES.join(', ')}, got ${JSON.stringify(et)}`);
      iv.energyType = et as EnergyType;
    }
    out.push(iv);
    rows.push(r + 1);
  }
  return { intervals: out, rows };
}
