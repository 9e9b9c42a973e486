import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { dayType, priceConsumption, touTimeline } from '../../lib/tariff';
import { DAY, HOUR, allDay, amounts, line, series, sum, tariff } from '../fixtures/tariff/build';

const weekTariff = tariff({
  calendar: { nonWorkingDays: ['2026-06-04'] },
  versions: [{
    validFrom: '2026-01-01',
    energy: [{
      name: 'Energy', type: 'tou', energyType: 'electricity', unit: 'kWh',
      seasons: [{ name: 'all', from: '01-01', to: '01-01', schedule: {
        weekday: [{ from: '00:00', to: '08:00', period: 'valley' }, { from: '08:00', to: '20:00', period: 'peak' }, { from: '20:00', to: '24:00', period: 'valley' }],
        saturday: allDay('flat'),
        sunday: allDay('valley'),
      } }],
      rates: { peak: '0.30', flat: '0.20', valley: '0.10' },
    }],
  }],
});

describe('tariff TOU', () => {
  it('prices a week with a holiday by the Sunday schedule', () => {
    assert.equal(dayType('2026-06-04', weekTariff.calendar), 'holiday');
    assert.equal(dayType('2026-06-03', weekTariff.calendar), 'weekday');
    assert.equal(dayType('2026-06-06'), 'saturday');
    assert.equal(dayType('2026-06-07'), 'sunday');
    // Mon 2026-06-01 .. Sun 2026-06-07, 1 kWh every hour (CEST, +02:00); Thursday the 4th is a holiday.
    const r = priceConsumption(weekTariff, series('2026-06-01T00:00:00+02:00', 7 * 24, HOUR, 1));
    // Mon-Wed + Fri: 4 x 12 h peak = 48 kWh; valley 4 x 12 h = 48; Thursday holiday -> Sunday schedule: 24 valley;
    // Saturday 24 flat; Sunday 24 valley. valley = 48 + 24 + 24 = 96.
    assert.equal(line(r.lines, { period: 'peak' }).quantity, '48');
    assert.equal(line(r.lines, { period: 'valley' }).quantity, '96');
    assert.equal(line(r.lines, { period: 'flat' }).quantity, '24');
    // 48 x 0.30 = 14.40; 96 x 0.10 = 9.60; 24 x 0.20 = 4.80; total 28.80
    assert.equal(line(r.lines, { period: 'peak' }).amount, '14.40');
    assert.equal(r.total, '28.80');
    assert.equal(r.quantities[0].quantity, '168');
  });

  const dstTariff = (timeZone: string, bands: { from: string; to: string; period: string }[]) => tariff({
    timeZone,
    versions: [{ validFrom: '2026-01-01', energy: [{
      name: 'Energy', type: 'tou', energyType: 'electricity', unit: 'kWh',
      seasons: [{ name: 'all', from: '01-01', to: '01-01', schedule: { weekday: bands } }],
      rates: { valley: '0.10', sharp: '0.50', flat: '0.20' },
    }] }],
  });
  const berlin = dstTariff('Europe/Berlin', [{ from: '00:00', to: '02:00', period: 'valley' }, { from: '02:00', to: '03:00', period: 'sharp' }, { from: '03:00', to: '24:00', period: 'flat' }]);
  const newYork = dstTariff('America/New_York', [{ from: '00:00', to: '01:00', period: 'valley' }, { from: '01:00', to: '02:00', period: 'sharp' }, { from: '02:00', to: '24:00', period: 'flat' }]);

  it('Berlin spring-forward: the skipped 02:00 hour does not occur (23 h priced)', () => {
    const r = priceConsumption(berlin, series('2026-03-29T00:00:00+01:00', 23, HOUR, 1));
    // wall hours 00, 01 valley (2 kWh); 03..23 flat (21 kWh); no sharp. 0.20 + 4.20 = 4.40
    assert.equal(sum(r.lines.map((l) => l.quantity)), '23');
    assert.equal(line(r.lines, { period: 'valley' }).quantity, '2');
    assert.equal(line(r.lines, { period: 'flat' }).quantity, '21');
    assert.equal(r.lines.some((l) => l.period === 'sharp'), false);
    assert.equal(r.total, '4.40');
  });

  it('Berlin fall-back: the repeated 02:00 hour is priced twice by its wall time (25 h priced)', () => {
    const r = priceConsumption(berlin, series('2026-10-25T00:00:00+02:00', 25, HOUR, 1));
    // 00, 01 valley 2; 02 CEST + 02 CET sharp 2; 03..23 flat 21. 0.20 + 1.00 + 4.20 = 5.40
    assert.equal(sum(r.lines.map((l) => l.quantity)), '25');
    assert.equal(line(r.lines, { period: 'sharp' }).quantity, '2');
    assert.equal(line(r.lines, { period: 'flat' }).quantity, '21');
    assert.equal(r.total, '5.40');
    const sharp = touTimeline(berlin, Date.parse('2026-10-25T00:00:00+02:00'), Date.parse('2026-10-26T00:00:00+01:00')).filter((s) => s.period === 'sharp');
    assert.deepEqual(sharp.map((s) => [new Date(s.start).toISOString(), (s.end - s.start) / HOUR]), [['2026-10-25T00:00:00.000Z', 2]]);
  });

  it('New York spring-forward and fall-back days', () => {
    const spring = priceConsumption(newYork, series('2026-03-08T00:00:00-05:00', 23, HOUR, 1));
    // 00 valley 1; 01 sharp 1; 03..23 flat 21: 0.10 + 0.50 + 4.20 = 4.80
    assert.equal(sum(spring.lines.map((l) => l.quantity)), '23');
    assert.equal(line(spring.lines, { period: 'flat' }).quantity, '21');
    assert.equal(spring.total, '4.80');
    const fall = priceConsumption(newYork, series('2026-11-01T00:00:00-04:00', 25, HOUR, 1));
    // 00 valley 1; 01 EDT + 01 EST sharp 2; 02..23 flat 22: 0.10 + 1.00 + 4.40 = 5.50
    assert.equal(sum(fall.lines.map((l) => l.quantity)), '25');
    assert.equal(line(fall.lines, { period: 'sharp' }).quantity, '2');
    assert.equal(line(fall.lines, { period: 'flat' }).quantity, '22');
    assert.equal(fall.total, '5.50');
  });

  it('splits a 15-minute series across the DST jump without losing energy', () => {
    // 2026-03-28 00:00 CET to 2026-03-30 00:00 CEST = 24 + 23 h = 188 quarter hours of 0.25 kWh
    const r = priceConsumption(berlin, series('2026-03-28T00:00:00+01:00', 188, HOUR / 4, 0.25));
    assert.equal(sum(r.lines.map((l) => l.quantity)), '47');
    // the 28th has a sharp hour (02:00-03:00 = 1 kWh), the 29th none
    assert.equal(line(r.lines, { period: 'sharp' }).quantity, '1');
  });

  it('prices T1..T4 registers by register rates and the total register by the other charges', () => {
    const t = tariff({ versions: [{ validFrom: '2026-01-01', energy: [
      { name: 'Registers', type: 'register', energyType: 'electricity', unit: 'kWh', rates: { T1: '0.30', T2: '0.20' } },
      { name: 'Levy', type: 'flat', energyType: 'electricity', unit: 'kWh', rate: '0.05' },
    ] }] });
    const at = Date.parse('2026-04-01T00:00:00+02:00');
    const r = priceConsumption(t, [
      { start: at, end: at + DAY, quantity: 10, unit: 'kWh', obis: '1-0:1.8.1' },
      { start: at, end: at + DAY, quantity: 20000, unit: 'Wh', obis: '1-0:1.8.2' },
      { start: at, end: at + DAY, quantity: 30, unit: 'kWh', obis: '1-0:1.8.0' },
      { start: at, end: at + DAY, quantity: 5, unit: 'kWh', obis: '1-0:1.8.3' },
    ]);
    // T1 10 x 0.30 = 3.00; T2 20 kWh x 0.20 = 4.00; levy only on 1.8.0: 30 x 0.05 = 1.50; T3 has no rate.
    assert.equal(line(r.lines, { register: 'T1' }).amount, '3.00');
    assert.equal(line(r.lines, { register: 'T2' }).amount, '4.00');
    assert.equal(line(r.lines, { charge: 'Levy' }).quantity, '30');
    assert.equal(r.total, '8.50');
    assert.match(r.warnings.join('\n'), /no rate for register T3/);
  });

  it('changes season and version (price change) inside the range', () => {
    const seasons = [
      { name: 'winter', from: '10-01', to: '04-01', schedule: { weekday: allDay('flat') } },
      { name: 'summer', from: '04-01', to: '10-01', schedule: { weekday: allDay('flat') } },
    ];
    const charge = (summer: string) => ({ name: 'Energy', type: 'tou', energyType: 'electricity', unit: 'kWh', seasons, seasonRates: { winter: { flat: '0.20' }, summer: { flat: summer } } });
    const t = tariff({ versions: [
      { validFrom: '2026-01-01', energy: [charge('0.15')] },
      { validFrom: '2026-04-15', energy: [charge('0.18')] },
    ] });
    // 10 kWh a day from Mar 30 to Apr 19 inclusive (21 days; Mar 30/31 CEST)
    const r = priceConsumption(t, series('2026-03-30T00:00:00+02:00', 21, DAY, 10));
    // winter v1: 2 days 20 x 0.20 = 4.00; summer v1: Apr 1-14 140 x 0.15 = 21.00; summer v2: Apr 15-19 50 x 0.18 = 9.00
    assert.equal(line(r.lines, { season: 'winter' }).amount, '4.00');
    assert.equal(line(r.lines, { season: 'summer', version: '2026-01-01' }).quantity, '140');
    assert.equal(line(r.lines, { season: 'summer', version: '2026-04-15' }).amount, '9.00');
    assert.equal(r.total, '34.00');
    assert.equal(amounts(r.lines), '34.00');
  });

  it('refuses intervals outside every version and bad intervals, naming them', () => {
    assert.throws(() => priceConsumption(weekTariff, series('2025-12-31T23:00:00+01:00', 2, HOUR, 1)), /interval 0 \(start 2025-12-31T22:00:00.000Z\): no tariff version is valid/);
    assert.throws(() => priceConsumption(weekTariff, [{ start: 10, end: 10, quantity: 1, unit: 'kWh' }]), /interval 0.*end must be after start/);
    assert.throws(() => priceConsumption(weekTariff, [{ start: Date.parse('2026-02-01'), end: Date.parse('2026-02-02'), quantity: 1, unit: 'm3' }]), /interval 0.*"m3" needs an energyType or obis/);
    assert.throws(() => priceConsumption(weekTariff, [{ start: Date.parse('2026-02-01'), end: Date.parse('2026-02-02'), quantity: 1, unit: 'kWh', energyType: 'gas' }]), /interval 0.*"kWh" does not measure gas/);
  });

  it('warns about energy no charge prices', () => {
    const at = Date.parse('2026-02-01T00:00:00+01:00');
    const r = priceConsumption(weekTariff, [{ start: at, end: at + HOUR, quantity: 2, unit: 'm3', obis: '7-0:3.0.0' }]);
    assert.equal(r.lines.length, 0);
    assert.match(r.warnings.join('\n'), /2 m3 of gas not priced/);
    assert.deepEqual(r.quantities, [{ energyType: 'gas', unit: 'm3', quantity: '2' }]);
  });
});
