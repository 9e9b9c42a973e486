/**
 * Exact consumption per window (fn=delta): the register at the window's end edge minus at its start edge,
 * worked by hand, and checked on the sqlite store; the InfluxDB side is compared with the sqlite store
 * on a real server in test/integration/influxql.test.ts.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Quality } from '../../lib/model/quality';
import type { Reading } from '../../lib/model/reading';
import { DAY_MS, HOUR_MS, MINUTE_MS, windowBoundaries } from '../../lib/model/time';
import { edgeDeltas } from '../../lib/store/edge-delta';
import { SqliteStore } from '../../lib/store/sqlite';
import type { WindowRow } from '../../lib/store/types';

const T0 = Date.UTC(2026, 5, 1); // a Monday, 00:00Z
const kwh = (time: number, value: number): Reading => ({ meter: 'm', time, obis: '1-0:1.8.0', value, unit: 'kWh' });
const pts = (...readings: Reading[]): [number, number, string][] => readings.map((r) => [r.time, r.value, r.unit]);
const sum = (rows: readonly WindowRow[]): number => Math.round(rows.reduce((s, r) => s + r.value, 0) * 1e6) / 1e6;

async function withStore(readings: Reading[], run: (store: SqliteStore) => Promise<void>): Promise<void> {
  const store = new SqliteStore(':memory:');
  try {
    await store.write(readings);
    await run(store);
  } finally {
    await store.close();
  }
}

describe('fn=delta: consumption is the register difference at the window edges', () => {
  test('a meter read every 10 minutes at :05: the energy between the last reading of an hour and the first of the next is counted', async () => {
    // 6 kWh every hour, read at :05, :15, ..., :55: last - first inside an hour would see 5 kWh (50 minutes).
    const readings: Reading[] = [];
    for (let t = T0 - HOUR_MS + 5 * MINUTE_MS; t <= T0 + DAY_MS + HOUR_MS; t += 10 * MINUTE_MS) readings.push(kwh(t, 1000 + ((t - T0) / HOUR_MS) * 6));
    await withStore(readings, async (store) => {
      const hours = await store.query({ meter: 'm', obis: '1-0:1.8.0', from: T0, to: T0 + DAY_MS, window: { every: HOUR_MS, fn: 'delta' } }) as WindowRow[];
      assert.equal(hours.length, 24);
      for (const h of hours) {
        assert.equal(h.value, 6, `hour ${new Date(h.time).toISOString()}`);
        assert.equal(h.count, 6);
        assert.equal(h.quality, Quality.INTERPOLATED); // no reading falls on a full hour
      }
      assert.equal(sum(hours), 144);
      const day = await store.query({ meter: 'm', obis: '1-0:1.8.0', from: T0, to: T0 + DAY_MS, window: { every: DAY_MS, fn: 'delta' } }) as WindowRow[];
      assert.deepEqual(day.map((r) => [r.value, r.count]), [[144, 144]]);
    });
  });

  test('readings on the edges give exact, unflagged values; a window without readings between two gets its share, count 0', () => {
    const bounds = windowBoundaries(T0, T0 + 4 * HOUR_MS, HOUR_MS);
    const rows = edgeDeltas({ meter: 'm', obis: '1-0:1.8.0', points: pts(kwh(T0, 10), kwh(T0 + HOUR_MS, 12), kwh(T0 + 3 * HOUR_MS + 30 * MINUTE_MS, 19)) }, bounds, T0, T0 + 4 * HOUR_MS);
    assert.deepEqual(rows.map((r) => [(r.time - T0) / HOUR_MS, r.value, r.count, r.quality ?? 0]), [
      [0, 2, 1, 0], // 10 at 00:00 and 12 at 01:00, both read
      [1, 2.8, 1, Quality.INTERPOLATED], // 12 -> 19 over 2.5 h is 2.8 an hour: 14.8 at 02:00
      [2, 2.8, 0, Quality.INTERPOLATED], // 17.6 at 03:00
      [3, 1.4, 1, Quality.INTERPOLATED], // up to the last reading (19): nothing is known after it
    ]);
  });

  test('no energy is invented before the first reading or after the last', () => {
    const bounds = windowBoundaries(T0, T0 + 6 * HOUR_MS, HOUR_MS);
    const rows = edgeDeltas({ meter: 'm', obis: '1-0:1.8.0', points: pts(kwh(T0 + 2 * HOUR_MS + 30 * MINUTE_MS, 50), kwh(T0 + 3 * HOUR_MS + 30 * MINUTE_MS, 54)) }, bounds, T0, T0 + 6 * HOUR_MS);
    assert.deepEqual(rows.map((r) => [(r.time - T0) / HOUR_MS, r.value]), [[2, 2], [3, 2]]); // 50 from 02:30, 52 at 03:00, 54 to 03:30
  });

  test('the readings just outside the range bound its first and last windows', async () => {
    await withStore([kwh(T0 - 30 * MINUTE_MS, 100), kwh(T0 + 30 * MINUTE_MS, 104), kwh(T0 + 90 * MINUTE_MS, 108)], async (store) => {
      const rows = await store.query({ meter: 'm', from: T0, to: T0 + HOUR_MS, window: { every: HOUR_MS, fn: 'delta' } }) as WindowRow[];
      assert.deepEqual(rows.map((r) => [r.value, r.count]), [[4, 1]]); // 102 at 00:00, 106 at 01:00
    });
  });

  test('a register going backwards (a reset) is not interpolated across: the window is flagged SUSPECT', () => {
    const bounds = windowBoundaries(T0, T0 + 2 * HOUR_MS, HOUR_MS);
    const rows = edgeDeltas({ meter: 'm', obis: '1-0:1.8.0', points: pts(kwh(T0, 500), kwh(T0 + 50 * MINUTE_MS, 505), kwh(T0 + 70 * MINUTE_MS, 1), kwh(T0 + 110 * MINUTE_MS, 3)) }, bounds, T0, T0 + 2 * HOUR_MS);
    assert.equal(rows[0].value, 0 + 5);
    assert.equal(rows[0].quality, Quality.SUSPECT);
  });

  test('hours of a Berlin DST day add up to the day, to the millionth, with irregular readings', async () => {
    const springDay = Date.UTC(2026, 2, 28, 23); // 29 March 2026, 23 hours long in Berlin
    let seed = 7;
    const rnd = (): number => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    const readings: Reading[] = [];
    let v = 12345.678;
    for (let t = springDay - 2 * HOUR_MS; t < springDay + 2 * DAY_MS; t += Math.floor(rnd() * 37 + 1) * MINUTE_MS) {
      readings.push(kwh(t, Math.round(v * 1000) / 1000));
      v += rnd() * 3;
    }
    await withStore(readings, async (store) => {
      for (const [from, to] of [[springDay, springDay + 23 * HOUR_MS], [springDay + 7 * MINUTE_MS, springDay + DAY_MS + 11 * MINUTE_MS]]) {
        const q = { meter: 'm', obis: '1-0:1.8.0', from, to, timeZone: 'Europe/Berlin' };
        const quarters = await store.query({ ...q, window: { every: 15 * MINUTE_MS, fn: 'delta' } }) as WindowRow[];
        const hours = await store.query({ ...q, window: { every: HOUR_MS, fn: 'delta' } }) as WindowRow[];
        const days = await store.query({ ...q, window: { every: DAY_MS, fn: 'delta' } }) as WindowRow[];
        const whole = await store.query({ ...q, window: { every: 31 * DAY_MS, fn: 'delta' } }) as WindowRow[];
        assert.equal(whole.length, 1);
        assert.equal(sum(quarters), sum(whole), 'quarter hours');
        assert.equal(sum(hours), sum(whole), 'hours');
        assert.equal(sum(days), sum(whole), 'days');
        assert.equal(quarters.reduce((n, r) => n + r.count, 0), readings.filter((r) => r.time >= from && r.time < to).length);
      }
    });
  });
});
