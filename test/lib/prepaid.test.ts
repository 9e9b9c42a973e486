import { afterEach, beforeEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { openPrepaidLedger, type PrepaidLedger } from '../../lib/billing/prepaid';

const T0 = Date.UTC(2026, 2, 1, 0, 0);
const H = 3_600_000;

describe('prepaid ledger', () => {
  let dir: string;
  let ledger: PrepaidLedger;
  const file = () => path.join(dir, 'sub', 'ledger.db');

  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ems-prepaid-'));
    ledger = openPrepaidLedger(file(), { now: () => T0 });
  });
  afterEach(() => {
    ledger.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('runs out, closes the valve once, ignores a repeated top-up and reopens once', () => {
    const created = ledger.createAccount({ id: 'flat-12', currency: 'EUR', warnBelow: '10', cutOffBelow: '0', initialBalance: '25.00' });
    assert.equal(created.status, 'created');
    assert.equal(created.entry?.reference, 'initial');
    assert.deepEqual(created.state, { account: 'flat-12', currency: 'EUR', balance: '25.00', valve: 'open', alarm: 'ok', warnBelow: '10', cutOffBelow: '0' });
    assert.equal(created.valve, undefined);
    const use = (h: number, amount: string, kwh: string) =>
      ledger.consume('flat-12', { reference: `main:1-0:1.8.0:${T0 + h * H}`, amount, quantity: kwh, unit: 'kWh', time: T0 + (h + 1) * H });

    // 25.00 - 8.40 (28 kWh x 0.30) = 16.60: still ok
    const r1 = use(0, '8.40', '28');
    assert.deepEqual([r1.status, r1.entry.amount, r1.state.balance, r1.state.alarm, r1.alarm, r1.valve], ['applied', '-8.40', '16.60', 'ok', undefined, undefined]);
    // 16.60 - 7.50 = 9.10 < 10: the low alarm, once
    const r2 = use(1, '7.50', '25');
    assert.deepEqual(r2.alarm, { account: 'flat-12', alarm: 'low', previous: 'ok', balance: '9.10', threshold: '10', time: T0 + 2 * H });
    assert.equal(r2.valve, undefined);
    // 9.10 - 6.00 = 3.10: still low, no second alarm
    const r3 = use(2, '6.00', '20');
    assert.deepEqual([r3.state.balance, r3.state.alarm, r3.alarm], ['3.10', 'low', undefined]);
    // 3.10 - 4.20 = -1.10 < 0: close, and the alarm becomes cut-off
    const r4 = use(3, '4.20', '14');
    assert.deepEqual(r4.valve, { account: 'flat-12', valve: 'close', balance: '-1.10', threshold: '0', time: T0 + 4 * H });
    assert.equal(r4.alarm?.alarm, 'cut-off');
    assert.equal(r4.state.valve, 'closed');
    // -1.10 - 0.90 = -2.00: already closed, nothing sent
    const r5 = use(4, '0.90', '3');
    assert.deepEqual([r5.state.balance, r5.valve, r5.alarm], ['-2.00', undefined, undefined]);
    // the same consumption replayed is not charged twice
    const again = use(3, '4.20', '14');
    assert.deepEqual([again.status, again.entry.seq, again.state.balance, again.valve], ['already applied', r4.entry.seq, '-2.00', undefined]);

    // -2.00 + 5.00 = 3.00 >= 0: reopen once; below 10, so the alarm goes back to low
    const p1 = ledger.topUp('flat-12', { reference: 'pay-1', amount: '5.00', time: T0 + 6 * H });
    assert.deepEqual(p1.valve, { account: 'flat-12', valve: 'open', balance: '3.00', threshold: '0', time: T0 + 6 * H });
    assert.deepEqual([p1.alarm?.alarm, p1.alarm?.previous], ['low', 'cut-off']);
    const p1again = ledger.topUp('flat-12', { reference: 'pay-1', amount: '5', time: T0 + 7 * H });
    assert.equal(p1again.status, 'already applied');
    assert.deepEqual(p1again.entry, p1.entry, 'the original entry');
    assert.deepEqual([p1again.state.balance, p1again.valve, p1again.alarm], ['3.00', undefined, undefined]);
    // 3.00 + 20 = 23.00: ok again
    const p2 = ledger.topUp('flat-12', { reference: 'pay-2', amount: 20, time: T0 + 8 * H });
    assert.deepEqual([p2.state.balance, p2.alarm?.alarm, p2.valve], ['23.00', 'ok', undefined]);

    // 25 - 8.40 - 7.50 - 6.00 - 4.20 - 0.90 + 5 + 20 = 23.00, one entry per reference
    const entries = ledger.entries('flat-12');
    assert.deepEqual(entries.map((e) => [e.kind, e.amount, e.balance]), [
      ['initial', '25.00', '25.00'], ['consume', '-8.40', '16.60'], ['consume', '-7.50', '9.10'], ['consume', '-6.00', '3.10'],
      ['consume', '-4.20', '-1.10'], ['consume', '-0.90', '-2.00'], ['topup', '5.00', '3.00'], ['topup', '20', '23.00']]);
    assert.deepEqual(ledger.events('flat-12').map((e) => [e.kind, e.value, e.balance]), [
      ['alarm', 'low', '9.10'], ['valve', 'close', '-1.10'], ['alarm', 'cut-off', '-1.10'],
      ['valve', 'open', '3.00'], ['alarm', 'low', '3.00'], ['alarm', 'ok', '23.00']]);
    assert.deepEqual(ledger.entries('flat-12', { from: T0 + 2 * H, to: T0 + 4 * H }).map((e) => e.amount), ['-7.50', '-6.00']);
  });

  it('keeps a closed valve closed until the balance is back at the threshold (allowed debt)', () => {
    // cut-off at -5 (overdraft of 5 allowed): 2 - 6 = -4 open; -4 - 1.5 = -5.5 closed; +0.4 = -5.1 still closed; +0.1 = -5.0 opens
    ledger.createAccount({ id: 'a', currency: 'eur', warnBelow: '0', cutOffBelow: '-5', initialBalance: 2 });
    assert.equal(ledger.consume('a', { reference: 'c1', amount: '6' }).valve, undefined);
    assert.equal(ledger.consume('a', { reference: 'c2', amount: '1.5' }).valve?.valve, 'close');
    const still = ledger.topUp('a', { reference: 't1', amount: '0.4' });
    assert.deepEqual([still.state.balance, still.state.valve, still.valve], ['-5.10', 'closed', undefined]);
    assert.equal(ledger.topUp('a', { reference: 't2', amount: '0.1' }).valve?.valve, 'open');
    assert.equal(ledger.account('a').currency, 'EUR');
  });

  it('keeps the sum of the ledger equal to the balance over a random sequence', () => {
    let seed = 12345; // mulberry32, fixed seed: the same sequence every run
    const rand = (n: number) => {
      seed = (seed + 0x6d2b79f5) | 0;
      let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
      t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
      return (((t ^ (t >>> 14)) >>> 0) % n);
    };
    ledger.createAccount({ id: 'p', currency: 'EUR', warnBelow: '5', cutOffBelow: '0', initialBalance: '10' });
    let cents = 1000; // the model: integer cents
    let closes = 0;
    let opens = 0;
    let modelClosed = false;
    const used: { ref: string; kind: 'topup' | 'consume'; amount: string }[] = [];
    for (let i = 0; i < 400; i++) {
      const pick = rand(10);
      if (pick === 0 && used.length) {
        const u = used[rand(used.length)];
        const r = u.kind === 'topup' ? ledger.topUp('p', { reference: u.ref, amount: u.amount }) : ledger.consume('p', { reference: u.ref, amount: u.amount });
        assert.equal(r.status, 'already applied');
        continue;
      }
      const kind = pick < 4 ? 'topup' : 'consume';
      const c = kind === 'topup' ? 1 + rand(600) : rand(500); // about level: 0.4 x 3.00 vs 0.5 x 2.50 per step
      const amount = (c / 100).toFixed(2);
      const ref = `r${i}`;
      const r = kind === 'topup' ? ledger.topUp('p', { reference: ref, amount }) : ledger.consume('p', { reference: ref, amount });
      used.push({ ref, kind, amount });
      cents += kind === 'topup' ? c : -c;
      if (r.valve?.valve === 'close') closes++;
      if (r.valve?.valve === 'open') opens++;
      if (!modelClosed && cents < 0) modelClosed = true;
      else if (modelClosed && cents >= 0) modelClosed = false;
      assert.equal(r.state.balance, (cents / 100).toFixed(2), `after step ${i}`);
      assert.equal(r.state.valve, modelClosed ? 'closed' : 'open');
    }
    const sum = ledger.entries('p').reduce((s, e) => s + Math.round(Number(e.amount) * 100), 0);
    assert.equal(sum, cents);
    assert.equal(ledger.balance('p'), (cents / 100).toFixed(2));
    assert.ok(closes > 0 && opens > 0, `the sequence crossed the threshold (${closes} closes, ${opens} opens)`);
    assert.ok(closes - opens === (modelClosed ? 1 : 0), 'commands alternate');
  });

  it('refuses UPDATE and DELETE on the ledger and events, and a second entry with the same reference', () => {
    ledger.createAccount({ id: 'a', currency: 'EUR', warnBelow: '10', cutOffBelow: '0', initialBalance: '1' });
    ledger.topUp('a', { reference: 't1', amount: '5' });
    const db = new Database(file());
    try {
      assert.throws(() => db.prepare("UPDATE ledger SET amount = '1000' WHERE reference = 't1'").run(), /append-only: UPDATE refused/);
      assert.throws(() => db.prepare('DELETE FROM ledger').run(), /append-only: DELETE refused/);
      assert.throws(() => db.prepare("UPDATE events SET value = 'open'").run(), /append-only: UPDATE refused/);
      assert.throws(() => db.prepare('DELETE FROM events').run(), /append-only: DELETE refused/);
      assert.throws(() => db.prepare(`INSERT INTO ledger (account, kind, reference, amount, time, recorded)
        VALUES ('a', 'topup', 't1', '5', 0, 0)`).run(), /UNIQUE constraint failed/);
    } finally {
      db.close();
    }
    assert.equal(ledger.balance('a'), '6.00');
  });

  it('keeps balance, valve and alarm across reopening the file, without resending', () => {
    ledger.createAccount({ id: 'a', name: 'Flat 3', currency: 'EUR', warnBelow: '10', cutOffBelow: '0', initialBalance: '3' });
    assert.equal(ledger.consume('a', { reference: 'c1', amount: '4' }).valve?.valve, 'close');
    ledger.close();
    ledger = openPrepaidLedger(file());
    assert.deepEqual(ledger.state('a'), { account: 'a', currency: 'EUR', balance: '-1.00', valve: 'closed', alarm: 'cut-off', warnBelow: '10', cutOffBelow: '0' });
    assert.equal(ledger.account('a').name, 'Flat 3');
    const more = ledger.consume('a', { reference: 'c2', amount: '1' });
    assert.deepEqual([more.valve, more.alarm], [undefined, undefined], 'no second close after the restart');
    assert.equal(ledger.consume('a', { reference: 'c1', amount: '4' }).status, 'already applied');
    // -1 - 1 + 2.5 = 0.50 >= 0: open
    assert.equal(ledger.topUp('a', { reference: 't1', amount: '2.5' }).valve?.valve, 'open');
  });

  it('updates thresholds with ensureAccount and acts on them', () => {
    ledger.ensureAccount({ id: 'a', currency: 'EUR', warnBelow: '10', cutOffBelow: '0', initialBalance: '3' });
    assert.equal(ledger.ensureAccount({ id: 'a', currency: 'EUR', warnBelow: '10.0', cutOffBelow: '0', initialBalance: '99' }).status, 'unchanged');
    assert.equal(ledger.balance('a'), '3.00', 'the initial balance counts once');
    // balance 3 below a raised cut-off of 5: close
    const raised = ledger.ensureAccount({ id: 'a', currency: 'EUR', warnBelow: '10', cutOffBelow: '5' });
    assert.deepEqual([raised.status, raised.valve?.valve, raised.valve?.threshold], ['updated', 'close', '5']);
    assert.throws(() => ledger.ensureAccount({ id: 'a', currency: 'USD', warnBelow: '10', cutOffBelow: '5' }), /currency of account "a" is EUR and cannot change to USD/);
  });

  it('keeps all posts of a batch, or none when one is refused', () => {
    ledger.createAccount({ id: 'a', currency: 'EUR', warnBelow: '10', cutOffBelow: '0', initialBalance: '20' });
    ledger.topUp('a', { reference: 'x', amount: '1' });
    // c1 (-3) is written, then x conflicts (a top-up reference used for a consumption): both roll back
    assert.throws(() => ledger.batch('a', () => [ledger.consume('a', { reference: 'c1', amount: '3' }), ledger.consume('a', { reference: 'x', amount: '1' })]),
      /already applied as topup 1/);
    assert.equal(ledger.balance('a'), '21.00', '20 + 1, c1 rolled back');
    assert.deepEqual(ledger.entries('a').map((e) => e.reference), ['initial', 'x']);
    // 21 - 3 - 4 = 14
    const both = ledger.batch('a', () => [ledger.consume('a', { reference: 'c1', amount: '3' }), ledger.consume('a', { reference: 'c2', amount: '4' })]);
    assert.deepEqual(both.map((r) => r.state.balance), ['18.00', '14.00']);
  });

  it('names the field and value of bad input', () => {
    ledger.createAccount({ id: 'a', currency: 'EUR', warnBelow: '10', cutOffBelow: '0' });
    assert.throws(() => ledger.topUp('a', { reference: 't', amount: '-5' }), /amount must be positive for a top-up, got "-5"/);
    assert.throws(() => ledger.topUp('a', { reference: 't', amount: 'ten' }), /amount must be a decimal number, got "ten"/);
    assert.throws(() => ledger.consume('a', { reference: 'c', amount: '-1' }), /amount must not be negative for a consumption, got "-1"/);
    assert.throws(() => ledger.topUp('nope', { reference: 't', amount: '5' }), /unknown account "nope"/);
    assert.throws(() => ledger.topUp('a', { amount: '5' } as never), /reference must be a non-empty string/);
    assert.throws(() => ledger.topUp('a', { reference: 't', amount: '5', time: 'yesterday' }), /time must be epoch ms or an ISO 8601 date, got "yesterday"/);
    assert.throws(() => ledger.createAccount({ id: 'a', currency: 'EUR', warnBelow: '1', cutOffBelow: '0' }), /account "a" already exists/);
    assert.throws(() => ledger.createAccount({ id: 'b', currency: 'EUR', warnBelow: '0', cutOffBelow: '1' }), /warnBelow "0" must not be below cutOffBelow "1"/);
    assert.throws(() => ledger.createAccount({ id: 'b', currency: 'euro', warnBelow: '1', cutOffBelow: '0' }), /currency must be an ISO 4217 code/);
    ledger.topUp('a', { reference: 't', amount: '5' });
    assert.throws(() => ledger.topUp('a', { reference: 't', amount: '6' }), /reference "t" of account "a" was already applied as topup 5, not topup 6/);
    assert.throws(() => ledger.consume('a', { reference: 't', amount: '5' }), /already applied as topup 5, not consume -5/);
    assert.equal(ledger.balance('a'), '5.00', 'nothing refused reached the ledger');
    assert.equal(ledger.entries('a').length, 1);
  });
});
