/**
 * validateTariff: checks a tariff as parsed JSON and returns it normalised (periods as TouPeriod,
 * JSON numbers as decimal strings, defaults left absent). Every problem names its field path and
 * the bad value; all problems are collected before throwing.
 */
import { Decimal } from '../money/decimal';
import { isKnownUnit, unitInfo } from '../model/units';
import { isValidTimeZone } from '../model/time';
import { dayNumberOf, isValidDate } from './calendar';
import { Checker, show, type Obj, type Problem } from './validate-checker';
import { checkBands, checkSeasonCoverage } from './validate-schedule';

import {
  DAY_TYPES, ENERGY_TYPES,
  type DemandCharge, type EnergyCharge, type EnergyType, type FixedCharge, type Season, type Tariff,
  type TariffVersion, type Tax, type TieredCharge, type TimeBand, type TouPeriod,
} from './types';

export type { Problem };

const ROUNDING_MODES = ['line', 'bill'] as const;

export class TariffValidationError extends Error {
  constructor(readonly problems: Problem[]) {
    super(`invalid tariff: ${problems.map((p) => `${p.field}: ${p.message}`).join('; ')}`);
    this.name = 'TariffValidationError';
  }
}

/** The dimensions an energy type's charges may use. */
export const UNIT_DIMENSIONS: Record<EnergyType, string[]> = {
  electricity: ['active energy'], heat: ['active energy', 'heat energy'], water: ['volume'], gas: ['volume'],
};

export function validateTariff(input: unknown): Tariff {
  const c = new Checker();
  const t = c.object(input, '(tariff)');
  const out: Tariff = {
    id: c.string(t.id, 'id'),
    name: c.string(t.name, 'name'),
    currency: t.currency as string,
    timeZone: t.timeZone as string,
    versions: [],
  };
  if (typeof t.currency !== 'string' || !/^[A-Z]{3}$/.test(t.currency)) c.add('currency', `expected an ISO 4217 code such as "EUR", got ${show(t.currency)}`);
  if (!isValidTimeZone(t.timeZone)) c.add('timeZone', `expected an IANA time zone such as "Europe/Berlin", got ${show(t.timeZone)}`);
  if (t.currencyDecimals !== undefined) out.currencyDecimals = c.integer(t.currencyDecimals, 'currencyDecimals', 0, 8);
  if (t.cycleAnchorDay !== undefined) out.cycleAnchorDay = c.integer(t.cycleAnchorDay, 'cycleAnchorDay', 1, 28);
  if (t.rounding !== undefined) {
    const r = c.object(t.rounding, 'rounding');
    out.rounding = { mode: c.oneOf(r.mode, ROUNDING_MODES, 'rounding.mode') };
    if (r.method !== undefined) out.rounding.method = c.oneOf(r.method, ['half-up', 'half-even', 'down', 'up'] as const, 'rounding.method');
  }
  if (t.calendar !== undefined) {
    const cal = c.object(t.calendar, 'calendar');
    const dates = (v: unknown, f: string): string[] => c.array(v, f, true).map((d, i) => {
      if (!isValidDate(d)) c.add(`${f}[${i}]`, `expected a date "YYYY-MM-DD", got ${show(d)}`);
      return d as string;
    });
    out.calendar = { nonWorkingDays: dates(cal.nonWorkingDays ?? [], 'calendar.nonWorkingDays') };
    if (typeof cal.name === 'string') out.calendar.name = cal.name;
    if (cal.workingDays !== undefined) out.calendar.workingDays = dates(cal.workingDays, 'calendar.workingDays');
  }
  const versions = c.array(t.versions, 'versions');
  out.versions = versions.map((v, i) => version(c, v, `versions[${i}]`));
  checkVersionOrder(c, out.versions);
  if (c.problems.length) throw new TariffValidationError(c.problems);
  return out;
}

function checkVersionOrder(c: Checker, versions: TariffVersion[]): void {
  for (let i = 0; i < versions.length; i++) {
    const v = versions[i];
    const from = dayNumberOf(v.validFrom);
    const to = v.validTo === undefined ? undefined : dayNumberOf(v.validTo);
    if (from !== undefined && to !== undefined && to <= from) c.add(`versions[${i}].validTo`, `must be after validFrom ${v.validFrom}, got ${show(v.validTo)}`);
    const next = versions[i + 1];
    const nextFrom = next ? dayNumberOf(next.validFrom) : undefined;
    if (from === undefined || nextFrom === undefined) continue;
    if (nextFrom <= from) c.add(`versions[${i + 1}].validFrom`, `versions must be in ascending order of validFrom: ${show(next.validFrom)} is not after ${show(v.validFrom)}`);
    else if (to !== undefined && to > nextFrom) c.add(`versions[${i}].validTo`, `overlaps the next version starting ${next.validFrom}, got ${show(v.validTo)}`);
  }
}

function version(c: Checker, input: unknown, f: string): TariffVersion {
  const v = c.object(input, f);
  if (!isValidDate(v.validFrom)) c.add(`${f}.validFrom`, `expected a date "YYYY-MM-DD", got ${show(v.validFrom)}`);
  const out: TariffVersion = { validFrom: v.validFrom as string, energy: [] };
  if (v.validTo !== undefined) {
    if (!isValidDate(v.validTo)) c.add(`${f}.validTo`, `expected a date "YYYY-MM-DD", got ${show(v.validTo)}`);
    out.validTo = v.validTo as string;
  }
  out.energy = c.array(v.energy ?? [], `${f}.energy`, true).map((e, i) => energyCharge(c, e, `${f}.energy[${i}]`));
  if (v.demand !== undefined) out.demand = c.array(v.demand, `${f}.demand`, true).map((d, i) => demandCharge(c, d, `${f}.demand[${i}]`));
  if (v.fixed !== undefined) out.fixed = c.array(v.fixed, `${f}.fixed`, true).map((x, i) => fixedCharge(c, x, `${f}.fixed[${i}]`));
  if (v.taxes !== undefined) out.taxes = c.array(v.taxes, `${f}.taxes`, true).map((x, i) => tax(c, x, `${f}.taxes[${i}]`));
  if (!out.energy.length && !out.demand?.length && !out.fixed?.length) c.add(f, 'a version needs at least one energy, demand or fixed charge');
  const seen = new Map<string, string>();
  const groups: [string, { name: string }[] | undefined][] = [['energy', out.energy], ['demand', out.demand], ['fixed', out.fixed], ['taxes', out.taxes]];
  for (const [group, list] of groups) {
    list?.forEach((x, i) => {
      const field = `${f}.${group}[${i}].name`;
      const first = seen.get(x.name);
      if (first) c.add(field, `names must be unique within a version: ${show(x.name)} is also ${first}`);
      else seen.set(x.name, field);
    });
  }
  return out;
}

function energyCharge(c: Checker, input: unknown, f: string): EnergyCharge {
  const e = c.object(input, f);
  const energyType = c.oneOf(e.energyType, ENERGY_TYPES, `${f}.energyType`);
  const base = { name: c.string(e.name, `${f}.name`), energyType, unit: e.unit as string } as EnergyCharge;
  if (e.category !== undefined) base.category = c.string(e.category, `${f}.category`);
  if (!isKnownUnit(e.unit)) c.add(`${f}.unit`, `unknown unit ${show(e.unit)}`);
  else if (UNIT_DIMENSIONS[energyType] && !UNIT_DIMENSIONS[energyType].includes(unitInfo(e.unit as string).dimension)) {
    c.add(`${f}.unit`, `${show(e.unit)} (${unitInfo(e.unit as string).dimension}) does not measure ${energyType}; expected ${UNIT_DIMENSIONS[energyType].join(' or ')}`);
  }
  switch (e.type) {
    case 'flat':
      return { ...base, type: 'flat', rate: c.decimal(e.rate, `${f}.rate`) };
    case 'register': {
      const r = c.object(e.rates, `${f}.rates`);
      const rates: Record<string, string> = {};
      for (const [k, val] of Object.entries(r)) {
        if (!/^T[1-4]$/.test(k)) c.add(`${f}.rates.${k}`, `registers are T1..T4, got ${show(k)}`);
        rates[k] = c.decimal(val, `${f}.rates.${k}`);
      }
      if (!Object.keys(r).length) c.add(`${f}.rates`, 'needs a rate for at least one register T1..T4');
      return { ...base, type: 'register', rates };
    }
    case 'tiered':
      return tiered(c, e, base, f);
    case 'tou':
      return tou(c, e, base, f);
    default:
      c.add(`${f}.type`, `expected flat, tou, register or tiered, got ${show(e.type)}`);
      return { ...base, type: 'flat', rate: '0' };
  }
}

function tiered(c: Checker, e: Obj, base: EnergyCharge, f: string): EnergyCharge {
  let prev: Decimal | undefined;
  const list = c.array(e.tiers, `${f}.tiers`);
  const tiers = list.map((input, i) => {
    const tf = `${f}.tiers[${i}]`;
    const t = c.object(input, tf);
    const tier: { upTo?: string; rate: string } = { rate: c.decimal(t.rate, `${tf}.rate`) };
    const last = i === list.length - 1;
    if (t.upTo === undefined || t.upTo === null) {
      if (!last) c.add(`${tf}.upTo`, 'only the last tier may be open (no upTo)');
    } else {
      if (last) c.add(`${tf}.upTo`, `the last tier must be open (no upTo), got ${show(t.upTo)}`);
      tier.upTo = c.decimal(t.upTo, `${tf}.upTo`, { positive: true });
      const d = Decimal.parse(tier.upTo);
      if (d && prev && d.cmp(prev) <= 0) c.add(`${tf}.upTo`, `limits must ascend: ${show(t.upTo)} is not above ${prev.toString()}`);
      if (d) prev = d;
    }
    return tier;
  });
  const out = { ...base, type: 'tiered', tiers } as TieredCharge;
  if (e.prorate !== undefined) {
    if (typeof e.prorate !== 'boolean') c.add(`${f}.prorate`, `expected true or false, got ${show(e.prorate)}`);
    out.prorate = e.prorate as boolean;
  }
  return out;
}

function rateTable(c: Checker, input: unknown, f: string): Partial<Record<TouPeriod, string>> {
  const out: Partial<Record<TouPeriod, string>> = {};
  for (const [k, v] of Object.entries(c.object(input, f))) out[c.period(k, `${f}.${k}`)] = c.decimal(v, `${f}.${k}`);
  return out;
}

function tou(c: Checker, e: Obj, base: EnergyCharge, f: string): EnergyCharge {
  const rates = e.rates === undefined ? undefined : rateTable(c, e.rates, `${f}.rates`);
  let seasonRates: Record<string, Partial<Record<TouPeriod, string>>> | undefined;
  if (e.seasonRates !== undefined) {
    seasonRates = {};
    for (const [k, v] of Object.entries(c.object(e.seasonRates, `${f}.seasonRates`))) seasonRates[k] = rateTable(c, v, `${f}.seasonRates.${k}`);
  }
  if (!rates && !seasonRates) c.add(`${f}.rates`, 'a tou charge needs rates or seasonRates');
  const seasons = c.array(e.seasons, `${f}.seasons`).map((s, i) => season(c, s, `${f}.seasons[${i}]`));
  const names = new Set<string>();
  seasons.forEach((s, i) => {
    if (names.has(s.name)) c.add(`${f}.seasons[${i}].name`, `season names must be unique, ${show(s.name)} repeats`);
    names.add(s.name);
    const table = seasonRates?.[s.name] ?? rates;
    const used = new Set<TouPeriod>();
    for (const bands of Object.values(s.schedule)) for (const b of bands ?? []) used.add(b.period as TouPeriod);
    for (const p of used) {
      if (!table || table[p] === undefined) c.add(seasonRates?.[s.name] ? `${f}.seasonRates.${s.name}.${p}` : `${f}.rates.${p}`, `no rate for period ${p} used by season ${show(s.name)}`);
    }
  });
  if (seasonRates) for (const k of Object.keys(seasonRates)) if (!names.has(k)) c.add(`${f}.seasonRates.${k}`, `no season named ${show(k)}`);
  checkSeasonCoverage(c, seasons, `${f}.seasons`);
  const out = { ...base, type: 'tou' as const, seasons };
  if (rates) (out as { rates?: unknown }).rates = rates;
  if (seasonRates) (out as { seasonRates?: unknown }).seasonRates = seasonRates;
  return out as EnergyCharge;
}

function season(c: Checker, input: unknown, f: string): Season {
  const s = c.object(input, f);
  const schedule = c.object(s.schedule, `${f}.schedule`);
  const out: Season = { name: c.string(s.name, `${f}.name`), from: s.from as string, to: s.to as string, schedule: { weekday: [] } };
  if (schedule.weekday === undefined) c.add(`${f}.schedule.weekday`, 'every season needs a weekday schedule');
  for (const [k, v] of Object.entries(schedule)) {
    if (!DAY_TYPES.includes(k as never)) {
      c.add(`${f}.schedule.${k}`, `expected a day type (${DAY_TYPES.join(', ')}), got ${show(k)}`);
      continue;
    }
    const bands: TimeBand[] = c.array(v, `${f}.schedule.${k}`).map((b, i) => {
      const bf = `${f}.schedule.${k}[${i}]`;
      const band = c.object(b, bf);
      return { from: band.from as string, to: band.to as string, period: c.period(band.period, `${bf}.period`) };
    });
    checkBands(c, bands, `${f}.schedule.${k}`);
    (out.schedule as Record<string, TimeBand[]>)[k] = bands;
  }
  return out;
}

function demandCharge(c: Checker, input: unknown, f: string): DemandCharge {
  const d = c.object(input, f);
  const out: DemandCharge = { name: c.string(d.name, `${f}.name`), rate: c.decimal(d.rate, `${f}.rate`) };
  if (d.category !== undefined) out.category = c.string(d.category, `${f}.category`);
  if (d.unit !== undefined) {
    if (!isKnownUnit(d.unit) || unitInfo(d.unit as string).dimension !== 'active power') c.add(`${f}.unit`, `expected a power unit (W, kW, MW), got ${show(d.unit)}`);
    out.unit = d.unit as string;
  }
  if (d.windowMinutes !== undefined) {
    out.windowMinutes = c.integer(d.windowMinutes, `${f}.windowMinutes`, 1, 1440);
    if (Number.isInteger(d.windowMinutes) && 1440 % (d.windowMinutes as number) !== 0) c.add(`${f}.windowMinutes`, `must divide a day (1440 minutes), got ${show(d.windowMinutes)}`);
  }
  if (d.method !== undefined) out.method = c.oneOf(d.method, ['fixed', 'sliding'] as const, `${f}.method`);
  if (d.periods !== undefined) out.periods = c.array(d.periods, `${f}.periods`).map((p, i) => c.period(p, `${f}.periods[${i}]`));
  if (d.ratchet !== undefined) {
    const r = c.object(d.ratchet, `${f}.ratchet`);
    const percent = c.decimal(r.percent, `${f}.ratchet.percent`, { positive: true });
    if (Decimal.parse(percent)?.cmp(100) === 1) c.add(`${f}.ratchet.percent`, `must be at most 100, got ${show(r.percent)}`);
    out.ratchet = { percent, months: c.integer(r.months, `${f}.ratchet.months`, 1, 120) };
  }
  return out;
}

function fixedCharge(c: Checker, input: unknown, f: string): FixedCharge {
  const x = c.object(input, f);
  const out: FixedCharge = { name: c.string(x.name, `${f}.name`), per: c.oneOf(x.per, ['day', 'month'] as const, `${f}.per`), amount: c.decimal(x.amount, `${f}.amount`) };
  if (x.category !== undefined) out.category = c.string(x.category, `${f}.category`);
  return out;
}

function tax(c: Checker, input: unknown, f: string): Tax {
  const x = c.object(input, f);
  const out: Tax = { name: c.string(x.name, `${f}.name`), percent: c.decimal(x.percent, `${f}.percent`, { min: '0' }) };
  if (x.appliesTo !== undefined) out.appliesTo = c.array(x.appliesTo, `${f}.appliesTo`).map((s, i) => c.string(s, `${f}.appliesTo[${i}]`));
  return out;
}
