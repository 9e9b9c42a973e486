/**
 * One simulated meter behind the gateway: live values that follow the clock (energy only rises,
 * powers vary, P = U*I*PF per phase, tariffs and lines sum to the total, net = import - export)
 * plus the meter's settable state (ratios, conversion factors, tariff, I/O, alarms, storage config).
 */
import type { G13MeterSpec } from './types';

export type Pair = [string, string];

const fix = (v: number, d: number): string => v.toFixed(d);

/** Splits a total (in 1/100) into shares that sum exactly to it. */
function split(totalCents: number, weights: number[]): number[] {
  const sum = weights.reduce((a, b) => a + b, 0);
  const out = weights.map((w) => Math.floor((totalCents * w) / sum));
  out[out.length - 1] += totalCents - out.reduce((a, b) => a + b, 0);
  return out;
}

export interface PulseOut { port: number; length: number; frequency: number; energytype: number }
export interface AlarmConf { id: number; quantity?: number; onthreshold?: number; offthreshold?: number; ondelay?: number; offdelay?: number; log?: boolean; output?: number }

export class SimMeter {
  readonly spec: G13MeterSpec;
  readonly t0: number;
  registered: boolean;
  alias: string;
  location: string;
  /** Meter clock offset from the gateway clock, ms; unset clock until a POST (status "set" by default). */
  clockOffset = 0;
  dst = { enable: true, start: { month: 3, day: 1, week: 5, hour: 2 }, end: { month: 10, day: 1, week: 5, hour: 3 } };
  ratio = { ctnum: 1, ctdenum: 1, vtnum: 1, vtdenum: 1 };
  conversion = { co2: 1.123, currency: 100.789 };
  resetAt = { activeimport: 0, activeexport: 0, reactiveimport: 0, reactiveexport: 0 };
  resetCount = { activeimport: 0, activeexport: 0, reactiveimport: 0, reactiveexport: 0 };
  tariff = { source: 0, tariff: 1, inputconfig: [1, 2, 3, 4] };
  ioconfig: number[] = [3, 5, 2, 0];
  io = [{ state: 0, stored: 0, counter: 0 }, { state: 0, stored: 0, counter: 0 }, { state: 0, stored: 0, counter: 0 }, { state: 0, stored: 0, counter: 292939 }];
  pulse: PulseOut[] = [
    { port: 1, length: 100, frequency: 10000, energytype: 0 }, { port: 255, length: 100, frequency: 10000, energytype: 1 },
    { port: 255, length: 100, frequency: 10000, energytype: 2 }, { port: 255, length: 100, frequency: 10000, energytype: 3 },
  ];
  alarms: AlarmConf[] = Array.from({ length: 25 }, (_, i) => (i === 0
    ? { id: 1, quantity: 75, onthreshold: 260, offthreshold: 250, ondelay: 10, offdelay: 10, log: true, output: 3 }
    : { id: i + 1 }));
  pvConfig = { interval: 'daily', weekday: 1, pvconfig: [1, 2] };
  lpConfig: [number, number, number][] = [[900, 1, 10000], [900, 2, 10000], [3600, 69, 5000], [3600, 70, 5000], [3600, 71, 2000], [3600, 72, 2000], [86400, 73, 1000], [86400, 74, 1000]];
  dmConfig = { dmc: [[93, 5], [93, 6], [93, 7]] as [number, number][], interval: [900, 60] as [number, number], period: 'weekly', weekday: 1 };
  /** Stored data erased at this time (reconfiguration or DELETE); records before it are gone. */
  erased = { pv: 0, lp: 0, dm: 0 };
  dayprofiles: { profile: number; actions: [number, string][] }[] = [
    { profile: 1, actions: [[1, '06:00'], [2, '22:00']] }, { profile: 2, actions: [[2, '00:00']] },
  ];
  weekprofiles = [{ profile: 'Week1', dayid: [1, 1, 1, 1, 1, 2, 2] }];
  seasonprofiles = [{ profile: 'Summer', day: 1, month: 4, weekprofile: 'Week1' }, { profile: 'Winter', day: 1, month: 10, weekprofile: 'Week1' }];
  specialdays = [{ profile: 1, dayprofile: 2, date: { year: 65535, month: 12, week: 255, day: 25 } }];
  /** Protected storage: DELETE of stored values answers READ_WRITE_DENIED (inside a 200). */
  protectedStorage = false;

  constructor(spec: G13MeterSpec, now: number) {
    this.spec = { ...spec };
    this.t0 = now;
    this.registered = spec.registered !== false;
    this.alias = spec.alias ?? spec.serial;
    this.location = spec.location ?? 'Level1';
  }

  get water(): boolean { return this.spec.kind === 'water'; }
  get label(): string { return this.spec.label ?? (this.water ? '' : 'A44 512-100'); }
  /** Annexure 1: Z digit 1 or 2 = single phase. */
  get phases(): number { const z = this.label[2]; return z === '1' || z === '2' ? 1 : 3; }
  /** Annexure 1: A digit 5 = Platinum (harmonics). */
  get platinum(): boolean { return this.label[4] === '5'; }
  get numericSerial(): number { let h = 0; for (const c of this.spec.serial) h = (h * 31 + c.charCodeAt(0)) % 100000000; return h; }

  /** Hours since the simulator started (negative for stored history before it). */
  private hours(now: number): number { return (now - this.t0) / 3.6e6; }
  private meanPower(): number { return this.spec.power ?? 1000; }

  /** Active energy import total, kWh (water: m3), rising with the clock. */
  importKwh(now: number): number {
    return Math.max(0, (this.spec.startEnergy ?? 1000) + (this.meanPower() * this.hours(now)) / 1000);
  }
  exportKwh(now: number): number { return Math.max(0, (this.spec.startEnergy ?? 1000) * 0.02 + (this.meanPower() * 0.01 * this.hours(now)) / 1000); }

  /** Per-phase active power, W, varying around the mean with a 5-minute period. */
  phasePower(now: number): number[] {
    const n = this.phases;
    return Array.from({ length: n }, (_, i) => Math.round((this.meanPower() / n) * (1 + 0.15 * Math.sin((2 * Math.PI * now) / 300000 + i * 2.1))));
  }
  voltage(now: number): number[] { return Array.from({ length: this.phases }, (_, i) => 230 + 2.5 * Math.sin(now / 60000 + i)); }
  pf(now: number): number[] { return Array.from({ length: this.phases }, (_, i) => 0.95 + 0.03 * Math.sin(now / 90000 + i)); }
  frequency(now: number): number { return 50 + 0.03 * Math.sin(now / 45000); }

  /** GET /energy/<type>: import/export with lines and tariffs, net with lines. */
  energy(type: 'active' | 'reactive' | 'apparent', now: number): Record<string, Record<string, Pair>> {
    const k = type === 'active' ? 1 : type === 'reactive' ? 0.33 : 1.05;
    const unit = type === 'active' ? 'kWh' : type === 'reactive' ? 'kvarh' : 'kVAh';
    const imp = Math.round(this.importKwh(now) * k * 100);
    const exp = Math.round(this.exportKwh(now) * k * 100);
    const lw = this.phases === 1 ? [1] : [34, 33, 33];
    const il = split(imp, lw), el = split(exp, lw);
    const it = split(imp, [60, 30, 10, 0]), et = split(exp, [60, 30, 10, 0]);
    const pair = (c: number): Pair => [fix(c / 100, 2), unit];
    const group = (lines: number[], tar: number[] | null, total: number) => {
      const o: Record<string, Pair> = {};
      lines.forEach((c, i) => { o[`l${i + 1}`] = pair(c); });
      if (tar) tar.forEach((c, i) => { o[`t${i + 1}`] = pair(c); });
      o.total = pair(total);
      return o;
    };
    return {
      importenergy: group(il, it, imp),
      exportenergy: group(el, et, exp),
      netenergy: group(il.map((c, i) => c - el[i]), null, imp - exp),
    };
  }

  /** GET /power: W integers for active, reactive and apparent (the manual prints "W" for all three). */
  power(now: number): Record<string, Record<string, Pair>> {
    const p = this.phasePower(now), pf = this.pf(now);
    const s = p.map((v, i) => Math.round(v / pf[i]));
    const q = p.map((v, i) => Math.round(Math.sqrt(Math.max(0, s[i] * s[i] - v * v))));
    const group = (vals: number[]) => {
      const o: Record<string, Pair> = {};
      vals.forEach((v, i) => { o[`l${i + 1}`] = [String(v), 'W']; });
      o.total = [String(vals.reduce((a, b) => a + b, 0)), 'W'];
      return o;
    };
    return { active: group(p), reactive: group(q), apparent: group(s) };
  }

  /** GET /instrument: U, I, PF and angles per phase; line-to-line voltages; neutral; frequency. */
  instrument(now: number): Record<string, Record<string, Pair>> {
    const u = this.voltage(now), pf = this.pf(now), p = this.phasePower(now);
    const out: Record<string, Record<string, Pair>> = {};
    let pTot = 0, sTot = 0;
    for (let i = 0; i < this.phases; i++) {
      const current = p[i] / (u[i] * pf[i]);
      const ang = (Math.acos(pf[i]) * 180) / Math.PI;
      pTot += p[i]; sTot += p[i] / pf[i];
      out[`l${i + 1}`] = {
        current: [fix(current, 2), 'A'], currentquadrant: ['1', ''], phaseanglecurrent: [fix(-ang + i * -120, 1), 'deg'],
        phaseanglepower: [fix(ang, 2), 'deg'], phaseanglevoltage: [fix(i * -120, 1), 'deg'], powerfactor: [fix(pf[i], 3), ''], voltage: [fix(u[i], 1), 'V'],
      };
    }
    if (this.phases === 3) {
      out['l1-l2'] = { voltage: [fix((u[0] + u[1]) / 2 * Math.sqrt(3), 1), 'V'] };
      out['l2-l3'] = { voltage: [fix((u[1] + u[2]) / 2 * Math.sqrt(3), 1), 'V'] };
      out['l1-l3'] = { voltage: [fix((u[0] + u[2]) / 2 * Math.sqrt(3), 1), 'V'] };
      out.neutral = { current: [fix(Math.abs(p[0] - p[1]) / 230 * 0.5, 2), 'A'] };
    }
    const pft = sTot ? pTot / sTot : 1;
    out.total = { currentquadrant: ['1', ''], phaseanglepower: [fix((Math.acos(Math.min(1, pft)) * 180) / Math.PI, 2), 'deg'], powerfactor: [fix(pft, 3), ''] };
    out.frequency = { frequency: [fix(this.frequency(now), 2), 'Hz'] };
    return out;
  }

  /** Harmonics in % (Platinum only): 16 harmonics plus THD per line. */
  harmonics(kind: 'voltage' | 'current', now: number): Record<string, { harmonics: string[]; thd: string }> {
    const keys = kind === 'voltage' ? ['l1', 'l2', 'l3', 'l1-l2', 'l2-l3', 'l1-l3'] : ['l1', 'l2', 'l3', 'neutral'];
    const out: Record<string, { harmonics: string[]; thd: string }> = {};
    keys.forEach((k, j) => {
      const h = Array.from({ length: 16 }, (_, n) => (n === 0 ? 100 : (n % 2 === 0 ? (kind === 'voltage' ? 1.8 : 6) / (n + 1) : 0.1) * (1 + 0.1 * Math.sin(now / 60000 + j))));
      const thd = Math.sqrt(h.slice(1).reduce((a, b) => a + b * b, 0));
      out[k] = { harmonics: h.map((v) => fix(v, 1)), thd: fix(thd, 1) };
    });
    return out;
  }

  /** Resettable registers, Wh with 3 decimals since the last reset. */
  resettable(now: number): Record<string, Pair> {
    const wh = (kwhNow: number, at: number, kwhAt: number) => [fix(Math.max(0, kwhNow - (at ? kwhAt : 0)) * 1000, 3), 'Wh'] as Pair;
    return {
      activeexport: wh(this.exportKwh(now), this.resetAt.activeexport, this.exportKwh(this.resetAt.activeexport)),
      activeimport: wh(this.importKwh(now), this.resetAt.activeimport, this.importKwh(this.resetAt.activeimport)),
    };
  }
}
