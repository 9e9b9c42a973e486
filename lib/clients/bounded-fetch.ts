/**
 * HTTP answers bounded in size and time: the body is streamed and the request aborted (socket
 * destroyed) as soon as it passes a byte cap, and one deadline covers headers and body. A remote API
 * that streams forever fails that call alone instead of growing the process without bound.
 */

export const KiB = 1024;
export const MiB = 1024 * KiB;

export type AnswerLimitKind = 'too-large' | 'timeout';

/** An answer cut off at a cap: names the client, the host (never credentials) and the cap. */
export class AnswerLimitError extends Error {
  constructor(readonly kind: AnswerLimitKind, readonly client: string, readonly host: string, readonly limit: number) {
    super(kind === 'too-large'
      ? `${client}: the answer from ${host} exceeds the ${formatBytes(limit)} cap; aborted`
      : `${client}: no complete answer from ${host} within ${limit} ms; aborted`);
    this.name = 'AnswerLimitError';
  }
}

export function formatBytes(n: number): string {
  if (n >= MiB && n % MiB === 0) return `${n / MiB} MiB`;
  if (n >= KiB && n % KiB === 0) return `${n / KiB} KiB`;
  return `${n} bytes`;
}

/** The URL without user name, password, query or fragment (safe for messages and logs). */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    return `${u.protocol}//${u.host}${u.pathname}`;
  } catch {
    return String(url).replace(/\/\/[^/@\s]*@/, '//').replace(/[?#].*$/, '');
  }
}

/** `text` with URL credentials ("//user:pass@") removed and every given secret masked. */
export function scrub(text: string, ...secrets: (string | undefined)[]): string {
  let out = String(text).replace(/\/\/[^/@\s]*@/g, '//');
  for (const s of secrets) if (s && s.length >= 3) out = out.split(s).join('***');
  return out;
}

/** host[:port] of a URL, or "(invalid URL)". */
export function hostOf(url: string): string {
  try { return new URL(url).host; } catch { return '(invalid URL)'; }
}

/** An option in [min, hardMax] (default when undefined); throws naming the field and the value. */
export function bounded(value: number | undefined, def: number, min: number, hardMax: number, field: string): number {
  if (value === undefined || value === null) return def;
  if (typeof value !== 'number' || !Number.isFinite(value) || value < min || value > hardMax) {
    throw new RangeError(`${field} must be a number ${min}..${hardMax}, got ${JSON.stringify(value)}`);
  }
  return Math.floor(value);
}

export interface Bounds {
  /** Largest body accepted, bytes. */
  maxBytes: number;
  /** Deadline for headers and body together, ms. */
  timeoutMs: number;
}

export interface BoundedResponse { status: number; ok: boolean; headers: Headers; text: string }

/**
 * fetch() with a byte cap and a total deadline. Rejects with AnswerLimitError at a cap; other
 * failures (refused, reset, DNS) are rethrown as fetch reported them.
 */
export async function boundedFetch(client: string, url: string, init: RequestInit, b: Bounds): Promise<BoundedResponse> {
  const host = hostOf(url);
  const ac = new AbortController();
  let limit: AnswerLimitError | undefined;
  const stop = (e: AnswerLimitError) => { limit ??= e; ac.abort(e); };
  const timer = setTimeout(() => stop(new AnswerLimitError('timeout', client, host, b.timeoutMs)), b.timeoutMs);
  try {
    const res = await fetch(url, { ...init, signal: ac.signal });
    const declared = Number(res.headers.get('content-length'));
    if (Number.isFinite(declared) && declared > b.maxBytes) stop(new AnswerLimitError('too-large', client, host, b.maxBytes));
    const chunks: Uint8Array[] = [];
    let size = 0;
    if (res.body && !limit) {
      const reader = res.body.getReader();
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        size += value.byteLength;
        if (size > b.maxBytes) {
          stop(new AnswerLimitError('too-large', client, host, b.maxBytes));
          await reader.cancel().catch(() => undefined);
          break;
        }
        chunks.push(value);
      }
    }
    if (limit) throw limit;
    return { status: res.status, ok: res.ok, headers: res.headers, text: Buffer.concat(chunks).toString('utf8') };
  } catch (err) {
    throw limit ?? err;
  } finally {
    clearTimeout(timer);
  }
}
