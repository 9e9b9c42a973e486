/**
 * Builds push telegrams the way customer ports send them: a DataNotification whose body is a
 * structure of [OBIS, value, scaler_unit] structures (Aidon / Austrian layout) with the clock first,
 * optionally ciphered (general-glo-ciphering), framed as HDLC UI frames (segmented at `maxInfo`),
 * one wrapper PDU or M-Bus long frames (at most 250 data bytes each). Used by `ems-sim dlms --push-*`
 * and by tests.
 *
 *   encodePush({ values, time, utcOffsetMinutes, framing: 'hdlc', cipher? }) -> Buffer (all frames)
 */
import { type DlmsData, dateTimeFromEpochMs, encodeDateTime } from './axdr';
import { encodeCiphered } from './apdu';
import { encodeFrame, LLC_RESPONSE, clientAddress, segment, serverAddress } from './hdlc';
import type { SecurityKeys } from './security';
import { obisToBytes } from './units';
import { encodeWrapper } from './wrapper';
import { encodeService } from './xdlms';

export interface PushValue {
  /** "A-B:C.D.E" or with ".F". */
  obis: string;
  /** The raw integer the meter sends. */
  raw: number;
  scaler: number;
  /** Blue Book unit code (27 W, 30 Wh, 33 A, 35 V...). */
  unit: number;
}

export interface PushCipher {
  keys: SecurityKeys;
  systemTitle: Buffer;
  invocationCounter: number;
  /** 0x20 encrypted, 0x30 authenticated and encrypted (default). */
  securityControl?: number;
}

export interface PushEncodeOptions {
  values: PushValue[];
  /** The notification's date-time (epoch ms). */
  time: number;
  /** Meter local time east of UTC, minutes. */
  utcOffsetMinutes?: number;
  framing: 'hdlc' | 'wrapper' | 'mbus';
  cipher?: PushCipher;
  /** HDLC information field size (default 128). */
  maxInfo?: number;
  longInvokeId?: number;
}

const obisBytes = (obis: string) => obisToBytes(obis.split('.').length === 5 ? `${obis}.255` : obis);

/** The DataNotification APDU (plain or ciphered). */
export function encodePushApdu(o: Omit<PushEncodeOptions, 'framing' | 'maxInfo'>): Buffer {
  const clock = encodeDateTime(dateTimeFromEpochMs(o.time, o.utcOffsetMinutes ?? 0));
  const body: DlmsData = {
    type: 'structure',
    items: [
      { type: 'structure', items: [{ type: 'octet-string', value: obisBytes('0-0:1.0.0') }, { type: 'octet-string', value: clock }] },
      ...o.values.map((v): DlmsData => ({
        type: 'structure',
        items: [
          { type: 'octet-string', value: obisBytes(v.obis) },
          { type: 'double-long-unsigned', value: v.raw },
          { type: 'structure', items: [{ type: 'integer', value: v.scaler }, { type: 'enum', value: v.unit }] },
        ],
      })),
    ],
  };
  const plain = encodeService({ type: 'data-notification', longInvokeId: o.longInvokeId ?? 0x40000000, dateTimeOctets: clock, body });
  if (!o.cipher) return plain;
  const c = o.cipher;
  return encodeCiphered(plain, { securityControl: c.securityControl ?? 0x30, systemTitle: c.systemTitle, invocationCounter: c.invocationCounter, keys: c.keys, general: true });
}

/** The APDU in its framing: HDLC UI frames, one wrapper PDU or M-Bus long frames, concatenated. */
export function framePush(apdu: Buffer, framing: PushEncodeOptions['framing'], maxInfo = 128): Buffer {
  if (framing === 'wrapper') return encodeWrapper({ source: 1, destination: 0x10, apdu });
  if (framing === 'hdlc') {
    const parts = segment(Buffer.concat([LLC_RESPONSE, apdu]), maxInfo);
    return Buffer.concat(parts.map((p) => encodeFrame({ destination: clientAddress(0x10), source: serverAddress(1, 17), control: { kind: 'UI', pf: false }, segmented: p.segmented, info: p.info })));
  }
  const frames: Buffer[] = [];
  const n = Math.ceil(apdu.length / 245);
  if (n > 16) throw new RangeError(`push of ${apdu.length} bytes needs ${n} M-Bus segments (16 at most)`);
  for (let i = 0; i < n; i++) {
    const data = apdu.subarray(i * 245, (i + 1) * 245);
    const body = Buffer.concat([Buffer.from([0x53, 0xff, (i === n - 1 ? 0x10 : 0) | i, 0x01, 0x67]), data]);
    let sum = 0;
    for (const b of body) sum = (sum + b) & 0xff;
    frames.push(Buffer.concat([Buffer.from([0x68, body.length, body.length, 0x68]), body, Buffer.from([sum, 0x16])]));
  }
  return Buffer.concat(frames);
}

export function encodePush(o: PushEncodeOptions): Buffer {
  return framePush(encodePushApdu(o), o.framing, o.maxInfo);
}
