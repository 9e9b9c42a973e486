/**
 * The backfill contract as protocol nodes answer it: msg.backfill = { from, to } (epoch ms; the meter's
 * stored records with from < time <= to), answered with canonical Readings flagged BACKFILLED, at most
 * BACKFILL_CAP of them (beyond: the oldest part is dropped and the span says truncated).
 */
import { Quality } from './quality';
import type { Reading } from './reading';

/** Most readings one backfill answers with. */
export const BACKFILL_CAP = 10_000;

export interface BackfillSpan {
  from: number;
  to: number;
  /** Set by the node: readings beyond the cap were dropped (the oldest ones). */
  truncated?: boolean;
  /** Set by the node: the meter keeps no memory that could be read, and why. */
  unsupported?: string;
}

/** Checks msg.backfill; throws naming the field and the value. */
export function parseBackfill(raw: unknown): BackfillSpan {
  const b = raw as Record<string, unknown> | null;
  if (!b || typeof b !== 'object' || Array.isArray(b)) throw new Error(`msg.backfill must be { from, to } in epoch ms, got ${JSON.stringify(raw)}`);
  for (const k of ['from', 'to'] as const) {
    if (typeof b[k] !== 'number' || !Number.isFinite(b[k])) throw new Error(`msg.backfill.${k} must be a time in epoch ms, got ${JSON.stringify(b[k])}`);
  }
  if ((b.to as number) <= (b.from as number)) throw new Error(`msg.backfill.to ${b.to} must be after msg.backfill.from ${b.from}`);
  return b as unknown as BackfillSpan;
}

/** True when the message asks for a backfill (msg.backfill present). */
export function isBackfill(msg: object): boolean {
  const b = (msg as { backfill?: unknown }).backfill;
  return b !== undefined && b !== null;
}

/**
 * The answer: readings inside (from, to], one per obis and time (the first seen wins), flagged BACKFILLED,
 * oldest first; beyond `cap` the oldest are dropped.
 */
export function backfillAnswer(readings: readonly Reading[], span: { from: number; to: number }, cap = BACKFILL_CAP): { readings: Reading[]; truncated: boolean } {
  const seen = new Set<string>();
  const inside: Reading[] = [];
  for (const r of readings) {
    if (!(r.time > span.from && r.time <= span.to)) continue;
    const key = `${r.obis}@${r.time}`;
    if (seen.has(key)) continue;
    seen.add(key);
    inside.push({ ...r, quality: (r.quality ?? 0) | Quality.BACKFILLED });
  }
  inside.sort((a, b) => a.time - b.time || (a.obis < b.obis ? -1 : a.obis > b.obis ? 1 : 0));
  const truncated = inside.length > cap;
  return { readings: truncated ? inside.slice(inside.length - cap) : inside, truncated };
}
