/**
 * Builds SML telegrams (the simulator and the tests send these): messages with their CRC, the
 * Open/GetList/Close responses of a meter that pushes its registers, wrapped in a transport frame.
 */
import { crc16x25 } from './crc';
import { NOT_SET, list, num, octets } from './tl';
import { Tag } from './messages';
import { encodeFrame } from './transport';

/** A message: list(6) with the CRC (low byte first) and the end-of-message byte. */
export function encodeMessage(transactionId: Buffer, tag: number, body: Buffer): Buffer {
  const head = Buffer.concat([Buffer.from([0x76]), octets(transactionId), num(0, 1), num(0, 1), list([num(tag, 2), body])]);
  const crc = crc16x25(head);
  return Buffer.concat([head, Buffer.from([0x63, crc & 0xff, crc >>> 8, 0x00])]);
}

/** SML_Time: kind 1 secIndex, 2 UTC timestamp (seconds). */
export function encodeTime(kind: 'secIndex' | 'timestamp', value: number): Buffer {
  return list([num(kind === 'secIndex' ? 1 : 2, 1), num(value, 4)]);
}

export interface EntrySpec {
  /** OBIS as 6 bytes (A B C D E F). */
  objName: Buffer;
  status?: Buffer;
  unit?: number;
  scaler?: number;
  /** The value, already TL-encoded (num(...), octets(...)). */
  value: Buffer;
}

export function encodeEntry(e: EntrySpec): Buffer {
  return list([
    octets(e.objName), e.status ?? NOT_SET, NOT_SET, e.unit === undefined ? NOT_SET : num(e.unit, 1),
    e.scaler === undefined ? NOT_SET : num(e.scaler, 1, true), e.value, NOT_SET,
  ]);
}

export interface TelegramSpec {
  serverId: Buffer;
  /** Transaction ids are this counter (4 bytes) plus 0, 1, 2. */
  transaction: number;
  /** The meter's seconds counter (actSensorTime, secIndex). */
  secIndex: number;
  entries: EntrySpec[];
}

/** OpenResponse, GetListResponse (listName 0100620AFFFF as eHZs send it), CloseResponse in one frame. */
export function encodeTelegram(t: TelegramSpec): Buffer {
  const tid = (k: number) => { const b = Buffer.alloc(4); b.writeUInt32BE((t.transaction + k) >>> 0); return b; };
  const reqFileId = Buffer.alloc(4);
  reqFileId.writeUInt32BE(t.secIndex >>> 0);
  const open = list([NOT_SET, NOT_SET, octets(reqFileId), octets(t.serverId), NOT_SET, NOT_SET]);
  const getList = list([
    NOT_SET, octets(t.serverId), octets(Buffer.from('0100620affff', 'hex')), encodeTime('secIndex', t.secIndex),
    list(t.entries.map(encodeEntry)), NOT_SET, NOT_SET,
  ]);
  const close = list([NOT_SET]);
  return encodeFrame(Buffer.concat([
    encodeMessage(tid(0), Tag.OPEN_RESPONSE, open),
    encodeMessage(tid(1), Tag.GET_LIST_RESPONSE, getList),
    encodeMessage(tid(2), Tag.CLOSE_RESPONSE, close),
  ]));
}

/** "A-B:C.D.E" (F = 255) as the 6-byte object name. */
export function obisBytes(obis: string): Buffer {
  const m = /^(\d+)-(\d+):(\d+)\.(\d+)\.(\d+)(?:\*(\d+))?$/.exec(obis);
  if (!m) throw new Error(`"${obis}" is not an OBIS code A-B:C.D.E[*F]`);
  return Buffer.from([1, 2, 3, 4, 5].map((i) => Number(m[i])).concat(m[6] === undefined ? 255 : Number(m[6])));
}
