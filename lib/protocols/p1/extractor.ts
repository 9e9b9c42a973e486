/**
 * Cuts a P1 byte stream into telegrams: plain ones from '/' to '!' plus a 4-digit CRC (DSMR 4.0 and
 * later) or to '!' alone (DSMR 2.2/3.0), or encrypted DLMS frames (0xDB ...). Junk before a telegram,
 * a telegram cut short by a new '/' and a stream that never ends a telegram are discarded: the buffer
 * never holds more than `maxBytes`, and it resynchronises on the next '/' (or 0xDB).
 */
import { encryptedFrameHeader } from './encrypted';

export interface ExtractorOptions {
  /** Encrypted frames (0xDB) instead of plain telegrams. */
  encrypted?: boolean;
  /** Bytes buffered at most while waiting for the end of a telegram (default 16 KiB). */
  maxBytes?: number;
  /** Clear bit 7 of every byte (DSMR 2.2/3.0's 7E1 read as 8N1 by a bridge). */
  sevenBit?: boolean;
}

/** DSMR telegrams are 0.5-3 KB; a Belgian one with 13 months of peaks stays well under 16 KiB. */
export const DEFAULT_MAX_TELEGRAM_BYTES = 16 * 1024;

const SLASH = 0x2f;
const BANG = 0x21;

function isHex(b: number): boolean {
  return (b >= 0x30 && b <= 0x39) || (b >= 0x41 && b <= 0x46) || (b >= 0x61 && b <= 0x66);
}

export class TelegramExtractor {
  private buf: Buffer = Buffer.alloc(0);
  /** Bytes thrown away so far (junk, cut-off telegrams, overflow). */
  discarded = 0;
  readonly maxBytes: number;

  constructor(private readonly o: ExtractorOptions = {}) {
    this.maxBytes = o.maxBytes ?? DEFAULT_MAX_TELEGRAM_BYTES;
  }

  /** Bytes held while waiting for the rest of a telegram. */
  get pending(): number {
    return this.buf.length;
  }

  /** Adds received bytes; returns the complete telegrams (or encrypted frames) they finish. */
  push(chunk: Buffer): Buffer[] {
    let data = chunk;
    if (this.o.sevenBit) data = Buffer.from(chunk.map((b) => b & 0x7f));
    this.buf = this.buf.length ? Buffer.concat([this.buf, data]) : data;
    const out: Buffer[] = [];
    for (;;) {
      const frame = this.o.encrypted ? this.nextEncrypted() : this.nextPlain();
      if (!frame) break;
      out.push(frame);
    }
    if (this.buf.length > this.maxBytes) this.overflow();
    return out;
  }

  private drop(n: number): void {
    this.discarded += n;
    this.buf = this.buf.subarray(n);
  }

  /** Too much without a complete telegram: keep only from the last start marker on (or nothing). */
  private overflow(): void {
    const marker = this.o.encrypted ? 0xdb : SLASH;
    const last = this.buf.lastIndexOf(marker);
    this.drop(last > 0 && this.buf.length - last <= this.maxBytes ? last : this.buf.length);
    if (this.buf.length === 0) this.buf = Buffer.alloc(0);
  }

  private nextPlain(): Buffer | null {
    const start = this.buf.indexOf(SLASH);
    if (start < 0) { this.drop(this.buf.length); return null; }
    if (start > 0) this.drop(start);
    const bang = this.buf.indexOf(BANG, 1);
    if (bang < 0) return null;
    const restart = this.buf.lastIndexOf(SLASH, bang);
    if (restart > 0) { this.drop(restart); return this.nextPlain(); } // a telegram cut short by a new one
    if (this.buf.length < bang + 2) return null;
    let end = bang + 1;
    if (isHex(this.buf[bang + 1])) {
      if (this.buf.length < bang + 5) return null;
      let hex = 1;
      while (hex < 4 && isHex(this.buf[bang + 1 + hex])) hex++;
      end = bang + 1 + (hex === 4 ? 4 : 0);
    }
    const frame = this.buf.subarray(0, end);
    let next = end;
    while (next < this.buf.length && (this.buf[next] === 0x0d || this.buf[next] === 0x0a) && next < end + 2) next++;
    this.buf = this.buf.subarray(next);
    return Buffer.from(frame);
  }

  private nextEncrypted(): Buffer | null {
    for (;;) {
      const start = this.buf.indexOf(0xdb);
      if (start < 0) { this.drop(this.buf.length); return null; }
      if (start > 0) this.drop(start);
      let total: number;
      try {
        const h = encryptedFrameHeader(this.buf);
        if (!h) return null;
        total = h.total;
      } catch {
        this.drop(1); // not a frame header: look for the next 0xDB
        continue;
      }
      if (total > this.maxBytes) { this.drop(1); continue; }
      if (this.buf.length < total) return null;
      const frame = Buffer.from(this.buf.subarray(0, total));
      this.buf = this.buf.subarray(total);
      return frame;
    }
  }
}
