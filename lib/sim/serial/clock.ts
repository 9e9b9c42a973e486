/**
 * Timing helpers for the paced line. Node's timers fire up to ~1 ms late (and never early by more
 * than rounding), so a deadline that matters to the wire is met by a timer that wakes shortly
 * before it and a few setImmediate turns up to it; I/O keeps running between the turns.
 */
export type Clock = () => number;

/** Monotonic milliseconds with sub-millisecond resolution. */
export const monotonic: Clock = () => performance.now();

/** How long before a deadline the coarse timer hands over to setImmediate turns, ms. */
const SPIN_MS = 1.5;

/** Runs fn at clock time `at` (on the next turn if that is past, never synchronously); returns a cancel function. */
export function runAt(clock: Clock, at: number, fn: () => void): () => void {
  let timer: NodeJS.Timeout | undefined;
  let immediate: NodeJS.Immediate | undefined;
  let cancelled = false;
  let first = true;
  const step = () => {
    timer = undefined;
    immediate = undefined;
    if (cancelled) return;
    const left = at - clock();
    if (left <= 0) {
      if (first) immediate = setImmediate(fn);
      else fn();
    } else if (left > SPIN_MS) timer = setTimeout(step, left - SPIN_MS);
    else immediate = setImmediate(step);
  };
  step();
  first = false;
  return () => {
    cancelled = true;
    if (timer) clearTimeout(timer);
    if (immediate) clearImmediate(immediate);
  };
}
