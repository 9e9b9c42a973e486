/**
 * A plain summary of a tariff for people: which versions, charges, seasons and periods it has, with
 * their rates. Pure data (JSON-safe) plus a plain-text rendering; no validation, no pricing.
 */
import {
  DAY_TYPES, MYEMS_PERIOD_ALIASES,
  type DayType, type DemandCharge, type EnergyCharge, type FixedCharge, type Tariff, type Tax, type TouPeriod,
} from './types';

export interface BandDescription {
  from: string;
  to: string;
  period: string;
  /** The rate of the period in this season, or undefined when the tariff gives none. */
  rate?: string;
  /** "00:00-06:00 valley 0.12 EUR/kWh" */
  text: string;
}

export interface DayTypeDescription {
  dayType: DayType;
  /** Set when the schedule has no bands for this day type and uses another's. */
  sameAs?: DayType;
  bands: BandDescription[];
}

export interface SeasonDescription {
  name: string;
  /** "MM-DD", inclusive */
  from: string;
  /** "MM-DD", exclusive */
  to: string;
  days: DayTypeDescription[];
}

export interface EnergyChargeDescription {
  name: string;
  type: EnergyCharge['type'];
  energyType: string;
  unit: string;
  category: string;
  /** One line per rate: "0.30 EUR/kWh", "T1 0.25 EUR/kWh", "0-100 kWh: 0.10 EUR/kWh". */
  rates: string[];
  /** Time-of-use charges only. */
  seasons?: SeasonDescription[];
}

export interface VersionDescription {
  validFrom: string;
  /** Exclusive end: the version's validTo or the next version's validFrom; undefined = open-ended. */
  validTo?: string;
  energy: EnergyChargeDescription[];
  demand: string[];
  fixed: string[];
  taxes: string[];
}

export interface TariffDescription {
  id: string;
  name: string;
  currency: string;
  timeZone: string;
  /** Non-working days of the calendar (priced as "holiday"). */
  holidays: number;
  /** Weekend days worked (priced as "weekday"). */
  workingDays: number;
  cycleAnchorDay: number;
  rounding: string;
  versions: VersionDescription[];
}

/** The day type whose bands a missing day type uses: holiday -> sunday -> saturday -> weekday. */
const FALLBACK: Record<DayType, DayType | undefined> = { weekday: undefined, saturday: 'weekday', sunday: 'saturday', holiday: 'sunday' };

function period(p: string): string {
  return MYEMS_PERIOD_ALIASES[p] ?? p;
}

function describeEnergy(c: EnergyCharge, currency: string): EnergyChargeDescription {
  const per = `${currency}/${c.unit}`;
  const d: EnergyChargeDescription = {
    name: c.name, type: c.type, energyType: c.energyType, unit: c.unit, category: c.category ?? 'energy', rates: [],
  };
  switch (c.type) {
    case 'flat':
      d.rates.push(`${c.rate} ${per}`);
      break;
    case 'register':
      for (const [reg, rate] of Object.entries(c.rates ?? {})) d.rates.push(`${reg} ${rate} ${per}`);
      break;
    case 'tiered': {
      let lower = '0';
      for (const t of c.tiers ?? []) {
        d.rates.push(t.upTo !== undefined ? `${lower}-${t.upTo} ${c.unit}: ${t.rate} ${per}` : `above ${lower} ${c.unit}: ${t.rate} ${per}`);
        if (t.upTo !== undefined) lower = t.upTo;
      }
      d.rates.push(c.prorate === false ? 'per billing cycle' : 'per billing cycle, limits prorated for a partial cycle');
      break;
    }
    case 'tou': {
      for (const [p, rate] of Object.entries(c.rates ?? {})) d.rates.push(`${p} ${rate} ${per}`);
      d.seasons = (c.seasons ?? []).map((s) => {
        const rates: Partial<Record<TouPeriod, string>> = c.seasonRates?.[s.name] ?? c.rates ?? {}; // a season's table replaces `rates`
        const days: DayTypeDescription[] = [];
        for (const dayType of DAY_TYPES) {
          let source: DayType | undefined = dayType;
          while (source && !s.schedule?.[source]?.length) source = FALLBACK[source];
          const bands = (source ? s.schedule[source] ?? [] : []).map((b): BandDescription => {
            const name = period(b.period);
            const rate = rates[name as TouPeriod];
            return { from: b.from, to: b.to, period: name, rate, text: `${b.from}-${b.to} ${name} ${rate !== undefined ? `${rate} ${per}` : '(no rate)'}` };
          });
          days.push(source && source !== dayType ? { dayType, sameAs: source, bands } : { dayType, bands });
        }
        return { name: s.name, from: s.from, to: s.to, days };
      });
      break;
    }
  }
  return d;
}

function describeDemand(c: DemandCharge, currency: string): string {
  const window = `${c.windowMinutes ?? 15}-min`;
  let s = `${c.name}: ${c.rate} ${currency}/${c.unit ?? 'kW'} per billing cycle on the highest ${window} average (${c.method ?? 'fixed'} windows)`;
  if (c.periods?.length) s += `, in ${c.periods.map(period).join(', ')} only`;
  if (c.ratchet) s += `; at least ${c.ratchet.percent}% of the highest of the previous ${c.ratchet.months} cycles`;
  return s;
}

const describeFixed = (c: FixedCharge, currency: string): string =>
  `${c.name}: ${c.amount} ${currency} per ${c.per === 'day' ? 'day' : 'billing cycle'}`;

const describeTax = (t: Tax): string =>
  `${t.name}: ${t.percent}% of ${t.appliesTo?.length ? t.appliesTo.join(', ') : 'all lines'}`;

/** Summarises a (validated) tariff. */
export function describeTariff(tariff: Tariff): TariffDescription {
  const versions = [...(tariff.versions ?? [])].sort((a, b) => (a.validFrom < b.validFrom ? -1 : a.validFrom > b.validFrom ? 1 : 0));
  const rounding = tariff.rounding;
  return {
    id: tariff.id,
    name: tariff.name,
    currency: tariff.currency,
    timeZone: tariff.timeZone,
    holidays: tariff.calendar?.nonWorkingDays?.length ?? 0,
    workingDays: tariff.calendar?.workingDays?.length ?? 0,
    cycleAnchorDay: tariff.cycleAnchorDay ?? 1,
    rounding: `${rounding?.mode ?? 'line'} ${rounding?.method ?? 'half-up'}`,
    versions: versions.map((v, i) => {
      const validTo = v.validTo ?? versions[i + 1]?.validFrom;
      return {
        validFrom: v.validFrom,
        ...(validTo !== undefined ? { validTo } : {}),
        energy: (v.energy ?? []).map((c) => describeEnergy(c, tariff.currency)),
        demand: (v.demand ?? []).map((c) => describeDemand(c, tariff.currency)),
        fixed: (v.fixed ?? []).map((c) => describeFixed(c, tariff.currency)),
        taxes: (v.taxes ?? []).map(describeTax),
      };
    }),
  };
}

/** The description as indented plain text, one fact per line. */
export function formatTariffDescription(d: TariffDescription): string {
  const out: string[] = [];
  out.push(`${d.name} (${d.id}): ${d.currency}, time zone ${d.timeZone}`);
  out.push(`Calendar: ${d.holidays} holiday${d.holidays === 1 ? '' : 's'}${d.workingDays ? `, ${d.workingDays} working weekend day${d.workingDays === 1 ? '' : 's'}` : ''}; billing cycles start on day ${d.cycleAnchorDay}; rounding ${d.rounding}`);
  for (const v of d.versions) {
    out.push(`Version from ${v.validFrom}${v.validTo ? ` until ${v.validTo}` : ' (open-ended)'}`);
    for (const e of v.energy) {
      out.push(`  Energy "${e.name}" (${e.type}, ${e.energyType}, per ${e.unit}, category ${e.category})`);
      if (e.type !== 'tou') for (const r of e.rates) out.push(`    ${r}`);
      for (const s of e.seasons ?? []) {
        out.push(`    Season ${s.name} ${s.from} to ${s.to}`);
        for (const day of s.days) {
          if (day.sameAs) out.push(`      ${day.dayType}: as ${day.sameAs}`);
          else out.push(`      ${day.dayType}: ${day.bands.map((b) => b.text).join('; ')}`);
        }
      }
    }
    for (const x of v.demand) out.push(`  Demand ${x}`);
    for (const x of v.fixed) out.push(`  Fixed ${x}`);
    for (const x of v.taxes) out.push(`  Tax ${x}`);
  }
  return out.join('\n');
}
