/**
 * `npm run bench:dlms-fuzz`: the long fuzz run and the cost of ciphering, in one process.
 *
 * 1. Fuzz: FUZZ_INPUTS (default 1 000 000) mutated DLMS inputs (test/lib/dlms-fuzz-cases: published frames
 *    and APDUs mutated, re-framed with valid FCS, wrapper lengths and GCM tags). Any exception other than
 *    DlmsDecodeError stops the run with the input in hex (exit 1). Prints inputs, decoded, decode errors, rate.
 * 2. HLS-GMAC cost per APDU: the Green Book glo-get-request decoded with SC 0x30 (decrypt + tag check)
 *    versus the same plain APDU decoded, side by side in rounds; prints microseconds per APDU and the ratio.
 * The last line of stdout is JSON.
 */
import path from 'node:path';
import { corpus, fuzzRound, rng, FUZZ_KEYS, type FuzzCounts } from '../test/lib/dlms-fuzz-cases';
import { decodeApdu } from '../lib/protocols/dlms/apdu';

const ROOT = path.resolve(__dirname, '..', '..');
const target = Number(process.env.FUZZ_INPUTS || 1_000_000);

function fuzz(): { inputs: number; decoded: number; errors: number; seconds: number } {
  const c = corpus(ROOT);
  const r = rng(Number(process.env.FUZZ_SEED || 0x5eed));
  const counts: FuzzCounts = { decoded: 0, errors: 0 };
  const t0 = process.hrtime.bigint();
  let n = 0, i = 0;
  while (n < target) {
    n += fuzzRound(i++, r, c, counts);
    if (i % 20_000 === 0) process.stderr.write(`  ${n} inputs, ${counts.errors} decode errors\n`);
  }
  return { inputs: n, ...counts, seconds: Number(process.hrtime.bigint() - t0) / 1e9 };
}

function cipherCost(): { plainMicros: number; cipheredMicros: number; ratio: number } {
  const plain = Buffer.from('C0010000080000010000FF0200', 'hex');
  const ciphered = Buffer.from('C81E3001234567411312FF935A47566827C467BC7D825C3BE4A77C3FCC056B6B', 'hex');
  const st = Buffer.from('4D4D4D0000BC614E', 'hex');
  const N = 20_000;
  const time = (f: () => unknown) => { const t = process.hrtime.bigint(); for (let k = 0; k < N; k++) f(); return Number(process.hrtime.bigint() - t) / 1e3 / N; };
  const ratios: number[] = [], p: number[] = [], c: number[] = [];
  for (let round = 0; round < 11; round++) {
    // rounds alternate which side runs first
    const plainFirst = round % 2 === 0;
    const a = plainFirst ? time(() => decodeApdu(plain)) : 0;
    const b = time(() => decodeApdu(ciphered, { keys: FUZZ_KEYS, systemTitle: st }));
    const a2 = plainFirst ? a : time(() => decodeApdu(plain));
    p.push(a2); c.push(b); ratios.push(b / a2);
  }
  const median = (x: number[]) => [...x].sort((m, n) => m - n)[x.length >> 1];
  return { plainMicros: median(p), cipheredMicros: median(c), ratio: median(ratios) };
}

const f = fuzz();
console.log(`fuzz: ${f.inputs} inputs in ${f.seconds.toFixed(1)} s (${Math.round(f.inputs / f.seconds)}/s): ${f.decoded} decoded, ${f.errors} DlmsDecodeError, 0 other exceptions`);
const g = cipherCost();
console.log(`glo-get-request SC 0x30: ${g.cipheredMicros.toFixed(2)} us per APDU vs plain ${g.plainMicros.toFixed(2)} us (x${g.ratio.toFixed(1)})`);
console.log(JSON.stringify({ fuzz: f, hlsGmac: g }));
