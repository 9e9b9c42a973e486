/** AES-128-CMAC (RFC 4493) built on node:crypto's AES-128-ECB, and the AES-128-CBC helpers of the security modes. */
import crypto from 'node:crypto';

export function aesEcbBlock(key: Uint8Array, block: Uint8Array): Buffer {
  const c = crypto.createCipheriv('aes-128-ecb', key, null);
  c.setAutoPadding(false);
  return Buffer.concat([c.update(block), c.final()]);
}

/** Doubling in GF(2^128) with the RFC 4493 constant Rb = 0x87. */
function double(b: Buffer): Buffer {
  const out = Buffer.alloc(16);
  for (let i = 0; i < 16; i++) out[i] = ((b[i] << 1) | (i < 15 ? b[i + 1] >> 7 : 0)) & 0xff;
  if (b[0] & 0x80) out[15] ^= 0x87;
  return out;
}

export function aesCmac(key: Uint8Array, message: Uint8Array): Buffer {
  if (key.length !== 16) throw new RangeError(`AES-CMAC key must be 16 bytes, got ${key.length}`);
  const k1 = double(aesEcbBlock(key, Buffer.alloc(16)));
  const k2 = double(k1);
  const n = Math.max(1, Math.ceil(message.length / 16));
  const complete = message.length > 0 && message.length % 16 === 0;
  const last = Buffer.alloc(16);
  const tail = message.subarray((n - 1) * 16);
  if (complete) {
    for (let i = 0; i < 16; i++) last[i] = tail[i] ^ k1[i];
  } else {
    last.set(tail);
    last[tail.length] = 0x80;
    for (let i = 0; i < 16; i++) last[i] ^= k2[i];
  }
  const c = crypto.createCipheriv('aes-128-cbc', key, Buffer.alloc(16));
  c.setAutoPadding(false);
  const body = Buffer.concat([message.subarray(0, (n - 1) * 16), last]);
  const all = c.update(body);
  return Buffer.from(all.subarray(all.length - 16));
}

export function aesCbcDecrypt(key: Uint8Array, iv: Uint8Array, data: Uint8Array): Buffer {
  const d = crypto.createDecipheriv('aes-128-cbc', key, iv);
  d.setAutoPadding(false);
  return Buffer.concat([d.update(data), d.final()]);
}

export function aesCbcEncrypt(key: Uint8Array, iv: Uint8Array, data: Uint8Array): Buffer {
  const c = crypto.createCipheriv('aes-128-cbc', key, iv);
  c.setAutoPadding(false);
  return Buffer.concat([c.update(data), c.final()]);
}

/** AES-128-CTR (ELL encryption, EN 13757-4): the counter block is the IV, its last byte the block counter. */
export function aesCtr(key: Uint8Array, iv: Uint8Array, data: Uint8Array): Buffer {
  const c = crypto.createCipheriv('aes-128-ctr', key, iv);
  return Buffer.concat([c.update(data), c.final()]);
}
