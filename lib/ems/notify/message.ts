/**
 * Text and HTML renderings of alarm notifications for people: what (rule, severity, state), where
 * (folder path / meter), since when (local time in the EMS time zone), the value and the limit, and
 * the dashboard link. HTML escapes every field. No I/O.
 */
import { offsetAt, toLocal } from '../../model/time';
import type { AlarmNotification, Severity } from './types';

export interface RenderOptions {
  /** The EMS time zone (IANA name); times are shown in it. */
  timeZone: string;
  /** Product name in subjects; default "EMS". */
  product?: string;
}

export interface RenderedMessage { subject: string; text: string; html: string }

const SUBJECT_MAX = 120;
const STATE_WORD = { raised: 'Raised', acknowledged: 'Acknowledged', cleared: 'Cleared' } as const;
const RANK: Record<Severity, number> = { critical: 0, warning: 1, info: 2 };

export function escapeHtml(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#39;');
}

const pad = (n: number, w = 2) => String(n).padStart(w, '0');

/** "2026-12-07 14:05 UTC+01:00": local wall time in the zone and its offset. */
export function formatLocalTime(time: number, timeZone: string): string {
  const l = toLocal(time, timeZone);
  const off = Math.round(offsetAt(time, timeZone) / 60_000);
  const sign = off < 0 ? '-' : '+';
  const a = Math.abs(off);
  return `${l.year}-${pad(l.month)}-${pad(l.day)} ${pad(l.hour)}:${pad(l.minute)} UTC${sign}${pad(Math.floor(a / 60))}:${pad(a % 60)}`;
}

function num(v: number): string {
  return Number.isInteger(v) ? String(v) : String(Number(v.toPrecision(6)));
}

/** "62.4 kW (limit 50 kW)", or what of it is known; "" when neither is. */
export function formatValue(n: AlarmNotification): string {
  const u = n.unit ? ` ${n.unit}` : '';
  const v = n.value !== undefined ? `${num(n.value)}${u}` : '';
  const l = n.limit !== undefined ? `limit ${num(n.limit)}${u}` : '';
  if (v && l) return `${v} (${l})`;
  return v || l;
}

/** "Site A / Building 1 / Main incomer". */
export function formatWhere(n: AlarmNotification): string {
  return [...n.folderPath, n.meterName].join(' / ');
}

function clip(s: string, max = SUBJECT_MAX): string {
  const one = s.replace(/\s+/g, ' ').trim();
  return one.length <= max ? one : `${one.slice(0, max - 1)}…`;
}

/** The labelled lines of one notification, for text and HTML alike. */
function fields(n: AlarmNotification, o: RenderOptions): [string, string][] {
  const rows: [string, string][] = [
    ['Alarm', n.rule],
    ['Severity', n.severity],
    ['State', n.state],
    ['Where', formatWhere(n)],
    ['Since', formatLocalTime(n.since, o.timeZone)],
  ];
  if (n.state !== 'raised') rows.push([STATE_WORD[n.state], formatLocalTime(n.at, o.timeZone)]);
  const value = formatValue(n);
  if (value) rows.push(['Value', value]);
  if (n.by) rows.push(['By', n.by]);
  if (n.note) rows.push(['Note', n.note]);
  if (n.link) rows.push(['Dashboard', n.link]);
  return rows;
}

function htmlTable(rows: [string, string][]): string {
  return `<table>${rows.map(([k, v]) => {
    const cell = k === 'Dashboard' ? `<a href="${escapeHtml(v)}">${escapeHtml(v)}</a>` : escapeHtml(v);
    return `<tr><th align="left">${escapeHtml(k)}</th><td>${cell}</td></tr>`;
  }).join('')}</table>`;
}

/** Subject, text and HTML of one notification. */
export function renderNotification(n: AlarmNotification, o: RenderOptions): RenderedMessage {
  const product = o.product ?? 'EMS';
  const value = n.state === 'raised' && n.value !== undefined ? `: ${formatValue(n)}` : '';
  const subject = clip(`[${product} ${n.severity}] ${STATE_WORD[n.state]}: ${n.rule} at ${n.meterName}${value}`);
  const rows = fields(n, o);
  const text = `${rows.map(([k, v]) => `${k}: ${v}`).join('\n')}\n`;
  const html = `<!doctype html><html><body><h3>${escapeHtml(subject)}</h3>${htmlTable(rows)}</body></html>`;
  return { subject, text, html };
}

function counts(ns: AlarmNotification[]): string {
  const by = new Map<Severity, number>();
  for (const n of ns) by.set(n.severity, (by.get(n.severity) ?? 0) + 1);
  return [...by.entries()].sort((a, b) => RANK[a[0]] - RANK[b[0]]).map(([s, c]) => `${c} ${s}`).join(', ');
}

/** One message for many notifications, most severe first, then oldest first. */
export function renderDigest(ns: AlarmNotification[], o: RenderOptions): RenderedMessage {
  const product = o.product ?? 'EMS';
  const sorted = [...ns].sort((a, b) => RANK[a.severity] - RANK[b.severity] || a.at - b.at);
  const subject = clip(`[${product}] ${ns.length} alarm notification${ns.length === 1 ? '' : 's'} (${counts(ns)})`);
  const line = (n: AlarmNotification) => {
    const value = formatValue(n);
    return `${formatLocalTime(n.at, o.timeZone)}  ${n.severity.toUpperCase()} ${n.state}: ${n.rule} at ${formatWhere(n)}${value ? ` - ${value}` : ''}${n.link ? `\n    ${n.link}` : ''}`;
  };
  const text = `${subject}\n\n${sorted.map(line).join('\n')}\n`;
  const items = sorted.map((n) => {
    const value = formatValue(n);
    const link = n.link ? ` <a href="${escapeHtml(n.link)}">open</a>` : '';
    return `<li>${escapeHtml(formatLocalTime(n.at, o.timeZone))} <b>${escapeHtml(n.severity)}</b> ${escapeHtml(n.state)}: ${escapeHtml(n.rule)} at ${escapeHtml(formatWhere(n))}${value ? ` - ${escapeHtml(value)}` : ''}${link}</li>`;
  }).join('');
  const html = `<!doctype html><html><body><h3>${escapeHtml(subject)}</h3><ul>${items}</ul></body></html>`;
  return { subject, text, html };
}

/** A batch rendered: one notification alone, or a digest. */
export function renderBatch(b: { notifications: AlarmNotification[]; digest: boolean }, o: RenderOptions): RenderedMessage {
  if (b.notifications.length === 0) throw new RangeError('batch.notifications must not be empty');
  return !b.digest && b.notifications.length === 1 ? renderNotification(b.notifications[0], o) : renderDigest(b.notifications, o);
}
