/**
 * Byte transports for an M-Bus master: TCP (transparent M-Bus gateways / level converters with an
 * Ethernet port) and a serial port (a level converter, or an optical IR head on the meter's
 * front: the same serial transport, named "IR" in descriptions). Bytes in, bytes out, no framing.
 */
import { EventEmitter } from 'node:events';
import net from 'node:net';
import { SerialPort } from 'serialport';

export type Parity = 'none' | 'even' | 'odd';

export type MbusEndpoint =
  | { kind: 'tcp'; host: string; port: number }
  | { kind: 'serial'; path: string; baudRate?: number; parity?: Parity; dataBits?: 7 | 8; stopBits?: 1 | 2; ir?: boolean };

/** M-Bus serial default: 2400 baud, 8 data bits, even parity, 1 stop bit. */
export const SERIAL_DEFAULTS = { baudRate: 2400, parity: 'even' as Parity, dataBits: 8 as const, stopBits: 1 as const };

export function endpointKey(e: MbusEndpoint): string {
  return e.kind === 'tcp' ? `mbus-tcp://${e.host}:${e.port}` : `mbus-serial:${e.path}`;
}

export function describeEndpoint(e: MbusEndpoint): string {
  if (e.kind === 'tcp') return `${e.host}:${e.port}`;
  const s = { ...SERIAL_DEFAULTS, ...stripUndefined(e) };
  return `${e.ir ? 'IR ' : ''}${e.path} ${s.baudRate} ${s.dataBits}${s.parity[0].toUpperCase()}${s.stopBits}`;
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}

/** A byte pipe. Events: 'data' (Buffer), 'close' (Error | undefined) when the link drops. */
export interface MbusTransport extends EventEmitter {
  readonly isOpen: boolean;
  readonly endpoint: MbusEndpoint;
  open(): Promise<void>;
  write(bytes: Buffer): Promise<void>;
  /** Discards bytes waiting in the OS input buffer (serial), before a request. */
  flush(): Promise<void>;
  close(): Promise<void>;
}

export class TcpTransport extends EventEmitter implements MbusTransport {
  private socket: net.Socket | null = null;
  constructor(readonly endpoint: Extract<MbusEndpoint, { kind: 'tcp' }>, private readonly connectTimeoutMs = 5000) {
    super();
  }

  get isOpen(): boolean {
    return !!this.socket && !this.socket.destroyed && this.socket.readyState === 'open';
  }

  open(): Promise<void> {
    if (this.isOpen) return Promise.resolve();
    const { host, port } = this.endpoint;
    return new Promise((resolve, reject) => {
      const socket = net.connect({ host, port });
      socket.setNoDelay(true);
      const timer = setTimeout(() => { socket.destroy(); reject(new Error(`cannot connect to ${host}:${port}: timed out after ${this.connectTimeoutMs} ms`)); }, this.connectTimeoutMs);
      socket.once('connect', () => {
        clearTimeout(timer);
        this.socket = socket;
        socket.on('data', (d: Buffer) => this.emit('data', d));
        socket.on('close', () => { if (this.socket === socket) { this.socket = null; this.emit('close', new Error(`${host}:${port} closed the connection`)); } });
        resolve();
      });
      socket.once('error', (err) => {
        clearTimeout(timer);
        if (this.socket !== socket) reject(new Error(`cannot connect to ${host}:${port}: ${err.message}`));
        socket.destroy();
      });
    });
  }

  write(bytes: Buffer): Promise<void> {
    const s = this.socket;
    if (!s) return Promise.reject(new Error(`${describeEndpoint(this.endpoint)} is not connected`));
    return new Promise((resolve, reject) => s.write(bytes, (err) => (err ? reject(err) : resolve())));
  }

  async flush(): Promise<void> { /* a TCP stream has no input buffer to discard; the master drops stale bytes */ }

  close(): Promise<void> {
    const s = this.socket;
    this.socket = null;
    if (!s) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(() => { s.destroy(); resolve(); }, 2000);
      s.once('close', () => { clearTimeout(timer); resolve(); });
      s.end();
      s.destroy();
    });
  }
}

export class SerialTransport extends EventEmitter implements MbusTransport {
  private port: SerialPort | null = null;
  constructor(readonly endpoint: Extract<MbusEndpoint, { kind: 'serial' }>) {
    super();
  }

  get isOpen(): boolean {
    return !!this.port?.isOpen;
  }

  get baudRate(): number {
    return this.endpoint.baudRate ?? SERIAL_DEFAULTS.baudRate;
  }

  open(): Promise<void> {
    if (this.isOpen) return Promise.resolve();
    const e = { ...SERIAL_DEFAULTS, ...stripUndefined(this.endpoint) } as Required<Extract<MbusEndpoint, { kind: 'serial' }>>;
    return new Promise((resolve, reject) => {
      const port = new SerialPort({ path: e.path, baudRate: e.baudRate, parity: e.parity, dataBits: e.dataBits, stopBits: e.stopBits, autoOpen: false });
      port.open((err) => {
        if (err) return reject(new Error(`cannot open ${describeEndpoint(this.endpoint)}: ${err.message}`));
        this.port = port;
        port.on('data', (d: Buffer) => this.emit('data', d));
        port.on('close', (cerr: Error | null) => { if (this.port === port) { this.port = null; this.emit('close', cerr ?? new Error(`${e.path} closed`)); } });
        port.on('error', () => { /* reported through close */ });
        resolve();
      });
    });
  }

  write(bytes: Buffer): Promise<void> {
    const p = this.port;
    if (!p) return Promise.reject(new Error(`${describeEndpoint(this.endpoint)} is not open`));
    // No drain (tcdrain) after the write: the master's timers already allow for the request's wire
    // time, and on a pty tcdrain stalls the event loop for tens of ms, long enough to cut answers.
    return new Promise((resolve, reject) => {
      p.write(bytes, (err) => (err ? reject(err) : resolve()));
    });
  }

  flush(): Promise<void> {
    const p = this.port;
    if (!p) return Promise.resolve();
    return new Promise((resolve) => p.flush(() => resolve()));
  }

  close(): Promise<void> {
    const p = this.port;
    this.port = null;
    if (!p || !p.isOpen) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, 2000);
      p.close(() => { clearTimeout(timer); resolve(); });
    });
  }
}

export function createTransport(e: MbusEndpoint): MbusTransport {
  return e.kind === 'tcp' ? new TcpTransport(e) : new SerialTransport(e);
}
