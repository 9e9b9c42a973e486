/**
 * The IEC 62056-21 meter simulator on TCP (an optical-to-TCP converter: no speed changes) and on a
 * serial port or pseudo-terminal (300 baud 7E1 start, real speed switch-over).
 */
import net from 'node:net';
import { SimIecMeter, type SimMeterOptions } from './meter';
import { PacedLine } from '../serial/paced-line';
import { parseLine } from '../serial/line';
import { openLinePort } from '../serial/port';

export interface IecSimulatorOptions {
  meters: SimMeterOptions[];
}

export class Iec62056Simulator {
  readonly meters: SimIecMeter[];
  private server?: net.Server;
  private readonly sockets = new Set<net.Socket>();
  private readonly closers: (() => Promise<void>)[] = [];

  constructor(o: IecSimulatorOptions) {
    if (!o.meters.length) throw new Error('the simulator needs at least one meter');
    this.meters = o.meters.map((m, i) => new SimIecMeter({ primary: i === 0, ...m }));
  }

  meter(address: string): SimIecMeter {
    const m = this.meters.find((x) => x.o.address === address);
    if (!m) throw new Error(`no simulated meter at address "${address}"`);
    return m;
  }

  private attach(io: { write(d: Buffer): void; setBaud?(b: number): Promise<void> | void }) {
    const handlers = this.meters.map((m) => m.connect(io));
    return {
      input: (d: Buffer) => { for (const h of handlers) h.input(d); },
      close: () => { for (const h of handlers) h.close(); },
    };
  }

  /** Listens on TCP; resolves with the port (0 = any free port). */
  listen(port = 0, host = '127.0.0.1'): Promise<number> {
    this.server = net.createServer((socket) => {
      this.sockets.add(socket);
      const h = this.attach({ write: (d) => { if (!socket.destroyed) socket.write(d); } });
      socket.on('data', (d) => h.input(d));
      socket.on('error', () => socket.destroy());
      socket.on('close', () => { h.close(); this.sockets.delete(socket); });
    });
    return new Promise((resolve, reject) => {
      this.server!.once('error', reject);
      this.server!.listen(port, host, () => resolve((this.server!.address() as net.AddressInfo).port));
    });
  }

  /**
   * Serves on a serial device (e.g. one end of a socat pty pair) at 300 baud 7E1, paced at the line
   * rate (lib/sim/serial): the sign-on takes its real time at 300 baud, the data its time at the
   * agreed speed after the switch-over.
   */
  async openSerial(path: string): Promise<PacedLine> {
    const settings = parseLine('7E1', 300);
    const line = new PacedLine(await openLinePort(path, settings), settings);
    const h = this.attach({
      write: (d) => { line.send(d).catch(() => undefined); },
      setBaud: (b) => line.setBaud(b),
    });
    line.onData((d) => h.input(d));
    this.closers.push(async () => { h.close(); await line.close(); });
    return line;
  }

  async close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    for (const c of this.closers.splice(0)) await c();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }
}
