import type { Reading } from '../model/reading';
import { parseRangeQuery, QueryParamError } from '../store/query-params';
import type { ReadingStore, WindowRow } from '../store/types';
import { ApiError, failure, ok, type Envelope } from './envelope';

export interface MeterSummary {
  id: string;
  /** Time of the newest reading, epoch ms. */
  lastSeen: number;
  /** The newest value of each OBIS code. */
  values: { obis: string; value: number; unit: string; time: number; quality?: number }[];
}

/** Meters that have readings, each with its newest values (GET /api/meters). */
export async function listMeters(store: ReadingStore): Promise<MeterSummary[]> {
  const byMeter = new Map<string, MeterSummary>();
  for (const r of await store.latest()) {
    let m = byMeter.get(r.meter);
    if (!m) byMeter.set(r.meter, (m = { id: r.meter, lastSeen: r.time, values: [] }));
    m.lastSeen = Math.max(m.lastSeen, r.time);
    m.values.push({ obis: r.obis, value: r.value, unit: r.unit, time: r.time, ...(r.quality ? { quality: r.quality } : {}) });
  }
  const meters = [...byMeter.values()].sort((a, b) => a.id.localeCompare(b.id));
  for (const m of meters) m.values.sort((a, b) => a.obis.localeCompare(b.obis));
  return meters;
}

export interface ReadingsAnswer {
  meter: string;
  from: number;
  to: number;
  window: { every: number; fn: string } | null;
  readings: (Reading | WindowRow)[];
}

/** Readings of one meter (GET /api/meters/:id/readings?obis=&from=&to=&window=); `defined`: the meter is in the registry. */
export async function meterReadings(store: ReadingStore, meter: string, query: Record<string, unknown>, now: number, timeZone?: string, defined = false): Promise<ReadingsAnswer> {
  if (!meter) throw new ApiError(400, 'meter id is missing from the path');
  for (const key of Object.keys(query)) {
    if (!['obis', 'from', 'to', 'window', 'fn', 'limit'].includes(key)) throw new ApiError(400, `unknown parameter "${key}" (use obis, from, to, window, fn, limit)`);
  }
  let q;
  try {
    q = parseRangeQuery({ ...query, meter }, now);
  } catch (err) {
    if (err instanceof QueryParamError) throw new ApiError(400, err.message);
    throw err;
  }
  // A meter defined in the EMS but never polled answers no readings; an id nobody knows is 404.
  if (!defined && (await store.latest({ meter })).length === 0) throw new ApiError(404, `unknown meter "${meter}"`);
  const readings = await store.query({ ...q, timeZone: q.timeZone ?? timeZone });
  return { meter, from: q.from, to: q.to, window: q.window ?? null, readings };
}

/** Runs an API operation and wraps its answer or error in the envelope; unexpected errors are 500 and returned for logging. */
export async function answer(run: () => Promise<unknown>): Promise<{ envelope: Envelope; unexpected?: Error }> {
  try {
    return { envelope: ok(await run()) };
  } catch (err) {
    if (err instanceof ApiError) return { envelope: failure(err.status, err.message) };
    const e = err instanceof Error ? err : new Error(String(err));
    return { envelope: failure(500, `internal error: ${e.message}`), unexpected: e };
  }
}
