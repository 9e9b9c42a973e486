/**
 * The alarm rules on the dashboard's Alarms page (issue 19): a table of the rules the signed-in user sees
 * (GET /api/alarm-rules, scoped to their folders) with a one-line summary of each condition, and for operators (and
 * admins, who act as operators on the dashboard: lib/ems/api/dispatch.ts DASHBOARD_MAX_ROLE) a form that creates,
 * changes, enables / disables and deletes the rules of their folders (the API checks the folders and every field;
 * its refusals are shown as it words them). Pure functions; like lib/ems/dashboard-alarms.ts, each is self-contained
 * (its compiled source becomes part of a function node, see lib/ems/dashboard-rules-flow.ts) and one that calls
 * another says so.
 */
import type { DashRefresh } from './dashboard';
import type { AlarmClient, AlarmEnvelope, DashOption } from './dashboard-alarms';

/** An alarm rule as GET /api/alarm-rules answers it (lib/ems/alarms/types.ts AlarmRule), as far as the dashboard reads it. */
export interface DashRule {
  id: string; name: string; subject: { meter?: string; folder?: string; scope?: string } | null; condition: { type: string; [k: string]: unknown };
  severity: string; delay_s: number; hysteresis: number; clear_after_s: number; hold_off_s: number; active: { days: number[]; from: string; to: string } | null; enabled: boolean;
}

/** The rule form's fields as typed or chosen (text; numbers are parsed when the rule is sent). */
export interface RuleForm {
  name: string; subject: string; type: string; obis: string; direction: string; value: string; unit: string; hysteresis: string;
  window: string; weeks: string; severity: string; delay: string; active: string; enabled: string;
}
/** A client's rule form (beside its other choices in flow context dash_clients). */
export interface RuleChoices {
  /** "new", or the id of the rule being edited; its form; the rules and subject values last offered; the keys last sent to the dropdowns. */
  rule: string; form: RuleForm; rules: DashRule[]; subjects: string[]; ruleOptions: string; subjectOptions: string;
  /** A Delete pressed once (the rule and when): a second press within RULE_DELETE_CONFIRM_MS deletes it. */
  confirm: { id: string; at: number } | null;
  /** The user chose or typed something since the page view: a later sync of the page leaves the fields alone. */
  edited?: boolean;
}
export interface RuleClient extends AlarmClient { ruleForm?: RuleChoices }

/** The form's fields in the order of the rule function's field outputs (one widget each, topic dash-ru-<field>). */
export const RULE_FIELDS: (keyof RuleForm)[] = ['name', 'subject', 'type', 'obis', 'direction', 'value', 'unit', 'hysteresis', 'window', 'weeks', 'severity', 'delay', 'active', 'enabled'];
/** The conditions the form offers (the EMS-self ones, license and spool, are left to the API). */
export const FORM_CONDITIONS: DashOption[] = [
  { value: 'threshold', label: 'Threshold on a value' }, { value: 'stale', label: 'Stale meter (no reading)' }, { value: 'poll_failures', label: 'Failed polls in a row' },
  { value: 'window_consumption', label: 'Consumption over a window' }, { value: 'anomaly', label: 'Anomaly against past weeks' },
  { value: 'register_sanity', label: 'Register sanity' }, { value: 'prepaid_balance_below', label: 'Prepaid balance below' },
];
export const DIRECTIONS: DashOption[] = [{ value: 'above', label: 'Above' }, { value: 'below', label: 'Below' }];
export const RULE_WINDOWS: DashOption[] = [{ value: '15m', label: '15 minutes' }, { value: '1h', label: '1 hour' }, { value: '1d', label: '1 day' }];
export const RULE_SEVERITIES: DashOption[] = [{ value: 'info', label: 'Info' }, { value: 'warning', label: 'Warning' }, { value: 'critical', label: 'Critical' }];
export const ENABLED_OPTIONS: DashOption[] = [{ value: 'yes', label: 'Enabled' }, { value: 'no', label: 'Disabled' }];
export const RULE_DELETE_CONFIRM_MS = 15_000;

/** The form of a new rule: a threshold on active power, warning, always active, enabled. */
export function newRuleForm(): RuleForm {
  return { name: '', subject: '', type: 'threshold', obis: '1-0:1.7.0', direction: 'above', value: '', unit: 'kW', hysteresis: '0', window: '1h', weeks: '4', severity: 'warning', delay: '0', active: 'always', enabled: 'yes' };
}

/** The client's rule form, a new rule's on first use. Uses newRuleForm. */
export function ruleChoices(client: RuleClient): RuleChoices {
  if (!client.ruleForm) client.ruleForm = { rule: 'new', form: newRuleForm(), rules: [], subjects: [], ruleOptions: '', subjectOptions: '', confirm: null };
  return client.ruleForm;
}

/** Which fields a condition uses, for the line under the form. */
export function conditionFields(type: string): string {
  const uses: Record<string, string> = {
    threshold: 'OBIS, direction, value (the limit), unit and hysteresis',
    stale: 'value: how many of the meter\'s intervals without a reading (default 3)',
    poll_failures: 'value: how many failed polls in a row (default 3)',
    window_consumption: 'OBIS (default 1-0:1.8.0), window, direction, value (the limit) and unit (default kWh)',
    anomaly: 'OBIS (default 1-0:1.8.0), value (the factor over the median, default 1.5) and weeks (1-12)',
    register_sanity: 'OBIS (default 1-0:1.8.0): a register going backwards, a reset or a spike',
    prepaid_balance_below: 'value: the balance below which the alarm is raised',
  };
  return `${type} uses ${uses[type] || 'fields the API names'}`;
}

/**
 * The subject dropdown's options from the folder tree (GET /api/folders) and the user's open_folders (empty: every
 * folder): each folder of theirs with everything below ("Folder: Plant / Hall 1 and below", value folder:<id>) and each
 * meter in them ("Meter: Main incomer in Plant / Hall 1", value meter:<id>); never the folders above theirs that the
 * tree shows as their path. At most 1000.
 */
export function subjectOptions(tree: unknown, openFolders: unknown): DashOption[] {
  const open = Array.isArray(openFolders) ? openFolders.map(String) : [];
  const out: DashOption[] = [];
  type Node = { _id?: unknown; name?: unknown; meter?: unknown; child_folders?: unknown };
  const walk = (nodes: unknown, path: string[], inside: boolean, depth: number) => {
    if (depth > 50) return;
    for (const n of Array.isArray(nodes) ? nodes as Node[] : []) {
      if (!n || typeof n !== 'object' || out.length >= 1000) continue;
      if (n.meter !== undefined) {
        if (inside) out.push({ value: `meter:${String(n.meter)}`, label: `Meter: ${String(n.name ?? n.meter)} in ${path.join(' / ')}` });
        continue;
      }
      if (typeof n._id !== 'string') continue;
      const names = [...path, String(n.name ?? n._id)];
      const mine = inside || open.length === 0 || open.includes(n._id);
      if (mine) out.push({ value: `folder:${n._id}`, label: `Folder: ${names.join(' / ')} and below` });
      walk(n.child_folders, names, mine, depth + 1);
    }
  };
  walk(tree, [], false, 0);
  return out;
}

/** The rule dropdown's options: a new rule, then the rules of a GET /api/alarm-rules envelope by name. */
export function ruleOptions(envelope: AlarmEnvelope): DashOption[] {
  const list = envelope && !envelope.error && Array.isArray(envelope.data) ? envelope.data as DashRule[] : [];
  return [{ value: 'new', label: 'New rule' }, ...list.map((r) => ({ value: String(r.id), label: `${String(r.name)}${r.enabled === false ? ' (disabled)' : ''}` }))];
}

/**
 * A dropdown message ({ options, payload }) when its options changed since the last sent under `key` (or `sync`), else
 * null: a timer refresh must not disturb a choice being made. `chosen` is kept when still offered, else `fallback`.
 */
export function optionsMessage(choices: RuleChoices, key: 'ruleOptions' | 'subjectOptions', options: DashOption[], chosen: string, fallback: string, sync: boolean): { options: DashOption[]; payload: string | string[] } | null {
  const k = JSON.stringify(options);
  if (!sync && k === choices[key]) return null;
  choices[key] = k;
  const value = options.some((o) => o.value === chosen) ? chosen : fallback;
  return { options, payload: value === '' ? [] : value };
}

/** The form showing a rule (the edit of an existing rule). Uses newRuleForm and activeHours. */
export function formOfRule(rule: DashRule): RuleForm {
  const f = newRuleForm();
  const c = (rule.condition || { type: '' }) as Record<string, any>;
  const text = (v: unknown) => (v === undefined || v === null ? '' : String(v));
  const s = rule.subject;
  const value: Record<string, unknown> = {
    threshold: c.value, stale: c.intervals, poll_failures: c.count, window_consumption: c.above !== undefined ? c.above : c.below,
    anomaly: c.factor, prepaid_balance_below: c.amount,
  };
  return {
    ...f, name: text(rule.name), type: text(c.type),
    subject: s && typeof s.meter === 'string' ? `meter:${s.meter}` : s && typeof s.folder === 'string' ? `folder:${s.folder}` : '',
    obis: c.obis ? String(c.obis) : c.type === 'threshold' ? f.obis : '1-0:1.8.0',
    direction: c.type === 'window_consumption' ? (c.above !== undefined ? 'above' : 'below') : c.direction === 'below' ? 'below' : 'above',
    value: text(value[c.type]), unit: c.unit ? String(c.unit) : '', hysteresis: text(rule.hysteresis || 0), window: c.window ? String(c.window) : f.window,
    weeks: c.weeks !== undefined ? String(c.weeks) : f.weeks, severity: text(rule.severity) || f.severity, delay: text(rule.delay_s || 0),
    active: activeHours(rule.active), enabled: rule.enabled === false ? 'no' : 'yes',
  };
}

/**
 * Active hours as typed ("always", "Mon-Fri 07:00-18:00", "every day 22:00-06:00", "Sat, Sun 08:00-12:00", days also
 * 1-7) into the API's { days, from, to } (null: always), or an error naming what was typed. The times are the API's to check.
 */
export function parseActiveHours(text: string): { active: { days: number[]; from: string; to: string } | null } | { error: string } {
  const t = String(text || '').trim();
  if (t === '' || /^always$/i.test(t)) return { active: null };
  const bad = { error: `active hours ${JSON.stringify(t)} must be "always" or days and hours such as "Mon-Fri 07:00-18:00" or "every day 22:00-06:00"` };
  const m = /^(.*?)\s*(\d{1,2}:\d{2})\s*-\s*(\d{1,2}:\d{2})$/.exec(t);
  if (!m) return bad;
  const names = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'];
  const day = (s: string) => (/^[1-7]$/.test(s) ? Number(s) : names.indexOf(s.slice(0, 3).toLowerCase()) + 1);
  const days: number[] = [];
  const spec = m[1].trim();
  if (spec === '' || /^every\s*day$/i.test(spec)) days.push(1, 2, 3, 4, 5, 6, 7);
  else {
    for (const part of spec.split(/\s*,\s*/)) {
      const [a, b] = part.split(/\s*-\s*/);
      const from = day(a || '');
      const to = b === undefined ? from : day(b);
      if (from < 1 || to < 1 || part.split('-').length > 2) return bad;
      for (let d = from; ; d = d % 7 + 1) { days.push(d); if (d === to) break; }
    }
  }
  return { active: { days: [...new Set(days)].sort((x, y) => x - y), from: m[2].padStart(5, '0'), to: m[3].padStart(5, '0') } };
}

/**
 * The API body of a rule form (POST, or PUT of `before`), or an error naming a field the form cannot send. A number
 * that does not parse is sent as typed, so that the API's refusal names the field and the value; an empty one is left
 * out (the API's default, or its refusal). A changed condition keeps the fields of `before`'s the form does not show
 * (min, kinds); a folder subject keeps its scope. Uses parseActiveHours.
 */
export function ruleBody(form: RuleForm, before: DashRule | null): { body: Record<string, unknown> } | { error: string } {
  const num = (s: string): unknown => {
    const t = String(s ?? '').trim();
    return t === '' ? undefined : /^[-+]?(\d+(\.\d*)?|\.\d+)([eE][-+]?\d+)?$/.test(t) ? Number(t) : t;
  };
  const strip = (o: Record<string, unknown>) => Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined && v !== ''));
  const bc: Record<string, unknown> = before && before.condition && before.condition.type === form.type ? before.condition : {};
  const value = num(form.value);
  const type = form.type;
  const own: Record<string, Record<string, unknown>> = {
    threshold: { obis: form.obis.trim(), direction: form.direction, value, unit: form.unit.trim() },
    stale: { intervals: value }, poll_failures: { count: value },
    window_consumption: { obis: form.obis.trim(), window: form.window, unit: form.unit.trim(), above: undefined, below: undefined, [form.direction === 'below' ? 'below' : 'above']: value },
    anomaly: { obis: form.obis.trim(), weeks: num(form.weeks), factor: value },
    register_sanity: { obis: form.obis.trim() },
    prepaid_balance_below: { amount: value },
  };
  if (!own[type]) return { error: `choose a condition (${Object.keys(own).join(', ')})` };
  const condition: Record<string, unknown> = { ...strip({ ...bc, ...own[type] }), type };
  if (type === 'window_consumption' && bc.above !== undefined && bc.below !== undefined) condition[form.direction === 'below' ? 'above' : 'below'] = bc[form.direction === 'below' ? 'above' : 'below'];
  const active = parseActiveHours(form.active);
  if ('error' in active) return active;
  const body: Record<string, unknown> = { name: form.name.trim(), condition, severity: form.severity, delay_s: num(form.delay) ?? 0, active: active.active, enabled: form.enabled !== 'no' };
  if (type === 'threshold') body.hysteresis = num(form.hysteresis) ?? 0;
  const [kind, id] = [form.subject.slice(0, form.subject.indexOf(':')), form.subject.slice(form.subject.indexOf(':') + 1)];
  if (kind === 'meter') body.subject = { meter: id };
  else if (kind === 'folder') body.subject = { folder: id, scope: before && before.subject && before.subject.folder === id && before.subject.scope === 'folder' ? 'folder' : 'subtree' };
  return { body };
}

/**
 * A choice on the rule form (topic dash-ru-*) applied to the client's form: a rule to edit (or "new": an empty form),
 * a field, Save (create or update), Enable / Disable, Delete (pressed twice within RULE_DELETE_CONFIRM_MS). Answers the
 * API call to make ({ op: create | update | delete, params, payload, name }), the form to show in the widgets (after a
 * choice of rule) and a notice for the user. A subject not offered to the user is refused here too. Uses newRuleForm,
 * formOfRule and ruleBody (and what they use).
 */
export function chooseRuleForm(choices: RuleChoices, msg: { topic?: unknown; payload?: unknown }, now: number): {
  call: { op: 'create' | 'update' | 'delete'; params: Record<string, string>; payload: Record<string, unknown>; name: string } | null; form: RuleForm | null; notice: string | null;
} {
  const none = { call: null, form: null, notice: null };
  const confirmMs = 15_000; // RULE_DELETE_CONFIRM_MS (a self-contained function names no module constant)
  const topic = String(msg && msg.topic);
  const v = msg ? msg.payload : undefined;
  const chosen = choices.rule === 'new' ? null : choices.rules.find((r) => r.id === choices.rule) || null;
  const allowed: Record<string, string[]> = {
    type: ['threshold', 'stale', 'poll_failures', 'window_consumption', 'anomaly', 'register_sanity', 'prepaid_balance_below'],
    direction: ['above', 'below'], window: ['15m', '1h', '1d'], severity: ['info', 'warning', 'critical'], enabled: ['yes', 'no'],
  };
  const field = topic.startsWith('dash-ru-') ? topic.slice('dash-ru-'.length) : '';
  if (['rule', 'subject', 'type', 'direction', 'window', 'severity', 'enabled', 'name', 'obis', 'value', 'unit', 'hysteresis', 'weeks', 'delay', 'active'].includes(field)) choices.edited = true;
  if (field === 'rule') {
    if (typeof v !== 'string' || v === '') return none;
    const rule = choices.rules.find((r) => r.id === v);
    choices.rule = rule ? rule.id : 'new';
    choices.form = rule ? formOfRule(rule) : newRuleForm();
    choices.confirm = null;
    return { call: null, form: choices.form, notice: null };
  }
  if (field === 'subject') {
    if (typeof v !== 'string' || v === '') return none;
    if (!choices.subjects.includes(v)) return { call: null, form: null, notice: 'Choose a meter or folder of your folders as the subject' };
    choices.form.subject = v;
    return none;
  }
  if (allowed[field]) {
    if (typeof v === 'string' && allowed[field].includes(v)) (choices.form as unknown as Record<string, string>)[field] = v;
    return none;
  }
  if (['name', 'obis', 'value', 'unit', 'hysteresis', 'weeks', 'delay', 'active'].includes(field)) {
    (choices.form as unknown as Record<string, string>)[field] = typeof v === 'string' || typeof v === 'number' ? String(v).slice(0, 200) : '';
    return none;
  }
  const name = chosen ? chosen.name : choices.form.name.trim();
  switch (field) {
    case 'save': {
      const b = ruleBody(choices.form, chosen);
      if ('error' in b) return { call: null, form: null, notice: `Rule not saved: ${b.error}` };
      return { call: chosen ? { op: 'update', params: { id: chosen.id }, payload: b.body, name } : { op: 'create', params: {}, payload: b.body, name }, form: null, notice: null };
    }
    case 'enable':
    case 'disable':
      if (!chosen) return { call: null, form: null, notice: `Choose a rule to ${field} first` };
      return { call: { op: 'update', params: { id: chosen.id }, payload: { enabled: field === 'enable' }, name }, form: null, notice: null };
    case 'delete':
      if (!chosen) return { call: null, form: null, notice: 'Choose a rule to delete first' };
      if (choices.confirm && choices.confirm.id === chosen.id && now - choices.confirm.at <= confirmMs) {
        choices.confirm = null;
        return { call: { op: 'delete', params: { id: chosen.id }, payload: {}, name }, form: null, notice: null };
      }
      choices.confirm = { id: chosen.id, at: now };
      return { call: null, form: null, notice: `Delete the rule "${chosen.name}"? Press Delete again within ${confirmMs / 1000} s to confirm` };
    default:
      return none;
  }
}

/** The text of a rule call's answer (created, saved, enabled, disabled, deleted; refused: 403; or the API's reason). */
export function ruleAnswer(envelope: AlarmEnvelope, call: { op?: unknown; name?: unknown; payload?: unknown }): { ok: boolean; text: string; id: string | null } {
  const name = JSON.stringify(String((call && call.name) || 'the rule'));
  if (envelope && !envelope.error && envelope.status !== undefined && envelope.status < 400) {
    const data = (envelope.data || {}) as { id?: unknown; enabled?: unknown };
    const p = (call.payload || {}) as Record<string, unknown>;
    const done = call.op === 'create' ? 'created' : call.op === 'delete' ? 'deleted'
      : Object.keys(p).length === 1 && typeof p.enabled === 'boolean' ? (p.enabled ? 'enabled' : 'disabled') : 'saved';
    return { ok: true, text: `Rule ${name} ${done}`, id: typeof data.id === 'string' ? data.id : null };
  }
  const why = (envelope && envelope.error) || 'no answer';
  return { ok: false, text: envelope && envelope.status === 403 ? `Refused: ${why}` : `Rule ${name} not ${call.op === 'delete' ? 'deleted' : 'saved'}: ${why}`, id: null };
}

/** The GET /api/alarm-rules request (without _client) of an alarm refresh: on the Alarms page only, else null. */
export function rulesRequest(dash: DashRefresh['dash'] | undefined): { dash: DashRefresh['dash']; params: Record<string, string>; query: Record<string, string>; payload: Record<string, never> } | null {
  if (!dash || dash.page !== 'alarms') return null;
  return { dash, params: {}, query: {}, payload: {} };
}

/**
 * One line saying when a rule's condition holds, e.g. "1-0:1.7.0 above 50 kW", "no reading for 3 intervals",
 * "1h consumption above 10 kWh", "1h above 1.5 x median of 4 weeks", "register backwards/reset". The energy register
 * (1-0:1.8.0, the default) is left unsaid; `hysteresis` (threshold rules) is added when not 0.
 */
export function conditionSummary(condition: { type?: unknown; [k: string]: unknown } | null | undefined, hysteresis = 0): string {
  const c = (condition && typeof condition === 'object' ? condition : {}) as Record<string, any>;
  const num = (v: unknown) => (typeof v === 'number' && Number.isFinite(v) ? String(Math.round(v * 1e6) / 1e6) : '?');
  const plural = (v: unknown, word: string) => `${num(v)} ${word}${v === 1 ? '' : 's'}`;
  const unit = (u: unknown) => (u ? ` ${String(u)}` : '');
  const energy = '1-0:1.8.0';
  const of = (obis: unknown) => (obis && obis !== energy ? ` of ${String(obis)}` : '');
  switch (c.type) {
    case 'threshold':
      return `${String(c.obis)} ${c.direction === 'below' ? 'below' : 'above'} ${num(c.value)}${unit(c.unit)}${hysteresis ? ` (hysteresis ${num(hysteresis)}${unit(c.unit)})` : ''}`;
    case 'stale':
      return `no reading for ${plural(c.intervals, 'interval')}`;
    case 'poll_failures':
      return `${plural(c.count, 'failed poll')} in a row`;
    case 'window_consumption': {
      const limits = [typeof c.above === 'number' ? `above ${num(c.above)}${unit(c.unit)}` : '', typeof c.below === 'number' ? `below ${num(c.below)}${unit(c.unit)}` : ''];
      return `${String(c.window)} consumption${of(c.obis)} ${limits.filter(Boolean).join(' or ')}`;
    }
    case 'anomaly':
      return `${String(c.window || '1h')}${of(c.obis)} above ${num(c.factor)} x median of ${plural(c.weeks, 'week')}${c.min ? ` and at least ${num(c.min)}${unit(c.unit)} more` : ''}`;
    case 'register_sanity': {
      const kinds = Array.isArray(c.kinds) && c.kinds.length ? c.kinds.map(String).join('/') : 'backwards/reset/spike';
      return `${c.obis && c.obis !== energy ? String(c.obis) : 'register'} ${kinds}`;
    }
    case 'prepaid_balance_below':
      return `prepaid balance below ${num(c.amount)}`;
    case 'license_expiring':
      return `license expires within ${plural(c.days, 'day')}`;
    case 'spool_filling':
      return `store spool ${num(c.percent)} % full`;
    default:
      return String(c.type ?? 'unknown condition');
  }
}

/** Active hours in a few words: "always", "Mon-Fri 07:00-18:00", "every day 22:00-06:00", "Mon, Wed 08:00-12:00". */
export function activeHours(active: { days?: unknown; from?: unknown; to?: unknown } | null | undefined): string {
  if (!active || typeof active !== 'object') return 'always';
  const names = ['Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat', 'Sun'];
  const days = [...new Set((Array.isArray(active.days) ? active.days : []).filter((d) => Number.isInteger(d) && d >= 1 && d <= 7) as number[])].sort((a, b) => a - b);
  const runs: number[][] = [];
  for (const d of days) {
    const last = runs[runs.length - 1];
    if (last && last[last.length - 1] === d - 1) last.push(d);
    else runs.push([d]);
  }
  const when = days.length === 7 ? 'every day'
    : runs.map((r) => (r.length >= 3 ? `${names[r[0] - 1]}-${names[r[r.length - 1] - 1]}` : r.map((d) => names[d - 1]).join(', '))).join(', ');
  return `${when} ${String(active.from)}-${String(active.to)}`.trim();
}

/** A duration in seconds, compactly: "0 s", "45 s", "5 min", "2 h", "1 d", "90 min". */
export function shortDuration(seconds: unknown): string {
  const s = typeof seconds === 'number' && Number.isFinite(seconds) ? Math.max(0, Math.round(seconds)) : 0;
  if (s === 0) return '0 s';
  if (s % 86_400 === 0) return `${s / 86_400} d`;
  if (s % 3_600 === 0) return `${s / 3_600} h`;
  if (s % 60 === 0) return `${s / 60} min`;
  return `${s} s`;
}

/** The names of the meters (by id) and folders (by id, their path "Plant / Hall 2") of a folder tree (GET /api/folders). */
export function subjectNames(tree: unknown): { meters: Record<string, string>; folders: Record<string, string> } {
  const out = { meters: {} as Record<string, string>, folders: {} as Record<string, string> };
  type Node = { _id?: unknown; name?: unknown; meter?: unknown; child_folders?: unknown };
  const walk = (nodes: unknown, path: string[], depth: number) => {
    if (depth > 50) return;
    for (const n of Array.isArray(nodes) ? nodes as Node[] : []) {
      if (!n || typeof n !== 'object' || typeof n._id !== 'string') continue;
      if (n.meter !== undefined) {
        out.meters[String(n.meter)] = String(n.name ?? n.meter);
        continue;
      }
      const names = [...path, String(n.name ?? n._id)];
      out.folders[n._id] = names.join(' / ');
      walk(n.child_folders, names, depth + 1);
    }
  };
  walk(tree, [], 0);
  return out;
}

/** What a rule watches: the meter's name, "<folder path> and below" / "<folder path> (its own meters)", or "EMS"; ids where no name is known. */
export function subjectText(subject: DashRule['subject'], names: { meters: Record<string, string>; folders: Record<string, string> }): string {
  if (!subject || typeof subject !== 'object') return 'EMS';
  if (typeof subject.meter === 'string') return names.meters[subject.meter] || subject.meter;
  if (typeof subject.folder === 'string') return `${names.folders[subject.folder] || subject.folder}${subject.scope === 'folder' ? ' (its own meters)' : ' and below'}`;
  return '?';
}

/**
 * Table rows of a GET /api/alarm-rules envelope, in its order (by name), with the names from a folder tree (or
 * `known`, names kept from an earlier tree, see ruleSubjectNames): rule, subject, condition (conditionSummary),
 * severity, delay / clear / hold-off, active hours and whether it is enabled. An error envelope gives no rows.
 * Uses conditionSummary, activeHours, shortDuration, subjectNames and subjectText.
 */
export function ruleRows(envelope: AlarmEnvelope, tree: unknown, known?: { meters: Record<string, string>; folders: Record<string, string> }): Record<string, string>[] {
  const list = envelope && !envelope.error && Array.isArray(envelope.data) ? envelope.data as DashRule[] : [];
  const names = known || subjectNames(tree);
  const word = (s: string) => String(s || '').charAt(0).toUpperCase() + String(s || '').slice(1);
  return list.map((r) => ({
    Rule: String(r.name), Subject: subjectText(r.subject, names), Condition: conditionSummary(r.condition, r.condition && r.condition.type === 'threshold' ? r.hysteresis : 0),
    Severity: word(r.severity), 'Delay / clear / hold-off': `${shortDuration(r.delay_s)} / ${shortDuration(r.clear_after_s)} / ${shortDuration(r.hold_off_s)}`,
    'Active hours': activeHours(r.active), Enabled: r.enabled === false ? 'no' : 'yes',
  }));
}

/**
 * The names (subjectNames) of the subjects of an alarm-rules envelope's rules only: what the rules table needs between
 * two reads of the folder tree, as few entries as there are rules whatever the number of meters.
 */
export function ruleSubjectNames(names: { meters: Record<string, string>; folders: Record<string, string> }, envelope: AlarmEnvelope): { meters: Record<string, string>; folders: Record<string, string> } {
  const out = { meters: {} as Record<string, string>, folders: {} as Record<string, string> };
  for (const r of envelope && !envelope.error && Array.isArray(envelope.data) ? envelope.data as DashRule[] : []) {
    const s = r && r.subject;
    if (s && typeof s.meter === 'string' && names.meters[s.meter] !== undefined) out.meters[s.meter] = names.meters[s.meter];
    if (s && typeof s.folder === 'string' && names.folders[s.folder] !== undefined) out.folders[s.folder] = names.folders[s.folder];
  }
  return out;
}

/** A line about the rules shown: "2 rules, 1 disabled", "No alarm rules in your folders", or the error. */
export function rulesStatus(envelope: AlarmEnvelope): string {
  if (!envelope || envelope.error || !Array.isArray(envelope.data)) return `Rules unavailable: ${(envelope && envelope.error) || 'no answer'}`;
  const list = envelope.data as DashRule[];
  if (list.length === 0) return 'No alarm rules in your folders';
  const off = list.filter((r) => r.enabled === false).length;
  return `${list.length} rule${list.length === 1 ? '' : 's'}${off ? `, ${off} disabled` : ', all enabled'}`;
}
