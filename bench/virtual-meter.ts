/**
 * `npm run bench:virtual`: what a virtual meter's answer costs next to its meters' own queries (issue 18;
 * goal: a virtual meter costs about the sum of its meters' queries, ratio ~1).
 *
 * A SqliteStore (temp file) holds METERS meters with a year of 15-minute 1-0:1.8.0 readings (35,040 each);
 * a virtual meter is their weighted sum (m0 - m1 + 0.5 * m2 ...). In alternating order, per repetition:
 *   components  each meter's own query, one after the other (the baseline)
 *   virtual     the same query on the virtual meter through withVirtualMeters (a fresh wrapper: no cache)
 * for fn=delta per hour (8,760 windows), fn=delta per day, and a raw week of register readings.
 * Figures are medians over the repetitions (the first is a warm-up); the ratio is virtual / components.
 *
 * Environment: BENCH_METERS (3), BENCH_REPS (5, plus the warm-up). The last line of stdout is JSON.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Reading } from '../lib/model';
import { withVirtualMeters } from '../lib/ems/virtual-store';
import { SqliteStore } from '../lib/store/sqlite';
import type { RangeQuery } from '../lib/store/types';

const METERS = Number(process.env.BENCH_METERS ?? 3);
const REPS = Number(process.env.BENCH_REPS ?? 5);
const FROM = Date.UTC(2025, 0, 1);
const TO = Date.UTC(2026, 0, 1);
const STEP = 15 * 60_000;
const H = 3_600_000;

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

async function main(): Promise<void> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-virtual-'));
  const store = new SqliteStore({ path: path.join(dir, 'readings.db') });
  try {
    const ids = Array.from({ length: METERS }, (_, i) => `m${i}`);
    for (const [i, meter] of ids.entries()) {
      const batch: Reading[] = [];
      let v = 1000 * (i + 1);
      for (let t = FROM, k = 0; t < TO + H; t += STEP, k++) {
        // meters read a few seconds apart, as polls do; consumption varies per quarter hour
        batch.push({ meter, time: t + i * 7_000, obis: '1-0:1.8.0', value: Math.round(v * 1000) / 1000, unit: 'kWh' });
        v += 0.5 + ((k * (i + 3)) % 11) * 0.13;
      }
      await store.write(batch);
    }
    const terms = ids.map((meter, i) => ({ meter, coefficient: i === 0 ? 1 : i % 2 ? -1 : 0.5 }));
    const resolve = (m: string) => (m === 'virtual' ? terms : null);
    const cases: [string, Omit<RangeQuery, 'meter'>][] = [
      ['delta per hour, a year', { obis: '1-0:1.8.0', from: FROM, to: TO, window: { every: H, fn: 'delta' }, timeZone: 'UTC' }],
      ['delta per day, a year', { obis: '1-0:1.8.0', from: FROM, to: TO, window: { every: 24 * H, fn: 'delta' }, timeZone: 'UTC' }],
      ['raw register, a week', { obis: '1-0:1.8.0', from: FROM + 100 * 24 * H, to: FROM + 107 * 24 * H }],
    ];
    const results: Record<string, { components_ms: number; virtual_ms: number; ratio: number; rows: number }> = {};
    for (const [name, q] of cases) {
      const comp: number[] = [];
      const virt: number[] = [];
      let rows = 0;
      for (let rep = 0; rep <= REPS; rep++) {
        const runComponents = async () => {
          const t0 = performance.now();
          for (const meter of ids) await store.query({ ...q, meter });
          return performance.now() - t0;
        };
        const runVirtual = async () => {
          const t0 = performance.now();
          rows = (await withVirtualMeters(store, resolve).query({ ...q, meter: 'virtual' })).length;
          return performance.now() - t0;
        };
        let c: number;
        let v: number;
        if (rep % 2) {
          v = await runVirtual();
          c = await runComponents();
        } else {
          c = await runComponents();
          v = await runVirtual();
        }
        if (rep === 0) continue; // warm-up
        virt.push(v);
        comp.push(c);
      }
      const c = median(comp);
      const v = median(virt);
      results[name] = { components_ms: Math.round(c * 10) / 10, virtual_ms: Math.round(v * 10) / 10, ratio: Math.round((v / c) * 100) / 100, rows };
      console.log(`${name.padEnd(24)} components ${c.toFixed(1).padStart(8)} ms   virtual ${v.toFixed(1).padStart(8)} ms   ratio ${(v / c).toFixed(2)}   (${rows} rows, ${METERS} meters)`);
    }
    console.log(JSON.stringify({ bench: 'virtual-meter', meters: METERS, readings_per_meter: Math.ceil((TO + H - FROM) / STEP), reps: REPS, results }));
  } finally {
    await store.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
