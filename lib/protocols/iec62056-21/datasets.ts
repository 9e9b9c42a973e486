/**
 * Data sets of an IEC 62056-21 data block: `address(value*unit)(value)...`, one or more per line,
 * addresses in OBIS/EDIS form (1.8.0, 1-0:1.8.0*255, 1-1:F.F, C.1.0), "*F" naming a billing period
 * (historic value) unless it is 255. Turned into canonical Readings for the values with a unit.
 */
import type { Reading } from '../../model/reading';
import { Quality } from '../../model/quality';
import { isKnownUnit, toCanonical } from '../../model/units';
import { fromLocal, toLocal } from '../../model/time';

export interface DataValue {
  value: string;
  unit?: string;
}

export interface DataSet {
  /** The address as sent ("1.8.0*12"), '' for a continuation line. */
  address: string;
  /** "A-B:C.D.E" when the address is a numeric OBIS/EDIS code (letters C F L P map to 96..99). */
  obis?: string;
  /** Billing period F of a historic value ("1.8.0*12" -> 12); absent for current values and F = 255. */
  billingPeriod?: number;
  values: DataValue[];
}

const ADDRESS = /^(?:(\d{1,3})-(\d{1,3}):)?(\d{1,3}|[CFLP])\.(\d{1,3})(?:\.(\d{1,3}))?(?:\*(\d{1,3}))?$/;
const LETTER: Record<string, number> = { C: 96, F: 97, L: 98, P: 99 };

/** Parses a data block (the text between STX and "!"); errors name the offset. */
export function parseDataBlock(text: string, defaultMedium = 1): DataSet[] {
  const sets: DataSet[] = [];
  let i = 0;
  const n = text.length;
  while (i < n) {
    const c = text[i];
    if (c === '\r' || c === '\n' || c === ' ' || c === '\t') { i++; continue; }
    if (c === '!') break; // end of the data block
    const open = text.indexOf('(', i);
    const eol = text.slice(i).search(/[\r\n]/);
    if (open < 0 || (eol >= 0 && i + eol < open)) {
      throw new Error(`data set at offset ${i} (${JSON.stringify(text.slice(i, i + 24))}) has no "(value)"`);
    }
    const address = text.slice(i, open).trim();
    const set: DataSet = { address, values: [] };
    i = open;
    while (i < n && text[i] === '(') {
      const close = text.indexOf(')', i);
      if (close < 0) throw new Error(`data set "${address}" at offset ${i}: "(" without ")"`);
      const inner = text.slice(i + 1, close);
      const star = inner.lastIndexOf('*');
      set.values.push(star >= 0 && /^[^*]+$/.test(inner.slice(star + 1)) && !/^\d+$/.test(inner.slice(star + 1))
        ? { value: inner.slice(0, star), unit: inner.slice(star + 1) }
        : { value: inner });
      i = close + 1;
    }
    const m = ADDRESS.exec(address);
    if (m) {
      const medium = m[1] !== undefined ? Number(m[1]) : defaultMedium;
      const channel = m[2] !== undefined ? Number(m[2]) : 0;
      const cc = m[3] in LETTER ? LETTER[m[3]] : Number(m[3]);
      const e = m[5] !== undefined ? Number(m[5]) : 0;
      if (medium <= 255 && channel <= 255 && cc <= 255 && Number(m[4]) <= 255 && e <= 255) {
        set.obis = `${medium}-${channel}:${cc}.${Number(m[4])}.${e}`;
      }
      if (m[6] !== undefined && Number(m[6]) !== 255) set.billingPeriod = Number(m[6]);
    }
    sets.push(set);
  }
  return sets;
}

const NUMBER = /^[+-]?\d+(?:\.\d+)?$/;

/** A meter timestamp YYMMDDhhmm[ss], optionally led by a season/flag digit; null for zeros. */
export function parseMeterTimestamp(text: string, timeZone = 'UTC'): number | null {
  let t = text.trim();
  if (t.length === 11 || t.length === 13) t = t.slice(1);
  if (!/^\d{10}(\d{2})?$/.test(t) || /^0+$/.test(t)) return null;
  const [yy, mo, dd, hh, mi, ss] = [0, 2, 4, 6, 8, 10].map((k) => Number(t.slice(k, k + 2) || '0'));
  if (mo < 1 || mo > 12 || dd < 1 || dd > 31 || hh > 23 || mi > 59 || ss > 59) return null;
  return fromLocal({ year: 2000 + yy, month: mo, day: dd, hour: hh, minute: mi, second: ss, millisecond: 0 }, timeZone);
}

/** The meter's clock from 0.9.1 (hhmmss, hh:mm:ss) and 0.9.2 (yymmdd, optionally led by a flag digit), in `timeZone`. */
export function meterClock(sets: DataSet[], timeZone = 'UTC'): number | null {
  const t = sets.find((s) => s.billingPeriod === undefined && /(^|:)0\.9\.1$/.test(s.address.replace(/\*255$/, '')))?.values[0]?.value;
  const d = sets.find((s) => s.billingPeriod === undefined && /(^|:)0\.9\.2$/.test(s.address.replace(/\*255$/, '')))?.values[0]?.value;
  if (t === undefined || d === undefined) return null;
  const tt = t.replace(/:/g, '');
  const ts = tt.length === 7 ? tt.slice(1) : tt;
  const ds = d.length === 7 ? d.slice(1) : d;
  if (!/^\d{6}$/.test(ts) || !/^\d{6}$/.test(ds)) return null;
  return parseMeterTimestamp(ds + ts, timeZone);
}

/** Formats our time for W1 0.9.1 (hhmmss) and 0.9.2 (yymmdd) in the meter's time zone. */
export function clockValues(time: number, timeZone = 'UTC'): { time: string; date: string } {
  const l = toLocal(time, timeZone);
  const p = (x: number) => String(x).padStart(2, '0');
  return { time: `${p(l.hour)}${p(l.minute)}${p(l.second)}`, date: `${p(l.year % 100)}${p(l.month)}${p(l.day)}` };
}

export interface ReadingOptions {
  meter: string;
  /** Time of current values (the meter's clock or the readout time). */
  time: number;
  timeZone?: string;
}

/**
 * Readings for the data sets holding a number with a known unit (historic values without a unit
 * take the unit of the current value at the same address). Service/abstract codes (C = 0, 96..99)
 * are left out. Historic values carry the HISTORIC flag and the time of their billing-period reset
 * (0.1.2*F) and are left out when it is unknown; a second value that is a timestamp (maximum
 * demand) becomes the reading's time.
 */
export function toReadings(sets: DataSet[], opts: ReadingOptions): Reading[] {
  const tz = opts.timeZone ?? 'UTC';
  const unitOf = new Map<string, string>();
  for (const s of sets) if (s.obis && s.billingPeriod === undefined && s.values[0]?.unit) unitOf.set(s.obis, s.values[0].unit);
  const resetAt = new Map<number, number>();
  for (const s of sets) {
    if (s.billingPeriod !== undefined && /(^|:)0\.1\.2$/.test(s.address.replace(/\*\d+$/, ''))) {
      const t = parseMeterTimestamp(s.values[0]?.value ?? '', tz);
      if (t !== null) resetAt.set(s.billingPeriod, t);
    }
  }
  const out: Reading[] = [];
  for (const s of sets) {
    if (!s.obis) continue;
    const c = Number(s.obis.split(':')[1].split('.')[0]);
    if (c === 0 || c >= 96) continue;
    const v = s.values[0];
    if (!v || !NUMBER.test(v.value.trim())) continue;
    const unit = v.unit ?? unitOf.get(s.obis);
    if (!unit || !isKnownUnit(unit)) continue;
    let time = opts.time;
    let quality: number | undefined;
    if (s.billingPeriod !== undefined) {
      const t = resetAt.get(s.billingPeriod);
      if (t === undefined) continue;
      time = t;
      quality = Quality.HISTORIC;
    }
    const stamp = s.values[1] ? parseMeterTimestamp(s.values[1].value, tz) : null;
    if (stamp !== null) time = stamp;
    const canonical = toCanonical(Number(v.value), unit);
    out.push({ meter: opts.meter, time, obis: s.obis, value: canonical.value, unit: canonical.unit, ...(quality ? { quality } : {}) });
  }
  return out;
}
