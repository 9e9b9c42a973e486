/**
 * `npm run bench:site`: a site report (lib/ems/site-report.ts, month steps, Europe/Berlin) over many meters x a
 * year of 15-minute readings in a SQLite file, against the same numbers from one bare SQL query over the
 * readings table (the register at each month edge, differences and sums in JS), side by side in one run.
 *
 * Layout: groups of 10 meters, a main meter and 9 sub-meters under it (parent_meter), in one site folder; every
 * reading lies on a quarter hour, so the edges need no interpolation and the SQL side can read them directly.
 * Checked: the site's monthly consumption and every meter's total are equal on both sides, to the digit.
 * Printed: generation time, time and peak heap growth per side (sampled every 20 ms), ratio report / SQL.
 * Environment: BENCH_SITE_METERS (1000), BENCH_SITE_DAYS (365): 1,000 x 365 days = 35 million readings.
 * The last line of stdout is JSON.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { BUILT_IN_CATEGORIES } from '../lib/ems/energy-categories';
import { stepBoundaries } from '../lib/ems/reports';
import { siteReport, type SiteFolder, type SiteMeter } from '../lib/ems/site-report';
import type { Reading } from '../lib/model/reading';
import { DAY_MS, fromLocal } from '../lib/model/time';
import { Decimal } from '../lib/money/decimal';
import { SqliteStore } from '../lib/store/sqlite';

const TZ = 'Europe/Berlin';
const METERS = Number(process.env.BENCH_SITE_METERS ?? 1000);
const DAYS = Number(process.env.BENCH_SITE_DAYS ?? 365);
const Q = 900_000;
const FROM = fromLocal({ year: 2026, month: 1, day: 1, hour: 0, minute: 0, second: 0, millisecond: 0 }, TZ);
const TO = FROM + DAYS * DAY_MS; // DST shifts the last edge by an hour at most: still a quarter hour with a reading
const OBIS = '1-0:1.8.0';

/** Runs `f`, answering its time and the largest heap growth seen meanwhile. */
async function measure<T>(f: () => Promise<T>): Promise<{ ms: number; heapMb: number; value: T }> {
  (globalThis as { gc?: () => void }).gc?.();
  const base = process.memoryUsage().heapUsed;
  let peak = base;
  const timer = setInterval(() => { peak = Math.max(peak, process.memoryUsage().heapUsed); }, 20);
  const t0 = performance.now();
  const value = await f();
  const ms = performance.now() - t0;
  clearInterval(timer);
  peak = Math.max(peak, process.memoryUsage().heapUsed);
  return { ms, heapMb: Math.round((peak - base) / 1e5) / 10, value };
}

const meterIds = Array.from({ length: METERS }, (_, i) => `m${String(i).padStart(5, '0')}`);
const isMain = (i: number) => i % 10 === 0;
/** kWh per quarter hour: sub-meters 0.01 .. 0.09, a main meter the sum of its group's plus 0.05. */
function rate(i: number): number {
  if (!isMain(i)) return (i % 10) / 100;
  let sum = 0.05;
  for (let k = i + 1; k < Math.min(i + 10, METERS); k++) sum += (k % 10) / 100;
  return sum;
}

async function generate(store: SqliteStore): Promise<number> {
  let n = 0;
  const batch: Reading[] = [];
  for (let i = 0; i < METERS; i++) {
    const r = rate(i);
    for (let t = FROM, k = 0; t <= TO + Q; t += Q, k++) {
      batch.push({ meter: meterIds[i], obis: OBIS, time: t, value: Math.round((1000 + r * k) * 1e6) / 1e6, unit: 'kWh' });
      if (batch.length === 200_000) { n += await store.write(batch); batch.length = 0; }
    }
  }
  if (batch.length) n += await store.write(batch);
  return n;
}

/** The bare SQL side: one query for the register of every meter at every month edge, then differences and sums. */
function bareSql(file: string, bounds: number[]): { site: string[]; meters: Map<string, string> } {
  const db = new Database(file, { readonly: true });
  try {
    const edges = bounds.map((b) => Math.max(FROM, Math.min(TO, b)));
    // One seek per meter and edge on the readings table's primary key (meter, obis, time).
    const rows = db.prepare(`WITH e(t) AS (VALUES ${edges.map(() => '(?)').join(',')})
      SELECT s.meter, e.t, r.value FROM series s CROSS JOIN e JOIN readings r ON r.meter = s.meter AND r.obis = s.obis AND r.time = e.t
      WHERE s.obis = ? ORDER BY s.meter, e.t`).raw(true).all(...edges, OBIS) as [string, number, number][];
    const at = new Map<string, Decimal[]>();
    for (const [m, , v] of rows) at.set(m, [...(at.get(m) ?? []), Decimal.from(v)]);
    const site = bounds.slice(1).map(() => Decimal.ZERO);
    const meters = new Map<string, string>();
    for (const [m, vs] of at) {
      meters.set(m, vs[vs.length - 1].sub(vs[0]).trimmed().toString());
      if (!isMain(meterIds.indexOf(m))) continue;
      for (let s = 0; s + 1 < vs.length; s++) site[s] = site[s].add(vs[s + 1].sub(vs[s]));
    }
    return { site: site.map((d) => d.trimmed().toString()), meters };
  } finally {
    db.close();
  }
}

async function main(): Promise<void> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-site-'));
  const file = path.join(dir, 'readings.sqlite');
  const store = new SqliteStore({ path: file });
  try {
    const g0 = performance.now();
    const readings = await generate(store);
    const genMs = performance.now() - g0;
    console.log(`generated ${readings.toLocaleString('en')} readings (${METERS} meters x ${DAYS} days of 15-minute readings) in ${(genMs / 1000).toFixed(1)} s`);
    const folder: SiteFolder = { _id: 'site', name: 'Site', folder_type: 'site', parent_id: null, area_m2: 10_000, time_zone: TZ };
    const meters: SiteMeter[] = meterIds.map((id, i) => ({ id, name: id, folder_id: 'site', parent_meter: isMain(i) ? '' : meterIds[i - (i % 10)], energy_category: '', protocol: 'manual' }));
    const bounds = stepBoundaries(FROM, TO, 'month', TZ);
    const report = await measure(() => siteReport(store, { folder, folders: [folder], location: ['Site'], meters, categories: BUILT_IN_CATEGORIES, from: FROM, to: TO, step: 'month', timeZone: TZ }));
    const sql = await measure(async () => bareSql(file, bounds));
    const el = report.value.categories[0];
    const reportSite = el.series.map((s) => s.consumption);
    if (JSON.stringify(reportSite) !== JSON.stringify(sql.value.site)) throw new Error(`monthly site consumption differs: report ${reportSite.join(' ')}, SQL ${sql.value.site.join(' ')}`);
    for (const m of report.value.meters) {
      if (m.consumption !== sql.value.meters.get(m.meter)) throw new Error(`meter ${m.meter}: report ${m.consumption}, SQL ${sql.value.meters.get(m.meter)}`);
    }
    const ratio = Math.round((report.ms / sql.ms) * 10) / 10;
    console.log(`site report, month steps, ${METERS} meters (${METERS / 10} main meters counted), site total ${el.consumption} kWh on both sides`);
    console.log(`  report ${String(Math.round(report.ms)).padStart(8)} ms, heap growth at most ${report.heapMb} MB`);
    console.log(`  SQL    ${String(Math.round(sql.ms)).padStart(8)} ms, heap growth at most ${sql.heapMb} MB`);
    console.log(`  ratio report/SQL time: ${ratio}x`);
    console.log(JSON.stringify({ meters: METERS, days: DAYS, readings, generationMs: Math.round(genMs), reportMs: Math.round(report.ms), reportHeapMb: report.heapMb, sqlMs: Math.round(sql.ms), sqlHeapMb: sql.heapMb, ratio, total: el.consumption }));
  } finally {
    await store.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
