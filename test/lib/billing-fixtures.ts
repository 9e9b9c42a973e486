/** Shared fixtures of the billing tests: a day/night tariff and a day of 15-minute meter readings. */
import type { Reading } from '../../lib/model';
import { fromLocal } from '../../lib/model/time';
import type { Tariff } from '../../lib/tariff/types';

export const ZONE = 'Europe/Berlin';
export const MIN = 60_000;
/** Monday 2026-01-05 00:00 in Berlin (23:00 UTC the day before). */
export const FROM = fromLocal({ year: 2026, month: 1, day: 5, hour: 0, minute: 0, second: 0, millisecond: 0 }, ZONE);
export const TO = FROM + 24 * 60 * MIN;

/** Valley 00-07 and 19-24 at 0.20, peak 07-19 at 0.40 EUR/kWh; 0.50 EUR per day; VAT 19%. */
export function touTariff(peak = '0.40'): Tariff {
  return {
    id: 'day-night', name: 'Day/night', currency: 'EUR', timeZone: ZONE,
    versions: [{
      validFrom: '2026-01-01',
      energy: [{
        name: 'Energy', energyType: 'electricity', unit: 'kWh', type: 'tou',
        seasons: [{ name: 'all', from: '01-01', to: '01-01', schedule: {
          weekday: [{ from: '00:00', to: '07:00', period: 'valley' }, { from: '07:00', to: '19:00', period: 'peak' }, { from: '19:00', to: '24:00', period: 'valley' }],
        } }],
        rates: { peak, valley: '0.20' },
      }],
      fixed: [{ name: 'Standing charge', per: 'day', amount: '0.50' }],
      taxes: [{ name: 'VAT', percent: '19' }],
    }],
  };
}

/** T1 0.35, T2 0.15 EUR/kWh by the meter's own registers; VAT 19%. */
export function registerTariff(): Tariff {
  return {
    id: 'registers', name: 'Two registers', currency: 'EUR', timeZone: ZONE,
    versions: [{
      validFrom: '2026-01-01',
      energy: [{ name: 'Energy', energyType: 'electricity', unit: 'kWh', type: 'register', rates: { T1: '0.35', T2: '0.15' } }],
      taxes: [{ name: 'VAT', percent: '19' }],
    }],
  };
}

/**
 * Readings every 15 min from FROM to TO inclusive: 1.8.0 from 1000 kWh, 1 kWh per 15 min in peak
 * hours (07-19 local, 48 slots = 48 kWh) and 0.25 kWh otherwise (48 slots = 12 kWh): 60 kWh in all.
 * T1 (1.8.1, from 600) counts the peak energy, T2 (1.8.2, from 400) the valley energy.
 */
export function dayReadings(meter = 'M1'): Reading[] {
  const out: Reading[] = [];
  let total = 1000;
  let t1 = 600;
  let t2 = 400;
  for (let t = FROM; t <= TO; t += 15 * MIN) {
    out.push({ meter, time: t, obis: '1-0:1.8.0', value: total, unit: 'kWh' });
    out.push({ meter, time: t, obis: '1-0:1.8.1', value: t1, unit: 'kWh' });
    out.push({ meter, time: t, obis: '1-0:1.8.2', value: t2, unit: 'kWh' });
    const hour = (t - FROM) / (60 * MIN);
    if (hour >= 7 && hour < 19) {
      total += 1;
      t1 += 1;
    } else {
      total += 0.25;
      t2 += 0.25;
    }
  }
  return out;
}
