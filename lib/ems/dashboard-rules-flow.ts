/**
 * The alarm rules on the dashboard's Alarms page (part of the "EMS Dashboard" tab, see lib/ems/dashboard-flow.ts):
 * the Rules group, a table of the rules the signed-in user sees with a summary of each condition, and a rule dropdown
 * with Enable / Disable. Function nodes run lib/ems/dashboard-rules.ts's shaping functions.
 *
 * Every alarm refresh of the Alarms page (the tab's client function: page views, choices, every 10 s) asks the API,
 * as the client's EMS user (ems-api identity "dashboard"), for the rules (GET /api/alarm-rules, scoped to the user's
 * folders), then for the folder tree, whose names become the rules' subjects. Enable / Disable sends
 * PUT /api/alarm-rules/:id { enabled } as that user; the answer is a notification to that client, and its Alarms
 * page (rules and alarms: disabling clears the rule's open alarms) is computed again. The API lets admins only change
 * rules, and the dashboard never acts with admin rights (lib/ems/api/dispatch.ts DASHBOARD_MAX_ROLE caps an admin's
 * dashboard at operator), so while that cap holds every user is shown the refusal (an admin with where to do it).
 * Every widget message answers that client only.
 */
import {
  activeHours, chooseRule, conditionSummary, ruleChoices, ruleDropdown, ruleOptions, ruleRows, rulesRequest, rulesStatus, ruleUpdateAnswer, ruleUpdateRequest,
  shortDuration, subjectNames, subjectText,
} from './dashboard-rules';
import { api, at, button, dropdown, fn, table, text, uiGroup, type FlowNode } from './dashboard-nodes';

/** The Rules group of the Alarms page (below the history). */
export function ruleConfigNodes(): FlowNode[] {
  return [uiGroup('dash-grp-al-rules', 'Alarm rules', 'alarms', 12, 4)];
}

/** The flows of the rules: the request on the Alarms page's refreshes, the table, the dropdown, enable / disable and its answer. */
export function ruleNodes(): FlowNode[] {
  const client = `const clients = flow.get('dash_clients') || {};
const sid = msg._client && msg._client.socketId;
const entry = clients[sid];
const c = { _client: msg._client };`;
  /** The refresh of the client's Alarms page (rules and alarms) after a change. */
  const refresh = "entry ? { ...c, dash: { page: 'alarms', meter: entry.meter, range: entry.range, step: entry.step, reason: 'change', sync: false } } : null";
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
${ruleOptions}
${ruleDropdown}
${ruleChoices}
${client}
// The folder tree only names the subjects: without it the ids are shown.
const tree = msg.payload && !msg.payload.error ? msg.payload.data : [];
const status = rulesStatus(msg.rules);
node.status({ fill: 'green', shape: 'dot', text: (msg._client.emsLogin || '?') + ': ' + status });
let choice = null;
if (entry) {
  const list = Array.isArray(msg.rules.data) ? msg.rules.data : [];
  choice = ruleDropdown(ruleChoices(entry), ruleOptions(msg.rules, tree), Object.fromEntries(list.map((r) => [String(r.id), String(r.name)])), !!(msg.dash && msg.dash.sync));
  flow.set('dash_clients', clients);
}
return [{ ...c, payload: ruleRows(msg.rules, tree) }, { ...c, payload: status }, choice && { ...c, ...choice }];`;
  const choose = `${ruleChoices}
${chooseRule}
${ruleUpdateRequest}
${client}
if (!entry || entry.gone) return null;
const r = chooseRule(ruleChoices(entry), msg);
flow.set('dash_clients', clients);
return [r.update ? { ...c, ...ruleUpdateRequest(r.update) } : null, r.notice ? { ...c, payload: r.notice } : null];`;
  const answer = `${ruleUpdateAnswer}
${client}
const a = ruleUpdateAnswer(msg.payload, msg.rule || { id: String(msg.topic), name: String(msg.topic), enabled: false }, msg._client && msg._client.emsRole);
node.status({ fill: a.ok ? 'green' : 'yellow', shape: 'dot', text: (msg._client.emsLogin || '?') + ': ' + a.text });
// The answer, and the page again: the rule's new state, and the alarms a disabled rule no longer has open.
const again = ${refresh};
return [{ ...c, payload: a.text }, again, a.ok ? again : null];`;

  const choices = ['dash-ru-choose'];
  const sized = (node: FlowNode, width: number): FlowNode => ({ ...node, width });
  const g = 'dash-grp-al-rules';
  return [
    fn('dash-ru-req', 'rule requests', request, [['dash-ru-list']], at(3, 38)),
    api('dash-ru-list', 'alarm rules', 'alarmrules.list', ['dash-ru-tree-req'], at(4, 38)),
    fn('dash-ru-tree-req', 'rules, then names', treeRequest, [['dash-ru-tree']], at(5, 38)),
    api('dash-ru-tree', 'folder tree (names)', 'folders.tree', ['dash-ru-rows'], at(6, 38)),
    fn('dash-ru-rows', 'rule rows', rows, [['dash-ru-table'], ['dash-ru-status'], ['dash-ru-rule']], at(7, 38)),
    sized(dropdown('dash-ru-rule', g, 'Rule', 1, 'dash-ru-rule', [], choices, at(8, 39)), 6),
    sized(button('dash-ru-enable', g, 'Enable', 2, 'dash-ru-enable', 'play', 'Enable the chosen rule (needs the admin role)', choices, at(8, 40)), 3),
    sized(button('dash-ru-disable', g, 'Disable', 3, 'dash-ru-disable', 'pause', 'Disable the chosen rule; its open alarms are cleared (needs the admin role)', choices, at(8, 41)), 3),
    sized(text('dash-ru-status', g, 'Rules', 4, at(8, 38)), 12),
    table('dash-ru-table', g, '', 5, at(8, 37)),
    fn('dash-ru-choose', 'rule choices', choose, [['dash-ru-update'], ['dash-al-notify']], at(9, 40)),
    api('dash-ru-update', 'enable / disable', 'alarmrules.update', ['dash-ru-answer'], at(10, 40)),
    fn('dash-ru-answer', 'enable / disable answer', answer, [['dash-al-notify'], ['dash-ru-req'], ['dash-al-req']], at(11, 40)),
  ];
}
