// Shared by the store-write benchmark's processes: sides, readings, messages, small helpers.
import path from 'node:path';
import type { Reading } from '../../lib/model';

export const ROOT = path.resolve(__dirname, '..', '..', '..');

export const SIDES = ['sqlite-bare', 'sqlite-node', 'vm-bare', 'vm-bare-plain', 'vm-node', 'influx1-ems', 'influx1-contrib'] as const;
export type Side = (typeof SIDES)[number];

export interface WorkerConfig {
  side: Side;
  /** The side's name in this run: the side, or "side#2" when BENCH_SIDES names it again. */
  label: string;
  root: string;
  readings: number;
  /** Lines / rows per write request or transaction. */
  batch: number;
  /** Readings per msg into ems-store-write. */
  perMsg: number;
  /** Readings in flight (sent, not yet acknowledged) on the node sides. */
  window: number;
  /** Server URL (vm-*, influx1-*). */
  url?: string;
  /** InfluxDB 1.x database (influx1-*). */
  database?: string;
  /** sqlite file (sqlite-bare). */
  file?: string;
}

/** One slice of a side: readings [from, to) written, timed and acknowledged. */
export interface SliceResult {
  seconds: number;
  acked: number;
  errors: number;
  firstError?: string;
  cpuMs: number;
}

export interface Result {
  side: Side;
  label: string;
  seconds: number;
  acked: number;
  errors: number;
  firstError?: string;
  cpuMs: number;
  setupMs: number;
  maxRss: number;
  /** Rows in the sqlite file after the run (sqlite sides; the orchestrator asks the servers). */
  verified?: number;
}

export type FromWorker =
  | { type: 'ready'; setupMs: number }
  | { type: 'slice'; slice: SliceResult }
  | { type: 'closed'; maxRss: number; verified?: number }
  | { type: 'error'; message: string };
export type ToWorker = { cmd: 'run'; from: number; to: number } | { cmd: 'close' };

export function envNumber(name: string, fallback: number): number {
  const text = process.env[name];
  if (text === undefined || text === '') return fallback;
  const n = Number(text);
  if (!Number.isInteger(n) || n < 1) throw new Error(`${name} must be a positive integer, got "${text}"`);
  return n;
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
export const mib = (bytes: number) => bytes / 1024 / 1024;

/** Fixed start of the readings' time axis (a past instant: no server treats it as "now"). */
export const T0 = Date.UTC(2024, 0, 1);
export const METERS = 100;
export const CODES: readonly [string, string][] = [
  ['1-0:1.8.0', 'kWh'], ['1-0:2.8.0', 'kWh'], ['1-0:1.7.0', 'kW'], ['1-0:2.7.0', 'kW'], ['1-0:32.7.0', 'V'],
  ['1-0:52.7.0', 'V'], ['1-0:72.7.0', 'V'], ['1-0:31.7.0', 'A'], ['1-0:51.7.0', 'A'], ['1-0:71.7.0', 'A'],
];
const METER_IDS = Array.from({ length: METERS }, (_, i) => `meter-${String(i).padStart(3, '0')}`);

/**
 * Reading i of the run: meters x codes = 1000 series, one point per series per second, so every
 * (meter, obis, time) is distinct and each store ends up with exactly `readings` points.
 */
export function reading(i: number): Reading {
  const [obis, unit] = CODES[Math.floor(i / METERS) % CODES.length];
  return { meter: METER_IDS[i % METERS], obis, time: T0 + Math.floor(i / (METERS * CODES.length)) * 1000, value: 1000 + (i % 9973) * 0.125, unit };
}

export function readings(from: number, count: number): Reading[] {
  const out: Reading[] = new Array(count);
  for (let k = 0; k < count; k++) out[k] = reading(from + k);
  return out;
}
