/**
 * SML messages (SML 1.04): SML_Message ::= list(6) transactionId, groupNo, abortOnError,
 * messageBody (list(2) tag, body), crc16, endOfSmlMsg (0x00). The CRC-16/X-25 covers the message from
 * its list TL byte up to the CRC field and, like the frame CRC, is sent low byte first (meters that
 * send it the other way round, or shorten it to one byte, are accepted). Decoded bodies: OpenResponse,
 * GetListResponse, CloseResponse, AttentionResponse; any other body is kept as a generic value.
 */
import { crc16x25, swap16 } from './crc';
import { SmlReader, type SmlValue } from './tl';
import { SmlError } from './transport';

export const Tag = {
  OPEN_RESPONSE: 0x0101, CLOSE_RESPONSE: 0x0201, GET_LIST_RESPONSE: 0x0701, ATTENTION_RESPONSE: 0xff01,
} as const;

/** SML_Time: seconds since an unspecified origin (secIndex) or a UTC Unix timestamp. */
export interface SmlTime {
  kind: 'secIndex' | 'timestamp' | 'localTimestamp';
  value: number;
  /** localTimestamp: minutes of the local time zone and of daylight saving time. */
  localOffset?: number;
  seasonOffset?: number;
}

export interface SmlListEntry {
  objName: Buffer;
  /** "A-B:C.D.E" when objName is a 6-byte OBIS code. */
  obis: string | null;
  status: number | bigint | null;
  valTime: SmlTime | null;
  /** DLMS unit code (IEC 62056-62), 255 = none. */
  unit: number | null;
  scaler: number | null;
  value: SmlValue;
  valueSignature: Buffer | null;
}

export interface OpenResponse { kind: 'openResponse'; codepage: Buffer | null; clientId: Buffer | null; reqFileId: Buffer | null; serverId: Buffer | null; refTime: SmlTime | null; smlVersion: number | null }
export interface GetListResponse { kind: 'getListResponse'; clientId: Buffer | null; serverId: Buffer | null; listName: Buffer | null; actSensorTime: SmlTime | null; valList: SmlListEntry[]; listSignature: Buffer | null; actGatewayTime: SmlTime | null }
export interface CloseResponse { kind: 'closeResponse'; globalSignature: Buffer | null }
export interface AttentionResponse { kind: 'attentionResponse'; serverId: Buffer | null; attentionNo: Buffer | null; attentionMsg: Buffer | null }
export interface OtherBody { kind: 'other'; body: SmlValue }
export type SmlBody = OpenResponse | GetListResponse | CloseResponse | AttentionResponse | OtherBody;

export interface SmlMessage {
  /** Offset of the message (in the stream when decoded from a frame). */
  offset: number;
  transactionId: Buffer | null;
  groupNo: number;
  abortOnError: number;
  tag: number;
  body: SmlBody;
}

const num = (v: number | bigint | null) => (v === null ? null : Number(v));

/** A 6-byte OBIS object name as "A-B:C.D.E" (F, the billing period, is left out). */
export function obisOf(name: Buffer | null): string | null {
  if (!name || name.length !== 6) return null;
  return `${name[0]}-${name[1]}:${name[2]}.${name[3]}.${name[4]}`;
}

function time(r: SmlReader, what: string): SmlTime | null {
  if (r.absent()) return null;
  const at = r.pos;
  r.tl();
  if (r.type !== 7) {
    // Some meters (Holley DTZ541) send a bare Unsigned32 instead of the SML_Time choice.
    r.pos = at;
    return { kind: 'secIndex', value: Number(r.number(what)) };
  }
  if (r.len !== 2) r.fail(`${what}: SML_Time is a list of 2 (tag, value), found ${r.len} elements`, at);
  const tag = Number(r.number(`${what} tag`));
  if (tag === 1 || tag === 2) return { kind: tag === 1 ? 'secIndex' : 'timestamp', value: Number(r.number(what)) };
  if (tag === 3) {
    if (r.list(`${what} localTimestamp`) !== 3) r.fail(`${what}: localTimestamp is a list of 3`, at);
    return { kind: 'localTimestamp', value: Number(r.number(what)), localOffset: num(r.number(`${what} localOffset`)) ?? 0, seasonOffset: num(r.number(`${what} seasonTimeOffset`)) ?? 0 };
  }
  return r.fail(`${what}: unknown SML_Time tag ${tag}`, at);
}

function fields(r: SmlReader, what: string, n: number): void {
  const at = r.pos;
  const got = r.list(what);
  if (got !== n) r.fail(`${what} must be a list of ${n}, found ${got} elements`, at);
}

function listEntry(r: SmlReader): SmlListEntry {
  // Constant field names: no string is built per entry unless it fails (the error has the offset).
  fields(r, 'valList entry', 7);
  const objName = r.octets('valList entry objName');
  if (!objName) r.fail('valList entry has no objName');
  const status = r.number('valList entry status');
  const valTime = time(r, 'valList entry valTime');
  const unit = num(r.number('valList entry unit'));
  const scaler = num(r.number('valList entry scaler'));
  const value = r.value();
  const valueSignature = r.octets('valList entry valueSignature');
  return { objName, obis: obisOf(objName), status, valTime, unit, scaler, value, valueSignature };
}

function body(r: SmlReader, tag: number): SmlBody {
  switch (tag) {
    case Tag.OPEN_RESPONSE:
      fields(r, 'OpenResponse', 6);
      return { kind: 'openResponse', codepage: r.octets('codepage'), clientId: r.octets('clientId'), reqFileId: r.octets('reqFileId'), serverId: r.octets('serverId'), refTime: time(r, 'refTime'), smlVersion: num(r.number('smlVersion')) };
    case Tag.CLOSE_RESPONSE:
      fields(r, 'CloseResponse', 1);
      return { kind: 'closeResponse', globalSignature: r.octets('globalSignature') };
    case Tag.ATTENTION_RESPONSE: {
      fields(r, 'AttentionResponse', 4);
      const a: AttentionResponse = { kind: 'attentionResponse', serverId: r.octets('serverId'), attentionNo: r.octets('attentionNo'), attentionMsg: r.octets('attentionMsg') };
      r.value(); // attentionDetails (SML_Tree), not interpreted
      return a;
    }
    case Tag.GET_LIST_RESPONSE: {
      fields(r, 'GetListResponse', 7);
      const clientId = r.octets('clientId');
      const serverId = r.octets('serverId');
      const listName = r.octets('listName');
      const actSensorTime = time(r, 'actSensorTime');
      const n = r.list('valList');
      const valList: SmlListEntry[] = [];
      for (let i = 0; i < n; i++) valList.push(listEntry(r));
      return { kind: 'getListResponse', clientId, serverId, listName, actSensorTime, valList, listSignature: r.octets('listSignature'), actGatewayTime: time(r, 'actGatewayTime') };
    }
    default:
      return { kind: 'other', body: r.value() };
  }
}

/**
 * Decodes the messages of a frame payload. `toStream` maps payload indexes to stream offsets for
 * errors. Every message CRC is checked; a bad one throws an SmlError naming the message offset.
 */
export function decodeMessages(payload: Buffer, toStream: (i: number) => number = (i) => i): SmlMessage[] {
  const r = new SmlReader(payload, toStream);
  const out: SmlMessage[] = [];
  while (r.pos < payload.length) {
    if (payload[r.pos] === 0x00) { r.pos++; continue; } // zero fill after the last message
    const start = r.pos;
    fields(r, 'SML_Message', 6);
    const transactionId = r.octets('transactionId');
    const groupNo = Number(r.number('groupNo') ?? 0);
    const abortOnError = Number(r.number('abortOnError') ?? 0);
    const choiceAt = r.pos;
    if (r.list('messageBody') !== 2) r.fail('messageBody must be a list of 2 (tag, body)', choiceAt);
    const tag = r.number('messageBody tag');
    if (tag === null) r.fail('messageBody has no tag', choiceAt);
    const b = body(r, Number(tag));
    const crcAt = r.pos;
    const received = r.number('crc16');
    const computed = crc16x25(payload, start, crcAt);
    if (received === null || (Number(received) !== swap16(computed) && Number(received) !== computed)) {
      r.fail(`message CRC error: received ${received === null ? 'none' : `0x${Number(received).toString(16).padStart(4, '0')}`}, computed 0x${swap16(computed).toString(16).padStart(4, '0')} (low byte first)`, crcAt);
    }
    if (payload[r.pos] !== 0x00) r.fail(`endOfSmlMsg 0x00 expected, found 0x${(payload[r.pos] ?? 0).toString(16).padStart(2, '0')}`);
    r.pos++;
    out.push({ offset: toStream(start), transactionId, groupNo, abortOnError, tag: Number(tag), body: b });
  }
  return out;
}

export { SmlError };
