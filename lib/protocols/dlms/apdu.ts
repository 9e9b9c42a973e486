/**
 * Any DLMS APDU: decodeApdu() dispatches on the first byte to ACSE (AARQ/AARE/RLRQ/RLRE, acse.ts),
 * xDLMS services (GET/SET/ACTION, DataNotification..., xdlms.ts), initiate request/response, and the
 * ciphered forms, which it decrypts when keys are given (security.ts):
 *   glo-/ded- service APDUs (C8..CF, D0..D7, 21, 28):   tag | length | SC | IC | information | tag
 *       (no system title inside: the sender's comes from the AARQ/AARE, pass it as `systemTitle`)
 *   general-glo-/general-ded-ciphering (DB, DC):       tag | system title (length + 8) | length | SC | IC | ...
 * Without keys a ciphered APDU decodes to its header (no error); with wrong keys it throws 'wrong-key'.
 *
 *   decodeApdu(buf, { keys, systemTitle, limits }) -> Apdu
 *   encodeCiphered(plainApdu, { securityControl, systemTitle, invocationCounter, keys, general })
 */
import { DlmsDecodeError, Reader, encodeLength } from './errors';
import type { DecodeLimits } from './axdr';
import { type AcseApdu, type XdlmsInitiate, decodeAcse, decodeXdlmsInitiate } from './acse';
import { type XdlmsApdu, decodeService } from './xdlms';
import { type SecurityKeys, protect, unprotect } from './security';

/** Ciphered APDU tags and the plain APDU each protects. */
const GLO: Record<number, [name: string, plain: number]> = {
  0x21: ['glo-initiate-request', 0x01], 0x28: ['glo-initiate-response', 0x08],
  0xc8: ['glo-get-request', 0xc0], 0xc9: ['glo-set-request', 0xc1], 0xca: ['glo-event-notification', 0xc2], 0xcb: ['glo-action-request', 0xc3],
  0xcc: ['glo-get-response', 0xc4], 0xcd: ['glo-set-response', 0xc5], 0xcf: ['glo-action-response', 0xc7],
  0xd0: ['ded-get-request', 0xc0], 0xd1: ['ded-set-request', 0xc1], 0xd2: ['ded-event-notification', 0xc2], 0xd3: ['ded-action-request', 0xc3],
  0xd4: ['ded-get-response', 0xc4], 0xd5: ['ded-set-response', 0xc5], 0xd7: ['ded-action-response', 0xc7],
};
const PLAIN_TO_GLO = new Map<number, number>(Object.entries(GLO).filter(([t]) => Number(t) < 0xd0).map(([t, [, p]]) => [p, Number(t)]));
const PLAIN_TO_DED = new Map<number, number>(Object.entries(GLO).filter(([t]) => Number(t) >= 0xd0).map(([t, [, p]]) => [p, Number(t)]));

export interface CipheredApdu {
  type: 'ciphered';
  /** glo-get-request, general-glo-ciphering, ... */
  name: string;
  tag: number;
  /** The system title inside a general-*-ciphering APDU; for glo-/ded- APDUs the one that was passed in. */
  systemTitle?: Buffer;
  securityControl: number;
  invocationCounter: number;
  /** SC | IC | information | tag, as received. */
  content: Buffer;
  /** Present when keys were given: the decrypted APDU bytes and their decoding. */
  plaintext?: Buffer;
  inner?: Apdu;
}
export type AcseWithInitiate = AcseApdu & { initiate?: XdlmsInitiate | CipheredApdu };
export type Apdu = XdlmsApdu | AcseWithInitiate | XdlmsInitiate | CipheredApdu;

export interface ApduOptions {
  keys?: SecurityKeys;
  /** The sender's system title, for glo-/ded- APDUs (8 bytes). */
  systemTitle?: Buffer;
  limits?: DecodeLimits;
}

const MAX_CIPHER_NESTING = 2;

export function decodeApdu(buf: Uint8Array, o: ApduOptions = {}): Apdu {
  return decodeAt(Buffer.from(buf.buffer, buf.byteOffset, buf.length), o, 0);
}

function decodeAt(buf: Buffer, o: ApduOptions, nesting: number): Apdu {
  if (buf.length === 0) throw new DlmsDecodeError('empty APDU', 0, 'truncated');
  const tag = buf[0];
  if (tag >= 0x60 && tag <= 0x63) {
    const acse: AcseWithInitiate = decodeAcse(buf);
    const ui = acse.userInformation;
    if (ui && ui.length) {
      const title = acse.type === 'aarq' ? acse.callingApTitle : acse.type === 'aare' ? acse.respondingApTitle : undefined;
      acse.initiate = GLO[ui[0]] ? (decodeAt(ui, { ...o, systemTitle: title ?? o.systemTitle }, nesting + 1) as CipheredApdu) : decodeXdlmsInitiate(ui);
    }
    return acse;
  }
  if (tag === 0x01 || tag === 0x08 || tag === 0x0e) return decodeXdlmsInitiate(buf);
  if (GLO[tag] || tag === 0xdb || tag === 0xdc) return decodeCiphered(buf, o, nesting);
  if (tag === 0xdd) throw new DlmsDecodeError('general-ciphering (0xDD, key agreement) is not supported', 0, 'unsupported');
  if (tag === 0xe0) throw new DlmsDecodeError('general-block-transfer (0xE0) is not supported', 0, 'unsupported');
  return decodeService(buf, 0, o.limits);
}

function decodeCiphered(buf: Buffer, o: ApduOptions, nesting: number): CipheredApdu {
  if (nesting > MAX_CIPHER_NESTING) throw new DlmsDecodeError(`ciphered APDUs nested deeper than ${MAX_CIPHER_NESTING}`, 0, 'limit');
  const r = new Reader(buf);
  const tag = r.u8('APDU tag');
  const general = tag === 0xdb || tag === 0xdc;
  const name = general ? (tag === 0xdb ? 'general-glo-ciphering' : 'general-ded-ciphering') : GLO[tag][0];
  let systemTitle = o.systemTitle;
  if (general) {
    const at = r.pos;
    const n = r.length('system title');
    if (n !== 8) throw new DlmsDecodeError(`system title is ${n} bytes, 8 expected`, at);
    systemTitle = r.bytes(8, 'system title');
  }
  const contentAt = r.pos;
  const len = r.length('ciphered content');
  const contentStart = r.pos;
  const content = r.bytes(len, 'ciphered content');
  if (r.remaining > 0) throw new DlmsDecodeError(`${r.remaining} bytes after the ${name} APDU`, r.pos);
  if (content.length < 5) throw new DlmsDecodeError(`ciphered content of ${content.length} bytes has no SC and invocation counter`, contentAt, 'truncated');
  const out: CipheredApdu = { type: 'ciphered', name, tag, systemTitle, securityControl: content[0], invocationCounter: content.readUInt32BE(1), content };
  if (!o.keys) return out;
  if (!systemTitle) throw new DlmsDecodeError(`${name} carries no system title: give the sender's system title to decrypt it`, 0, 'no-key');
  const u = unprotect(content, systemTitle, o.keys, contentStart);
  out.plaintext = u.plaintext;
  if (!general && u.plaintext[0] !== GLO[tag][1]) throw new DlmsDecodeError(`${name} decrypts to tag 0x${u.plaintext[0]?.toString(16)}, 0x${GLO[tag][1].toString(16)} expected`, contentStart);
  out.inner = decodeAt(u.plaintext, { ...o, systemTitle }, nesting + 1);
  return out;
}

export interface CipherOptions {
  securityControl: number;
  systemTitle: Buffer;
  invocationCounter: number;
  keys: SecurityKeys;
  /** general-glo-ciphering (with the system title inside) instead of the service's glo- tag; also for DataNotification. */
  general?: boolean;
  /** Dedicated key: ded- tags / general-ded-ciphering. */
  dedicated?: boolean;
}

/** Protects a plain APDU and wraps it in its glo-/ded- tag or in general-glo-/general-ded-ciphering. */
export function encodeCiphered(plain: Buffer, o: CipherOptions): Buffer {
  const content = protect(o.securityControl, o.systemTitle, o.invocationCounter, o.keys, plain);
  if (o.general) {
    return Buffer.concat([Buffer.from([o.dedicated ? 0xdc : 0xdb]), encodeLength(8), o.systemTitle, encodeLength(content.length), content]);
  }
  const tag = (o.dedicated ? PLAIN_TO_DED : PLAIN_TO_GLO).get(plain[0]);
  if (tag === undefined) throw new RangeError(`APDU tag 0x${plain[0]?.toString(16)} has no ${o.dedicated ? 'ded' : 'glo'}- form; use general ciphering`);
  return Buffer.concat([Buffer.from([tag]), encodeLength(content.length), content]);
}

/** The innermost decrypted APDU (or the APDU itself when not ciphered or not decrypted). */
export function innermost(a: Apdu): Apdu {
  let x = a;
  while (x.type === 'ciphered' && x.inner) x = x.inner;
  return x;
}
