/** The alarm rules on the dashboard's Alarms page (the table; the form: ems-dashboard-rule-form.test.ts): condition summaries and rows from the alarm API's real answers; and the tab's rule function nodes. */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { dashboardFlow } from '../../lib/ems/dashboard-flow';
import { activeHours, conditionSummary, ruleRows, rulesRequest, rulesStatus, shortDuration, subjectNames, subjectText } from '../../lib/ems/dashboard-rules';
import type { EmsServices } from '../../lib/ems/services';
import { dashboardPlant, runTabFunction, type DashboardPlant, type PlantFolder } from '../fixtures/dashboard-plant';

const T0 = Date.parse('2026-12-07T10:00:00Z');
const TZ = 'Europe/Berlin';

describe('condition summaries', () => {
  it('one line for every condition type', () => {
    const cases: [Record<string, unknown>, string][] = [
      [{ type: 'threshold', obis: '1-0:1.7.0', direction: 'above', value: 50, unit: 'kW' }, '1-0:1.7.0 above 50 kW'],
      [{ type: 'threshold', obis: '1-0:32.7.0', direction: 'below', value: 207, unit: 'V' }, '1-0:32.7.0 below 207 V'],
      [{ type: 'stale', intervals: 3 }, 'no reading for 3 intervals'],
      [{ type: 'stale', intervals: 1 }, 'no reading for 1 interval'],
      [{ type: 'poll_failures', count: 3 }, '3 failed polls in a row'],
      [{ type: 'window_consumption', obis: '1-0:1.8.0', window: '1h', above: 10, unit: 'kWh' }, '1h consumption above 10 kWh'],
      [{ type: 'window_consumption', obis: '1-0:2.8.0', window: '1d', above: 500, below: 20, unit: 'kWh' }, '1d consumption of 1-0:2.8.0 above 500 kWh or below 20 kWh'],
      [{ type: 'window_consumption', obis: '8-0:1.0.0', window: '15m', below: 0.1, unit: 'm3' }, '15m consumption of 8-0:1.0.0 below 0.1 m3'],
      [{ type: 'anomaly', obis: '1-0:1.8.0', window: '1h', weeks: 4, factor: 1.5, min: 0, unit: 'kWh' }, '1h above 1.5 x median of 4 weeks'],
      [{ type: 'anomaly', obis: '1-0:1.8.0', window: '1h', weeks: 1, factor: 2, min: 3, unit: 'kWh' }, '1h above 2 x median of 1 week and at least 3 kWh more'],
      [{ type: 'register_sanity', obis: '1-0:1.8.0', kinds: ['backwards', 'reset'] }, 'register backwards/reset'],
      [{ type: 'register_sanity', obis: '8-0:1.0.0', kinds: ['spike'] }, '8-0:1.0.0 spike'],
      [{ type: 'prepaid_balance_below', amount: 5 }, 'prepaid balance below 5'],
      [{ type: 'license_expiring', days: 30 }, 'license expires within 30 days'],
      [{ type: 'spool_filling', percent: 80 }, 'store spool 80 % full'],
    ];
    for (const [condition, text] of cases) assert.equal(conditionSummary(condition), text, JSON.stringify(condition));
    assert.equal(conditionSummary({ type: 'threshold', obis: '1-0:1.7.0', direction: 'above', value: 50, unit: 'kW' }, 2.5), '1-0:1.7.0 above 50 kW (hysteresis 2.5 kW)');
    assert.equal(conditionSummary({ type: 'virtual_thing' }), 'virtual_thing', 'a type this dashboard does not know yet is named');
    assert.equal(conditionSummary(null), 'unknown condition');
  });

  it('active hours, durations and subjects in a few words', () => {
    assert.equal(activeHours(null), 'always');
    assert.equal(activeHours({ days: [1, 2, 3, 4, 5], from: '07:00', to: '18:00' }), 'Mon-Fri 07:00-18:00');
    assert.equal(activeHours({ days: [7, 1, 2, 3, 4, 5, 6], from: '22:00', to: '06:00' }), 'every day 22:00-06:00');
    assert.equal(activeHours({ days: [1, 3, 6, 7], from: '08:00', to: '12:00' }), 'Mon, Wed, Sat, Sun 08:00-12:00');
    assert.deepEqual([0, 45, 300, 7200, 86_400, 5400, 90].map(shortDuration), ['0 s', '45 s', '5 min', '2 h', '1 d', '90 min', '90 s']);
    const names = subjectNames([{ _id: 'f1', name: 'Plant', child_folders: [{ _id: 'f2', name: 'Hall 2', child_folders: [{ _id: 'm1', name: 'Main incomer', meter: 'm1', child_folders: [] }] }] }]);
    assert.deepEqual(names, { meters: { m1: 'Main incomer' }, folders: { f1: 'Plant', f2: 'Plant / Hall 2' } });
    assert.equal(subjectText({ meter: 'm1' }, names), 'Main incomer');
    assert.equal(subjectText({ meter: 'gone' }, names), 'gone', 'an id where no name is known');
    assert.equal(subjectText({ folder: 'f2', scope: 'subtree' }, names), 'Plant / Hall 2 and below');
    assert.equal(subjectText({ folder: 'f1', scope: 'folder' }, names), 'Plant (its own meters)');
    assert.equal(subjectText(null, names), 'EMS');
  });
});

describe('dashboard rules from the alarm API', () => {
  let plant: DashboardPlant;
  let services: EmsServices;
  const folders = {} as Record<PlantFolder, string>;
  const rules: Record<string, string> = {};
  const dash: DashboardPlant['dash'] = (who, name, req) => plant.dash(who, name, req);

  before(async () => {
    plant = await dashboardPlant(T0, [['op-a', 'operator', 'a'], ['op-b', 'operator', 'b']]);
    services = plant.services;
    Object.assign(folders, plant.folders);
    const make = (body: Record<string, unknown>) => { rules[body.name as string] = services.alarms.createRule(body, 'boss').id; };
    make({
      name: 'Peak', subject: { meter: 'a1' }, severity: 'critical', condition: { type: 'threshold', obis: '1-0:1.7.0', direction: 'above', value: 50, unit: 'kW' },
      hysteresis: 2, delay_s: 0, clear_after_s: 90, hold_off_s: 3600, active: { days: [1, 2, 3, 4, 5], from: '07:00', to: '18:00' },
    });
    make({ name: 'Silent hall', subject: { folder: folders.hall, scope: 'folder' }, condition: { type: 'stale', intervals: 3 } });
    make({ name: 'Night use', subject: { folder: folders.a }, condition: { type: 'window_consumption', window: '1h', above: 10 } });
    make({ name: 'Odd hour', subject: { meter: 'a1' }, condition: { type: 'anomaly', weeks: 4, factor: 1.5 } });
    make({ name: 'Register', subject: { meter: 'a1' }, condition: { type: 'register_sanity', kinds: ['backwards', 'reset'] }, severity: 'info' });
    make({ name: 'Failing', subject: { meter: 'b1' }, condition: { type: 'poll_failures', count: 3 } });
    make({ name: 'Credit', subject: { meter: 'b1' }, condition: { type: 'prepaid_balance_below', amount: 5 } });
    make({ name: 'License', subject: null, condition: { type: 'license_expiring', days: 30 } });
    make({ name: 'Spool', subject: null, condition: { type: 'spool_filling' }, enabled: false });
    // A raised alarm, cleared when its rule is disabled.
    await services.alarms.onReadings([{ meter: 'a1', time: T0, obis: '1-0:1.7.0', value: 75, unit: 'kW' }]);
  });
  after(() => plant.close());

  it('rows: each user sees the rules of their folders with subjects named, conditions summed up, timing, hours and state', async () => {
    const list = await dash('boss', 'alarmrules.list');
    const tree = (await dash('boss', 'folders.tree')).data;
    const rows = ruleRows(list, tree);
    assert.deepEqual(rows.map((r) => [r.Rule, r.Subject, r.Condition]), [
      ['Credit', 'Meter b1', 'prepaid balance below 5'],
      ['Failing', 'Meter b1', '3 failed polls in a row'],
      ['License', 'EMS', 'license expires within 30 days'],
      ['Night use', 'Plant A and below', '1h consumption above 10 kWh'],
      ['Odd hour', 'Meter a1', '1h above 1.5 x median of 4 weeks'],
      ['Peak', 'Meter a1', '1-0:1.7.0 above 50 kW (hysteresis 2 kW)'],
      ['Register', 'Meter a1', 'register backwards/reset'],
      ['Silent hall', 'Plant A / Hall 1 (its own meters)', 'no reading for 3 intervals'],
      ['Spool', 'EMS', 'store spool 80 % full'],
    ]);
    assert.deepEqual(rows.find((r) => r.Rule === 'Peak'), {
      Rule: 'Peak', Subject: 'Meter a1', Condition: '1-0:1.7.0 above 50 kW (hysteresis 2 kW)', Severity: 'Critical', 'Delay / clear / hold-off': '0 s / 90 s / 1 h',
      'Active hours': 'Mon-Fri 07:00-18:00', Enabled: 'yes',
    });
    assert.deepEqual(rows.find((r) => r.Rule === 'Spool'), {
      Rule: 'Spool', Subject: 'EMS', Condition: 'store spool 80 % full', Severity: 'Warning', 'Delay / clear / hold-off': '0 s / 0 s / 5 min', 'Active hours': 'always', Enabled: 'no',
    });
    assert.equal(rulesStatus(list), '9 rules, 1 disabled');
    // op-a sees Plant A's rules only (no EMS rules: not every folder is open to her), op-b Plant B's.
    const opA = await dash('op-a', 'alarmrules.list');
    assert.deepEqual(ruleRows(opA, (await dash('op-a', 'folders.tree')).data).map((r) => r.Rule), ['Night use', 'Odd hour', 'Peak', 'Register', 'Silent hall']);
    assert.equal(rulesStatus(opA), '5 rules, all enabled');
    assert.deepEqual(ruleRows(await dash('op-b', 'alarmrules.list'), (await dash('op-b', 'folders.tree')).data).map((r) => `${r.Rule} - ${r.Subject}`), ['Credit - Meter b1', 'Failing - Meter b1']);
    // Without the tree (its answer failed) the ids are shown.
    assert.equal(ruleRows(opA, undefined).find((r) => r.Rule === 'Peak')!.Subject, 'a1');
    assert.deepEqual(ruleRows({ data: null, error: 'log in first', status: 401 }, tree), []);
    assert.equal(rulesStatus({ data: null, error: 'log in first', status: 401 }), 'Rules unavailable: log in first');
    assert.equal(rulesStatus({ data: [], error: null }), 'No alarm rules in your folders');
  });
});

describe('dashboard rule function nodes', () => {
  const flow = dashboardFlow();
  const vera = { socketId: 's-vera', emsSessionId: 'sess-v', emsLogin: 'vera', emsRole: 'viewer' };
  const run = (id: string, flowContext: Map<string, unknown>, msg: unknown) => runTabFunction(flow, id, flowContext, msg, TZ);
  const view = (path: string) => ({ topic: '$pageview', payload: { page: { path } }, _client: vera });
  const rule = (id: string, name: string, enabled: boolean) => ({
    id, name, subject: { meter: 'hvac' }, condition: { type: 'poll_failures', count: 3 }, severity: 'warning', delay_s: 0, hysteresis: 0, clear_after_s: 0, hold_off_s: 300, active: null, enabled,
  });

  it('the Alarms page asks for the rules (other pages do not), names their subjects and fills the table and status', () => {
    const ctx = new Map<string, unknown>();
    const [, [elsewhere]] = run('dash-clients', ctx, view('/meter'));
    assert.equal(run('dash-ru-req', ctx, elsewhere), null, 'no rules on the meter page');
    const [, [refresh]] = run('dash-clients', ctx, view('/alarms'));
    const req = run('dash-ru-req', ctx, refresh);
    assert.deepEqual(req, { _client: vera, dash: refresh.dash, params: {}, query: {}, payload: {} });
    const list = { data: [rule('r1', 'Failing', true), rule('r2', 'Quiet', false)], error: null, status: 200 };
    const [sessionReq, kept] = run('dash-ru-session-req', ctx, { ...req, payload: list, statusCode: 200 });
    assert.deepEqual([sessionReq, kept], [{ _client: vera, dash: refresh.dash, rules: list, params: {}, query: {}, payload: {} }, null]);
    assert.equal(run('dash-ru-session-req', ctx, { ...req, payload: { data: null, error: 'log in first', status: 401 }, statusCode: 401 }), null);
    const session = { data: { user: { login: 'vera', role: 'viewer', open_folders: ['f1'] } }, error: null, status: 200 };
    const treeReq = run('dash-ru-tree-req', ctx, { ...sessionReq, payload: session, statusCode: 200 });
    assert.deepEqual(treeReq, { _client: vera, dash: refresh.dash, rules: list, openFolders: ['f1'], params: {}, query: {}, payload: {} });
    const tree = { data: [{ _id: 'f1', name: 'Plant', child_folders: [{ _id: 'hvac', name: 'HVAC', meter: 'hvac', child_folders: [] }] }], error: null };
    const [table, status, show, ruleDropdown, subjectDropdown, form] = run('dash-ru-rows', ctx, { ...treeReq, payload: tree, statusCode: 200 });
    assert.deepEqual(table.payload.map((r: Record<string, string>) => [r.Rule, r.Subject, r.Condition, r.Enabled]), [['Failing', 'HVAC', '3 failed polls in a row', 'yes'], ['Quiet', 'HVAC', '3 failed polls in a row', 'no']]);
    assert.deepEqual(status, { _client: vera, payload: '2 rules, 1 disabled' });
    assert.deepEqual([show, ruleDropdown, subjectDropdown, form], [null, null, null, null], 'a viewer gets no rule form');
    // A timer refresh soon after: the names of the rules' subjects are kept, the folder tree is not read again.
    const tick = { ...req, dash: { ...refresh.dash, reason: 'tick', sync: false } };
    const [again, direct] = run('dash-ru-session-req', ctx, { ...tick, payload: list, statusCode: 200 });
    assert.equal(again, null, 'no session and folder tree request');
    const [table2] = run('dash-ru-rows', ctx, direct);
    assert.deepEqual(table2.payload, table.payload);
    assert.deepEqual(JSON.parse(JSON.stringify((ctx.get('dash_clients') as Record<string, { ruleNames: unknown }>)[vera.socketId].ruleNames)), { meters: { hvac: 'HVAC' }, folders: {} });
  });
});
