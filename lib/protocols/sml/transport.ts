/**
 * SML transport protocol version 1 (SML 1.04 / BSI TR-03109-1 IV b):
 *   1b1b1b1b 01010101 | payload, zero-padded to a multiple of 4 | 1b1b1b1b 1a pp cL cH
 * After the start sequence the stream is read in 4-byte words. A word 1b1b1b1b is an escape and the
 * next word says what it is: 1b1b1b1b again (the payload holds those four bytes), 1a pp crc (the
 * end: pp padding bytes, CRC-16/X-25 of every byte from the start sequence up to pp, low byte first)
 * or 01010101 (a new start: the frame so far is lost). A start sequence off the 4-byte grid means
 * bytes were lost or inserted: the frame is dropped and reading restarts there.
 */
import { crc16x25, swap16 } from './crc';

export const ESCAPE = Buffer.from([0x1b, 0x1b, 0x1b, 0x1b]);
export const START = Buffer.from([0x1b, 0x1b, 0x1b, 0x1b, 0x01, 0x01, 0x01, 0x01]);
/** A frame larger than this is dropped (real telegrams are 200 bytes .. a few KB). */
export const DEFAULT_MAX_FRAME_BYTES = 64 * 1024;

/** A decoding error; `offset` counts bytes from the start of the stream (or of the decoded buffer). */
export class SmlError extends Error {
  constructor(readonly offset: number, readonly reason: string) {
    super(`offset ${offset}: ${reason}`);
    this.name = 'SmlError';
  }
}

export interface SmlFrame {
  /** Stream offset of the start sequence. */
  offset: number;
  /** The frame as transmitted, start sequence to CRC. */
  raw: Buffer;
  /** The SML messages: unescaped, without padding. */
  payload: Buffer;
  padding: number;
  /** 'swapped' when the meter sent the CRC high byte first (a variant some meters use). */
  crcOrder: 'low-first' | 'swapped';
  /** Payload indexes where an escaped 1b1b1b1b word was (for mapping payload offsets to the stream). */
  escapes: number[];
}

export type FrameEvent = { frame: SmlFrame; error?: undefined } | { error: SmlError; frame?: undefined };

/** Stream offset of payload byte `i` of a frame. */
export function streamOffset(frame: SmlFrame, i: number): number {
  let shift = 0;
  for (const e of frame.escapes) if (e < i) shift += 4;
  return frame.offset + 8 + i + shift;
}

const isEscape = (b: Buffer, i: number) => b[i] === 0x1b && b[i + 1] === 0x1b && b[i + 2] === 0x1b && b[i + 3] === 0x1b;
const isStartWord = (b: Buffer, i: number) => b[i] === 1 && b[i + 1] === 1 && b[i + 2] === 1 && b[i + 3] === 1;

/**
 * Finds frames in a byte stream fed in chunks of any size. Memory is bounded: at most one frame of
 * `maxFrameBytes` (plus the chunk being added) is held; garbage between frames is skipped and counted.
 */
export class SmlFrameExtractor {
  private buf: Buffer = Buffer.alloc(0);
  /** Stream offset of buf[0]. */
  private base = 0;
  /** Index in buf of the current frame's start sequence, -1 while hunting. */
  private start = -1;
  /** Next word to read (index in buf) while inside a frame. */
  private pos = 0;
  /** Where to look next for an off-grid start sequence. */
  private resyncFrom = 0;
  private escapes: number[] = [];
  readonly stats = { frames: 0, errors: 0, skippedBytes: 0 };

  constructor(readonly maxFrameBytes = DEFAULT_MAX_FRAME_BYTES) {}

  /** Bytes held while waiting for the rest of a frame. */
  get buffered(): number {
    return this.buf.length;
  }

  /**
   * Adds received bytes; returns the frames completed and the errors found, in stream order. Frames
   * are views of the bytes pushed: do not change a chunk after pushing it.
   */
  push(chunk: Uint8Array): FrameEvent[] {
    const c = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    this.buf = this.buf.length ? Buffer.concat([this.buf, c]) : c;
    const out: FrameEvent[] = [];
    for (;;) {
      if (this.start < 0 && !this.hunt(0)) break;
      if (!this.walk(out)) break;
    }
    this.compact();
    return out;
  }

  /** At the end of the stream: a frame begun and not ended is reported as truncated. */
  flush(): FrameEvent[] {
    const out: FrameEvent[] = [];
    if (this.start >= 0) {
      this.fail(out, `truncated frame: ${this.buf.length - this.start} bytes after the start sequence and no end sequence`);
    }
    this.stats.skippedBytes += this.buf.length;
    this.base += this.buf.length;
    this.buf = Buffer.alloc(0);
    return out;
  }

  /** Looks for a start sequence from buf index `from`; false when there is none yet. */
  private hunt(from: number): boolean {
    const i = this.buf.indexOf(START, from);
    if (i < 0) return false;
    this.stats.skippedBytes += i - from;
    this.begin(i);
    return true;
  }

  private begin(i: number): void {
    this.start = i;
    this.pos = i + 8;
    this.resyncFrom = i + 1;
    this.escapes = [];
  }

  private fail(out: FrameEvent[], reason: string): void {
    this.stats.errors++;
    out.push({ error: new SmlError(this.base + this.start, reason) });
  }

  /** Reads words of the current frame; false when more bytes are needed. */
  private walk(out: FrameEvent[]): boolean {
    const b = this.buf;
    // A start sequence off the 4-byte grid before the read position: bytes were lost.
    let offGrid = b.indexOf(START, this.resyncFrom);
    while (offGrid >= 0 && (offGrid - this.start) % 4 === 0) offGrid = b.indexOf(START, offGrid + 1);
    while (this.pos + 4 <= b.length) {
      if (offGrid >= 0 && this.pos > offGrid) {
        this.fail(out, `frame broken off by a start sequence at offset ${this.base + offGrid} off the 4-byte grid (bytes lost or inserted)`);
        this.skipTo(offGrid);
        this.begin(offGrid);
        return true;
      }
      if (this.pos - this.start > this.maxFrameBytes) {
        this.fail(out, `no end sequence within ${this.maxFrameBytes} bytes; frame dropped`);
        return this.rehunt(this.pos - 7);
      }
      if (!isEscape(b, this.pos)) { this.pos += 4; continue; }
      if (this.pos + 8 > b.length) break;
      const cmd = this.pos + 4;
      if (isEscape(b, cmd)) {
        this.escapes.push(this.pos - this.start - 8 - 4 * this.escapes.length);
        this.pos += 8;
      } else if (b[cmd] === 0x1a) {
        this.finish(out, this.pos + 8);
        return true;
      } else if (isStartWord(b, cmd)) {
        this.fail(out, `frame without end: a new start sequence follows at offset ${this.base + this.pos}`);
        this.skipTo(this.pos);
        this.begin(this.pos);
        return true;
      } else {
        this.fail(out, `invalid escape sequence 1b1b1b1b ${b.toString('hex', cmd, cmd + 4)} at offset ${this.base + this.pos}`);
        return this.rehunt(this.start + 1);
      }
    }
    this.resyncFrom = Math.max(this.resyncFrom, b.length - 7);
    return false;
  }

  /** Drops the current frame and hunts again from buf index `from`. */
  private rehunt(from: number): boolean {
    const at = Math.max(from, 0);
    this.stats.skippedBytes += at - this.start;
    this.start = -1;
    return this.hunt(at);
  }

  private skipTo(i: number): void {
    this.stats.skippedBytes += i - this.start;
  }

  /** Checks padding and CRC of the frame ending at buf index `end` and unescapes its payload. */
  private finish(out: FrameEvent[], end: number): void {
    const raw = this.buf.subarray(this.start, end); // a view: the caller's chunk is not copied
    const n = raw.length;
    const padding = raw[n - 3];
    const received = raw[n - 2] | (raw[n - 1] << 8);
    const computed = crc16x25(raw, 0, n - 2);
    if (padding > 3) {
      this.fail(out, `end sequence claims ${padding} padding bytes (at most 3)`);
    } else if (received !== computed && swap16(received) !== computed) {
      this.fail(out, `CRC error: frame of ${n} bytes has CRC ${hex4(received)}, computed ${hex4(computed)}`);
    } else {
      const words = raw.subarray(8, n - 8);
      let payload: Buffer;
      if (this.escapes.length === 0) payload = words.subarray(0, words.length - padding);
      else {
        const parts: Buffer[] = [];
        let from = 0;
        for (let i = 0; i + 8 <= words.length; i += 4) {
          if (isEscape(words, i) && isEscape(words, i + 4)) { parts.push(words.subarray(from, i + 4)); from = i + 8; i += 4; }
        }
        parts.push(words.subarray(from));
        const all = Buffer.concat(parts);
        payload = all.subarray(0, all.length - padding);
      }
      this.stats.frames++;
      out.push({ frame: { offset: this.base + this.start, raw, payload, padding, crcOrder: received === computed ? 'low-first' : 'swapped', escapes: this.escapes } });
    }
    this.start = -1;
    this.pos = end;
    this.compactTo(end);
  }

  private compactTo(i: number): void {
    this.buf = this.buf.subarray(i);
    this.base += i;
    this.pos -= i;
  }

  /** Keeps only what can still matter: the current frame, or the last 7 bytes of a start sequence. */
  private compact(): void {
    if (this.start > 0) {
      const s = this.start;
      this.buf = Buffer.from(this.buf.subarray(s));
      this.base += s;
      this.pos -= s;
      this.resyncFrom -= s;
      this.start = 0;
    } else if (this.start < 0 && this.buf.length > 7) {
      const drop = this.buf.length - 7;
      this.stats.skippedBytes += drop;
      this.buf = Buffer.from(this.buf.subarray(drop));
      this.base += drop;
    }
  }
}

const hex4 = (v: number) => `0x${v.toString(16).padStart(4, '0')}`;

/** All frames and errors in a complete buffer (a capture or dump). */
export function extractFrames(data: Uint8Array, maxFrameBytes = DEFAULT_MAX_FRAME_BYTES): FrameEvent[] {
  const x = new SmlFrameExtractor(maxFrameBytes);
  return [...x.push(data), ...x.flush()];
}

/** Wraps SML messages in a transport frame: escapes 1b1b1b1b words, pads to 4, appends the CRC. */
export function encodeFrame(messages: Uint8Array): Buffer {
  const padding = (4 - (messages.length % 4)) % 4;
  const body = Buffer.concat([Buffer.from(messages), Buffer.alloc(padding)]);
  const parts: Buffer[] = [START];
  let from = 0;
  for (let i = 0; i < body.length; i += 4) {
    if (isEscape(body, i)) { parts.push(body.subarray(from, i + 4), ESCAPE); from = i + 4; }
  }
  parts.push(body.subarray(from), ESCAPE, Buffer.from([0x1a, padding]));
  const head = Buffer.concat(parts);
  const crc = crc16x25(head);
  return Buffer.concat([head, Buffer.from([crc & 0xff, crc >>> 8])]);
}
