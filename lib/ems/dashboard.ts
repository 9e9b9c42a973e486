/**
 * The shipped dashboard (@flowfuse/node-red-dashboard, Dashboard 2.0): pure functions that shape store and
 * API answers into widget messages, and the dashboard's nodes of flows/ems.json built from them.
 *
 * Function nodes cannot import modules, so each shaping function is self-contained (no imports, no
 * module-level references) and its compiled source becomes the body of a function node (`dashboardFlow`); a
 * function that calls another says so, and the function node embeds both.
 */
import { mainRegister as modelMainRegister } from '../model/obis';

/**
 * lib/model's mainRegister (self-contained) under a module-level name, so that calls to it compile to a plain
 * `mainRegister(...)`: the function nodes embed its source beside the functions calling it.
 */
const mainRegister = modelMainRegister;

export interface LatestValue { meter: string; obis: string; value: number; unit: string; time: number }
export interface MeterRow { Meter: string; Quantity: string; Reading: number | string; Unit: string; 'Power / flow': string; 'Last reading': string }
export interface AlarmRow { Meter: string; Alarm: string; Since: string }

/**
 * The EMS time zone for the dashboard's functions from the EMS_TIME_ZONE setting: unset, empty, an unreplaced
 * "${EMS_TIME_ZONE}" or not an IANA zone means the zone Node-RED runs in (what the EMS itself uses then), "UTC" only
 * when even that is unknown.
 */
export function emsTimeZone(configured: unknown): string {
  const v = typeof configured === 'string' ? configured.trim() : '';
  if (v !== '' && !/^\$\{.*\}$/.test(v)) {
    try {
      return new Intl.DateTimeFormat('en-US', { timeZone: v }).resolvedOptions().timeZone;
    } catch {
      // not a zone: the system's
    }
  }
  try {
    return Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC';
  } catch {
    return 'UTC';
  }
}

/**
 * What a register measures, for labels and per-quantity totals: the medium (electricity, heat, cooling, gas, water,
 * hot water, heat cost allocation: OBIS value group A) and the quantity's name, e.g. 8-0:1.0.0 = water, "Water volume".
 */
export function quantityOf(obis: string): { medium: string; name: string } {
  const m = /^(\d+)-\d+:(\d+)\.(\d+)\.(\d+)$/.exec(String(obis));
  const media: Record<string, string> = { 1: 'electricity', 4: 'heat cost allocation', 5: 'cooling', 6: 'heat', 7: 'gas', 8: 'water', 9: 'hot water' };
  const medium = (m && media[m[1]]) || 'other';
  const names: Record<string, string> = {
    '1:1.8': 'Energy import', '1:2.8': 'Energy export', '6:1.0': 'Heat energy', '5:1.0': 'Cooling energy', '7:3.0': 'Gas volume',
    '8:1.0': 'Water volume', '9:1.0': 'Hot water volume', '4:1.0': 'HCA units',
  };
  const name = (m && names[`${m[1]}:${m[2]}.${m[3]}`]) || String(obis);
  return { medium, name: m && m[1] === '1' && m[4] !== '0' && names[`1:${m[2]}.${m[3]}`] ? `${name} T${m[4]}` : name };
}

/**
 * The overview from the store's newest values (ems-store-query mode latest): one table row per meter with its main
 * register (mainRegister: active energy for electricity, heat energy, gas or water volume) in its own unit, its power
 * or flow, and an alarm for each meter without a reading for two of its own poll intervals (`intervals`, seconds
 * per meter id), at least `minStaleMs`: a dead meter or bus, not a meter polled every 5 minutes. `format` (the local
 * time of a reading, en-GB in `timeZone`) may be passed in by a caller that shapes one meter at a time.
 * Uses mainRegister and quantityOf (embedded beside it in the function node).
 */
export function overviewFromLatest(latest: LatestValue[], now: number, timeZone: string, intervals: Record<string, number> = {}, minStaleMs = 60_000, format?: Intl.DateTimeFormat): { meters: MeterRow[]; alarms: AlarmRow[]; ids: string[] } {
  const f = format || new Intl.DateTimeFormat('en-GB', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit' });
  const clock = (t: number) => f.format(t);
  const round = (v: number, digits: number) => Math.round(v * 10 ** digits) / 10 ** digits;
  const byMeter = new Map<string, LatestValue[]>();
  for (const v of Array.isArray(latest) ? latest : []) {
    if (!v || typeof v.meter !== 'string' || !Number.isFinite(v.value) || !Number.isFinite(v.time)) continue;
    if (!byMeter.has(v.meter)) byMeter.set(v.meter, []);
    byMeter.get(v.meter)!.push(v);
  }
  // Power or flow by medium: total active power (else import), heat power (else the heat meter's flow), gas or water flow.
  const rates: Record<string, string[]> = {
    electricity: ['1-0:16.7.0', '1-0:1.7.0'], heat: ['6-0:8.0.0', '6-0:9.0.0'], cooling: ['5-0:8.0.0', '5-0:9.0.0'], gas: ['7-0:43.0.0'], water: ['8-0:2.0.0'], 'hot water': ['9-0:2.0.0'],
  };
  const ids = [...byMeter.keys()].sort();
  const meters: MeterRow[] = [];
  const alarms: AlarmRow[] = [];
  for (const id of ids) {
    const values = byMeter.get(id)!;
    const mainCode = mainRegister(values.map((v) => v.obis));
    const main = mainCode ? values.find((v) => v.obis === mainCode) : undefined;
    const medium = mainCode ? quantityOf(mainCode).medium : '';
    const rate = (rates[medium] ?? []).map((c) => values.find((v) => v.obis === c)).find((v) => v !== undefined);
    const rateText = !rate ? '' : rate.unit === 'W' ? `${round(rate.value / 1000, 3)} kW` : `${round(rate.value, 3)} ${rate.unit}`.trim();
    const last = Math.max(...values.map((v) => v.time));
    meters.push({
      Meter: id, Quantity: main ? quantityOf(main.obis).name : '', Reading: main ? round(main.value, main.unit === 'm3' ? 3 : 2) : '', Unit: main ? main.unit : '',
      'Power / flow': rateText, 'Last reading': clock(last),
    });
    const every = Number(intervals[id]) > 0 ? Number(intervals[id]) : 0;
    if (now - last > Math.max(minStaleMs, 2 * every * 1000)) {
      alarms.push({ Meter: id, Alarm: `no reading for ${Math.round((now - last) / 1000)} s${every ? ` (polled every ${every} s)` : ''}`, Since: clock(last) });
    }
  }
  return { meters, alarms, ids };
}

/** One meter's live values for a table, the quantities a person reads first, named, in this order. */
export function liveValues(latest: LatestValue[], meter: string): { Quantity: string; Value: number; Unit: string }[] {
  const names: [string, string][] = [
    ['1-0:16.7.0', 'Active power'], ['1-0:1.7.0', 'Active power import'], ['1-0:1.8.0', 'Energy import'], ['1-0:2.8.0', 'Energy export'], ['1-0:1.8.1', 'Energy import T1'],
    ['1-0:1.8.2', 'Energy import T2'], ['1-0:32.7.0', 'Voltage L1'], ['1-0:52.7.0', 'Voltage L2'], ['1-0:72.7.0', 'Voltage L3'], ['1-0:31.7.0', 'Current L1'],
    ['1-0:51.7.0', 'Current L2'], ['1-0:71.7.0', 'Current L3'], ['1-0:13.7.0', 'Power factor'], ['1-0:14.7.0', 'Frequency'],
    ['6-0:1.0.0', 'Heat energy'], ['6-0:8.0.0', 'Heat power'], ['6-0:2.0.0', 'Volume'], ['6-0:9.0.0', 'Flow'], ['6-0:10.0.0', 'Flow temperature'],
    ['6-0:11.0.0', 'Return temperature'], ['6-0:12.0.0', 'Temperature difference'], ['5-0:1.0.0', 'Cooling energy'], ['5-0:8.0.0', 'Cooling power'],
    ['7-0:3.0.0', 'Gas volume'], ['7-0:43.0.0', 'Gas flow'], ['8-0:1.0.0', 'Water volume'], ['8-0:2.0.0', 'Water flow'], ['9-0:1.0.0', 'Hot water volume'],
    ['9-0:2.0.0', 'Hot water flow'], ['4-0:1.0.0', 'HCA units'],
  ];
  const mine = (Array.isArray(latest) ? latest : []).filter((v) => v && v.meter === meter && Number.isFinite(v.value));
  const rows: { Quantity: string; Value: number; Unit: string }[] = [];
  for (const [obis, name] of names) {
    const v = mine.find((x) => x.obis === obis);
    if (v) rows.push({ Quantity: name, Value: Math.round(v.value * 1000) / 1000, Unit: v.unit });
  }
  return rows;
}

/** The local date (YYYY-MM-DD) of `time` in `timeZone`. */
export function localDate(time: number, timeZone: string): string {
  return new Intl.DateTimeFormat('en-CA', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit' }).format(time);
}

export interface MonthSummary {
  meter: string; medium: string | null; unit: string; today: number; month: number; todayCost: number | null; monthCost: number | null; currency: string | null;
}

/**
 * One meter's consumption and cost today and this month from a reports.tariffs envelope (step day, from the
 * first of the month): today is the row starting on `today` (a local date), the month the report's totals, in the
 * report's unit; `medium` is what its register measures (null: the meter has no register to count). Costs are null
 * without a tariff; an error envelope is null. Uses quantityOf (embedded beside it in the function node).
 */
export function monthSummary(envelope: { data?: any; error?: string | null }, today: string): MonthSummary | null {
  const r = envelope?.data;
  if (!r || envelope.error || !Array.isArray(r.rows)) return null;
  const row = r.rows.find((x: { date: string }) => String(x.date).slice(0, 10) === today);
  const num = (v: unknown) => (v === undefined || v === null || v === '' || !Number.isFinite(Number(v)) ? 0 : Number(v));
  const priced = !!r.tariff;
  const register = r.registers && typeof r.registers.first_tariff === 'string' ? r.registers.first_tariff : null;
  return {
    meter: String(r.meter), medium: register ? quantityOf(register).medium : null, unit: String(r.unit ?? 'kWh'), today: row ? num(row.total) : 0, month: num(r.totals?.total),
    todayCost: priced ? (row ? num(row.total_cost) : 0) : null, monthCost: priced ? num(r.totals?.total_cost) : null, currency: priced ? String(r.tariff.currency) : null,
  };
}

/**
 * The overview's figures over all meters: consumption per medium and unit (electricity first; kWh of electricity are
 * never added to kWh of heat, nor to m3 of water), e.g. "158.55 kWh electricity, 1.20 kWh heat, 0.350 m3 water"; with a
 * single medium only the amount; costs (money adds up) with the currency or why there are none.
 */
export function overviewTotals(summaries: MonthSummary[]): { today: string; month: string; todayCost: string; monthCost: string } {
  const sum = (list: MonthSummary[], f: (s: MonthSummary) => number | null) => list.reduce((t, s) => t + (f(s) ?? 0), 0);
  const order = ['electricity', 'heat', 'cooling', 'gas', 'water', 'hot water', 'heat cost allocation'];
  const counted = summaries.filter((s) => s.medium !== null);
  const groups = new Map<string, MonthSummary[]>();
  for (const s of counted) {
    const key = `${s.medium}\u0000${s.unit}`;
    if (!groups.has(key)) groups.set(key, []);
    groups.get(key)!.push(s);
  }
  const keys = [...groups.keys()].sort((a, b) => {
    const [ma, mb] = [a.split('\u0000')[0], b.split('\u0000')[0]];
    const rank = (m: string) => (order.includes(m) ? order.indexOf(m) : order.length);
    return rank(ma) - rank(mb) || (a < b ? -1 : a > b ? 1 : 0);
  });
  const amounts = (f: (s: MonthSummary) => number) => {
    if (!keys.length) return 'no readings';
    return keys.map((k) => {
      const [medium, unit] = k.split('\u0000');
      const text = `${sum(groups.get(k)!, f).toFixed(unit === 'm3' ? 3 : 2)} ${unit}`.trim();
      return keys.length > 1 ? `${text} ${medium}` : text;
    }).join(', ');
  };
  const priced = summaries.filter((s) => s.currency !== null);
  const currency = priced[0]?.currency ?? '';
  const part = priced.length < summaries.length ? ` (${priced.length} of ${summaries.length} meters priced)` : '';
  const cost = (f: (s: MonthSummary) => number | null) => (priced.length ? `${sum(priced, f).toFixed(2)} ${currency}${part}` : 'no tariff bound');
  return { today: amounts((s) => s.today), month: amounts((s) => s.month), todayCost: cost((s) => s.todayCost), monthCost: cost((s) => s.monthCost) };
}

/** Ranges offered on the meter page: how far back, and the window each bar covers. */
export const RANGES: { value: string; label: string; from: string; window: string }[] = [
  { value: '24h', label: 'Last 24 hours (15 min)', from: '-24h', window: '15m' },
  { value: '7d', label: 'Last 7 days (hourly)', from: '-7d', window: '1h' },
  { value: '30d', label: 'Last 30 days (daily)', from: '-30d', window: '1d' },
];

/**
 * The meters.readings request (flow-internal: msg.params, msg.query) for a meter's register (its main register,
 * see mainRegister) and a range of RANGES.
 */
export function readingsRequest(meter: string, range: string, obis = '1-0:1.8.0'): { topic: string; params: { id: string }; query: Record<string, string> } {
  const ranges: Record<string, [string, string]> = { '24h': ['-24h', '15m'], '7d': ['-7d', '1h'], '30d': ['-30d', '1d'] };
  const [from, window] = ranges[range] ?? ranges['24h'];
  return { topic: meter, params: { id: meter }, query: { obis, from, window, fn: 'delta' } };
}

/**
 * Chart points from a meters.readings envelope (windows of `data.window.every` ms, each row's time its start):
 * one bar per window on a category axis, labelled with the window's start in the EMS time zone ("2026-11-21 17:15",
 * a date for daily windows), so a bar stands for its window [t, t + every), neither centred on its start nor moved
 * by the browser's zone. Windows without readings between two that have some are kept as empty bars (value null), so
 * the axis stays even. The unit is the readings'. An error envelope gives no points and the error text.
 */
export function chartPoints(envelope: { data?: { readings?: { time: number; value: number; unit?: string }[]; window?: { every?: number } | null } | null; error?: string | null }, timeZone: string): { points: { window: string; time: number | null; value: number | null }[]; unit: string; error: string | null } {
  if (!envelope || envelope.error) return { points: [], unit: '', error: (envelope && envelope.error) || 'no answer' };
  const rows = ((envelope.data && envelope.data.readings) || []).filter((r) => Number.isFinite(r.time) && Number.isFinite(r.value)).sort((a, b) => a.time - b.time);
  const every = Number(envelope.data && envelope.data.window && envelope.data.window.every) || 0;
  const daily = every >= 86_400_000;
  const parts = (t: number) => {
    const p: Record<string, string> = {};
    const f = new Intl.DateTimeFormat('en-CA', { timeZone, hourCycle: 'h23', year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit' });
    for (const x of f.formatToParts(t)) p[x.type] = x.value;
    return p;
  };
  const label = (t: number) => {
    const p = parts(t);
    return daily ? `${p.year}-${p.month}-${p.day}` : `${p.year}-${p.month}-${p.day} ${p.hour}:${p.minute}`;
  };
  const nextDay = (date: string) => new Date(Date.parse(`${date}T00:00:00Z`) + 86_400_000 * (every / 86_400_000)).toISOString().slice(0, 10);
  const points: { window: string; time: number | null; value: number | null }[] = [];
  rows.forEach((r, i) => {
    if (i > 0 && every > 0) {
      const prev = rows[i - 1];
      if (daily) {
        const end = label(r.time);
        for (let d = nextDay(label(prev.time)), n = 0; d < end && n < 400; d = nextDay(d), n++) points.push({ window: d, time: null, value: null });
      } else {
        for (let t = prev.time + every, n = 0; t + every / 2 < r.time && n < 2000; t += every, n++) points.push({ window: label(t), time: t, value: null });
      }
    }
    points.push({ window: label(r.time), time: r.time, value: Math.round(r.value * 1000) / 1000 });
  });
  return { points, unit: String((rows[0] && rows[0].unit) || ''), error: null };
}

/** Table rows from an events.list envelope (newest first), naming the time in `timeZone`. */
export function eventRows(envelope: { data?: unknown; error?: string | null }, timeZone: string): Record<string, string>[] {
  const list = Array.isArray(envelope?.data) ? envelope.data as Record<string, unknown>[] : [];
  const clock = (t: unknown) => {
    const ms = typeof t === 'number' ? t : Date.parse(String(t));
    return Number.isNaN(ms) ? String(t) : new Intl.DateTimeFormat('en-GB', { timeZone, dateStyle: 'short', timeStyle: 'medium' }).format(ms);
  };
  return list.map((e) => ({
    Time: clock(e.date), Meter: String(e.meter_name ?? e.meter_id ?? ''), Level: String(e.level ?? e.kind ?? ''),
    Event: String(e.event ?? ''), Value: e.value === undefined || e.value === null ? '' : String(e.value),
  }));
}

/**
 * Table rows from a reports.tariffs envelope: the step's start (date, month or date and hour), the consumption of each
 * tariff register the meter has (T1..T4 of active energy; a heat, gas or water meter's main register only as the
 * total), the total (rounded to 3 places) in the report's unit, and the cost with the currency when a tariff prices it.
 * Steps that end at or before the report's data_from (before the meter's first reading) are left out: no data is not
 * zero consumption.
 */
export function reportRows(envelope: { data?: any; error?: string | null }): Record<string, string>[] {
  const r = envelope?.data;
  if (!r || envelope.error || !Array.isArray(r.rows)) return [];
  const keys = ['first_tariff', 'second_tariff', 'third_tariff', 'fourth_tariff'];
  const registers = r.registers || {};
  const electric = !registers.first_tariff || /^1-\d+:1\.8\.\d+$/.test(String(registers.first_tariff));
  const used = electric ? keys.filter((k, i) => i === 0 || registers[k]) : [];
  const unit = String(r.unit || 'kWh');
  const len = r.step === 'month' ? 7 : r.step === 'hour' ? 16 : 10;
  const amount = (v: unknown) => (Number.isFinite(Number(v)) && v !== '' && v !== null ? String(Math.round(Number(v) * 1000) / 1000) : '0');
  const since = r.data_from === undefined ? -Infinity : r.data_from === null ? Infinity : Date.parse(String(r.data_from));
  return r.rows.filter((row: Record<string, string>) => !(Date.parse(String(row.date_to)) <= since)).map((row: Record<string, string>) => {
    const out: Record<string, string> = { [r.step === 'month' ? 'Month' : 'Date']: String(row.date).slice(0, len).replace('T', ' ') };
    used.forEach((k) => { out[`T${keys.indexOf(k) + 1} (${unit})`] = amount(row[k]); });
    out[`Total (${unit})`] = amount(row.total);
    if (r.tariff) out[`Cost (${r.tariff.currency})`] = String(row.total_cost ?? '0');
    return out;
  });
}

/*
 * Per-client dashboard data. Every message to a widget answers one client (msg._client, so Dashboard 2.0 sends
 * it to that socket only and never stores it for others); the data is computed with that client's EMS session
 * (ems-api identity "dashboard"), so each user sees only the meters their open_folders allow.
 */

/** msg._client as Dashboard 2.0 and the EMS dashboard plugin fill it. */
export interface DashClientInfo { socketId?: string; emsSessionId?: string; emsLogin?: string; emsRole?: string; [k: string]: unknown }

/** One connected dashboard client (a socket): the page it shows and its choices. */
export interface DashClient {
  client: DashClientInfo;
  page: string;
  meter: string | null;
  range: string;
  step: string;
  /** Last message from the client, and last refresh of its page (epoch ms). */
  seen: number;
  refreshed: number;
  /** False until the dropdowns were sent twice after a page view (a widget mounting late misses the first). */
  synced: boolean;
  /** The connection was lost (ui-control "lost"): no more refreshes. */
  gone?: boolean;
  /** What the client typed in a "Find meter" field (topic dash-find). */
  find?: string;
}

/** What to compute for a client: its page, choices, and why (a page view, a choice, the timer). */
export interface DashRefresh {
  _client: DashClientInfo;
  dash: { page: string; meter: string | null; range: string; step: string; reason: 'view' | 'change' | 'tick'; sync: boolean; found?: boolean };
}

/**
 * Follows the dashboard's clients from their messages (ui-event $pageview, a dropdown choice with topic
 * dash-meter / dash-range / dash-step, a "Find meter" text with topic dash-find, ui-control "lost") in `clients` (by socket id, at most `max`: the least
 * recently seen is dropped). A lost client is kept (gone, no longer refreshed) so that the next page of the same
 * EMS session starts with its choices. Answers the refresh the message calls for, or null.
 */
export function trackClient(clients: Record<string, DashClient>, msg: { topic?: unknown; payload?: any; _client?: DashClientInfo }, now: number, max = 100): DashRefresh | null {
  const info = msg && msg._client;
  if (!info || typeof info.socketId !== 'string' || info.socketId === '') return null;
  const id = info.socketId;
  let entry = clients[id];
  if (msg.payload === 'lost') {
    if (entry) entry.gone = true;
    return null;
  }
  let reason: 'view' | 'change';
  if (msg.topic === '$pageview') {
    const page = String(msg.payload?.page?.path ?? '').replace(/^\//, '');
    if (!['overview', 'meter', 'reports', 'events', 'alarms', 'site'].includes(page)) return null;
    if (!entry) {
      // The choices of the same session's latest client (a reloaded page), else the defaults.
      const same = Object.values(clients).filter((c) => info.emsSessionId && c.client.emsSessionId === info.emsSessionId).sort((a, b) => b.seen - a.seen)[0];
      entry = { client: info, page, meter: same ? same.meter : null, range: same ? same.range : '24h', step: same ? same.step : 'day', seen: now, refreshed: now, synced: false };
      clients[id] = entry;
      const ids = Object.keys(clients).filter((k) => k !== id).sort((a, b) => clients[a].seen - clients[b].seen);
      while (ids.length >= max) delete clients[ids.shift()!];
    }
    entry.page = page;
    entry.synced = false;
    entry.gone = false;
    reason = 'view';
  } else {
    if (!entry || entry.gone) return null;
    const v = msg.payload;
    if (msg.topic === 'dash-meter' && typeof v === 'string' && v !== '') entry.meter = v;
    else if (msg.topic === 'dash-range' && ['24h', '7d', '30d'].includes(v)) entry.range = v;
    else if (msg.topic === 'dash-step' && ['day', 'month'].includes(v)) entry.step = v;
    else if (msg.topic === 'dash-find' && typeof v === 'string' && v.length <= 100) entry.find = v.trim();
    else return null;
    reason = 'change';
  }
  entry.client = info;
  entry.seen = now;
  entry.refreshed = now;
  // A new "Find meter" text sends the dropdowns again (their options are its matches).
  const found = msg.topic === 'dash-find';
  return { _client: info, dash: { page: entry.page, meter: entry.meter, range: entry.range, step: entry.step, reason, sync: reason === 'view' || found, ...(found ? { found } : {}) } };
}

/** The clients whose page is due (refreshed more than `everyMs[page]` ago), as refreshes; marks them refreshed. */
export function dueRefreshes(clients: Record<string, DashClient>, now: number, everyMs: Record<string, number> = { overview: 10_000, meter: 10_000, events: 10_000, reports: 300_000, site: 300_000 }): DashRefresh[] {
  const out: DashRefresh[] = [];
  for (const c of Object.values(clients)) {
    if (c.gone || now - c.refreshed < (everyMs[c.page] ?? 10_000)) continue;
    c.refreshed = now;
    const sync = !c.synced;
    c.synced = true;
    out.push({ _client: c.client, dash: { page: c.page, meter: c.meter, range: c.range, step: c.step, reason: 'tick', sync } });
  }
  return out;
}

/** Whether a sorted id list holds `id` (binary search: the same order as Array.prototype.sort). */
export function hasId(ids: string[], id: string): boolean {
  let [lo, hi] = [0, ids.length - 1];
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    if (ids[mid] === id) return true;
    if (ids[mid] < id) lo = mid + 1;
    else hi = mid - 1;
  }
  return false;
}

/**
 * The meter a client's meter and reports pages show: on a new "Find meter" text (dash.found) its exact match; else the
 * client's choice while its user may see it (`ids`, sorted); else the first match, else the first meter. Uses hasId.
 */
export function chosenMeter(dash: DashRefresh['dash'], ids: string[], picks: string[] | null, find: string): string | null {
  const q = String(find || '').trim().toLowerCase();
  if (dash.found && picks && picks.length && picks[0].toLowerCase() === q) return picks[0];
  if (dash.meter && hasId(ids, dash.meter)) return dash.meter;
  return (picks && picks[0]) || ids[0] || null;
}

/**
 * The messages (without _client) that compute a client's page from the meters its user may see (`ids`, sorted) and
 * its "Find meter" matches (`picks`, null: nothing typed), one per output of the dashboard's page function: overview;
 * meter page dropdowns, newest values of the meter (the live values, whose main register the chart then asks for, see
 * meterRequests); reports page dropdowns, report request; events request; the find fields of the meter and reports
 * pages. A meter dropdown offers the matches (else the first `pick` meters) and the chosen meter, never every meter.
 * Dropdowns and find fields only when `dash.sync`. Uses chosenMeter, localDate (embedded beside it in the function node).
 */
export function pageMessages(dash: DashRefresh['dash'], ids: string[], picks: string[] | null, find: string, now: number, timeZone: string, pick = 50): (Record<string, unknown> | null)[] {
  const out: (Record<string, unknown> | null)[] = [null, null, null, null, null, null, null, null, null, null];
  const meter = chosenMeter(dash, ids, picks, find);
  const offered = picks || ids.slice(0, pick);
  const list = meter && !offered.includes(meter) ? [meter, ...offered] : offered;
  const options = { options: list.map((id) => ({ value: id, label: id })), payload: meter ?? '' };
  const findField = { payload: String(find || '') };
  if (dash.page === 'overview') out[0] = { payload: {} };
  else if (dash.page === 'meter') {
    if (dash.sync) [out[1], out[2], out[8]] = [options, { payload: dash.range }, findField];
    if (meter) out[3] = { meter, topic: meter, dashRange: dash.range, payload: {} };
  } else if (dash.page === 'reports') {
    if (dash.sync) [out[4], out[5], out[9]] = [options, { payload: dash.step }, findField];
    if (meter) {
      const month = dash.step === 'month';
      const date1 = month ? localDate(now - 365 * 86_400_000, timeZone).slice(0, 8) + '01' : localDate(now - 30 * 86_400_000, timeZone);
      out[6] = { topic: meter, query: { meter, date1, date2: localDate(now, timeZone), step: month ? 'month' : 'day' } };
    }
  } else if (dash.page === 'events') {
    out[7] = { query: { date1: new Date(now - 7 * 86_400_000).toISOString(), date2: new Date(now + 60_000).toISOString(), limit: '200' } };
  }
  return out;
}

/**
 * The meter page from the meter's newest values: its live values, and the readings request for its main register
 * (the chart), or, for a meter without one, why the chart is empty. Uses liveValues, mainRegister and readingsRequest.
 */
export function meterRequests(latest: LatestValue[], meter: string, range: string): { live: { Quantity: string; Value: number; Unit: string }[]; request: ReturnType<typeof readingsRequest> | null; none: string | null } {
  const mine = (Array.isArray(latest) ? latest : []).filter((v) => v && v.meter === meter);
  const main = mainRegister(mine.map((v) => v.obis));
  return { live: liveValues(mine, meter), request: main ? readingsRequest(meter, range, main) : null, none: main ? null : `${meter}: no energy or volume register read yet` };
}

/** The text a poll-now answer shows: started, or why not (a viewer is refused: the API answers 403). */
export function pollResult(envelope: { data?: any; error?: string | null; status?: number }, meter: string): string {
  if (envelope && !envelope.error && envelope.data && envelope.data.started) return `Poll of ${meter} started`;
  const why = (envelope && envelope.error) || 'no answer';
  return envelope && envelope.status === 403 ? `Refused: ${why}` : `Poll of ${meter} failed: ${why}`;
}
