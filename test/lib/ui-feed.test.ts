// The classic dashboard's message shapes: live values for ui_chart/ui_gauge/ui_text and a whole ui_chart from a
// store query, worked through with readings as a meter node and ems-store-query emit them.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { quantityName, quantityNames } from '../../lib/model';
import {
  chartOf, classifyInput, describe as describeValue, FeedInputError, liveMessages, MAX_SERIES, parseQuantities, selects, seriesLabel, thin,
} from '../../lib/store/ui-feed';
import type { Reading } from '../../lib/model/reading';

const T = Date.parse('2026-03-02T10:00:00Z');
/** One poll of an Eastron SDM630 as ems-modbus-meter emits it (a few of its 35 values). */
const poll: Reading[] = [
  { meter: 'main-incomer', time: T, obis: '1-0:32.7.0', value: 231.7, unit: 'V' },
  { meter: 'main-incomer', time: T, obis: '1-0:16.7.0', value: 2.345, unit: 'kW' },
  { meter: 'main-incomer', time: T, obis: '1-0:13.7.0', value: 0.97, unit: '' },
  { meter: 'main-incomer', time: T, obis: '1-0:1.8.0', value: 5012.25, unit: 'kWh' },
  { meter: 'main-incomer', time: T, obis: '1-0:1.8.1', value: 3508.5, unit: 'kWh' },
];

describe('quantity names', () => {
  it('names OBIS codes per medium, with tariff and channel', () => {
    assert.equal(quantityName('1-0:16.7.0'), 'active power');
    assert.equal(quantityName('1-0:1.7.0'), 'active power import');
    assert.equal(quantityName('1-0:1.8.2'), 'energy import T2');
    assert.equal(quantityName('1-2:1.8.0'), 'energy import channel 2');
    assert.equal(quantityName('8-0:1.0.0'), 'volume');
    assert.equal(quantityName('6-0:1.0.0'), 'heat energy');
    assert.equal(quantityName('1-0:99.97.0'), undefined);
    assert.equal(quantityName('not obis'), undefined);
    assert.ok(quantityNames().includes('voltage L1'));
  });
});

describe('quantity selection', () => {
  it('takes codes (full or shorthand) and names; empty takes everything', () => {
    const sel = parseQuantities('16.7.0, energy import T1;  Voltage  L1');
    assert.deepEqual([...sel.codes], ['1-0:16.7.0']);
    assert.deepEqual([...sel.names], ['energy import t1', 'voltage l1']);
    assert.deepEqual(['1-0:16.7.0', '1-0:1.8.1', '1-0:1.8.0', '1-0:32.7.0', '1-1:32.7.0', '1-0:52.7.0'].map((o) => selects(sel, o)),
      [true, true, false, true, true, false]);
    const all = parseQuantities('');
    assert.ok(selects(all, '1-0:99.97.0'));
    assert.deepEqual(parseQuantities(['1-0:1.8.0']).codes, new Set(['1-0:1.8.0']));
  });

  it('refuses an entry that is neither, naming it', () => {
    assert.throws(() => parseQuantities('1-0:16.7.0, actve power'), /quantities: "actve power" is neither an OBIS code .* nor a quantity name/);
  });
});

describe('series labels', () => {
  it('meter, quantity and unit; the window of aggregated rows; the code when unnamed', () => {
    assert.equal(seriesLabel('main-incomer', '1-0:16.7.0', 'kW'), 'main-incomer active power (kW)');
    assert.equal(seriesLabel('hvac', '1-0:1.8.0', 'kWh', { every: 900_000, fn: 'delta' }), 'hvac energy import (kWh, 15m delta)');
    assert.equal(seriesLabel('hvac', '1-0:13.7.0', ''), 'hvac power factor');
    assert.equal(seriesLabel('x', '1-0:99.97.0', 'count'), 'x 1-0:99.97.0 (count)');
  });
});

describe('live values', () => {
  it('one message per selected reading: topic = label, payload = value, timestamp = time', () => {
    const { messages, skipped, dropped } = liveMessages(poll, parseQuantities('active power, 1-0:1.8.0'));
    assert.deepEqual(messages.map(({ topic, payload, timestamp }) => ({ topic, payload, timestamp })), [
      { topic: 'main-incomer active power (kW)', payload: 2.345, timestamp: T },
      { topic: 'main-incomer energy import (kWh)', payload: 5012.25, timestamp: T },
    ]);
    assert.equal(messages[0].reading, poll[1]);
    assert.deepEqual([skipped, dropped], [3, 0]);
  });

  it('orders by time and keeps the newest readings of a series over the cap', () => {
    const load = [3, 1, 2, 5, 4].map((m) => ({ meter: 'g', time: T + m * 60_000, obis: '1-0:16.7.0', value: m, unit: 'kW' }));
    const { messages, dropped } = liveMessages(load, parseQuantities(''), 3);
    assert.deepEqual(messages.map((m) => m.payload), [3, 4, 5]);
    assert.equal(dropped, 2);
  });
});

describe('whole chart', () => {
  it('a raw range result: one series per meter and code, points {x: ms, y} in time order', () => {
    const rows: Reading[] = [
      { meter: 'main-incomer', time: T, obis: '1-0:16.7.0', value: 2.1, unit: 'kW' },
      { meter: 'hvac', time: T, obis: '1-0:16.7.0', value: 0.8, unit: 'kW' },
      { meter: 'main-incomer', time: T + 10_000, obis: '1-0:16.7.0', value: 2.4, unit: 'kW' },
      { meter: 'main-incomer', time: T + 10_000, obis: '1-0:32.7.0', value: 230, unit: 'V' },
      { meter: 'hvac', time: T - 10_000, obis: '1-0:16.7.0', value: 0.7, unit: 'kW' },
    ];
    const input = classifyInput(rows, { mode: 'range', meter: 'main-incomer', from: T - 3_600_000, to: T + 60_000 });
    assert.equal(input.kind, 'chart');
    const { chart, points, thinned, skipped } = chartOf(rows, parseQuantities('active power'));
    assert.deepEqual(chart, {
      series: ['main-incomer active power (kW)', 'hvac active power (kW)'],
      data: [[{ x: T, y: 2.1 }, { x: T + 10_000, y: 2.4 }], [{ x: T - 10_000, y: 0.7 }, { x: T, y: 0.8 }]],
      labels: [''],
    });
    assert.deepEqual([points, thinned, skipped], [4, [], 1]);
  });

  it('window rows carry the window in the label (from msg.query.window)', () => {
    const rows = [
      { meter: 'hvac', obis: '1-0:1.8.0', time: T, value: 0.75, unit: 'kWh', count: 90 },
      { meter: 'hvac', obis: '1-0:1.8.0', time: T + 900_000, value: 0.5, unit: 'kWh', count: 90 },
    ];
    const input = classifyInput(rows, { mode: 'range', window: { every: 900_000, fn: 'delta' } });
    assert.ok(input.kind === 'chart');
    assert.deepEqual(input.window, { every: 900_000, fn: 'delta' });
    const { chart } = chartOf(input.rows, parseQuantities(''), input.window);
    assert.deepEqual(chart.series, ['hvac energy import (kWh, 15m delta)']);
    assert.deepEqual(chart.data, [[{ x: T, y: 0.75 }, { x: T + 900_000, y: 0.5 }]]);
  });

  it('thins a series over the cap evenly, first and last kept; refuses more than 50 series', () => {
    assert.deepEqual(thin([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 5), [0, 3, 5, 8, 10]);
    const day = Array.from({ length: 8640 }, (_, i) => ({ meter: 'm', time: T + i * 10_000, obis: '1-0:16.7.0', value: i, unit: 'kW' }));
    const { chart, points, thinned } = chartOf(day, parseQuantities(''));
    assert.equal(points, 5000);
    assert.deepEqual(thinned, [{ series: 'm active power (kW)', from: 8640 }]);
    assert.deepEqual([chart.data[0][0].y, chart.data[0][4999].y], [0, 8639]);
    const many = Array.from({ length: MAX_SERIES + 1 }, (_, i) => ({ meter: `m${i}`, time: T, obis: '1-0:16.7.0', value: 1, unit: 'kW' }));
    assert.throws(() => chartOf(many, parseQuantities('')), (e: unknown) => e instanceof FeedInputError && /more than 50 series/.test(e.message));
    assert.deepEqual(chartOf([], parseQuantities('')).chart, { series: [], data: [], labels: [''] });
  });
});

describe('input classification', () => {
  it('readings without msg.query and a latest result are live; a range result is a chart; modes force one', () => {
    assert.equal(classifyInput(poll, undefined).kind, 'live');
    assert.equal(classifyInput(poll, { mode: 'latest' }).kind, 'live');
    assert.equal(classifyInput(poll, { mode: 'range' }).kind, 'chart');
    assert.equal(classifyInput(poll, undefined, 'chart').kind, 'chart');
    assert.equal(classifyInput(poll, { mode: 'range' }, 'live').kind, 'live');
  });

  it('refuses anything else, naming what it got', () => {
    const refused = (payload: unknown, query?: unknown) => {
      try { classifyInput(payload, query); } catch (e) { assert.ok(e instanceof FeedInputError); return (e as Error).message; }
      return 'accepted';
    };
    assert.equal(refused('hello'), 'msg.payload must be an array of readings (a meter node\'s output) or an ems-store-query range result, got string "hello"');
    assert.match(refused({ value: 3 }), /got object \{"value":3\}$/);
    assert.match(refused(undefined), /got undefined$/);
    assert.equal(refused([poll[0], { meter: 'x', time: T, obis: '1-0:1.8.0', value: null, unit: 'kWh' }]),
      'msg.payload[1] is not a reading: reading.value must be a finite number, got null');
    assert.match(refused([{ meter: 'x', obis: '1-0:1.8.0', from: T, to: T + 1, missing: 1 }]), /msg.payload\[0\] is a gap/);
    assert.match(refused([], { mode: 'gaps' }), /gaps result .* nothing to chart/);
    assert.equal(describeValue('x'.repeat(100)).length, 'string '.length + 60);
  });
});
