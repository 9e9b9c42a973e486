/**
 * DLMS symmetric ciphering (Green Book 9.2.7): AES-GCM with a 12-byte tag, built on Node's crypto.
 * Security suites 0 and 1 use AES-128 (16-byte keys), suite 2 AES-256 (32-byte keys); the suite id is SC's low nibble.
 *
 * A protected APDU's payload is  SC (1) | IC (4) | information | tag (12, when authenticated)
 *   SC, the security control byte: bits 0-3 suite id (0 here), 0x10 authentication, 0x20 encryption,
 *       0x40 broadcast key, 0x80 compression (refused).
 *   IC, the sender's invocation counter (big endian); IV = sender's system title (8) || IC (4).
 *   authentication only (0x10): AAD = SC || AK || plaintext; the information is the plaintext.
 *   encryption only (0x20):     no AAD and no tag; the information is the ciphertext.
 *   both (0x30):                AAD = SC || AK; the information is the ciphertext.
 * The HLS-GMAC (mechanism 5) challenge answer f(challenge) is SC(0x10) || IC || tag over AAD = SC || AK || challenge.
 *
 * API: protect(), unprotect() (throws DlmsDecodeError 'wrong-key' when the tag does not match),
 * gmacChallenge(), and aesGcm() the raw primitive (checked against NIST's gcmEncryptExtIV128 vectors).
 * Keys never appear in error messages.
 */
import crypto from 'node:crypto';
import { DlmsDecodeError } from './errors';

export const SC_AUTHENTICATED = 0x10;
export const SC_ENCRYPTED = 0x20;
export const SC_BROADCAST = 0x40;
export const SC_COMPRESSED = 0x80;
export const TAG_LENGTH = 12;

export interface SecurityKeys {
  /** Block cipher key (global unicast, broadcast or dedicated), 16 bytes. */
  encryptionKey: Buffer;
  /** Authentication key, 16 bytes; needed for SC 0x10 and 0x30. */
  authenticationKey?: Buffer;
}

export interface SecurityControl {
  suite: number;
  authenticated: boolean;
  encrypted: boolean;
  broadcast: boolean;
  compressed: boolean;
}

export function securityControl(sc: number): SecurityControl {
  return { suite: sc & 0x0f, authenticated: (sc & SC_AUTHENTICATED) !== 0, encrypted: (sc & SC_ENCRYPTED) !== 0, broadcast: (sc & SC_BROADCAST) !== 0, compressed: (sc & SC_COMPRESSED) !== 0 };
}

/** A 16-byte (or 32-byte, suite 2) key from hex or bytes; the error names the key, never its value. */
export function keyFrom(value: string | Buffer, what: string): Buffer {
  const clean = typeof value === 'string' ? value.replace(/[\s:]/g, '') : '';
  const b = typeof value === 'string' ? (/^([0-9a-fA-F]{32}|[0-9a-fA-F]{64})$/.test(clean) ? Buffer.from(clean, 'hex') : undefined) : value;
  if (!b || (b.length !== 16 && b.length !== 32)) throw new RangeError(`${what} must be 16 bytes (32 hex digits), or 32 bytes for suite 2`);
  return b;
}

/** Raw AES-128-GCM: returns ciphertext and the full 16-byte tag (callers truncate). */
export function aesGcm(key: Buffer, iv: Buffer, aad: Buffer, plaintext: Buffer): { ciphertext: Buffer; tag: Buffer } {
  const c = crypto.createCipheriv(key.length === 32 ? 'aes-256-gcm' : 'aes-128-gcm', key, iv);
  if (aad.length) c.setAAD(aad);
  const ciphertext = Buffer.concat([c.update(plaintext), c.final()]);
  return { ciphertext, tag: c.getAuthTag() };
}

export function initializationVector(systemTitle: Buffer, invocationCounter: number): Buffer {
  if (systemTitle.length !== 8) throw new DlmsDecodeError(`system title is ${systemTitle.length} bytes, 8 expected`);
  if (!Number.isInteger(invocationCounter) || invocationCounter < 0 || invocationCounter > 0xffffffff) throw new RangeError(`invocation counter ${invocationCounter} is not 0..4294967295`);
  const iv = Buffer.alloc(12);
  systemTitle.copy(iv, 0);
  iv.writeUInt32BE(invocationCounter, 8);
  return iv;
}

/** CTR keystream of GCM (counter starts at 2): encryption and decryption alike, no tag. */
function gcmCtr(key: Buffer, iv: Buffer, data: Buffer): Buffer {
  const counter = Buffer.concat([iv, Buffer.from([0, 0, 0, 2])]);
  const c = crypto.createCipheriv(key.length === 32 ? 'aes-256-ctr' : 'aes-128-ctr', key, counter);
  return Buffer.concat([c.update(data), c.final()]);
}

function checkKeyForSuite(suite: number, keys: SecurityKeys, offset: number, fail: (m: string, o: number) => Error): void {
  const want = suite === 2 ? 32 : 16;
  if (keys.encryptionKey.length !== want) throw fail(`security suite ${suite} needs a ${want}-byte key, the key given has ${keys.encryptionKey.length}`, offset);
}

function authKey(keys: SecurityKeys): Buffer {
  if (!keys.authenticationKey) throw new DlmsDecodeError('an authentication key is needed for an authenticated APDU (SC 0x10/0x30)', -1, 'no-key');
  return keys.authenticationKey;
}

/** Protects a plaintext APDU: returns SC | IC | information | tag, the content of a glo-/ded-/general-glo- APDU. */
export function protect(sc: number, systemTitle: Buffer, invocationCounter: number, keys: SecurityKeys, plaintext: Buffer): Buffer {
  const s = securityControl(sc);
  if (s.suite > 2 || s.compressed) throw new RangeError(`security control 0x${sc.toString(16)}: only suites 0..2 without compression are supported`);
  checkKeyForSuite(s.suite, keys, -1, (m) => new RangeError(m));
  const iv = initializationVector(systemTitle, invocationCounter);
  const head = Buffer.alloc(5);
  head[0] = sc;
  head.writeUInt32BE(invocationCounter, 1);
  if (s.authenticated && s.encrypted) {
    const { ciphertext, tag } = aesGcm(keys.encryptionKey, iv, Buffer.concat([Buffer.from([sc]), authKey(keys)]), plaintext);
    return Buffer.concat([head, ciphertext, tag.subarray(0, TAG_LENGTH)]);
  }
  if (s.authenticated) {
    const { tag } = aesGcm(keys.encryptionKey, iv, Buffer.concat([Buffer.from([sc]), authKey(keys), plaintext]), Buffer.alloc(0));
    return Buffer.concat([head, plaintext, tag.subarray(0, TAG_LENGTH)]);
  }
  if (s.encrypted) return Buffer.concat([head, gcmCtr(keys.encryptionKey, iv, plaintext)]);
  return Buffer.concat([head, plaintext]);
}

export interface Unprotected {
  securityControl: number;
  invocationCounter: number;
  plaintext: Buffer;
  /** The 12-byte tag that was checked, hex; undefined when not authenticated. */
  tag?: string;
}

/** Reads SC | IC | information | tag; decrypts and checks the tag. `offset` places errors in the enclosing buffer. */
export function unprotect(content: Buffer, systemTitle: Buffer, keys: SecurityKeys | undefined, offset = 0): Unprotected {
  if (content.length < 5) throw new DlmsDecodeError(`ciphered content is ${content.length} bytes, shorter than SC and invocation counter`, offset, 'truncated');
  const sc = content[0];
  const s = securityControl(sc);
  const ic = content.readUInt32BE(1);
  if (s.suite > 2) throw new DlmsDecodeError(`security suite ${s.suite} is not supported (0..2, AES-GCM)`, offset, 'unsupported');
  if (s.compressed) throw new DlmsDecodeError('compressed ciphered APDUs are not supported', offset, 'unsupported');
  const tagLen = s.authenticated ? TAG_LENGTH : 0;
  if (content.length < 5 + tagLen) throw new DlmsDecodeError(`ciphered content is ${content.length} bytes, too short for its tag`, offset, 'truncated');
  const info = content.subarray(5, content.length - tagLen);
  const tag = content.subarray(content.length - tagLen);
  if (!s.authenticated && !s.encrypted) return { securityControl: sc, invocationCounter: ic, plaintext: Buffer.from(info) };
  if (!keys) throw new DlmsDecodeError(`ciphered APDU (SC 0x${sc.toString(16).padStart(2, '0')}) and no key given`, offset, 'no-key');
  checkKeyForSuite(s.suite, keys, offset, (m, o) => new DlmsDecodeError(m, o, 'no-key'));
  const iv = initializationVector(systemTitle, ic);
  if (!s.authenticated) return { securityControl: sc, invocationCounter: ic, plaintext: gcmCtr(keys.encryptionKey, iv, info) };
  const aad = s.encrypted ? Buffer.concat([Buffer.from([sc]), authKey(keys)]) : Buffer.concat([Buffer.from([sc]), authKey(keys), info]);
  const d = crypto.createDecipheriv(keys.encryptionKey.length === 32 ? 'aes-256-gcm' : 'aes-128-gcm', keys.encryptionKey, iv, { authTagLength: TAG_LENGTH });
  d.setAAD(aad);
  d.setAuthTag(tag);
  let plaintext: Buffer;
  try {
    plaintext = s.encrypted ? Buffer.concat([d.update(info), d.final()]) : (d.final(), Buffer.from(info));
  } catch {
    throw new DlmsDecodeError('authentication tag does not match: wrong key, wrong authentication key or wrong system title', offset, 'wrong-key');
  }
  return { securityControl: sc, invocationCounter: ic, plaintext, tag: tag.toString('hex').toUpperCase() };
}

/** HLS mechanism 5 (GMAC): f(challenge) = 0x10 | IC | GMAC tag over SC || AK || challenge, IV from the answering side's system title. */
export function gmacChallenge(systemTitle: Buffer, invocationCounter: number, keys: SecurityKeys, challenge: Buffer): Buffer {
  const iv = initializationVector(systemTitle, invocationCounter);
  const { tag } = aesGcm(keys.encryptionKey, iv, Buffer.concat([Buffer.from([SC_AUTHENTICATED]), authKey(keys), challenge]), Buffer.alloc(0));
  const head = Buffer.alloc(5);
  head[0] = SC_AUTHENTICATED;
  head.writeUInt32BE(invocationCounter, 1);
  return Buffer.concat([head, tag.subarray(0, TAG_LENGTH)]);
}
