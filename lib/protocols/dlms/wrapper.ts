/**
 * The DLMS TCP/UDP wrapper (IEC 62056-47 / Green Book 7.3.3.4), port 4059:
 *   version (2, = 0x0001) | source wPort (2) | destination wPort (2) | length of the APDU (2) | APDU
 * wPorts are the SAPs: client 0x10 public, 0x01 management...; server 0x01 the management logical device.
 *
 * API: encodeWrapper, decodeWrapper (one whole PDU), splitWrapped (a TCP byte stream -> whole PDUs).
 */
import { DlmsDecodeError } from './errors';

export const WRAPPER_VERSION = 1;
export const WRAPPER_HEADER = 8;

export interface WrapperPdu {
  source: number;
  destination: number;
  apdu: Buffer;
}

export function encodeWrapper(p: WrapperPdu): Buffer {
  for (const [k, v] of [['source', p.source], ['destination', p.destination]] as const) {
    if (!Number.isInteger(v) || v < 0 || v > 0xffff) throw new RangeError(`wrapper ${k} wPort ${v} is not 0..65535`);
  }
  if (p.apdu.length > 0xffff) throw new RangeError(`APDU of ${p.apdu.length} bytes does not fit the wrapper (65535 at most)`);
  const h = Buffer.alloc(WRAPPER_HEADER);
  h.writeUInt16BE(WRAPPER_VERSION, 0);
  h.writeUInt16BE(p.source, 2);
  h.writeUInt16BE(p.destination, 4);
  h.writeUInt16BE(p.apdu.length, 6);
  return Buffer.concat([h, p.apdu]);
}

export function decodeWrapper(buf: Uint8Array): WrapperPdu {
  if (buf.length < WRAPPER_HEADER) throw new DlmsDecodeError(`wrapper header needs 8 bytes, got ${buf.length}`, 0, 'truncated');
  const b = Buffer.from(buf.buffer, buf.byteOffset, buf.length);
  const version = b.readUInt16BE(0);
  if (version !== WRAPPER_VERSION) throw new DlmsDecodeError(`wrapper version ${version}, 1 expected`, 0);
  const length = b.readUInt16BE(6);
  if (b.length - WRAPPER_HEADER < length) throw new DlmsDecodeError(`wrapper announces ${length} APDU bytes, ${b.length - WRAPPER_HEADER} follow`, 6, 'truncated');
  if (b.length - WRAPPER_HEADER > length) throw new DlmsDecodeError(`${b.length - WRAPPER_HEADER - length} bytes after the wrapper's APDU`, WRAPPER_HEADER + length);
  return { source: b.readUInt16BE(2), destination: b.readUInt16BE(4), apdu: Buffer.from(b.subarray(WRAPPER_HEADER)) };
}

/** Whole wrapper PDUs from a TCP stream and the bytes to keep; a wrong version throws (the stream is lost). */
export function splitWrapped(stream: Uint8Array): { pdus: WrapperPdu[]; rest: Buffer } {
  const pdus: WrapperPdu[] = [];
  let p = 0;
  while (stream.length - p >= WRAPPER_HEADER) {
    const length = (stream[p + 6] << 8) | stream[p + 7];
    if (stream.length - p < WRAPPER_HEADER + length) break;
    pdus.push(decodeWrapper(stream.subarray(p, p + WRAPPER_HEADER + length)));
    p += WRAPPER_HEADER + length;
  }
  return { pdus, rest: Buffer.from(stream.subarray(p)) };
}
