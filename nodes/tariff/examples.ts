/**
 * Example tariffs offered by the ems-tariff editor's "Load example" menu (and used by the tests and
 * the example flow). Plain data: the editor bundle imports this file too.
 */
import type { Tariff } from '../../lib/tariff/types';
// @ts-ignore -- tsconfig.editor.json lacks resolveJsonModule; tsc (runtime) and esbuild (editor) both load it
import berlin from '../../lib/tariff/examples/berlin-tou-demand.json';

const VAT = { name: 'VAT', percent: '19' };

/** One price per kWh, a standing charge per day, VAT. */
export const FLAT: Tariff = {
  id: 'flat-residential',
  name: 'Residential flat rate',
  currency: 'EUR',
  timeZone: 'Europe/Berlin',
  versions: [{
    validFrom: '2026-01-01',
    energy: [{ name: 'Energy', energyType: 'electricity', unit: 'kWh', type: 'flat', rate: '0.3050' }],
    fixed: [{ name: 'Standing charge', per: 'day', amount: '0.35' }],
    taxes: [VAT],
  }],
};

const WINTER_WEEKDAY = [
  { from: '00:00', to: '06:00', period: 'valley' },
  { from: '06:00', to: '08:00', period: 'flat' },
  { from: '08:00', to: '11:00', period: 'peak' },
  { from: '11:00', to: '17:00', period: 'flat' },
  { from: '17:00', to: '20:00', period: 'peak' },
  { from: '20:00', to: '22:00', period: 'flat' },
  { from: '22:00', to: '24:00', period: 'valley' },
];
const SUMMER_WEEKDAY = [
  { from: '00:00', to: '07:00', period: 'valley' },
  { from: '07:00', to: '10:00', period: 'flat' },
  { from: '10:00', to: '15:00', period: 'peak' },
  { from: '15:00', to: '22:00', period: 'flat' },
  { from: '22:00', to: '24:00', period: 'valley' },
];
const SATURDAY = [
  { from: '00:00', to: '08:00', period: 'valley' },
  { from: '08:00', to: '22:00', period: 'flat' },
  { from: '22:00', to: '24:00', period: 'valley' },
];
const SUNDAY = [{ from: '00:00', to: '24:00', period: 'valley' }];

/**
 * Time of use with a winter and a summer season, Saturday and Sunday schedules, public holidays priced
 * as Sundays, a cheaper summer peak, a standing charge and VAT.
 */
export const TOU: Tariff = {
  id: 'tou-seasonal',
  name: 'Time of use, two seasons',
  currency: 'EUR',
  timeZone: 'Europe/Berlin',
  calendar: {
    name: 'Germany (nationwide) 2026',
    nonWorkingDays: ['2026-01-01', '2026-04-03', '2026-04-06', '2026-05-01', '2026-05-14', '2026-05-25', '2026-10-03', '2026-12-25', '2026-12-26'],
  },
  versions: [{
    validFrom: '2026-01-01',
    energy: [{
      name: 'Energy', energyType: 'electricity', unit: 'kWh', type: 'tou',
      seasons: [
        { name: 'winter', from: '10-01', to: '04-01', schedule: { weekday: WINTER_WEEKDAY, saturday: SATURDAY, sunday: SUNDAY } },
        { name: 'summer', from: '04-01', to: '10-01', schedule: { weekday: SUMMER_WEEKDAY, saturday: SATURDAY, sunday: SUNDAY } },
      ],
      rates: { peak: '0.3600', flat: '0.2400', valley: '0.1200' },
      seasonRates: { summer: { peak: '0.3200', flat: '0.2400', valley: '0.1200' } },
    }],
    fixed: [{ name: 'Standing charge', per: 'day', amount: '0.40' }],
    taxes: [VAT],
  }],
};

/** Block prices per monthly billing cycle (prorated for a partial month), a monthly fee, VAT. */
export const TIERED: Tariff = {
  id: 'tiered-residential',
  name: 'Block tariff',
  currency: 'EUR',
  timeZone: 'Europe/Berlin',
  versions: [{
    validFrom: '2026-01-01',
    energy: [{
      name: 'Energy', energyType: 'electricity', unit: 'kWh', type: 'tiered',
      tiers: [{ upTo: '200', rate: '0.2000' }, { upTo: '500', rate: '0.2500' }, { rate: '0.3000' }],
    }],
    fixed: [{ name: 'Monthly fee', per: 'month', amount: '8.00' }],
    taxes: [VAT],
  }],
};

/** Commercial: flat energy, a network charge, peak demand with a ratchet, a monthly fee, an energy tax and VAT. */
export const DEMAND: Tariff = {
  id: 'demand-commercial',
  name: 'Commercial with demand charge',
  currency: 'EUR',
  timeZone: 'Europe/Berlin',
  versions: [{
    validFrom: '2026-01-01',
    energy: [
      { name: 'Energy', energyType: 'electricity', unit: 'kWh', type: 'flat', rate: '0.1500' },
      { name: 'Network', category: 'network', energyType: 'electricity', unit: 'kWh', type: 'flat', rate: '0.0600' },
    ],
    demand: [{ name: 'Peak demand', rate: '12.50', windowMinutes: 15, method: 'fixed', ratchet: { percent: '80', months: 11 } }],
    fixed: [{ name: 'Metering', per: 'month', amount: '25.00' }],
    taxes: [{ name: 'Electricity tax', percent: '5', appliesTo: ['energy'] }, VAT],
  }],
};

/** lib/tariff's worked example: TOU energy with a sharp period, network tiers, a levy per MWh, demand. */
export const BUSINESS = berlin as unknown as Tariff;

export const EXAMPLE_TARIFFS: Record<'flat' | 'tou' | 'tiered' | 'demand' | 'business', Tariff> = {
  flat: FLAT, tou: TOU, tiered: TIERED, demand: DEMAND, business: BUSINESS,
};
