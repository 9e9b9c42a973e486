import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { parseRangeQuery, parseDuration, parseTime, QueryParamError } from '../../lib/store';

const NOW = Date.UTC(2026, 5, 15, 12); // 2026-06-15T12:00Z
const H = 3_600_000;

function fails(params: Record<string, unknown>, param: string, ...parts: (string | RegExp)[]): void {
  let caught: unknown;
  try {
    parseRangeQuery(params, NOW);
  } catch (err) {
    caught = err;
  }
  assert.ok(caught instanceof QueryParamError, `expected a QueryParamError for ${JSON.stringify(params)}`);
  assert.ok(caught instanceof Error);
  assert.equal(caught.param, param);
  assert.ok(caught.message.startsWith(`${param}: `), caught.message);
  for (const p of parts) {
    if (typeof p === 'string') assert.ok(caught.message.includes(p), `"${caught.message}" should include ${p}`);
    else assert.match(caught.message, p);
  }
}

describe('parseRangeQuery', () => {
  it('defaults to the last 24 hours, raw', () => {
    assert.deepEqual(parseRangeQuery({ meter: 'm1' }, NOW), { meter: 'm1', from: NOW - 24 * H, to: NOW });
  });

  it('accepts epoch ms as numbers and numeric strings, normalises obis', () => {
    assert.deepEqual(parseRangeQuery({ meter: 'm1', obis: '1.8.0', from: '1000', to: 5000 }, NOW), {
      meter: 'm1', obis: '1-0:1.8.0', from: 1000, to: 5000,
    });
  });

  it('accepts ISO 8601 with Z or an offset, and without an offset as local time in tz', () => {
    assert.equal(parseRangeQuery({ meter: 'm', from: '2026-06-01T00:00:00Z' }, NOW).from, Date.UTC(2026, 5, 1));
    assert.equal(parseRangeQuery({ meter: 'm', from: '2026-06-01T02:00:00+02:00' }, NOW).from, Date.UTC(2026, 5, 1));
    assert.equal(parseRangeQuery({ meter: 'm', from: '2026-06-01T00:00:00.250Z' }, NOW).from, Date.UTC(2026, 5, 1) + 250);
    const q = parseRangeQuery({ meter: 'm', from: '2026-06-01', to: '2026-06-02T00:00', tz: 'Europe/Berlin' }, NOW);
    assert.equal(q.from, Date.UTC(2026, 4, 31, 22));
    assert.equal(q.to, Date.UTC(2026, 5, 1, 22));
    assert.equal(q.timeZone, 'Europe/Berlin');
    assert.equal(parseRangeQuery({ meter: 'm', from: '2026-06-01' }, NOW).from, Date.UTC(2026, 5, 1)); // UTC by default
  });

  it('accepts relative times and now', () => {
    const q = parseRangeQuery({ meter: 'm', from: '-15m', to: 'now' }, NOW);
    assert.deepEqual([q.from, q.to], [NOW - 15 * 60_000, NOW]);
    assert.equal(parseRangeQuery({ meter: 'm', from: '-7d' }, NOW).from, NOW - 7 * 24 * H);
    assert.equal(parseRangeQuery({ meter: 'm', from: 'now-1h', to: '-30m' }, NOW).from, NOW - H);
    assert.equal(parseRangeQuery({ meter: 'm', range: '6h' }, NOW).from, NOW - 6 * H);
    assert.equal(parseRangeQuery({ meter: 'm' }, NOW, { range: '-1h' }).from, NOW - H);
  });

  it('accepts a window with its aggregate in several spellings', () => {
    assert.deepEqual(parseRangeQuery({ meter: 'm', window: '1h:delta' }, NOW).window, { every: H, fn: 'delta' });
    assert.deepEqual(parseRangeQuery({ meter: 'm', window: '15m', fn: 'max' }, NOW).window, { every: 15 * 60_000, fn: 'max' });
    assert.deepEqual(parseRangeQuery({ meter: 'm', window: '1d', agg: 'sum' }, NOW).window, { every: 24 * H, fn: 'sum' });
    assert.deepEqual(parseRangeQuery({ meter: 'm', window: 60000, agg: 'avg' }, NOW).window, { every: 60_000, fn: 'mean' });
    assert.deepEqual(parseRangeQuery({ meter: 'm', window: '1h' }, NOW).window, { every: H, fn: 'mean' });
    assert.deepEqual(parseRangeQuery({ meter: 'm', window: '1h' }, NOW, { fn: 'last' }).window, { every: H, fn: 'last' });
    assert.equal(parseRangeQuery({ meter: 'm', window: 'none' }, NOW, { window: '1h' }).window, undefined);
  });

  it('lets params override defaults', () => {
    const q = parseRangeQuery({ meter: 'm2', obis: '1-0:2.8.0' }, NOW, { meter: 'm1', obis: '1-0:1.8.0', window: '1h', fn: 'delta', timeZone: 'UTC', limit: 10 });
    assert.deepEqual(q, { meter: 'm2', obis: '1-0:2.8.0', from: NOW - 24 * H, to: NOW, window: { every: H, fn: 'delta' }, timeZone: 'UTC', limit: 10 });
  });

  it('names the parameter and the value of each bad input', () => {
    fails({}, 'meter', 'required');
    fails({ meter: { id: 1 } }, 'meter', '{"id":1}');
    fails({ meter: 'm', obis: 'energy' }, 'obis', '"energy"', 'OBIS');
    fails({ meter: 'm', from: 'yesterday' }, 'from', 'from: "yesterday" is not a time (use epoch ms, ISO 8601 or -1h)');
    fails({ meter: 'm', to: '2026-13-01' }, 'to', '"2026-13-01"', 'not a time');
    fails({ meter: 'm', from: '2026-02-30' }, 'from', '"2026-02-30"');
    fails({ meter: 'm', from: '-1h', to: '-2h' }, 'to', '"-2h"', 'must be after from', '"-1h"');
    fails({ meter: 'm', from: 5000, to: 5000 }, 'to', 'must be after from');
    fails({ meter: 'm', range: 'a while' }, 'range', '"a while"');
    fails({ meter: 'm', window: 'hourly' }, 'window', '"hourly"', 'window length');
    fails({ meter: 'm', window: '36h' }, 'window', '"36h"', 'whole days');
    fails({ meter: 'm', window: '1h:median' }, 'window', '"median"', 'delta');
    fails({ meter: 'm', window: '1h', fn: 'median' }, 'fn', '"median"', 'first, last, min, max, mean, sum, delta');
    fails({ meter: 'm', window: '1h', agg: 'p95' }, 'agg', '"p95"');
    fails({ meter: 'm', fn: 'sum' }, 'fn', '"sum"', 'needs a window');
    fails({ meter: 'm', from: '-2y' }, 'from', '"-2y"');
    fails({ meter: 'm', from: '-400d', window: '1m' }, 'window', '"1m"', 'at most 100000');
    fails({ meter: 'm', tz: 'Mars/Olympus' }, 'tz', '"Mars/Olympus"', 'IANA');
    fails({ meter: 'm', limit: '0' }, 'limit', '"0"');
    fails({ meter: 'm', limit: 2.5 }, 'limit', '2.5');
  });

  it('parses durations and times on their own', () => {
    assert.equal(parseDuration('15m'), 900_000);
    assert.equal(parseDuration('500ms'), 500);
    assert.equal(parseDuration('2w'), 14 * 24 * H);
    assert.ok(Number.isNaN(parseDuration('-1h')));
    assert.equal(parseTime('now', NOW), NOW);
    assert.equal(parseTime(new Date(5), NOW), 5);
    assert.ok(Number.isNaN(parseTime('tomorrow', NOW)));
  });
});
