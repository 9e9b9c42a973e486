import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { priceConsumption } from '../../lib/tariff';
import { DAY, HOUR, line, series, tariff } from '../fixtures/tariff/build';

const tiers = [{ upTo: '100', rate: '0.10' }, { upTo: '300', rate: '0.08' }, { rate: '0.05' }];
const tiered = (prorate?: boolean) => tariff({ versions: [{ validFrom: '2026-01-01', energy: [
  { name: 'Blocks', type: 'tiered', energyType: 'electricity', unit: 'kWh', tiers, ...(prorate === undefined ? {} : { prorate }) },
] }] });

describe('tariff tiers', () => {
  it('splits an interval that crosses a tier limit by quantity', () => {
    const r = priceConsumption(tiered(false), series('2026-04-01T00:00:00+02:00', 3, DAY, (i) => [80, 60, 250][i]));
    // cumulative 80 | 140 (20 to tier 1, 40 to tier 2) | 390 (160 to tier 2, up to 300; 90 to tier 3)
    // tier 1: 100 x 0.10 = 10.00; tier 2: 200 x 0.08 = 16.00; tier 3: 90 x 0.05 = 4.50; total 30.50
    assert.equal(line(r.lines, { tier: 1 }).quantity, '100');
    assert.equal(line(r.lines, { tier: 2 }).quantity, '200');
    assert.equal(line(r.lines, { tier: 3 }).quantity, '90');
    assert.equal(line(r.lines, { tier: 2 }).amount, '16.00');
    assert.equal(r.total, '30.50');
  });

  it('starts the tiers again in each billing cycle', () => {
    // 90 kWh on Apr 30 and 90 kWh on May 1: each cycle stays in tier 1
    const r = priceConsumption(tiered(false), series('2026-04-30T00:00:00+02:00', 2, DAY, 90));
    assert.deepEqual(r.lines.map((l) => [l.tier, l.quantity]), [[1, '90'], [1, '90']]);
  });

  it('prorates the limits for half a cycle', () => {
    // Apr 1..15 = 15 of 30 days: share 0.5, limits 50 and 150. 10 kWh a day = 150 kWh.
    const r = priceConsumption(tiered(), series('2026-04-01T00:00:00+02:00', 15, DAY, 10), { from: Date.parse('2026-04-01T00:00:00+02:00'), to: Date.parse('2026-04-16T00:00:00+02:00') });
    // tier 1: 50 x 0.10 = 5.00; tier 2: 100 x 0.08 = 8.00; total 13.00
    assert.equal(line(r.lines, { tier: 1 }).quantity, '50');
    assert.equal(line(r.lines, { tier: 2 }).quantity, '100');
    assert.match(line(r.lines, { tier: 1 }).note ?? '', /limit 50 kWh \(100 prorated x 0\.5\)/);
    assert.equal(r.total, '13.00');
  });
});

const bands = [{ from: '00:00', to: '17:00', period: 'flat' }, { from: '17:00', to: '20:00', period: 'peak' }, { from: '20:00', to: '24:00', period: 'flat' }];
const demandTariff = tariff({ versions: [{
  validFrom: '2026-01-01',
  energy: [{ name: 'Energy', type: 'tou', energyType: 'electricity', unit: 'kWh', seasons: [{ name: 'all', from: '01-01', to: '01-01', schedule: { weekday: bands } }], rates: { flat: '0', peak: '0' } }],
  demand: [
    { name: 'Fixed', rate: '10', windowMinutes: 15 },
    { name: 'Sliding', rate: '10', windowMinutes: 15, method: 'sliding' },
    { name: 'Peak', rate: '10', windowMinutes: 15, periods: ['onpeak'] },
    { name: 'Ratchet', rate: '10', ratchet: { percent: '80', months: 1 } },
  ],
}] });

describe('tariff demand', () => {
  // Tue 2026-04-07, 5-minute intervals of 1 kWh (12 kW), 2 kWh at 08:05, 08:10, 08:15 and 1.5 kWh 18:00-18:15
  const day = Date.parse('2026-04-07T00:00:00+02:00');
  const intervals = series('2026-04-07T00:00:00+02:00', 288, 5 * 60_000, (i) => {
    const t = day + i * 5 * 60_000;
    if (t >= day + 8 * HOUR + 5 * 60_000 && t < day + 8 * HOUR + 20 * 60_000) return 2;
    if (t >= day + 18 * HOUR && t < day + 18 * HOUR + 15 * 60_000) return 1.5;
    return 1;
  });
  const r = priceConsumption(demandTariff, intervals, { demandHistory: [{ cycleStart: Date.parse('2026-03-01T00:00:00+01:00'), value: '30' }] });

  it('takes the highest fixed 15-minute window', () => {
    // 08:00-08:15: 1 + 2 + 2 = 5 kWh / 0.25 h = 20 kW; x 10 = 200.00
    const l = line(r.lines, { charge: 'Fixed' });
    assert.equal(l.quantity, '20');
    assert.equal(l.amount, '200.00');
    assert.equal(l.note, 'demand 20 kW at 2026-04-07T08:00+02:00');
  });

  it('takes the highest sliding window ending at an interval end', () => {
    // [08:05, 08:20): 2 + 2 + 2 = 6 kWh / 0.25 h = 24 kW
    const l = line(r.lines, { charge: 'Sliding' });
    assert.equal(l.quantity, '24');
    assert.equal(l.note, 'demand 24 kW at 2026-04-07T08:05+02:00');
  });

  it('counts only windows starting in the given TOU periods', () => {
    // 18:00-18:15: 4.5 kWh / 0.25 h = 18 kW; the 08:00 peak is in "flat"
    assert.equal(line(r.lines, { charge: 'Peak' }).quantity, '18');
  });

  it('bills at least the ratchet share of the previous cycles', () => {
    // actual 20 kW; 80% of March's 30 kW = 24 kW billed; 24 x 10 = 240.00
    const l = line(r.lines, { charge: 'Ratchet' });
    assert.equal(l.quantity, '24');
    assert.equal(l.amount, '240.00');
    assert.match(l.note ?? '', /ratchet 80% of 30 kW = 24 kW billed/);
    // without history the actual peak is billed
    const plain = priceConsumption(demandTariff, intervals);
    assert.equal(line(plain.lines, { charge: 'Ratchet' }).quantity, '20');
  });

  it('uses the earlier cycles of the same request as ratchet history', () => {
    // March 31: 12 kW except 10:00-10:15 with 4 + 3 + 3 = 10 kWh / 0.25 h = 40 kW; April 7 as above (20 kW): 80% x 40 = 32 kW
    const march = series('2026-03-31T00:00:00+02:00', 288, 5 * 60_000, (i) => (i === 120 ? 4 : i === 121 || i === 122 ? 3 : 1));
    const both = priceConsumption(demandTariff, [...march, ...intervals], { from: Date.parse('2026-03-31T00:00:00+02:00'), to: Date.parse('2026-04-08T00:00:00+02:00') });
    const lines = both.lines.filter((l) => l.charge === 'Ratchet');
    assert.deepEqual(lines.map((l) => l.quantity), ['40', '32']);
  });
});
