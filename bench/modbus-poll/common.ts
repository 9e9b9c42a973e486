// Shared by the modbus-poll benchmark's processes: layout, messages, small helpers.
import path from 'node:path';

export const ROOT = path.resolve(__dirname, '..', '..', '..');
export const PROFILES = ['eastron-sdm630', 'abb-a44', 'carlo-gavazzi-em24', 'schneider-iem3000', 'eastron-sdm120'];

/** bare, node, and node-b, node-c... for the checkouts listed in BENCH_COMPARE (A/B runs of a change). */
export type Side = string;
export interface PortLayout { port: number; units: { unit: number; profile: string }[] }
export interface WorkerConfig { side: Side; root: string; ports: PortLayout[]; bareDecode: boolean; cpuProfDir?: string }
export interface Slice {
  side: Side;
  seconds: number;
  reads: number;
  polls: number;
  errors: number;
  /** Worker CPU (user + system, all threads) over the measured window, ms. */
  cpuMs: number;
  /** Simulator process CPU over the same window, ms (filled in by the orchestrator). */
  simCpuMs: number;
  /** Worker RSS and V8 heap in use at the end of the window, bytes. */
  rss: number;
  heapUsed: number;
}
export type ToWorker = { cmd: 'run'; seconds: number; warmup: number } | { cmd: 'close' };
export type FromWorker =
  | { type: 'ready'; setupMs: number }
  | { type: 'mark'; at: 'start' | 'end' }
  | { type: 'slice'; slice: Slice }
  | { type: 'closed'; maxRss: number }
  | { type: 'error'; message: string };

export function envNumber(name: string, fallback: number, integer = false): number {
  const text = process.env[name];
  if (text === undefined || text === '') return fallback;
  const n = Number(text);
  if (!Number.isFinite(n) || n < 0 || (integer && (!Number.isInteger(n) || n < 1))) {
    throw new Error(`${name} must be a ${integer ? 'positive integer' : 'number >= 0'}, got "${text}"`);
  }
  return n;
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
export const mib = (bytes: number) => bytes / 1024 / 1024;
export const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};

