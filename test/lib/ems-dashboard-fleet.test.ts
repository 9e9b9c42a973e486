// The dashboard at fleet scale (issue 22): the generated tab driven with 100 to 10,000 meters through the flow runner
// (function nodes as compiled, a fake EMS behind its ems-api and ems-store-query nodes), and the fleet state's figures
// against the per-meter reference (overviewTotals).
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { dashboardFlow } from '../../lib/ems/dashboard-flow';
import { monthSummary, overviewTotals, type MonthSummary } from '../../lib/ems/dashboard';
import { FLEET_LIMITS, fleetStep, fleetSummary, loadScope, meterMatches, newFleet, scopeKey, scopeTotals, treeMeters } from '../../lib/ems/dashboard-fleet';
import { DashboardFlowRunner, fakeMeters, type FlowWork } from '../fixtures/dashboard-flow-runner';

const TZ = 'Europe/Berlin';
const NOW = Date.parse('2026-11-21T16:30:00Z');
const flow = dashboardFlow();
const client = (socketId: string, session = 'sess-admin') => ({ socketId, emsSessionId: session, emsLogin: 'admin', emsRole: 'admin' });
const view = (path: string, c: ReturnType<typeof client>) => ({ topic: '$pageview', payload: { page: { path } }, _client: c });

/** A runner of `n` meters at a clock the test moves. */
function fleet(n: number, visible?: (session: string) => ReturnType<typeof fakeMeters>) {
  const clock = { t: NOW };
  const meters = fakeMeters(n);
  const runner = new DashboardFlowRunner(flow, meters, () => clock.t, TZ, visible);
  const tick = (times = 1) => {
    for (let i = 0; i < times; i++) {
      clock.t += 5_000;
      runner.send('dash-clients', { topic: 'dash-tick' });
    }
  };
  const sent = (id: string, socket?: string) => runner.widgets.filter((w) => w.node === id && (!socket || w.msg._client.socketId === socket));
  const last = (id: string, socket?: string) => sent(id, socket).at(-1)?.msg;
  return { clock, meters, runner, tick, sent, last };
}

const calls = (w: FlowWork) => Object.values(w.api).reduce((a, b) => a + b, 0);

describe('the dashboard at fleet scale', () => {
  it('nobody looking: a minute of the timer reads nothing, asks the API nothing and sends nothing, before and after a visit', () => {
    const f = fleet(10_000);
    f.tick(12);
    assert.deepEqual([calls(f.runner.work), f.runner.work.storeRows, f.runner.work.widgetMessages], [0, 0, 0]);
    const c = client('s1');
    f.runner.send('dash-clients', view('/overview', c));
    f.tick(4);
    assert.ok(f.runner.work.storeRows > 0 && f.sent('dash-ov-meters').length > 0, 'a client looking is served');
    f.runner.send('dash-clients', { payload: 'lost', _client: c });
    f.runner.reset();
    f.tick(12);
    assert.deepEqual([calls(f.runner.work), f.runner.work.storeRows, f.runner.work.widgetMessages], [0, 0, 0]);
  });

  it('two clients on the same page share one computation: the same reads as one client, the same view for both', () => {
    const run = (sockets: string[]) => {
      const f = fleet(1000);
      // Two sessions of the same user: the same meters, one scope.
      sockets.forEach((s, i) => f.runner.send('dash-clients', view('/overview', client(s, `sess-${i}`))));
      f.runner.reset();
      f.tick(12);
      return f;
    };
    const one = run(['a']);
    const two = run(['a', 'b']);
    assert.equal(two.runner.work.storeRows, one.runner.work.storeRows, 'newest values read once per step, not per client');
    assert.equal(two.runner.work.api['reports.tariffs'], one.runner.work.api['reports.tariffs'], 'month reports asked for once per step');
    assert.ok(one.runner.work.storeRows > 0);
    for (const id of ['dash-ov-meters', 'dash-ov-today', 'dash-ov-month', 'dash-ov-alarm-count']) {
      assert.deepEqual(two.last(id, 'b')?.payload, two.last(id, 'a')?.payload, `${id}: the same for both clients`);
    }
    assert.equal(two.sent('dash-ov-meters', 'b').length, one.sent('dash-ov-meters', 'a').length, 'each client one view per step');
  });

  it('the work of a refresh stays flat from 100 to 10,000 meters', () => {
    const perRefresh = (n: number) => {
      const f = fleet(n);
      f.runner.send('dash-clients', view('/overview', client('s1')));
      f.tick(4);
      f.runner.reset();
      f.tick(24); // two minutes: 12 refreshes of the overview
      const w = f.runner.work;
      return { api: calls(w) / 12, storeRows: w.storeRows / 12, functionRuns: w.functionRuns / 12, widgetRows: w.widgetRows / 12, widgetMessages: w.widgetMessages / 12 };
    };
    const small = perRefresh(100);
    for (const n of [1000, 10_000]) {
      const big = perRefresh(n);
      for (const k of Object.keys(small) as (keyof typeof small)[]) assert.ok(big[k] <= small[k], `${k} per refresh: ${big[k]} at ${n} meters, ${small[k]} at 100`);
    }
    // What a refresh costs, whatever the number of meters: one step's bounded reads, a page of rows.
    assert.ok(small.storeRows <= 3 * FLEET_LIMITS.scanSlice + 31 * FLEET_LIMITS.reportSlice, `store rows ${small.storeRows}`);
    assert.ok(small.widgetRows <= 2 * FLEET_LIMITS.rows + 10, `widget rows ${small.widgetRows}`);
  });

  it('a page of 10,000 meters shows a bounded selection, and the picker finds any meter', () => {
    const f = fleet(10_000);
    const c = client('s1');
    f.runner.send('dash-clients', view('/overview', c));
    f.tick(2);
    const rows = f.last('dash-ov-meters')!.payload as { Meter: string }[];
    assert.equal(rows.length, FLEET_LIMITS.rows);
    assert.equal(f.last('dash-ov-shown')!.payload, `${FLEET_LIMITS.rows} of 10000 meters: type to find one`);
    // Finding on the overview: the rows are the matches.
    const wanted = f.meters[Math.floor(Math.random() * f.meters.length)].id;
    f.runner.send('dash-clients', { topic: 'dash-find', payload: wanted.slice(0, -1), _client: c });
    f.tick(2);
    const found = (f.last('dash-ov-meters')!.payload as { Meter: string }[]).map((r) => r.Meter);
    assert.ok(found.includes(wanted) && found.every((id) => id.startsWith(wanted.slice(0, -1))), `${wanted}: ${found}`);
    // The meter page: a bounded dropdown; typing a meter's id picks it and shows its live values.
    f.runner.send('dash-clients', view('/meter', c));
    const options = f.last('dash-mt-meter')!.options as unknown[];
    assert.ok(options.length <= FLEET_LIMITS.pick + 1, `${options.length} options`);
    const other = f.meters[Math.floor(Math.random() * f.meters.length)].id;
    f.runner.send('dash-clients', { topic: 'dash-find', payload: other, _client: c });
    assert.deepEqual([f.last('dash-mt-meter')!.options, f.last('dash-mt-meter')!.payload], [[{ value: other, label: other }], other]);
    assert.deepEqual(f.last('dash-mt-live')!.payload[0], { Quantity: 'Active power', Value: 1500 + f.meters.findIndex((m) => m.id === other), Unit: 'W' });
    // The reports page offers the same choice, and its find field shows what was typed.
    f.runner.send('dash-clients', view('/reports', c));
    assert.deepEqual([f.last('dash-rp-meter')!.payload, f.last('dash-rp-find')!.payload], [other, other]);
    assert.equal(f.last('dash-rp-report') === undefined, true, 'the report request goes to the API, not to a widget');
    assert.equal(f.runner.work.api['reports.tariffs'] > 0, true);
  });

  it('stale meters: counted as the steps reach them, at most a page listed, each with its silence', () => {
    const f = fleet(300);
    f.runner.send('dash-clients', view('/overview', client('s1')));
    f.tick(2);
    const early = /^0 \((\d+) of 300 meters checked so far\)$/.exec(f.last('dash-ov-alarm-count')!.payload);
    assert.ok(early && Number(early[1]) < 300, f.last('dash-ov-alarm-count')!.payload);
    // Ten minutes without a reading (the meters are polled every 60 s): stale once read again.
    f.clock.t += 600_000;
    f.tick(2 * 8);
    assert.equal(f.last('dash-ov-alarm-count')!.payload, '300');
    const alarms = f.last('dash-ov-alarms')!.payload as { Meter: string; Alarm: string }[];
    assert.equal(alarms.length, FLEET_LIMITS.rows);
    assert.match(alarms[0].Alarm, /^no reading for \d+ s \(polled every 60 s\)$/);
  });

  it('a viewer\'s overview shows only the meters of her folders; users who see the same meters share their figures', () => {
    const all = fakeMeters(500);
    const f = fleet(500, (session) => (session === 'sess-vera' ? all.filter((m) => m.folder === 'f2') : all));
    const vera = { ...client('s-vera', 'sess-vera'), emsLogin: 'vera', emsRole: 'viewer' };
    f.runner.send('dash-clients', view('/overview', vera));
    f.runner.send('dash-clients', view('/overview', client('s-admin')));
    f.tick(12);
    const veraRows = f.sent('dash-ov-meters', 's-vera').flatMap((w) => w.msg.payload.map((r: { Meter: string }) => r.Meter));
    assert.ok(veraRows.length > 0 && veraRows.every((id: string) => all.find((m) => m.id === id)!.folder === 'f2'), 'only her folder\'s meters');
    assert.match(f.last('dash-ov-shown', 's-vera')!.payload, /of 100 meters/);
    assert.match(f.last('dash-ov-shown', 's-admin')!.payload, /of 500 meters/);
  });
});

describe('the fleet state\'s figures', () => {
  const envelope = (meter: string, register: string, unit: string, today: number, month: number, currency?: string) => ({
    error: null,
    data: {
      meter, unit, registers: { first_tariff: register }, ...(currency ? { tariff: { currency } } : {}),
      rows: [{ date: '2026-11-21T00:00:00', total: String(today), total_cost: String(today * 0.3) }], totals: { total: String(month), total_cost: String(month * 0.3) },
    },
  });

  it('match the per-meter reference (overviewTotals) once every meter is counted, and follow each change', () => {
    const tree = [{ _id: 'site', child_folders: [{ _id: 'a', meter: 'a', child_folders: [] }, { _id: 'b', meter: 'b', child_folders: [] }, { _id: 'c', meter: 'c', child_folders: [] }] }];
    const { ids, intervals } = treeMeters({ data: tree, error: null });
    const f = newFleet();
    const key = loadScope(f, 'sess', ids, intervals, { s: { client: { socketId: 's', emsSessionId: 'sess' }, page: 'overview', meter: null, range: '24h', step: 'day', seen: NOW, refreshed: NOW, synced: true } }, NOW);
    assert.equal(key, scopeKey(['a', 'b', 'c']));
    const summaries: Record<string, MonthSummary> = {
      a: monthSummary(envelope('a', '1-0:1.8.0', 'kWh', 12.5, 300.25, 'EUR'), '2026-11-21')!,
      b: monthSummary(envelope('b', '8-0:1.0.0', 'm3', 0.25, 7.125), '2026-11-21')!,
      c: monthSummary(envelope('c', '1-0:1.8.0', 'kWh', 1.5, 20, 'EUR'), '2026-11-21')!,
    };
    fleetSummary(f, key, 'a', summaries.a, NOW, 60_000);
    assert.match(scopeTotals(f.scopes[key]).month, /^300\.25 kWh \(1 of 3 meters counted so far\)$/);
    fleetSummary(f, key, 'b', summaries.b, NOW, 60_000);
    fleetSummary(f, key, 'c', summaries.c, NOW, 60_000);
    assert.deepEqual(scopeTotals(f.scopes[key]), overviewTotals(Object.values(summaries)));
    // A newer report of one meter replaces its part (the old subtracted, the new added).
    summaries.c = monthSummary(envelope('c', '1-0:1.8.0', 'kWh', 4, 22.5), '2026-11-21')!;
    fleetSummary(f, key, 'c', summaries.c, NOW + 60_000, 60_000);
    assert.deepEqual(scopeTotals(f.scopes[key]), overviewTotals(Object.values(summaries)));
  });

  it('a step is bounded and shared: at most the slices, none again within the step time, round the scope', () => {
    const ids = Array.from({ length: 10_000 }, (_, i) => `m${String(i).padStart(5, '0')}`).sort();
    const f = newFleet();
    const key = loadScope(f, 'sess', ids, {}, {}, NOW);
    const limits = { ...FLEET_LIMITS, scanSlice: 100, reportSlice: 10 };
    const first = fleetStep(f, key, NOW, limits)!;
    assert.deepEqual([first.latest.length, first.reports.length], [100, 10]);
    assert.equal(fleetStep(f, key, NOW + 5_000, limits), null, 'another client within the step time gets the shared state');
    const second = fleetStep(f, key, NOW + 10_000, limits)!;
    assert.equal(second.latest[0], ids[100], 'the next step goes on round the scope');
    // A different list under a key already taken (a hash collision, forced here) gets a scope of its own.
    const other = ids.slice(0, 5);
    f.scopes[scopeKey(other)] = { ...f.scopes[key], key: scopeKey(other), ids: ids.slice(5, 10) };
    f.sessions['sess-2'] = { key: scopeKey(other), at: NOW };
    const otherKey = loadScope(f, 'sess-3', other, {}, {}, NOW);
    assert.notEqual(otherKey, scopeKey(other));
    assert.deepEqual(f.scopes[otherKey].ids, other);
    assert.deepEqual(meterMatches(ids, 'M0424', 50).slice(0, 2), ['m04240', 'm04241']);
    assert.deepEqual(meterMatches(ids, '9999', 50), ['m09999']);
  });
});
