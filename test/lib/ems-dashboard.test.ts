import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import vm from 'node:vm';
import {
  chartPoints, eventRows, liveValues, localDate, monthSummary, overviewFromLatest, overviewTotals, RANGES, readingsRequest, reportRows, type LatestValue,
} from '../../lib/ems/dashboard';
import { dashboardFlow } from '../../lib/ems/dashboard-flow';

const TZ = 'Europe/Berlin';
const NOW = Date.parse('2026-11-21T16:30:00Z'); // 17:30 in Berlin

describe('dashboard shaping', () => {
  const latest: LatestValue[] = [
    { meter: 'main-incomer', obis: '1-0:16.7.0', value: 1234.5, unit: 'W', time: NOW - 5_000 },
    { meter: 'main-incomer', obis: '1-0:1.8.0', value: 5000.123, unit: 'kWh', time: NOW - 5_000 },
    { meter: 'main-incomer', obis: '1-0:32.7.0', value: 229.94, unit: 'V', time: NOW - 5_000 },
    { meter: 'hvac', obis: '1-0:16.7.0', value: 2.5, unit: 'kW', time: NOW - 120_000 },
    { meter: 'hvac', obis: '1-0:1.8.0', value: 42, unit: 'kWh', time: NOW - 120_000 },
  ];

  it('overview: one row per meter with power in kW, local time, and an alarm for a meter silent over a minute', () => {
    const o = overviewFromLatest(latest, NOW, TZ);
    assert.deepEqual(o.ids, ['hvac', 'main-incomer']);
    assert.deepEqual(o.meters, [
      { Meter: 'hvac', 'Power (kW)': 2.5, 'Energy (kWh)': 42, 'Last reading': '21/11/2026, 17:28:00' },
      { Meter: 'main-incomer', 'Power (kW)': 1.235, 'Energy (kWh)': 5000.12, 'Last reading': '21/11/2026, 17:29:55' },
    ]);
    assert.deepEqual(o.alarms, [{ Meter: 'hvac', Alarm: 'no reading for 120 s', Since: '21/11/2026, 17:28:00' }]);
    assert.deepEqual(overviewFromLatest([], NOW, TZ), { meters: [], alarms: [], ids: [] });
  });

  it('live values: the named quantities of one meter in a fixed order, unknown codes left out', () => {
    assert.deepEqual(liveValues([...latest, { meter: 'main-incomer', obis: '1-0:99.99.0', value: 1, unit: '', time: NOW }], 'main-incomer'), [
      { Quantity: 'Active power', Value: 1234.5, Unit: 'W' },
      { Quantity: 'Energy import', Value: 5000.123, Unit: 'kWh' },
      { Quantity: 'Voltage L1', Value: 229.94, Unit: 'V' },
    ]);
  });

  it('month summary and totals: today is the row of the local date, the month the totals; costs only with a tariff', () => {
    const today = localDate(NOW, TZ);
    assert.equal(today, '2026-11-21');
    assert.equal(localDate(Date.parse('2026-11-21T23:30:00Z'), TZ), '2026-11-22'); // already tomorrow in Berlin
    const priced = {
      error: null,
      data: {
        meter: 'main-incomer', tariff: { id: 't1', name: 'TOU', currency: 'EUR' },
        rows: [
          { date: '2026-11-20T00:00:00+01:00', total: '144', total_cost: '36.00' },
          { date: '2026-11-21T00:00:00+01:00', total: '105.7', total_cost: '26.43' },
        ],
        totals: { total: '249.7', total_cost: '62.43' },
      },
    };
    const a = monthSummary(priced, today)!;
    assert.deepEqual(a, { meter: 'main-incomer', today: 105.7, month: 249.7, todayCost: 26.43, monthCost: 62.43, currency: 'EUR' });
    const unpriced = { error: null, data: { meter: 'hvac', tariff: null, rows: [{ date: '2026-11-21T00:00:00+01:00', total: '52.85' }], totals: { total: '124.85' } } };
    const b = monthSummary(unpriced, today)!;
    assert.deepEqual(b, { meter: 'hvac', today: 52.85, month: 124.85, todayCost: null, monthCost: null, currency: null });
    assert.equal(monthSummary({ data: null, error: 'unknown meter "x"' }, today), null);
    // 105.7 + 52.85 = 158.55 kWh today; only main-incomer is priced.
    assert.deepEqual(overviewTotals([a, b]), {
      today: '158.55 kWh', month: '374.55 kWh', todayCost: '26.43 EUR (1 of 2 meters priced)', monthCost: '62.43 EUR (1 of 2 meters priced)',
    });
    assert.deepEqual(overviewTotals([b]).monthCost, 'no tariff bound');
  });

  it('meter page: the readings request per range, and chart points or the error', () => {
    assert.deepEqual(readingsRequest('hvac', '7d'), { topic: 'hvac', params: { id: 'hvac' }, query: { obis: '1-0:1.8.0', from: '-7d', window: '1h', fn: 'delta' } });
    for (const r of RANGES) assert.deepEqual([readingsRequest('m', r.value).query.from, readingsRequest('m', r.value).query.window], [r.from, r.window], r.value);
    assert.deepEqual(readingsRequest('hvac', 'bogus').query, { obis: '1-0:1.8.0', from: '-24h', window: '15m', fn: 'delta' });
    assert.deepEqual(chartPoints({ error: null, data: { readings: [{ time: 1, value: 1.23456 }, { time: 2, value: 2 }] } }), { points: [{ time: 1, value: 1.235 }, { time: 2, value: 2 }], error: null });
    assert.deepEqual(chartPoints({ data: null, error: 'unknown meter "x"' }), { points: [], error: 'unknown meter "x"' });
  });

  it('reports: a column per tariff register the meter has, kWh rounded, cost with its currency', () => {
    const rows = reportRows({
      error: null,
      data: {
        step: 'day', registers: { first_tariff: '1-0:1.8.1', second_tariff: '1-0:1.8.2', third_tariff: null, fourth_tariff: null }, tariff: { currency: 'EUR' },
        rows: [{ date: '2026-11-19T00:00:00+01:00', first_tariff: '95.9999999999127', second_tariff: '47.9999999999564', third_tariff: '0', fourth_tariff: '0', total: '143.9999999998691', total_cost: '36.00' }],
      },
    });
    assert.deepEqual(rows, [{ Date: '2026-11-19', 'T1 (kWh)': '96', 'T2 (kWh)': '48', 'Total (kWh)': '144', 'Cost (EUR)': '36.00' }]);
    const monthly = reportRows({ error: null, data: { step: 'month', registers: {}, tariff: null, rows: [{ date: '2026-10-01T00:00:00+02:00', first_tariff: '10', total: '10' }] } });
    assert.deepEqual(monthly, [{ Month: '2026-10', 'T1 (kWh)': '10', 'Total (kWh)': '10' }]);
    assert.deepEqual(reportRows({ data: null, error: 'meter "" is required (a meter id)' }), []);
  });

  it('events: local time, meter name, level and text', () => {
    const rows = eventRows({ error: null, data: [{ meter_id: 'hvac', meter_name: 'HVAC', date: '2026-11-21T16:29:59.000Z', event: 'poll failed', value: null, kind: 'poll', level: 'error' }] }, TZ);
    assert.deepEqual(rows, [{ Time: '21/11/2026, 17:29:59', Meter: 'HVAC', Level: 'error', Event: 'poll failed', Value: '' }]);
    assert.deepEqual(eventRows({ data: null, error: 'boom' }, TZ), []);
  });
});

describe('dashboard flow', () => {
  const flow = dashboardFlow();

  it('is what flows/ems.json ships (regenerate the tab after changing lib/ems/dashboard*.ts)', () => {
    const file = path.join(__dirname, '..', '..', '..', 'flows', 'ems.json');
    const shipped = (JSON.parse(fs.readFileSync(file, 'utf8')) as { id: string }[]).filter((n) => n.id === 'ems-dash-tab' || n.id.startsWith('dash-'));
    assert.deepEqual(shipped, JSON.parse(JSON.stringify(flow)));
  });

  it('has the four pages under /dashboard, every widget in a group of a page, every wire to a node of the tab', () => {
    const byId = new Map(flow.map((n) => [n.id, n]));
    assert.equal(byId.get('dash-base')!.path, '/dashboard');
    assert.deepEqual(flow.filter((n) => n.type === 'ui-page').map((n) => n.path), ['/overview', '/meter', '/reports', '/events']);
    for (const n of flow.filter((x) => String(x.type).startsWith('ui-') && 'group' in x)) {
      const group = byId.get(n.group as string);
      assert.equal(group?.type, 'ui-group', `${n.id}'s group`);
      assert.equal(byId.get(group!.page as string)?.type, 'ui-page', `${group!.id}'s page`);
    }
    for (const n of flow) {
      for (const out of (n.wires as string[][] | undefined) ?? []) for (const to of out) assert.ok(byId.has(to), `${n.id} wires to ${to}`);
      if (n.type === 'function') assert.equal((n.wires as unknown[]).length, n.outputs, `${n.id} outputs`);
    }
  });

  it('its overview function turns the store\'s newest values into the tables, the report requests and the meter choice', () => {
    const shape = flow.find((n) => n.id === 'dash-ov-shape')!;
    const flowContext = new Map<string, unknown>();
    const status: unknown[] = [];
    const run = (msg: unknown) => vm.runInNewContext(`(function () {\n${shape.func as string}\n})()`, {
      msg, env: { get: (k: string) => (k === 'EMS_TIME_ZONE' ? TZ : undefined) },
      flow: { get: (k: string) => flowContext.get(k), set: (k: string, v: unknown) => flowContext.set(k, v) }, node: { status: (s: unknown) => status.push(s) },
    });
    const out = JSON.parse(JSON.stringify(run({ payload: latest() }))) as any[];
    assert.equal(out.length, shape.outputs);
    assert.deepEqual(out[0].payload.map((r: any) => r.Meter), ['hvac', 'main-incomer']);
    assert.equal(out[1].payload, '0');
    assert.deepEqual(out[3].map((m: any) => m.query.meter), ['hvac', 'main-incomer']);
    assert.equal(out[3][0].query.step, 'day');
    assert.match(out[3][0].query.date1, /^\d{4}-\d\d-01$/);
    assert.deepEqual(out[4].options.map((o: any) => o.value), ['hvac', 'main-incomer']);
    assert.equal(out[4].payload, 'hvac');
    // The same meters again: no new options (the dropdown keeps the user's choice).
    flowContext.set('dash_meter', 'main-incomer');
    const again = JSON.parse(JSON.stringify(run({ payload: latest() }))) as any[];
    assert.equal(again[4], null);
    assert.equal(again[5].topic, 'main-incomer');
  });

  function latest(): LatestValue[] {
    const t = Date.now();
    return [
      { meter: 'main-incomer', obis: '1-0:1.8.0', value: 5000, unit: 'kWh', time: t },
      { meter: 'hvac', obis: '1-0:1.8.0', value: 42, unit: 'kWh', time: t },
    ];
  }
});
