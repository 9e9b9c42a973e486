/**
 * A fault given on the ems-sim command line may carry a time window, so an outage can be staged while
 * the simulator runs: "KIND@AFTER+FOR" starts the fault AFTER seconds after start and ends it FOR
 * seconds later ("KIND@AFTER" never ends; "KIND" starts at once). Times are real seconds.
 */
import { UsageError } from './registry';

export interface FaultWindow { afterMs: number; forMs?: number }

/** Splits "SPEC@AFTER[+FOR]" into the spec and its window; UsageError names the option and the text. */
export function splitFaultWindow(text: string, option = 'fault'): { spec: string; window?: FaultWindow } {
  const at = text.lastIndexOf('@');
  if (at < 0) return { spec: text };
  const m = /^(\d+(?:\.\d+)?)(?:\+(\d+(?:\.\d+)?))?$/.exec(text.slice(at + 1));
  if (!m) throw new UsageError(`--${option}: ${JSON.stringify(text)} has a bad time window after @ (use @AFTER or @AFTER+FOR, in seconds)`);
  return { spec: text.slice(0, at), window: { afterMs: Number(m[1]) * 1000, forMs: m[2] === undefined ? undefined : Number(m[2]) * 1000 } };
}

/** Runs on() now (no window) or after the window's start, off() at its end; the result cancels pending timers. */
export function scheduleFault(window: FaultWindow | undefined, on: () => void, off: () => void): () => void {
  if (!window) { on(); return () => undefined; }
  const timers: NodeJS.Timeout[] = [];
  timers.push(setTimeout(on, window.afterMs));
  if (window.forMs !== undefined) timers.push(setTimeout(off, window.afterMs + window.forMs));
  for (const t of timers) t.unref?.();
  return () => { for (const t of timers) clearTimeout(t); };
}

/** " (from 60 s for 300 s)" for a describe() line. */
export function describeWindow(w: FaultWindow | undefined): string {
  if (!w) return '';
  return ` (from ${w.afterMs / 1000} s${w.forMs !== undefined ? ` for ${w.forMs / 1000} s` : ''})`;
}
