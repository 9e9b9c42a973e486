/**
 * The alarm rules on the dashboard's Alarms page (issue 19): a table of the rules the signed-in user sees
 * (GET /api/alarm-rules, scoped to their folders) with a one-line summary of each condition. Read only: the dashboard
 * never acts with admin rights (lib/ems/api/dispatch.ts DASHBOARD_MAX_ROLE), and rules are an admin's, changed
 * through the API (PUT /api/alarm-rules/:id). Pure functions; like lib/ems/dashboard-alarms.ts, each is
 * self-contained (its compiled source becomes part of a function node, see lib/ems/dashboard-rules-flow.ts) and one
 * that calls another says so.
 */
import type { DashRefresh } from './dashboard';
import type { AlarmEnvelope } from './dashboard-alarms';

/** An alarm rule as GET /api/alarm-rules answers it (lib/ems/alarms/types.ts AlarmRule), as far as the dashboard reads it. */
export interface DashRule {
  id: string; name: string; subject: { meter?: string; folder?: string; scope?: string } | null; condition: { type: string; [k: string]: unknown };
  severity: string; delay_s: number; hysteresis: number; clear_after_s: number; hold_off_s: number; active: { days: number[]; from: string; to: string } | null; enabled: boolean;
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
 * Table rows of a GET /api/alarm-rules envelope, in its order (by name), with the names from a folder tree: rule,
 * subject, condition (conditionSummary), severity, delay / clear / hold-off, active hours and whether it is enabled.
 * An error envelope gives no rows. Uses conditionSummary, activeHours, shortDuration, subjectNames and subjectText.
 */
export function ruleRows(envelope: AlarmEnvelope, tree: unknown): Record<string, string>[] {
  const list = envelope && !envelope.error && Array.isArray(envelope.data) ? envelope.data as DashRule[] : [];
  const names = subjectNames(tree);
  const word = (s: string) => String(s || '').charAt(0).toUpperCase() + String(s || '').slice(1);
  return list.map((r) => ({
    Rule: String(r.name), Subject: subjectText(r.subject, names), Condition: conditionSummary(r.condition, r.condition && r.condition.type === 'threshold' ? r.hysteresis : 0),
    Severity: word(r.severity), 'Delay / clear / hold-off': `${shortDuration(r.delay_s)} / ${shortDuration(r.clear_after_s)} / ${shortDuration(r.hold_off_s)}`,
    'Active hours': activeHours(r.active), Enabled: r.enabled === false ? 'no' : 'yes',
  }));
}

/** A line about the rules shown: "2 rules, 1 disabled", "No alarm rules in your folders", or the error. */
export function rulesStatus(envelope: AlarmEnvelope): string {
  if (!envelope || envelope.error || !Array.isArray(envelope.data)) return `Rules unavailable: ${(envelope && envelope.error) || 'no answer'}`;
  const list = envelope.data as DashRule[];
  if (list.length === 0) return 'No alarm rules in your folders';
  const off = list.filter((r) => r.enabled === false).length;
  return `${list.length} rule${list.length === 1 ? '' : 's'}${off ? `, ${off} disabled` : ', all enabled'}`;
}
