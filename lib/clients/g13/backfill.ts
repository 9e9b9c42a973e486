/**
 * Backfill from a G13 meter's load profile: every configured channel whose quantity has an OBIS code is
 * read for the span, newest piece first, each request covering at most PIECE_ITEMS intervals (the
 * gateway answers at most 40000 items), until the span or the cap is covered.
 */
import type { Reading } from '../../model/reading';
import { BACKFILL_CAP, backfillAnswer } from '../../model/backfill-span';
import type { G13Client } from './client';
import { quantityOf } from './quantities';
import { readLoadProfile } from './readings';

/** Intervals asked for in one load-profile request. */
export const PIECE_ITEMS = 5000;

export interface G13Backfill {
  readings: Reading[];
  truncated: boolean;
  /** Why the meter has nothing to read (no channel with a mapped quantity). */
  unsupported?: string;
  /** Load-profile requests sent. */
  requests: number;
  /** Items the gateway sent that did not parse (time, value), with the reason. */
  skipped: { channel: number; item: unknown; reason: string }[];
}

interface Channel { channel: number; intervalMs: number; obis: string }

/** The channels of a GET .../loadprofiles/configuration answer that store a quantity with an OBIS code. */
export function backfillChannels(config: unknown): Channel[] {
  const rows = (config as { lpconfig?: unknown })?.lpconfig;
  if (!Array.isArray(rows)) return [];
  const out: Channel[] = [];
  rows.forEach((row, i) => {
    if (!Array.isArray(row) || row.length < 3) return;
    const [interval, qty, count] = row.map(Number);
    const obis = quantityOf(qty)?.obis;
    if (obis && interval > 0 && count > 0) out.push({ channel: i + 1, intervalMs: interval * 1000, obis });
  });
  return out;
}

export async function readG13Backfill(client: G13Client, serial: string, meter: string, span: { from: number; to: number }, cap = BACKFILL_CAP): Promise<G13Backfill> {
  const channels = backfillChannels(await client.loadProfileConfiguration(serial));
  const result: G13Backfill = { readings: [], truncated: false, requests: 0, skipped: [] };
  if (channels.length === 0) {
    return { ...result, unsupported: `meter ${serial} has no load-profile channel storing a quantity with an OBIS code` };
  }
  const all: Reading[] = [];
  for (const ch of channels) {
    const piece = ch.intervalMs * PIECE_ITEMS;
    let got = 0;
    // Newest first: once this channel alone passes the cap, older pieces would be dropped anyway.
    for (let to = span.to; to > span.from && got <= cap; to -= piece) {
      const from = Math.max(span.from, to - piece);
      const r = await readLoadProfile(client, serial, ch.channel, from, to, meter);
      result.requests++;
      const inside = r.readings.filter((x) => x.time > from && x.time <= to);
      got += inside.length;
      all.push(...inside);
      result.skipped.push(...r.skipped.map((s) => ({ channel: ch.channel, ...s })));
    }
  }
  const answer = backfillAnswer(all, span, cap);
  return { ...result, readings: answer.readings, truncated: answer.truncated };
}
