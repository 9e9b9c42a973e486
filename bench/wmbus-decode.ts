/**
 * `npm run bench:wmbus`: wireless M-Bus telegrams decoded per second and heap per telegram, side by side in
 * one process on the same telegrams:
 *
 * - wmbus (ours): decodeWmbus on the telegram as received (link layer, CRC blocks where present, ELL, AFL,
 *   transport header, key lookup, AES decryption with the 2F2F check, mode 7 key derivation and CMAC check)
 *   and the readings.
 * - mbus (the baseline): the wired M-Bus record decoder (lib/protocols/mbus decodeRecords) and the same
 *   readings mapping on the application data already decrypted. No third-party wM-Bus decoder is installed;
 *   this baseline is what decoding would cost if the radio receiver handed over plain records, so the ratio
 *   shows the cost of the link layer and the crypto on top of the records.
 *
 * Telegrams: the published fixtures (test/fixtures/wmbus: OMS Annex N, CEN/TR 17167 mode 7, wmbusmeters;
 * plain, mode 5, mode 7, ELL AES-CTR, format A with CRCs) and simulated water/heat/gas meters in modes 5 and 7
 * with format A CRCs (ems-sim wmbus's), grouped by security. Rounds rotate which side runs first.
 * BENCH_ROUNDS (default 101; each round decodes every telegram 5 times per side). The ratio (wmbus rate / mbus
 * rate) is the median of the rounds' ratios. The last line of stdout is JSON.
 */
import fs from 'node:fs';
import path from 'node:path';
import { decodeRecords } from '../lib/protocols/mbus/records';
import { telegramToReadings } from '../lib/protocols/mbus/readings';
import type { MbusTelegram } from '../lib/protocols/mbus/types';
import { decodeWmbus, parseReceived, wmbusToReadings, type DecodedWmbus } from '../lib/protocols/wmbus';
import { SimWmbusMeter } from '../lib/sim/wmbus';

const ROOT = path.resolve(__dirname, '..', '..');
const REPEAT = 5;
const rounds = Number(process.env.BENCH_ROUNDS || 101);
const gc = (globalThis as { gc?: () => void }).gc;
const KEY = Buffer.from('000102030405060708090A0B0C0D0E0F', 'hex');

interface Item { group: string; bytes: Buffer; key?: Buffer; plain: Buffer; header: MbusTelegram['header'] }

function item(bytes: Buffer, key: Buffer | undefined): Item {
  const d: DecodedWmbus = decodeWmbus(bytes, { key });
  const group = d.security.ellEncrypted ? 'ell-ctr' : d.security.decrypted ? `mode ${d.security.mode}` : 'plain';
  return { group, bytes, key, plain: Buffer.from(d.payload, 'hex'), header: d.application.header };
}

const dir = path.join(ROOT, 'test/fixtures/wmbus');
const items: Item[] = fs.readdirSync(dir).filter((f) => f.endsWith('.json')).sort()
  .flatMap((f) => JSON.parse(fs.readFileSync(path.join(dir, f), 'utf8')).telegrams as { hex: string; key?: string }[])
  .map((t) => item(parseReceived(t.hex).bytes, t.key ? Buffer.from(t.key, 'hex') : undefined));
for (let i = 0; i < 12; i++) {
  const m = new SimWmbusMeter({ id: String(20000000 + i), kind: (['water', 'heat', 'gas'] as const)[i % 3], mode: i % 2 ? 7 : 5, key: KEY, format: 'A' }, 0, i);
  items.push(item(m.telegram(), KEY));
}

function ours(list: Item[], keep?: unknown[]): number {
  let n = 0;
  for (const it of list) {
    const d = decodeWmbus(it.bytes, { key: it.key });
    const r = wmbusToReadings(d, { meter: 'bench', time: 0 });
    n += r.length;
    keep?.push(d, r);
  }
  return n;
}

function baseline(list: Item[], keep?: unknown[]): number {
  let n = 0;
  for (const it of list) {
    const t: MbusTelegram = { ci: 0x7a, header: it.header, ...decodeRecords(it.plain, 0) };
    const r = telegramToReadings(t, { meter: 'bench', time: 0 });
    n += r.length;
    keep?.push(t, r);
  }
  return n;
}

const sides = [{ name: 'wmbus', run: ours }, { name: 'mbus', run: baseline }];

/**
 * Rates from the summed times, and the ratio as the median of the per-round ratios: both sides run back to
 * back within a round, so a burst of load from other processes hits one round, not the median.
 */
function measure(list: Item[]): { rate: number[]; ratio: number } {
  const ns = sides.map(() => 0n);
  const ratios: number[] = [];
  for (let r = 0; r < rounds; r++) {
    const t = [0, 0];
    for (let k = 0; k < sides.length; k++) {
      const i = (r + k) % sides.length;
      const t0 = process.hrtime.bigint();
      for (let j = 0; j < REPEAT; j++) sides[i].run(list);
      const dt = process.hrtime.bigint() - t0;
      ns[i] += dt;
      t[i] = Number(dt);
    }
    ratios.push(t[1] / t[0]);
  }
  ratios.sort((a, b) => a - b);
  const rate = ns.map((x) => (rounds * REPEAT * list.length) / (Number(x) / 1e9));
  return { rate, ratio: Number(ratios[Math.floor(ratios.length / 2)].toFixed(3)) };
}

function heapPerTelegram(run: (list: Item[], keep: unknown[]) => number): number {
  gc?.();
  const before = process.memoryUsage().heapUsed;
  const keep: unknown[] = [];
  for (let k = 0; k < 50; k++) run(items, keep);
  return Math.round((process.memoryUsage().heapUsed - before) / (50 * items.length));
}

function main(): void {
  for (const s of sides) s.run(items); // warm-up, and both sides must decode everything
  const groups = [...new Set(items.map((i) => i.group))].sort();
  const all = measure(items);
  const byGroup = Object.fromEntries(groups.map((g) => {
    const list = items.filter((i) => i.group === g);
    const m = measure(list);
    return [g, { telegrams: list.length, wmbusPerSecond: Math.round(m.rate[0]), mbusPerSecond: Math.round(m.rate[1]), ratio: m.ratio }];
  }));
  const heap = sides.map((s) => heapPerTelegram(s.run));
  const result = {
    telegrams: items.length, bytes: items.reduce((a, i) => a + i.bytes.length, 0), rounds, repeat: REPEAT,
    telegramsPerSecond: Object.fromEntries(sides.map((s, i) => [s.name, Math.round(all.rate[i])])),
    baseline: 'mbus (wired M-Bus records on the decrypted application data)',
    ratio: all.ratio, byGroup,
    heapBytesPerTelegram: Object.fromEntries(sides.map((s, i) => [s.name, heap[i]])),
    peakRssMb: Number((process.resourceUsage().maxRSS / 1024).toFixed(1)),
  };
  const out = (s: string) => process.stdout.write(s + '\n');
  out(`wM-Bus decode: ${items.length} telegrams (${result.bytes} bytes; published fixtures + simulated mode 5/7 format A), ${rounds * REPEAT} decodes each per side${gc ? '' : ' (run with --expose-gc for the heap figures)'}`);
  for (let i = 0; i < sides.length; i++) out(`  ${sides[i].name.padEnd(8)} ${Math.round(all.rate[i]).toLocaleString('en').padStart(9)} telegrams/s  heap ${heap[i]} B/telegram`);
  out(`  ratio    ${all.ratio} (wmbus / mbus records on decrypted data, median of ${rounds} rounds: 1 = link layer and crypto cost nothing)`);
  for (const g of groups) out(`    ${g.padEnd(8)} ${String(byGroup[g].telegrams).padStart(3)} telegrams  ${byGroup[g].wmbusPerSecond.toLocaleString('en').padStart(9)} vs ${byGroup[g].mbusPerSecond.toLocaleString('en').padStart(9)} /s  ratio ${byGroup[g].ratio}`);
  out(`  peak RSS ${result.peakRssMb} MB`);
  out(JSON.stringify(result));
}

main();
