import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { TariffValidationError, validateTariff } from '../../lib/tariff';

const band = (from: string, to: string, period: string) => ({ from, to, period });
function good(): Record<string, any> {
  return {
    id: 'x', name: 'X', currency: 'EUR', timeZone: 'Europe/Berlin',
    versions: [{
      validFrom: '2026-01-01',
      energy: [{
        name: 'Energy', type: 'tou', energyType: 'electricity', unit: 'kWh',
        seasons: [{ name: 'all', from: '01-01', to: '01-01', schedule: { weekday: [band('00:00', '08:00', 'offpeak'), band('08:00', '24:00', 'onpeak')] } }],
        rates: { valley: 0.1, peak: '0.30' },
      }],
    }],
  };
}

/** The problems of an invalid tariff (fails when it validates). */
function problems(input: unknown): { field: string; message: string }[] {
  try {
    validateTariff(input);
  } catch (e) {
    assert.ok(e instanceof TariffValidationError);
    return e.problems;
  }
  assert.fail('expected a TariffValidationError');
}

function hasProblem(input: unknown, field: string, message: RegExp): void {
  const found = problems(input);
  assert.ok(found.some((p) => p.field === field && message.test(p.message)), `no problem ${field} ${message} in ${JSON.stringify(found)}`);
}

describe('validateTariff', () => {
  it('normalises MyEMS aliases and JSON numbers', () => {
    const t = validateTariff(good());
    const e = t.versions[0].energy[0];
    assert.equal(e.type, 'tou');
    if (e.type !== 'tou') return;
    assert.deepEqual(e.seasons[0].schedule.weekday.map((b) => b.period), ['valley', 'peak']);
    assert.deepEqual(e.rates, { valley: '0.1', peak: '0.30' });
  });

  it('names zone, currency and unit problems with their values', () => {
    const t = good();
    t.timeZone = 'Europe/Atlantis';
    t.currency = 'eur';
    t.versions[0].energy[0].unit = 'm3';
    const p = problems(t);
    assert.deepEqual(p.map((x) => x.field), ['currency', 'timeZone', 'versions[0].energy[0].unit']);
    assert.match(p[0].message, /"eur"/);
    assert.match(p[1].message, /"Europe\/Atlantis"/);
    assert.match(p[2].message, /"m3" \(volume\) does not measure electricity/);
    assert.match(new TariffValidationError(p).message, /timeZone: expected an IANA time zone/);
  });

  it('finds gaps and overlaps in day bands', () => {
    const t = good();
    t.versions[0].energy[0].seasons[0].schedule.weekday = [band('00:00', '08:00', 'valley'), band('09:00', '24:00', 'peak')];
    hasProblem(t, 'versions[0].energy[0].seasons[0].schedule.weekday[1].from', /gap: nothing covers 08:00-09:00, got "09:00"/);
    t.versions[0].energy[0].seasons[0].schedule.weekday = [band('00:00', '08:00', 'valley'), band('07:00', '23:00', 'peak')];
    hasProblem(t, 'versions[0].energy[0].seasons[0].schedule.weekday[1].from', /overlap: 07:00-08:00/);
    hasProblem(t, 'versions[0].energy[0].seasons[0].schedule.weekday[1].to', /gap: nothing covers 23:00-24:00, got "23:00"/);
    t.versions[0].energy[0].seasons[0].schedule.weekday = [band('00:00', '25:00', 'valley')];
    hasProblem(t, 'versions[0].energy[0].seasons[0].schedule.weekday[0].to', /got "25:00"/);
  });

  it('requires seasons to cover the year exactly once (wrapping allowed)', () => {
    const t = good();
    const schedule = t.versions[0].energy[0].seasons[0].schedule;
    t.versions[0].energy[0].seasons = [{ name: 'winter', from: '10-01', to: '04-01', schedule }, { name: 'summer', from: '04-01', to: '09-01', schedule }];
    hasProblem(t, 'versions[0].energy[0].seasons', /no season covers 09-01/);
    t.versions[0].energy[0].seasons[1].to = '10-02';
    hasProblem(t, 'versions[0].energy[0].seasons', /10-01 is in 2 seasons/);
    t.versions[0].energy[0].seasons[1].to = '10-01';
    assert.equal(validateTariff(t).versions[0].energy[0].name, 'Energy');
  });

  it('requires a rate for every period used, per season with seasonRates', () => {
    const t = good();
    t.versions[0].energy[0].rates = { valley: '0.1' };
    hasProblem(t, 'versions[0].energy[0].rates.peak', /no rate for period peak used by season "all"/);
    t.versions[0].energy[0].seasonRates = { all: { peak: '0.3' } };
    hasProblem(t, 'versions[0].energy[0].seasonRates.all.valley', /no rate for period valley/);
    t.versions[0].energy[0].rates.bogus = '1';
    hasProblem(t, 'versions[0].energy[0].rates.bogus', /expected a period .* got "bogus"/);
  });

  it('checks decimals, tiers, demand and names', () => {
    const t = good();
    t.versions[0].energy[0].rates.peak = '0,30';
    t.versions[0].energy.push({ name: 'Energy', type: 'tiered', energyType: 'electricity', unit: 'kWh', tiers: [{ upTo: '100', rate: '1' }, { upTo: '50', rate: '1' }, { rate: '1' }] });
    t.versions[0].demand = [{ name: 'D', rate: '5', windowMinutes: 7, ratchet: { percent: '150', months: 0 } }];
    const p = problems(t);
    const at = (field: string) => p.find((x) => x.field === field)?.message ?? `(no problem at ${field}: ${JSON.stringify(p)})`;
    assert.match(at('versions[0].energy[0].rates.peak'), /expected a decimal number, got "0,30"/);
    assert.match(at('versions[0].energy[1].tiers[1].upTo'), /limits must ascend: "50" is not above 100/);
    assert.match(at('versions[0].demand[0].windowMinutes'), /must divide a day \(1440 minutes\), got 7/);
    assert.match(at('versions[0].demand[0].ratchet.percent'), /at most 100, got "150"/);
    assert.match(at('versions[0].demand[0].ratchet.months'), /got 0/);
    assert.match(at('versions[0].energy[1].name'), /unique within a version: "Energy" is also versions\[0\].energy\[0\].name/);
  });

  it('checks versions order, dates and the calendar', () => {
    const t = good();
    t.versions.push({ ...t.versions[0], validFrom: '2025-06-01' });
    t.versions[0].validTo = '2026-02-30';
    t.calendar = { nonWorkingDays: ['2026-13-01'] };
    const p = problems(t);
    const fields = p.map((x) => x.field);
    assert.ok(fields.includes('versions[1].validFrom'), JSON.stringify(p));
    assert.match(p.find((x) => x.field === 'versions[1].validFrom')!.message, /ascending order of validFrom: "2025-06-01" is not after "2026-01-01"/);
    assert.match(p.find((x) => x.field === 'versions[0].validTo')!.message, /"2026-02-30"/);
    assert.match(p.find((x) => x.field === 'calendar.nonWorkingDays[0]')!.message, /"2026-13-01"/);
  });

  it('refuses overlapping versions and accepts heat in GJ', () => {
    const t = good();
    t.versions[0].validTo = '2026-06-01';
    t.versions.push({ ...t.versions[0], validFrom: '2026-05-01', validTo: undefined });
    hasProblem(t, 'versions[0].validTo', /overlaps the next version starting 2026-05-01/);
    const heat = good();
    heat.versions[0].energy = [{ name: 'Heat', type: 'flat', energyType: 'heat', unit: 'GJ', rate: '25' }];
    assert.equal(validateTariff(heat).versions[0].energy[0].unit, 'GJ');
    heat.versions[0].energy[0].energyType = 'water';
    hasProblem(heat, 'versions[0].energy[0].unit', /"GJ" \(heat energy\) does not measure water/);
  });
});
