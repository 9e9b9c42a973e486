import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  convert, energyToKWh, formatObis, isKnownUnit, isObis, normaliseObis, parseObis, qualityFlags, qualityOf,
  readingProblem, toCanonical, unitInfo, withTariff,
} from '../../lib/model';

describe('OBIS codes', () => {
  it('parses the full form into its groups', () => {
    assert.deepEqual(parseObis('1-0:1.8.0'), { medium: 1, channel: 0, quantity: 1, processing: 8, tariff: 0 });
    assert.deepEqual(parseObis('8-1:1.0.0'), { medium: 8, channel: 1, quantity: 1, processing: 0, tariff: 0 });
  });
  it('accepts the spellings meters print and normalises them', () => {
    assert.equal(normaliseObis('1.8.1'), '1-0:1.8.1');
    assert.equal(normaliseObis('1-0:1.8.0*255'), '1-0:1.8.0');
    assert.equal(normaliseObis('1-0:1.8.0.255'), '1-0:1.8.0');
    assert.equal(normaliseObis(' 1-0:32.7.0 '), '1-0:32.7.0');
    assert.equal(normaliseObis('C.1.0'), '1-0:96.1.0');
    assert.equal(normaliseObis('1.8.0', 7), '7-0:1.8.0');
  });
  it('rejects what is not an OBIS code, naming the text', () => {
    assert.throws(() => parseObis('kWh'), /invalid OBIS code "kWh"/);
    assert.throws(() => parseObis('1-0:1.8'), /invalid OBIS code "1-0:1.8"/);
    assert.throws(() => parseObis('1-0:300.8.0'), /group quantity is 300, above 255/);
    assert.equal(isObis('1-0:1.8.0'), true);
    assert.equal(isObis(42), false);
  });
  it('swaps the tariff group', () => {
    assert.equal(withTariff('1-0:1.8.0', 2), '1-0:1.8.2');
    assert.equal(formatObis({ medium: 6, channel: 0, quantity: 1, processing: 8, tariff: 0 }), '6-0:1.8.0');
  });
});

describe('unit table', () => {
  it('converts to the canonical unit of each dimension', () => {
    assert.deepEqual(toCanonical(1234567, 'Wh'), { value: 1234.567, unit: 'kWh' });
    assert.deepEqual(toCanonical(2.5, 'MWh'), { value: 2500, unit: 'kWh' });
    assert.deepEqual(toCanonical(1500, 'W'), { value: 1.5, unit: 'kW' });
    assert.deepEqual(toCanonical(250, 'var'), { value: 0.25, unit: 'kvar' });
    assert.deepEqual(toCanonical(1200, 'VA'), { value: 1.2, unit: 'kVA' });
    assert.deepEqual(toCanonical(3000, 'varh'), { value: 3, unit: 'kvarh' });
    assert.deepEqual(toCanonical(1500, 'l'), { value: 1.5, unit: 'm3' });
    assert.deepEqual(toCanonical(3600, 'MJ'), { value: 3.6, unit: 'GJ' });
    assert.deepEqual(toCanonical(230.1, 'V'), { value: 230.1, unit: 'V' });
    assert.deepEqual(toCanonical(50, '%'), { value: 0.5, unit: '' });
    assert.deepEqual(toCanonical(212, 'degF'), { value: 100, unit: 'degC' });
  });
  it('removes float noise from scaling but keeps meter resolution', () => {
    assert.equal(toCanonical(123456789, 'Wh').value, 123456.789);
    assert.equal(toCanonical(1, 'Wh').value, 0.001);
  });
  it('knows field spellings', () => {
    assert.equal(unitInfo('°C').canonical, 'degC');
    assert.equal(unitInfo('m³').canonical, 'm3');
    assert.equal(unitInfo('kVArh').canonical, 'kvarh');
    assert.equal(isKnownUnit('kWh'), true);
    assert.equal(isKnownUnit('furlong'), false);
  });
  it('converts within a dimension and refuses across', () => {
    assert.equal(convert(1, 'GJ', 'MJ'), 1000);
    assert.equal(convert(1, 'm3/h', 'l/h'), 1000);
    assert.throws(() => convert(1, 'kWh', 'V'), /cannot convert kWh \(active energy\) to V \(voltage\)/);
    assert.throws(() => unitInfo('furlong'), /unknown unit "furlong"/);
  });
  it('gives heat energy in kWh (1 kWh = 3.6 MJ)', () => {
    assert.equal(energyToKWh(1, 'GJ'), 277.777777777778);
    assert.equal(energyToKWh(2000, 'Wh'), 2);
    assert.throws(() => energyToKWh(1, 'm3'), /not an energy unit/);
  });
});

describe('readings and quality', () => {
  const good = { meter: 'm1', time: 1700000000000, obis: '1-0:1.8.0', value: 1.5, unit: 'kWh' };
  it('accepts a good reading', () => assert.equal(readingProblem(good), null));
  it('names the bad field', () => {
    assert.match(readingProblem({ ...good, meter: '' })!, /reading.meter/);
    assert.match(readingProblem({ ...good, time: '2024-01-01' })!, /reading.time must be epoch milliseconds, got "2024-01-01"/);
    assert.match(readingProblem({ ...good, value: NaN })!, /reading.value/);
    assert.match(readingProblem({ ...good, quality: -1 })!, /reading.quality/);
    assert.match(readingProblem(null)!, /reading must be an object/);
  });
  it('combines and lists flags', () => {
    const q = qualityOf('ESTIMATED', 'GAP_FILLED');
    assert.equal(q, 17);
    assert.deepEqual(qualityFlags(q), ['ESTIMATED', 'GAP_FILLED']);
    assert.deepEqual(qualityFlags(undefined), []);
  });
});
