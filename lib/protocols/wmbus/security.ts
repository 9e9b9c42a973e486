/**
 * Security modes of the transport layer (EN 13757-7, OMS Vol. 2):
 * mode 5: AES-128-CBC, IV = M-field, A-field (id, version, device type) and 8 times the access number;
 * mode 7: AES-128-CBC with IV 0 under Kenc, a CMAC over the AFL and the encrypted data under Kmac, both
 * derived from the meter key with AES-CMAC (KDF-A: DC || MCR || ID || 07 x 7; DC 00 Kenc, 01 Kmac).
 * The decrypted data must start with 2F 2F: anything else means the key is wrong.
 * ELL encryption (AES-128-CTR, session number bits 29-31 = 1) is also undone here.
 */
import { aesCbcDecrypt, aesCbcEncrypt, aesCmac, aesCtr } from './cmac';
import { crc16En13757 } from './crc';
import { WmbusDecodeError } from './errors';
import type { WmbusAfl, WmbusEll } from './headers';

export function modeFiveIv(manufacturer: Uint8Array, address: Uint8Array, accessNumber: number): Buffer {
  const iv = Buffer.alloc(16, accessNumber);
  iv.set(manufacturer.subarray(0, 2), 0);
  iv.set(address.subarray(0, 6), 2);
  return iv;
}

/** KDF-A: the 16-byte derivation input DC || MCR (LSB first) || ID (4 bytes as in the A-field) || 07 x 7. */
export function deriveKey(key: Uint8Array, dc: number, messageCounter: number, idBytes: Uint8Array): Buffer {
  const input = Buffer.alloc(16, 0x07);
  input[0] = dc;
  input.writeUInt32LE(messageCounter >>> 0, 1);
  input.set(idBytes.subarray(0, 4), 5);
  return aesCmac(key, input);
}

/** The MAC input of mode 7: MCL, MCR, ML (when the AFL has them) and everything from the TPL's CI on. */
export function modeSevenMacInput(afl: WmbusAfl, fromTpl: Uint8Array): Buffer {
  const parts: Buffer[] = [];
  if (afl.mcl !== undefined) parts.push(Buffer.from([afl.mcl]));
  if (afl.messageCounter !== undefined) { const b = Buffer.alloc(4); b.writeUInt32LE(afl.messageCounter); parts.push(b); }
  if (afl.messageLength !== undefined) { const b = Buffer.alloc(2); b.writeUInt16LE(afl.messageLength); parts.push(b); }
  parts.push(Buffer.from(fromTpl));
  return Buffer.concat(parts);
}

export interface DecryptContext {
  meter: string;
  key: Uint8Array;
  mode: number;
  blocks: number;
  /** The bytes after the TPL header (encrypted blocks first). */
  data: Uint8Array;
  /** Mode 5: M-field and A-field bytes (long TPL header's, else the link layer's) and the access number. */
  manufacturerBytes: Uint8Array;
  addressBytes: Uint8Array;
  accessNumber: number;
  /** Mode 7: the AFL and the bytes from the TPL CI to the end. */
  afl?: WmbusAfl;
  fromTpl?: Uint8Array;
}

/** Decrypts the encrypted blocks; returns them decrypted followed by any plain rest. MAC and 2F2F are checked. */
export function decryptTpl(c: DecryptContext): { data: Buffer; macChecked: boolean } {
  const n = c.blocks * 16;
  if (n === 0) throw new WmbusDecodeError(`security mode ${c.mode} announces 0 encrypted blocks`, c.meter);
  if (n > c.data.length) throw new WmbusDecodeError(`security mode ${c.mode} announces ${c.blocks} encrypted blocks (${n} bytes), only ${c.data.length} follow`, c.meter);
  const enc = c.data.subarray(0, n);
  let plain: Buffer;
  let macChecked = false;
  if (c.mode === 5) {
    plain = aesCbcDecrypt(c.key, modeFiveIv(c.manufacturerBytes, c.addressBytes, c.accessNumber), enc);
  } else if (c.mode === 7) {
    const afl = c.afl;
    if (!afl || afl.messageCounter === undefined) throw new WmbusDecodeError('security mode 7 needs an AFL with a message counter (MCR)', c.meter);
    const idBytes = c.addressBytes.subarray(0, 4);
    if (afl.mac !== undefined) {
      const kmac = deriveKey(c.key, 0x01, afl.messageCounter, idBytes);
      const mac = aesCmac(kmac, modeSevenMacInput(afl, c.fromTpl!), false).subarray(0, afl.mac.length / 2).toString('hex').toUpperCase();
      if (mac !== afl.mac) throw new WmbusDecodeError(`wrong key (MAC ${afl.mac} does not match, computed ${mac})`, c.meter, 'wrong-key');
      macChecked = true;
    }
    plain = aesCbcDecrypt(deriveKey(c.key, 0x00, afl.messageCounter, idBytes), Buffer.alloc(16), enc, false);
  } else {
    throw new WmbusDecodeError(`security mode ${c.mode} is not supported (only 0, 5 and 7)`, c.meter, 'unsupported');
  }
  if (plain[0] !== 0x2f || plain[1] !== 0x2f) throw new WmbusDecodeError(`wrong key (no 2F2F after decryption, mode ${c.mode})`, c.meter, 'wrong-key');
  return { data: Buffer.concat([plain, c.data.subarray(n)]), macChecked };
}

/** Encrypts `plain` (a multiple of 16 bytes starting 2F2F) for mode 5; the simulator's side. */
export function encryptModeFive(key: Uint8Array, iv: Uint8Array, plain: Uint8Array): Buffer {
  return aesCbcEncrypt(key, iv, plain);
}

/** ELL AES-128-CTR: IV = M, A (from the link layer), CC, SN, FN 0000, BC 00; the payload CRC then checks the key. */
export function decryptEll(key: Uint8Array, ell: WmbusEll, link: Uint8Array, payload: Uint8Array, meter: string): Buffer {
  const iv = Buffer.alloc(16);
  iv.set(link.subarray(2, 10), 0);
  iv[8] = ell.cc;
  iv.writeUInt32LE(ell.sessionNumber!, 9);
  const plain = aesCtr(key, iv, payload);
  const crc = crc16En13757(plain, 2);
  const sent = plain[0] | (plain[1] << 8);
  if (crc !== sent) throw new WmbusDecodeError(`wrong key (ELL payload CRC ${sent.toString(16).toUpperCase()} does not match after AES-CTR decryption)`, meter, 'wrong-key');
  return plain.subarray(2);
}
