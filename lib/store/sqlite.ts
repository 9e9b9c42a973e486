/**
 * The embedded reading store: one SQLite file (better-sqlite3, WAL mode). Tables:
 * - readings (meter, obis, time) primary key, WITHOUT ROWID, so a range of one series is one B-tree range scan;
 * - series (meter, obis): every series ever written, so latest() and multi-code queries seek per series
 *   instead of scanning;
 * - events: the EMS event log.
 * better-sqlite3 is synchronous; the async methods only wrap it to honour the ReadingStore contract.
 *
 * fn=delta takes one of two paths to the same rows (lib/store/edge-delta.ts): walking every reading of the
 * range in JS (about a microsecond a reading), or seeking the readings next to each edge on the primary key
 * and counting each window's readings in SQLite (a few statements per edge, the counting at C speed). Per
 * series, one capped count(*) decides: with at least SEEK_READINGS_PER_EDGE readings per edge in the range
 * the seeks win (a year of 15-minute readings in day windows has ~96), with fewer the walk does.
 */
import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { isObis, normaliseObis } from '../model/obis';
import { readingProblem, type Reading } from '../model/reading';
import type { Aggregate, EmsEvent, EventLevel, EventQuery, LatestQuery, RangeQuery, ReadingKey, ReadingStore, WindowRow } from './types';
import { MAX_WINDOWS, windowBoundaries } from '../model/time';
import { eventProblem } from './events';
import { EDGE_LOOKBACK_MS, edgeDeltas, seekEdgeDeltas, type EdgePoint, type EdgeSeeker } from './edge-delta';

export const DEFAULT_RAW_LIMIT = 100_000;
export const DEFAULT_EVENT_LIMIT = 10_000;
/** fn=delta seeks per edge instead of walking when a series has at least this many readings per edge in the range. */
export const SEEK_READINGS_PER_EDGE = 8;

export interface SqliteStoreOptions {
  /** File path, or ":memory:". */
  path: string;
  /** Open an existing file read-only. */
  readonly?: boolean;
}

type RawRow = [obis: string, time: number, value: number, unit: string];

const SCHEMA = `
CREATE TABLE IF NOT EXISTS readings (
  meter TEXT NOT NULL, obis TEXT NOT NULL, time INTEGER NOT NULL,
  value REAL NOT NULL, unit TEXT NOT NULL, quality INTEGER,
  PRIMARY KEY (meter, obis, time)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS series (
  meter TEXT NOT NULL, obis TEXT NOT NULL, PRIMARY KEY (meter, obis)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS events (
  id INTEGER PRIMARY KEY, time INTEGER NOT NULL, level TEXT NOT NULL, kind TEXT NOT NULL,
  message TEXT NOT NULL, meter TEXT, source TEXT
);
CREATE INDEX IF NOT EXISTS events_time ON events (time);
CREATE INDEX IF NOT EXISTS events_meter_time ON events (meter, time);
`;

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

export class SqliteStore implements ReadingStore {
  readonly kind = 'sqlite';
  readonly path: string;
  private db: Database.Database | null;
  private readonly statements = new Map<string, Database.Statement>();
  private readonly knownSeries = new Set<string>();
  private readonly obisCache = new Map<string, string>();
  private readonly writeBatch: (rows: readonly Reading[]) => number;

  constructor(options: SqliteStoreOptions | string) {
    const opts = typeof options === 'string' ? { path: options } : options;
    this.path = opts.path;
    try {
      if (opts.path !== ':memory:' && !opts.readonly) fs.mkdirSync(path.dirname(path.resolve(opts.path)), { recursive: true });
      this.db = new Database(opts.path, { readonly: !!opts.readonly });
      this.db.pragma('busy_timeout = 5000');
      if (!opts.readonly) {
        if (opts.path !== ':memory:') this.db.pragma('journal_mode = WAL');
        this.db.pragma('synchronous = NORMAL');
        this.db.exec(SCHEMA);
      }
      for (const row of this.db.prepare('SELECT meter, obis FROM series').raw(true).all() as [string, string][]) {
        this.knownSeries.add(`${row[0]}\u0000${row[1]}`);
      }
    } catch (err) {
      this.db = null;
      throw new Error(`sqlite store ${opts.path}: cannot open: ${errorText(err)}`);
    }
    const upsert = this.stmt(`INSERT INTO readings (meter, obis, time, value, unit, quality) VALUES (?, ?, ?, ?, ?, ?)
      ON CONFLICT (meter, obis, time) DO UPDATE SET value = excluded.value, unit = excluded.unit, quality = excluded.quality`);
    const addSeries = this.stmt('INSERT OR IGNORE INTO series (meter, obis) VALUES (?, ?)');
    this.writeBatch = this.db.transaction((rows: readonly Reading[]) => {
      for (const r of rows) {
        upsert.run(r.meter, r.obis, r.time, r.value, r.unit, r.quality ?? null);
        const key = `${r.meter}\u0000${r.obis}`;
        if (!this.knownSeries.has(key)) {
          addSeries.run(r.meter, r.obis);
          this.knownSeries.add(key);
        }
      }
      return rows.length;
    });
  }

  private stmt(sql: string): Database.Statement {
    let s = this.statements.get(sql);
    if (!s) {
      s = this.open().prepare(sql);
      this.statements.set(sql, s);
    }
    return s;
  }

  private open(): Database.Database {
    if (!this.db) throw new Error('the store is closed');
    return this.db;
  }

  private fail(what: string, err: unknown): Promise<never> {
    return Promise.reject(new Error(`sqlite store ${this.path}: ${what}: ${errorText(err)}`));
  }

  private canonicalObis(obis: string): string {
    let c = this.obisCache.get(obis);
    if (c === undefined) {
      c = isObis(obis) ? normaliseObis(obis) : obis;
      if (this.obisCache.size < 10_000) this.obisCache.set(obis, c);
    }
    return c;
  }

  write(readings: readonly Reading[]): Promise<number> {
    try {
      this.open();
      if (!Array.isArray(readings)) throw new Error('readings must be an array');
      const rows: Reading[] = new Array(readings.length);
      for (let i = 0; i < readings.length; i++) {
        const problem = readingProblem(readings[i]);
        if (problem) throw new Error(`readings[${i}]: ${problem}`);
        const r = readings[i];
        rows[i] = { ...r, obis: this.canonicalObis(r.obis) };
      }
      if (rows.length === 0) return Promise.resolve(0);
      try {
        return Promise.resolve(this.writeBatch(rows));
      } catch (err) {
        // The transaction rolled back: forget series this batch thought it had added.
        this.knownSeries.clear();
        for (const row of this.open().prepare('SELECT meter, obis FROM series').raw(true).all() as [string, string][]) {
          this.knownSeries.add(`${row[0]}\u0000${row[1]}`);
        }
        throw err;
      }
    } catch (err) {
      return this.fail('write', err);
    }
  }

  remove(keys: readonly ReadingKey[]): Promise<number> {
    try {
      const db = this.open();
      if (!Array.isArray(keys)) throw new Error('keys must be an array');
      keys.forEach((k, i) => {
        if (!k || typeof k.meter !== 'string' || typeof k.obis !== 'string' || !Number.isFinite(k.time)) throw new Error(`keys[${i}] ${JSON.stringify(k)} must be { meter, obis, time }`);
      });
      const del = this.stmt('DELETE FROM readings WHERE meter = ? AND obis = ? AND time = ?');
      db.transaction(() => { for (const k of keys) del.run(k.meter, this.canonicalObis(k.obis), k.time); })();
      return Promise.resolve(keys.length);
    } catch (err) {
      return this.fail('remove', err);
    }
  }

  /** The obis codes stored for a meter (or the one asked for, when it has data). */
  private seriesOf(meter: string, obis?: string): string[] {
    if (obis !== undefined) {
      return this.stmt('SELECT obis FROM series WHERE meter = ? AND obis = ?').pluck(true).all(meter, obis) as string[];
    }
    return this.stmt('SELECT obis FROM series WHERE meter = ? ORDER BY obis').pluck(true).all(meter) as string[];
  }

  query(q: RangeQuery): Promise<Reading[] | WindowRow[]> {
    try {
      this.open();
      if (!q || typeof q.meter !== 'string' || q.meter === '') throw new Error('query.meter must be a meter id');
      if (!Number.isFinite(q.from) || !Number.isFinite(q.to)) throw new Error('query.from and query.to must be epoch ms');
      const obis = q.obis === undefined ? undefined : this.canonicalObis(q.obis);
      if (q.to <= q.from) return Promise.resolve([]);
      return Promise.resolve(q.window ? this.aggregate(q, obis) : this.raw(q, obis));
    } catch (err) {
      return this.fail('query', err);
    }
  }

  private raw(q: RangeQuery, obis: string | undefined): Reading[] {
    const limit = q.limit ?? DEFAULT_RAW_LIMIT;
    if (!Number.isInteger(limit) || limit < 1) throw new Error(`query.limit must be a positive integer, got ${limit}`);
    const rows = obis !== undefined
      ? this.stmt(`SELECT meter, obis, time, value, unit, quality FROM readings
          WHERE meter = ? AND obis = ? AND time >= ? AND time < ? ORDER BY time LIMIT ?`).all(q.meter, obis, q.from, q.to, limit)
      : this.stmt(`SELECT meter, obis, time, value, unit, quality FROM readings
          WHERE meter = ? AND time >= ? AND time < ? AND obis IN (SELECT obis FROM series WHERE meter = ?)
          ORDER BY time, obis LIMIT ?`).all(q.meter, q.from, q.to, q.meter, limit);
    return (rows as (Reading & { quality: number | null })[]).map(toReading);
  }

  private aggregate(q: RangeQuery, obis: string | undefined): WindowRow[] {
    const { every, fn } = q.window!;
    const bounds = windowBoundaries(q.from, q.to, every, q.timeZone, MAX_WINDOWS);
    if (fn === 'delta') return this.deltas(q, obis, bounds);
    const scan = this.stmt(`SELECT obis, time, value, unit FROM readings
      WHERE meter = ? AND obis = ? AND time >= ? AND time < ? ORDER BY time`).raw(true);
    const out: WindowRow[] = [];
    for (const code of this.seriesOf(q.meter, obis)) {
      let w = 0;
      let acc: Acc | null = null;
      for (const row of scan.iterate(q.meter, code, q.from, q.to) as IterableIterator<RawRow>) {
        const t = row[1];
        if (t >= bounds[w + 1]) {
          if (acc) out.push(finish(q.meter, code, bounds[w], acc, fn));
          acc = null;
          while (t >= bounds[w + 1]) w++;
        }
        if (!acc) acc = { first: row[2], last: row[2], min: row[2], max: row[2], sum: row[2], count: 1, unit: row[3] };
        else {
          acc.last = row[2];
          if (row[2] < acc.min) acc.min = row[2];
          if (row[2] > acc.max) acc.max = row[2];
          acc.sum += row[2];
          acc.count++;
          acc.unit = row[3];
        }
      }
      if (acc) out.push(finish(q.meter, code, bounds[w], acc, fn));
    }
    out.sort((a, b) => a.time - b.time || (a.obis < b.obis ? -1 : a.obis > b.obis ? 1 : 0));
    return out;
  }

  /** fn=delta: each series' readings in the range, walked once, and its neighbours outside it, to the window edges. */
  private deltas(q: RangeQuery, obis: string | undefined, bounds: readonly number[]): WindowRow[] {
    const cols = 'meter, obis, time, value, unit, quality';
    const before = this.stmt(`SELECT ${cols} FROM readings WHERE meter = ? AND obis = ? AND time < ? AND time >= ? ORDER BY time DESC LIMIT 1`);
    const after = this.stmt(`SELECT ${cols} FROM readings WHERE meter = ? AND obis = ? AND time >= ? AND time < ? ORDER BY time LIMIT 1`);
    const inside = this.stmt('SELECT time, value, unit FROM readings WHERE meter = ? AND obis = ? AND time >= ? AND time < ? ORDER BY time').raw(true);
    const out: WindowRow[] = [];
    const seekFrom = SEEK_READINGS_PER_EDGE * bounds.length;
    for (const code of this.seriesOf(q.meter, obis)) {
      if (this.readingsUpTo(q.meter, code, q.from, q.to, seekFrom) >= seekFrom) {
        out.push(...seekEdgeDeltas(q.meter, code, this.edgeSeeker(q.meter, code), bounds, q.from, q.to));
        continue;
      }
      const b = before.get(q.meter, code, q.from, q.from - EDGE_LOOKBACK_MS) as (Reading & { quality: number | null }) | undefined;
      const a = after.get(q.meter, code, q.to, q.to + EDGE_LOOKBACK_MS) as (Reading & { quality: number | null }) | undefined;
      const points = inside.iterate(q.meter, code, q.from, q.to) as IterableIterator<EdgePoint>;
      out.push(...edgeDeltas({ meter: q.meter, obis: code, points, before: b && toReading(b), after: a && toReading(a) }, bounds, q.from, q.to));
    }
    return out.sort((x, y) => x.time - y.time || (x.obis < y.obis ? -1 : x.obis > y.obis ? 1 : 0));
  }

  /** The series' readings in [from, to), counted up to `cap` (the scan stops there). */
  private readingsUpTo(meter: string, obis: string, from: number, to: number, cap: number): number {
    return this.stmt('SELECT count(*) FROM (SELECT 1 FROM readings WHERE meter = ? AND obis = ? AND time >= ? AND time < ? LIMIT ?)')
      .pluck(true).get(meter, obis, from, to, cap) as number;
  }

  /** Seeks on the (meter, obis, time) primary key for one series. */
  private edgeSeeker(meter: string, obis: string): EdgeSeeker {
    const last = this.stmt('SELECT time, value, unit FROM readings WHERE meter = ? AND obis = ? AND time < ? AND time >= ? ORDER BY time DESC LIMIT 1').raw(true);
    const first = this.stmt('SELECT time, value, unit FROM readings WHERE meter = ? AND obis = ? AND time >= ? AND time < ? ORDER BY time LIMIT 1').raw(true);
    const count = this.stmt('SELECT count(*) FROM readings WHERE meter = ? AND obis = ? AND time >= ? AND time < ?').pluck(true);
    return {
      lastBefore: (t, floor) => last.get(meter, obis, t, floor) as EdgePoint | undefined,
      firstAtOrAfter: (t, ceiling) => first.get(meter, obis, t, ceiling) as EdgePoint | undefined,
      count: (a, b) => count.get(meter, obis, a, b) as number,
    };
  }

  latest(q: LatestQuery = {}): Promise<Reading[]> {
    try {
      this.open();
      const where: string[] = [];
      const args: string[] = [];
      if (q.meter !== undefined) { where.push('s.meter = ?'); args.push(q.meter); }
      if (q.obis !== undefined) { where.push('s.obis = ?'); args.push(this.canonicalObis(q.obis)); }
      // Per series, max(time) under the (meter, obis, time) key is one index seek.
      const rows = this.stmt(`SELECT r.meter, r.obis, r.time, r.value, r.unit, r.quality FROM series s
        JOIN readings r ON r.meter = s.meter AND r.obis = s.obis
          AND r.time = (SELECT max(x.time) FROM readings x WHERE x.meter = s.meter AND x.obis = s.obis)
        ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY s.meter, s.obis`).all(...args);
      return Promise.resolve((rows as (Reading & { quality: number | null })[]).map(toReading));
    } catch (err) {
      return this.fail('latest', err);
    }
  }

  writeEvents(events: readonly EmsEvent[]): Promise<number> {
    try {
      this.open();
      if (!Array.isArray(events)) throw new Error('events must be an array');
      events.forEach((e, i) => {
        const problem = eventProblem(e);
        if (problem) throw new Error(`events[${i}]: ${problem}`);
      });
      const insert = this.stmt('INSERT INTO events (time, level, kind, message, meter, source) VALUES (?, ?, ?, ?, ?, ?)');
      const n = this.open().transaction((list: readonly EmsEvent[]) => {
        for (const e of list) insert.run(e.time, e.level, e.kind, e.message, e.meter ?? null, e.source ?? null);
        return list.length;
      })(events);
      return Promise.resolve(n);
    } catch (err) {
      return this.fail('write events', err);
    }
  }

  /** Events in [from, to) ordered by time (oldest first), at most `limit` (default 10000). */
  events(q: EventQuery): Promise<EmsEvent[]> {
    try {
      this.open();
      if (!Number.isFinite(q?.from) || !Number.isFinite(q?.to)) throw new Error('query.from and query.to must be epoch ms');
      const where = ['time >= ?', 'time < ?'];
      const args: (string | number)[] = [q.from, q.to];
      if (q.meter !== undefined) { where.push('meter = ?'); args.push(q.meter); }
      if (q.level !== undefined) { where.push('level = ?'); args.push(q.level); }
      args.push(q.limit ?? DEFAULT_EVENT_LIMIT);
      const rows = this.stmt(`SELECT time, level, kind, message, meter, source FROM events
        WHERE ${where.join(' AND ')} ORDER BY time, id LIMIT ?`).all(...args) as Record<string, unknown>[];
      return Promise.resolve(rows.map((r) => {
        const e: EmsEvent = { time: r.time as number, level: r.level as EventLevel, kind: r.kind as string, message: r.message as string };
        if (r.meter !== null) e.meter = r.meter as string;
        if (r.source !== null) e.source = r.source as string;
        return e;
      }));
    } catch (err) {
      return this.fail('events', err);
    }
  }

  /** Every (meter, obis) series stored, optionally of one meter. Not part of ReadingStore. */
  series(meter?: string): Promise<{ meter: string; obis: string }[]> {
    try {
      const rows = meter === undefined
        ? this.stmt('SELECT meter, obis FROM series ORDER BY meter, obis').all()
        : this.stmt('SELECT meter, obis FROM series WHERE meter = ? ORDER BY obis').all(meter);
      return Promise.resolve(rows as { meter: string; obis: string }[]);
    } catch (err) {
      return this.fail('series', err);
    }
  }

  get closed(): boolean {
    return this.db === null;
  }

  close(): Promise<void> {
    const db = this.db;
    this.db = null;
    this.statements.clear();
    if (!db) return Promise.resolve();
    try {
      db.close();
      return Promise.resolve();
    } catch (err) {
      return this.fail('close', err);
    }
  }
}

interface Acc { first: number; last: number; min: number; max: number; sum: number; count: number; unit: string }

function finish(meter: string, obis: string, time: number, a: Acc, fn: Aggregate): WindowRow {
  let value: number;
  switch (fn) {
    case 'first': value = a.first; break;
    case 'last': value = a.last; break;
    case 'min': value = a.min; break;
    case 'max': value = a.max; break;
    case 'sum': value = a.sum; break;
    case 'mean': value = a.sum / a.count; break;
    default: throw new Error(`unknown aggregate ${JSON.stringify(fn)}`);
  }
  return { meter, obis, time, value, unit: a.unit, count: a.count };
}

function toReading(r: Reading & { quality: number | null }): Reading {
  const out: Reading = { meter: r.meter, time: r.time, obis: r.obis, value: r.value, unit: r.unit };
  if (r.quality !== null && r.quality !== undefined) out.quality = r.quality;
  return out;
}

