/**
 * The InfluxDB reading store: the network layer over the pure schema / line protocol / InfluxQL
 * modules, with a lossless disk spool for outages.
 *
 * Writes
 * - v2 (InfluxDB 2.x, 3.x, Cloud, anything serving /api/v2/write): @influxdata/influxdb-client's
 *   WriteApi, precision ms, every body gzipped (gzipThreshold 0), Token auth. Its own retries are
 *   disabled (maxRetries 0): its retry buffer lives in memory only, so this store owns retrying.
 * - v1 (InfluxDB 1.x): POST {url}/write?db=&rp=&precision=ms, Basic auth when a username is set.
 * write() and writeEvents() encode first (a bad reading rejects naming it, nothing is sent), then
 * queue the lines; the queue is flushed when it holds `batchSize` lines or `flushInterval` ms after
 * the first queued write, in requests of at most `batchSize` lines.
 *
 * Outcomes of a request
 * - 2xx: delivered; write() resolves with its count.
 * - network error, timeout, 5xx, 408, 429: the undelivered lines are appended to the disk spool
 *   (fsynced) and write() RESOLVES: the data is safe. The status becomes 'buffering'. A replayer
 *   retries the spool head with exponential backoff and jitter, honouring Retry-After. While the
 *   spool is not empty every new write is appended to it (behind the older lines), so the server
 *   receives all lines in write order. When the spool is full, write() rejects with the spool's
 *   "is full" error (those lines are lost to the store: the caller decides).
 * - 400 (bad data): the server names the bad line. The request is split in halves (recursively,
 *   bounded number of requests) to isolate the refused lines; the others are delivered. A write()
 *   owning a refused line rejects with the server's message (its other lines were written: InfluxDB
 *   has no transactions); writes without one resolve. Refused lines are never spooled.
 * - other 4xx (401/403 auth, 404 no such database/bucket, 413 too large, ...): the whole request is
 *   refused; its writes reject with the server's message; later writes are still tried.
 * Replayed lines refused with a 4xx are dropped from the spool (they can never succeed) and reported
 * through the 'rejected' event and status().lastError (their write() resolved long ago).
 *
 * Guarantees: every line of a resolved write() is delivered at least once, in write order (across
 * restarts: a new store on the same spoolDir replays what is left before anything new). A line may be
 * delivered twice (crash between delivery and spool ack, a request that timed out after the server
 * stored it); InfluxDB overwrites a point with the same series and time, so it is not duplicated.
 * Limits: lines queued in memory (the flushInterval window) and a request in flight when the process
 * dies are lost unless their write() had resolved; a full spool refuses new writes.
 *
 * Reads: GET {url}/query?db=&epoch=ms&q= (InfluxQL; v2 through the DBRP mapping of the bucket, with
 * Token auth), planned by influxql.ts; 'client-window' plans are aggregated here.
 */
import { EventEmitter } from 'node:events';
import { InfluxDB, HttpError, type WriteApi } from '@influxdata/influxdb-client';
import type { Reading } from '../../model/reading';
import type { EmsEvent, EventQuery, LatestQuery, RangeQuery, ReadingKey, ReadingStore, WindowRow } from '../types';
import { DEFAULT_SCHEMA, PRECISION, type InfluxSchema } from './schema';
import { InfluxReader, serverMessage } from './reader';
import { encodeEvents, encodeReadings } from './line-protocol';
import { DiskSpool } from './spool';

export interface InfluxRetryOptions {
  /** First retry delay, ms. Default 1000. */
  minDelay?: number;
  /** Longest retry delay, ms. Default 60000. */
  maxDelay?: number;
  /** Backoff factor. Default 2. */
  factor?: number;
  /** Random extra delay, as a fraction of the delay (0..1). Default 0.2. */
  jitter?: number;
}

export interface InfluxStoreOptions {
  version: 1 | 2;
  /** Base URL, e.g. http://localhost:8086 (a trailing slash is ignored). */
  url: string;
  /** v1: database (required). */
  database?: string;
  /** v1: retention policy (default: the database's default). */
  retentionPolicy?: string;
  /** v1: user and password (Basic auth) when the server has auth enabled. */
  username?: string;
  password?: string;
  /** v2: organisation, bucket and API token (all required). Reads query db=bucket via DBRP. */
  org?: string;
  bucket?: string;
  token?: string;
  /** Most lines per request; the queue is flushed when it holds this many. Default 5000. */
  batchSize?: number;
  /** Queued lines are sent at the latest this long after the first was queued, ms. Default 1000; 0 = at once. */
  flushInterval?: number;
  /** The disk spool directory (required). */
  spoolDir: string;
  /** Spool bound, bytes. Default 256 MiB. */
  spoolMaxBytes?: number;
  /** Spool segment size, bytes. Default 1 MiB. */
  spoolSegmentBytes?: number;
  /** Default time zone of windowed queries without one. */
  timeZone?: string;
  /** The server supports InfluxQL tz() (default true; false for Cloud Serverless). */
  timeZoneClause?: boolean;
  /** Request timeout, ms. Default 10000. */
  timeout?: number;
  retry?: InfluxRetryOptions;
  /** close() waits at most this long to deliver queued lines before spooling them, ms. Default 5000. */
  closeTimeout?: number;
  schema?: InfluxSchema;
}

export type InfluxStoreState = 'connected' | 'buffering' | 'error';

export interface InfluxStoreStatus {
  state: InfluxStoreState;
  /** Lines waiting in the disk spool. */
  spooled: number;
  /** The last error (a refused write, a failed request, a full spool), cleared by a successful delivery of the spool. */
  lastError?: string;
}

interface Job {
  lines: string[];
  count: number;
  resolve: (n: number) => void;
  reject: (err: Error) => void;
}

type SendResult =
  | { ok: true }
  | { ok: false; retry: true; message: string; retryAfterMs?: number }
  | { ok: false; retry: false; status: number; message: string };

function parseRetryAfter(value: string | null | undefined): number | undefined {
  if (!value) return undefined;
  if (/^\d+$/.test(value.trim())) return Number(value.trim()) * 1000;
  const t = Date.parse(value);
  return Number.isFinite(t) ? Math.max(0, t - Date.now()) : undefined;
}

function isRetryStatus(status: number): boolean {
  return status >= 500 || status === 429 || status === 408;
}

export class InfluxStore extends EventEmitter implements ReadingStore {
  readonly kind = 'influxdb';
  readonly spool: DiskSpool;
  private readonly opts: InfluxStoreOptions;
  private readonly url: string;
  private readonly batchSize: number;
  private readonly flushInterval: number;
  private readonly timeout: number;
  private readonly retry: Required<InfluxRetryOptions>;
  private readonly schema: InfluxSchema;
  private readonly writeApi?: WriteApi;
  private readonly reader: InfluxReader;
  private pending: Job[] = [];
  private pendingLines = 0;
  private flushTimer?: NodeJS.Timeout;
  private retryTimer?: NodeJS.Timeout;
  private retryAt = 0;
  private backoff = 0;
  private pumping?: Promise<void>;
  private closing = false;
  private closed = false;
  private closeDeadline = Infinity;
  private state: InfluxStoreState = 'connected';
  private lastError?: string;

  constructor(opts: InfluxStoreOptions) {
    super();
    const where = `influxdb store ${opts?.url}`;
    if (!opts || (opts.version !== 1 && opts.version !== 2)) throw new Error(`influxdb store: version must be 1 or 2, got ${JSON.stringify(opts?.version)}`);
    if (typeof opts.url !== 'string' || !/^https?:\/\//.test(opts.url)) throw new Error(`influxdb store: url must be an http(s) URL, got ${JSON.stringify(opts.url)}`);
    if (opts.version === 1 && !opts.database) throw new Error(`${where}: database is required (v1)`);
    if (opts.version === 2 && (!opts.org || !opts.bucket || !opts.token)) throw new Error(`${where}: org, bucket and token are required (v2)`);
    if (typeof opts.spoolDir !== 'string' || opts.spoolDir === '') throw new Error(`${where}: spoolDir is required`);
    this.opts = opts;
    this.url = opts.url.replace(/\/+$/, '');
    this.batchSize = opts.batchSize ?? 5000;
    if (!Number.isInteger(this.batchSize) || this.batchSize < 1) throw new Error(`${where}: batchSize must be a positive integer, got ${opts.batchSize}`);
    this.flushInterval = opts.flushInterval ?? 1000;
    this.timeout = opts.timeout ?? 10_000;
    this.retry = { minDelay: 1000, maxDelay: 60_000, factor: 2, jitter: 0.2, ...opts.retry };
    this.schema = opts.schema ?? DEFAULT_SCHEMA;
    this.reader = new InfluxReader(opts, this.url, this.timeout, this.schema);
    this.spool = new DiskSpool({ dir: opts.spoolDir, maxBytes: opts.spoolMaxBytes, segmentBytes: opts.spoolSegmentBytes });
    if (opts.version === 2) {
      this.writeApi = new InfluxDB({ url: this.url, token: opts.token, timeout: this.timeout }).getWriteApi(opts.org!, opts.bucket!, PRECISION, {
        batchSize: this.batchSize + 1, // never flushes by itself: send() flushes each request
        flushInterval: 0,
        maxRetries: 0, // the store retries, from the disk spool
        maxBufferLines: this.batchSize + 1,
        // no flush by size either: a flush the client starts by itself swallows its error, and send()
        // must see every request's outcome (a request holds at most batchSize lines anyway)
        maxBatchBytes: Number.MAX_SAFE_INTEGER,
        gzipThreshold: 0,
      });
    }
    if (this.spool.size > 0) {
      // a restart in the middle of an outage: replay what is left
      this.setState('buffering');
      this.kick();
    }
  }

  status(): InfluxStoreStatus {
    const s: InfluxStoreStatus = { state: this.state, spooled: this.spool.size };
    if (this.lastError !== undefined) s.lastError = this.lastError;
    return s;
  }

  // ------------------------------------------------------------------------------------ writes

  write(readings: readonly Reading[]): Promise<number> {
    let lines: string[];
    try {
      lines = encodeReadings(readings, this.schema);
    } catch (err) {
      return Promise.reject(new Error(`influxdb store: ${(err as Error).message}`));
    }
    return this.enqueue(lines);
  }

  writeEvents(events: readonly EmsEvent[]): Promise<number> {
    let lines: string[];
    try {
      lines = encodeEvents(events, this.schema);
    } catch (err) {
      return Promise.reject(new Error(`influxdb store: ${(err as Error).message}`));
    }
    return this.enqueue(lines);
  }

  private enqueue(lines: string[]): Promise<number> {
    if (this.closing || this.closed) return Promise.reject(new Error('influxdb store: the store is closed'));
    if (lines.length === 0) return Promise.resolve(0);
    return new Promise<number>((resolve, reject) => {
      this.pending.push({ lines, count: lines.length, resolve, reject });
      this.pendingLines += lines.length;
      if (this.pendingLines >= this.batchSize || this.flushInterval <= 0) this.kick();
      else if (!this.flushTimer) this.flushTimer = setTimeout(() => { this.flushTimer = undefined; this.kick(); }, this.flushInterval);
    });
  }

  /** Starts the worker unless it runs; resolves when it has nothing left to do now. */
  private kick(): Promise<void> {
    if (!this.pumping) {
      this.pumping = this.pump().finally(() => { this.pumping = undefined; });
    }
    return this.pumping;
  }

  private async pump(): Promise<void> {
    for (;;) {
      if (this.pending.length) {
        if (this.flushTimer) { clearTimeout(this.flushTimer); this.flushTimer = undefined; }
        const jobs = this.pending;
        this.pending = [];
        this.pendingLines = 0;
        if (this.spool.size > 0) this.spoolJobs(jobs);
        else await this.sendJobs(jobs);
        continue;
      }
      if (this.spool.size > 0 && !this.closed && Date.now() >= this.retryAt && Date.now() < this.closeDeadline) {
        await this.replayBatch();
        continue;
      }
      return;
    }
  }

  /** Appends whole jobs to the spool (behind older lines) and settles them. */
  private spoolJobs(jobs: Job[]): void {
    for (const job of jobs) {
      try {
        this.spool.append(job.lines);
        job.resolve(job.count);
      } catch (err) {
        this.fail((err as Error).message);
        job.reject(err as Error);
      }
    }
    if (this.spool.size > 0) this.setState('buffering');
  }

  private async sendJobs(jobs: Job[]): Promise<void> {
    // all lines in write order; starts[j] is the index of job j's first line
    let lines: string[];
    const starts: number[] = new Array(jobs.length);
    if (jobs.length === 1) {
      lines = jobs[0].lines;
      starts[0] = 0;
    } else {
      let n = 0;
      for (let j = 0; j < jobs.length; j++) { starts[j] = n; n += jobs[j].lines.length; }
      lines = new Array(n);
      let k = 0;
      for (const job of jobs) for (const l of job.lines) lines[k++] = l;
    }
    const ownerOf = (k: number): number => { // the job of line k (binary search; only on the failure paths)
      let lo = 0;
      let hi = starts.length - 1;
      while (lo < hi) {
        const mid = (lo + hi + 1) >> 1;
        if (starts[mid] <= k) lo = mid;
        else hi = mid - 1;
      }
      return lo;
    };
    const refused = new Map<number, string>(); // job index -> server message
    let spoolFrom = -1;
    for (let i = 0; i < lines.length && spoolFrom < 0; i += this.batchSize) {
      const end = Math.min(i + this.batchSize, lines.length);
      const r = await this.deliver(lines, i, end, (from, to, message) => {
        for (let j = ownerOf(from); j < jobs.length && starts[j] < to; j++) if (!refused.has(j)) refused.set(j, message);
      });
      if (r.retryFrom !== undefined) {
        spoolFrom = r.retryFrom;
        this.scheduleRetry(r.retryAfterMs, r.message);
      }
    }
    const spoolFailed = new Set<number>();
    if (spoolFrom >= 0) {
      // spool the undelivered tail, job by job (a full spool refuses whole jobs)
      for (let j = ownerOf(spoolFrom); j < jobs.length; j++) {
        const k = Math.max(spoolFrom, starts[j]);
        const e = starts[j] + jobs[j].lines.length;
        try {
          this.spool.append(k === starts[j] ? jobs[j].lines : lines.slice(k, e));
        } catch (err) {
          this.fail((err as Error).message);
          spoolFailed.add(j);
          jobs[j].reject(err as Error);
        }
      }
      this.setState('buffering');
    }
    jobs.forEach((job, j) => {
      if (spoolFailed.has(j)) return;
      const msg = refused.get(j);
      if (msg !== undefined) job.reject(new Error(`influxdb store ${this.url}: the server refused the write: ${msg}`));
      else job.resolve(job.count);
    });
    if (spoolFrom < 0 && refused.size === 0 && this.spool.size === 0) this.setState('connected');
  }

  /**
   * Delivers lines[from, to), isolating lines refused with a 400 by splitting. Stops at the first
   * retryable failure: `retryFrom` is the first undelivered line (everything from there on must be
   * spooled/retried to keep order).
   */
  private async deliver(lines: string[], from: number, to: number, onRefused: (from: number, to: number, message: string) => void):
  Promise<{ retryFrom?: number; retryAfterMs?: number; message?: string }> {
    let budget = 2 * Math.ceil(Math.log2(to - from + 1)) * 16 + 8; // bounded split requests
    const go = async (a: number, b: number): Promise<{ retryFrom?: number; retryAfterMs?: number; message?: string }> => {
      const r = await this.send(a === 0 && b === lines.length ? lines : lines.slice(a, b));
      if (r.ok) return {};
      if (r.retry) return { retryFrom: a, retryAfterMs: r.retryAfterMs, message: r.message };
      this.fail(`the server refused ${b - a} line(s): ${r.message}`);
      if (r.status !== 400 || b - a === 1 || budget <= 0) {
        onRefused(a, b, r.message);
        this.emit('rejected', r.message, lines.slice(a, b));
        return {};
      }
      const mid = a + Math.floor((b - a) / 2);
      budget -= 2;
      const left = await go(a, mid);
      if (left.retryFrom !== undefined) return left;
      return go(mid, b);
    };
    return go(from, to);
  }

  /** Replays one batch from the spool head. */
  private async replayBatch(): Promise<void> {
    const lines = this.spool.peek(this.batchSize);
    let dropped = 0;
    const r = await this.deliver(lines, 0, lines.length, (from, to) => { dropped += to - from; });
    const delivered = r.retryFrom ?? lines.length;
    this.spool.ack(delivered);
    if (r.retryFrom !== undefined) {
      this.scheduleRetry(r.retryAfterMs, r.message);
      return;
    }
    this.backoff = 0;
    if (this.spool.size === 0) {
      if (dropped === 0) this.lastError = undefined;
      this.setState(dropped === 0 ? 'connected' : 'error', true);
    } else this.emitStatus();
  }

  private scheduleRetry(retryAfterMs: number | undefined, message: string | undefined): void {
    const { minDelay, maxDelay, factor, jitter } = this.retry;
    this.backoff = this.backoff === 0 ? minDelay : Math.min(maxDelay, this.backoff * factor);
    let delay = this.backoff * (1 + Math.random() * jitter);
    if (retryAfterMs !== undefined) delay = Math.max(delay, retryAfterMs);
    delay = Math.min(delay, Math.max(maxDelay, retryAfterMs ?? 0));
    this.retryAt = Date.now() + delay;
    if (message) this.lastError = message;
    if (this.retryTimer) clearTimeout(this.retryTimer);
    if (!this.closed && !this.closing) {
      this.retryTimer = setTimeout(() => { this.retryTimer = undefined; this.retryAt = 0; void this.kick(); }, delay);
      this.retryTimer.unref();
    }
    this.setState('buffering', true);
  }

  /** One request. Never throws. */
  private async send(lines: string[]): Promise<SendResult> {
    if (this.writeApi) {
      try {
        // One record holding the whole body (the same bytes): writeRecords adds each line on its own
        // (a call, a UTF-8 size count and an array slot per line), then joins them again on flush.
        this.writeApi.writeRecord(lines.join('\n'));
        await this.writeApi.flush();
        return { ok: true };
      } catch (err) {
        if (err instanceof HttpError) {
          const message = `${err.statusCode} ${serverMessage(err.body ?? '') || err.message}`;
          if (isRetryStatus(err.statusCode)) {
            const after = err.retryAfter();
            return { ok: false, retry: true, message, retryAfterMs: after > 0 ? after * 1000 : undefined };
          }
          return { ok: false, retry: false, status: err.statusCode, message };
        }
        return { ok: false, retry: true, message: `cannot reach ${this.url}: ${(err as Error).message}` };
      }
    }
    const o = this.opts;
    const params = new URLSearchParams({ db: o.database! });
    if (o.retentionPolicy) params.set('rp', o.retentionPolicy);
    params.set('precision', PRECISION);
    const headers: Record<string, string> = { 'Content-Type': 'text/plain; charset=utf-8' };
    if (o.username) headers.Authorization = `Basic ${Buffer.from(`${o.username}:${o.password ?? ''}`).toString('base64')}`;
    let res: Response;
    let body: string;
    try {
      res = await fetch(`${this.url}/write?${params}`, { method: 'POST', headers, body: lines.join('\n'), signal: AbortSignal.timeout(this.timeout) });
      body = await res.text();
    } catch (err) {
      const e = err as Error & { cause?: { code?: string; message?: string } };
      return { ok: false, retry: true, message: `cannot reach ${this.url}: ${e.cause?.code ?? e.cause?.message ?? e.message}` };
    }
    if (res.ok) return { ok: true };
    const message = `${res.status} ${serverMessage(body) || res.statusText}`;
    if (isRetryStatus(res.status)) return { ok: false, retry: true, message, retryAfterMs: parseRetryAfter(res.headers.get('retry-after')) };
    return { ok: false, retry: false, status: res.status, message };
  }

  private fail(message: string): void {
    this.lastError = message;
    this.setState(this.spool.size > 0 ? 'buffering' : 'error', true);
  }

  private setState(state: InfluxStoreState, force = false): void {
    if (state === this.state && !force) return;
    this.state = state;
    this.emitStatus();
  }

  private emitStatus(): void {
    this.emit('status', this.status());
  }

  /** Sends queued lines now (and replays the spool when its retry is due); resolves when idle. */
  async flush(): Promise<void> {
    while (this.pumping || this.pending.length) await this.kick();
  }

  /**
   * Deletes readings by exact key after the queued writes are sent (so a delete never overtakes the write
   * it undoes); refused while writes wait in the disk spool for the server.
   */
  async remove(keys: readonly ReadingKey[]): Promise<number> {
    await this.open();
    if (!Array.isArray(keys)) throw new Error('influxdb store: keys must be an array');
    if (keys.length === 0) return 0;
    await this.flush();
    if (this.spool.size > 0) throw new Error(`influxdb store ${this.url}: cannot delete while ${this.spool.size} bytes of writes wait in the spool (the server is unreachable); retry later`);
    await this.reader.remove(keys, this.opts.org);
    return keys.length;
  }

  // ------------------------------------------------------------------------------------ reads

  query(q: RangeQuery): Promise<Reading[] | WindowRow[]> {
    return this.open().then(() => this.reader.query(q));
  }

  latest(q: LatestQuery = {}): Promise<Reading[]> {
    return this.open().then(() => this.reader.latest(q));
  }

  events(q: EventQuery): Promise<EmsEvent[]> {
    return this.open().then(() => this.reader.events(q));
  }

  private open(): Promise<void> {
    return this.closed ? Promise.reject(new Error('influxdb store: the store is closed')) : Promise.resolve();
  }

  // ------------------------------------------------------------------------------------ close

  /**
   * Stops the timers, tries to deliver queued lines (and the spool, when its retry is due) for at
   * most `closeTimeout` ms, and leaves whatever is not delivered in the spool for the next start.
   */
  async close(): Promise<void> {
    if (this.closed || this.closing) return;
    this.closing = true;
    const bound = this.opts.closeTimeout ?? 5000;
    this.closeDeadline = Date.now() + bound;
    if (this.flushTimer) { clearTimeout(this.flushTimer); this.flushTimer = undefined; }
    if (this.retryTimer) { clearTimeout(this.retryTimer); this.retryTimer = undefined; }
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([this.flush(), new Promise<void>((r) => { timer = setTimeout(r, bound); })]);
    if (timer) clearTimeout(timer);
    // what is still queued (the worker is stuck on a slow request) goes to the spool
    const jobs = this.pending;
    this.pending = [];
    this.pendingLines = 0;
    this.spoolJobs(jobs);
    this.closed = true;
    if (this.writeApi) this.writeApi.dispose();
  }
}
