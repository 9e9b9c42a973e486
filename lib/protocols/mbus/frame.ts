/**
 * M-Bus link layer (EN 13757-2, FT1.2): the single character ACK, short, control and long frames,
 * their checksums, and a stream splitter for transports. The application layer (CI field and the
 * user data after it) is decoded elsewhere; here a long frame's `data` is the bytes after CI.
 */
export const ACK = 0xe5;
export const START_SHORT = 0x10;
export const START_LONG = 0x68;
export const STOP = 0x16;

/** Control fields, master to slave (PRM bit 0x40 set) and slave to master. */
export const C = {
  SND_NKE: 0x40,
  /** SND_UD with FCV set; OR in FCB for the alternate frame. */
  SND_UD: 0x53,
  REQ_UD1: 0x5a,
  REQ_UD2: 0x5b,
  /** RSP_UD; bits ACD (0x20) and DFC (0x10) may be set by the slave. */
  RSP_UD: 0x08,
  FCB: 0x20,
  FCV: 0x10,
} as const;

/** Special addresses: 0..250 primary, 253 secondary (after selection), 254 broadcast with reply, 255 without. */
export const ADDRESS = { MAX_PRIMARY: 250, SECONDARY: 0xfd, BROADCAST_REPLY: 0xfe, BROADCAST: 0xff } as const;

/** Largest user data after CI in one long frame (L is one byte and counts C, A and CI). */
export const MAX_DATA = 252;

export type Frame =
  | { kind: 'ack' }
  | { kind: 'short'; c: number; a: number }
  | { kind: 'control'; c: number; a: number; ci: number }
  | { kind: 'long'; c: number; a: number; ci: number; data: Buffer };

/** A frame that cannot be decoded; `offset` is where in the input the problem is. */
export class MbusFrameError extends Error {
  constructor(message: string, readonly offset: number) {
    super(`${message} (at byte ${offset})`);
    this.name = 'MbusFrameError';
  }
}

export function checksum(bytes: Uint8Array, from = 0, to = bytes.length): number {
  let sum = 0;
  for (let i = from; i < to; i++) sum = (sum + bytes[i]) & 0xff;
  return sum;
}

function checkAddress(a: number): void {
  if (!Number.isInteger(a) || a < 0 || a > 255) throw new RangeError(`M-Bus address ${JSON.stringify(a)} must be 0..255`);
}

export function encodeShort(c: number, a: number): Buffer {
  checkAddress(a);
  return Buffer.from([START_SHORT, c, a, (c + a) & 0xff, STOP]);
}

/** A long frame (or, with no data, a control frame) carrying CI and user data. */
export function encodeLong(c: number, a: number, ci: number, data: Uint8Array = Buffer.alloc(0)): Buffer {
  checkAddress(a);
  if (data.length > MAX_DATA) throw new RangeError(`M-Bus user data of ${data.length} bytes exceeds ${MAX_DATA}`);
  const l = data.length + 3;
  const out = Buffer.alloc(l + 6);
  out[0] = START_LONG; out[1] = l; out[2] = l; out[3] = START_LONG;
  out[4] = c; out[5] = a; out[6] = ci;
  out.set(data, 7);
  out[l + 4] = checksum(out, 4, l + 4);
  out[l + 5] = STOP;
  return out;
}

/** Encodes any frame (the inverse of {@link decodeFrame}). */
export function encodeFrame(f: Frame): Buffer {
  switch (f.kind) {
    case 'ack': return Buffer.from([ACK]);
    case 'short': return encodeShort(f.c, f.a);
    case 'control': return encodeLong(f.c, f.a, f.ci);
    case 'long': return encodeLong(f.c, f.a, f.ci, f.data);
  }
}

/** SND_NKE (link reset) to a primary or the secondary address. */
export const sndNke = (a: number): Buffer => encodeShort(C.SND_NKE, a);
/** REQ_UD2 (class 2 data request); `fcb` alternates between successive requests to the same slave. */
export const reqUd2 = (a: number, fcb = false): Buffer => encodeShort(C.REQ_UD2 | (fcb ? C.FCB : 0), a);

/**
 * Length of the frame starting at bytes[0]: the number of bytes to wait for, or null when the
 * start byte is not a frame start. For a long frame it needs the first 3 bytes to know.
 */
export function frameLength(bytes: Uint8Array): number | null {
  if (bytes.length === 0) return 1;
  switch (bytes[0]) {
    case ACK: return 1;
    case START_SHORT: return 5;
    case START_LONG: return bytes.length < 2 ? 4 : bytes[1] + 6;
    default: return null;
  }
}

/** Decodes exactly one frame; throws MbusFrameError naming the offset on any link-layer fault. */
export function decodeFrame(bytes: Uint8Array): Frame {
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length);
  if (buf.length === 0) throw new MbusFrameError('empty frame', 0);
  const start = buf[0];
  if (start === ACK) {
    if (buf.length !== 1) throw new MbusFrameError(`${buf.length - 1} byte(s) after the single character ACK`, 1);
    return { kind: 'ack' };
  }
  if (start === START_SHORT) {
    if (buf.length < 5) throw new MbusFrameError(`short frame truncated: ${buf.length} of 5 bytes`, buf.length);
    if (buf.length > 5) throw new MbusFrameError(`${buf.length - 5} byte(s) after the short frame`, 5);
    if (checksum(buf, 1, 3) !== buf[3]) throw new MbusFrameError(`short frame checksum 0x${hex2(buf[3])}, expected 0x${hex2(checksum(buf, 1, 3))}`, 3);
    if (buf[4] !== STOP) throw new MbusFrameError(`stop byte 0x${hex2(buf[4])}, expected 0x16`, 4);
    return { kind: 'short', c: buf[1], a: buf[2] };
  }
  if (start !== START_LONG) throw new MbusFrameError(`start byte 0x${hex2(start)} is not 0xE5, 0x10 or 0x68`, 0);
  if (buf.length < 4) throw new MbusFrameError(`long frame header truncated: ${buf.length} of 4 bytes`, buf.length);
  const l = buf[1];
  if (buf[2] !== l) throw new MbusFrameError(`length fields differ: 0x${hex2(l)} and 0x${hex2(buf[2])}`, 2);
  if (buf[3] !== START_LONG) throw new MbusFrameError(`second start byte 0x${hex2(buf[3])}, expected 0x68`, 3);
  if (l < 3) throw new MbusFrameError(`length ${l} is below 3 (C, A and CI)`, 1);
  if (buf.length < l + 6) throw new MbusFrameError(`long frame truncated: ${buf.length} of ${l + 6} bytes`, buf.length);
  if (buf.length > l + 6) throw new MbusFrameError(`${buf.length - l - 6} byte(s) after the frame's stop byte`, l + 6);
  const cs = checksum(buf, 4, l + 4);
  if (cs !== buf[l + 4]) throw new MbusFrameError(`checksum 0x${hex2(buf[l + 4])}, expected 0x${hex2(cs)}`, l + 4);
  if (buf[l + 5] !== STOP) throw new MbusFrameError(`stop byte 0x${hex2(buf[l + 5])}, expected 0x16`, l + 5);
  const c = buf[4], a = buf[5], ci = buf[6];
  if (l === 3) return { kind: 'control', c, a, ci };
  return { kind: 'long', c, a, ci, data: Buffer.from(buf.subarray(7, l + 4)) };
}

/**
 * Splits a byte stream into frames for a transport: feed bytes in, take whole frames out.
 * Bytes before a valid start byte are reported as garbage (a collision or line noise), not thrown.
 */
export class FrameSplitter {
  private pending = Buffer.alloc(0);

  /** Appends bytes; returns the complete frames now available (raw, undecoded) and any skipped garbage. */
  push(chunk: Uint8Array): { frames: Buffer[]; garbage: number } {
    this.pending = Buffer.concat([this.pending, chunk]);
    const frames: Buffer[] = [];
    let garbage = 0;
    for (;;) {
      const need = frameLength(this.pending);
      if (need === null) {
        garbage++;
        this.pending = this.pending.subarray(1);
        continue;
      }
      if (this.pending.length === 0 || this.pending.length < need) break;
      frames.push(Buffer.from(this.pending.subarray(0, need)));
      this.pending = this.pending.subarray(need);
    }
    return { frames, garbage };
  }

  /** Bytes received that do not yet make a whole frame. */
  get buffered(): number {
    return this.pending.length;
  }

  reset(): void {
    this.pending = Buffer.alloc(0);
  }
}

/**
 * The secondary address of a meter (EN 13757-3): 8 BCD digits of identification, a 3-letter
 * manufacturer, version and medium. In a selection mask any digit may be 'F' (wildcard), and
 * manufacturer, version or medium may be null (wildcard).
 */
export interface SecondaryAddress {
  id: string;
  manufacturer: string | null;
  version: number | null;
  medium: number | null;
}

/** Manufacturer code (2 bytes, little-endian) to its 3 letters: each letter is 5 bits, 'A' = 1. */
export function manufacturerName(code: number): string {
  return String.fromCharCode(((code >> 10) & 0x1f) + 64, ((code >> 5) & 0x1f) + 64, (code & 0x1f) + 64);
}

export function manufacturerCode(name: string): number {
  if (!/^[A-Z]{3}$/.test(name)) throw new RangeError(`manufacturer ${JSON.stringify(name)} must be 3 letters A-Z`);
  return ((name.charCodeAt(0) - 64) << 10) | ((name.charCodeAt(1) - 64) << 5) | (name.charCodeAt(2) - 64);
}

/** The 8 selection bytes (id LSB first, manufacturer, version, medium) of a secondary address or mask. */
export function encodeSecondary(addr: SecondaryAddress): Buffer {
  if (!/^[0-9F]{8}$/i.test(addr.id)) throw new RangeError(`secondary id ${JSON.stringify(addr.id)} must be 8 digits 0-9 or F (wildcard)`);
  const id = addr.id.toUpperCase();
  const out = Buffer.alloc(8);
  for (let i = 0; i < 4; i++) out[i] = parseInt(id.slice(6 - 2 * i, 8 - 2 * i), 16);
  out.writeUInt16LE(addr.manufacturer === null ? 0xffff : manufacturerCode(addr.manufacturer), 4);
  out[6] = addr.version ?? 0xff;
  out[7] = addr.medium ?? 0xff;
  return out;
}

export function decodeSecondary(bytes: Uint8Array): SecondaryAddress {
  if (bytes.length < 8) throw new MbusFrameError(`secondary address needs 8 bytes, got ${bytes.length}`, bytes.length);
  let id = '';
  for (let i = 3; i >= 0; i--) id += hex2(bytes[i]);
  const man = bytes[4] | (bytes[5] << 8);
  return { id, manufacturer: man === 0xffff ? null : manufacturerName(man), version: bytes[6] === 0xff ? null : bytes[6], medium: bytes[7] === 0xff ? null : bytes[7] };
}

/** CI 0x52: select a slave by secondary address (or mask); it answers ACK when it matches. */
export const CI_SELECT = 0x52;

export function selectFrame(mask: SecondaryAddress, fcb = false): Buffer {
  return encodeLong(C.SND_UD | (fcb ? C.FCB : 0), ADDRESS.SECONDARY, CI_SELECT, encodeSecondary(mask));
}

/** True when a slave with address `addr` answers a selection with `mask` (wildcards match anything). */
export function secondaryMatches(mask: SecondaryAddress, addr: SecondaryAddress): boolean {
  const m = mask.id.toUpperCase();
  for (let i = 0; i < 8; i++) if (m[i] !== 'F' && m[i] !== addr.id[i]) return false;
  if (mask.manufacturer !== null && mask.manufacturer !== addr.manufacturer) return false;
  if (mask.version !== null && mask.version !== addr.version) return false;
  if (mask.medium !== null && mask.medium !== addr.medium) return false;
  return true;
}

export function hex2(n: number): string {
  return n.toString(16).padStart(2, '0').toUpperCase();
}

/** Hex text (spaces, colons and 0x prefixes allowed) to bytes: the poll server's parser. */
export { parseHex } from '../hex/hex';
