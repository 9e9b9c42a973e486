/**
 * Variable data records (EN 13757-3 clause 6): DIF, DIFEs, VIF, VIFEs and data, read one after the
 * other until the user data ends or a special function (0x0F/0x1F manufacturer data) starts.
 * Unknown VIFs give records marked `unknown`; truncated or overlong records throw MbusDecodeError.
 */
import { decodeTypeF, decodeTypeG, decodeTypeI, decodeTypeJ, type MbusDate } from './dates';
import { MbusDecodeError, type MbusFunction, type MbusRecord } from './types';
import { decodeVife, decodeVifeExtension, RECORD_ERRORS } from './vif-ext';
import { lookupVif, type VifInfo } from './vif-table';

const FUNCTIONS: MbusFunction[] = ['instantaneous', 'maximum', 'minimum', 'error'];
/** Data length by DIF coding (low nibble); 0x0D (LVAR) and 0x0F (special) are handled apart. */
const LENGTH = [0, 1, 2, 3, 4, 4, 6, 8, 0, 1, 2, 3, 4, -1, 6, -1];
const MAX_EXTENSIONS = 10;

export interface RecordsResult {
  records: MbusRecord[];
  moreRecordsFollow: boolean;
  manufacturerData?: string;
}

const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0').toUpperCase());
function hex(b: Uint8Array, from: number, to: number): string {
  let s = '';
  for (let i = from; i < to; i++) s += HEX[b[i]];
  return s;
}

/** A copy of d[from..to): Buffer's slice() is a view, and reversing a view would change the caller's bytes. */
const copyOf = (d: Uint8Array, from: number, to: number): Uint8Array => Uint8Array.from(d.subarray(from, to));

/** Reads `n` bytes at `o` in transmission order, LSB first unless msbFirst (CI 0x76/0x77). */
function ordered(d: Uint8Array, o: number, n: number, msbFirst: boolean): Uint8Array {
  const out = copyOf(d, o, o + n);
  return msbFirst ? out.reverse() : out;
}

function intLE(b: Uint8Array): number {
  if (b.length <= 6) {
    // Exact in a double: two's complement of up to 48 bits.
    let u = 0;
    for (let i = b.length - 1; i >= 0; i--) u = u * 256 + b[i];
    return b.length > 0 && b[b.length - 1] & 0x80 ? u - 2 ** (8 * b.length) : u;
  }
  let v = 0n;
  for (let i = b.length - 1; i >= 0; i--) v = (v << 8n) | BigInt(b[i]);
  const bits = BigInt(b.length * 8);
  if (b.length > 0 && b[b.length - 1] & 0x80) v -= 1n << bits;
  return Number(v);
}

function uintLE(b: Uint8Array): number {
  let v = 0;
  for (let i = b.length - 1; i >= 0; i--) v = v * 256 + b[i];
  return v;
}

/** BCD, LSB first; a top nibble 0xF means negative (EN 13757-3 Annex B). Null when a digit is A-F. */
function bcd(b: Uint8Array): { value: number | null; digits: string } {
  let digits = '';
  for (let i = b.length - 1; i >= 0; i--) digits += b[i].toString(16).padStart(2, '0');
  digits = digits.toUpperCase();
  let sign = 1;
  let body = digits;
  if (digits[0] === 'F') { sign = -1; body = digits.slice(1); }
  if (!/^[0-9]*$/.test(body)) return { value: null, digits };
  return { value: sign * Number(body || '0'), digits };
}

function bcdDigits(b: Uint8Array): string {
  let s = '';
  for (let i = b.length - 1; i >= 0; i--) s += b[i].toString(16).padStart(2, '0');
  return s.toUpperCase();
}

interface Vib {
  info?: VifInfo;
  unknown?: string;
  notes: string[];
  modifiers: string[];
  factor: number;
  unitSuffix: string;
  error?: number;
  plainText?: string;
}

/** A plain-text unit at `at`: a length byte, then the characters, last one first. */
interface PlainText { text: string; next: number; printable: boolean }

function plainTextAt(d: Uint8Array, at: number, end: number): PlainText | undefined {
  if (at >= end) return undefined;
  const n = d[at];
  if (at + 1 + n > end) return undefined;
  const chars = copyOf(d, at + 1, at + 1 + n).reverse();
  // Printable ASCII or Latin-1 ("°C"); control codes mean these bytes are not the text.
  const printable = n > 0 && chars.every((c) => (c >= 0x20 && c < 0x7f) || c >= 0xa0);
  return { text: Buffer.from(chars).toString('latin1'), next: at + 1 + n, printable };
}

/** Position after the VIFE chain starting at `i` (each VIFE with bit 7 set announces another), or -1 if it runs past `end`. */
function afterVifes(d: Uint8Array, i: number, end: number): number {
  while (i < end) if ((d[i++] & 0x80) === 0) return i;
  return -1;
}

/**
 * Reads the VIF/VIFE chain starting at `i`; returns the new position. Plain text VIFs (0x7C/0xFC)
 * carry their unit as a length-prefixed string, last character first: EN 13757-3 puts it after the
 * last VIFE; some devices (Elvaco CMa10/CMa11) send it right after VIF 0xFC, before the VIFEs.
 * The standard placement is taken unless only the other one gives printable text.
 */
function readVib(d: Uint8Array, i: number, end: number, vif: number, vife: number[], vib: Vib, recStart: number): number {
  const need = (what: string) => {
    if (i >= end) throw new MbusDecodeError(`record at ${recStart} truncated: ${what} expected`, i);
  };
  const code = vif & 0x7f;
  let table: 'primary' | 'FB' | 'FD' | null = 'primary';
  const plain = code === 0x7c;
  if (plain) {
    table = null;
  } else if (code === 0x7e) {
    vib.unknown = 'VIF 0x7E (any VIF) is used in readout requests, not in data';
    table = null;
  } else if (code === 0x7f) {
    vib.unknown = 'manufacturer-specific VIF';
    table = null;
  } else if (vif === 0xfb || vif === 0xfd) {
    table = vif === 0xfb ? 'FB' : 'FD';
  } else if (code === 0x7b || code === 0x7d) {
    vib.unknown = `VIF 0x${vif.toString(16).toUpperCase()} without its extension byte`;
    table = null;
  }
  let ext = (vif & 0x80) !== 0;
  if (plain && ext) {
    const vifesEnd = afterVifes(d, i, end);
    const standard = vifesEnd < 0 ? undefined : plainTextAt(d, vifesEnd, end);
    const beforeVifes = standard?.printable ? undefined : plainTextAt(d, i, end);
    if (beforeVifes?.printable) {
      vib.plainText = beforeVifes.text;
      i = beforeVifes.next;
    }
  }
  if (table === 'FB' || table === 'FD') {
    need(`VIFE of table ${table}`);
    const e = d[i++];
    vife.push(e);
    vib.info = lookupVif(table, e);
    if (!vib.info) vib.unknown = `reserved VIF 0x${vif.toString(16).toUpperCase()} 0x${e.toString(16).toUpperCase()}`;
    ext = (e & 0x80) !== 0;
  } else if (table === 'primary') {
    vib.info = lookupVif('primary', code);
    if (!vib.info) vib.unknown = `reserved VIF 0x${vif.toString(16).toUpperCase()}`;
  }
  let manufacturer = code === 0x7f;
  while (ext) {
    if (vife.length >= MAX_EXTENSIONS) throw new MbusDecodeError(`record at ${recStart} has more than ${MAX_EXTENSIONS} VIFEs`, i);
    need('VIFE');
    const e = d[i++];
    vife.push(e);
    ext = (e & 0x80) !== 0;
    if (manufacturer) continue; // the rest of the VIFEs are the manufacturer's
    const c = e & 0x7f;
    if (c === 0x7f) { manufacturer = true; vib.notes.push('manufacturer-specific VIFEs follow'); vib.modifiers.push('manufacturer-specific'); continue; }
    if (c === 0x7c) {
      if (!ext) continue;
      need('VIFE after 0xFC');
      const e2 = d[i++];
      vife.push(e2);
      ext = (e2 & 0x80) !== 0;
      const x = decodeVifeExtension(e2);
      if (x) { vib.notes.push(x.note); vib.modifiers.push(x.modifier); } else vib.notes.push(`reserved VIFE 0xFC 0x${e2.toString(16)}`);
      continue;
    }
    const v = decodeVife(c);
    if (!v) { vib.notes.push(`reserved VIFE 0x${c.toString(16)}`); vib.modifiers.push('reserved'); continue; }
    vib.notes.push(v.note);
    vib.modifiers.push(v.modifier);
    if (v.factor) vib.factor *= v.factor;
    if (v.unitSuffix) vib.unitSuffix += v.unitSuffix;
    if (v.error !== undefined) vib.error = v.error;
  }
  if (plain) {
    if (vib.plainText === undefined) {
      need('plain text VIF length');
      const text = plainTextAt(d, i, end);
      if (!text) throw new MbusDecodeError(`record at ${recStart} truncated: plain text VIF of ${d[i]} characters`, i + 1);
      vib.plainText = text.text;
      i = text.next;
    }
    vib.info = { quantity: 'plain-text', description: `Plain text unit "${vib.plainText}"`, unit: vib.plainText + vib.unitSuffix, exponent: 0, kind: 'number' };
    vib.unitSuffix = '';
  }
  return i;
}

function dateOf(kind: string, data: Uint8Array): MbusDate | undefined {
  if (kind !== 'date' && kind !== 'datetime') return undefined;
  switch (data.length) {
    case 2: return decodeTypeG(data);
    case 3: return decodeTypeJ(data);
    case 4: return decodeTypeF(data);
    case 6: return decodeTypeI(data);
    default: return undefined;
  }
}

/** Decodes the records in d[start..end). `base` is added to offsets in errors and records. */
export function decodeRecords(d: Uint8Array, start = 0, end = d.length, msbFirst = false, base = 0): RecordsResult {
  const records: MbusRecord[] = [];
  let i = start;
  const err = (reason: string, at: number) => new MbusDecodeError(reason, at + base);
  while (i < end) {
    const recStart = i;
    const dif = d[i++];
    if (dif === 0x2f) continue; // idle filler
    if (dif === 0x0f || dif === 0x1f) {
      return { records, moreRecordsFollow: dif === 0x1f, manufacturerData: i < end ? hex(d, i, end) : undefined };
    }
    if ((dif & 0x0f) === 0x0f) {
      // 0x3F..0x6F reserved, 0x7F global readout request: no length is defined, the rest cannot be read.
      records.push(unknownRest(records.length, recStart, dif, d, end, base, dif === 0x7f ? 'global readout request (DIF 0x7F) in data' : `reserved special function DIF 0x${dif.toString(16).toUpperCase()}`));
      return { records, moreRecordsFollow: false };
    }
    const dife: number[] = [];
    let storage = (dif >> 6) & 1, tariff = 0, subunit = 0;
    let ext = (dif & 0x80) !== 0;
    while (ext) {
      if (dife.length >= MAX_EXTENSIONS) throw err(`record at ${recStart + base} has more than ${MAX_EXTENSIONS} DIFEs`, i);
      if (i >= end) throw err(`record at ${recStart + base} truncated: DIFE expected`, i);
      const e = d[i++];
      const n = dife.length;
      dife.push(e);
      storage += (e & 0x0f) * 2 ** (1 + 4 * n);
      tariff += ((e >> 4) & 3) * 2 ** (2 * n);
      subunit += ((e >> 6) & 1) * 2 ** n;
      ext = (e & 0x80) !== 0;
    }
    if (i >= end) {
      throw err(`record at ${recStart + base} truncated: VIF expected after DIF 0x${dif.toString(16).toUpperCase()}`, i);
    }
    const vif = d[i++];
    const vife: number[] = [];
    const vib: Vib = { notes: [], modifiers: [], factor: 1, unitSuffix: '' };
    i = readVib(d, i, end, vif, vife, vib, recStart + base);
    // Data field
    const coding = dif & 0x0f;
    let len = LENGTH[coding];
    let lvar = -1;
    if (coding === 0x0d) {
      if (i >= end) throw err(`record at ${recStart + base} truncated: LVAR expected`, i);
      lvar = d[i++];
      if (lvar <= 0xbf) len = lvar;
      else if (lvar <= 0xcf) len = lvar - 0xc0;
      else if (lvar <= 0xdf) len = lvar - 0xd0;
      else if (lvar <= 0xef) len = lvar - 0xe0;
      else if (lvar <= 0xf4) len = 4 * (lvar - 0xec); // binary number of 16..32 bytes
      else if (lvar === 0xf5) len = 48;
      else if (lvar === 0xf6) len = 64;
      else throw err(`record at ${recStart + base}: reserved LVAR 0x${lvar.toString(16).toUpperCase()}`, i - 1);
    }
    if (i + len > end) throw err(`record at ${recStart + base} truncated: ${len} data bytes expected, ${end - i} left`, i);
    const data = ordered(d, i, len, msbFirst);
    i += len;
    const rec: MbusRecord = {
      index: records.length, offset: recStart + base, dif, dife, vif, vife,
      function: FUNCTIONS[(dif >> 4) & 3], storage, tariff, subunit,
      quantity: vib.info?.quantity ?? 'unknown',
      description: [vib.info?.description ?? 'Unknown', ...vib.notes].join(', '),
      unit: vib.info ? (vib.info.unit + vib.unitSuffix) : '',
      value: null,
      raw: hex(d, recStart, i),
    };
    if (vib.modifiers.length) rec.modifiers = vib.modifiers;
    if (vib.error !== undefined) rec.recordError = { code: vib.error, text: RECORD_ERRORS[vib.error] ?? 'reserved error code' };
    decodeValue(rec, coding, lvar, data, vib);
    records.push(rec);
  }
  return { records, moreRecordsFollow: false };
}

function unknownRest(index: number, at: number, dif: number, d: Uint8Array, end: number, base: number, reason: string): MbusRecord {
  return {
    index, offset: at + base, dif, dife: [], vif: 0, vife: [], function: 'instantaneous', storage: 0, tariff: 0, subunit: 0,
    quantity: 'unknown', description: 'Unknown', unit: '', value: null, raw: hex(d, at, end), unknown: reason,
  };
}

function decodeValue(rec: MbusRecord, coding: number, lvar: number, data: Uint8Array, vib: Vib): void {
  const info = vib.info;
  if (!info) {
    rec.unknown = vib.unknown ?? 'unknown VIF';
    // The DIF still says what the data is: LVAR text is text (ABB sends its type name this way), the rest hex.
    const shown = Buffer.from(data).reverse();
    if (!data.length) rec.value = null;
    else rec.value = coding === 0x0d && lvar <= 0xbf ? shown.toString('latin1') : shown.toString('hex').toUpperCase();
    return;
  }
  if (coding === 0x00 || coding === 0x08) return; // no data / selection for readout
  // Strings: LVAR ASCII (last character first)
  if (coding === 0x0d && lvar <= 0xbf) {
    rec.value = Buffer.from(data).reverse().toString('latin1');
    return;
  }
  if (coding === 0x0d && lvar >= 0xe0 && lvar <= 0xef) {
    rec.value = data.length <= 6 ? uintLE(data) : Buffer.from(data).reverse().toString('hex').toUpperCase();
    return;
  }
  if (coding === 0x0d && lvar >= 0xf0) {
    rec.value = Buffer.from(data).reverse().toString('hex').toUpperCase(); // long binary number, as hex
    return;
  }
  const isBcd = coding >= 0x09 && coding <= 0x0e && coding !== 0x0d || (coding === 0x0d && lvar >= 0xc0);
  if (info.kind === 'date' || info.kind === 'datetime') {
    const dt = !isBcd && coding !== 0x05 ? dateOf(info.kind, data) : undefined;
    if (!dt) { rec.unknown = `date record with ${data.length}-byte data field`; rec.value = bcdDigits(data); return; }
    rec.value = dt.text;
    if (!dt.invalid && dt.time !== undefined) rec.time = dt.time;
    if (dt.invalid) rec.unknown = 'invalid date';
    return;
  }
  if (info.kind === 'id') {
    rec.value = isBcd ? bcdDigits(data) : String(uintLE(data));
    return;
  }
  if (info.kind === 'bits') {
    rec.value = isBcd ? bcdDigits(data) : uintLE(data);
    return;
  }
  let raw: number | null;
  if (coding === 0x05) {
    raw = Buffer.from(data).readFloatLE(0);
    if (!Number.isFinite(raw)) { rec.unknown = 'real value is not finite'; rec.value = null; return; }
  } else if (isBcd) {
    const b = bcd(data);
    if (b.value === null) { rec.unknown = `invalid BCD digits ${b.digits}`; rec.value = null; return; }
    raw = b.value;
    if (coding === 0x0d && lvar >= 0xd0) raw = -raw;
  } else {
    raw = intLE(data);
  }
  rec.value = scale(raw, info.exponent, vib.factor);
}

/** raw x 10^exponent: dividing an integer by an exact power of ten gives the double nearest the decimal value. */
function scale(raw: number, exponent: number, factor: number): number {
  const v = exponent >= 0 ? raw * 10 ** exponent : raw / 10 ** -exponent;
  return factor === 1 ? v : Number.parseFloat((v * factor).toPrecision(15));
}
