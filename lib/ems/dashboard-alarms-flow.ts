/**
 * The dashboard's alarms (part of the "EMS Dashboard" tab, see lib/ems/dashboard-flow.ts): the Alarms page
 * (/dashboard/alarms: active alarms, acknowledge with a note, history with filters and paging) and the alarm badge in
 * a group at the top of every page. Function nodes run lib/ems/dashboard-alarms.ts's shaping functions.
 *
 * The tab's client function sends an alarm refresh (msg._client, msg.dash) on every page view, every refresh of the
 * Alarms page and every 10 s per client (alarmRefreshes); "alarm requests" asks the API, as the client's EMS user
 * (ems-api identity "dashboard"), for the alarm summary (counts only: the badge) and, on the Alarms page, the active
 * alarms (the table, the alarm to acknowledge), the history and the user's folders; and for the user's dashboard notifications (the dashboard channel
 * of their subscription), shown as a toast when new ones arrived. Every widget message answers that client only.
 */
import {
  ackAnswer, ackDropdown, ackOptions, ACTIVE_LIMIT, alarmChoices, alarmRequests, alarmRows, chooseAlarmView, folderOptions, HISTORY_LIMIT, summaryBadge,
  historyPage, historyQuery, inboxToast, SEVERITY_FILTERS, STATE_FILTERS,
} from './dashboard-alarms';
import { api, at, button, dropdown, fn, notification, table, text, textInput, TZ, uiGroup, uiPage, type FlowNode } from './dashboard-nodes';

/** The pages that show the badge (all of them), in the order of the badge outputs of "active alarms". */
export const BADGE_PAGES = ['overview', 'meter', 'reports', 'events', 'alarms', 'site'];

/** The Alarms page and its groups, and the badge group at the top of every page. */
export function alarmConfigNodes(): FlowNode[] {
  return [
    uiPage('alarms', 'Alarms', 'bell-alert', 5),
    ...BADGE_PAGES.map((p) => uiGroup(`dash-grp-badge-${p}`, 'Alarm status', p, 12, 0)),
    uiGroup('dash-grp-al-active', 'Active (raised or acknowledged)', 'alarms', 12, 1),
    uiGroup('dash-grp-al-ack', 'Acknowledge an alarm', 'alarms', 12, 2),
    uiGroup('dash-grp-al-history', 'History', 'alarms', 12, 3),
  ];
}

/** The flows of the alarms: requests, answers shaped into widgets, the widgets, and the acknowledgement. */
export function alarmNodes(): FlowNode[] {
  const client = `const clients = flow.get('dash_clients') || {};
const sid = msg._client && msg._client.socketId;
const entry = clients[sid];
const c = { _client: msg._client };`;
  /** The refresh of the client's Alarms page after a choice or an acknowledgement. */
  const refresh = "entry ? { ...c, dash: { page: 'alarms', meter: entry.meter, range: entry.range, step: entry.step, reason: 'change', sync: false } } : null";
  const requests = `${alarmChoices}
${historyQuery}
${alarmRequests}
${client}
if (!entry || !msg.dash) return null;
const choices = alarmChoices(entry);
flow.set('dash_clients', clients);
return alarmRequests(msg.dash, choices, ${ACTIVE_LIMIT}, ${HISTORY_LIMIT}).map((m) => m && Object.assign({}, c, m.query ? { dash: msg.dash } : {}, m));`;
  const active = `${alarmRows}
${ackOptions}
${ackDropdown}
${alarmChoices}
${TZ}
${client}
if (msg.statusCode === 401) {
  // A session that ended stops the refreshes of that client.
  if (sid) delete clients[sid];
  flow.set('dash_clients', clients);
  node.status({ fill: 'red', shape: 'ring', text: 'session ended' });
  return null;
}
if (!entry || !msg.dash || msg.dash.page !== 'alarms') return [null, null];
const choice = ackDropdown(alarmChoices(entry), ackOptions(msg.payload), !!msg.dash.sync);
flow.set('dash_clients', clients);
return [{ ...c, payload: alarmRows(msg.payload, tz) }, choice && { ...c, ...choice }];`;
  const badge = `${summaryBadge}
${client}
if (msg.statusCode === 401) {
  // A session that ended stops the refreshes of that client.
  if (sid) delete clients[sid];
  flow.set('dash_clients', clients);
  node.status({ fill: 'red', shape: 'ring', text: 'session ended' });
  return null;
}
const page = msg.dash && msg.dash.page;
const text = summaryBadge(msg.payload);
node.status({ fill: /^No active/.test(text) ? 'green' : 'yellow', shape: 'dot', text: (msg._client.emsLogin || '?') + ': ' + text });
return ${JSON.stringify(BADGE_PAGES)}.map((p) => (p === page ? { ...c, payload: text } : null));`;
  const history = `${alarmRows}
${historyPage}
${alarmChoices}
${TZ}
${client}
const h = historyPage(msg.payload, msg.alarmQuery || {}, tz);
if (entry) {
  // Where Older goes on from.
  Object.assign(alarmChoices(entry), { lastId: h.lastId, full: h.full });
  flow.set('dash_clients', clients);
}
node.status({ fill: msg.statusCode < 400 ? 'green' : 'red', shape: msg.statusCode < 400 ? 'dot' : 'ring', text: h.status });
return [{ ...c, payload: h.rows }, { ...c, payload: h.status }];`;
  const inbox = `${inboxToast}
${alarmChoices}
${client}
if (!entry || msg.statusCode >= 400) return null;
const toast = inboxToast(msg.payload, alarmChoices(entry));
flow.set('dash_clients', clients);
if (toast) node.status({ fill: 'yellow', shape: 'dot', text: (msg._client.emsLogin || '?') + ': ' + toast.slice(0, 60) });
return toast ? { ...c, payload: toast } : null;`;
  const treeRequest = `// The user's open_folders (empty: every folder) from their session, carried to the folder tree's answer.
const user = msg.payload && msg.payload.data && msg.payload.data.user;
if (!user) {
  node.status({ fill: 'red', shape: 'ring', text: (msg.payload && msg.payload.error) || 'no session' });
  return null;
}
return { _client: msg._client, openFolders: Array.isArray(user.open_folders) ? user.open_folders : [], params: {}, query: {}, payload: {} };`;
  const folders = `${folderOptions}
${alarmChoices}
${client}
const options = folderOptions(msg.payload && msg.payload.data, msg.openFolders);
let chosen = 'all';
if (entry) {
  const choices = alarmChoices(entry);
  if (!options.some((o) => o.value === choices.folder)) choices.folder = 'all';
  chosen = choices.folder;
  flow.set('dash_clients', clients);
}
node.status({ fill: 'green', shape: 'dot', text: (options.length - 1) + ' folders' });
return { ...c, options, payload: chosen };`;
  const choose = `${alarmChoices}
${chooseAlarmView}
${client}
if (!entry || entry.gone) return null;
const r = chooseAlarmView(alarmChoices(entry), msg);
flow.set('dash_clients', clients);
return [
  r.refresh ? ${refresh} : null,
  r.ack ? { ...c, topic: String(r.ack.id), params: { id: String(r.ack.id) }, query: {}, payload: r.ack.note ? { note: r.ack.note } : {} } : null,
  r.notice ? { ...c, payload: r.notice } : null,
];`;
  const ackResult = `${ackAnswer}
${alarmChoices}
${client}
const a = ackAnswer(msg.payload, msg.topic);
node.status({ fill: a.ok ? 'green' : 'yellow', shape: 'dot', text: (msg._client.emsLogin || '?') + ': ' + a.text });
if (a.ok && entry) {
  Object.assign(alarmChoices(entry), { alarm: null, note: '' });
  flow.set('dash_clients', clients);
}
// The answer, the note field emptied after an acknowledgement, and the page again (the alarm's new state).
return [{ ...c, payload: a.text }, a.ok ? { ...c, payload: '' } : null, ${refresh}];`;

  const choices = ['dash-al-choose'];
  /** A widget `width` columns wide, so that several share a row of their group. */
  const sized = (node: FlowNode, width: number): FlowNode => ({ ...node, width });
  return [
    fn('dash-al-req', 'alarm requests', requests, [['dash-al-active'], ['dash-al-history'], ['dash-al-session'], ['dash-al-state'], ['dash-al-severity'], ['dash-al-inbox'], ['dash-al-summary']], at(3, 24)),
    api('dash-al-summary', 'alarm summary', 'alarms.summary', ['dash-al-badge'], at(4, 21)),
    fn('dash-al-badge', 'badge', badge, BADGE_PAGES.map((p) => [`dash-al-badge-${p}`]), at(5, 21)),
    api('dash-al-inbox', 'my notifications', 'notifications.inbox', ['dash-al-inbox-toast'], at(4, 22)),
    fn('dash-al-inbox-toast', 'new notifications', inbox, [['dash-al-notify']], at(5, 22)),
    api('dash-al-active', 'active alarms', 'alarms.list', ['dash-al-active-shape'], at(4, 24)),
    fn('dash-al-active-shape', 'active alarms', active, [['dash-al-active-table'], ['dash-al-alarm']], at(5, 24)),
    ...BADGE_PAGES.map((p, i) => ({ ...text(`dash-al-badge-${p}`, `dash-grp-badge-${p}`, '', 1, at(6, 23 + i)), layout: 'row-left' })),
    table('dash-al-active-table', 'dash-grp-al-active', '', 1, at(6, 28), 20),
    api('dash-al-history', 'alarm history', 'alarms.list', ['dash-al-history-shape'], at(4, 31)),
    fn('dash-al-history-shape', 'history page', history, [['dash-al-history-table'], ['dash-al-history-status']], at(5, 31)),
    table('dash-al-history-table', 'dash-grp-al-history', '', 7, at(6, 31)),
    sized(text('dash-al-history-status', 'dash-grp-al-history', 'Showing', 4, at(6, 32), true), 6),
    api('dash-al-session', 'user\'s session', 'auth.session', ['dash-al-tree-req'], at(4, 33)),
    fn('dash-al-tree-req', 'open folders', treeRequest, [['dash-al-tree']], at(5, 33)),
    api('dash-al-tree', 'folder tree', 'folders.tree', ['dash-al-folders'], at(6, 33)),
    fn('dash-al-folders', 'folder filter', folders, [['dash-al-folder']], at(7, 33)),
    sized(dropdown('dash-al-state', 'dash-grp-al-history', 'State', 1, 'dash-al-state', STATE_FILTERS, choices, at(8, 30)), 4),
    sized(dropdown('dash-al-severity', 'dash-grp-al-history', 'Severity', 2, 'dash-al-severity', SEVERITY_FILTERS, choices, at(8, 31)), 4),
    sized(dropdown('dash-al-folder', 'dash-grp-al-history', 'Folder', 3, 'dash-al-folder', [], choices, at(8, 33)), 4),
    sized(button('dash-al-older', 'dash-grp-al-history', 'Older', 5, 'dash-al-older', 'chevron-right', `The next ${HISTORY_LIMIT} older alarms`, choices, at(8, 32)), 3),
    sized(button('dash-al-newest', 'dash-grp-al-history', 'Newest', 6, 'dash-al-newest', 'chevron-double-left', 'Back to the newest alarms', choices, at(8, 34)), 3),
    sized(dropdown('dash-al-alarm', 'dash-grp-al-ack', 'Raised alarm', 1, 'dash-al-alarm', [], choices, at(6, 29)), 5),
    sized(textInput('dash-al-note', 'dash-grp-al-ack', 'Note', 2, 'dash-al-note', 'What was done or found (at most 1000 characters)', choices, at(8, 35)), 5),
    sized(button('dash-al-ack', 'dash-grp-al-ack', 'Acknowledge', 3, 'dash-al-ack', 'check', 'Acknowledge the chosen alarm with the note (operators and admins)', choices, at(8, 36)), 2),
    fn('dash-al-choose', 'alarm page choices', choose, [['dash-al-req'], ['dash-al-ack-api'], ['dash-al-notify']], at(9, 33)),
    api('dash-al-ack-api', 'acknowledge', 'alarms.ack', ['dash-al-ack-result'], at(10, 35)),
    fn('dash-al-ack-result', 'acknowledgement answer', ackResult, [['dash-al-notify'], ['dash-al-note'], ['dash-al-req']], at(11, 35)),
    notification('dash-al-notify', 'answer to the user', at(12, 34)),
  ];
}
