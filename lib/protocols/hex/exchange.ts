/**
 * One poll-server exchange: each command frame is sent (split into package_size chunks with
 * pause_time between chunks and frames) and its response awaited within waiting_time; a response
 * ends when the codec says it is complete, or after a silence of gapMs.
 */
import { chunks } from './hex';
import { Link, LinkOverflowError, LinkTimeoutError, sleep, withDeadline, type Completeness } from './link';

export interface ExchangeOptions {
  /** waiting_time: the first byte (or the complete response with a completeness test) must arrive within it, ms. */
  waitingMs: number;
  /** pause_time between frames and chunks, ms. */
  pauseMs?: number;
  /** package_size: bytes per chunk (0 = whole frames). */
  packageSize?: number;
  /** Completeness test per frame index; without one a silence of gapMs ends the response. */
  complete?: (index: number) => Completeness | undefined;
  gapMs?: number;
  /**
   * Deadline for the whole exchange, ms (default 30 s + waitingMs per frame): a device that keeps
   * trickling bytes cannot keep the poll alive. The bytes per response are capped by Link.maxBytes.
   */
  deadlineMs?: number;
}

export interface ExchangeResult {
  responses: Buffer[];
  /** Chunks sent per frame. */
  chunks: number[];
  durationMs: number;
}

async function readUntilSilence(link: Link, firstMs: number, gapMs: number, frame: number): Promise<Buffer> {
  const any = (b: Buffer) => (b.length ? b.length : -1);
  const parts = [await link.read(any, firstMs, `response to frame ${frame + 1}`)];
  let size = parts[0].length;
  for (;;) {
    try {
      const more = await link.read(any, gapMs, 'more bytes');
      size += more.length;
      if (size > link.maxBytes) {
        const err = new LinkOverflowError(link.name, link.maxBytes);
        link.abort(err);
        throw err;
      }
      parts.push(more);
    } catch (err) {
      if (err instanceof LinkTimeoutError) return Buffer.concat(parts);
      throw err;
    }
  }
}

export function exchange(link: Link, frames: Buffer[], o: ExchangeOptions): Promise<ExchangeResult> {
  const deadline = o.deadlineMs ?? 30_000 + o.waitingMs * Math.max(1, frames.length);
  return withDeadline(link, deadline, 'the exchange', () => run(link, frames, o));
}

async function run(link: Link, frames: Buffer[], o: ExchangeOptions): Promise<ExchangeResult> {
  const started = Date.now();
  const responses: Buffer[] = [];
  const sent: number[] = [];
  for (let i = 0; i < frames.length; i++) {
    if (i > 0 && o.pauseMs) await sleep(o.pauseMs);
    const parts = chunks(frames[i], o.packageSize ?? 0);
    sent.push(parts.length);
    for (let j = 0; j < parts.length; j++) {
      if (j > 0 && o.pauseMs) await sleep(o.pauseMs);
      await link.write(parts[j]);
    }
    const complete = o.complete?.(i);
    responses.push(complete
      ? await link.read(complete, o.waitingMs, `response to frame ${i + 1}`)
      : await readUntilSilence(link, o.waitingMs, o.gapMs ?? 100, i));
  }
  return { responses, chunks: sent, durationMs: Date.now() - started };
}
