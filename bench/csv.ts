/**
 * `npm run bench:csv`: reading a year of 15-minute consumption (35,040 rows) from a tariff CSV with
 * lib/tariff's parseIntervalsCsv (lib/csv on csv-parse: quoting, BOM, separator detection, line numbers,
 * checked cells), against a baseline that splits lines at commas and calls Number()/Date.parse() (what the
 * hand-written reader before it did, without quoting), side by side in one process on the same text.
 *
 * Files: a comma file with quoted meter names ("Flat 3, north"), and the same as a European spreadsheet
 * saves it (BOM, `;`, decimal commas, CRLF) read with decimalComma. The baseline reads the plain comma file
 * only (it cannot read the others). Rounds alternate which side runs first. "rows/s" per side and the ratio
 * baseline/lib time; heap = the growth of heapUsed while one side parses one file (after a GC when
 * --expose-gc is given). BENCH_ROUNDS sets the rounds (default 10). The last line of stdout is JSON.
 */
import { parseIntervalsCsv } from '../lib/tariff/csv';

const QUARTER = 15 * 60_000;
const FROM = Date.parse('2026-01-01T00:00:00Z');
const ROWS = 35_040;
const rounds = Number(process.env.BENCH_ROUNDS || 10);

function iso(ms: number): string {
  return new Date(ms).toISOString().replace('.000Z', 'Z');
}

function files(): { comma: string; plain: string; european: string } {
  const comma = ['start,end,quantity,unit,meter'];
  const plain = ['start,end,quantity,unit,meter'];
  const european = ['start;end;quantity;unit;meter'];
  for (let i = 0; i < ROWS; i++) {
    const s = FROM + i * QUARTER;
    const q = (0.2 + ((i * 7919) % 1000) / 1000).toFixed(3);
    comma.push(`${iso(s)},${iso(s + QUARTER)},${q},kWh,"Flat 3, north"`);
    plain.push(`${iso(s)},${iso(s + QUARTER)},${q},kWh,flat-3-north`);
    european.push(`${iso(s)};${iso(s + QUARTER)};${q.replace('.', ',')};kWh;"Flat 3, north"`);
  }
  return { comma: comma.join('\n') + '\n', plain: plain.join('\n') + '\n', european: '\ufeff' + european.join('\r\n') + '\r\n' };
}

/** The baseline: split at newlines and commas, no quoting, no checks beyond NaN. */
function naive(text: string): { start: number; end: number; quantity: number }[] {
  const out: { start: number; end: number; quantity: number }[] = [];
  const lines = text.split('\n');
  for (let i = 1; i < lines.length; i++) {
    if (!lines[i]) continue;
    const c = lines[i].split(',');
    const quantity = Number(c[2]);
    if (Number.isNaN(quantity)) throw new Error(`line ${i + 1}`);
    out.push({ start: Date.parse(c[0]), end: Date.parse(c[1]), quantity });
  }
  return out;
}

function measure(run: () => number): { ms: number; heapMb: number } {
  (globalThis as { gc?: () => void }).gc?.();
  const heap = process.memoryUsage().heapUsed;
  const t = process.hrtime.bigint();
  const n = run();
  const ms = Number(process.hrtime.bigint() - t) / 1e6;
  const heapMb = (process.memoryUsage().heapUsed - heap) / 1048576;
  if (n !== ROWS) throw new Error(`parsed ${n} rows, expected ${ROWS}`);
  return { ms, heapMb };
}

function main(): void {
  const f = files();
  const sides = {
    baseline: () => naive(f.plain).length,
    lib: () => parseIntervalsCsv(f.comma, 'UTC').length,
    libEuropean: () => parseIntervalsCsv(f.european, 'Europe/Berlin', { decimalComma: true }).length,
  };
  const totals: Record<keyof typeof sides, { ms: number; heapMb: number }> = { baseline: { ms: 0, heapMb: 0 }, lib: { ms: 0, heapMb: 0 }, libEuropean: { ms: 0, heapMb: 0 } };
  sides.lib(); sides.baseline(); // warm-up
  for (let r = 0; r < rounds; r++) {
    const order = (r % 2 === 0 ? ['baseline', 'lib', 'libEuropean'] : ['libEuropean', 'lib', 'baseline']) as (keyof typeof sides)[];
    for (const side of order) {
      const m = measure(sides[side]);
      totals[side].ms += m.ms;
      totals[side].heapMb = Math.max(totals[side].heapMb, m.heapMb);
    }
  }
  const rate = (side: keyof typeof sides) => Math.round((ROWS * rounds) / (totals[side].ms / 1000));
  const result = {
    rows: ROWS, rounds,
    baseline_rows_per_s: rate('baseline'), lib_rows_per_s: rate('lib'), lib_european_rows_per_s: rate('libEuropean'),
    lib_vs_baseline_time: +(totals.lib.ms / totals.baseline.ms).toFixed(2),
    european_vs_baseline_time: +(totals.libEuropean.ms / totals.baseline.ms).toFixed(2),
    heap_mb: { baseline: +totals.baseline.heapMb.toFixed(1), lib: +totals.lib.heapMb.toFixed(1), lib_european: +totals.libEuropean.heapMb.toFixed(1) },
  };
  console.log(`a year of 15-minute rows (${ROWS}), ${rounds} rounds:`);
  console.log(`  baseline (split at commas): ${result.baseline_rows_per_s} rows/s, heap +${result.heap_mb.baseline} MB`);
  console.log(`  lib/csv (quoted, checked):  ${result.lib_rows_per_s} rows/s, heap +${result.heap_mb.lib} MB, ${result.lib_vs_baseline_time}x the baseline's time`);
  console.log(`  lib/csv (BOM ; decimal ,):  ${result.lib_european_rows_per_s} rows/s, heap +${result.heap_mb.lib_european} MB, ${result.european_vs_baseline_time}x the baseline's time`);
  console.log(JSON.stringify(result));
}

main();
