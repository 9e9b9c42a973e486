/**
 * A P1 port kept open for polls: the EMS polls meters, a P1 meter pushes. A source holds the reader of
 * one bridge or serial port and its latest telegram; a poll takes that telegram when it is fresh, else
 * waits for the next one.
 */
import { P1Reader, type P1ReaderOptions } from './reader';

export class P1Source {
  readonly reader: P1Reader;
  /** The latest complete telegram (or encrypted frame) and when it arrived. */
  latest?: { frame: Buffer; at: number };
  /** The latest connection problem, named in a poll that times out. */
  lastError?: Error;
  private readonly waiters = new Set<(frame: Buffer) => void>();

  constructor(o: P1ReaderOptions, private readonly now: () => number = Date.now) {
    this.reader = new P1Reader(o);
    this.reader.on('frame', (frame: Buffer) => {
      this.latest = { frame, at: this.now() };
      this.lastError = undefined;
      for (const w of [...this.waiters]) w(frame);
    });
    this.reader.on('error', (e: Error) => { this.lastError = e; });
    this.reader.start();
  }

  /** The latest telegram when at most `maxAgeMs` old, else the next one within `timeoutMs`. */
  frame(maxAgeMs: number, timeoutMs: number): Promise<Buffer> {
    if (this.latest && this.now() - this.latest.at <= maxAgeMs) return Promise.resolve(this.latest.frame);
    return new Promise((resolve, reject) => {
      const done = (frame: Buffer) => { clearTimeout(timer); this.waiters.delete(done); resolve(frame); };
      const timer = setTimeout(() => {
        this.waiters.delete(done);
        reject(new Error(`no telegram from ${this.reader.name} within ${timeoutMs} ms${this.lastError ? ` (${this.lastError.message})` : ''}`));
      }, timeoutMs);
      this.waiters.add(done);
    });
  }

  close(): Promise<void> {
    return this.reader.close();
  }
}
