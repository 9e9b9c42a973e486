/**
 * A DLMS/COSEM client session over an ApduChannel (transport-channel.ts): association (lowest, LLS,
 * HLS-GMAC with passes 3/4), ciphered APDUs (glo-*, SC 0x30: authenticated and encrypted), GET
 * (normal, with-list, block transfer), SET, ACTION, release.
 *
 *   const s = new DlmsSession({ channel, mechanism: 'high-gmac', ciphered: true, systemTitle, keys, counters });
 *   await s.open();                                         // SNRM/UA (HDLC), AARQ/AARE, HLS passes 3/4
 *   const v = await s.get({ classId: 3, obis: '1-0:1.8.0.255', attribute: 2 });
 *   await s.close();                                        // RLRQ/RLRE, DISC, socket closed
 *
 * Every client invocation counter comes from the CounterStore (reserved and persisted before use);
 * every ciphered response must carry a server counter above the last one accepted (a replay is refused).
 * Errors: DlmsServiceError (names the object, attribute and data-access-result), DlmsSecurityError,
 * AssociationError (association.ts), DlmsTimeoutError (transport-channel.ts), DlmsDecodeError.
 */
import { type Accepted, type AssociationOptions, AssociationError, buildAarq, checkAare, checkHlsResult, hlsReply } from './association';
import { type Apdu, decodeApdu, encodeCiphered, innermost } from './apdu';
import { encodeRelease } from './acse';
import type { DecodeLimits, DlmsData } from './axdr';
import type { CounterStore } from './counter';
import { DlmsDecodeError } from './errors';
import type { ApduChannel } from './transport-channel';
import {
  type AccessSelection, type AttributeDescriptor, type AttributeRequest, type DataBlock, type DataResult, type Invoke, type MethodDescriptor,
  type XdlmsApdu, decodeService, encodeService, joinBlocks, resultName,
} from './xdlms';

/** The server answered a service with a data-access-result or action-result other than success. */
export class DlmsServiceError extends Error {
  constructor(readonly target: string, readonly result: number, detail?: string) {
    super(`${target}: ${detail ?? resultName(result)}`);
    this.name = 'DlmsServiceError';
  }
  get resultName(): string { return resultName(this.result); }
}

/** A response that must not be trusted: a replayed or stale invocation counter, a plain answer in a ciphered association. */
export class DlmsSecurityError extends Error {
  constructor(message: string, readonly code: 'replay' | 'not-ciphered') {
    super(message);
    this.name = 'DlmsSecurityError';
  }
}

export interface SessionOptions extends AssociationOptions {
  channel: ApduChannel;
  /** Required for ciphered associations and HLS-GMAC: where invocation counters are reserved. */
  counters?: CounterStore;
  /** Block transfer: blocks per response at most (default 1000). */
  maxBlocks?: number;
  /** Block transfer: bytes per response at most (default 1 MiB). */
  maxResponseBytes?: number;
  limits?: DecodeLimits;
}

const describe = (d: AttributeDescriptor) => `${d.obis}/${d.attribute} (class ${d.classId})`;

export class DlmsSession {
  accepted?: Accepted;
  private serverSystemTitle?: Buffer;
  private lastServerCounter = -1;
  private invokeId = 0;
  /** Requests run one at a time, in call order. */
  private queue: Promise<unknown> = Promise.resolve();
  private readonly channel: ApduChannel;
  private readonly maxBlocks: number;
  private readonly maxResponseBytes: number;

  constructor(private readonly o: SessionOptions) {
    this.channel = o.channel;
    this.maxBlocks = o.maxBlocks ?? 1000;
    this.maxResponseBytes = o.maxResponseBytes ?? 1024 * 1024;
    if ((o.ciphered || o.mechanism === 'high-gmac') && !o.counters) throw new RangeError('a counter store is required for ciphered or HLS-GMAC associations (counters)');
  }

  get ciphered(): boolean { return this.o.ciphered === true; }

  /** Opens the link and associates; on a refusal the link is closed and the AssociationError thrown. */
  async open(): Promise<Accepted> {
    try {
      await this.channel.open();
      if (this.o.counters) this.lastServerCounter = await this.o.counters.lastServerCounter();
      const { aarq, challenge } = buildAarq(this.o, this.ciphered ? await this.reserve(1) : 0);
      const aare = await this.channel.request(aarq, 'the AARQ');
      const accepted = checkAare(aare, this.o);
      this.serverSystemTitle = accepted.serverSystemTitle;
      if (this.ciphered) {
        const a = decodeApdu(aare);
        if (a.type === 'aare' && a.initiate?.type === 'ciphered') await this.acceptServerCounter(a.initiate.invocationCounter, 'the AARE');
      }
      if (accepted.hlsPending) {
        if (!this.serverSystemTitle) throw new AssociationError('HLS-GMAC: the AARE carries no server system title', 'protocol');
        const reply = hlsReply(this.o, accepted.challenge as Buffer, await this.reserve(this.ciphered ? 2 : 1));
        const answer = await this.channel.request(reply, 'reply_to_HLS_authentication (HLS pass 3)');
        checkHlsResult(answer, this.o, challenge as Buffer, this.serverSystemTitle);
        // its counter counts only once the reply is authenticated
        const a = decodeApdu(answer);
        if (a.type === 'ciphered') await this.acceptServerCounter(a.invocationCounter, 'the HLS reply');
      }
      this.accepted = accepted;
      return accepted;
    } catch (e) {
      await this.channel.close().catch(() => undefined);
      throw e;
    }
  }

  /** GET one attribute (with selective access when given); block transfer is followed to the last block. */
  get(d: AttributeDescriptor, selection?: AccessSelection): Promise<DlmsData> {
    return this.serial(() => this.getNow(d, selection));
  }

  private async getNow(d: AttributeDescriptor, selection?: AccessSelection): Promise<DlmsData> {
    const what = `GET ${describe(d)}`;
    const invoke = this.nextInvoke();
    const a = await this.exchange(encodeService({ type: 'get-request', form: 'normal', invoke, request: { descriptor: d, selection } }), what, 'get-response', invoke);
    if (a.type !== 'get-response') throw new DlmsDecodeError(`${what}: answered by ${a.type}`);
    if (a.form === 'normal') {
      if ('error' in a.result) throw new DlmsServiceError(what, a.result.error);
      return a.result.data;
    }
    if (a.form !== 'with-datablock') throw new DlmsDecodeError(`${what}: answered by get-response-${a.form}`);
    return joinBlocks(await this.blocks(a.block, what, invoke), this.o.limits);
  }

  /** GET with-list: one result per request (data or a data-access-result); the caller keeps lists short. */
  getList(requests: AttributeRequest[]): Promise<DataResult[]> {
    return this.serial(() => this.getListNow(requests));
  }

  private async getListNow(requests: AttributeRequest[]): Promise<DataResult[]> {
    if (!requests.length) return [];
    const what = `GET with-list ${requests.map((r) => describe(r.descriptor)).join(', ')}`;
    const invoke = this.nextInvoke();
    const a = await this.exchange(encodeService({ type: 'get-request', form: 'with-list', invoke, requests }), what, 'get-response', invoke);
    if (a.type !== 'get-response') throw new DlmsDecodeError(`${what}: answered by ${a.type}`);
    let results: DataResult[];
    if (a.form === 'with-list') results = a.results;
    else if (a.form === 'with-datablock') {
      // the joined raw data is the list of Get-Data-Results: decode it as a get-response-with-list body
      const raw = Buffer.concat((await this.blocks(a.block, what, invoke)).map((b) => b.raw ?? Buffer.alloc(0)));
      const listed = decodeService(Buffer.concat([Buffer.from([0xc4, 0x03, 0xc1]), raw]), 0, this.o.limits);
      results = listed.type === 'get-response' && listed.form === 'with-list' ? listed.results : [];
    } else if (requests.length === 1) results = [a.result];
    else throw new DlmsDecodeError(`${what}: answered by get-response-${a.form}`);
    if (results.length !== requests.length) throw new DlmsDecodeError(`${what}: ${results.length} results for ${requests.length} attributes`);
    return results;
  }

  set(d: AttributeDescriptor, value: DlmsData): Promise<void> {
    return this.serial(async () => {
      const what = `SET ${describe(d)}`;
      const invoke = this.nextInvoke();
      const a = await this.exchange(encodeService({ type: 'set-request', form: 'normal', invoke, request: { descriptor: d }, value }), what, 'set-response', invoke);
      if (a.type !== 'set-response' || a.form !== 'normal') throw new DlmsDecodeError(`${what}: answered by ${a.type}`);
      if (a.result !== 0) throw new DlmsServiceError(what, a.result);
    });
  }

  /** ACTION: returns the method's return data, if any. */
  action(m: MethodDescriptor, parameters?: DlmsData): Promise<DlmsData | undefined> {
    return this.serial(async () => {
      const what = `ACTION ${m.obis} method ${m.method} (class ${m.classId})`;
      const invoke = this.nextInvoke();
      const a = await this.exchange(encodeService({ type: 'action-request', form: 'normal', invoke, method: m, parameters }), what, 'action-response', invoke);
      if (a.type !== 'action-response') throw new DlmsDecodeError(`${what}: answered by ${a.type}`);
      if (a.result !== 0) throw new DlmsServiceError(what, a.result);
      if (a.returned && 'error' in a.returned) throw new DlmsServiceError(what, a.returned.error);
      return a.returned?.data;
    });
  }

  /** RLRQ (its answer is not required), then DISC and the link closed. */
  close(): Promise<void> {
    return this.serial(() => this.closeNow());
  }

  private async closeNow(): Promise<void> {
    try {
      if (this.accepted) await this.channel.request(encodeRelease('rlrq', 0), 'the RLRQ');
    } catch { /* released by closing the link anyway */ } finally {
      this.accepted = undefined;
      await this.channel.close();
      await this.o.counters?.flush?.();
    }
  }

  private serial<T>(job: () => Promise<T>): Promise<T> {
    const run = this.queue.then(job, job);
    this.queue = run.catch(() => undefined);
    return run;
  }

  private async reserve(n: number): Promise<number> {
    return (this.o.counters as CounterStore).reserve(n);
  }

  private nextInvoke(): Invoke {
    this.invokeId = (this.invokeId % 15) + 1;
    return { id: this.invokeId, confirmed: true, highPriority: true };
  }

  private async acceptServerCounter(ic: number, what: string): Promise<void> {
    if (ic <= this.lastServerCounter) throw new DlmsSecurityError(`${what}: server invocation counter ${ic} is not above ${this.lastServerCounter}, a replayed response is refused`, 'replay');
    this.lastServerCounter = ic;
    await this.o.counters?.acceptServerCounter(ic);
  }

  /** Sends a service APDU (ciphered when the association is), returns the decrypted response. */
  private async exchange(plain: Buffer, what: string, expected: string, invoke: Invoke): Promise<XdlmsApdu> {
    if (!this.accepted) throw new Error(`${what}: the session is not open`);
    let out = plain;
    if (this.ciphered) {
      out = encodeCiphered(plain, { securityControl: 0x30, systemTitle: this.o.systemTitle as Buffer, invocationCounter: await this.reserve(1), keys: this.o.keys! });
    }
    if (out.length > this.accepted.maxPduSize) throw new RangeError(`${what}: request of ${out.length} bytes exceeds the server's PDU size ${this.accepted.maxPduSize}`);
    const response = await this.channel.request(out, what);
    let a: Apdu;
    try {
      a = decodeApdu(response, { keys: this.ciphered ? this.o.keys : undefined, systemTitle: this.serverSystemTitle, limits: this.o.limits });
    } catch (e) {
      if (e instanceof Error) e.message = `${what}: ${e.message}`;
      throw e;
    }
    if (a.type === 'ciphered') {
      if ((a.securityControl & 0x30) !== 0x30) throw new DlmsSecurityError(`${what}: response with security control 0x${a.securityControl.toString(16)}, authenticated and encrypted (0x30) expected`, 'not-ciphered');
      await this.acceptServerCounter(a.invocationCounter, what);
      a = innermost(a);
    } else if (this.ciphered && a.type !== 'exception-response') {
      throw new DlmsSecurityError(`${what}: a plain ${a.type} in a ciphered association is refused`, 'not-ciphered');
    }
    if (a.type === 'exception-response') throw new DlmsServiceError(what, 250, `exception-response (state error ${a.stateError}, service error ${a.serviceError})`);
    if (!('invoke' in a) || a.type !== expected) throw new DlmsDecodeError(`${what}: answered by ${a.type}, ${expected} expected`);
    if (a.invoke.id !== invoke.id) throw new DlmsDecodeError(`${what}: response invoke id ${a.invoke.id}, ${invoke.id} expected`);
    return a;
  }

  /** Follows get-response-with-datablock with get-request-next until the last block, bounded in count and bytes. */
  private async blocks(first: DataBlock, what: string, invoke: Invoke): Promise<DataBlock[]> {
    const blocks = [first];
    let bytes = first.raw?.length ?? 0;
    let block = first;
    while (!block.last) {
      if (block.error !== undefined) throw new DlmsServiceError(`${what} block ${block.number}`, block.error);
      if (blocks.length >= this.maxBlocks) throw new DlmsDecodeError(`${what}: more than ${this.maxBlocks} blocks`, -1, 'limit');
      const a = await this.exchange(encodeService({ type: 'get-request', form: 'next', invoke, blockNumber: block.number }), `${what} block ${block.number + 1}`, 'get-response', invoke);
      if (a.type !== 'get-response' || a.form !== 'with-datablock') throw new DlmsDecodeError(`${what}: block ${block.number + 1} answered by get-response-${a.type === 'get-response' ? a.form : a.type}`);
      block = a.block;
      bytes += block.raw?.length ?? 0;
      if (bytes > this.maxResponseBytes) throw new DlmsDecodeError(`${what}: response longer than ${this.maxResponseBytes} bytes`, -1, 'limit');
      blocks.push(block);
    }
    if (block.error !== undefined) throw new DlmsServiceError(`${what} block ${block.number}`, block.error);
    return blocks;
  }
}
