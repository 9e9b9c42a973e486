/**
 * EN 13757-3 Annex A date and time types. Meters send their local wall-clock time without zone; the
 * returned `time` reads it as UTC (epoch ms) and `text` is the ISO form without zone.
 *   G (2 bytes): date.  F (4 bytes): date and time to the minute.  I (6 bytes): date and time to
 *   the second.  J (3 bytes): time of day only (no epoch).
 */
export interface MbusDate {
  text: string;
  /** Epoch ms, wall clock read as UTC; absent for time-only (type J) values. */
  time?: number;
  /** Type F/I "invalid" flag, or an impossible date. */
  invalid: boolean;
  /** Type F/I summer time flag. */
  summerTime?: boolean;
}

const p2 = (n: number) => String(n).padStart(2, '0');

function year(lo: number, hi: number): number {
  const y = ((lo & 0xe0) >> 5) | ((hi & 0xf0) >> 1);
  return y < 81 ? 2000 + y : 1900 + y; // two-digit year, windowed as in common practice
}

function make(y: number, mo: number, d: number, h: number, mi: number, s: number, invalid: boolean, withTime: boolean): MbusDate {
  const bad = invalid || mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || s > 59;
  const text = `${y}-${p2(mo)}-${p2(d)}` + (withTime ? `T${p2(h)}:${p2(mi)}` + (s || withTime ? `:${p2(s)}` : '') : '');
  if (bad) return { text, invalid: true };
  const t = Date.UTC(y, mo - 1, d, h, mi, s);
  // Reject dates that roll over (31 February).
  if (new Date(t).getUTCDate() !== d) return { text, invalid: true };
  return { text, time: t, invalid: false };
}

/** Type G: 16-bit date. 0xFFFF (and day/month 0) means "no date". */
export function decodeTypeG(b: Uint8Array, o = 0): MbusDate {
  return make(year(b[o], b[o + 1]), b[o + 1] & 0x0f, b[o] & 0x1f, 0, 0, 0, false, false);
}

/** Type F: 32-bit date and time (minutes), IV bit 7 of the minute byte, SU bit 7 of the hour byte. */
export function decodeTypeF(b: Uint8Array, o = 0): MbusDate {
  const r = make(year(b[o + 2], b[o + 3]), b[o + 3] & 0x0f, b[o + 2] & 0x1f, b[o + 1] & 0x1f, b[o] & 0x3f, 0, (b[o] & 0x80) !== 0, true);
  return { ...r, summerTime: (b[o + 1] & 0x80) !== 0 };
}

/** Type I: 48-bit date and time (seconds); IV bit 7 of the minute byte, SU bit 7 of the hour byte. */
export function decodeTypeI(b: Uint8Array, o = 0): MbusDate {
  const r = make(year(b[o + 3], b[o + 4]), b[o + 4] & 0x0f, b[o + 3] & 0x1f, b[o + 2] & 0x1f, b[o + 1] & 0x3f, b[o] & 0x3f, (b[o + 1] & 0x80) !== 0, true);
  return { ...r, summerTime: (b[o + 2] & 0x80) !== 0 };
}

/** Type J: 24-bit time of day. */
export function decodeTypeJ(b: Uint8Array, o = 0): MbusDate {
  const s = b[o] & 0x3f, m = b[o + 1] & 0x3f, h = b[o + 2] & 0x1f;
  return { text: `${p2(h)}:${p2(m)}:${p2(s)}`, invalid: h > 23 || m > 59 || s > 59 };
}
