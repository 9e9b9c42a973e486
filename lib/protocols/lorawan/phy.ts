/**
 * LoRaWAN 1.0.x PHYPayload: parsing, MIC (AES-CMAC over the B0 block with NwkSKey) and FRMPayload
 * decryption (AES-128 in the counter-like A-block scheme, AppSKey for FPort 1..255, NwkSKey for FPort 0),
 * written with node:crypto after the LoRaWAN 1.0.3 specification, section 4.3.3 and 4.4.
 */
import crypto from 'node:crypto';

export const MTYPES = ['JoinRequest', 'JoinAccept', 'UnconfirmedDataUp', 'UnconfirmedDataDown',
  'ConfirmedDataUp', 'ConfirmedDataDown', 'RFU', 'Proprietary'] as const;
export type MType = typeof MTYPES[number];

export interface DataFrame {
  mtype: MType;
  /** Direction: 0 uplink, 1 downlink. */
  dir: 0 | 1;
  /** Device address as big-endian hex (as printed by network servers), e.g. "49be7df1". */
  devAddr: string;
  adr: boolean;
  ack: boolean;
  /** The 16 bits on the air. */
  fCnt16: number;
  fOpts: Buffer;
  fPort?: number;
  /** Still encrypted. */
  frmPayload: Buffer;
  mic: Buffer;
  /** MHDR | FHDR | FPort | FRMPayload: the bytes the MIC covers. */
  micInput: Buffer;
}

/** Accepts a Buffer, a hex string or a base64 string (the way NS and gateways print frames). */
export function toBytes(input: unknown, field = 'phyPayload'): Buffer {
  if (Buffer.isBuffer(input)) return input;
  if (input instanceof Uint8Array) return Buffer.from(input);
  if (Array.isArray(input) && input.every((b) => Number.isInteger(b) && b >= 0 && b < 256)) return Buffer.from(input);
  if (typeof input !== 'string' || input.trim() === '') throw new Error(`${field} must be hex, base64 or bytes, got ${JSON.stringify(input)}`);
  const s = input.trim().replace(/\s+/g, '');
  if (/^([0-9a-fA-F]{2})+$/.test(s)) return Buffer.from(s, 'hex');
  if (/^[A-Za-z0-9+/]+={0,2}$/.test(s) && s.length % 4 === 0) return Buffer.from(s, 'base64');
  throw new Error(`${field} must be hex, base64 or bytes, got ${JSON.stringify(input)}`);
}

/** A 128-bit key from 32 hex digits. */
export function toKey(input: unknown, field: string): Buffer {
  if (Buffer.isBuffer(input) && input.length === 16) return input;
  if (typeof input === 'string' && /^[0-9a-fA-F]{32}$/.test(input.trim())) return Buffer.from(input.trim(), 'hex');
  throw new Error(`${field} must be 32 hex digits (a 128-bit AES key), got ${JSON.stringify(typeof input === 'string' ? input : String(input))}`);
}

/** Parses a data frame (MType 2..5). Join frames and proprietary frames are refused. */
export function parseDataFrame(bytes: Buffer): DataFrame {
  if (bytes.length < 12) throw new Error(`PHYPayload is ${bytes.length} bytes, a data frame has at least 12`);
  const mtype = MTYPES[bytes[0] >> 5];
  if ((bytes[0] & 0x03) !== 0) throw new Error(`PHYPayload MHDR 0x${bytes[0].toString(16)} has major version ${bytes[0] & 3}, only LoRaWAN R1 (0) is supported`);
  if (!/Data/.test(mtype)) throw new Error(`PHYPayload is a ${mtype} frame, not a data frame`);
  const fctrl = bytes[5];
  const foptsLen = fctrl & 0x0f;
  const macEnd = bytes.length - 4;
  const fhdrEnd = 8 + foptsLen;
  if (fhdrEnd > macEnd) throw new Error(`PHYPayload is too short for FOptsLen ${foptsLen}`);
  const hasPort = macEnd > fhdrEnd;
  return {
    mtype,
    dir: mtype.endsWith('Up') ? 0 : 1,
    devAddr: Buffer.from(bytes.subarray(1, 5)).reverse().toString('hex'),
    adr: (fctrl & 0x80) !== 0,
    ack: (fctrl & 0x20) !== 0,
    fCnt16: bytes.readUInt16LE(6),
    fOpts: Buffer.from(bytes.subarray(8, fhdrEnd)),
    fPort: hasPort ? bytes[fhdrEnd] : undefined,
    frmPayload: hasPort ? Buffer.from(bytes.subarray(fhdrEnd + 1, macEnd)) : Buffer.alloc(0),
    mic: Buffer.from(bytes.subarray(macEnd)),
    micInput: Buffer.from(bytes.subarray(0, macEnd)),
  };
}

function aesEcb(key: Buffer, block: Buffer): Buffer {
  const c = crypto.createCipheriv('aes-128-ecb', key, null);
  c.setAutoPadding(false);
  return Buffer.concat([c.update(block), c.final()]);
}

function shiftLeft(b: Buffer): Buffer {
  const out = Buffer.alloc(16);
  for (let i = 0; i < 16; i++) out[i] = ((b[i] << 1) | (i < 15 ? b[i + 1] >> 7 : 0)) & 0xff;
  return out;
}

/** AES-CMAC (RFC 4493). */
export function aesCmac(key: Buffer, message: Buffer): Buffer {
  const subkey = (b: Buffer) => { const s = shiftLeft(b); if (b[0] & 0x80) s[15] ^= 0x87; return s; };
  const k1 = subkey(aesEcb(key, Buffer.alloc(16)));
  const k2 = subkey(k1);
  const n = Math.max(1, Math.ceil(message.length / 16));
  const complete = message.length > 0 && message.length % 16 === 0;
  const last = Buffer.alloc(16);
  message.copy(last, 0, (n - 1) * 16);
  if (!complete) last[message.length - (n - 1) * 16] = 0x80;
  const k = complete ? k1 : k2;
  for (let i = 0; i < 16; i++) last[i] ^= k[i];
  let x: Buffer = Buffer.alloc(16);
  for (let b = 0; b < n; b++) {
    const block = b === n - 1 ? last : message.subarray(b * 16, b * 16 + 16);
    const y = Buffer.alloc(16);
    for (let i = 0; i < 16; i++) y[i] = x[i] ^ block[i];
    x = aesEcb(key, y);
  }
  return x;
}

function devAddrLE(devAddr: string): Buffer {
  return Buffer.from(devAddr, 'hex').reverse();
}

/** The 4-byte MIC of a data frame with its full 32-bit frame counter. */
export function computeMic(frame: DataFrame, nwkSKey: Buffer, fCnt32: number): Buffer {
  const b0 = Buffer.alloc(16);
  b0[0] = 0x49;
  b0[5] = frame.dir;
  devAddrLE(frame.devAddr).copy(b0, 6);
  b0.writeUInt32LE(fCnt32 >>> 0, 10);
  b0[15] = frame.micInput.length;
  return aesCmac(nwkSKey, Buffer.concat([b0, frame.micInput])).subarray(0, 4);
}

/** Decrypts (or encrypts: the operation is its own inverse) an FRMPayload. */
export function cryptFrmPayload(frame: Pick<DataFrame, 'dir' | 'devAddr' | 'frmPayload'>, key: Buffer, fCnt32: number): Buffer {
  const out = Buffer.alloc(frame.frmPayload.length);
  const a = Buffer.alloc(16);
  a[0] = 0x01;
  a[5] = frame.dir;
  devAddrLE(frame.devAddr).copy(a, 6);
  a.writeUInt32LE(fCnt32 >>> 0, 10);
  for (let i = 0; i * 16 < out.length; i++) {
    a[15] = i + 1;
    const s = aesEcb(key, a);
    for (let j = 0; j < 16 && i * 16 + j < out.length; j++) out[i * 16 + j] = frame.frmPayload[i * 16 + j] ^ s[j];
  }
  return out;
}

/**
 * The 32-bit FCnt from the 16 bits on the air and the last counter accepted from the device. The
 * candidate keeps the upper 16 bits of `last`; a candidate at or below `last` is a replay when it is
 * close behind (less than 0x8000), otherwise the 16-bit field has wrapped and the upper half goes up
 * by one (0x0001 after 0x1FFF0 is 0x20001). Without a last counter the 16-bit value is taken as it is.
 */
export function reconstructFCnt(fCnt16: number, last: number | undefined): number {
  if (last === undefined) return fCnt16;
  const candidate = Math.floor(last / 0x10000) * 0x10000 + fCnt16;
  if (candidate > last || last - candidate < 0x8000) return candidate;
  return (candidate + 0x10000) % 0x100000000;
}
