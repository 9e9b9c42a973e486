/**
 * HDLC framing for DLMS (IEC 62056-46 / Green Book 8.4): frame format type 3.
 *
 *   7E | A0+S+len(11 bits) | destination | source | control | HCS (2, when an information field follows) | info | FCS (2) | 7E
 *
 * Addresses use extended addressing (bit 0 = 1 on the last byte, 7 bits per byte). The client address
 * is 1 byte; the server address is 1 byte (upper only), 2 bytes (upper, lower: 7 bits each) or 4 bytes
 * (upper, lower: 14 bits each). HCS and FCS are CRC-16/X.25, sent low byte first.
 * In client->server frames the destination is the server; I-frame information fields carry the LLC
 * header E6 E6 00 (command) or E6 E7 00 (response) before the APDU, on the first segment only.
 *
 * API: encodeFrame / decodeFrame (throws DlmsDecodeError), splitFrames (for a byte stream),
 * control field helpers, SNRM/UA parameter negotiation (encodeParameters / decodeParameters), crc16x25.
 */
import { DlmsDecodeError, Reader } from './errors';

export const FLAG = 0x7e;
export const LLC_COMMAND = Buffer.from([0xe6, 0xe6, 0x00]);
export const LLC_RESPONSE = Buffer.from([0xe6, 0xe7, 0x00]);

const CRC_TABLE = (() => {
  const t = new Uint16Array(256);
  for (let i = 0; i < 256; i++) {
    let c = i;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0x8408 : c >>> 1;
    t[i] = c;
  }
  return t;
})();

/** CRC-16/X.25 (reflected 0x1021, init and xor-out 0xFFFF): "123456789" -> 0x906E. */
export function crc16x25(b: Uint8Array, start = 0, end = b.length): number {
  let crc = 0xffff;
  for (let i = start; i < end; i++) crc = (crc >>> 8) ^ CRC_TABLE[(crc ^ b[i]) & 0xff];
  return (crc ^ 0xffff) & 0xffff;
}

/** An HDLC address: `upper` alone for 1-byte (client SAP, or server with upper only), `lower` for 2/4-byte server addresses. */
export interface HdlcAddress {
  upper: number;
  lower?: number;
  /** Bytes on the wire: 1, 2 or 4. */
  size: 1 | 2 | 4;
}

export function clientAddress(sap: number): HdlcAddress {
  if (!Number.isInteger(sap) || sap < 0 || sap > 0x7f) throw new RangeError(`client SAP ${sap} is not 0..127`);
  return { upper: sap, size: 1 };
}

/** A server address with logical device `upper` and physical `lower`; the size is the smallest that fits unless given. */
export function serverAddress(upper: number, lower?: number, size?: 1 | 2 | 4): HdlcAddress {
  const s = size ?? (lower === undefined ? 1 : upper < 0x80 && lower < 0x80 ? 2 : 4);
  const max = s === 4 ? 0x3fff : 0x7f;
  if (!Number.isInteger(upper) || upper < 0 || upper > max) throw new RangeError(`server upper address ${upper} is not 0..${max}`);
  if (s > 1 && (lower === undefined || !Number.isInteger(lower) || lower < 0 || lower > max)) throw new RangeError(`server lower address ${lower} is not 0..${max}`);
  return s === 1 ? { upper, size: 1 } : { upper, lower, size: s };
}

export function encodeAddress(a: HdlcAddress): Buffer {
  if (a.size === 1) return Buffer.from([((a.upper & 0x7f) << 1) | 1]);
  const lower = a.lower ?? 0;
  if (a.size === 2) return Buffer.from([(a.upper & 0x7f) << 1, ((lower & 0x7f) << 1) | 1]);
  return Buffer.from([((a.upper >> 7) & 0x7f) << 1, (a.upper & 0x7f) << 1, ((lower >> 7) & 0x7f) << 1, ((lower & 0x7f) << 1) | 1]);
}

function readAddress(r: Reader, what: string): HdlcAddress {
  const at = r.pos;
  const bytes: number[] = [];
  for (;;) {
    const b = r.u8(what);
    bytes.push(b >> 1);
    if (b & 1) break;
    if (bytes.length === 4) throw new DlmsDecodeError(`${what} address longer than 4 bytes`, at);
  }
  if (bytes.length === 1) return { upper: bytes[0], size: 1 };
  if (bytes.length === 2) return { upper: bytes[0], lower: bytes[1], size: 2 };
  if (bytes.length === 4) return { upper: (bytes[0] << 7) | bytes[1], lower: (bytes[2] << 7) | bytes[3], size: 4 };
  throw new DlmsDecodeError(`${what} address of 3 bytes (1, 2 or 4 allowed)`, at);
}

export function formatAddress(a: HdlcAddress): string {
  return a.lower === undefined ? String(a.upper) : `${a.upper}/${a.lower}`;
}

// ---- control field ----

export type FrameKind = 'I' | 'RR' | 'RNR' | 'SNRM' | 'UA' | 'DISC' | 'DM' | 'FRMR' | 'UI';
export interface Control {
  kind: FrameKind;
  /** Poll/final bit. */
  pf: boolean;
  /** Send sequence number (I frames). */
  ns?: number;
  /** Receive sequence number (I, RR, RNR). */
  nr?: number;
}

const U_FRAMES: Record<number, FrameKind> = { 0x83: 'SNRM', 0x63: 'UA', 0x43: 'DISC', 0x0f: 'DM', 0x87: 'FRMR', 0x03: 'UI' };
const U_CODES: Partial<Record<FrameKind, number>> = { SNRM: 0x83, UA: 0x63, DISC: 0x43, DM: 0x0f, FRMR: 0x87, UI: 0x03 };

export function decodeControl(c: number, offset = -1): Control {
  const pf = (c & 0x10) !== 0;
  if ((c & 1) === 0) return { kind: 'I', pf, ns: (c >> 1) & 7, nr: (c >> 5) & 7 };
  if ((c & 3) === 1) {
    const s = c & 0x0f;
    if (s === 0x01) return { kind: 'RR', pf, nr: (c >> 5) & 7 };
    if (s === 0x05) return { kind: 'RNR', pf, nr: (c >> 5) & 7 };
    throw new DlmsDecodeError(`control byte 0x${c.toString(16)} is a supervisory frame DLMS does not use`, offset, 'unsupported');
  }
  const kind = U_FRAMES[c & 0xef];
  if (!kind) throw new DlmsDecodeError(`control byte 0x${c.toString(16)} is not a DLMS HDLC frame type`, offset, 'unsupported');
  return { kind, pf };
}

export function encodeControl(c: Control): number {
  const pf = c.pf ? 0x10 : 0;
  const seq = (v: number | undefined, what: string) => {
    if (v === undefined || !Number.isInteger(v) || v < 0 || v > 7) throw new RangeError(`${what} ${v} is not 0..7`);
    return v;
  };
  if (c.kind === 'I') return (seq(c.nr, 'N(R)') << 5) | pf | (seq(c.ns, 'N(S)') << 1);
  if (c.kind === 'RR') return (seq(c.nr, 'N(R)') << 5) | pf | 0x01;
  if (c.kind === 'RNR') return (seq(c.nr, 'N(R)') << 5) | pf | 0x05;
  return (U_CODES[c.kind] as number) | pf;
}

// ---- frames ----

export interface HdlcFrame {
  destination: HdlcAddress;
  source: HdlcAddress;
  control: Control;
  /** Segmentation bit: more segments of this APDU follow. */
  segmented: boolean;
  info: Buffer;
}

export const MAX_FRAME_LENGTH = 0x7ff;

export function encodeFrame(f: HdlcFrame): Buffer {
  const dest = encodeAddress(f.destination);
  const src = encodeAddress(f.source);
  const headerLen = 2 + dest.length + src.length + 1;
  const length = headerLen + (f.info.length ? 2 + f.info.length : 0) + 2;
  if (length > MAX_FRAME_LENGTH) throw new RangeError(`HDLC frame of ${length} bytes is longer than ${MAX_FRAME_LENGTH}`);
  const out = Buffer.alloc(length + 2);
  out[0] = FLAG;
  out[1] = 0xa0 | (f.segmented ? 0x08 : 0) | (length >> 8);
  out[2] = length & 0xff;
  dest.copy(out, 3);
  src.copy(out, 3 + dest.length);
  out[3 + dest.length + src.length] = encodeControl(f.control);
  let p = 1 + headerLen;
  if (f.info.length) {
    out.writeUInt16LE(crc16x25(out, 1, p), p);
    p += 2;
    f.info.copy(out, p);
    p += f.info.length;
  }
  out.writeUInt16LE(crc16x25(out, 1, p), p);
  out[p + 2] = FLAG;
  return out;
}

/** Decodes one whole frame, flags included (a missing closing flag is tolerated when the length fits). */
export function decodeFrame(buf: Uint8Array): HdlcFrame {
  const r = new Reader(buf);
  if (r.u8('opening flag') !== FLAG) throw new DlmsDecodeError('HDLC frame does not start with 7E', 0);
  const f0 = r.u8('frame format');
  if ((f0 & 0xf0) !== 0xa0) throw new DlmsDecodeError(`frame format 0x${f0.toString(16)} is not type 3 (0xA_)`, 1);
  const length = ((f0 & 0x07) << 8) | r.u8('frame length');
  if (length < 7) throw new DlmsDecodeError(`frame length ${length} is shorter than the smallest frame (7)`, 1);
  if (buf.length < length + 1) throw new DlmsDecodeError(`frame announces ${length} bytes, ${buf.length - 1} follow the flag`, 1, 'truncated');
  if (buf.length > length + 1 && buf[length + 1] !== FLAG) throw new DlmsDecodeError(`byte after the frame is 0x${buf[length + 1].toString(16)}, not the closing flag 7E`, length + 1);
  if (buf.length > length + 2) throw new DlmsDecodeError(`${buf.length - length - 2} bytes after the closing flag`, length + 2);
  const end = 1 + length;
  // the FCS first: a damaged frame reports a checksum error, not whatever its damaged bytes look like
  const fcs = buf[end - 2] | (buf[end - 1] << 8);
  const fcsWant = crc16x25(buf, 1, end - 2);
  if (fcs !== fcsWant) throw new DlmsDecodeError(`FCS ${hex4(fcs)} does not match the frame (${hex4(fcsWant)})`, end - 2, 'checksum');
  const body = new Reader(buf, 3, end - 2);
  const destination = readAddress(body, 'destination');
  const source = readAddress(body, 'source');
  const controlAt = body.pos;
  const control = decodeControl(body.u8('control'), controlAt);
  let info: Buffer = Buffer.alloc(0);
  if (body.remaining > 0) {
    const hcsAt = body.pos;
    if (body.remaining < 2) throw new DlmsDecodeError('one byte between control field and FCS (no room for HCS)', hcsAt, 'truncated');
    const hcs = body.u16('HCS');
    const hcsLe = ((hcs & 0xff) << 8) | (hcs >> 8);
    const hcsWant = crc16x25(buf, 1, hcsAt);
    if (hcsLe !== hcsWant) throw new DlmsDecodeError(`HCS ${hex4(hcsLe)} does not match the header (${hex4(hcsWant)})`, hcsAt, 'checksum');
    info = body.bytes(body.remaining, 'information field');
  }
  return { destination, source, control, segmented: (f0 & 0x08) !== 0, info };
}

const hex4 = (n: number) => `0x${n.toString(16).toUpperCase().padStart(4, '0')}`;

/**
 * Cuts whole frames out of a received byte stream: returns the frames' bytes (each 7E..7E), the bytes
 * to keep for the next chunk, and the count of bytes skipped as noise. Checksums are checked by decodeFrame.
 */
export function splitFrames(stream: Uint8Array): { frames: Buffer[]; rest: Buffer; skipped: number } {
  const frames: Buffer[] = [];
  let p = 0, skipped = 0;
  while (p < stream.length) {
    if (stream[p] !== FLAG) { p++; skipped++; continue; }
    if (p + 3 > stream.length) break;
    // a flag not followed by a type-3 format byte closes a frame or is fill: step over it
    if ((stream[p + 1] & 0xf0) !== 0xa0) { p++; continue; }
    const length = ((stream[p + 1] & 0x07) << 8) | stream[p + 2];
    if (p + length + 2 > stream.length) break;
    if (length < 7 || stream[p + length + 1] !== FLAG) { p++; skipped++; continue; }
    frames.push(Buffer.from(stream.subarray(p, p + length + 2)));
    p += length + 1; // the closing flag may also open the next frame
  }
  return { frames, rest: Buffer.from(stream.subarray(p)), skipped };
}

/** Strips the LLC header from a first-segment I-frame information field. */
export function splitLlc(info: Buffer): { llc?: 'command' | 'response'; apdu: Buffer } {
  if (info.length >= 3 && info[0] === 0xe6 && (info[1] === 0xe6 || info[1] === 0xe7) && info[2] === 0) return { llc: info[1] === 0xe6 ? 'command' : 'response', apdu: info.subarray(3) };
  return { apdu: info };
}

// ---- SNRM / UA parameter negotiation ----

export interface HdlcParameters {
  maxInfoTransmit: number;
  maxInfoReceive: number;
  windowTransmit: number;
  windowReceive: number;
}

/** The defaults that apply when a parameter is absent (IEC 62056-46 6.4.4.4.3.2). */
export const DEFAULT_PARAMETERS: HdlcParameters = { maxInfoTransmit: 128, maxInfoReceive: 128, windowTransmit: 1, windowReceive: 1 };

const PARAM_IDS: [keyof HdlcParameters, number][] = [['maxInfoTransmit', 5], ['maxInfoReceive', 6], ['windowTransmit', 7], ['windowReceive', 8]];

/** 81 80 len | 05 n max-info-tx | 06 n max-info-rx | 07 04 window-tx | 08 04 window-rx. */
export function encodeParameters(p: Partial<HdlcParameters>): Buffer {
  const groups: number[] = [];
  for (const [k, id] of PARAM_IDS) {
    const v = p[k];
    if (v === undefined) continue;
    if (!Number.isInteger(v) || v < 1 || v > (id >= 7 ? 7 : 2048)) throw new RangeError(`HDLC parameter ${k} ${v} is out of range`);
    if (id >= 7) groups.push(id, 4, 0, 0, 0, v);
    else if (v < 256) groups.push(id, 1, v);
    else groups.push(id, 2, v >> 8, v & 0xff);
  }
  return Buffer.from([0x81, 0x80, groups.length, ...groups]);
}

/** Decodes a SNRM/UA information field; absent parameters take the defaults. */
export function decodeParameters(info: Uint8Array): HdlcParameters {
  const out = { ...DEFAULT_PARAMETERS };
  if (info.length === 0) return out;
  const r = new Reader(info);
  if (r.u8('format identifier') !== 0x81 || r.u8('group identifier') !== 0x80) throw new DlmsDecodeError('HDLC parameters do not start with 81 80', 0);
  const len = r.u8('group length');
  r.need(len, 'parameter group');
  const g = new Reader(info, r.pos, r.pos + len);
  while (g.remaining > 0) {
    const at = g.pos;
    const id = g.u8('parameter id');
    const n = g.u8('parameter length');
    if (n > 4) throw new DlmsDecodeError(`HDLC parameter ${id} is ${n} bytes (at most 4)`, at);
    let v = 0;
    for (let i = 0; i < n; i++) v = v * 256 + g.u8('parameter value');
    const entry = PARAM_IDS.find(([, pid]) => pid === id);
    if (entry) out[entry[0]] = v;
  }
  return out;
}

/** What both sides use after SNRM/UA: each direction the smaller of what one sends and the other receives. */
export function negotiate(client: HdlcParameters, server: HdlcParameters): HdlcParameters {
  return {
    maxInfoTransmit: Math.min(client.maxInfoTransmit, server.maxInfoReceive),
    maxInfoReceive: Math.min(client.maxInfoReceive, server.maxInfoTransmit),
    windowTransmit: Math.min(client.windowTransmit, server.windowReceive),
    windowReceive: Math.min(client.windowReceive, server.windowTransmit),
  };
}

/** Splits an APDU (with LLC header) into information fields of at most `maxInfo` bytes; all but the last are segmented. */
export function segment(info: Buffer, maxInfo: number): { info: Buffer; segmented: boolean }[] {
  if (!Number.isInteger(maxInfo) || maxInfo < 1) throw new RangeError(`max information length ${maxInfo} is not a positive integer`);
  const out: { info: Buffer; segmented: boolean }[] = [];
  for (let p = 0; p < info.length || out.length === 0; p += maxInfo) out.push({ info: info.subarray(p, p + maxInfo), segmented: p + maxInfo < info.length });
  return out;
}
