/**
 * The encrypted P1 variant of Luxembourg (Smarty) and Austrian meters: a DLMS general-glo-ciphering
 * frame holding the plain telegram, AES-128-GCM with the meter's key.
 *
 *   DB | 08 | system title (8) | length (BER: n < 0x80, 81 n, 82 nn) | SC | frame counter (4) | ciphertext | tag (12)
 *
 * The length counts SC, frame counter, ciphertext and tag. IV = system title + frame counter. With SC
 * 0x30 (authenticated and encrypted) the AAD is SC followed by the authentication key (AK); Smarty
 * meters use the published AK 00112233445566778899AABBCCDDEEFF, some meters authenticate no AAD.
 */
import crypto from 'node:crypto';

export const GLO_CIPHERING = 0xdb;
const TAG_LENGTH = 12;
/** The authentication key Luxembourg's Smarty meters use (E-Meter P1 specification). */
export const SMARTY_AUTHENTICATION_KEY = '00112233445566778899AABBCCDDEEFF';

export class P1DecryptError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'P1DecryptError';
  }
}

export interface EncryptedFrameHeader {
  systemTitle: Buffer;
  securityControl: number;
  frameCounter: number;
  /** Offset of the ciphertext and its length; the tag follows it. */
  dataStart: number;
  dataLength: number;
  /** Whole frame length in bytes. */
  total: number;
}

/** Reads the header; null while `buf` is too short to tell, throws when it is not a frame. */
export function encryptedFrameHeader(buf: Uint8Array): EncryptedFrameHeader | null {
  if (buf.length < 11) return null;
  if (buf[0] !== GLO_CIPHERING) throw new P1DecryptError(`frame starts with 0x${buf[0].toString(16)}, not 0xDB (general-glo-ciphering)`);
  if (buf[1] !== 8) throw new P1DecryptError(`system title length ${buf[1]}, 8 expected`);
  let at = 10;
  let length = buf[at++];
  if (length === 0x81 || length === 0x82) {
    const n = length - 0x80;
    if (buf.length < at + n) return null;
    length = n === 1 ? buf[at] : (buf[at] << 8) | buf[at + 1];
    at += n;
  } else if (length >= 0x80) throw new P1DecryptError(`length byte 0x${length.toString(16)} is not a 1- or 2-byte BER length`);
  if (length < 5 + TAG_LENGTH) throw new P1DecryptError(`frame length ${length} is shorter than security control, counter and tag`);
  if (buf.length < at + 5) return null;
  const sc = buf[at];
  const fc = ((buf[at + 1] << 24) >>> 0) + (buf[at + 2] << 16) + (buf[at + 3] << 8) + buf[at + 4];
  return { systemTitle: Buffer.from(buf.subarray(2, 10)), securityControl: sc, frameCounter: fc, dataStart: at + 5, dataLength: length - 5 - TAG_LENGTH, total: at + length };
}

function keyBytes(hex: string, what: string): Buffer {
  const h = hex.replace(/[\s:]/g, '');
  if (!/^[0-9A-Fa-f]{32}$/.test(h)) throw new P1DecryptError(`${what} must be 32 hex digits (16 bytes), got ${h.length} characters`);
  return Buffer.from(h, 'hex');
}

export interface DecryptOptions {
  /** The meter's AES-128 key (32 hex digits). */
  key: string;
  /** Authentication key (32 hex digits, AAD = SC + AK) or the whole AAD (34 hex digits); default: none, then the Smarty AK. */
  aad?: string;
}

export interface Decrypted {
  plaintext: Buffer;
  systemTitle: string;
  frameCounter: number;
}

/** Decrypts one frame; a wrong key or AAD fails GCM authentication with a P1DecryptError saying so. */
export function decryptFrame(frame: Buffer, o: DecryptOptions): Decrypted {
  const h = encryptedFrameHeader(frame);
  if (!h || frame.length < h.total) throw new P1DecryptError(`encrypted frame truncated: ${frame.length} bytes${h ? `, ${h.total} announced` : ''}`);
  if (h.securityControl !== 0x30) throw new P1DecryptError(`security control 0x${h.securityControl.toString(16)} is not 0x30 (authenticated and encrypted)`);
  const key = keyBytes(o.key, 'the decryption key');
  const iv = Buffer.concat([h.systemTitle, frame.subarray(h.dataStart - 4, h.dataStart)]);
  const data = frame.subarray(h.dataStart, h.dataStart + h.dataLength);
  const tag = frame.subarray(h.dataStart + h.dataLength, h.total);
  const sc = Buffer.from([h.securityControl]);
  let aads: (Buffer | null)[];
  if (o.aad) {
    const a = o.aad.replace(/[\s:]/g, '');
    if (/^[0-9A-Fa-f]{34}$/.test(a)) aads = [Buffer.from(a, 'hex')];
    else aads = [Buffer.concat([sc, keyBytes(a, 'the authentication key (AAD)')])];
  } else {
    aads = [null, Buffer.concat([sc, Buffer.from(SMARTY_AUTHENTICATION_KEY, 'hex')])];
  }
  for (const aad of aads) {
    const d = crypto.createDecipheriv('aes-128-gcm', key, iv, { authTagLength: TAG_LENGTH });
    d.setAuthTag(tag);
    if (aad) d.setAAD(aad);
    const plain = d.update(data);
    try {
      d.final();
      return { plaintext: plain, systemTitle: printable(h.systemTitle), frameCounter: h.frameCounter };
    } catch { /* next AAD */ }
  }
  throw new P1DecryptError(`decryption failed for system title ${printable(h.systemTitle)}: the GCM tag does not match, so the key is wrong${o.aad ? ' or the AAD/authentication key is' : ' (or the meter needs an authentication key/AAD)'}`);
}

/** Encrypts a telegram as a meter does (for the simulator and tests). */
export function encryptFrame(plaintext: Buffer, o: DecryptOptions & { systemTitle: Buffer; frameCounter: number }): Buffer {
  if (o.systemTitle.length !== 8) throw new Error('the system title must be 8 bytes');
  const key = keyBytes(o.key, 'the encryption key');
  const fc = Buffer.alloc(4);
  fc.writeUInt32BE(o.frameCounter >>> 0);
  const c = crypto.createCipheriv('aes-128-gcm', key, Buffer.concat([o.systemTitle, fc]), { authTagLength: TAG_LENGTH });
  const sc = Buffer.from([0x30]);
  const aadHex = (o.aad ?? SMARTY_AUTHENTICATION_KEY).replace(/[\s:]/g, '');
  c.setAAD(aadHex.length === 34 ? Buffer.from(aadHex, 'hex') : Buffer.concat([sc, keyBytes(aadHex, 'the authentication key (AAD)')]));
  const data = Buffer.concat([c.update(plaintext), c.final()]);
  const body = Buffer.concat([sc, fc, data, c.getAuthTag()]);
  const len = body.length < 0x80 ? Buffer.from([body.length]) : body.length < 0x100 ? Buffer.from([0x81, body.length]) : Buffer.from([0x82, body.length >> 8, body.length & 0xff]);
  return Buffer.concat([Buffer.from([GLO_CIPHERING, 8]), o.systemTitle, len, body]);
}

function printable(b: Buffer): string {
  const t = b.toString('latin1');
  return /^[\x20-\x7e]+$/.test(t) ? t : b.toString('hex').toUpperCase();
}
