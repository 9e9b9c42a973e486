/** The dashboard's alarms: rows, badge, acknowledge, history filters and paging, from the alarm API's real answers; and the tab's alarm function nodes. */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { dueRefreshes, trackClient } from '../../lib/ems/dashboard';
import {
  ackAnswer, ackDropdown, ackOptions, alarmChoices, alarmRefreshes, alarmRequests, alarmRows, chooseAlarmView, folderOptions, historyPage, historyQuery, inboxToast, summaryBadge,
  type AlarmChoices, type AlarmClient,
} from '../../lib/ems/dashboard-alarms';
import { dashboardFlow } from '../../lib/ems/dashboard-flow';
import type { EmsServices } from '../../lib/ems/services';
import { dashboardPlant, runTabFunction, type DashboardPlant, type PlantFolder } from '../fixtures/dashboard-plant';

const T0 = Date.parse('2026-12-07T10:00:00Z'); // 11:00 in Berlin
const TZ = 'Europe/Berlin';
const POWER = { type: 'threshold', obis: '1-0:1.7.0', direction: 'above', value: 50, unit: 'kW' };

describe('dashboard alarms from the alarm API', () => {
  let plant: DashboardPlant;
  let services: EmsServices;
  const folders = {} as Record<PlantFolder, string>;
  const dash: DashboardPlant['dash'] = (who, name, req) => plant.dash(who, name, req);

  before(async () => {
    plant = await dashboardPlant(T0, [['op-a', 'operator', 'a'], ['view-a', 'viewer', 'a'], ['op-hall', 'operator', 'hall'], ['op-b', 'operator', 'b']]);
    services = plant.services;
    Object.assign(folders, plant.folders);
    services.alarms.createRule({ name: 'A peak', subject: { folder: folders.a }, condition: POWER, severity: 'critical' }, 'boss');
    services.alarms.createRule({ name: 'B peak', subject: { meter: 'b1' }, condition: POWER, severity: 'warning' }, 'boss');
    services.alarms.createRule({ name: 'A info', subject: { meter: 'a1' }, condition: { ...POWER, value: 60 }, severity: 'info' }, 'boss');
    await services.alarms.onReadings([
      { meter: 'a1', time: T0, obis: '1-0:1.7.0', value: 75, unit: 'kW' },
      { meter: 'b1', time: T0, obis: '1-0:1.7.0', value: 80_000, unit: 'W' },
    ]);
  });
  after(() => plant.close());

  it('the badge counts the active alarms each user sees (the summary, no alarm read), with the worst severity and how many wait for an acknowledgement', async () => {
    assert.equal(summaryBadge(await dash('boss', 'alarms.summary', {})), '3 active alarms, worst critical, 3 not acknowledged');
    assert.equal(summaryBadge(await dash('op-a', 'alarms.summary', {})), '2 active alarms, worst critical, 2 not acknowledged');
    assert.equal(summaryBadge(await dash('op-b', 'alarms.summary', {})), '1 active alarm, worst warning, 1 not acknowledged');
    assert.equal(summaryBadge({ data: { active: 0, unacknowledged: 0, by_severity: {} }, error: null }), 'No active alarms');
    assert.equal(summaryBadge({ data: null, error: 'log in first', status: 401 }), 'Alarms unavailable: log in first');
    const many = { active: 2500, unacknowledged: 0, by_severity: { info: { active: 2500, unacknowledged: 0 }, warning: { active: 0, unacknowledged: 0 } } };
    assert.equal(summaryBadge({ data: many, error: null }), '2500 active alarms, worst info');
  });

  it('rows: severity, since in the EMS time zone, meter name, message, value and limit with the unit, state; only raised alarms can be chosen', async () => {
    const list = await dash('op-a', 'alarms.list', { query: { state: 'active' } });
    const alarms = list.data as { id: number; rule_name: string; message: string }[];
    const peak = alarms.find((a) => a.rule_name === 'A peak')!;
    const rows = alarmRows(list, TZ);
    assert.deepEqual(rows.find((r) => r.Alarm === `#${peak.id}`), {
      Alarm: `#${peak.id}`, Severity: 'Critical', Since: '07/12/2026, 11:00:00', Meter: 'Meter a1', Message: peak.message, Value: '75 kW (limit 50 kW)', State: 'raised',
      'Acknowledged by': '', Note: '',
    });
    assert.match(peak.message, /A peak/);
    assert.ok(rows.every((r) => r.Meter === 'Meter a1'), 'op-a sees only Plant A\'s meter');
    assert.deepEqual(alarmRows({ data: null, error: 'nope' }, TZ), []);
    assert.deepEqual(ackOptions(list).map((o) => o.label).sort(), alarms.map((a) => `#${a.id} ${a.rule_name === 'A peak' ? 'critical' : 'info'} - Meter a1: ${a.rule_name}`).sort());
  });

  it('acknowledge: an operator with a note; a viewer is refused; an acknowledged alarm cannot be acknowledged again', async () => {
    const peak = ((await dash('op-a', 'alarms.list', { query: { state: 'raised', severity: 'critical' } })).data as { id: number }[])[0];
    const choices = alarmChoices({} as AlarmClient);
    assert.deepEqual(chooseAlarmView(choices, { topic: 'dash-al-ack', payload: 'dash-al-ack' }), { refresh: false, ack: null, notice: 'Choose a raised alarm to acknowledge first' });
    chooseAlarmView(choices, { topic: 'dash-al-alarm', payload: String(peak.id) });
    chooseAlarmView(choices, { topic: 'dash-al-note', payload: ' compressor test run ' });
    const { ack } = chooseAlarmView(choices, { topic: 'dash-al-ack', payload: 'dash-al-ack' });
    assert.deepEqual(ack, { id: peak.id, note: 'compressor test run' });

    const refused = await dash('view-a', 'alarms.ack', { params: { id: String(ack!.id) }, body: { note: ack!.note } });
    assert.deepEqual(ackAnswer(refused, ack!.id), { ok: false, text: 'Refused: this needs the operator role; "view-a" is a viewer' });
    assert.equal(((await dash('op-a', 'alarms.get', { params: { id: String(peak.id) } })).data as { state: string }).state, 'raised', 'still raised after the viewer');
    const done = await dash('op-a', 'alarms.ack', { params: { id: String(ack!.id) }, body: { note: ack!.note } });
    assert.deepEqual(ackAnswer(done, ack!.id), { ok: true, text: `Alarm #${peak.id} acknowledged` });
    const again = await dash('op-a', 'alarms.ack', { params: { id: String(ack!.id) }, body: {} });
    assert.deepEqual(ackAnswer(again, ack!.id), { ok: false, text: `Alarm #${peak.id} not acknowledged: alarm ${peak.id} is acknowledged (by op-a); only a raised alarm can be acknowledged` });

    const active = await dash('op-a', 'alarms.list', { query: { state: 'active' } });
    assert.equal(summaryBadge(await dash('op-a', 'alarms.summary', {})), '2 active alarms, worst critical, 1 not acknowledged');
    const row = alarmRows(active, TZ).find((r) => r.Alarm === `#${peak.id}`)!;
    assert.deepEqual([row.State, row['Acknowledged by'], row.Note], ['acknowledged', 'op-a', 'compressor test run']);
    assert.ok(!ackOptions(active).some((o) => o.value === String(peak.id)), 'an acknowledged alarm is no longer offered');
  });

  it('history: the filters become the query, newest first; Older pages on from the last alarm shown, Newest goes back', async () => {
    const choices = alarmChoices({} as AlarmClient);
    assert.deepEqual(historyQuery(choices), { limit: '100' });
    chooseAlarmView(choices, { topic: 'dash-al-severity', payload: 'critical' });
    chooseAlarmView(choices, { topic: 'dash-al-folder', payload: folders.hall });
    assert.deepEqual(historyQuery(choices), { severity: 'critical', folder: folders.hall, limit: '100' });
    assert.equal(chooseAlarmView(choices, { topic: 'dash-al-state', payload: 'open' }).refresh, false, 'not a state');
    assert.equal(chooseAlarmView(choices, { topic: 'dash-al-state', payload: 'acknowledged' }).refresh, true);
    const acked = await dash('op-a', 'alarms.list', { query: historyQuery(choices) });
    assert.deepEqual(historyPage(acked, historyQuery(choices), TZ).rows.map((r) => [r.Severity, r.State, r.Note]), [['Critical', 'acknowledged', 'compressor test run']]);
    // Another folder's alarms are not the user's: the API answers 404, the page shows why.
    const foreign = { ...historyQuery(choices), folder: folders.b };
    assert.deepEqual(historyPage(await dash('op-a', 'alarms.list', { query: foreign }), foreign, TZ), { rows: [], lastId: null, full: false, status: `unknown folder "${folders.b}"` });

    // All of the admin's alarms, one a page: newest first, then older, then none.
    const all = alarmChoices({} as AlarmClient);
    const pageOf = async () => {
      const q = historyQuery(all, 1);
      const p = historyPage(await dash('boss', 'alarms.list', { query: q }), q, TZ);
      Object.assign(all, { lastId: p.lastId, full: p.full });
      return p;
    };
    const first = await pageOf();
    assert.equal(first.status, '1 alarm, newest first; Older shows more');
    assert.equal(first.rows[0].Alarm, '#3');
    assert.equal(chooseAlarmView(all, { topic: 'dash-al-older' }).refresh, true);
    const second = await pageOf();
    assert.deepEqual([second.rows[0].Alarm, second.status], ['#2', '1 alarm older than #3, newest first; Older shows more']);
    chooseAlarmView(all, { topic: 'dash-al-older' });
    chooseAlarmView(all, { topic: 'dash-al-older' });
    await pageOf();
    assert.equal(all.before, 2);
    chooseAlarmView(all, { topic: 'dash-al-older' });
    const empty = await pageOf();
    assert.deepEqual([empty.rows, empty.status], [[], 'No alarms older than #1']);
    assert.deepEqual(chooseAlarmView(all, { topic: 'dash-al-older' }), { refresh: false, ack: null, notice: 'No older alarms' });
    chooseAlarmView(all, { topic: 'dash-al-newest' });
    assert.equal((await pageOf()).rows[0].Alarm, '#3');
    assert.equal(historyPage({ data: [], error: null }, { limit: '100' }, TZ).status, 'No alarms match');
  });

  it('the folder filter offers the user\'s folders with what lies below, not the folders above them', async () => {
    const optionsOf = async (who: string) => {
      const session = await dash(who, 'auth.session');
      return folderOptions((await dash(who, 'folders.tree')).data, (session.data as { user: { open_folders: string[] } }).user.open_folders);
    };
    assert.deepEqual(await optionsOf('op-a'), [{ value: 'all', label: 'All my folders' }, { value: folders.a, label: 'Plant A' }, { value: folders.hall, label: 'Plant A / Hall 1' }]);
    assert.deepEqual(await optionsOf('op-hall'), [{ value: 'all', label: 'All my folders' }, { value: folders.hall, label: 'Plant A / Hall 1' }]);
    assert.deepEqual((await optionsOf('boss')).map((o) => o.label), ['All my folders', 'Plant A', 'Plant A / Hall 1', 'Plant B']);
  });
});

describe('dashboard alarm refreshes and choices', () => {
  const NOW = T0;
  const view = (path: string, socketId: string) => ({ topic: '$pageview', payload: { page: { path } }, _client: { socketId, emsSessionId: `sess-${socketId}` } });

  it('page views and the Alarms page refresh the alarms at once; on the timer each client\'s badge every 10 s, whatever its page\'s pace', () => {
    const clients: Record<string, AlarmClient> = {};
    const viewed = trackClient(clients, view('/reports', 'r'), NOW)!;
    assert.deepEqual(alarmRefreshes(clients, [viewed], NOW, false).map((r) => [r._client.socketId, r.dash.page, r.dash.reason]), [['r', 'reports', 'view']]);
    const onAlarms = trackClient(clients, view('/alarms', 'a'), NOW)!;
    alarmRefreshes(clients, [onAlarms], NOW, false);
    // A choice on another page is no reason to ask for alarms.
    const chose = trackClient(clients, { topic: 'dash-step', payload: 'month', _client: clients.r.client }, NOW + 1_000)!;
    assert.deepEqual(alarmRefreshes(clients, [chose], NOW + 1_000, false), []);
    assert.deepEqual(alarmRefreshes(clients, dueRefreshes(clients, NOW + 5_000), NOW + 5_000, true), []);
    // At 10 s: the Alarms page is due (its page refresh, with the dropdowns again), the reports page only for its badge.
    const due = alarmRefreshes(clients, dueRefreshes(clients, NOW + 10_000), NOW + 10_000, true);
    assert.deepEqual(due.map((r) => [r._client.socketId, r.dash.page, r.dash.reason, r.dash.sync]), [['a', 'alarms', 'tick', true], ['r', 'reports', 'tick', false]]);
    clients.r.gone = true;
    assert.deepEqual(alarmRefreshes(clients, dueRefreshes(clients, NOW + 20_000), NOW + 20_000, true).map((r) => r._client.socketId), ['a']);
  });

  it('requests: the summary (badge) and notifications on every page; the active alarms, history, folders and filters only on the Alarms page, the filters when syncing', () => {
    const choices = alarmChoices({} as AlarmClient);
    const d = { page: 'overview', meter: null, range: '24h', step: 'day', reason: 'view' as const, sync: true };
    const inbox = { query: { after: '0', limit: '20' }, params: {}, payload: {} };
    const summary = { query: {}, params: {}, payload: {} };
    assert.deepEqual(alarmRequests(d, choices), [null, null, null, null, null, inbox, summary]);
    choices.severity = 'warning';
    const page = alarmRequests({ ...d, page: 'alarms' }, choices);
    assert.deepEqual(page, [
      { query: { state: 'active', limit: '1000' }, params: {}, payload: {} },
      { query: { severity: 'warning', limit: '100' }, alarmQuery: { severity: 'warning', limit: '100' }, params: {}, payload: {} }, { query: {}, params: {}, payload: {} },
      { payload: 'all' }, { payload: 'warning' }, inbox, summary,
    ]);
    assert.deepEqual(alarmRequests({ ...d, page: 'alarms', sync: false }, choices).slice(2), [null, null, null, inbox, summary]);
  });

  it('dashboard notifications: the first answer marks where the client stands; later ones become one toast', () => {
    const choices = alarmChoices({} as AlarmClient);
    const n = (state: string, severity = 'warning', value?: number) => ({ state, rule: 'Peak power', meterName: 'Hall 2 main', severity, ...(value !== undefined ? { value, unit: 'kW' } : {}) });
    assert.equal(inboxToast({ data: [{ id: 4, digest: false, notifications: [n('raised')] }] }, choices), null, 'what came before the page opened is no toast');
    assert.equal(choices.inboxAfter, 4);
    assert.equal(inboxToast({ data: [] }, choices), null);
    assert.equal(inboxToast({ data: [{ id: 5, digest: false, notifications: [n('raised', 'critical', 62.3)] }] }, choices), 'Critical alarm. Raised: Peak power at Hall 2 main (62.3 kW)');
    assert.equal(inboxToast({ data: [{ id: 7, digest: true, notifications: [n('cleared'), n('raised')] }, { id: 6, digest: false, notifications: [n('acknowledged')] }] }, choices),
      '3 alarm notifications: Acknowledged: Peak power at Hall 2 main; Cleared: Peak power at Hall 2 main; Raised: Peak power at Hall 2 main');
    assert.equal(choices.inboxAfter, 7);
    assert.equal(inboxToast({ data: null, error: 'log in first' }, choices), null);
    assert.equal(choices.inboxAfter, 7, 'an error changes nothing');
  });

  it('the alarm dropdown is sent when its alarms change or on sync, and keeps the choice while it is still raised', () => {
    const choices: AlarmChoices = alarmChoices({} as AlarmClient);
    const opts = [{ value: '7', label: '#7 critical - M: R' }, { value: '5', label: '#5 info - M: S' }];
    assert.deepEqual(ackDropdown(choices, opts, false), { options: opts, payload: [] }, 'nothing chosen: an empty list clears the dropdown');
    assert.equal(ackDropdown(choices, opts, false), null, 'unchanged');
    chooseAlarmView(choices, { topic: 'dash-al-alarm', payload: '5' });
    assert.deepEqual(ackDropdown(choices, opts, true), { options: opts, payload: '5' });
    assert.deepEqual(ackDropdown(choices, opts.slice(0, 1), false), { options: opts.slice(0, 1), payload: [] });
    assert.equal(choices.alarm, null);
    chooseAlarmView(choices, { topic: 'dash-al-alarm', payload: 'DROP TABLE' });
    assert.equal(choices.alarm, null);
  });
});

describe('dashboard alarm function nodes', () => {
  const flow = dashboardFlow();
  const vera = { socketId: 's-vera', emsSessionId: 'sess-v', emsLogin: 'vera', emsRole: 'viewer' };
  const run = (id: string, flowContext: Map<string, unknown>, msg: unknown) => runTabFunction(flow, id, flowContext, msg, TZ);
  const alarm = (id: number, state: string, severity: string) => ({
    id, meter_id: 'hvac', meter_name: 'HVAC', rule_name: 'Peak', state, severity, raised_at: T0, acked_by: null, ack_note: null, cleared_at: null, value: 62.3, limit: 50, unit: 'kW', message: `Peak #${id}`,
  });

  it('a page view asks for the alarm summary; the answer goes to the badge of the client\'s page only', () => {
    const ctx = new Map<string, unknown>();
    const [, [refresh]] = run('dash-clients', ctx, view('/meter'));
    const req = run('dash-al-req', ctx, refresh);
    assert.deepEqual(req.slice(0, 5), [null, null, null, null, null], 'no alarm list off the Alarms page');
    assert.deepEqual(req[5].query, { after: '0', limit: '20' }, 'the user\'s dashboard notifications');
    assert.deepEqual(req[6], { _client: vera, dash: refresh.dash, query: {}, params: {}, payload: {} });
    const summary = { active: 2, unacknowledged: 1, by_severity: { info: { active: 1, unacknowledged: 0 }, warning: { active: 0, unacknowledged: 0 }, critical: { active: 1, unacknowledged: 1 } } };
    const out = run('dash-al-badge', ctx, { ...req[6], payload: { data: summary, error: null }, statusCode: 200 });
    assert.deepEqual(out, [null, { _client: vera, payload: '2 active alarms, worst critical, 1 not acknowledged' }, null, null, null, null], 'overview, meter, reports, events, alarms, site');
    // A session that ended (401) stops that client's refreshes.
    run('dash-al-badge', ctx, { ...req[6], payload: { data: null, error: 'log in first', status: 401 }, statusCode: 401 });
    assert.equal((ctx.get('dash_clients') as Record<string, unknown>)['s-vera'], undefined);
  });

  it('the Alarms page: table, the raised alarms to choose from, history with its status; a choice, an acknowledgement and its answer', () => {
    const ctx = new Map<string, unknown>();
    const [pages, [refresh]] = run('dash-clients', ctx, view('/alarms'));
    assert.deepEqual(pages, [], 'the Alarms page needs no meter list');
    const [active, history, session, state, severity] = run('dash-al-req', ctx, refresh);
    assert.deepEqual([history.query, session.query, state, severity], [{ limit: '100' }, {}, { _client: vera, payload: 'all' }, { _client: vera, payload: 'all' }]);
    const list = { data: [alarm(7, 'raised', 'critical'), alarm(5, 'acknowledged', 'info')], error: null };
    const out = run('dash-al-active-shape', ctx, { ...active, payload: list, statusCode: 200 });
    assert.deepEqual(out[0].payload.map((r: Record<string, string>) => [r.Alarm, r.Since, r.Value]), [['#7', '07/12/2026, 11:00:00', '62.3 kW (limit 50 kW)'], ['#5', '07/12/2026, 11:00:00', '62.3 kW (limit 50 kW)']]);
    assert.deepEqual(out[1], { _client: vera, options: [{ value: '7', label: '#7 critical - HVAC: Peak' }], payload: [] });
    assert.equal(run('dash-al-active-shape', ctx, { ...active, dash: { ...active.dash, sync: false }, payload: list, statusCode: 200 })[1], null, 'unchanged: not sent again');

    const [table, status] = run('dash-al-history-shape', ctx, { ...history, payload: list, statusCode: 200 });
    assert.deepEqual([table.payload.length, table.payload[0].Cleared, status.payload], [2, '', '2 alarms, newest first']);
    const tree = run('dash-al-tree-req', ctx, { ...session, payload: { data: { user: { open_folders: ['f1'] } }, error: null } });
    assert.deepEqual(tree.openFolders, ['f1']);
    const folder = run('dash-al-folders', ctx, { ...tree, payload: { data: [{ _id: 'f1', name: 'Plant', child_folders: [{ meter: 'hvac', _id: 'hvac' }] }], error: null } });
    assert.deepEqual(folder, { _client: vera, options: [{ value: 'all', label: 'All my folders' }, { value: 'f1', label: 'Plant' }], payload: 'all' });

    // A filter computes the page again; Acknowledge without a chosen alarm says so; with one, it asks the API.
    const [again] = run('dash-al-choose', ctx, { topic: 'dash-al-folder', payload: 'f1', _client: vera });
    assert.deepEqual(run('dash-al-req', ctx, again)[1].query, { folder: 'f1', limit: '100' });
    assert.deepEqual(run('dash-al-choose', ctx, { topic: 'dash-al-ack', payload: 'dash-al-ack', _client: vera }), [null, null, { _client: vera, payload: 'Choose a raised alarm to acknowledge first' }]);
    run('dash-al-choose', ctx, { topic: 'dash-al-alarm', payload: '7', _client: vera });
    run('dash-al-choose', ctx, { topic: 'dash-al-note', payload: 'fan belt replaced', _client: vera });
    const [, ack] = run('dash-al-choose', ctx, { topic: 'dash-al-ack', payload: 'dash-al-ack', _client: vera });
    assert.deepEqual(ack, { _client: vera, topic: '7', params: { id: '7' }, query: {}, payload: { note: 'fan belt replaced' } });
    const refused = run('dash-al-ack-result', ctx, { ...ack, statusCode: 403, payload: { data: null, error: 'this needs the operator role; "vera" is a viewer', status: 403 } });
    assert.deepEqual(refused.slice(0, 2), [{ _client: vera, payload: 'Refused: this needs the operator role; "vera" is a viewer' }, null]);
    const done = run('dash-al-ack-result', ctx, { ...ack, statusCode: 200, payload: { data: { ...alarm(7, 'acknowledged', 'critical'), acked_by: 'olga' }, error: null, status: 200 } });
    assert.deepEqual(done.slice(0, 2), [{ _client: vera, payload: 'Alarm #7 acknowledged' }, { _client: vera, payload: '' }]);
    assert.equal(done[2].dash.page, 'alarms');
    assert.deepEqual(run('dash-al-choose', ctx, { topic: 'dash-al-ack', payload: 'dash-al-ack', _client: vera })[2].payload, 'Choose a raised alarm to acknowledge first', 'the choice is spent');
  });

  function view(path: string) {
    return { topic: '$pageview', payload: { page: { path } }, _client: vera };
  }
});

