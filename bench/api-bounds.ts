/**
 * `npm run bench:bounds`: a yearly bill over 15-minute data (one meter, 1-0:1.8.0, 35,041 readings
 * in a sqlite file, Europe/Berlin, a day/night tariff), the old path against the new, side by side in
 * one run (alternating, order swapped each round):
 *   old  one store query, meterBill in one synchronous pass, every local time from Intl (useOffsetCache(false))
 *   new  billedReadingsFromStore a week at a time + meterBillPaced (the event loop runs every few ms), offset cache on
 * Printed per side: mean time per bill and the longest the event loop was held (a 1 ms interval timer's
 * largest gap). ratio = old time / new time. Environment: BENCH_ROUNDS (3). The last line of stdout is JSON.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { meterBill, meterBillPaced } from '../lib/billing/bill';
import { billedReadingsFromStore } from '../lib/billing/store-readings';
import type { Reading } from '../lib/model/reading';
import { SqliteStore } from '../lib/store/sqlite';
import { fromLocal, useOffsetCache } from '../lib/model/time';
import { validateTariff } from '../lib/tariff';
import { touTariff } from '../test/lib/billing-fixtures';

const TZ = 'Europe/Berlin';
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const FROM = fromLocal({ year: 2026, month: 1, day: 1, hour: 0, minute: 0, second: 0, millisecond: 0 }, TZ);
const TO = fromLocal({ year: 2027, month: 1, day: 1, hour: 0, minute: 0, second: 0, millisecond: 0 }, TZ);

/** Runs `f`, answering its time and the longest event loop gap seen by a 1 ms timer meanwhile. */
async function measure(f: () => Promise<string>): Promise<{ ms: number; maxGapMs: number; total: string }> {
  let last = performance.now();
  let maxGap = 0;
  const timer = setInterval(() => {
    const now = performance.now();
    maxGap = Math.max(maxGap, now - last);
    last = now;
  }, 1);
  const t0 = performance.now();
  const total = await f();
  const ms = performance.now() - t0;
  maxGap = Math.max(maxGap, performance.now() - last);
  clearInterval(timer);
  return { ms, maxGapMs: maxGap, total };
}

async function main(): Promise<void> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-bounds-'));
  const store = new SqliteStore({ path: path.join(dir, 'readings.sqlite') });
  try {
    const rows: Reading[] = [];
    let v = 1000;
    for (let t = FROM, i = 0; t <= TO; t += 900_000, i++) {
      rows.push({ meter: 'M', obis: '1-0:1.8.0', time: t, value: Math.round(v * 1000) / 1000, unit: 'kWh' });
      v += 0.25 + (i % 7) / 10;
    }
    await store.write(rows);
    const tariff = validateTariff(touTariff());
    const old = async () => {
      useOffsetCache(false);
      try {
        const before = (await store.query({ meter: 'M', obis: '1-0:1.8.0', from: FROM - 31 * 86_400_000, to: FROM + 1 })) as Reading[];
        const after = (await store.query({ meter: 'M', obis: '1-0:1.8.0', from: FROM + 1, to: TO + 1 })) as Reading[];
        return meterBill({ tariff, meter: 'M', from: FROM, to: TO, readings: [...before.slice(-1), ...after] }).totals.total;
      } finally {
        useOffsetCache(true);
      }
    };
    const paced = async () => (await meterBillPaced({ tariff, meter: 'M', from: FROM, to: TO, readings: await billedReadingsFromStore(store, 'M', FROM, TO) })).totals.total;
    await paced(); // warm-up (JIT) for both sides alike
    await old();
    const sides = { old: [] as Awaited<ReturnType<typeof measure>>[], new: [] as Awaited<ReturnType<typeof measure>>[] };
    for (let r = 0; r < ROUNDS; r++) {
      const order = r % 2 === 0 ? (['old', 'new'] as const) : (['new', 'old'] as const);
      for (const side of order) sides[side].push(await measure(side === 'old' ? old : paced));
    }
    const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
    const summary = Object.fromEntries(Object.entries(sides).map(([k, v]) => [k, { ms: Math.round(mean(v.map((x) => x.ms))), maxGapMs: Math.round(Math.max(...v.map((x) => x.maxGapMs))), total: v[0].total }]));
    if (summary.old.total !== summary.new.total) throw new Error(`the totals differ: old ${summary.old.total}, new ${summary.new.total}`);
    const ratio = Math.round((summary.old.ms / summary.new.ms) * 10) / 10;
    console.log(`yearly bill, ${rows.length} readings of one meter, ${ROUNDS} rounds (total ${summary.new.total} EUR both sides)`);
    for (const [k, v] of Object.entries(summary)) console.log(`  ${k.padEnd(4)} ${String(v.ms).padStart(6)} ms per bill, event loop held at most ${v.maxGapMs} ms`);
    console.log(`  ratio old/new time: ${ratio}x`);
    console.log(JSON.stringify({ readings: rows.length, rounds: ROUNDS, ...summary, ratio }));
  } finally {
    await store.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
