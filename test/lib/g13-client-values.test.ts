import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  energyReadings, instrumentReadings, loadProfileReadings, obisArray, parseG13Time, parseValue, powerReadings, tariffReadings,
  formatG13Time, meterEvents, gatewayEvents, normaliseFingerprint,
} from '../../lib/clients/g13';
import { Quality } from '../../lib/model/quality';
import type { Reading } from '../../lib/model/reading';

const T = Date.UTC(2024, 0, 1);
const byObis = (rs: Reading[]) => new Map(rs.map((r) => [r.obis, r]));

describe('G13 values -> readings (manual chapter 6 examples)', () => {
  it('parses [value, unit] string pairs, bare numbers and number strings', () => {
    assert.deepEqual(parseValue(['227.1', 'V']), { value: 227.1, unit: 'V' });
    assert.deepEqual(parseValue(['0.9']), { value: 0.9, unit: '' });
    assert.deepEqual(parseValue(['-12443117.40', 'kWh']), { value: -12443117.4, unit: 'kWh' });
    assert.deepEqual(parseValue(1.123), { value: 1.123, unit: '' });
    assert.throws(() => parseValue(['n/a', 'V'], 'l1 voltage'), /l1 voltage is not a number: \["n\/a","V"\]/);
  });

  it('maps the manual\'s instrument example to OBIS codes with units', () => {
    const body = {
      l1: { current: ['0.00', 'A'], powerfactor: ['0.000', ''], voltage: ['227.1', 'V'] },
      l2: { voltage: ['56.8', 'V'] }, l3: { voltage: ['42.9', 'V'] }, 'l1-l2': { voltage: ['182.8', 'V'] },
      neutral: { current: ['0.00', 'A'] }, total: { powerfactor: ['0.000', ''] }, frequency: { frequency: ['49.78', 'Hz'] },
    };
    const r = byObis(instrumentReadings(body, 'm1', T));
    assert.deepEqual(r.get('1-0:32.7.0'), { meter: 'm1', time: T, obis: '1-0:32.7.0', value: 227.1, unit: 'V' });
    assert.equal(r.get('1-0:52.7.0')!.value, 56.8);
    assert.equal(r.get('1-0:72.7.0')!.value, 42.9);
    assert.deepEqual(r.get('1-0:14.7.0'), { meter: 'm1', time: T, obis: '1-0:14.7.0', value: 49.78, unit: 'Hz' });
    assert.equal(r.get('1-0:33.7.0')!.unit, '');
    assert.equal(r.get('1-0:91.7.0')!.unit, 'A');
    assert.equal(r.size, 8, 'l1-l2 voltage has no standard OBIS code and is left out');
  });

  it('maps energies: tariffs to 1.8.1-4, net may be negative, kWh kept', () => {
    const body = {
      importenergy: { l1: ['1758307.29', 'kWh'], t1: ['0.16', 'kWh'], t2: ['1.00', 'kWh'], t3: ['2.50', 'kWh'], t4: ['3.00', 'kWh'], total: ['1271.31', 'kWh'] },
      exportenergy: { t1: ['4.00', 'kWh'], total: ['10.00', 'kWh'] },
      netenergy: { l2: ['-12443117.40', 'kWh'], total: ['-10959959.88', 'kWh'] },
    };
    const r = byObis(energyReadings(body, 'active', 'm1', T));
    assert.equal(r.get('1-0:1.8.0')!.value, 1271.31);
    assert.equal(r.get('1-0:1.8.1')!.value, 0.16);
    assert.equal(r.get('1-0:1.8.4')!.value, 3);
    assert.equal(r.get('1-0:21.8.0')!.value, 1758307.29);
    assert.equal(r.get('1-0:2.8.1')!.value, 4);
    assert.equal(r.get('1-0:16.8.0')!.value, -10959959.88);
    assert.equal(r.get('1-0:56.8.0')!.value, -12443117.4);
    const t = tariffReadings(body, 'm1', T).map((x) => x.obis).sort();
    assert.deepEqual(t, ['1-0:1.8.0', '1-0:1.8.1', '1-0:1.8.2', '1-0:1.8.3', '1-0:1.8.4', '1-0:2.8.0', '1-0:2.8.1']);
  });

  it('converts powers in W (the manual prints "W" for reactive and apparent too) to kW, kvar, kVA', () => {
    const body = { active: { l1: ['2000001', 'W'], total: ['2000000', 'W'] }, reactive: { total: ['1500', 'W'] }, apparent: { total: ['2500', 'VA'] } };
    const r = byObis(powerReadings(body, 'm1', T));
    assert.deepEqual([r.get('1-0:1.7.0')!.value, r.get('1-0:1.7.0')!.unit], [2000, 'kW']);
    assert.equal(r.get('1-0:21.7.0')!.value, 2000.001);
    assert.deepEqual([r.get('1-0:3.7.0')!.value, r.get('1-0:3.7.0')!.unit], [1.5, 'kvar']);
    assert.deepEqual([r.get('1-0:9.7.0')!.value, r.get('1-0:9.7.0')!.unit], [2.5, 'kVA']);
  });

  it('reads gateway-local timestamps in both documented forms and a time zone', () => {
    assert.equal(parseG13Time('2012-07-01T01:00:00'), Date.UTC(2012, 6, 1, 1));
    assert.equal(parseG13Time('2012:07:01T01:00:00'), Date.UTC(2012, 6, 1, 1));
    assert.equal(parseG13Time('2012-07-01T01:00:00', 'Europe/Berlin'), Date.UTC(2012, 5, 30, 23));
    assert.equal(parseG13Time('2012-01-01T01:00:00', 'Europe/Berlin'), Date.UTC(2012, 0, 1, 0));
    assert.equal(formatG13Time(Date.UTC(2012, 5, 30, 23), 'Europe/Berlin'), '2012-07-01T01:00:00');
    assert.throws(() => parseG13Time('12:31:2327 17:3:9'), /not a G13 date-time/);
  });

  it('turns a load profile into Readings with status bits as quality flags', () => {
    const body = { mapping: ['active_import_total', 'Wh'], items: [
      [1, '2012-07-01T01:15:00', '1000500'], [0x11, '2012-07-01T01:30:00', 1000750], [0x21, '2012-07-01T01:45:00', '1000900'],
      [1, '12:31:2327 17:3:9', 0], [0x05, '2012-07-01T01:00:00', '1000000'],
    ] };
    const { readings, skipped } = loadProfileReadings(body, 'm1');
    assert.deepEqual(readings.map((r) => [r.time, r.obis, r.value, r.unit, r.quality ?? 0]), [
      [Date.UTC(2012, 6, 1, 1, 0), '1-0:1.8.0', 1000, 'kWh', Quality.SUSPECT],
      [Date.UTC(2012, 6, 1, 1, 15), '1-0:1.8.0', 1000.5, 'kWh', 0],
      [Date.UTC(2012, 6, 1, 1, 30), '1-0:1.8.0', 1000.75, 'kWh', Quality.CLOCK_ADJUSTED],
      [Date.UTC(2012, 6, 1, 1, 45), '1-0:1.8.0', 1000.9, 'kWh', Quality.SUSPECT],
    ]);
    assert.equal(skipped.length, 1, 'the manual\'s garbled timestamp is skipped, not invented');
    const volts = loadProfileReadings({ mapping: [['voltage_l1', 'V']], items: [[1, '2012-07-01T01:00:00', ['230.1', 'V']]] }, 'm1');
    assert.deepEqual(volts.readings[0].obis, '1-0:32.7.0');
  });

  it('turns OBIS codes into the Int[6] of /gateway/execute', () => {
    assert.deepEqual(obisArray('1-0:32.7.0'), { array: [1, 0, 32, 7, 0, 255], code: '1-0:32.7.0' });
    assert.deepEqual(obisArray('1.0.33.7.0.255'), { array: [1, 0, 33, 7, 0, 255], code: '1-0:33.7.0' });
    assert.deepEqual(obisArray([1, 0, 1, 8, 0, 255]).code, '1-0:1.8.0');
    assert.throws(() => obisArray('voltage'), /invalid OBIS code "voltage"/);
  });

  it('names events and normalises fingerprints', () => {
    const g = gatewayEvents({ events: [{ category: 4, index: 6, id: 9, timestamp: '2012-05-17T13:02:02', type: 2 }] });
    assert.equal(g[0].name, 'GW_METER_NOTCONNECTED');
    assert.equal(g[0].time, Date.UTC(2012, 4, 17, 13, 2, 2));
    const m = meterEvents({ system: [{ datetime: '2011-12-18T10:12:00', duration: 0, category: 2, logid: 1003 }], event: [{ datetime: '2011-12-19T10:12:00', duration: 5, category: 8, logid: 2055 }] });
    assert.deepEqual(m.map((e) => [e.log, e.name]), [['event', 'POWERFAIL_INFO'], ['system', 'PHASE_CONN_NEUTRAL_WARNING']]);
    assert.equal(normaliseFingerprint('ab:cd:01'), 'ABCD01');
  });
});
