/**
 * Prepaid accounts on an append-only ledger (the LoRaWAN platform's prepaid model: customerFee is the
 * initial balance, remotelyTopUp credits, consumption deducts at the price, householdWarnMoney is the
 * low-balance alarm, and "if it is less than the overdraft amount, the valve closing command is issued").
 *
 * The balance is always the sum of the account's ledger entries. Every entry has a reference unique per
 * account: posting it again answers "already applied" with the original entry. Valve commands and alarm
 * changes are recorded as events, so after a restart nothing is sent twice and nothing is forgotten.
 * The valve closes when the balance is below `cutOffBelow` and reopens when it is back at or above it.
 */
import { Decimal } from '../money/decimal';
import { PrepaidStore, type AccountRow, type EventRow, type LedgerRow } from './prepaid-store';
export type { EventRow as PrepaidEvent } from './prepaid-store';

export type Amount = string | number;
export type EntryKind = 'initial' | 'topup' | 'consume';
export type ValveState = 'open' | 'closed';
export type AlarmLevel = 'ok' | 'low' | 'cut-off';

export interface AccountSettings {
  id: string;
  name?: string;
  /** ISO 4217 code, e.g. "EUR"; fixed once the account exists. */
  currency: string;
  /** Decimals shown in balances (2 default); fixed once the account exists. */
  decimals?: number;
  /** Low-balance alarm below this balance (householdWarnMoney). */
  warnBelow: Amount;
  /** Valve closes below this balance (overdraftMoney); may be zero or negative (allowed debt). */
  cutOffBelow: Amount;
  /** Opening balance (customerFee), entered once at creation with reference "initial". */
  initialBalance?: Amount;
  time?: number | string;
}

export interface Account {
  id: string; name?: string; currency: string; decimals: number; warnBelow: string; cutOffBelow: string; created: number;
}

export interface LedgerEntry {
  seq: number; account: string; kind: EntryKind; reference: string;
  /** Signed: a top-up is positive, a consumption negative. */
  amount: string;
  time: number; quantity?: string; unit?: string; detail?: unknown;
  /** When it was written (epoch ms). */
  recorded: number;
  /** The balance right after this entry (in entries() only). */
  balance?: string;
}

export interface AccountState {
  account: string; currency: string; balance: string; valve: ValveState; alarm: AlarmLevel; warnBelow: string; cutOffBelow: string;
}

export interface ValveCommand { account: string; valve: 'close' | 'open'; balance: string; threshold: string; time: number }
export interface AlarmChange { account: string; alarm: AlarmLevel; previous: AlarmLevel; balance: string; threshold: string; time: number }

/** What a change did: the valve command and alarm change it triggered, if any (each at most once). */
export interface Triggered { state: AccountState; valve?: ValveCommand; alarm?: AlarmChange }
export interface PostResult extends Triggered { status: 'applied' | 'already applied'; entry: LedgerEntry }
export interface AccountResult extends Triggered { status: 'created' | 'updated' | 'unchanged'; account: Account; entry?: LedgerEntry }

export interface TopUp { reference: string; amount: Amount; time?: number | string; detail?: unknown }
export interface Consumption { reference: string; amount: Amount; quantity?: Amount; unit?: string; time?: number | string; detail?: unknown }
export interface LedgerOptions { now?: () => number }

function fail(message: string): never {
  throw new Error(message);
}

function decimal(value: unknown, field: string): Decimal {
  if ((typeof value === 'string' && value.trim() !== '') || (typeof value === 'number' && Number.isFinite(value))) {
    try { return Decimal.from(value as string | number); } catch { /* named below */ }
  }
  return fail(`${field} must be a decimal number, got ${JSON.stringify(value)}`);
}

function text(value: unknown, field: string): string {
  if (typeof value === 'number' && Number.isFinite(value)) value = String(value);
  if (typeof value !== 'string' || value.trim() === '' || value.length > 200) {
    fail(`${field} must be a non-empty string (at most 200 characters), got ${JSON.stringify(value)}`);
  }
  return (value as string).trim();
}

function epoch(value: unknown, field: string, now: () => number): number {
  if (value === undefined || value === null) return now();
  const t = typeof value === 'string' && !/^-?\d+(\.\d+)?$/.test(value.trim()) ? Date.parse(value) : Number(value);
  if (!Number.isSafeInteger(t)) fail(`${field} must be epoch ms or an ISO 8601 date, got ${JSON.stringify(value)}`);
  return t;
}

function toAccount(r: AccountRow): Account {
  const a: Account = { id: r.id, currency: r.currency, decimals: r.decimals, warnBelow: r.warn_below, cutOffBelow: r.cut_off_below, created: r.created };
  if (r.name !== null) a.name = r.name;
  return a;
}

function toEntry(r: LedgerRow): LedgerEntry {
  const e: LedgerEntry = { seq: r.seq, account: r.account, kind: r.kind, reference: r.reference, amount: r.amount, time: r.time, recorded: r.recorded };
  if (r.quantity !== null) e.quantity = r.quantity;
  if (r.unit !== null) e.unit = r.unit;
  if (r.detail !== null) e.detail = JSON.parse(r.detail);
  return e;
}

/** The alarm level a balance is at: below cut-off, below warn, or ok. */
export function alarmLevel(balance: Decimal, warnBelow: Decimal, cutOffBelow: Decimal): AlarmLevel {
  if (balance.cmp(cutOffBelow) < 0) return 'cut-off';
  return balance.cmp(warnBelow) < 0 ? 'low' : 'ok';
}

export class PrepaidLedger {
  private readonly store: PrepaidStore;
  private readonly now: () => number;
  /** Running sums per account: the sum of the ledger up to seq (a cache of the sum, refreshed from newer rows). */
  private readonly sums = new Map<string, { seq: number; sum: Decimal }>();

  constructor(file: string, options: LedgerOptions = {}) {
    this.now = options.now ?? Date.now;
    try {
      this.store = new PrepaidStore(file);
    } catch (err) {
      throw new Error(`prepaid ledger ${file}: cannot open: ${(err as Error).message}`);
    }
  }

  get file(): string { return this.store.file; }

  /** Creates an account; refused when the id exists. */
  createAccount(settings: AccountSettings): AccountResult {
    const id = text(settings?.id, 'account');
    return this.tx(id, () => {
      if (this.store.account(id)) fail(`account ${JSON.stringify(id)} already exists`);
      return this.upsert(settings);
    });
  }

  /** Creates an account, or updates the name and thresholds of an existing one (currency and decimals cannot change). */
  ensureAccount(settings: AccountSettings): AccountResult {
    const id = text(settings?.id, 'account');
    return this.tx(id, () => this.upsert(settings));
  }

  account(id: string): Account {
    return toAccount(this.row(id));
  }

  accounts(): Account[] {
    return this.store.accounts().map(toAccount);
  }

  /** Credits `amount` (> 0). A reference already applied answers "already applied" with the original entry. */
  topUp(accountId: string, t: TopUp): PostResult {
    const amount = decimal(t?.amount, 'amount');
    if (amount.cmp(0) <= 0) fail(`amount must be positive for a top-up, got ${JSON.stringify(t.amount)}`);
    return this.post(accountId, 'topup', t, amount, null, null);
  }

  /** Debits `amount` (>= 0, the priced consumption). A reference already applied is not charged again. */
  consume(accountId: string, c: Consumption): PostResult {
    const amount = decimal(c?.amount, 'amount');
    if (amount.isNegative()) fail(`amount must not be negative for a consumption, got ${JSON.stringify(c.amount)}`);
    const quantity = c.quantity === undefined ? null : decimal(c.quantity, 'quantity').toString();
    const unit = c.unit === undefined ? null : text(c.unit, 'unit');
    return this.post(accountId, 'consume', c, amount.neg(), quantity, unit);
  }

  /** Runs several posts to one account in one transaction: all are kept, or none when fn throws. */
  batch<T>(accountId: string, fn: (ledger: this) => T): T {
    const acc = this.row(accountId);
    return this.tx(acc.id, () => fn(this));
  }

  /** The sum of the account's ledger, with the account's decimals. */
  balance(accountId: string): string {
    const acc = this.row(accountId);
    return this.sum(acc.id).toString(acc.decimals);
  }

  state(accountId: string): AccountState {
    return this.stateOf(this.row(accountId));
  }

  /** Entries with from <= time < to (ledger order), each with the balance right after it. */
  entries(accountId: string, range: { from?: number; to?: number } = {}): LedgerEntry[] {
    const acc = this.row(accountId);
    const from = range.from ?? Number.MIN_SAFE_INTEGER;
    const to = range.to ?? Number.MAX_SAFE_INTEGER;
    if (!Number.isFinite(from) || !Number.isFinite(to)) fail(`from/to must be epoch ms, got ${JSON.stringify(range)}`);
    const after = new Map<number, string>();
    let run = Decimal.ZERO;
    for (const [seq, amount] of this.store.amountsAfter(acc.id, 0)) {
      run = run.add(amount);
      after.set(seq, run.toString(acc.decimals));
    }
    return this.store.entries(acc.id, from, to).map((r) => ({ ...toEntry(r), balance: after.get(r.seq) }));
  }

  /** Valve commands and alarm changes recorded for the account, oldest first. */
  events(accountId: string): EventRow[] {
    return this.store.events(this.row(accountId).id);
  }

  close(): void {
    this.store.close();
  }

  private row(id: string): AccountRow {
    const key = text(id, 'account');
    return this.store.account(key) ?? fail(`unknown account ${JSON.stringify(key)}`);
  }

  /** A transaction; on failure the account's cached sum is dropped (it may have seen rolled-back rows). */
  private tx<T>(account: string, fn: () => T): T {
    try {
      return this.store.atomically(fn);
    } catch (err) {
      this.sums.delete(account);
      throw err;
    }
  }

  private sum(account: string): Decimal {
    let s = this.sums.get(account) ?? { seq: 0, sum: Decimal.ZERO };
    const rows = this.store.amountsAfter(account, s.seq);
    if (rows.length) {
      s = { seq: rows[rows.length - 1][0], sum: s.sum.add(Decimal.sum(rows.map((r) => Decimal.from(r[1])))) };
      this.sums.set(account, s);
    }
    return s.sum;
  }

  private stateOf(acc: AccountRow): AccountState {
    const bal = this.sum(acc.id);
    const last = this.store.lastEvent(acc.id, 'valve');
    return {
      account: acc.id, currency: acc.currency, balance: bal.toString(acc.decimals),
      valve: last?.value === 'close' ? 'closed' : 'open',
      alarm: alarmLevel(bal, Decimal.from(acc.warn_below), Decimal.from(acc.cut_off_below)),
      warnBelow: acc.warn_below, cutOffBelow: acc.cut_off_below,
    };
  }

  private upsert(s: AccountSettings): AccountResult {
    const id = text(s.id, 'account');
    const currency = text(s.currency, 'currency').toUpperCase();
    if (!/^[A-Z]{3}$/.test(currency)) fail(`currency must be an ISO 4217 code such as "EUR", got ${JSON.stringify(s.currency)}`);
    const decimals = s.decimals ?? 2;
    if (!Number.isInteger(decimals) || decimals < 0 || decimals > 8) fail(`decimals must be an integer 0..8, got ${JSON.stringify(s.decimals)}`);
    const warn = decimal(s.warnBelow, 'warnBelow');
    const cut = decimal(s.cutOffBelow, 'cutOffBelow');
    if (warn.cmp(cut) < 0) fail(`warnBelow ${JSON.stringify(String(s.warnBelow))} must not be below cutOffBelow ${JSON.stringify(String(s.cutOffBelow))}`);
    const initial = s.initialBalance === undefined || s.initialBalance === '' ? undefined : decimal(s.initialBalance, 'initialBalance');
    const time = epoch(s.time, 'time', this.now);
    const name = s.name === undefined || s.name === '' ? null : text(s.name, 'name');
    const existing = this.store.account(id);
    if (existing) {
      if (existing.currency !== currency) fail(`currency of account ${JSON.stringify(id)} is ${existing.currency} and cannot change to ${currency}`);
      if (existing.decimals !== decimals) fail(`decimals of account ${JSON.stringify(id)} is ${existing.decimals} and cannot change to ${decimals}`);
      if (existing.name === name && warn.eq(existing.warn_below) && cut.eq(existing.cut_off_below)) {
        return { status: 'unchanged', account: toAccount(existing), state: this.stateOf(existing) };
      }
      this.store.updateSettings(id, name, warn.toString(), cut.toString());
      const updated = this.row(id);
      return { status: 'updated', account: toAccount(updated), ...this.settle(updated, time, null) };
    }
    const row: AccountRow = { id, name, currency, decimals, warn_below: warn.toString(), cut_off_below: cut.toString(), created: time };
    this.store.insertAccount(row);
    let entry: LedgerEntry | undefined;
    if (initial && !initial.isZero()) {
      entry = toEntry(this.store.insertEntry({
        account: id, kind: 'initial', reference: 'initial', amount: initial.toString(), time,
        quantity: null, unit: null, detail: null, recorded: this.now(),
      }));
    }
    const result: AccountResult = { status: 'created', account: toAccount(row), ...this.settle(row, time, entry?.seq ?? null) };
    if (entry) result.entry = entry;
    return result;
  }

  private post(accountId: string, kind: 'topup' | 'consume', p: TopUp | Consumption, amount: Decimal,
    quantity: string | null, unit: string | null): PostResult {
    const reference = text(p.reference, 'reference');
    const time = epoch(p.time, 'time', this.now);
    let detail: string | null = null;
    if (p.detail !== undefined) {
      try { detail = JSON.stringify(p.detail); } catch { fail('detail must be JSON-serialisable'); }
    }
    const acc = this.row(accountId);
    return this.tx(acc.id, () => {
      const old = this.store.byReference(acc.id, reference);
      if (old) {
        if (old.kind !== kind || !amount.eq(old.amount)) {
          fail(`reference ${JSON.stringify(reference)} of account ${JSON.stringify(acc.id)} was already applied as ${old.kind} ${old.amount}, not ${kind} ${amount.toString()}`);
        }
        return { status: 'already applied', entry: toEntry(old), state: this.stateOf(acc) };
      }
      const row = this.store.insertEntry({
        account: acc.id, kind, reference, amount: amount.toString(), time, quantity, unit, detail, recorded: this.now(),
      });
      return { status: 'applied', entry: toEntry(row), ...this.settle(acc, time, row.seq) };
    });
  }

  /** Compares the balance with the thresholds and records (and returns) a valve command or alarm change that is due. */
  private settle(acc: AccountRow, time: number, entry: number | null): Triggered {
    const bal = this.sum(acc.id);
    const warn = Decimal.from(acc.warn_below);
    const cut = Decimal.from(acc.cut_off_below);
    const balance = bal.toString(acc.decimals);
    const out: Triggered = { state: this.stateOf(acc) };
    const valveWas = out.state.valve;
    const valveDue = bal.cmp(cut) < 0 ? 'closed' : 'open';
    if (valveDue !== valveWas) {
      const command = valveDue === 'closed' ? 'close' : 'open';
      this.store.insertEvent({ account: acc.id, kind: 'valve', value: command, entry, balance, threshold: acc.cut_off_below, time });
      out.valve = { account: acc.id, valve: command, balance, threshold: acc.cut_off_below, time };
      out.state.valve = valveDue;
    }
    const previous = (this.store.lastEvent(acc.id, 'alarm')?.value ?? 'ok') as AlarmLevel;
    const level = alarmLevel(bal, warn, cut);
    if (level !== previous) {
      const threshold = level === 'cut-off' ? acc.cut_off_below : acc.warn_below;
      this.store.insertEvent({ account: acc.id, kind: 'alarm', value: level, entry, balance, threshold, time });
      out.alarm = { account: acc.id, alarm: level, previous, balance, threshold, time };
    }
    return out;
  }
}

/** Opens (creating if needed) a ledger file, or ":memory:". */
export function openPrepaidLedger(file: string, options?: LedgerOptions): PrepaidLedger {
  return new PrepaidLedger(file, options);
}
