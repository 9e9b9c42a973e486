/**
 * The alarm rules on the dashboard's Alarms page (part of the "EMS Dashboard" tab, see lib/ems/dashboard-flow.ts):
 * the Rules group, a table of the rules the signed-in user sees with a summary of each condition. Function nodes run
 * lib/ems/dashboard-rules.ts's shaping functions.
 *
 * Every alarm refresh of the Alarms page (the tab's client function: page views, choices, every 10 s) asks the API,
 * as the client's EMS user (ems-api identity "dashboard"), for the rules (GET /api/alarm-rules, scoped to the user's
 * folders), then for the folder tree, whose names become the rules' subjects. The table is read only: rules are an
 * admin's, and the dashboard never acts with admin rights (lib/ems/api/dispatch.ts DASHBOARD_MAX_ROLE), so they are
 * changed through the API. Every widget message answers that client only.
 */
import { activeHours, conditionSummary, ruleRows, rulesRequest, rulesStatus, shortDuration, subjectNames, subjectText } from './dashboard-rules';
import { api, at, fn, table, text, uiGroup, type FlowNode } from './dashboard-nodes';

/** The Rules group of the Alarms page (below the history). */
export function ruleConfigNodes(): FlowNode[] {
  return [uiGroup('dash-grp-al-rules', 'Alarm rules', 'alarms', 12, 4)];
}

/** The flows of the rules: the request on the Alarms page's refreshes, the names of their subjects, the table. */
export function ruleNodes(): FlowNode[] {
  const request = `${rulesRequest}
const r = rulesRequest(msg.dash);
return r && Object.assign({ _client: msg._client }, r);`;
  const treeRequest = `// The rules, carried to the folder tree's answer (the names of their subjects); a refused list ends here.
if (msg.statusCode === 401 || !msg.payload || msg.payload.error) {
  node.status({ fill: 'red', shape: 'ring', text: (msg.payload && msg.payload.error) || 'no answer' });
  return null;
}
return { _client: msg._client, dash: msg.dash, rules: msg.payload, params: {}, query: {}, payload: {} };`;
  const rows = `${conditionSummary}
${activeHours}
${shortDuration}
${subjectNames}
${subjectText}
${ruleRows}
${rulesStatus}
// The folder tree only names the subjects: without it the ids are shown.
const tree = msg.payload && !msg.payload.error ? msg.payload.data : [];
const status = rulesStatus(msg.rules);
node.status({ fill: 'green', shape: 'dot', text: (msg._client.emsLogin || '?') + ': ' + status });
const c = { _client: msg._client };
return [{ ...c, payload: ruleRows(msg.rules, tree) }, { ...c, payload: status }];`;
  const sized = (node: FlowNode, width: number): FlowNode => ({ ...node, width });
  const g = 'dash-grp-al-rules';
  return [
    fn('dash-ru-req', 'rule requests', request, [['dash-ru-list']], at(3, 38)),
    api('dash-ru-list', 'alarm rules', 'alarmrules.list', ['dash-ru-tree-req'], at(4, 38)),
    fn('dash-ru-tree-req', 'rules, then names', treeRequest, [['dash-ru-tree']], at(5, 38)),
    api('dash-ru-tree', 'folder tree (names)', 'folders.tree', ['dash-ru-rows'], at(6, 38)),
    fn('dash-ru-rows', 'rule rows', rows, [['dash-ru-table'], ['dash-ru-status']], at(7, 38)),
    sized(text('dash-ru-status', g, 'Rules', 1, at(8, 38)), 12),
    table('dash-ru-table', g, '', 2, at(8, 37)),
  ];
}
