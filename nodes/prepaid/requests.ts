/**
 * The ems-prepaid node's input messages, checked and turned into ledger calls (no node-red import, so
 * this is testable alone). Errors name the msg field and its value.
 */
import type { AccountSettings } from '../../lib/billing/prepaid';
import type { ConsumptionInterval } from '../../lib/tariff/types';
import { toInterval, toTime } from '../../lib/tariff/input';

export { toTime };

export const ACTIONS = ['topup', 'consume', 'balance', 'create', 'entries'] as const;
export type Action = (typeof ACTIONS)[number];

/** An account as listed in the node's editor: thresholds as text, as typed. */
export interface AccountDef { id: string; name?: string; currency: string; warnBelow: string; cutOffBelow: string; initialBalance?: string }

export const show = (v: unknown): string => (v === undefined ? 'undefined' : JSON.stringify(v));
const iso = (ms: number): string => new Date(ms).toISOString();

/** The action of a message: payload.action, else msg.topic when it names one. */
export function actionOf(msg: { topic?: unknown; payload?: unknown }): Action {
  const p = msg.payload as { action?: unknown } | null;
  if (p === null || typeof p !== 'object' || Array.isArray(p)) throw new Error(`payload must be an object {action, account, ...}, got ${show(msg.payload)}`);
  const action = p.action ?? msg.topic;
  if (typeof action !== 'string' || !(ACTIONS as readonly string[]).includes(action.toLowerCase())) {
    throw new Error(`payload.action must be one of ${ACTIONS.join(', ')} (or msg.topic one of them), got ${show(p.action ?? msg.topic)}`);
  }
  return action.toLowerCase() as Action;
}

/** payload.intervals (or payload.records): an array of intervals or records, or a single one. */
export function toIntervals(p: Record<string, unknown>): ConsumptionInterval[] {
  const key = p.intervals !== undefined ? 'intervals' : 'records';
  const v = p[key];
  if (v === undefined) throw new Error(`payload.intervals must be consumption intervals or records (or give payload.amount and payload.reference), got undefined`);
  const list = Array.isArray(v) ? v : [v];
  if (list.length === 0) throw new Error(`payload.${key} is an empty array: nothing to charge`);
  return list.map((x, i) => toInterval(x, Array.isArray(v) ? `payload.${key}[${i}]` : `payload.${key}`, { nonNegative: true }));
}

/** The reference an interval is charged under when the msg gives none: meter, register and the ISO 8601 interval. */
export function intervalReference(i: ConsumptionInterval, account: string): string {
  return `${i.meter ?? account}:${i.obis ?? i.unit}:${iso(i.start)}/${iso(i.end)}`;
}

/** Account settings from a create msg or an editor row; `currency` falls back to the tariff's. */
export function toSettings(x: Record<string, unknown>, idField: string, fallbackCurrency?: string): AccountSettings {
  const blank = (v: unknown) => v === undefined || v === null || v === '';
  const s: AccountSettings = {
    id: x[idField] as string,
    currency: (blank(x.currency) ? fallbackCurrency : x.currency) as string,
    warnBelow: (blank(x.warnBelow) ? '0' : x.warnBelow) as string,
    cutOffBelow: (blank(x.cutOffBelow) ? '0' : x.cutOffBelow) as string,
  };
  if (!blank(x.name)) s.name = x.name as string;
  if (!blank(x.initialBalance)) s.initialBalance = x.initialBalance as string;
  if (!blank(x.decimals)) s.decimals = Number(x.decimals);
  return s;
}

/** The node's configured accounts (an array, or its JSON text from an old export). */
export function configuredAccounts(value: unknown): AccountDef[] {
  let v = value;
  if (typeof v === 'string') v = v.trim() === '' ? [] : JSON.parse(v);
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v)) throw new Error(`accounts must be a list of accounts, got ${show(value)}`);
  return v as AccountDef[];
}
