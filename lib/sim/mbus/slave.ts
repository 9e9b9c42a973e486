/**
 * One simulated M-Bus slave: a real telegram (lib/sim/mbus/telegrams.ts) with its identification
 * number and primary address replaced, its first energy/volume counter advancing with time, FCB
 * handling (a repeated FCB gets the previous answer again), an optional split into two telegrams
 * ("more records follow"), and faults on request.
 */
import { C, encodeLong, parseHex, type SecondaryAddress, manufacturerName } from '../../protocols/mbus/frame';
import type { TelegramSample } from './telegrams';

export type SlaveFault = 'none' | 'silent' | 'checksum' | 'collision';

export interface SlaveConfig {
  /** Primary address 0..250 (254/255 never answer as themselves). */
  primary: number;
  sample: TelegramSample;
  /** 8-digit identification number; default the captured one. */
  id?: string;
  /** Split the answer into two telegrams (the first ends with DIF 0x1F). */
  split?: boolean;
  fault?: SlaveFault;
  /**
   * Historic values: the counter at the last `count` period ends (storage numbers from
   * HISTORY_FIRST_STORAGE, the newest first, each with a type I date/time), kept also while faulted.
   * Sent in further telegrams after an application reset with subcode 0x3_ (enhanced billing), until SND_NKE.
   */
  history?: { periodSeconds: number; count: number };
}

/** History storage numbers start here, after the ones the captured telegrams use. */
export const HISTORY_FIRST_STORAGE = 32;
/** Historic value pairs (date + counter) per telegram. */
const HISTORY_PER_TELEGRAM = 10;

/** DIF (+ DIFEs) for a record with this storage number, keeping the data field and function of `dif` and the tariff/subunit bits of `difes`. */
export function storageDif(dif: number, difes: readonly number[], storage: number): number[] {
  const out = [(dif & 0x3f) | ((storage & 1) << 6)];
  const ext: number[] = [];
  for (let k = 0, rest = storage >> 1; rest > 0 || k < difes.length; k++, rest >>= 4) ext.push((difes[k] ?? 0) & 0x70 | (rest & 0x0f));
  for (let k = 0; k < ext.length; k++) out.push(ext[k] | (k < ext.length - 1 ? 0x80 : 0));
  if (ext.length) out[0] |= 0x80;
  return out;
}

/** EN 13757-3 type I (6 bytes): date and time to the second, wall clock read as UTC. */
export function encodeTypeI(time: number): number[] {
  const d = new Date(time);
  const y = d.getUTCFullYear() - 2000;
  return [d.getUTCSeconds(), d.getUTCMinutes(), d.getUTCHours(), d.getUTCDate() | ((y & 7) << 5), (d.getUTCMonth() + 1) | ((y >> 3) << 4), 0];
}

/** Bytes of the data field for a DIF's low nibble (0x0D variable and 0x0F special are handled apart). */
const DATA_LENGTH = [0, 1, 2, 3, 4, 4, 6, 8, 0, 1, 2, 3, 4, -1, 6, -1];

export interface RecordSpan { dif: number; start: number; valueAt: number; length: number; vif: number; storage0: boolean; instantaneous: boolean }

/**
 * Walks variable data records of user data (after the 12-byte long header) and returns their
 * spans up to the first DIF 0x0F/0x1F. Enough of EN 13757-3 to find a counter to patch.
 */
export function walkRecords(data: Buffer, from = 12): { records: RecordSpan[]; end: number } {
  const records: RecordSpan[] = [];
  let i = from;
  while (i < data.length) {
    const start = i;
    const dif = data[i++];
    if (dif === 0x2f) continue; // idle filler
    if ((dif & 0x0f) === 0x0f) return { records, end: start };
    let storage0 = (dif & 0x40) === 0;
    let ext = dif & 0x80;
    while (ext && i < data.length) { const dife = data[i++]; if (dife & 0x0f) storage0 = false; ext = dife & 0x80; }
    const vif = data[i++];
    if ((vif & 0x7f) === 0x7c) i += 1 + data[i]; // plain-text VIF
    ext = vif & 0x80;
    while (ext && i < data.length) ext = data[i++] & 0x80;
    let length = DATA_LENGTH[dif & 0x0f];
    const valueAt = i;
    if ((dif & 0x0f) === 0x0d) { const lvar = data[i]; length = 1 + (lvar < 0xc0 ? lvar : (lvar - 0xc0 + 1) >> 1); }
    i += length;
    records.push({ dif, start, valueAt, length, vif, storage0, instantaneous: (dif & 0x30) === 0 });
  }
  return { records, end: i };
}

/** The first current, instantaneous energy (Wh/J) or volume record: the counter that advances. */
export function counterRecord(data: Buffer): RecordSpan | undefined {
  return walkRecords(data).records.find((r) => r.storage0 && r.instantaneous && r.vif !== 0xfd && r.vif !== 0xfb && (r.vif & 0x7f) <= 0x17 && [1, 2, 3, 4, 6, 7, 9, 10, 11, 12, 14].includes(r.dif & 0x0f));
}

function isBcd(dif: number): boolean {
  return (dif & 0x0f) >= 0x09 && (dif & 0x0f) !== 0x0d;
}

export function readCounter(data: Buffer, r: RecordSpan): number {
  let v = 0;
  for (let k = r.length - 1; k >= 0; k--) {
    const b = data[r.valueAt + k];
    v = isBcd(r.dif) ? v * 100 + (b >> 4) * 10 + (b & 0x0f) : v * 256 + b;
  }
  return v;
}

export function writeCounter(data: Buffer, r: RecordSpan, value: number): void {
  const bcd = isBcd(r.dif);
  const modulo = bcd ? 100 ** r.length : 256 ** r.length;
  let v = Math.floor(value) % modulo;
  for (let k = 0; k < r.length; k++) {
    const byte = bcd ? (Math.floor((v % 100) / 10) << 4) | (v % 10) : v % 256;
    data[r.valueAt + k] = byte;
    v = Math.floor(v / (bcd ? 100 : 256));
  }
}

export class SimSlave {
  readonly primary: number;
  readonly address: SecondaryAddress;
  fault: SlaveFault;
  readonly split: boolean;
  /** User data after CI (header + records) as captured, with our id. */
  private readonly base: Buffer;
  private readonly ci: number;
  private readonly counter: RecordSpan | undefined;
  private readonly counterBase: number;
  private readonly started = Date.now();
  /** Multiplies elapsed time (tests and demos run faster than real meters). */
  speed = 1;
  selected = false;
  private lastFcb: boolean | null = null;
  private last: Buffer | null = null;
  private part = 0;
  private parts: Buffer[] = [];
  private access: number;
  /** Subcode of the last application reset (0x30: enhanced billing, with the historic values). */
  private selection = 0;
  readonly stats = { requests: 0, answers: 0, historyReads: 0 };

  constructor(readonly config: SlaveConfig) {
    const frame = parseHex(config.sample.hex);
    this.ci = frame[6];
    if (this.ci !== 0x72) throw new RangeError(`telegram ${config.sample.name} has CI 0x${this.ci.toString(16)}, the simulator needs 0x72`);
    this.base = Buffer.from(frame.subarray(7, frame.length - 2));
    if (config.id !== undefined) {
      if (!/^\d{8}$/.test(config.id)) throw new RangeError(`slave id ${JSON.stringify(config.id)} must be 8 digits`);
      for (let k = 0; k < 4; k++) this.base[k] = parseInt(config.id.slice(6 - 2 * k, 8 - 2 * k), 16);
    }
    if (!Number.isInteger(config.primary) || config.primary < 0 || config.primary > 250) throw new RangeError(`slave primary address ${JSON.stringify(config.primary)} must be 0..250`);
    this.primary = config.primary;
    const hexId = [3, 2, 1, 0].map((k) => this.base[k].toString(16).padStart(2, '0')).join('');
    this.address = { id: hexId, manufacturer: manufacturerName(this.base.readUInt16LE(4)), version: this.base[6], medium: this.base[7] };
    this.access = this.base[8];
    this.counter = counterRecord(this.base);
    this.counterBase = this.counter ? readCounter(this.base, this.counter) : 0;
    this.fault = config.fault ?? 'none';
    this.split = !!config.split;
  }

  /** Raw counts of the advancing counter now. */
  counterValue(now = Date.now()): number {
    return this.counterBase + Math.floor((((now - this.started) * this.speed) / 3_600_000) * this.config.sample.perHour);
  }

  /** SND_UD CI 0x50: the next readout holds what the subcode asks for (0x30 enhanced billing: with history). */
  applicationReset(subcode: number): void {
    this.selection = subcode & 0xf0;
    this.part = 0;
    this.last = null;
    this.lastFcb = null;
  }

  /** Period ends of the history, the newest first (at most `count`, none before the start). */
  historyTimes(now = Date.now()): number[] {
    const h = this.config.history;
    if (!h) return [];
    const every = h.periodSeconds * 1000;
    const out: number[] = [];
    for (let t = Math.floor(now / every) * every; out.length < h.count && t > this.started; t -= every) out.push(t);
    return out;
  }

  /** The history telegrams' user data after the header: date and counter per storage number. */
  private historyRecords(data: Buffer): Buffer[] {
    const c = this.counter;
    if (!c) return [];
    const first = data[c.start];
    const difes: number[] = [];
    let i = c.start + 1;
    if (first & 0x80) { do { difes.push(data[i]); } while (data[i++] & 0x80); }
    const vif = data.subarray(i, c.valueAt);
    const out: Buffer[] = [];
    let chunk: number[] = [];
    this.historyTimes().forEach((t, k) => {
      const storage = HISTORY_FIRST_STORAGE + k;
      const value = Buffer.alloc(c.length);
      writeCounter(value, { ...c, valueAt: 0 }, this.counterValue(t));
      chunk.push(...storageDif(0x06, [], storage), 0x6d, ...encodeTypeI(t));
      chunk.push(...storageDif(c.dif, difes, storage), ...vif, ...value);
      if ((k + 1) % HISTORY_PER_TELEGRAM === 0) { out.push(Buffer.from(chunk)); chunk = []; }
    });
    if (chunk.length) out.push(Buffer.from(chunk));
    return out;
  }

  /** SND_NKE or a new selection: the link restarts (next REQ_UD2 is new whatever its FCB) and the standard readout returns. */
  reset(): void {
    this.selection = 0;
    this.lastFcb = null;
    this.last = null;
    this.part = 0;
  }

  /** The RSP_UD for a REQ_UD2 with this FCB/FCV (null when the slave stays silent). */
  respond(c: number, a: number): Buffer | null {
    this.stats.requests++;
    if (this.fault === 'silent') return null;
    const fcv = (c & C.FCV) !== 0;
    const fcb = (c & C.FCB) !== 0;
    if (fcv && this.last && this.lastFcb === fcb) return this.last; // repeated request: the answer was lost
    if (this.part === 0 || this.part >= this.parts.length) { this.parts = this.buildParts(); this.part = 0; }
    let frame = encodeLong(C.RSP_UD, a, this.ci, this.parts[this.part++]);
    if (this.part >= this.parts.length) this.part = 0;
    if (this.fault === 'checksum') { frame = Buffer.from(frame); frame[frame.length - 2] ^= 0x5a; }
    this.lastFcb = fcv ? fcb : null;
    this.last = frame;
    this.stats.answers++;
    return frame;
  }

  private buildParts(): Buffer[] {
    const data = Buffer.from(this.base);
    if (this.counter) writeCounter(data, this.counter, this.counterValue());
    const { records } = walkRecords(data);
    const stamp = (d: Buffer) => { d[8] = this.access; this.access = (this.access + 1) & 0xff; return d; };
    const head = data.subarray(0, 12);
    let parts: Buffer[];
    if (!this.split || records.length < 2) parts = [data];
    else {
      const cut = records[Math.ceil(records.length / 2)].start;
      parts = [Buffer.concat([head, data.subarray(12, cut)]), Buffer.concat([head, data.subarray(cut)])];
    }
    if (this.selection === 0x30) {
      const history = this.historyRecords(data);
      if (history.length) this.stats.historyReads++;
      // The history follows the current records; a telegram's records end before any DIF 0x0F/0x1F tail.
      const last = parts.length - 1;
      const { end } = walkRecords(parts[last]);
      const tail = parts[last].subarray(end);
      parts[last] = parts[last].subarray(0, end);
      parts.push(...history.map((h) => Buffer.concat([head, h])));
      parts[parts.length - 1] = Buffer.concat([parts[parts.length - 1], tail]);
    }
    // Every telegram but the last says "more records follow" (DIF 0x1F).
    return parts.map((p, k) => stamp(k < parts.length - 1 ? Buffer.concat([p, Buffer.from([0x1f])]) : Buffer.from(p)));
  }
}
