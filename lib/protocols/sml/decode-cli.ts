/**
 * `ems-decode sml <hex>`: one or more SML transport frames (a capture from an IR head) as hex ->
 * JSON with every message, list entry (OBIS, unit, scaler, scaled value) and the canonical readings.
 */
import type { DecoderEntry } from '../decoders';
import { parseHex } from '../hex/hex';
import type { SmlListEntry, SmlMessage, SmlTime } from './messages';
import { entryReading, scaledValue } from './readings';
import { decodeCapture } from './telegram';
import type { SmlValue } from './tl';
import { dlmsUnit } from './units';

const printable = (b: Buffer) => b.length > 0 && b.every((c) => c >= 0x20 && c < 0x7f);

function json(v: SmlValue): unknown {
  if (Buffer.isBuffer(v)) return v.toString('hex');
  if (typeof v === 'bigint') return v.toString();
  if (Array.isArray(v)) return v.map(json);
  return v;
}

const timeJson = (t: SmlTime | null) => (t === null ? null : { ...t, ...(t.kind !== 'secIndex' ? { iso: new Date(t.value * 1000).toISOString() } : {}) });

export function entryJson(e: SmlListEntry): unknown {
  const u = dlmsUnit(e.unit);
  return {
    objName: e.objName.toString('hex'), obis: e.obis,
    status: typeof e.status === 'bigint' ? e.status.toString() : e.status, valTime: timeJson(e.valTime),
    unit: e.unit, unitSymbol: u?.symbol ?? null, scaler: e.scaler, raw: json(e.value),
    ...(scaledValue(e) !== null ? { value: scaledValue(e) } : {}),
    ...(Buffer.isBuffer(e.value) && printable(e.value) ? { text: e.value.toString('latin1') } : {}),
    ...(e.valueSignature ? { valueSignature: e.valueSignature.toString('hex') } : {}),
  };
}

function messageJson(m: SmlMessage): unknown {
  const b = m.body;
  const head = { offset: m.offset, transactionId: m.transactionId?.toString('hex') ?? null, tag: `0x${m.tag.toString(16).padStart(4, '0')}`, body: b.kind };
  switch (b.kind) {
    case 'openResponse':
      return { ...head, codepage: json(b.codepage), clientId: json(b.clientId), reqFileId: json(b.reqFileId), serverId: json(b.serverId), refTime: timeJson(b.refTime), smlVersion: b.smlVersion };
    case 'getListResponse':
      return { ...head, clientId: json(b.clientId), serverId: json(b.serverId), listName: json(b.listName), actSensorTime: timeJson(b.actSensorTime), actGatewayTime: timeJson(b.actGatewayTime), valList: b.valList.map(entryJson) };
    case 'closeResponse':
      return { ...head, globalSignature: json(b.globalSignature) };
    case 'attentionResponse':
      return { ...head, serverId: json(b.serverId), attentionNo: json(b.attentionNo), attentionMsg: json(b.attentionMsg) };
    default:
      return { ...head, value: json(b.body) };
  }
}

/** Decodes hex text holding one or more frames; throws (exit 1) when it holds no valid frame. */
export function decodeSmlText(input: string): unknown {
  const bytes = parseHex(input.trim(), 'SML data');
  const now = Date.now();
  const telegrams: unknown[] = [];
  const errors: string[] = [];
  for (const e of decodeCapture(bytes)) {
    if (e.error) { errors.push(e.error.message); continue; }
    const t = e.telegram;
    const meter = t.serverId ?? 'sml';
    const readings = t.messages.flatMap((m) => (m.body.kind === 'getListResponse' ? m.body.valList.map((x) => entryReading(x, m.body as never, meter, now)) : []))
      .filter((r) => r !== null);
    telegrams.push({ offset: t.frame.offset, length: t.frame.raw.length, padding: t.frame.padding, crc: t.frame.crcOrder === 'low-first' ? 'ok' : 'ok (high byte first)', serverId: t.serverId, messages: t.messages.map(messageJson), readings });
  }
  if (telegrams.length === 0) throw new Error(errors.length ? errors.join('; ') : `no SML frame (1b1b1b1b 01010101 ... 1b1b1b1b 1a) in ${bytes.length} bytes`);
  return { telegrams, errors };
}

export const SML_DECODER: DecoderEntry = {
  name: 'sml',
  description: 'SML 1.04 telegram (eHZ/IR head): frames, messages, OBIS values with unit and scaler',
  argument: 'data',
  help: [
    'Input: hex bytes of one or more SML transport frames (1b1b1b1b 01010101 ... 1b1b1b1b 1a pp crc),',
    'e.g. a capture of an IR head; spaces, colons and 0x prefixes are ignored, bytes between frames skipped.',
    'Output: JSON {telegrams:[{offset, length, serverId, messages, readings}], errors}. Each list entry shows',
    'obis, DLMS unit code and symbol, scaler, raw and scaled value; readings are canonical (kWh, kW, V, A...).',
    'A frame with a bad CRC or structure is listed under errors with its offset; exit 1 when none decodes.',
    'Example: ems-decode sml "$(cat test/fixtures/sml/itron-openway-3hz.hex)"',
  ].join('\n'),
  decode: decodeSmlText,
};
