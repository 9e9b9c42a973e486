/**
 * The simulated meter's push (a customer port, or a DLMS push setup to a head end): every interval a
 * DataNotification with the clock, 1.8.0 / 2.8.0 (Wh), 1.7.0 / 2.7.0 (W) and 32.7.0 (V, 0.1 V) from
 * the meter physics, plain or general-glo-ciphered (the invocation counter rises with every push),
 * framed as HDLC UI frames, a wrapper PDU or M-Bus long frames. Written to a TCP address (reconnecting
 * every second while it is down) and/or to a line (the simulator's serial pty).
 */
import net from 'node:net';
import { encodePush, type PushValue } from '../../protocols/dlms/push-encode';
import type { SecurityKeys } from '../../protocols/dlms/security';
import type { MeterPhysics } from '../../protocols/dlms/server-energy';

export type PushCipherMode = 'none' | 'encrypted' | 'authenticated';

export interface SimPushOptions {
  intervalMs: number;
  framing: 'hdlc' | 'wrapper' | 'mbus';
  cipher: PushCipherMode;
  /** TCP address to push to. */
  to?: { host: string; port: number };
  /** Push out of the simulator's serial line too. */
  serial?: boolean;
}

export interface SimPushMeter {
  physics: MeterPhysics;
  meterNow(): number;
  utcOffsetMinutes: number;
  keys: SecurityKeys;
  systemTitle: Buffer;
  /** Where the serial pty is, when open: a writer. */
  serialWrite?: (b: Buffer) => void;
  /** Is the meter silent (offline fault)? */
  offline(): boolean;
}

/** The values a push carries at `t`. */
export function pushValues(p: MeterPhysics, t: number): PushValue[] {
  return [
    { obis: '1-0:1.8.0', raw: Math.round(p.importWh(t)), scaler: 0, unit: 30 },
    { obis: '1-0:2.8.0', raw: Math.round(p.exportWh(t)), scaler: 0, unit: 30 },
    { obis: '1-0:1.7.0', raw: Math.round(p.importW(t)), scaler: 0, unit: 27 },
    { obis: '1-0:2.7.0', raw: Math.round(p.exportW(t)), scaler: 0, unit: 27 },
    { obis: '1-0:32.7.0', raw: Math.round(p.voltage(t) * 10), scaler: -1, unit: 35 },
  ];
}

export class SimPusher {
  /** Invocation counter of the next ciphered push; starts above any earlier run's (seconds since 2020). */
  counter = Math.floor((Date.now() - Date.UTC(2020, 0, 1)) / 1000);
  sent = 0;
  private timer?: NodeJS.Timeout;
  private retry?: NodeJS.Timeout;
  private socket?: net.Socket;
  private closed = false;

  constructor(private readonly o: SimPushOptions, private readonly m: SimPushMeter) {}

  start(): void {
    if (this.o.to) this.connect();
    this.timer = setInterval(() => this.pushNow(), this.o.intervalMs);
  }

  /** The next telegram (also what the interval sends). */
  telegram(): Buffer {
    const t = this.m.meterNow();
    const cipher = this.o.cipher === 'none' ? undefined
      : { keys: this.m.keys, systemTitle: this.m.systemTitle, invocationCounter: this.counter++, securityControl: this.o.cipher === 'authenticated' ? 0x30 : 0x20 };
    return encodePush({ values: pushValues(this.m.physics, t), time: Math.floor(t / 1000) * 1000, utcOffsetMinutes: this.m.utcOffsetMinutes, framing: this.o.framing, cipher });
  }

  pushNow(): void {
    if (this.m.offline()) return;
    const bytes = this.telegram();
    if (this.o.serial && this.m.serialWrite) this.m.serialWrite(bytes);
    if (this.socket && !this.socket.destroyed && !this.socket.connecting) this.socket.write(bytes);
    this.sent++;
  }

  private connect(): void {
    if (this.closed || !this.o.to) return;
    const s = net.connect(this.o.to);
    this.socket = s;
    s.on('error', () => s.destroy());
    s.on('data', () => undefined); // a head end may answer; a push setup ignores it
    s.on('close', () => {
      if (this.socket === s) this.socket = undefined;
      if (!this.closed) this.retry = setTimeout(() => this.connect(), 1000);
    });
  }

  close(): void {
    this.closed = true;
    clearInterval(this.timer);
    clearTimeout(this.retry);
    this.socket?.destroy();
  }
}
