/**
 * The SML meter behind an IR-head-to-TCP bridge: a listening socket; every `intervalMs` the meter's
 * next telegram is pushed to every connected client (a meter sends whether anyone listens or not),
 * and to serial devices opened with openSerial (an IR head's view of the meter).
 */
import net from 'node:net';
import { SimSmlMeter, type SimSmlMeterOptions } from './meter';

export interface SmlSimulatorOptions extends SimSmlMeterOptions {
  intervalMs?: number;
}

export class SmlSimulator {
  readonly meter: SimSmlMeter;
  private server?: net.Server;
  private timer?: NodeJS.Timeout;
  private readonly sockets = new Set<net.Socket>();
  private readonly serials: { write(d: Buffer): void; close(cb: () => void): void; isOpen: boolean }[] = [];
  /** Replaces the next telegrams' bytes (tests: corrupt frames, garbage). */
  tamper?: (telegram: Buffer) => Buffer;

  constructor(readonly o: SmlSimulatorOptions = {}) {
    this.meter = new SimSmlMeter(o);
  }

  get clients(): number {
    return this.sockets.size;
  }

  /** Pushes one telegram now. */
  push(): Buffer {
    let t = this.meter.telegram();
    if (this.tamper) t = this.tamper(t);
    for (const s of this.sockets) if (!s.destroyed) s.write(t);
    for (const p of this.serials) if (p.isOpen) p.write(t);
    return t;
  }

  listen(port = 0, host = '127.0.0.1'): Promise<number> {
    this.server = net.createServer((socket) => {
      this.sockets.add(socket);
      socket.on('error', () => socket.destroy());
      socket.on('close', () => this.sockets.delete(socket));
      socket.resume(); // a bridge ignores what the client sends
    });
    this.timer ??= setInterval(() => this.push(), this.o.intervalMs ?? 2000);
    return new Promise((resolve, reject) => {
      this.server!.once('error', reject);
      this.server!.listen(port, host, () => resolve((this.server!.address() as net.AddressInfo).port));
    });
  }

  /** Also pushes to a serial device, e.g. one end of a socat pty pair (8N1, `baudRate` default 9600). */
  async openSerial(path: string, baudRate = 9600): Promise<void> {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { SerialPort } = require('serialport') as typeof import('serialport');
    const port = await new Promise<InstanceType<typeof SerialPort>>((resolve, reject) => {
      const p = new SerialPort({ path, baudRate, dataBits: 8, parity: 'none', stopBits: 1 }, (e) => (e ? reject(e) : resolve(p)));
    });
    port.on('error', () => undefined);
    this.serials.push(port);
    this.timer ??= setInterval(() => this.push(), this.o.intervalMs ?? 2000);
  }

  /** Drops every client connection (a bridge restart); the socket keeps listening. */
  dropClients(): void {
    for (const s of this.sockets) s.destroy();
  }

  async close(): Promise<void> {
    clearInterval(this.timer);
    this.dropClients();
    for (const p of this.serials.splice(0)) if (p.isOpen) await new Promise<void>((r) => p.close(() => r()));
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }
}
