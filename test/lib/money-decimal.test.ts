import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Decimal } from '../../lib/money/decimal';

const d = (x: string | number) => Decimal.from(x);

describe('Decimal', () => {
  it('reads decimal text and numbers by their shortest digits', () => {
    assert.equal(d('12.50').toString(), '12.50');
    assert.equal(d('-.5').toString(), '-0.5');
    assert.equal(d(0.1).toString(), '0.1');
    assert.equal(d(1e-7).toString(), '0.0000001');
    assert.equal(d(1.5e21).toString(), '1500000000000000000000');
    assert.equal(d(-2.5e-3).toString(), '-0.0025');
    assert.throws(() => d('1e3'), /not a decimal number: "1e3"/);
    assert.throws(() => d('12,5'), /not a decimal number/);
    assert.throws(() => d(NaN), /not a finite number/);
  });

  it('adds and multiplies exactly where floats do not', () => {
    assert.equal(0.1 + 0.2 === 0.3, false);
    assert.equal(d('0.1').add('0.2').toString(), '0.3');
    // 1.159 CNY/kWh x 3.7 kWh = 4.2883 exactly
    assert.equal(d('1.159').mul('3.7').toString(), '4.2883');
    assert.equal(d('19.99').sub('20').toString(), '-0.01');
    assert.equal(d('100').mul('0.19').toString(), '19');
  });

  it('rounds half-up away from zero, half-even to the even digit, down and up', () => {
    assert.equal(d('2.345').toFixed(2), '2.35');
    assert.equal(d('-2.345').toFixed(2), '-2.35');
    assert.equal(d('2.345').toFixed(2, 'half-even'), '2.34');
    assert.equal(d('2.355').toFixed(2, 'half-even'), '2.36');
    assert.equal(d('2.349').toFixed(2, 'down'), '2.34');
    assert.equal(d('2.341').toFixed(2, 'up'), '2.35');
    assert.equal(d('-2.341').toFixed(2, 'up'), '-2.35');
    assert.equal(d('7').toFixed(2), '7.00');
  });

  it('divides to a stated number of decimals', () => {
    assert.equal(d('10').div('3', 4).toString(), '3.3333');
    assert.equal(d('2').div('3', 2, 'half-up').toString(), '0.67');
    assert.equal(d('-1').div('8', 2, 'half-even').toString(), '-0.12');
    assert.equal(d('1').div('-8', 3).toString(), '-0.125');
    assert.throws(() => d('1').div('0', 2), /division by zero/);
  });

  it('compares across scales and sums', () => {
    assert.equal(d('1.50').cmp('1.5'), 0);
    assert.equal(d('1.5').cmp('1.49'), 1);
    assert.equal(Decimal.sum(['0.01', '0.02', '0.07'].map(d)).toString(), '0.10'); // sums keep the scale of their terms
    assert.equal(Decimal.max(d('3'), d('3.01')).toString(), '3.01');
    assert.equal(JSON.stringify({ a: d('4.20') }), '{"a":"4.20"}');
  });

  it('keeps a property: round(a) + round(b) differs from round(a + b) by at most one minor unit per term', () => {
    let seed = 7;
    const rnd = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    for (let i = 0; i < 2000; i++) {
      const a = d((rnd() * 1000).toFixed(5));
      const b = d((rnd() * 1000).toFixed(5));
      const diff = a.round(2).add(b.round(2)).sub(a.add(b).round(2)).abs();
      assert.ok(diff.cmp('0.01') <= 0, `${a} ${b}`);
    }
  });
});
