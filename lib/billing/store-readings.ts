/** The readings a meter bill needs, fetched from a reading store. */
import type { Reading } from '../model';
import type { ReadingStore } from '../store/types';
import { Pacer } from './pace';
import { isBilledRegister } from './readings';

/** How far before the period start the store is searched for the opening reading. */
export const OPENING_LOOKBACK_MS = 31 * 86_400_000;

/** Readings after the opening one are fetched this much at a time, letting the event loop run between. */
export const FETCH_SLICE_MS = 7 * 86_400_000;

/**
 * The meter's billed registers from the store: per register the newest reading at or before `from`
 * (searched back OPENING_LOOKBACK_MS) and every reading after it up to and including `to`. Fetched a
 * week at a time with `pacer` letting the event loop run between slices.
 */
export async function billedReadingsFromStore(store: ReadingStore, meter: string, from: number, to: number, pacer = new Pacer()): Promise<Reading[]> {
  const codes = (await store.latest({ meter })).filter((r) => isBilledRegister(r.obis, r.unit)).map((r) => r.obis);
  const out: Reading[] = [];
  for (const obis of codes) {
    const before = (await store.query({ meter, obis, from: from - OPENING_LOOKBACK_MS, to: from + 1 })) as Reading[];
    if (before.length > 0) out.push(before[before.length - 1]);
    for (let lo = from + 1; lo < to + 1; lo += FETCH_SLICE_MS) {
      await pacer.breathe();
      const rows = (await store.query({ meter, obis, from: lo, to: Math.min(lo + FETCH_SLICE_MS, to + 1), limit: 10_000_000 })) as Reading[];
      for (const r of rows) out.push(r);
    }
  }
  return out;
}
