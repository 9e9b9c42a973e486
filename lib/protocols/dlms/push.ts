/**
 * Push receiver (pure, no I/O): the unsolicited DataNotification / EventNotification a meter's
 * customer port sends (Norwegian/Swedish HAN, Austrian and Luxembourg customer interfaces, DLMS push
 * setups to a head end). Bytes in, readings out:
 *
 *   const d = new PushDecoder({ meter: 'grid-1', keys: { encryptionKey }, timeZone: 'Europe/Oslo' });
 *   const { messages, errors } = d.push(chunk);     // as often as bytes arrive
 *
 * Framing: HDLC frames (UI or I, 7E A_ ... 7E, FCS checked, segments joined), wrapper PDUs (00 01 ...)
 * or M-Bus long frames carrying DLMS segments (68 L L 68 ... 16, CI = last bit | sequence); `auto`
 * tells them apart by their first bytes. Junk between frames is skipped and counted; a frame, a joined
 * APDU and the number of segments are bounded. Ciphered APDUs (general-glo-ciphering, glo-) are
 * decrypted with the meter's key (and the authentication key when SC says authenticated); an
 * invocation counter not above the last one accepted from that system title is refused as a replay.
 * With keys configured a plain notification is refused too (anyone on the line could send one).
 *
 * Time of the readings: the notification's date-time, else a clock (0-x:1.0.0) in the body, else the
 * receive time. A date-time without deviation (Norwegian meters) is local time in `timeZone`.
 */
import { type CosemDateTime, type DlmsData, dataNumber, dataToJson, dateTimeToEpochMs, decodeDateTime } from './axdr';
import { type Apdu, decodeApdu, innermost } from './apdu';
import { DlmsDecodeError } from './errors';
import { type HdlcFrame, decodeFrame, splitLlc } from './hdlc';
import { type ObisValue, obisValues } from './decode';
import { listIdentifier, listScaler, positionalValues, printableText } from './push-lists';
import type { SecurityKeys } from './security';
import { DlmsSecurityError } from './session';
import { canonicalObis, obisFromBytes, scaled } from './units';
import type { Reading } from '../../model/reading';
import { fromLocal } from '../../model/time';
import { isKnownUnit, toCanonical } from '../../model/units';

export type PushFraming = 'auto' | 'hdlc' | 'wrapper' | 'mbus';
export const PUSH_FRAMINGS: readonly PushFraming[] = ['auto', 'hdlc', 'wrapper', 'mbus'];

export interface PushDecoderOptions {
  /** EMS meter id of the readings. */
  meter: string;
  framing?: PushFraming;
  keys?: SecurityKeys;
  /** The meter's system title, for glo- APDUs that do not carry one (8 bytes). */
  systemTitle?: Buffer;
  /** Zone of date-times sent without deviation; default UTC. */
  timeZone?: string;
  /** Largest frame or wrapper PDU in bytes (default 4096). */
  maxFrame?: number;
  /** Most segments joined into one APDU (default 16). */
  maxSegments?: number;
  /** Largest joined APDU in bytes (default 16384). */
  maxApdu?: number;
  now?: () => number;
  /** Last accepted invocation counter per system title, shared by the decoders of one meter. */
  counters?: Map<string, number>;
}

export interface PushMessage {
  type: 'data-notification' | 'event-notification';
  framing: 'hdlc' | 'wrapper' | 'mbus';
  readings: Reading[];
  /** Epoch ms of the readings, and where it came from. */
  time: number;
  timeSource: 'notification' | 'clock' | 'received';
  /** Text values by OBIS code (meter number, list identifier, meter type...). */
  text: Record<string, string>;
  /** The list version identifier (KFM_001, Kamstrup_V0001, AIDON_V0001...) when the body has one. */
  list?: string;
  systemTitle?: string;
  invocationCounter?: number;
  securityControl?: number;
  /** Event notifications: the attribute the event names and its value as JSON. */
  event?: { classId: number; obis: string; attribute: number; value: unknown };
}

export interface PushResult { messages: PushMessage[]; errors: Error[] }

const PUSH_TAGS = new Set([0x0f, 0xc2, 0xca, 0xd2, 0xdb, 0xdc]);

export class PushDecoder {
  readonly stats = { frames: 0, pushes: 0, errors: 0, replays: 0, skipped: 0 };
  /** Last accepted invocation counter per system title (hex). */
  readonly counters: Map<string, number>;
  private pending: Buffer = Buffer.alloc(0);
  private hdlcParts: Buffer[] = [];
  private mbusParts: Buffer[] = [];
  private readonly maxFrame: number;
  private readonly maxSegments: number;
  private readonly maxApdu: number;
  private readonly framing: PushFraming;
  private readonly now: () => number;

  constructor(readonly o: PushDecoderOptions) {
    this.framing = o.framing ?? 'auto';
    if (!PUSH_FRAMINGS.includes(this.framing)) throw new RangeError(`framing ${JSON.stringify(o.framing)} is not auto, hdlc, wrapper or mbus`);
    this.maxFrame = o.maxFrame ?? 4096;
    this.maxSegments = o.maxSegments ?? 16;
    this.maxApdu = o.maxApdu ?? 16384;
    this.now = o.now ?? Date.now;
    this.counters = o.counters ?? new Map();
  }

  /** Feeds received bytes; returns the notifications completed by them and the errors met. */
  push(chunk: Uint8Array): PushResult {
    const out: PushResult = { messages: [], errors: [] };
    const buf = this.pending.length ? Buffer.concat([this.pending, chunk]) : Buffer.from(chunk);
    let p = 0;
    while (p < buf.length) {
      const used = this.frameAt(buf, p, out);
      if (used === 0) break; // wait for more bytes
      p += used;
    }
    this.pending = Buffer.from(buf.subarray(p));
    this.stats.errors += out.errors.length;
    this.stats.pushes += out.messages.length;
    return out;
  }

  /** Drops a partial frame (the stream adapter calls this after a silence); returns the bytes dropped. */
  flush(): number {
    const n = this.pending.length;
    this.pending = Buffer.alloc(0);
    this.stats.skipped += n;
    return n;
  }

  /** Handles what starts at p: returns the bytes consumed (0 = need more). */
  private frameAt(buf: Buffer, p: number, out: PushResult): number {
    const left = buf.length - p;
    const b = buf[p];
    const want = (f: PushFraming) => this.framing === 'auto' || this.framing === f;
    if (b === 0x7e && want('hdlc')) {
      if (left < 3) return 0;
      if ((buf[p + 1] & 0xf0) !== 0xa0) return 1; // a closing flag or fill
      const length = ((buf[p + 1] & 0x07) << 8) | buf[p + 2];
      if (length < 7) return this.junk(1);
      if (left < length + 2) return 0;
      if (buf[p + length + 1] !== 0x7e) return this.junk(1);
      let frame: HdlcFrame;
      try {
        frame = decodeFrame(buf.subarray(p, p + length + 2));
      } catch (e) {
        // a damaged frame, or junk that looked like one: report it and resynchronise on the next byte
        out.errors.push(e as Error);
        this.hdlcParts = [];
        return this.junk(1);
      }
      this.guard(out, () => this.hdlcFrame(frame, out), () => { this.hdlcParts = []; });
      return length + 1; // the closing flag may open the next frame
    }
    if (b === 0x68 && want('mbus')) {
      if (left < 4) return 0;
      const l = buf[p + 1];
      if (buf[p + 2] !== l || buf[p + 3] !== 0x68 || l < 5) return this.junk(1);
      if (left < l + 6) return 0;
      let sum = 0;
      for (let i = p + 4; i < p + 4 + l; i++) sum = (sum + buf[i]) & 0xff;
      if (sum !== buf[p + 4 + l] || buf[p + 5 + l] !== 0x16) {
        out.errors.push(new DlmsDecodeError(`M-Bus frame with a bad checksum or end byte dropped (${l + 6} bytes)`, -1, 'checksum'));
        this.mbusParts = [];
        return this.junk(1);
      }
      this.guard(out, () => this.mbusFrame(buf.subarray(p, p + l + 6), out));
      return l + 6;
    }
    if (b === 0x00 && want('wrapper')) {
      if (left < 9) return 0;
      const length = buf.readUInt16BE(p + 6);
      if (buf[p + 1] !== 0x01 || length === 0 || length > this.maxFrame || (this.framing === 'auto' && !PUSH_TAGS.has(buf[p + 8]))) return this.junk(1);
      if (left < 8 + length) return 0;
      this.stats.frames++;
      this.guard(out, () => this.apdu(buf.subarray(p + 8, p + 8 + length), 'wrapper', out));
      return 8 + length;
    }
    return this.junk(1);
  }

  private junk(n: number): number {
    this.stats.skipped += n;
    return n;
  }

  private guard(out: PushResult, fn: () => void, onError?: () => void): void {
    try {
      fn();
    } catch (e) {
      onError?.();
      out.errors.push(e instanceof Error ? e : new Error(String(e)));
    }
  }

  private hdlcFrame(f: HdlcFrame, out: PushResult): void {
    this.stats.frames++;
    if ((f.control.kind !== 'UI' && f.control.kind !== 'I') || !f.info.length) return;
    const parts = this.hdlcParts;
    parts.push(this.hdlcParts.length ? f.info : splitLlc(f.info).apdu);
    if (f.segmented) return this.checkParts(parts, 'HDLC');
    this.hdlcParts = [];
    this.apdu(Buffer.concat(parts), 'hdlc', out);
  }

  private mbusFrame(bytes: Buffer, out: PushResult): void {
    this.stats.frames++;
    const ci = bytes[6];
    const seq = ci & 0x0f;
    if (seq === 0) this.mbusParts = [];
    if (seq !== this.mbusParts.length) {
      const had = this.mbusParts.length;
      this.mbusParts = [];
      throw new DlmsDecodeError(`M-Bus segment ${seq} arrived where segment ${had} was expected: the push is dropped`);
    }
    this.mbusParts.push(bytes.subarray(9, bytes.length - 2));
    if ((ci & 0x10) === 0) return this.checkParts(this.mbusParts, 'M-Bus');
    const apdu = Buffer.concat(this.mbusParts);
    this.mbusParts = [];
    this.apdu(apdu, 'mbus', out);
  }

  private checkParts(parts: Buffer[], what: string): void {
    const size = parts.reduce((n, x) => n + x.length, 0);
    if (parts.length <= this.maxSegments && size <= this.maxApdu) return;
    parts.length = 0;
    throw new DlmsDecodeError(`${what} push longer than ${this.maxSegments} segments or ${this.maxApdu} bytes: dropped`, -1, 'limit');
  }

  private apdu(bytes: Buffer, framing: PushMessage['framing'], out: PushResult): void {
    if (bytes.length > this.maxApdu) throw new DlmsDecodeError(`push APDU of ${bytes.length} bytes is longer than ${this.maxApdu}`, -1, 'limit');
    const top: Apdu = decodeApdu(bytes, { keys: this.o.keys, systemTitle: this.o.systemTitle });
    const inner = innermost(top);
    const security = top.type === 'ciphered' ? top : undefined;
    if (security && !security.inner) throw new DlmsDecodeError(`${security.name} push and no key configured: give the meter's encryption key`, -1, 'no-key');
    if (inner.type !== 'data-notification' && inner.type !== 'event-notification') throw new DlmsDecodeError(`a ${inner.type} APDU is not a push (DataNotification or EventNotification)`, 0, 'unsupported');
    if (!security && this.o.keys) throw new DlmsSecurityError('plain push refused: a key is configured, so the meter must cipher its pushes', 'not-ciphered');
    if (security) this.checkCounter(security.systemTitle, security.invocationCounter);
    out.messages.push(this.message(inner, framing, security));
  }

  private checkCounter(title: Buffer | undefined, ic: number): void {
    const key = title?.toString('hex').toUpperCase() ?? '';
    const last = this.counters.get(key);
    if (last !== undefined && ic <= last) {
      this.stats.replays++;
      throw new DlmsSecurityError(`invocation counter ${ic} of system title ${key} is not above the last accepted (${last}): replayed push refused`, 'replay');
    }
    this.counters.set(key, ic);
  }

  private message(a: Apdu, framing: PushMessage['framing'], security?: { systemTitle?: Buffer; invocationCounter: number; securityControl: number }): PushMessage {
    const received = this.now();
    const base = {
      framing, text: {} as Record<string, string>,
      ...(security ? { systemTitle: security.systemTitle?.toString('hex').toUpperCase(), invocationCounter: security.invocationCounter, securityControl: security.securityControl } : {}),
    };
    if (a.type === 'event-notification') {
      const t = a.time && a.time.length === 12 ? this.instant(decodeDateTime(a.time)) : null;
      const obis = canonicalObis(a.descriptor.obis);
      return {
        ...base, type: 'event-notification', time: t ?? received, timeSource: t === null ? 'received' : 'notification',
        readings: [], event: { classId: a.descriptor.classId, obis, attribute: a.descriptor.attribute, value: dataToJson(a.value) },
      };
    }
    if (a.type !== 'data-notification') throw new Error('unreachable');
    let time = a.dateTime ? this.instant(a.dateTime) : null;
    let timeSource: PushMessage['timeSource'] = 'notification';
    if (time === null) { time = this.bodyClock(a.body); timeSource = 'clock'; }
    if (time === null) { time = received; timeSource = 'received'; }
    const list = listIdentifier(a.body) ?? positionalValues(a.body)?.list;
    const readings: Reading[] = [];
    for (const v of this.values(a.body, list)) {
      if (typeof v.value === 'string') { base.text[v.obis] = v.value; continue; }
      if (v.unit === undefined || !isKnownUnit(v.unit) || !Number.isFinite(v.value)) continue;
      const c = toCanonical(v.value, v.unit);
      readings.push({ meter: this.o.meter, time, obis: v.obis, value: c.value, unit: c.unit });
    }
    return { ...base, type: 'data-notification', time, timeSource, readings, ...(list ? { list } : {}) };
  }

  /** OBIS-coded values (scaled by the list's table when bare), else the positional list's values. */
  private values(body: DlmsData, list: string | undefined): ObisValue[] {
    const coded = obisValues(body).filter((v) => !/^0-\d+:1\.0\.0$/.test(v.obis));
    if (coded.length) {
      return coded.map((v) => {
        const s = typeof v.value === 'number' && v.scaler === undefined ? listScaler(list, v.obis) : undefined;
        if (!s) return v;
        const x = scaled(v.value as number, s[0], s[1]);
        return { obis: v.obis, value: x.value, scaler: s[0], unit: x.unit ?? x.symbol };
      });
    }
    const pos = positionalValues(body);
    if (!pos) return [];
    const values: ObisValue[] = [];
    for (const { obis, data } of pos.values) {
      if (obis === '0-0:1.0.0') continue;
      const n = dataNumber(data);
      if (n === undefined) {
        const t = printableText(data);
        if (t !== undefined) values.push({ obis, value: t });
        continue;
      }
      const s = listScaler(pos.list, obis);
      if (!s) { values.push({ obis, value: n }); continue; }
      const x = scaled(n, s[0], s[1]);
      values.push({ obis, value: x.value, scaler: s[0], unit: x.unit ?? x.symbol });
    }
    return values;
  }

  /** The first clock value in the body: 0-x:1.0.0 followed by a date-time, or (positional lists) a bare date-time. */
  private bodyClock(body: DlmsData, depth = 0): number | null {
    if (depth > 4 || (body.type !== 'structure' && body.type !== 'array')) return null;
    const items = body.items;
    for (let i = 0; i < items.length; i++) {
      const it = items[i];
      const next = items[i + 1];
      if (it.type === 'octet-string' && it.value.length === 6 && next?.type === 'octet-string' && next.value.length === 12) {
        const obis = obisFromBytes(it.value);
        if (/^0-\d+:1\.0\.0/.test(obis)) return this.instant(decodeDateTime(next.value));
      }
      if (it.type === 'structure') {
        const t = this.bodyClock(it, depth + 1);
        if (t !== null) return t;
      }
    }
    const pos = positionalValues(body);
    const clock = pos?.values.find((v) => v.obis === '0-0:1.0.0')?.data;
    return clock?.type === 'octet-string' && clock.value.length === 12 ? this.instant(decodeDateTime(clock.value)) : null;
  }

  /** A date-time as epoch ms: with its deviation, or as local time in the configured zone without one. */
  private instant(dt: CosemDateTime): number | null {
    const ms = dateTimeToEpochMs(dt);
    if (ms !== null) return ms;
    const { year, month, dayOfMonth, hour, minute, second } = dt;
    if (year === null || month === null || dayOfMonth === null || hour === null || minute === null || second === null) return null;
    if (month < 1 || month > 12 || dayOfMonth < 1 || dayOfMonth > 31 || hour > 23 || minute > 59 || second > 59) return null;
    return fromLocal({ year, month, day: dayOfMonth, hour, minute, second, millisecond: (dt.hundredths ?? 0) * 10 }, this.o.timeZone);
  }
}
