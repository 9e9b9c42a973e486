import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import vm from 'node:vm';
import { spawnSync } from 'node:child_process';
import {
  chartPoints, dueRefreshes, emsTimeZone, eventRows, liveValues, localDate, meterRequests, monthSummary, overviewFromLatest, overviewTotals, pageMessages, pollResult,
  quantityOf, RANGES, readingsRequest, reportRows, trackClient, type DashClient, type DashClientInfo, type LatestValue,
} from '../../lib/ems/dashboard';
import { mainRegister } from '../../lib/model/obis';
import { windowStarts } from '../../lib/model/time';
import { CLIENT_TYPES, dashboardFlow } from '../../lib/ems/dashboard-flow';
import {
  classicBase, dashboardSessionUser, gate, isClassicDashboardPath, isClassicDashboardSocketPath, isDashboardPath, isDashboardSocketPath, LOGIN_HEADERS, LOGIN_SCRIPT,
  loginPage, safeNext,
} from '../../lib/ems/dashboard-gate';
import { defineSystem, emsGuardsDashboard, registerRunningServices, runningServices, undefineSystem, unregisterRunningServices } from '../../lib/ems/running';
import { openEmsServices } from '../../lib/ems/services';
import { DashboardFlowRunner, fakeMeters } from '../fixtures/dashboard-flow-runner';

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
      { Meter: 'hvac', Quantity: 'Energy import', Reading: 42, Unit: 'kWh', 'Power / flow': '2.5 kW', 'Last reading': '21/11/2026, 17:28:00' },
      { Meter: 'main-incomer', Quantity: 'Energy import', Reading: 5000.12, Unit: 'kWh', 'Power / flow': '1.235 kW', 'Last reading': '21/11/2026, 17:29:55' },
    ]);
    assert.deepEqual(o.alarms, [{ Meter: 'hvac', Alarm: 'no reading for 120 s', Since: '21/11/2026, 17:28:00' }]);
    assert.deepEqual(overviewFromLatest([], NOW, TZ), { meters: [], alarms: [], ids: [] });
    // Each meter by its own interval: hvac polled every 300 s is not late after 120 s; after 11 minutes it is.
    assert.deepEqual(overviewFromLatest(latest, NOW, TZ, { hvac: 300, 'main-incomer': 10 }).alarms, []);
    const late = latest.map((v) => (v.meter === 'hvac' ? { ...v, time: NOW - 660_000 } : v));
    assert.deepEqual(overviewFromLatest(late, NOW, TZ, { hvac: 300 }).alarms, [{ Meter: 'hvac', Alarm: 'no reading for 660 s (polled every 300 s)', Since: '21/11/2026, 17:19:00' }]);
  });

  it('heat and water meters: each row shows the meter\'s own main register in its unit (what the M-Bus and LoRaWAN platform demo meters send)', () => {
    const t = NOW - 5_000;
    // As read from the demo's M-Bus heat meter (SLB CF Integral: energy in kWh, volumes on subunits 1 and 2) and the
    // LoRaWAN platform's water meter (8-0:1.0.0 in m3); a G13 meter without 1-0:16.7.0 shows its import power 1-0:1.7.0.
    const demo: LatestValue[] = [
      { meter: 'heat-meter', obis: '6-0:1.0.0', value: 1234, unit: 'kWh', time: t }, { meter: 'heat-meter', obis: '6-0:2.0.0', value: 0.02, unit: 'm3', time: t },
      { meter: 'heat-meter', obis: '6-1:2.0.0', value: 1.23, unit: 'm3', time: t }, { meter: 'heat-meter', obis: '6-0:10.0.0', value: 21.8, unit: 'degC', time: t },
      { meter: 'heat-meter', obis: '6-0:8.0.0', value: 3.5, unit: 'kW', time: t }, { meter: 'heat-meter', obis: '6-0:9.0.0', value: 0.1, unit: 'm3/h', time: t },
      { meter: 'water-meter', obis: '8-0:1.0.0', value: 100.12345, unit: 'm3', time: t },
      { meter: 'g13-meter', obis: '1-0:1.8.1', value: 7407.43, unit: 'kWh', time: t }, { meter: 'g13-meter', obis: '1-0:1.8.0', value: 12345.72, unit: 'kWh', time: t },
      { meter: 'g13-meter', obis: '1-0:1.7.0', value: 4.199, unit: 'kW', time: t }, { meter: 'g13-meter', obis: '1-0:2.8.0', value: 246.91, unit: 'kWh', time: t },
      { meter: 'district', obis: '6-0:1.0.0', value: 12.5, unit: 'GJ', time: t },
    ];
    const rows = overviewFromLatest(demo, NOW, TZ).meters.map((r) => [r.Meter, r.Quantity, r.Reading, r.Unit, r['Power / flow']]);
    assert.deepEqual(rows, [
      ['district', 'Heat energy', 12.5, 'GJ', ''],
      ['g13-meter', 'Energy import', 12345.72, 'kWh', '4.199 kW'],
      ['heat-meter', 'Heat energy', 1234, 'kWh', '3.5 kW'],
      ['water-meter', 'Water volume', 100.123, 'm3', ''],
    ]);
    assert.deepEqual(['6-1:2.0.0', '6-0:2.0.0', '6-0:1.0.0', '1-0:2.8.0'].map((c) => mainRegister([c])), [null, null, '6-0:1.0.0', null]);
    assert.equal(mainRegister(['1-0:1.8.2', '1-0:1.8.1', '8-0:1.0.0']), '1-0:1.8.1', 'an electricity meter with tariff registers only: T1');
    assert.equal(mainRegister(['7-0:3.0.0', '9-0:1.0.0', '6-1:1.0.0']), '6-1:1.0.0');
    assert.deepEqual(['1-0:1.8.2', '7-0:3.0.0', '9-0:1.0.0', '99-0:1.0.0'].map((c) => quantityOf(c)), [
      { medium: 'electricity', name: 'Energy import T2' }, { medium: 'gas', name: 'Gas volume' }, { medium: 'hot water', name: 'Hot water volume' }, { medium: 'other', name: '99-0:1.0.0' },
    ]);
    // The heat meter's page: its values named, and the chart asks for heat energy, the water meter's for volume.
    const heat = meterRequests(demo, 'heat-meter', '7d');
    assert.deepEqual(heat.live.map((r) => r.Quantity), ['Heat energy', 'Heat power', 'Volume', 'Flow', 'Flow temperature']);
    assert.deepEqual(heat.request, readingsRequest('heat-meter', '7d', '6-0:1.0.0'));
    assert.equal(meterRequests(demo, 'water-meter', '24h').request!.query.obis, '8-0:1.0.0');
    assert.deepEqual(meterRequests(demo, 'nobody', '24h'), { live: [], request: null, none: 'nobody: no energy or volume register read yet' });
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
        meter: 'main-incomer', unit: 'kWh', registers: { first_tariff: '1-0:1.8.1', second_tariff: '1-0:1.8.2' }, tariff: { id: 't1', name: 'TOU', currency: 'EUR' },
        rows: [
          { date: '2026-11-20T00:00:00+01:00', total: '144', total_cost: '36.00' },
          { date: '2026-11-21T00:00:00+01:00', total: '105.7', total_cost: '26.43' },
        ],
        totals: { total: '249.7', total_cost: '62.43' },
      },
    };
    const a = monthSummary(priced, today)!;
    assert.deepEqual(a, { meter: 'main-incomer', medium: 'electricity', unit: 'kWh', today: 105.7, month: 249.7, todayCost: 26.43, monthCost: 62.43, currency: 'EUR' });
    const unpriced = { error: null, data: { meter: 'hvac', unit: 'kWh', registers: { first_tariff: '1-0:1.8.0' }, tariff: null, rows: [{ date: '2026-11-21T00:00:00+01:00', total: '52.85' }], totals: { total: '124.85' } } };
    const b = monthSummary(unpriced, today)!;
    assert.deepEqual(b, { meter: 'hvac', medium: 'electricity', unit: 'kWh', today: 52.85, month: 124.85, todayCost: null, monthCost: null, currency: null });
    assert.equal(monthSummary({ data: null, error: 'unknown meter "x"' }, today), null);
    // 105.7 + 52.85 = 158.55 kWh today; only main-incomer is priced.
    assert.deepEqual(overviewTotals([a, b]), {
      today: '158.55 kWh', month: '374.55 kWh', todayCost: '26.43 EUR (1 of 2 meters priced)', monthCost: '62.43 EUR (1 of 2 meters priced)',
    });
    assert.deepEqual(overviewTotals([b]).monthCost, 'no tariff bound');
  });

  it('totals never add kWh of heat or m3 of water to kWh of electricity: one amount per medium and unit, electricity first', () => {
    const report = (meter: string, register: string | null, unit: string, today: string, month: string) => monthSummary({
      error: null, data: { meter, unit, registers: { first_tariff: register }, tariff: null, rows: [{ date: '2026-11-21T00:00:00+01:00', total: today }], totals: { total: month } },
    }, '2026-11-21')!;
    const all = [
      report('water-meter', '8-0:1.0.0', 'm3', '0.1234', '2.5'), report('heat-meter', '6-0:1.0.0', 'kWh', '12', '300'), report('hvac', '1-0:1.8.0', 'kWh', '52.85', '124.85'),
      report('main-incomer', '1-0:1.8.1', 'kWh', '105.7', '249.7'), report('district', '6-0:1.0.0', 'GJ', '0.5', '7'), report('spare', null, 'kWh', '0', '0'),
    ];
    assert.deepEqual(overviewTotals(all), {
      today: '158.55 kWh electricity, 0.50 GJ heat, 12.00 kWh heat, 0.123 m3 water', month: '374.55 kWh electricity, 7.00 GJ heat, 300.00 kWh heat, 2.500 m3 water',
      todayCost: 'no tariff bound', monthCost: 'no tariff bound',
    });
    assert.equal(overviewTotals(all.filter((s) => s.medium === 'water')).today, '0.123 m3', 'one medium: the amount alone');
    assert.equal(overviewTotals([all[5]]).month, 'no readings', 'a meter without a register to count');
  });

  it('meter page: the readings request per range, and chart points or the error', () => {
    assert.deepEqual(readingsRequest('hvac', '7d'), { topic: 'hvac', params: { id: 'hvac' }, query: { obis: '1-0:1.8.0', from: '-7d', window: '1h', fn: 'delta' } });
    for (const r of RANGES) assert.deepEqual([readingsRequest('m', r.value).query.from, readingsRequest('m', r.value).query.window], [r.from, r.window], r.value);
    assert.deepEqual(readingsRequest('hvac', 'bogus', '8-0:1.0.0').query, { obis: '8-0:1.0.0', from: '-24h', window: '15m', fn: 'delta' });
    const at = (iso: string) => Date.parse(iso);
    assert.deepEqual(chartPoints({ error: null, data: { window: { every: 900_000 }, readings: [{ time: at('2026-11-21T16:00:00Z'), value: 1.23456, unit: 'kWh' }, { time: at('2026-11-21T16:15:00Z'), value: 2, unit: 'kWh' }] } }, TZ), {
      points: [{ window: '2026-11-21 17:00', time: at('2026-11-21T16:00:00Z'), value: 1.235 }, { window: '2026-11-21 17:15', time: at('2026-11-21T16:15:00Z'), value: 2 }], unit: 'kWh', error: null,
    });
    assert.deepEqual(chartPoints({ data: null, error: 'unknown meter "x"' }, TZ), { points: [], unit: '', error: 'unknown meter "x"' });
  });

  it('chart bars stand for their windows: one category per window start in the EMS time zone, gaps kept, across DST', () => {
    // Hourly windows over the night Berlin leaves summer time (02:00-03:00 twice), two hours without readings.
    const from = Date.parse('2026-10-24T22:00:00Z');
    const starts = windowStarts(from, from + 8 * 3_600_000, 3_600_000, TZ);
    const missing = new Set([starts[3], starts[4]]);
    const readings = starts.filter((t) => !missing.has(t)).map((t) => ({ time: t, value: 1, unit: 'kWh' }));
    const r = chartPoints({ error: null, data: { window: { every: 3_600_000 }, readings } }, TZ);
    const local = (t: number) => new Intl.DateTimeFormat('sv-SE', { timeZone: TZ, dateStyle: 'short', timeStyle: 'short' }).format(t);
    assert.deepEqual(r.points.map((p) => p.window), starts.map(local), 'each bar is labelled with its own window start');
    assert.deepEqual(r.points.map((p) => p.window).slice(2, 6), ['2026-10-25 02:00', '2026-10-25 02:00', '2026-10-25 03:00', '2026-10-25 04:00']);
    assert.deepEqual(r.points.map((p) => p.value), starts.map((t) => (missing.has(t) ? null : 1)));
    assert.deepEqual(r.points.map((p) => p.time), starts);
    // Daily windows start at local midnight (23:00 or 22:00 UTC): labelled with the local date, not the UTC one; a missing day kept.
    const days = windowStarts(Date.parse('2026-10-23T22:00:00Z'), Date.parse('2026-10-28T23:00:00Z'), 86_400_000, TZ);
    const daily = chartPoints({ error: null, data: { window: { every: 86_400_000 }, readings: days.filter((_, i) => i !== 2).map((t) => ({ time: t, value: 24, unit: 'kWh' })) } }, TZ);
    assert.deepEqual(daily.points.map((p) => [p.window, p.value]), [['2026-10-24', 24], ['2026-10-25', 24], ['2026-10-26', null], ['2026-10-27', 24], ['2026-10-28', 24]]);
    assert.deepEqual(chartPoints({ error: null, data: { window: { every: 86_400_000 }, readings: [{ time: days[0], value: 1 }] } }, 'UTC').points[0].window, '2026-10-23', 'the same window in UTC');
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
    // A water meter's report counts its volume in m3, without tariff columns.
    const water = reportRows({ error: null, data: { step: 'day', unit: 'm3', registers: { first_tariff: '8-0:1.0.0', second_tariff: null }, tariff: null, rows: [{ date: '2026-11-19T00:00:00+01:00', first_tariff: '0.25', total: '0.25' }] } });
    assert.deepEqual(water, [{ Date: '2026-11-19', 'Total (m3)': '0.25' }]);
  });

  it('reports start at the first day with data: steps ending before the first reading are left out', () => {
    const day = (d: string) => ({ date: `2026-11-${d}T00:00:00+01:00`, date_to: `2026-11-${String(Number(d) + 1).padStart(2, '0')}T00:00:00+01:00`, first_tariff: d === '19' ? '0' : '5', total: d === '19' ? '0' : '5' });
    const envelope = (data_from: string | null | undefined) => ({ error: null, data: { step: 'day', unit: 'kWh', registers: { first_tariff: '1-0:1.8.0' }, tariff: null, data_from, rows: ['18', '19', '20', '21'].map(day) } });
    // The first reading at 14:00 on the 20th: the 20th is the first row (partly counted), not the empty 18th and 19th.
    assert.deepEqual(reportRows(envelope('2026-11-20T14:00:00+01:00')).map((r) => r.Date), ['2026-11-20', '2026-11-21']);
    assert.deepEqual(reportRows(envelope('2026-11-20T00:00:00+01:00')).map((r) => r.Date), ['2026-11-20', '2026-11-21'], 'a reading at midnight starts that day');
    assert.deepEqual(reportRows(envelope('2026-11-18T00:00:00+01:00')).length, 4, 'data before the period: every row, zeros included');
    assert.deepEqual(reportRows(envelope(null)), [], 'no readings at all');
    assert.deepEqual(reportRows(envelope(undefined)).length, 4, 'an answer without data_from: every row');
  });

  it('time zone: EMS_TIME_ZONE, else (unset or an unreplaced ${EMS_TIME_ZONE}) the system zone, never silently UTC', () => {
    const system = Intl.DateTimeFormat().resolvedOptions().timeZone;
    assert.equal(emsTimeZone('Europe/Berlin'), 'Europe/Berlin');
    assert.equal(emsTimeZone(' Asia/Tokyo '), 'Asia/Tokyo');
    for (const unset of [undefined, '', '  ', '${EMS_TIME_ZONE}', 'Not/AZone', 42]) assert.equal(emsTimeZone(unset), system, String(unset));
    // A stock Node-RED in Kiritimati (UTC+14) without EMS_TIME_ZONE: the event page's function node shows local times.
    const script = `
      const vm = require('node:vm');
      const node = require(${JSON.stringify(path.join(__dirname, '..', '..', 'lib', 'ems', 'dashboard-flow.js'))}).dashboardFlow().find((n) => n.id === 'dash-ev-rows');
      const run = (value) => vm.runInNewContext('(function () {' + node.func + '})()', {
        msg: { _client: { socketId: 's' }, payload: { error: null, data: [{ date: '2026-11-21T16:29:59.000Z', event: 'poll failed', meter_id: 'hvac' }] } },
        env: { get: () => value }, node: { status: () => undefined },
      })[0].payload[0].Time;
      console.log(JSON.stringify([run(undefined), run('\${EMS_TIME_ZONE}'), run('Europe/Berlin')]));`;
    const child = spawnSync(process.execPath, ['-e', script], { env: { ...process.env, TZ: 'Pacific/Kiritimati' }, encoding: 'utf8' });
    assert.equal(child.status, 0, child.stderr);
    assert.deepEqual(JSON.parse(child.stdout), ['22/11/2026, 06:29:59', '22/11/2026, 06:29:59', '21/11/2026, 17:29:59']);
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

  it('has the six pages under /dashboard, every widget in a group of a page, every wire to a node of the tab', () => {
    const byId = new Map(flow.map((n) => [n.id, n]));
    assert.equal(byId.get('dash-base')!.path, '/dashboard');
    assert.deepEqual(flow.filter((n) => n.type === 'ui-page').map((n) => n.path), ['/overview', '/meter', '/reports', '/events', '/alarms', '/site']);
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

  it('answers every client alone: all widget types are client-scoped, every ems-api node acts as the dashboard user', () => {
    const base = flow.find((n) => n.type === 'ui-base')!;
    assert.deepEqual(base.acceptsClientConfig, CLIENT_TYPES);
    const widgetTypes = new Set(flow.filter((n) => 'group' in n && String(n.type).startsWith('ui-')).map((n) => n.type));
    for (const t of widgetTypes) assert.ok(CLIENT_TYPES.includes(t), `${t} is client-scoped`);
    const apis = flow.filter((n) => n.type === 'ems-api');
    assert.ok(apis.length >= 6);
    for (const n of apis) assert.equal(n.identity, 'dashboard', `${n.id} acts as the dashboard's user`);
    // No broadcast source of meter data: the only timer feeds the per-client registry.
    assert.deepEqual(flow.filter((n) => n.type === 'inject').map((n) => n.wires), [[['dash-clients']]]);
  });

  /** Runs a function node of the tab as Node-RED would (flow and node context, env, node.status). */
  function runner(id: string, flowContext: Map<string, unknown>, now = () => Date.now()) {
    const node = flow.find((n) => n.id === id)!;
    const context = new Map<string, unknown>();
    const clock = Object.assign(function (...args: unknown[]) { return new (Date as any)(...args); }, { now });
    return (msg: unknown) => JSON.parse(JSON.stringify(vm.runInNewContext(`(function () {\n${node.func as string}\n})()`, {
      msg, env: { get: (k: string) => (k === 'EMS_TIME_ZONE' ? TZ : undefined) }, Date: clock,
      flow: { get: (k: string) => flowContext.get(k), set: (k: string, v: unknown) => flowContext.set(k, v) },
      context: { get: (k: string) => context.get(k), set: (k: string, v: unknown) => context.set(k, v) }, node: { status: () => undefined },
    }) ?? null));
  }

  it('its client and page functions: a page view computes that client\'s page from the meters its user may see', () => {
    let t = NOW;
    const all = fakeMeters(3);
    // vera's session sees one folder's meter only (folders.tree as her answers just that).
    const runner = new DashboardFlowRunner(flow, all, () => t, TZ, (session) => (session === 'sess-v' ? [all[1]] : all));
    const vera = { socketId: 's-vera', emsSessionId: 'sess-v', emsLogin: 'vera', emsRole: 'viewer' };
    const clients = (msg: Record<string, unknown>) => runner.send('dash-clients', msg);
    clients({ topic: '$pageview', payload: { page: { path: '/overview' } }, _client: vera });
    // Her meters come from the folder tree as her; her badge is asked for too.
    assert.deepEqual(runner.work.api, { 'folders.tree': 1, 'notifications.inbox': 1, 'alarms.summary': 1, 'reports.tariffs': 1 });
    const sent = (id: string) => runner.widgets.filter((w) => w.node === id);
    const [table] = sent('dash-ov-meters');
    assert.deepEqual(table.msg.payload.map((r: any) => r.Meter), [all[1].id]);
    assert.equal(table.msg.payload[0]['Power / flow'], `${(1500 + 1) / 1000} kW`);
    for (const w of runner.widgets) assert.equal(w.msg._client.socketId, 's-vera', `${w.node} answers her socket only`);
    assert.equal(sent('dash-ov-shown')[0].msg.payload, '1 of 1 meters');
    // Nothing due before 10 s; then the timer refreshes her page and badge (no meter list again); a lost connection stops both.
    runner.reset();
    clients({ topic: 'dash-tick' });
    assert.deepEqual([runner.work.api, runner.widgets.length], [{}, 0]);
    t += 10_000;
    clients({ topic: 'dash-tick' });
    assert.equal(runner.work.api['folders.tree'], undefined, 'the meter list is kept for a while');
    assert.deepEqual(sent('dash-ov-meters').map((w) => w.msg._client.socketId), ['s-vera']);
    clients({ payload: 'lost', _client: vera });
    runner.reset();
    for (let i = 0; i < 12; i++) {
      t += 5_000;
      clients({ topic: 'dash-tick' });
    }
    assert.deepEqual([runner.work.api, runner.work.storeRows, runner.widgets.length], [{}, 0, 0], 'nobody looking: no work');
    // A session that ended (the API answers 401) drops the client.
    runner.refuse = (_op, session) => (session === 'sess-ended' ? { error: 'log in again', status: 401 } : null);
    clients({ topic: '$pageview', payload: { page: { path: '/meter' } }, _client: { socketId: 's-old', emsSessionId: 'sess-ended' } });
    assert.equal((runner.flowContext.get('dash_clients') as Record<string, unknown>)['s-old'], undefined);
  });

  it('its meter page functions chart the main register of a heat meter in its unit, each bar at its window', () => {
    const flowContext = new Map<string, unknown>();
    const c = { socketId: 's1' };
    const t = Date.now();
    const [live, request, clear, total] = runner('dash-mt-live-rows', flowContext)({
      _client: c, meter: 'heat-meter', topic: 'heat-meter', dashRange: '24h',
      payload: [{ meter: 'heat-meter', obis: '6-0:1.0.0', value: 10, unit: 'kWh', time: t }, { meter: 'heat-meter', obis: '6-0:10.0.0', value: 21.8, unit: 'degC', time: t }],
    });
    assert.deepEqual(live.payload, [{ Quantity: 'Heat energy', Value: 10, Unit: 'kWh' }, { Quantity: 'Flow temperature', Value: 21.8, Unit: 'degC' }]);
    assert.deepEqual([request._client, request.params, request.query], [c, { id: 'heat-meter' }, { obis: '6-0:1.0.0', from: '-24h', window: '15m', fn: 'delta' }]);
    assert.deepEqual([clear, total], [null, null]);
    const none = runner('dash-mt-live-rows', flowContext)({ _client: c, meter: 'new', topic: 'new', dashRange: '24h', payload: [] });
    assert.deepEqual(none.slice(1), [null, { _client: c, payload: [], action: 'replace' }, { _client: c, payload: 'new: no energy or volume register read yet' }]);
    const start = Date.parse('2026-11-21T16:00:00Z');
    const [chart, text] = runner('dash-mt-points', flowContext)({
      _client: c, topic: 'heat-meter', payload: { error: null, data: { window: { every: 900_000 }, readings: [{ time: start, value: 0.5, unit: 'kWh' }, { time: start + 1_800_000, value: 0.25, unit: 'kWh' }] } },
    });
    assert.deepEqual(chart, {
      _client: c, topic: 'heat-meter (kWh)', action: 'replace',
      payload: [{ window: '2026-11-21 17:00', time: start, value: 0.5 }, { window: '2026-11-21 17:15', time: start + 900_000, value: null }, { window: '2026-11-21 17:30', time: start + 1_800_000, value: 0.25 }],
    });
    assert.deepEqual(text, { _client: c, payload: 'heat-meter: 0.75 kWh' });
    const chartNode = flow.find((n) => n.id === 'dash-mt-chart')!;
    assert.deepEqual([chartNode.xAxisType, chartNode.xAxisProperty, chartNode.yAxisProperty, chartNode.category], ['category', 'window', 'value', 'topic']);
  });

  it('every title once: no widget repeats the title of its group', () => {
    const byId = new Map(flow.map((n) => [n.id, n]));
    for (const n of flow.filter((x) => 'group' in x && String(x.type).startsWith('ui-'))) {
      const group = byId.get(n.group as string)!;
      assert.notEqual(String(n.label ?? '').toLowerCase(), String(group.name).toLowerCase(), `${n.id} repeats "${group.name}"`);
    }
    const titles = flow.filter((n) => n.type === 'ui-group').map((n) => String(n.name));
    const labels = flow.filter((n) => 'group' in n && n.label).map((n) => String(n.label));
    for (const l of labels) assert.ok(!titles.includes(l), `"${l}" is both a group title and a widget label`);
  });

  it('its poll-now functions ask for the client\'s meter and show the refusal', () => {
    const flowContext = new Map<string, unknown>([['dash_clients', { s1: { meter: 'hvac' } }]]);
    const req = runner('dash-mt-poll-req', flowContext)({ payload: 'poll', _client: { socketId: 's1' } });
    assert.deepEqual(req[0].params, { id: 'hvac' });
    assert.equal(req[0]._client.socketId, 's1');
    assert.deepEqual(runner('dash-mt-poll-req', flowContext)({ _client: { socketId: 'other' } })[1].payload, 'Pick a meter first');
    const res = runner('dash-mt-poll-result', flowContext)({ topic: 'hvac', _client: { socketId: 's1' }, statusCode: 403, payload: { data: null, error: 'this needs the operator role; "vera" is a viewer', status: 403 } });
    assert.deepEqual(res, { _client: { socketId: 's1' }, payload: 'Refused: this needs the operator role; "vera" is a viewer' });
  });

  function latest(): LatestValue[] {
    const t = Date.now();
    return [
      { meter: 'main-incomer', obis: '1-0:1.8.0', value: 5000, unit: 'kWh', time: t },
      { meter: 'hvac', obis: '1-0:1.8.0', value: 42, unit: 'kWh', time: t },
    ];
  }
});

describe('dashboard clients (per socket)', () => {
  const c = (socketId: string, emsSessionId = `sess-${socketId}`) => ({ socketId, emsSessionId });
  const view = (path: string, client: DashClientInfo) => ({ topic: '$pageview', payload: { page: { path } }, _client: client });

  it('a page view registers the client; choices change its page; bad choices and unknown pages are ignored', () => {
    const clients: Record<string, DashClient> = {};
    assert.equal(trackClient(clients, view('/meter', {}), NOW), null, 'no socket id');
    assert.equal(trackClient(clients, view('/elsewhere', c('a')), NOW), null);
    assert.equal(trackClient(clients, { topic: 'dash-meter', payload: 'hvac', _client: c('a') }, NOW), null, 'a choice before any page');
    assert.equal(trackClient(clients, view('/meter', c('a')), NOW)!.dash.reason, 'view');
    assert.deepEqual(trackClient(clients, { topic: 'dash-meter', payload: 'hvac', _client: c('a') }, NOW + 1)!.dash, { page: 'meter', meter: 'hvac', range: '24h', step: 'day', reason: 'change', sync: false });
    assert.equal(trackClient(clients, { topic: 'dash-range', payload: '1y', _client: c('a') }, NOW + 2), null);
    assert.equal(trackClient(clients, { topic: 'dash-range', payload: '7d', _client: c('a') }, NOW + 3)!.dash.range, '7d');
  });

  it('a reloaded page of the same session keeps its choices; another session starts afresh', () => {
    const clients: Record<string, DashClient> = {};
    trackClient(clients, view('/meter', c('a', 's1')), NOW);
    trackClient(clients, { topic: 'dash-meter', payload: 'hvac', _client: c('a', 's1') }, NOW);
    trackClient(clients, { payload: 'lost', _client: c('a', 's1') }, NOW + 1);
    assert.equal(trackClient(clients, view('/reports', c('b', 's1')), NOW + 2)!.dash.meter, 'hvac');
    assert.equal(trackClient(clients, view('/reports', c('x', 's2')), NOW + 3)!.dash.meter, null);
  });

  it('keeps at most max clients, dropping the least recently seen', () => {
    const clients: Record<string, DashClient> = {};
    for (let i = 0; i < 5; i++) trackClient(clients, view('/overview', c(`s${i}`)), NOW + i, 3);
    assert.deepEqual(Object.keys(clients).sort(), ['s2', 's3', 's4']);
  });

  it('the timer refreshes each page at its own pace; the first tick after a view sends the dropdowns again', () => {
    const clients: Record<string, DashClient> = {};
    trackClient(clients, view('/overview', c('o')), NOW);
    trackClient(clients, view('/reports', c('r')), NOW);
    assert.deepEqual(dueRefreshes(clients, NOW + 5_000), []);
    assert.deepEqual(dueRefreshes(clients, NOW + 10_000).map((r) => [r._client.socketId, r.dash.sync]), [['o', true]]);
    assert.deepEqual(dueRefreshes(clients, NOW + 20_000).map((r) => [r._client.socketId, r.dash.sync]), [['o', false]]);
    assert.deepEqual(dueRefreshes(clients, NOW + 300_000).map((r) => r._client.socketId), ['o', 'r']);
  });

  it('page messages: only meters the user may see, the first when the choice is not one of them', () => {
    const dash = { page: 'meter', meter: 'secret', range: '7d', step: 'day', reason: 'view' as const, sync: true };
    const m = pageMessages(dash, ['a', 'b'], null, '', NOW, TZ);
    assert.deepEqual(m[1], { options: [{ value: 'a', label: 'a' }, { value: 'b', label: 'b' }], payload: 'a' });
    assert.deepEqual(m[2], { payload: '7d' });
    assert.deepEqual(m[3], { meter: 'a', topic: 'a', dashRange: '7d', payload: {} });
    assert.deepEqual(m[8], { payload: '' }, 'the find field, emptied');
    assert.deepEqual(pageMessages({ ...dash, sync: false }, ['a'], null, '', NOW, TZ).slice(1, 3), [null, null], 'no dropdowns on a timer refresh');
    assert.deepEqual(pageMessages(dash, [], null, '', NOW, TZ).filter(Boolean), [{ options: [], payload: '' }, { payload: '7d' }, { payload: '' }], 'no meter: nothing to ask');
    const rp = pageMessages({ ...dash, page: 'reports', meter: 'b', step: 'month' }, ['a', 'b'], null, '', NOW, TZ);
    assert.deepEqual(rp[6], { topic: 'b', query: { meter: 'b', date1: '2025-11-01', date2: '2026-11-21', step: 'month' } });
    assert.deepEqual(pageMessages({ ...dash, page: 'events' }, ['a'], null, '', NOW, TZ)[7], { query: { date1: '2026-11-14T16:30:00.000Z', date2: '2026-11-21T16:31:00.000Z', limit: '200' } });
    // Many meters: the dropdown offers the first `pick` and the chosen one, or what the find text matches.
    const many = Array.from({ length: 10_000 }, (_, i) => `m${String(i).padStart(5, '0')}`);
    const first = pageMessages({ ...dash, meter: 'm09999' }, many, null, '', NOW, TZ, 50)[1] as { options: { value: string }[]; payload: string };
    assert.equal(first.options.length, 51);
    assert.deepEqual([first.options[0].value, first.options[1].value, first.payload], ['m09999', 'm00000', 'm09999']);
    const found = pageMessages({ ...dash, meter: 'm00001', found: true }, many, ['m04242'], 'M04242', NOW, TZ)[1] as { options: { value: string }[]; payload: string };
    assert.deepEqual([found.options.map((o) => o.value), found.payload], [['m04242'], 'm04242'], 'an exact find picks that meter');
    assert.equal(pollResult({ data: { started: true }, error: null }, 'a'), 'Poll of a started');
    assert.equal(pollResult({ data: null, error: 'meter "a" is being polled', status: 409 }, 'a'), 'Poll of a failed: meter "a" is being polled');
  });
});

describe('dashboard gate', () => {
  const html = { accept: 'text/html,application/xhtml+xml' };

  it('passes a live session (cookie or Bearer); sends a page to the login page and answers XHR and socket.io 401', async () => {
    const services = await openEmsServices({ file: ':memory:' });
    try {
      const { access_token: token, session } = await services.auth.login('admin', 'ems-admin');
      const pass = gate({ method: 'GET', path: '/dashboard/overview', headers: { cookie: `theme=dark; access_token=${token}` } }, services);
      assert.equal(pass.kind === 'pass' && pass.session.user.login, 'admin');
      assert.equal(gate({ method: 'GET', path: '/dashboard/_setup', headers: { authorization: `Bearer ${token}` } }, services).kind, 'pass');
      assert.deepEqual(gate({ method: 'GET', path: '/dashboard/meter', headers: html }, services, '/red'), { kind: 'redirect', location: '/red/dashboard-login?next=%2Fdashboard%2Fmeter' });
      const xhr = gate({ method: 'GET', path: '/dashboard/_setup', headers: { ...html, 'x-requested-with': 'XMLHttpRequest' } }, services);
      assert.equal(xhr.kind === 'refuse' && xhr.status, 401);
      const sock = gate({ method: 'GET', path: '/dashboard/socket.io/', headers: { ...html, cookie: 'access_token=forged' } }, services);
      assert.deepEqual(sock.kind === 'refuse' && sock.body, { data: null, error: 'the access token is unknown or logged out; log in again', status: 401 });
      const closed = gate({ method: 'GET', path: '/dashboard', headers: html }, undefined);
      assert.equal(closed.kind === 'refuse' && closed.status, 503, 'no EMS running: closed, not open');

      assert.equal(dashboardSessionUser(services, session.id).user.login, 'admin');
      assert.throws(() => dashboardSessionUser(services, undefined), (e: any) => e.status === 401 && /emsSessionId/.test(e.message));
      services.auth.logout(token);
      assert.throws(() => dashboardSessionUser(services, session.id), (e: any) => e.status === 401);
      assert.equal(gate({ method: 'GET', path: '/dashboard', headers: { cookie: `access_token=${token}` } }, services).kind, 'refuse');
    } finally {
      services.close();
    }
  });

  it('paths, the next page after login (never another site) and the login page without inline code', () => {
    assert.deepEqual(['/dashboard', '/dashboard/x', '/DashBoard/x', '/dashboard-login', '/dashboards', '/api'].map(isDashboardPath), [true, true, true, false, false, false]);
    assert.deepEqual(['/dashboard/socket.io/', '/dashboard/socket.io', '/dashboard/meter'].map(isDashboardSocketPath), [true, true, false]);
    for (const bad of ['//evil.example/dashboard', 'https://evil.example', '/dashboard/../api', '/api/users', '/dashboard?x=1', 42]) assert.equal(safeNext(bad), '/dashboard', String(bad));
    assert.equal(safeNext('/dashboard/meter'), '/dashboard/meter');
    const page = loginPage('/red');
    assert.match(page, /<script src="\/red\/dashboard-login\/login\.js" defer><\/script>/);
    assert.doesNotMatch(page.replace(/<script src="[^"]+" defer><\/script>/, ''), /<script|<style| on\w+=/i);
    assert.match(LOGIN_HEADERS['content-security-policy'], /default-src 'none'; script-src 'self'/);
    assert.equal(LOGIN_HEADERS['x-frame-options'], 'DENY');
    assert.match(LOGIN_SCRIPT, /'content-type': 'application\/json'/);
    new vm.Script(LOGIN_SCRIPT); // valid JavaScript
  });

  it('the classic dashboard (/ui): its paths and socket.io are gated like /dashboard, and the login returns to /ui', async () => {
    assert.deepEqual(['/ui', '/ui/', '/UI/index.html', '/ui/socket.io/', '/uix', '/dashboard', '/api/ui'].map((p) => isClassicDashboardPath(p)),
      [true, true, true, true, false, false, false]);
    assert.deepEqual(['/ui/socket.io/', '/ui/socket.io', '/ui/'].map((p) => isClassicDashboardSocketPath(p)), [true, true, false]);
    assert.deepEqual([classicBase(undefined), classicBase(''), classicBase('/Board/'), classicBase(42)], ['/ui', '/ui', '/board', '/ui']);
    assert.ok(isClassicDashboardPath('/board/x', classicBase('board')));
    assert.deepEqual(['/ui', '/ui/', '/ui/manifest.json', '/uix', '//ui', '/ui//x', '/ui/../api'].map(safeNext),
      ['/ui', '/ui/', '/ui/manifest.json', '/dashboard', '/dashboard', '/dashboard', '/dashboard']);
    const services = await openEmsServices({ file: ':memory:' });
    try {
      assert.deepEqual(gate({ method: 'GET', path: '/ui/', headers: html }, services), { kind: 'redirect', location: '/dashboard-login?next=%2Fui%2F' });
      const sock = gate({ method: 'GET', path: '/ui/socket.io/', headers: html }, services);
      assert.equal(sock.kind === 'refuse' && sock.status, 401, 'socket.io is never sent to the login page');
      const { access_token: token } = await services.auth.login('admin', 'ems-admin');
      assert.equal(gate({ method: 'GET', path: '/ui/socket.io/', headers: { cookie: `access_token=${token}` } }, services).kind, 'pass');
    } finally {
      services.close();
    }
    // The login page's own check of ?next= lets /ui through.
    const next = new Function(`return ${/if \(!(\/.*\/i?)\.test\(next\)\)/.exec(LOGIN_SCRIPT)![1]}`)() as RegExp;
    assert.deepEqual(['/ui', '/ui/', '/UI/x', '/dashboard/meter', '//evil.example', '/uix'].map((p) => next.test(p)), [true, true, true, true, false, false]);
  });

  it('the running services registry hands the newest running EMS to the plugin', async () => {
    const a = await openEmsServices({ file: ':memory:' });
    const b = await openEmsServices({ file: ':memory:' });
    try {
      const before = runningServices();
      registerRunningServices(a);
      registerRunningServices(b);
      assert.equal(runningServices(), b);
      unregisterRunningServices(b);
      assert.equal(runningServices(), a);
      unregisterRunningServices(a);
      assert.equal(runningServices(), before);

      // The dashboard is guarded from the moment flows define an EMS (closed while it opens), and left alone
      // in a Node-RED whose flows define none.
      assert.equal(emsGuardsDashboard(), false, 'no EMS defined: other dashboards are not ours to lock');
      defineSystem('sys-1');
      assert.equal(emsGuardsDashboard(), true, 'defined, still opening: guarded (503), not open');
      registerRunningServices(a);
      undefineSystem('sys-1');
      assert.equal(emsGuardsDashboard(), true);
      unregisterRunningServices(a);
      assert.equal(emsGuardsDashboard(), false);
    } finally {
      a.close();
      b.close();
    }
  });
});
