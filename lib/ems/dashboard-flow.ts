/**
 * The "EMS Dashboard" tab of flows/ems.json: Dashboard 2.0 config nodes (base, theme, pages, groups) and the flows
 * behind the six pages (the Overview: lib/ems/dashboard-overview-flow.ts; the Alarms page and every page's alarm
 * badge: lib/ems/dashboard-alarms-flow.ts; its alarm rules: lib/ems/dashboard-rules-flow.ts; the Site page:
 * lib/ems/dashboard-site-flow.ts; node builders: lib/ems/dashboard-nodes.ts). Function nodes embed the compiled source
 * of lib/ems/dashboard.ts's, lib/ems/dashboard-fleet.ts's, lib/ems/dashboard-alarms.ts's and
 * lib/ems/dashboard-rules.ts's shaping functions, so the flow runs what the unit tests check
 * (test/lib/ems-dashboard.test.ts fails when the shipped tab differs).
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
  chartPoints, chosenMeter, dueRefreshes, eventRows, hasId, liveValues, localDate, meterRequests, pageMessages, pollResult, RANGES, readingsRequest, reportRows,
  trackClient,
} from './dashboard';
import { clientPicks, FLEET_LIMITS, loadScope, meterMatches, newFleet, scopeKey, sessionScope, treeMeters } from './dashboard-fleet';
import { alarmRefreshes } from './dashboard-alarms';
import { alarmConfigNodes, alarmNodes } from './dashboard-alarms-flow';
import { ruleConfigNodes, ruleNodes } from './dashboard-rules-flow';
import { LIMITS, overviewNodes } from './dashboard-overview-flow';
import { siteConfigNodes, siteNodes } from './dashboard-site-flow';
import { api, at, dropdown, fn, inject, STORE, TAB, table, text, textInput, TZ, uiGroup, uiPage, type FlowNode } from './dashboard-nodes';

/** The tooltip of the "Find meter" fields of the meter and reports pages. */
const FIND_TIP = 'Part of a meter id: the Meter list offers the meters it matches (at most ' + FLEET_LIMITS.pick + ')';

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
      + 'the meters of their folders. The overview\'s figures are shared by the clients that see the same meters and kept up in bounded steps '
      + '(lib/ems/dashboard-fleet.ts): a refresh costs the same with 100 or 10,000 meters, and nothing runs while nobody looks.\n\n'
      + 'Function nodes run the shaping functions of lib/ems/dashboard.ts, lib/ems/dashboard-fleet.ts, lib/ems/dashboard-alarms.ts, lib/ems/dashboard-rules.ts and lib/ems/dashboard-site.ts; regenerate this tab from there.',
  };
  return [tab, ...configNodes(), ...clients(), ...overviewNodes(), ...meterPage(), ...reportsPage(), ...eventsPage(), ...alarmNodes(), ...ruleNodes(), ...siteNodes()];
}
