/**
 * The push receiver on a byte stream: a serial customer port (HAN / P1 DLMS ports at 2400 or 115200
 * baud), a TCP connection to a serial-to-TCP bridge, or a TCP port it listens on (a meter's push setup
 * sending to a head end, at most MAX_PEERS connections at once, each closed after `idleMs` of silence). Feeds a PushDecoder per connection
 * (invocation counters shared, so a replay on another connection is refused too), reconnects with a
 * doubling wait (1 s up to 60 s), and drops a partial frame after a silence (`gapMs`, default 1 s:
 * meters send a push in one burst).
 *
 *   const r = new PushReceiver({ source: { host, port } | { path, baudRate } | { listen: port }, decoder: { meter, keys } });
 *   r.on('push', (m: PushMessage) => ...); r.on('error', (e) => ...); r.on('state', (s, detail) => ...);
 *   r.start(); ... await r.close();
 */
import { EventEmitter } from 'node:events';
import net from 'node:net';
import { type ByteStream, openSerialStream, openTcpStream } from './transport';
import { PushDecoder, type PushDecoderOptions } from './push';

export type PushSource = { host: string; port: number } | { path: string; baudRate: number } | { listen: number; host?: string };
export type PushReceiverState = 'connecting' | 'connected' | 'waiting';

export interface PushReceiverOptions {
  source: PushSource;
  decoder: PushDecoderOptions;
  gapMs?: number;
  /** Listening: a connection silent this long is closed, freeing its slot (default 10 min). */
  idleMs?: number;
  backoffMs?: number;
  maxBackoffMs?: number;
}

/** Connections a listening receiver accepts at once; more are closed. */
export const MAX_PEERS = 8;

export const describeSource = (s: PushSource): string =>
  'path' in s ? `${s.path} at ${s.baudRate} baud` : 'listen' in s ? `port ${s.listen} (listening)` : `${s.host}:${s.port}`;

export class PushReceiver extends EventEmitter {
  readonly counters = new Map<string, number>();
  state: PushReceiverState = 'waiting';
  /** Totals over every connection. */
  readonly stats = { pushes: 0, errors: 0 };
  private stream?: ByteStream;
  private server?: net.Server;
  private readonly peers = new Set<net.Socket>();
  private retry?: NodeJS.Timeout;
  private backoff: number;
  private closed = false;

  constructor(readonly o: PushReceiverOptions) {
    super();
    this.backoff = o.backoffMs ?? 1000;
    new PushDecoder(o.decoder); // checks the options now, not at the first byte
  }

  get name(): string {
    return describeSource(this.o.source);
  }

  start(): void {
    if (this.stream || this.server || this.retry || this.closed) return;
    if ('listen' in this.o.source) this.listen(this.o.source);
    else void this.connect();
  }

  private setState(s: PushReceiverState, detail?: string): void {
    this.state = s;
    this.emit('state', s, detail);
  }

  /** A data handler with its own decoder and silence timer; `stop()` clears the timer. */
  private feeder(): { data: (chunk: Buffer) => void; stop: () => void } {
    const decoder = new PushDecoder({ ...this.o.decoder, counters: this.counters });
    let gap: NodeJS.Timeout | undefined;
    return {
      data: (chunk) => {
        clearTimeout(gap);
        const { messages, errors } = decoder.push(chunk);
        this.stats.errors += errors.length;
        this.stats.pushes += messages.length;
        for (const e of errors) this.emit('error', e);
        for (const m of messages) this.emit('push', m);
        gap = setTimeout(() => decoder.flush(), this.o.gapMs ?? 1000);
      },
      stop: () => clearTimeout(gap),
    };
  }

  private async connect(): Promise<void> {
    this.retry = undefined;
    this.setState('connecting');
    const src = this.o.source;
    let stream: ByteStream;
    try {
      stream = await ('path' in src ? openSerialStream(src.path, { baudRate: src.baudRate }) : openTcpStream((src as { host: string }).host, (src as { port: number }).port));
    } catch (e) {
      this.lost(e as Error);
      return;
    }
    if (this.closed) { await stream.close(); return; }
    this.stream = stream;
    this.backoff = this.o.backoffMs ?? 1000;
    this.setState('connected');
    const f = this.feeder();
    stream.onData(f.data);
    stream.onEnd((err) => {
      f.stop();
      if (this.stream !== stream) return;
      this.stream = undefined;
      this.lost(err ?? new Error(`${this.name}: the connection was closed`));
    });
  }

  private listen(src: { listen: number; host?: string }): void {
    this.retry = undefined;
    this.setState('connecting');
    const server = net.createServer((socket) => {
      if (this.peers.size >= MAX_PEERS) { socket.destroy(); return; }
      this.peers.add(socket);
      const f = this.feeder();
      socket.on('data', f.data);
      socket.setTimeout(this.o.idleMs ?? 600_000, () => socket.destroy());
      socket.on('error', () => socket.destroy());
      socket.on('close', () => { f.stop(); this.peers.delete(socket); });
    });
    this.server = server;
    server.once('error', (e) => {
      if (this.server === server) this.server = undefined;
      server.close();
      this.lost(new Error(`cannot listen on port ${src.listen}: ${e.message}`), () => this.listen(src));
    });
    server.listen(src.listen, src.host ?? '127.0.0.1', () => {
      this.backoff = this.o.backoffMs ?? 1000;
      this.setState('connected', `listening on port ${(server.address() as net.AddressInfo).port}`);
    });
  }

  /** The port a listening receiver is bound to (once listening). */
  get listeningPort(): number | undefined {
    const a = this.server?.address();
    return a && typeof a === 'object' ? a.port : undefined;
  }

  private lost(err: Error, again: () => void = () => void this.connect()): void {
    if (this.closed) return;
    const wait = this.backoff;
    this.backoff = Math.min(this.backoff * 2, this.o.maxBackoffMs ?? 60_000);
    this.emit('error', err);
    this.setState('waiting', `${err.message}; again in ${Math.round(wait / 1000)} s`);
    this.retry = setTimeout(again, wait);
  }

  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.retry);
    const s = this.stream;
    this.stream = undefined;
    for (const p of this.peers) p.destroy();
    const server = this.server;
    this.server = undefined;
    await Promise.all([s?.close(), server && new Promise<void>((r) => server.close(() => r()))]);
  }
}
