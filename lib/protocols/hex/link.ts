/**
 * A byte link to one device: a TCP connection (GSM/Ethernet converters, optical-to-TCP heads) or a
 * serial port (serialport). Reads wait for a completeness test or a timeout; serial links can
 * change speed (IEC 62056-21 baud switch-over).
 */
import fs from 'node:fs';
import net from 'node:net';

export interface SerialSettings {
  baudRate: number;
  dataBits?: 7 | 8;
  parity?: 'none' | 'even' | 'odd';
  stopBits?: 1 | 2;
}

export interface LinkOptions {
  /** Host name or IP, or a serial device path (starts with "/", or COMn). */
  host: string;
  port?: number;
  serial?: SerialSettings;
  /** Clear bit 7 of every byte read (7E1 characters through a transparent 8N1 converter). */
  sevenBit?: boolean;
  connectTimeoutMs?: number;
  /** Bytes buffered per read at most (default DEFAULT_MAX_BYTES); more fails the read and drops the link. */
  maxBytes?: number;
}

/**
 * A complete IEC 62056-21 readout is at most tens of KB, a Modbus or M-Bus answer a few hundred
 * bytes: 256 KiB buffered per read is ample and keeps a device that streams forever bounded.
 */
export const DEFAULT_MAX_BYTES = 256 * 1024;
/** Bytes of traffic kept in Link.trace at most. */
export const MAX_TRACE_BYTES = 64 * 1024;

/** Returns the end offset of a complete answer in `buf`, or -1 while more bytes are needed. */
export type Completeness = (buf: Buffer) => number;

export class LinkTimeoutError extends Error {
  constructor(message: string, readonly received: Buffer) {
    super(message);
    this.name = 'LinkTimeoutError';
  }
}

/** A device sent more than the link buffers: the link is dropped. */
export class LinkOverflowError extends Error {
  constructor(readonly link: string, readonly limit: number) {
    super(`${link}: the answer exceeds the ${limit >= 1024 && limit % 1024 === 0 ? `${limit / 1024} KiB` : `${limit} bytes`} cap; connection dropped`);
    this.name = 'LinkOverflowError';
  }
}

export function isSerialPath(host: string): boolean {
  return host.startsWith('/') || /^COM\d+$/i.test(host);
}

interface Waiter { complete: Completeness; resolve: (b: Buffer) => void; reject: (e: Error) => void; timer: NodeJS.Timeout; what: string }

export abstract class Link {
  protected buf = Buffer.alloc(0);
  private waiter?: Waiter;
  private error?: Error;
  /** The first bytes written and read (up to MAX_TRACE_BYTES), for logs and msg details. */
  readonly trace: { dir: 'tx' | 'rx'; data: Buffer; at: number }[] = [];
  private traced = 0;
  abstract readonly canSwitchBaud: boolean;
  /** host:port or the serial path, for messages. */
  abstract readonly name: string;
  /** Bytes buffered at most; a device sending more fails the waiting read and the link. */
  maxBytes = DEFAULT_MAX_BYTES;

  constructor(protected readonly sevenBit = false) {}

  private record(dir: 'tx' | 'rx', data: Buffer): void {
    if (this.traced + data.length > MAX_TRACE_BYTES) return;
    this.traced += data.length;
    this.trace.push({ dir, data, at: Date.now() });
  }

  protected received(data: Buffer): void {
    if (this.error) return;
    const d = this.sevenBit ? Buffer.from(data.map((b) => b & 0x7f)) : data;
    this.record('rx', d);
    if (this.buf.length + d.length > this.maxBytes) {
      this.buf = Buffer.alloc(0);
      this.abort(new LinkOverflowError(this.name, this.maxBytes));
      return;
    }
    this.buf = Buffer.concat([this.buf, d]);
    this.check();
  }

  /** Fails the waiting read and every later one with `err`, and stops the device's traffic. */
  abort(err: Error): void {
    this.failed(err);
    this.halt();
  }

  /** Stops receiving (closes the socket or port at once). */
  protected abstract halt(): void;

  protected failed(err: Error): void {
    this.error ??= err;
    const w = this.waiter;
    if (w) { this.waiter = undefined; clearTimeout(w.timer); w.reject(err); }
  }

  private check(): void {
    const w = this.waiter;
    if (!w) return;
    const end = w.complete(this.buf);
    if (end < 0) return;
    this.waiter = undefined;
    clearTimeout(w.timer);
    const out = this.buf.subarray(0, end);
    this.buf = this.buf.subarray(end);
    w.resolve(Buffer.from(out));
  }

  /** Waits until `complete` accepts the bytes received so far; LinkTimeoutError after `timeoutMs`. */
  read(complete: Completeness, timeoutMs: number, what: string): Promise<Buffer> {
    if (this.error) return Promise.reject(this.error);
    if (this.waiter) return Promise.reject(new Error('a read is already waiting on this link'));
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiter = undefined;
        const got = this.buf;
        reject(new LinkTimeoutError(`no ${what} within ${timeoutMs} ms${got.length ? ` (received ${got.length} bytes: ${JSON.stringify(got.toString('latin1').slice(0, 60))})` : ''}`, got));
      }, timeoutMs);
      this.waiter = { complete, resolve, reject, timer, what };
      this.check();
    });
  }

  /** Bytes received and not yet consumed by a read. */
  pending(): Buffer {
    return this.buf;
  }

  /** Discards the bytes received so far. */
  drop(): void {
    this.buf = Buffer.alloc(0);
  }

  async write(data: Buffer): Promise<void> {
    if (this.error) throw this.error;
    this.record('tx', data);
    await this.send(data);
  }

  protected abstract send(data: Buffer): Promise<void>;
  /** Changes the serial speed (a no-op on TCP, where the converter fixes the speed). */
  abstract setBaud(baud: number): Promise<void>;
  abstract close(): Promise<void>;
}

export class TcpLink extends Link {
  readonly canSwitchBaud = false;
  private constructor(private readonly socket: net.Socket, sevenBit: boolean, readonly name: string) {
    super(sevenBit);
    socket.on('data', (d: Buffer) => this.received(d));
    socket.on('error', (e) => this.failed(e));
    socket.on('close', () => this.failed(new Error('the connection was closed by the device')));
  }

  static open(host: string, port: number, sevenBit = false, timeoutMs = 5000): Promise<TcpLink> {
    if (!Number.isInteger(port) || port < 1 || port > 65535) return Promise.reject(new Error(`port ${JSON.stringify(port)} must be 1..65535`));
    return new Promise((resolve, reject) => {
      const socket = net.connect({ host, port });
      const timer = setTimeout(() => { socket.destroy(); reject(new Error(`connecting to ${host}:${port} timed out after ${timeoutMs} ms`)); }, timeoutMs);
      socket.once('error', (e) => { clearTimeout(timer); reject(new Error(`cannot connect to ${host}:${port}: ${e.message}`)); });
      socket.once('connect', () => { clearTimeout(timer); socket.setNoDelay(true); resolve(new TcpLink(socket, sevenBit, `${host}:${port}`)); });
    });
  }

  protected send(data: Buffer): Promise<void> {
    return new Promise((resolve, reject) => this.socket.write(data, (e) => (e ? reject(e) : resolve())));
  }

  async setBaud(): Promise<void> { /* the converter's speed is fixed */ }

  protected halt(): void { this.socket.destroy(); }

  close(): Promise<void> {
    return new Promise((resolve) => {
      if (this.socket.destroyed) return resolve();
      this.socket.once('close', () => resolve());
      this.socket.end();
      setTimeout(() => { this.socket.destroy(); resolve(); }, 500).unref();
    });
  }
}

// serialport is loaded lazily: TCP-only users never need its native bindings.
interface SerialPortLike {
  write(d: Buffer, cb: (e?: Error | null) => void): void;
  drain(cb: (e?: Error | null) => void): void;
  update(o: { baudRate: number }, cb: (e?: Error | null) => void): void;
  close(cb: (e?: Error | null) => void): void;
  on(ev: string, fn: (...a: any[]) => void): void; // eslint-disable-line @typescript-eslint/no-explicit-any
  isOpen: boolean;
  baudRate: number;
}

/**
 * True for a pseudo-terminal (a socat or ser2net bridge): it has no speed of its own, and changing its
 * settings flushes both queues, which can discard a request the bridge has not read yet.
 */
export function isPseudoTerminal(path: string): boolean {
  try { return fs.realpathSync(path).startsWith('/dev/pts/'); } catch { return false; }
}

export class SerialLink extends Link {
  readonly canSwitchBaud = true;
  private readonly pty: boolean;
  private speed: number;
  private constructor(private readonly port: SerialPortLike, sevenBit: boolean, readonly name: string) {
    super(sevenBit);
    this.pty = isPseudoTerminal(name);
    this.speed = port.baudRate;
    port.on('data', (d: Buffer) => this.received(d));
    port.on('error', (e: Error) => this.failed(e));
  }

  static open(path: string, settings: SerialSettings, sevenBit = false): Promise<SerialLink> {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { SerialPort } = require('serialport') as { SerialPort: new (o: object, cb: (e: Error | null) => void) => SerialPortLike };
    return new Promise((resolve, reject) => {
      const port = new SerialPort({
        path, baudRate: settings.baudRate, dataBits: settings.dataBits ?? 8, parity: settings.parity ?? 'none', stopBits: settings.stopBits ?? 1, autoOpen: true,
      }, (err) => (err ? reject(new Error(`cannot open serial port ${path}: ${err.message}`)) : resolve(new SerialLink(port, sevenBit, path))));
    });
  }

  get baudRate(): number {
    return this.speed;
  }

  protected send(data: Buffer): Promise<void> {
    return new Promise((resolve, reject) => {
      this.port.write(data, (e) => (e ? reject(e) : this.port.drain((e2) => (e2 ? reject(e2) : resolve()))));
    });
  }

  /** A real port switches (the kernel flushes its queues, after drain has sent the request); a pty only notes it. */
  setBaud(baud: number): Promise<void> {
    if (this.pty) { this.speed = baud; return Promise.resolve(); }
    return new Promise((resolve, reject) => this.port.update({ baudRate: baud }, (e) => {
      if (e) return reject(e);
      this.speed = baud;
      resolve();
    }));
  }

  protected halt(): void { if (this.port.isOpen) this.port.close(() => undefined); }

  close(): Promise<void> {
    return new Promise((resolve) => (this.port.isOpen ? this.port.close(() => resolve()) : resolve()));
  }
}

/** Opens a TCP or serial link for `host` (a serial path opens the port with `serial`, default 9600 8N1). */
export async function openLink(o: LinkOptions): Promise<Link> {
  const link = isSerialPath(o.host) ? await SerialLink.open(o.host, o.serial ?? { baudRate: 9600 }, o.sevenBit) : await TcpLink.open(o.host, o.port ?? 0, o.sevenBit, o.connectTimeoutMs);
  if (o.maxBytes !== undefined) link.maxBytes = o.maxBytes;
  return link;
}

/**
 * A deadline for a whole session on `link`: when `ms` pass first, the link is aborted (its traffic
 * stops) and the promise rejects with LinkDeadlineError, even if the job is sleeping.
 */
export async function withDeadline<T>(link: Link, ms: number, what: string, job: () => Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      const err = new LinkDeadlineError(`${link.name}: ${what} not complete within ${ms} ms; connection dropped`);
      link.abort(err);
      reject(err);
    }, ms);
  });
  const run = job();
  run.catch(() => undefined);
  try {
    return await Promise.race([run, deadline]);
  } finally {
    clearTimeout(timer);
  }
}

export class LinkDeadlineError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'LinkDeadlineError';
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
