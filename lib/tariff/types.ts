/**
 * The tariff as data (the JSON an integrator writes) and the priced breakdown the engine returns.
 * Money and rates are decimal strings ("0.3050"), never binary floats. Times of day are local wall
 * times in the tariff's IANA zone; dates are local calendar dates "YYYY-MM-DD".
 */

export type EnergyType = 'electricity' | 'water' | 'gas' | 'heat';
export const ENERGY_TYPES: readonly EnergyType[] = ['electricity', 'water', 'gas', 'heat'];

/** Time-of-use periods, most to least expensive as a rule. */
export type TouPeriod = 'sharp' | 'peak' | 'flat' | 'valley' | 'deep';
export const TOU_PERIODS: readonly TouPeriod[] = ['sharp', 'peak', 'flat', 'valley', 'deep'];
/** MyEMS's peak_type names, accepted wherever a period is named. */
export const MYEMS_PERIOD_ALIASES: Readonly<Record<string, TouPeriod>> = {
  toppeak: 'sharp', onpeak: 'peak', midpeak: 'flat', offpeak: 'valley', deep: 'deep',
};

/**
 * The day type of a local date: "holiday" when the calendar lists it as non-working, else by weekday.
 * A schedule missing a day type falls back: holiday -> sunday -> saturday -> weekday.
 */
export type DayType = 'weekday' | 'saturday' | 'sunday' | 'holiday';
export const DAY_TYPES: readonly DayType[] = ['weekday', 'saturday', 'sunday', 'holiday'];

/** A working calendar (MyEMS's working calendar with non-working days). */
export interface WorkingCalendar {
  name?: string;
  /** Local dates priced as "holiday" (public holidays, plant shutdowns). */
  nonWorkingDays: string[];
  /** Local Saturdays/Sundays priced as "weekday" (bridge days worked). */
  workingDays?: string[];
}

/** One band of a day: [from, to) local wall time "HH:MM" (to may be "24:00"). */
export interface TimeBand {
  from: string;
  to: string;
  period: TouPeriod | string; // a TouPeriod or a MyEMS alias
}

/** A season: the local dates it covers each year ("MM-DD", from inclusive, to exclusive; may wrap the new year). */
export interface Season {
  name: string;
  from: string;
  to: string;
  /** Bands per day type; each day type's bands must cover 00:00-24:00 without overlap. */
  schedule: Partial<Record<DayType, TimeBand[]>> & { weekday: TimeBand[] };
}

interface ChargeBase {
  /** The bill line label, unique within a version ("Energy", "Network", "Electricity tax"). */
  name: string;
  /** Which taxes apply: a tax with `appliesTo` lists categories; default "energy". */
  category?: string;
  energyType: EnergyType;
  /** The unit rates are per: kWh, MWh, m3, GJ, ... (consumption is converted to it). */
  unit: string;
}

export interface FlatCharge extends ChargeBase {
  type: 'flat';
  rate: string;
}

/** Time of use: seasons with schedules, and a rate per period (per season when seasons differ). */
export interface TouCharge extends ChargeBase {
  type: 'tou';
  seasons: Season[];
  /** Rates per period, for every season... */
  rates?: Partial<Record<TouPeriod, string>>;
  /** ...or per season name, overriding `rates`. */
  seasonRates?: Record<string, Partial<Record<TouPeriod, string>>>;
}

/** Meter register tariffs: the meter splits energy into registers T1..T4 (OBIS x.8.1 .. x.8.4). */
export interface RegisterCharge extends ChargeBase {
  type: 'register';
  rates: Partial<Record<'T1' | 'T2' | 'T3' | 'T4', string>>;
}

/**
 * Block (tier) prices per billing cycle, filled in time order: an interval that crosses a tier
 * limit is split by quantity. Limits are scaled by the covered share of a partial cycle when
 * `prorate` is true (default).
 */
export interface TieredCharge extends ChargeBase {
  type: 'tiered';
  /** Ascending `upTo` limits (cumulative quantity in `unit`); the last tier has no `upTo`. */
  tiers: { upTo?: string; rate: string }[];
  prorate?: boolean;
}

export type EnergyCharge = FlatCharge | TouCharge | RegisterCharge | TieredCharge;

/**
 * Demand: the highest average power over a window (minutes, default 15) in a billing cycle, fixed
 * windows aligned to local midnight or sliding over the intervals; optionally only within some TOU
 * periods (by the schedule of the version's first TOU charge); optionally ratcheted: the billed
 * demand is at least `percent` of the highest demand of the previous `months` cycles.
 */
export interface DemandCharge {
  name: string;
  category?: string;
  /** Per kW (or the power unit given) per billing cycle. */
  rate: string;
  unit?: string; // "kW" default
  windowMinutes?: number;
  method?: 'fixed' | 'sliding';
  periods?: (TouPeriod | string)[];
  ratchet?: { percent: string; months: number };
}

export interface FixedCharge {
  name: string;
  category?: string;
  /** An amount per local day, or per billing cycle (a partial cycle pays its share of days). */
  per: 'day' | 'month';
  amount: string;
}

/** A tax or levy as a percentage of the lines of some categories (VAT: all of them). */
export interface Tax {
  name: string;
  percent: string;
  /** Charge categories it applies to; absent = every line before taxes. */
  appliesTo?: string[];
}

/** The prices valid from one local date (inclusive) to the next version's `validFrom` or `validTo`. */
export interface TariffVersion {
  validFrom: string;
  validTo?: string;
  energy: EnergyCharge[];
  demand?: DemandCharge[];
  fixed?: FixedCharge[];
  taxes?: Tax[];
}

export interface RoundingRule {
  /** "line": each line rounded to the currency's decimals, the total is their sum; "bill": lines exact, the total rounded once. */
  mode: 'line' | 'bill';
  method?: 'half-up' | 'half-even' | 'down' | 'up';
}

export interface Tariff {
  id: string;
  name: string;
  /** ISO 4217 code ("EUR", "USD", "CNY"). */
  currency: string;
  /** Decimals of the currency's minor unit (2 default). */
  currencyDecimals?: number;
  timeZone: string;
  calendar?: WorkingCalendar;
  /** Billing cycles start on this day of each local month (1 default); tiers, demand and monthly charges are per cycle. */
  cycleAnchorDay?: number;
  rounding?: RoundingRule;
  versions: TariffVersion[];
}

/** Interval consumption: a quantity over [start, end) (epoch ms UTC), e.g. from ems-consumption. */
export interface ConsumptionInterval {
  start: number;
  end: number;
  quantity: number;
  unit: string;
  /** Decides the energy type by its medium (1 electricity, 6 heat, 7 gas, 8/9 water) and the register (x.8.1 -> T1). */
  obis?: string;
  /** Overrides the OBIS medium; without either, an energy unit (kWh, Wh, MWh) means electricity, m3 is refused as ambiguous. */
  energyType?: EnergyType;
  meter?: string;
  quality?: number;
}

export interface PriceRequest {
  /** The billing range [from, to) in epoch ms; default: the first interval's start to the last one's end. */
  from?: number;
  to?: number;
  /** Past cycles' demand for ratchets, newest last. */
  demandHistory?: { cycleStart: number; value: string }[];
}

export type LineKind = 'energy' | 'demand' | 'fixed' | 'tax';

/** One explained amount: quantity x rate = amount, for one charge, cycle, version, season, period, tier or register. */
export interface PriceLine {
  kind: LineKind;
  charge: string;
  category: string;
  /** The billing cycle [from, to) the line belongs to (epoch ms). */
  cycleFrom: number;
  cycleTo: number;
  version: string;
  season?: string;
  period?: TouPeriod;
  tier?: number;
  register?: string;
  quantity: string;
  unit: string;
  rate: string;
  amount: string;
  /** e.g. "demand 12.4 kW at 2026-03-02T08:15+01:00", "prorated 10/31 days". */
  note?: string;
}

export interface PriceResult {
  tariff: string;
  currency: string;
  from: number;
  to: number;
  lines: PriceLine[];
  /** Sum of the non-tax lines. */
  subtotal: string;
  taxes: PriceLine[];
  /** subtotal + taxes, rounded by the tariff's rounding rule. */
  total: string;
  /** Quantity per energy type (in each charge's unit) that was priced, and any not priced (no charge for it). */
  quantities: { energyType: EnergyType; unit: string; quantity: string }[];
  warnings: string[];
}
