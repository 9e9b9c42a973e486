/**
 * A lossless, bounded, append-only disk spool of line-protocol lines (the InfluxDB store's outage
 * buffer). Pure Node fs, synchronous: every call completes (or throws) before returning, so calls
 * never interleave.
 *
 * Layout of the directory:
 *   seg-000000000001.lp, seg-000000000002.lp, ...  segments, oldest first; one line per "\n"-ended line
 *   head.json                                       {"segment": <seq>, "line": <n>}: the first n lines
 *                                                   of the head segment were delivered (acked)
 * A segment is closed once it reaches `segmentBytes`; the next append starts a new one. ack() deletes
 * whole delivered segments and rewrites head.json (write to a temporary file, fsync, rename).
 *
 * Durability: append() writes the batch with one write() and fsync()s the segment before returning
 * (and fsyncs the directory when it creates a segment), so an appended batch survives a process crash
 * and, on file systems that honour fsync, a power loss. A crash in the middle of an append can leave a
 * torn last line: on open it is cut off (the file is truncated to the last "\n") and counted in
 * `tornLines`; its batch had not been acknowledged to the caller. ack() is durable too; a crash
 * between delivery and ack() replays the delivered lines again (at-least-once delivery: InfluxDB
 * overwrites a point with the same series and time, so a replay does not duplicate it).
 */
import fs from 'node:fs';
import path from 'node:path';

export interface DiskSpoolOptions {
  /** The directory (created when missing). One spool per directory. */
  dir: string;
  /** Bound on the bytes of all segment files; append() beyond it throws. Default 256 MiB. */
  maxBytes?: number;
  /** A segment is closed when it reaches this size. Default 1 MiB (capped to maxBytes). */
  segmentBytes?: number;
}

interface Segment {
  seq: number;
  file: string;
  bytes: number;
  lines: number;
}

const SEGMENT_RE = /^seg-(\d{12})\.lp$/;
const HEAD_FILE = 'head.json';

export const DEFAULT_SPOOL_MAX_BYTES = 256 * 1024 * 1024;
export const DEFAULT_SEGMENT_BYTES = 1024 * 1024;

function fsyncDir(dir: string): void {
  try {
    const fd = fs.openSync(dir, 'r');
    try { fs.fsyncSync(fd); } finally { fs.closeSync(fd); }
  } catch {
    // some platforms (Windows) cannot fsync a directory: best effort
  }
}

function countLines(buf: Buffer): number {
  let n = 0;
  for (let i = buf.indexOf(10); i !== -1; i = buf.indexOf(10, i + 1)) n++;
  return n;
}

export class DiskSpool {
  readonly dir: string;
  readonly maxBytes: number;
  readonly segmentBytes: number;
  /** Torn (incomplete) last lines cut off when the spool was opened. */
  readonly tornLines: number = 0;
  private segments: Segment[] = [];
  /** Lines of the head segment already delivered. */
  private headOffset = 0;

  constructor(opts: DiskSpoolOptions) {
    if (!opts || typeof opts.dir !== 'string' || opts.dir === '') throw new Error('influxdb spool: dir is required');
    this.dir = path.resolve(opts.dir);
    this.maxBytes = opts.maxBytes ?? DEFAULT_SPOOL_MAX_BYTES;
    if (!Number.isFinite(this.maxBytes) || this.maxBytes <= 0) throw new Error(`influxdb spool ${this.dir}: maxBytes must be a positive number, got ${opts.maxBytes}`);
    this.segmentBytes = Math.min(opts.segmentBytes ?? DEFAULT_SEGMENT_BYTES, this.maxBytes);
    try {
      fs.mkdirSync(this.dir, { recursive: true });
      let torn = 0;
      const names = fs.readdirSync(this.dir).filter((n) => SEGMENT_RE.test(n)).sort();
      for (const name of names) {
        const file = path.join(this.dir, name);
        let buf = fs.readFileSync(file);
        const lastNl = buf.lastIndexOf(10);
        if (lastNl !== buf.length - 1) {
          // a torn last line (crash in the middle of an append): cut it off
          torn++;
          fs.truncateSync(file, lastNl + 1);
          buf = buf.subarray(0, lastNl + 1);
        }
        if (buf.length === 0) {
          fs.unlinkSync(file);
          continue;
        }
        this.segments.push({ seq: Number(SEGMENT_RE.exec(name)![1]), file, bytes: buf.length, lines: countLines(buf) });
      }
      this.tornLines = torn;
      const head = this.readHead();
      if (head && this.segments.length && head.segment === this.segments[0].seq) this.headOffset = Math.min(head.line, this.segments[0].lines);
      this.dropDelivered();
    } catch (err) {
      throw new Error(`influxdb spool ${this.dir}: cannot open: ${(err as Error).message}`);
    }
  }

  /** Lines waiting to be delivered. */
  get size(): number {
    let n = 0;
    for (const s of this.segments) n += s.lines;
    return n - this.headOffset;
  }

  /** Bytes on disk (segment files, including delivered lines of the head segment). */
  get bytes(): number {
    let n = 0;
    for (const s of this.segments) n += s.bytes;
    return n;
  }

  /**
   * Appends lines (each without "\n"), durably (written and fsynced before it returns), all or
   * nothing. Throws when a line contains a newline or when the spool would exceed maxBytes.
   */
  append(lines: readonly string[]): void {
    if (lines.length === 0) return;
    for (const l of lines) {
      if (typeof l !== 'string' || l === '' || l.includes('\n')) throw new Error(`influxdb spool ${this.dir}: a line must be a non-empty string without a newline, got ${JSON.stringify(l)}`);
    }
    const data = Buffer.from(lines.join('\n') + '\n', 'utf8');
    const used = this.bytes;
    if (used + data.length > this.maxBytes) {
      throw new Error(`influxdb spool ${this.dir} is full: ${used} of ${this.maxBytes} bytes used, ${lines.length} line(s) (${data.length} bytes) refused`);
    }
    let tail = this.segments[this.segments.length - 1];
    if (!tail || tail.bytes >= this.segmentBytes) {
      const seq = tail ? tail.seq + 1 : 1;
      tail = { seq, file: path.join(this.dir, `seg-${String(seq).padStart(12, '0')}.lp`), bytes: 0, lines: 0 };
    }
    const created = tail.bytes === 0;
    const fd = fs.openSync(tail.file, 'a');
    try {
      fs.writeSync(fd, data);
      fs.fsyncSync(fd);
    } catch (err) {
      fs.closeSync(fd);
      // undo a partial write so that the file keeps whole lines only
      try { fs.truncateSync(tail.file, tail.bytes); } catch { /* the torn line is cut on the next open */ }
      throw new Error(`influxdb spool ${this.dir}: cannot append: ${(err as Error).message}`);
    }
    fs.closeSync(fd);
    if (created) {
      this.segments.push(tail);
      fsyncDir(this.dir);
    }
    tail.bytes += data.length;
    tail.lines += lines.length;
  }

  /** The oldest undelivered lines, at most maxLines, in append order (without removing them). */
  peek(maxLines: number): string[] {
    const out: string[] = [];
    for (let i = 0; i < this.segments.length && out.length < maxLines; i++) {
      const seg = this.segments[i];
      const lines = fs.readFileSync(seg.file, 'utf8').split('\n');
      lines.pop(); // after the final "\n"
      const start = i === 0 ? this.headOffset : 0;
      for (let j = start; j < lines.length && out.length < maxLines; j++) out.push(lines[j]);
    }
    return out;
  }

  /** Drops the n oldest lines (delivered), durably. */
  ack(n: number): void {
    if (!Number.isInteger(n) || n < 0) throw new RangeError(`influxdb spool ${this.dir}: ack count must be a non-negative integer, got ${n}`);
    if (n > this.size) throw new RangeError(`influxdb spool ${this.dir}: cannot ack ${n} lines, only ${this.size} are spooled`);
    if (n === 0) return;
    this.headOffset += n;
    this.dropDelivered();
  }

  private dropDelivered(): void {
    while (this.segments.length && this.headOffset >= this.segments[0].lines) {
      const seg = this.segments[0];
      // keep the tail segment when it is not full yet? No: an empty spool has no files at all
      this.headOffset -= seg.lines;
      fs.rmSync(seg.file, { force: true });
      this.segments.shift();
    }
    const headFile = path.join(this.dir, HEAD_FILE);
    if (this.segments.length === 0 || this.headOffset === 0) {
      fs.rmSync(headFile, { force: true });
      this.headOffset = 0;
      return;
    }
    const tmp = `${headFile}.tmp`;
    const fd = fs.openSync(tmp, 'w');
    try {
      fs.writeSync(fd, JSON.stringify({ segment: this.segments[0].seq, line: this.headOffset }));
      fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
    fs.renameSync(tmp, headFile);
  }

  private readHead(): { segment: number; line: number } | null {
    try {
      const h = JSON.parse(fs.readFileSync(path.join(this.dir, HEAD_FILE), 'utf8')) as { segment?: unknown; line?: unknown };
      if (Number.isInteger(h.segment) && Number.isInteger(h.line) && (h.line as number) >= 0) return { segment: h.segment as number, line: h.line as number };
    } catch {
      // missing or unreadable: nothing delivered from the head segment
    }
    return null;
  }
}
