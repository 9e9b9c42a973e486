/**
 * Consumption of a cumulative register over [from, to) from the reading store, for window_consumption
 * and anomaly rules: the register's value at `to` minus its value at `from`. A reading exactly on a
 * boundary is that value; without one, the last reading before the boundary (or, at the start, the
 * first reading inside). At most four small queries (two of one row, two aggregated per step of at
 * most an hour), so the work is bounded whatever the meter's reading rate. A register that went
 * backwards gives null (register_sanity rules report that); so does a window without readings.
 */
import { HOUR_MS } from '../../model/time';
import type { Reading } from '../../model';
import type { ReadingStore, WindowRow } from '../../store/types';
import type { ConsumptionFn } from './evaluate';

export function storeConsumption(store: () => ReadingStore, timeZone: string): ConsumptionFn {
  return async (meter, obis, from, to) => {
    const s = store();
    const at = async (t: number) => ((await s.query({ meter, obis, from: t, to: t + 1, limit: 1 })) as Reading[])[0];
    const every = Math.min(to - from, HOUR_MS);
    const rows = (await s.query({ meter, obis, from: from - every, to, window: { every, fn: 'last' }, timeZone }) as WindowRow[]).filter((r) => r.count > 0);
    const inside = rows.filter((r) => r.time >= from);
    const end = (await at(to)) ?? inside[inside.length - 1];
    if (!end || inside.length === 0 && end.time !== to) return null;
    let start: { value: number } | undefined = await at(from) ?? rows.filter((r) => r.time < from).pop();
    if (!start) {
      const first = await s.query({ meter, obis, from, to, window: { every, fn: 'first' }, timeZone }) as WindowRow[];
      start = first.find((r) => r.count > 0);
    }
    if (!start || end.value < start.value) return null;
    return { value: end.value - start.value, unit: end.unit };
  };
}

/** The store's disk spool use (an InfluxDB store buffering an outage), null for a store without a spool. */
export function storeSpoolFill(store: () => ReadingStore): () => { bytes: number; maxBytes: number } | null {
  return () => {
    const spool = (store() as Partial<{ spool: { bytes: number; maxBytes: number } }>).spool;
    return spool && Number.isFinite(spool.bytes) && spool.maxBytes > 0 ? { bytes: spool.bytes, maxBytes: spool.maxBytes } : null;
  };
}
