/**
 * A simulated electricity meter: a deterministic daily load profile per phase, voltages, currents,
 * power factor, frequency, and energy counters that integrate the power over simulated time.
 *
 * Everything is a function of (seed, simulated time, base-load changes made with setBaseLoad) except the
 * counters, which integrate on a fixed 10 s grid so that two models with the same seed and start read the
 * same at the same time, however often they are read. Simulated time = start + (clock() - clock at
 * construction) * speed.
 */

/** Counters the model integrates, in Wh / varh / VAh. */
export type Counter = 'A+' | 'A-' | 'Q+' | 'Q-' | 'S+' | 'S-';
export const COUNTERS: readonly Counter[] = ['A+', 'A-', 'Q+', 'Q-', 'S+', 'S-'];

export interface MeterModelOptions {
  /** Seed of the load profile, noise and initial counters (default 1; the simulator uses the unit id). */
  seed?: number;
  /** Real clock in epoch ms (default Date.now); inject one in tests. */
  clock?: () => number;
  /** Simulated seconds per real second (default 1). */
  speed?: number;
  /** Simulated epoch ms at construction (default: the clock's now). */
  start?: number;
  /** 1 or 3 phases (default 3). A single-phase meter carries the whole load on L1. */
  phases?: 1 | 3;
  /** Phase-to-neutral nominal voltage (default 230 V). */
  nominalVoltage?: number;
  /** Nominal frequency (default 50 Hz). */
  nominalFrequency?: number;
  /** Base load over all phases in W (default 300..500 W depending on the seed). */
  baseLoadW?: number;
  /** Height of the evening peak in W (default 2000..3000 W); the morning peak is 60 % of it. */
  peakW?: number;
  /** Peak of a PV generator behind the meter in W (default 0: no export). */
  pvPeakW?: number;
  /** Local time offset from UTC in minutes for the tariff clock and the daily profile (default: this process's zone). */
  utcOffsetMinutes?: number;
  /** Tariff 1 hours [from, to) in local time (default 6..22); tariff 2 the rest of the day. */
  tariff1Hours?: [number, number];
  /** Initial active import energy in kWh (default 1000..10000 depending on the seed). */
  initialImportKWh?: number;
}

/** Instantaneous values at one moment, per phase (index 0..2) and in total. */
export interface MeterSnapshot {
  /** Simulated epoch ms. */
  time: number;
  phases: 1 | 3;
  /** Phase-to-neutral voltage, V. */
  voltage: number[];
  /** Current, A. */
  current: number[];
  /** Signed active power (import positive), W. */
  power: number[];
  /** Reactive power, var (inductive positive). */
  reactive: number[];
  /** Apparent power, VA. */
  apparent: number[];
  /** Power factor 0.9..0.99. */
  pf: number[];
  frequency: number;
  /** Same values without noise (for average-demand registers), W. */
  smoothPower: number[];
  /** Counters per phase and tariff: counters[c][phase][tariff index 0 = T1, 1 = T2], in Wh/varh/VAh. */
  counters: Record<Counter, number[][]>;
  /** The tariff (1 or 2) in force. */
  tariff: 1 | 2;
}

const BUCKET_MS = 10_000;
const MAX_STEPS = 200_000;

/** Deterministic noise in [-1, 1) from three integers. */
export function noise(a: number, b: number, c: number): number {
  let h = Math.imul(a ^ 0x9e3779b9, 0x85ebca6b) ^ Math.imul(b | 0, 0xc2b2ae35) ^ Math.imul(c ^ 0x165667b1, 0x27d4eb2f);
  h ^= h >>> 16;
  h = Math.imul(h, 0x7feb352d);
  h ^= h >>> 15;
  h = Math.imul(h, 0x846ca68b);
  h ^= h >>> 16;
  return (h >>> 0) / 2147483648 - 1;
}

function gauss(x: number, mu: number, sigma: number): number {
  // Distance on the 24 h circle so a peak near midnight wraps.
  let d = Math.abs(x - mu) % 24;
  if (d > 12) d = 24 - d;
  return Math.exp(-(d * d) / (2 * sigma * sigma));
}

export class MeterModel {
  readonly seed: number;
  readonly phases: 1 | 3;
  readonly speed: number;
  readonly nominalVoltage: number;
  readonly nominalFrequency: number;
  private readonly clock: () => number;
  private readonly realStart: number;
  private readonly simStart: number;
  private baseLoadW: number;
  private readonly peakW: number;
  private readonly pvPeakW: number;
  private readonly utcOffsetMinutes?: number;
  private readonly t1: [number, number];
  private readonly shares: number[];
  /** counters[c][phase][tariff] at `integratedTo`. */
  private readonly counters: Record<Counter, number[][]>;
  private integratedTo: number;

  constructor(options: MeterModelOptions = {}) {
    const seed = options.seed ?? 1;
    if (!Number.isInteger(seed)) throw new Error(`seed must be an integer, got ${seed}`);
    const speed = options.speed ?? 1;
    if (!(Number.isFinite(speed) && speed > 0)) throw new Error(`speed must be a positive number, got ${speed}`);
    this.seed = seed;
    this.speed = speed;
    this.phases = options.phases ?? 3;
    this.clock = options.clock ?? Date.now;
    this.realStart = this.clock();
    this.simStart = options.start ?? this.realStart;
    this.nominalVoltage = options.nominalVoltage ?? 230;
    this.nominalFrequency = options.nominalFrequency ?? 50;
    const u = (k: number) => (noise(seed, 0x5eed, k) + 1) / 2; // 0..1 per seed
    this.baseLoadW = options.baseLoadW ?? 300 + 200 * u(1);
    this.peakW = options.peakW ?? 2000 + 1000 * u(2);
    this.pvPeakW = options.pvPeakW ?? 0;
    this.utcOffsetMinutes = options.utcOffsetMinutes;
    this.t1 = options.tariff1Hours ?? [6, 22];
    if (this.phases === 1) this.shares = [1, 0, 0];
    else {
      const a = 1 + 0.15 * noise(seed, 0x5eed, 3);
      const b = 1 + 0.15 * noise(seed, 0x5eed, 4);
      const c = 1 + 0.15 * noise(seed, 0x5eed, 5);
      this.shares = [a / (a + b + c), b / (a + b + c), c / (a + b + c)];
    }
    const importKWh = options.initialImportKWh ?? Math.round(1000 + 9000 * u(6));
    const init = (totalWh: number): number[][] =>
      [0, 1, 2].map((p) => [totalWh * this.shares[p] * 0.7, totalWh * this.shares[p] * 0.3]);
    const exportWh = this.pvPeakW > 0 ? importKWh * 300 : 0;
    this.counters = {
      'A+': init(importKWh * 1000),
      'A-': init(exportWh),
      'Q+': init(importKWh * 1000 * 0.25),
      'Q-': init(importKWh * 1000 * 0.02),
      'S+': init(importKWh * 1000 * 1.04),
      'S-': init(exportWh * 1.01),
    };
    this.integratedTo = this.simStart;
  }

  /** The base load over all phases, W. */
  get baseLoad(): number {
    return this.baseLoadW;
  }

  /**
   * Changes the base load from the simulated time now on (a scenario's load jump): the counters are
   * integrated up to now with the old load first, so energy already counted keeps it. Two models of the
   * same seed and start stay equal when both get the same changes at the same simulated times.
   */
  setBaseLoad(watts: number): void {
    if (!(Number.isFinite(watts) && watts >= 0)) throw new Error(`base load must be a number of watts >= 0, got ${watts}`);
    this.integrate(this.now());
    this.baseLoadW = watts;
  }

  /** The simulated time now, epoch ms. */
  now(): number {
    return this.simStart + (this.clock() - this.realStart) * this.speed;
  }

  /** Local hour of day (fractional) at simulated time t. */
  localHour(t: number): number {
    const offsetMin = this.utcOffsetMinutes ?? -new Date(t).getTimezoneOffset();
    const ms = t + offsetMin * 60_000;
    return (((ms % 86_400_000) + 86_400_000) % 86_400_000) / 3_600_000;
  }

  /** The tariff in force at simulated time t: 1 inside the tariff-1 hours, 2 otherwise. */
  tariffAt(t: number): 1 | 2 {
    const h = this.localHour(t);
    const [from, to] = this.t1;
    const inT1 = from <= to ? h >= from && h < to : h >= from || h < to;
    return inT1 ? 1 : 2;
  }

  /** Smooth total load (W) at local hour h. */
  private loadAt(h: number): number {
    return this.baseLoadW + this.peakW * (0.6 * gauss(h, 7.5, 1) + 0.25 * gauss(h, 12.5, 1.5) + gauss(h, 19, 1.5));
  }

  private pvAt(h: number): number {
    if (this.pvPeakW <= 0) return 0;
    const x = (h - 13) / 6; // sunrise ~7, sunset ~19
    return Math.abs(x) >= 1 ? 0 : this.pvPeakW * Math.cos((x * Math.PI) / 2) ** 2;
  }

  /** Per-phase values of the 10 s bucket containing t. */
  private bucket(t: number): { power: number[]; smooth: number[]; pf: number[]; tariff: 1 | 2 } {
    const k = Math.floor(t / BUCKET_MS);
    const h = this.localHour(k * BUCKET_MS);
    const load = this.loadAt(h);
    const pv = this.pvAt(h);
    const power: number[] = [];
    const smooth: number[] = [];
    const pf: number[] = [];
    for (let p = 0; p < 3; p++) {
      const s = this.shares[p];
      const net = (load - pv) * s;
      smooth.push(net);
      power.push(s === 0 ? 0 : (load * (1 + 0.04 * noise(this.seed, k, 10 + p)) - pv) * s);
      // Power factor drifts slowly over the day plus a little noise, kept within 0.9..0.99.
      const f = 0.95 + 0.03 * Math.sin((h / 24) * 2 * Math.PI * 3 + p) + 0.005 * noise(this.seed, k, 20 + p);
      pf.push(Math.min(0.99, Math.max(0.9, f)));
    }
    return { power, smooth, pf, tariff: this.tariffAt(k * BUCKET_MS) };
  }

  /** Integrates the counters up to simulated time t (never backwards). */
  private integrate(t: number): void {
    if (t <= this.integratedTo) return;
    let from = this.integratedTo;
    const buckets = Math.ceil((t - from) / BUCKET_MS);
    const stride = Math.max(1, Math.ceil(buckets / MAX_STEPS)) * BUCKET_MS;
    while (from < t) {
      const next = Math.min(t, (Math.floor(from / stride) + 1) * stride);
      const hours = (next - from) / 3_600_000;
      const b = this.bucket(from);
      const ti = b.tariff - 1;
      for (let p = 0; p < 3; p++) {
        const P = b.power[p];
        const S = Math.abs(P) / b.pf[p];
        const Q = Math.sqrt(Math.max(0, S * S - P * P));
        if (P >= 0) {
          this.counters['A+'][p][ti] += P * hours;
          this.counters['S+'][p][ti] += S * hours;
        } else {
          this.counters['A-'][p][ti] += -P * hours;
          this.counters['S-'][p][ti] += S * hours;
        }
        this.counters['Q+'][p][ti] += Q * hours;
      }
      from = next;
    }
    this.integratedTo = t;
  }

  /** Every value at simulated time t (default: now). Counters only rise: t before the last call reads the last state. */
  snapshot(t: number = this.now()): MeterSnapshot {
    this.integrate(t);
    const time = Math.max(t, this.integratedTo);
    const k = Math.floor(time / BUCKET_MS);
    const b = this.bucket(time);
    const h = this.localHour(time);
    const voltage: number[] = [];
    const current: number[] = [];
    const reactive: number[] = [];
    const apparent: number[] = [];
    for (let p = 0; p < 3; p++) {
      // Within ±2 %: a slow daily swing (lower at the evening peak) plus small noise.
      const v = this.nominalVoltage * (1 + 0.01 * Math.cos(((h - 3) / 24) * 2 * Math.PI) + 0.004 * noise(this.seed, k, 30 + p) + 0.002 * (p - 1));
      voltage.push(v);
      const S = Math.abs(b.power[p]) / b.pf[p];
      apparent.push(S);
      reactive.push(Math.sqrt(Math.max(0, S * S - b.power[p] ** 2)));
      current.push(S / v);
    }
    const frequency = this.nominalFrequency * (1 + 0.0008 * Math.sin(time / 97_000) + 0.0002 * noise(this.seed, k, 40));
    const counters = {} as Record<Counter, number[][]>;
    for (const c of COUNTERS) counters[c] = this.counters[c].map((row) => row.slice());
    return { time, phases: this.phases, voltage, current, power: b.power, reactive, apparent, pf: b.pf, frequency, smoothPower: b.smooth, counters, tariff: b.tariff };
  }
}
