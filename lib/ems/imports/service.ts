/**
 * File imports of readings: preview (writes nothing), commit (all-or-nothing, recorded with the
 * values it replaced) and undo (removes what it added, restores what it replaced). Records live in
 * the EMS database (migration 13); readings in the reading store. A file already imported (same
 * bytes, or the same readings) is not imported again.
 */
import { createHash } from 'node:crypto';
import type { Reading } from '../../model/reading';
import { Quality } from '../../model/quality';
import type { ReadingStore } from '../../store/types';
import type { EmsDatabase } from '../db';
import { ApiError } from '../envelope';
import type { EventLog } from '../event-log';
import { readTable, type Table } from './table';
import { listedErrors, problemText, tableReadings, type ImportedReading, type RowProblem, type TableReadings } from './readings';

/** Imported readings are flagged IMPORTED and MANUAL (entered by people, not measured by a poll). */
export const IMPORT_QUALITY = Quality.IMPORTED | Quality.MANUAL;
export const DEFAULT_IMPORT_LIST = 50;
export const MAX_IMPORT_LIST = 500;
/** Stored readings are looked up per series in spans of at most this long (one query each). */
const LOOKUP_SPAN_MS = 7 * 24 * 3600_000;
const LOOKUP_LIMIT = 100_000;

export interface ImportRequest {
  bytes: Buffer;
  fileName?: string;
  /** Single-meter import: the meter of every row. */
  meter?: string;
  /** XLSX: the sheet's name (default: the first). */
  sheet?: string;
  timeZone: string;
  /** A meter's own zone (its folder's) for its local times; default timeZone for every meter. */
  zoneOf?: (meter: string) => string;
  now: number;
  /** Who imports (a login). */
  by: string;
  meterAllowed: (id: string) => boolean;
}

export interface ImportRecord {
  id: number;
  created_at: string;
  created_by: string;
  file_name: string | null;
  format: string;
  time_zone: string;
  rows: number;
  added: number;
  replaced: number;
  unchanged: number;
  /** Readings per meter. */
  meters: Record<string, number>;
  undone_at: string | null;
  undone_by: string | null;
}

interface ImportRow { id: number; created_at: number; created_by: string; file_name: string | null; format: string; time_zone: string; rows: number; added: number; replaced: number; unchanged: number; meters: string; undone_at: number | null; undone_by: string | null }
interface ChangeRow { meter: string; obis: string; time: number; value: number; unit: string; prev_value: number | null; prev_unit: string | null; prev_quality: number | null }

function recordOf(r: ImportRow): ImportRecord {
  return {
    ...r, created_at: new Date(r.created_at).toISOString(), meters: JSON.parse(r.meters) as Record<string, number>,
    undone_at: r.undone_at === null ? null : new Date(r.undone_at).toISOString(),
  };
}

const keyOf = (r: { meter: string; obis: string; time: number }): string => `${r.meter}\u0000${r.obis}\u0000${r.time}`;

const sha256 = (data: Buffer | string): string => createHash('sha256').update(data).digest('hex');

/** A digest of the readings themselves (order and file format do not matter). */
export function readingsDigest(readings: readonly Reading[]): string {
  const lines = readings.map((r) => `${r.meter}\t${r.obis}\t${r.time}\t${r.value}\t${r.unit}`).sort();
  return sha256(lines.join('\n'));
}

/** The stored reading at each key of `readings`, read per series in spans of at most a week. */
export async function storedAt(store: ReadingStore, readings: readonly Reading[]): Promise<Map<string, Reading>> {
  const series = new Map<string, number[]>();
  for (const r of readings) {
    const k = `${r.meter}\u0000${r.obis}`;
    let times = series.get(k);
    if (!times) series.set(k, (times = []));
    times.push(r.time);
  }
  const wanted = new Set(readings.map(keyOf));
  const out = new Map<string, Reading>();
  const take = (rows: Reading[]) => { for (const s of rows) if (wanted.has(keyOf(s))) out.set(keyOf(s), s); };
  for (const [k, times] of series) {
    const [meter, obis] = k.split('\u0000');
    times.sort((a, b) => a - b);
    for (let i = 0; i < times.length;) {
      let j = i;
      while (j + 1 < times.length && times[j + 1] - times[i] <= LOOKUP_SPAN_MS) j++;
      const rows = await store.query({ meter, obis, from: times[i], to: times[j] + 1, limit: LOOKUP_LIMIT }) as Reading[];
      if (rows.length < LOOKUP_LIMIT) take(rows);
      else for (let t = i; t <= j; t++) take(await store.query({ meter, obis, from: times[t], to: times[t] + 1 }) as Reading[]); // a very dense series
      i = j + 1;
    }
  }
  return out;
}

export interface Analysis {
  table: Table;
  checked: TableReadings;
  fileSha: string;
  readingsSha: string;
  /** Each reading with what is stored at its key now. */
  added: ImportedReading[];
  replaced: { reading: ImportedReading; previous: Reading }[];
  unchanged: number;
  perMeter: Record<string, number>;
  /** An earlier import (not undone) of the same bytes or the same readings. */
  earlier: ImportRecord | null;
}

/** Commits and undos run one at a time (per process), so two uploads of one file cannot both be recorded. */
let serial: Promise<unknown> = Promise.resolve();
function oneAtATime<T>(work: () => Promise<T>): Promise<T> {
  const run = serial.then(work, work);
  serial = run.catch(() => undefined);
  return run;
}

export class ImportService {
  constructor(private readonly db: EmsDatabase, private readonly store: ReadingStore, private readonly events?: EventLog) {}

  private earlierImport(fileSha: string, readingsSha: string): ImportRecord | null {
    const row = this.db.prepare(`SELECT * FROM imports WHERE undone_at IS NULL AND (file_sha256 = ? OR readings_sha256 = ?) ORDER BY id DESC LIMIT 1`)
      .get(fileSha, readingsSha) as ImportRow | undefined;
    return row ? recordOf(row) : null;
  }

  /** Reads and checks the file and compares every reading with the store; writes nothing. */
  async analyse(req: ImportRequest): Promise<Analysis> {
    const table = await readTable(req.bytes, req.sheet);
    const checked = tableReadings(table, { now: req.now, quality: IMPORT_QUALITY, timeZone: req.timeZone, zoneOf: req.zoneOf, meter: req.meter, meterAllowed: req.meterAllowed });
    const stored = await storedAt(this.store, checked.readings);
    const added: ImportedReading[] = [];
    const replaced: Analysis['replaced'] = [];
    let unchanged = 0;
    const perMeter: Record<string, number> = {};
    for (const r of checked.readings) {
      perMeter[r.meter] = (perMeter[r.meter] ?? 0) + 1;
      const s = stored.get(keyOf(r));
      if (!s) added.push(r);
      else if (s.value === r.value && s.unit === r.unit) unchanged++;
      else replaced.push({ reading: r, previous: s });
    }
    const fileSha = sha256(req.bytes);
    const readingsSha = readingsDigest(checked.readings);
    return { table, checked, fileSha, readingsSha, added, replaced, unchanged, perMeter, earlier: this.earlierImport(fileSha, readingsSha) };
  }

  /** What a preview answers: the file read, counts per meter and per outcome (of the good rows), every bad row (bounded). */
  static summary(a: Analysis, timeZone: string, zoneOf?: (meter: string) => string): Record<string, unknown> {
    // Meters whose local times were read in their folder's zone rather than the EMS zone.
    const own = zoneOf ? Object.keys(a.perMeter).map((m) => [m, zoneOf(m)] as const).filter(([, z]) => z !== timeZone) : [];
    return {
      format: a.table.format, separator: a.table.separator ?? null, sheet: a.table.sheet ?? null, decimal_comma: a.table.separator === ';',
      time_zone: timeZone, meter_time_zones: Object.fromEntries(own), columns: a.checked.columns, ignored_columns: a.checked.ignored,
      rows: a.table.rows.length, readings: a.checked.readings.length, meters: a.perMeter,
      new: a.added.length, unchanged: a.unchanged, replaced: a.replaced.length, // of the good rows
      earlier_import: a.earlier?.id ?? null,
      bad_rows: a.checked.errors.length, ...listedErrors(a.checked.errors),
    };
  }

  /**
   * Commits a file: any bad row is a 400 naming the rows (nothing written). An earlier import of the same
   * bytes or readings, or a file that changes nothing, answers `created: false` and writes nothing.
   */
  commit(req: ImportRequest): Promise<{ created: boolean; data: Record<string, unknown> }> {
    return oneAtATime(() => this.commitNow(req));
  }

  private async commitNow(req: ImportRequest): Promise<{ created: boolean; data: Record<string, unknown> }> {
    const a = await this.analyse(req);
    if (a.checked.errors.length) throw rowsError(a.checked.errors);
    const summary = ImportService.summary(a, req.timeZone, req.zoneOf);
    if (a.earlier || (a.added.length === 0 && a.replaced.length === 0)) {
      return { created: false, data: { ...summary, import: a.earlier?.id ?? null, written: 0, message: a.earlier ? `already imported as import ${a.earlier.id}: nothing written` : 'every reading is already stored with this value: nothing written' } };
    }
    const insertImport = this.db.prepare(`INSERT INTO imports (created_at, created_by, file_name, format, file_sha256, readings_sha256, time_zone, rows, added, replaced, unchanged, meters)
      VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`);
    const insertChange = this.db.prepare('INSERT INTO import_changes (import_id, meter, obis, time, value, unit, prev_value, prev_unit, prev_quality) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)');
    const id = this.db.transaction(() => {
      const n = Number(insertImport.run(req.now, req.by, req.fileName ?? null, a.table.format, a.fileSha, a.readingsSha, req.timeZone, a.table.rows.length,
        a.added.length, a.replaced.length, a.unchanged, JSON.stringify(a.perMeter)).lastInsertRowid);
      for (const r of a.added) insertChange.run(n, r.meter, r.obis, r.time, r.value, r.unit, null, null, null);
      for (const { reading: r, previous: p } of a.replaced) insertChange.run(n, r.meter, r.obis, r.time, r.value, r.unit, p.value, p.unit, p.quality ?? null);
      return n;
    })();
    const toWrite: Reading[] = [...a.added, ...a.replaced.map((x) => x.reading)].map(({ line: _line, ...r }) => r);
    try {
      await this.store.write(toWrite);
    } catch (err) {
      this.db.prepare('DELETE FROM imports WHERE id = ?').run(id);
      throw err;
    }
    const meters = Object.keys(a.perMeter);
    this.events?.add({
      kind: 'import', event: `import ${id} committed: ${a.added.length} new, ${a.replaced.length} replaced, ${a.unchanged} unchanged readings of ${meters.length} meter(s) from ${req.fileName ?? a.table.format}`,
      meter_id: meters.length === 1 ? meters[0] : null, value: a.added.length + a.replaced.length, source: req.by, time: req.now,
    });
    return { created: true, data: { ...summary, import: id, written: toWrite.length } };
  }

  /** Newest first; `visible` keeps the imports whose meters the caller may all see. Scans at most 10 × limit records. */
  list(limit: number, visible: (meters: string[]) => boolean, beforeId = Number.MAX_SAFE_INTEGER): ImportRecord[] {
    const rows = this.db.prepare('SELECT * FROM imports WHERE id < ? ORDER BY id DESC LIMIT ?').all(beforeId, limit * 10) as ImportRow[];
    return rows.map(recordOf).filter((r) => visible(Object.keys(r.meters))).slice(0, limit);
  }

  /** One import, or 404 (also when the caller may not see all its meters). */
  get(id: number, visible: (meters: string[]) => boolean): ImportRecord {
    const row = this.db.prepare('SELECT * FROM imports WHERE id = ?').get(id) as ImportRow | undefined;
    const r = row ? recordOf(row) : null;
    if (!r || !visible(Object.keys(r.meters))) throw new ApiError(404, `unknown import ${id}`);
    return r;
  }

  /**
   * Undoes an import: readings it added are removed, readings it replaced get their previous value and
   * quality back. Refused (409) when undone already, or when a later import still in force wrote the same readings.
   */
  undo(id: number, by: string, now: number, visible: (meters: string[]) => boolean): Promise<Record<string, unknown>> {
    return oneAtATime(() => this.undoNow(id, by, now, visible));
  }

  private async undoNow(id: number, by: string, now: number, visible: (meters: string[]) => boolean): Promise<Record<string, unknown>> {
    const r = this.get(id, visible);
    if (r.undone_at) throw new ApiError(409, `import ${id} was undone at ${r.undone_at} by ${r.undone_by}`);
    const later = this.db.prepare(`SELECT DISTINCT l.import_id AS id FROM import_changes e
      JOIN import_changes l ON l.meter = e.meter AND l.obis = e.obis AND l.time = e.time AND l.import_id > e.import_id
      JOIN imports i ON i.id = l.import_id AND i.undone_at IS NULL
      WHERE e.import_id = ? ORDER BY l.import_id LIMIT 10`).pluck(true).all(id) as number[];
    if (later.length) throw new ApiError(409, `import ${id} cannot be undone: later import${later.length > 1 ? 's' : ''} ${later.join(', ')} wrote the same readings (undo ${later.length > 1 ? 'them' : 'it'} first)`);
    const changes = this.db.prepare('SELECT meter, obis, time, value, unit, prev_value, prev_unit, prev_quality FROM import_changes WHERE import_id = ?').all(id) as ChangeRow[];
    const removed = changes.filter((c) => c.prev_value === null).map(({ meter, obis, time }) => ({ meter, obis, time }));
    const restored: Reading[] = changes.filter((c) => c.prev_value !== null).map((c) => {
      const p: Reading = { meter: c.meter, obis: c.obis, time: c.time, value: c.prev_value!, unit: c.prev_unit! };
      if (c.prev_quality !== null) p.quality = c.prev_quality;
      return p;
    });
    await this.store.remove(removed);
    if (restored.length) await this.store.write(restored);
    this.db.prepare('UPDATE imports SET undone_at = ?, undone_by = ? WHERE id = ?').run(now, by, id);
    const meters = Object.keys(r.meters);
    this.events?.add({
      kind: 'import', event: `import ${id} undone: ${removed.length} readings removed, ${restored.length} restored to their previous value`,
      meter_id: meters.length === 1 ? meters[0] : null, value: removed.length + restored.length, source: by, time: now,
    });
    return {
      import: id, removed: removed.length, restored: restored.length,
      restored_readings: restored.slice(0, 100).map((x) => ({ ...x, time: new Date(x.time).toISOString() })),
      more_restored: Math.max(0, restored.length - 100),
    };
  }
}

/** The 400 of a commit with bad rows: the first rows in the message, all (bounded) in the answer's data. */
export function rowsError(errors: readonly RowProblem[]): ApiError {
  const shown = errors.slice(0, 3).map(problemText).join('; ');
  return new ApiError(400, `${errors.length} bad row${errors.length > 1 ? 's' : ''}, nothing imported: ${shown}${errors.length > 3 ? `; and ${errors.length - 3} more` : ''}`,
    { bad_rows: errors.length, ...listedErrors(errors) });
}
