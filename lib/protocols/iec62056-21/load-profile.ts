/**
 * Load profile 1 (P.01) of IEC 62056-21 meters in the VDEW/DIN 43863-3 form that EMH, Landis+Gyr,
 * Iskra, Metcom and others answer to "R5 P.01(<from>;<to>)" in programming mode:
 *
 *   P.01(ZYYMMDDhhmmss)(SSSS)(RP)(z)(K1)(E1)...(Kz)(Ez)     a header: time of its first record,
 *   (M1)...(Mz)                                             status word (hex), period (minutes),
 *   (M1)...(Mz)                                             z channels with OBIS code and unit;
 *                                                           then one line per period
 *
 * A new header follows whenever the status word changes (power failure, clock set ...), so the status
 * applies to the records of its block. Z is the season (0 normal time, 1 summer time, 2 UTC); times
 * are the meter's local time. A period may also be written with a unit ("(5*s)", "(15*min)"); our
 * simulator uses seconds for fast tests.
 */
import type { Reading } from '../../model/reading';
import { Quality } from '../../model/quality';
import { toCanonical } from '../../model/units';
import { fromLocal, offsetAt, toLocal } from '../../model/time';

export interface ProfileChannel { obis: string; unit: string }

export interface ProfileBlock {
  /** Time of the first record, epoch ms. */
  start: number;
  /** The status word as sent (hex) and as a number. */
  statusText: string;
  status: number;
  periodMs: number;
  channels: ProfileChannel[];
  /** One array of channel values per period (null: empty value). */
  records: (number | null)[][];
}

/** Status word bits (VDEW, as the LEM EM4T II and EMH manuals list them) and the quality flags they give. */
export const PROFILE_STATUS: readonly { bit: number; meaning: string; quality: number }[] = [
  { bit: 0x0001, meaning: 'fatal device error', quality: Quality.SUSPECT },
  { bit: 0x0002, meaning: 'clock power reserve depleted', quality: Quality.SUSPECT },
  { bit: 0x0004, meaning: 'incomplete measurement period', quality: Quality.ESTIMATED },
  { bit: 0x0008, meaning: 'season change (summer/winter time)', quality: Quality.CLOCK_ADJUSTED },
  { bit: 0x0020, meaning: 'device clock set', quality: Quality.CLOCK_ADJUSTED },
  { bit: 0x0040, meaning: 'supply voltage recovered', quality: Quality.SUSPECT },
  { bit: 0x0080, meaning: 'supply voltage failure', quality: Quality.SUSPECT },
  { bit: 0x4000, meaning: 'load profile memory deleted', quality: Quality.SUSPECT },
  { bit: 0x8000, meaning: 'recorded before the last clock synchronisation', quality: Quality.CLOCK_ADJUSTED },
];

export function statusQuality(status: number): number {
  return PROFILE_STATUS.reduce((q, s) => ((status & s.bit) !== 0 ? q | s.quality : q), 0);
}

/** "1.5" / "1.5.0" / "1-1:1.29" -> "A-B:C.D.E" (medium 1 and channel 0 when absent). */
export function profileObis(code: string): string | null {
  const m = /^(?:(\d{1,3})-(\d{1,3}):)?(\d{1,3}|C)\.(\d{1,3})(?:\.(\d{1,3}))?(?:\*\d+)?$/.exec(code.trim());
  if (!m) return null;
  const c = m[3] === 'C' ? 96 : Number(m[3]);
  return `${m[1] ?? 1}-${m[2] ?? 0}:${c}.${Number(m[4])}.${m[5] !== undefined ? Number(m[5]) : 0}`;
}

function isSummer(time: number, timeZone: string): boolean {
  const y = toLocal(time, timeZone).year;
  const standard = Math.min(offsetAt(Date.UTC(y, 0, 1), timeZone), offsetAt(Date.UTC(y, 6, 1), timeZone));
  return offsetAt(time, timeZone) > standard;
}

/** A profile time stamp [Z]YYMMDDhhmm[ss] in the meter's zone; the season digit settles the repeated hour. */
export function parseProfileTime(text: string, timeZone = 'UTC'): number {
  const t = text.trim();
  if (!/^\d{10,13}$/.test(t)) throw new Error(`load profile time ${JSON.stringify(text)} is not [Z]YYMMDDhhmm[ss]`);
  const season = t.length === 11 || t.length === 13 ? t[0] : null;
  const d = season === null ? t : t.slice(1);
  const [yy, mo, dd, hh, mi, ss] = [0, 2, 4, 6, 8, 10].map((k) => Number(d.slice(k, k + 2) || '0'));
  if (mo < 1 || mo > 12 || dd < 1 || dd > 31 || hh > 23 || mi > 59 || ss > 59) throw new Error(`load profile time ${JSON.stringify(text)} is not a date`);
  const l = { year: 2000 + yy, month: mo, day: dd, hour: hh, minute: mi, second: ss, millisecond: 0 };
  if (season === '2') return fromLocal(l, 'UTC');
  const time = fromLocal(l, timeZone);
  if (season === '0' || season === '1') {
    const summer = season === '1';
    for (const shift of [0, -3_600_000, 3_600_000]) {
      const c = time + shift;
      const back = toLocal(c, timeZone);
      if (back.hour === hh && back.minute === mi && isSummer(c, timeZone) === summer) return c;
    }
  }
  return time;
}

/** The request's time "ZYYMMDDhhmm" (season digit, meter local time, whole minutes). */
export function profileRequestTime(time: number, timeZone = 'UTC'): string {
  const l = toLocal(time, timeZone);
  const p = (x: number) => String(x).padStart(2, '0');
  return `${isSummer(time, timeZone) ? 1 : 0}${p(l.year % 100)}${p(l.month)}${p(l.day)}${p(l.hour)}${p(l.minute)}`;
}

/** The R5 data set asking for load profile 1 over [from, to]: "P.01(ZYYMMDDhhmm;ZYYMMDDhhmm)" (from rounded down, to up to the minute). */
export function loadProfileRequest(from: number, to: number, timeZone = 'UTC'): string {
  const up = Math.ceil(to / 60_000) * 60_000;
  return `P.01(${profileRequestTime(Math.floor(from / 60_000) * 60_000, timeZone)};${profileRequestTime(up, timeZone)})`;
}

function periodMs(text: string): number {
  const m = /^\s*(\d{1,4})\s*(?:\*\s*(s|min))?\s*$/.exec(text);
  const n = m ? Number(m[1]) : NaN;
  if (!m || n < 1) throw new Error(`load profile period ${JSON.stringify(text)} is not a number of minutes`);
  return n * (m[2] === 's' ? 1000 : 60_000);
}

function value(text: string): number | null {
  const v = text.split('*')[0].trim();
  if (v === '') return null;
  const n = Number(v);
  if (!Number.isFinite(n) || !/^[+-]?\d+(\.\d+)?$/.test(v)) throw new Error(`load profile value ${JSON.stringify(text)} is not a number`);
  return n;
}

/**
 * Parses a P.01 answer (the data between STX and ETX, with or without line breaks) into its blocks.
 * `maxRecords` bounds the work: more records than that is an error naming the count.
 */
export function parseLoadProfile(text: string, timeZone = 'UTC', maxRecords = 100_000): ProfileBlock[] {
  const tokens: string[] = [];
  const re = /P\.01|\(([^()]*)\)|[^\s()]+/g;
  for (let m = re.exec(text); m; m = re.exec(text)) {
    if (m[0] === 'P.01') tokens.push('P.01');
    else if (m[1] !== undefined) tokens.push(m[1]);
    else if (m[0] !== '!') throw new Error(`load profile: unexpected ${JSON.stringify(m[0].slice(0, 20))} at offset ${m.index}`);
  }
  const blocks: ProfileBlock[] = [];
  let records = 0;
  let i = 0;
  while (i < tokens.length) {
    if (tokens[i] !== 'P.01') throw new Error(`load profile: values before the first "P.01(...)" header`);
    const h = tokens.slice(i + 1, i + 5);
    if (h.length < 4) throw new Error('load profile: a header without time, status, period and channel count');
    const z = Number(h[3]);
    if (!Number.isInteger(z) || z < 0 || z > 64) throw new Error(`load profile: channel count ${JSON.stringify(h[3])} is not 0..64`);
    const chans = tokens.slice(i + 5, i + 5 + 2 * z);
    if (chans.length < 2 * z || chans.includes('P.01')) throw new Error(`load profile header at ${h[0]}: ${z} channels announced, fewer given`);
    const channels: ProfileChannel[] = [];
    for (let k = 0; k < z; k++) channels.push({ obis: chans[2 * k], unit: chans[2 * k + 1] });
    const status = /^[0-9A-Fa-f]{1,8}$/.test(h[1]) ? parseInt(h[1], 16) : 0;
    const block: ProfileBlock = { start: parseProfileTime(h[0], timeZone), statusText: h[1], status, periodMs: periodMs(h[2]), channels, records: [] };
    i += 5 + 2 * z;
    while (i < tokens.length && tokens[i] !== 'P.01') {
      const row = tokens.slice(i, i + z);
      if (row.includes('P.01') || row.length < z) throw new Error(`load profile block at ${h[0]}: a record with fewer than ${z} values`);
      if (++records > maxRecords) throw new Error(`load profile: more than ${maxRecords} records`);
      block.records.push(row.map(value));
      i += z;
      if (z === 0) break;
    }
    blocks.push(block);
  }
  return blocks;
}

export interface ProfileReadingOptions {
  meter: string;
  /** Keep records with from < time <= to (epoch ms). */
  from?: number;
  to?: number;
  /** Extra quality bits for every reading (the EMS adds BACKFILLED). */
  quality?: number;
}

/** Readings of the blocks: one per channel and record, at the record's own time, with the status word's flags. */
export function profileReadings(blocks: readonly ProfileBlock[], o: ProfileReadingOptions): Reading[] {
  const out: Reading[] = [];
  for (const b of blocks) {
    const flags = statusQuality(b.status) | (o.quality ?? 0);
    const chans = b.channels.map((c) => {
      const obis = profileObis(c.obis);
      let conv: ((v: number) => { value: number; unit: string }) | null = null;
      try {
        toCanonical(0, c.unit);
        conv = (v) => toCanonical(v, c.unit);
      } catch { /* a channel without a known unit (status, counters of events) gives no reading */ }
      return obis && conv ? { obis, conv } : null;
    });
    b.records.forEach((row, k) => {
      const time = b.start + k * b.periodMs;
      if ((o.from !== undefined && time <= o.from) || (o.to !== undefined && time > o.to)) return;
      row.forEach((v, c) => {
        const ch = chans[c];
        if (v === null || !ch) return;
        const { value: val, unit } = ch.conv(v);
        const r: Reading = { meter: o.meter, time, obis: ch.obis, value: val, unit };
        if (flags) r.quality = flags;
        out.push(r);
      });
    });
  }
  return out.sort((a, b) => a.time - b.time);
}
