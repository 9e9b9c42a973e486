/**
 * SQLite persistence of the prepaid ledger (better-sqlite3). Tables:
 * - accounts: one row per account; its settings (name, thresholds) may change, its currency may not;
 * - ledger: append-only money entries, signed decimal text, one reference per account (UNIQUE);
 * - events: append-only valve commands and alarm changes, so a restart knows what was last sent.
 * Triggers refuse UPDATE and DELETE on ledger and events, so history cannot be rewritten by SQL either.
 */
import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';

export const SCHEMA_VERSION = 1;

const SCHEMA = `
CREATE TABLE IF NOT EXISTS accounts (
  id TEXT PRIMARY KEY, name TEXT, currency TEXT NOT NULL, decimals INTEGER NOT NULL,
  warn_below TEXT NOT NULL, cut_off_below TEXT NOT NULL, created INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS ledger (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  account TEXT NOT NULL REFERENCES accounts (id),
  kind TEXT NOT NULL CHECK (kind IN ('initial', 'topup', 'consume')),
  reference TEXT NOT NULL,
  amount TEXT NOT NULL,
  time INTEGER NOT NULL,
  quantity TEXT, unit TEXT, detail TEXT,
  recorded INTEGER NOT NULL,
  UNIQUE (account, reference)
);
CREATE INDEX IF NOT EXISTS ledger_account_time ON ledger (account, time);
CREATE TABLE IF NOT EXISTS events (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  account TEXT NOT NULL REFERENCES accounts (id),
  kind TEXT NOT NULL CHECK (kind IN ('valve', 'alarm')),
  value TEXT NOT NULL,
  entry INTEGER REFERENCES ledger (seq),
  balance TEXT NOT NULL,
  threshold TEXT NOT NULL,
  time INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS events_account_kind ON events (account, kind, seq);
CREATE TRIGGER IF NOT EXISTS ledger_no_update BEFORE UPDATE ON ledger
  BEGIN SELECT RAISE(ABORT, 'prepaid ledger is append-only: UPDATE refused'); END;
CREATE TRIGGER IF NOT EXISTS ledger_no_delete BEFORE DELETE ON ledger
  BEGIN SELECT RAISE(ABORT, 'prepaid ledger is append-only: DELETE refused'); END;
CREATE TRIGGER IF NOT EXISTS events_no_update BEFORE UPDATE ON events
  BEGIN SELECT RAISE(ABORT, 'prepaid events are append-only: UPDATE refused'); END;
CREATE TRIGGER IF NOT EXISTS events_no_delete BEFORE DELETE ON events
  BEGIN SELECT RAISE(ABORT, 'prepaid events are append-only: DELETE refused'); END;
`;

export interface AccountRow {
  id: string; name: string | null; currency: string; decimals: number;
  warn_below: string; cut_off_below: string; created: number;
}
export interface LedgerRow {
  seq: number; account: string; kind: 'initial' | 'topup' | 'consume'; reference: string; amount: string;
  time: number; quantity: string | null; unit: string | null; detail: string | null; recorded: number;
}
export interface EventRow {
  seq: number; account: string; kind: 'valve' | 'alarm'; value: string; entry: number | null;
  balance: string; threshold: string; time: number;
}
export type NewLedgerRow = Omit<LedgerRow, 'seq'>;
export type NewEventRow = Omit<EventRow, 'seq'>;

/** Thin typed access to the three tables; no business rules here. */
export class PrepaidStore {
  readonly db: Database.Database;
  private readonly cache = new Map<string, Database.Statement>();

  constructor(readonly file: string) {
    if (file !== ':memory:') fs.mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
    this.db = new Database(file);
    try {
      this.db.pragma('busy_timeout = 5000');
      this.db.pragma('foreign_keys = ON');
      if (file !== ':memory:') this.db.pragma('journal_mode = WAL');
      this.db.pragma('synchronous = FULL'); // money: a committed entry survives a power cut
      const version = this.db.pragma('user_version', { simple: true }) as number;
      if (version > SCHEMA_VERSION) throw new Error(`schema version ${version} is newer than this code (${SCHEMA_VERSION})`);
      this.db.exec(SCHEMA);
      if (version < SCHEMA_VERSION) this.db.pragma(`user_version = ${SCHEMA_VERSION}`);
    } catch (err) {
      this.db.close();
      throw err;
    }
  }

  private stmt(sql: string): Database.Statement {
    let s = this.cache.get(sql);
    if (!s) this.cache.set(sql, (s = this.db.prepare(sql)));
    return s;
  }

  /** Runs fn in one IMMEDIATE transaction (takes the write lock first, so read-then-write is atomic across processes). */
  atomically<T>(fn: () => T): T {
    return this.db.transaction(fn).immediate();
  }

  account(id: string): AccountRow | undefined {
    return this.stmt('SELECT * FROM accounts WHERE id = ?').get(id) as AccountRow | undefined;
  }

  accounts(): AccountRow[] {
    return this.stmt('SELECT * FROM accounts ORDER BY id').all() as AccountRow[];
  }

  insertAccount(a: AccountRow): void {
    this.stmt(`INSERT INTO accounts (id, name, currency, decimals, warn_below, cut_off_below, created)
      VALUES (@id, @name, @currency, @decimals, @warn_below, @cut_off_below, @created)`).run(a);
  }

  updateSettings(id: string, name: string | null, warnBelow: string, cutOffBelow: string): void {
    this.stmt('UPDATE accounts SET name = ?, warn_below = ?, cut_off_below = ? WHERE id = ?').run(name, warnBelow, cutOffBelow, id);
  }

  byReference(account: string, reference: string): LedgerRow | undefined {
    return this.stmt('SELECT * FROM ledger WHERE account = ? AND reference = ?').get(account, reference) as LedgerRow | undefined;
  }

  insertEntry(row: NewLedgerRow): LedgerRow {
    const info = this.stmt(`INSERT INTO ledger (account, kind, reference, amount, time, quantity, unit, detail, recorded)
      VALUES (@account, @kind, @reference, @amount, @time, @quantity, @unit, @detail, @recorded)`).run(row);
    return { seq: Number(info.lastInsertRowid), ...row };
  }

  /** Signed amounts of an account's entries with seq > after, in order: [seq, amount]. */
  amountsAfter(account: string, after: number): [number, string][] {
    return this.stmt('SELECT seq, amount FROM ledger WHERE account = ? AND seq > ? ORDER BY seq').raw(true).all(account, after) as [number, string][];
  }

  /** Entries with from <= time < to, in ledger order, and the amounts of all earlier-ordered entries outside the range before them. */
  entries(account: string, from: number, to: number): LedgerRow[] {
    return this.stmt('SELECT * FROM ledger WHERE account = ? AND time >= ? AND time < ? ORDER BY seq').all(account, from, to) as LedgerRow[];
  }

  lastEvent(account: string, kind: 'valve' | 'alarm'): EventRow | undefined {
    return this.stmt('SELECT * FROM events WHERE account = ? AND kind = ? ORDER BY seq DESC LIMIT 1').get(account, kind) as EventRow | undefined;
  }

  events(account: string): EventRow[] {
    return this.stmt('SELECT * FROM events WHERE account = ? ORDER BY seq').all(account) as EventRow[];
  }

  insertEvent(row: NewEventRow): EventRow {
    const info = this.stmt(`INSERT INTO events (account, kind, value, entry, balance, threshold, time)
      VALUES (@account, @kind, @value, @entry, @balance, @threshold, @time)`).run(row);
    return { seq: Number(info.lastInsertRowid), ...row };
  }

  close(): void {
    if (this.db.open) this.db.close();
  }
}
