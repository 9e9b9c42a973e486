/**
 * Building and checking an application association (Green Book 9.2.7.4 / 9.4), pure functions the
 * client session calls in order; no I/O, the invocation counter is passed in (the caller persists it
 * and never reuses one).
 *
 *   buildAarq(o)                      AARQ for lowest (public client), low (LLS password) or high-gmac (HLS
 *                                     mechanism 5); ciphered context: glo-initiate-request under SC 0x30
 *   checkAare(bytes, o)               -> { serverSystemTitle, challenge (StoC), conformance, maxPduSize, hlsPending }
 *                                     throws AssociationError naming the result and diagnostic when refused
 *   hlsReply(o, StoC, ic)             pass 3: action-request to 0-0:40.0.0.255 method 1 with f(StoC) under
 *                                     IC `ic`; when ciphered the glo-action-request takes ic + 1 (advance by 2)
 *   checkHlsResult(response, o)       pass 4: the server's f(CtoS) must match, else AssociationError
 */
import crypto from 'node:crypto';
import { DlmsDecodeError } from './errors';
import { type Apdu, decodeApdu, encodeCiphered, innermost } from './apdu';
import { ASSOCIATION_RESULTS, DEFAULT_CONFORMANCE, MECHANISMS, PROVIDER_DIAGNOSTICS, USER_DIAGNOSTICS, encodeAarq, encodeInitiateRequest } from './acse';
import { type SecurityKeys, SC_AUTHENTICATED, gmacChallenge } from './security';
import { DEFAULT_INVOKE, encodeService, resultName } from './xdlms';

export type Mechanism = 'lowest' | 'low' | 'high-gmac';
const MECHANISM_IDS: Record<Mechanism, number> = { lowest: 0, low: 1, 'high-gmac': 5 };

export interface AssociationOptions {
  mechanism: Mechanism;
  /** LLS password (a secret: it appears in no message). */
  password?: Buffer;
  /** HLS and ciphering: the client's system title (8 bytes) and keys. */
  systemTitle?: Buffer;
  keys?: SecurityKeys;
  /** Cipher the xDLMS APDUs (application context LN with ciphering, glo- APDUs under SC 0x30). */
  ciphered?: boolean;
  /** HLS: the client's challenge CtoS (8..64 bytes); default 16 random bytes. */
  challenge?: Buffer;
  conformance?: number;
  maxReceivePduSize?: number;
}

export class AssociationError extends Error {
  constructor(message: string, readonly code: 'rejected' | 'authentication' | 'protocol') {
    super(message);
    this.name = 'AssociationError';
  }
}

function need<T>(v: T | undefined, what: string): T {
  if (v === undefined) throw new RangeError(`${what} is required for this association`);
  return v;
}

/** Returns the AARQ bytes and the CtoS challenge used (keep it for pass 4). */
export function buildAarq(o: AssociationOptions, invocationCounter = 0): { aarq: Buffer; challenge?: Buffer } {
  const mechanism = MECHANISM_IDS[o.mechanism];
  if (mechanism === undefined) throw new RangeError(`mechanism ${JSON.stringify(o.mechanism)} is not lowest, low or high-gmac`);
  let challenge: Buffer | undefined;
  let authenticationValue: Buffer | undefined;
  if (o.mechanism === 'low') authenticationValue = need(o.password, 'a password (LLS)');
  if (o.mechanism === 'high-gmac') {
    challenge = o.challenge ?? crypto.randomBytes(16);
    if (challenge.length < 8 || challenge.length > 64) throw new RangeError(`HLS challenge of ${challenge.length} bytes (8..64)`);
    authenticationValue = challenge;
  }
  let userInformation = encodeInitiateRequest({ conformance: o.conformance ?? DEFAULT_CONFORMANCE, maxReceivePduSize: o.maxReceivePduSize ?? 0xffff });
  if (o.ciphered) {
    userInformation = encodeCiphered(userInformation, { securityControl: 0x30, systemTitle: need(o.systemTitle, 'the client system title'), invocationCounter, keys: need(o.keys, 'keys') });
  }
  // the server needs the client's system title to cipher and for HLS-GMAC's f(CtoS)
  const callingApTitle = o.ciphered ? need(o.systemTitle, 'the client system title') : o.systemTitle;
  return { aarq: encodeAarq({ applicationContext: o.ciphered ? 3 : 1, callingApTitle, mechanism, authenticationValue, userInformation }), challenge };
}

export interface Accepted {
  serverSystemTitle?: Buffer;
  /** StoC, the server's challenge (HLS). */
  challenge?: Buffer;
  conformance: number;
  maxPduSize: number;
  /** HLS: passes 3 and 4 are still to do before the association may be used. */
  hlsPending: boolean;
}

export function checkAare(bytes: Buffer, o: AssociationOptions): Accepted {
  let a: Apdu;
  try {
    a = decodeApdu(bytes, { keys: o.ciphered ? o.keys : undefined });
  } catch (e) {
    if (e instanceof DlmsDecodeError) throw new AssociationError(`AARE does not decode: ${e.message}`, e.code === 'wrong-key' ? 'authentication' : 'protocol');
    throw e;
  }
  if (a.type !== 'aare') throw new AssociationError(`expected an AARE, got ${a.type}`, 'protocol');
  const diag = a.diagnostic.source === 'user' ? USER_DIAGNOSTICS[a.diagnostic.value] : PROVIDER_DIAGNOSTICS[a.diagnostic.value];
  const init = a.initiate && a.initiate.type === 'ciphered' ? a.initiate.inner : a.initiate;
  if (a.result !== 0) {
    const why = init && init.type === 'confirmed-service-error' ? `, initiate error ${init.error}` : '';
    throw new AssociationError(`association ${ASSOCIATION_RESULTS[a.result] ?? a.result}: ${diag ?? a.diagnostic.value}${why}`, a.diagnostic.value === 13 ? 'authentication' : 'rejected');
  }
  if (!init || init.type !== 'initiate-response') throw new AssociationError('AARE accepted without an InitiateResponse', 'protocol');
  const hlsPending = o.mechanism === 'high-gmac';
  if (hlsPending && (a.mechanism !== 5 || !a.authenticationValue)) throw new AssociationError(`HLS-GMAC asked, the server answered mechanism ${a.mechanism === undefined ? 'none' : MECHANISMS[a.mechanism] ?? a.mechanism} without a challenge`, 'protocol');
  return { serverSystemTitle: a.respondingApTitle, challenge: a.authenticationValue, conformance: init.conformance, maxPduSize: init.maxReceivePduSize, hlsPending };
}

const ASSOCIATION_LN = { classId: 15, obis: '0-0:40.0.0.255', method: 1 };

/** Pass 3: reply_to_HLS_authentication with f(StoC), ciphered as glo-action-request when the association is. */
export function hlsReply(o: AssociationOptions, serverChallenge: Buffer, invocationCounter: number): Buffer {
  const keys = need(o.keys, 'keys');
  const f = gmacChallenge(need(o.systemTitle, 'the client system title'), invocationCounter, keys, serverChallenge);
  const plain = encodeService({ type: 'action-request', form: 'normal', invoke: DEFAULT_INVOKE, method: ASSOCIATION_LN, parameters: { type: 'octet-string', value: f } });
  // the IC of f(StoC) is used; the ciphered APDU takes the next one
  return o.ciphered ? encodeCiphered(plain, { securityControl: 0x30, systemTitle: o.systemTitle as Buffer, invocationCounter: invocationCounter + 1, keys }) : plain;
}

/** Pass 4: the action-response must carry f(CtoS) computed with the server's system title and keys. */
export function checkHlsResult(response: Buffer, o: AssociationOptions, clientChallenge: Buffer, serverSystemTitle: Buffer): void {
  const keys = need(o.keys, 'keys');
  let a: Apdu;
  try {
    a = innermost(decodeApdu(response, { keys, systemTitle: serverSystemTitle }));
  } catch (e) {
    if (e instanceof DlmsDecodeError) throw new AssociationError(`HLS reply does not decode: ${e.message}`, e.code === 'wrong-key' ? 'authentication' : 'protocol');
    throw e;
  }
  if (a.type !== 'action-response') throw new AssociationError(`expected the action-response to reply_to_HLS_authentication, got ${a.type}`, 'protocol');
  if (a.result !== 0) throw new AssociationError(`the server refused our f(StoC): ${resultName(a.result)}`, 'authentication');
  const r = a.returned;
  if (!r || !('data' in r) || r.data.type !== 'octet-string') throw new AssociationError('the server returned no f(CtoS)', 'authentication');
  const f = r.data.value;
  if (f.length !== 17 || f[0] !== SC_AUTHENTICATED) throw new AssociationError(`f(CtoS) of ${f.length} bytes with SC 0x${f[0]?.toString(16)}, 17 bytes with SC 0x10 expected`, 'authentication');
  const want = gmacChallenge(serverSystemTitle, f.readUInt32BE(1), keys, clientChallenge);
  if (!crypto.timingSafeEqual(want, f)) throw new AssociationError('the server\'s f(CtoS) does not match: wrong keys or system title', 'authentication');
}
