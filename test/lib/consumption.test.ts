import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Quality, roundNoise, type Reading } from '../../lib/model';
import { ConsumptionTracker, exactSum, splitLinear, type ConsumptionOptions, type ConsumptionRecord } from '../../lib/pipeline';

const MIN = 60_000;
const HOUR = 60 * MIN;
const DAY = 24 * HOUR;
const T0 = Date.UTC(2026, 0, 1); // a Thursday, 00:00 UTC
const { ESTIMATED, SUSPECT, COUNTER_RESET, GAP_FILLED, OVERFLOW } = Quality;

function reading(time: number, value: number, meter = 'm1', obis = '1-0:1.8.0', unit = 'kWh'): Reading {
  return { meter, time, obis, value, unit };
}

/** Feeds [minutes after T0, value] pairs; returns every record. */
function feed(t: ConsumptionTracker, points: [number, number][], base = T0): ConsumptionRecord[] {
  return points.flatMap(([min, v]) => t.push(reading(base + min * MIN, v)));
}

/** [from-min, to-min, value, quality] of records, relative to T0, for short assertions. */
function brief(records: ConsumptionRecord[], base = T0): [number, number, number, number][] {
  return records.map((r) => [(r.from - base) / MIN, (r.to - base) / MIN, r.value, r.quality]);
}

describe('consumption: plain deltas', () => {
  it('gives one record per step without an interval', () => {
    // 100.0 -> 100.5 -> 101.25: 0.5 then 0.75
    const t = new ConsumptionTracker();
    const out = feed(t, [[0, 100.0], [15, 100.5], [30, 101.25]]);
    assert.deepEqual(brief(out), [[0, 15, 0.5, 0], [15, 30, 0.75, 0]]);
    assert.deepEqual(out[0], { meter: 'm1', obis: '1-0:1.8.0', from: T0, to: T0 + 15 * MIN, value: 0.5, unit: 'kWh', quality: 0 });
  });

  it('adds quarter-hour steps into an hourly window and emits it at its end', () => {
    // 100.0, 100.5, 101.25, 101.5, 102.0 at :00 :15 :30 :45 :60 -> one hour of 2.0 kWh
    const t = new ConsumptionTracker({ interval: HOUR });
    const perPush = [[0, 100.0], [15, 100.5], [30, 101.25], [45, 101.5], [60, 102.0]].map(([m, v]) => t.push(reading(T0 + m * MIN, v)));
    assert.deepEqual(perPush.slice(0, 4), [[], [], [], []]);
    assert.deepEqual(brief(perPush[4]), [[0, 60, 2, 0]]);
    assert.deepEqual(brief([t.pending('m1', '1.8.0')!]), [[60, 120, 0, 0]]);
  });

  it('takes the floating-point noise out of deltas (0.1 + 0.2)', () => {
    const t = new ConsumptionTracker();
    assert.equal(feed(t, [[0, 0.1], [15, 0.3]])[0].value, 0.2); // 0.3 - 0.1 = 0.19999999999999998 raw
  });

  it('keeps series apart and normalises the OBIS spelling', () => {
    const t = new ConsumptionTracker();
    t.push(reading(T0, 10, 'a', '1.8.0'));
    t.push(reading(T0, 50, 'b', '1-0:1.8.0'));
    t.push(reading(T0, 7, 'a', '1-0:2.8.0'));
    const a = t.push(reading(T0 + HOUR, 11, 'a', '1-0:1.8.0*255'));
    const b = t.push(reading(T0 + HOUR, 53, 'b', '1.8.0'));
    const ex = t.push(reading(T0 + HOUR, 7.25, 'a', '2.8.0'));
    assert.deepEqual([a[0].value, a[0].obis, b[0].value, ex[0].value, ex[0].obis], [1, '1-0:1.8.0', 3, 0.25, '1-0:2.8.0']);
  });

  it('carries the quality flags of both bounding readings', () => {
    const t = new ConsumptionTracker();
    t.push({ ...reading(T0, 1), quality: Quality.CLOCK_ADJUSTED });
    const [r] = t.push({ ...reading(T0 + HOUR, 2), quality: Quality.MANUAL });
    assert.equal(r.quality, Quality.CLOCK_ADJUSTED | Quality.MANUAL);
  });
});

describe('consumption: rollover and reset', () => {
  it('counts through a register rollover at 99999.9 -> 0.4', () => {
    // A register showing up to 99999.9 wraps at rolloverAt 100000:
    // 99999.5 -> 99999.9 = 0.4; 99999.9 -> 0.4 = 100000 - 99999.9 + 0.4 = 0.5 (flagged OVERFLOW, exact)
    const t = new ConsumptionTracker({ rolloverAt: 100000 });
    assert.deepEqual(brief(feed(t, [[0, 99999.5], [15, 99999.9], [30, 0.4], [45, 1.0]])), [
      [0, 15, 0.4, 0], [15, 30, 0.5, OVERFLOW], [30, 45, 0.6, 0],
    ]);
  });

  it('treats the same drop as a reset when no rollover is configured', () => {
    // 99999.9 -> 0.4 without rolloverAt: a new counter from 0, consumption 0.4
    const t = new ConsumptionTracker();
    assert.deepEqual(brief(feed(t, [[0, 99999.9], [15, 0.4]])), [[0, 15, 0.4, COUNTER_RESET]]);
  });

  it('does not believe a rollover that wraps by more than a tenth of the register', () => {
    // 500 -> 10 with rolloverAt 100000: a wrap would be 99510 kWh, far over 10000: a reset, 10 kWh
    const t = new ConsumptionTracker({ rolloverAt: 100000 });
    assert.deepEqual(brief(feed(t, [[0, 500], [60, 10]])), [[0, 60, 10, COUNTER_RESET]]);
  });

  it('does not believe a rollover faster than maxPower allows', () => {
    // maxPower 10 kW over 15 min = 2.5 kWh. 99999.0 -> 5.0 as a wrap would be 6.0 kWh (24 kW): not a
    // rollover but a reset, 5.0 kWh, which is itself above 2.5 kWh: COUNTER_RESET | SUSPECT
    const t = new ConsumptionTracker({ rolloverAt: 100000, maxPower: 10 });
    assert.deepEqual(brief(feed(t, [[0, 99999.0], [15, 5.0]])), [[0, 15, 5, COUNTER_RESET | SUSPECT]]);
    // 99999.0 -> 1.0 wraps by 2.0 kWh (8 kW): a rollover
    const u = new ConsumptionTracker({ rolloverAt: 100000, maxPower: 10 });
    assert.deepEqual(brief(feed(u, [[0, 99999.0], [15, 1.0]])), [[0, 15, 2, OVERFLOW]]);
  });

  it('counts a replacement meter starting at 0.0 from zero', () => {
    // old meter 1234.5, new meter 0.0: 0 kWh flagged COUNTER_RESET; then 0.0 -> 0.3 normally
    const t = new ConsumptionTracker({ rolloverAt: 100000 });
    assert.deepEqual(brief(feed(t, [[0, 1234.0], [15, 1234.5], [30, 0.0], [45, 0.3]])), [
      [0, 15, 0.5, 0], [15, 30, 0, COUNTER_RESET], [30, 45, 0.3, 0],
    ]);
  });

  it('counts a replacement meter starting at 12.5 as 12.5 consumed since the reset', () => {
    // 1234.5 -> 12.5: the new counter ran from 0 to 12.5
    const t = new ConsumptionTracker();
    assert.deepEqual(brief(feed(t, [[0, 1234.5], [60, 12.5], [120, 13.0]])), [[0, 60, 12.5, COUNTER_RESET], [60, 120, 0.5, 0]]);
  });
});

describe('consumption: spikes', () => {
  it('keeps a step beyond maxPower and flags it SUSPECT', () => {
    // maxPower 43.5 kW over 15 min = 10.875 kWh. 100 -> 150 is 50 kWh (200 kW): kept, SUSPECT.
    // 150 -> 160.875 is exactly 10.875 kWh: fine.
    const t = new ConsumptionTracker({ maxPower: 43.5, interval: 15 * MIN });
    assert.deepEqual(brief(feed(t, [[0, 100], [15, 150], [30, 160.875], [45, 161]])), [
      [0, 15, 50, SUSPECT], [15, 30, 10.875, 0], [30, 45, 0.125, 0],
    ]);
  });
});

describe('consumption: gaps', () => {
  // 15-min windows; readings at :00 and :15, then :30 and :45 are missing, the next is at :60.
  const points: [number, number][] = [[0, 100.0], [15, 101.0], [60, 104.0]];

  it('without interpolation emits one record over the whole gap, flagged GAP_FILLED', () => {
    // 101.0 -> 104.0 over 15..60 min: one record of 3.0 kWh spanning three windows
    const t = new ConsumptionTracker({ interval: 15 * MIN });
    assert.deepEqual(brief(feed(t, points)), [[0, 15, 1, 0], [15, 60, 3, GAP_FILLED]]);
  });

  it('with interpolation splits the gap linearly over its windows, flagged ESTIMATED | GAP_FILLED', () => {
    // 3.0 kWh over three windows: 1.0 each
    const t = new ConsumptionTracker({ interval: 15 * MIN, interpolate: true });
    const g = ESTIMATED | GAP_FILLED;
    assert.deepEqual(brief(feed(t, points)), [[0, 15, 1, 0], [15, 30, 1, g], [30, 45, 1, g], [45, 60, 1, g]]);
  });

  it('interpolated parts add up to the step exactly', () => {
    // 100.0 -> 100.1 over three windows: 0.1 = 100 thousandths -> cumulative 33, 67, 100
    // -> 0.033, 0.034, 0.033
    const t = new ConsumptionTracker({ interval: 15 * MIN, interpolate: true });
    const out = feed(t, [[0, 100.0], [45, 100.1]]);
    assert.deepEqual(out.map((r) => r.value), [0.033, 0.034, 0.033]);
    assert.equal(roundNoise(out.reduce((s, r) => s + r.value, 0)), 0.1);
    // An awkward total over 7 parts: the integer thousandths add up exactly.
    const parts = splitLinear(12.345, [0, 1, 2, 3, 4, 5, 6, 7]);
    assert.equal(parts.reduce((s, v) => s + Math.round(v * 1000), 0), 12345);
    assert.equal(roundNoise(parts.reduce((s, v) => s + v, 0)), 12.345);
  });

  it('an unaligned gap without interpolation widens the window to the next boundary', () => {
    // readings :00 100, :15 101, :50 104.5, :60 105: the step 15..50 covers the whole window 30..45,
    // so it is a gap; the record runs 15..60 and takes 3.5 + 0.5 = 4.0
    const t = new ConsumptionTracker({ interval: 15 * MIN });
    const perPush = [[0, 100], [15, 101], [50, 104.5], [60, 105]].map(([m, v]) => brief(t.push(reading(T0 + m * MIN, v))));
    assert.deepEqual(perPush, [[], [[0, 15, 1, 0]], [], [[15, 60, 4, GAP_FILLED]]]);
  });

  it('a missing boundary reading is a gap even when the next one is close', () => {
    // :00 then :20 (the :15 reading is missing): the window 0..15 has no closing reading
    const t = new ConsumptionTracker({ interval: 15 * MIN });
    feed(t, [[0, 10], [20, 12]]);
    assert.deepEqual(brief([t.pending('m1', '1-0:1.8.0')!]), [[0, 30, 2, GAP_FILLED]]);
  });

  it('splits unaligned readings at the boundary they cross, flagged ESTIMATED (not a gap)', () => {
    // readings at :05, :20, :35: 100.0 -> 100.3 -> 100.6. The step 5..20 crosses :15: 2/3 of 0.3 = 0.2
    // before, 0.1 after; the step 20..35 crosses :30: 0.2 before, 0.1 after.
    // The first window starts at the first reading (:05), so it says it covers 5..15 only.
    const t = new ConsumptionTracker({ interval: 15 * MIN });
    assert.deepEqual(brief(feed(t, [[5, 100.0], [20, 100.3], [35, 100.6]])), [[5, 15, 0.2, ESTIMATED], [15, 30, 0.3, ESTIMATED]]);
  });
});

describe('consumption: daily windows across DST (Europe/Berlin)', () => {
  const opts: ConsumptionOptions = { interval: DAY, timeZone: 'Europe/Berlin' };

  /** Hourly readings from `start` for `hours` hours, 1.5 kWh per hour. */
  function hourly(start: number, hours: number): Reading[] {
    return Array.from({ length: hours + 1 }, (_, h) => reading(start + h * HOUR, roundNoise(1000 + 1.5 * h)));
  }

  it('spring forward 2026-03-29 is a 23-hour day: 23 x 1.5 = 34.5 kWh', () => {
    // Local midnights: 03-28 = 03-27T23:00Z, 03-29 = 03-28T23:00Z, 03-30 = 03-29T22:00Z (CEST),
    // 03-31 = 03-30T22:00Z. Days of 24, 23, 24 hours -> 36, 34.5, 36 kWh.
    const start = Date.UTC(2026, 2, 27, 23);
    const t = new ConsumptionTracker(opts);
    const out = hourly(start, 71).flatMap((r) => t.push(r));
    assert.deepEqual(out.map((r) => [new Date(r.from).toISOString(), (r.to - r.from) / HOUR, r.value, r.quality]), [
      ['2026-03-27T23:00:00.000Z', 24, 36, 0],
      ['2026-03-28T23:00:00.000Z', 23, 34.5, 0],
      ['2026-03-29T22:00:00.000Z', 24, 36, 0],
    ]);
  });

  it('fall back 2026-10-25 is a 25-hour day: 25 x 1.5 = 37.5 kWh', () => {
    // Local midnights: 10-24 = 10-23T22:00Z, 10-25 = 10-24T22:00Z, 10-26 = 10-25T23:00Z (CET),
    // 10-27 = 10-26T23:00Z. Days of 24, 25, 24 hours -> 36, 37.5, 36 kWh.
    const start = Date.UTC(2026, 9, 23, 22);
    const t = new ConsumptionTracker(opts);
    const out = hourly(start, 73).flatMap((r) => t.push(r));
    assert.deepEqual(out.map((r) => [new Date(r.from).toISOString(), (r.to - r.from) / HOUR, r.value, r.quality]), [
      ['2026-10-23T22:00:00.000Z', 24, 36, 0],
      ['2026-10-24T22:00:00.000Z', 25, 37.5, 0],
      ['2026-10-25T23:00:00.000Z', 24, 36, 0],
    ]);
  });

  it('the daily value equals the sum of the hourly deltas of that day, for uneven hours', () => {
    // Hourly deltas 0.1, 0.2, ..., 0.7, 0.1, ... (cycling, 2.8 per 7 hours); sum the hourly records of each
    // local day. 23 h: 3 x 2.8 + 0.1 + 0.2 = 8.7 kWh; 25 h: 3 x 2.8 + 0.1 + 0.2 + 0.3 + 0.4 = 9.4 kWh.
    for (const [start, hours, total] of [[Date.UTC(2026, 2, 28, 23), 23, 8.7], [Date.UTC(2026, 9, 24, 22), 25, 9.4]]) {
      const values = [500];
      for (let h = 0; h < hours; h++) values.push(roundNoise(values[h] + ((h % 7) + 1) / 10));
      const rs = values.map((v, h) => reading(start + h * HOUR, v));
      const daily = new ConsumptionTracker(opts);
      const hourlyT = new ConsumptionTracker({ interval: HOUR, timeZone: 'Europe/Berlin' });
      const d = rs.flatMap((r) => daily.push(r));
      const h = rs.flatMap((r) => hourlyT.push(r));
      assert.equal(h.length, hours);
      assert.equal(d.length, 1);
      assert.equal(d[0].to - d[0].from, hours * HOUR);
      assert.equal(d[0].value, total);
      assert.equal(exactSum(...h.map((r) => r.value)), total);
    }
  });
});

describe('consumption: state survives a restart', () => {
  // Two meters interleaved, with a spike, a rollover, a reset and a gap.
  const seq: Reading[] = [];
  const a = [100, 100.5, 101, 160, 160.2, 160.2, 99999.8, 0.3, 0.9, 1.1, 1.4, 5.0, 5.5, 6.0, 6.2, 6.4, 6.5, 6.9];
  const missing = new Set([9, 10, 11, 12]); // a gap on meter a from 120 to 195 min
  const b = [7, 7.1, 7.3, 7.4, 2.0, 2.5, 3.0, 3.1, 3.3, 3.6, 4.0, 4.1, 4.2, 4.4, 4.5, 4.7, 4.8, 5.0];
  a.forEach((v, i) => {
    if (missing.has(i)) return;
    seq.push(reading(T0 + i * 15 * MIN, v, 'a'));
    seq.push(reading(T0 + i * 15 * MIN + 7 * MIN, b[i], 'b', '1-0:2.8.0'));
  });
  const options: ConsumptionOptions[] = [
    {},
    { interval: HOUR, rolloverAt: 100000, maxPower: 40 },
    { interval: 15 * MIN, rolloverAt: 100000, maxPower: 40, interpolate: true, timeZone: 'Europe/Berlin' },
  ];

  for (const opts of options) {
    it(`resumes with identical results (${JSON.stringify(opts)})`, () => {
      const once = new ConsumptionTracker(opts);
      const all = seq.flatMap((r) => once.push(r));
      for (const cut of [1, 7, seq.length >> 1, seq.length - 1]) {
        const first = new ConsumptionTracker(opts);
        const before = seq.slice(0, cut).flatMap((r) => first.push(r));
        const saved = JSON.stringify(first.toJSON());
        const second = ConsumptionTracker.fromJSON(JSON.parse(saved), opts);
        const after = seq.slice(cut).flatMap((r) => second.push(r));
        assert.deepEqual([...before, ...after], all, `cut at ${cut}`);
        assert.deepEqual(second.toJSON(), once.toJSON());
      }
      assert.ok(all.length > 0);
      if (opts.maxPower) assert.ok(all.some((r) => r.quality & SUSPECT));
      assert.ok(all.some((r) => r.quality & COUNTER_RESET));
      if (opts.rolloverAt) assert.ok(all.some((r) => r.quality & OVERFLOW));
      if (opts.interval) assert.ok(all.some((r) => r.quality & GAP_FILLED));
    });
  }
});

describe('consumption: bad input', () => {
  it('rejects bad options, naming the option and value', () => {
    assert.throws(() => new ConsumptionTracker({ interval: 0 }), /interval must be .* got 0/);
    assert.throws(() => new ConsumptionTracker({ interval: DAY + 1 }), /interval must be .* got 86400001/);
    assert.throws(() => new ConsumptionTracker({ timeZone: 'Mars/Base' }), /timeZone must be .* got "Mars\/Base"/);
    assert.throws(() => new ConsumptionTracker({ rolloverAt: -1 }), /rolloverAt must be a positive number, got -1/);
    assert.throws(() => new ConsumptionTracker({ maxPower: 'x' as unknown as number }), /maxPower must be a positive number, got "x"/);
    assert.throws(() => new ConsumptionTracker({ interpolate: 'yes' as unknown as boolean }), /interpolate must be true or false, got "yes"/);
  });

  it('rejects bad readings, naming the field and value, and keeps its state', () => {
    const t = new ConsumptionTracker({ rolloverAt: 100000 });
    t.push(reading(T0, 10));
    assert.throws(() => t.push({ ...reading(T0, 1), meter: '' }), /reading\.meter .* got ""/);
    assert.throws(() => t.push(reading(T0 + HOUR, Number.NaN)), /reading\.value must be a finite number/);
    assert.throws(() => t.push(reading(T0 + HOUR, -1)), /reading\.value must be .* got -1/);
    assert.throws(() => t.push(reading(T0 + HOUR, 100000)), /reading\.value must be below rolloverAt 100000 .* got 100000/);
    assert.throws(() => t.push(reading(T0 + HOUR, 11, 'm1', 'kWh?')), /invalid OBIS code "kWh\?"/);
    assert.throws(() => t.push(reading(T0 + HOUR, 11, 'm1', '1-0:1.8.0', 'Wh')), /reading\.unit "Wh" differs from "kWh"/);
    assert.throws(() => t.push(reading(T0 - HOUR, 9)), /reading\.time 2025-12-31T23:00:00\.000Z is before the last reading .*out-of-order/);
    assert.throws(() => t.push(reading(T0, 10.5)), /reading\.value 10\.5 at 2026-01-01T00:00:00\.000Z conflicts with 10/);
    assert.deepEqual(t.push(reading(T0, 10)), []); // a duplicate is ignored
    assert.deepEqual(brief(t.push(reading(T0 + HOUR, 11))), [[0, 60, 1, 0]]); // state untouched by the errors
  });

  it('rejects a bad saved state, naming the field', () => {
    assert.throws(() => ConsumptionTracker.fromJSON(null), /state\.version must be 1/);
    assert.throws(() => ConsumptionTracker.fromJSON({ version: 1, series: 'x' }), /state\.series must be an array, got "x"/);
    assert.throws(
      () => ConsumptionTracker.fromJSON({ version: 1, series: [{ meter: 'm', obis: '1.8.0', unit: 'kWh', last: { time: 'x', value: 1, quality: 0 } }] }),
      /state\.series\[0\]\.last\.time must be a finite number, got "x"/,
    );
    const t = new ConsumptionTracker({ interval: HOUR });
    t.push(reading(T0, 1));
    assert.throws(() => ConsumptionTracker.fromJSON(t.toJSON(), { interval: 7 * MIN }), /state\.series\[0\]\.open\.to must be a window boundary/);
  });
});
