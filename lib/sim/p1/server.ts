/**
 * A P1 bridge on TCP (as ser2net or a P1-to-WiFi dongle): every interval the simulated meter's
 * telegram goes to every connected client. Clients send nothing (P1 is one-way).
 */
import net from 'node:net';
import { P1_INTERVAL_MS, SimP1Meter, type SimP1Options } from './meter';
import { PacedLine } from '../serial/paced-line';
import { parseLine } from '../serial/line';
import { openLinePort } from '../serial/port';

export interface P1SimulatorOptions extends SimP1Options {
  /** Telegram interval, ms (default: 1 s for DSMR 5, 10 s for 4 and 2.2). */
  intervalMs?: number;
}

export class P1Simulator {
  readonly meter: SimP1Meter;
  readonly intervalMs: number;
  private server?: net.Server;
  private timer?: NodeJS.Timeout;
  private readonly sockets = new Set<net.Socket>();
  private readonly serials: PacedLine[] = [];
  /** Telegrams sent so far (to any client). */
  sent = 0;

  constructor(o: P1SimulatorOptions = {}) {
    this.meter = new SimP1Meter(o);
    this.intervalMs = o.intervalMs ?? P1_INTERVAL_MS[this.meter.version];
  }

  get clients(): number {
    return this.sockets.size;
  }

  /** Listens on TCP; resolves with the port (0 = any free port). */
  listen(port = 0, host = '127.0.0.1'): Promise<number> {
    this.server = net.createServer((socket) => {
      this.sockets.add(socket);
      socket.on('error', () => socket.destroy());
      socket.on('close', () => this.sockets.delete(socket));
      socket.on('data', () => undefined); // P1 ignores anything sent to it
    });
    this.timer ??= setInterval(() => this.tick(), this.intervalMs);
    return new Promise((resolve, reject) => {
      this.server!.once('error', reject);
      this.server!.listen(port, host, () => resolve((this.server!.address() as net.AddressInfo).port));
    });
  }

  /** Sends one telegram now to every client and serial device. */
  tick(now = Date.now()): void {
    const t = this.meter.telegram(now);
    for (const s of this.sockets) if (!s.destroyed) s.write(t);
    for (const line of this.serials) if (!line.sending) line.send(t).catch(() => undefined);
    if (this.sockets.size || this.serials.length) this.sent++;
  }

  /**
   * Also pushes to a serial device (a P1 cable's tty, or one end of a socat pty pair), paced at the
   * line rate: DSMR 4/5 use 115200 8N1, DSMR 2.2 9600 7E1.
   */
  async openSerial(path: string, format = this.meter.version === '2.2' ? '7E1' : '8N1', baudRate = this.meter.version === '2.2' ? 9600 : 115200): Promise<PacedLine> {
    const settings = parseLine(format, baudRate);
    const line = new PacedLine(await openLinePort(path, settings), settings);
    line.onData(() => undefined); // P1 ignores anything sent to it
    this.serials.push(line);
    this.timer ??= setInterval(() => this.tick(), this.intervalMs);
    return line;
  }

  async close(): Promise<void> {
    clearInterval(this.timer);
    for (const s of this.sockets) s.destroy();
    for (const line of this.serials.splice(0)) await line.close();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }
}
