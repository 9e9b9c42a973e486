/**
 * The server side of DLMS/COSEM for the simulator: associations and xDLMS services over any link, as
 * pure functions of APDU bytes (no I/O, no timers). One DlmsServer per meter holds what outlives an
 * association (its invocation counter, the last counter seen from each client system title); each
 * association (a wrapper connection or an HDLC link, per client SAP) is a DlmsAssociation.
 *
 *   const server = new DlmsServer({ meter, password, keys, systemTitle });
 *   const a = server.associate(clientSap);       a.handle(apduBytes) -> response bytes, or undefined (no answer)
 *
 * Client SAPs: 0x10 public (lowest security), 0x20 LLS (password), 0x30 HLS-GMAC (pass 3/4 via ACTION
 * 0-0:40.0.0.255 method 1). Application context LN (1) or LN with ciphering (3: glo-initiate and glo-*
 * APDUs under the global unicast key, security control as the client sends it). Refusals (AARE result,
 * user diagnostic): unknown SAP -> rejected-permanent no-reason-given; short-name context ->
 * application-context-name-not-supported; mechanism other than the SAP's -> authentication-mechanism-
 * name-not-recognised (-required when missing); wrong password, undecryptable or replayed glo-initiate
 * -> authentication-failure; busy -> rejected-transient no-reason-given. A ciphered request that does
 * not decrypt or whose counter does not rise gets an ExceptionResponse (service-error deciphering-error 5
 * or invocation-counter-error 6), a request longer than the server's max PDU one with pdu-too-long (4).
 * GET answers longer than the client's max PDU go in blocks (get-next).
 */
import crypto from 'node:crypto';
import { type Aarq, encodeAare, encodeInitiateResponse, encodeRelease, conformanceBlock, decodeAcse, decodeXdlmsInitiate } from './acse';
import { decodeApdu, encodeCiphered } from './apdu';
import { type DlmsData, encodeData } from './axdr';
import { DlmsDecodeError, encodeLength } from './errors';
import { type SecurityKeys, gmacChallenge, unprotect } from './security';
import { type AccessLevel, type AssociationView, CosemMeter, DataAccess } from './server-objects';
import { SelectionError } from './server-profile';
import { type AttributeRequest, type DataResult, type Invoke, type XdlmsApdu, decodeService, encodeService } from './xdlms';

export const CLIENT_SAPS: Record<number, { level: AccessLevel; mechanism: number }> = {
  0x10: { level: 'public', mechanism: 0 }, 0x20: { level: 'reader', mechanism: 1 }, 0x30: { level: 'manager', mechanism: 5 },
};
export const SERVER_CONFORMANCE = conformanceBlock(['block-transfer-with-get-or-read', 'multiple-references', 'selective-access', 'get', 'set', 'action']);

export interface DlmsServerOptions {
  meter: CosemMeter;
  /** LLS password (client SAP 0x20). */
  password: Buffer;
  /** Global unicast encryption key and authentication key (HLS-GMAC and ciphering). */
  keys: SecurityKeys;
  /** The server's system title, 8 bytes. */
  systemTitle: Buffer;
  /** The largest APDU the server takes (its InitiateResponse max receive PDU size). */
  maxReceivePduSize?: number;
  /** First invocation counter the server uses. */
  invocationCounter?: number;
  /** StoC challenges (tests pass a fixed one). */
  random?: (n: number) => Buffer;
  /** Logical device (server SAP) of this meter, for the association object. */
  serverSap?: number;
}

export class DlmsServer {
  /** The next invocation counter the server sends under. */
  invocationCounter: number;
  /** Last invocation counter received per client system title (hex). */
  readonly clientCounters = new Map<string, number>();
  /** Refuse associations (rejected-transient) while true. */
  busy = false;
  /** The keys in use (the simulator's wrong-key fault swaps them). */
  keys: SecurityKeys;

  constructor(readonly o: DlmsServerOptions) {
    if (o.systemTitle.length !== 8) throw new RangeError(`server system title is ${o.systemTitle.length} bytes, 8 expected`);
    this.invocationCounter = o.invocationCounter ?? 1;
    this.keys = o.keys;
  }

  get meter(): CosemMeter { return this.o.meter; }

  associate(clientSap: number): DlmsAssociation {
    return new DlmsAssociation(this, clientSap);
  }

  /** True (and remembered) when `ic` rises above the last counter from this client system title. */
  acceptCounter(systemTitle: Buffer, ic: number): boolean {
    const key = systemTitle.toString('hex');
    const last = this.clientCounters.get(key);
    if (last !== undefined && ic <= last) return false;
    this.clientCounters.set(key, ic);
    return true;
  }

  nextCounter(): number {
    return this.invocationCounter++;
  }
}

type State = 'idle' | 'hls-pending' | 'associated';
interface LongGet { raw: Buffer; chunk: number; sent: number; invoke: Invoke }

const aare = (applicationContext: number, result: number, diagnostic: number, extra: Partial<Parameters<typeof encodeAare>[0]> = {}) =>
  encodeAare({ applicationContext, result, diagnostic: { source: 'user', value: diagnostic }, ...extra });
const exception = (stateError: number, serviceError: number) => encodeService({ type: 'exception-response', stateError, serviceError });

export class DlmsAssociation {
  state: State = 'idle';
  private ciphered = false;
  private mechanism = 0;
  private clientTitle?: Buffer;
  private clientChallenge?: Buffer;
  private serverChallenge?: Buffer;
  private maxPdu = 0xffff;
  private longGet?: LongGet;
  private readonly sap?: { level: AccessLevel; mechanism: number };

  constructor(private readonly server: DlmsServer, readonly clientSap: number) {
    this.sap = CLIENT_SAPS[clientSap];
  }

  /** Handles one APDU; returns the response APDU or undefined when the server sends none. */
  handle(apdu: Buffer): Buffer | undefined {
    if (!apdu.length) return undefined;
    const tag = apdu[0];
    if (tag === 0x60) return this.aarq(apdu);
    if (tag === 0x62) { this.reset(); return encodeRelease('rlre', 0); }
    if (this.state === 'idle') return exception(1, 1);
    if (apdu.length > (this.server.o.maxReceivePduSize ?? 1024)) return exception(1, 4);
    let plain = apdu, sc = 0;
    if (this.ciphered) {
      if (![0xc8, 0xc9, 0xcb].includes(tag)) return exception(1, 1);
      try {
        const content = decodeApdu(apdu);
        if (content.type !== 'ciphered') return exception(1, 1);
        const u = unprotect(content.content, this.clientTitle as Buffer, this.server.keys);
        if (!u.tag) return exception(1, 5);
        if (!this.server.acceptCounter(this.clientTitle as Buffer, u.invocationCounter)) return exception(1, 6);
        // glo-get/set/action-request (C8, C9, CB) protect get/set/action-request (C0, C1, C3)
        if (u.plaintext[0] !== tag - 8) return exception(1, 5);
        plain = u.plaintext;
        sc = u.securityControl;
      } catch {
        return exception(1, 5);
      }
    } else if (tag >= 0xc8 && tag <= 0xdd) {
      return exception(1, 1);
    }
    let request: XdlmsApdu;
    try {
      request = decodeService(plain);
    } catch {
      return this.protect(exception(2, 2), sc);
    }
    const response = this.service(request);
    return response && this.protect(response, sc);
  }

  private protect(plain: Buffer, sc: number): Buffer {
    if (!this.ciphered || plain[0] === 0xd8) return plain;
    return encodeCiphered(plain, { securityControl: sc, systemTitle: this.server.o.systemTitle, invocationCounter: this.server.nextCounter(), keys: this.server.keys });
  }

  private reset(): void {
    this.state = 'idle';
    this.ciphered = false;
    this.longGet = undefined;
    this.clientChallenge = this.serverChallenge = undefined;
  }

  private view(): AssociationView {
    return { level: this.sap?.level ?? 'public', clientSap: this.clientSap, serverSap: this.server.o.serverSap ?? 1, mechanism: this.mechanism, ciphered: this.ciphered, authenticated: this.state === 'associated' };
  }

  // ---- association ----

  private aarq(bytes: Buffer): Buffer {
    this.reset();
    let a: Aarq;
    try {
      const d = decodeAcse(bytes);
      if (d.type !== 'aarq') throw new DlmsDecodeError('not an AARQ');
      a = d;
    } catch {
      return aare(1, 1, 1);
    }
    const ctx = a.applicationContext;
    if (this.server.busy) return aare(ctx, 2, 1);
    if (ctx !== 1 && ctx !== 3) return aare(ctx, 1, 2);
    if (!this.sap) return aare(ctx, 1, 1);
    const mechanism = a.mechanism ?? 0;
    if (mechanism !== this.sap.mechanism) return aare(ctx, 1, mechanism === 0 ? 12 : 11);
    const ciphered = ctx === 3;
    const title = a.callingApTitle;
    if ((ciphered || mechanism === 5) && (!title || title.length !== 8)) return aare(ctx, 1, 3);
    let initiate: Buffer | undefined = a.userInformation;
    if (!initiate) return aare(ctx, 1, 1);
    if (ciphered) {
      if (initiate[0] !== 0x21) return aare(ctx, 1, 13);
      try {
        const c = decodeApdu(initiate);
        if (c.type !== 'ciphered') return aare(ctx, 1, 13);
        const u = unprotect(c.content, title as Buffer, this.server.keys);
        if (!u.tag || !this.server.acceptCounter(title as Buffer, u.invocationCounter)) return aare(ctx, 1, 13);
        initiate = u.plaintext;
      } catch {
        return aare(ctx, 1, 13);
      }
    }
    let req;
    try { req = decodeXdlmsInitiate(initiate); } catch { return aare(ctx, 1, 1); }
    if (req.type !== 'initiate-request') return aare(ctx, 1, 1);
    // ConfirmedServiceError initiate-error (service 1, class 6 initiate): dlms-version-too-low (1), incompatible-conformance (2)
    if (req.dlmsVersion < 6) return aare(ctx, 1, 1, { userInformation: Buffer.from([0x0e, 0x01, 0x06, 0x01]) });
    const conformance = req.conformance & SERVER_CONFORMANCE;
    if (!conformance) return aare(ctx, 1, 1, { userInformation: Buffer.from([0x0e, 0x01, 0x06, 0x02]) });
    if (mechanism === 1) {
      const pw = a.authenticationValue ?? Buffer.alloc(0);
      const want = this.server.o.password;
      if (pw.length !== want.length || !crypto.timingSafeEqual(pw, want)) return aare(ctx, 1, 13);
    }
    if (mechanism === 5) {
      const c = a.authenticationValue;
      if (!c || c.length < 8 || c.length > 64) return aare(ctx, 1, 13);
      this.clientChallenge = c;
      this.serverChallenge = (this.server.o.random ?? crypto.randomBytes)(16);
    }
    this.maxPdu = req.maxReceivePduSize === 0 ? 0xffff : Math.max(64, req.maxReceivePduSize);
    this.ciphered = ciphered;
    this.mechanism = mechanism;
    this.clientTitle = title;
    this.state = mechanism === 5 ? 'hls-pending' : 'associated';
    let ui = encodeInitiateResponse({ conformance, maxReceivePduSize: this.server.o.maxReceivePduSize ?? 1024, vaaName: 7 });
    if (ciphered) ui = encodeCiphered(ui, { securityControl: 0x30, systemTitle: this.server.o.systemTitle, invocationCounter: this.server.nextCounter(), keys: this.server.keys });
    const respondingApTitle = ciphered || mechanism === 5 ? this.server.o.systemTitle : undefined;
    return aare(ctx, 0, mechanism === 5 ? 14 : 0, { respondingApTitle, mechanism, authenticationValue: this.serverChallenge, userInformation: ui });
  }

  /** HLS pass 3: f(StoC) from the client; pass 4: our f(CtoS) back. */
  private hlsReply(invoke: Invoke, parameters: DlmsData | undefined): Buffer {
    const f = parameters?.type === 'octet-string' ? parameters.value : undefined;
    const keys = this.server.keys;
    let ok = false;
    if (f && f.length === 17 && f[0] === 0x10 && this.serverChallenge && this.clientTitle) {
      const want = gmacChallenge(this.clientTitle, f.readUInt32BE(1), keys, this.serverChallenge);
      // a plain association has no glo- counter to check: the one inside f(StoC) must rise instead
      ok = crypto.timingSafeEqual(want, f) && (this.ciphered || this.server.acceptCounter(this.clientTitle, f.readUInt32BE(1)));
    }
    if (!ok) {
      this.state = 'idle';
      return encodeService({ type: 'action-response', form: 'normal', invoke, result: DataAccess.readWriteDenied });
    }
    this.state = 'associated';
    const back = gmacChallenge(this.server.o.systemTitle, this.server.nextCounter(), keys, this.clientChallenge as Buffer);
    return encodeService({ type: 'action-response', form: 'normal', invoke, result: 0, returned: { data: { type: 'octet-string', value: back } } });
  }

  // ---- services ----

  private service(r: XdlmsApdu): Buffer | undefined {
    if (r.type !== 'get-request' || r.form !== 'next') this.longGet = undefined;
    const level = this.sap?.level ?? 'public';
    const denied = this.state === 'hls-pending';
    switch (r.type) {
      case 'get-request': {
        if (r.form === 'next') return this.nextBlock(r.invoke, r.blockNumber);
        if (r.form === 'normal') {
          const result: DataResult = denied ? { error: DataAccess.readWriteDenied } : this.get(level, r.request);
          return this.fit(r.invoke, encodeService({ type: 'get-response', form: 'normal', invoke: r.invoke, result }), () => 'data' in result ? encodeData(result.data) : undefined);
        }
        const results = r.requests.map((q): DataResult => (denied ? { error: DataAccess.readWriteDenied } : this.get(level, q)));
        return this.fit(r.invoke, encodeService({ type: 'get-response', form: 'with-list', invoke: r.invoke, results }),
          () => Buffer.concat([encodeLength(results.length), ...results.map((x) => ('data' in x ? Buffer.concat([Buffer.from([0]), encodeData(x.data)]) : Buffer.from([1, x.error])))]));
      }
      case 'set-request': {
        if (r.form === 'normal') return encodeService({ type: 'set-response', form: 'normal', invoke: r.invoke, result: denied ? DataAccess.readWriteDenied : this.server.meter.set(level, r.request.descriptor, r.value) });
        if (r.form === 'with-list') return encodeService({ type: 'set-response', form: 'with-list', invoke: r.invoke, results: r.requests.map((q, i) => (denied ? DataAccess.readWriteDenied : this.server.meter.set(level, q.descriptor, r.values[i]))) });
        return encodeService({ type: 'set-response', form: 'normal', invoke: r.invoke, result: DataAccess.otherReason });
      }
      case 'action-request': {
        if (r.form !== 'normal') return encodeService({ type: 'action-response', form: 'normal', invoke: r.invoke, result: DataAccess.otherReason });
        const m = r.method;
        if (m.classId === 15 && m.obis === '0-0:40.0.0.255' && m.method === 1) {
          if (this.state !== 'hls-pending') return encodeService({ type: 'action-response', form: 'normal', invoke: r.invoke, result: DataAccess.readWriteDenied });
          return this.hlsReply(r.invoke, r.parameters);
        }
        const res = denied ? { result: DataAccess.readWriteDenied } : this.server.meter.action(level, m, r.parameters);
        return encodeService({ type: 'action-response', form: 'normal', invoke: r.invoke, result: res.result, returned: res.returned ? { data: res.returned } : undefined });
      }
      default:
        return exception(2, 2);
    }
  }

  private get(level: AccessLevel, q: AttributeRequest): DataResult {
    try {
      return this.server.meter.get(level, q.descriptor, q.selection, this.view());
    } catch (e) {
      if (e instanceof SelectionError) return { error: e.result };
      if (e instanceof DlmsDecodeError) return { error: DataAccess.typeUnmatched };
      throw e;
    }
  }

  /** The whole response when it fits the client's max PDU (ciphering overhead counted), else its first block. */
  private fit(invoke: Invoke, whole: Buffer, raw: () => Buffer | undefined): Buffer {
    const overhead = this.ciphered ? 22 : 0;
    if (whole.length + overhead <= this.maxPdu) return whole;
    const data = raw();
    if (!data) return whole;
    this.longGet = { raw: data, chunk: Math.max(16, this.maxPdu - overhead - 16), sent: 0, invoke };
    return this.nextBlock(invoke, 0);
  }

  private nextBlock(invoke: Invoke, acknowledged: number): Buffer {
    const g = this.longGet;
    if (!g) return encodeService({ type: 'get-response', form: 'with-datablock', invoke, block: { last: true, number: acknowledged, error: 16 } });
    if (acknowledged !== g.sent) {
      this.longGet = undefined;
      return encodeService({ type: 'get-response', form: 'with-datablock', invoke, block: { last: true, number: acknowledged, error: 19 } });
    }
    const start = g.sent * g.chunk;
    const raw = g.raw.subarray(start, start + g.chunk);
    g.sent++;
    const last = start + g.chunk >= g.raw.length;
    if (last) this.longGet = undefined;
    return encodeService({ type: 'get-response', form: 'with-datablock', invoke: g.invoke, block: { last, number: g.sent, raw } });
  }
}
