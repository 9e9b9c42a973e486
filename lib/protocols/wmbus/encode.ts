/**
 * Builds wireless M-Bus telegrams (the simulator's and the tests' side): link layer, optional AFL for
 * mode 7, short or long transport header, application data encrypted in mode 5 or 7, CRCs of format A or B.
 */
import { manufacturerCode } from '../mbus/frame';
import { aesCbcEncrypt, aesCmac } from './cmac';
import { encodeFormatA, encodeFormatB, type FrameFormat } from './link';
import { deriveKey, modeFiveIv, modeSevenMacInput } from './security';
import type { WmbusAfl } from './headers';

export interface TelegramSpec {
  manufacturer: string;
  /** 8 digits. */
  id: string;
  version: number;
  deviceType: number;
  accessNumber: number;
  /** Application data records (without 2F2F). */
  records: Uint8Array;
  mode: 0 | 5 | 7;
  key?: Uint8Array;
  /** Mode 7 message counter (AFL MCR). */
  messageCounter?: number;
  tpl?: 'short' | 'long';
  format?: FrameFormat;
  /** C-field; default 0x44 (SND_NR). */
  c?: number;
  status?: number;
}

function idBytes(id: string): Buffer {
  if (!/^\d{8}$/.test(id)) throw new RangeError(`meter id ${JSON.stringify(id)} must be 8 digits`);
  return Buffer.from(id.match(/../g)!.reverse().join(''), 'hex');
}

export function encodeWmbus(s: TelegramSpec): Buffer {
  const man = Buffer.alloc(2);
  man.writeUInt16LE(manufacturerCode(s.manufacturer));
  const address = Buffer.concat([idBytes(s.id), Buffer.from([s.version, s.deviceType])]);
  let app: Buffer = Buffer.from(s.records);
  let blocks = 0;
  if (s.mode !== 0) {
    if (!s.key) throw new RangeError(`security mode ${s.mode} needs a key`);
    const plainLength = Math.ceil((app.length + 2) / 16) * 16;
    const plain = Buffer.alloc(plainLength, 0x2f);
    app.copy(plain, 2);
    blocks = plainLength / 16;
    if (blocks > 15) throw new RangeError(`${app.length} bytes of records need ${blocks} blocks, at most 15 can be encrypted`);
    if (s.mode === 5) app = aesCbcEncrypt(s.key, modeFiveIv(man, address, s.accessNumber), plain);
    else app = aesCbcEncrypt(deriveKey(s.key, 0x00, s.messageCounter ?? 0, address), Buffer.alloc(16), plain);
  }
  const cf = (s.mode << 8) | (blocks << 4);
  const tplHead = s.tpl === 'long'
    ? Buffer.concat([Buffer.from([0x72]), address.subarray(0, 4), man, address.subarray(4, 6)])
    : Buffer.from([0x7a]);
  const tpl = Buffer.concat([tplHead, Buffer.from([s.accessNumber & 0xff, s.status ?? 0, cf & 0xff, cf >> 8]), s.mode === 7 ? Buffer.from([0x10]) : Buffer.alloc(0), app]);
  let afl = Buffer.alloc(0);
  if (s.mode === 7) {
    const mcr = (s.messageCounter ?? 0) >>> 0;
    const header: WmbusAfl = { fcl: 0x2c00, fragmentId: 0, moreFragments: false, mcl: 0x25, messageCounter: mcr, raw: Buffer.alloc(0) };
    const kmac = deriveKey(s.key!, 0x01, mcr, address);
    const mac = aesCmac(kmac, modeSevenMacInput(header, tpl)).subarray(0, 8);
    const counter = Buffer.alloc(4);
    counter.writeUInt32LE(mcr);
    afl = Buffer.concat([Buffer.from([0x90, 0x0f, 0x00, 0x2c, 0x25]), counter, mac]);
  }
  const frame = Buffer.concat([Buffer.from([0, s.c ?? 0x44]), man, address, afl, tpl]);
  if (frame.length > 256) throw new RangeError(`telegram of ${frame.length} bytes is too long`);
  frame[0] = frame.length - 1;
  if (s.format === 'A') return encodeFormatA(frame);
  if (s.format === 'B') return encodeFormatB(frame);
  return frame;
}
