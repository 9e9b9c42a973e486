/**
 * The shipped dashboard (@flowfuse/node-red-dashboard, Dashboard 2.0): pure functions that shape store and
 * API answers into widget messages, and the dashboard's nodes of flows/ems.json built from them.
 *
 * Function nodes cannot import modules, so each shaping function is self-contained (no imports, no
 * module-level references) and its compiled source becomes the body of a function node (`dashboardFlow`).
 */

export interface LatestValue { meter: string; obis: string; value: number; unit: string; time: number }
export interface MeterRow { Meter: string; 'Power (kW)': number | null; 'Energy (kWh)': number | null; 'Last reading': string }
export interface AlarmRow { Meter: string; Alarm: string; Since: string }

/**
 * The overview from the store's newest values (ems-store-query mode latest): one table row per meter,
 * and an alarm for each meter without a reading for `staleMs` (a dead meter or bus).
 */
export function overviewFromLatest(latest: LatestValue[], now: number, timeZone: string, staleMs = 60_000): { meters: MeterRow[]; alarms: AlarmRow[]; ids: string[] } {
  const clock = (t: number) => new Intl.DateTimeFormat('en-GB', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit' }).format(t);
  const round = (v: number, digits: number) => Math.round(v * 10 ** digits) / 10 ** digits;
  const byMeter = new Map<string, LatestValue[]>();
  for (const v of Array.isArray(latest) ? latest : []) {
    if (!byMeter.has(v.meter)) byMeter.set(v.meter, []);
    byMeter.get(v.meter)!.push(v);
  }
  const ids = [...byMeter.keys()].sort();
  const meters: MeterRow[] = [];
  const alarms: AlarmRow[] = [];
  for (const id of ids) {
    const values = byMeter.get(id)!;
    const power = values.find((v) => v.obis === '1-0:16.7.0');
    const energy = values.find((v) => v.obis === '1-0:1.8.0');
    const last = Math.max(...values.map((v) => v.time));
    const kw = power ? (power.unit === 'W' ? power.value / 1000 : power.value) : null;
    meters.push({ Meter: id, 'Power (kW)': kw === null ? null : round(kw, 3), 'Energy (kWh)': energy ? round(energy.value, 2) : null, 'Last reading': clock(last) });
    if (now - last > staleMs) alarms.push({ Meter: id, Alarm: `no reading for ${Math.round((now - last) / 1000)} s`, Since: clock(last) });
  }
  return { meters, alarms, ids };
}

/** One meter's live values for a table, the quantities a person reads first, named, in this order. */
export function liveValues(latest: LatestValue[], meter: string): { Quantity: string; Value: number; Unit: string }[] {
  const names: [string, string][] = [
    ['1-0:16.7.0', 'Active power'], ['1-0:1.8.0', 'Energy import'], ['1-0:2.8.0', 'Energy export'], ['1-0:1.8.1', 'Energy import T1'], ['1-0:1.8.2', 'Energy import T2'],
    ['1-0:32.7.0', 'Voltage L1'], ['1-0:52.7.0', 'Voltage L2'], ['1-0:72.7.0', 'Voltage L3'], ['1-0:31.7.0', 'Current L1'], ['1-0:51.7.0', 'Current L2'],
    ['1-0:71.7.0', 'Current L3'], ['1-0:13.7.0', 'Power factor'], ['1-0:14.7.0', 'Frequency'],
  ];
  const mine = (Array.isArray(latest) ? latest : []).filter((v) => v.meter === meter);
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

export interface MonthSummary { meter: string; today: number; month: number; todayCost: number | null; monthCost: number | null; currency: string | null }

/**
 * One meter's consumption and cost today and this month from a reports.tariffs envelope (step day, from the
 * first of the month): today is the row starting on `today` (a local date), the month the report's totals.
 * Costs are null without a tariff; an error envelope is null.
 */
export function monthSummary(envelope: { data?: any; error?: string | null }, today: string): MonthSummary | null {
  const r = envelope?.data;
  if (!r || envelope.error || !Array.isArray(r.rows)) return null;
  const row = r.rows.find((x: { date: string }) => String(x.date).slice(0, 10) === today);
  const num = (v: unknown) => (v === undefined || v === null || v === '' ? 0 : Number(v));
  const priced = !!r.tariff;
  return {
    meter: String(r.meter), today: row ? num(row.total) : 0, month: num(r.totals?.total),
    todayCost: priced ? (row ? num(row.total_cost) : 0) : null, monthCost: priced ? num(r.totals?.total_cost) : null, currency: priced ? String(r.tariff.currency) : null,
  };
}

/** The overview's figures over all meters: kWh with two decimals, costs with the currency or why there are none. */
export function overviewTotals(summaries: MonthSummary[]): { today: string; month: string; todayCost: string; monthCost: string } {
  const sum = (f: (s: MonthSummary) => number | null) => summaries.reduce((t, s) => t + (f(s) ?? 0), 0);
  const priced = summaries.filter((s) => s.currency !== null);
  const currency = priced[0]?.currency ?? '';
  const part = priced.length < summaries.length ? ` (${priced.length} of ${summaries.length} meters priced)` : '';
  const cost = (f: (s: MonthSummary) => number | null) => (priced.length ? `${sum(f).toFixed(2)} ${currency}${part}` : 'no tariff bound');
  return {
    today: `${sum((s) => s.today).toFixed(2)} kWh`, month: `${sum((s) => s.month).toFixed(2)} kWh`,
    todayCost: cost((s) => s.todayCost), monthCost: cost((s) => s.monthCost),
  };
}

/** Ranges offered on the meter page: how far back, and the window each bar covers. */
export const RANGES: { value: string; label: string; from: string; window: string }[] = [
  { value: '24h', label: 'Last 24 hours (15 min)', from: '-24h', window: '15m' },
  { value: '7d', label: 'Last 7 days (hourly)', from: '-7d', window: '1h' },
  { value: '30d', label: 'Last 30 days (daily)', from: '-30d', window: '1d' },
];

/** The meters.readings request (flow-internal: msg.params, msg.query) for a meter and a range of RANGES. */
export function readingsRequest(meter: string, range: string): { topic: string; params: { id: string }; query: Record<string, string> } {
  const ranges: Record<string, [string, string]> = { '24h': ['-24h', '15m'], '7d': ['-7d', '1h'], '30d': ['-30d', '1d'] };
  const [from, window] = ranges[range] ?? ranges['24h'];
  return { topic: meter, params: { id: meter }, query: { obis: '1-0:1.8.0', from, window, fn: 'delta' } };
}

/**
 * Chart points from a meters.readings envelope: [{ time, value }] in kWh per window (ui-chart with x =
 * time, y = value, action replace). An error envelope gives no points and the error text.
 */
export function chartPoints(envelope: { data?: { readings?: { time: number; value: number }[] } | null; error?: string | null }): { points: { time: number; value: number }[]; error: string | null } {
  if (!envelope || envelope.error) return { points: [], error: envelope?.error ?? 'no answer' };
  const rows = envelope.data?.readings ?? [];
  return { points: rows.map((r) => ({ time: r.time, value: Math.round(r.value * 1000) / 1000 })), error: null };
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
 * Table rows from a reports.tariffs envelope: the step's start (date, month or date and hour), kWh of each tariff
 * register the meter has, the total (kWh rounded to 3 places), and the cost with the currency when a tariff prices it.
 */
export function reportRows(envelope: { data?: any; error?: string | null }): Record<string, string>[] {
  const r = envelope?.data;
  if (!r || envelope.error || !Array.isArray(r.rows)) return [];
  const keys = ['first_tariff', 'second_tariff', 'third_tariff', 'fourth_tariff'];
  const used = keys.filter((k, i) => i === 0 || (r.registers && r.registers[k]));
  const len = r.step === 'month' ? 7 : r.step === 'hour' ? 16 : 10;
  const kwh = (v: unknown) => (Number.isFinite(Number(v)) && v !== '' && v !== null ? String(Math.round(Number(v) * 1000) / 1000) : '0');
  return r.rows.map((row: Record<string, string>) => {
    const out: Record<string, string> = { [r.step === 'month' ? 'Month' : 'Date']: String(row.date).slice(0, len).replace('T', ' ') };
    used.forEach((k) => { out[`T${keys.indexOf(k) + 1} (kWh)`] = kwh(row[k]); });
    out['Total (kWh)'] = kwh(row.total);
    if (r.tariff) out[`Cost (${r.tariff.currency})`] = String(row.total_cost ?? '0');
    return out;
  });
}
