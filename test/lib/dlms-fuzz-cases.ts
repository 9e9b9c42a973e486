/**
 * Mutated DLMS inputs for the fuzz test and bench/dlms-fuzz: published frames and APDUs, mutated
 * (flips, inserts, deletes, truncation, random bytes) and re-framed with valid checksums, lengths and
 * GCM tags so that the mutations reach every layer: HDLC, wrapper, M-Bus, ACSE, xDLMS, A-XDR, ciphering.
 * Deterministic (seeded) so a failure can be replayed.
 */
import fs from 'node:fs';
import path from 'node:path';
import { inspect } from '../../lib/protocols/dlms/decode';
import { DlmsDecodeError } from '../../lib/protocols/dlms/errors';
import { clientAddress, encodeFrame, serverAddress, LLC_RESPONSE } from '../../lib/protocols/dlms/hdlc';
import { encodeWrapper } from '../../lib/protocols/dlms/wrapper';
import { encodeCiphered } from '../../lib/protocols/dlms/apdu';
import { decodeData } from '../../lib/protocols/dlms/axdr';

const H = (s: string) => Buffer.from(s.replace(/\s/g, ''), 'hex');
export const FUZZ_KEYS = { encryptionKey: H('000102030405060708090A0B0C0D0E0F'), authenticationKey: H('D0D1D2D3D4D5D6D7D8D9DADBDCDDDEDF') };
const TITLE = H('4D4D4D0000BC614E');

export function rng(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) >>> 0;
    let t = Math.imul(seed ^ (seed >>> 15), seed | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Whole inputs (frames, PDUs) and bare APDUs from the fixtures. */
export function corpus(root: string): { inputs: Buffer[]; apdus: Buffer[] } {
  const dir = path.join(root, 'test/fixtures/dlms');
  const read = (f: string) => JSON.parse(fs.readFileSync(path.join(dir, f), 'utf8'));
  const inputs: Buffer[] = [...read('hdlc.json').frames.map((f: { hex: string }) => H(f.hex)), ...read('push.json').telegrams.map((t: { hex: string }) => H(t.hex))];
  const apdus: Buffer[] = [
    ...read('acse.json').apdus.map((a: { hex: string }) => H(a.hex)),
    ...read('green-book-ciphering.json').cases.map((c: { apdu: string }) => H(c.apdu)),
    H('c001c1000100002b0100ff0200'), H('c002c100000001'), H('c401c1000600001391'), H('c401c10101'),
    H('c003c10200010000' + '2a0000ff0200' + '0008' + '0000010000ff0200'),
    H('c402c100000000010009' + '0102' + '0600000001' + '0600000002'),
    H('0f400000000001020203090601000108' + '00ff06000000010202' + '0f00161e'),
    H('C401C100130202090622' + '0C07E6011801123A32FF80000000000010' + '0C07E6011801130000FF80000000000011'),
  ];
  return { inputs, apdus };
}

export interface FuzzCounts { decoded: number; errors: number }

/** Runs one input through inspect; anything but success or DlmsDecodeError throws with the input in hex. */
export function attempt(bytes: Buffer, counts: FuzzCounts, withKeys: boolean): void {
  try {
    const r = inspect(bytes, withKeys ? { keys: FUZZ_KEYS, systemTitle: TITLE } : {});
    JSON.stringify(r);
    counts.decoded++;
  } catch (e) {
    if (e instanceof DlmsDecodeError) { counts.errors++; return; }
    throw new Error(`unexpected ${(e as Error).name} for ${bytes.toString('hex')}: ${(e as Error).stack}`);
  }
}

export function mutate(src: Buffer, r: () => number): Buffer {
  const data = Array.from(src);
  const byte = () => (r() * 256) | 0;
  const edits = 1 + ((r() * 4) | 0);
  for (let k = 0; k < edits; k++) {
    const at = (r() * data.length) | 0;
    const op = r();
    if (op < 0.45) data[at] = byte();
    else if (op < 0.6) data[at] ^= 1 << ((r() * 8) | 0);
    else if (op < 0.75) data.splice(at, 0, byte());
    else if (op < 0.9) data.splice(at, 1);
    else data.length = at;
  }
  return Buffer.from(data);
}

/** One round: 5 or 6 inputs derived from corpus entry i; returns how many. */
export function fuzzRound(i: number, r: () => number, c: { inputs: Buffer[]; apdus: Buffer[] }, counts: FuzzCounts): number {
  const input = c.inputs[i % c.inputs.length];
  const apdu = c.apdus[i % c.apdus.length];
  const byte = () => (r() * 256) | 0;
  // 1) a whole frame mutated (mostly checksum errors)
  attempt(mutate(input, r), counts, r() < 0.5);
  // 2) a mutated APDU in a valid HDLC frame, and in a valid wrapper PDU
  const m = mutate(apdu, r).subarray(0, 1900);
  attempt(encodeFrame({ destination: clientAddress(16), source: serverAddress(1, 17), control: { kind: 'I', pf: true, ns: 0, nr: 1 }, segmented: false, info: Buffer.concat([LLC_RESPONSE, m]) }), counts, true);
  attempt(encodeWrapper({ source: 1, destination: 16, apdu: mutate(apdu, r) }), counts, true);
  // 3) a mutated plaintext, validly ciphered: the inner decoders see the mutation
  let n = 5;
  const plain = mutate(apdu, r);
  if (plain.length) {
    n++;
    const sc = [0x10, 0x20, 0x30][(r() * 3) | 0];
    attempt(encodeCiphered(plain, { securityControl: sc, systemTitle: TITLE, invocationCounter: i, keys: FUZZ_KEYS, general: true }), counts, true);
  }
  // 4) random bytes after a plausible first byte, and raw A-XDR data
  const rnd = Buffer.from([[0x7e, 0xc0, 0xc4, 0x60, 0x61, 0x0f, 0xdb, 0x01][(r() * 8) | 0], ...Array.from({ length: (r() * 60) | 0 }, byte)]);
  attempt(rnd, counts, r() < 0.5);
  const data = Buffer.from(Array.from({ length: 1 + ((r() * 40) | 0) }, () => (r() < 0.5 ? [0, 1, 2, 9, 19, 22, 25][(r() * 7) | 0] : byte())));
  try { decodeData(data); counts.decoded++; } catch (e) { if (!(e instanceof DlmsDecodeError)) throw new Error(`decodeData ${data.toString('hex')}: ${(e as Error).stack}`); counts.errors++; }
  return n;
}
