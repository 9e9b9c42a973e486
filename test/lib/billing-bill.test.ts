import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { BillStore, creditNote, meterBill, allocateBill, COMMON_AREA } from '../../lib/billing';
import { Quality } from '../../lib/model';
import { Decimal } from '../../lib/money/decimal';
import { FROM, MIN, TO, dayReadings, registerTariff, touTariff } from './billing-fixtures';

/** [charge, period or register, quantity (trailing zeros trimmed), amount] */
const amounts = (lines: { charge: string; period?: string; register?: string; quantity: string; amount: string }[]) =>
  lines.map((l) => [l.charge, l.period ?? l.register ?? '', Decimal.from(l.quantity).trimmed().toString(), l.amount]);

describe('meter bill', () => {
  it('bills a day of cumulative readings with a time-of-use tariff', () => {
    const bill = meterBill({ tariff: touTariff(), meter: 'M1', meterName: 'Workshop', from: FROM, to: TO, readings: dayReadings() });
    // peak 07-19: 48 slots x 1 kWh = 48 kWh x 0.40 = 19.20; valley: 48 x 0.25 = 12 kWh x 0.20 = 2.40;
    // standing charge 1 day x 0.50; subtotal 22.10; VAT 19% = 4.199 -> 4.20; total 26.30.
    assert.deepEqual(amounts(bill.lines), [['Energy', 'peak', '48', '19.20'], ['Energy', 'valley', '12', '2.40'], ['Standing charge', '', '1', '0.50']]);
    assert.deepEqual(amounts(bill.taxes), [['VAT', '', '22.1', '4.20']]);
    assert.deepEqual(bill.totals, { energy: '21.60', demand: '0.00', fixed: '0.50', subtotal: '22.10', taxes: '4.20', total: '26.30' });
    assert.equal(bill.status, 'draft');
    assert.deepEqual(bill.subject, { type: 'meter', id: 'M1', name: 'Workshop' });
    // Readings table: total 1000 -> 1060, T1 600 -> 648, T2 400 -> 412, opening at FROM and closing at TO.
    assert.deepEqual(bill.readings.map((r) => [r.register, r.obis, r.opening?.time, r.opening?.value, r.closing?.time, r.closing?.value, r.consumption]), [
      ['total', '1-0:1.8.0', FROM, 1000, TO, 1060, '60'],
      ['T1', '1-0:1.8.1', FROM, 600, TO, 648, '48'],
      ['T2', '1-0:1.8.2', FROM, 400, TO, 412, '12'],
    ]);
    assert.deepEqual(bill.consumption.periods, [{ period: 'peak', quantity: '48', unit: 'kWh' }, { period: 'valley', quantity: '12', unit: 'kWh' }]);
    assert.deepEqual(bill.consumption.registers.map((r) => [r.register, r.quantity]), [['total', '60'], ['T1', '48'], ['T2', '12']]);
    assert.deepEqual(bill.warnings, [], 'T1/T2 are not sent to a tariff without register charges');
    assert.equal(bill.quality.ok, true);
    assert.equal(bill.inputs.intervals, 96, '24 h of 15-min intervals of the total register');
  });

  it('prices T1/T2 registers with a register tariff', () => {
    const bill = meterBill({ tariff: registerTariff(), meter: 'M1', from: FROM, to: TO, readings: dayReadings() });
    // T1 48 kWh x 0.35 = 16.80; T2 12 x 0.15 = 1.80; subtotal 18.60; VAT 3.534 -> 3.53; total 22.13.
    assert.deepEqual(amounts(bill.lines), [['Energy', 'T1', '48', '16.80'], ['Energy', 'T2', '12', '1.80']]);
    assert.equal(bill.totals.total, '22.13');
  });

  it('gives the new amounts when the draft is recomputed after a tariff change, the issued bill keeps the old', () => {
    const store = new BillStore(':memory:');
    try {
      const issued = store.issue(meterBill({ tariff: touTariff('0.40'), meter: 'M1', from: FROM, to: TO, readings: dayReadings() }), { now: TO + 60 * MIN }).bill;
      const redone = meterBill({ tariff: touTariff('0.50'), meter: 'M1', from: FROM, to: TO, readings: dayReadings() });
      // peak 48 x 0.50 = 24.00; + 2.40 + 0.50 = 26.90; VAT 5.111 -> 5.11; total 32.01.
      assert.equal(redone.lines[0].amount, '24.00');
      assert.equal(redone.totals.total, '32.01');
      assert.notEqual(redone.inputs.tariffHash, issued.inputs.tariffHash);
      assert.throws(() => store.issue(redone), /already has bill B-2026-000001/);
      assert.equal(store.get(issued.number!)!.totals.total, '26.30');
      // The correction: credit note, then the recomputed bill.
      store.issue(creditNote(issued, 'peak rate was 0.50'));
      assert.equal(store.issue(redone).bill.totals.total, '32.01');
    } finally {
      store.close();
    }
  });

  it('flags missing and estimated readings so the user sees them', () => {
    const readings = dayReadings()
      .filter((r) => r.time >= FROM + 60 * MIN) // no reading at or before the period start
      .filter((r) => r.time <= FROM + 10 * 60 * MIN || r.time >= FROM + 12 * 60 * MIN) // 10:00-12:00 missing
      .map((r) => (r.time === FROM + 15 * 60 * MIN ? { ...r, quality: Quality.ESTIMATED } : r));
    const bill = meterBill({ tariff: touTariff(), meter: 'M1', from: FROM, to: TO, readings });
    assert.equal(bill.quality.ok, false);
    assert.deepEqual(bill.quality.flags, ['ESTIMATED', 'GAP_FILLED']);
    assert.match(bill.quality.notes.join('\n'), /1-0:1\.8\.0: no reading at or before the period start; consumption counted from the first reading at 2026-01-05T00:00:00\.000Z/);
    // From 01:00: valley 01-07 = 24 slots x 0.25 = 6 kWh, 19-24 = 5 kWh; peak 48 kWh (the gap lies in peak): 59 kWh.
    assert.equal(bill.readings[0].consumption, '59');
    assert.deepEqual(bill.consumption.periods, [{ period: 'peak', quantity: '48', unit: 'kWh' }, { period: 'valley', quantity: '11', unit: 'kWh' }]);
  });

  it('bills consumption between an early opening reading and the start in the first interval', () => {
    // Opening reading at 23:50 the day before (997.5); the next at 00:15 (1000.25): 2.75 kWh billed in [00:00, 00:15).
    const readings = [{ meter: 'M1', time: FROM - 10 * MIN, obis: '1-0:1.8.0', value: 997.5, unit: 'kWh' },
      ...dayReadings().filter((r) => r.obis === '1-0:1.8.0' && r.time > FROM)];
    const bill = meterBill({ tariff: touTariff(), meter: 'M1', from: FROM, to: TO, readings });
    // 997.5 -> 1060 = 62.5 kWh: valley 2.75 + 27 slots x 0.25 (00:15-07:00) + 5 (19-24) = 14.5 x 0.20 = 2.90, peak 19.20.
    assert.equal(bill.readings[0].consumption, '62.5');
    assert.deepEqual(amounts(bill.lines.slice(0, 2)), [['Energy', 'peak', '48', '19.20'], ['Energy', 'valley', '14.5', '2.90']]);
    assert.match(bill.quality.notes.join('\n'), /opening reading at 2026-01-04T22:50:00\.000Z is before the period start; the consumption from it is billed from 2026-01-04T23:00:00\.000Z/);
    assert.equal(bill.quality.flaggedIntervals, 1, 'the 25-min step across 00:00 is flagged GAP_FILLED');
  });

  it('bills ready intervals and refuses one outside the period, naming it', () => {
    const bill = meterBill({ tariff: touTariff(), meter: 'M1', from: FROM, to: TO, intervals: [
      { start: FROM + 8 * 60 * MIN, end: FROM + 9 * 60 * MIN, quantity: 10, unit: 'kWh', obis: '1-0:1.8.0' },
    ] });
    // 10 kWh peak x 0.40 = 4.00 + 0.50 = 4.50; VAT 0.855 -> 0.86; total 5.36
    assert.equal(bill.totals.total, '5.36');
    assert.deepEqual(bill.readings, []);
    assert.throws(() => meterBill({ tariff: touTariff(), meter: 'M1', from: FROM, to: TO, intervals: [
      { start: TO, end: TO + 15 * MIN, quantity: 1, unit: 'kWh' },
    ] }), /intervals\[0\] must be inside the billing period/);
    assert.throws(() => meterBill({ tariff: touTariff(), meter: 'M1', from: TO, to: FROM, intervals: [] }), /^Error: to must be after from/);
    assert.throws(() => meterBill({ tariff: touTariff(), meter: 'M1', from: FROM, to: TO, readings: [{ meter: 'M1', time: FROM, obis: '1-0:1.7.0', value: 3, unit: 'kW' }] }), /no billed register reading of meter "M1"/);
  });

  it('allocates a real bill to sub-meters summing to its total', () => {
    const bill = meterBill({ tariff: touTariff(), meter: 'M1', from: FROM, to: TO, readings: dayReadings() });
    // 26.30 EUR over 60 kWh: A 20 kWh -> 876.666 cents, B 25 -> 1095.833, common 15 -> 657.5.
    // floors 876 + 1095 + 657 = 2628, 2 cents left: A (.666) then B (.833 > .666: B first) -> B 10.96, A 8.77, common 6.57.
    const a = allocateBill(bill, [{ meter: 'A', quantity: 20 }, { meter: 'B', quantity: 25 }]);
    assert.deepEqual(a.lines.map((l) => [l.meter, l.amount]), [['A', '8.77'], ['B', '10.96'], [COMMON_AREA, '6.57']]);
    assert.equal(a.quantity, '60');
  });
});

describe('meter bill: demand and tariff registers', () => {
  it('bills the demand charge on the highest 15-minute power', () => {
    const tariff = touTariff();
    tariff.versions[0].demand = [{ name: 'Peak demand', rate: '10.00', windowMinutes: 15 }];
    const bill = meterBill({ tariff, meter: 'M1', from: FROM, to: TO, readings: dayReadings() });
    // 1 kWh in 15 min (peak hours) = 4 kW x 10.00 = 40.00; subtotal 22.10 + 40.00 = 62.10; VAT 11.799 -> 11.80; 73.90
    assert.deepEqual(amounts(bill.lines.filter((l) => l.kind === 'demand')), [['Peak demand', '', '4', '40.00']]);
    assert.deepEqual([bill.totals.demand, bill.totals.subtotal, bill.totals.total], ['40.00', '62.10', '73.90']);
  });

  it('prices the sum of T1 and T2 as the total when the meter has no total register', () => {
    const readings = dayReadings().filter((r) => r.obis !== '1-0:1.8.0');
    const bill = meterBill({ tariff: touTariff(), meter: 'M1', from: FROM, to: TO, readings });
    // T1 counts the peak 48 kWh, T2 the valley 12 kWh: the same lines as from the total register, 26.30.
    assert.deepEqual(amounts(bill.lines.slice(0, 2)), [['Energy', 'peak', '48', '19.20'], ['Energy', 'valley', '12', '2.40']]);
    assert.equal(bill.totals.total, '26.30');
    assert.match(bill.warnings[0], /sum of the tariff registers \(T1\.\.T4\) is priced as the total/);
    assert.equal(bill.quality.ok, true);
  });
});
