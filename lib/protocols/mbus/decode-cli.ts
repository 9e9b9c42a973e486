/**
 * `ems-decode mbus <hex>`: an RSP_UD long frame (68 L L 68 C A CI ... CS 16), or user data starting
 * at the CI field, as hex (spaces, colons, 0x allowed) -> JSON with header fields and every record.
 */
import type { DecoderEntry } from '../decoders';
import { parseHex, START_LONG } from './frame';
import { decodeTelegram, decodeUserData } from './telegram';
import type { MbusTelegram } from './types';

function toJson(t: MbusTelegram): unknown {
  const hx = (n: number | undefined) => (n === undefined ? undefined : `0x${n.toString(16).padStart(2, '0').toUpperCase()}`);
  return {
    c: hx(t.c), a: t.a, ci: hx(t.ci),
    header: t.header ? { ...t.header, medium: hx(t.header.medium), status: hx(t.header.status), signature: `0x${t.header.signature.toString(16).padStart(4, '0').toUpperCase()}` } : null,
    shortHeader: t.shortHeader,
    applicationError: t.applicationError,
    alarm: t.alarm,
    records: t.records.map((r) => ({
      index: r.index, offset: r.offset, function: r.function, storage: r.storage, tariff: r.tariff, subunit: r.subunit,
      quantity: r.quantity, description: r.description, unit: r.unit, value: r.value,
      ...(r.recordError ? { recordError: r.recordError } : {}),
      ...(r.unknown ? { unknown: r.unknown } : {}),
      raw: r.raw,
    })),
    moreRecordsFollow: t.moreRecordsFollow,
    manufacturerData: t.manufacturerData,
  };
}

/** Decodes hex text: a whole long frame when it starts with 68, else user data from the CI field on. */
export function decodeMbusText(input: string): unknown {
  const bytes = parseHex(input.trim());
  if (bytes.length === 0) throw new Error('no hex data given');
  if (bytes[0] === START_LONG) return toJson(decodeTelegram(bytes));
  return toJson(decodeUserData(bytes[0], bytes.subarray(1)));
}

export const MBUS_DECODER: DecoderEntry = {
  name: 'mbus',
  description: 'M-Bus (EN 13757-3) RSP_UD telegram: header and every data record',
  argument: 'data',
  help: [
    'Input: hex bytes of a whole long frame (68 L L 68 C A CI ... CS 16) or of the user data from the',
    'CI field on (72 ...); spaces, colons and 0x prefixes are ignored.',
    'Output: JSON with the header (id, manufacturer, version, medium, access number, status, signature)',
    'and every record (function, storage, tariff, subunit, quantity, unit, value). Records the decoder',
    'cannot understand are listed with "unknown"; a broken frame exits 1 naming the offset and reason.',
    'Example: ems-decode mbus 68 15 15 68 08 01 72 78 56 34 12 93 15 01 07 2A 00 00 00 04 13 E8 03 00 00 6B 16   (water meter 12345678, ELS, 1.000 m3)',
  ].join('\n'),
  decode: decodeMbusText,
};
