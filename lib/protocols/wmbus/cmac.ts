/**
 * AES-128-CMAC (RFC 4493) and the AES-128-CBC / CTR helpers of the security modes, on node:crypto.
 * Creating a cipher is the expensive part, so a meter key's ECB cipher and decipher (and its CMAC
 * subkeys) are kept, a bounded number of keys at a time, and CBC runs as ECB blocks chained by hand.
 */
import crypto from 'node:crypto';

/** A key's ECB cipher and decipher, each made when first needed, and its CMAC subkeys. */
class KeyState {
  private encCipher?: crypto.Cipher;
  private decCipher?: crypto.Decipher;
  private subkeys?: [Buffer, Buffer];
  constructor(private readonly key: Uint8Array) {}
  get enc(): crypto.Cipher {
    if (!this.encCipher) { this.encCipher = crypto.createCipheriv('aes-128-ecb', this.key, null); this.encCipher.setAutoPadding(false); }
    return this.encCipher;
  }
  get dec(): crypto.Decipher {
    if (!this.decCipher) { this.decCipher = crypto.createDecipheriv('aes-128-ecb', this.key, null); this.decCipher.setAutoPadding(false); }
    return this.decCipher;
  }
  get k(): [Buffer, Buffer] {
    if (!this.subkeys) { const k1 = double(this.enc.update(Buffer.alloc(16))); this.subkeys = [k1, double(k1)]; }
    return this.subkeys;
  }
}
const MAX_KEYS = 1000;
const states = new Map<string, KeyState>();

/** Doubling in GF(2^128) with the RFC 4493 constant Rb = 0x87. */
function double(b: Buffer): Buffer {
  const out = Buffer.alloc(16);
  for (let i = 0; i < 16; i++) out[i] = ((b[i] << 1) | (i < 15 ? b[i + 1] >> 7 : 0)) & 0xff;
  if (b[0] & 0x80) out[15] ^= 0x87;
  return out;
}

function ecb(key: Uint8Array, cache: boolean): KeyState {
  if (key.length !== 16) throw new RangeError(`AES-128 key must be 16 bytes, got ${key.length}`);
  if (!cache) return new KeyState(Buffer.from(key));
  const id = Buffer.from(key).toString('hex');
  let s = states.get(id);
  if (!s) {
    if (states.size >= MAX_KEYS) states.delete(states.keys().next().value!);
    s = new KeyState(Buffer.from(key));
    states.set(id, s);
  }
  return s;
}

export function aesEcbBlock(key: Uint8Array, block: Uint8Array): Buffer {
  return ecb(key, true).enc.update(block);
}

/** AES-CMAC of `message`; `cacheKey` false for one-time keys (mode 7's derived Kmac). */
export function aesCmac(key: Uint8Array, message: Uint8Array, cacheKey = true): Buffer {
  const s = ecb(key, cacheKey);
  const [k1, k2] = s.k;
  const n = Math.max(1, Math.ceil(message.length / 16));
  const complete = message.length > 0 && message.length % 16 === 0;
  let x = Buffer.alloc(16);
  const block = Buffer.alloc(16);
  for (let b = 0; b < n; b++) {
    const from = b * 16;
    if (b < n - 1) {
      for (let i = 0; i < 16; i++) block[i] = x[i] ^ message[from + i];
    } else {
      const tail = message.subarray(from);
      for (let i = 0; i < 16; i++) {
        const m = i < tail.length ? tail[i] : i === tail.length ? 0x80 : 0;
        block[i] = x[i] ^ m ^ (complete ? k1[i] : k2[i]);
      }
    }
    x = s.enc.update(block);
  }
  return x;
}

/** AES-128-CBC decryption of whole blocks without padding. */
export function aesCbcDecrypt(key: Uint8Array, iv: Uint8Array, data: Uint8Array, cacheKey = true): Buffer {
  if (data.length % 16) throw new RangeError(`AES-CBC data must be whole 16-byte blocks, got ${data.length} bytes`);
  const plain = ecb(key, cacheKey).dec.update(data);
  for (let i = 0; i < plain.length; i++) plain[i] ^= i < 16 ? iv[i] : data[i - 16];
  return plain;
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
