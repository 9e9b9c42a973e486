/**
 * The M-Bus simulator on a serial line (EN 13757-2: 8E1, 300..38400 baud): several slaves share the
 * line; a request is taken once its last character would have arrived, and the addressed slave starts
 * its answer after its answer delay (the standard allows 11 bit times up to 330 bit times + 50 ms),
 * sent at the line rate.
 */
import { FrameSplitter } from '../../protocols/mbus/frame';
import type { MbusSimulator } from '../mbus/server';
import { runAt } from './clock';
import { describeLine, type LineSettings } from './line';
import { PacedLine, type LinePort } from './paced-line';
import { openLinePort } from './port';

export interface MbusSerialOptions {
  /** Time from a request's last character to the start of the answer, ms (default 11 bit times, the least allowed). */
  answerDelayMs?: number;
  /** Per primary address: a slower (or faster) answer delay, ms. */
  delays?: Record<number, number>;
}

/** The latest start of an answer EN 13757-2 allows: 330 bit times + 50 ms. */
export function latestAnswerMs(baudRate: number): number {
  return (330 * 1000) / baudRate + 50;
}

export class MbusSerial {
  readonly line: PacedLine;
  private readonly splitter = new FrameSplitter();
  private readonly pending = new Set<() => void>();

  constructor(readonly sim: MbusSimulator, port: LinePort, settings: LineSettings, o: MbusSerialOptions = {}) {
    const base = o.answerDelayMs ?? (11 * 1000) / settings.baudRate;
    for (const [k, v] of Object.entries({ answerDelayMs: base, ...o.delays })) {
      if (!(Number.isFinite(v) && v >= 0)) throw new RangeError(`answer delay of ${k} ${JSON.stringify(v)} must be a number of ms >= 0`);
    }
    this.line = new PacedLine(port, settings, { framing: 'stream' });
    this.line.onData((chunk, at) => {
      for (const frame of this.splitter.push(chunk).frames) {
        const answer = sim.handle(frame);
        if (!answer) continue;
        // Short frame 10 C A CS 16, long/control 68 L L 68 C A ...: the primary address the request names.
        const address = frame[0] === 0x10 ? frame[2] : frame[5];
        const delay = o.delays?.[address] ?? base;
        const cancel = runAt(() => this.line.now(), at + delay, () => {
          this.pending.delete(cancel);
          this.line.send(answer).catch(() => undefined);
        });
        this.pending.add(cancel);
      }
    });
  }

  /** Opens a serial device (a tty, or the simulator's end of a pty pair) and serves the bus on it. */
  static async open(sim: MbusSimulator, path: string, settings: LineSettings, o: MbusSerialOptions = {}): Promise<MbusSerial> {
    return new MbusSerial(sim, await openLinePort(path, settings), settings, o);
  }

  describe(): string {
    return `M-Bus ${describeLine(this.line.line)}`;
  }

  async close(): Promise<void> {
    for (const c of this.pending) c();
    this.pending.clear();
    await this.line.close();
  }
}
