/**
 * The simulated meter's physics: power and energy as pure functions of real time and a seed (the
 * meter id), so any past instant reads the same value today, tomorrow and after a restart. A client
 * that was offline fetches the missing load-profile intervals later and gets exactly what the
 * registers read at those instants.
 *
 *   P(t) = a + b * sin(w s + phi)           W, always > 0 (b < a), w = one cycle per day, s = seconds since ORIGIN
 *   E(t) = E0 + (a s + (b / w) (cos phi - cos(w s + phi))) / 3600     Wh, the integral of P: rises monotonically
 * Import and export each have their own a, b, phi and E0 drawn from a hash of the seed.
 */
import crypto from 'node:crypto';

/** Energy counts from 2020-01-01 00:00 UTC; earlier instants read E0. */
export const ENERGY_ORIGIN_MS = Date.UTC(2020, 0, 1);
const OMEGA = (2 * Math.PI) / 86_400;

interface Wave { a: number; b: number; phi: number; e0: number }

export interface MeterPhysics {
  /** Active energy import (1.8.0) and export (2.8.0) in Wh at epoch ms `t` (real time). */
  importWh(t: number): number;
  exportWh(t: number): number;
  /** Active power import / export in W at `t`. */
  importW(t: number): number;
  exportW(t: number): number;
  /** Phase voltage in V at `t` (230 V +- 5 V). */
  voltage(t: number): number;
}

function energy(w: Wave, t: number): number {
  const s = Math.max(0, (t - ENERGY_ORIGIN_MS) / 1000);
  return w.e0 + (w.a * s + (w.b / OMEGA) * (Math.cos(w.phi) - Math.cos(OMEGA * s + w.phi))) / 3600;
}
function power(w: Wave, t: number): number {
  return w.a + w.b * Math.sin(OMEGA * ((t - ENERGY_ORIGIN_MS) / 1000) + w.phi);
}

/** The physics of the meter with this seed (any text, usually the meter id). */
export function meterPhysics(seed: string): MeterPhysics {
  const h = crypto.createHash('sha256').update(`dlms-sim:${seed}`).digest();
  const imp: Wave = { a: 800 + h[0] * 8, b: 0, phi: (h[1] / 256) * 2 * Math.PI, e0: h[2] * 1000 };
  imp.b = imp.a * (0.3 + h[3] / 512);
  const exp: Wave = { a: 100 + h[4] * 2, b: 0, phi: (h[5] / 256) * 2 * Math.PI, e0: h[6] * 100 };
  exp.b = exp.a * 0.9;
  const vPhi = (h[7] / 256) * 2 * Math.PI;
  return {
    importWh: (t) => energy(imp, t),
    exportWh: (t) => energy(exp, t),
    importW: (t) => power(imp, t),
    exportW: (t) => power(exp, t),
    voltage: (t) => 230 + 5 * Math.sin(OMEGA * 7 * ((t - ENERGY_ORIGIN_MS) / 1000) + vPhi),
  };
}
