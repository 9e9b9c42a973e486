/** HEX text <-> bytes, and the check sums used on poll-server responses. */
import { crc16 } from '../modbus/crc16';

/** "01 03 00 00 00 02 C4 0B", "0x01,0x03", "010300000002C40B" -> bytes; the error names the field, the text and the bad digit. */
export function parseHex(text: string, field = 'hex'): Buffer {
  if (typeof text !== 'string') throw new Error(`${field} must be a HEX string, got ${JSON.stringify(text)}`);
  const clean = text.replace(/0x/gi, '').replace(/[\s,:;-]/g, '');
  const badAt = clean.search(/[^0-9a-fA-F]/);
  if (clean === '' || badAt >= 0 || clean.length % 2) {
    const shown = JSON.stringify(text.length > 80 ? `${text.slice(0, 80)}...` : text);
    const why = badAt >= 0 ? ` (${JSON.stringify(clean[badAt])} at position ${badAt} is not a hex digit)` : '';
    throw new Error(`${field} ${shown} is not an even number of HEX digits${why}`);
  }
  return Buffer.from(clean, 'hex');
}

export function toHex(data: Uint8Array): string {
  return Buffer.from(data).toString('hex').toUpperCase();
}

/** CRC-16/X-25 (HDLC, IEC 62056-46, M-Bus wireless link layer): poly 0x1021 reflected, init and xorout 0xFFFF. */
export function crc16X25(data: Uint8Array, start = 0, end = data.length): number {
  let c = 0xffff;
  for (let i = start; i < end; i++) {
    c ^= data[i];
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0x8408 : c >>> 1;
  }
  return (c ^ 0xffff) & 0xffff;
}

/** Arithmetic sum of the bytes modulo 256 (the M-Bus frame checksum). */
export function sum8(data: Uint8Array, start = 0, end = data.length): number {
  let s = 0;
  for (let i = start; i < end; i++) s = (s + data[i]) & 0xff;
  return s;
}

export const CHECKS = ['none', 'crc16-modbus', 'crc16-x25', 'sum8'] as const;
export type CheckKind = typeof CHECKS[number];

/**
 * Verifies the trailing check of a response: CRC-16s are the last two bytes, low byte first; sum8 is
 * the last byte. Returns null when it matches, else a message naming the computed and received values.
 */
export function checkProblem(kind: CheckKind, frame: Uint8Array): string | null {
  if (kind === 'none') return null;
  const hex = (n: number, w: number) => `0x${n.toString(16).toUpperCase().padStart(w, '0')}`;
  if (kind === 'sum8') {
    if (frame.length < 2) return `response of ${frame.length} bytes is too short for a sum8 check`;
    const want = sum8(frame, 0, frame.length - 1);
    const got = frame[frame.length - 1];
    return want === got ? null : `sum8 error: computed ${hex(want, 2)}, received ${hex(got, 2)}`;
  }
  if (frame.length < 3) return `response of ${frame.length} bytes is too short for a ${kind} check`;
  const want = kind === 'crc16-modbus' ? crc16(frame, 0, frame.length - 2) : crc16X25(frame, 0, frame.length - 2);
  const got = frame[frame.length - 2] | (frame[frame.length - 1] << 8);
  return want === got ? null : `${kind} error: computed ${hex(want, 4)}, received ${hex(got, 4)}`;
}

/** Appends a check (CRC low byte first, or the sum byte). */
export function withCheck(kind: CheckKind, frame: Uint8Array): Buffer {
  const f = Buffer.from(frame);
  if (kind === 'none') return f;
  if (kind === 'sum8') return Buffer.concat([f, Buffer.from([sum8(f)])]);
  const c = kind === 'crc16-modbus' ? crc16(f) : crc16X25(f);
  return Buffer.concat([f, Buffer.from([c & 0xff, c >>> 8])]);
}

/** Splits a frame into chunks of at most `size` bytes (0 = one chunk). */
export function chunks(frame: Buffer, size: number): Buffer[] {
  if (!(size > 0) || frame.length <= size) return [frame];
  const out: Buffer[] = [];
  for (let i = 0; i < frame.length; i += size) out.push(frame.subarray(i, i + size));
  return out;
}
