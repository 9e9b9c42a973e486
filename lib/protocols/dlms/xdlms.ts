/**
 * xDLMS services with logical-name referencing (Green Book 9.3 / 11.5): GET, SET and ACTION requests and
 * responses (normal, with-list, block transfer), DataNotification, EventNotification, ExceptionResponse.
 *
 *   decodeService(buf, start, limits) -> XdlmsApdu     (called by decodeApdu in apdu.ts)
 *   encodeService(apdu) -> Buffer                      the inverse, for clients and the simulator
 * Attribute descriptors carry the OBIS code as text ("1-0:1.8.0.255"), class id and attribute id.
 */
import { DlmsDecodeError, Reader, encodeLength } from './errors';
import { type CosemDateTime, type DecodeLimits, type DlmsData, decodeData, decodeDateTime, encodeData, encodeDateTime } from './axdr';
import { obisFromBytes, obisToBytes } from './units';

export const SERVICE_TAGS = {
  'get-request': 0xc0, 'set-request': 0xc1, 'event-notification': 0xc2, 'action-request': 0xc3,
  'get-response': 0xc4, 'set-response': 0xc5, 'action-response': 0xc7, 'data-notification': 0x0f, 'exception-response': 0xd8,
} as const;

export const DATA_ACCESS_RESULTS: Record<number, string> = {
  0: 'success', 1: 'hardware-fault', 2: 'temporary-failure', 3: 'read-write-denied', 4: 'object-undefined', 9: 'object-class-inconsistent',
  11: 'object-unavailable', 12: 'type-unmatched', 13: 'scope-of-access-violated', 14: 'data-block-unavailable', 15: 'long-get-aborted',
  16: 'no-long-get-in-progress', 17: 'long-set-aborted', 18: 'no-long-set-in-progress', 19: 'data-block-number-invalid', 250: 'other-reason',
};
export const resultName = (n: number) => DATA_ACCESS_RESULTS[n] ?? `result ${n}`;

/** invoke-id-and-priority: bits 0-3 invoke id, bit 6 confirmed, bit 7 high priority. */
export interface Invoke { id: number; confirmed: boolean; highPriority: boolean }
export const DEFAULT_INVOKE: Invoke = { id: 1, confirmed: true, highPriority: true };
const invokeFrom = (b: number): Invoke => ({ id: b & 0x0f, confirmed: (b & 0x40) !== 0, highPriority: (b & 0x80) !== 0 });
const invokeByte = (i: Invoke) => (i.id & 0x0f) | (i.confirmed ? 0x40 : 0) | (i.highPriority ? 0x80 : 0);

export interface AttributeDescriptor { classId: number; obis: string; attribute: number }
export interface MethodDescriptor { classId: number; obis: string; method: number }
export interface AccessSelection { selector: number; parameters: DlmsData }
export interface AttributeRequest { descriptor: AttributeDescriptor; selection?: AccessSelection }
/** A Get-Data-Result: the data, or a data-access-result code. */
export type DataResult = { data: DlmsData } | { error: number };
export interface DataBlock { last: boolean; number: number; raw?: Buffer; error?: number }

export type XdlmsApdu =
  | { type: 'get-request'; form: 'normal'; invoke: Invoke; request: AttributeRequest }
  | { type: 'get-request'; form: 'next'; invoke: Invoke; blockNumber: number }
  | { type: 'get-request'; form: 'with-list'; invoke: Invoke; requests: AttributeRequest[] }
  | { type: 'get-response'; form: 'normal'; invoke: Invoke; result: DataResult }
  | { type: 'get-response'; form: 'with-datablock'; invoke: Invoke; block: DataBlock }
  | { type: 'get-response'; form: 'with-list'; invoke: Invoke; results: DataResult[] }
  | { type: 'set-request'; form: 'normal'; invoke: Invoke; request: AttributeRequest; value: DlmsData }
  | { type: 'set-request'; form: 'with-first-datablock'; invoke: Invoke; request: AttributeRequest; block: DataBlock }
  | { type: 'set-request'; form: 'with-datablock'; invoke: Invoke; block: DataBlock }
  | { type: 'set-request'; form: 'with-list'; invoke: Invoke; requests: AttributeRequest[]; values: DlmsData[] }
  | { type: 'set-response'; form: 'normal'; invoke: Invoke; result: number }
  | { type: 'set-response'; form: 'datablock'; invoke: Invoke; blockNumber: number }
  | { type: 'set-response'; form: 'last-datablock'; invoke: Invoke; result: number; blockNumber: number }
  | { type: 'set-response'; form: 'with-list'; invoke: Invoke; results: number[] }
  | { type: 'action-request'; form: 'normal'; invoke: Invoke; method: MethodDescriptor; parameters?: DlmsData }
  | { type: 'action-request'; form: 'next-pblock'; invoke: Invoke; blockNumber: number }
  | { type: 'action-response'; form: 'normal'; invoke: Invoke; result: number; returned?: DataResult }
  | { type: 'data-notification'; longInvokeId: number; dateTime?: CosemDateTime; dateTimeOctets?: Buffer; body: DlmsData }
  | { type: 'event-notification'; time?: Buffer; descriptor: AttributeDescriptor; value: DlmsData }
  | { type: 'exception-response'; stateError: number; serviceError: number };

// ---- decoding ----

function descriptor(r: Reader): AttributeDescriptor {
  const classId = r.u16('class id');
  const at = r.pos;
  const obis = obisFromBytes(r.bytes(6, 'logical name'), at);
  const attribute = r.u8('attribute id');
  return { classId, obis, attribute: attribute > 127 ? attribute - 256 : attribute };
}

function data(r: Reader, limits: DecodeLimits): DlmsData {
  const { value, end } = decodeData(r.buf.subarray(0, r.end), r.pos, limits);
  r.pos = end;
  return value;
}

function attributeRequest(r: Reader, limits: DecodeLimits): AttributeRequest {
  const d = descriptor(r);
  if (!r.u8('access selection flag')) return { descriptor: d };
  return { descriptor: d, selection: { selector: r.u8('access selector'), parameters: data(r, limits) } };
}

function dataResult(r: Reader, limits: DecodeLimits): DataResult {
  const at = r.pos;
  const choice = r.u8('get-data-result choice');
  if (choice === 0) return { data: data(r, limits) };
  if (choice === 1) return { error: r.u8('data-access-result') };
  throw new DlmsDecodeError(`get-data-result choice ${choice}, 0 or 1 expected`, at);
}

function dataBlock(r: Reader, withResultChoice: boolean): DataBlock {
  const last = r.u8('last-block') !== 0;
  const number = r.u32('block number');
  if (withResultChoice) {
    const at = r.pos;
    const choice = r.u8('datablock result choice');
    if (choice === 1) return { last, number, error: r.u8('data-access-result') };
    if (choice !== 0) throw new DlmsDecodeError(`datablock result choice ${choice}, 0 or 1 expected`, at);
  }
  return { last, number, raw: r.bytes(r.length('raw data'), 'raw data') };
}

function list<T>(r: Reader, what: string, read: () => T): T[] {
  const at = r.pos;
  const n = r.length(what);
  if (n > r.remaining) throw new DlmsDecodeError(`${what} of ${n} items but ${r.remaining} bytes left`, at, 'truncated');
  const out: T[] = [];
  for (let i = 0; i < n; i++) out.push(read());
  return out;
}

const unsupported = (service: string, choice: number, at: number) => new DlmsDecodeError(`${service} choice ${choice} is not supported`, at, 'unsupported');

/** Decodes the service APDU at `start` (whose tag is one of SERVICE_TAGS); trailing bytes are an error. */
export function decodeService(buf: Uint8Array, start = 0, limits: DecodeLimits = {}): XdlmsApdu {
  const r = new Reader(buf, start);
  const tag = r.u8('APDU tag');
  const apdu = decodeBody(r, tag, limits);
  if (r.remaining > 0) throw new DlmsDecodeError(`${r.remaining} bytes after the ${apdu.type} APDU`, r.pos);
  return apdu;
}

function decodeBody(r: Reader, tag: number, limits: DecodeLimits): XdlmsApdu {
  if (tag === 0x0f) {
    const longInvokeId = r.u32('long-invoke-id-and-priority');
    let n = r.length('date-time');
    // Kaifa (and older Kamstrup firmware) send the date-time as a tagged octet-string: 09 0C ...
    if (n === 9 && r.remaining > 13 && r.buf[r.pos] === 12) n = r.u8('date-time length');
    const octets = n ? r.bytes(n, 'date-time') : undefined;
    const dateTime = octets && octets.length === 12 ? decodeDateTime(octets, r.pos - 12) : undefined;
    return { type: 'data-notification', longInvokeId, dateTime, dateTimeOctets: octets, body: data(r, limits) };
  }
  if (tag === 0xd8) return { type: 'exception-response', stateError: r.u8('state error'), serviceError: r.u8('service error') };
  if (tag === 0xc2) {
    const time = r.u8('time flag') ? r.bytes(r.length('time'), 'time') : undefined;
    return { type: 'event-notification', time, descriptor: descriptor(r), value: data(r, limits) };
  }
  const choiceAt = r.pos;
  const choice = r.u8('service choice');
  const invoke = invokeFrom(r.u8('invoke-id-and-priority'));
  switch (tag) {
    case 0xc0:
      if (choice === 1) return { type: 'get-request', form: 'normal', invoke, request: attributeRequest(r, limits) };
      if (choice === 2) return { type: 'get-request', form: 'next', invoke, blockNumber: r.u32('block number') };
      if (choice === 3) return { type: 'get-request', form: 'with-list', invoke, requests: list(r, 'attribute list', () => attributeRequest(r, limits)) };
      throw unsupported('get-request', choice, choiceAt);
    case 0xc4:
      if (choice === 1) return { type: 'get-response', form: 'normal', invoke, result: dataResult(r, limits) };
      if (choice === 2) return { type: 'get-response', form: 'with-datablock', invoke, block: dataBlock(r, true) };
      if (choice === 3) return { type: 'get-response', form: 'with-list', invoke, results: list(r, 'result list', () => dataResult(r, limits)) };
      throw unsupported('get-response', choice, choiceAt);
    case 0xc1:
      if (choice === 1) { const request = attributeRequest(r, limits); return { type: 'set-request', form: 'normal', invoke, request, value: data(r, limits) }; }
      if (choice === 2) { const request = attributeRequest(r, limits); return { type: 'set-request', form: 'with-first-datablock', invoke, request, block: dataBlock(r, false) }; }
      if (choice === 3) return { type: 'set-request', form: 'with-datablock', invoke, block: dataBlock(r, false) };
      if (choice === 4) {
        const requests = list(r, 'attribute list', () => attributeRequest(r, limits));
        return { type: 'set-request', form: 'with-list', invoke, requests, values: list(r, 'value list', () => data(r, limits)) };
      }
      throw unsupported('set-request', choice, choiceAt);
    case 0xc5:
      if (choice === 1) return { type: 'set-response', form: 'normal', invoke, result: r.u8('result') };
      if (choice === 2) return { type: 'set-response', form: 'datablock', invoke, blockNumber: r.u32('block number') };
      if (choice === 3) { const result = r.u8('result'); return { type: 'set-response', form: 'last-datablock', invoke, result, blockNumber: r.u32('block number') }; }
      if (choice === 5) return { type: 'set-response', form: 'with-list', invoke, results: list(r, 'result list', () => r.u8('result')) };
      throw unsupported('set-response', choice, choiceAt);
    case 0xc3:
      if (choice === 1) {
        const classId = r.u16('class id');
        const at = r.pos;
        const obis = obisFromBytes(r.bytes(6, 'logical name'), at);
        const method = r.u8('method id');
        const parameters = r.u8('parameters flag') ? data(r, limits) : undefined;
        return { type: 'action-request', form: 'normal', invoke, method: { classId, obis, method }, parameters };
      }
      if (choice === 2) return { type: 'action-request', form: 'next-pblock', invoke, blockNumber: r.u32('block number') };
      throw unsupported('action-request', choice, choiceAt);
    case 0xc7:
      if (choice === 1) {
        const result = r.u8('action result');
        const returned = r.u8('return parameters flag') ? dataResult(r, limits) : undefined;
        return { type: 'action-response', form: 'normal', invoke, result, returned };
      }
      throw unsupported('action-response', choice, choiceAt);
    default:
      throw new DlmsDecodeError(`APDU tag 0x${tag.toString(16)} is not an xDLMS service`, choiceAt - 1, 'unsupported');
  }
}

// ---- encoding ----

function u16(n: number): Buffer { const b = Buffer.alloc(2); b.writeUInt16BE(n); return b; }
function u32(n: number): Buffer { const b = Buffer.alloc(4); b.writeUInt32BE(n); return b; }
const descriptorBytes = (d: AttributeDescriptor) => Buffer.concat([u16(d.classId), obisToBytes(d.obis), Buffer.from([d.attribute & 0xff])]);
const requestBytes = (a: AttributeRequest) => Buffer.concat([descriptorBytes(a.descriptor), a.selection ? Buffer.concat([Buffer.from([1, a.selection.selector]), encodeData(a.selection.parameters)]) : Buffer.from([0])]);
const resultBytes = (d: DataResult) => ('data' in d ? Buffer.concat([Buffer.from([0]), encodeData(d.data)]) : Buffer.from([1, d.error]));
const blockBytes = (b: DataBlock, withChoice: boolean) => Buffer.concat([
  Buffer.from([b.last ? 1 : 0]), u32(b.number),
  b.error !== undefined && withChoice ? Buffer.from([1, b.error]) : Buffer.concat([withChoice ? Buffer.from([0]) : Buffer.alloc(0), encodeLength(b.raw?.length ?? 0), b.raw ?? Buffer.alloc(0)]),
]);
const listBytes = <T>(items: T[], f: (t: T) => Buffer) => Buffer.concat([encodeLength(items.length), ...items.map(f)]);

export function encodeService(a: XdlmsApdu): Buffer {
  const tag = Buffer.from([SERVICE_TAGS[a.type]]);
  if (a.type === 'data-notification') {
    const dt = a.dateTimeOctets ?? (a.dateTime ? encodeDateTime(a.dateTime) : Buffer.alloc(0));
    return Buffer.concat([tag, u32(a.longInvokeId), encodeLength(dt.length), dt, encodeData(a.body)]);
  }
  if (a.type === 'exception-response') return Buffer.from([0xd8, a.stateError, a.serviceError]);
  if (a.type === 'event-notification') {
    const t = a.time ? Buffer.concat([Buffer.from([1]), encodeLength(a.time.length), a.time]) : Buffer.from([0]);
    return Buffer.concat([tag, t, descriptorBytes(a.descriptor), encodeData(a.value)]);
  }
  const head = (choice: number) => Buffer.concat([tag, Buffer.from([choice, invokeByte(a.invoke)])]);
  switch (a.type) {
    case 'get-request':
      if (a.form === 'normal') return Buffer.concat([head(1), requestBytes(a.request)]);
      if (a.form === 'next') return Buffer.concat([head(2), u32(a.blockNumber)]);
      return Buffer.concat([head(3), listBytes(a.requests, requestBytes)]);
    case 'get-response':
      if (a.form === 'normal') return Buffer.concat([head(1), resultBytes(a.result)]);
      if (a.form === 'with-datablock') return Buffer.concat([head(2), blockBytes(a.block, true)]);
      return Buffer.concat([head(3), listBytes(a.results, resultBytes)]);
    case 'set-request':
      if (a.form === 'normal') return Buffer.concat([head(1), requestBytes(a.request), encodeData(a.value)]);
      if (a.form === 'with-first-datablock') return Buffer.concat([head(2), requestBytes(a.request), blockBytes(a.block, false)]);
      if (a.form === 'with-datablock') return Buffer.concat([head(3), blockBytes(a.block, false)]);
      return Buffer.concat([head(4), listBytes(a.requests, requestBytes), listBytes(a.values, encodeData)]);
    case 'set-response':
      if (a.form === 'normal') return Buffer.concat([head(1), Buffer.from([a.result])]);
      if (a.form === 'datablock') return Buffer.concat([head(2), u32(a.blockNumber)]);
      if (a.form === 'last-datablock') return Buffer.concat([head(3), Buffer.from([a.result]), u32(a.blockNumber)]);
      return Buffer.concat([head(5), listBytes(a.results, (n) => Buffer.from([n]))]);
    case 'action-request':
      if (a.form === 'next-pblock') return Buffer.concat([head(2), u32(a.blockNumber)]);
      return Buffer.concat([head(1), u16(a.method.classId), obisToBytes(a.method.obis), Buffer.from([a.method.method]),
        a.parameters ? Buffer.concat([Buffer.from([1]), encodeData(a.parameters)]) : Buffer.from([0])]);
    case 'action-response':
      return Buffer.concat([head(1), Buffer.from([a.result]), a.returned ? Buffer.concat([Buffer.from([1]), resultBytes(a.returned)]) : Buffer.from([0])]);
  }
}

/** Joins the raw-data of get-response-with-datablock blocks (numbered from 1, in order) and decodes the Data. */
export function joinBlocks(blocks: DataBlock[], limits: DecodeLimits = {}): DlmsData {
  blocks.forEach((b, i) => {
    if (b.error !== undefined) throw new DlmsDecodeError(`block ${b.number} carries ${resultName(b.error)}`);
    if (b.number !== i + 1) throw new DlmsDecodeError(`block ${i + 1} expected, got ${b.number}`);
  });
  if (!blocks.length || !blocks[blocks.length - 1].last) throw new DlmsDecodeError('the last block has not arrived', -1, 'truncated');
  const raw = Buffer.concat(blocks.map((b) => b.raw ?? Buffer.alloc(0)));
  const { value, end } = decodeData(raw, 0, limits);
  if (end !== raw.length) throw new DlmsDecodeError(`${raw.length - end} bytes after the joined data`, end);
  return value;
}
