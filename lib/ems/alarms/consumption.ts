/**
 * Consumption of a cumulative register over [from, to) from the reading store, for window_consumption
 * and anomaly rules: the register's last value at `to` minus its last value before `from` (or, without
 * one, its first value inside). Two small aggregated queries (last value per step of at most an hour),
 * so the work is bounded whatever the meter's reading rate. A register that went backwards in the
 * window gives null (register_sanity rules report that).
 */
import { HOUR_MS } from '../../model/time';
import type { ReadingStore, WindowRow } from '../../store/types';
import type { ConsumptionFn } from './evaluate';

export function storeConsumption(store: () => ReadingStore, timeZone: string): ConsumptionFn {
  return async (meter, obis, from, to) => {
    const every = Math.min(to - from, HOUR_MS);
    const s = store();
    const rows = await s.query({ meter, obis, from: from - every, to, window: { every, fn: 'last' }, timeZone }) as WindowRow[];
    const inside = rows.filter((r) => r.time >= from && r.count > 0);
    if (inside.length === 0) return null;
    const end = inside[inside.length - 1];
    let start = rows.filter((r) => r.time < from && r.count > 0).pop()?.value;
    if (start === undefined) {
      const first = await s.query({ meter, obis, from, to, window: { every, fn: 'first' }, timeZone }) as WindowRow[];
      start = first.find((r) => r.count > 0)?.value;
    }
    if (start === undefined || end.value < start) return null;
    return { value: end.value - start, unit: end.unit };
  };
}
