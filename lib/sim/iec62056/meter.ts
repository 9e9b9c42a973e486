/**
 * A simulated IEC 62056-21 meter on one byte stream: answers a sign-on with its identification,
 * mode C option select (readout, or programming with P0/P1, R1, W1, B0), mode B/A readouts, and
 * switches speed as the protocol says (on a serial port; on TCP only the agreed speed is recorded).
 */
import {
  ACK, NAK, SOH, STX, blockEnd, command, dataMessage, parseAckOption, parseBlock, parseIdentification, MODE_C_BAUD,
} from '../../protocols/iec62056-21/frame';
import { toLocal, fromLocal } from '../../model/time';
import { parseProfileTime, profileRequestTime } from '../../protocols/iec62056-21/load-profile';
import type { Formatters, MeterState, SimMeterProfile } from './meters';

export type IecFault = 'dead' | 'bcc' | 'slow';

export interface SimMeterOptions {
  profile: SimMeterProfile;
  /** Device address answering "/?<address>!" (an empty sign-on address always matches). */
  address: string;
  serial?: string;
  /** P1 password, default "00000000". */
  password?: string;
  /** Meter clock minus real time at start, ms (a drifting clock). */
  clockOffsetMs?: number;
  /** Simulated hours per real hour for the counters. */
  speed?: number;
  timeZone?: string;
  fault?: IecFault;
  /** Load profile period in seconds (default 900); under a minute is written "(N*s)" (fast tests). */
  profilePeriodSeconds?: number;
  /** Answers a sign-on without address (default true; on a shared bus only the first meter does). */
  primary?: boolean;
  now?: () => number;
}

export interface SimStats {
  signOns: number;
  readouts: number;
  /** Speeds agreed, in order (300 sign-on, then the selected one). */
  bauds: number[];
  passwordsRefused: number;
  writes: { address: string; value: string }[];
  /** R5 P.01 requests answered (the data set as received). */
  profileReads: string[];
}

export interface StreamIO {
  write(data: Buffer): void;
  /** Changes the port speed (serial only). */
  setBaud?(baud: number): Promise<void> | void;
}

/** One meter; `connect` gives the per-connection handler. The clock and counters are shared. */
export class SimIecMeter {
  readonly stats: SimStats = { signOns: 0, readouts: 0, bauds: [], passwordsRefused: 0, writes: [], profileReads: [] };
  /** Meter-clock times at which the clock was set (W1 0.9.1/0.9.2): their periods carry status 0x20. */
  private readonly clockSets: number[] = [];
  clockOffsetMs: number;
  private readonly started: number;
  private readonly now: () => number;

  constructor(readonly o: SimMeterOptions) {
    this.now = o.now ?? Date.now;
    this.started = this.now();
    this.clockOffsetMs = o.clockOffsetMs ?? 0;
  }

  /** Switches a fault on (or off with undefined) while the simulator runs. */
  setFault(fault: IecFault | undefined): void {
    this.o.fault = fault;
  }

  get clock(): number {
    return this.now() + this.clockOffsetMs;
  }

  state(): MeterState {
    return { clock: this.clock, hours: ((this.now() - this.started) / 3_600_000) * (this.o.speed ?? 1), serial: this.o.serial ?? '12345678' };
  }

  /** The readout's data block lines (without STX, "!" and ETX). */
  readoutBlock(): string {
    const s = this.state();
    const tz = this.o.timeZone ?? 'UTC';
    const l = toLocal(s.clock, tz);
    const p = (x: number) => String(x).padStart(2, '0');
    const f: Formatters = {
      time: () => `${p(l.hour)}${p(l.minute)}${p(l.second)}`,
      date: () => `${p(l.year % 100)}${p(l.month)}${p(l.day)}`,
      counter: (base, rate, int, dec) => {
        const x = (base + rate * s.hours).toFixed(dec);
        const [i, d] = x.split('.');
        return i.padStart(int, '0') + (d ? `.${d}` : '');
      },
    };
    return this.o.profile.sets.map((d) => `${d.address}${d.values(s, f).map((x) => `(${x})`).join('')}\r\n`).join('');
  }

  /** Counter value of a profile channel at meter-clock time t (the counters run on real time since the start). */
  private profileValue(c: { base: number; rate: number; dec: number }, t: number): string {
    const hours = ((t - this.clockOffsetMs - this.started) / 3_600_000) * (this.o.speed ?? 1);
    return (c.base + c.rate * Math.max(0, hours)).toFixed(c.dec);
  }

  /**
   * The P.01 answer for [from, to] (meter local time, either side may be open): one record per period
   * end the meter has lived through, also while a fault kept it from answering. A new header starts
   * where the status word changes. At most 20,000 records (the newest).
   */
  loadProfileText(request: string): string | null {
    const channels = this.o.profile.loadProfile;
    const m = /^P\.01\((\d*);(\d*)\)$/.exec(request);
    if (!channels || !m) return null;
    const tz = this.o.timeZone ?? 'UTC';
    const every = (this.o.profilePeriodSeconds ?? 900) * 1000;
    const first = Math.ceil((this.started + this.clockOffsetMs + 1) / every) * every;
    const now = this.clock;
    let from = m[1] ? parseProfileTime(m[1], tz) : first;
    const to = Math.min(m[2] ? parseProfileTime(m[2], tz) : now, now);
    from = Math.max(first, Math.ceil(from / every) * every, Math.floor(to / every) * every - 19_999 * every);
    const period = every % 60_000 === 0 ? String(every / 60_000) : `${every / 1000}*s`;
    const status = (t: number) => (this.clockSets.some((c) => c > t - every && c <= t) ? '20' : '00');
    const stamp = (t: number) => `${profileRequestTime(t, tz)}${String(toLocal(t, tz).second).padStart(2, '0')}`;
    let out = '';
    let last: string | null = null;
    for (let t = from; t <= to; t += every) {
      const st = status(t);
      if (st !== last) {
        out += `P.01(${stamp(t)})(${st})(${period})(${channels.length})${channels.map((c) => `(${c.obis})(${c.unit})`).join('')}\r\n`;
        last = st;
      }
      out += `${channels.map((c) => `(${this.profileValue(c, t)})`).join('')}\r\n`;
    }
    if (last === null) out = `P.01(${stamp(to)})(00)(${period})(${channels.length})${channels.map((c) => `(${c.obis})(${c.unit})`).join('')}\r\n`;
    return out;
  }

  private setClockPart(address: string, value: string): boolean {
    const tz = this.o.timeZone ?? 'UTC';
    const l = toLocal(this.clock, tz);
    const digits = value.replace(/:/g, '');
    if (!/^\d{6,7}$/.test(digits)) return false;
    const d = digits.slice(-6);
    const [a, b, c] = [0, 2, 4].map((k) => Number(d.slice(k, k + 2)));
    const next = address.endsWith('0.9.1') ? { ...l, hour: a, minute: b, second: c } : { ...l, year: 2000 + a, month: b, day: c };
    if (next.month < 1 || next.month > 12 || next.day < 1 || next.day > 31 || next.hour > 23 || next.minute > 59 || next.second > 59) return false;
    this.clockOffsetMs = fromLocal(next, tz) - this.now();
    this.clockSets.push(this.clock);
    return true;
  }

  /** A handler for one stream (a TCP connection, a serial port). */
  connect(io: StreamIO): { input(data: Buffer): void; close(): void } {
    let buf = Buffer.alloc(0);
    let phase: 'idle' | 'ident' | 'p0' | 'programming' = 'idle';
    let baudChar = '0';
    let authorised = false;
    let mode: 'A' | 'B' | 'C' = 'A';
    const timers = new Set<NodeJS.Timeout>();
    const id = parseIdentification(`/${this.o.profile.identification}`);
    const fast = id.fast;
    const later = (ms: number, fn: () => void) => {
      const t = setTimeout(() => { timers.delete(t); fn(); }, this.o.fault === 'slow' ? ms + 5000 : ms);
      timers.add(t);
    };
    const setBaud = async (b: number) => {
      this.stats.bauds.push(b);
      await io.setBaud?.(b);
    };
    const send = (b: Buffer) => io.write(b);
    const readoutMessage = () => {
      const msg = dataMessage(`${this.readoutBlock()}!\r\n`);
      if (this.o.fault === 'bcc') msg[msg.length - 1] ^= 0x55;
      this.stats.readouts++;
      return msg;
    };
    const reset = () => { phase = 'idle'; authorised = false; void setBaud(300); };

    const step = (): boolean => {
      if (phase === 'idle' || phase === 'ident') {
        const start = buf.indexOf('/?');
        const start2 = buf[0] === ACK ? 0 : -1;
        if (phase === 'ident' && start2 === 0) {
          const end = buf.indexOf('\r\n');
          if (end < 0) return false;
          const line = buf.subarray(0, end + 2);
          buf = buf.subarray(end + 2);
          let opt;
          try { opt = parseAckOption(line); } catch { reset(); return true; }
          baudChar = opt.baudChar in MODE_C_BAUD && MODE_C_BAUD[opt.baudChar] <= id.baud ? opt.baudChar : '0';
          const baud = MODE_C_BAUD[baudChar];
          later(fast ? 20 : 200, async () => {
            if (baud !== 300) await setBaud(baud);
            if (opt.programming) {
              phase = 'p0';
              send(command('P0', `(${this.o.serial ?? '12345678'})`));
              phase = 'programming';
            } else {
              send(readoutMessage());
              later(50, reset);
            }
          });
          return true;
        }
        if (start < 0) { if (buf.length > 256) buf = Buffer.alloc(0); return false; }
        const end = buf.indexOf('!\r\n', start);
        if (end < 0) return false;
        const address = buf.toString('latin1', start + 2, end);
        buf = buf.subarray(end + 3);
        this.stats.signOns++;
        if (this.o.fault === 'dead') return true;
        if (address === '' ? this.o.primary === false : address !== this.o.address) return true; // another meter on the bus
        mode = id.mode;
        this.stats.bauds.push(300);
        later(fast ? 20 : 200, async () => {
          send(Buffer.from(`/${this.o.profile.identification}\r\n`, 'latin1'));
          if (mode === 'C') { phase = 'ident'; return; }
          if (mode === 'B') await setBaud(id.baud);
          later(mode === 'B' ? 200 : 20, () => { send(readoutMessage()); later(50, reset); });
        });
        return true;
      }
      // programming mode: SOH commands with BCC
      if (buf.length && buf[0] !== SOH && buf[0] !== STX) { buf = buf.subarray(1); return true; }
      const end = blockEnd(buf);
      if (end < 0) return false;
      const frame = buf.subarray(0, end);
      buf = buf.subarray(end);
      let block;
      try { block = parseBlock(frame); } catch { send(Buffer.from([NAK])); return true; }
      const cmd = block.command ?? '';
      if (cmd === 'B0') { reset(); return true; }
      if (cmd === 'P1') {
        const pw = /^\((.*)\)$/.exec(block.data)?.[1];
        authorised = pw === (this.o.password ?? '00000000');
        if (!authorised) this.stats.passwordsRefused++;
        send(Buffer.from([authorised ? ACK : NAK]));
        return true;
      }
      const m = /^([^()]+)\((.*)\)$/.exec(block.data);
      if (cmd === 'R1' && m) {
        const address = m[1];
        const line = this.readoutBlock().split('\r\n').find((l) => l.startsWith(`${address}(`) || l.replace(/^\d+-\d+:/, '').replace(/\*255\(/, '(').startsWith(`${address}(`));
        if (!line) { send(Buffer.from([NAK])); return true; }
        send(dataMessage(line.slice(line.indexOf('('))));
        return true;
      }
      if (cmd === 'R5' && m && m[1] === 'P.01') {
        const text = authorised || (this.o.password ?? '00000000') === '' ? this.loadProfileText(block.data) : null;
        if (text === null) { send(Buffer.from([NAK])); return true; }
        this.stats.profileReads.push(block.data);
        send(dataMessage(text));
        return true;
      }
      if (cmd === 'W1' && m) {
        if (!authorised || !/(^|:)0\.9\.[12]$/.test(m[1]) || !this.setClockPart(m[1], m[2])) { send(Buffer.from([NAK])); return true; }
        this.stats.writes.push({ address: m[1], value: m[2] });
        send(Buffer.from([ACK]));
        return true;
      }
      send(Buffer.from([NAK]));
      return true;
    };

    return {
      input: (data: Buffer) => {
        buf = Buffer.concat([buf, Buffer.from(data.map((b) => b & 0x7f))]);
        while (buf.length && step()) { /* consume */ }
      },
      close: () => { for (const t of timers) clearTimeout(t); timers.clear(); },
    };
  }
}
