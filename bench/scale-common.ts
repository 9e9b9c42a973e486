// Shared by bench:scale's processes: the meter layout, settings from the environment, /proc readings of a
// process, percentiles, named deadlines and the children to stop on exit.
import type { ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';

export const ROOT = path.resolve(__dirname, '..', '..');
/** Profiles without a register log (one plain poll each), round-robin over the meters. */
export const PROFILES = ['eastron-sdm630', 'abb-a44', 'carlo-gavazzi-em24', 'schneider-iem3000', 'eastron-sdm120'];
export const ENERGY = '1-0:1.8.0';

/** One meter as both sides poll it: its id (which fixes its phase in the interval), where it answers and its schedule. */
export interface ScaleMeter { id: string; portIndex: number; unit: number; profile: string; interval: number }

/** A fleet size: meters polled every `interval` seconds. */
export interface ScaleSize { meters: number; interval: number }

export function envNumber(name: string, fallback: number, min = 0): number {
  const text = process.env[name];
  if (text === undefined || text.trim() === '') return fallback;
  const n = Number(text);
  if (!Number.isFinite(n) || n < min) throw new Error(`${name} must be a number >= ${min}, got ${JSON.stringify(text)}`);
  return n;
}

/** BENCH_SCALE_SIZES: "METERS@SECONDS,..." (default 1000@10,10000@60). */
export function parseSizes(text = process.env.BENCH_SCALE_SIZES ?? '1000@10,10000@60'): ScaleSize[] {
  return text.split(',').map((s) => s.trim()).filter(Boolean).map((item) => {
    const m = /^(\d+)@(\d+)$/.exec(item);
    if (!m || Number(m[1]) < 1 || Number(m[2]) < 2) throw new Error(`BENCH_SCALE_SIZES: ${JSON.stringify(item)} is not METERS@SECONDS (e.g. 1000@10, at least 1 meter and 2 s)`);
    return { meters: Number(m[1]), interval: Number(m[2]) };
  });
}

/** `count` meters, `perPort` unit ids (1..perPort) on each simulator port. */
export function layoutMeters(count: number, perPort: number, interval: number): ScaleMeter[] {
  return Array.from({ length: count }, (_, i) => {
    const portIndex = Math.floor(i / perPort);
    const unit = (i % perPort) + 1;
    return { id: `scale-p${portIndex}-u${unit}`, portIndex, unit, profile: PROFILES[i % PROFILES.length], interval };
  });
}

/** A meter's definition fields as POST /api/meters takes them (the bare side checks the same fields into the same definition). */
export function meterFields(m: ScaleMeter, port: number): Record<string, unknown> {
  return { name: m.id, protocol: 'modbus-tcp', ip_address: '127.0.0.1', port, connection_address: String(m.unit), profile: m.profile, interval_time: m.interval };
}

/** The body POST /api/meters takes for a meter: its id, its folder and its fields. */
export function meterBody(m: ScaleMeter, port: number, folderId: string): Record<string, unknown> {
  return { _id: m.id, folder_id: folderId, ...meterFields(m, port) };
}

const CLOCK_TICKS = 100; // USER_HZ on Linux

/** A process's user + system CPU so far, ms (from /proc/PID/stat). */
export function procCpuMs(pid: number): number {
  const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / CLOCK_TICKS; // utime, stime (fields 14, 15)
}

/** VmRSS and VmHWM (peak) of a process, bytes (from /proc/PID/status). */
export function procMemory(pid: number): { rss: number; peak: number } {
  const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (name: string) => Number(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN) * 1024;
  return { rss: kb('VmRSS'), peak: kb('VmHWM') };
}

/** The ids of a process's direct children (/proc/PID/task/PID/children). */
export function procChildren(pid: number): number[] {
  try {
    return fs.readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
  } catch {
    return [];
  }
}

/** The p-quantile (0..1) of `xs`, nearest rank; NaN when empty. */
export function quantile(xs: number[], p: number): number {
  if (!xs.length) return NaN;
  const s = Float64Array.from(xs).sort();
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil(p * s.length) - 1))];
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
export const mib = (bytes: number) => bytes / 1024 / 1024;

/** `work`, or a failure naming what was awaited after `ms`. */
export async function within<T>(what: string, ms: number, work: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => { timer = setTimeout(() => reject(new Error(`${what}: not within ${ms} ms`)), ms); });
  try {
    return await Promise.race([work, late]);
  } finally {
    clearTimeout(timer);
  }
}

/** Polls `probe` every 200 ms until it answers a value; fails after `ms` naming what it waited for and the last thing seen. */
export async function until<T>(what: string, ms: number, probe: () => { value?: T; seen: string }): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const r = probe();
    if (r.value !== undefined) return r.value;
    if (Date.now() > deadline) throw new Error(`${what}: not within ${ms} ms; last seen: ${r.seen.slice(-2000)}`);
    await sleep(200);
  }
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
  });
}

/** Every child process the bench started, killed on exit, on failure and on Ctrl-C (and extra pids, such as Node-RED under start.js). */
const children = new Set<ChildProcess>();
const extraPids = new Set<number>();
const tempDirs = new Set<string>();
export function track(child: ChildProcess): ChildProcess {
  children.add(child);
  child.once('exit', () => children.delete(child));
  return child;
}
export function trackPid(pid: number): void {
  extraPids.add(pid);
}
/** A temp directory removed on exit (also after a failure or Ctrl-C). */
export function trackDir(dir: string): string {
  tempDirs.add(dir);
  return dir;
}
export function killAll(): void {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  for (const pid of extraPids) {
    try { process.kill(pid, 'SIGKILL'); } catch { /* gone already */ }
  }
  extraPids.clear();
  for (const dir of tempDirs) fs.rmSync(dir, { recursive: true, force: true });
  tempDirs.clear();
}
/** In the orchestrator: everything started is killed when it exits, fails or is interrupted. */
export function installCleanup(): void {
  process.on('exit', killAll);
  for (const signal of ['SIGINT', 'SIGTERM'] as const) process.on(signal, () => { killAll(); process.exit(130); });
}

/** Stops a child with SIGTERM (SIGKILL after `ms`) and waits for its exit. */
export async function stopChild(child: ChildProcess, what: string, ms = 15_000, signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  child.kill(signal);
  const timer = setTimeout(() => { process.stderr.write(`[scale] ${what} did not stop within ${ms} ms: killed\n`); child.kill('SIGKILL'); }, ms);
  await within(`${what} to exit after SIGKILL`, ms + 5000, exited).finally(() => clearTimeout(timer));
}

/** A GET or POST with a deadline: status, parsed JSON body and the time to the whole answer, ms. */
export async function timedJson(url: string, init: RequestInit & { timeoutMs?: number } = {}): Promise<{ status: number; body: any; ms: number }> {
  const started = performance.now();
  const res = await fetch(url, { ...init, signal: AbortSignal.timeout(init.timeoutMs ?? 120_000) })
    .catch((err: Error) => { throw new Error(`${init.method ?? 'GET'} ${url}: ${err.name === 'TimeoutError' ? `no answer within ${init.timeoutMs ?? 120_000} ms` : err.message}`); });
  const text = await res.text();
  const ms = performance.now() - started;
  let body: unknown = text;
  try { body = JSON.parse(text); } catch { /* not JSON: keep the text */ }
  return { status: res.status, body, ms };
}
