/**
 * Invocation counters for ciphered DLMS APDUs (Green Book 9.2.7.3): the IV is system title || counter,
 * so a counter used twice under one key breaks AES-GCM. The client therefore reserves counters in
 * blocks and persists the end of each block BEFORE using any counter in it: after a crash or restart
 * it starts at the persisted end, skipping what may have been used, never reusing one.
 *
 *   const store = new FileCounterStore('/var/lib/ems/dlms-meter-7.counter');
 *   const ic = await store.reserve(2);        // ic and ic + 1 are now ours, for good
 * The server's counter (the meter's) is kept beside it: responses must carry a higher one.
 */
import fs from 'node:fs';
import path from 'node:path';

export const MAX_INVOCATION_COUNTER = 0xffffffff;

export interface CounterStore {
  /** Reserves `count` consecutive counters never handed out before and returns the first. */
  reserve(count: number): Promise<number>;
  /** The highest server counter accepted so far (-1 when none). */
  lastServerCounter(): Promise<number>;
  /** Records a server counter just accepted (persisting it may be deferred to the next reservation). */
  acceptServerCounter(ic: number): Promise<void>;
  /** Persists what is only in memory (the server counter); called at release. */
  flush?(): Promise<void>;
}

function checkCount(count: number, next: number): void {
  if (!Number.isInteger(count) || count < 1 || count > 1000) throw new RangeError(`counters to reserve ${count} is not 1..1000`);
  if (next + count - 1 > MAX_INVOCATION_COUNTER) throw new RangeError(`the invocation counter is exhausted (${next}): the meter needs a new key`);
}

/** Counters in memory only (tests, or meters whose keys change at every start). */
export class MemoryCounterStore implements CounterStore {
  private server = -1;
  constructor(private next = 0) {}
  async reserve(count: number): Promise<number> {
    checkCount(count, this.next);
    const first = this.next;
    this.next += count;
    return first;
  }
  async lastServerCounter(): Promise<number> { return this.server; }
  async acceptServerCounter(ic: number): Promise<void> { this.server = Math.max(this.server, ic); }
}

interface CounterFile { next: number; server: number }

export interface FileCounterOptions {
  /** Counters reserved per write of the file (default 100): a restart skips at most this many. */
  block?: number;
}

/**
 * Counters in a small JSON file `{ "next": N, "server": S }`, written to a temporary file, fsync'd and
 * renamed over the old one (then the directory fsync'd), so the file is always whole. `next` is the
 * first counter not yet reserved: after a restart everything below it counts as used.
 */
export class FileCounterStore implements CounterStore {
  private state?: CounterFile;
  private next = 0;
  private reservedTo = 0;
  private queue: Promise<unknown> = Promise.resolve();
  private readonly block: number;

  constructor(readonly file: string, o: FileCounterOptions = {}) {
    this.block = o.block ?? 100;
    if (!Number.isInteger(this.block) || this.block < 1 || this.block > 1_000_000) throw new RangeError(`counter block ${o.block} is not 1..1000000`);
  }

  reserve(count: number): Promise<number> {
    return this.serial(async () => {
      const s = this.load();
      checkCount(count, this.next);
      if (this.next + count > this.reservedTo) {
        this.reservedTo = Math.min(this.next + count + this.block, MAX_INVOCATION_COUNTER + 1);
        this.persist({ next: this.reservedTo, server: s.server });
      }
      const first = this.next;
      this.next += count;
      return first;
    });
  }

  lastServerCounter(): Promise<number> {
    return this.serial(async () => this.load().server);
  }

  acceptServerCounter(ic: number): Promise<void> {
    return this.serial(async () => {
      const s = this.load();
      if (ic <= s.server) return;
      // persisted with the next reservation; a restart in between accepts at worst counters it saw already
      s.server = ic;
    });
  }

  /** Writes the server counter seen so far (call at release). */
  flush(): Promise<void> {
    return this.serial(async () => {
      const s = this.load();
      this.persist({ next: this.reservedTo, server: s.server });
    });
  }

  private serial<T>(job: () => Promise<T>): Promise<T> {
    const run = this.queue.then(job, job);
    this.queue = run.catch(() => undefined);
    return run;
  }

  private load(): CounterFile {
    if (this.state) return this.state;
    let text: string | undefined;
    try {
      text = fs.readFileSync(this.file, 'utf8');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw new Error(`counter file ${this.file} cannot be read: ${(e as Error).message}`);
    }
    const s: CounterFile = { next: 0, server: -1 };
    if (text !== undefined) {
      let j: Partial<CounterFile>;
      try { j = JSON.parse(text) as Partial<CounterFile>; } catch { throw new Error(`counter file ${this.file} is not JSON: refusing to guess a counter`); }
      if (!Number.isInteger(j.next) || (j.next as number) < 0 || (j.next as number) > MAX_INVOCATION_COUNTER + 1) throw new Error(`counter file ${this.file}: next ${JSON.stringify(j.next)} is not 0..4294967296`);
      s.next = j.next as number;
      s.server = Number.isInteger(j.server) ? (j.server as number) : -1;
    }
    this.next = this.reservedTo = s.next;
    this.state = s;
    return s;
  }

  private persist(s: CounterFile): void {
    const dir = path.dirname(this.file);
    fs.mkdirSync(dir, { recursive: true });
    const tmp = `${this.file}.${process.pid}.tmp`;
    const fd = fs.openSync(tmp, 'w', 0o600);
    try {
      fs.writeSync(fd, JSON.stringify(s) + '\n');
      fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
    fs.renameSync(tmp, this.file);
    try {
      const d = fs.openSync(dir, 'r');
      try { fs.fsyncSync(d); } finally { fs.closeSync(d); }
    } catch { /* directories cannot be fsync'd on every platform */ }
  }
}
