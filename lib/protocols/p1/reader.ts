/**
 * Reads a P1 port continuously: a TCP bridge (ser2net, P1-to-WiFi dongles) or a serial port
 * (115200 8N1 for DSMR 4/5, 9600 7E1 for DSMR 2.2/3.0). Emits 'frame' per complete telegram,
 * 'state' on connection changes and 'error' for connection problems; reconnects with a doubling
 * backoff, and drops a connection that stays silent for `idleTimeoutMs`.
 */
import { EventEmitter } from 'node:events';
import net from 'node:net';
import { TelegramExtractor, type ExtractorOptions } from './extractor';

export interface P1SerialSettings {
  baudRate: number;
  dataBits: 7 | 8;
  parity: 'none' | 'even';
  stopBits: 1;
}

export const SERIAL_DSMR4: P1SerialSettings = { baudRate: 115200, dataBits: 8, parity: 'none', stopBits: 1 };
export const SERIAL_DSMR2: P1SerialSettings = { baudRate: 9600, dataBits: 7, parity: 'even', stopBits: 1 };

export interface P1ReaderOptions extends ExtractorOptions {
  /** TCP bridge host, or a serial device path (starts with "/", or COMn). */
  host: string;
  port?: number;
  serial?: P1SerialSettings;
  /** No byte for this long: the connection is dropped and made again (default 60 s). */
  idleTimeoutMs?: number;
  /** First and longest wait before reconnecting (default 1 s and 60 s). */
  backoffMs?: number;
  maxBackoffMs?: number;
}

/** This many bytes without a telegram means the stream is not what we expect (several telegrams' worth). */
const NO_TELEGRAM_BYTES = 32 * 1024;

export type P1ReaderState = 'connecting' | 'connected' | 'waiting' | 'closed';

interface Connection { destroy(): void }

export function isSerialDevice(host: string): boolean {
  return host.startsWith('/') || /^COM\d+$/i.test(host);
}

export class P1Reader extends EventEmitter {
  private conn?: Connection;
  private timer?: NodeJS.Timeout;
  private idle?: NodeJS.Timeout;
  private backoff: number;
  private closed = false;
  /** Bytes received since the last complete telegram. */
  private unframed = 0;
  private extractor: TelegramExtractor;
  state: P1ReaderState = 'waiting';

  constructor(readonly o: P1ReaderOptions) {
    super();
    this.backoff = o.backoffMs ?? 1000;
    this.extractor = new TelegramExtractor(o);
  }

  /** Where it reads from, for messages. */
  get name(): string {
    return isSerialDevice(this.o.host) ? this.o.host : `${this.o.host}:${this.o.port}`;
  }

  start(): void {
    if (!this.conn && !this.closed) this.connect();
  }

  private setState(s: P1ReaderState, detail?: string): void {
    this.state = s;
    this.emit('state', s, detail);
  }

  private connect(): void {
    this.timer = undefined;
    this.extractor = new TelegramExtractor(this.o);
    this.unframed = 0;
    this.setState('connecting');
    try {
      this.conn = isSerialDevice(this.o.host) ? this.openSerial() : this.openTcp();
    } catch (e) {
      this.lost(e as Error);
    }
  }

  private received(d: Buffer): void {
    this.armIdle();
    const frames = this.extractor.push(d);
    this.unframed = frames.length ? 0 : this.unframed + d.length;
    if (this.unframed > NO_TELEGRAM_BYTES) {
      this.unframed = -Infinity; // once until the next telegram
      this.emit('error', new Error(`${this.name}: ${NO_TELEGRAM_BYTES / 1024} KiB received without a complete ${this.o.encrypted ? 'encrypted frame (0xDB)' : 'telegram ("/" ... "!")'}: ${this.o.encrypted ? 'is the meter really encrypted?' : 'an encrypted meter needs its key;'} check the serial speed and that this is a P1 port`));
    }
    for (const frame of frames) {
      this.backoff = this.o.backoffMs ?? 1000; // a whole telegram: the link works
      this.emit('frame', frame);
    }
  }

  private armIdle(): void {
    clearTimeout(this.idle);
    const ms = this.o.idleTimeoutMs ?? 60_000;
    if (ms > 0) this.idle = setTimeout(() => this.lost(new Error(`${this.name}: no data for ${ms / 1000} s; reconnecting`)), ms);
  }

  private opened(): void {
    this.setState('connected');
    this.armIdle();
  }

  /** The connection failed or ended: report it and try again after the backoff. */
  private lost(err: Error): void {
    clearTimeout(this.idle);
    const c = this.conn;
    this.conn = undefined;
    c?.destroy();
    if (this.closed || this.timer) return;
    this.emit('error', err);
    const wait = this.backoff;
    this.backoff = Math.min(this.backoff * 2, this.o.maxBackoffMs ?? 60_000);
    this.setState('waiting', `retry in ${Math.round(wait / 100) / 10} s`);
    this.timer = setTimeout(() => this.connect(), wait);
  }

  private openTcp(): Connection {
    const port = this.o.port;
    if (!Number.isInteger(port) || port! < 1 || port! > 65535) throw new Error(`port ${JSON.stringify(port)} must be 1..65535`);
    const socket = net.connect({ host: this.o.host, port: port! });
    socket.setKeepAlive(true, 30_000);
    socket.on('connect', () => this.opened());
    socket.on('data', (d: Buffer) => { if (this.conn === conn) this.received(d); });
    socket.on('error', (e) => { if (this.conn === conn) this.lost(new Error(`${this.name}: ${e.message}`)); });
    socket.on('close', () => { if (this.conn === conn) this.lost(new Error(`${this.name}: connection closed by the bridge`)); });
    const conn = { destroy: () => socket.destroy() };
    return conn;
  }

  private openSerial(): Connection {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { SerialPort } = require('serialport') as typeof import('serialport');
    const s = this.o.serial ?? SERIAL_DSMR4;
    const port = new SerialPort({ path: this.o.host, baudRate: s.baudRate, dataBits: s.dataBits, parity: s.parity, stopBits: s.stopBits }, (e) => {
      if (this.conn !== conn) return;
      if (e) this.lost(new Error(`${this.name}: ${e.message}`));
      else this.opened();
    });
    port.on('data', (d: Buffer) => { if (this.conn === conn) this.received(d); });
    port.on('error', (e: Error) => { if (this.conn === conn) this.lost(new Error(`${this.name}: ${e.message}`)); });
    port.on('close', () => { if (this.conn === conn) this.lost(new Error(`${this.name}: port closed`)); });
    const conn = { destroy: () => { if (port.isOpen) port.close(() => undefined); } };
    return conn;
  }

  /** Stops reading and releases the socket or port. */
  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.timer);
    clearTimeout(this.idle);
    const c = this.conn;
    this.conn = undefined;
    c?.destroy();
    this.setState('closed');
  }
}
