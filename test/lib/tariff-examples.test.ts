import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { priceConsumption, validateTariff } from '../../lib/tariff';
import { DAY, line, series } from '../fixtures/tariff/build';

const dir = path.resolve(__dirname, '../../../lib/tariff/examples');

describe('tariff examples and README', () => {
  for (const file of fs.readdirSync(dir).filter((f) => f.endsWith('.json'))) {
    it(`${file} is a valid tariff`, () => {
      const t = validateTariff(JSON.parse(fs.readFileSync(path.join(dir, file), 'utf8')));
      assert.ok(t.versions.length > 0);
    });
  }

  it('MyEMS names price as their periods (toppeak = sharp) and water tiers apply to m3', () => {
    const t = validateTariff(JSON.parse(fs.readFileSync(path.join(dir, 'myems-tou.json'), 'utf8')));
    // Wed 2026-07-01 11:00-12:00 Shanghai (+08:00): toppeak 10 kWh x 1.3520 = 13.52
    const r = priceConsumption(t, [
      { start: Date.parse('2026-07-01T11:00:00+08:00'), end: Date.parse('2026-07-01T12:00:00+08:00'), quantity: 10, unit: 'kWh' },
      { start: Date.parse('2026-07-01T00:00:00+08:00'), end: Date.parse('2026-07-02T00:00:00+08:00'), quantity: 250000, unit: 'l', obis: '8-0:1.0.0' },
    ]);
    assert.equal(line(r.lines, { period: 'sharp' }).amount, '13.52');
    // 250 m3: 220 x 3.45 = 759.00; 30 x 4.83 = 144.90
    assert.equal(line(r.lines, { charge: 'Water', tier: 1 }).amount, '759.00');
    assert.equal(line(r.lines, { charge: 'Water', tier: 2 }).amount, '144.90');
  });

  it('the README example adds up as written', () => {
    const t = validateTariff({
      id: 'flat-vat', name: 'Flat with VAT', currency: 'EUR', timeZone: 'Europe/Berlin',
      versions: [{ validFrom: '2026-01-01',
        energy: [{ name: 'Energy', type: 'flat', energyType: 'electricity', unit: 'kWh', rate: '0.25' }],
        fixed: [{ name: 'Standing', per: 'month', amount: '9.90' }],
        taxes: [{ name: 'VAT', percent: '19' }] }],
    });
    const r = priceConsumption(t, series('2026-04-01T00:00:00+02:00', 30, DAY, (i) => (i < 20 ? 3 : 4)));
    // 20 x 3 + 10 x 4 = 100 kWh: 25.00 + 9.90 = 34.90; VAT 6.631 -> 6.63; total 41.53
    assert.equal(r.subtotal, '34.90');
    assert.equal(r.taxes[0].amount, '6.63');
    assert.equal(r.total, '41.53');
  });
});
