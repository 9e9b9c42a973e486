import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { openStore, SqliteStore, windowBoundaries, windowStartOf, fromLocal, type WindowRow } from '../../lib/store';
import type { Reading } from '../../lib/model';

const MIN = 60_000;
const HOUR = 60 * MIN;
const T = Date.UTC(2026, 0, 1); // 2026-01-01T00:00Z
const E = '1-0:1.8.0'; // energy import counter
const P = '1-0:1.7.0'; // active power

function r(meter: string, obis: string, time: number, value: number, unit = 'kWh', quality?: number): Reading {
  return quality === undefined ? { meter, obis, time, value, unit } : { meter, obis, time, value, unit, quality };
}

const counter: Reading[] = [
  r('m1', E, T, 100), r('m1', E, T + 15 * MIN, 101.5), r('m1', E, T + 30 * MIN, 103), r('m1', E, T + 45 * MIN, 104),
  r('m1', E, T + 60 * MIN, 110), r('m1', E, T + 75 * MIN, 111),
];
const power: Reading[] = [r('m1', P, T + 5 * MIN, 2.5, 'kW'), r('m1', P, T + 20 * MIN, -1, 'kW'), r('m1', P, T + 50 * MIN, 4, 'kW')];

function values(rows: WindowRow[]): [string, number, number, number][] {
  return rows.map((w) => [w.obis, w.time - T, w.value, w.count]);
}

describe('SqliteStore', () => {
  let store: SqliteStore;
  before(async () => {
    store = new SqliteStore(':memory:');
    assert.equal(await store.write([...counter, ...power, r('m2', E, T, 5)]), 10);
  });
  after(() => store.close());

  it('returns raw readings of one code ordered by time', async () => {
    const rows = await store.query({ meter: 'm1', obis: E, from: T, to: T + 2 * HOUR });
    assert.deepEqual(rows, counter);
  });

  it('returns raw readings of every code of a meter ordered by time, and honours from (inclusive), to (exclusive) and limit', async () => {
    const rows = (await store.query({ meter: 'm1', from: T + 15 * MIN, to: T + 60 * MIN })) as Reading[];
    assert.deepEqual(rows.map((x) => [x.time - T, x.obis]), [[15 * MIN, E], [20 * MIN, P], [30 * MIN, E], [45 * MIN, E], [50 * MIN, P]]);
    const limited = (await store.query({ meter: 'm1', from: T, to: T + 2 * HOUR, limit: 2 })) as Reading[];
    assert.deepEqual(limited.map((x) => x.time - T), [0, 5 * MIN]);
    assert.deepEqual(await store.query({ meter: 'nobody', from: T, to: T + HOUR }), []);
  });

  it('normalises OBIS shorthand on write and query', async () => {
    const s = new SqliteStore(':memory:');
    await s.write([r('m9', '1.8.0', T, 1)]);
    assert.deepEqual(await s.query({ meter: 'm9', obis: '1-0:1.8.0*255', from: T, to: T + 1 }), [r('m9', E, T, 1)]);
    await s.close();
  });

  it('overwrites a reading with the same meter, obis and time (value, unit and quality)', async () => {
    const s = new SqliteStore(':memory:');
    await s.write([r('m1', E, T, 1), r('m1', E, T + MIN, 2)]);
    await s.write([r('m1', E, T, 1.5, 'kWh', 1)]);
    assert.deepEqual(await s.query({ meter: 'm1', obis: E, from: T, to: T + HOUR }), [r('m1', E, T, 1.5, 'kWh', 1), r('m1', E, T + MIN, 2)]);
    await s.close();
  });

  it('rejects a batch with a bad reading, naming the index and field, and writes none of it', async () => {
    const s = new SqliteStore(':memory:');
    const bad = [r('m1', E, T, 1), { meter: 'm1', obis: E, time: T + MIN, value: 'x', unit: 'kWh' } as unknown as Reading];
    await assert.rejects(s.write(bad), /sqlite.*readings\[1\].*reading\.value/);
    assert.deepEqual(await s.query({ meter: 'm1', from: T, to: T + HOUR }), []);
    await s.close();
  });

  describe('windowed aggregation (1 h windows, UTC)', () => {
    const q = (fn: 'first' | 'last' | 'min' | 'max' | 'mean' | 'sum' | 'delta', obis = E) =>
      store.query({ meter: 'm1', obis, from: T, to: T + 2 * HOUR, window: { every: HOUR, fn } }) as Promise<WindowRow[]>;
    // Counter window 1: 100, 101.5, 103, 104; window 2: 110, 111.
    it('first', async () => assert.deepEqual(values(await q('first')), [[E, 0, 100, 4], [E, HOUR, 110, 2]]));
    it('last', async () => assert.deepEqual(values(await q('last')), [[E, 0, 104, 4], [E, HOUR, 111, 2]]));
    it('min', async () => assert.deepEqual(values(await q('min')), [[E, 0, 100, 4], [E, HOUR, 110, 2]]));
    it('max', async () => assert.deepEqual(values(await q('max')), [[E, 0, 104, 4], [E, HOUR, 111, 2]]));
    it('sum', async () => assert.deepEqual(values(await q('sum')), [[E, 0, 408.5, 4], [E, HOUR, 221, 2]]));
    it('mean', async () => assert.deepEqual(values(await q('mean')), [[E, 0, 102.125, 4], [E, HOUR, 110.5, 2]]));
    it('delta on a counter is the register at the window\'s end minus at its start: 104 -> 110 between windows is not lost', async () => {
      assert.deepEqual(values(await q('delta')), [[E, 0, 10, 4], [E, HOUR, 1, 2]]);
    });
    it('min, max and mean of a power series with a negative value', async () => {
      assert.deepEqual(values(await q('min', P)), [[P, 0, -1, 3]]);
      assert.deepEqual(values(await q('max', P)), [[P, 0, 4, 3]]);
      assert.deepEqual(values(await q('mean', P)), [[P, 0, 5.5 / 3, 3]]);
    });
    it('every code of the meter when obis is absent, with unit and window start, empty windows left out', async () => {
      const rows = (await store.query({ meter: 'm1', from: T, to: T + 3 * HOUR, window: { every: 15 * MIN, fn: 'last' } })) as WindowRow[];
      assert.deepEqual(values(rows), [
        [P, 0, 2.5, 1], [E, 0, 100, 1], [P, 15 * MIN, -1, 1], [E, 15 * MIN, 101.5, 1], [E, 30 * MIN, 103, 1],
        [P, 45 * MIN, 4, 1], [E, 45 * MIN, 104, 1], [E, 60 * MIN, 110, 1], [E, 75 * MIN, 111, 1],
      ]);
      assert.equal(rows[0].unit, 'kW');
      assert.equal(rows[1].unit, 'kWh');
      assert.equal(rows[0].meter, 'm1');
    });
  });

  it('latest gives the newest reading per meter and obis, filtered by meter or obis', async () => {
    assert.deepEqual(await store.latest(), [r('m1', P, T + 50 * MIN, 4, 'kW'), r('m1', E, T + 75 * MIN, 111), r('m2', E, T, 5)]);
    assert.deepEqual(await store.latest({ meter: 'm1', obis: '1.8.0' }), [r('m1', E, T + 75 * MIN, 111)]);
    assert.deepEqual(await store.latest({ obis: E }), [r('m1', E, T + 75 * MIN, 111), r('m2', E, T, 5)]);
    assert.deepEqual(await store.latest({ meter: 'none' }), []);
  });

  it('writes and queries events by time, meter and level', async () => {
    const s = new SqliteStore(':memory:');
    assert.equal(await s.writeEvents([
      { time: T + 2, level: 'error', kind: 'poll-failed', message: 'timeout', meter: 'm1', source: 'node-1' },
      { time: T, level: 'info', kind: 'login', message: 'admin logged in', source: 'admin' },
      { time: T + 1, level: 'warning', kind: 'clock', message: 'clock off by 90 s', meter: 'm2' },
    ]), 3);
    assert.deepEqual((await s.events({ from: T, to: T + 10 })).map((e) => e.kind), ['login', 'clock', 'poll-failed']);
    assert.deepEqual(await s.events({ from: T, to: T + 10, meter: 'm1' }), [
      { time: T + 2, level: 'error', kind: 'poll-failed', message: 'timeout', meter: 'm1', source: 'node-1' },
    ]);
    assert.deepEqual((await s.events({ from: T, to: T + 10, level: 'info' })).map((e) => e.message), ['admin logged in']);
    assert.deepEqual((await s.events({ from: T + 1, to: T + 2 })).map((e) => e.kind), ['clock']);
    assert.equal((await s.events({ from: T, to: T + 10, limit: 2 })).length, 2);
    await assert.rejects(s.writeEvents([{ time: T, level: 'fatal', kind: 'x', message: '' } as never]), /events\[0\].*event\.level/);
    await s.close();
  });

  describe('day windows in Europe/Berlin across DST', () => {
    const tz = 'Europe/Berlin';
    it('the 23 h day (2026-03-29) starts at local midnight and holds its 23 hourly readings', async () => {
      const s = new SqliteStore(':memory:');
      const midnight = Date.UTC(2026, 2, 28, 23); // 2026-03-29T00:00+01:00
      const next = Date.UTC(2026, 2, 29, 22); // 2026-03-30T00:00+02:00
      const readings: Reading[] = [];
      for (let t = midnight - 2 * HOUR; t <= next + HOUR; t += HOUR) readings.push(r('m1', E, t, 1));
      await s.write(readings);
      const rows = (await s.query({
        meter: 'm1', obis: E, from: Date.UTC(2026, 2, 27, 23), to: Date.UTC(2026, 2, 30, 22), timeZone: tz, window: { every: 86_400_000, fn: 'sum' },
      })) as WindowRow[];
      assert.deepEqual(rows.map((w) => [new Date(w.time).toISOString(), w.value, w.count]), [
        ['2026-03-27T23:00:00.000Z', 2, 2], // the two hours before local midnight belong to March 28
        ['2026-03-28T23:00:00.000Z', 23, 23], // March 29: 23 hours
        ['2026-03-29T22:00:00.000Z', 2, 2],
      ]);
      await s.close();
    });

    it('the 25 h day (2026-10-25) holds all 25 hourly readings in one window starting at local midnight', async () => {
      const s = new SqliteStore(':memory:');
      const midnight = Date.UTC(2026, 9, 24, 22); // 2026-10-25T00:00+02:00
      const readings: Reading[] = [];
      for (let i = 0; i < 25; i++) readings.push(r('m1', E, midnight + i * HOUR, 1000 + i));
      readings.push(r('m1', E, midnight + 25 * HOUR, 1025)); // 2026-10-26T00:00+01:00: the next day's first edge
      await s.write(readings);
      const rows = (await s.query({
        meter: 'm1', obis: E, from: midnight, to: midnight + 48 * HOUR, timeZone: tz, window: { every: 86_400_000, fn: 'delta' },
      })) as WindowRow[];
      assert.deepEqual(rows.map((w) => [new Date(w.time).toISOString(), w.value, w.count]), [
        ['2026-10-24T22:00:00.000Z', 25, 25], // 25 hours of 1 kWh
        ['2026-10-25T23:00:00.000Z', 0, 1],
      ]);
      await s.close();
    });
  });

  it('a file-backed store keeps its data when reopened (WAL mode)', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ems-store-'));
    const file = path.join(dir, 'sub', 'readings.sqlite');
    try {
      const s = openStore({ backend: 'sqlite', path: file });
      await s.write(counter);
      await s.writeEvents([{ time: T, level: 'info', kind: 'start', message: 'started' }]);
      await s.close();
      await assert.rejects(s.query({ meter: 'm1', from: T, to: T + HOUR }), /closed/);
      const again = new SqliteStore(file);
      assert.deepEqual(await again.query({ meter: 'm1', obis: E, from: T, to: T + 2 * HOUR }), counter);
      assert.deepEqual(await again.latest({ meter: 'm1' }), [counter[5]]);
      assert.equal((await again.events({ from: T, to: T + 1 })).length, 1);
      const Database = (await import('better-sqlite3')).default;
      const raw = new Database(file, { readonly: true });
      assert.equal(raw.pragma('journal_mode', { simple: true }), 'wal');
      raw.close();
      await again.close();
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('openStore rejects an unknown backend and a missing path', () => {
    assert.throws(() => openStore({ backend: 'mongo' } as never), /unknown store backend "mongo"/);
    assert.throws(() => openStore({ backend: 'sqlite', path: '' }), /path is required/);
  });
});

describe('window arithmetic', () => {
  const tz = 'Europe/Berlin';
  it('day windows start at local midnight and are 23 h / 25 h on DST days', () => {
    const b = windowBoundaries(Date.UTC(2026, 2, 28, 12), Date.UTC(2026, 2, 30, 12), 86_400_000, tz);
    assert.deepEqual(b.map((x) => new Date(x).toISOString()), [
      '2026-03-27T23:00:00.000Z', '2026-03-28T23:00:00.000Z', '2026-03-29T22:00:00.000Z', '2026-03-30T22:00:00.000Z',
    ]);
    const f = windowBoundaries(Date.UTC(2026, 9, 24, 22), Date.UTC(2026, 9, 25, 23), 86_400_000, tz);
    assert.deepEqual(f.map((x) => new Date(x).toISOString()), ['2026-10-24T22:00:00.000Z', '2026-10-25T23:00:00.000Z']);
  });

  it('hour windows: 23 on the spring day, 25 on the autumn day', () => {
    assert.equal(windowBoundaries(Date.UTC(2026, 2, 28, 23), Date.UTC(2026, 2, 29, 22), 3_600_000, tz).length - 1, 23);
    assert.equal(windowBoundaries(Date.UTC(2026, 9, 24, 22), Date.UTC(2026, 9, 25, 23), 3_600_000, tz).length - 1, 25);
  });

  it('short windows align to local midnight (Asia/Kolkata, UTC+05:30)', () => {
    const start = windowStartOf(Date.UTC(2026, 0, 1, 10, 10), 3_600_000, 'Asia/Kolkata');
    assert.equal(new Date(start).toISOString(), '2026-01-01T09:30:00.000Z');
    assert.equal(new Date(windowStartOf(Date.UTC(2026, 0, 1, 10, 10), 3_600_000)).toISOString(), '2026-01-01T10:00:00.000Z');
  });

  it('multi-day windows align to local day numbers since 1970', () => {
    const start = windowStartOf(Date.UTC(2026, 0, 7, 12), 7 * 86_400_000, 'UTC');
    assert.equal(new Date(start).toISOString(), '2026-01-01T00:00:00.000Z'); // 1970-01-01 was a Thursday, so is 2026-01-01
  });

  it('fromLocal resolves ambiguous and skipped wall times', () => {
    const wall = (d: number, h: number, mi = 0) => ({ year: 2026, month: d < 100 ? 10 : 3, day: d % 100, hour: h, minute: mi, second: 0, millisecond: 0 });
    assert.equal(new Date(fromLocal(wall(25, 2, 30), tz)).toISOString(), '2026-10-25T00:30:00.000Z');
    assert.equal(new Date(fromLocal(wall(129, 2, 30), tz)).toISOString(), '2026-03-29T01:30:00.000Z');
  });

  it('refuses too many windows and day windows that are not whole days', () => {
    assert.throws(() => windowBoundaries(0, 365 * 86_400_000, 60_000, 'UTC'), RangeError);
    assert.throws(() => windowBoundaries(0, 10 * 86_400_000, 36 * 3_600_000, 'UTC'), /whole days/);
  });
});
