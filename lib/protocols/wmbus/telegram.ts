/**
 * A whole wireless M-Bus telegram: link layer (L C M A), optional ELL and AFL, the transport layer and
 * its security, then the application data decoded by the wired M-Bus record decoder (lib/protocols/mbus).
 */
import { manufacturerName } from '../mbus/frame';
import { idDigits } from '../mbus/ids';
import { decodeRecords } from '../mbus/records';
import { mediumName } from '../mbus/telegram';
import { MbusDecodeError, type MbusTelegram } from '../mbus/types';
import { WmbusDecodeError } from './errors';
import { CI_AFL, ELL_CIS, readAfl, readEll, readTpl, type WmbusAfl, type WmbusEll, type WmbusTpl } from './headers';
import { stripLinkCrc, type FrameFormat } from './link';
import { decryptEll, decryptTpl } from './security';

export interface WmbusLink {
  format: FrameFormat;
  c: number;
  manufacturer: string;
  /** 8 BCD digits as printed on the meter. */
  id: string;
  version: number;
  deviceType: number;
  deviceTypeName: string;
}

export interface DecodedWmbus {
  link: WmbusLink;
  ell?: WmbusEll;
  afl?: WmbusAfl;
  tpl: WmbusTpl;
  /** The meter the data is about: the long header's when there is one, else the link layer's. */
  meter: { id: string; manufacturer: string; version: number; deviceType: number };
  security: {
    mode: number; encryptedBlocks: number; decrypted: boolean; macChecked: boolean; ellEncrypted: boolean;
    /** The data came already decrypted (2F2F where the encrypted blocks should be) and no key was given. */
    receiverDecrypted: boolean;
  };
  /** The application data (after decryption), hex. */
  payload: string;
  /** Records as the wired M-Bus decoder reads them; `header` holds the meter's id, manufacturer and device type. */
  application: MbusTelegram;
}

/** A key, or how to find the key of a meter (undefined: no key known). */
export type KeyLookup = Uint8Array | string | ((meter: { id: string; manufacturer: string }) => Uint8Array | string | undefined);

export interface DecodeOptions {
  key?: KeyLookup;
  /** Link layer format of the input: auto (default) detects A / B with CRCs or none. */
  format?: FrameFormat | 'auto';
}

export function parseKey(k: Uint8Array | string, meter?: string): Buffer {
  if (typeof k !== 'string') {
    if (k.length !== 16) throw new WmbusDecodeError(`key must be 16 bytes, got ${k.length}`, meter);
    return Buffer.from(k);
  }
  const s = k.replace(/[\s:]/g, '');
  if (!/^[0-9A-Fa-f]{32}$/.test(s)) throw new WmbusDecodeError('key must be 32 hex digits (AES-128)', meter);
  return Buffer.from(s, 'hex');
}

function lookup(key: KeyLookup | undefined, id: string, manufacturer: string, meter: string): Buffer | undefined {
  if (key === undefined) return undefined;
  const k = typeof key === 'function' ? key({ id, manufacturer }) : key;
  return k === undefined || k === '' ? undefined : parseKey(k, meter);
}

export function decodeWmbus(input: Uint8Array, opts: DecodeOptions = {}): DecodedWmbus {
  const { data: d, format } = stripLinkCrc(input, opts.format ?? 'auto');
  const link: WmbusLink = {
    format, c: d[1], manufacturer: manufacturerName(d[2] | (d[3] << 8)), id: idDigits(d, 4), version: d[8], deviceType: d[9],
    deviceTypeName: mediumName(d[9]),
  };
  let name = `${link.manufacturer} ${link.id}`;
  let o = 10;
  let ell: WmbusEll | undefined;
  let afl: WmbusAfl | undefined;
  let body: Uint8Array = d;
  let ellEncrypted = false;
  if ((ELL_CIS as readonly number[]).includes(body[o])) {
    const r = readEll(body, o, name);
    ell = r.ell;
    if (ell.encryption) {
      if (ell.encryption !== 1) throw new WmbusDecodeError(`ELL encryption ${ell.encryption} is not supported (1 = AES-128-CTR)`, name, 'unsupported');
      const key = lookup(opts.key, link.id, link.manufacturer, name);
      if (!key) throw new WmbusDecodeError('encrypted (ELL AES-CTR) and no key given for this meter', name, 'no-key');
      const plain = decryptEll(key, ell, d, d.subarray(r.next - 2), name);
      body = Buffer.concat([d.subarray(0, r.next), plain]);
      ellEncrypted = true;
    }
    o = r.next;
  }
  if (o >= body.length) throw new WmbusDecodeError('telegram ends before its CI field', name);
  if (body[o] === CI_AFL) {
    const r = readAfl(body, o, name);
    afl = r.afl;
    if (afl.moreFragments || afl.fragmentId > 1) throw new WmbusDecodeError(`fragmented message (AFL fragment ${afl.fragmentId}${afl.moreFragments ? ', more follow' : ''}) is not supported`, name, 'unsupported');
    o = r.next;
  }
  if (o >= body.length) throw new WmbusDecodeError('telegram ends before its transport layer CI field', name);
  const tplAt = o;
  const { tpl, next } = readTpl(body, o, name);
  const meter = tpl.kind === 'long'
    ? { id: tpl.id!, manufacturer: tpl.manufacturer!, version: tpl.version!, deviceType: tpl.deviceType! }
    : { id: link.id, manufacturer: link.manufacturer, version: link.version, deviceType: link.deviceType };
  name = `${meter.manufacturer} ${meter.id}`;
  let app: Uint8Array = body.subarray(next);
  let decrypted = false;
  let macChecked = false;
  // Receivers that hold the key (wmbusmeters logs, Amber/IMST sticks) pass the data on decrypted with the CF unchanged.
  const preDecrypted = tpl.securityMode !== 0 && app[0] === 0x2f && app[1] === 0x2f;
  let receiverDecrypted = false;
  if (tpl.securityMode !== 0) {
    const key = lookup(opts.key, meter.id, meter.manufacturer, name);
    if (!key && preDecrypted) receiverDecrypted = true;
    else if (!key) throw new WmbusDecodeError(`encrypted (security mode ${tpl.securityMode}) and no key given for this meter`, name, 'no-key');
  }
  if (tpl.securityMode !== 0 && !receiverDecrypted) {
    const key = lookup(opts.key, meter.id, meter.manufacturer, name)!;
    const r = decryptTpl({
      meter: name, key, mode: tpl.securityMode, blocks: tpl.encryptedBlocks, data: app,
      manufacturerBytes: tpl.kind === 'long' ? tpl.addressBytes!.subarray(4, 6) : d.subarray(2, 4),
      addressBytes: tpl.kind === 'long' ? Buffer.concat([tpl.addressBytes!.subarray(0, 4), tpl.addressBytes!.subarray(6, 8)]) : d.subarray(4, 10),
      accessNumber: tpl.accessNumber ?? 0, afl, fromTpl: body.subarray(tplAt),
    });
    app = r.data;
    decrypted = true;
    macChecked = r.macChecked;
  }
  let records;
  try {
    records = decodeRecords(app, 0);
  } catch (e) {
    if (e instanceof MbusDecodeError) throw new WmbusDecodeError(`application data: ${e.reason} (offset ${e.offset} after the transport header)`, name);
    throw e;
  }
  const application: MbusTelegram = {
    ci: tpl.ci,
    header: {
      id: meter.id, manufacturer: meter.manufacturer, version: meter.version, medium: meter.deviceType, mediumName: mediumName(meter.deviceType),
      accessNumber: tpl.accessNumber ?? ell?.accessNumber ?? 0, status: tpl.status ?? 0, signature: tpl.configuration ?? 0,
    },
    ...records,
  };
  const result = {
    link, ell, afl, tpl, meter,
    security: { mode: tpl.securityMode, encryptedBlocks: tpl.encryptedBlocks, decrypted, macChecked, ellEncrypted, receiverDecrypted },
    payload: '',
    application,
  };
  // The hex of the application data is made when asked for (ems-decode, JSON), not for every telegram.
  Object.defineProperty(result, 'payload', { enumerable: true, get: () => Buffer.from(app).toString('hex').toUpperCase() });
  return result;
}

/** The meter's id and manufacturer without decrypting (to look a meter up before its key is known). */
export function peekMeter(input: Uint8Array): { id: string; manufacturer: string; deviceType: number } {
  const { data: d } = stripLinkCrc(input, 'auto');
  let o = 10;
  if ((ELL_CIS as readonly number[]).includes(d[o])) o = readEll(d, o, '').next;
  if (d[o] === CI_AFL && o + 1 < d.length) o += 2 + d[o + 1];
  if (d[o] === 0x72 && o + 9 <= d.length) {
    return { id: idDigits(d, o + 1), manufacturer: manufacturerName(d[o + 5] | (d[o + 6] << 8)), deviceType: d[o + 8] };
  }
  return { id: idDigits(d, 4), manufacturer: manufacturerName(d[2] | (d[3] << 8)), deviceType: d[9] };
}
