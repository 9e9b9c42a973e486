import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { billingPeriod, billToHtml, costCenterBill, checkCostCenter, type CostCenter } from '../../lib/billing';
import type { Tariff } from '../../lib/tariff/types';
import { FROM, MIN, TO, dayReadings, touTariff, ZONE } from './billing-fixtures';

const water: Tariff = {
  id: 'water', name: 'Water', currency: 'EUR', timeZone: ZONE,
  versions: [{ validFrom: '2026-01-01', energy: [{ name: 'Water', energyType: 'water', unit: 'm3', type: 'flat', rate: '2.00' }] }],
};

const center = (): CostCenter => ({
  id: 'cc1', name: 'Workshop', externalId: '21829198980001',
  tariffs: { electricity: touTariff(), water },
  meters: [{ id: 'M1', name: 'Main', energyType: 'electricity' }, { id: 'W1', energyType: 'water' }],
});

describe('cost centers', () => {
  it('groups the bills of its meters, each priced with the tariff of its category', () => {
    const bill = costCenterBill(center(), FROM, TO, {
      M1: { readings: dayReadings('M1') },
      W1: { intervals: [{ start: FROM, end: FROM + 60 * MIN, quantity: 10, unit: 'm3', obis: '8-0:1.0.0' }] },
    });
    // M1 as in the meter bill: 26.30; W1 10 m3 x 2.00 = 20.00 (no tax); cost center 46.30.
    assert.deepEqual(bill.subject, { type: 'cost-center', id: 'cc1', name: 'Workshop', externalId: '21829198980001' });
    assert.deepEqual(bill.meters!.map((m) => [m.subject.id, m.totals.total]), [['M1', '26.30'], ['W1', '20.00']]);
    assert.equal(bill.totals.total, '46.30');
    assert.equal(bill.totals.subtotal, '42.10'); // 22.10 + 20.00
    assert.deepEqual(bill.lines.map((l) => [l.meter, l.charge, l.amount]), [
      ['M1', 'Energy', '19.20'], ['M1', 'Energy', '2.40'], ['M1', 'Standing charge', '0.50'], ['W1', 'Water', '20.00'],
    ]);
    assert.deepEqual(bill.taxes.map((l) => [l.meter, l.amount]), [['M1', '4.20']]);
    assert.equal(bill.tariff.name, 'Day/night, Water');
    assert.deepEqual(bill.consumption.registers.map((r) => [r.register, r.quantity, r.unit]), [['total', '60', 'kWh'], ['T1', '48', 'kWh'], ['T2', '12', 'kWh'], ['total', '10', 'm3']]);
    const html = billToHtml(bill);
    assert.match(html, /<dt>Cost center<\/dt><dd>Workshop \(cc1\)<\/dd><dt>External id<\/dt><dd>21829198980001<\/dd>/);
    assert.match(html, /<th>Meter<\/th><th>Charge<\/th>/);
    assert.match(html, /<td>W1<\/td><td>Water<\/td><td><\/td><td class="n">10<\/td><td>m3<\/td><td class="n">2.00<\/td><td class="n">20.00<\/td>/);
    assert.match(html, /Total<\/td><td class="n">46\.30 EUR/);
  });

  it('refuses a meter whose category has no tariff, and a meter without data', () => {
    const c = center();
    c.meters.push({ id: 'G1', energyType: 'gas' });
    assert.throws(() => costCenterBill(c, FROM, TO, { M1: { readings: dayReadings() }, W1: { intervals: [] }, G1: { intervals: [] } }), /cost center "cc1" has no tariff bound for gas/);
    assert.throws(() => costCenterBill(center(), FROM, TO, { M1: { readings: dayReadings() } }), /meters\.W1 must be readings or intervals/);
  });

  it('checks a cost center, accepting MyEMS external_id', () => {
    assert.equal(checkCostCenter({ ...center(), externalId: undefined, external_id: 'E1' }).externalId, 'E1');
    assert.throws(() => checkCostCenter({ ...center(), meters: [{ id: 'M1', energyType: 'steam' }] }), /costCenter\.meters\[0\]\.energyType must be one of electricity, water, gas, heat, got "steam"/);
    assert.throws(() => checkCostCenter({ ...center(), tariffs: { oil: water } }), /costCenter\.tariffs\.oil/);
  });
});

describe('billing periods', () => {
  it('finds this and last month in the tariff zone, from the cycle anchor day', () => {
    const now = Date.UTC(2026, 2, 10, 12); // 2026-03-10 13:00 Berlin
    // last month: 2026-02-01 00:00+01:00 = 01-31 23:00 UTC, to 2026-03-01 00:00+01:00 = 02-28 23:00 UTC
    assert.deepEqual(billingPeriod('last-month', now, ZONE), { from: Date.UTC(2026, 0, 31, 23), to: Date.UTC(2026, 1, 28, 23) });
    assert.deepEqual(billingPeriod('this-month', now, ZONE), { from: Date.UTC(2026, 1, 28, 23), to: Date.UTC(2026, 2, 31, 22) }, 'April starts in summer time (+02:00)');
    // anchor day 15: on March 10 the cycle began on February 15
    assert.deepEqual(billingPeriod('this-month', now, ZONE, 15), { from: Date.UTC(2026, 1, 14, 23), to: Date.UTC(2026, 2, 14, 23) });
  });
});
