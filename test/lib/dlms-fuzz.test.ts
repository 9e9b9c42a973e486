/**
 * Fuzz: mutated DLMS frames, PDUs and APDUs (re-framed and re-ciphered so the mutations reach every
 * layer) decode or throw DlmsDecodeError, never another exception, never a hang. 20 000+ inputs here;
 * `node dist/bench/dlms-fuzz.js` runs a million.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { corpus, fuzzRound, rng, type FuzzCounts } from './dlms-fuzz-cases';

const root = path.resolve(__dirname, '../../..');

describe('DLMS decoder fuzz', () => {
  it('over 20 000 mutated inputs give only results or DlmsDecodeError', { timeout: 120_000 }, () => {
    const c = corpus(root);
    const r = rng(0xd1a5);
    const counts: FuzzCounts = { decoded: 0, errors: 0 };
    let n = 0;
    for (let i = 0; i < 4_000; i++) n += fuzzRound(i, r, c, counts);
    assert.equal(counts.decoded + counts.errors, n);
    // the mutations must reach both outcomes often, or the test proves little
    assert.ok(counts.errors > n / 5, `decode errors ${counts.errors} of ${n}`);
    assert.ok(counts.decoded > n / 20, `decoded ${counts.decoded} of ${n}`);
  });
});
