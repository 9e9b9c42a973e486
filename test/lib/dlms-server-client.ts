/**
 * A scripted DLMS client for the server tests, built only from the codec layers (association.ts,
 * xdlms.ts, apdu.ts): associate at a security level, GET (with get-next for blocks), SET, ACTION,
 * ciphered when the association is. `send` is whatever carries an APDU to the server and back.
 */
import { type AssociationOptions, buildAarq, checkAare, checkHlsResult, hlsReply, type Accepted } from '../../lib/protocols/dlms/association';
import { decodeApdu, encodeCiphered, innermost, type Apdu } from '../../lib/protocols/dlms/apdu';
import type { DlmsData } from '../../lib/protocols/dlms/axdr';
import { DEFAULT_INVOKE, type AccessSelection, type DataBlock, type DataResult, type XdlmsApdu, encodeService, joinBlocks } from '../../lib/protocols/dlms/xdlms';

export const EK = Buffer.from('000102030405060708090A0B0C0D0E0F', 'hex');
export const AK = Buffer.from('D0D1D2D3D4D5D6D7D8D9DADBDCDDDEDF', 'hex');
export const CLIENT_TITLE = Buffer.from('4D4D4D0000BC614E', 'hex');

export type Send = (apdu: Buffer) => Promise<Buffer | undefined>;

export class ScriptedClient {
  ic: number;
  accepted?: Accepted;
  constructor(readonly send: Send, readonly o: AssociationOptions, firstCounter = 1) {
    this.ic = firstCounter;
  }

  private async exchange(apdu: Buffer, what: string): Promise<Buffer> {
    const r = await this.send(apdu);
    if (!r) throw new Error(`no answer to ${what}`);
    return r;
  }

  /** AARQ/AARE, then HLS passes 3 and 4 when asked; throws AssociationError when refused. */
  async associate(): Promise<Accepted> {
    const { aarq, challenge } = buildAarq(this.o, this.o.ciphered ? this.ic++ : 0);
    const accepted = checkAare(await this.exchange(aarq, 'AARQ'), this.o);
    this.accepted = accepted;
    if (accepted.hlsPending) {
      const reply = hlsReply(this.o, accepted.challenge as Buffer, this.ic);
      this.ic += this.o.ciphered ? 2 : 1;
      checkHlsResult(await this.exchange(reply, 'reply_to_HLS_authentication'), this.o, challenge as Buffer, accepted.serverSystemTitle as Buffer);
    }
    return accepted;
  }

  /** Sends a service APDU (ciphered under the next counter when the association is) and decodes the answer. */
  async request(apdu: XdlmsApdu, counter?: number): Promise<Apdu> {
    let bytes = encodeService(apdu);
    if (this.o.ciphered) bytes = encodeCiphered(bytes, { securityControl: 0x30, systemTitle: this.o.systemTitle as Buffer, invocationCounter: counter ?? this.ic++, keys: this.o.keys! });
    const answer = await this.exchange(bytes, apdu.type);
    return innermost(decodeApdu(answer, { keys: this.o.keys, systemTitle: this.accepted?.serverSystemTitle }));
  }

  /** GET one attribute; follows get-next until the last block. Returns the result and the number of blocks. */
  async get(classId: number, obis: string, attribute: number, selection?: AccessSelection): Promise<DataResult & { blocks: number }> {
    let a = await this.request({ type: 'get-request', form: 'normal', invoke: DEFAULT_INVOKE, request: { descriptor: { classId, obis, attribute }, selection } });
    if (a.type !== 'get-response') throw new Error(`GET ${obis}/${attribute}: answer is ${a.type}`);
    if (a.form === 'normal') return { ...a.result, blocks: 0 };
    const blocks: DataBlock[] = [];
    for (let i = 0; i < 10_000 && a.type === 'get-response' && a.form === 'with-datablock'; i++) {
      blocks.push(a.block);
      if (a.block.last || a.block.error !== undefined) break;
      a = await this.request({ type: 'get-request', form: 'next', invoke: DEFAULT_INVOKE, blockNumber: a.block.number });
    }
    if (blocks[blocks.length - 1].error !== undefined) return { error: blocks[blocks.length - 1].error as number, blocks: blocks.length };
    return { data: joinBlocks(blocks), blocks: blocks.length };
  }

  async value(classId: number, obis: string, attribute: number, selection?: AccessSelection): Promise<DlmsData> {
    const r = await this.get(classId, obis, attribute, selection);
    if (!('data' in r)) throw new Error(`GET ${obis}/${attribute} failed with data-access-result ${r.error}`);
    return r.data;
  }

  async set(classId: number, obis: string, attribute: number, value: DlmsData): Promise<number> {
    const a = await this.request({ type: 'set-request', form: 'normal', invoke: DEFAULT_INVOKE, request: { descriptor: { classId, obis, attribute } }, value });
    if (a.type !== 'set-response' || a.form !== 'normal') throw new Error(`SET: answer is ${a.type}`);
    return a.result;
  }

  async action(classId: number, obis: string, method: number, parameters?: DlmsData): Promise<number> {
    const a = await this.request({ type: 'action-request', form: 'normal', invoke: DEFAULT_INVOKE, method: { classId, obis, method }, parameters });
    if (a.type !== 'action-response') throw new Error(`ACTION: answer is ${a.type}`);
    return a.result;
  }
}
