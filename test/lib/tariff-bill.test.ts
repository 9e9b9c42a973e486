import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { billingCycles, priceConsumption } from '../../lib/tariff';
import { DAY, HOUR, line, series, tariff } from '../fixtures/tariff/build';

const at = (iso: string) => Date.parse(iso);

describe('tariff fixed charges and cycles', () => {
  const fixed = (cycleAnchorDay?: number) => tariff({
    ...(cycleAnchorDay ? { cycleAnchorDay } : {}),
    versions: [{ validFrom: '2026-01-01', fixed: [{ name: 'Standing', per: 'day', amount: '0.50' }, { name: 'Service', per: 'month', amount: '30.00' }] }],
  });

  it('charges per day and per month across partial cycles', () => {
    const r = priceConsumption(fixed(), [], { from: at('2026-04-21T00:00:00+02:00'), to: at('2026-05-11T00:00:00+02:00') });
    // April cycle: 10 of 30 days; May cycle: 10 of 31 days
    // per day: 10 x 0.50 = 5.00 each; per month: 30 x 10/30 = 10.00; 30 x 10/31 = 9.677... -> 9.68; total 29.68
    assert.equal(line(r.lines, { charge: 'Standing', cycleFrom: at('2026-04-01T00:00:00+02:00') }).amount, '5.00');
    assert.equal(line(r.lines, { charge: 'Service', cycleFrom: at('2026-04-01T00:00:00+02:00') }).amount, '10.00');
    const may = line(r.lines, { charge: 'Service', cycleFrom: at('2026-05-01T00:00:00+02:00') });
    assert.equal(may.amount, '9.68');
    assert.equal(may.note, 'prorated 10/31 days');
    assert.equal(r.total, '29.68');
  });

  it('counts a partial day by its share of time and anchors cycles on cycleAnchorDay', () => {
    const t = fixed(15);
    assert.deepEqual(billingCycles(t, at('2026-04-20T12:00:00+02:00'), at('2026-05-05T00:00:00+02:00')), [{
      from: at('2026-04-20T12:00:00+02:00'), to: at('2026-05-05T00:00:00+02:00'),
      fullFrom: at('2026-04-15T00:00:00+02:00'), fullTo: at('2026-05-15T00:00:00+02:00'),
    }]);
    const r = priceConsumption(t, [], { from: at('2026-04-20T12:00:00+02:00'), to: at('2026-05-05T00:00:00+02:00') });
    // half of Apr 20 + Apr 21..May 4 (14 days) = 14.5 days of a 30-day cycle
    // per day 14.5 x 0.50 = 7.25; per month 30 x 14.5/30 = 14.50
    assert.equal(line(r.lines, { charge: 'Standing' }).quantity, '14.5');
    assert.equal(line(r.lines, { charge: 'Standing' }).amount, '7.25');
    assert.equal(line(r.lines, { charge: 'Service' }).amount, '14.50');
  });

  it('a whole cycle pays one month', () => {
    const r = priceConsumption(fixed(), [], { from: at('2026-03-01T00:00:00+01:00'), to: at('2026-04-01T00:00:00+02:00') });
    // March has 31 days (one of them 23 h long): 31 x 0.50 = 15.50, one month 30.00
    assert.equal(line(r.lines, { charge: 'Standing' }).quantity, '31');
    assert.equal(line(r.lines, { charge: 'Service' }).quantity, '1');
    assert.equal(r.total, '45.50');
  });
});

describe('tariff taxes and rounding', () => {
  it('applies VAT to all lines and a levy tax to the levy category only', () => {
    const t = tariff({ versions: [{
      validFrom: '2026-01-01',
      energy: [
        { name: 'Energy', type: 'flat', energyType: 'electricity', unit: 'kWh', rate: '0.25' },
        { name: 'Levy', type: 'flat', energyType: 'electricity', unit: 'kWh', rate: '0.05', category: 'levy' },
      ],
      fixed: [{ name: 'Service', per: 'month', amount: '10' }],
      taxes: [{ name: 'Levy tax', percent: '10', appliesTo: ['levy'] }, { name: 'VAT', percent: 19 }],
    }] });
    const r = priceConsumption(t, series('2026-04-01T00:00:00+02:00', 4, DAY, 25), { from: at('2026-04-01T00:00:00+02:00'), to: at('2026-05-01T00:00:00+02:00') });
    // 4 days x 25 kWh = 100 kWh
    // energy 0.25 x 100 = 25.00, levy 5.00, service 10.00 -> subtotal 40.00
    // levy tax 10% x 5.00 = 0.50; VAT 19% x 40.00 = 7.60; total 48.10
    assert.equal(r.subtotal, '40.00');
    assert.equal(line(r.taxes, { charge: 'Levy tax' }).amount, '0.50');
    assert.equal(line(r.taxes, { charge: 'Levy tax' }).quantity, '5.00');
    assert.equal(line(r.taxes, { charge: 'VAT' }).amount, '7.60');
    assert.equal(line(r.taxes, { charge: 'VAT' }).rate, '0.19');
    assert.equal(r.total, '48.10');
  });

  const rounding = (mode: 'line' | 'bill') => tariff({ rounding: { mode }, versions: [{
    validFrom: '2026-01-01',
    energy: [{ name: 'Energy', type: 'tou', energyType: 'electricity', unit: 'kWh', seasons: [{ name: 'all', from: '01-01', to: '01-01', schedule: {
      weekday: [{ from: '00:00', to: '01:00', period: 'peak' }, { from: '01:00', to: '02:00', period: 'flat' }, { from: '02:00', to: '24:00', period: 'valley' }],
    } }], rates: { peak: '0.1234', flat: '0.1234', valley: '0.1234' } }],
    taxes: [{ name: 'VAT', percent: '19' }],
  }] });
  const intervals = series('2026-04-07T00:00:00+02:00', 3, HOUR, 1); // 1 kWh in each of peak, flat, valley

  it('line mode rounds every line, the total is the sum', () => {
    const r = priceConsumption(rounding('line'), intervals);
    // each line 1 x 0.1234 = 0.1234 -> 0.12; subtotal 0.36; VAT 0.0684 -> 0.07; total 0.43
    assert.deepEqual(r.lines.map((l) => l.amount), ['0.12', '0.12', '0.12']);
    assert.equal(r.subtotal, '0.36');
    assert.equal(r.taxes[0].amount, '0.07');
    assert.equal(r.total, '0.43');
  });

  it('bill mode keeps lines exact and rounds the total once', () => {
    const r = priceConsumption(rounding('bill'), intervals);
    // subtotal 0.3702; VAT 0.070338; total 0.440538 -> 0.44
    assert.deepEqual(r.lines.map((l) => l.amount), ['0.1234', '0.1234', '0.1234']);
    assert.equal(r.subtotal, '0.3702');
    assert.equal(r.taxes[0].amount, '0.070338');
    assert.equal(r.total, '0.44');
  });

  it('reports quantities per energy type in the first charge unit', () => {
    const t = tariff({ versions: [{ validFrom: '2026-01-01', energy: [{ name: 'Tax', type: 'flat', energyType: 'electricity', unit: 'MWh', rate: '20.5' }] }] });
    const r = priceConsumption(t, series('2026-04-07T00:00:00+02:00', 4, HOUR, 250, { unit: 'Wh' }));
    // 4 x 250 Wh = 1 kWh = 0.001 MWh; 0.001 x 20.5 = 0.0205 -> 0.02
    assert.deepEqual(r.quantities, [{ energyType: 'electricity', unit: 'MWh', quantity: '0.001' }]);
    assert.equal(r.total, '0.02');
  });

  it('prices heat in kWh with a rate per GJ', () => {
    const t = tariff({ versions: [{ validFrom: '2026-01-01', energy: [{ name: 'Heat', type: 'flat', energyType: 'heat', unit: 'GJ', rate: '25' }] }] });
    const r = priceConsumption(t, series('2026-04-07T00:00:00+02:00', 2, DAY, 500, { obis: '6-0:1.0.0' }));
    // 2 x 500 kWh = 1000 kWh = 3.6 GJ (1 kWh = 0.0036 GJ); 3.6 x 25 = 90.00
    assert.equal(line(r.lines, { charge: 'Heat' }).quantity, '3.6');
    assert.equal(r.total, '90.00');
  });
});
