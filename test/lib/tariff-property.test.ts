import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Decimal } from '../../lib/money/decimal';
import { priceConsumption, type ConsumptionInterval, type PriceResult, type Tariff } from '../../lib/tariff';
import { random, tariff } from '../fixtures/tariff/build';

const QUARTER = 15 * 60_000;
const FROM = Date.parse('2026-03-01T00:00:00+01:00');
const MID = Date.parse('2026-04-01T00:00:00+02:00');
const TO = Date.parse('2026-05-01T00:00:00+02:00');

const make = (mode: 'line' | 'bill'): Tariff => tariff({
  rounding: { mode },
  versions: [{
    validFrom: '2026-01-01',
    energy: [
      { name: 'Energy', type: 'tou', energyType: 'electricity', unit: 'kWh', seasons: [
        { name: 'winter', from: '10-01', to: '04-01', schedule: {
          weekday: [{ from: '00:00', to: '02:30', period: 'valley' }, { from: '02:30', to: '08:00', period: 'flat' }, { from: '08:00', to: '20:00', period: 'peak' }, { from: '20:00', to: '24:00', period: 'valley' }],
          sunday: [{ from: '00:00', to: '24:00', period: 'valley' }] } },
        { name: 'summer', from: '04-01', to: '10-01', schedule: { weekday: [{ from: '00:00', to: '12:00', period: 'flat' }, { from: '12:00', to: '24:00', period: 'peak' }] } },
      ], rates: { valley: '0.1713', flat: '0.2297', peak: '0.3141' } },
      { name: 'Network', type: 'tiered', energyType: 'electricity', unit: 'kWh', tiers: [{ upTo: '3000', rate: '0.0813' }, { upTo: '6000', rate: '0.0677' }, { rate: '0.0529' }] },
      { name: 'Levy', type: 'flat', energyType: 'electricity', unit: 'MWh', rate: '20.53', category: 'levy' },
    ],
    demand: [{ name: 'Capacity', rate: '9.87' }],
    fixed: [{ name: 'Meter', per: 'month', amount: '12.99' }, { name: 'Standing', per: 'day', amount: '0.333' }],
    taxes: [{ name: 'Levy tax', percent: '7', appliesTo: ['levy'] }, { name: 'VAT', percent: '19' }],
  }],
});

/** Two meters, 15-minute intervals, random quantities of 0..2 kWh with 3 decimals (some intervals missing). */
function data(seed: number): ConsumptionInterval[] {
  const rnd = random(seed);
  const out: ConsumptionInterval[] = [];
  for (const meter of ['a', 'b']) {
    for (let t = FROM; t < TO; t += QUARTER) {
      if (rnd() < 0.02) continue;
      out.push({ start: t, end: t + QUARTER, quantity: Math.round(rnd() * 2000) / 1000, unit: 'kWh', meter });
    }
  }
  return out;
}

const dec = (s: string) => Decimal.from(s);
const sumOf = (values: string[]) => Decimal.sum(values.map(dec));
const halves = (intervals: ConsumptionInterval[]) => intervals.flatMap((iv) => {
  const mid = iv.start + (iv.end - iv.start) / 2;
  return [{ ...iv, end: mid, quantity: iv.quantity / 2 }, { ...iv, start: mid, quantity: iv.quantity / 2 }];
});

function checkTotals(r: PriceResult, mode: 'line' | 'bill'): void {
  const subtotal = sumOf(r.lines.map((l) => l.amount));
  assert.equal(dec(r.subtotal).cmp(subtotal), 0, 'subtotal = sum of lines');
  const total = subtotal.add(sumOf(r.taxes.map((l) => l.amount)));
  assert.equal(r.total, mode === 'line' ? total.toString(2) : total.toFixed(2), 'total = lines + taxes');
}

describe('tariff properties (seeded random data)', () => {
  for (const seed of [1, 2, 3]) {
    const intervals = data(seed);
    for (const mode of ['line', 'bill'] as const) {
      const t = make(mode);
      const whole = priceConsumption(t, intervals, { from: FROM, to: TO });

      it(`seed ${seed} ${mode}: the total is the sum of the lines and taxes, all energy is priced once per charge`, () => {
        checkTotals(whole, mode);
        const given = sumOf(intervals.map((iv) => String(iv.quantity)));
        const byCharge = (name: string) => sumOf(whole.lines.filter((l) => l.charge === name).map((l) => l.quantity));
        assert.equal(byCharge('Energy').cmp(given), 0);
        assert.equal(byCharge('Network').cmp(given), 0);
        assert.equal(byCharge('Levy').mul(1000).cmp(given), 0);
      });

      it(`seed ${seed} ${mode}: halving every interval keeps the total within the rounding rule`, () => {
        const split = priceConsumption(t, halves(intervals), { from: FROM, to: TO });
        checkTotals(split, mode);
        const diff = dec(split.total).sub(whole.total).abs();
        const allowed = mode === 'line' ? Decimal.from('0.01').mul(whole.lines.length + whole.taxes.length) : Decimal.from('0.01');
        assert.ok(diff.cmp(allowed) <= 0, `difference ${diff} above ${allowed}`);
      });

      it(`seed ${seed} ${mode}: two halves split at a cycle boundary add up to the whole`, () => {
        const first = priceConsumption(t, intervals, { from: FROM, to: MID });
        const second = priceConsumption(t, intervals, { from: MID, to: TO });
        assert.deepEqual([...first.lines, ...second.lines], whole.lines);
        assert.deepEqual([...first.taxes, ...second.taxes], whole.taxes);
        const total = dec(first.total).add(second.total);
        if (mode === 'line') assert.equal(total.cmp(whole.total), 0);
        else assert.ok(total.sub(whole.total).abs().cmp('0.01') <= 0);
      });
    }
  }
});
