/**
 * Login throttling with exponential backoff, kept in the EMS database so that every AuthService over
 * one file (the API, the editor's adminAuth, the dashboard) shares it. Three counters per attempt:
 * the source address, the (login, source) pair and the account over all sources. An attempt is
 * reserved (counted as a failure) in one IMMEDIATE transaction before the password is checked, so a
 * burst of parallel attempts is counted exactly; a success then gives its reservation back and
 * resets the pair and the account. A source that logged in to an account before is trusted and not
 * held back by that account's wait, so strangers cannot keep the admin out.
 */
import type { EmsDatabase } from './db';
import { ApiError } from './envelope';

/** After `after` failures in a row, each further attempt waits baseMs, doubling up to capMs. */
export interface BackoffRule { after: number; baseMs: number; capMs: number }

export interface ThrottleOptions {
  source?: BackoffRule;
  pair?: BackoffRule;
  account?: BackoffRule;
  /** Failures older than this (with no wait running) are forgotten. */
  forgetMs?: number;
  /** A successful (login, source) pair is trusted this long. */
  trustMs?: number;
}

export const THROTTLE_DEFAULTS: Required<ThrottleOptions> = {
  source: { after: 3, baseMs: 1_000, capMs: 5 * 60_000 },
  pair: { after: 3, baseMs: 1_000, capMs: 5 * 60_000 },
  account: { after: 10, baseMs: 1_000, capMs: 30_000 },
  forgetMs: 3_600_000,
  trustMs: 30 * 24 * 3_600_000,
};

export type ThrottleScope = 'source' | 'pair' | 'account';

/** A counted attempt: give it to succeeded() when the password was right. */
export interface Reservation {
  login: string;
  ip: string;
  /** Waits this attempt started (reported as a 'security' event if it fails). */
  started: Array<{ scope: ThrottleScope; waitMs: number }>;
  sourceFailures: number;
  sourceWaitBefore: number | null;
}

interface Row { key: string; failures: number; wait_until: number | null; updated_at: number }

/** The same answer for every login, known or not. */
export function throttledError(retryAfterMs: number): ApiError {
  const s = Math.max(1, Math.ceil(retryAfterMs / 1000));
  return new ApiError(429, `too many failed logins; try again later (retry_after: ${s} s)`);
}

export class LoginThrottle {
  private readonly opts: Required<ThrottleOptions>;

  constructor(private readonly db: EmsDatabase, options: ThrottleOptions = {}, private readonly now: () => number = Date.now) {
    this.opts = { ...THROTTLE_DEFAULTS, ...options };
  }

  /** Counts an attempt of `login` from `ip`, or throws 429 (retry_after) while a wait runs. */
  reserve(login: string, ip: string): Reservation {
    const l = normLogin(login);
    const keys: Record<ThrottleScope, string> = { source: `src:${ip}`, pair: `pair:${l}\n${ip}`, account: `acct:${l}` };
    const run = this.db.transaction((): Reservation => {
      const t = this.now();
      const trusted = this.get(`good:${l}\n${ip}`);
      const scopes: ThrottleScope[] = trusted && trusted.updated_at > t - this.opts.trustMs ? ['source', 'pair'] : ['source', 'pair', 'account'];
      const rows = new Map(scopes.map((s) => [s, this.get(keys[s])]));
      const until = Math.max(0, ...[...rows.values()].map((r) => r?.wait_until ?? 0));
      if (until > t) throw throttledError(until - t);
      const res: Reservation = { login: l, ip, started: [], sourceFailures: 0, sourceWaitBefore: null };
      for (const scope of ['source', 'pair', 'account'] as const) {
        const row = this.get(keys[scope]);
        const fresh = !row || row.updated_at < t - this.opts.forgetMs;
        const failures = (fresh ? 0 : row.failures) + 1;
        const rule = this.opts[scope];
        let wait = fresh ? null : row.wait_until;
        if (failures >= rule.after) {
          const ms = Math.min(rule.capMs, rule.baseMs * 2 ** Math.min(30, failures - rule.after));
          wait = t + ms;
          res.started.push({ scope, waitMs: ms });
        }
        if (scope === 'source') {
          res.sourceFailures = failures;
          res.sourceWaitBefore = row?.wait_until ?? null;
        }
        this.db.prepare(`INSERT INTO login_throttle (key, failures, wait_until, updated_at) VALUES (?, ?, ?, ?)
          ON CONFLICT(key) DO UPDATE SET failures = excluded.failures, wait_until = excluded.wait_until, updated_at = excluded.updated_at`).run(keys[scope], failures, wait, t);
      }
      return res;
    });
    return run.immediate();
  }

  /** The password was right: reset the pair and the account, give the source its attempt back, trust the pair. */
  succeeded(r: Reservation): void {
    const t = this.now();
    this.db.transaction(() => {
      this.db.prepare('DELETE FROM login_throttle WHERE key IN (?, ?)').run(`pair:${r.login}\n${r.ip}`, `acct:${r.login}`);
      this.db.prepare(`UPDATE login_throttle SET failures = MAX(0, failures - 1),
        wait_until = CASE WHEN failures = @mine THEN @before ELSE wait_until END WHERE key = @key`)
        .run({ mine: r.sourceFailures, before: r.sourceWaitBefore, key: `src:${r.ip}` });
      this.db.prepare(`INSERT INTO login_throttle (key, failures, wait_until, updated_at) VALUES (?, 0, NULL, ?)
        ON CONFLICT(key) DO UPDATE SET updated_at = excluded.updated_at`).run(`good:${r.login}\n${r.ip}`, t);
    }).immediate();
  }

  /** Deletes forgotten counters and expired trust; returns how many rows. */
  prune(): number {
    const t = this.now();
    return this.db.prepare(`DELETE FROM login_throttle WHERE
      (key NOT LIKE 'good:%' AND updated_at < @forget AND (wait_until IS NULL OR wait_until < @t))
      OR (key LIKE 'good:%' AND updated_at < @trust)`).run({ t, forget: t - this.opts.forgetMs, trust: t - this.opts.trustMs }).changes;
  }

  private get(key: string): Row | undefined {
    return this.db.prepare('SELECT * FROM login_throttle WHERE key = ?').get(key) as Row | undefined;
  }
}

export function normLogin(login: string): string {
  return login.toLowerCase().slice(0, 100);
}
