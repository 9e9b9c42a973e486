/**
 * The Modbus meter simulator on a serial line: RTU frames delimited by silence (t3.5, broken by a gap
 * over t1.5), answered at the line rate after the unit's turnaround. Every unit of the simulator
 * shares the one line, as meters on one RS-485 bus do.
 */
import type { ModbusMeterSimulator } from '../modbus-meter/server';
import { runAt } from './clock';
import { describeLine, type LineSettings } from './line';
import { PacedLine, type LinePort } from './paced-line';
import { openLinePort } from './port';

export interface RtuSerialOptions {
  /** A unit's time from the end of a request frame (after t3.5) to its answer's first bit, ms. */
  turnaroundMs?: number;
}

export class ModbusRtuSerial {
  readonly line: PacedLine;
  private readonly turnaroundMs: number;
  private readonly pending = new Set<() => void>();

  constructor(readonly sim: ModbusMeterSimulator, port: LinePort, settings: LineSettings, o: RtuSerialOptions = {}) {
    this.turnaroundMs = o.turnaroundMs ?? 0;
    if (!(this.turnaroundMs >= 0)) throw new RangeError(`turnaroundMs ${JSON.stringify(o.turnaroundMs)} must be a number >= 0`);
    this.line = new PacedLine(port, settings, { framing: 'silence' });
    this.line.onFrame((frame) => {
      const answer = sim.answerRtuFrame(frame);
      if (!answer) return;
      const wait = this.turnaroundMs + answer.delayMs;
      if (wait <= 0) {
        this.line.send(answer.frame).catch(() => undefined);
        return;
      }
      const cancel = runAt(() => this.line.now(), this.line.now() + wait, () => {
        this.pending.delete(cancel);
        this.line.send(answer.frame).catch(() => undefined);
      });
      this.pending.add(cancel);
    });
  }

  /** Opens a serial device (a tty, or the simulator's end of a pty pair) and serves the simulator on it. */
  static async open(sim: ModbusMeterSimulator, path: string, settings: LineSettings, o: RtuSerialOptions = {}): Promise<ModbusRtuSerial> {
    return new ModbusRtuSerial(sim, await openLinePort(path, settings), settings, o);
  }

  describe(): string {
    return `Modbus RTU ${describeLine(this.line.line)}`;
  }

  async close(): Promise<void> {
    for (const c of this.pending) c();
    this.pending.clear();
    await this.line.close();
  }
}
