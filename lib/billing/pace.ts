/**
 * Keeps long computations from blocking the event loop: a Pacer lets the loop run (setImmediate)
 * whenever `sliceMs` of work has passed since it last did, so one request never holds the process for
 * much longer than a slice while polls and other requests wait.
 */
import { setImmediate as immediate } from 'node:timers/promises';

/** Default work between two yields (ms). */
export const SLICE_MS = 20;

export class Pacer {
  private last = performance.now();
  private n = 0;
  yields = 0;

  constructor(readonly sliceMs = SLICE_MS, private readonly every = 64) {}

  /** True when the slice is used up (checked on every `every`-th call: the clock is not free). */
  due(): boolean {
    if (++this.n % this.every !== 0) return false;
    return performance.now() - this.last >= this.sliceMs;
  }

  /** Lets the event loop run now. */
  async yield(): Promise<void> {
    await immediate();
    this.yields++;
    this.last = performance.now();
  }

  /** Yields when the slice is used up, checking the clock now (between big steps such as store queries). */
  async breathe(): Promise<void> {
    if (performance.now() - this.last >= this.sliceMs) await this.yield();
  }

  /** Yields when the slice is used up. */
  async tick(): Promise<void> {
    if (this.due()) await this.yield();
  }
}

/**
 * Runs a generator that yields at convenient points (the value is ignored) to completion: `runSync`
 * at once, `runPaced` letting the event loop run whenever a Pacer slice is used up.
 */
export function runSync<T>(g: Generator<unknown, T>): T {
  for (;;) {
    const r = g.next();
    if (r.done) return r.value;
  }
}

export async function runPaced<T>(g: Generator<unknown, T>, pacer = new Pacer()): Promise<T> {
  for (;;) {
    const r = g.next();
    if (r.done) return r.value;
    await pacer.tick();
  }
}
