/**
 * A P1 bridge on TCP (as ser2net or a P1-to-WiFi dongle): every interval the simulated meter's
 * telegram goes to every connected client. Clients send nothing (P1 is one-way).
 */
import net from 'node:net';
import { P1_INTERVAL_MS, SimP1Meter, type SimP1Options } from './meter';

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
    this.timer = setInterval(() => this.tick(), this.intervalMs);
    return new Promise((resolve, reject) => {
      this.server!.once('error', reject);
      this.server!.listen(port, host, () => resolve((this.server!.address() as net.AddressInfo).port));
    });
  }

  /** Sends one telegram now to every client. */
  tick(now = Date.now()): void {
    const t = this.meter.telegram(now);
    for (const s of this.sockets) if (!s.destroyed) s.write(t);
    if (this.sockets.size) this.sent++;
  }

  async close(): Promise<void> {
    clearInterval(this.timer);
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }
}
