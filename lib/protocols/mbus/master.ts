/**
 * An M-Bus master (EN 13757-2) over one byte transport: one request at a time per bus (a bounded
 * queue), answer timeout from the baud rate, retries, FCB toggling per slave, SND_NKE, REQ_UD2 with
 * multi-telegram readout, primary addresses 0..250 and secondary addressing (select, then 0xFD).
 */
import { EventEmitter } from 'node:events';
import {
  ADDRESS, C, FrameSplitter, decodeFrame, encodeLong, encodeShort, hex2, manufacturerCode, selectFrame,
  type Frame, type SecondaryAddress,
} from './frame';
import { decodeTelegram } from './telegram';
import type { MbusTelegram } from './types';
import { MAX_FRAME_BYTES, RECEIVE_SLACK_MS, answerTimeoutMs, completeAnswerMs, frameTimeMs } from './timing';
import { SerialTransport, createTransport as createTransportOf, describeEndpoint, endpointKey as endpointKeyOf, type MbusEndpoint, type MbusTransport } from './transport';

export interface MasterOptions {
  /** Baud rate of the bus (for TCP gateways: of the bus behind them); sets the default timing. */
  baudRate: number;
  /** Answer timeout to the first byte, ms; 0 = from the baud rate (330 bit times + 50 ms; TCP adds 250 ms). */
  timeout: number;
  /** Further attempts after no answer or a garbled answer. */
  retries: number;
  /** Idle time between the end of one exchange and the next request, ms; -1 = 33 bit times. */
  interFrameGap: number;
  /** Jobs that may wait; one more is refused at once. */
  queueLimit: number;
  /** Telegrams read at most while the slave says "more records follow". */
  maxTelegrams: number;
  /** A slave that never answered is skipped for base * 2^(failures-1) ms, at most max (base 0: never). */
  deadBackoff: { base: number; max: number };
}

export const DEFAULT_MASTER_OPTIONS: MasterOptions = {
  baudRate: 2400, timeout: 0, retries: 1, interFrameGap: -1, queueLimit: 256, maxTelegrams: 16,
  deadBackoff: { base: 5000, max: 300_000 },
};

export type MbusErrorCode = 'timeout' | 'collision' | 'frame' | 'connection' | 'queue' | 'closed' | 'address' | 'backoff';

export class MbusError extends Error {
  constructor(readonly code: MbusErrorCode, message: string) {
    super(message);
    this.name = 'MbusError';
  }
}

/** What came back for one request: nothing, one clean frame, or bytes that are not one clean frame. */
export type Answer =
  | { kind: 'none' }
  | { kind: 'frame'; frame: Frame; raw: Buffer }
  | { kind: 'garbled'; bytes: Buffer; reason: string };

export interface ReadResult {
  /** Primary address read, or 253 (0xFD) after a secondary selection. */
  address: number;
  secondary?: string;
  /** The raw RSP_UD frames, in order. */
  frames: Buffer[];
  telegrams: MbusTelegram[];
  /** All telegrams merged: the first one's header, every record. */
  telegram: MbusTelegram;
}

export interface ReadOptions {
  /** Answer timeout for this read, ms (0/absent: the master's). */
  timeout?: number;
  /** Send an application reset with this subcode before REQ_UD2 (0x30: enhanced billing, historic values). */
  applicationReset?: number;
  /** Telegrams read at most for this read (default the master's maxTelegrams). */
  maxTelegrams?: number;
}

export type MasterState = 'idle' | 'connecting' | 'connected' | 'disconnected' | 'closed';

/** Primary address 0..250, or a secondary address: 8 digits (F = wildcard) or 16 hex digits id+manufacturer+version+medium. */
export type MbusAddress = { primary: number } | { secondary: SecondaryAddress };

export function parseAddress(value: unknown, field = 'address'): MbusAddress {
  const text = typeof value === 'number' ? String(value) : typeof value === 'string' ? value.trim().toUpperCase() : '';
  if (/^\d{1,3}$/.test(text) && Number(text) <= ADDRESS.MAX_PRIMARY) return { primary: Number(text) };
  if (/^[0-9F]{8}$/.test(text)) return { secondary: { id: text, manufacturer: null, version: null, medium: null } };
  const m = /^([0-9F]{8})([0-9A-F]{4})([0-9A-F]{2})([0-9A-F]{2})$/.exec(text);
  if (m) {
    const man = parseInt(m[2].slice(2) + m[2].slice(0, 2), 16); // frame byte order: low byte first
    const manufacturer = man === 0xffff ? null : String.fromCharCode(((man >> 10) & 31) + 64, ((man >> 5) & 31) + 64, (man & 31) + 64);
    const version = parseInt(m[3], 16), medium = parseInt(m[4], 16);
    return { secondary: { id: m[1], manufacturer, version: version === 0xff ? null : version, medium: medium === 0xff ? null : medium } };
  }
  throw new MbusError('address', `${field} ${JSON.stringify(value)} must be a primary address 0..250, an 8-digit secondary id or 16 hex digits (id, manufacturer, version, medium)`);
}

/** The 16-hex-digit secondary address of a header: id, manufacturer bytes as sent (low first), version, medium (libmbus style). */
export function secondaryAddressText(h: { id: string; manufacturer: string; version: number; medium: number }): string {
  let man = 'FFFF';
  try { const code = manufacturerCode(h.manufacturer); man = hex2(code & 0xff) + hex2(code >> 8); } catch { /* keep wildcard */ }
  return `${h.id}${man}${hex2(h.version)}${hex2(h.medium)}`;
}

export function describeAddress(a: MbusAddress): string {
  return 'primary' in a ? `primary address ${a.primary}` : `secondary address ${a.secondary.id}${a.secondary.manufacturer ? ` ${a.secondary.manufacturer}` : ''}`;
}

/**
 * Bytes one answer may bring at most: a frame is at most 261 bytes and anything beside it makes the
 * answer garbled anyway, so a device (or TCP gateway) streaming without end is cut off here.
 */
export const MAX_ANSWER_BYTES = 4 * MAX_FRAME_BYTES;

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

interface Job { run: () => Promise<unknown>; resolve: (v: unknown) => void; reject: (e: Error) => void }

/** Events: 'state' (MasterState, detail), 'queue' (depth). */
export class MbusMaster extends EventEmitter {
  readonly options: MasterOptions;
  private queue: Job[] = [];
  private busy = false;
  private closed = false;
  private splitter = new FrameSplitter();
  private listener: ((chunk: Buffer) => void) | null = null;
  private fcb = new Map<number, boolean>();
  private dead = new Map<string, { failures: number; until: number }>();
  private _state: MasterState = 'idle';
  /** Answer timeout of the job running now (a meter's own waiting time), 0 = the bus's. */
  private timeoutOverride = 0;
  readonly stats = { requests: 0, timeouts: 0, garbled: 0 };

  constructor(readonly transport: MbusTransport, options: Partial<MasterOptions> = {}) {
    super();
    const baud = transport instanceof SerialTransport ? transport.baudRate : options.baudRate;
    this.options = { ...DEFAULT_MASTER_OPTIONS, ...options, ...(baud ? { baudRate: baud } : {}) };
    transport.on('data', (chunk: Buffer) => this.listener?.(chunk));
    transport.on('close', (err?: Error) => { if (!this.closed) this.setState('disconnected', err?.message ?? ''); });
  }

  get state(): MasterState { return this._state; }
  get depth(): number { return this.queue.length; }
  get description(): string { return describeEndpoint(this.transport.endpoint); }

  /** First-byte answer timeout in ms. */
  get answerTimeout(): number {
    if (this.timeoutOverride > 0) return this.timeoutOverride;
    if (this.options.timeout > 0) return this.options.timeout;
    return answerTimeoutMs(this.options.baudRate) + (this.transport.endpoint.kind === 'tcp' ? 250 : 0);
  }

  private setState(s: MasterState, detail = ''): void {
    if (s === this._state) return;
    this._state = s;
    this.emit('state', s, detail);
  }

  /** Runs `fn` alone on the bus, after the jobs queued before it. */
  run<T>(fn: () => Promise<T>): Promise<T> {
    if (this.closed) return Promise.reject(new MbusError('closed', `M-Bus ${this.description} is closed`));
    if (this.queue.length >= this.options.queueLimit) {
      return Promise.reject(new MbusError('queue', `M-Bus ${this.description}: queue full (${this.options.queueLimit} waiting)`));
    }
    return new Promise<T>((resolve, reject) => {
      this.queue.push({ run: fn, resolve: resolve as (v: unknown) => void, reject });
      this.emit('queue', this.queue.length);
      void this.pump();
    });
  }

  private async pump(): Promise<void> {
    if (this.busy) return;
    this.busy = true;
    try {
      for (let job = this.queue.shift(); job; job = this.queue.shift()) {
        this.emit('queue', this.queue.length);
        try {
          await this.ensureOpen();
          job.resolve(await job.run());
        } catch (err) {
          job.reject(err instanceof Error ? err : new Error(String(err)));
        }
      }
    } finally {
      this.busy = false;
    }
  }

  private async ensureOpen(): Promise<void> {
    if (this.closed) throw new MbusError('closed', `M-Bus ${this.description} is closed`);
    if (this.transport.isOpen) return;
    this.setState('connecting');
    try {
      await this.transport.open();
    } catch (err) {
      this.setState('disconnected', (err as Error).message);
      throw new MbusError('connection', (err as Error).message);
    }
    this.fcb.clear();
    this.setState('connected');
  }

  private gapMs(): number {
    return this.options.interFrameGap >= 0 ? this.options.interFrameGap : frameTimeMs(3, this.options.baudRate);
  }

  /**
   * Sends one request and collects the answer (call inside run()). `settleMs` after a clean frame
   * catches a second slave answering late (a collision); `expectAnswer` false = broadcast.
   */
  async transact(request: Buffer, settleMs = 0): Promise<Answer> {
    if (!this.transport.isOpen) throw new MbusError('connection', `M-Bus ${this.description} is not connected`);
    await this.transport.flush();
    this.splitter.reset();
    const received: Buffer[] = [];
    // The slave's answer time runs from the request's last character to the start of its answer, so the
    // timer allows for the request on the wire too, for the answer's first character to arrive whole and
    // for the host's receive path.
    const firstMs = this.answerTimeout + frameTimeMs(request.length + 1, this.options.baudRate) + (this.transport.endpoint.kind === 'serial' ? RECEIVE_SLACK_MS : 0);
    const totalMs = completeAnswerMs(firstMs, this.options.baudRate);
    const idleMs = this.idleMs();
    this.stats.requests++;
    const answer = await new Promise<Answer>((resolve) => {
      let garbage = 0;
      let frame: Buffer | null = null;
      let settle: NodeJS.Timeout | undefined;
      const finish = (a: Answer) => {
        clearTimeout(first); clearTimeout(total); clearTimeout(settle); clearTimeout(idle);
        this.listener = null;
        resolve(a);
      };
      const all = () => Buffer.concat(received);
      const judge = () => {
        if (!frame) return finish(received.length ? { kind: 'garbled', bytes: all(), reason: 'incomplete or unframed bytes' } : { kind: 'none' });
        if (garbage > 0 || this.splitter.buffered > 0) return finish({ kind: 'garbled', bytes: all(), reason: 'bytes beside the frame' });
        try {
          finish({ kind: 'frame', frame: decodeFrame(frame), raw: frame });
        } catch (err) {
          finish({ kind: 'garbled', bytes: all(), reason: (err as Error).message });
        }
      };
      const first = setTimeout(judge, firstMs);
      const total = setTimeout(judge, totalMs);
      let idle: NodeJS.Timeout | undefined;
      let size = 0;
      let firstAt: number | undefined;
      this.listener = (chunk) => {
        size += chunk.length;
        if (size > MAX_ANSWER_BYTES) {
          this.splitter.reset();
          return finish({ kind: 'garbled', bytes: all(), reason: `more than ${MAX_ANSWER_BYTES} bytes (an endless answer); cut off` });
        }
        received.push(chunk);
        clearTimeout(first);
        clearTimeout(idle);
        // The line fell silent inside an answer: judge what came. A long frame's length is known from its
        // header, and it cannot be complete before its wire time: a host that stalled (bytes held in the
        // driver, then delivered at once) must not cut it short.
        firstAt ??= performance.now();
        const bytes = size >= 2 ? all() : undefined;
        const frameEnd = bytes && bytes[0] === 0x68 ? firstAt + frameTimeMs(bytes[1] + 6, this.options.baudRate) : 0;
        idle = setTimeout(judge, Math.max(idleMs, frameEnd - performance.now() + idleMs));
        const out = this.splitter.push(chunk);
        garbage += out.garbage;
        if (frame && (out.frames.length || out.garbage || this.splitter.buffered)) return finish({ kind: 'garbled', bytes: all(), reason: 'several answers' });
        if (out.frames.length > 1) return finish({ kind: 'garbled', bytes: all(), reason: 'several answers' });
        if (out.frames.length === 1) {
          frame = out.frames[0];
          if (settleMs > 0) settle = setTimeout(judge, settleMs);
          else judge();
        }
      };
      this.transport.write(request).catch((err: Error) => finish({ kind: 'garbled', bytes: Buffer.alloc(0), reason: `write failed: ${err.message}` }));
    });
    if (answer.kind === 'none') this.stats.timeouts++;
    if (answer.kind === 'garbled') {
      this.stats.garbled++;
      // A cut-off answer may still be on the line: the next request would only collide with it.
      await this.waitQuiet(totalMs);
    }
    const gap = this.gapMs();
    if (gap > 0) await sleep(gap);
    return answer;
  }

  /** Waits until no byte has come for idleMs (at most maxMs), dropping what comes. */
  private waitQuiet(maxMs: number): Promise<void> {
    const idleMs = this.idleMs();
    return new Promise((resolve) => {
      const done = () => { clearTimeout(quiet); clearTimeout(limit); this.listener = null; this.splitter.reset(); resolve(); };
      let quiet = setTimeout(done, idleMs);
      const limit = setTimeout(done, maxMs);
      this.listener = () => { clearTimeout(quiet); quiet = setTimeout(done, idleMs); };
    });
  }

  /** Sends with retries until a clean frame (or the attempts run out); the same bytes are repeated (same FCB). */
  private async transactRetry(request: Buffer, retries = this.options.retries, settleMs = 0): Promise<Answer> {
    let answer: Answer = { kind: 'none' };
    for (let attempt = 0; attempt <= retries; attempt++) {
      answer = await this.transact(request, settleMs);
      if (answer.kind === 'frame') return answer;
    }
    return answer;
  }

  /** SND_NKE: link reset; the slave answers ACK. Resets the FCB of that address. */
  sndNke(address: number, retries = this.options.retries): Promise<Answer> {
    return this.run(() => this.nke(address, retries));
  }

  private async nke(address: number, retries: number): Promise<Answer> {
    const a = await this.transactRetry(encodeShort(C.SND_NKE, address), retries, this.settleMs());
    if (a.kind === 'frame') this.fcb.set(address, true);
    return a;
  }

  /** Selects a slave by secondary address (mask with wildcards); answer ACK = exactly one matched. */
  select(mask: SecondaryAddress, retries = 0): Promise<Answer> {
    return this.run(() => this.doSelect(mask, retries));
  }

  private async doSelect(mask: SecondaryAddress, retries: number): Promise<Answer> {
    const a = await this.transactRetry(selectFrame(mask), retries, this.settleMs());
    if (a.kind === 'frame') this.fcb.set(ADDRESS.SECONDARY, true);
    return a;
  }

  /** Silence inside an answer that ends it: 4 characters, at least 50 ms (+30 ms for TCP gateways that forward in chunks). */
  idleMs(): number {
    // 50 ms at least: USB serial adapters pass received bytes on in bursts up to 16 ms apart, and a busy host adds more.
    return Math.max(50, frameTimeMs(4, this.options.baudRate)) + (this.transport.endpoint.kind === 'tcp' ? 30 : 0);
  }

  /** Short wait after a clean single-character answer for a late second answer: 2 characters, at least 10 ms. */
  settleMs(): number {
    return Math.max(10, frameTimeMs(2, this.options.baudRate));
  }

  /** REQ_UD2 to a primary address (or 253 after selection), reading every telegram while more records follow. */
  async requestUd2(address: number, maxTelegrams = this.options.maxTelegrams): Promise<{ frames: Buffer[]; telegrams: MbusTelegram[] }> {
    const frames: Buffer[] = [];
    const telegrams: MbusTelegram[] = [];
    for (let n = 0; n < maxTelegrams; n++) {
      const fcb = this.fcb.get(address) ?? true;
      const a = await this.transactRetry(encodeShort(C.REQ_UD2 | C.FCV | (fcb ? C.FCB : 0), address));
      if (a.kind === 'none') throw new MbusError('timeout', `no answer from ${address === ADDRESS.SECONDARY ? 'the selected slave' : `primary address ${address}`} within ${this.answerTimeout} ms (${this.options.retries + 1} attempt(s))`);
      if (a.kind === 'garbled') throw new MbusError('collision', `garbled answer from ${address === ADDRESS.SECONDARY ? 'the selected slave' : `primary address ${address}`}: ${a.reason} (${a.bytes.subarray(0, 16).toString('hex')}${a.bytes.length > 16 ? '...' : ''})`);
      if (a.frame.kind !== 'long') throw new MbusError('frame', `expected an RSP_UD long frame from address ${address}, got ${a.frame.kind === 'ack' ? 'an ACK' : `a ${a.frame.kind} frame`}`);
      this.fcb.set(address, !fcb);
      const t = decodeTelegram(a.raw);
      frames.push(a.raw);
      telegrams.push(t);
      if (!t.moreRecordsFollow) break;
    }
    return { frames, telegrams };
  }

  /** Reads one meter: SND_NKE then REQ_UD2 (primary), or select then REQ_UD2 to 0xFD (secondary). */
  read(address: MbusAddress, opts: ReadOptions = {}): Promise<ReadResult> {
    return this.run(async () => {
      this.timeoutOverride = opts.timeout ?? 0;
      try {
        return await this.readGuarded(address, opts);
      } finally {
        this.timeoutOverride = 0;
      }
    });
  }

  private async readGuarded(address: MbusAddress, opts: ReadOptions): Promise<ReadResult> {
    {
      const key = 'primary' in address ? `p${address.primary}` : `s${address.secondary.id}`;
      const now = Date.now();
      const d = this.dead.get(key);
      if (d && now < d.until) {
        throw new MbusError('backoff', `${describeAddress(address)} did not answer ${d.failures} time(s); skipped for ${Math.ceil((d.until - now) / 1000)} s more`);
      }
      try {
        const result = await this.readNow(address, opts);
        this.dead.delete(key);
        return result;
      } catch (err) {
        const { base, max } = this.options.deadBackoff;
        if (err instanceof MbusError && err.code === 'timeout' && base > 0) {
          const failures = (d?.failures ?? 0) + 1;
          this.dead.set(key, { failures, until: Date.now() + Math.min(max, base * 2 ** (failures - 1)) });
        }
        throw err;
      }
    }
  }

  /** SND_UD CI 0x50 with a subcode (EN 13757-3 application reset: 0x30 enhanced billing = with historic values); the slave answers ACK. */
  private async applicationReset(address: number, subcode: number): Promise<void> {
    const fcb = this.fcb.get(address) ?? true;
    const a = await this.transactRetry(encodeLong(C.SND_UD | (fcb ? C.FCB : 0), address, 0x50, Buffer.from([subcode])), this.options.retries, this.settleMs());
    if (!isAck(a)) throw new MbusError(a.kind === 'none' ? 'timeout' : 'frame', `the application reset (CI 0x50, subcode 0x${subcode.toString(16).padStart(2, '0')}) to address ${address} was not acknowledged`);
    this.fcb.set(address, !fcb);
  }

  private async readNow(address: MbusAddress, opts: ReadOptions = {}): Promise<ReadResult> {
    let a: number;
    let secondary: string | undefined;
    if ('primary' in address) {
      a = address.primary;
      await this.nke(a, 0); // link reset; a slave that ignores it may still answer REQ_UD2
    } else {
      a = ADDRESS.SECONDARY;
      const sel = await this.doSelect(address.secondary, this.options.retries);
      if (sel.kind === 'none') throw new MbusError('timeout', `no slave answered the selection of ${describeAddress(address)} within ${this.answerTimeout} ms`);
      if (sel.kind === 'garbled') throw new MbusError('collision', `several slaves answered the selection of ${describeAddress(address)} (${sel.reason}); give a full secondary address`);
      if (sel.frame.kind !== 'ack') throw new MbusError('frame', `selection of ${describeAddress(address)} answered with a ${sel.frame.kind} frame, not ACK`);
    }
    if (opts.applicationReset !== undefined) await this.applicationReset(a, opts.applicationReset);
    const { frames, telegrams } = await this.requestUd2(a, opts.maxTelegrams);
    const first = telegrams[0];
    const telegram: MbusTelegram = { ...first, records: telegrams.flatMap((t) => t.records), moreRecordsFollow: telegrams[telegrams.length - 1].moreRecordsFollow };
    if (first.header) secondary = secondaryAddressText(first.header);
    return { address: a, secondary, frames, telegrams, telegram };
  }

  /** Stops the queue (waiting jobs fail) and closes the transport. */
  async close(): Promise<void> {
    this.closed = true;
    for (const job of this.queue.splice(0)) job.reject(new MbusError('closed', `M-Bus ${this.description} closed`));
    this.listener = null;
    await this.transport.close();
    this.setState('closed');
  }
}

export const isAck = (a: Answer): boolean => a.kind === 'frame' && a.frame.kind === 'ack';

interface PoolEntry { master: MbusMaster; users: number }
const pool = new Map<string, PoolEntry>();

/**
 * One master per physical endpoint in the process, reference-counted (a serial port cannot be
 * opened twice; a gateway wants one connection). The first user's options win.
 */
export function acquireMaster(endpoint: MbusEndpoint, options: Partial<MasterOptions> = {}): MbusMaster {
  const key = endpointKeyOf(endpoint);
  let entry = pool.get(key);
  if (!entry) {
    entry = { master: new MbusMaster(createTransportOf(endpoint), options), users: 0 };
    pool.set(key, entry);
  }
  entry.users++;
  return entry.master;
}

/** Drops one use; the last user closes the link. */
export async function releaseMaster(master: MbusMaster): Promise<void> {
  for (const [key, entry] of pool) {
    if (entry.master !== master) continue;
    if (--entry.users <= 0) {
      pool.delete(key);
      await master.close();
    }
    return;
  }
}
