/**
 * The "EMS Dashboard" tab of flows/ems.json: Dashboard 2.0 config nodes (base, theme, pages, groups) and the
 * flows behind the six pages (the Alarms page and every page's alarm badge: lib/ems/dashboard-alarms-flow.ts; its
 * alarm rules: lib/ems/dashboard-rules-flow.ts; the Site page: lib/ems/dashboard-site-flow.ts; node builders:
 * lib/ems/dashboard-nodes.ts). Function nodes embed the
 * compiled source of lib/ems/dashboard.ts's, lib/ems/dashboard-alarms.ts's and lib/ems/dashboard-rules.ts's shaping
 * functions, so the flow runs what the unit tests check (test/lib/ems-dashboard.test.ts fails when the shipped tab
 * differs).
 *
 * Every widget message answers one client: a page view (ui-event), a choice (dropdown, button) or the timer
 * (per connected client, see trackClient/dueRefreshes) starts a computation that carries msg._client through,
 * and the ems-api nodes act with identity "dashboard", i.e. as the EMS user of that client's session (never as
 * admin), so a user sees only the meters their open_folders allow. ui-base lists every widget type in
 * acceptsClientConfig, so Dashboard 2.0 sends such a message to its socket only and never stores it.
 *
 * Regenerate the tab in place (other nodes untouched) after a change:
 *   npm run build && node -e "const fs = require('fs'), f = 'flows/ems.json', all = JSON.parse(fs.readFileSync(f, 'utf8'));
 *     const dash = (n) => n.id === 'ems-dash-tab' || n.id.startsWith('dash-'), at = all.findIndex(dash), keep = all.filter((n) => !dash(n));
 *     keep.splice(at, 0, ...require('./dist/lib/ems/dashboard-flow').dashboardFlow());
 *     fs.writeFileSync(f, JSON.stringify(keep, null, 4) + '\n')"
 */
import { mainRegister } from '../model/obis';
import {
  chartPoints, chosenMeter, dueRefreshes, emsTimeZone, eventRows, hasId, liveValues, localDate, meterRequests, monthSummary, overviewFromLatest, pageMessages, pollResult,
  quantityOf, RANGES, readingsRequest, reportRows, trackClient,
} from './dashboard';
import {
  clientPicks, contribute, FLEET_LIMITS, fleetLatest, fleetStep, fleetSummary, loadScope, meterMatches, newFleet, overviewView, scopeKey, scopeTotals,
  sessionScope, treeMeters,
} from './dashboard-fleet';
import { alarmRefreshes } from './dashboard-alarms';
import { alarmConfigNodes, alarmNodes } from './dashboard-alarms-flow';
import { ruleConfigNodes, ruleNodes } from './dashboard-rules-flow';
import { siteConfigNodes, siteNodes } from './dashboard-site-flow';
import { api, at, dropdown, fn, inject, STORE, TAB, table, text, textInput, TZ, uiGroup, uiPage, type FlowNode } from './dashboard-nodes';

/** The tooltip of the "Find meter" fields of the meter and reports pages. */
const FIND_TIP = 'Part of a meter id: the Meter list offers the meters it matches (at most ' + FLEET_LIMITS.pick + ')';

/** The fleet bounds in a function node. */
const LIMITS = `const limits = ${JSON.stringify(FLEET_LIMITS)};`;

/**
 * Widget types that receive per-client data (all of the tab's): Dashboard 2.0 sends their client-targeted messages to
 * that client only; and ui-group, so that a group shown to one client (ui-control) is not stored as shown for all.
 */
export const CLIENT_TYPES = ['ui-notification', 'ui-control', 'ui-group', 'ui-text', 'ui-table', 'ui-dropdown', 'ui-chart', 'ui-button', 'ui-text-input'];

function configNodes(): FlowNode[] {
  return [
    {
      id: 'dash-base', type: 'ui-base', name: 'EMS', path: '/dashboard', appIcon: '', includeClientData: true, acceptsClientConfig: CLIENT_TYPES,
      showPathInSidebar: false, headerContent: 'page', navigationStyle: 'default', titleBarStyle: 'default', showReconnectNotification: true,
      notificationDisplayTime: 1, showDisconnectNotification: true, allowInstall: false,
    },
    {
      id: 'dash-theme', type: 'ui-theme', name: 'EMS theme',
      colors: { surface: '#1f4e3d', primary: '#2e8b57', bgPage: '#f4f7f5', groupBg: '#ffffff', groupOutline: '#cfd8d3' },
      sizes: { density: 'default', pagePadding: '12px', groupGap: '12px', groupBorderRadius: '6px', widgetGap: '12px' },
    },
    uiPage('overview', 'Overview', 'view-dashboard', 1),
    uiPage('meter', 'Meter', 'meter-electric', 2),
    uiPage('reports', 'Reports', 'file-table', 3),
    uiPage('events', 'Events', 'alert', 4),
    uiGroup('dash-grp-ov-energy', 'Energy', 'overview', 4, 1),
    uiGroup('dash-grp-ov-meters', 'Meters', 'overview', 8, 2),
    uiGroup('dash-grp-ov-alarms', 'Stale meters', 'overview', 12, 3),
    uiGroup('dash-grp-mt-pick', 'Meter and range', 'meter', 4, 1),
    uiGroup('dash-grp-mt-chart', 'Consumption per window', 'meter', 8, 2),
    uiGroup('dash-grp-mt-live', 'Live values', 'meter', 4, 3),
    uiGroup('dash-grp-mt-poll', 'Poll', 'meter', 4, 4),
    uiGroup('dash-grp-rp', 'Consumption and cost by tariff', 'reports', 12, 1),
    uiGroup('dash-grp-ev', 'Event log (last 7 days)', 'events', 12, 1),
    ...alarmConfigNodes(),
    ...ruleConfigNodes(),
    ...siteConfigNodes(),
  ];
}

/** The clients: page views, choices and lost connections, and the timer refreshing each client's page and alarm badge. */
function clients(): FlowNode[] {
  const track = `${trackClient}
${dueRefreshes}
${alarmRefreshes}
const clients = flow.get('dash_clients') || {};
const now = Date.now();
const tick = msg.topic === 'dash-tick';
let out;
if (tick) out = dueRefreshes(clients, now);
else {
  const r = trackClient(clients, msg, now);
  out = r ? [r] : [];
}
// The alarms (every page's badge, the Alarms page) at their own pace; the Site page from the user's folders; the
// other pages start from the user's meters.
const alarms = alarmRefreshes(clients, out, now, tick);
flow.set('dash_clients', clients);
node.status({ fill: 'green', shape: 'dot', text: Object.keys(clients).length + ' clients' });
const meterPages = out.filter((r) => r.dash.page !== 'alarms' && r.dash.page !== 'site');
return [meterPages.map((r) => Object.assign(r, { params: {}, query: {}, payload: {} })), alarms, out.filter((r) => r.dash.page === 'site')];`;
  // The user's meters (a scope shared by every session that sees the same meters) from the folder tree, read again on
  // a page view after limits.viewReloadMs and on the timer after limits.scopeTtlMs; then the page from them.
  const scope = `${sessionScope}
${LIMITS}
const fleet = flow.get('dash_fleet');
const ttl = msg.dash && msg.dash.reason === 'view' ? limits.viewReloadMs : limits.scopeTtlMs;
const session = msg._client && msg._client.emsSessionId;
const key = fleet ? sessionScope(fleet, session, Date.now(), ttl) : null;
if (key) return [null, Object.assign(msg, { scopeKey: key })];
// Read once: the session's other clients refreshing meanwhile use its current scope.
const known = fleet && typeof session === 'string' && fleet.sessions[session];
if (known && msg.dash && msg.dash.reason === 'tick') known.at = Date.now();
return [msg, null];`;
  const page = `${newFleet}
${scopeKey}
${treeMeters}
${loadScope}
${meterMatches}
${clientPicks}
${hasId}
${chosenMeter}
${localDate}
${pageMessages}
${LIMITS}
${TZ}
const clients = flow.get('dash_clients') || {};
const fleet = flow.get('dash_fleet') || newFleet();
const id = msg._client && msg._client.socketId;
const now = Date.now();
let key = msg.scopeKey;
if (!key) {
  const v = treeMeters(msg.payload);
  if (v.error) {
    // A session that ended (401) stops the refreshes of that client.
    if (msg.statusCode === 401 && id) delete clients[id];
    flow.set('dash_clients', clients);
    node.status({ fill: 'red', shape: 'ring', text: v.error });
    return null;
  }
  key = loadScope(fleet, String(msg._client.emsSessionId), v.ids, v.intervals, clients, now);
  flow.set('dash_fleet', fleet);
}
const scope = fleet.scopes[key];
if (!scope) return null;
const entry = clients[id];
const picks = entry ? clientPicks(entry, scope, limits.pick) : null;
const find = entry ? entry.find || '' : '';
if (entry) entry.meter = chosenMeter(msg.dash, scope.ids, picks, find);
flow.set('dash_clients', clients);
node.status({ fill: 'green', shape: 'dot', text: (msg._client.emsLogin || '?') + ' on ' + msg.dash.page + ': ' + scope.ids.length + ' meters' });
const out = pageMessages(msg.dash, scope.ids, picks, find, now, tz, limits.pick).map((m) => m && Object.assign({ _client: msg._client }, m));
if (out[0]) Object.assign(out[0], { scopeKey: key, dash: msg.dash });
return out;`;
  return [
    { id: 'dash-view', type: 'ui-event', z: TAB, ui: 'dash-base', name: 'page views', ...at(-1, 0), wires: [['dash-clients']] },
    { id: 'dash-conn', type: 'ui-control', z: TAB, ui: 'dash-base', name: 'connections', events: 'all', ...at(-1, 1), wires: [['dash-clients']] },
    inject('dash-tick', 'every 5 s', 5, 3, 'dash-tick', ['dash-clients'], at(-1, 2)),
    fn('dash-clients', 'clients', track, [['dash-scope'], ['dash-al-req', 'dash-ru-req'], ['dash-si-req']], at(0, 1)),
    fn('dash-scope', 'meters of the user known?', scope, [['dash-meters'], ['dash-page']], at(1, 0)),
    api('dash-meters', 'meters of the user', 'folders.tree', ['dash-page'], at(1, 1)),
    fn('dash-page', 'page data', page, [
      ['dash-ov-step'], ['dash-mt-meter'], ['dash-mt-range'], ['dash-mt-latest'], ['dash-rp-meter'], ['dash-rp-step'], ['dash-rp-report'], ['dash-ev-list'],
      ['dash-mt-find'], ['dash-rp-find'],
    ], at(2, 1)),
  ];
}

/**
 * The overview from the shared fleet state (lib/ems/dashboard-fleet.ts): a client's refresh starts its scope's step
 * if one is due (bounded reads of newest values and month reports, whose answers update the scope's figures) and
 * shows the client its bounded view; the step's last answer shows the new view to every client of the scope.
 */
function overview(): FlowNode[] {
  const step = `${fleetStep}
${localDate}
${LIMITS}
${TZ}
const fleet = flow.get('dash_fleet');
const key = msg.scopeKey;
if (!fleet || !fleet.scopes[key]) return null;
const now = Date.now();
const s = fleetStep(fleet, key, now, limits);
flow.set('dash_fleet', fleet);
const first = localDate(now, tz).slice(0, 8) + '01';
const sync = !!(msg.dash && msg.dash.sync);
const clients = flow.get('dash_clients') || {};
const entry = clients[msg._client && msg._client.socketId];
const find = sync && entry ? { _client: msg._client, payload: entry.find || '' } : null;
// This client's view now, unless the step just started (or still being answered) shows it to every client of the
// scope when answered, or another client's step showed it within half a step.
const started = !!s && s.latest.length + s.reports.length > 0;
const scope = fleet.scopes[key];
const busy = scope.pending > 0 && now - scope.stepAt < limits.stepEveryMs;
const recent = entry && entry.viewedAt > now - limits.stepEveryMs / 2 && msg.dash && msg.dash.reason === 'tick';
const view = started || busy || recent ? null : { _client: msg._client, scopeKey: key, only: msg._client.socketId };
node.status({ fill: 'green', shape: 'dot', text: s ? 'step: ' + s.latest.length + ' meters read, ' + s.reports.length + ' reports' : 'shared step already done' });
return [
  s ? s.latest.map((id) => ({ meter: id, fleetMeter: id, scopeKey: key, payload: {} })) : null,
  s ? s.reports.map((id) => ({ _client: msg._client, fleetMeter: id, scopeKey: key, topic: id, params: {}, query: { meter: id, date1: first, step: 'day' }, payload: {} })) : null,
  view,
  find,
];`;
  const line = `${mainRegister}
${quantityOf}
${overviewFromLatest}
${contribute}
${fleetLatest}
${emsTimeZone}
${LIMITS}
const fleet = flow.get('dash_fleet');
if (!fleet) return null;
// One message per meter: the zone and its clock are made once per deploy and kept in node context (memory).
let tz = context.get('tz');
let format = context.get('format');
if (!tz || !format) {
  tz = emsTimeZone(env.get('EMS_TIME_ZONE'));
  format = new Intl.DateTimeFormat('en-GB', { timeZone: tz, year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit' });
  context.set('tz', tz);
  context.set('format', format);
}
const done = fleetLatest(fleet, msg.scopeKey, msg.fleetMeter, msg.payload, Date.now(), tz, limits.minStaleMs, format);
flow.set('dash_fleet', fleet);
return done ? { scopeKey: msg.scopeKey } : null;`;
  const sum = `${quantityOf}
${monthSummary}
${localDate}
${contribute}
${fleetSummary}
${LIMITS}
${TZ}
const fleet = flow.get('dash_fleet');
if (!fleet) return null;
const one = monthSummary(msg.payload, localDate(Date.now(), tz));
if (!one) node.status({ fill: 'red', shape: 'ring', text: String(msg.fleetMeter) + ': ' + ((msg.payload && msg.payload.error) || 'no report') });
const done = fleetSummary(fleet, msg.scopeKey, msg.fleetMeter, one && one.meter === msg.fleetMeter ? one : null, Date.now(), limits.minStaleMs);
flow.set('dash_fleet', fleet);
return done ? { scopeKey: msg.scopeKey } : null;`;
  const views = `${scopeTotals}
${overviewView}
${meterMatches}
${clientPicks}
${LIMITS}
${TZ}
// One client's view (msg.only), or every overview client of the scope after a step: each at most limits.rows rows.
const fleet = flow.get('dash_fleet');
const clients = flow.get('dash_clients') || {};
if (!fleet || !fleet.scopes[msg.scopeKey]) return null;
const now = Date.now();
const outs = [[], [], [], [], [], [], [], []];
for (const [sid, c] of Object.entries(clients)) {
  if (msg.only ? sid !== msg.only : (c.gone || c.page !== 'overview')) continue;
  const session = fleet.sessions[c.client && c.client.emsSessionId];
  if (!session || session.key !== msg.scopeKey) continue;
  const v = overviewView(fleet, msg.scopeKey, clientPicks(c, fleet.scopes[msg.scopeKey], limits.pick), now, tz, limits);
  c.viewedAt = now;
  const m = { _client: c.client };
  [v.meters, v.alarmCount, v.alarms, v.totals.today, v.totals.todayCost, v.totals.month, v.totals.monthCost, v.shown].forEach((p, i) => outs[i].push({ ...m, payload: p }));
}
flow.set('dash_fleet', fleet);
flow.set('dash_clients', clients);
node.status({ fill: 'green', shape: 'dot', text: outs[0].length + ' views; ' + fleet.work.steps + ' steps, ' + fleet.work.scanned + ' meters read' });
return outs;`;
  const g = 'dash-grp-ov-energy';
  return [
    fn('dash-ov-step', 'shared step of the user\'s meters', step, [['dash-ov-latest'], ['dash-ov-report'], ['dash-ov-views'], ['dash-ov-find']], at(3, 0)),
    {
      id: 'dash-ov-latest', type: 'ems-store-query', z: TAB, name: 'newest values of a meter', store: STORE, mode: 'latest', meter: '', obis: '', range: '', window: '', fn: '', limit: '', interval: '',
      ...at(4, -1), wires: [['dash-ov-line']],
    },
    fn('dash-ov-line', 'meter row and figures', line, [['dash-ov-views']], at(5, -1)),
    api('dash-ov-report', 'month report of a meter', 'reports.tariffs', ['dash-ov-sum'], at(4, 3)),
    fn('dash-ov-sum', 'month figures', sum, [['dash-ov-views']], at(5, 3)),
    fn('dash-ov-views', 'overview views', views, [
      ['dash-ov-meters'], ['dash-ov-alarm-count'], ['dash-ov-alarms'], ['dash-ov-today'], ['dash-ov-today-cost'], ['dash-ov-month'], ['dash-ov-month-cost'], ['dash-ov-shown'],
    ], at(6, 1)),
    // Wrapped: one amount per medium and unit can be longer than the group is wide.
    text('dash-ov-today', g, 'Consumption today', 1, at(7, 3), true),
    text('dash-ov-today-cost', g, 'Cost today', 2, at(7, 4)),
    text('dash-ov-month', g, 'Consumption this month', 3, at(7, 5), true),
    text('dash-ov-month-cost', g, 'Cost this month', 4, at(7, 6)),
    // The group titles name the tables: no label of their own (a title once).
    text('dash-ov-alarm-count', 'dash-grp-ov-alarms', 'Meters without recent readings', 1, at(7, 1)),
    textInput('dash-ov-find', 'dash-grp-ov-meters', 'Find meter', 1, 'dash-find', 'Part of a meter id: the meters shown are those it matches', ['dash-clients'], at(7, -1)),
    text('dash-ov-shown', 'dash-grp-ov-meters', 'Shown', 2, at(7, -0.5)),
    table('dash-ov-meters', 'dash-grp-ov-meters', '', 3, at(7, 0)),
    table('dash-ov-alarms', 'dash-grp-ov-alarms', '', 2, at(7, 2)),
  ];
}

function meterPage(): FlowNode[] {
  const live = `${mainRegister}
${liveValues}
${readingsRequest}
${meterRequests}
// The live values, and the chart of the meter's main register (its energy or volume), or why there is none.
const c = { _client: msg._client };
const r = meterRequests(msg.payload, msg.meter, msg.dashRange);
node.status({ fill: 'green', shape: 'dot', text: String(msg.meter) + (r.request ? ' ' + r.request.query.obis : '') });
if (!r.request) return [{ ...c, payload: r.live }, null, { ...c, payload: [], action: 'replace' }, { ...c, payload: r.none }];
return [{ ...c, payload: r.live }, { ...c, ...r.request }, null, null];`;
  const points = `${chartPoints}
${TZ}
const c = { _client: msg._client };
const r = chartPoints(msg.payload, tz);
if (r.error) {
  node.status({ fill: 'red', shape: 'ring', text: r.error });
  return [null, { ...c, payload: r.error }];
}
const total = r.points.reduce((s, p) => s + (p.value || 0), 0);
node.status({ fill: 'green', shape: 'dot', text: r.points.length + ' points' });
const series = r.unit ? msg.topic + ' (' + r.unit + ')' : msg.topic;
return [{ ...c, topic: series, payload: r.points, action: 'replace' }, { ...c, payload: (msg.topic + ': ' + total.toFixed(r.unit === 'm3' ? 3 : 2) + ' ' + r.unit).trim() }];`;
  const pollReq = `// The meter this client shows (resolved to one it may see by the page data function).
const c = (flow.get('dash_clients') || {})[msg._client && msg._client.socketId];
if (!c || !c.meter) return [null, { _client: msg._client, payload: 'Pick a meter first' }];
return [{ _client: msg._client, topic: c.meter, params: { id: c.meter }, query: {}, payload: {} }, { _client: msg._client, payload: 'Polling ' + c.meter + ' ...' }];`;
  const pollRes = `${pollResult}
const text = pollResult(msg.payload, msg.topic);
node.status({ fill: msg.statusCode < 400 ? 'green' : 'yellow', shape: 'dot', text });
return { _client: msg._client, payload: text };`;
  return [
    textInput('dash-mt-find', 'dash-grp-mt-pick', 'Find meter', 1, 'dash-find', FIND_TIP, ['dash-clients'], at(3, 7)),
    dropdown('dash-mt-meter', 'dash-grp-mt-pick', 'Meter', 2, 'dash-meter', [], ['dash-clients'], at(3, 8)),
    dropdown('dash-mt-range', 'dash-grp-mt-pick', 'Range', 3, 'dash-range', RANGES.map((r) => ({ value: r.value, label: r.label })), ['dash-clients'], at(3, 9)),
    {
      id: 'dash-mt-latest', type: 'ems-store-query', z: TAB, name: 'newest values of the meter', store: STORE, mode: 'latest', meter: '', obis: '', range: '', window: '', fn: '', limit: '', interval: '',
      ...at(3, 10), wires: [['dash-mt-live-rows']],
    },
    fn('dash-mt-live-rows', 'live values, chart request', live, [['dash-mt-live'], ['dash-mt-readings'], ['dash-mt-chart'], ['dash-mt-total']], at(4, 10)),
    api('dash-mt-readings', 'meter readings', 'meters.readings', ['dash-mt-points'], at(5, 11)),
    fn('dash-mt-points', 'chart points', points, [['dash-mt-chart'], ['dash-mt-total']], at(6, 11)),
    {
      // One bar per window on a category axis labelled with the window's start in the EMS time zone (chartPoints):
      // a time axis would centre each bar on its start and label it in the browser's zone. The series names the unit.
      id: 'dash-mt-chart', type: 'ui-chart', z: TAB, group: 'dash-grp-mt-chart', name: '', label: '', order: 1, chartType: 'bar',
      category: 'topic', categoryType: 'msg', xAxisLabel: '', xAxisProperty: 'window', xAxisPropertyType: 'property', xAxisType: 'category', xAxisFormat: '', xAxisFormatType: 'auto',
      xmin: '', xmax: '', yAxisLabel: '', yAxisProperty: 'value', yAxisPropertyType: 'property', ymin: '0', ymax: '', bins: 10, action: 'replace', stackSeries: false,
      pointShape: 'circle', pointRadius: 4, showLegend: true, removeOlder: 0, removeOlderUnit: '86400', removeOlderPoints: '',
      colors: ['#2e8b57', '#0095FF', '#FF7F0E', '#A347E1', '#D62728', '#FF9896', '#9467BD', '#C5B0D5', '#2CA02C'],
      textColor: ['#666666'], textColorDefault: true, gridColor: ['#e5e5e5'], gridColorDefault: true, width: 8, height: 6, className: 'ems-dash-mt-chart', interpolation: 'linear',
      ...at(7, 11), wires: [[]],
    },
    text('dash-mt-total', 'dash-grp-mt-pick', 'Total in range', 4, at(7, 12)),
    table('dash-mt-live', 'dash-grp-mt-live', '', 1, at(5, 10)),
    {
      id: 'dash-mt-poll', type: 'ui-button', z: TAB, group: 'dash-grp-mt-poll', name: '', label: 'Poll now', order: 1, width: 0, height: 0, emulateClick: false, tooltip: 'Poll the meter now (operators and admins)',
      color: '', bgcolor: '', className: 'ems-dash-mt-poll', icon: 'refresh', iconPosition: 'left', payload: 'poll', payloadType: 'str', topic: 'dash-poll', topicType: 'str',
      buttonColor: '', textColor: '', iconColor: '', enableClick: true, enablePointerdown: false, pointerdownPayload: '', pointerdownPayloadType: 'str',
      enablePointerup: false, pointerupPayload: '', pointerupPayloadType: 'str', ...at(3, 13), wires: [['dash-mt-poll-req']],
    },
    fn('dash-mt-poll-req', 'poll request', pollReq, [['dash-mt-poll-api'], ['dash-mt-poll-status']], at(4, 13)),
    api('dash-mt-poll-api', 'poll now', 'meters.poll', ['dash-mt-poll-result'], at(5, 13)),
    fn('dash-mt-poll-result', 'poll answer', pollRes, [['dash-mt-poll-status']], at(6, 13)),
    text('dash-mt-poll-status', 'dash-grp-mt-poll', 'Status', 2, at(7, 13)),
  ];
}

function reportsPage(): FlowNode[] {
  const rows = `${reportRows}
const c = { _client: msg._client };
if (msg.payload && msg.payload.error) {
  node.status({ fill: 'red', shape: 'ring', text: msg.payload.error });
  return [{ ...c, payload: [] }, { ...c, payload: msg.payload.error }];
}
const rows = reportRows(msg.payload);
node.status({ fill: 'green', shape: 'dot', text: rows.length + ' rows' });
return [{ ...c, payload: rows }, { ...c, payload: msg.topic + ': ' + rows.length + ' rows' }];`;
  return [
    textInput('dash-rp-find', 'dash-grp-rp', 'Find meter', 1, 'dash-find', FIND_TIP, ['dash-clients'], at(3, 14)),
    dropdown('dash-rp-meter', 'dash-grp-rp', 'Meter', 2, 'dash-meter', [], ['dash-clients'], at(3, 15)),
    dropdown('dash-rp-step', 'dash-grp-rp', 'Step', 3, 'dash-step', [{ value: 'day', label: 'Daily, last 30 days' }, { value: 'month', label: 'Monthly, last 12 months' }], ['dash-clients'], at(3, 16)),
    api('dash-rp-report', 'tariff report', 'reports.tariffs', ['dash-rp-rows'], at(3, 17)),
    fn('dash-rp-rows', 'report rows', rows, [['dash-rp-table'], ['dash-rp-status']], at(4, 17)),
    table('dash-rp-table', 'dash-grp-rp', '', 5, at(5, 17)),
    text('dash-rp-status', 'dash-grp-rp', 'Report', 4, at(5, 18)),
  ];
}

function eventsPage(): FlowNode[] {
  const rows = `${eventRows}
${TZ}
const c = { _client: msg._client };
if (msg.payload && msg.payload.error) {
  node.status({ fill: 'red', shape: 'ring', text: msg.payload.error });
  return [{ ...c, payload: [] }, { ...c, payload: msg.payload.error }];
}
const rows = eventRows(msg.payload, tz);
node.status({ fill: 'green', shape: 'dot', text: rows.length + ' events' });
return [{ ...c, payload: rows }, { ...c, payload: String(rows.length) }];`;
  return [
    api('dash-ev-list', 'event log', 'events.list', ['dash-ev-rows'], at(3, 20)),
    fn('dash-ev-rows', 'event rows', rows, [['dash-ev-table'], ['dash-ev-count']], at(4, 20)),
    table('dash-ev-table', 'dash-grp-ev', '', 2, at(5, 20)),
    text('dash-ev-count', 'dash-grp-ev', 'Events', 1, at(5, 21)),
  ];
}

/** Every node of the dashboard: the tab, config nodes and flows; ids start with "dash-" (the tab: "ems-dash-tab"). */
export function dashboardFlow(): FlowNode[] {
  const tab: FlowNode = {
    id: TAB, type: 'tab', label: 'EMS Dashboard', disabled: false,
    info: 'The EMS dashboard (Dashboard 2.0) at /dashboard: overview, meter, reports, events, alarms and site pages, each with the user\'s alarm badge, behind the EMS login.\n\n'
      + 'Every widget message answers one client (msg._client): page views, choices and a timer per connected client start the '
      + 'computations, and the ems-api nodes act as the EMS user of that client (identity "dashboard"), so each user sees only '
      + 'the meters of their folders.\n\nFunction nodes run the shaping functions of lib/ems/dashboard.ts, lib/ems/dashboard-alarms.ts, lib/ems/dashboard-rules.ts and lib/ems/dashboard-site.ts; regenerate this tab from there.',
  };
  return [tab, ...configNodes(), ...clients(), ...overview(), ...meterPage(), ...reportsPage(), ...eventsPage(), ...alarmNodes(), ...ruleNodes(), ...siteNodes()];
}
