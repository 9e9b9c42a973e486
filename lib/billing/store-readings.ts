/** The readings a meter bill needs, fetched from a reading store. */
import type { Reading } from '../model';
import type { ReadingStore } from '../store/types';
import { isBilledRegister } from './readings';

/** How far before the period start the store is searched for the opening reading. */
export const OPENING_LOOKBACK_MS = 31 * 86_400_000;

/**
 * The meter's billed registers from the store: per register the newest reading at or before `from`
 * (searched back OPENING_LOOKBACK_MS) and every reading after it up to and including `to`.
 */
export async function billedReadingsFromStore(store: ReadingStore, meter: string, from: number, to: number): Promise<Reading[]> {
  const codes = (await store.latest({ meter })).filter((r) => isBilledRegister(r.obis, r.unit)).map((r) => r.obis);
  const out: Reading[] = [];
  for (const obis of codes) {
    const before = (await store.query({ meter, obis, from: from - OPENING_LOOKBACK_MS, to: from + 1 })) as Reading[];
    if (before.length > 0) out.push(before[before.length - 1]);
    out.push(...((await store.query({ meter, obis, from: from + 1, to: to + 1 })) as Reading[]));
  }
  return out;
}
