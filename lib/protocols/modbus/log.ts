/**
 * A profile's register log (types.ts ProfileLog): its record layout, validation, record decoding and
 * the bounded read of a time span: one request for the record count, a binary search over the ring
 * for the span's first and last record (single-record reads), then the records between in blocks of
 * as many whole records as one request may carry.
 */
import { normaliseObis, isObis } from '../../model/obis';
import { Quality } from '../../model/quality';
import type { Reading } from '../../model/reading';
import { isKnownUnit, toCanonical } from '../../model/units';
import { BACKFILL_CAP } from '../../model/backfill-span';
import { decodeValue, registerCount } from './datatypes';
import { DATA_TYPES, type DataType, type Encoding, type Profile, type ProfileLog, type RegisterTable } from './types';

export const LOG_STATUS_FLAGS = ['ESTIMATED', 'SUSPECT', 'CLOCK_ADJUSTED', 'COUNTER_RESET', 'OVERFLOW'] as const;

export interface LogLayout {
  table: RegisterTable;
  /** The time (uint32) and status (uint16) words in the profile's word and byte order. */
  timeEnc: Encoding;
  statusEnc: Encoding;
  /** Registers per record. */
  recordSize: number;
  /** Register offset of the status word in a record, or undefined. */
  statusOffset?: number;
  values: { obis: string; name: string; offset: number; enc: Encoding; unit: string; scale: number }[];
}

export function logLayout(profile: Profile, log: ProfileLog = profile.log!): LogLayout {
  const d = profile.defaults;
  let offset = 2 + (log.status ? 1 : 0);
  const values = log.values.map((v) => {
    const enc: Encoding = { type: v.type ?? d.type, wordOrder: d.wordOrder, byteOrder: d.byteOrder };
    const out = { obis: normaliseObis(v.obis), name: v.name, offset, enc, unit: v.unit, scale: v.scale ?? 1 };
    offset += registerCount(enc.type);
    return out;
  });
  return {
    table: log.table ?? d.table, recordSize: offset, statusOffset: log.status ? 2 : undefined, values,
    timeEnc: { type: 'uint32', wordOrder: d.wordOrder, byteOrder: d.byteOrder }, statusEnc: { type: 'uint16', wordOrder: d.wordOrder, byteOrder: d.byteOrder },
  };
}

/** Checks profile.log (when present); every error names the profile, the field and the value. */
export function validateLog(profile: Profile): void {
  const log = profile.log as unknown as Record<string, unknown> | undefined;
  if (log === undefined) return;
  const name = profile.id;
  const fail = (field: string, value: unknown, expected: string): never => {
    throw new Error(`profile "${name}": log.${field} is ${JSON.stringify(value)}, expected ${expected}`);
  };
  if (!log || typeof log !== 'object') fail('', log, 'an object');
  if (typeof log.name !== 'string' || !log.name) fail('name', log.name, 'a non-empty string');
  if (log.table !== undefined && log.table !== 'holding' && log.table !== 'input') fail('table', log.table, 'holding or input');
  const int = (f: string, min: number, max: number) => {
    if (!Number.isInteger(log[f]) || (log[f] as number) < min || (log[f] as number) > max) fail(f, log[f], `an integer ${min}..${max}`);
  };
  int('countRegister', 0, 65534);
  int('firstRecord', 0, 65535);
  int('capacity', 1, 65535);
  int('intervalSeconds', 1, 31 * 86400);
  if (log.status !== undefined) {
    if (!log.status || typeof log.status !== 'object') fail('status', log.status, 'an object of bit values to quality flags');
    for (const [bit, flag] of Object.entries(log.status as Record<string, unknown>)) {
      const b = Number(bit);
      if (!Number.isInteger(b) || b < 1 || b > 0xffff || (b & (b - 1)) !== 0) fail(`status["${bit}"]`, bit, 'a single bit value 1, 2, 4, ... 32768');
      if (!(LOG_STATUS_FLAGS as readonly string[]).includes(flag as string)) fail(`status["${bit}"]`, flag, `one of ${LOG_STATUS_FLAGS.join(', ')}`);
    }
  }
  if (!Array.isArray(log.values) || log.values.length === 0) fail('values', log.values, 'a non-empty array');
  (log.values as Record<string, unknown>[]).forEach((v, i) => {
    if (!v || typeof v !== 'object') fail(`values[${i}]`, v, 'an object');
    if (!isObis(v.obis)) fail(`values[${i}].obis`, v.obis, 'an OBIS code such as 1-0:1.8.0');
    if (typeof v.name !== 'string' || !v.name) fail(`values[${i}].name`, v.name, 'a non-empty string');
    if (v.type !== undefined && !DATA_TYPES.includes(v.type as DataType)) fail(`values[${i}].type`, v.type, `one of ${DATA_TYPES.join(', ')}`);
    if (typeof v.unit !== 'string' || !isKnownUnit(v.unit)) fail(`values[${i}].unit`, v.unit, 'a unit of the unit table (kWh, Wh, ...)');
    if (v.scale !== undefined && !(typeof v.scale === 'number' && Number.isFinite(v.scale) && v.scale !== 0)) fail(`values[${i}].scale`, v.scale, 'a non-zero number');
  });
  const layout = logLayout(profile);
  const p = profile.log!;
  if (layout.recordSize > profile.maxBlock) fail('values', `${layout.recordSize} registers per record`, `a record within maxBlock ${profile.maxBlock}`);
  const end = p.firstRecord + p.capacity * layout.recordSize;
  if (end > 65536) fail('capacity', p.capacity, `a ring ending below register 65536 (${p.capacity} records of ${layout.recordSize} registers from ${p.firstRecord} end at ${end})`);
  if (p.countRegister + 2 > p.firstRecord && p.countRegister < end) fail('countRegister', p.countRegister, `a register outside the record ring ${p.firstRecord}..${end - 1}`);
  for (const v of profile.values) {
    if ((v.table ?? profile.defaults.table) !== layout.table) continue;
    const a = v.register, b = a + registerCount(v.type ?? profile.defaults.type);
    const hits = (lo: number, hi: number) => a < hi && b > lo;
    if (hits(p.countRegister, p.countRegister + 2) || hits(p.firstRecord, end)) fail('firstRecord', p.firstRecord, `a log clear of value "${v.name}" at ${layout.table} register ${v.register}`);
  }
}

export interface LogRecord { seq: number; time: number; status: number; values: number[] }

/** Decodes one record (registers as received) into its time (ms), status and scaled raw values. */
export function decodeRecord(layout: LogLayout, data: Buffer, index: number, seq: number): LogRecord {
  const at = index * layout.recordSize;
  const time = decodeValue(data, at, layout.timeEnc) * 1000;
  const status = layout.statusOffset === undefined ? 0 : decodeValue(data, at + layout.statusOffset, layout.statusEnc);
  const values = layout.values.map((v) => decodeValue(data, at + v.offset, v.enc) * v.scale);
  return { seq, time, status, values };
}

/** A record -> canonical Readings, the status bits as quality flags. */
export function recordReadings(log: ProfileLog, layout: LogLayout, r: LogRecord, meter: string): Reading[] {
  let quality = 0;
  for (const [bit, flag] of Object.entries(log.status ?? {})) if (r.status & Number(bit)) quality |= Quality[flag];
  return layout.values.map((v, i) => {
    const c = toCanonical(r.values[i], v.unit);
    const reading: Reading = { meter, time: r.time, obis: v.obis, value: c.value, unit: c.unit };
    if (quality) reading.quality = quality;
    return reading;
  });
}

/** What reading a log needs from the bus. */
export interface LogReader { read(unit: number, table: RegisterTable, start: number, count: number): Promise<Buffer> }

export interface LogSpanResult { records: LogRecord[]; truncated: boolean; requests: number; newest: number }

/**
 * The records with from < time <= to (oldest first), at most `maxRecords` of them (the newest kept).
 * Requests: 1 + about 2 log2(capacity) + records / records-per-block.
 */
export async function readLogSpan(bus: LogReader, unit: number, profile: Profile, from: number, to: number, maxRecords = Math.floor(BACKFILL_CAP / Math.max(1, profile.log?.values.length ?? 1))): Promise<LogSpanResult> {
  const log = profile.log;
  if (!log) throw new Error(`profile "${profile.id}" declares no log`);
  const layout = logLayout(profile, log);
  let requests = 0;
  const read = async (start: number, count: number) => { requests++; return bus.read(unit, layout.table, start, count); };
  const count = decodeValue(await read(log.countRegister, 2), 0, layout.timeEnc);
  const empty = { records: [], truncated: false, requests, newest: count };
  if (count === 0) return empty;
  const oldest = Math.max(1, count - log.capacity + 1);
  const slotStart = (seq: number) => log.firstRecord + ((seq - 1) % log.capacity) * layout.recordSize;
  const timeOf = async (seq: number) => decodeRecord(layout, await read(slotStart(seq), layout.recordSize), 0, seq).time;
  /** The first seq in [lo, hi] whose time is > t (hi + 1 when none). */
  const firstAfter = async (t: number, lo: number, hi: number) => {
    let a = lo, b = hi + 1;
    while (a < b) {
      const mid = Math.floor((a + b) / 2);
      if ((await timeOf(mid)) > t) b = mid; else a = mid + 1;
    }
    return a;
  };
  const first = await firstAfter(from, oldest, count);
  if (first > count) return { ...empty, requests };
  const last = (await firstAfter(to, first, count)) - 1;
  if (last < first) return { ...empty, requests };
  const start = Math.max(first, last - maxRecords + 1);
  const perBlock = Math.max(1, Math.floor(Math.min(125, profile.maxBlock) / layout.recordSize));
  const records: LogRecord[] = [];
  for (let seq = start; seq <= last;) {
    // Whole records, never across the end of the ring.
    const slot = (seq - 1) % log.capacity;
    const n = Math.min(perBlock, last - seq + 1, log.capacity - slot);
    const data = await read(slotStart(seq), n * layout.recordSize);
    for (let i = 0; i < n; i++) records.push(decodeRecord(layout, data, i, seq + i));
    seq += n;
  }
  // A slot the meter overwrote while we read holds a newer record than the one after it: keep only times rising with the sequence.
  const rising: LogRecord[] = [];
  for (let i = records.length - 1; i >= 0; i--) {
    if (rising.length === 0 || records[i].time < rising[rising.length - 1].time) rising.push(records[i]);
  }
  rising.reverse();
  return { records: rising.filter((r) => r.time > from && r.time <= to), truncated: start > first, requests, newest: count };
}

export interface LogBackfill { readings: Reading[]; truncated: boolean; unsupported?: string; requests: number }

/** A backfill from a meter's register log: readings of (from, to], BACKFILLED, at most `cap`; unsupported when the profile has no log. */
export async function readLogBackfill(bus: LogReader, unit: number, profile: Profile, meter: string, span: { from: number; to: number }, cap = BACKFILL_CAP): Promise<LogBackfill> {
  const log = profile.log;
  if (!log) return { readings: [], truncated: false, requests: 0, unsupported: `profile "${profile.id}" declares no register log (log in its register map)` };
  const layout = logLayout(profile, log);
  let r: LogSpanResult;
  try {
    r = await readLogSpan(bus, unit, profile, span.from, span.to, Math.floor(cap / layout.values.length));
  } catch (err) {
    throw new Error(`meter "${meter}" unit ${unit} (${profile.id}): reading the ${log.name} log: ${(err as Error).message}`, { cause: err });
  }
  const readings = r.records.flatMap((rec) => recordReadings(log, layout, rec, meter)).map((x) => ({ ...x, quality: (x.quality ?? 0) | Quality.BACKFILLED }));
  return { readings, truncated: r.truncated, requests: r.requests };
}
