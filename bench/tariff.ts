/**
 * `npm run bench:tariff`: throughput of the tariff pricing engine (lib/tariff priceConsumption)
 * against a straightforward reference pricing loop over the same intervals and decimals
 * (bench/tariff-reference.ts: per interval its local time, season, day type and TOU period; lines
 * rounded to the cent), side by side in one process. Both must state the same bill to the cent for
 * every meter, or the bench fails.
 *
 * Tariff: lib/tariff/examples/berlin-tou-demand.json (Europe/Berlin with both DST days; TOU with two
 * seasons and a holiday calendar, a tiered network charge, a flat levy in MWh, a 15-minute fixed
 * window demand charge, a monthly fixed charge and VAT). Data: BENCH_METERS meters (default 1000),
 * each a year (2026) of 15-minute intervals (35,040), quantities generated deterministically from the
 * meter number (a daily load shape plus seeded noise, 3 decimals). Each meter is one bill: one
 * priceConsumption call over the year (12 cycles). The boundary timeline is built on the first call
 * and cached, as in a service pricing many meters with one tariff.
 *
 * Per meter the intervals are generated (not timed), then both sides run on the same array, in
 * alternating order (baseline first on even meters, engine first on odd ones), so machine noise hits
 * both. "intervals/s" = intervals priced per second of that side's time; the ratio is engine/reference
 * throughput. BENCH_METERS sets the meter count. The last line of stdout is JSON.
 */
import fs from 'node:fs';
import path from 'node:path';
import { priceConsumption, validateTariff, type ConsumptionInterval } from '../lib/tariff';
import { Decimal } from '../lib/money/decimal';
import { referenceBill, type ReferenceBill } from './tariff-reference';

const ROOT = path.resolve(__dirname, '..', '..');
const QUARTER = 15 * 60_000;
const FROM = Date.parse('2026-01-01T00:00:00+01:00');
const TO = Date.parse('2027-01-01T00:00:00+01:00');

function envNumber(name: string, fallback: number): number {
  const v = process.env[name];
  if (v === undefined || v === '') return fallback;
  const n = Number(v);
  if (!Number.isInteger(n) || n <= 0) throw new Error(`${name} must be a positive whole number, got ${JSON.stringify(v)}`);
  return n;
}

/** A meter's year: a daily shape (low at night, high in working hours) scaled per meter, plus noise. */
function meterIntervals(meter: number): ConsumptionInterval[] {
  let seed = (meter * 2654435761) >>> 0;
  const rnd = () => {
    seed = (seed + 0x6d2b79f5) >>> 0;
    let t = Math.imul(seed ^ (seed >>> 15), seed | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const scale = 0.5 + rnd() * 4;
  const name = `meter-${meter}`;
  const n = (TO - FROM) / QUARTER;
  const out: ConsumptionInterval[] = new Array(n);
  for (let i = 0; i < n; i++) {
    const hour = (i % 96) / 4;
    const shape = hour >= 7 && hour < 19 ? 1 : 0.3;
    const start = FROM + i * QUARTER;
    out[i] = { start, end: start + QUARTER, quantity: Math.round(scale * shape * (0.8 + 0.4 * rnd()) * 1000) / 1000, unit: 'kWh', obis: '1-0:1.8.0', meter: name };
  }
  return out;
}

function main(): void {
  const meters = envNumber('BENCH_METERS', 1000);
  const json = JSON.parse(fs.readFileSync(path.join(ROOT, 'lib/tariff/examples/berlin-tou-demand.json'), 'utf8'));
  const tariff = validateTariff(json);
  let engineNs = 0n;
  let baselineNs = 0n;
  let intervals = 0;
  let lines = 0;
  let referenceLines = 0;
  let billed = Decimal.ZERO;
  let firstCallMs = 0;
  const started = Date.now();
  for (let m = 0; m < meters; m++) {
    const data = meterIntervals(m);
    intervals += data.length;
    const runBaseline = () => {
      const t0 = process.hrtime.bigint();
      const bill = referenceBill(json, data);
      baselineNs += process.hrtime.bigint() - t0;
      return bill;
    };
    const runEngine = () => {
      const t0 = process.hrtime.bigint();
      const r = priceConsumption(tariff, data, { from: FROM, to: TO });
      const ns = process.hrtime.bigint() - t0;
      engineNs += ns;
      if (m === 0) firstCallMs = Number(ns) / 1e6;
      return r;
    };
    let reference: ReferenceBill;
    let result;
    if (m % 2 === 0) {
      reference = runBaseline();
      result = runEngine();
    } else {
      result = runEngine();
      reference = runBaseline();
    }
    lines += result.lines.length;
    referenceLines += reference.lines;
    if (result.subtotal !== reference.subtotal || result.total !== reference.total) {
      throw new Error(`meter ${m}: the engine bills ${result.subtotal} + tax = ${result.total} ${tariff.currency}, the reference ${reference.subtotal} + tax = ${reference.total}`);
    }
    billed = billed.add(result.total);
    if ((m + 1) % 100 === 0) process.stderr.write(`bench:tariff ${m + 1}/${meters} meters\n`);
  }
  const engineS = Number(engineNs) / 1e9;
  const baselineS = Number(baselineNs) / 1e9;
  const engineRate = intervals / engineS;
  const baselineRate = intervals / baselineS;
  const peakRssMiB = process.resourceUsage().maxRSS / 1024;
  console.log(`tariff ${tariff.id}: ${meters} meters x ${intervals / meters} intervals = ${intervals} intervals, ${lines} lines, ${((Date.now() - started) / 1000).toFixed(1)} s wall`);
  console.log(`engine:   ${Math.round(engineRate).toLocaleString('en')} intervals/s (${engineS.toFixed(2)} s; first call with timeline build ${firstCallMs.toFixed(1)} ms)`);
  console.log(`reference: ${Math.round(baselineRate).toLocaleString('en')} intervals/s (${baselineS.toFixed(2)} s; ${referenceLines} lines); every bill equal to the cent, ${billed.toFixed(2)} ${tariff.currency} in all`);
  console.log(`ratio engine/reference = ${(engineRate / baselineRate).toFixed(4)}; peak RSS ${peakRssMiB.toFixed(0)} MiB`);
  console.log(JSON.stringify({
    bench: 'tariff', meters, intervals, lines, nodeVersion: process.version,
    engine: { intervalsPerSec: Math.round(engineRate), seconds: Number(engineS.toFixed(3)), firstCallMs: Number(firstCallMs.toFixed(1)) },
    reference: { intervalsPerSec: Math.round(baselineRate), seconds: Number(baselineS.toFixed(3)), lines: referenceLines },
    ratio: Number((engineRate / baselineRate).toFixed(3)), peakRssMiB: Number(peakRssMiB.toFixed(1)), billed: billed.toFixed(2),
  }));
}

main();
