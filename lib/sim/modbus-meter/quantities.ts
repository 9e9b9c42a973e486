/**
 * Maps a profile value (OBIS code, name, unit) to a quantity of the meter model, and evaluates it in
 * the value's own unit. OBIS C group: 1..20 total, 21..40 L1, 41..60 L2, 61..80 L3 (same offsets);
 * D = 8/9 energy counters, 7 (and 4/5/6/2 demand) instantaneous; E = tariff (0 total).
 */
import { parseObis } from '../../model/obis';
import { convert, unitInfo } from '../../model/units';
import type { Counter, MeterSnapshot } from './meter-model';

/** Evaluates a quantity: returns the value in `unit` (a unit of the unit table). */
export type QuantityFn = (s: MeterSnapshot) => { value: number; unit: string };

const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);

function counter(c: Counter, phase: number, tariff: number, unit: string): QuantityFn {
  return (s) => {
    const phases = phase === 0 ? [0, 1, 2] : [phase - 1];
    let v = 0;
    for (const p of phases) {
      const row = s.counters[c][p];
      v += tariff === 0 ? row[0] + row[1] : tariff <= 2 ? row[tariff - 1] : 0;
    }
    return { value: v, unit };
  };
}

function inst(pick: (s: MeterSnapshot, p: number) => number, phase: number, unit: string, total: 'sum' | 'avg' | ((s: MeterSnapshot) => number) = 'sum'): QuantityFn {
  return (s) => {
    if (phase > 0) return { value: pick(s, phase - 1), unit };
    const n = s.phases;
    const all = [0, 1, 2].slice(0, n).map((p) => pick(s, p));
    const value = typeof total === 'function' ? total(s) : total === 'sum' ? sum(all) : sum(all) / n;
    return { value, unit };
  };
}

/** A plausible constant for a value we have no model for, by the dimension of its unit (canonical units). */
const CONSTANTS: Record<string, [number, string]> = {
  'active energy': [1000, 'kWh'], 'reactive energy': [120, 'kvarh'], 'apparent energy': [1050, 'kVAh'],
  'active power': [1, 'kW'], 'reactive power': [0.3, 'kvar'], 'apparent power': [1.05, 'kVA'],
  voltage: [230, 'V'], current: [4.5, 'A'], frequency: [50, 'Hz'], ratio: [0.95, ''],
  temperature: [25, 'degC'], time: [3600, 's'], angle: [0, 'deg'], count: [1, 'count'],
};

function constant(unit: string, name: string): QuantityFn {
  let info;
  try {
    info = unitInfo(unit);
  } catch {
    return () => ({ value: 0, unit });
  }
  const lineToLine = /L\d\s*-\s*L\d|line.to.line|phase.to.phase|U\d\d\b/i.test(name);
  if (info.dimension === 'voltage' && lineToLine) {
    return inst((s, p) => s.voltage[p], 0, 'V', (s) => (Math.sqrt(3) * sum(s.voltage)) / 3);
  }
  const [value, u] = CONSTANTS[info.dimension] ?? [1, info.canonical];
  return () => ({ value, unit: u });
}

/**
 * The quantity a profile value stands for. Unknown codes (and codes whose unit does not match the
 * quantity) get a plausible constant for their unit.
 */
export function quantityFor(obis: string, name: string, unit: string): QuantityFn {
  const q = guess(obis);
  if (!q) return constant(unit, name);
  // Check the dimensions agree (a profile may give power in W for something we think is energy).
  try {
    const probe = q.dimensionUnit;
    convert(1, probe, unit);
  } catch {
    return constant(unit, name);
  }
  return q.fn;
}

function guess(obis: string): { fn: QuantityFn; dimensionUnit: string } | undefined {
  let code;
  try {
    code = parseObis(obis);
  } catch {
    return undefined;
  }
  if (code.medium !== 1) return undefined;
  const C = code.quantity;
  const D = code.processing;
  const E = code.tariff;
  if (C === 0 || C > 92) return undefined;
  if (C >= 81) {
    if (C === 90 && D === 7) return { fn: inst((s, p) => s.current[p], 0, 'A'), dimensionUnit: 'A' };
    if (C === 91 && D === 7) {
      // Neutral current: the vector sum of three currents 120° apart.
      return {
        fn: (s) => {
          const [a, b, c] = s.current;
          return { value: Math.sqrt(Math.max(0, a * a + b * b + c * c - a * b - b * c - c * a)), unit: 'A' };
        },
        dimensionUnit: 'A',
      };
    }
    return undefined;
  }
  const phase = C <= 20 ? 0 : Math.floor((C - 1) / 20); // 21..40 -> 1, 41..60 -> 2, 61..80 -> 3
  const base = C <= 20 ? C : C - phase * 20;
  const energy = D === 8 || D === 9;
  if (energy) {
    const map: Record<number, [Counter | 'net' | 'abs', string]> = {
      1: ['A+', 'Wh'], 2: ['A-', 'Wh'], 3: ['Q+', 'varh'], 4: ['Q-', 'varh'], 5: ['Q+', 'varh'], 8: ['Q-', 'varh'],
      9: ['S+', 'VAh'], 10: ['S-', 'VAh'], 15: ['abs', 'Wh'], 16: ['net', 'Wh'],
    };
    const m = map[base];
    if (!m) return undefined;
    const [c, unit] = m;
    if (c === 'net' || c === 'abs') {
      const imp = counter('A+', phase, E, 'Wh');
      const exp = counter('A-', phase, E, 'Wh');
      return { fn: (s) => ({ value: imp(s).value + (c === 'net' ? -1 : 1) * exp(s).value, unit: 'Wh' }), dimensionUnit: 'Wh' };
    }
    return { fn: counter(c, phase, E, unit), dimensionUnit: unit };
  }
  const demand = D === 4 || D === 5 || D === 6 || D === 2 || D === 14 || D === 15 || D === 24 || D === 25;
  if (D !== 7 && D !== 0 && !demand) return undefined;
  const P = demand ? (s: MeterSnapshot, p: number) => s.smoothPower[p] : (s: MeterSnapshot, p: number) => s.power[p];
  // Maximum demand registers hold the day's peak: a constant above the evening peak.
  const peak = D === 6 || D === 2;
  const power = (sel: (x: number) => number): QuantityFn => {
    const f = inst((s, p) => sel(P(s, p)), phase, 'W');
    return peak ? () => ({ value: phase === 0 ? 3500 : 1300, unit: 'W' }) : f;
  };
  switch (base) {
    case 1: return { fn: power((x) => Math.max(x, 0)), dimensionUnit: 'W' };
    case 2: return { fn: power((x) => Math.max(-x, 0)), dimensionUnit: 'W' };
    case 15: return { fn: power((x) => Math.abs(x)), dimensionUnit: 'W' };
    case 16: return { fn: power((x) => x), dimensionUnit: 'W' };
    case 3: case 5: return { fn: inst((s, p) => s.reactive[p], phase, 'var'), dimensionUnit: 'var' };
    case 4: case 6: case 7: case 8: return { fn: inst(() => 0, phase, 'var'), dimensionUnit: 'var' };
    case 9: return { fn: inst((s, p) => s.apparent[p], phase, 'VA'), dimensionUnit: 'VA' };
    case 10: return { fn: inst(() => 0, phase, 'VA'), dimensionUnit: 'VA' };
    case 11: return { fn: inst((s, p) => s.current[p], phase, 'A', 'avg'), dimensionUnit: 'A' };
    case 12: return { fn: inst((s, p) => s.voltage[p], phase, 'V', 'avg'), dimensionUnit: 'V' };
    case 13:
      return {
        fn: inst((s, p) => s.pf[p], phase, '', (s) => {
          const S = sum(s.apparent);
          return S > 0 ? Math.abs(sum(s.power)) / S : 1;
        }),
        dimensionUnit: '',
      };
    case 14: return { fn: (s) => ({ value: s.frequency, unit: 'Hz' }), dimensionUnit: 'Hz' };
    default:
      return undefined;
  }
}
