/**
 * The InfluxQL query layer (lib/store/influxdb) against a real InfluxDB 1.x (Debian's influxd, started
 * in a temp dir): the same dataset goes into InfluxDB (line protocol, POST /write?precision=ms) and
 * into the sqlite store (':memory:'), and every query the store can ask - raw ranges, every aggregate
 * over 15m/1h/2h/1d windows in UTC and Europe/Berlin (DST days of 23 and 25 hours), latest, events -
 * must give the same answer from InfluxDB (planned query, parsed; client-window plans aggregated
 * locally) as from sqlite, the oracle.
 *
 * Skips when influxd is missing (EMS_INFLUXD overrides the path); fails instead when CI or
 * EMS_REQUIRE_PEERS is set.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import type { Reading } from '../../lib/model/reading';
import { Quality } from '../../lib/model/quality';
import { SqliteStore } from '../../lib/store/sqlite';
import type { Aggregate, EmsEvent, EventQuery, LatestQuery, RangeQuery, WindowRow } from '../../lib/store/types';
import { AGGREGATES } from '../../lib/store/types';
import { DAY_MS, HOUR_MS, MINUTE_MS } from '../../lib/model/time';
import { chunkLines, encodeEvents, encodeReadings } from '../../lib/store/influxdb/line-protocol';
import {
  InfluxQueryError, eventsQuery, latestQuery, parseEvents, parseLatest, parseQueryAnswer,
  parseReadings, parseWindowRows, planReadingQuery, rowsOfPlan,
} from '../../lib/store/influxdb/influxql';
import { influxdbMissing, startInfluxdb1, type RunningService } from '../fixtures/services';
import { missingPeer } from '../fixtures/sim/peers';

const opts = missingPeer(influxdbMissing());
const DB = 'ems';
const BERLIN = 'Europe/Berlin';

let influx: RunningService | undefined;
let store: SqliteStore | undefined;

// ------------------------------------------------------------------------------------------ dataset

/** A deterministic pseudo-random sequence (LCG) so the dataset is the same on every run. */
function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

const round3 = (x: number): number => Math.round(x * 1000) / 1000;

/** [from, to) spans of the dataset: the Berlin spring-forward and fall-back weekends of 2026, in UTC. */
const SPANS: [number, number][] = [
  [Date.UTC(2026, 2, 28), Date.UTC(2026, 3, 1)], // 2026-03-28 .. 2026-03-31 (DST starts 2026-03-29 01:00Z)
  [Date.UTC(2026, 9, 24), Date.UTC(2026, 9, 28)], // 2026-10-24 .. 2026-10-27 (DST ends 2026-10-25 01:00Z)
];

function buildReadings(): Reading[] {
  const rand = rng(20260329);
  const out: Reading[] = [];
  const counters: Record<string, number> = {};
  const counter = (key: string, start: number, step: number): number => {
    counters[key] = round3((counters[key] ?? start) + step);
    return counters[key];
  };
  for (const [from, to] of SPANS) {
    for (let t = from; t < to; t += HOUR_MS) {
      // m1: a household meter, hourly import/export counters (kWh) and a power reading (kW).
      const hourOfDay = new Date(t).getUTCHours();
      out.push({ meter: 'm1', time: t, obis: '1-0:1.8.0', value: counter('m1/import', 15234.5, round3(0.2 + rand() * 1.3)), unit: 'kWh' });
      if (hourOfDay >= 6 && hourOfDay <= 17) {
        out.push({ meter: 'm1', time: t, obis: '1-0:2.8.0', value: counter('m1/export', 3021.25, round3(rand() * 2.1)), unit: 'kWh' });
      }
      // power every 15 minutes, a little late (meter clock), some flagged
      for (let q = 0; q < 4; q++) {
        const r: Reading = { meter: 'm1', time: t + q * 15 * MINUTE_MS + 7_250, obis: '1-0:16.7.0', value: round3(-2 + rand() * 6), unit: 'kW' };
        if (rand() < 0.08) r.quality = Quality.SUSPECT;
        out.push(r);
      }
      // m2: a heat meter read at :05 past the hour, some readings estimated or clock adjusted
      const heat: Reading = { meter: 'm2', time: t + 5 * MINUTE_MS, obis: '6-0:1.0.0', value: counter('m2/heat', 812.125, round3(rand() * 0.9)), unit: 'kWh' };
      if (rand() < 0.1) heat.quality = Quality.ESTIMATED;
      if (rand() < 0.05) heat.quality = (heat.quality ?? 0) | Quality.CLOCK_ADJUSTED;
      out.push(heat);
      // m2: a status register without unit every 2 hours
      if (hourOfDay % 2 === 0) out.push({ meter: 'm2', time: t + 5 * MINUTE_MS, obis: '0-0:96.5.0', value: Math.floor(rand() * 4), unit: '' });
    }
  }
  // m3: a gas meter read once a day at 05:00 UTC from March to October,
  // written with a short OBIS form that both stores canonicalise.
  const gas = rng(7);
  let v = 4711.5;
  for (let day = Date.UTC(2026, 2, 27, 5); day < Date.UTC(2026, 9, 29); day += DAY_MS) {
    v = round3(v + gas() * 3);
    out.push({ meter: 'm3', time: day, obis: '7-0:3.0.0', value: v, unit: 'm³' });
  }
  return out;
}

const READINGS = buildReadings();

/** Later corrections of a few points: new values, quality dropped or added (overwrite semantics). */
const REWRITES: Reading[] = READINGS.filter((r, i) => r.meter === 'm2' && r.obis === '6-0:1.0.0' && i % 37 === 0).slice(0, 6)
  .map((r, i) => {
    const c: Reading = { ...r, value: round3(r.value + 0.5) };
    if (i % 2 === 0) delete c.quality;
    else c.quality = Quality.MANUAL;
    return c;
  });

const EVENTS: EmsEvent[] = [
  { time: Date.UTC(2026, 2, 28, 3, 0, 1), level: 'warning', kind: 'poll-failed', message: 'm1: timeout after 3 retries', meter: 'm1', source: 'node:4f2a' },
  { time: Date.UTC(2026, 2, 28, 3, 15, 1), level: 'info', kind: 'poll-recovered', message: 'm1 answers again', meter: 'm1' },
  { time: Date.UTC(2026, 2, 29, 1, 0, 0), level: 'info', kind: 'clock-corrected', message: 'DST: clock set to "CEST", +1 h', meter: 'm2', source: 'node:77c1' },
  { time: Date.UTC(2026, 2, 29, 9, 30), level: 'info', kind: 'login', message: "user 'admin' logged in", source: 'admin' },
  { time: Date.UTC(2026, 2, 30, 12, 0), level: 'error', kind: 'store-failed', message: 'disk full\\retrying, then giving up', source: 'node:store' },
  { time: Date.UTC(2026, 2, 31, 23, 59, 59, 999), level: 'warning', kind: 'counter-reset', message: '', meter: 'm2' },
  { time: Date.UTC(2026, 9, 25, 0, 59, 59, 500), level: 'info', kind: 'clock-corrected', message: 'DST ends', meter: 'm2' },
  { time: Date.UTC(2026, 9, 25, 1, 30), level: 'warning', kind: 'poll-failed', message: 'm3, m1: no answer', meter: 'm3' },
  { time: Date.UTC(2026, 9, 26, 8, 0), level: 'error', kind: 'poll-failed', message: 'm1 = dead', meter: 'm1', source: 'node:4f2a' },
];

// ------------------------------------------------------------------------------------------ HTTP

async function influxQuery(q: string, method: 'GET' | 'POST' = 'GET'): Promise<{ status: number; text: string }> {
  const params = new URLSearchParams({ db: DB, epoch: 'ms', q });
  const res = method === 'GET'
    ? await fetch(`${influx!.url}/query?${params}`)
    : await fetch(`${influx!.url}/query`, { method: 'POST', body: params });
  return { status: res.status, text: await res.text() };
}

async function influxWrite(lines: string[]): Promise<void> {
  for (const body of chunkLines(lines, 5000)) {
    const res = await fetch(`${influx!.url}/write?db=${DB}&precision=ms`, { method: 'POST', body });
    assert.equal(res.status, 204, `POST /write answered ${res.status}: ${await res.text()}`);
  }
}

/** What the influxdb store would answer for a range query, following the plan. */
async function influxRange(q: RangeQuery): Promise<{ rows: Reading[] | WindowRow[]; mode: string; query?: string }> {
  const plan = planReadingQuery(q);
  if (!plan) return { rows: [], mode: 'empty' };
  const { status, text } = await influxQuery(plan.query);
  assert.equal(status, 200, `${plan.query}\n-> HTTP ${status}: ${text}`);
  return { rows: rowsOfPlan(plan, text), mode: plan.mode, query: plan.query };
}

function describe(q: RangeQuery): string {
  const iso = (t: number): string => new Date(t).toISOString();
  return `${q.meter}${q.obis ? `/${q.obis}` : ''} [${iso(q.from)}, ${iso(q.to)})${q.window ? ` ${q.window.fn} per ${q.window.every / MINUTE_MS} min` : ''}`
    + `${q.timeZone ? ` in ${q.timeZone}` : ''}${q.limit ? ` limit ${q.limit}` : ''}`;
}

/** The first row that differs, for a readable failure. */
function firstDifference(a: unknown[], b: unknown[]): string {
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    if (JSON.stringify(a[i]) !== JSON.stringify(b[i])) return `row ${i}: influxdb ${JSON.stringify(a[i])}, sqlite ${JSON.stringify(b[i])} (${a.length} vs ${b.length} rows)`;
  }
  return `${a.length} vs ${b.length} rows`;
}

const modes = new Map<string, number>();
/** Window values of mean/sum that are equal only to the last bits (see sameWindowValue). */
const roundingDifferences: string[] = [];

/**
 * sum() and mean() are floating-point sums: InfluxDB may add the points of a window in partial sums
 * (per shard or block, mean as sum / count of partial means) where the sqlite store adds them one by
 * one in time order, so the last bits of the double may differ. Those two aggregates are compared to
 * a relative 1e-12 (and every such case is reported); everything else must be bit-identical.
 */
function sameWindowValue(got: WindowRow, want: WindowRow, fn: Aggregate, where: string): boolean {
  if (got.value === want.value) return true;
  if ((fn === 'sum' || fn === 'mean') && Math.abs(got.value - want.value) <= 1e-12 * Math.max(1, Math.abs(want.value))) {
    roundingDifferences.push(`${where} at ${new Date(want.time).toISOString()} ${want.obis}: influxdb ${got.value}, sqlite ${want.value}`);
    return true;
  }
  return false;
}

/** Compares one range query; returns a description of the difference, or null. */
async function compareRange(q: RangeQuery): Promise<string | null> {
  const expected = await store!.query(q);
  const got = await influxRange(q);
  modes.set(got.mode, (modes.get(got.mode) ?? 0) + 1);
  let rows = got.rows;
  if (q.window && rows.length === expected.length) {
    // Accept last-bit differences of sum/mean (reported), then demand deep equality of everything.
    rows = (rows as WindowRow[]).map((r, i) => {
      const want = expected[i] as WindowRow;
      return sameWindowValue(r, want, q.window!.fn, describe(q)) ? { ...r, value: want.value } : r;
    });
  }
  try {
    assert.deepStrictEqual(rows, expected);
    return null;
  } catch {
    return `${describe(q)} (${got.mode}): ${firstDifference(rows, expected)}\n    query: ${got.query}`;
  }
}

function assertNoDifferences(differences: (string | null)[]): void {
  const real = differences.filter((d): d is string => d !== null);
  assert.equal(real.length, 0, `${real.length} queries differ from the sqlite store:\n${real.slice(0, 20).join('\n')}`);
}

// ------------------------------------------------------------------------------------------ setup

before(async () => {
  if (opts.skip) return;
  influx = await startInfluxdb1();
  const created = await influxQuery(`CREATE DATABASE "${DB}"`, 'POST');
  assert.equal(created.status, 200, created.text);
  parseQueryAnswer(created.text);
  store = new SqliteStore(':memory:');
  await store.write(READINGS);
  await influxWrite(encodeReadings(READINGS));
  await store.write(REWRITES);
  await influxWrite(encodeReadings(REWRITES));
  await store.writeEvents(EVENTS);
  await influxWrite(encodeEvents(EVENTS));
});

after(async () => {
  await store?.close();
  await influx?.stop();
  await influx?.stop(); // twice: must be harmless
});

const METERS: { meter: string; obis?: string }[] = [
  { meter: 'm1' }, { meter: 'm1', obis: '1-0:1.8.0' }, { meter: 'm1', obis: '1-0:16.7.0' },
  { meter: 'm2' }, { meter: 'm2', obis: '6-0:1.0.0' }, { meter: 'm2', obis: '0-0:96.5.0' },
  { meter: 'm3', obis: '7-0:3.0.0' }, { meter: 'm3', obis: '7.0.3.0.0' }, { meter: 'm1', obis: '1.8.0' },
];

const RANGES: [string, number, number][] = [
  ['spring weekend (UTC days)', Date.UTC(2026, 2, 28), Date.UTC(2026, 3, 1)],
  ['autumn weekend (UTC days)', Date.UTC(2026, 9, 24), Date.UTC(2026, 9, 28)],
  ['spring, Berlin midnights', Date.UTC(2026, 2, 27, 23), Date.UTC(2026, 2, 31, 22)],
  ['autumn, Berlin midnights', Date.UTC(2026, 9, 23, 22), Date.UTC(2026, 9, 27, 23)],
  ['odd minutes across spring DST', Date.UTC(2026, 2, 28, 5, 7, 3), Date.UTC(2026, 2, 30, 13, 52, 41)],
  ['odd minutes across autumn DST', Date.UTC(2026, 9, 24, 21, 44), Date.UTC(2026, 9, 25, 3, 1)],
  ['March to October', Date.UTC(2026, 2, 26), Date.UTC(2026, 9, 30)],
];

const WINDOWS: [string, number][] = [['15m', 15 * MINUTE_MS], ['1h', HOUR_MS], ['2h', 2 * HOUR_MS], ['1d', DAY_MS]];

// ------------------------------------------------------------------------------------------ tests

test('the dataset went in: InfluxDB holds every point', opts, async () => {
  const { text } = await influxQuery('SELECT count("value") FROM "ems_reading"');
  const [series] = parseQueryAnswer(text);
  assert.equal(series.values[0][1], READINGS.length);
  const ev = parseQueryAnswer((await influxQuery('SELECT count("message") FROM "ems_event"')).text);
  assert.equal(ev[0].values[0][1], EVENTS.length);
});

test('raw ranges equal the sqlite store', opts, async () => {
  const differences: (string | null)[] = [];
  for (const [, from, to] of RANGES) {
    for (const m of METERS) {
      differences.push(await compareRange({ ...m, from, to }));
      differences.push(await compareRange({ ...m, from, to, limit: 7 }));
    }
  }
  // empty and inverted ranges, unknown meter and code
  differences.push(await compareRange({ meter: 'm1', from: SPANS[0][0], to: SPANS[0][0] }));
  differences.push(await compareRange({ meter: 'nope', from: SPANS[0][0], to: SPANS[0][1] }));
  differences.push(await compareRange({ meter: 'm1', obis: '1-0:99.99.0', from: SPANS[0][0], to: SPANS[0][1] }));
  // bounds are [from, to): a reading exactly at from is in, one exactly at to is out
  differences.push(await compareRange({ meter: 'm1', obis: '1-0:1.8.0', from: Date.UTC(2026, 2, 28, 3), to: Date.UTC(2026, 2, 28, 6) }));
  assertNoDifferences(differences);
});

for (const [label, every] of WINDOWS) {
  for (const timeZone of [undefined, BERLIN]) {
    test(`windows of ${label} in ${timeZone ?? 'UTC'}: every aggregate equals the sqlite store`, opts, async () => {
      const differences: (string | null)[] = [];
      for (const [, from, to] of RANGES) {
        if (every === 15 * MINUTE_MS && to - from > 10 * DAY_MS) continue; // 20k windows: covered by the short ranges
        for (const m of METERS) {
          for (const fn of AGGREGATES) differences.push(await compareRange({ ...m, from, to, window: { every, fn }, timeZone }));
        }
      }
      assertNoDifferences(differences);
    });
  }
}

test('day windows: the 23 h and 25 h days in Berlin are single windows', opts, async () => {
  const rows = (await influxRange({ meter: 'm1', obis: '1-0:1.8.0', from: Date.UTC(2026, 2, 27, 23), to: Date.UTC(2026, 2, 31, 22), window: { every: DAY_MS, fn: 'delta' }, timeZone: BERLIN })).rows as WindowRow[];
  assert.deepEqual(rows.map((r) => [new Date(r.time).toISOString(), r.count]), [
    // the data starts at 2026-03-28T00:00Z, so the first local day has 23 of its 24 hours
    ['2026-03-27T23:00:00.000Z', 23], ['2026-03-28T23:00:00.000Z', 23], ['2026-03-29T22:00:00.000Z', 24], ['2026-03-30T22:00:00.000Z', 24],
  ]);
  const autumn = (await influxRange({ meter: 'm1', obis: '1-0:1.8.0', from: Date.UTC(2026, 9, 23, 22), to: Date.UTC(2026, 9, 27, 23), window: { every: DAY_MS, fn: 'sum' }, timeZone: BERLIN })).rows as WindowRow[];
  assert.deepEqual(autumn.map((r) => [new Date(r.time).toISOString(), r.count]), [
    // the data starts at 2026-10-24T00:00Z, so the first local day has 22 of its 24 hours
    ['2026-10-23T22:00:00.000Z', 22], ['2026-10-24T22:00:00.000Z', 25], ['2026-10-25T23:00:00.000Z', 24], ['2026-10-26T23:00:00.000Z', 24],
  ]);
});

test('latest per meter and obis equals the sqlite store', opts, async () => {
  const cases: LatestQuery[] = [{}, { meter: 'm1' }, { meter: 'm2' }, { meter: 'm1', obis: '1-0:16.7.0' }, { obis: '1-0:1.8.0' }, { obis: '1.8.0' }, { meter: 'nope' }];
  for (const q of cases) {
    const expected = await store!.latest(q);
    const { status, text } = await influxQuery(latestQuery(q));
    assert.equal(status, 200, text);
    const got = parseLatest(text);
    assert.deepStrictEqual(got, expected, `latest ${JSON.stringify(q)}: ${firstDifference(got, expected)}\nquery: ${latestQuery(q)}`);
  }
});

test('events equal the sqlite store', opts, async () => {
  const cases: EventQuery[] = [
    { from: SPANS[0][0], to: SPANS[1][1] },
    { from: SPANS[0][0], to: SPANS[0][1] },
    { from: SPANS[0][0], to: SPANS[1][1], meter: 'm1' },
    { from: SPANS[0][0], to: SPANS[1][1], level: 'warning' },
    { from: SPANS[0][0], to: SPANS[1][1], meter: 'm2', level: 'info' },
    { from: SPANS[0][0], to: SPANS[1][1], limit: 3 },
    { from: Date.UTC(2026, 2, 28, 3, 0, 1), to: Date.UTC(2026, 2, 28, 3, 15, 1) }, // [from, to)
    { from: SPANS[1][0], to: SPANS[0][0] },
  ];
  for (const q of cases) {
    const expected = await store!.events(q);
    const text = eventsQuery(q);
    const got = text === null ? [] : parseEvents((await influxQuery(text)).text);
    assert.deepStrictEqual(got, expected, `events ${JSON.stringify(q)}: ${firstDifference(got, expected)}\nquery: ${text}`);
  }
});

test('an InfluxQL error answer becomes an InfluxQueryError with the server message', opts, async () => {
  // A parse error: HTTP 400 with a top-level "error".
  const bad = await influxQuery('SELECT FROM WHERE');
  assert.equal(bad.status, 400);
  const serverMessage = (JSON.parse(bad.text) as { error: string }).error;
  assert.match(serverMessage, /error parsing query/);
  assert.throws(() => parseReadings(bad.text), (err: unknown) => err instanceof InfluxQueryError && err.message === serverMessage);
  // An execution error: HTTP 200 with the error in the statement's result.
  const wrong = await influxQuery('SELECT "value" FROM "ems_reading" WHERE time >= 0ms GROUP BY time(1h)');
  assert.equal(wrong.status, 200, wrong.text);
  const resultMessage = (JSON.parse(wrong.text) as { results: { error: string }[] }).results[0].error;
  assert.ok(resultMessage, wrong.text);
  assert.throws(() => parseWindowRows(wrong.text, 'm1'), (err: unknown) => err instanceof InfluxQueryError && err.message === resultMessage && err.statementId === 0);
  // A database that does not exist.
  const res = await fetch(`${influx!.url}/query?${new URLSearchParams({ db: 'missing', epoch: 'ms', q: 'SELECT "value" FROM "ems_reading"' })}`);
  const text = await res.text();
  assert.throws(() => parseReadings(text), (err: unknown) => err instanceof InfluxQueryError && /database not found/.test(err.message));
});

test('plan modes used', opts, (t) => {
  // Not a check of InfluxDB: shows that the comparisons above exercised every kind of plan.
  for (const mode of ['raw', 'window', 'client-window', 'edge-window', 'empty']) assert.ok((modes.get(mode) ?? 0) > 0, `no ${mode} plan was compared: ${JSON.stringify([...modes])}`);
  t.diagnostic(`compared plans: ${JSON.stringify(Object.fromEntries(modes))}`);
  t.diagnostic(`sum/mean equal only to 1e-12 (last bits): ${roundingDifferences.length}`);
  for (const d of roundingDifferences.slice(0, 10)) t.diagnostic(`  ${d}`);
});
