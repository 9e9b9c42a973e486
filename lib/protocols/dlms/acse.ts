/**
 * Association control (ACSE, BER encoded; Green Book 9.4 / 11.2) and the xDLMS InitiateRequest/Response
 * carried in its user-information.
 *
 *   AARQ 60 | A1 application context | A6 calling AP title | 8A sender ACSE requirements | 8B mechanism name
 *           | AC calling authentication value (80 password / challenge) | BE 04 InitiateRequest (or a ciphered one)
 *   AARE 61 | A1 | A2 result | A3 result source diagnostic | A4 responding AP title | 88 | 89 | AA challenge | BE 04 InitiateResponse
 *   RLRQ 62 / RLRE 63 | 80 reason | BE user information
 *
 * API: encodeAarq / encodeAare / encodeRelease, decodeAcse (called by decodeApdu in apdu.ts),
 * encodeInitiateRequest / encodeInitiateResponse / decodeXdlmsInitiate, conformance names.
 */
import { DlmsDecodeError, Reader, encodeLength } from './errors';

const CONTEXT_PREFIX = [0x60, 0x85, 0x74, 0x05, 0x08, 0x01];
const MECHANISM_PREFIX = [0x60, 0x85, 0x74, 0x05, 0x08, 0x02];

export const APPLICATION_CONTEXTS: Record<number, string> = { 1: 'logical-name', 2: 'short-name', 3: 'logical-name-ciphered', 4: 'short-name-ciphered' };
export const MECHANISMS: Record<number, string> = { 0: 'lowest', 1: 'low', 2: 'high', 3: 'high-md5', 4: 'high-sha1', 5: 'high-gmac', 6: 'high-sha256', 7: 'high-ecdsa' };
export const ASSOCIATION_RESULTS: Record<number, string> = { 0: 'accepted', 1: 'rejected-permanent', 2: 'rejected-transient' };
export const USER_DIAGNOSTICS: Record<number, string> = {
  0: 'null', 1: 'no-reason-given', 2: 'application-context-name-not-supported', 3: 'calling-AP-title-not-recognized',
  4: 'calling-AP-invocation-identifier-not-recognized', 5: 'calling-AE-qualifier-not-recognized', 6: 'calling-AE-invocation-identifier-not-recognized',
  7: 'called-AP-title-not-recognized', 8: 'called-AP-invocation-identifier-not-recognized', 9: 'called-AE-qualifier-not-recognized',
  10: 'called-AE-invocation-identifier-not-recognized', 11: 'authentication-mechanism-name-not-recognised', 12: 'authentication-mechanism-name-required',
  13: 'authentication-failure', 14: 'authentication-required',
};
export const PROVIDER_DIAGNOSTICS: Record<number, string> = { 0: 'null', 1: 'no-reason-given', 2: 'no-common-acse-version' };

/** Conformance block bits, bit 0 first (the 24-bit value's most significant bit). */
export const CONFORMANCE_BITS = [
  'reserved-zero', 'general-protection', 'general-block-transfer', 'read', 'write', 'unconfirmed-write', 'delta-value-encoding', 'reserved-seven',
  'attribute0-supported-with-set', 'priority-mgmt-supported', 'attribute0-supported-with-get', 'block-transfer-with-get-or-read',
  'block-transfer-with-set-or-write', 'block-transfer-with-action', 'multiple-references', 'information-report', 'data-notification', 'access',
  'parameterized-access', 'get', 'set', 'selective-access', 'event-notification', 'action',
] as const;
export type ConformanceName = (typeof CONFORMANCE_BITS)[number];

export function conformanceNames(block: number): ConformanceName[] {
  return CONFORMANCE_BITS.filter((_, i) => (block & (0x800000 >> i)) !== 0);
}
export function conformanceBlock(names: ConformanceName[]): number {
  let v = 0;
  for (const n of names) {
    const i = CONFORMANCE_BITS.indexOf(n);
    if (i < 0) throw new RangeError(`conformance ${JSON.stringify(n)} is not a conformance bit`);
    v |= 0x800000 >> i;
  }
  return v;
}
/** What a logical-name client usually proposes: get, set, action, selective access, block transfer with get/set/action, multiple references, priority, attribute 0 with get/set. */
export const DEFAULT_CONFORMANCE = 0x007e1f;

// ---- xDLMS initiate ----

export interface InitiateRequest {
  type: 'initiate-request';
  dedicatedKey?: Buffer;
  responseAllowed: boolean;
  qualityOfService?: number;
  dlmsVersion: number;
  conformance: number;
  maxReceivePduSize: number;
}
export interface InitiateResponse {
  type: 'initiate-response';
  qualityOfService?: number;
  dlmsVersion: number;
  conformance: number;
  maxReceivePduSize: number;
  /** 0x0007 for logical name referencing, 0xFA00 for short names. */
  vaaName: number;
}
export interface ConfirmedServiceError {
  type: 'confirmed-service-error';
  service: number;
  errorClass: number;
  error: number;
}
export type XdlmsInitiate = InitiateRequest | InitiateResponse | ConfirmedServiceError;

function conformanceBytes(c: number): number[] {
  return [0x5f, 0x1f, 0x04, 0x00, (c >> 16) & 0xff, (c >> 8) & 0xff, c & 0xff];
}

export function encodeInitiateRequest(o: Partial<Omit<InitiateRequest, 'type'>> = {}): Buffer {
  const out = [0x01];
  if (o.dedicatedKey) out.push(0x01, o.dedicatedKey.length, ...o.dedicatedKey);
  else out.push(0x00);
  if (o.responseAllowed === false) out.push(0x01, 0x00);
  else out.push(0x00);
  if (o.qualityOfService !== undefined) out.push(0x01, o.qualityOfService & 0xff);
  else out.push(0x00);
  const max = o.maxReceivePduSize ?? 0xffff;
  out.push(o.dlmsVersion ?? 6, ...conformanceBytes(o.conformance ?? DEFAULT_CONFORMANCE), (max >> 8) & 0xff, max & 0xff);
  return Buffer.from(out);
}

export function encodeInitiateResponse(o: Partial<Omit<InitiateResponse, 'type'>> = {}): Buffer {
  const out = [0x08];
  if (o.qualityOfService !== undefined) out.push(0x01, o.qualityOfService & 0xff);
  else out.push(0x00);
  const max = o.maxReceivePduSize ?? 1024;
  const vaa = o.vaaName ?? 7;
  out.push(o.dlmsVersion ?? 6, ...conformanceBytes(o.conformance ?? 0x00501f), (max >> 8) & 0xff, max & 0xff, (vaa >> 8) & 0xff, vaa & 0xff);
  return Buffer.from(out);
}

function readConformance(r: Reader): number {
  const at = r.pos;
  if (r.u8('conformance tag') !== 0x5f || r.u8('conformance tag') !== 0x1f) throw new DlmsDecodeError('conformance does not start with 5F 1F', at);
  const len = r.u8('conformance length');
  if (len !== 4) throw new DlmsDecodeError(`conformance is ${len} bytes, 4 expected`, at + 2);
  r.u8('conformance unused bits');
  return (r.u8('conformance') << 16) | (r.u8('conformance') << 8) | r.u8('conformance');
}

/** Decodes an InitiateRequest (01), InitiateResponse (08) or ConfirmedServiceError (0E); error offsets count from its first byte. */
export function decodeXdlmsInitiate(b: Uint8Array): XdlmsInitiate {
  const r = new Reader(b);
  const tag = r.u8('xDLMS tag');
  const opt = (what: string) => (r.u8(what) ? r.u8(what) : undefined);
  {
    if (tag === 0x01) {
      const dedicatedKey = r.u8('dedicated key') ? r.bytes(r.length('dedicated key'), 'dedicated key') : undefined;
      const ra = opt('response allowed');
      const qualityOfService = opt('quality of service');
      const dlmsVersion = r.u8('DLMS version');
      const conformance = readConformance(r);
      return { type: 'initiate-request', dedicatedKey, responseAllowed: ra === undefined ? true : ra !== 0, qualityOfService, dlmsVersion, conformance, maxReceivePduSize: r.u16('max receive PDU size') };
    }
    if (tag === 0x08) {
      const qualityOfService = opt('quality of service');
      const dlmsVersion = r.u8('DLMS version');
      const conformance = readConformance(r);
      return { type: 'initiate-response', qualityOfService, dlmsVersion, conformance, maxReceivePduSize: r.u16('max receive PDU size'), vaaName: r.u16('VAA name') };
    }
    if (tag === 0x0e) return { type: 'confirmed-service-error', service: r.u8('service'), errorClass: r.u8('error class'), error: r.u8('error') };
  }
  throw new DlmsDecodeError(`xDLMS tag 0x${tag.toString(16)} is not initiate-request/response or confirmed-service-error`, 0, 'unsupported');
}

// ---- AARQ / AARE / RLRQ / RLRE ----

export interface Aarq {
  type: 'aarq';
  applicationContext: number;
  callingApTitle?: Buffer;
  mechanism?: number;
  /** Password (LLS) or client challenge (HLS); a secret: decoders show only its length. */
  authenticationValue?: Buffer;
  /** InitiateRequest (or a ciphered glo-initiate-request, tag 0x21) as bytes. */
  userInformation?: Buffer;
}
export interface Aare {
  type: 'aare';
  applicationContext: number;
  result: number;
  diagnostic: { source: 'user' | 'provider'; value: number };
  respondingApTitle?: Buffer;
  mechanism?: number;
  authenticationValue?: Buffer;
  userInformation?: Buffer;
}
export interface Release {
  type: 'rlrq' | 'rlre';
  reason?: number;
  userInformation?: Buffer;
}
export type AcseApdu = Aarq | Aare | Release;

function tlv(tag: number, content: Uint8Array | number[]): Buffer {
  const c = Buffer.from(content);
  return Buffer.concat([Buffer.from([tag]), encodeLength(c.length), c]);
}
const contextName = (n: number) => tlv(0xa1, tlv(0x06, [...CONTEXT_PREFIX, n]));
const userInfo = (b: Buffer) => tlv(0xbe, tlv(0x04, b));

export function encodeAarq(a: Omit<Aarq, 'type'>): Buffer {
  const parts = [contextName(a.applicationContext)];
  if (a.callingApTitle) parts.push(tlv(0xa6, tlv(0x04, a.callingApTitle)));
  if (a.mechanism !== undefined && a.mechanism > 0) {
    parts.push(tlv(0x8a, [0x07, 0x80]), tlv(0x8b, [...MECHANISM_PREFIX, a.mechanism]));
    if (a.authenticationValue) parts.push(tlv(0xac, tlv(0x80, a.authenticationValue)));
  }
  if (a.userInformation) parts.push(userInfo(a.userInformation));
  return tlv(0x60, Buffer.concat(parts));
}

export function encodeAare(a: Omit<Aare, 'type'>): Buffer {
  const parts = [contextName(a.applicationContext), tlv(0xa2, tlv(0x02, [a.result])), tlv(0xa3, tlv(a.diagnostic.source === 'user' ? 0xa1 : 0xa2, tlv(0x02, [a.diagnostic.value])))];
  if (a.respondingApTitle) parts.push(tlv(0xa4, tlv(0x04, a.respondingApTitle)));
  if (a.mechanism !== undefined && a.mechanism > 0) {
    parts.push(tlv(0x88, [0x07, 0x80]), tlv(0x89, [...MECHANISM_PREFIX, a.mechanism]));
    if (a.authenticationValue) parts.push(tlv(0xaa, tlv(0x80, a.authenticationValue)));
  }
  if (a.userInformation) parts.push(userInfo(a.userInformation));
  return tlv(0x61, Buffer.concat(parts));
}

export function encodeRelease(type: 'rlrq' | 'rlre', reason = 0, userInformation?: Buffer): Buffer {
  const parts = [tlv(0x80, [reason])];
  if (userInformation) parts.push(userInfo(userInformation));
  return tlv(type === 'rlrq' ? 0x62 : 0x63, Buffer.concat(parts));
}

interface Tlv { tag: number; at: number; content: Reader }
function readTlv(r: Reader, what: string): Tlv {
  const at = r.pos;
  const tag = r.u8(`${what} tag`);
  if ((tag & 0x1f) === 0x1f) throw new DlmsDecodeError(`multi-byte BER tag 0x${tag.toString(16)} in ${what}`, at, 'unsupported');
  const len = r.length(what);
  r.need(len, what);
  const content = new Reader(r.buf, r.pos, r.pos + len);
  r.pos += len;
  return { tag, at, content };
}
const rest = (r: Reader, what: string) => r.bytes(r.remaining, what);

function objectIdentifierLast(t: Tlv, prefix: number[], what: string, implicit: boolean): number {
  let c = t.content;
  if (!implicit) {
    const inner = readTlv(c, what);
    if (inner.tag !== 0x06) throw new DlmsDecodeError(`${what} is not an OBJECT IDENTIFIER (tag 0x${inner.tag.toString(16)})`, inner.at);
    c = inner.content;
  }
  const at = c.pos;
  const oid = rest(c, what);
  if (oid.length !== prefix.length + 1 || prefix.some((v, i) => oid[i] !== v)) throw new DlmsDecodeError(`${what} ${oid.toString('hex')} is not a DLMS UA name (2.16.756.5.8.x.y)`, at, 'unsupported');
  return oid[prefix.length];
}

function innerOf(t: Tlv, tag: number, what: string): Reader {
  const inner = readTlv(t.content, what);
  if (inner.tag !== tag) throw new DlmsDecodeError(`${what}: tag 0x${inner.tag.toString(16)}, 0x${tag.toString(16)} expected`, inner.at);
  return inner.content;
}

function smallInteger(r: Reader, what: string): number {
  const b = rest(r, what);
  if (b.length < 1 || b.length > 2) throw new DlmsDecodeError(`${what} is ${b.length} bytes`, r.pos - b.length);
  return b.length === 1 ? b[0] : (b[0] << 8) | b[1];
}

/** Decodes AARQ (60), AARE (61), RLRQ (62) or RLRE (63); unknown optional fields are skipped. */
export function decodeAcse(buf: Uint8Array, start = 0): AcseApdu {
  const outer = readTlv(new Reader(buf, start), 'ACSE APDU');
  const r = outer.content;
  if (r.pos + r.remaining !== buf.length) throw new DlmsDecodeError(`${buf.length - r.pos - r.remaining} bytes after the ACSE APDU`, r.pos + r.remaining);
  if (outer.tag === 0x62 || outer.tag === 0x63) {
    const rel: Release = { type: outer.tag === 0x62 ? 'rlrq' : 'rlre' };
    while (r.remaining > 0) {
      const t = readTlv(r, 'release field');
      if (t.tag === 0x80) rel.reason = smallInteger(t.content, 'release reason');
      else if (t.tag === 0xbe) rel.userInformation = rest(innerOf(t, 0x04, 'user information'), 'user information');
    }
    return rel;
  }
  if (outer.tag !== 0x60 && outer.tag !== 0x61) throw new DlmsDecodeError(`ACSE tag 0x${outer.tag.toString(16)} is not AARQ, AARE, RLRQ or RLRE`, start, 'unsupported');
  const isAarq = outer.tag === 0x60;
  let applicationContext: number | undefined, mechanism: number | undefined, result: number | undefined;
  let apTitle: Buffer | undefined, authenticationValue: Buffer | undefined, userInformation: Buffer | undefined;
  let diagnostic: Aare['diagnostic'] | undefined;
  while (r.remaining > 0) {
    const t = readTlv(r, isAarq ? 'AARQ field' : 'AARE field');
    switch (t.tag) {
      case 0xa1: applicationContext = objectIdentifierLast(t, CONTEXT_PREFIX, 'application context name', false); break;
      case 0xa2: if (!isAarq) result = smallInteger(innerOf(t, 0x02, 'result'), 'result'); break;
      case 0xa3: if (!isAarq) {
        const d = readTlv(t.content, 'result source diagnostic');
        if (d.tag !== 0xa1 && d.tag !== 0xa2) throw new DlmsDecodeError(`result source diagnostic tag 0x${d.tag.toString(16)}`, d.at);
        diagnostic = { source: d.tag === 0xa1 ? 'user' : 'provider', value: smallInteger(innerOf({ ...d, content: d.content }, 0x02, 'diagnostic'), 'diagnostic') };
      } break;
      case 0xa4: if (!isAarq) apTitle = rest(innerOf(t, 0x04, 'responding AP title'), 'AP title'); break;
      case 0xa6: if (isAarq) apTitle = rest(innerOf(t, 0x04, 'calling AP title'), 'AP title'); break;
      case 0x8b: case 0x89: mechanism = objectIdentifierLast(t, MECHANISM_PREFIX, 'mechanism name', true); break;
      case 0xac: case 0xaa: {
        const v = readTlv(t.content, 'authentication value');
        if (v.tag !== 0x80) throw new DlmsDecodeError(`authentication value choice 0x${v.tag.toString(16)} is not a charstring (0x80)`, v.at, 'unsupported');
        authenticationValue = rest(v.content, 'authentication value');
        break;
      }
      case 0xbe: userInformation = rest(innerOf(t, 0x04, 'user information'), 'user information'); break;
      default: break; // protocol version, requirements, AE qualifiers and invocation ids: not needed
    }
  }
  if (applicationContext === undefined) throw new DlmsDecodeError(`${isAarq ? 'AARQ' : 'AARE'} has no application context name`, start);
  if (isAarq) return { type: 'aarq', applicationContext, callingApTitle: apTitle, mechanism, authenticationValue, userInformation };
  if (result === undefined || diagnostic === undefined) throw new DlmsDecodeError('AARE has no result or no result source diagnostic', start);
  return { type: 'aare', applicationContext, result, diagnostic, respondingApTitle: apTitle, mechanism, authenticationValue, userInformation };
}
