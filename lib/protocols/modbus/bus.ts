import { EventEmitter } from 'node:events';
import { ModbusError } from './errors';
import type { RegisterIO } from './io';
import { interFrameGapMs, readTimeoutMs } from './serial-timing';
import type { RegisterTable } from './types';

export interface BusOptions {
  /** Time to wait for one answer, ms; with baudRate, the device's turnaround allowance (the wire time is added per read). */
  timeout: number;
  /** A serial RTU line's baud rate: the gap defaults to t3.5 and each read's timeout grows with its frames. 0 = not serial. */
  baudRate: number;
  /** Bits of one character on that line (start + data + parity + stop), default 11. */
  bitsPerChar: number;
  /** Further attempts after a timeout (an exception answer is never retried: the unit is alive). */
  retries: number;
  /** Silence between the end of one exchange and the next request, ms; with baudRate at least t3.5. */
  interFrameGap: number;
  /** Requests that may wait; one more is refused at once. */
  queueLimit: number;
  /** A unit that timed out on every attempt is skipped for base * 2^(failures-1) ms, at most max. */
  unitBackoff: { base: number; max: number };
  /** After a failed connect, new attempts wait base * 2^(failures-1) ms, at most max. */
  reconnect: { base: number; max: number };
}

export const DEFAULT_BUS_OPTIONS: BusOptions = {
  timeout: 1000, baudRate: 0, bitsPerChar: 11, retries: 1, interFrameGap: 0, queueLimit: 256,
  unitBackoff: { base: 5000, max: 300_000 }, reconnect: { base: 1000, max: 30_000 },
};

export type BusState = 'idle' | 'connecting' | 'connected' | 'disconnected' | 'closed';

interface Request {
  unit: number;
  table: RegisterTable;
  start: number;
  count: number;
  resolve: (b: Buffer) => void;
  reject: (e: Error) => void;
}

interface UnitHealth { failures: number; until: number; lastError: string }

/**
 * Waits until performance.now() reaches `t`. A timer alone may fire up to 1 ms early (libuv keeps
 * whole-millisecond loop time) or 1 ms and more late, about a whole t3.5 above 19200 baud: a timer
 * covers all but the last 1 to 2 ms, setImmediate turns (I/O keeps running) the rest.
 */
async function waitUntil(t: number): Promise<void> {
  for (let left = t - performance.now(); left > 0; left = t - performance.now()) {
    await new Promise<void>((r) => (left > 2 ? setTimeout(r, Math.floor(left) - 1) : setImmediate(r)));
  }
}

/**
 * One Modbus bus (a serial line or one TCP connection): requests run one at a time in arrival order.
 * A dead unit is backed off so it never stalls the others; a lost link reconnects on demand with
 * backoff. Events: 'state' (BusState, detail), 'queue' (depth).
 */
export class ModbusBus extends EventEmitter {
  readonly options: BusOptions;
  private queue: Request[] = [];
  private busy = false;
  private units = new Map<number, UnitHealth>();
  private connectFailures = 0;
  private nextConnectAt = 0;
  private lastConnectError = '';
  private _state: BusState = 'idle';
  /** When the last exchange ended (performance clock, ms): the next request waits out the gap from here. */
  private lastExchangeEnd = -Infinity;
  readonly stats = { requests: 0, timeouts: 0, exceptions: 0, reconnects: 0 };

  constructor(private readonly io: RegisterIO, options: Partial<BusOptions> = {}, private readonly now: () => number = Date.now) {
    super();
    this.options = { ...DEFAULT_BUS_OPTIONS, ...options };
    // On a serial line the gap is never shorter than t3.5 (a configured gap can only add silence).
    if (this.options.baudRate > 0) this.options.interFrameGap = Math.max(this.options.interFrameGap, interFrameGapMs(this.options.baudRate, this.options.bitsPerChar));
  }

  get state(): BusState {
    return this._state;
  }

  get depth(): number {
    return this.queue.length + (this.busy ? 1 : 0);
  }

  private setState(state: BusState, detail = ''): void {
    if (this._state === 'closed' || (state === this._state && !detail)) return;
    this._state = state;
    this.emit('state', state, detail);
  }

  /** Reads `count` registers; rejects with a ModbusError whose code says what went wrong. */
  read(unit: number, table: RegisterTable, start: number, count: number): Promise<Buffer> {
    if (this._state === 'closed') return Promise.reject(new ModbusError('closed', 'connection closed'));
    const health = this.units.get(unit);
    const t = this.now();
    if (health && health.until > t) {
      return Promise.reject(new ModbusError('backoff',
        `unit ${unit} skipped for ${Math.ceil((health.until - t) / 1000)} s after ${health.failures} failed poll(s): ${health.lastError}`));
    }
    if (this.queue.length >= this.options.queueLimit) {
      return Promise.reject(new ModbusError('queue-full', `request queue full (${this.queue.length} waiting)`));
    }
    return new Promise((resolve, reject) => {
      this.queue.push({ unit, table, start, count, resolve, reject });
      this.emit('queue', this.depth);
      void this.pump();
    });
  }

  private async pump(): Promise<void> {
    if (this.busy) return;
    this.busy = true;
    try {
      let req: Request | undefined;
      while ((req = this.queue.shift())) {
        try {
          req.resolve(await this.exchange(req));
        } catch (err) {
          req.reject(err as Error);
        }
        this.emit('queue', this.depth - 1);
      }
    } finally {
      this.busy = false;
    }
  }

  private async ensureOpen(): Promise<void> {
    if (this._state === 'connected') this.setState('disconnected', 'link lost');
    const t = this.now();
    if (t < this.nextConnectAt) {
      throw new ModbusError('connection', `not connected, next attempt in ${Math.ceil((this.nextConnectAt - t) / 1000)} s (${this.lastConnectError})`);
    }
    this.setState('connecting');
    try {
      await this.io.open();
      if (this._state === 'closed') {
        await this.io.close();
        throw new ModbusError('closed', 'connection closed');
      }
      if (this.connectFailures > 0 || this.stats.requests > 0) this.stats.reconnects++;
      this.connectFailures = 0;
      this.setState('connected');
    } catch (err) {
      this.connectFailures++;
      this.lastConnectError = (err as Error).message;
      const { base, max } = this.options.reconnect;
      this.nextConnectAt = this.now() + Math.min(base * 2 ** (this.connectFailures - 1), max);
      this.setState('disconnected', this.lastConnectError);
      throw err;
    }
  }

  private async exchange(req: Request): Promise<Buffer> {
    if (this._state === 'closed') throw new ModbusError('closed', 'connection closed');
    if (!this.io.isOpen) await this.ensureOpen();
    let lastError: ModbusError | undefined;
    for (let attempt = 0; attempt <= this.options.retries; attempt++) {
      this.stats.requests++;
      await waitUntil(this.lastExchangeEnd + this.options.interFrameGap); // never shorter than the gap
      const { baudRate, bitsPerChar, timeout } = this.options;
      try {
        const data = await this.io.read(req.unit, req.table, req.start, req.count, baudRate > 0 ? readTimeoutMs(req.count, baudRate, timeout, bitsPerChar) : timeout)
          .finally(() => { this.lastExchangeEnd = performance.now(); });
        this.units.delete(req.unit);
        return data;
      } catch (err) {
        lastError = err instanceof ModbusError ? err : new ModbusError('connection', (err as Error).message);
        if (lastError.code === 'exception') {
          this.stats.exceptions++;
          throw lastError;
        }
        if (lastError.code === 'timeout' && !this.io.isOpen) {
          // The link died under the request: the unit is not to blame.
          lastError = new ModbusError('connection', `link lost while waiting for unit ${req.unit}: ${lastError.message}`);
        }
        if (lastError.code !== 'timeout') {
          if (!this.io.isOpen) this.setState('disconnected', lastError.message);
          throw lastError;
        }
        this.stats.timeouts++;
      }
    }
    const h = this.units.get(req.unit) ?? { failures: 0, until: 0, lastError: '' };
    h.failures++;
    h.lastError = lastError!.message;
    h.until = this.now() + Math.min(this.options.unitBackoff.base * 2 ** (h.failures - 1), this.options.unitBackoff.max);
    this.units.set(req.unit, h);
    throw lastError!;
  }

  /** Units currently skipped, for status and diagnostics. */
  backedOffUnits(): number[] {
    const t = this.now();
    return [...this.units.entries()].filter(([, h]) => h.until > t).map(([u]) => u);
  }

  /** Fails what is queued, closes the link; later reads reject. */
  async close(): Promise<void> {
    this.setState('closed');
    for (const r of this.queue.splice(0)) r.reject(new ModbusError('closed', 'connection closed'));
    await this.io.close();
  }
}
