/**
 * Link layer frame formats of EN 13757-4. Format A: the L-field counts the bytes after it without CRCs;
 * a CRC follows the first block (L C M A, 10 bytes) and every 16 bytes after it (the last block may be
 * shorter). Format B: the L-field counts the CRCs too; one CRC ends the second block (byte 126 at most),
 * a third block (if any) has its own. Receivers usually pass frames on with the CRCs already removed
 * ("none": L + 1 bytes).
 */
import { crc16En13757 } from './crc';
import { WmbusDecodeError } from './errors';

export type FrameFormat = 'A' | 'B' | 'none';

/** Length of a format A frame with CRCs whose L-field is `l`. */
export function formatALength(l: number): number {
  return l + 1 + 2 * (1 + Math.ceil(Math.max(0, l - 9) / 16));
}

function crcAt(b: Uint8Array, o: number): number {
  return (b[o] << 8) | b[o + 1];
}

function checkBlock(b: Uint8Array, from: number, to: number, block: number): void {
  const sent = crcAt(b, to);
  const computed = crc16En13757(b, from, to);
  if (sent !== computed) {
    throw new WmbusDecodeError(`CRC error in block ${block} (sent ${hex4(sent)}, computed ${hex4(computed)})`, undefined, 'crc');
  }
}

const hex4 = (n: number) => n.toString(16).toUpperCase().padStart(4, '0');

function stripA(b: Uint8Array): Buffer {
  const out: number[] = [];
  checkBlock(b, 0, 10, 1);
  for (let i = 0; i < 10; i++) out.push(b[i]);
  let o = 12;
  let block = 2;
  while (o < b.length) {
    const end = Math.min(o + 16, b.length - 2);
    checkBlock(b, o, end, block++);
    for (let i = o; i < end; i++) out.push(b[i]);
    o = end + 2;
  }
  const data = Buffer.from(out);
  data[0] = data.length - 1;
  return data;
}

/** Format B CRC check; null when a CRC does not match (the caller decides whether that is an error). */
function stripB(b: Uint8Array, strict: boolean): Buffer | null {
  const fail = (block: number, from: number, to: number) => {
    if (strict) checkBlock(b, from, to, block);
    return null;
  };
  if (b.length < 12) return strict ? fail(2, 0, b.length - 2) : null;
  if (b.length <= 128) {
    if (crcAt(b, b.length - 2) !== crc16En13757(b, 0, b.length - 2)) return fail(2, 0, b.length - 2);
    const data = Buffer.from(b.subarray(0, b.length - 2));
    data[0] = data.length - 1;
    return data;
  }
  if (crcAt(b, 126) !== crc16En13757(b, 0, 126)) return fail(2, 0, 126);
  if (b.length < 131 || crcAt(b, b.length - 2) !== crc16En13757(b, 128, b.length - 2)) return fail(3, 128, b.length - 2);
  const data = Buffer.concat([b.subarray(0, 126), b.subarray(128, b.length - 2)]);
  data[0] = data.length - 1;
  return data;
}

/**
 * The frame without its CRCs (L-field = length - 1) and the format it came in. `auto` takes format A
 * when the length is that of an A frame with CRCs, format B when L + 1 bytes end in a matching B CRC,
 * else a frame whose CRCs the receiver already removed.
 */
export function stripLinkCrc(bytes: Uint8Array, format: FrameFormat | 'auto' = 'auto'): { data: Buffer; format: FrameFormat } {
  if (bytes.length < 11) throw new WmbusDecodeError(`telegram of ${bytes.length} bytes is too short (L C M A CI needs 11)`);
  const l = bytes[0];
  if (format === 'A' || (format === 'auto' && bytes.length === formatALength(l) && l + 1 !== bytes.length)) {
    if (bytes.length !== formatALength(l)) {
      throw new WmbusDecodeError(`format A frame with L-field ${l} must be ${formatALength(l)} bytes with CRCs, got ${bytes.length}`);
    }
    return { data: stripA(bytes), format: 'A' };
  }
  if (format === 'B') {
    if (bytes.length !== l + 1) throw new WmbusDecodeError(`format B frame with L-field ${l} must be ${l + 1} bytes, got ${bytes.length}`);
    return { data: stripB(bytes, true)!, format: 'B' };
  }
  if (format === 'auto' && bytes.length === l + 1) {
    const b = stripB(bytes, false);
    if (b) return { data: b, format: 'B' };
  }
  // CRCs removed by the receiver; some keep a format B L-field that still counts the removed CRCs.
  if (bytes.length !== l + 1 && !(format === 'auto' && (l + 1 === bytes.length + 2 || l + 1 === bytes.length + 4))) {
    throw new WmbusDecodeError(`L-field ${l} does not fit a telegram of ${bytes.length} bytes (${l + 1} without CRCs, ${formatALength(l)} as format A with CRCs)`);
  }
  if (bytes[0] === bytes.length - 1) return { data: Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes), format: 'none' };
  const data = Buffer.from(bytes);
  data[0] = data.length - 1;
  return { data, format: 'none' };
}

/** Adds format A CRCs to a frame without CRCs (L = length - 1). */
export function encodeFormatA(frame: Uint8Array): Buffer {
  const parts: Buffer[] = [];
  const push = (from: number, to: number) => {
    const crc = crc16En13757(frame, from, to);
    parts.push(Buffer.from(frame.subarray(from, to)), Buffer.from([crc >> 8, crc & 0xff]));
  };
  push(0, 10);
  for (let o = 10; o < frame.length; o += 16) push(o, Math.min(o + 16, frame.length));
  return Buffer.concat(parts);
}

/** Adds format B CRCs to a frame without CRCs; the L-field then counts them. */
export function encodeFormatB(frame: Uint8Array): Buffer {
  const f = Buffer.from(frame);
  const crcs = f.length + 2 > 128 ? 2 : 1;
  if (f.length + 2 * crcs > 256) throw new RangeError(`frame of ${f.length} bytes is too long for format B`);
  f[0] = f.length + 2 * crcs - 1;
  const crc = (from: number, to: number) => { const c = crc16En13757(f, from, to); return Buffer.from([c >> 8, c & 0xff]); };
  if (crcs === 1) return Buffer.concat([f, crc(0, f.length)]);
  const head = f.subarray(0, 126);
  const tail = f.subarray(126);
  const withHeadCrc = Buffer.concat([head, crc(0, 126)]);
  const c3 = crc16En13757(tail);
  return Buffer.concat([withHeadCrc, tail, Buffer.from([c3 >> 8, c3 & 0xff])]);
}
