// The dashboard's Site page: its periods, its client flow and its tables, run as the shipped function nodes on a real
// site report (lib/ems/site-report.ts over a SQLite store), so a change of the report's shape breaks this test.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import vm from 'node:vm';
import { dashboardFlow } from '../../lib/ems/dashboard-flow';
import { chooseSite, siteQuery, type SiteChoices } from '../../lib/ems/dashboard-site';
import { BUILT_IN_CATEGORIES } from '../../lib/ems/energy-categories';
import { siteReport, type SiteFolder, type SiteMeter } from '../../lib/ems/site-report';
import { fromLocal } from '../../lib/model/time';
import type { Reading } from '../../lib/model/reading';
import { SqliteStore } from '../../lib/store/sqlite';

const TZ = 'Europe/Berlin';
const H = 3_600_000;
const NOW = Date.parse('2026-11-21T16:30:00Z');
const flow = dashboardFlow();

/** Runs the body of the shipped function node `id` on `msg` (flow context shared between calls), as Node-RED does. */
function runner(id: string, flowContext: Map<string, unknown>, now = () => NOW) {
  const node = flow.find((n) => n.id === id);
  assert.ok(node, `the dashboard tab has a node ${id}`);
  const clock = Object.assign(function (...args: unknown[]) { return new (Date as any)(...args); }, { now, UTC: Date.UTC, parse: Date.parse });
  return (msg: unknown) => JSON.parse(JSON.stringify(vm.runInNewContext(`(function () {\n${node.func as string}\n})()`, {
    msg, env: { get: (k: string) => (k === 'EMS_TIME_ZONE' ? TZ : undefined) }, Date: clock,
    flow: { get: (k: string) => flowContext.get(k), set: (k: string, v: unknown) => flowContext.set(k, v) },
    context: { get: () => undefined, set: () => undefined }, node: { status: () => undefined },
  }) ?? null));
}

describe('dashboard Site page: periods', () => {
  it('this month so far, last month, this year so far and last year (both ends included), each with the same period a year before', () => {
    assert.deepEqual(siteQuery('month', '2026-03-31'), { from: '2026-03-01', to: '2026-03-31', step: 'day', base_from: '2025-03-01', base_to: '2025-03-31' });
    assert.deepEqual(siteQuery('month', '2026-11-21'), { from: '2026-11-01', to: '2026-11-21', step: 'day', base_from: '2025-11-01', base_to: '2025-11-21' });
    // January: last month is December of the year before; February's last day in a leap year.
    assert.deepEqual(siteQuery('last-month', '2026-01-15'), { from: '2025-12-01', to: '2025-12-31', step: 'day', base_from: '2024-12-01', base_to: '2024-12-31' });
    assert.deepEqual(siteQuery('last-month', '2028-03-02'), { from: '2028-02-01', to: '2028-02-29', step: 'day', base_from: '2027-02-01', base_to: '2027-02-28' });
    assert.deepEqual(siteQuery('year', '2026-12-31'), { from: '2026-01-01', to: '2026-12-31', step: 'month', base_from: '2025-01-01', base_to: '2025-12-31' });
    assert.deepEqual(siteQuery('last-year', '2026-06-10'), { from: '2025-01-01', to: '2025-12-31', step: 'month', base_from: '2024-01-01', base_to: '2024-12-31' });
    // 29 February so far: the base ends on 28 February of the year before.
    assert.deepEqual(siteQuery('month', '2028-02-29'), { from: '2028-02-01', to: '2028-02-29', step: 'day', base_from: '2027-02-01', base_to: '2027-02-28' });
  });

  it('a choice changes the page only when it is a known period or another folder', () => {
    const c: SiteChoices = { folder: 'site', period: 'month' };
    assert.equal(chooseSite(c, { topic: 'dash-si-period', payload: 'decade' }), false);
    assert.equal(chooseSite(c, { topic: 'dash-si-period', payload: 'month' }), false);
    assert.equal(chooseSite(c, { topic: 'dash-si-period', payload: 'year' }), true);
    assert.equal(chooseSite(c, { topic: 'dash-si-folder', payload: 'hall' }), true);
    assert.equal(chooseSite(c, { topic: 'dash-meter', payload: 'x' }), false);
    assert.deepEqual(c, { folder: 'hall', period: 'year' });
  });
});

describe('dashboard Site page: client flow and tables from a real site report', () => {
  let store: SqliteStore;
  const local = (month: number, day: number, hour = 0) => fromLocal({ year: 2026, month, day, hour, minute: 0, second: 0, millisecond: 0 }, TZ);
  const folders: SiteFolder[] = [
    { _id: 'site', name: 'Werk Berlin', folder_type: 'site', parent_id: null, area_m2: 2000, time_zone: TZ },
    { _id: 'hall', name: 'Halle 1', folder_type: 'building', parent_id: 'site', area_m2: 1200, time_zone: null },
  ];
  const meter = (id: string, folder_id: string, parent_meter = ''): SiteMeter => ({ id, name: id.toUpperCase(), folder_id, parent_meter, energy_category: '', protocol: 'manual' });
  const meters = [meter('main', 'site'), meter('hvac', 'hall', 'main'), meter('light', 'site', 'main')];

  before(async () => {
    store = new SqliteStore({ path: ':memory:' });
    const out: Reading[] = [];
    // 1 to 21 November: main +10 kWh/h, hvac +4, light +7 (more than main minus hvac: a negative remainder of 1 kWh/h).
    for (let k = 0; k <= 20 * 24; k++) {
      const t = local(11, 1) + k * H;
      out.push({ meter: 'main', obis: '1-0:1.8.0', time: t, value: 1000 + 10 * k, unit: 'kWh' });
      out.push({ meter: 'hvac', obis: '1-0:1.8.0', time: t, value: 200 + 4 * k, unit: 'kWh' });
      out.push({ meter: 'light', obis: '1-0:1.8.0', time: t, value: 300 + 7 * k, unit: 'kWh' });
    }
    await store.write(out);
  });
  after(async () => { await store.close(); });

  it('a view of /site asks for the user\'s folders, picks their first, and shows the report\'s categories, remainder and status', async () => {
    const ctx = new Map<string, unknown>();
    const vera = { socketId: 's-vera', emsSessionId: 'sess-v', emsLogin: 'vera', emsRole: 'viewer' };
    const [meterPages, , site] = runner('dash-clients', ctx)({ topic: '$pageview', payload: { page: { path: '/site' } }, _client: vera });
    assert.deepEqual(meterPages, [], 'the Site page does not ask for the meter list');
    assert.equal(site.length, 1);
    assert.deepEqual(site[0].dash, { page: 'site', meter: null, range: '24h', step: 'day', reason: 'view', sync: true });
    const session = runner('dash-si-req', ctx)(site[0]);
    assert.equal(session._client.socketId, 's-vera');
    const tree = runner('dash-si-tree-req', ctx)({ ...session, payload: { data: { user: { open_folders: ['site'] } } } });
    assert.deepEqual(tree.openFolders, ['site']);
    const answerTree = { data: [{ _id: 'site', name: 'Werk Berlin', child_folders: [{ _id: 'hall', name: 'Halle 1', child_folders: [] }, { _id: 'm1', name: 'main', meter: 'main' }] }] };
    const [folderDropdown, periodDropdown, request, notice] = runner('dash-si-folders', ctx)({ ...tree, payload: answerTree });
    assert.deepEqual(folderDropdown.options, [{ value: 'site', label: 'Werk Berlin' }, { value: 'hall', label: 'Werk Berlin / Halle 1' }]);
    assert.equal(folderDropdown.payload, 'site');
    assert.equal(periodDropdown.payload, 'month');
    assert.equal(notice, null);
    assert.deepEqual(request.params, { id: 'site' });
    assert.deepEqual(request.query, { from: '2026-11-01', to: '2026-11-21', step: 'day', base_from: '2025-11-01', base_to: '2025-11-21' });

    // The report the API answers for that query (the same pure function), shaped into the page's widgets.
    const report = await siteReport(store, {
      folder: folders[0], folders, location: ['Werk Berlin'], meters, categories: BUILT_IN_CATEGORIES, from: local(11, 1), to: local(11, 22), step: 'day', timeZone: TZ,
      base: { from: Date.parse('2025-11-01T00:00:00+01:00'), to: Date.parse('2025-11-22T00:00:00+01:00') },
    });
    const [cats, sub, spaces, top, status] = runner('dash-si-shape', ctx)({ _client: vera, payload: { data: report, error: null } });
    // main counts (hvac and light are its sub-meters): 20 days x 24 h x 10 kWh = 4800 kWh, 2.4 kWh/m2.
    assert.equal(cats.payload.length, 1);
    assert.equal(cats.payload[0].Category, 'Electricity');
    assert.equal(cats.payload[0].Consumption, '4,800 kWh');
    assert.equal(cats.payload[0]['Per m²'], '2.4 kWh');
    assert.equal(cats.payload[0]['A year before'], '', 'no readings a year before: no base (not a base of zero)');
    assert.equal(cats.payload[0].Change, '');
    // The breakdown: main, its two sub-meters, and the remainder 4800 - 1920 - 3360 = -480 kWh, flagged.
    assert.deepEqual(sub.payload.map((r: Record<string, string>) => [r.Meter.trim(), r.Part, r.Consumption]), [
      ['MAIN', 'master meter', '4,800 kWh'], ['HVAC', 'sub-meter', '1,920 kWh'], ['LIGHT', 'sub-meter', '3,360 kWh'],
      ['MAIN: unmetered', 'remainder NEGATIVE (check the meters)', '-480 kWh'],
    ]);
    assert.deepEqual(spaces.payload.map((r: Record<string, string>) => [r.Space, r.Consumption, r['Per m²']]), [['Halle 1', '1,920 kWh', '1.6 kWh']]);
    assert.deepEqual([top.payload[0].Category, top.payload[0].Consumer], ['Electricity', 'LIGHT']);
    assert.equal(spaces.payload[0].Category, 'Electricity');
    assert.match(status.payload, /^Werk Berlin, 2,000 m², 2026-11-01 to 2026-11-21: [\d,.]+ kgCO2e, [\d,.]+ kgce; 2 notes: electricity: no readings in the base period/);
    assert.ok(report.notes.includes('electricity: no readings in the base period; nothing to compare with'), report.notes.join('\n'));
    for (const m of [cats, sub, spaces, top, status]) assert.equal(m._client.socketId, 's-vera', 'every widget message answers her socket only');

    // She picks the hall and last year: the page is computed again with those.
    const again = runner('dash-si-choose', ctx)({ _client: vera, topic: 'dash-si-folder', payload: 'hall' });
    assert.deepEqual(again.dash, { page: 'site', meter: null, range: '24h', step: 'day', reason: 'change', sync: false });
    runner('dash-si-choose', ctx)({ _client: vera, topic: 'dash-si-period', payload: 'last-year' });
    const [noDropdown, , request2] = runner('dash-si-folders', ctx)({ ...tree, dash: again.dash, payload: answerTree });
    assert.equal(noDropdown, null, 'no dropdown update without a page view');
    assert.deepEqual([request2.params.id, request2.query.from, request2.query.to, request2.query.step], ['hall', '2025-01-01', '2025-12-31', 'month']);
  });

  it('an API error shows as the status, with empty tables', () => {
    const [cats, sub, spaces, top, status] = runner('dash-si-shape', new Map())({ _client: { socketId: 's' }, payload: { data: null, error: 'period from 2020-01-01 to 2026-01-01 is more than 400 days', status: 400 } });
    assert.deepEqual([cats.payload, sub.payload, spaces.payload, top.payload], [[], [], [], []]);
    assert.equal(status.payload, 'No report: period from 2020-01-01 to 2026-01-01 is more than 400 days');
  });
});
