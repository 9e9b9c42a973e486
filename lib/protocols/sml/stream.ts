/**
 * A live SML source: a TCP connection to an IR-head bridge or a serial IR head (9600 8N1 default),
 * decoded into telegrams. Reconnects with exponential backoff (reset by a good telegram), reconnects
 * when the meter stays silent, and holds at most one frame (maxFrameBytes) of received bytes.
 * One stream per endpoint is shared by reference count (a serial port opens once).
 */
import { EventEmitter } from 'node:events';
import net from 'node:net';
import { SmlTelegramReader, type SmlTelegram } from './telegram';

export interface SmlStreamOptions {
  /** Host name or IP of the bridge, or a serial device path (/dev/..., COMn). */
  host: string;
  port?: number;
  /** Serial speed, default 9600 (8 data bits, no parity, 1 stop bit). */
  baudRate?: number;
  /** Reconnect when no valid telegram arrives for this long (default 60 s; 0 = never). */
  silenceMs?: number;
  /** Reconnect delays: from minMs doubling up to maxMs. */
  backoff?: { minMs: number; maxMs: number };
  connectTimeoutMs?: number;
  maxFrameBytes?: number;
}

export type SmlStreamState = 'connecting' | 'connected' | 'disconnected';

interface Conn { destroy(): void }

export const isSerialPath = (host: string) => host.startsWith('/') || /^COM\d+$/i.test(host);

export function endpointKey(o: SmlStreamOptions): string {
  return isSerialPath(o.host) ? `serial:${o.host}` : `tcp:${o.host}:${o.port}`;
}

/** Events: 'telegram' (SmlTelegram), 'failure' (Error; not 'error', which throws without a listener), 'state' (SmlStreamState, reason?). */
export class SmlStream extends EventEmitter {
  state: SmlStreamState = 'disconnected';
  private conn?: Conn;
  private retry?: NodeJS.Timeout;
  private silence?: NodeJS.Timeout;
  private delay: number;
  private stopped = false;
  readonly name: string;

  constructor(readonly o: SmlStreamOptions) {
    super();
    if (!o.host) throw new Error('host is empty: give a bridge host or a serial device path');
    if (!isSerialPath(o.host) && !(Number.isInteger(o.port) && o.port! >= 1 && o.port! <= 65535)) throw new Error(`port ${JSON.stringify(o.port)} must be 1..65535`);
    this.delay = o.backoff?.minMs ?? 1000;
    this.name = isSerialPath(o.host) ? o.host : `${o.host}:${o.port}`;
  }

  start(): void {
    if (!this.conn && !this.retry && !this.stopped) this.connect();
  }

  private setState(s: SmlStreamState, reason?: string): void {
    this.state = s;
    this.emit('state', s, reason);
  }

  private connect(): void {
    this.retry = undefined;
    this.setState('connecting');
    const reader = new SmlTelegramReader(this.o.maxFrameBytes);
    const onData = (d: Buffer) => {
      for (const e of reader.push(d)) {
        if (e.telegram) { this.delay = this.o.backoff?.minMs ?? 1000; this.armSilence(); this.emit('telegram', e.telegram); }
        else this.emit('failure', new Error(`${this.name}: ${e.error.message}`));
      }
    };
    let closed = false;
    const onClose = (why: string) => {
      if (closed) return;
      closed = true;
      this.conn = undefined;
      clearTimeout(this.silence);
      this.setState('disconnected', why);
      if (!this.stopped) {
        this.retry = setTimeout(() => this.connect(), this.delay);
        this.delay = Math.min(this.delay * 2, this.o.backoff?.maxMs ?? 60_000);
      }
    };
    const onOpen = () => { this.setState('connected'); this.armSilence(); };
    this.conn = isSerialPath(this.o.host) ? this.openSerial(onOpen, onData, onClose) : this.openTcp(onOpen, onData, onClose);
  }

  private openTcp(onOpen: () => void, onData: (d: Buffer) => void, onClose: (why: string) => void): Conn {
    const socket = net.connect({ host: this.o.host, port: this.o.port! });
    const timer = setTimeout(() => socket.destroy(new Error(`connecting timed out after ${this.o.connectTimeoutMs ?? 10_000} ms`)), this.o.connectTimeoutMs ?? 10_000);
    socket.once('connect', () => { clearTimeout(timer); onOpen(); });
    socket.on('data', onData);
    socket.on('error', (e) => this.emit('failure', new Error(`${this.name}: ${e.message}`)));
    socket.on('close', () => { clearTimeout(timer); onClose('connection closed'); });
    return { destroy: () => socket.destroy() };
  }

  private openSerial(onOpen: () => void, onData: (d: Buffer) => void, onClose: (why: string) => void): Conn {
    // serialport is loaded lazily: TCP-only users never need its native bindings.
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { SerialPort } = require('serialport') as typeof import('serialport');
    const port = new SerialPort({ path: this.o.host, baudRate: this.o.baudRate ?? 9600, dataBits: 8, parity: 'none', stopBits: 1 }, (err) => {
      if (err) { this.emit('failure', new Error(`cannot open serial port ${this.o.host}: ${err.message}`)); onClose('open failed'); } else onOpen();
    });
    port.on('data', onData);
    port.on('error', (e: Error) => this.emit('failure', new Error(`${this.name}: ${e.message}`)));
    port.on('close', () => onClose('port closed'));
    return { destroy: () => { if (port.isOpen) port.close(() => undefined); else onClose('closed'); } };
  }

  private armSilence(): void {
    clearTimeout(this.silence);
    const ms = this.o.silenceMs ?? 60_000;
    if (ms > 0) {
      this.silence = setTimeout(() => {
        this.emit('failure', new Error(`${this.name}: no valid SML telegram within ${Math.round(ms / 1000)} s; reconnecting`));
        this.conn?.destroy();
      }, ms);
    }
  }

  /** Stops for good: closes the connection and cancels retries. */
  close(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.retry);
    clearTimeout(this.silence);
    const c = this.conn;
    if (!c) return Promise.resolve();
    return new Promise((resolve) => {
      const t = setTimeout(resolve, 2000);
      this.once('state', () => { clearTimeout(t); resolve(); });
      c.destroy();
    });
  }
}

const shared = new Map<string, { stream: SmlStream; refs: number }>();

/** The stream of an endpoint, started on first use; release it with releaseSmlStream. */
export function acquireSmlStream(o: SmlStreamOptions): SmlStream {
  const key = endpointKey(o);
  let s = shared.get(key);
  if (!s) {
    s = { stream: new SmlStream(o), refs: 0 };
    s.stream.setMaxListeners(50);
    shared.set(key, s);
  }
  s.refs++;
  s.stream.start();
  return s.stream;
}

export async function releaseSmlStream(stream: SmlStream): Promise<void> {
  const key = endpointKey(stream.o);
  const s = shared.get(key);
  if (!s || s.stream !== stream) return stream.close();
  if (--s.refs <= 0) {
    shared.delete(key);
    await stream.close();
  }
}

export type { SmlTelegram };
