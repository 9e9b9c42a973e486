/**
 * The dashboard's view of many meters (issue 22): the overview's figures are kept in flow context (dash_fleet) and
 * shared by every client whose user sees the same meters (a "scope", keyed by a hash of the meter ids), refreshed in
 * bounded steps, at most one per scope every `stepEveryMs`, and only while a client looks:
 * - a step reads the newest values of at most `scanSlice` meters (those shown on a client's page first, then the next
 *   ones round the scope) and asks for the month report of at most `reportSlice` meters whose summary is missing or
 *   older than `summaryTtlMs`; each answer updates that meter's row and its contribution to the scope's totals and
 *   stale list (subtract the old, add the new), so no refresh walks every meter;
 * - a client's page is a bounded selection: at most `rows` meters (the first of the scope, or those its "Find meter"
 *   text matches, see meterMatches) and at most `rows` stale meters, with counts of all.
 * A scope's meter list (folders.tree as the client's user) is read on a page view (a person's action; at most every
 * `viewReloadMs`: a meter just created shows) and on the timer every `scopeTtlMs`, never on every refresh.
 *
 * Like lib/ems/dashboard.ts, every function is self-contained (its compiled source becomes part of a function node,
 * see lib/ems/dashboard-flow.ts); one that calls another says so.
 */
import { overviewFromLatest as dashOverviewFromLatest, type AlarmRow, type DashClient, type MeterRow, type MonthSummary } from './dashboard';

/** lib/ems/dashboard.ts's overviewFromLatest under a module-level name, so calls compile to a plain `overviewFromLatest(...)` (embedded beside fleetLatest). */
const overviewFromLatest = dashOverviewFromLatest;

export interface FleetLimits {
  rows: number; pick: number; scanSlice: number; reportSlice: number; stepEveryMs: number; scopeTtlMs: number; viewReloadMs: number; summaryTtlMs: number; minStaleMs: number; shownMs: number;
}
/** The bounds the shipped tab uses. */
export const FLEET_LIMITS: FleetLimits = {
  rows: 25, pick: 50, scanSlice: 100, reportSlice: 10, stepEveryMs: 10_000, scopeTtlMs: 120_000, viewReloadMs: 0, summaryTtlMs: 10_000, minStaleMs: 60_000, shownMs: 30_000,
};

/** What the dashboard knows of one meter: its overview row (null: no reading yet), newest reading, interval and month summary. */
export interface FleetMeter { row: MeterRow | null; last: number; every: number; readAt: number; summary: MonthSummary | null; summaryAt: number }
/** One meter's part in its scope's figures. */
export interface Contribution {
  group: string | null; today: number; month: number; summarised: boolean; currency: string | null; todayCost: number; monthCost: number; stale: boolean; checked: boolean;
}
export interface FleetScope {
  key: string; ids: string[]; loadedAt: number; stepAt: number; pending: number; cursor: number; reportCursor: number;
  contrib: Record<string, Contribution>;
  /** Consumption per "medium\u0000unit", and the counts and costs over the scope's meters. */
  groups: Record<string, { today: number; month: number; meters: number }>;
  summarised: number; priced: number; currency: string | null; todayCost: number; monthCost: number; checked: number;
  stale: Record<string, true>; staleCount: number;
  /** Meters on a client's page (id: until when), read first by the next steps. */
  shown: Record<string, number>;
}
export interface Fleet {
  meters: Record<string, FleetMeter>; scopes: Record<string, FleetScope>; sessions: Record<string, { key: string; at: number }>;
  /** Work done, for the node status and tests: steps, meters read, reports asked for, views built and rows in them. */
  work: { steps: number; scanned: number; reports: number; views: number; rows: number };
}
export interface FleetClient extends DashClient { picks?: string[]; pickKey?: string; viewedAt?: number }

export function newFleet(): Fleet {
  return { meters: {}, scopes: {}, sessions: {}, work: { steps: 0, scanned: 0, reports: 0, views: 0, rows: 0 } };
}

/** A short key for a sorted meter id list: its length and a 32-bit FNV-1a hash of the ids. */
export function scopeKey(ids: string[]): string {
  let h = 0x811c9dc5;
  for (const id of ids) {
    for (let i = 0; i < id.length; i++) h = Math.imul(h ^ id.charCodeAt(i), 0x01000193) >>> 0;
    h = Math.imul(h ^ 10, 0x01000193) >>> 0;
  }
  return `${ids.length}-${h.toString(36)}`;
}

/** The meter ids (sorted) and poll intervals (s) of a folders.tree envelope (meters are its leaves), or its error. */
export function treeMeters(envelope: { data?: unknown; error?: string | null }): { ids: string[]; intervals: Record<string, number>; error: string | null } {
  if (!envelope || envelope.error || !Array.isArray(envelope.data)) return { ids: [], intervals: {}, error: (envelope && envelope.error) || 'no folder tree' };
  const ids: string[] = [];
  const intervals: Record<string, number> = {};
  const stack: unknown[] = [...envelope.data];
  while (stack.length) {
    const n = stack.pop() as { meter?: unknown; child_folders?: unknown; meter_detail?: { interval_time?: unknown } } | null;
    if (!n || typeof n !== 'object') continue;
    if (typeof n.meter === 'string') {
      ids.push(n.meter);
      const every = Number(n.meter_detail && n.meter_detail.interval_time);
      if (every > 0) intervals[n.meter] = every;
    }
    if (Array.isArray(n.child_folders)) for (const c of n.child_folders) stack.push(c);
  }
  ids.sort();
  return { ids, intervals, error: null };
}

/**
 * At most `limit` ids matching what a person typed (case-insensitive): the exact id first, then ids starting with it,
 * then ids containing it; nothing typed gives the first ids. Called when the text changes, not on every refresh.
 */
export function meterMatches(ids: string[], find: string, limit: number): string[] {
  const q = String(find || '').trim().toLowerCase();
  if (q === '') return ids.slice(0, limit);
  const [exact, starts, inside]: string[][] = [[], [], []];
  for (const id of ids) {
    const l = id.toLowerCase();
    if (l === q) exact.push(id);
    else if (l.startsWith(q)) { if (starts.length < limit) starts.push(id); }
    else if (inside.length < limit && l.includes(q)) inside.push(id);
  }
  return [...exact, ...starts, ...inside].slice(0, limit);
}

/**
 * The scope of a session, loaded from its user's meters: creates the scope (or finds the one other sessions with the
 * same meters share), records the poll intervals, and drops sessions no live client uses and scopes no session uses
 * (with their meters). Answers the scope's key. Uses scopeKey.
 */
export function loadScope(fleet: Fleet, session: string, ids: string[], intervals: Record<string, number>, clients: Record<string, DashClient>, now: number): string {
  // Another list with the same hash (a collision) gets a key of its own: a scope never shows meters its user may not see.
  let key = scopeKey(ids);
  const same = (a: string[]) => a.length === ids.length && a.every((id, i) => id === ids[i]);
  for (let n = 1; fleet.scopes[key] && !same(fleet.scopes[key].ids); n++) key = `${scopeKey(ids)}-${n}`;
  fleet.sessions[session] = { key, at: now };
  let scope = fleet.scopes[key];
  if (!scope) {
    scope = {
      key, ids, loadedAt: now, stepAt: 0, pending: 0, cursor: 0, reportCursor: 0, contrib: {}, groups: {}, summarised: 0, priced: 0, currency: null,
      todayCost: 0, monthCost: 0, checked: 0, stale: {}, staleCount: 0, shown: {},
    };
    fleet.scopes[key] = scope;
  }
  scope.loadedAt = now;
  for (const id of ids) {
    const m = fleet.meters[id] || (fleet.meters[id] = { row: null, last: 0, every: 0, readAt: 0, summary: null, summaryAt: 0 });
    m.every = Number(intervals[id]) > 0 ? Number(intervals[id]) : 0;
  }
  const live = new Set<string>();
  for (const c of Object.values(clients)) if (!c.gone && c.client && typeof c.client.emsSessionId === 'string') live.add(c.client.emsSessionId);
  for (const s of Object.keys(fleet.sessions)) if (s !== session && !live.has(s)) delete fleet.sessions[s];
  const used = new Set(Object.values(fleet.sessions).map((s) => s.key));
  let dropped = false;
  for (const k of Object.keys(fleet.scopes)) if (!used.has(k)) { delete fleet.scopes[k]; dropped = true; }
  if (dropped) {
    const keep = new Set<string>();
    for (const s of Object.values(fleet.scopes)) for (const id of s.ids) keep.add(id);
    for (const id of Object.keys(fleet.meters)) if (!keep.has(id)) delete fleet.meters[id];
  }
  return key;
}

/** The scope key of a session whose meter list is younger than `ttlMs`, else null (to be loaded). */
export function sessionScope(fleet: Fleet, session: unknown, now: number, ttlMs: number): string | null {
  const s = typeof session === 'string' ? fleet.sessions[session] : undefined;
  return s && fleet.scopes[s.key] && now - s.at < ttlMs ? s.key : null;
}

/**
 * The next step of a scope, if one is due (none within `stepEveryMs` of the last, whoever asked): the meters whose
 * newest values to read (shown ones first, then round the scope) and those whose month report to ask for (missing or
 * older than `summaryTtlMs`, round the scope). Bounded by the limits whatever the number of meters. Marks the step.
 */
export function fleetStep(fleet: Fleet, key: string, now: number, limits: FleetLimits): { latest: string[]; reports: string[] } | null {
  const scope = fleet.scopes[key];
  if (!scope || now - scope.stepAt < limits.stepEveryMs) return null;
  scope.stepAt = now;
  const n = scope.ids.length;
  const pick = new Set<string>();
  for (const [id, until] of Object.entries(scope.shown)) {
    if (until < now || !fleet.meters[id]) delete scope.shown[id];
    else if (pick.size < limits.scanSlice) pick.add(id);
  }
  for (let i = 0; i < n && pick.size < limits.scanSlice; i++) {
    pick.add(scope.ids[scope.cursor % n]);
    scope.cursor = (scope.cursor + 1) % n;
  }
  const reports: string[] = [];
  for (let i = 0; i < Math.min(n, 4 * limits.reportSlice) && reports.length < limits.reportSlice; i++) {
    const id = scope.ids[scope.reportCursor % n];
    scope.reportCursor = (scope.reportCursor + 1) % n;
    const m = fleet.meters[id];
    if (m && now - m.summaryAt >= limits.summaryTtlMs) reports.push(id);
  }
  const latest = [...pick];
  scope.pending = latest.length + reports.length;
  fleet.work.steps++;
  fleet.work.scanned += latest.length;
  fleet.work.reports += reports.length;
  return { latest, reports };
}

/**
 * Applies one meter's current state to its part in the scope's figures: its consumption group and costs (from its
 * month summary) and whether it is stale (no reading for two of its intervals, at least `minStaleMs`), the old part
 * subtracted and the new added.
 */
export function contribute(fleet: Fleet, key: string, id: string, now: number, minStaleMs: number): void {
  const scope = fleet.scopes[key];
  const m = fleet.meters[id];
  if (!scope || !m) return;
  const s = m.summary;
  const next = {
    group: s && s.medium !== null ? `${s.medium}\u0000${s.unit}` : null, today: s ? s.today : 0, month: s ? s.month : 0, summarised: !!s,
    currency: s ? s.currency : null, todayCost: s && s.todayCost !== null ? s.todayCost : 0, monthCost: s && s.monthCost !== null ? s.monthCost : 0,
    stale: !!m.row && now - m.last > Math.max(minStaleMs, 2 * m.every * 1000), checked: m.readAt > 0,
  };
  const apply = (c: typeof next, sign: number) => {
    if (c.group !== null) {
      const g = scope.groups[c.group] || (scope.groups[c.group] = { today: 0, month: 0, meters: 0 });
      g.today += sign * c.today;
      g.month += sign * c.month;
      g.meters += sign;
      if (g.meters <= 0) delete scope.groups[c.group];
    }
    if (c.summarised) scope.summarised += sign;
    if (c.currency !== null) {
      scope.priced += sign;
      scope.todayCost += sign * c.todayCost;
      scope.monthCost += sign * c.monthCost;
      if (sign > 0 && scope.currency === null) scope.currency = c.currency;
    }
    if (c.checked) scope.checked += sign;
  };
  const old = scope.contrib[id];
  if (old) apply(old, -1);
  apply(next, 1);
  scope.contrib[id] = next;
  if (next.stale && !scope.stale[id]) { scope.stale[id] = true; scope.staleCount++; }
  if (!next.stale && scope.stale[id]) { delete scope.stale[id]; scope.staleCount--; }
}

/**
 * The newest values of one meter (an ems-store-query latest answer) into its overview row (overviewFromLatest) and the
 * scope's figures (contribute); `format` as overviewFromLatest takes it. Answers true when this was the step's last
 * answer. Uses overviewFromLatest, contribute.
 */
export function fleetLatest(fleet: Fleet, key: string, id: string, latest: unknown, now: number, timeZone: string, minStaleMs: number, format?: Intl.DateTimeFormat): boolean {
  const m = fleet.meters[id];
  const scope = fleet.scopes[key];
  if (m) {
    const rows = (Array.isArray(latest) ? latest : []).filter((v) => v && v.meter === id);
    const o = overviewFromLatest(rows, now, timeZone, {}, minStaleMs, format);
    m.row = o.meters[0] || null;
    m.last = rows.reduce((t: number, v: { time: number }) => (Number.isFinite(v.time) && v.time > t ? v.time : t), 0);
    m.readAt = now;
    contribute(fleet, key, id, now, minStaleMs);
  }
  if (!scope) return false;
  scope.pending = Math.max(0, scope.pending - 1);
  return scope.pending === 0;
}

/** One meter's month summary (monthSummary of its report, null: an error) into the scope's figures. Answers true when this was the step's last answer. Uses contribute. */
export function fleetSummary(fleet: Fleet, key: string, id: string, summary: MonthSummary | null, now: number, minStaleMs: number): boolean {
  const m = fleet.meters[id];
  const scope = fleet.scopes[key];
  if (m) {
    m.summaryAt = now;
    if (summary) m.summary = summary;
    contribute(fleet, key, id, now, minStaleMs);
  }
  if (!scope) return false;
  scope.pending = Math.max(0, scope.pending - 1);
  return scope.pending === 0;
}

/** The overview's figures of a scope, worded as overviewTotals words them, with how many meters they count so far. */
export function scopeTotals(scope: FleetScope): { today: string; month: string; todayCost: string; monthCost: string } {
  const order = ['electricity', 'heat', 'cooling', 'gas', 'water', 'hot water', 'heat cost allocation'];
  const rank = (k: string) => {
    const i = order.indexOf(k.split('\u0000')[0]);
    return i < 0 ? order.length : i;
  };
  const keys = Object.keys(scope.groups).sort((a, b) => rank(a) - rank(b) || (a < b ? -1 : a > b ? 1 : 0));
  const part = scope.summarised < scope.ids.length ? ` (${scope.summarised} of ${scope.ids.length} meters counted so far)` : '';
  const amounts = (f: (g: { today: number; month: number }) => number) => {
    if (!keys.length) return scope.summarised < scope.ids.length ? `no readings counted yet${part}` : 'no readings';
    return keys.map((k) => {
      const [medium, unit] = k.split('\u0000');
      const text = `${f(scope.groups[k]).toFixed(unit === 'm3' ? 3 : 2)} ${unit}`.trim();
      return keys.length > 1 ? `${text} ${medium}` : text;
    }).join(', ') + part;
  };
  const priced = scope.priced < scope.summarised ? ` (${scope.priced} of ${scope.summarised} meters priced)` : '';
  const cost = (v: number) => (scope.priced ? `${v.toFixed(2)} ${scope.currency ?? ''}${priced}` : 'no tariff bound');
  return { today: amounts((g) => g.today), month: amounts((g) => g.month), todayCost: cost(scope.todayCost), monthCost: cost(scope.monthCost) };
}

/**
 * What one client's overview shows of its scope: the rows of `picks` (its "Find meter" matches) or of the scope's
 * first meters, at most `rows`; at most `rows` stale meters with the count of all; the totals (scopeTotals); a line
 * saying how many meters are shown. Marks the rows as shown (read first by the next steps). Bounded by `rows`.
 * Uses scopeTotals.
 */
export function overviewView(fleet: Fleet, key: string, picks: string[] | null, now: number, timeZone: string, limits: FleetLimits): {
  meters: MeterRow[]; alarms: AlarmRow[]; alarmCount: string; totals: { today: string; month: string; todayCost: string; monthCost: string }; shown: string;
} | null {
  const scope = fleet.scopes[key];
  if (!scope) return null;
  const clock = new Intl.DateTimeFormat('en-GB', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit' });
  const ids = (picks || scope.ids).slice(0, limits.rows);
  const meters: MeterRow[] = ids.map((id) => {
    scope.shown[id] = now + limits.shownMs;
    const m = fleet.meters[id];
    return m && m.row ? m.row : { Meter: id, Quantity: '', Reading: '', Unit: '', 'Power / flow': '', 'Last reading': m && m.readAt ? 'no reading yet' : 'not read yet' };
  });
  const alarms: AlarmRow[] = [];
  for (const id in scope.stale) {
    if (alarms.length >= limits.rows) break;
    const m = fleet.meters[id];
    if (!m) continue;
    scope.shown[id] = now + limits.shownMs;
    alarms.push({ Meter: id, Alarm: `no reading for ${Math.round((now - m.last) / 1000)} s${m.every ? ` (polled every ${m.every} s)` : ''}`, Since: clock.format(m.last) });
  }
  const n = scope.ids.length;
  const shown = picks ? `${meters.length} of ${n} meters match${picks.length > meters.length ? ' (the first shown)' : ''}` : `${meters.length} of ${n} meters${n > meters.length ? ': type to find one' : ''}`;
  fleet.work.views++;
  fleet.work.rows += meters.length + alarms.length;
  return {
    meters, alarms, alarmCount: scope.checked < n ? `${scope.staleCount} (${scope.checked} of ${n} meters checked so far)` : String(scope.staleCount),
    totals: scopeTotals(scope), shown,
  };
}

/**
 * A client's "Find meter" matches in its scope, kept on the client and found again only when the text or the scope
 * changed; null when nothing is typed. Uses meterMatches.
 */
export function clientPicks(client: FleetClient, scope: FleetScope, limit: number): string[] | null {
  const find = String(client.find || '').trim();
  if (find === '') return null;
  const k = `${scope.key}\u0000${find}`;
  if (client.pickKey !== k || !Array.isArray(client.picks)) {
    client.picks = meterMatches(scope.ids, find, limit);
    client.pickKey = k;
  }
  return client.picks;
}
