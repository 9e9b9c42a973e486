import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { toIntervals, toTime } from '../../lib/tariff/input';

describe('consumption from messages', () => {
  it('takes intervals and ems-consumption records alike, with ISO or epoch times', () => {
    const t0 = Date.parse('2026-01-14T00:00:00+01:00');
    const got = toIntervals([
      { start: '2026-01-14T00:00:00+01:00', end: t0 + 3_600_000, quantity: '1.5', unit: 'kWh' },
      { meter: 'm1', obis: '1-0:1.8.1', from: t0, to: new Date(t0 + 900_000), value: 0.25, unit: 'kWh', quality: 4 },
    ], 'payload');
    assert.deepEqual(got, [
      { start: t0, end: t0 + 3_600_000, quantity: 1.5, unit: 'kWh' },
      { start: t0, end: t0 + 900_000, quantity: 0.25, unit: 'kWh', obis: '1-0:1.8.1', meter: 'm1', quality: 4 },
    ]);
    assert.equal(toIntervals({ start: 0, end: 1, quantity: -2, unit: 'kWh' }, 'payload')[0].quantity, -2);
  });

  it('names the field and value it refuses', () => {
    assert.throws(() => toTime('soon', 'msg.from'), /^Error: msg.from \("soon"\) must be a time/);
    assert.throws(() => toIntervals([], 'payload'), /payload is an empty array/);
    assert.throws(() => toIntervals([{ start: 2, end: 1, quantity: 1, unit: 'kWh' }], 'payload'), /payload\[0\]\.end \(1 = 1970-01-01T00:00:00.001Z\) is before start/);
    assert.throws(() => toIntervals({ from: 0, to: 5, value: 1 }, 'payload'), /payload\.unit \(undefined\) must be a unit/);
    assert.throws(() => toIntervals({ from: 0, to: 5, value: -1, unit: 'kWh' }, 'payload.records', { nonNegative: true }), /payload\.records\.value \(-1\) must be a number >= 0/);
  });
});
