/**
 * The byte streams a DLMS client talks over: a TCP socket (wrapper on port 4059, or an HDLC-over-TCP
 * converter) or a serial port (HDLC, the optical head). A stream only moves bytes; the framings
 * (wrapper, HDLC) are in transport-channel.ts.
 *
 *   const s = await openTcpStream('10.0.0.7', 4059);      or   await openSerialStream('/dev/ttyUSB0', { baudRate: 9600 })
 *   s.onData((chunk) => ...); s.onEnd((err?) => ...); await s.write(bytes); await s.close();
 */
import net from 'node:net';
import type { SerialSettings } from '../hex/link';

export const WRAPPER_PORT = 4059;

export interface ByteStream {
  /** host:port or the serial path, for messages. */
  readonly name: string;
  write(bytes: Buffer): Promise<void>;
  /** One listener: every chunk received. */
  onData(fn: (chunk: Buffer) => void): void;
  /** One listener: the stream ended (closed by the peer, or an error). */
  onEnd(fn: (err?: Error) => void): void;
  close(): Promise<void>;
  /** Serial only: changes the speed (IEC 62056-21 mode E switch-over). */
  setBaud?(baud: number): Promise<void>;
}

/** Shared listener plumbing: chunks arriving before a listener is set are kept (bounded by the caller's framing). */
abstract class StreamBase implements ByteStream {
  abstract readonly name: string;
  private dataFn?: (chunk: Buffer) => void;
  private endFn?: (err?: Error) => void;
  private ended = false;
  private endError?: Error;
  protected closing = false;

  onData(fn: (chunk: Buffer) => void): void { this.dataFn = fn; }
  onEnd(fn: (err?: Error) => void): void {
    this.endFn = fn;
    if (this.ended) fn(this.endError);
  }
  protected data(chunk: Buffer): void { this.dataFn?.(chunk); }
  protected end(err?: Error): void {
    if (this.ended) return;
    this.ended = true;
    this.endError = this.closing ? undefined : err ?? new Error(`${this.name}: the connection was closed by the device`);
    this.endFn?.(this.endError);
  }
  protected get isEnded(): boolean { return this.ended; }
  abstract write(bytes: Buffer): Promise<void>;
  abstract close(): Promise<void>;
}

export class TcpStream extends StreamBase {
  constructor(private readonly socket: net.Socket, readonly name: string) {
    super();
    socket.setNoDelay(true);
    socket.on('data', (d: Buffer) => this.data(d));
    socket.on('error', (e) => this.end(new Error(`${name}: ${e.message}`)));
    socket.on('close', () => this.end());
  }

  write(bytes: Buffer): Promise<void> {
    if (this.isEnded) return Promise.reject(new Error(`${this.name}: the connection is closed`));
    return new Promise((resolve, reject) => this.socket.write(bytes, (e) => (e ? reject(new Error(`${this.name}: ${e.message}`)) : resolve())));
  }

  close(): Promise<void> {
    this.closing = true;
    return new Promise((resolve) => {
      if (this.socket.destroyed) return resolve();
      const t = setTimeout(() => { this.socket.destroy(); resolve(); }, 500);
      this.socket.once('close', () => { clearTimeout(t); resolve(); });
      this.socket.end();
    });
  }
}

export function openTcpStream(host: string, port = WRAPPER_PORT, timeoutMs = 5000): Promise<TcpStream> {
  if (!Number.isInteger(port) || port < 1 || port > 65535) return Promise.reject(new RangeError(`port ${JSON.stringify(port)} must be 1..65535`));
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host, port });
    const timer = setTimeout(() => { socket.destroy(); reject(new Error(`connecting to ${host}:${port} timed out after ${timeoutMs} ms`)); }, timeoutMs);
    socket.once('error', (e) => { clearTimeout(timer); reject(new Error(`cannot connect to ${host}:${port}: ${e.message}`)); });
    socket.once('connect', () => { clearTimeout(timer); resolve(new TcpStream(socket, `${host}:${port}`)); });
  });
}

// serialport is loaded lazily, as in lib/protocols/hex/link.ts: TCP-only users never need its bindings.
interface SerialPortLike {
  write(d: Buffer, cb: (e?: Error | null) => void): void;
  drain(cb: (e?: Error | null) => void): void;
  update(o: { baudRate: number }, cb: (e?: Error | null) => void): void;
  close(cb: (e?: Error | null) => void): void;
  on(ev: string, fn: (...a: any[]) => void): void; // eslint-disable-line @typescript-eslint/no-explicit-any
  isOpen: boolean;
}

export class SerialStream extends StreamBase {
  constructor(private readonly port: SerialPortLike, readonly name: string) {
    super();
    port.on('data', (d: Buffer) => this.data(d));
    port.on('error', (e: Error) => this.end(new Error(`${name}: ${e.message}`)));
    port.on('close', () => this.end());
  }

  write(bytes: Buffer): Promise<void> {
    if (this.isEnded) return Promise.reject(new Error(`${this.name}: the port is closed`));
    return new Promise((resolve, reject) => this.port.write(bytes, (e) => (e ? reject(e) : this.port.drain((e2) => (e2 ? reject(e2) : resolve())))));
  }

  setBaud(baud: number): Promise<void> {
    return new Promise((resolve, reject) => this.port.update({ baudRate: baud }, (e) => (e ? reject(e) : resolve())));
  }

  close(): Promise<void> {
    this.closing = true;
    return new Promise((resolve) => (this.port.isOpen ? this.port.close(() => resolve()) : resolve()));
  }
}

/** Opens a serial port (HDLC: 8N1, 9600 baud unless given). */
export function openSerialStream(path: string, settings: SerialSettings = { baudRate: 9600 }): Promise<SerialStream> {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { SerialPort } = require('serialport') as { SerialPort: new (o: object, cb: (e: Error | null) => void) => SerialPortLike };
  return new Promise((resolve, reject) => {
    const port = new SerialPort({
      path, baudRate: settings.baudRate, dataBits: settings.dataBits ?? 8, parity: settings.parity ?? 'none', stopBits: settings.stopBits ?? 1, autoOpen: true,
    }, (err) => (err ? reject(new Error(`cannot open serial port ${path}: ${err.message}`)) : resolve(new SerialStream(port, path))));
  });
}
