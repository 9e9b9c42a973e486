/**
 * The fixed data structure (CI 0x73 LSB first / 0x77 MSB first; EN 1434-3, EN 13757-3 annex): id,
 * access number, status, two 6-bit unit codes whose top bits together give the medium (low bits in
 * the first), and two counters (BCD, or binary when status bit 7 is set; historic values when status
 * bit 6 is set).
 */
import { idDigits } from './ids';
import { MbusDecodeError, type MbusRecord, type MbusTelegram } from './types';

/** Unit codes: [quantity, SI unit, decimal exponent]. */
export const FIXED_UNITS: Record<number, [string, string, number]> = {};
const add = (from: number, quantity: string, unit: string, exp0: number, n = 3) => {
  for (let k = 0; k < n; k++) FIXED_UNITS[from + k] = [quantity, unit, exp0 + k];
};
add(0x02, 'energy', 'Wh', 0); add(0x05, 'energy', 'Wh', 3); add(0x08, 'energy', 'Wh', 6);
add(0x0b, 'energy', 'J', 3); add(0x0e, 'energy', 'J', 6); add(0x11, 'energy', 'J', 9);
add(0x14, 'power', 'W', 0); add(0x17, 'power', 'W', 3); add(0x1a, 'power', 'W', 6);
add(0x1d, 'power', 'J/h', 3);
add(0x20, 'mass', 'kg', 0); add(0x23, 'mass', 'kg', 3);
add(0x26, 'volume', 'm3', -6); add(0x29, 'volume', 'm3', -3); add(0x2c, 'volume', 'm3', 0);
add(0x2f, 'volume-flow', 'm3/h', -6); add(0x32, 'volume-flow', 'm3/h', -3); add(0x35, 'volume-flow', 'm3/h', 0);
FIXED_UNITS[0x38] = ['flow-temperature', '°C', -3];
FIXED_UNITS[0x39] = ['hca', 'HCA', 0];
FIXED_UNITS[0x3f] = ['dimensionless', '', 0];

export const FIXED_MEDIA = ['Other', 'Oil', 'Electricity', 'Gas', 'Heat', 'Steam', 'Hot water', 'Water', 'H.C.A.', 'Reserved',
  'Gas mode 2', 'Heat mode 2', 'Hot water mode 2', 'Water mode 2', 'H.C.A. mode 2', 'Reserved'];
/** Fixed-structure media mapped to the variable-structure medium codes. */
const MEDIUM_CODE = [0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x0f, 0x03, 0x04, 0x06, 0x07, 0x08, 0x0f];

export function decodeFixed(ci: number, d: Uint8Array): MbusTelegram {
  if (d.length < 16) throw new MbusDecodeError(`fixed data structure truncated: ${d.length} of 16 bytes`, d.length);
  if (d.length > 16) throw new MbusDecodeError(`fixed data structure has ${d.length - 16} byte(s) after its 16`, 16);
  const msb = ci === 0x77;
  const status = d[5];
  const t1 = d[6], t2 = d[7];
  // Medium: bits 7-6 of the first unit byte are its low bits, those of the second its high bits.
  const medium = ((t1 & 0xc0) >> 6) | ((t2 & 0xc0) >> 4);
  const binary = (status & 0x80) !== 0;
  const historic = (status & 0x40) !== 0;
  const header = {
    id: idDigits(d, 0, msb), manufacturer: '', version: 0, medium: MEDIUM_CODE[medium],
    mediumName: FIXED_MEDIA[medium], accessNumber: d[4], status, signature: 0,
  };
  const records: MbusRecord[] = [];
  for (let k = 0; k < 2; k++) {
    const o = 8 + 4 * k;
    const bytes = Uint8Array.from(d.subarray(o, o + 4)); // a copy: reversed below for CI 0x77
    if (msb) bytes.reverse();
    let code = (k === 0 ? t1 : t2) & 0x3f;
    let storage = historic ? 1 : 0;
    if (k === 1 && code === 0x3e) { code = t1 & 0x3f; storage = 1; }
    const u = FIXED_UNITS[code];
    let raw: number | null;
    let digits = '';
    for (let j = 3; j >= 0; j--) digits += bytes[j].toString(16).padStart(2, '0');
    if (binary) raw = bytes[0] + bytes[1] * 256 + bytes[2] * 65536 + bytes[3] * 16777216;
    else raw = /^[0-9]{8}$/.test(digits) ? Number(digits) : null;
    const rec: MbusRecord = {
      index: k, offset: o, dif: binary ? 0x04 : 0x0c, dife: [], vif: 0, vife: [], function: 'instantaneous',
      storage, tariff: 0, subunit: 0, quantity: u ? u[0] : 'unknown', description: `Counter ${k + 1}` + (u ? '' : ` (unit code 0x${code.toString(16)})`),
      unit: u ? u[1] : '', value: null, raw: digits.toUpperCase(),
    };
    if (!u) rec.unknown = `fixed structure unit code 0x${code.toString(16).padStart(2, '0')} has no unit (time/date or reserved)`;
    else if (raw === null) rec.unknown = `invalid BCD digits ${digits.toUpperCase()}`;
    else rec.value = Number.parseFloat((u[2] >= 0 ? raw * 10 ** u[2] : raw / 10 ** -u[2]).toPrecision(15));
    records.push(rec);
  }
  return { ci, header, records, moreRecordsFollow: false };
}
