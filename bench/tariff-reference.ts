/**
 * The baseline of `bench:tariff`: a straightforward pricing loop written from the tariff's JSON as a
 * person would price a bill by hand, over the same decimals as the engine. Per interval: the local
 * time (lib/model/time), the billing month, the season and day type, the TOU period by scanning the
 * schedule; quantities summed in integer thousandths of a kWh; amounts in Decimal, each line rounded
 * half-up to the cent, taxes per month. No caches, no precomputed timeline: what the engine's design has to beat.
 *
 * It covers the charge kinds of lib/tariff/examples/berlin-tou-demand.json (TOU energy with seasons
 * and a holiday calendar, tiered and flat energy, a fixed-window demand charge, a monthly fixed charge
 * and a percentage tax) with one version and monthly cycles anchored on day 1; it refuses others.
 */
import { Decimal } from '../lib/money/decimal';
import { toLocal } from '../lib/model/time';
import type { ConsumptionInterval } from '../lib/tariff';

interface Slot { from: string; to: string; period: string }
interface Season { name: string; from: string; to: string; schedule: Record<string, Slot[]> }
interface EnergyCharge { name: string; type: 'tou' | 'tiered' | 'flat'; unit: string; seasons?: Season[]; seasonRates?: Record<string, Record<string, string>>; tiers?: { upTo?: string; rate: string }[]; rate?: string }
interface TariffJson {
  timeZone: string;
  cycleAnchorDay: number;
  calendar?: { nonWorkingDays?: string[] };
  versions: { energy: EnergyCharge[]; demand: { rate: string; windowMinutes: number; method: string }[]; fixed: { per: string; amount: string }[]; taxes: { percent: string }[] }[];
}

export interface ReferenceBill { subtotal: string; total: string; lines: number }

const pad = (n: number) => String(n).padStart(2, '0');
const FALLBACK: Record<string, string[]> = { weekday: ['weekday'], saturday: ['saturday', 'weekday'], sunday: ['sunday', 'saturday', 'weekday'], holiday: ['holiday', 'sunday', 'saturday', 'weekday'] };

function checkSupported(t: TariffJson): void {
  if (t.versions.length !== 1 || t.cycleAnchorDay !== 1) throw new Error('the reference prices one version with monthly cycles from day 1');
  for (const e of t.versions[0].energy) if (!['tou', 'tiered', 'flat'].includes(e.type)) throw new Error(`the reference does not price energy type ${e.type}`);
  for (const d of t.versions[0].demand) if (d.method !== 'fixed') throw new Error(`the reference does not price demand method ${d.method}`);
  for (const f of t.versions[0].fixed) if (f.per !== 'month') throw new Error(`the reference does not price fixed charges per ${f.per}`);
}

function inSeason(s: Season, monthDay: string): boolean {
  return s.from <= s.to ? monthDay >= s.from && monthDay < s.to : monthDay >= s.from || monthDay < s.to;
}

/** Prices one meter's intervals (15-minute kWh, one after another) with `t`; amounts as the engine states them. */
export function referenceBill(t: TariffJson, intervals: readonly ConsumptionInterval[]): ReferenceBill {
  checkSupported(t);
  const version = t.versions[0];
  const holidays = new Set(t.calendar?.nonWorkingDays ?? []);
  // Per month: TOU thousandths per "charge|season|period", the month's total and its highest quarter-hour.
  const months = new Map<string, { tou: Map<string, number>; total: number; peak: number }>();
  for (const iv of intervals) {
    const l = toLocal(iv.start, t.timeZone);
    const monthKey = `${l.year}-${pad(l.month)}`;
    const date = `${monthKey}-${pad(l.day)}`;
    let m = months.get(monthKey);
    if (!m) months.set(monthKey, (m = { tou: new Map(), total: 0, peak: 0 }));
    const milli = Math.round(iv.quantity * 1000);
    m.total += milli;
    const minutes = (iv.end - iv.start) / 60_000;
    m.peak = Math.max(m.peak, (milli * 60) / minutes);
    const weekday = new Date(Date.UTC(l.year, l.month - 1, l.day)).getUTCDay();
    const dayType = holidays.has(date) ? 'holiday' : weekday === 0 ? 'sunday' : weekday === 6 ? 'saturday' : 'weekday';
    const hhmm = `${pad(l.hour)}:${pad(l.minute)}`;
    for (const e of version.energy) {
      if (e.type !== 'tou') continue;
      const season = e.seasons!.find((s) => inSeason(s, `${pad(l.month)}-${pad(l.day)}`))!;
      const slots = FALLBACK[dayType].map((d) => season.schedule[d]).find(Boolean)!;
      const slot = slots.find((s) => hhmm >= s.from && hhmm < s.to)!;
      const key = `${e.name}|${season.name}|${slot.period}`;
      m.tou.set(key, (m.tou.get(key) ?? 0) + milli);
    }
  }
  const cent = (d: Decimal) => d.round(2, 'half-up');
  let subtotal = Decimal.ZERO;
  let taxes = Decimal.ZERO;
  let lines = 0;
  let month = Decimal.ZERO;
  const add = (amount: Decimal) => { month = month.add(cent(amount)); lines++; };
  for (const m of months.values()) {
    month = Decimal.ZERO;
    const kwh = Decimal.fromUnits(m.total, 3);
    for (const e of version.energy) {
      if (e.type === 'tou') {
        for (const [key, milli] of m.tou) {
          const [name, season, period] = key.split('|');
          if (name === e.name) add(Decimal.fromUnits(milli, 3).mul(e.seasonRates![season][period]));
        }
      } else if (e.type === 'tiered') {
        let below = Decimal.ZERO;
        for (const tier of e.tiers!) {
          const top = tier.upTo === undefined ? kwh : Decimal.min(kwh, Decimal.from(tier.upTo));
          if (top.cmp(below) > 0) add(top.sub(below).mul(tier.rate));
          if (tier.upTo !== undefined) below = Decimal.from(tier.upTo);
        }
      } else {
        add((e.unit === 'MWh' ? kwh.div(1000, 6) : kwh).mul(e.rate!));
      }
    }
    for (const d of version.demand) add(Decimal.fromUnits(Math.round(m.peak), 3).mul(d.rate));
    for (const f of version.fixed) add(Decimal.from(f.amount));
    // Taxes per month on the month's lines, each rounded to the cent.
    for (const tax of version.taxes) taxes = taxes.add(cent(month.mul(tax.percent).div(100, 6)));
    subtotal = subtotal.add(month);
  }
  return { subtotal: subtotal.toFixed(2), total: subtotal.add(taxes).toFixed(2), lines };
}
