/**
 * The headers between the link layer and the application data (EN 13757-4 / -7, OMS Vol. 2):
 * extended link layer (ELL, CI 0x8C-0x8F), authentication and fragmentation layer (AFL, CI 0x90) and
 * the transport layer (TPL): none (0x78), short (0x7A), long (0x72) header.
 */
import { manufacturerName } from '../mbus/frame';
import { idDigits } from '../mbus/ids';
import { WmbusDecodeError } from './errors';

export interface WmbusEll {
  ci: number;
  /** Communication control field. */
  cc: number;
  accessNumber: number;
  /** ELL III/IV: the receiver's manufacturer and address. */
  manufacturer?: string;
  address?: string;
  /** ELL II/IV: session number (encryption bits 29-31, time, session) and the CRC of the payload. */
  sessionNumber?: number;
  payloadCrc?: number;
  /** Encryption the session number announces: 0 none, 1 AES-128-CTR. */
  encryption?: number;
}

export interface WmbusAfl {
  fcl: number;
  fragmentId: number;
  moreFragments: boolean;
  mcl?: number;
  keyInfo?: number;
  messageCounter?: number;
  /** The MAC as sent, hex. */
  mac?: string;
  messageLength?: number;
  /** Bytes of the AFL after its length byte (for the MAC input). */
  raw: Buffer;
}

export interface WmbusTpl {
  ci: number;
  kind: 'none' | 'short' | 'long';
  accessNumber?: number;
  status?: number;
  /** Configuration field (CF), 16 bits. */
  configuration?: number;
  /** Configuration field extension (mode 7). */
  configExtension?: number;
  /** Security mode (CF bits 8-12): 0 none, 5 AES-CBC with IV, 7 AES-CBC with derived keys. */
  securityMode: number;
  /** Encrypted 16-byte blocks (CF bits 4-7). */
  encryptedBlocks: number;
  /** Long header: the meter the data is about (may differ from the link layer's sender). */
  id?: string;
  manufacturer?: string;
  manufacturerCode?: number;
  version?: number;
  deviceType?: number;
  /** The A-field bytes (id, version, device type) of a long header, for the mode 5 IV. */
  addressBytes?: Buffer;
}

export const ELL_CIS = [0x8c, 0x8d, 0x8e, 0x8f] as const;
export const CI_AFL = 0x90;
/** TPL CIs that carry application data (EN 13757-7 table 2): long 0x72, short 0x7A, none 0x78. */
export const TPL_CIS: Record<number, WmbusTpl['kind']> = { 0x72: 'long', 0x7a: 'short', 0x78: 'none' };

function need(d: Uint8Array, o: number, n: number, what: string, meter: string): void {
  if (o + n > d.length) throw new WmbusDecodeError(`${what} truncated: needs ${n} bytes at offset ${o}, telegram has ${d.length}`, meter);
}

/** ELL at d[o] (the CI); returns the header and the offset after it. */
export function readEll(d: Uint8Array, o: number, meter: string): { ell: WmbusEll; next: number } {
  const ci = d[o];
  const size = { 0x8c: 2, 0x8d: 8, 0x8e: 10, 0x8f: 16 }[ci]!;
  need(d, o + 1, size, `ELL (CI 0x${ci.toString(16).toUpperCase()})`, meter);
  const ell: WmbusEll = { ci, cc: d[o + 1], accessNumber: d[o + 2] };
  let p = o + 3;
  if (ci === 0x8e || ci === 0x8f) {
    ell.manufacturer = manufacturerName(d[p] | (d[p + 1] << 8));
    ell.address = idDigits(d, p + 2);
    p += 8;
  }
  if (ci === 0x8d || ci === 0x8f) {
    ell.sessionNumber = (d[p] | (d[p + 1] << 8) | (d[p + 2] << 16) | (d[p + 3] << 24)) >>> 0;
    ell.encryption = ell.sessionNumber >>> 29;
    ell.payloadCrc = d[p + 4] | (d[p + 5] << 8);
    p += 6;
  }
  return { ell, next: p };
}

/** AFL at d[o] (CI 0x90): AFL.L, FCL, then MCL, KI, MCR, MAC, ML as FCL announces. */
export function readAfl(d: Uint8Array, o: number, meter: string): { afl: WmbusAfl; next: number } {
  need(d, o + 1, 1, 'AFL', meter);
  const len = d[o + 1];
  need(d, o + 2, len, 'AFL', meter);
  if (len < 2) throw new WmbusDecodeError(`AFL length ${len} is too short for its FCL`, meter);
  const end = o + 2 + len;
  let p = o + 2;
  const fcl = d[p] | (d[p + 1] << 8);
  p += 2;
  const afl: WmbusAfl = { fcl, fragmentId: fcl & 0xff, moreFragments: (fcl & 0x4000) !== 0, raw: Buffer.from(d.subarray(o + 2, end)) };
  const take = (n: number, what: string) => {
    if (p + n > end) throw new WmbusDecodeError(`AFL length ${len} leaves no room for its ${what}`, meter);
    const at = p;
    p += n;
    return at;
  };
  if (fcl & 0x2000) afl.mcl = d[take(1, 'MCL')];
  if (fcl & 0x0200) { const at = take(2, 'KI'); afl.keyInfo = d[at] | (d[at + 1] << 8); }
  if (fcl & 0x0800) { const at = take(4, 'MCR'); afl.messageCounter = (d[at] | (d[at + 1] << 8) | (d[at + 2] << 16) | (d[at + 3] << 24)) >>> 0; }
  if (fcl & 0x0400) {
    const size = macLength(afl.mcl);
    if (size === undefined) throw new WmbusDecodeError(`AFL MCL 0x${(afl.mcl ?? 0).toString(16)} names an unknown MAC type`, meter);
    const at = take(size, 'MAC');
    afl.mac = Buffer.from(d.subarray(at, at + size)).toString('hex').toUpperCase();
  }
  if (fcl & 0x1000) { const at = take(2, 'ML'); afl.messageLength = d[at] | (d[at + 1] << 8); }
  return { afl, next: end };
}

/** MAC length by the MCL's authentication type (OMS Vol. 2 table: 4 CMAC-4, 5 CMAC-8, 6 CMAC-12, 7 CMAC-16). */
export function macLength(mcl: number | undefined): number | undefined {
  const at = (mcl ?? 0) & 0x0f;
  return { 4: 4, 5: 8, 6: 12, 7: 16 }[at];
}

/** TPL at d[o] (its CI); returns the header and the offset of the application data. */
export function readTpl(d: Uint8Array, o: number, meter: string): { tpl: WmbusTpl; next: number } {
  const ci = d[o];
  const kind = TPL_CIS[ci];
  if (!kind) throw new WmbusDecodeError(`CI 0x${ci.toString(16).padStart(2, '0').toUpperCase()} at offset ${o} is not a transport layer this decoder knows (0x72, 0x78, 0x7A, ELL 0x8C-0x8F, AFL 0x90)`, meter, 'unsupported');
  let p = o + 1;
  const tpl: WmbusTpl = { ci, kind, securityMode: 0, encryptedBlocks: 0 };
  if (kind === 'none') return { tpl, next: p };
  if (kind === 'long') {
    need(d, p, 8, 'long transport header', meter);
    tpl.id = idDigits(d, p);
    tpl.manufacturerCode = d[p + 4] | (d[p + 5] << 8);
    tpl.manufacturer = manufacturerName(tpl.manufacturerCode);
    tpl.version = d[p + 6];
    tpl.deviceType = d[p + 7];
    tpl.addressBytes = Buffer.from(d.subarray(p, p + 8));
    p += 8;
  }
  need(d, p, 4, `${kind} transport header`, meter);
  tpl.accessNumber = d[p];
  tpl.status = d[p + 1];
  tpl.configuration = d[p + 2] | (d[p + 3] << 8);
  p += 4;
  tpl.securityMode = (tpl.configuration >> 8) & 0x1f;
  tpl.encryptedBlocks = (tpl.configuration >> 4) & 0x0f;
  if (tpl.securityMode === 7) {
    need(d, p, 1, 'configuration field extension (mode 7)', meter);
    tpl.configExtension = d[p++];
  }
  return { tpl, next: p };
}
