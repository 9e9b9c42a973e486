// Site report worked by hand: a site in Europe/Berlin over the DST week 2026-03-23 .. 2026-03-30 (Sunday 29 March has 23 hours).
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { siteReport, type SiteFolder, type SiteMeter } from '../../lib/ems/site-report';
import { BUILT_IN_CATEGORIES, factorChangesIn, factorIndexAt, type EnergyCategory } from '../../lib/ems/energy-categories';
import { registersFor, unitFactor } from '../../lib/ems/site-report-meters';
import { SqliteStore } from '../../lib/store/sqlite';
import { fromLocal } from '../../lib/model/time';
import type { Reading } from '../../lib/model/reading';
import { Decimal } from '../../lib/money/decimal';
import type { Tariff } from '../../lib/tariff/types';

const TZ = 'Europe/Berlin';
const H = 3_600_000;
const local = (month: number, day: number, hour = 0) => fromLocal({ year: 2026, month, day, hour, minute: 0, second: 0, millisecond: 0 }, TZ);
/** Base week Monday 16 March 00:00 local (15 March 23:00 UTC); the reporting week starts 168 h later. */
const T0 = local(3, 16);
const WEEK = local(3, 23);
const END = local(3, 30); // 167 hours after WEEK: the clocks go forward on 29 March

/** Electricity with a CO2 factor change on 26 March: 0.400 kgCO2e/kWh before, 0.300 from local midnight of that day. */
const electricity: EnergyCategory = {
  ...BUILT_IN_CATEGORIES.find((c) => c.id === 'electricity')!,
  factors: [{ from: '2000-01-01', kgce: '0.1229', kgco2e: '0.400' }, { from: '2026-03-26', kgce: '0.1229', kgco2e: '0.300' }],
};
const categories = [electricity, ...BUILT_IN_CATEGORIES.filter((c) => c.id !== 'electricity')];

const folders: SiteFolder[] = [
  { _id: 'site', name: 'Werk Berlin', folder_type: 'site', parent_id: null, area_m2: 2000, time_zone: TZ },
  { _id: 'hall', name: 'Halle 1', folder_type: 'building', parent_id: 'site', area_m2: 1200, time_zone: null },
  { _id: 'office', name: 'Büro', folder_type: 'floor', parent_id: 'site', area_m2: 800, time_zone: null },
];
const meter = (id: string, folder_id: string, parent_meter = '', protocol = 'manual'): SiteMeter => ({ id, name: id.toUpperCase(), folder_id, parent_meter, energy_category: '', protocol });
const meters = [meter('main', 'site'), meter('hvac', 'hall', 'main'), meter('light', 'office', 'main'), meter('calc', 'site', '', 'virtual')];
const flat: Tariff = { id: 'flat', name: 'Flat', currency: 'EUR', timeZone: TZ, versions: [{ validFrom: '2026-01-01', energy: [{ name: 'Energy', energyType: 'electricity', unit: 'kWh', type: 'flat', rate: '0.25' }] }] };

/**
 * Readings (register 1-0:1.8.0, kWh):
 * - main: on every hour; +10 kWh/h in the base week (k = 0..168), +10.1 kWh/h in the reporting week.
 * - hvac: on every hour; +4 kWh/h, then +4.2 kWh/h.
 * - light: at 20 past every hour (so every edge is interpolated), +3.05 kWh/h all along.
 * - calc (virtual): +1 kWh/h; listed, never counted.
 */
function readings(): Reading[] {
  const out: Reading[] = [];
  const r = (m: string, time: number, value: number) => out.push({ meter: m, obis: '1-0:1.8.0', time, value: Math.round(value * 1e6) / 1e6, unit: 'kWh' });
  for (let k = 0; k <= 335; k++) {
    r('main', T0 + k * H, k <= 168 ? 1000 + 10 * k : 2680 + 10.1 * (k - 168));
    r('hvac', T0 + k * H, k <= 168 ? 500 + 4 * k : 1172 + 4.2 * (k - 168));
    r('calc', T0 + k * H, k);
  }
  for (let k = -1; k <= 335; k++) r('light', T0 + k * H + 20 * 60_000, 500 + 3.05 * (k + 1 / 3));
  return out;
}

describe('site report: a site in Europe/Berlin over the DST week, worked by hand', () => {
  let store: SqliteStore;
  before(async () => {
    store = new SqliteStore({ path: ':memory:' });
    await store.write(readings());
  });
  after(() => store.close());

  const run = (step: 'hour' | 'day' | 'month', withBase = true) => siteReport(store, {
    folder: folders[0], folders, location: ['Werk Berlin'], meters, categories, from: WEEK, to: END, step, timeZone: TZ,
    base: withBase ? { from: T0, to: WEEK } : null, tariffFor: (m) => (m === 'main' ? { _id: 'flat', name: 'Flat', tariff: flat } : null),
  });

  it('day totals: 242.4 kWh on each 24-hour day (24 x 10.1), 232.3 on 29 March (23 x 10.1); the week is their sum, 1686.7', async () => {
    const r = await run('day');
    const el = r.categories.find((c) => c.id === 'electricity')!;
    assert.deepEqual(el.series.map((s) => [s.date, s.consumption]), [
      ['2026-03-23T00:00:00+01:00', '242.4'], ['2026-03-24T00:00:00+01:00', '242.4'], ['2026-03-25T00:00:00+01:00', '242.4'],
      ['2026-03-26T00:00:00+01:00', '242.4'], ['2026-03-27T00:00:00+01:00', '242.4'], ['2026-03-28T00:00:00+01:00', '242.4'],
      ['2026-03-29T00:00:00+01:00', '232.3'],
    ]);
    assert.equal(el.series[6].date_to, '2026-03-30T00:00:00+02:00');
    assert.equal(el.consumption, '1686.7'); // 6 x 242.4 + 232.3
    assert.equal(Decimal.sum(el.series.map((s) => Decimal.from(s.consumption))).toString(), el.consumption);
    assert.equal(el.meters_counted, 1, 'only the main meter counts: the sub-meters are under it, the virtual meter never counts');
    // Peak: the first 242.4 day; average = 1686.7 / 7 = 240.957142857... -> 240.957143; load factor = 240.957143 / 242.4 = 0.99404762... -> 0.994048.
    assert.deepEqual([el.peak, el.average, el.load_factor], [{ date: '2026-03-23T00:00:00+01:00', consumption: '242.4' }, '240.957143', '0.994048']);
  });

  it('hourly steps: 167 of them, 10.1 kWh each, summing to the same week', async () => {
    const el = (await run('hour', false)).categories[0];
    assert.equal(el.series.length, 167);
    assert.ok(el.series.every((s) => s.consumption === '10.1'), JSON.stringify(el.series.find((s) => s.consumption !== '10.1')));
    assert.equal(el.consumption, '1686.7');
  });

  it('kgCO2e with the factor change on 26 March: 3 days x 242.4 x 0.400 + (3 x 242.4 + 232.3) x 0.300 = 290.88 + 287.85 = 578.73; the month step is split at the change', async () => {
    for (const step of ['day', 'month'] as const) {
      const el = (await run(step)).categories[0];
      assert.equal(el.kgco2e, '578.73', step);
      assert.equal(el.kgce, '207.29543', step); // 1686.7 x 0.1229
    }
    const month = (await run('month')).categories[0];
    assert.deepEqual(month.series.map((s) => [s.date, s.date_to, s.consumption, s.kgco2e]), [['2026-03-23T00:00:00+01:00', '2026-03-30T00:00:00+02:00', '1686.7', '578.73']]);
    const day = (await run('day')).categories[0];
    assert.deepEqual(day.series.map((s) => s.kgco2e), ['96.96', '96.96', '96.96', '72.72', '72.72', '72.72', '69.69']); // 242.4 x 0.4, 242.4 x 0.3, 232.3 x 0.3
  });

  it('per m2 of the site (2000 m2): 1686.7 / 2000 = 0.84335 kWh, 578.73 / 2000 = 0.289365 kgCO2e', async () => {
    const r = await run('day');
    assert.deepEqual(r.categories[0].per_m2, { consumption: '0.84335', kgce: '0.103648', kgco2e: '0.289365' }); // 207.29543 / 2000 = 0.103647715 -> 0.103648
    assert.deepEqual(r.totals.per_m2, { kgce: '0.103648', kgco2e: '0.289365' });
  });

  it('sub-meters: hvac 701.4 (6 x 100.8 + 96.6), light 509.35 (167 x 3.05, read between the edges), remainder 475.95 (167 x 2.85)', async () => {
    const r = await run('day');
    assert.equal(r.submeters.length, 1);
    const s = r.submeters[0];
    assert.deepEqual([s.meter, s.consumption], ['main', '1686.7']);
    assert.deepEqual(s.submeters.map((x) => [x.meter, x.consumption]), [['hvac', '701.4'], ['light', '509.35']]);
    assert.deepEqual([s.submeters_total.consumption, s.remainder.consumption, s.remainder.negative], ['1210.75', '475.95', false]);
    const light = r.meters.find((m) => m.meter === 'light')!;
    assert.ok(light.flags.includes('interpolated'), 'light reads at 20 past: its edges are interpolated');
    assert.deepEqual(r.categories[0].top.map((t) => [t.meter, t.remainder, t.consumption]), [['hvac', false, '701.4'], ['light', false, '509.35'], ['main', true, '475.95']]);
  });

  it('the virtual meter is listed with its consumption but not counted', async () => {
    const calc = (await run('day')).meters.find((m) => m.meter === 'calc')!;
    assert.deepEqual([calc.virtual, calc.counted, calc.consumption], [true, false, '167']);
  });

  it('child spaces: Halle 1 counts hvac (701.4 / 1200 m2 = 0.5845), Büro counts light (509.35 / 800 = 0.63668750 -> 0.636688)', async () => {
    const r = await run('day');
    assert.deepEqual(r.spaces.map((s) => [s.name, s.categories.map((c) => [c.id, c.consumption, c.per_m2?.consumption])]), [
      ['Halle 1', [['electricity', '701.4', '0.5845']]], ['Büro', [['electricity', '509.35', '0.636688']]],
    ]);
  });

  it('base week (168 h x 10 = 1680 kWh at 0.400 = 672 kgCO2e) against the reporting week: +6.7 kWh (+0.40 %), -93.27 kgCO2e (-13.88 %)', async () => {
    const el = (await run('day')).categories[0];
    assert.deepEqual([el.base!.consumption, el.base!.kgco2e], ['1680', '672']);
    assert.deepEqual(el.base!.consumption_change, { change: '6.7', change_pct: '0.40' }); // 6.7 / 1680 = 0.3988 %
    assert.deepEqual(el.base!.kgco2e_change, { change: '-93.27', change_pct: '-13.88' }); // 578.73 - 672; -93.27 / 672 = -13.879 %
  });

  it('cost: only the counted main meter is priced, 1686.7 kWh x 0.25 EUR', async () => {
    const el = (await run('day')).categories[0];
    assert.deepEqual(el.cost, { EUR: '421.68' }); // 421.675 rounded to the cent (half-up)
  });
});

describe('site report: a negative remainder is flagged, never clamped', () => {
  it('a sub-meter above its master leaves a negative remainder line and a note naming the master', async () => {
    const store = new SqliteStore({ path: ':memory:' });
    try {
      const t = local(6, 1);
      await store.write([0, 24].flatMap((h) => [
        { meter: 'm', obis: '1-0:1.8.0', time: t + h * H, value: h * 5, unit: 'kWh' }, // master: 120 kWh in the day
        { meter: 'c', obis: '1-0:1.8.0', time: t + h * H, value: h * 6, unit: 'kWh' }, // its sub-meter: 144 kWh
      ]));
      const r = await siteReport(store, {
        folder: folders[0], folders: [folders[0]], location: [], meters: [meter('m', 'site'), meter('c', 'site', 'm')], categories,
        from: t, to: t + 24 * H, step: 'day', timeZone: TZ,
      });
      assert.deepEqual(r.submeters[0].remainder, { consumption: '-24', kgce: '-2.9496', kgco2e: '-7.2', negative: true }); // 120 - 144; x 0.1229; x 0.300 (June: after the 26 March change)
      assert.equal(r.categories[0].consumption, '120', 'the site total is the master');
      assert.ok(r.notes.some((n) => n.includes('"m"') && n.includes('negative')), r.notes.join('\n'));
    } finally {
      await store.close();
    }
  });
});

describe('energy categories: factor periods', () => {
  it('each period is valid from local midnight of its date; the change instants inside a period split it', () => {
    const f = electricity.factors;
    const change = local(3, 26); // 2026-03-25T23:00Z
    assert.equal(change, Date.UTC(2026, 2, 25, 23));
    assert.equal(factorIndexAt(f, change - 1, TZ), 0);
    assert.equal(factorIndexAt(f, change, TZ), 1);
    assert.equal(factorIndexAt(f, Date.UTC(1990, 0, 1), TZ), 0, 'the first period also covers the time before it');
    assert.deepEqual(factorChangesIn(f, WEEK, END, TZ), [change]);
    assert.deepEqual(factorChangesIn(f, change, END, TZ), [], 'a period starting at the change is not split');
  });
});

describe('site report meters: registers and units', () => {
  const cat = (id: string) => BUILT_IN_CATEGORIES.find((c) => c.id === id)!;
  it('counts the total register when there is one, else the sum of the tariff registers, on the lowest channel', () => {
    assert.deepEqual(registersFor(cat('electricity'), ['1-0:1.8.1', '1-0:1.8.0', '1-0:2.8.0', '1-0:16.7.0']), ['1-0:1.8.0']);
    assert.deepEqual(registersFor(cat('electricity'), ['1-0:1.8.2', '1-0:1.8.1', '1-1:1.8.0']), ['1-0:1.8.1', '1-0:1.8.2']);
    assert.deepEqual(registersFor(cat('water'), ['9-0:1.0.0', '6-0:1.0.0']), ['9-0:1.0.0']);
    assert.deepEqual(registersFor(cat('gas'), ['1-0:1.8.0']), []);
  });
  it('converts units exactly: kWh to GJ (3.6 MJ / 1000 MJ), Wh to kWh, kg to t; refuses kWh to m3', () => {
    assert.deepEqual([unitFactor('kWh', 'GJ')?.toString(), unitFactor('GJ', 'kWh')?.toString(), unitFactor('Wh', 'kWh')?.toString(), unitFactor('kg', 't')?.toString()],
      ['0.0036', '277.777777777778', '0.001', '0.001']);
    assert.equal(unitFactor('kWh', 'm3'), null);
  });
});
