/**
 * The store of issued bills: a SQLite file (better-sqlite3) written once per bill and never changed.
 * SQLite triggers refuse every UPDATE and DELETE of the bills table, whoever runs them. Each bill is
 * stored whole (JSON) with its number, issue time and content hash; reading a bill back checks the hash.
 *
 * Issuing rules:
 * - A bill number is "<B|CN>-<year>-<6-digit sequence>" per kind and local year of issue.
 * - One live bill per subject (meter or cost center) and period: issuing the same content again
 *   returns the issued bill; different content (a tariff or reading changed) is refused until a credit
 *   note cancels the issued one. A bill cancelled by a credit note no longer blocks a new one.
 * - A credit note must reference an issued bill, and a bill can be credited once.
 */
import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { toLocal } from '../model/time';
import type { Bill, BillKind } from './bill';
import { billHash } from './hash';

const SCHEMA = `
CREATE TABLE IF NOT EXISTS bills (
  number TEXT PRIMARY KEY,
  kind TEXT NOT NULL CHECK (kind IN ('bill', 'credit-note')),
  subject_type TEXT NOT NULL,
  subject TEXT NOT NULL,
  period_from INTEGER NOT NULL,
  period_to INTEGER NOT NULL,
  refs TEXT REFERENCES bills (number),
  issued_at INTEGER NOT NULL,
  hash TEXT NOT NULL,
  body TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS bills_subject ON bills (subject_type, subject, period_from, period_to);
CREATE UNIQUE INDEX IF NOT EXISTS bills_one_credit ON bills (refs) WHERE refs IS NOT NULL;
CREATE TRIGGER IF NOT EXISTS bills_no_update BEFORE UPDATE ON bills
  BEGIN SELECT RAISE(ABORT, 'issued bills are immutable: UPDATE refused (issue a credit note)'); END;
CREATE TRIGGER IF NOT EXISTS bills_no_delete BEFORE DELETE ON bills
  BEGIN SELECT RAISE(ABORT, 'issued bills are immutable: DELETE refused (issue a credit note)'); END;
`;

interface Row {
  number: string;
  kind: BillKind;
  refs: string | null;
  hash: string;
  body: string;
}

export interface BillQuery {
  subjectType?: 'meter' | 'cost-center';
  subject?: string;
  /** Bills whose period overlaps [from, to). */
  from?: number;
  to?: number;
  kind?: BillKind;
}

export interface IssueResult {
  bill: Bill;
  /** False when the same bill was issued before and is returned as it was. */
  created: boolean;
}

/** Refused issuing: `existing` is the number of the bill in the way. */
export class BillIssueError extends Error {
  constructor(message: string, readonly existing?: string) {
    super(message);
    this.name = 'BillIssueError';
  }
}

export class BillStore {
  readonly path: string;
  private readonly db: Database.Database;

  /** Opens (creates) the bill file; ":memory:" for tests. */
  constructor(file: string) {
    this.path = file;
    try {
      if (file !== ':memory:') fs.mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
      this.db = new Database(file);
      this.db.pragma('busy_timeout = 5000');
      if (file !== ':memory:') this.db.pragma('journal_mode = WAL');
      this.db.exec(SCHEMA);
    } catch (err) {
      throw new Error(`bill store ${file}: cannot open: ${err instanceof Error ? err.message : String(err)}`);
    }
  }

  /** Issues a draft (see the module comment); returns the issued bill. Throws BillIssueError when refused. */
  issue(draft: Bill, options: { now?: number } = {}): IssueResult {
    if (!draft || draft.status !== 'draft') throw new BillIssueError(`bill: only a draft can be issued, got status ${JSON.stringify(draft?.status)}`);
    const now = options.now ?? Date.now();
    const hash = billHash(draft);
    const run = this.db.transaction((): IssueResult => {
      if (draft.kind === 'credit-note') {
        const original = draft.references ? this.row(draft.references) : undefined;
        if (!original || original.kind !== 'bill') throw new BillIssueError(`credit note: references ${JSON.stringify(draft.references)} is not an issued bill`);
        const credit = this.db.prepare('SELECT number, kind, refs, hash, body FROM bills WHERE refs = ?').get(original.number) as Row | undefined;
        if (credit) {
          if (credit.hash === hash) return { bill: this.parse(credit), created: false };
          throw new BillIssueError(`bill ${original.number} is already credited by ${credit.number}`, credit.number);
        }
      } else {
        const live = this.live(draft);
        if (live) {
          if (live.hash === hash) return { bill: this.parse(live), created: false };
          throw new BillIssueError(
            `${draft.subject.type} ${draft.subject.id} already has bill ${live.number} for ${new Date(draft.from).toISOString()}/${new Date(draft.to).toISOString()} with other amounts: issue a credit note for ${live.number} first`,
            live.number,
          );
        }
      }
      const number = this.nextNumber(draft.kind, toLocal(now, draft.timeZone).year);
      const bill: Bill = { ...draft, status: 'issued', number, issuedAt: now, hash };
      this.db.prepare(`INSERT INTO bills (number, kind, subject_type, subject, period_from, period_to, refs, issued_at, hash, body)
        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`).run(number, bill.kind, bill.subject.type, bill.subject.id, bill.from, bill.to, bill.references ?? null, now, hash, JSON.stringify(bill));
      return { bill, created: true };
    });
    return run.immediate();
  }

  /** The issued bill with this number, checked against its hash; undefined when there is none. */
  get(number: string): Bill | undefined {
    const row = this.row(number);
    return row ? this.parse(row) : undefined;
  }

  /** Issued bills and credit notes matching the query, oldest first. */
  list(q: BillQuery = {}): Bill[] {
    const where: string[] = [];
    const args: (string | number)[] = [];
    if (q.subjectType) { where.push('subject_type = ?'); args.push(q.subjectType); }
    if (q.subject) { where.push('subject = ?'); args.push(q.subject); }
    if (q.kind) { where.push('kind = ?'); args.push(q.kind); }
    if (q.from !== undefined) { where.push('period_to > ?'); args.push(q.from); }
    if (q.to !== undefined) { where.push('period_from < ?'); args.push(q.to); }
    const sql = `SELECT number, kind, refs, hash, body FROM bills ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY issued_at, number`;
    return (this.db.prepare(sql).all(...args) as Row[]).map((r) => this.parse(r));
  }

  /** Runs SQL on the bill file (for tests and maintenance); the triggers still apply. */
  exec(sql: string, ...args: unknown[]): void {
    this.db.prepare(sql).run(...args);
  }

  close(): void {
    if (this.db.open) this.db.close();
  }

  /** The issued, not credited bill of the draft's subject and period. */
  private live(draft: Bill): Row | undefined {
    return this.db.prepare(`SELECT b.number, b.kind, b.refs, b.hash, b.body FROM bills b
      WHERE b.kind = 'bill' AND b.subject_type = ? AND b.subject = ? AND b.period_from = ? AND b.period_to = ?
        AND NOT EXISTS (SELECT 1 FROM bills c WHERE c.refs = b.number)`).get(draft.subject.type, draft.subject.id, draft.from, draft.to) as Row | undefined;
  }

  private row(number: string): Row | undefined {
    return this.db.prepare('SELECT number, kind, refs, hash, body FROM bills WHERE number = ?').get(number) as Row | undefined;
  }

  private nextNumber(kind: BillKind, year: number): string {
    const prefix = `${kind === 'bill' ? 'B' : 'CN'}-${year}-`;
    const { n } = this.db.prepare('SELECT COUNT(*) AS n FROM bills WHERE number LIKE ?').get(`${prefix}%`) as { n: number };
    return `${prefix}${String(n + 1).padStart(6, '0')}`;
  }

  private parse(row: Row): Bill {
    const bill = JSON.parse(row.body) as Bill;
    if (billHash(bill) !== row.hash || bill.hash !== row.hash) throw new Error(`bill ${row.number}: content does not match its hash ${row.hash}`);
    return bill;
  }
}
