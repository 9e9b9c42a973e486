/** evaluateRule on its own: pure, bounded per evaluation, and the weekday-hour arithmetic in local time. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { evaluateRule, lastWindow, MAX_METERS_PER_EVALUATION, MAX_STORE_QUERIES_PER_EVALUATION, median, weeksBefore, type MeterInfo } from '../../lib/ems/alarms/evaluate';
import { checkCondition } from '../../lib/ems/alarms/rules';

const NOW = Date.parse('2026-12-07T10:05:00Z');
const meters = (n: number): MeterInfo[] => Array.from({ length: n }, (_, i) => ({ id: `m${i}`, name: `M${i}`, folder_id: 'f', interval_s: 60 }));

describe('evaluateRule', () => {
  it('caps the store queries of one evaluation and says so', async () => {
    let queries = 0;
    const consumption = async () => { queries++; return { value: 1, unit: 'kWh' }; };
    const rule = { condition: checkCondition({ type: 'anomaly', weeks: 4 }), hysteresis: 0 };
    const { results, truncated } = await evaluateRule(rule, meters(1000), { now: NOW, timeZone: 'UTC', consumption });
    assert.equal(truncated, true);
    assert.equal(queries, MAX_STORE_QUERIES_PER_EVALUATION);
    assert.equal(results.length, MAX_STORE_QUERIES_PER_EVALUATION / 5, 'five queries per meter (this hour + 4 weeks)');
    assert.ok(results.every((r) => r.state === 'false'), 'a steady 1 kWh is no anomaly');
  });

  it('caps the meters of one evaluation', async () => {
    const rule = { condition: checkCondition({ type: 'stale', intervals: 2 }), hysteresis: 0 };
    const { results, truncated } = await evaluateRule(rule, meters(MAX_METERS_PER_EVALUATION + 5), { now: NOW, timeZone: 'UTC', tick: true, since: NOW - 3600_000 });
    assert.equal(truncated, true);
    assert.equal(results.length, MAX_METERS_PER_EVALUATION);
    assert.ok(results.every((r) => r.state === 'true' && r.value === 3600 && r.limit === 120));
  });

  it('answers nothing for a meter without the inputs its condition needs', async () => {
    const rule = { condition: checkCondition({ type: 'threshold', obis: '1-0:1.7.0', direction: 'below', value: 1, unit: 'kW' }), hysteresis: 0 };
    const readings = new Map([['m0', [{ meter: 'm0', time: NOW, obis: '1-0:1.7.0', value: 3, unit: 'V' }]], ['m1', [{ meter: 'm1', time: NOW, obis: '1-0:1.7.0', value: 500, unit: 'W' }]]]);
    const { results } = await evaluateRule(rule, meters(3), { now: NOW, timeZone: 'UTC', readings });
    assert.deepEqual(results.map((r) => [r.meter, r.state, r.value]), [['m1', 'true', 0.5]], 'volts are not power; m2 had no reading');
  });

  it('windows and past weeks are local (a DST change between the weeks keeps the local hour)', () => {
    assert.deepEqual(lastWindow('1h', NOW, 'UTC'), { from: Date.parse('2026-12-07T09:00:00Z'), to: Date.parse('2026-12-07T10:00:00Z') });
    assert.deepEqual(lastWindow('15m', NOW, 'UTC'), { from: Date.parse('2026-12-07T09:45:00Z'), to: Date.parse('2026-12-07T10:00:00Z') });
    // Tuesday 2026-11-03 02:00 Berlin (CET, UTC+1) four weeks back is Tuesday 2026-10-06 02:00 Berlin (CEST, UTC+2).
    const from = Date.parse('2026-11-03T01:00:00Z');
    assert.deepEqual(weeksBefore(from, from + 3600_000, 4, 'Europe/Berlin'), { from: Date.parse('2026-10-06T00:00:00Z'), to: Date.parse('2026-10-06T01:00:00Z') });
    assert.equal(median([3, 1, 2]), 2);
    assert.equal(median([4, 1, 2, 3]), 2.5);
  });
});
