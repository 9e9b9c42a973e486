/**
 * The dashboard's Site page (part of the "EMS Dashboard" tab, see lib/ems/dashboard-flow.ts) at /dashboard/site: a
 * space of the user's folders over a period against a year before (GET /api/folders/:id/report). Function nodes run
 * lib/ems/dashboard-site.ts's shaping functions.
 *
 * The tab's client function sends a site refresh (msg._client, msg.dash) on a view of the page, a choice and every
 * 5 minutes; "site requests" asks the API, as the client's EMS user (ems-api identity "dashboard"), for the user's
 * session (open folders) and the folder tree, picks the folder (the chosen one if the user still sees it, else their
 * first) and asks for its report. Every widget message answers that client only.
 */
import { localDate } from './dashboard';
import { folderOptions } from './dashboard-alarms';
import { api, at, dropdown, fn, table, text, TZ, uiGroup, uiPage, type FlowNode } from './dashboard-nodes';
import {
  chooseSite, SITE_PERIODS, siteBreakdownRows, siteCategoryRows, siteChoices, siteFolders, siteNumber, sitePercent, siteQuery, siteSpaceRows, siteStatus, siteTopRows,
} from './dashboard-site';

/** The Site page and its groups. */
export function siteConfigNodes(): FlowNode[] {
  return [
    uiPage('site', 'Site', 'domain', 6),
    uiGroup('dash-grp-si-pick', 'Space and period', 'site', 12, 1),
    uiGroup('dash-grp-si-cat', 'Energy by category (against a year before)', 'site', 12, 2),
    uiGroup('dash-grp-si-sub', 'Master meters, sub-meters and the unmetered remainder', 'site', 6, 3),
    uiGroup('dash-grp-si-spaces', 'Spaces below', 'site', 6, 4),
    uiGroup('dash-grp-si-top', 'Top consumers', 'site', 12, 5),
  ];
}

/** The flows of the Site page: folder choice, report request, answer shaped into tables. */
export function siteNodes(): FlowNode[] {
  const client = `const clients = flow.get('dash_clients') || {};
const sid = msg._client && msg._client.socketId;
const entry = clients[sid];
const c = { _client: msg._client };`;
  const requests = `${client}
if (!entry || !msg.dash || msg.dash.page !== 'site') return null;
return { ...c, dash: msg.dash, params: {}, query: {}, payload: {} };`;
  const treeRequest = `// The user's open_folders (empty: every folder) from their session, carried to the folder tree's answer.
const user = msg.payload && msg.payload.data && msg.payload.data.user;
if (!user) {
  node.status({ fill: 'red', shape: 'ring', text: (msg.payload && msg.payload.error) || 'no session' });
  return null;
}
return { _client: msg._client, dash: msg.dash, openFolders: Array.isArray(user.open_folders) ? user.open_folders : [], params: {}, query: {}, payload: {} };`;
  const folders = `${folderOptions}
${siteFolders}
${siteChoices}
${siteQuery}
${localDate}
${TZ}
${client}
if (!entry) return null;
const choices = siteChoices(entry);
const options = siteFolders(folderOptions(msg.payload && msg.payload.data, msg.openFolders));
if (!options.some((o) => o.value === choices.folder)) choices.folder = options.length ? options[0].value : '';
flow.set('dash_clients', clients);
const sync = !!(msg.dash && msg.dash.sync);
if (!choices.folder) {
  node.status({ fill: 'yellow', shape: 'ring', text: 'no folder' });
  return [{ ...c, options: [], payload: '' }, null, null, { ...c, payload: 'No folder to report on: ask an admin for access to a folder' }];
}
node.status({ fill: 'green', shape: 'dot', text: (msg._client.emsLogin || '?') + ': ' + choices.folder + ', ' + choices.period });
const query = siteQuery(choices.period, localDate(Date.now(), tz));
return [
  sync ? { ...c, options, payload: choices.folder } : null,
  sync ? { ...c, payload: choices.period } : null,
  { ...c, topic: choices.folder, params: { id: choices.folder }, query, payload: {} },
  null,
];`;
  const shape = `${siteNumber}
${sitePercent}
${siteCategoryRows}
${siteBreakdownRows}
${siteSpaceRows}
${siteTopRows}
${siteStatus}
const c = { _client: msg._client };
const status = siteStatus(msg.payload);
node.status({ fill: msg.payload && msg.payload.error ? 'red' : 'green', shape: msg.payload && msg.payload.error ? 'ring' : 'dot', text: status.slice(0, 60) });
return [
  { ...c, payload: siteCategoryRows(msg.payload) },
  { ...c, payload: siteBreakdownRows(msg.payload) },
  { ...c, payload: siteSpaceRows(msg.payload) },
  { ...c, payload: siteTopRows(msg.payload) },
  { ...c, payload: status },
];`;
  const choose = `${siteChoices}
${chooseSite}
${client}
if (!entry || entry.gone || !chooseSite(siteChoices(entry), msg)) return null;
flow.set('dash_clients', clients);
return { ...c, dash: { page: 'site', meter: entry.meter, range: entry.range, step: entry.step, reason: 'change', sync: false } };`;
  return [
    fn('dash-si-req', 'site requests', requests, [['dash-si-session']], at(3, 38)),
    api('dash-si-session', 'user\'s session', 'auth.session', ['dash-si-tree-req'], at(4, 38)),
    fn('dash-si-tree-req', 'open folders', treeRequest, [['dash-si-tree']], at(5, 38)),
    api('dash-si-tree', 'folder tree', 'folders.tree', ['dash-si-folders'], at(6, 38)),
    fn('dash-si-folders', 'folder and period', folders, [['dash-si-folder'], ['dash-si-period'], ['dash-si-report'], ['dash-si-status']], at(7, 38)),
    dropdown('dash-si-folder', 'dash-grp-si-pick', 'Space', 1, 'dash-si-folder', [], ['dash-si-choose'], at(8, 37)),
    dropdown('dash-si-period', 'dash-grp-si-pick', 'Period', 2, 'dash-si-period', SITE_PERIODS, ['dash-si-choose'], at(8, 38)),
    fn('dash-si-choose', 'site choices', choose, [['dash-si-req']], at(9, 37)),
    api('dash-si-report', 'site report', 'folders.report', ['dash-si-shape'], at(8, 39)),
    fn('dash-si-shape', 'report tables', shape, [['dash-si-cat'], ['dash-si-sub'], ['dash-si-spaces'], ['dash-si-top'], ['dash-si-status']], at(9, 39)),
    text('dash-si-status', 'dash-grp-si-pick', 'Report', 3, at(10, 38), true),
    table('dash-si-cat', 'dash-grp-si-cat', '', 1, at(10, 39)),
    table('dash-si-sub', 'dash-grp-si-sub', '', 1, at(10, 40), 50),
    table('dash-si-spaces', 'dash-grp-si-spaces', '', 1, at(10, 41), 50),
    table('dash-si-top', 'dash-grp-si-top', '', 1, at(10, 42), 30),
  ];
}
