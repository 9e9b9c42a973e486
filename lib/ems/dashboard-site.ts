/**
 * The dashboard's Site page (issue 18): a space (a folder and everything below it) over a period against the same
 * period a year before, from GET /api/folders/:id/report: per energy category consumption, cost, kgce, kgCO2e, per m2,
 * peak and load factor; the sub-meter breakdown with each master meter's unmetered remainder; the child spaces; the
 * top consumers. Pure functions that shape the report into widget messages and a client's choices into the request;
 * like lib/ems/dashboard.ts, each is self-contained (its compiled source becomes part of a function node, see
 * lib/ems/dashboard-site-flow.ts) and one that calls another says so.
 */
import type { DashClient } from './dashboard';
import type { DashOption } from './dashboard-alarms';

/** A client's choices on the Site page, kept beside its other choices (flow context dash_clients). */
export interface SiteChoices { folder: string; period: string }
export interface SiteClient extends DashClient { site?: SiteChoices }
export interface SiteEnvelope { data?: any; error?: string | null; status?: number }

/** The periods the page offers, each against the same period a year before. */
export const SITE_PERIODS: DashOption[] = [
  { value: 'month', label: 'This month (so far) vs a year before' },
  { value: 'last-month', label: 'Last month vs a year before' },
  { value: 'year', label: 'This year (so far) vs last year' },
  { value: 'last-year', label: 'Last year vs the year before' },
];

/** The client's Site page choices; the defaults (no folder yet: the first the user sees, this month) on first use. */
export function siteChoices(client: SiteClient): SiteChoices {
  if (!client.site) client.site = { folder: '', period: 'month' };
  return client.site;
}

/**
 * The report query of a period (see SITE_PERIODS) on `today` (a local date YYYY-MM-DD in the EMS zone): from/to as
 * local dates, both included (the API reads a bare `to` date as the whole day), the step (day for a month, month for a
 * year) and the base period a year before. "So far" periods end with today, and their base on the same day a year
 * before (28 February for a 29th).
 */
export function siteQuery(period: string, today: string): Record<string, string> {
  const [y, m, d] = [Number(today.slice(0, 4)), Number(today.slice(5, 7)), Number(today.slice(8, 10))];
  const pad = (n: number) => String(n).padStart(2, '0');
  // Day 0 of a month is the last day of the month before (Date.UTC rolls over).
  const date = (yy: number, mm: number, dd: number) => {
    const t = new Date(Date.UTC(yy, mm - 1, dd));
    return `${t.getUTCFullYear()}-${pad(t.getUTCMonth() + 1)}-${pad(t.getUTCDate())}`;
  };
  const sameDay = (yy: number) => date(yy, m, Math.min(d, new Date(Date.UTC(yy, m, 0)).getUTCDate()));
  if (period === 'last-month') return { from: date(y, m - 1, 1), to: date(y, m, 0), step: 'day', base_from: date(y - 1, m - 1, 1), base_to: date(y - 1, m, 0) };
  if (period === 'year') return { from: date(y, 1, 1), to: today, step: 'month', base_from: date(y - 1, 1, 1), base_to: sameDay(y - 1) };
  if (period === 'last-year') return { from: date(y - 1, 1, 1), to: date(y - 1, 12, 31), step: 'month', base_from: date(y - 2, 1, 1), base_to: date(y - 2, 12, 31) };
  return { from: date(y, m, 1), to: today, step: 'day', base_from: date(y - 1, m, 1), base_to: sameDay(y - 1) };
}

/** The folder choices of the page: the user's folders (folderOptions of the alarms page) without "all". Uses nothing. */
export function siteFolders(options: DashOption[]): DashOption[] {
  return (Array.isArray(options) ? options : []).filter((o) => o && o.value !== 'all');
}

/**
 * A choice on the Site page (topic dash-si-folder / dash-si-period) applied to the client's choices; true when the
 * page is to be computed again.
 */
export function chooseSite(choices: SiteChoices, msg: { topic?: unknown; payload?: unknown }): boolean {
  const v = msg ? msg.payload : undefined;
  if (typeof v !== 'string' || v === '') return false;
  if (msg.topic === 'dash-si-folder' && v !== choices.folder) choices.folder = v;
  else if (msg.topic === 'dash-si-period' && v !== choices.period && ['month', 'last-month', 'year', 'last-year'].includes(v)) choices.period = v;
  else return false;
  return true;
}

/** A decimal text (the report's figures) rounded for people: 3 places below 1000, 1 below a million, else none. */
export function siteNumber(v: unknown): string {
  const n = Number(v);
  if (v === null || v === undefined || v === '' || !Number.isFinite(n)) return '';
  const digits = Math.abs(n) < 1000 ? 3 : Math.abs(n) < 1e6 ? 1 : 0;
  return n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: 0 });
}

/** "+4.12 %" / "-3 %" / "" for a change_pct text (null when the base was zero). */
export function sitePercent(v: unknown): string {
  if (v === null || v === undefined || v === '' || !Number.isFinite(Number(v))) return '';
  const n = Number(v);
  return `${n > 0 ? '+' : ''}${n.toLocaleString('en-US', { maximumFractionDigits: 2 })} %`;
}

/** One row per energy category: consumption, cost, carbon, per m2, the base period and the change, peak and load factor. Uses siteNumber, sitePercent. */
export function siteCategoryRows(envelope: SiteEnvelope): Record<string, string>[] {
  const r = envelope && !envelope.error ? envelope.data : null;
  if (!r || !Array.isArray(r.categories)) return [];
  return r.categories.map((c: any) => ({
    Category: String(c.name || c.id),
    Consumption: `${siteNumber(c.consumption)} ${c.unit}`,
    'Per m²': c.per_m2 ? `${siteNumber(c.per_m2.consumption)} ${c.unit}` : '',
    Cost: c.cost ? Object.entries(c.cost).map(([cur, v]) => `${siteNumber(v)} ${cur}`).join(', ') : '',
    kgce: siteNumber(c.kgce),
    kgCO2e: siteNumber(c.kgco2e),
    'A year before': c.base ? `${siteNumber(c.base.consumption)} ${c.unit}` : '',
    Change: c.base ? sitePercent(c.base.consumption_change.change_pct) : '',
    Peak: c.peak ? `${siteNumber(c.peak.consumption)} ${c.unit} (${String(c.peak.date).slice(0, r.step === 'month' ? 7 : 10)})` : '',
    'Load factor': c.load_factor === null || c.load_factor === undefined ? '' : siteNumber(c.load_factor),
  }));
}

/** Each master meter, its sub-meters and its unmetered remainder (flagged when negative), one row each. Uses siteNumber. */
export function siteBreakdownRows(envelope: SiteEnvelope): Record<string, string>[] {
  const r = envelope && !envelope.error ? envelope.data : null;
  if (!r || !Array.isArray(r.submeters)) return [];
  const rows: Record<string, string>[] = [];
  for (const m of r.submeters) {
    rows.push({ Meter: String(m.name || m.meter), Part: 'master meter', Consumption: `${siteNumber(m.consumption)} ${m.unit}`, kgCO2e: siteNumber(m.kgco2e) });
    for (const s of Array.isArray(m.submeters) ? m.submeters : []) {
      rows.push({ Meter: `  ${s.name || s.meter}`, Part: 'sub-meter', Consumption: `${siteNumber(s.consumption)} ${m.unit}`, kgCO2e: siteNumber(s.kgco2e) });
    }
    const rest = m.remainder || {};
    rows.push({
      Meter: `  ${m.name || m.meter}: unmetered`, Part: rest.negative ? 'remainder NEGATIVE (check the meters)' : 'remainder',
      Consumption: `${siteNumber(rest.consumption)} ${m.unit}`, kgCO2e: siteNumber(rest.kgco2e),
    });
  }
  return rows;
}

/** The child spaces, one row per space and category. Uses siteNumber. */
export function siteSpaceRows(envelope: SiteEnvelope): Record<string, string>[] {
  const r = envelope && !envelope.error ? envelope.data : null;
  if (!r || !Array.isArray(r.spaces)) return [];
  const names: Record<string, string> = {};
  for (const c of Array.isArray(r.categories) ? r.categories : []) names[c.id] = String(c.name || c.id);
  const rows: Record<string, string>[] = [];
  for (const s of r.spaces) {
    for (const c of Array.isArray(s.categories) ? s.categories : []) {
      rows.push({
        Space: String(s.name), Type: String(s.folder_type), Category: names[c.id] || String(c.id), Consumption: `${siteNumber(c.consumption)} ${c.unit}`,
        'Per m²': c.per_m2 ? `${siteNumber(c.per_m2.consumption)} ${c.unit}` : '', kgCO2e: siteNumber(c.kgco2e),
      });
    }
  }
  return rows;
}

/** The largest consumers per category (meters without sub-meters, and remainders), at most `n` rows. Uses siteNumber. */
export function siteTopRows(envelope: SiteEnvelope, n = 10): Record<string, string>[] {
  const r = envelope && !envelope.error ? envelope.data : null;
  if (!r || !Array.isArray(r.categories)) return [];
  const rows: Record<string, string>[] = [];
  for (const c of r.categories) {
    for (const t of (Array.isArray(c.top) ? c.top : []).slice(0, n)) rows.push({ Category: String(c.name || c.id), Consumer: String(t.name || t.meter), Consumption: `${siteNumber(t.consumption)} ${c.unit}` });
  }
  return rows;
}

/**
 * The page's headline: the space, the period, its carbon against the base period and what to check (notes), or the
 * error (a folder the user may not see answers 403/404). Uses siteNumber, sitePercent.
 */
export function siteStatus(envelope: SiteEnvelope): string {
  if (!envelope || envelope.error || !envelope.data) return `No report: ${(envelope && envelope.error) || 'no answer'}`;
  const r = envelope.data;
  const where = Array.isArray(r.location) && r.location.length ? r.location.join(' / ') : String(r.folder && r.folder.name);
  // The report's end is exclusive: a period ending at midnight is shown with its last day.
  const to = String(r.to);
  let last = to.slice(0, 10);
  if (to.slice(11, 19) === '00:00:00') {
    const t = new Date(Date.UTC(Number(to.slice(0, 4)), Number(to.slice(5, 7)) - 1, Number(to.slice(8, 10)) - 1));
    last = `${t.getUTCFullYear()}-${String(t.getUTCMonth() + 1).padStart(2, '0')}-${String(t.getUTCDate()).padStart(2, '0')}`;
  }
  const period = `${String(r.from).slice(0, 10)} to ${last}`;
  if (!Array.isArray(r.categories) || r.categories.length === 0) return `${where}, ${period}: no metered consumption${Array.isArray(r.notes) && r.notes.length ? ` (${r.notes[0]})` : ''}`;
  const t = r.totals || {};
  const change = t.base ? ` (${sitePercent(t.base.kgco2e_change && t.base.kgco2e_change.change_pct) || 'no base'} vs a year before)` : '';
  const area = r.folder && r.folder.area_m2 ? `, ${siteNumber(r.folder.area_m2)} m²` : '';
  const notes = Array.isArray(r.notes) && r.notes.length ? `; ${r.notes.length} note${r.notes.length > 1 ? 's' : ''}: ${r.notes[0]}` : '';
  return `${where}${area}, ${period}: ${siteNumber(t.kgco2e)} kgCO2e, ${siteNumber(t.kgce)} kgce${change}${notes}`;
}
