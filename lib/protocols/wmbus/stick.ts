/**
 * A wireless M-Bus receiver on a serial port: an IMST iM871A stick (HCI frames, configured to a link mode
 * when the port opens) or a stick/bridge printing one hex telegram per line. Emits 'telegram' for every
 * telegram received, 'state' on open/close/configuration, 'failure' with the reason of a problem; a port
 * that fails or closes is reopened with a doubling backoff.
 */
import { EventEmitter } from 'node:events';
import { WmbusDecodeError } from './errors';
import { encodeSetLinkMode, HCI_ENDPOINT, HCI_MSG, HciReader, hciTelegram, IM871A_BAUD, IM871A_LINK_MODES, type Im871aLinkMode } from './im871a';
import { parseReceived } from './input';

export type StickType = 'im871a' | 'hex-lines';
export const STICK_TYPES: readonly StickType[] = ['im871a', 'hex-lines'];

export interface WmbusStickOptions {
  path: string;
  stick: StickType;
  /** Default 57600 (iM871A), 9600 for hex lines. */
  baudRate?: number;
  /** iM871A link mode; default T1. */
  linkMode?: Im871aLinkMode;
  backoff?: { minMs: number; maxMs: number };
  /** How long to wait for the stick's answer to the configuration request (default 3 s). */
  configTimeoutMs?: number;
}

export interface StickReceived { bytes: Buffer; rssi?: number; mode?: string }
export type StickState = 'connecting' | 'connected' | 'configured' | 'disconnected';

/** Longest hex line accepted (a 255-byte telegram with CRCs as hex is well below). */
const MAX_LINE = 4096;

interface PortLike {
  isOpen: boolean;
  on(e: 'data', f: (d: Buffer) => void): void;
  on(e: 'error', f: (e: Error) => void): void;
  on(e: 'close', f: () => void): void;
  write(d: Buffer, cb?: (e?: Error | null) => void): boolean;
  close(cb?: (e?: Error | null) => void): void;
}

export function validateStickOptions(o: WmbusStickOptions): void {
  if (!o.path || typeof o.path !== 'string') throw new Error('serial device path is empty');
  if (!STICK_TYPES.includes(o.stick)) throw new Error(`stick type ${JSON.stringify(o.stick)} is not one of ${STICK_TYPES.join(', ')}`);
  if (o.baudRate !== undefined && !(Number.isInteger(o.baudRate) && o.baudRate >= 300 && o.baudRate <= 921_600)) throw new Error(`baud rate ${JSON.stringify(o.baudRate)} must be 300..921600`);
  if (o.linkMode !== undefined && !(o.linkMode in IM871A_LINK_MODES)) throw new Error(`link mode ${JSON.stringify(o.linkMode)} is not one of ${Object.keys(IM871A_LINK_MODES).join(', ')}`);
}

export class WmbusStick extends EventEmitter {
  state: StickState = 'disconnected';
  telegrams = 0;
  private port?: PortLike;
  private retry?: NodeJS.Timeout;
  private configTimer?: NodeJS.Timeout;
  private delay: number;
  private stopped = false;

  constructor(readonly o: WmbusStickOptions) {
    super();
    validateStickOptions(o);
    this.delay = o.backoff?.minMs ?? 1000;
  }

  get baudRate(): number {
    return this.o.baudRate ?? (this.o.stick === 'im871a' ? IM871A_BAUD : 9600);
  }

  start(): void {
    this.stopped = false;
    if (!this.port && !this.retry) this.open();
  }

  private setState(s: StickState, why?: string): void {
    this.state = s;
    this.emit('state', s, why);
  }

  private received(r: StickReceived): void {
    this.telegrams++;
    this.emit('telegram', r);
  }

  private open(): void {
    this.retry = undefined;
    this.setState('connecting');
    // serialport is loaded lazily: users without a stick never need its native bindings.
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { SerialPort } = require('serialport') as { SerialPort: new (o: object, cb: (e: Error | null) => void) => PortLike };
    let closed = false;
    const onClose = (why: string) => {
      if (closed) return;
      closed = true;
      clearTimeout(this.configTimer);
      this.port = undefined;
      if (this.stopped) { this.setState('disconnected', why); return; }
      this.retry = setTimeout(() => this.open(), this.delay);
      this.setState('disconnected', `${why}; retry in ${Math.round(this.delay / 100) / 10} s`);
      this.delay = Math.min(this.delay * 2, this.o.backoff?.maxMs ?? 60_000);
    };
    const port = new SerialPort({ path: this.o.path, baudRate: this.baudRate, dataBits: 8, parity: 'none', stopBits: 1 }, (err) => {
      if (err) {
        this.emit('failure', new Error(`cannot open serial port ${this.o.path}: ${err.message}`));
        onClose(`cannot open: ${err.message.replace(/^Error: /, '')}`);
        return;
      }
      if (this.stopped) { port.close(() => undefined); return; }
      this.delay = this.o.backoff?.minMs ?? 1000;
      this.setState('connected');
      if (this.o.stick === 'im871a') this.configure(port);
    });
    this.port = port;
    port.on('data', this.o.stick === 'im871a' ? this.hciHandler() : this.lineHandler());
    port.on('error', (e: Error) => this.emit('failure', new Error(`serial port ${this.o.path}: ${e.message}`)));
    port.on('close', () => onClose('port closed'));
  }

  private configure(port: PortLike): void {
    const mode = this.o.linkMode ?? 'T1';
    port.write(encodeSetLinkMode(mode), (e) => { if (e) this.emit('failure', new Error(`cannot write the link mode request to ${this.o.path}: ${e.message}`)); });
    const ms = this.o.configTimeoutMs ?? 3000;
    this.configTimer = setTimeout(() => {
      this.emit('failure', new Error(`iM871A on ${this.o.path} did not answer the request for link mode ${mode} within ${ms} ms; receiving in the mode it has`));
    }, ms);
  }

  private hciHandler(): (d: Buffer) => void {
    const reader = new HciReader();
    return (d) => {
      for (const e of reader.push(d)) {
        if (e.error) { this.emit('failure', e.error); continue; }
        const f = e.frame;
        if (f.endpoint === HCI_ENDPOINT.devmgmt && f.msgId === HCI_MSG.setConfigRsp) {
          clearTimeout(this.configTimer);
          this.setState('configured', `link mode ${this.o.linkMode ?? 'T1'}`);
          continue;
        }
        try {
          const t = hciTelegram(f);
          if (t) this.received({ bytes: t.bytes, rssi: t.rssi, mode: this.o.linkMode ?? 'T1' });
        } catch (err) { this.emit('failure', err as Error); }
      }
    };
  }

  private lineHandler(): (d: Buffer) => void {
    let pending = '';
    return (d) => {
      pending += d.toString('latin1');
      const lines = pending.split(/\r?\n/);
      pending = lines.pop() ?? '';
      if (pending.length > MAX_LINE) {
        this.emit('failure', new WmbusDecodeError(`line of more than ${MAX_LINE} characters without a newline from ${this.o.path}; dropped`));
        pending = '';
      }
      for (const line of lines) {
        if (line.trim() === '') continue;
        try {
          const r = parseReceived(line);
          this.received({ bytes: r.bytes, rssi: r.rssi, mode: r.mode });
        } catch (err) { this.emit('failure', err as Error); }
      }
    };
  }

  /** Stops for good: closes the port and cancels retries. */
  close(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.retry);
    this.retry = undefined;
    clearTimeout(this.configTimer);
    const port = this.port;
    if (!port) return Promise.resolve();
    return new Promise((resolve) => {
      const t = setTimeout(resolve, 2000);
      this.once('state', () => { clearTimeout(t); resolve(); });
      if (port.isOpen) port.close(() => undefined);
      else { clearTimeout(t); this.port = undefined; resolve(); }
    });
  }
}
