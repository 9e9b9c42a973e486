/**
 * The HCI (host controller interface) of IMST's iM871A wireless M-Bus module and USB stick (WMB-USB).
 * Sources: IMST's "Wireless M-Bus Host Controller Interface" specification (WMBus_HCI_Spec, document
 * 4100/6404/0050, v1.6; its table of contents and chapter names as transcribed at technodocbox.com), the
 * field layout as jmbus (openmuc, WMBusSapImst) and wmbusmeters (wmbus_im871a.h, "imported from
 * WMBus_HCI_Spec_V1_6") restate it, and raw stick bytes published in wmbusmeters issues #951 (device info
 * and configuration responses) and #1350 (a receive indication): their FCS verify with the CRC below, and
 * test/lib/wmbus-im871a.test.ts replays them.
 *
 * HCI message (spec chapter "HCI Message Format"):
 *   SOF 0xA5 | control (high 4 bits) + endpoint id (low 4 bits) | message id | length | payload (length
 *   bytes) | [time stamp, 32 bit LSB first] | [RSSI, 8 bit] | [FCS, 16 bit, LSB first]
 * - "Control Field (4 bits)": 0x2 time stamp attached, 0x4 RSSI attached, 0x8 FCS (CRC16) attached, 0x1 reserved.
 * - "Endpoint ID Field": 1 device management, 2 radio link, 3 radio link test, 4 hardware test.
 * - "FCS Field (16 Bit)": CRC-16 from the control field up to the last byte of payload, time stamp or RSSI;
 *   polynomial x^16+x^12+x^5+1 reflected, start 0xFFFF, ones' complement (the CRC-16/X-25 form), LSB first
 *   (checked against the published frames).
 * - "Physical Parameters": the USB stick's virtual UART runs at 57600 bps, 8N1.
 * "WM-Bus Message Reception" (RADIOLINK_MSG_WMBUSMSG_IND 0x03 on the radio link endpoint): the payload is
 * the received wM-Bus message starting with the C-field; the stick drops the L-field and the link layer CRCs
 * it has checked, so the payload length is the L-field of the frame without CRCs (the #1350 frame: length
 * 0xA9, payload 44 C5 14 ...).
 * "Device Configuration" (DEVMGMT_MSG_SET_CONFIG_REQ 0x03, answered by DEVMGMT_MSG_SET_CONFIG_RSP 0x04):
 * payload NVM flag (0 = RAM only) | IIFlag1 (bit 0 device mode, bit 1 link mode, ...) | the flagged values
 * | IIFlag2 (bit 4 RSSI attachment, bit 5 receive time stamp attachment, ...) | the flagged values. Link
 * mode values: S1 0, S1-m 1, S2 2, T1 3, T2 4, R2 5, C1 frame A 6, C1 frame B 7, C2 frame A 8, C2 frame B 9.
 */
import { WmbusDecodeError } from './errors';

export const HCI_SOF = 0xa5;
export const HCI_ENDPOINT = { devmgmt: 0x01, radiolink: 0x02, radiolinkTest: 0x03, hwTest: 0x04 } as const;
export const HCI_MSG = {
  pingReq: 0x01, pingRsp: 0x02, setConfigReq: 0x03, setConfigRsp: 0x04, getConfigReq: 0x05, getConfigRsp: 0x06,
  deviceInfoReq: 0x0f, deviceInfoRsp: 0x10, wmbusMsgInd: 0x03,
} as const;
const CTRL_TIMESTAMP = 0x2;
const CTRL_RSSI = 0x4;
const CTRL_CRC = 0x8;
const CTRL_RESERVED = 0x1;

export const IM871A_LINK_MODES = { S1: 0, 'S1-m': 1, S2: 2, T1: 3, T2: 4, R2: 5, C1: 6, 'C1-B': 7, C2: 8, 'C2-B': 9 } as const;
export type Im871aLinkMode = keyof typeof IM871A_LINK_MODES;
export const IM871A_BAUD = 57600;

export interface HciFrame {
  endpoint: number;
  msgId: number;
  payload: Buffer;
  /** The stick's receive time stamp (RTC ticks) when attached. */
  timestamp?: number;
  /** Raw RSSI byte when attached. */
  rssi?: number;
  /** True when an FCS was attached (and matched: frames with a wrong FCS are not returned). */
  crc: boolean;
}

/** CRC-16/X-25 of the HCI FCS (reflected 0x1021 = 0x8408, init 0xFFFF, final complement). */
export function hciCrc(data: Uint8Array, start = 0, end = data.length): number {
  let c = 0xffff;
  for (let i = start; i < end; i++) {
    c ^= data[i];
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0x8408 : c >>> 1;
  }
  return ~c & 0xffff;
}

export function encodeHciFrame(f: { endpoint: number; msgId: number; payload?: Uint8Array; timestamp?: number; rssi?: number; crc?: boolean }): Buffer {
  const payload = Buffer.from(f.payload ?? []);
  if (payload.length > 255) throw new RangeError(`HCI payload of ${payload.length} bytes is longer than 255`);
  const ctrl = (f.timestamp !== undefined ? CTRL_TIMESTAMP : 0) | (f.rssi !== undefined ? CTRL_RSSI : 0) | (f.crc ? CTRL_CRC : 0);
  const parts: Buffer[] = [Buffer.from([HCI_SOF, (ctrl << 4) | (f.endpoint & 0x0f), f.msgId, payload.length]), payload];
  if (f.timestamp !== undefined) { const t = Buffer.alloc(4); t.writeUInt32LE(f.timestamp >>> 0); parts.push(t); }
  if (f.rssi !== undefined) parts.push(Buffer.from([f.rssi & 0xff]));
  const body = Buffer.concat(parts);
  if (!f.crc) return body;
  const c = hciCrc(body, 1);
  return Buffer.concat([body, Buffer.from([c & 0xff, c >> 8])]);
}

/** The configuration request that makes the stick receive in `mode` (RAM only) with the RSSI attached. */
export function encodeSetLinkMode(mode: Im871aLinkMode): Buffer {
  const m = IM871A_LINK_MODES[mode];
  if (m === undefined) throw new RangeError(`link mode ${JSON.stringify(mode)} is not one of ${Object.keys(IM871A_LINK_MODES).join(', ')}`);
  // NVM flag 0 | IIFlag1 0x02 (link mode) | mode | IIFlag2 0x30 (RSSI, time stamp) | RSSI on | time stamp off
  return encodeHciFrame({ endpoint: HCI_ENDPOINT.devmgmt, msgId: HCI_MSG.setConfigReq, payload: Buffer.from([0x00, 0x02, m, 0x30, 0x01, 0x00]) });
}

/** The link mode a set-config request asks for, or undefined when it does not set one. */
export function setConfigLinkMode(f: HciFrame): Im871aLinkMode | undefined {
  if (f.endpoint !== HCI_ENDPOINT.devmgmt || f.msgId !== HCI_MSG.setConfigReq || f.payload.length < 3 || !(f.payload[1] & 0x02)) return undefined;
  const value = f.payload[1] & 0x01 ? f.payload[3] : f.payload[2];
  return (Object.keys(IM871A_LINK_MODES) as Im871aLinkMode[]).find((k) => IM871A_LINK_MODES[k] === value);
}

export type HciEvent = { frame: HciFrame; error?: undefined } | { error: Error; frame?: undefined };

/** Longest HCI message: header, 255 payload bytes, time stamp, RSSI, FCS. */
export const HCI_MAX_FRAME = 4 + 255 + 4 + 1 + 2;

/**
 * Splits a byte stream into HCI frames. Bytes before an SOF, a header with the reserved control bit or an
 * unknown endpoint, a frame whose FCS does not match, and a frame without FCS not followed by an SOF are
 * skipped by one byte and the search for the next SOF goes on from there, so a good frame right after
 * garbage or a broken one is not lost.
 */
export class HciReader {
  private buf = Buffer.alloc(0);

  push(chunk: Uint8Array): HciEvent[] {
    this.buf = this.buf.length ? Buffer.concat([this.buf, chunk]) : Buffer.from(chunk);
    const out: HciEvent[] = [];
    let skipped = 0;
    const flushSkipped = () => {
      if (skipped) out.push({ error: new WmbusDecodeError(`iM871A: skipped ${skipped} bytes that are not an HCI frame`) });
      skipped = 0;
    };
    let o = 0;
    while (o < this.buf.length) {
      if (this.buf[o] !== HCI_SOF) { o++; skipped++; continue; }
      if (this.buf.length - o < 4) break;
      const ctrl = this.buf[o + 1] >> 4;
      const endpoint = this.buf[o + 1] & 0x0f;
      if (ctrl & CTRL_RESERVED || endpoint < 1 || endpoint > 4) { o++; skipped++; continue; }
      const len = this.buf[o + 3];
      const size = 4 + len + (ctrl & CTRL_TIMESTAMP ? 4 : 0) + (ctrl & CTRL_RSSI ? 1 : 0) + (ctrl & CTRL_CRC ? 2 : 0);
      if (this.buf.length - o < size) break;
      // Without an FCS nothing vouches for the frame but the SOF of the next one: a frame without FCS
      // followed by other bytes is taken as a false SOF (the sticks seen in the wild always attach the FCS).
      if (!(ctrl & CTRL_CRC) && this.buf.length - o > size && this.buf[o + size] !== HCI_SOF) { o++; skipped++; continue; }
      if (ctrl & CTRL_CRC) {
        const sent = this.buf[o + size - 2] | (this.buf[o + size - 1] << 8);
        const computed = hciCrc(this.buf, o + 1, o + size - 2);
        if (sent !== computed) {
          flushSkipped();
          out.push({ error: new WmbusDecodeError(`iM871A: HCI frame (endpoint ${endpoint}, message ${this.buf[o + 2]}) has FCS ${sent.toString(16).padStart(4, '0')}, computed ${computed.toString(16).padStart(4, '0')}; skipped`, undefined, 'crc') });
          o++;
          continue;
        }
      }
      flushSkipped();
      let p = o + 4 + len;
      const frame: HciFrame = { endpoint, msgId: this.buf[o + 2], payload: Buffer.from(this.buf.subarray(o + 4, o + 4 + len)), crc: !!(ctrl & CTRL_CRC) };
      if (ctrl & CTRL_TIMESTAMP) { frame.timestamp = this.buf.readUInt32LE(p); p += 4; }
      if (ctrl & CTRL_RSSI) frame.rssi = this.buf[p];
      out.push({ frame });
      o += size;
    }
    flushSkipped();
    // What is kept is the start of one frame: at most HCI_MAX_FRAME - 1 bytes.
    this.buf = Buffer.from(this.buf.subarray(o));
    return out;
  }
}

/**
 * RSSI in dBm from the stick's raw RSSI byte: the radio chip's RSSI reading rises about 0.5 dB per step,
 * about -100 dBm at 45 (Si1002 data sheet, RSSI vs. input power); readings of 230 and more are about 0 dBm.
 */
export function im871aRssiDbm(raw: number): number {
  return raw >= 230 ? 0 : Math.round(-100 + (raw - 45) / 2);
}

export interface StickTelegram {
  /** The wM-Bus frame with its L-field restored, without link layer CRCs (as our decoder takes it). */
  bytes: Buffer;
  rssi?: number;
  rssiRaw?: number;
  timestamp?: number;
}

/** A radio link receive indication as a wM-Bus telegram; undefined for any other HCI message. */
export function hciTelegram(f: HciFrame): StickTelegram | undefined {
  if (f.endpoint !== HCI_ENDPOINT.radiolink || f.msgId !== HCI_MSG.wmbusMsgInd) return undefined;
  if (f.payload.length < 10) throw new WmbusDecodeError(`iM871A: receive indication of ${f.payload.length} bytes is too short for C M A CI`);
  const t: StickTelegram = { bytes: Buffer.concat([Buffer.from([f.payload.length]), f.payload]) };
  if (f.rssi !== undefined) { t.rssiRaw = f.rssi; t.rssi = im871aRssiDbm(f.rssi); }
  if (f.timestamp !== undefined) t.timestamp = f.timestamp;
  return t;
}

/** A wM-Bus telegram without CRCs (L-field first) as the stick's receive indication (the sim's side). */
export function encodeHciIndication(telegram: Uint8Array, rssiRaw?: number): Buffer {
  return encodeHciFrame({ endpoint: HCI_ENDPOINT.radiolink, msgId: HCI_MSG.wmbusMsgInd, payload: telegram.subarray(1), rssi: rssiRaw, crc: true });
}
