/** Content hashes of bills and tariffs: sha256 of JSON with sorted keys. */
import { createHash } from 'node:crypto';
import type { Bill } from './bill';

/** JSON with object keys sorted: the same data always gives the same text (for hashes). */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_k, v: unknown) => {
    if (v && typeof v === 'object' && !Array.isArray(v)) {
      return Object.fromEntries(Object.entries(v as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
    }
    return v;
  });
}

export function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

/** The content hash of a bill: everything but status, number, issuedAt and hash. */
export function billHash(bill: Bill): string {
  const { status: _s, number: _n, issuedAt: _i, hash: _h, ...content } = bill;
  return sha256(canonicalJson(content));
}

