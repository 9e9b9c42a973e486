/**
 * The readings of an import table: its header mapped to the columns meter, time, obis, value, unit
 * (with aliases), each row checked by the same check as posted readings (../manual-readings), every
 * bad row named by its line, column and value. Pure: no store, no database.
 */
import type { Reading } from '../../model/reading';
import { fromLocal, type LocalTime } from '../../model/time';
import { parseCsvNumber } from '../../csv';
import { ApiError } from '../envelope';
import { checkReading, localInstant, RowError, show } from '../manual-readings';
import type { Table } from './table';

export const COLUMNS = ['meter', 'time', 'obis', 'value', 'unit'] as const;
export type Column = typeof COLUMNS[number];

/**
 * Header names accepted per column (compared lower-case, with spaces, dashes and dots as "_"): English, and the
 * German, French and Dutch names of meter-reading exports.
 */
export const COLUMN_ALIASES: Record<Column, readonly string[]> = {
  meter: ['meter', 'meter_id', 'meterid', 'meter_no', 'meter_number', 'device', 'device_id', 'zähler', 'zaehler', 'zählernummer', 'zaehlernummer', 'compteur', 'meternummer'],
  time: ['time', 'timestamp', 'date', 'datetime', 'date_time', 'date/time', 'reading_time', 'read_at', 'time_utc', 'zeit', 'zeitpunkt', 'zeitstempel', 'datum', 'datum_uhrzeit', 'horodatage', 'tijd', 'tijdstip'],
  obis: ['obis', 'obis_code', 'code', 'register', 'kennzahl', 'obis_kennzahl'],
  value: ['value', 'reading', 'meter_reading', 'register_value', 'index', 'counter', 'wert', 'zählerstand', 'zaehlerstand', 'stand', 'valeur', 'relevé', 'waarde', 'meterstand'],
  unit: ['unit', 'units', 'uom', 'unit_of_measure', 'einheit', 'unité', 'unite', 'eenheid'],
};

/** Bad rows an answer lists one by one; the rest are counted. */
export const MAX_LISTED_ERRORS = 100;

export interface RowProblem {
  line: number;
  /** The column's header as written in the file ("" for the row as a whole). */
  column: string;
  value: unknown;
  message: string;
}

export interface ImportedReading extends Reading { line: number }

export interface TableReadings {
  readings: ImportedReading[];
  errors: RowProblem[];
  /** Columns of the file that are none of the five (ignored). */
  ignored: string[];
  /** Which header names the file used for each column. */
  columns: Partial<Record<Column, string>>;
}

const key = (h: string): string => h.trim().toLowerCase().replace(/[\s.-]+/g, '_');

/** The column index of each of the five, or a 400 naming what is missing or doubled. */
function mapHeader(header: string[], meter: string | undefined): { index: Partial<Record<Column, number>>; ignored: string[] } {
  const index: Partial<Record<Column, number>> = {};
  const ignored: string[] = [];
  header.forEach((h, i) => {
    const col = COLUMNS.find((c) => COLUMN_ALIASES[c].includes(key(h)));
    if (!col) { if (h !== '') ignored.push(h); return; }
    if (index[col] !== undefined) throw new ApiError(400, `file: the header names the ${col} column twice (${JSON.stringify(header[index[col]!])} and ${JSON.stringify(h)})`);
    index[col] = i;
  });
  const missing = COLUMNS.filter((c) => index[c] === undefined && !(c === 'meter' && meter !== undefined));
  if (missing.length) {
    throw new ApiError(400, `file: the header ${show(header.join(', '))} has no ${missing.join(', ')} column${missing.length > 1 ? 's' : ''} `
      + `(accepted names: ${missing.map((c) => `${c}: ${COLUMN_ALIASES[c].join('/')}`).join('; ')}${missing.includes('meter') ? '; or import for one meter with meter=<id>' : ''})`);
  }
  return { index, ignored };
}

/** An XLSX date cell: a wall-clock time (Excel has no zone) read in `zone`, rounded to the second as Excel stores fractions of a day. */
function xlsxDate(d: Date, zone: string): number {
  const s = new Date(Math.round(d.getTime() / 1000) * 1000);
  const l: LocalTime = { year: s.getUTCFullYear(), month: s.getUTCMonth() + 1, day: s.getUTCDate(), hour: s.getUTCHours(), minute: s.getUTCMinutes(), second: s.getUTCSeconds(), millisecond: 0 };
  const wall = `${s.toISOString().slice(0, 10)} ${s.toISOString().slice(11, 19)}`;
  return zone === 'UTC' ? fromLocal(l) : localInstant(l, zone, wall);
}

export interface TableCheck {
  now: number;
  quality: number;
  /** Local times (without offset, and XLSX dates) are read in this zone... */
  timeZone: string;
  /** ...or in the meter's own (its folder's time zone), when given. */
  zoneOf?: (meter: string) => string;
  /** The meter of a single-meter import (meter=), filling an absent or empty meter column. */
  meter?: string;
  /** Whether the caller may import for this meter; false is a row error that never says whether the meter exists. */
  meterAllowed: (id: string) => boolean;
}

/** Every row as a reading or a RowProblem; a repeated (meter, obis, time) is a problem naming the earlier line. */
export function tableReadings(table: Table, c: TableCheck): TableReadings {
  const { index, ignored } = mapHeader(table.header, c.meter);
  const columns: Partial<Record<Column, string>> = {};
  for (const col of COLUMNS) if (index[col] !== undefined) columns[col] = table.header[index[col]!];
  const decimalComma = table.separator === ';';
  const readings: ImportedReading[] = [];
  const errors: RowProblem[] = [];
  const seen = new Map<string, number>();
  const cell = (cells: unknown[], col: Column): unknown => {
    const v = index[col] === undefined ? undefined : cells[index[col]!];
    return v === null ? undefined : v;
  };
  for (const row of table.rows) {
    let column: Column | '' = '';
    let raw: unknown;
    try {
      column = 'meter';
      raw = cell(row.cells, 'meter');
      const meter = raw === undefined || raw === '' ? c.meter : String(raw).trim();
      if (meter === undefined || meter === '') throw new RowError('meter', 'meter is empty (give the meter id, or import for one meter with meter=<id>)');
      if (c.meter !== undefined && meter !== c.meter) throw new RowError('meter', `meter ${show(raw)} is not the meter of this import (meter=${c.meter})`);
      if (!c.meterAllowed(meter)) throw new RowError('meter', `meter ${show(raw ?? meter)} is not a meter you may import for`);
      column = 'time';
      raw = cell(row.cells, 'time');
      if (typeof raw === 'number' && Math.abs(raw) < 1e11) throw new RowError('time', `time ${raw} is too small for epoch milliseconds (epoch seconds or a spreadsheet day number?): give epoch ms or a date-time`);
      const zone = c.zoneOf ? c.zoneOf(meter) : c.timeZone;
      const time = raw instanceof Date ? xlsxDate(raw, zone) : raw;
      column = 'value';
      raw = cell(row.cells, 'value');
      const value = decimalComma && typeof raw === 'string' ? parseCsvNumber(raw, { decimalComma: true }) ?? raw : raw;
      const r = checkReading(meter, { time, obis: cell(row.cells, 'obis'), value, unit: cell(row.cells, 'unit') }, { now: c.now, quality: c.quality, timeZone: zone });
      const k = `${r.meter}\u0000${r.obis}\u0000${r.time}`;
      const earlier = seen.get(k);
      if (earlier !== undefined) throw new RowError('time', `repeats meter ${r.meter}, obis ${r.obis} at ${new Date(r.time).toISOString()} of line ${earlier}`);
      seen.set(k, row.line);
      readings.push({ ...r, line: row.line });
    } catch (err) {
      if (!(err instanceof RowError)) throw err;
      const col = (COLUMNS as readonly string[]).includes(err.field) ? err.field as Column : column;
      errors.push({ line: row.line, column: col === '' ? '' : columns[col] ?? col, value: col === '' ? undefined : cell(row.cells, col), message: err.message });
    }
  }
  if (table.rows.length === 0) throw new ApiError(400, 'file: no readings below the header');
  return { readings, errors, ignored, columns };
}

/** At most MAX_LISTED_ERRORS problems and a count of the rest, for an answer. */
export function listedErrors(errors: readonly RowProblem[]): { errors: RowProblem[]; more_errors: number } {
  return { errors: errors.slice(0, MAX_LISTED_ERRORS), more_errors: Math.max(0, errors.length - MAX_LISTED_ERRORS) };
}

/** "line 4, column time: time "x" must be ..." for messages. */
export function problemText(p: RowProblem): string {
  return `line ${p.line}${p.column ? `, column ${p.column}` : ''}: ${p.message}`;
}
