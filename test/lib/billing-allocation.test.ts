import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { allocate, COMMON_AREA, largestRemainder } from '../../lib/billing/allocation';
import { Decimal } from '../../lib/money/decimal';

const sum = (xs: { amount: string }[]) => Decimal.sum(xs.map((x) => Decimal.from(x.amount))).toString(2);

describe('sub-meter allocation', () => {
  it('splits 100.00 three ways, the remainder cent to the first of equal remainders', () => {
    // parent 300 kWh, sub-meters 100 each, common area 0.
    // 10000 cents x 100/300 = 3333.33.. -> 3333 each, 9999 in all; 1 cent left, equal remainders: A gets it.
    const a = allocate({ meter: 'main', total: '100.00', quantity: 300, unit: 'kWh', currency: 'EUR' },
      [{ meter: 'A', quantity: 100 }, { meter: 'B', quantity: 100 }, { meter: 'C', quantity: 100 }]);
    assert.deepEqual(a.lines.map((l) => [l.meter, l.amount]), [['A', '33.34'], ['B', '33.33'], ['C', '33.33'], [COMMON_AREA, '0.00']]);
    assert.equal(sum(a.lines), '100.00');
    assert.deepEqual(a.warnings, []);
  });

  it('gives the loss to the common area line and sums exactly to the parent', () => {
    // parent 10.00 EUR for 7 kWh; sub-meters 2, 2, 2 kWh; common area 7 - 6 = 1 kWh.
    // cents: 1000 x 2/7 = 285.714 (rem 5/7) x3, common 1000 x 1/7 = 142.857 (rem 6/7); floors 997, 3 left:
    // common (6/7) first, then A and B (5/7, equal quantities, order given) -> 2.86, 2.86, 2.85, 1.43.
    const a = allocate({ meter: 'main', total: '10.00', quantity: '7', unit: 'kWh', currency: 'EUR' },
      [{ meter: 'A', quantity: '2' }, { meter: 'B', quantity: '2' }, { meter: 'C', quantity: '2' }]);
    assert.deepEqual(a.lines.map((l) => [l.meter, l.quantity, l.amount]), [
      ['A', '2', '2.86'], ['B', '2', '2.86'], ['C', '2', '2.85'], [COMMON_AREA, '1', '1.43'],
    ]);
    assert.equal(a.lines[3].share, '14.2857'); // 1/7 = 14.28571..%
    assert.equal(sum(a.lines), '10.00');
  });

  it('splits by sub-meters alone when they read more than the parent, and says so', () => {
    // subs 60 + 60 = 120 > parent 100: 50.01 split 1:1 -> 2500.5 cents each: A 25.01, B 25.00; common 0.
    const a = allocate({ meter: 'main', total: '50.01', quantity: 100, unit: 'kWh', currency: 'EUR' },
      [{ meter: 'A', quantity: 60 }, { meter: 'B', quantity: 60 }]);
    assert.deepEqual(a.lines.map((l) => l.amount), ['25.01', '25.00', '0.00']);
    assert.match(a.warnings[0], /more than the parent/);
  });

  it('allocates a credit (negative total) with the same shares', () => {
    // -1.00 over 3 equal weights: 33/33/33 cents + 1 -> -0.34, -0.33, -0.33
    assert.deepEqual(largestRemainder(Decimal.from('-1.00'), ['1', '1', '1'].map((x) => Decimal.from(x)), 2).map(String), ['-0.34', '-0.33', '-0.33']);
  });

  it('refuses bad sub-meter input naming the field', () => {
    assert.throws(() => allocate({ meter: 'm', total: '1', quantity: 1, unit: 'kWh', currency: 'EUR' }, [{ meter: 'A', quantity: -1 }]), /subMeters\[0\]\.quantity must not be negative/);
    assert.throws(() => allocate({ meter: 'm', total: '1', quantity: 1, unit: 'kWh', currency: 'EUR' }, [{ meter: 'A', quantity: 'x' }]), /subMeters\[0\]\.quantity must be a number, got "x"/);
    assert.throws(() => allocate({ meter: 'm', total: '1', quantity: 1, unit: 'kWh', currency: 'EUR' }, [{ meter: 'A', quantity: 1 }, { meter: 'A', quantity: 1 }]), /listed twice/);
  });
});
