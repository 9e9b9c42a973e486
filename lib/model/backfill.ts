/**
 * The backfill message contract shared by the EMS and the protocol nodes: msg.backfill = { from, to }
 * (epoch ms) asks for the readings the meter stored with from < time <= to; the answer's readings carry
 * their own times and Quality.BACKFILLED, at most MAX_BACKFILL_READINGS of them (the newest; the answer
 * then says msg.backfill.truncated = true).
 */
import type { Reading } from './reading';
import { Quality } from './quality';

export const MAX_BACKFILL_READINGS = 10_000;

export interface BackfillSpan { from: number; to: number }

/** Checks msg.backfill; the error names the field and the value. */
export function backfillSpan(value: unknown): BackfillSpan {
  const v = value as { from?: unknown; to?: unknown } | null;
  if (!v || typeof v !== 'object') throw new Error(`msg.backfill must be { from, to } in epoch ms, got ${JSON.stringify(value)}`);
  for (const k of ['from', 'to'] as const) {
    if (typeof v[k] !== 'number' || !Number.isFinite(v[k] as number)) throw new Error(`msg.backfill.${k} must be epoch milliseconds, got ${JSON.stringify(v[k])}`);
  }
  if ((v.from as number) >= (v.to as number)) throw new Error(`msg.backfill.from (${v.from}) must be before msg.backfill.to (${v.to})`);
  return { from: v.from as number, to: v.to as number };
}

/** Keeps the readings in the span, flags them BACKFILLED, sorts by time and keeps the newest `max`. */
export function backfillAnswer(readings: readonly Reading[], span: BackfillSpan, max = MAX_BACKFILL_READINGS): { readings: Reading[]; truncated: boolean } {
  const kept = readings
    .filter((r) => r.time > span.from && r.time <= span.to)
    .map((r) => ({ ...r, quality: (r.quality ?? 0) | Quality.BACKFILLED }))
    .sort((a, b) => a.time - b.time);
  return kept.length > max ? { readings: kept.slice(kept.length - max), truncated: true } : { readings: kept, truncated: false };
}
