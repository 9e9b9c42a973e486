/**
 * SML type-length fields. A TL byte is: bit 7 "another TL byte follows", bits 6-4 the type
 * (000 octet string, 100 boolean, 101 integer, 110 unsigned, 111 list), bits 3-0 length; each
 * further TL byte carries 4 more length bits (its type bits are 000). For lists the length counts
 * elements; for the others it counts bytes, TL bytes included. 0x01 (an empty octet string) marks an
 * optional field that is not set; 0x00 ends a message. Numbers are big-endian, two's complement.
 */
import { SmlError } from './transport';

export const enum TlType { OCTETS = 0, BOOLEAN = 4, INTEGER = 5, UNSIGNED = 6, LIST = 7 }

/** A decoded value: not set (null), boolean, number (bigint beyond 2^53), octet string or list. */
export type SmlValue = null | boolean | number | bigint | Buffer | SmlValue[];

const TYPE_NAME: Record<number, string> = { 0: 'octet string', 4: 'boolean', 5: 'integer', 6: 'unsigned', 7: 'list' };

export class SmlReader {
  pos = 0;
  /** Type and length of the TL field last read. */
  type = 0;
  len = 0;

  /** `toStream(i)` maps a buffer index to the offset errors report (default: the index itself). */
  constructor(readonly buf: Buffer, private readonly toStream: (i: number) => number = (i) => i) {}

  fail(reason: string, at = this.pos): never {
    throw new SmlError(this.toStream(at), reason);
  }

  /** Reads a TL field; sets `type` and `len` (data bytes, or elements of a list). */
  tl(): void {
    const b = this.buf;
    const at = this.pos;
    if (at >= b.length) this.fail('truncated: a type-length field expected after the end of the data');
    let byte = b[at];
    const type = (byte >> 4) & 7;
    let len = byte & 0x0f;
    let n = 1;
    while (byte & 0x80) {
      if (at + n >= b.length) this.fail('truncated type-length field', at);
      byte = b[at + n];
      if (byte & 0x70) this.fail(`type-length continuation byte 0x${byte.toString(16)} has type bits set`, at + n);
      len = (len << 4) | (byte & 0x0f);
      if (++n > 4) this.fail('type-length field longer than 4 bytes', at);
    }
    if (type !== TlType.LIST) {
      if (byte === 0 && n === 1) this.fail('unexpected end-of-message byte 0x00', at);
      if (!(type in TYPE_NAME)) this.fail(`unknown type ${type} in type-length byte 0x${b[at].toString(16).padStart(2, '0')}`, at);
      len -= n;
      if (len < 0) this.fail(`type-length field declares ${len + n} bytes, less than its own ${n}`, at);
      if (at + n + len > b.length) this.fail(`truncated: ${TYPE_NAME[type]} of ${len} bytes runs past the end of the data`, at);
    }
    this.type = type;
    this.len = len;
    this.pos = at + n;
  }

  /** True (and consumed) when the next field is 0x01, "optional, not set". */
  absent(): boolean {
    if (this.buf[this.pos] === 0x01) { this.pos++; return true; }
    return false;
  }

  /** Reads a list header; returns its element count. */
  list(what: string): number {
    const at = this.pos;
    this.tl();
    if (this.type !== TlType.LIST) this.fail(`${what} must be a list, found ${TYPE_NAME[this.type]}`, at);
    return this.len;
  }

  octets(what: string): Buffer | null {
    if (this.absent()) return null;
    const at = this.pos;
    this.tl();
    if (this.type !== TlType.OCTETS) this.fail(`${what} must be an octet string, found ${TYPE_NAME[this.type]}`, at);
    const v = this.buf.subarray(this.pos, this.pos + this.len);
    this.pos += this.len;
    return v;
  }

  /** An integer or unsigned field (any size 1..8 bytes); null when not set. */
  number(what: string): number | bigint | null {
    if (this.absent()) return null;
    const at = this.pos;
    this.tl();
    if (this.type !== TlType.INTEGER && this.type !== TlType.UNSIGNED) this.fail(`${what} must be a number, found ${TYPE_NAME[this.type]}`, at);
    return this.scalar(at) as number | bigint;
  }

  /** Any value; lists are read recursively (depth-bounded). */
  value(depth = 0): SmlValue {
    if (this.absent()) return null;
    const at = this.pos;
    this.tl();
    if (this.type === TlType.LIST) {
      if (depth > 16) this.fail('lists nested more than 16 deep', at);
      const n = this.len;
      const items: SmlValue[] = [];
      for (let i = 0; i < n; i++) items.push(this.value(depth + 1));
      return items;
    }
    return this.scalar(at);
  }

  /** The data of the scalar whose TL was just read. */
  private scalar(at: number): SmlValue {
    const b = this.buf;
    const p = this.pos;
    const n = this.len;
    this.pos += n;
    switch (this.type) {
      case TlType.OCTETS: return b.subarray(p, p + n);
      case TlType.BOOLEAN:
        if (n !== 1) this.fail(`boolean of ${n} bytes (1 expected)`, at);
        return b[p] !== 0;
      default: {
        if (n < 1 || n > 8) this.fail(`${TYPE_NAME[this.type]} of ${n} bytes (1..8 expected)`, at);
        const signed = this.type === TlType.INTEGER;
        if (n <= 6) return signed ? b.readIntBE(p, n) : b.readUIntBE(p, n);
        let big = 0n;
        for (let i = 0; i < n; i++) big = (big << 8n) | BigInt(b[p + i]);
        if (signed && b[p] & 0x80) big -= 1n << BigInt(8 * n);
        return big >= BigInt(Number.MIN_SAFE_INTEGER) && big <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(big) : big;
      }
    }
  }
}

// ---- writing (the simulator and tests build telegrams with these) ----

/** TL bytes for a type and a length (data bytes, or elements for lists), multi-byte when needed. */
export function tl(type: TlType, length: number): Buffer {
  if (type === TlType.LIST) return tlBytes(type, length, 0);
  for (let n = 1; n <= 4; n++) if (length + n < 16 ** n) return tlBytes(type, length + n, n);
  throw new Error(`length ${length} is too long for a type-length field`);
}

function tlBytes(type: number, total: number, count: number): Buffer {
  const nibbles: number[] = [];
  let v = total;
  do { nibbles.unshift(v & 0x0f); v >>>= 4; } while (v > 0 || (count && nibbles.length < count));
  return Buffer.from(nibbles.map((x, i) => (i === 0 ? type << 4 : 0) | (i < nibbles.length - 1 ? 0x80 : 0) | x));
}

export const NOT_SET = Buffer.from([0x01]);

export function octets(v: Buffer | string | null): Buffer {
  if (v === null) return NOT_SET;
  const data = typeof v === 'string' ? Buffer.from(v, 'latin1') : v;
  return Buffer.concat([tl(TlType.OCTETS, data.length), data]);
}

/** An unsigned (or with `signed`, integer) of `bytes` bytes. */
export function num(v: number | bigint, bytes: 1 | 2 | 3 | 4 | 5 | 6 | 7 | 8, signed = false): Buffer {
  const data = Buffer.alloc(bytes);
  let x = BigInt(v);
  if (x < 0n) x += 1n << BigInt(8 * bytes);
  for (let i = bytes - 1; i >= 0; i--) { data[i] = Number(x & 0xffn); x >>= 8n; }
  return Buffer.concat([tl(signed ? TlType.INTEGER : TlType.UNSIGNED, bytes), data]);
}

export function list(items: Buffer[]): Buffer {
  return Buffer.concat([tl(TlType.LIST, items.length), ...items]);
}
