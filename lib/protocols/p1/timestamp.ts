/**
 * P1 timestamps: YYMMDDhhmmssX in the meter's local time, X = 'S' (summer time) or 'W' (winter time).
 * The flag settles the hour that happens twice when clocks go back: S is the first (summer) pass, W
 * the second. DSMR 2.2/3.0 gas readings carry YYMMDDhhmmss without a flag. Invalid or unset
 * stamps ("632525252525S" on an empty M-Bus channel, zeros) give null.
 */
import { HOUR_MS, fromLocal, toLocal, offsetAt } from '../../model/time';

/** The time zone of Dutch, Belgian and Luxembourg meters when none is configured. */
export const DEFAULT_P1_TIME_ZONE = 'Europe/Amsterdam';

const STAMP = /^(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})([SW])?$/;

export function parseP1Timestamp(text: string, timeZone = DEFAULT_P1_TIME_ZONE): number | null {
  const m = STAMP.exec(text.trim());
  if (!m) return null;
  const [yy, mo, dd, hh, mi, ss] = m.slice(1, 7).map(Number);
  if (mo < 1 || mo > 12 || dd < 1 || dd > 31 || hh > 23 || mi > 59 || ss > 59) return null;
  if (yy === 0 && mo === 1 && dd === 1 && hh === 0 && mi === 0) return null; // "000101000001W": no event recorded
  const local = { year: 2000 + yy, month: mo, day: dd, hour: hh, minute: mi, second: ss, millisecond: 0 };
  const first = fromLocal(local, timeZone);
  if (m[7] !== 'W') return first;
  // The repeated hour: the same wall time an hour later is the winter-time pass.
  const later = first + HOUR_MS;
  const l = toLocal(later, timeZone);
  const same = l.year === local.year && l.month === mo && l.day === dd && l.hour === hh && l.minute === mi && l.second === ss;
  return same && offsetAt(later, timeZone) < offsetAt(first, timeZone) ? later : first;
}

/** YYMMDDhhmmssX of an instant in a zone: the flag is S when the zone is ahead of its January offset. */
export function formatP1Timestamp(time: number, timeZone = DEFAULT_P1_TIME_ZONE, withFlag = true): string {
  const l = toLocal(time, timeZone);
  const p = (n: number) => String(n).padStart(2, '0');
  const jan = Date.UTC(l.year, 0, 15);
  const flag = offsetAt(time, timeZone) > offsetAt(jan, timeZone) ? 'S' : 'W';
  return `${p(l.year % 100)}${p(l.month)}${p(l.day)}${p(l.hour)}${p(l.minute)}${p(l.second)}${withFlag ? flag : ''}`;
}
