import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { findGaps, gapsForStore, SqliteStore, type Gap } from '../../lib/store';
import type { Reading } from '../../lib/model';

const E = '1-0:1.8.0';
const M = 60_000;
const H = 60 * M;
const T0 = Date.parse('2026-01-01T00:00:00Z');
const iso = (s: string) => Date.parse(s);

function r(time: number, value = 1, obis = E, meter = 'm1'): Reading {
  return { meter, time, obis, value, unit: 'kWh' };
}

/** Gaps as [from ISO, to ISO, missing] for readable comparisons. */
function show(gaps: Gap[]): [string, string, number][] {
  return gaps.map((g) => [new Date(g.from).toISOString(), new Date(g.to).toISOString(), g.missing]);
}

describe('findGaps', () => {
  // 2026-01-01 00:00Z to 02:00Z at 15 minutes: 8 slots, 00:00, 00:15, ..., 01:45.
  const to = T0 + 2 * H;

  it('finds no gap when every slot holds a reading', () => {
    const readings = [0, 15, 30, 45, 60, 75, 90, 105].map((m) => r(T0 + m * M));
    assert.deepEqual(findGaps(readings, T0, to, 15 * M), []);
  });

  it('reports one missing slot with its meter, obis, bounds and count', () => {
    const readings = [0, 15, 30, 60, 75, 90, 105].map((m) => r(T0 + m * M)); // 00:45 missing
    assert.deepEqual(findGaps(readings, T0, to, 15 * M), [{ meter: 'm1', obis: E, from: T0 + 45 * M, to: T0 + 60 * M, missing: 1 }]);
  });

  it('merges consecutive missing slots into one gap and keeps separate runs apart', () => {
    const readings = [0, 15, 75, 105].map((m) => r(T0 + m * M)); // 00:30-01:15 missing (3), 01:30 missing (1)
    assert.deepEqual(show(findGaps(readings, T0, to, 15 * M)), [
      ['2026-01-01T00:30:00.000Z', '2026-01-01T01:15:00.000Z', 3],
      ['2026-01-01T01:30:00.000Z', '2026-01-01T01:45:00.000Z', 1],
    ]);
  });

  it('reports gaps at the start and at the end of the range', () => {
    const readings = [30, 45, 60, 75].map((m) => r(T0 + m * M));
    assert.deepEqual(show(findGaps(readings, T0, to, 15 * M)), [
      ['2026-01-01T00:00:00.000Z', '2026-01-01T00:30:00.000Z', 2],
      ['2026-01-01T01:30:00.000Z', '2026-01-01T02:00:00.000Z', 2],
    ]);
  });

  it('reports the whole range as one gap when there are no readings (series named by the options)', () => {
    assert.deepEqual(findGaps([], T0, to, 15 * M, undefined, { meter: 'm9', obis: '8-0:1.0.0' }),
      [{ meter: 'm9', obis: '8-0:1.0.0', from: T0, to, missing: 8 }]);
  });

  it('counts a slot present for a reading anywhere in it, at irregular times and in any order', () => {
    // 00:14:59.999 is in the first slot, 00:15:00.000 starts the second; 00:44:30 is the third;
    // 01:07 and 01:13 both in 01:00; nothing in 00:45 and from 01:15 on.
    const readings = [r(T0 + 15 * M), r(T0 + 15 * M - 1), r(T0 + 44 * M + 30_000), r(T0 + 73 * M), r(T0 + 67 * M)];
    assert.deepEqual(show(findGaps(readings, T0, to, 15 * M)), [
      ['2026-01-01T00:45:00.000Z', '2026-01-01T01:00:00.000Z', 1],
      ['2026-01-01T01:15:00.000Z', '2026-01-01T02:00:00.000Z', 3],
    ]);
  });

  it('uses the aligned slots when from and to are not on a boundary', () => {
    // 00:10 to 00:50 at 15m: slots 00:00, 00:15, 00:30, 00:45. Reading 00:05 fills 00:00.
    assert.deepEqual(show(findGaps([r(T0 + 5 * M), r(T0 + 20 * M)], T0 + 10 * M, T0 + 50 * M, 15 * M)), [
      ['2026-01-01T00:30:00.000Z', '2026-01-01T01:00:00.000Z', 2],
    ]);
  });

  it('1d interval in Europe/Berlin: 2026-03-29 is one 23-hour slot', () => {
    // Local days 28, 29, 30 March: 27T23:00Z, 28T23:00Z, 29T22:00Z (CEST from 29 March 02:00), 30T22:00Z.
    const from = iso('2026-03-27T23:00:00Z');
    const to = iso('2026-03-30T22:00:00Z');
    // 29T22:30Z is 30 March 00:30 local: it fills the 30th, not the 29th (a 24-hour UTC slot would
    // have put it on the 29th).
    const readings = [r(iso('2026-03-28T12:00:00Z')), r(iso('2026-03-29T22:30:00Z'))];
    const gaps = findGaps(readings, from, to, 24 * H, 'Europe/Berlin');
    assert.deepEqual(show(gaps), [['2026-03-28T23:00:00.000Z', '2026-03-29T22:00:00.000Z', 1]]);
    assert.equal(gaps[0].to - gaps[0].from, 23 * H);
  });

  it('1d interval in Europe/Berlin: 2026-10-25 is one 25-hour slot', () => {
    // Local days 24, 25, 26 October: 23T22:00Z, 24T22:00Z, 25T23:00Z (CET from 25 October 03:00), 26T23:00Z.
    const from = iso('2026-10-23T22:00:00Z');
    const to = iso('2026-10-26T23:00:00Z');
    // 25T22:30Z is 25 October 23:30 local: still the 25th.
    const present = findGaps([r(iso('2026-10-24T10:00:00Z')), r(iso('2026-10-25T22:30:00Z'))], from, to, 24 * H, 'Europe/Berlin');
    assert.deepEqual(show(present), [['2026-10-25T23:00:00.000Z', '2026-10-26T23:00:00.000Z', 1]]);
    // Nothing after the 24th: the 25-hour day and the 26th merge into one 49-hour gap.
    const merged = findGaps([r(iso('2026-10-24T10:00:00Z'))], from, to, 24 * H, 'Europe/Berlin');
    assert.deepEqual(show(merged), [['2026-10-24T22:00:00.000Z', '2026-10-26T23:00:00.000Z', 2]]);
    assert.equal(merged[0].to - merged[0].from, 49 * H);
  });

  it('15m interval in Europe/Berlin across the spring-forward night: 92 slots in the local day', () => {
    const from = iso('2026-03-28T23:00:00Z');
    const to = iso('2026-03-29T22:00:00Z');
    assert.deepEqual(findGaps([], from, to, 15 * M, 'Europe/Berlin', { meter: 'm1', obis: E }), [{ meter: 'm1', obis: E, from, to, missing: 92 }]);
  });

  it('rejects an unusable interval or range with a RangeError', () => {
    assert.throws(() => findGaps([], T0, T0 + H, 0), RangeError);
    assert.throws(() => findGaps([], T0, T0 + H, 36 * H), /whole days/);
    assert.throws(() => findGaps([], T0 + H, T0, 15 * M), RangeError);
    assert.throws(() => findGaps([], T0, T0 + 365 * 24 * H, 1000), /windows/);
  });
});

describe('gapsForStore (sqlite)', () => {
  it('lists gaps per series of a meter, every meter, or a named series the store lacks', async () => {
    const store = new SqliteStore({ path: ':memory:' });
    try {
      const to = T0 + H; // 4 slots of 15m
      await store.write([
        r(T0, 1), r(T0 + 16 * M, 2), r(T0 + 50 * M, 3), // m1 E: 00:30 missing
        r(T0 + 20 * M, 1, '1-0:2.8.0'), // m1 export: 00:00 and 00:30-01:00 missing
        r(T0, 1, E, 'm2'), r(T0 + 15 * M, 1, E, 'm2'), r(T0 + 30 * M, 1, E, 'm2'), r(T0 + 45 * M, 1, E, 'm2'), // m2 complete
        r(T0 - 24 * H, 1, '1-0:1.8.1', 'm2'), // m2 tariff 1: only before the range
      ]);
      const m1 = await gapsForStore(store, { meter: 'm1', from: T0, to, interval: 15 * M });
      assert.deepEqual(m1, [
        { meter: 'm1', obis: E, from: T0 + 30 * M, to: T0 + 45 * M, missing: 1 },
        { meter: 'm1', obis: '1-0:2.8.0', from: T0, to: T0 + 15 * M, missing: 1 },
        { meter: 'm1', obis: '1-0:2.8.0', from: T0 + 30 * M, to: T0 + H, missing: 2 },
      ]);
      const all = await gapsForStore(store, { from: T0, to, interval: 15 * M });
      assert.deepEqual(all.map((g) => [g.meter, g.obis, g.missing]), [
        ['m1', E, 1], ['m1', '1-0:2.8.0', 1], ['m1', '1-0:2.8.0', 2], ['m2', '1-0:1.8.1', 4],
      ]);
      assert.deepEqual(await gapsForStore(store, { meter: 'm3', obis: E, from: T0, to, interval: 15 * M }),
        [{ meter: 'm3', obis: E, from: T0, to, missing: 4 }]);
      assert.deepEqual(await gapsForStore(store, { meter: 'm3', from: T0, to, interval: 15 * M }), []);
    } finally {
      await store.close();
    }
  });

  it('pages raw queries so a row limit never hides readings', async () => {
    const store = new SqliteStore({ path: ':memory:' });
    try {
      // One reading a minute for 3 hours except 01:00-01:30; 15m slots: 12, two missing.
      const readings: Reading[] = [];
      for (let m = 0; m < 180; m++) if (m < 60 || m >= 90) readings.push(r(T0 + m * M, m));
      await store.write(readings);
      let queries = 0;
      const query = store.query.bind(store);
      store.query = (q) => { queries++; return query(q); };
      const gaps = await gapsForStore(store, { meter: 'm1', obis: E, from: T0, to: T0 + 3 * H, interval: 15 * M, pageSize: 7 });
      assert.deepEqual(show(gaps), [['2026-01-01T01:00:00.000Z', '2026-01-01T01:30:00.000Z', 2]]);
      assert.ok(queries > 1, `paged (${queries} queries)`);
    } finally {
      await store.close();
    }
  });
});
