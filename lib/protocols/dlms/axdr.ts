/**
 * A-XDR encoding of COSEM data (IEC 62056-6-2 / Blue Book 4.1.5, Green Book 9.5): the `Data` CHOICE.
 *
 *   decodeData(buf, start?, limits?) -> { value: DlmsData, end }     throws DlmsDecodeError, never anything else
 *   encodeData(value) -> Buffer                                        the inverse (round-trips every decoded value)
 *   dataToJson(value)                                                  a plain JSON view (64-bit values as strings when unsafe)
 *   decodeDateTime / encodeDateTime                                    the 12/5/4-byte date-time, date, time octet strings
 *
 * Bounds: nesting depth (default 16), total element count (default 100 000); every length is checked
 * against the bytes left before anything is allocated, so hostile input costs at most O(its length).
 */
import { DlmsDecodeError, Reader, encodeLength } from './errors';

export const DataTag = {
  'null-data': 0, array: 1, structure: 2, boolean: 3, 'bit-string': 4, 'double-long': 5, 'double-long-unsigned': 6,
  'octet-string': 9, 'visible-string': 10, 'utf8-string': 12, bcd: 13, integer: 15, long: 16, unsigned: 17,
  'long-unsigned': 18, 'compact-array': 19, long64: 20, 'long64-unsigned': 21, enum: 22, float32: 23, float64: 24,
  'date-time': 25, date: 26, time: 27, 'dont-care': 255,
} as const;
export type DataType = keyof typeof DataTag;
const TYPE_BY_TAG = new Map<number, DataType>(Object.entries(DataTag).map(([k, v]) => [v, k as DataType]));

export type IntegerType = 'integer' | 'long' | 'double-long' | 'unsigned' | 'long-unsigned' | 'double-long-unsigned' | 'enum' | 'bcd';
export type DlmsData =
  | { type: 'null-data' } | { type: 'dont-care' }
  | { type: 'array' | 'structure'; items: DlmsData[] }
  | { type: 'compact-array'; contents: TypeDescription; items: DlmsData[] }
  | { type: 'boolean'; value: boolean }
  | { type: 'bit-string'; bits: number; value: string }
  | { type: IntegerType; value: number }
  | { type: 'long64' | 'long64-unsigned'; value: bigint }
  | { type: 'float32' | 'float64'; value: number }
  | { type: 'octet-string'; value: Buffer }
  | { type: 'visible-string' | 'utf8-string'; value: string }
  | { type: 'date-time'; value: CosemDateTime } | { type: 'date'; value: CosemDateTime } | { type: 'time'; value: CosemDateTime };

/** A compact-array's type description: a simple type, an array of `count` elements, or a structure. */
export type TypeDescription =
  | { type: Exclude<DataType, 'array' | 'structure' | 'compact-array'> }
  | { type: 'array'; count: number; element: TypeDescription }
  | { type: 'structure'; elements: TypeDescription[] };

/**
 * Date and time as COSEM sends them; null = not specified (0xFF, 0xFFFF, deviation 0x8000).
 * month 0xFD/0xFE = daylight saving end/begin, dayOfMonth 0xFD/0xFE = second last/last day: kept as numbers.
 * deviation: minutes, UTC = local time + deviation (e.g. -60 in CET winter, the sign meters send).
 */
export interface CosemDateTime {
  year: number | null; month: number | null; dayOfMonth: number | null; dayOfWeek: number | null;
  hour: number | null; minute: number | null; second: number | null; hundredths: number | null;
  deviation: number | null;
  /** clock status bits: 0x01 invalid, 0x02 doubtful, 0x04 different base, 0x08 invalid status, 0x80 daylight saving active; null = not specified. */
  clockStatus: number | null;
}

export interface DecodeLimits {
  maxDepth?: number;
  maxElements?: number;
}

interface State {
  r: Reader;
  depth: number;
  maxDepth: number;
  elements: number;
  maxElements: number;
}

function count(s: State, n: number, at: number): void {
  s.elements += n;
  if (s.elements > s.maxElements) throw new DlmsDecodeError(`more than ${s.maxElements} data elements`, at, 'limit');
}

/** Decodes one Data value starting at `start`. */
export function decodeData(buf: Uint8Array, start = 0, limits: DecodeLimits = {}): { value: DlmsData; end: number } {
  const s: State = { r: new Reader(buf, start), depth: 0, maxDepth: limits.maxDepth ?? 16, elements: 0, maxElements: limits.maxElements ?? 100_000 };
  const value = readData(s);
  return { value, end: s.r.pos };
}

function readData(s: State): DlmsData {
  const at = s.r.pos;
  const tag = s.r.u8('data tag');
  const type = TYPE_BY_TAG.get(tag);
  if (!type) throw new DlmsDecodeError(`unknown data type tag ${tag} (0x${tag.toString(16)})`, at, 'unsupported');
  count(s, 1, at);
  if (type === 'array' || type === 'structure') {
    const n = s.r.length(type);
    if (n > s.r.remaining) throw new DlmsDecodeError(`${type} of ${n} elements but ${s.r.remaining} bytes left`, at, 'truncated');
    if (++s.depth > s.maxDepth) throw new DlmsDecodeError(`data nested deeper than ${s.maxDepth}`, at, 'limit');
    const items: DlmsData[] = [];
    for (let i = 0; i < n; i++) items.push(readData(s));
    s.depth--;
    return { type, items };
  }
  if (type === 'compact-array') {
    if (++s.depth > s.maxDepth) throw new DlmsDecodeError(`data nested deeper than ${s.maxDepth}`, at, 'limit');
    const contents = readTypeDescription(s);
    const len = s.r.length('compact-array contents');
    s.r.need(len, 'compact-array contents');
    const end = s.r.pos + len;
    const inner: State = { ...s, r: new Reader(s.r.buf, s.r.pos, end) };
    const items: DlmsData[] = [];
    while (inner.r.remaining > 0) {
      const before = inner.r.pos;
      items.push(readTyped(inner, contents));
      if (inner.r.pos === before) throw new DlmsDecodeError('compact-array element type takes no bytes', before);
    }
    s.elements = inner.elements;
    s.r.pos = end;
    s.depth--;
    return { type, contents, items };
  }
  return readSimple(s, type, at);
}

function readSimple(s: State, type: DataType, at: number): DlmsData {
  const r = s.r;
  switch (type) {
    case 'null-data': case 'dont-care': return { type };
    case 'boolean': return { type, value: r.u8('boolean') !== 0 };
    case 'bit-string': {
      const bits = r.length('bit-string');
      const bytes = r.bytes(Math.ceil(bits / 8), 'bit-string');
      let value = '';
      for (let i = 0; i < bits; i++) value += (bytes[i >> 3] >> (7 - (i & 7))) & 1 ? '1' : '0';
      return { type, bits, value };
    }
    case 'double-long': return { type, value: r.bytes(4, type).readInt32BE(0) };
    case 'double-long-unsigned': return { type, value: r.u32(type) };
    case 'octet-string': return { type, value: r.bytes(r.length(type), type) };
    case 'visible-string': return { type, value: r.bytes(r.length(type), type).toString('latin1') };
    case 'utf8-string': return { type, value: r.bytes(r.length(type), type).toString('utf8') };
    case 'bcd': case 'unsigned': case 'enum': return { type, value: r.u8(type) };
    case 'integer': { const v = r.u8(type); return { type, value: v > 127 ? v - 256 : v }; }
    case 'long': { const v = r.u16(type); return { type, value: v > 32767 ? v - 65536 : v }; }
    case 'long-unsigned': return { type, value: r.u16(type) };
    case 'long64': return { type, value: r.bytes(8, type).readBigInt64BE(0) };
    case 'long64-unsigned': return { type, value: r.bytes(8, type).readBigUInt64BE(0) };
    case 'float32': return { type, value: r.bytes(4, type).readFloatBE(0) };
    case 'float64': return { type, value: r.bytes(8, type).readDoubleBE(0) };
    case 'date-time': return { type, value: decodeDateTime(r.bytes(12, type), r.pos - 12) };
    case 'date': return { type, value: decodeDateTime(r.bytes(5, type), r.pos - 5) };
    case 'time': return { type, value: decodeDateTime(r.bytes(4, type), r.pos - 4) };
    default: throw new DlmsDecodeError(`data type ${type} cannot appear here`, at);
  }
}

function readTypeDescription(s: State): TypeDescription {
  const at = s.r.pos;
  const tag = s.r.u8('type description');
  const type = TYPE_BY_TAG.get(tag);
  if (!type || type === 'compact-array') throw new DlmsDecodeError(`type description tag ${tag} is not a compact-array element type`, at, 'unsupported');
  count(s, 1, at);
  if (type === 'array') {
    const n = s.r.u16('array type description count');
    if (++s.depth > s.maxDepth) throw new DlmsDecodeError(`type description nested deeper than ${s.maxDepth}`, at, 'limit');
    const element = readTypeDescription(s);
    s.depth--;
    return { type, count: n, element };
  }
  if (type === 'structure') {
    const n = s.r.length('structure type description');
    if (n > s.r.remaining) throw new DlmsDecodeError(`structure description of ${n} elements but ${s.r.remaining} bytes left`, at, 'truncated');
    if (++s.depth > s.maxDepth) throw new DlmsDecodeError(`type description nested deeper than ${s.maxDepth}`, at, 'limit');
    const elements: TypeDescription[] = [];
    for (let i = 0; i < n; i++) elements.push(readTypeDescription(s));
    s.depth--;
    return { type, elements };
  }
  return { type } as TypeDescription;
}

/** A value inside a compact array: no tags, the shape comes from the description. */
function readTyped(s: State, d: TypeDescription): DlmsData {
  const at = s.r.pos;
  count(s, 1, at);
  if (d.type === 'array') {
    const items: DlmsData[] = [];
    for (let i = 0; i < d.count; i++) items.push(readTyped(s, d.element));
    return { type: 'array', items };
  }
  if (d.type === 'structure') return { type: 'structure', items: d.elements.map((e) => readTyped(s, e)) };
  return readSimple(s, d.type, at);
}

// ---- date-time ----

const nn = (v: number, none = 0xff) => (v === none ? null : v);

/** Decodes a 12-byte date-time, 5-byte date or 4-byte time octet string. */
export function decodeDateTime(b: Uint8Array, offset = 0): CosemDateTime {
  const dt: CosemDateTime = { year: null, month: null, dayOfMonth: null, dayOfWeek: null, hour: null, minute: null, second: null, hundredths: null, deviation: null, clockStatus: null };
  let p = 0;
  if (b.length === 12 || b.length === 5) {
    dt.year = nn((b[0] << 8) | b[1], 0xffff);
    dt.month = nn(b[2]); dt.dayOfMonth = nn(b[3]); dt.dayOfWeek = nn(b[4]);
    p = 5;
  }
  if (b.length === 12 || b.length === 4) {
    dt.hour = nn(b[p]); dt.minute = nn(b[p + 1]); dt.second = nn(b[p + 2]); dt.hundredths = nn(b[p + 3]);
    p += 4;
  }
  if (b.length === 12) {
    const dev = (b[9] << 8) | b[10];
    dt.deviation = dev === 0x8000 ? null : dev > 32767 ? dev - 65536 : dev;
    dt.clockStatus = nn(b[11]);
  }
  if (p === 0) throw new DlmsDecodeError(`date/time octet string is ${b.length} bytes, 12, 5 or 4 expected`, offset);
  return dt;
}

/** Encodes a date-time (12 bytes), or a date (5) / time (4) with `length`. */
export function encodeDateTime(dt: CosemDateTime, length: 12 | 5 | 4 = 12): Buffer {
  const out: number[] = [];
  const f = (v: number | null) => (v === null ? 0xff : v & 0xff);
  if (length !== 4) { const y = dt.year === null ? 0xffff : dt.year; out.push(y >> 8, y & 0xff, f(dt.month), f(dt.dayOfMonth), f(dt.dayOfWeek)); }
  if (length !== 5) out.push(f(dt.hour), f(dt.minute), f(dt.second), f(dt.hundredths));
  if (length === 12) { const d = dt.deviation === null ? 0x8000 : dt.deviation & 0xffff; out.push(d >> 8, d & 0xff, f(dt.clockStatus)); }
  return Buffer.from(out);
}

/** The instant (epoch ms, UTC) of a fully specified date-time with deviation; null when a field is missing or out of range. */
export function dateTimeToEpochMs(dt: CosemDateTime): number | null {
  const { year, month, dayOfMonth, hour, minute, second, deviation } = dt;
  if (year === null || month === null || dayOfMonth === null || hour === null || minute === null || second === null || deviation === null) return null;
  if (month < 1 || month > 12 || dayOfMonth < 1 || dayOfMonth > 31 || hour > 23 || minute > 59 || second > 59) return null;
  return Date.UTC(year, month - 1, dayOfMonth, hour, minute, second, (dt.hundredths ?? 0) * 10) + deviation * 60_000;
}

/** A date-time for an instant: local time at `utcOffsetMinutes` east of UTC (deviation = -offset). */
export function dateTimeFromEpochMs(ms: number, utcOffsetMinutes = 0, clockStatus = 0): CosemDateTime {
  const d = new Date(ms + utcOffsetMinutes * 60_000);
  return {
    year: d.getUTCFullYear(), month: d.getUTCMonth() + 1, dayOfMonth: d.getUTCDate(), dayOfWeek: ((d.getUTCDay() + 6) % 7) + 1,
    hour: d.getUTCHours(), minute: d.getUTCMinutes(), second: d.getUTCSeconds(), hundredths: Math.floor(d.getUTCMilliseconds() / 10),
    deviation: -utcOffsetMinutes, clockStatus,
  };
}

// ---- encoding ----

export function encodeData(v: DlmsData): Buffer {
  const parts: Buffer[] = [];
  writeData(v, parts, true);
  return Buffer.concat(parts);
}

function writeData(v: DlmsData, out: Buffer[], tagged: boolean): void {
  if (tagged) out.push(Buffer.from([DataTag[v.type]]));
  switch (v.type) {
    case 'null-data': case 'dont-care': return;
    case 'array': case 'structure':
      if (tagged) out.push(encodeLength(v.items.length));
      for (const i of v.items) writeData(i, out, tagged);
      return;
    case 'compact-array': {
      writeTypeDescription(v.contents, out);
      const inner: Buffer[] = [];
      for (const i of v.items) writeData(i, inner, false);
      const body = Buffer.concat(inner);
      out.push(encodeLength(body.length), body);
      return;
    }
    case 'boolean': out.push(Buffer.from([v.value ? 1 : 0])); return;
    case 'bit-string': {
      const b = Buffer.alloc(Math.ceil(v.bits / 8));
      for (let i = 0; i < v.bits; i++) if (v.value[i] === '1') b[i >> 3] |= 0x80 >> (i & 7);
      out.push(encodeLength(v.bits), b);
      return;
    }
    case 'octet-string': out.push(encodeLength(v.value.length), v.value); return;
    case 'visible-string': case 'utf8-string': { const b = Buffer.from(v.value, v.type === 'utf8-string' ? 'utf8' : 'latin1'); out.push(encodeLength(b.length), b); return; }
    case 'date-time': out.push(encodeDateTime(v.value, 12)); return;
    case 'date': out.push(encodeDateTime(v.value, 5)); return;
    case 'time': out.push(encodeDateTime(v.value, 4)); return;
    default: out.push(encodeNumber(v.type, v.value));
  }
}

function encodeNumber(type: DataType, value: number | bigint): Buffer {
  const fail = () => new RangeError(`${type} value ${value} is out of range`);
  const n = Number(value);
  switch (type) {
    case 'integer': if (n < -128 || n > 127) throw fail(); return Buffer.from([n & 0xff]);
    case 'unsigned': case 'enum': case 'bcd': if (n < 0 || n > 255) throw fail(); return Buffer.from([n]);
    case 'long': { if (n < -32768 || n > 32767) throw fail(); const b = Buffer.alloc(2); b.writeInt16BE(n); return b; }
    case 'long-unsigned': { if (n < 0 || n > 65535) throw fail(); const b = Buffer.alloc(2); b.writeUInt16BE(n); return b; }
    case 'double-long': { if (n < -2147483648 || n > 2147483647) throw fail(); const b = Buffer.alloc(4); b.writeInt32BE(n); return b; }
    case 'double-long-unsigned': { if (n < 0 || n > 0xffffffff) throw fail(); const b = Buffer.alloc(4); b.writeUInt32BE(n); return b; }
    case 'long64': { const b = Buffer.alloc(8); b.writeBigInt64BE(BigInt(value)); return b; }
    case 'long64-unsigned': { const b = Buffer.alloc(8); b.writeBigUInt64BE(BigInt(value)); return b; }
    case 'float32': { const b = Buffer.alloc(4); b.writeFloatBE(n); return b; }
    case 'float64': { const b = Buffer.alloc(8); b.writeDoubleBE(n); return b; }
    default: throw new RangeError(`${type} is not a number type`);
  }
}

function writeTypeDescription(d: TypeDescription, out: Buffer[]): void {
  out.push(Buffer.from([DataTag[d.type]]));
  if (d.type === 'array') { const b = Buffer.alloc(2); b.writeUInt16BE(d.count); out.push(b); writeTypeDescription(d.element, out); }
  else if (d.type === 'structure') { out.push(encodeLength(d.elements.length)); for (const e of d.elements) writeTypeDescription(e, out); }
}

// ---- plain views ----

/** A JSON-safe view: numbers, strings, hex for octet strings (plus `dateTime` when 12 bytes), arrays for containers. */
export function dataToJson(v: DlmsData): unknown {
  switch (v.type) {
    case 'null-data': case 'dont-care': return null;
    case 'array': case 'structure': case 'compact-array': return v.items.map(dataToJson);
    case 'long64': case 'long64-unsigned': return Number.isSafeInteger(Number(v.value)) ? Number(v.value) : v.value.toString();
    case 'octet-string': return v.value.length === 12 && looksLikeDateTime(v.value) ? { octets: v.value.toString('hex').toUpperCase(), dateTime: decodeDateTime(v.value) } : v.value.toString('hex').toUpperCase();
    case 'date-time': case 'date': case 'time': return v.value;
    default: return v.value;
  }
}

/** True when 12 bytes are plausibly a COSEM date-time (month, day, hour, minute within range or unspecified). */
export function looksLikeDateTime(b: Uint8Array): boolean {
  if (b.length !== 12) return false;
  const ok = (v: number, lo: number, hi: number, extra: number[] = []) => v === 0xff || (v >= lo && v <= hi) || extra.includes(v);
  return ok(b[2], 1, 12, [0xfd, 0xfe]) && ok(b[3], 1, 31, [0xfd, 0xfe]) && ok(b[4], 1, 7) && ok(b[5], 0, 23) && ok(b[6], 0, 59) && ok(b[7], 0, 59) && ok(b[8], 0, 99);
}

/** Numeric value of an integer/float data element, or undefined. */
export function dataNumber(v: DlmsData): number | undefined {
  if ('value' in v && typeof v.value === 'number') return v.value;
  if ('value' in v && typeof v.value === 'bigint') return Number(v.value);
  return undefined;
}
