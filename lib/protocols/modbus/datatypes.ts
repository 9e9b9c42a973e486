import type { DataType, Encoding } from './types';

const WORDS: Record<DataType, number> = {
  int16: 1, uint16: 1, int32: 2, uint32: 2, int64: 4, uint64: 4, float32: 2, float64: 4,
};

/** Number of 16-bit registers a type occupies. */
export function registerCount(type: DataType): number {
  const n = WORDS[type];
  if (!n) throw new Error(`unknown data type "${type}"`);
  return n;
}

/** Reorders wire bytes (registers as sent) into plain big-endian bytes, or back: the transform is its own inverse. */
function reorder(bytes: Buffer, enc: Encoding): Buffer {
  const words = bytes.length / 2;
  const out = Buffer.allocUnsafe(bytes.length);
  for (let w = 0; w < words; w++) {
    const src = enc.wordOrder === 'big' ? w : words - 1 - w;
    const hi = bytes[src * 2];
    const lo = bytes[src * 2 + 1];
    out[w * 2] = enc.byteOrder === 'big' ? hi : lo;
    out[w * 2 + 1] = enc.byteOrder === 'big' ? lo : hi;
  }
  return out;
}

const scratch = Buffer.alloc(8);

/**
 * The value's bytes in plain big-endian order: the registers themselves when they already are
 * (the Modbus default), else a shared scratch buffer. No allocation on the hot path.
 */
function ordered(registers: Buffer, start: number, words: number, enc: Encoding): [Buffer, number] {
  if (enc.wordOrder === 'big' && enc.byteOrder === 'big') return [registers, start];
  for (let w = 0; w < words; w++) {
    const src = start + (enc.wordOrder === 'big' ? w : words - 1 - w) * 2;
    scratch[w * 2] = enc.byteOrder === 'big' ? registers[src] : registers[src + 1];
    scratch[w * 2 + 1] = enc.byteOrder === 'big' ? registers[src + 1] : registers[src];
  }
  return [scratch, 0];
}

/**
 * Decodes one value from register bytes as received (2 bytes per register, in wire order), starting
 * at register `index`. 64-bit integers beyond 2^53 lose precision (they are energy counters in Wh
 * at most, far below that in practice).
 */
export function decodeValue(registers: Buffer, index: number, enc: Encoding): number {
  const n = registerCount(enc.type);
  const start = index * 2;
  if (start < 0 || start + n * 2 > registers.length) {
    throw new Error(`${enc.type} at register offset ${index} needs ${n} registers, only ${registers.length / 2 - index} received`);
  }
  const [b, at] = ordered(registers, start, n, enc);
  switch (enc.type) {
    case 'int16': return b.readInt16BE(at);
    case 'uint16': return b.readUInt16BE(at);
    case 'int32': return b.readInt32BE(at);
    case 'uint32': return b.readUInt32BE(at);
    case 'int64': return Number(b.readBigInt64BE(at));
    case 'uint64': return Number(b.readBigUInt64BE(at));
    case 'float32': return shortestFloat32(b.readFloatBE(at));
    case 'float64': return b.readDoubleBE(at);
  }
}

/** Exact powers of ten: 10^0 .. 10^22 are all exactly representable doubles. */
const POW10 = Array.from({ length: 23 }, (_, i) => 10 ** i);

/**
 * The shortest decimal that is the same float32 (230.1 rather than 230.10000610351562): what the
 * meter's own display shows, with no precision lost.
 */
export function shortestFloat32(f: number): number {
  if (!Number.isFinite(f) || f === 0) return f;
  const a = Math.abs(f);
  const e = Math.floor(Math.log10(a));
  // Round to 1, 2, ... significant digits; a division by an exact power of ten is correctly
  // rounded, so d is the double nearest that decimal. The first d that is the same float32 wins.
  for (let digits = 1; digits <= 9; digits++) {
    const p = digits - 1 - e;
    if (p > 22 || p < -22) break;
    const d = p >= 0 ? Math.round(a * POW10[p]) / POW10[p] : Math.round(a / POW10[-p]) * POW10[-p];
    if (Math.fround(d) === a) return f < 0 ? -d : d;
  }
  for (let digits = 1; digits <= 9; digits++) {
    const d = Number(f.toPrecision(digits));
    if (Math.fround(d) === f) return d;
  }
  return f;
}

/** Encodes a value into register bytes in wire order (the inverse of decodeValue); integers are rounded and range-checked. */
export function encodeValue(value: number, enc: Encoding): Buffer {
  const b = Buffer.alloc(registerCount(enc.type) * 2);
  const int = Math.round(value);
  const check = (min: number, max: number) => {
    if (!(int >= min && int <= max)) throw new Error(`value ${value} does not fit ${enc.type}`);
  };
  switch (enc.type) {
    case 'int16': check(-0x8000, 0x7fff); b.writeInt16BE(int); break;
    case 'uint16': check(0, 0xffff); b.writeUInt16BE(int); break;
    case 'int32': check(-0x80000000, 0x7fffffff); b.writeInt32BE(int); break;
    case 'uint32': check(0, 0xffffffff); b.writeUInt32BE(int); break;
    case 'int64': check(Number.MIN_SAFE_INTEGER, Number.MAX_SAFE_INTEGER); b.writeBigInt64BE(BigInt(int)); break;
    case 'uint64': check(0, Number.MAX_SAFE_INTEGER); b.writeBigUInt64BE(BigInt(int)); break;
    case 'float32': b.writeFloatBE(value); break;
    case 'float64': b.writeDoubleBE(value); break;
  }
  return reorder(b, enc);
}

/** The raw unsigned register words of a value as sent, for "not available" markers (0xFFFF..., 0x8000...). */
export function rawUnsigned(registers: Buffer, index: number, enc: Encoding): number {
  const n = registerCount(enc.type);
  const [b, at] = ordered(registers, index * 2, n, enc);
  let x = 0;
  for (let i = 0; i < n * 2; i++) x = x * 256 + b[at + i];
  return x;
}
