/**
 * The dashboard's alarms (issue 19): the Alarms page (active alarms, acknowledge, history with filters) and the
 * alarm badge on every page. Pure functions that shape GET /api/alarms answers into widget messages and a client's
 * choices into API requests; like lib/ems/dashboard.ts, each is self-contained (its compiled source becomes part of a
 * function node, see lib/ems/dashboard-alarms-flow.ts) and one that calls another says so.
 */
import type { DashClient, DashRefresh } from './dashboard';

/** An alarm as GET /api/alarms answers it (lib/ems/alarms/types.ts), as far as the dashboard reads it. */
export interface DashAlarm {
  id: number; meter_id: string | null; meter_name: string | null; rule_name: string; state: string; severity: string; raised_at: number;
  acked_by: string | null; ack_note: string | null; cleared_at: number | null; value: number | null; limit: number | null; unit: string; message: string;
}
export interface AlarmEnvelope { data?: unknown; error?: string | null; status?: number }
export interface DashOption { value: string; label: string }

/** A client's choices on the Alarms page, kept beside its other choices (flow context dash_clients). */
export interface AlarmChoices {
  /** History filters: a state, a severity, a folder id, or "all"; `before` pages to older alarms (null: the newest). */
  state: string; severity: string; folder: string; before: number | null;
  /** The last alarm id of the history shown, and whether the page was full (so there may be older ones). */
  lastId: number | null; full: boolean;
  /** The raised alarm chosen for acknowledging, the note typed, and the choices last sent to the alarm dropdown. */
  alarm: number | null; note: string; options: string;
  /** The newest dashboard notification seen (GET /api/notifications/inbox); null until the first answer. */
  inboxAfter?: number | null;
}
export interface AlarmClient extends DashClient { alarms?: AlarmChoices; alarmsAt?: number }

/** The options of the history filters (dropdowns); the folder filter's come from the user's folders (folderOptions). */
export const STATE_FILTERS: DashOption[] = [
  { value: 'all', label: 'All states' }, { value: 'raised', label: 'Raised' }, { value: 'acknowledged', label: 'Acknowledged' }, { value: 'cleared', label: 'Cleared' },
];
export const SEVERITY_FILTERS: DashOption[] = [
  { value: 'all', label: 'All severities' }, { value: 'critical', label: 'Critical' }, { value: 'warning', label: 'Warning' }, { value: 'info', label: 'Info' },
];
/** Alarms per history page, and the most active alarms the Alarms page asks for (the API's bound). */
export const HISTORY_LIMIT = 100;
export const ACTIVE_LIMIT = 1000;

/** The client's Alarms page choices, the defaults (everything, newest first) on first use. */
export function alarmChoices(client: AlarmClient): AlarmChoices {
  if (!client.alarms) client.alarms = { state: 'all', severity: 'all', folder: 'all', before: null, lastId: null, full: false, alarm: null, note: '', options: '', inboxAfter: null };
  return client.alarms;
}

/**
 * The alarm refreshes (badge, and the Alarms page's content) that go with page refreshes (trackClient, dueRefreshes):
 * every page view and every refresh of the Alarms page; on the timer (`tick`) also each client whose badge is older than
 * `everyMs`, whatever its page's own pace (the reports page refreshes every 5 minutes, its badge every 10 s). Marks them.
 */
export function alarmRefreshes(clients: Record<string, AlarmClient>, pageRefreshes: DashRefresh[], now: number, tick: boolean, everyMs = 10_000): DashRefresh[] {
  const out: DashRefresh[] = [];
  const done = new Set<string>();
  for (const r of pageRefreshes) {
    const id = String(r._client.socketId);
    const c = clients[id];
    if (!c || (r.dash.page !== 'alarms' && r.dash.reason !== 'view')) continue;
    c.alarmsAt = now;
    done.add(id);
    out.push({ _client: r._client, dash: { ...r.dash } });
  }
  if (!tick) return out;
  for (const [id, c] of Object.entries(clients)) {
    if (c.gone || done.has(id) || now - (c.alarmsAt ?? 0) < everyMs) continue;
    c.alarmsAt = now;
    out.push({ _client: c.client, dash: { page: c.page, meter: c.meter, range: c.range, step: c.step, reason: 'tick', sync: false } });
  }
  return out;
}

/** The GET /api/alarms query of the history: the filters (all = no filter), newest first, `limit` alarms older than `before`. */
export function historyQuery(choices: AlarmChoices, limit = 100): Record<string, string> {
  const q: Record<string, string> = {};
  if (choices.state !== 'all') q.state = choices.state;
  if (choices.severity !== 'all') q.severity = choices.severity;
  if (choices.folder !== 'all') q.folder = choices.folder;
  q.limit = String(limit);
  if (choices.before !== null) q.before = String(choices.before);
  return q;
}

/**
 * The messages (without _client) that compute a client's alarms, one per output of the dashboard's alarm request
 * function: on the Alarms page the active alarms, the history, the user's session (whose open_folders give the folder
 * filter's options) and the state and severity filters (these two only when `dash.sync`); on every page the user's
 * dashboard notifications (the toast) and the alarm summary (GET /api/alarms/summary: the badge, counts only).
 * Uses historyQuery.
 */
export function alarmRequests(dash: DashRefresh['dash'], choices: AlarmChoices, activeLimit = 1000, historyLimit = 100): (Record<string, unknown> | null)[] {
  const page = dash.page === 'alarms';
  const sync = page && dash.sync;
  const history = historyQuery(choices, historyLimit);
  return [
    page ? { query: { state: 'active', limit: String(activeLimit) }, params: {}, payload: {} } : null,
    page ? { query: history, alarmQuery: history, params: {}, payload: {} } : null,
    sync ? { query: {}, params: {}, payload: {} } : null,
    sync ? { payload: choices.state } : null,
    sync ? { payload: choices.severity } : null,
    { query: { after: String(choices.inboxAfter ?? 0), limit: '20' }, params: {}, payload: {} },
    { query: {}, params: {}, payload: {} },
  ];
}

/**
 * The toast for the dashboard notifications that arrived since the last look (a GET /api/notifications/inbox
 * envelope, newest first), or null. The first answer only marks where the client stands: what came before the page
 * was opened is on the Alarms page, not a toast. Updates choices.inboxAfter.
 */
export function inboxToast(envelope: AlarmEnvelope, choices: AlarmChoices): string | null {
  const entries = envelope && !envelope.error && Array.isArray(envelope.data) ? envelope.data as { id: number; digest: boolean; notifications: { state: string; rule: string; meterName: string; severity: string; value?: number; unit?: string }[] }[] : null;
  if (!entries) return null;
  const first = choices.inboxAfter === null || choices.inboxAfter === undefined;
  const newest = entries.reduce((m, e) => Math.max(m, e.id), choices.inboxAfter ?? 0);
  choices.inboxAfter = newest;
  if (first || entries.length === 0) return null;
  const all = entries.slice().reverse().flatMap((e) => e.notifications);
  const line = (n: typeof all[number]) => `${n.state.charAt(0).toUpperCase()}${n.state.slice(1)}: ${n.rule} at ${n.meterName}${n.state === 'raised' && typeof n.value === 'number' ? ` (${n.value} ${n.unit || ''})`.replace(' )', ')') : ''}`;
  if (all.length === 1) return `${all[0].severity === 'critical' ? 'Critical alarm. ' : ''}${line(all[0])}`;
  const critical = all.filter((n) => n.severity === 'critical').length;
  return `${all.length} alarm notifications${critical ? ` (${critical} critical)` : ''}: ${all.slice(0, 3).map(line).join('; ')}${all.length > 3 ? '; ...' : ''}`;
}

/**
 * Table rows of a GET /api/alarms envelope, in its order (newest first): id, severity, since (raised, local time in
 * `timeZone`), meter (its name; "EMS" for an alarm about the EMS itself), message, value and limit with the unit, state,
 * who acknowledged it and the note; with `history` also when it cleared. An error envelope gives no rows.
 */
export function alarmRows(envelope: AlarmEnvelope, timeZone: string, history = false): Record<string, string>[] {
  const list = envelope && !envelope.error && Array.isArray(envelope.data) ? envelope.data as DashAlarm[] : [];
  const clock = (t: number | null) => (typeof t === 'number' && Number.isFinite(t)
    ? new Intl.DateTimeFormat('en-GB', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit' }).format(t) : '');
  const amount = (v: number | null, unit: string) => (typeof v === 'number' ? `${Math.round(v * 1000) / 1000} ${unit || ''}`.trim() : '');
  const word = (s: string) => String(s || '').charAt(0).toUpperCase() + String(s || '').slice(1);
  return list.map((a) => {
    const value = amount(a.value, a.unit);
    const limit = amount(a.limit, a.unit);
    const row: Record<string, string> = {
      Alarm: `#${a.id}`, Severity: word(a.severity), Since: clock(a.raised_at), Meter: String(a.meter_name || a.meter_id || 'EMS'), Message: String(a.message || a.rule_name || ''),
      Value: value && limit ? `${value} (limit ${limit})` : value || (limit ? `limit ${limit}` : ''), State: String(a.state || ''),
      'Acknowledged by': String(a.acked_by || ''), Note: String(a.ack_note || ''),
    };
    if (history) row.Cleared = clock(a.cleared_at);
    return row;
  });
}

/**
 * The badge of every page from GET /api/alarms/summary (counts of the user's active alarms per severity, read without
 * reading an alarm): "2 active alarms, worst critical, 1 not acknowledged"; "No active alarms".
 */
export function summaryBadge(envelope: AlarmEnvelope): string {
  const s = envelope && !envelope.error && envelope.data && typeof envelope.data === 'object' && !Array.isArray(envelope.data)
    ? envelope.data as { active?: unknown; unacknowledged?: unknown; by_severity?: Record<string, { active?: unknown }> } : null;
  if (!s || typeof s.active !== 'number') return `Alarms unavailable: ${(envelope && envelope.error) || 'no answer'}`;
  if (s.active === 0) return 'No active alarms';
  const worst = ['critical', 'warning', 'info'].find((k) => Number(s.by_severity?.[k]?.active) > 0) ?? 'info';
  const open = Number(s.unacknowledged) || 0;
  return `${s.active} active alarm${s.active === 1 ? '' : 's'}, worst ${worst}${open ? `, ${open} not acknowledged` : ''}`;
}

/** The alarm dropdown's options: the raised alarms of an active alarm list (only those can be acknowledged), newest first. */
export function ackOptions(envelope: AlarmEnvelope): DashOption[] {
  const list = envelope && !envelope.error && Array.isArray(envelope.data) ? envelope.data as DashAlarm[] : [];
  return list.filter((a) => a.state === 'raised').map((a) => ({ value: String(a.id), label: `#${a.id} ${a.severity} - ${a.meter_name || a.meter_id || 'EMS'}: ${a.rule_name}` }));
}

/**
 * The message for the alarm dropdown: its options and the choice (kept while still raised, else none: an empty list,
 * which clears a Dashboard 2.0 dropdown), or null when neither changed since the last one sent (a timer refresh must not
 * disturb a choice being made); `sync` sends anyway.
 */
export function ackDropdown(choices: AlarmChoices, options: DashOption[], sync: boolean): { options: DashOption[]; payload: string | string[] } | null {
  const key = JSON.stringify(options);
  if (!sync && key === choices.options) return null;
  choices.options = key;
  if (choices.alarm !== null && !options.some((o) => o.value === String(choices.alarm))) choices.alarm = null;
  return { options, payload: choices.alarm === null ? [] : String(choices.alarm) };
}

/**
 * The folder filter's options from the folder tree (GET /api/folders) and the user's open_folders (empty: every folder):
 * "All my folders", then each folder the user may filter by (theirs and everything below, not the folders above them
 * that the tree shows as their path), named by its path ("Plant / Hall 2").
 */
export function folderOptions(tree: unknown, openFolders: unknown): DashOption[] {
  const open = Array.isArray(openFolders) ? openFolders.map(String) : [];
  const out: DashOption[] = [{ value: 'all', label: 'All my folders' }];
  type Node = { _id?: unknown; name?: unknown; meter?: unknown; child_folders?: unknown };
  const walk = (nodes: unknown, path: string[], inside: boolean) => {
    for (const n of Array.isArray(nodes) ? nodes as Node[] : []) {
      if (!n || typeof n !== 'object' || n.meter !== undefined || typeof n._id !== 'string') continue;
      const names = [...path, String(n.name ?? n._id)];
      const mine = inside || open.length === 0 || open.includes(n._id);
      if (mine && out.length < 500) out.push({ value: n._id, label: names.join(' / ') });
      walk(n.child_folders, names, mine);
    }
  };
  walk(tree, [], false);
  return out;
}

/**
 * A choice on the Alarms page (topic dash-al-*) applied to the client's choices: a history filter (back to the newest
 * page), Older / Newest, the alarm to acknowledge, the note, or Acknowledge. Answers whether the page is to be computed
 * again, the acknowledgement to send ({ id, note }) and a notice for the user (why nothing happens).
 */
export function chooseAlarmView(choices: AlarmChoices, msg: { topic?: unknown; payload?: unknown }): { refresh: boolean; ack: { id: number; note: string } | null; notice: string | null } {
  const none = { refresh: false, ack: null, notice: null };
  const v = msg ? msg.payload : undefined;
  const filters: Record<string, [keyof AlarmChoices, string[] | null]> = {
    'dash-al-state': ['state', ['all', 'raised', 'acknowledged', 'cleared']], 'dash-al-severity': ['severity', ['all', 'info', 'warning', 'critical']], 'dash-al-folder': ['folder', null],
  };
  const topic = String(msg && msg.topic);
  if (filters[topic]) {
    const [key, allowed] = filters[topic];
    if (typeof v !== 'string' || v === '' || v.length > 100 || (allowed && !allowed.includes(v))) return none;
    (choices as unknown as Record<string, unknown>)[key] = v;
    choices.before = null;
    return { refresh: true, ack: null, notice: null };
  }
  switch (topic) {
    case 'dash-al-older':
      if (!choices.full || choices.lastId === null) return { refresh: false, ack: null, notice: 'No older alarms' };
      choices.before = choices.lastId;
      return { refresh: true, ack: null, notice: null };
    case 'dash-al-newest':
      choices.before = null;
      return { refresh: true, ack: null, notice: null };
    case 'dash-al-alarm':
      choices.alarm = /^\d{1,15}$/.test(String(v)) ? Number(v) : null;
      return none;
    case 'dash-al-note':
      // Kept up to one character past the API's bound (1000), so that a longer note is refused by the API, not cut short.
      choices.note = typeof v === 'string' ? v.slice(0, 1001) : '';
      return none;
    case 'dash-al-ack':
      if (choices.alarm === null) return { refresh: false, ack: null, notice: 'Choose a raised alarm to acknowledge first' };
      return { refresh: false, ack: { id: choices.alarm, note: choices.note.trim() }, notice: null };
    default:
      return none;
  }
}

/** The text an acknowledgement's answer shows: done, refused (a viewer: 403) or why not (409: no longer raised). */
export function ackAnswer(envelope: AlarmEnvelope, id: string | number): { ok: boolean; text: string } {
  const a = envelope && !envelope.error ? envelope.data as DashAlarm | null : null;
  if (a && a.state === 'acknowledged') return { ok: true, text: `Alarm #${id} acknowledged` };
  const why = (envelope && envelope.error) || 'no answer';
  return { ok: false, text: envelope && envelope.status === 403 ? `Refused: ${why}` : `Alarm #${id} not acknowledged: ${why}` };
}

/**
 * One page of the history from a GET /api/alarms envelope and the query it answers: the rows (alarmRows, with when
 * each cleared), the last id and whether the page was full (so Older can ask for the next), and a line saying what is
 * shown. Uses alarmRows.
 */
export function historyPage(envelope: AlarmEnvelope, query: Record<string, string>, timeZone: string): { rows: Record<string, string>[]; lastId: number | null; full: boolean; status: string } {
  if (!envelope || envelope.error || !Array.isArray(envelope.data)) return { rows: [], lastId: null, full: false, status: (envelope && envelope.error) || 'no answer' };
  const list = envelope.data as DashAlarm[];
  const limit = Number(query.limit) || 100;
  const older = query.before ? ` older than #${query.before}` : '';
  const full = list.length >= limit;
  const status = list.length === 0 ? (older ? `No alarms${older}` : 'No alarms match')
    : `${list.length} alarm${list.length === 1 ? '' : 's'}${older}, newest first${full ? '; Older shows more' : ''}`;
  return { rows: alarmRows(envelope, timeZone, true), lastId: list.length ? list[list.length - 1].id : null, full, status };
}
