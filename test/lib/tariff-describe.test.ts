import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { describeTariff, formatTariffDescription } from '../../lib/tariff/describe';
import type { Tariff } from '../../lib/tariff/types';
import { DEMAND, TIERED, TOU } from '../../nodes/tariff/examples';

describe('describeTariff', () => {
  it('lists the bands of each season and day type with their rates', () => {
    const d = describeTariff(TOU);
    assert.equal(d.currency, 'EUR');
    assert.equal(d.timeZone, 'Europe/Berlin');
    assert.equal(d.holidays, 9);
    assert.equal(d.versions.length, 1);
    assert.equal(d.versions[0].validTo, undefined, 'the only version is open-ended');
    const energy = d.versions[0].energy[0];
    assert.equal(energy.type, 'tou');
    const [winter, summer] = energy.seasons!;
    assert.deepEqual([winter.name, winter.from, winter.to], ['winter', '10-01', '04-01']);
    const weekday = winter.days.find((x) => x.dayType === 'weekday')!;
    assert.deepEqual(weekday.bands.map((b) => b.text), [
      '00:00-06:00 valley 0.1200 EUR/kWh',
      '06:00-08:00 flat 0.2400 EUR/kWh',
      '08:00-11:00 peak 0.3600 EUR/kWh',
      '11:00-17:00 flat 0.2400 EUR/kWh',
      '17:00-20:00 peak 0.3600 EUR/kWh',
      '20:00-22:00 flat 0.2400 EUR/kWh',
      '22:00-24:00 valley 0.1200 EUR/kWh',
    ]);
    const summerPeak = summer.days.find((x) => x.dayType === 'weekday')!.bands.find((b) => b.period === 'peak')!;
    assert.equal(summerPeak.rate, '0.3200', 'a season\'s own rates replace the common ones');
    const holiday = winter.days.find((x) => x.dayType === 'holiday')!;
    assert.equal(holiday.sameAs, 'sunday', 'holidays without bands are priced as Sundays');
    assert.deepEqual(holiday.bands.map((b) => b.text), ['00:00-24:00 valley 0.1200 EUR/kWh']);
    assert.deepEqual(d.versions[0].fixed, ['Standing charge: 0.40 EUR per day']);
    assert.deepEqual(d.versions[0].taxes, ['VAT: 19% of all lines']);
    assert.doesNotThrow(() => JSON.stringify(d));
  });

  it('follows the fallback chain holiday -> sunday -> saturday -> weekday and names MyEMS periods', () => {
    const t: Tariff = {
      id: 'x', name: 'X', currency: 'CNY', timeZone: 'Asia/Shanghai',
      versions: [{
        validFrom: '2026-01-01',
        energy: [{
          name: 'E', energyType: 'electricity', unit: 'kWh', type: 'tou',
          seasons: [{ name: 'all', from: '01-01', to: '01-01', schedule: {
            weekday: [{ from: '00:00', to: '08:00', period: 'offpeak' }, { from: '08:00', to: '24:00', period: 'onpeak' }],
            saturday: [{ from: '00:00', to: '24:00', period: 'midpeak' }],
          } }],
          rates: { valley: '0.2', peak: '0.9', flat: '0.7' },
          seasonRates: { all: { valley: '0.3', peak: '1.1' } },
        }],
      }],
    };
    const days = describeTariff(t).versions[0].energy[0].seasons![0].days;
    assert.deepEqual(days.map((x) => [x.dayType, x.sameAs]), [['weekday', undefined], ['saturday', undefined], ['sunday', 'saturday'], ['holiday', 'saturday']]);
    assert.deepEqual(days[0].bands.map((b) => b.text), ['00:00-08:00 valley 0.3 CNY/kWh', '08:00-24:00 peak 1.1 CNY/kWh']);
    assert.deepEqual(days[1].bands.map((b) => b.text), ['00:00-24:00 flat (no rate)'], 'a season\'s table replaces `rates`: a period it lacks has no rate');
  });

  it('describes tiers, demand, fixed charges, taxes and consecutive versions', () => {
    const tiers = describeTariff(TIERED).versions[0].energy[0];
    assert.deepEqual(tiers.rates.slice(0, 3), ['0-200 kWh: 0.2000 EUR/kWh', '200-500 kWh: 0.2500 EUR/kWh', 'above 500 kWh: 0.3000 EUR/kWh']);
    const v = describeTariff(DEMAND).versions[0];
    assert.match(v.demand[0], /^Peak demand: 12\.50 EUR\/kW per billing cycle on the highest 15-min average/);
    assert.match(v.demand[0], /at least 80% of the highest of the previous 11 cycles/);
    assert.deepEqual(v.taxes, ['Electricity tax: 5% of energy', 'VAT: 19% of all lines']);
    assert.deepEqual(v.fixed, ['Metering: 25.00 EUR per billing cycle']);

    const later = { ...DEMAND.versions[0], validFrom: '2027-01-01' };
    const two = describeTariff({ ...DEMAND, versions: [later, DEMAND.versions[0]] });
    assert.deepEqual(two.versions.map((x) => [x.validFrom, x.validTo]), [['2026-01-01', '2027-01-01'], ['2027-01-01', undefined]]);
  });
});

describe('formatTariffDescription', () => {
  it('renders one fact per line', () => {
    const text = formatTariffDescription(describeTariff(TOU));
    const lines = text.split('\n');
    assert.equal(lines[0], 'Time of use, two seasons (tou-seasonal): EUR, time zone Europe/Berlin');
    assert.match(lines[1], /^Calendar: 9 holidays; billing cycles start on day 1/);
    assert.ok(lines.includes('Version from 2026-01-01 (open-ended)'));
    assert.ok(lines.includes('    Season summer 04-01 to 10-01'));
    assert.ok(lines.includes('      holiday: as sunday'));
    assert.ok(lines.some((l) => l.startsWith('      weekday: 00:00-07:00 valley 0.1200 EUR/kWh; 07:00-10:00 flat 0.2400 EUR/kWh; 10:00-15:00 peak 0.3200 EUR/kWh')));
    assert.ok(lines.includes('  Tax VAT: 19% of all lines'));
  });
});
