import { afterEach, beforeEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { BillIssueError, BillStore } from '../../lib/billing/bill-store';
import { creditNote } from '../../lib/billing/credit-note';
import type { Bill } from '../../lib/billing/bill';

const FROM = Date.UTC(2026, 2, 1);
const TO = Date.UTC(2026, 3, 1);

/** A draft as meterBill makes it: one energy line 100 kWh x 0.30 = 30.00, VAT 19% = 5.70. */
function draft(amount = '30.00', meter = 'M1'): Bill {
  const tax = (Number(amount) * 0.19).toFixed(2);
  const total = (Number(amount) + Number(tax)).toFixed(2);
  return {
    kind: 'bill', status: 'draft', subject: { type: 'meter', id: meter }, from: FROM, to: TO, timeZone: 'UTC',
    tariff: { id: 't', name: 'Flat' }, currency: 'EUR', currencyDecimals: 2, readings: [],
    consumption: { registers: [{ register: 'total', obis: '1-0:1.8.0', quantity: '100', unit: 'kWh' }], periods: [] },
    lines: [{ kind: 'energy', charge: 'Energy', category: 'energy', cycleFrom: FROM, cycleTo: TO, version: '2026-01-01', quantity: '100', unit: 'kWh', rate: (Number(amount) / 100).toFixed(4), amount }],
    taxes: [{ kind: 'tax', charge: 'VAT', category: 'tax', cycleFrom: FROM, cycleTo: TO, version: '2026-01-01', quantity: amount, unit: 'EUR', rate: '19', amount: tax }],
    totals: { energy: amount, demand: '0', fixed: '0', subtotal: amount, taxes: tax, total },
    quality: { ok: true, flags: [], flaggedIntervals: 0, notes: [] }, warnings: [],
    inputs: { source: 'intervals', intervals: 1, tariffHash: 'x' },
  };
}

describe('bill store (issued bills)', () => {
  let dir: string;
  let store: BillStore;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ems-bills-'));
    store = new BillStore(path.join(dir, 'bills.sqlite'));
  });
  afterEach(() => {
    store.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('issues a bill with a number, issue time and content hash, and reads it back', () => {
    const now = Date.UTC(2026, 3, 2, 9);
    const { bill, created } = store.issue(draft(), { now });
    assert.equal(created, true);
    assert.equal(bill.status, 'issued');
    assert.equal(bill.number, 'B-2026-000001');
    assert.equal(bill.issuedAt, now);
    assert.match(bill.hash!, /^[0-9a-f]{64}$/);
    assert.deepEqual(store.get('B-2026-000001'), bill);
    assert.equal(store.issue(draft('10.00', 'M2'), { now }).bill.number, 'B-2026-000002');
  });

  it('refuses UPDATE and DELETE of an issued bill, even from another connection', () => {
    const { bill } = store.issue(draft());
    assert.throws(() => store.exec("UPDATE bills SET body = '{}' WHERE number = ?", bill.number), /immutable: UPDATE refused/);
    assert.throws(() => store.exec('DELETE FROM bills WHERE number = ?', bill.number), /immutable: DELETE refused/);
    const raw = new Database(store.path);
    try {
      assert.throws(() => raw.prepare("UPDATE bills SET hash = 'x'").run(), /UPDATE refused/);
      assert.throws(() => raw.prepare('DELETE FROM bills').run(), /DELETE refused/);
    } finally {
      raw.close();
    }
    assert.deepEqual(store.get(bill.number!), bill);
  });

  it('returns the issued bill when the same bill is issued again, refuses other amounts', () => {
    const first = store.issue(draft(), { now: Date.UTC(2026, 3, 2) });
    const again = store.issue(draft(), { now: Date.UTC(2026, 3, 5) });
    assert.equal(again.created, false);
    assert.deepEqual(again.bill, first.bill);
    assert.throws(() => store.issue(draft('31.00'), { now: Date.UTC(2026, 3, 6) }), (err: unknown) =>
      err instanceof BillIssueError && err.existing === 'B-2026-000001' && /already has bill B-2026-000001.*credit note/.test(err.message));
    assert.equal(store.list({ subject: 'M1' }).length, 1);
  });

  it('corrects a bill with a credit note, then a new bill for the same period', () => {
    const original = store.issue(draft(), { now: Date.UTC(2026, 3, 2) }).bill;
    const cn = creditNote(original, 'tariff corrected');
    assert.equal(cn.kind, 'credit-note');
    assert.equal(cn.references, 'B-2026-000001');
    assert.deepEqual([cn.lines[0].quantity, cn.lines[0].amount, cn.taxes[0].amount, cn.totals.total], ['-100', '-30.00', '-5.70', '-35.70']);
    const issuedCn = store.issue(cn, { now: Date.UTC(2026, 3, 3) }).bill;
    assert.equal(issuedCn.number, 'CN-2026-000001');
    assert.throws(() => store.issue(creditNote(original, 'again')), /already credited by CN-2026-000001/);
    const corrected = store.issue(draft('31.00'), { now: Date.UTC(2026, 3, 4) });
    assert.equal(corrected.bill.number, 'B-2026-000002');
    assert.deepEqual(store.list({ subject: 'M1' }).map((b) => [b.number, b.totals.total]), [['B-2026-000001', '35.70'], ['CN-2026-000001', '-35.70'], ['B-2026-000002', '36.89']]);
    assert.throws(() => creditNote(cn), /must be an issued bill/);
    assert.throws(() => creditNote(issuedCn), /only a bill can be credited/);
  });

  it('refuses a credit note for an unknown bill and a non-draft', () => {
    const cn = { ...draft(), kind: 'credit-note' as const, references: 'B-2026-000099' };
    assert.throws(() => store.issue(cn), /references "B-2026-000099" is not an issued bill/);
    const issued = store.issue(draft()).bill;
    assert.throws(() => store.issue(issued), /only a draft can be issued/);
  });

  it('detects a bill whose stored content no longer matches its hash', () => {
    const { bill } = store.issue(draft());
    const raw = new Database(store.path);
    try {
      raw.exec('DROP TRIGGER bills_no_update'); // what a tamperer with file access could do
      raw.prepare('UPDATE bills SET body = ? WHERE number = ?').run(JSON.stringify({ ...bill, totals: { ...bill.totals, total: '1.00' } }), bill.number);
    } finally {
      raw.close();
    }
    assert.throws(() => store.get(bill.number!), /does not match its hash/);
  });
});
