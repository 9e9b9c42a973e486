/**
 * The alarm rules on the dashboard's Alarms page (part of the "EMS Dashboard" tab, see lib/ems/dashboard-flow.ts):
 * the Rules group, a table of the rules the signed-in user sees with a summary of each condition, and the "Manage
 * alarm rules" group, a form that creates, changes, enables / disables and deletes them. Function nodes run
 * lib/ems/dashboard-rules.ts's functions.
 *
 * Every alarm refresh of the Alarms page (the tab's client function: page views, choices, every 10 s) asks the API,
 * as the client's EMS user (ems-api identity "dashboard"), for the rules (GET /api/alarm-rules, scoped to the user's
 * folders), the user's session (their open_folders) and the folder tree, whose names become the rules' subjects and
 * whose folders and meters of the user's the form's subjects. The form's group is hidden until shown to an operator's
 * or admin's client (ui-control; admins act as operators on the dashboard, lib/ems/api/dispatch.ts DASHBOARD_MAX_ROLE);
 * a viewer never gets it, and a viewer's forged form message is refused by the API (403) all the same. The API checks
 * the folders and every field, and its answer is shown as it words it. Every widget message answers that client only.
 */
import {
  activeHours, chooseRuleForm, conditionFields, conditionSummary, DIRECTIONS, ENABLED_OPTIONS, FORM_CONDITIONS, formOfRule, newRuleForm, optionsMessage,
  parseActiveHours, RULE_FIELDS, RULE_SEVERITIES, RULE_WINDOWS, ruleAnswer, ruleBody, ruleChoices, ruleOptions, ruleRows, rulesRequest, rulesStatus, ruleSubjectNames,
  shortDuration, subjectNames, subjectOptions, subjectText,
} from './dashboard-rules';
import { api, at, button, dropdown, fn, TAB, table, text, textInput, uiGroup, type FlowNode } from './dashboard-nodes';

/** The hidden group of the rule form (visible: false, a boolean: the dashboard's client takes any string as shown), shown per client to operators and admins. */
export const MANAGE_GROUP = 'dash-grp-al-manage';

/** The Rules group of the Alarms page (below the history) and the form's group (hidden until shown to a client). */
export function ruleConfigNodes(): FlowNode[] {
  return [uiGroup('dash-grp-al-rules', 'Alarm rules', 'alarms', 12, 4), { ...uiGroup(MANAGE_GROUP, 'Manage alarm rules', 'alarms', 12, 5), visible: false }];
}

/** How long a client's rules table uses the subject names of the last folder tree (timer refreshes only). */
const TREE_KEPT_MS = 120_000;

const client = `const clients = flow.get('dash_clients') || {};
const sid = msg._client && msg._client.socketId;
const entry = clients[sid];
const c = { _client: msg._client };`;

/** The flows of the rules: the request on the Alarms page's refreshes, the user's folders, the table, the form. */
export function ruleNodes(): FlowNode[] {
  const request = `${rulesRequest}
const r = rulesRequest(msg.dash);
return r && Object.assign({ _client: msg._client }, r);`;
  const sessionRequest = `// The rules, carried to the user's session (their open_folders) and folder tree; a refused list ends here. A timer
// refresh within ${TREE_KEPT_MS / 1000} s of the last tree uses the names kept from it (the tree grows with the meters).
${client}
if (msg.statusCode === 401 || !msg.payload || msg.payload.error) {
  node.status({ fill: 'red', shape: 'ring', text: (msg.payload && msg.payload.error) || 'no answer' });
  return null;
}
const role = msg._client && msg._client.emsRole;
const formKept = (role !== 'operator' && role !== 'admin') || !!(entry && entry.ruleForm && entry.ruleForm.subjectOptions);
const kept = entry && entry.ruleNames && Date.now() - entry.ruleNamesAt < ${TREE_KEPT_MS} && !(msg.dash && msg.dash.sync) && formKept;
const next = { _client: msg._client, dash: msg.dash, rules: msg.payload, params: {}, query: {}, payload: {} };
return kept ? [null, Object.assign(next, { keptNames: true })] : [next, null];`;
  const treeRequest = `// The rules and the user's open_folders (empty: every folder), carried to the folder tree's answer.
const user = msg.payload && msg.payload.data && msg.payload.data.user;
if (!user) {
  node.status({ fill: 'red', shape: 'ring', text: (msg.payload && msg.payload.error) || 'no session' });
  return null;
}
return { _client: msg._client, dash: msg.dash, rules: msg.rules, openFolders: Array.isArray(user.open_folders) ? user.open_folders : [], params: {}, query: {}, payload: {} };`;
  const rows = `${conditionSummary}
${activeHours}
${shortDuration}
${subjectNames}
${subjectText}
${ruleRows}
${ruleSubjectNames}
${rulesStatus}
${newRuleForm}
${ruleChoices}
${subjectOptions}
${ruleOptions}
${optionsMessage}
${client}
// The folder tree names the subjects (without it the ids are shown) and gives the form's subjects; between two
// trees the names of the rules' subjects and the form's subjects are kept on the client.
const kept = msg.keptNames && entry && entry.ruleNames ? entry.ruleNames : null;
const tree = !kept && msg.payload && !msg.payload.error ? msg.payload.data : [];
const names = kept || subjectNames(tree);
if (!kept && entry) Object.assign(entry, { ruleNames: ruleSubjectNames(names, msg.rules), ruleNamesAt: Date.now() });
flow.set('dash_clients', clients);
const status = rulesStatus(msg.rules);
node.status({ fill: 'green', shape: 'dot', text: (msg._client.emsLogin || '?') + ': ' + status });
const shown = [{ ...c, payload: ruleRows(msg.rules, tree, names) }, { ...c, payload: status }];
// The form: operators and admins only (a viewer's client never gets its group shown).
const role = msg._client && msg._client.emsRole;
if ((role !== 'operator' && role !== 'admin') || !entry || entry.gone) return [...shown, null, null, null, null];
const choices = ruleChoices(entry);
choices.rules = (Array.isArray(msg.rules.data) ? msg.rules.data : []).slice(0, 1000);
const subjects = kept && choices.subjectOptions ? JSON.parse(choices.subjectOptions) : subjectOptions(tree, msg.openFolders);
choices.subjects = subjects.map((o) => o.value);
const sync = !!(msg.dash && msg.dash.sync);
// The fields again on a sync of the page (a widget mounting late missed them), unless the user has begun typing.
let refill = sync && !choices.edited;
if (choices.rule !== 'new' && !choices.rules.some((r) => r.id === choices.rule)) {
  // The rule being edited is gone (deleted elsewhere): a new rule's form.
  Object.assign(choices, { rule: 'new', form: newRuleForm(), confirm: null });
  refill = true;
}
const ruleMsg = optionsMessage(choices, 'ruleOptions', ruleOptions(msg.rules), choices.rule, 'new', sync || refill);
const subjectMsg = optionsMessage(choices, 'subjectOptions', subjects, choices.form.subject, '', sync || refill);
flow.set('dash_clients', clients);
return [...shown, { ...c, payload: { groups: { show: ['${MANAGE_GROUP}'] } } }, ruleMsg && { ...c, ...ruleMsg }, subjectMsg && { ...c, ...subjectMsg },
  refill ? { ...c, topic: 'dash-ru-show-form' } : null];`;
  const choose = `${newRuleForm}
${activeHours}
${formOfRule}
${parseActiveHours}
${ruleBody}
${ruleChoices}
${chooseRuleForm}
${conditionFields}
${client}
if (!entry || entry.gone) return null;
const choices = ruleChoices(entry);
const r = msg.topic === 'dash-ru-show-form' ? { call: null, form: choices.form, notice: null } : chooseRuleForm(choices, msg, Date.now());
flow.set('dash_clients', clients);
const call = r.call && { ...c, ruleCall: { op: r.call.op, name: r.call.name, payload: r.call.payload }, params: r.call.params, query: {}, payload: r.call.payload };
const op = r.call && r.call.op;
const hint = r.form || msg.topic === 'dash-ru-type' ? { ...c, payload: conditionFields(choices.form.type) } : null;
// After a choice of rule, every field shows it (an empty subject clears its dropdown).
const fields = ${JSON.stringify(RULE_FIELDS)}.map((k) => (r.form ? { ...c, payload: k === 'subject' && !r.form[k] ? [] : r.form[k] } : null));
if (r.call) node.status({ fill: 'blue', shape: 'dot', text: (msg._client.emsLogin || '?') + ': ' + op + ' ' + r.call.name });
return [op === 'create' ? call : null, op === 'update' ? call : null, op === 'delete' ? call : null, r.notice ? { ...c, payload: r.notice } : null, hint, ...fields];`;
  const result = `${ruleAnswer}
${newRuleForm}
${ruleChoices}
${client}
const call = msg.ruleCall || {};
const a = ruleAnswer(msg.payload, call);
node.status({ fill: a.ok ? 'green' : 'yellow', shape: 'dot', text: (msg._client.emsLogin || '?') + ': ' + a.text });
let reset = false;
if (a.ok && entry) {
  const choices = ruleChoices(entry);
  if (call.op === 'create' && a.id) choices.rule = a.id;
  if (call.op === 'delete') {
    Object.assign(choices, { rule: 'new', form: newRuleForm(), confirm: null });
    reset = true;
  }
  flow.set('dash_clients', clients);
}
// The answer; the page again (the table, the rule dropdown, the alarms a disabled rule cleared); the emptied form.
const refresh = entry ? { ...c, dash: { page: 'alarms', meter: entry.meter, range: entry.range, step: entry.step, reason: 'change', sync: true } } : null;
return [{ ...c, payload: a.text }, a.ok ? refresh : null, reset ? { ...c, topic: 'dash-ru-show-form' } : null];`;

  const sized = (node: FlowNode, width: number): FlowNode => ({ ...node, width });
  const g = 'dash-grp-al-rules';
  const m = MANAGE_GROUP;
  const form = ['dash-ru-choose'];
  const fieldWidgets: Record<string, FlowNode> = {
    name: sized(textInput('dash-ru-name', m, 'Name', 2, 'dash-ru-name', 'The rule\'s name (1-100 characters)', form, at(9, 41)), 4),
    subject: sized(dropdown('dash-ru-subject', m, 'Subject', 3, 'dash-ru-subject', [], form, at(9, 42)), 4),
    type: sized(dropdown('dash-ru-type', m, 'Condition', 4, 'dash-ru-type', FORM_CONDITIONS, form, at(9, 43)), 4),
    obis: sized(textInput('dash-ru-obis', m, 'OBIS', 5, 'dash-ru-obis', 'The OBIS code of the value, e.g. 1-0:1.7.0 (active power) or 1-0:1.8.0 (energy import)', form, at(9, 44)), 3),
    direction: sized(dropdown('dash-ru-direction', m, 'Direction', 6, 'dash-ru-direction', DIRECTIONS, form, at(9, 45)), 3),
    value: sized(textInput('dash-ru-value', m, 'Value', 7, 'dash-ru-value', 'The limit, intervals, count, factor or amount: see the line below the form', form, at(9, 46)), 3),
    unit: sized(textInput('dash-ru-unit', m, 'Unit', 8, 'dash-ru-unit', 'The unit of the value, e.g. kW, kWh, V, m3', form, at(9, 47)), 3),
    hysteresis: sized(textInput('dash-ru-hysteresis', m, 'Hysteresis', 9, 'dash-ru-hysteresis', 'Threshold rules: clears once the value is this far back from the limit', form, at(9, 48)), 3),
    window: sized(dropdown('dash-ru-window', m, 'Window', 10, 'dash-ru-window', RULE_WINDOWS, form, at(9, 49)), 3),
    weeks: sized(textInput('dash-ru-weeks', m, 'Weeks', 11, 'dash-ru-weeks', 'Anomaly rules: the weeks of history the median is taken over (1-12)', form, at(9, 50)), 3),
    severity: sized(dropdown('dash-ru-severity', m, 'Severity', 12, 'dash-ru-severity', RULE_SEVERITIES, form, at(9, 51)), 3),
    delay: sized(textInput('dash-ru-delay', m, 'Delay (s)', 13, 'dash-ru-delay', 'How long the condition must hold before the alarm is raised, in seconds', form, at(9, 52)), 3),
    active: sized(textInput('dash-ru-active', m, 'Active hours', 14, 'dash-ru-active', 'always, or days and local hours such as Mon-Fri 07:00-18:00', form, at(9, 53)), 6),
    enabled: sized(dropdown('dash-ru-enabled', m, 'State', 15, 'dash-ru-enabled', ENABLED_OPTIONS, form, at(9, 54)), 3),
  };
  return [
    fn('dash-ru-req', 'rule requests', request, [['dash-ru-list']], at(3, 38)),
    api('dash-ru-list', 'alarm rules', 'alarmrules.list', ['dash-ru-session-req'], at(4, 38)),
    fn('dash-ru-session-req', 'rules, then folders', sessionRequest, [['dash-ru-session'], ['dash-ru-rows']], at(5, 38)),
    api('dash-ru-session', 'user\'s session (rules)', 'auth.session', ['dash-ru-tree-req'], at(6, 38)),
    fn('dash-ru-tree-req', 'rules, then names', treeRequest, [['dash-ru-tree']], at(7, 38)),
    api('dash-ru-tree', 'folder tree (names)', 'folders.tree', ['dash-ru-rows'], at(8, 38)),
    fn('dash-ru-rows', 'rule rows and form', rows, [['dash-ru-table'], ['dash-ru-status'], ['dash-ru-show'], ['dash-ru-rule'], ['dash-ru-subject'], ['dash-ru-choose']], at(9, 38)),
    sized(text('dash-ru-status', g, 'Rules', 1, at(10, 38)), 12),
    table('dash-ru-table', g, '', 2, at(10, 37)),
    { id: 'dash-ru-show', type: 'ui-control', z: TAB, ui: 'dash-base', name: 'show the rule form', events: 'change', ...at(10, 39), wires: [[]] },
    sized(dropdown('dash-ru-rule', m, 'Rule', 1, 'dash-ru-rule', [], form, at(9, 40)), 4),
    ...RULE_FIELDS.map((k) => fieldWidgets[k]),
    sized(text('dash-ru-hint', m, 'Uses', 16, at(11, 44), true), 12),
    sized(button('dash-ru-save', m, 'Save', 17, 'dash-ru-save', 'content-save', 'Create the new rule, or save the changes of the chosen one', form, at(9, 55)), 3),
    sized(button('dash-ru-enable', m, 'Enable', 18, 'dash-ru-enable', 'play', 'Enable the chosen rule', form, at(9, 56)), 3),
    sized(button('dash-ru-disable', m, 'Disable', 19, 'dash-ru-disable', 'pause', 'Disable the chosen rule (its open alarms clear)', form, at(9, 57)), 3),
    sized(button('dash-ru-delete', m, 'Delete', 20, 'dash-ru-delete', 'delete', 'Delete the chosen rule (press twice: it asks first)', form, at(9, 58)), 3),
    fn('dash-ru-choose', 'rule form choices', choose, [
      ['dash-ru-create'], ['dash-ru-update'], ['dash-ru-delete-api'], ['dash-al-notify'], ['dash-ru-hint'], ...RULE_FIELDS.map((k) => [`dash-ru-${k}`]),
    ], at(10, 44)),
    api('dash-ru-create', 'create rule', 'alarmrules.create', ['dash-ru-result'], at(11, 40)),
    api('dash-ru-update', 'change rule', 'alarmrules.update', ['dash-ru-result'], at(11, 41)),
    api('dash-ru-delete-api', 'delete rule', 'alarmrules.delete', ['dash-ru-result'], at(11, 42)),
    fn('dash-ru-result', 'rule answer', result, [['dash-al-notify'], ['dash-ru-req', 'dash-al-req'], ['dash-ru-choose']], at(12, 41)),
  ];
}
