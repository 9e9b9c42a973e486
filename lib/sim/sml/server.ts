/**
 * The SML meter behind an IR-head-to-TCP bridge: a listening socket; every `intervalMs` the meter's
 * next telegram is pushed to every connected client (a meter sends whether anyone listens or not),
 * and to serial devices opened with openSerial (an IR head's view of the meter).
 */
import net from 'node:net';
import { SimSmlMeter, type SimSmlMeterOptions } from './meter';
import { PacedLine } from '../serial/paced-line';
import { parseLine } from '../serial/line';
import { openLinePort } from '../serial/port';

export interface SmlSimulatorOptions extends SimSmlMeterOptions {
  intervalMs?: number;
}

export class SmlSimulator {
  readonly meter: SimSmlMeter;
  private server?: net.Server;
  private timer?: NodeJS.Timeout;
  private readonly sockets = new Set<net.Socket>();
  private readonly serials: PacedLine[] = [];
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
    for (const line of this.serials) if (!line.sending) line.send(t).catch(() => undefined);
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

  /** Also pushes to a serial device, e.g. one end of a socat pty pair (8N1, `baudRate` default 9600), paced at the line rate. */
  async openSerial(path: string, baudRate = 9600): Promise<PacedLine> {
    const settings = parseLine('8N1', baudRate);
    const line = new PacedLine(await openLinePort(path, settings), settings);
    line.onData(() => undefined); // an IR head's transmitter is not read by the meter's push output
    this.serials.push(line);
    this.timer ??= setInterval(() => this.push(), this.o.intervalMs ?? 2000);
    return line;
  }

  /** Drops every client connection (a bridge restart); the socket keeps listening. */
  dropClients(): void {
    for (const s of this.sockets) s.destroy();
  }

  async close(): Promise<void> {
    clearInterval(this.timer);
    this.dropClients();
    for (const line of this.serials.splice(0)) await line.close();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }
}
