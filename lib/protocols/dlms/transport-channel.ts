/**
 * APDU channels: one request APDU out, one response APDU back, over a ByteStream (transport.ts).
 *
 *   WrapperChannel   the TCP wrapper (wPorts, splitWrapped); a timer per request.
 *   HdlcChannel      HDLC (splitFrames + decodeFrame feeding HdlcClientLink): SNRM/UA on open, DISC on
 *                    close; after every frame written a response timer; when it runs out the last frame
 *                    is sent again (resend()), at most `retries` times, then the request fails naming
 *                    what it waited for. A garbled frame (bad FCS/HCS) or one that does not fit the link
 *                    state is dropped and counted: the timer's retransmission recovers it. Bytes of a
 *                    partial frame older than the inter-frame timeout are dropped.
 * Every request is bounded: one waiter at a time, an APDU at most `maxApdu` bytes, a timeout.
 */
import { DlmsDecodeError } from './errors';
import { type HdlcAddress, type HdlcParameters, MAX_FRAME_LENGTH, decodeFrame, formatAddress, splitFrames } from './hdlc';
import { HdlcClientLink } from './hdlc-link';
import { encodeWrapper, splitWrapped } from './wrapper';
import type { ByteStream } from './transport';

/** No answer in time; `waitedFor` names the request (the AARQ, GET 1-0:1.8.0.255/2 (class 3), SNRM...). */
export class DlmsTimeoutError extends Error {
  constructor(message: string, readonly waitedFor: string) {
    super(message);
    this.name = 'DlmsTimeoutError';
  }
}

export interface ApduChannel {
  readonly name: string;
  open(): Promise<void>;
  /** Sends one APDU and resolves with the response APDU; `what` names the request in errors. */
  request(apdu: Buffer, what: string): Promise<Buffer>;
  close(): Promise<void>;
  /** APDUs that arrive while no request waits (DataNotification pushes); dropped without a listener. */
  onUnsolicited?: (apdu: Buffer) => void;
}

interface Waiter<T> { what: string; resolve: (v: T) => void; reject: (e: Error) => void }

export interface WrapperOptions {
  /** Client wPort (SAP), default 0x10 (public client). */
  client?: number;
  /** Server wPort, default 1 (management logical device). */
  server?: number;
  timeoutMs?: number;
}

export class WrapperChannel implements ApduChannel {
  readonly name: string;
  onUnsolicited?: (apdu: Buffer) => void;
  private buf: Buffer = Buffer.alloc(0);
  private waiter?: Waiter<Buffer>;
  private timer?: NodeJS.Timeout;
  private failure?: Error;
  private readonly client: number;
  private readonly server: number;
  private readonly timeoutMs: number;

  constructor(private readonly stream: ByteStream, o: WrapperOptions = {}) {
    this.client = o.client ?? 0x10;
    this.server = o.server ?? 1;
    this.timeoutMs = o.timeoutMs ?? 5000;
    this.name = `${stream.name} wrapper ${this.client}->${this.server}`;
    stream.onData((d) => this.received(d));
    stream.onEnd((err) => this.fail(err ?? new Error(`${stream.name}: the connection was closed`)));
  }

  async open(): Promise<void> {
    if (this.failure) throw this.failure;
  }

  request(apdu: Buffer, what: string): Promise<Buffer> {
    if (this.failure) return Promise.reject(this.failure);
    if (this.waiter) return Promise.reject(new Error(`${this.name}: ${what} while another request waits`));
    return new Promise<Buffer>((resolve, reject) => {
      this.waiter = { what, resolve, reject };
      this.timer = setTimeout(() => this.settle(new DlmsTimeoutError(`${this.name}: no response to ${what} within ${this.timeoutMs} ms`, what)), this.timeoutMs);
      this.stream.write(encodeWrapper({ source: this.client, destination: this.server, apdu })).catch((e: Error) => this.settle(e));
    });
  }

  async close(): Promise<void> {
    this.settle(new Error(`${this.name}: closed`));
    await this.stream.close();
  }

  private received(d: Buffer): void {
    this.buf = this.buf.length ? Buffer.concat([this.buf, d]) : d;
    let pdus;
    try {
      ({ pdus, rest: this.buf } = splitWrapped(this.buf));
    } catch (e) {
      // a wrong version means the stream is out of step: nothing later can be trusted
      this.fail(e as Error);
      void this.stream.close();
      return;
    }
    for (const p of pdus) {
      if (p.source !== this.server || p.destination !== this.client) continue; // another association's traffic
      if (this.waiter) this.settle(undefined, p.apdu);
      else this.onUnsolicited?.(p.apdu);
    }
  }

  private settle(err?: Error, apdu?: Buffer): void {
    const w = this.waiter;
    if (!w) return;
    this.waiter = undefined;
    clearTimeout(this.timer);
    if (err) w.reject(err);
    else w.resolve(apdu as Buffer);
  }

  private fail(err: Error): void {
    this.failure ??= err;
    this.settle(err);
  }
}

export interface HdlcOptions {
  client: HdlcAddress;
  server: HdlcAddress;
  /** Wait for each answering frame (default 3000 ms). */
  frameTimeoutMs?: number;
  /** Retransmissions of the last frame before the request fails (default 3). */
  retries?: number;
  /** A partial frame not completed within this is dropped (default 1000 ms). */
  interFrameTimeoutMs?: number;
  proposed?: Partial<HdlcParameters>;
  /** Bound on a reassembled APDU (default 65 535 bytes). */
  maxApdu?: number;
}

type Expect = 'connected' | 'apdu' | 'disconnected';

export class HdlcChannel implements ApduChannel {
  readonly name: string;
  readonly link: HdlcClientLink;
  onUnsolicited?: (apdu: Buffer) => void;
  /** What went wrong on the line so far, for logs and tests. */
  readonly stats = { framesResent: 0, framesDropped: 0, bytesSkipped: 0 };
  private buf: Buffer = Buffer.alloc(0);
  private waiter?: Waiter<Buffer | undefined> & { expect: Expect };
  private frameTimer?: NodeJS.Timeout;
  private gapTimer?: NodeJS.Timeout;
  private attempts = 0;
  private lastProblem?: string;
  private failure?: Error;
  private readonly frameTimeoutMs: number;
  private readonly retries: number;
  private readonly interFrameTimeoutMs: number;

  constructor(private readonly stream: ByteStream, o: HdlcOptions) {
    this.link = new HdlcClientLink({ client: o.client, server: o.server, proposed: o.proposed, maxApdu: o.maxApdu });
    this.frameTimeoutMs = o.frameTimeoutMs ?? 3000;
    this.retries = o.retries ?? 3;
    this.interFrameTimeoutMs = o.interFrameTimeoutMs ?? 1000;
    this.name = `${stream.name} HDLC ${formatAddress(o.client)}->${formatAddress(o.server)}`;
    stream.onData((d) => this.received(d));
    stream.onEnd((err) => this.fail(err ?? new Error(`${stream.name}: the connection was closed`)));
  }

  async open(): Promise<void> {
    await this.exchange(() => this.link.connect(), 'connected', 'SNRM');
  }

  async request(apdu: Buffer, what: string): Promise<Buffer> {
    return (await this.exchange(() => this.link.sendApdu(apdu), 'apdu', what)) as Buffer;
  }

  /** DISC (when connected, one frame timeout for its UA, no retries), then the stream closes. */
  async close(): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    try {
      if (!this.failure && this.link.state === 'connected' && !this.waiter) {
        const gaveUp = new Promise<never>((_, reject) => { timer = setTimeout(() => reject(new Error('no UA to DISC')), this.frameTimeoutMs); });
        await Promise.race([this.exchange(() => this.link.disconnect(), 'disconnected', 'DISC'), gaveUp]);
      }
    } catch { /* closing anyway */ } finally {
      clearTimeout(timer);
      this.settle(new Error(`${this.name}: closed`));
      clearTimeout(this.gapTimer);
      await this.stream.close();
    }
  }

  private exchange(first: () => Buffer, expect: Expect, what: string): Promise<Buffer | undefined> {
    if (this.failure) return Promise.reject(this.failure);
    if (this.waiter) return Promise.reject(new Error(`${this.name}: ${what} while ${this.waiter.what} waits`));
    let frame: Buffer;
    try { frame = first(); } catch (e) { return Promise.reject(e); }
    return new Promise((resolve, reject) => {
      this.waiter = { what, expect, resolve, reject };
      this.attempts = 0;
      this.lastProblem = undefined;
      this.write(frame);
    });
  }

  private write(frame: Buffer): void {
    this.armFrameTimer();
    this.stream.write(frame).catch((e: Error) => this.fail(e));
  }

  private armFrameTimer(): void {
    clearTimeout(this.frameTimer);
    this.frameTimer = setTimeout(() => this.frameTimeout(), this.frameTimeoutMs);
  }

  private frameTimeout(): void {
    const w = this.waiter;
    if (!w) return;
    const again = this.link.resend();
    if (this.attempts < this.retries && again) {
      this.attempts++;
      this.stats.framesResent++;
      this.write(again);
      return;
    }
    const why = this.lastProblem ? ` (last problem: ${this.lastProblem})` : '';
    this.settle(new DlmsTimeoutError(`${this.name}: no response to ${w.what} within ${this.frameTimeoutMs} ms after ${this.attempts} retransmissions${why}`, w.what));
  }

  private received(d: Buffer): void {
    clearTimeout(this.gapTimer);
    this.buf = this.buf.length ? Buffer.concat([this.buf, d]) : d;
    const { frames, rest, skipped } = splitFrames(this.buf);
    this.stats.bytesSkipped += skipped;
    this.buf = rest;
    if (this.buf.length > MAX_FRAME_LENGTH + 2) { this.stats.bytesSkipped += this.buf.length; this.buf = Buffer.alloc(0); }
    for (const f of frames) this.frame(f);
    if (this.buf.length) {
      this.gapTimer = setTimeout(() => { this.stats.bytesSkipped += this.buf.length; this.buf = Buffer.alloc(0); }, this.interFrameTimeoutMs);
    }
  }

  private frame(bytes: Buffer): void {
    let result;
    try {
      result = this.link.receive(decodeFrame(bytes));
    } catch (e) {
      if (e instanceof DlmsDecodeError && e.code === 'limit') { this.settle(e); return; }
      // garbled, duplicated or foreign: drop it; the response timer retransmits our last frame
      this.stats.framesDropped++;
      this.lastProblem = (e as Error).message;
      return;
    }
    this.attempts = 0;
    if (result.send) this.write(result.send);
    else if (this.waiter) this.armFrameTimer();
    const ev = result.event;
    if (!ev) return;
    if (ev.type === 'apdu' && (!this.waiter || this.waiter.expect !== 'apdu')) { this.onUnsolicited?.(ev.apdu); return; }
    if (ev.type === 'disconnected' && this.waiter?.expect !== 'disconnected') {
      this.fail(new Error(`${this.name}: the server ended the link (${ev.reason === 'DM' ? 'DM, disconnected mode' : 'UA'})`));
      return;
    }
    if (this.waiter?.expect === ev.type) this.settle(undefined, ev.type === 'apdu' ? ev.apdu : undefined);
  }

  private settle(err?: Error, value?: Buffer): void {
    const w = this.waiter;
    clearTimeout(this.frameTimer);
    if (!w) return;
    this.waiter = undefined;
    if (err) w.reject(err);
    else w.resolve(value);
  }

  private fail(err: Error): void {
    this.failure ??= err;
    clearTimeout(this.gapTimer);
    this.settle(err);
  }
}
