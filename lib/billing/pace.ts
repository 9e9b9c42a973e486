/**
 * Keeps long computations from blocking the event loop: a Pacer lets the loop run (setImmediate)
 * whenever `sliceMs` of work has passed since it last did, so one request never holds the process for
 * much longer than a slice while polls and other requests wait.
 */
import { setImmediate as immediate } from 'node:timers/promises';

/** Default work between two yields (ms): short, since a request through the flows waits one slice per node it passes. */
export const SLICE_MS = 8;

/** Event loop turns per yield. */
const YIELD_TURNS = 4;

export class Pacer {
  private last = performance.now();
  private n = 0;
  yields = 0;

  constructor(readonly sliceMs = SLICE_MS, private readonly every = 32) {}

  /** True when the slice is used up (checked on every `every`-th call: the clock is not free). */
  due(): boolean {
    if (++this.n % this.every !== 0) return false;
    return performance.now() - this.last >= this.sliceMs;
  }

  /**
   * Lets the event loop run now: a few turns, since a request through the flows needs one turn per
   * node it passes (http in, ems-api, http response); when nothing waits, a turn costs microseconds.
   */
  async yield(): Promise<void> {
    for (let i = 0; i < YIELD_TURNS; i++) await immediate();
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
 * Runs a generator that yields at convenient points to completion: `runSync` at once, `runPaced`
 * letting the event loop run whenever a Pacer slice is used up (checked at once after `yield true`,
 * which marks the end of a bigger step; every few plain yields otherwise).
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
    if (r.value === true) await pacer.breathe();
    else await pacer.tick();
  }
}
