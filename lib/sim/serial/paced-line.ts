/**
 * One end of a serial line paced at its baud rate, for simulators on a pty (which delivers bytes
 * instantly) or a real tty. Sending: byte k of a frame is handed to the port when it has fully left a
 * real UART, start + (k + 1) character times, in small chunks scheduled against the frame's start (no
 * drift). Receiving: bytes written at once by the peer are taken to arrive one character time apart,
 * so a request counts as received only when its last byte would have arrived on a wire. Framing
 * 'silence' applies the Modbus RTU rules (MODBUS over Serial Line V1.02, 2.5.1.1): a frame ends after
 * 3.5 characters of silence, a gap over 1.5 characters inside a frame breaks it (both fixed at 1.75
 * and 0.75 ms above 19200 baud); framing 'stream' hands each chunk over at its arrival time and
 * leaves frames to the protocol. Every frame on the line in either direction is recorded as a span,
 * so wire utilisation = time the line carries frames / elapsed time.
 */
import { charMs, describeLine, type LineSettings } from './line';
import { monotonic, runAt, type Clock } from './clock';

/** What the line needs from a port (a serialport, a test double). */
export interface LinePort {
  write(data: Buffer): void;
  onData(cb: (data: Buffer) => void): void;
  /** Changes the port's own speed (a real tty); a pty ignores it. */
  setBaud?(baudRate: number): Promise<void>;
  close(): Promise<void>;
}

export interface WireSpan {
  dir: 'rx' | 'tx';
  /** Clock ms when the first character started and the last ended on the simulated wire. */
  start: number;
  end: number;
  bytes: number;
}

export interface PacedLineOptions {
  framing?: 'silence' | 'stream';
  clock?: Clock;
  /** Spans and gaps kept (oldest dropped first). */
  maxRecords?: number;
}

/** t3.5 and t1.5 of a Modbus RTU line, ms. */
export function rtuSilences(line: LineSettings): { endMs: number; breakMs: number } {
  if (line.baudRate > 19200) return { endMs: 1.75, breakMs: 0.75 };
  const c = charMs(line);
  return { endMs: 3.5 * c, breakMs: 1.5 * c };
}

export class PacedLine {
  private settings: LineSettings;
  readonly framing: 'silence' | 'stream';
  private readonly clock: Clock;
  private readonly maxRecords: number;
  private readonly records: WireSpan[] = [];
  private readonly gaps: number[] = [];
  private frameCb: (frame: Buffer, span: WireSpan) => void = () => undefined;
  private dataCb: (data: Buffer, at: number) => void = () => undefined;
  private txTail: Promise<unknown> = Promise.resolve();
  private cancels = new Set<() => void>();
  private closed = false;
  /** Actual clock time the last byte of the latest frame was handed to the port. */
  private txLastByteAt = -Infinity;
  private txBusyUntil = -Infinity;
  // receiving
  private rxChunks: Buffer[] = [];
  private rxFrameStart = 0;
  private rxEnd = -Infinity;
  private rxBroken = false;
  private cancelRxEnd?: () => void;
  private deliveries: { at: number; data: Buffer }[] = [];
  private cancelDelivery?: () => void;
  readonly stats = { rxFrames: 0, rxBytes: 0, txFrames: 0, txBytes: 0, brokenFrames: 0, collisions: 0, maxTxLateMs: 0 };

  constructor(private readonly port: LinePort, line: LineSettings, o: PacedLineOptions = {}) {
    this.settings = { ...line };
    this.framing = o.framing ?? 'stream';
    this.clock = o.clock ?? monotonic;
    this.maxRecords = o.maxRecords ?? 200_000;
    port.onData((d) => this.receive(d));
  }

  get line(): LineSettings {
    return { ...this.settings };
  }

  describe(): string {
    return describeLine(this.settings);
  }

  /** Silence framing: called with each complete, unbroken frame and its span. */
  onFrame(cb: (frame: Buffer, span: WireSpan) => void): void {
    this.frameCb = cb;
  }

  /** Stream framing: called with each chunk when its last byte would have arrived. */
  onData(cb: (data: Buffer, at: number) => void): void {
    this.dataCb = cb;
  }

  /** Frames on the line so far, oldest first (at most maxRecords). */
  get spans(): readonly WireSpan[] {
    return this.records;
  }

  /** Silence before each received frame, ms: from the end of the previous frame in either direction. */
  get rxGapsMs(): readonly number[] {
    return this.gaps;
  }

  now(): number {
    return this.clock();
  }

  /** A frame is still on its way out (a pushing meter skips a telegram rather than queue it behind). */
  get sending(): boolean {
    return this.txBusyUntil > this.clock();
  }

  /** Time the line carried frames within [from, to], ms (overlapping spans counted once). */
  busyMs(from: number, to: number): number {
    let busy = 0;
    let reach = from;
    const inside = this.records.filter((s) => s.end > from && s.start < to).sort((a, b) => a.start - b.start);
    for (const s of inside) {
      const a = Math.max(s.start, reach);
      const b = Math.min(s.end, to);
      if (b > a) busy += b - a;
      reach = Math.max(reach, b);
    }
    return busy;
  }

  /** Share of [from, to] during which the line carried frames, 0..1. */
  utilisation(from: number, to: number): number {
    return to > from ? this.busyMs(from, to) / (to - from) : 0;
  }

  /** Sends a frame at the line rate after what is already queued; resolves when its last byte is out. */
  send(data: Buffer): Promise<WireSpan> {
    const run = this.txTail.then(() => this.transmit(Buffer.from(data)));
    this.txTail = run.catch(() => undefined);
    return run;
  }

  /** Changes the speed once what is queued has left (IEC 62056-21 switch-over). */
  async setBaud(baudRate: number): Promise<void> {
    await this.txTail;
    this.settings = { ...this.settings, baudRate };
    await this.port.setBaud?.(baudRate);
  }

  /** Resolves when every queued frame has left. */
  async drain(): Promise<void> {
    await this.txTail;
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const c of this.cancels) c();
    this.cancels.clear();
    this.cancelRxEnd?.();
    this.cancelDelivery?.();
    await this.port.close();
  }

  private record(span: WireSpan): void {
    this.records.push(span);
    if (this.records.length > this.maxRecords) this.records.splice(0, this.records.length - this.maxRecords);
  }

  private recordGap(ms: number): void {
    this.gaps.push(ms);
    if (this.gaps.length > this.maxRecords) this.gaps.splice(0, this.gaps.length - this.maxRecords);
  }

  private transmit(data: Buffer): Promise<WireSpan> {
    if (this.closed) return Promise.reject(new Error(`line ${this.describe()} is closed`));
    const ct = charMs(this.settings);
    const n = data.length;
    const start = Math.max(this.clock(), this.txBusyUntil);
    const span: WireSpan = { dir: 'tx', start, end: start + n * ct, bytes: n };
    this.txBusyUntil = span.end;
    this.record(span);
    this.stats.txFrames++;
    this.stats.txBytes += n;
    let written = 0;
    return new Promise((resolve, reject) => {
      let cancel: (() => void) | undefined;
      const tick = () => {
        if (cancel) this.cancels.delete(cancel);
        if (this.closed) return reject(new Error(`line ${this.describe()} closed while sending`));
        const now = this.clock();
        const due = Math.min(n, Math.floor((now - start) / ct + 1e-9));
        if (due > written) {
          this.port.write(data.subarray(written, due));
          written = due;
        }
        if (written >= n) {
          this.txLastByteAt = now;
          this.stats.maxTxLateMs = Math.max(this.stats.maxTxLateMs, now - span.end);
          return resolve(span);
        }
        // The frame's last byte is timed closely (the peer reacts to it); the bytes before in timer chunks.
        if (written === n - 1) cancel = runAt(this.clock, span.end, tick);
        else {
          const t = setTimeout(tick, Math.max(0, start + (written + 1) * ct - now));
          cancel = () => clearTimeout(t);
        }
        this.cancels.add(cancel);
      };
      tick();
    });
  }

  private receive(d: Buffer): void {
    if (this.closed || d.length === 0) return;
    const now = this.clock();
    const ct = charMs(this.settings);
    // A pty hands over a whole write at once; on a wire its bytes follow each other.
    const start = Math.max(now, this.rxEnd);
    if (start < this.txBusyUntil) this.stats.collisions++;
    const lastWireEnd = Math.max(this.rxEnd, this.txLastByteAt);
    this.stats.rxBytes += d.length;
    if (this.framing === 'stream') {
      const last = this.records[this.records.length - 1];
      if (last && last.dir === 'rx' && start === this.rxEnd && last.end === this.rxEnd) {
        last.end += d.length * ct;
        last.bytes += d.length;
      } else {
        this.recordGap(start - lastWireEnd);
        this.record({ dir: 'rx', start, end: start + d.length * ct, bytes: d.length });
        this.stats.rxFrames++;
      }
      this.rxEnd = start + d.length * ct;
      this.deliveries.push({ at: this.rxEnd, data: d });
      if (this.deliveries.length === 1) this.scheduleDelivery();
      return;
    }
    const { endMs, breakMs } = rtuSilences(this.settings);
    if (this.rxChunks.length) {
      const gap = start - this.rxEnd;
      if (gap >= endMs) this.endFrame();
      else if (gap > breakMs) this.rxBroken = true;
    }
    if (!this.rxChunks.length) {
      this.rxFrameStart = start;
      this.rxBroken = false;
      this.recordGap(start - lastWireEnd);
    }
    this.rxChunks.push(d);
    this.rxEnd = start + d.length * ct;
    this.cancelRxEnd?.();
    this.cancelRxEnd = runAt(this.clock, this.rxEnd + endMs, () => this.endFrame());
  }

  private scheduleDelivery(): void {
    const head = this.deliveries[0];
    if (!head) return;
    this.cancelDelivery = runAt(this.clock, head.at, () => {
      this.deliveries.shift();
      if (!this.closed) this.dataCb(head.data, head.at);
      this.scheduleDelivery();
    });
  }

  private endFrame(): void {
    this.cancelRxEnd?.();
    this.cancelRxEnd = undefined;
    if (!this.rxChunks.length) return;
    const frame = Buffer.concat(this.rxChunks);
    this.rxChunks = [];
    const span: WireSpan = { dir: 'rx', start: this.rxFrameStart, end: this.rxEnd, bytes: frame.length };
    this.record(span);
    this.stats.rxFrames++;
    if (this.rxBroken) {
      this.stats.brokenFrames++; // a slave discards a frame with a gap over 1.5 characters
      return;
    }
    this.frameCb(frame, span);
  }
}
