import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import {
  InfluxQueryError, aggregateReadings, durationLiteral, edgeRows, eventsQuery, latestQuery, parseEvents, parseLatest, parseQueryAnswer,
  parseReadings, parseWindowRows, planReadingQuery, planWindows, quoteIdent, quoteLiteral, timeLiteral,
} from '../../lib/store/influxdb/influxql';
import type { Reading } from '../../lib/model/reading';
import { Quality } from '../../lib/model/quality';
import { windowBoundaries } from '../../lib/model/time';

const FIXTURES = path.resolve(__dirname, '../../../test/fixtures/influx');
const fixture = (name: string): unknown => JSON.parse(fs.readFileSync(path.join(FIXTURES, name), 'utf8'));

const H = 3_600_000;
const D = 24 * H;
// 2024-01-15T00:00:00+01:00 (Berlin midnight, winter)
const JAN15 = Date.UTC(2024, 0, 14, 23);
// 2024-03-30T00:00:00+01:00 .. 2024-04-02T00:00:00+02:00 (clocks go forward on 31 March)
const MAR30 = Date.UTC(2024, 2, 29, 23);
const APR02 = Date.UTC(2024, 3, 1, 22);

describe('InfluxQL literals', () => {
  test('string literals: single quotes, backslash escapes', () => {
    assert.equal(quoteLiteral("it's"), "'it\\'s'");
    assert.equal(quoteLiteral('C:\\m1'), "'C:\\\\m1'");
    assert.equal(quoteLiteral('a\nb'), "'a\\nb'");
    assert.equal(quoteLiteral('say "x"'), '\'say "x"\'');
  });
  test('identifiers: double quotes', () => {
    assert.equal(quoteIdent('value'), '"value"');
    assert.equal(quoteIdent('my "f"'), '"my \\"f\\""');
  });
  test('epoch time and duration literals', () => {
    assert.equal(timeLiteral(1700000000000), '1700000000000ms');
    assert.equal(timeLiteral(1700000000000.2), '1700000000001ms');
    assert.equal(durationLiteral(900_000), '15m');
    assert.equal(durationLiteral(H), '1h');
    assert.equal(durationLiteral(D), '1d');
    assert.equal(durationLiteral(7 * D), '7d');
    assert.equal(durationLiteral(90_000), '90s');
    assert.equal(durationLiteral(1500), '1500ms');
    assert.equal(durationLiteral(23 * H), '23h');
    assert.equal(durationLiteral(0), '0s');
  });
});

describe('planReadingQuery: raw', () => {
  test('one code, quoted meter, canonical obis, ms bounds, default limit', () => {
    const p = planReadingQuery({ meter: "o'brien", obis: '1.8.0', from: 1700000000000, to: 1700003600000 });
    assert.deepEqual(p, {
      mode: 'raw', meter: "o'brien",
      query: 'SELECT "value", "quality", "meter", "obis", "unit" FROM "ems_reading" WHERE "meter" = \'o\\\'brien\' AND "obis" = \'1-0:1.8.0\' AND time >= 1700000000000ms AND time < 1700003600000ms LIMIT 100000',
    });
  });
  test('every code of a meter, own limit', () => {
    assert.equal(planReadingQuery({ meter: 'm1', from: 0, to: 1000, limit: 10 })!.query,
      'SELECT "value", "quality", "meter", "obis", "unit" FROM "ems_reading" WHERE "meter" = \'m1\' AND time >= 0ms AND time < 1000ms LIMIT 10');
  });
  test('empty range is null; bad queries throw like the sqlite store', () => {
    assert.equal(planReadingQuery({ meter: 'm1', from: 10, to: 10 }), null);
    assert.throws(() => planReadingQuery({ meter: '', from: 0, to: 1 }), /query\.meter must be a meter id/);
    assert.throws(() => planReadingQuery({ meter: 'm', from: NaN, to: 1 }), /epoch ms/);
    assert.throws(() => planReadingQuery({ meter: 'm', from: 0, to: 1, limit: 0 }), /query\.limit must be a positive integer/);
    assert.throws(() => planReadingQuery({ meter: 'm', from: 0, to: D, window: { every: 0, fn: 'sum' } }), /window length/);
    assert.throws(() => planReadingQuery({ meter: 'm', from: 0, to: D, window: { every: H, fn: 'avg' as 'sum' } }), /query\.window\.fn must be one of/);
  });
});

describe('planWindows', () => {
  test('UTC: plain epoch grid', () => {
    assert.deepEqual(pick(planWindows(0, 2 * D, 15 * 60_000)), { mode: 'server', every: 900_000, offset: 0 });
    assert.deepEqual(pick(planWindows(0, 30 * D, D)), { mode: 'server', every: D, offset: 0 });
  });
  test('Berlin, 15 min and 1 h windows across the DST change: the UTC grid is the same', () => {
    assert.deepEqual(pick(planWindows(MAR30, APR02, 15 * 60_000, 'Europe/Berlin')), { mode: 'server', every: 900_000, offset: 0 });
    assert.deepEqual(pick(planWindows(MAR30, APR02, H, 'Europe/Berlin')), { mode: 'server', every: H, offset: 0 });
  });
  test('Berlin day windows in winter: an offset of 23 h, no tz() needed', () => {
    assert.deepEqual(pick(planWindows(JAN15, JAN15 + 10 * D, D, 'Europe/Berlin')), { mode: 'server', every: D, offset: 23 * H });
  });
  test('Berlin day windows across the DST change: tz()', () => {
    const p = planWindows(MAR30, APR02, D, 'Europe/Berlin');
    assert.deepEqual(pick(p), { mode: 'server', every: D, offset: 0, timeZone: 'Europe/Berlin' });
    assert.deepEqual(p.bounds, [MAR30, MAR30 + D, MAR30 + 2 * D - H, APR02]);
  });
  test('without tz() support (InfluxDB Cloud Serverless), DST day windows are client-side', () => {
    assert.equal(planWindows(MAR30, APR02, D, 'Europe/Berlin', { timeZoneClause: false }).mode, 'client');
    assert.equal(planWindows(JAN15, JAN15 + 10 * D, D, 'Europe/Berlin', { timeZoneClause: false }).mode, 'server');
  });
  test('Kolkata (+05:30) hourly windows: offset 30 min', () => {
    assert.deepEqual(pick(planWindows(Date.UTC(2024, 0, 1), Date.UTC(2024, 0, 3), H, 'Asia/Kolkata')), { mode: 'server', every: H, offset: 30 * 60_000 });
  });
  test('Berlin 2 h windows: offset 1 h in winter, client-side across the DST change', () => {
    assert.deepEqual(pick(planWindows(JAN15, JAN15 + 3 * D, 2 * H, 'Europe/Berlin')), { mode: 'server', every: 2 * H, offset: H });
    const p = planWindows(MAR30, APR02, 2 * H, 'Europe/Berlin');
    assert.equal(p.mode, 'client');
    assert.deepEqual(p.bounds, windowBoundaries(MAR30, APR02, 2 * H, 'Europe/Berlin'));
  });
  test('7 h windows (cut at midnight) are client-side over several days, server-side within one', () => {
    assert.equal(planWindows(0, 3 * D, 7 * H).mode, 'client');
    assert.deepEqual(pick(planWindows(0, 20 * H, 7 * H)), { mode: 'server', every: 7 * H, offset: 0 });
  });
  test('bad zones and too many windows throw', () => {
    assert.throws(() => planWindows(0, D, H, 'Mars/Olympus'), /unknown time zone/);
    assert.throws(() => planWindows(0, 1000 * D, 1000), RangeError);
    assert.throws(() => planWindows(0, D, 60_000, undefined, { maxWindows: 100 }), /windows/);
  });
});

function pick(p: ReturnType<typeof planWindows>): Record<string, unknown> {
  const { bounds: _b, ...rest } = p;
  return rest;
}

describe('planReadingQuery: windows', () => {
  const base = { meter: 'm1', obis: '1-0:1.8.0' };
  test('15 min delta in Berlin: the range raw, then each series\' last reading before and first after it (a year at most)', () => {
    const p = planReadingQuery({ ...base, from: JAN15, to: JAN15 + D, timeZone: 'Europe/Berlin', window: { every: 15 * 60_000, fn: 'delta' } })!;
    assert.equal(p.mode, 'edge-window');
    const where = 'WHERE "meter" = \'m1\' AND "obis" = \'1-0:1.8.0\'';
    assert.equal(p.query, [
      `SELECT "value", "quality", "meter", "obis", "unit" FROM "ems_reading" ${where} AND time >= 1705273200000ms AND time < 1705359600000ms`,
      `SELECT last("value") AS "value", "quality" FROM "ems_reading" ${where} AND time >= ${JAN15 - 366 * D}ms AND time < 1705273200000ms GROUP BY "meter", "obis", "unit"`,
      `SELECT first("value") AS "value", "quality" FROM "ems_reading" ${where} AND time >= 1705359600000ms AND time < ${JAN15 + 367 * D}ms GROUP BY "meter", "obis", "unit"`,
    ].join('; '));
  });
  test('daily sums across the DST change use tz()', () => {
    const p = planReadingQuery({ meter: 'm1', from: MAR30, to: APR02, timeZone: 'Europe/Berlin', window: { every: D, fn: 'sum' } })!;
    assert.equal(p.query, 'SELECT sum("value") AS "value", count("value") AS "count" FROM "ems_reading" WHERE "meter" = \'m1\' AND time >= 1711753200000ms AND time < 1712008800000ms GROUP BY time(1d), "obis", "unit" fill(none) tz(\'Europe/Berlin\')');
  });
  test('daily max in Berlin winter: offset instead of tz()', () => {
    const p = planReadingQuery({ ...base, from: JAN15, to: JAN15 + 7 * D, timeZone: 'Europe/Berlin', window: { every: D, fn: 'max' } })!;
    assert.match(p.query, /^SELECT max\("value"\) AS "value", count\("value"\) AS "count" FROM .* GROUP BY time\(1d, 23h\), "obis", "unit" fill\(none\)$/);
  });
  test('each aggregate', () => {
    for (const fn of ['first', 'last', 'min', 'max', 'mean', 'sum'] as const) {
      assert.match(planReadingQuery({ ...base, from: 0, to: D, window: { every: H, fn } })!.query, new RegExp(`^SELECT ${fn}\\("value"\\) AS "value", count`));
    }
  });
  test('windows InfluxDB cannot express: raw query without limit, aggregated by the caller', () => {
    const p = planReadingQuery({ ...base, from: MAR30, to: APR02, timeZone: 'Europe/Berlin', window: { every: 2 * H, fn: 'mean' } })!;
    assert.equal(p.mode, 'client-window');
    assert.equal(p.query, 'SELECT "value", "quality", "meter", "obis", "unit" FROM "ems_reading" WHERE "meter" = \'m1\' AND "obis" = \'1-0:1.8.0\' AND time >= 1711753200000ms AND time < 1712008800000ms');
  });
});

describe('latestQuery and eventsQuery', () => {
  test('latest', () => {
    assert.equal(latestQuery(), 'SELECT last("value") AS "value", "quality" FROM "ems_reading" GROUP BY "meter", "obis", "unit"');
    assert.equal(latestQuery({ meter: 'm1', obis: '1.8.1' }),
      'SELECT last("value") AS "value", "quality" FROM "ems_reading" WHERE "meter" = \'m1\' AND "obis" = \'1-0:1.8.1\' GROUP BY "meter", "obis", "unit"');
  });
  test('events', () => {
    assert.equal(eventsQuery({ from: 1705273200000, to: 1705359600000, meter: 'm1', level: 'error' }),
      'SELECT "message", "source", "level", "kind", "meter" FROM "ems_event" WHERE time >= 1705273200000ms AND time < 1705359600000ms AND "meter" = \'m1\' AND "level" = \'error\' LIMIT 10000');
    assert.equal(eventsQuery({ from: 0, to: 1000, limit: 5 }), 'SELECT "message", "source", "level", "kind", "meter" FROM "ems_event" WHERE time >= 0ms AND time < 1000ms LIMIT 5');
    assert.equal(eventsQuery({ from: 5, to: 5 }), null);
    assert.throws(() => eventsQuery({ from: 0, to: 1, level: 'fatal' as 'error' }), /query\.level/);
  });
});

describe('parsing /query answers', () => {
  test('raw readings: ordered by time then obis, quality 0/null dropped, null unit is ""', () => {
    assert.deepEqual(parseReadings(fixture('raw.json'), 'm1'), [
      { meter: 'm1', time: 1705273200000, obis: '1-0:1.7.0', value: 2.5, unit: 'kW', quality: 4 },
      { meter: 'm1', time: 1705273200000, obis: '1-0:1.8.0', value: 1234.567, unit: 'kWh' },
      { meter: 'm1', time: 1705274100000, obis: '1-0:1.7.0', value: 0.7, unit: '' },
      { meter: 'm1', time: 1705274100000, obis: '1-0:1.8.0', value: 1234.9, unit: 'kWh' },
    ]);
  });
  test('RFC3339 times (no epoch parameter) are read too', () => {
    assert.deepEqual(parseReadings(fixture('raw-rfc3339.json')).map((x) => [x.time, x.quality]), [[1705273200250, 2], [1705274100000, undefined]]);
  });
  test('window rows: tags give obis and unit, empty windows dropped', () => {
    assert.deepEqual(parseWindowRows(fixture('window.json'), 'm1'), [
      { meter: 'm1', obis: '1-0:1.8.0', time: 1705273200000, value: 0.25, unit: 'kWh', count: 4 },
      { meter: 'm1', obis: '1-0:2.8.0', time: 1705273200000, value: 0, unit: 'kWh', count: 1 },
      { meter: 'm1', obis: '1-0:2.8.0', time: 1705274100000, value: 0.125, unit: 'kWh', count: 2 },
      { meter: 'm1', obis: '1-0:1.8.0', time: 1705275000000, value: 0.5, unit: 'kWh', count: 3 },
    ]);
  });
  test('latest: newest per meter/obis when a series has two units, ordered by meter, obis', () => {
    assert.deepEqual(parseLatest(fixture('latest.json')), [
      { meter: 'm1', time: 1705279000000, obis: '1-0:1.7.0', value: 3.25, unit: '' },
      { meter: 'm1', time: 1705279000000, obis: '1-0:1.8.0', value: 1240.5, unit: 'kWh', quality: 1 },
      { meter: 'm2', time: 1705280000000, obis: '1-0:1.8.0', value: 88.125, unit: 'kWh' },
    ]);
  });
  test('events: oldest first, null meter/source omitted', () => {
    assert.deepEqual(parseEvents(fixture('events.json')), [
      { time: 1705273200000, level: 'error', kind: 'poll-failed', message: 'Modbus timeout after 1000 ms, unit 3 "Keller"', meter: 'm1', source: 'a1b2c3d4.e5f6' },
      { time: 1705273260000, level: 'warning', kind: 'clock-adjusted', message: 'clock set back by 42 s', meter: 'm1' },
      { time: 1705273300000, level: 'info', kind: 'login', message: '', source: 'admin' },
    ]);
  });
  test('an empty result is no rows', () => {
    assert.deepEqual(parseQueryAnswer(fixture('empty.json')), []);
    assert.deepEqual(parseReadings(fixture('empty.json')), []);
    assert.deepEqual(parseEvents(JSON.stringify(fixture('empty.json'))), []);
  });
  test('errors carry the server message', () => {
    assert.throws(() => parseReadings(fixture('error-result.json')), (err: unknown) =>
      err instanceof InfluxQueryError && err.message === 'database not found: ems' && err.statementId === 0);
    assert.throws(() => parseWindowRows(fixture('error-top.json'), 'm1'), { name: 'InfluxQueryError', message: 'error parsing query: found EOF, expected FROM at line 1, char 9' });
    assert.throws(() => parseQueryAnswer('<html>'), /not JSON/);
    assert.throws(() => parseQueryAnswer({}), /no results/);
  });
});

describe('aggregateReadings (client-side windows)', () => {
  test('2 h deltas in Berlin across the DST change follow windows.ts', () => {
    const bounds = windowBoundaries(MAR30 + D, MAR30 + 2 * D - H, 2 * H, 'Europe/Berlin');
    // 31 March: local midnight 23:00Z, windows every 2 h of absolute time, the last one cut at the next midnight (22:00Z).
    assert.equal(bounds[0], MAR30 + D);
    assert.equal(bounds[bounds.length - 1], MAR30 + 2 * D - H);
    const readings: Reading[] = [];
    for (let t = MAR30 + D; t < MAR30 + 2 * D - H; t += H / 2) readings.push({ meter: 'm1', time: t, obis: '1-0:1.8.0', value: (t - MAR30 - D) / H, unit: 'kWh' });
    // Outside the range: counted in no window, but the end edge lies between 22:30 (22.5) and this reading.
    readings.push({ meter: 'm1', time: MAR30 + 2 * D, obis: '1-0:1.8.0', value: 24, unit: 'kWh' });
    const rows = aggregateReadings(readings.slice().reverse(), bounds, 'delta');
    assert.equal(rows.length, 12); // 23 h: 11 full windows and one of 1 h
    // delta is the register at the window's end edge minus at its start edge (readings on both edges: exact)
    assert.deepEqual(rows[0], { meter: 'm1', obis: '1-0:1.8.0', time: MAR30 + D, value: 2, unit: 'kWh', count: 4 });
    assert.deepEqual(rows[11], { meter: 'm1', obis: '1-0:1.8.0', time: MAR30 + D + 22 * H, value: 1, unit: 'kWh', count: 2, quality: Quality.INTERPOLATED });
    assert.equal(rows.reduce((sum, r) => sum + r.value, 0), 23);
    const sums = aggregateReadings(readings, bounds, 'mean');
    assert.equal(sums[0].value, 0.75);
  });
  test('several codes, ordered by time then obis, empty windows absent', () => {
    const rows = aggregateReadings([
      { meter: 'm1', time: 5 * H, obis: 'b', value: 2, unit: 'x' },
      { meter: 'm1', time: 0, obis: 'b', value: 1, unit: 'x' },
      { meter: 'm1', time: 1, obis: 'a', value: 3, unit: 'x' },
    ], windowBoundaries(0, 6 * H, 2 * H), 'sum');
    assert.deepEqual(rows.map((x) => [x.time, x.obis, x.value, x.count]), [[0, 'a', 3, 1], [0, 'b', 1, 1], [4 * H, 'b', 2, 1]]);
  });
});

describe('aggregateReadings matches the sqlite store', () => {
  test('random readings, every aggregate, Berlin 2 h and 7 h windows across the DST change', async () => {
    const { SqliteStore } = await import('../../lib/store/sqlite');
    const store = new SqliteStore(':memory:');
    try {
      let seed = 42;
      const rnd = (): number => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
      const readings: Reading[] = [];
      for (const obis of ['1-0:1.8.0', '1-0:2.8.0']) {
        let v = 1000;
        for (let t = MAR30; t < APR02; t += Math.floor(rnd() * 40) * 60_000 + 60_000) {
          v += Math.round(rnd() * 1000) / 1000;
          readings.push({ meter: 'm1', time: t, obis, value: v, unit: 'kWh' });
        }
      }
      await store.write(readings);
      for (const every of [2 * H, 7 * H, D]) {
        for (const fn of ['first', 'last', 'min', 'max', 'mean', 'sum', 'delta'] as const) {
          const from = MAR30 + 5 * 60_000;
          const to = APR02 - 17 * 60_000;
          const expected = await store.query({ meter: 'm1', from, to, timeZone: 'Europe/Berlin', window: { every, fn } });
          const plan = planReadingQuery({ meter: 'm1', from, to, timeZone: 'Europe/Berlin', window: { every, fn } })!;
          const inRange = readings.filter((x) => x.time >= from && x.time < to);
          if (plan.mode === 'edge-window') {
            assert.equal(fn, 'delta');
            assert.deepEqual(edgeRows(readings, plan.bounds, from, to, 'm1'), expected, `${every} ${fn}`);
            continue;
          }
          const bounds = plan.mode === 'raw' ? [] : plan.window.bounds;
          assert.deepEqual(aggregateReadings(inRange, bounds, fn, 'm1'), expected, `${every} ${fn}`);
        }
      }
    } finally {
      await store.close();
    }
  });
});
