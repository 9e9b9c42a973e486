/**
 * The push receiver on a byte stream: a serial customer port (HAN / P1 DLMS ports at 2400 or 115200
 * baud) or TCP (a serial-to-TCP bridge). Opens the stream, feeds a PushDecoder, reconnects with a
 * doubling wait (1 s up to 60 s), and drops a partial frame after a silence (`gapMs`, default 1 s:
 * meters send a push in one burst).
 *
 *   const r = new PushReceiver({ source: { host, port } | { path, baudRate }, decoder: { meter, keys } });
 *   r.on('push', (m: PushMessage) => ...); r.on('error', (e) => ...); r.on('state', (s, detail) => ...);
 *   r.start(); ... await r.close();
 */
import { EventEmitter } from 'node:events';
import { type ByteStream, openSerialStream, openTcpStream } from './transport';
import { PushDecoder, type PushDecoderOptions } from './push';

export type PushSource = { host: string; port: number } | { path: string; baudRate: number };
export type PushReceiverState = 'connecting' | 'connected' | 'waiting';

export interface PushReceiverOptions {
  source: PushSource;
  decoder: PushDecoderOptions;
  gapMs?: number;
  backoffMs?: number;
  maxBackoffMs?: number;
  /** Tests: how streams are opened. */
  open?: (s: PushSource) => Promise<ByteStream>;
}

export const describeSource = (s: PushSource): string => ('path' in s ? `${s.path} at ${s.baudRate} baud` : `${s.host}:${s.port}`);

export class PushReceiver extends EventEmitter {
  readonly decoder: PushDecoder;
  state: PushReceiverState = 'waiting';
  private stream?: ByteStream;
  private retry?: NodeJS.Timeout;
  private gap?: NodeJS.Timeout;
  private backoff: number;
  private closed = false;

  constructor(readonly o: PushReceiverOptions) {
    super();
    this.decoder = new PushDecoder(o.decoder);
    this.backoff = o.backoffMs ?? 1000;
  }

  get name(): string {
    return describeSource(this.o.source);
  }

  start(): void {
    if (!this.stream && !this.retry && !this.closed) void this.connect();
  }

  private setState(s: PushReceiverState, detail?: string): void {
    this.state = s;
    this.emit('state', s, detail);
  }

  private async connect(): Promise<void> {
    this.retry = undefined;
    this.setState('connecting');
    const src = this.o.source;
    let stream: ByteStream;
    try {
      stream = await (this.o.open ? this.o.open(src) : 'path' in src ? openSerialStream(src.path, { baudRate: src.baudRate }) : openTcpStream(src.host, src.port));
    } catch (e) {
      this.lost(e as Error);
      return;
    }
    if (this.closed) { await stream.close(); return; }
    this.stream = stream;
    this.backoff = this.o.backoffMs ?? 1000;
    this.setState('connected');
    stream.onData((chunk) => this.data(chunk));
    stream.onEnd((err) => { if (this.stream === stream) { this.stream = undefined; this.lost(err ?? new Error(`${this.name}: the connection was closed`)); } });
  }

  private data(chunk: Buffer): void {
    clearTimeout(this.gap);
    const { messages, errors } = this.decoder.push(chunk);
    for (const e of errors) this.emit('error', e);
    for (const m of messages) this.emit('push', m);
    this.gap = setTimeout(() => this.decoder.flush(), this.o.gapMs ?? 1000);
  }

  private lost(err: Error): void {
    if (this.closed) return;
    this.decoder.flush();
    const wait = this.backoff;
    this.backoff = Math.min(this.backoff * 2, this.o.maxBackoffMs ?? 60_000);
    this.emit('error', err);
    this.setState('waiting', `${err.message}; again in ${Math.round(wait / 1000)} s`);
    this.retry = setTimeout(() => void this.connect(), wait);
  }

  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.retry);
    clearTimeout(this.gap);
    const s = this.stream;
    this.stream = undefined;
    await s?.close();
  }
}
