import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { decodeP1Frame, parseP1Timestamp, parseTelegram, P1CrcError, formatP1Timestamp, toP1Readings } from '../../lib/protocols/p1';
import { findDecoder } from '../../lib/protocols/decoders';
import type { Reading } from '../../lib/model';

const FIX = path.resolve(__dirname, '../../../test/fixtures/p1');
const fixture = (name: string) => fs.readFileSync(path.join(FIX, name));
const NOW = Date.UTC(2026, 0, 1);
const decode = (name: string, o: { checkCrc?: boolean; timeZone?: string } = {}) => decodeP1Frame(fixture(name), { meter: 'm1', now: NOW, ...o });
const value = (r: Reading[], obis: string) => {
  const x = r.find((y) => y.obis === obis);
  assert.ok(x, `reading ${obis} present`);
  return x!.value;
};
const reading = (r: Reading[], obis: string) => r.find((y) => y.obis === obis)!;
const iso = (ms: number) => new Date(ms).toISOString();

describe('P1 timestamps', () => {
  it('reads YYMMDDhhmmssX in the meter zone, S and W settling the repeated hour', () => {
    assert.equal(iso(parseP1Timestamp('170102192002W')!), '2017-01-02T18:20:02.000Z');
    assert.equal(iso(parseP1Timestamp('200706104157S')!), '2020-07-06T08:41:57.000Z');
    // 25 Oct 2020: clocks go back at 03:00 CEST; 02:30 happens twice.
    assert.equal(iso(parseP1Timestamp('201025023000S')!), '2020-10-25T00:30:00.000Z');
    assert.equal(iso(parseP1Timestamp('201025023000W')!), '2020-10-25T01:30:00.000Z');
    assert.equal(iso(parseP1Timestamp('221006155014S', 'Europe/Vienna')!), '2022-10-06T13:50:14.000Z');
    assert.equal(iso(parseP1Timestamp('161107190000')!), '2016-11-07T18:00:00.000Z'); // DSMR 2.2 gas, no flag
    for (const bad of ['632525252525S', '250000000000W', '000101000001W', '', '1701021920']) assert.equal(parseP1Timestamp(bad), null, bad);
  });

  it('writes the flag the meter would send', () => {
    assert.equal(formatP1Timestamp(Date.UTC(2020, 9, 25, 0, 30)), '201025023000S');
    assert.equal(formatP1Timestamp(Date.UTC(2020, 9, 25, 1, 30)), '201025023000W');
    assert.equal(formatP1Timestamp(Date.UTC(2020, 0, 1, 12)), '200101130000W');
  });
});

describe('P1 published telegrams', () => {
  it('DSMR 2.2 (Iskra MT382): no CRC, no clock, gas from 0-1:24.3.0 with its value on the next line', () => {
    const { readings, telegram } = decode('dsmr-2.2-iskra-mt382.txt');
    assert.equal(telegram.crc, undefined);
    assert.equal(telegram.version, '2.2/3.0');
    assert.equal(telegram.manufacturer, 'ISk');
    assert.equal(telegram.tariff, 1);
    for (const o of ['1-0:1.8.1', '1-0:1.8.2', '1-0:2.8.1', '1-0:2.8.2']) assert.equal(value(readings, o), 1.001);
    assert.equal(value(readings, '1-0:1.7.0'), 1.01);
    assert.equal(reading(readings, '1-0:1.8.1').time, NOW, 'electricity at the receive time');
    const gas = reading(readings, '7-1:3.0.0');
    assert.deepEqual([gas.value, gas.unit, iso(gas.time)], [1.001, 'm3', '2016-11-07T18:00:00.000Z']);
    assert.equal(telegram.channels[0].valve, 1);
    assert.equal(readings.find((r) => r.obis.startsWith('0-0:')), undefined, 'the 17.0.0 threshold is no reading');
  });

  it('DSMR 3.0 (standard example): equipment id and text message decoded from hex', () => {
    const { readings, telegram } = decode('dsmr-3.0-spec-example.txt');
    assert.equal(telegram.equipmentId, 'K8EG004046395507');
    assert.equal(telegram.channels[0].equipmentId, '2222ABCD123456789');
    assert.equal(telegram.tariff, 2);
    assert.equal(telegram.textMessage?.slice(0, 16), '0123456789:;<=>?');
    assert.equal(value(readings, '1-0:1.8.1'), 12345.678);
    assert.equal(value(readings, '1-0:1.7.0'), 1.19);
    assert.equal(iso(reading(readings, '7-1:3.0.0').time), '2009-02-12T15:00:00.000Z');
  });

  it('DSMR 4.0 (standard example): the published CRC does not match; its typo addresses still read', () => {
    assert.throws(() => decode('dsmr-4.0-spec-example.txt'), (e: Error) => e instanceof P1CrcError && /expected F46A .*got 522B/.test(e.message));
    const { readings, telegram } = decode('dsmr-4.0-spec-example.txt', { checkCrc: false });
    assert.deepEqual(telegram.crc, { sent: '522B', computed: 'F46A', ok: false });
    assert.equal(telegram.version, '4.0');
    assert.equal(telegram.time, '2010-12-09T10:30:20.000Z');
    assert.deepEqual(telegram.powerFailureLog, [
      { end: '2010-12-08T14:24:15.000Z', endRaw: '101208152415W', durationSeconds: 240 },
      { end: '2010-12-08T14:10:04.000Z', endRaw: '101208151004W', durationSeconds: 301 },
    ]);
    assert.deepEqual(telegram.voltageSags, { l1: 2, l2: 1, l3: 0 });
    assert.equal(iso(reading(readings, '7-1:3.0.0').time), '2010-12-09T10:00:00.000Z');
    assert.equal(value(readings, '7-1:3.0.0'), 12785.123);
  });

  it('DSMR 4.0 (Kaifa): a lower-case CRC, power failures and the gas channel', () => {
    const { readings, telegram } = decode('dsmr-4.0-kaifa.txt');
    assert.deepEqual(telegram.crc, { sent: '6F4A', computed: '6F4A', ok: true });
    assert.deepEqual([value(readings, '1-0:1.8.1'), value(readings, '1-0:1.8.2'), value(readings, '1-0:1.7.0')], [671.578, 842.472, 0.333]);
    assert.deepEqual([telegram.powerFailures, telegram.longPowerFailures], [8, 7]);
    assert.deepEqual(telegram.powerFailureLog, [{ end: null, endRaw: '000101000001W', durationSeconds: 2147483647 }]);
    assert.equal(value(readings, '1-0:31.7.0'), 1);
    assert.deepEqual([value(readings, '7-1:3.0.0'), iso(reading(readings, '7-1:3.0.0').time)], [473.789, '2015-01-17T17:00:00.000Z']);
  });

  it('DSMR 4.2 (Kaifa, dsmr_parser): the meter clock, a 3-entry failure log and per-phase values', () => {
    const { readings, telegram } = decode('dsmr-4.2-kaifa-1.txt');
    assert.equal(telegram.crc?.ok, true);
    assert.equal(telegram.version, '4.2');
    assert.equal(telegram.time, '2016-11-13T19:57:57.000Z');
    assert.equal(reading(readings, '1-0:1.8.1').time, Date.parse('2016-11-13T19:57:57Z'));
    assert.deepEqual([value(readings, '1-0:1.8.1'), value(readings, '1-0:1.8.2'), value(readings, '1-0:1.7.0')], [1581.123, 1435.706, 2.027]);
    assert.deepEqual([telegram.powerFailures, telegram.longPowerFailures, telegram.powerFailureLog.length], [15, 7, 3]);
    assert.deepEqual(telegram.powerFailureLog[0], { end: '2000-01-04T17:03:20.000Z', endRaw: '000104180320W', durationSeconds: 237126 });
    assert.deepEqual(['1-0:31.7.0', '1-0:51.7.0', '1-0:71.7.0'].map((o) => value(readings, o)), [0, 6, 2]);
    assert.equal(value(readings, '1-0:21.7.0'), 0.17);
    assert.deepEqual([value(readings, '7-1:3.0.0'), iso(reading(readings, '7-1:3.0.0').time)], [981.443, '2016-11-29T19:00:00.000Z']);
  });

  it('DSMR 4.2 (Kaifa, node-dsmr-parser): export registers and power', () => {
    const { readings, telegram } = decode('dsmr-4.2-kaifa-2.txt');
    assert.equal(telegram.crc?.computed, 'A737');
    assert.deepEqual([value(readings, '1-0:1.8.1'), value(readings, '1-0:2.8.1'), value(readings, '1-0:2.8.2'), value(readings, '1-0:2.7.0')], [4726.494, 3284.32, 7764.691, 1.869]);
    assert.deepEqual([value(readings, '7-1:3.0.0'), iso(reading(readings, '7-1:3.0.0').time)], [5359.919, '2018-03-06T11:00:00.000Z']);
  });

  it('DSMR 5.0 (Iskra): voltages, currents and an empty second channel', () => {
    const { readings, telegram } = decode('dsmr-5.0-iskra.txt');
    assert.equal(telegram.version, '5.0');
    assert.equal(telegram.time, '2017-01-02T18:20:02.000Z');
    assert.deepEqual(['1-0:1.8.1', '1-0:1.8.2', '1-0:2.8.1', '1-0:2.8.2'].map((o) => value(readings, o)), [4.426, 2.399, 2.444, 0]);
    assert.deepEqual([value(readings, '1-0:32.7.0'), value(readings, '1-0:72.7.0'), value(readings, '1-0:31.7.0')], [230, 229, 0.48]);
    assert.deepEqual([value(readings, '7-1:3.0.0'), iso(reading(readings, '7-1:3.0.0').time)], [0.107, '2017-01-02T15:10:05.000Z']);
    assert.deepEqual(telegram.channels[1], { channel: 2, deviceType: 3, medium: 'gas' });
    assert.equal(readings.filter((r) => r.obis.startsWith('7-')).length, 1);
    for (const r of readings) assert.equal(r.meter, 'm1');
  });

  it('DSMR 5.0.2 (standard example): the published CRC EF2F is reported against the computed E47C', () => {
    assert.throws(() => decode('dsmr-5.0-spec-example.txt'), /CRC error: expected E47C .*got EF2F/);
    const { readings, telegram } = decode('dsmr-5.0-spec-example.txt', { checkCrc: false });
    assert.deepEqual(['1-0:32.7.0', '1-0:52.7.0', '1-0:72.7.0'].map((o) => value(readings, o)), [220.1, 220.2, 220.3]);
    assert.deepEqual(['1-0:31.7.0', '1-0:51.7.0', '1-0:71.7.0'].map((o) => value(readings, o)), [1, 2, 3]);
    assert.equal(value(readings, '1-0:1.8.1'), 123456.789);
    assert.equal(value(readings, '1-0:62.7.0'), 6.666);
    assert.equal(telegram.powerFailureLog.length, 2);
    assert.equal(iso(reading(readings, '7-1:3.0.0').time), '2010-12-09T10:25:00.000Z');
  });

  it('Sagemcom T210-D-R (Austria): Wh, W, varh and var converted to kWh, kW, kvarh, kvar', () => {
    const { readings, telegram } = decode('sagemcom-t210-d-r-austria.txt', { timeZone: 'Europe/Vienna' });
    assert.equal(telegram.crc?.ok, true);
    assert.equal(telegram.time, '2022-10-06T13:50:14.000Z');
    assert.deepEqual(reading(readings, '1-0:1.8.0'), { meter: 'm1', time: Date.parse('2022-10-06T13:50:14Z'), obis: '1-0:1.8.0', value: 6545.766, unit: 'kWh' });
    assert.deepEqual([value(readings, '1-0:1.7.0'), reading(readings, '1-0:1.7.0').unit], [0.286, 'kW']);
    assert.deepEqual([value(readings, '1-0:4.8.0'), reading(readings, '1-0:4.8.0').unit], [3897.726, 'kvarh']);
    assert.deepEqual([value(readings, '1-0:4.7.0'), reading(readings, '1-0:4.7.0').unit], [0.166, 'kvar']);
  });

  it('Kamstrup OMNIA: kVArh units; an invalid clock leaves the receive time', () => {
    assert.throws(() => decode('kamstrup-omnia.txt'), /expected CE8F .*got 3AF8/);
    const { readings, telegram } = decode('kamstrup-omnia.txt', { checkCrc: false });
    assert.equal(telegram.time, undefined);
    assert.equal(reading(readings, '1-0:1.8.0').time, NOW);
    assert.deepEqual([value(readings, '1-0:3.8.0'), reading(readings, '1-0:3.8.0').unit], [1234.432, 'kvarh']);
    assert.deepEqual([value(readings, '1-0:3.7.0'), reading(readings, '1-0:3.7.0').unit], [1.229, 'kvar']);
    assert.equal(value(readings, '1-0:52.7.0'), 229.4);
  });

  it('Luxembourg Smarty (specification example): 0-0:42.0.0 id, kVA, four M-Bus channels', () => {
    const { readings, telegram } = decode('luxembourg-smarty-spec-example.txt', { timeZone: 'Europe/Luxembourg' });
    assert.deepEqual(telegram.crc, { sent: '8B52', computed: '8B52', ok: true });
    assert.equal(telegram.equipmentId, 'SAG1030790002574');
    assert.equal(telegram.time, '2020-07-06T08:41:57.000Z');
    assert.deepEqual([value(readings, '1-0:1.8.0'), value(readings, '1-0:4.8.0'), value(readings, '1-0:9.7.0')], [25.653, 63.781, 0.021]);
    assert.equal(value(readings, '1-1:31.4.0'), 100);
    assert.deepEqual([value(readings, '7-1:3.0.0'), iso(reading(readings, '7-1:3.0.0').time)], [0.006, '2020-07-06T08:31:40.000Z']);
    assert.deepEqual([value(readings, '7-4:3.0.0'), iso(reading(readings, '7-4:3.0.0').time)], [28.103, '2020-07-06T08:29:00.000Z']);
    assert.equal(telegram.channels.find((c) => c.channel === 2)?.medium, 'water');
    assert.equal(readings.some((r) => r.obis === '8-2:1.0.0'), false, 'an unset water channel gives no reading');
    assert.equal(telegram.channels[3].equipmentId, 'ELS353589980300');
  });

  it('Belgian e-MUCS H (Fluvius example): version, peak demand at its own time, gas 24.2.3 and water', () => {
    assert.throws(() => decode('emucs-h-spec-example.txt', { timeZone: 'Europe/Brussels' }), /got 1234/);
    const { readings, telegram } = decode('emucs-h-spec-example.txt', { timeZone: 'Europe/Brussels', checkCrc: false });
    assert.equal(telegram.version, 'e-MUCS 50221');
    assert.equal(telegram.equipmentId, '1SAG1100000231');
    const peak = reading(readings, '1-0:1.6.0');
    assert.deepEqual([peak.value, iso(peak.time)], [2.589, '2020-05-09T11:45:58.000Z']);
    assert.equal(value(readings, '1-0:1.4.0'), 2.351);
    assert.equal(telegram.monthlyPeaks?.length, 3);
    assert.deepEqual(telegram.monthlyPeaks?.[0], { month: '2020-04-30T22:00:00.000Z', at: '2020-04-23T17:25:38.000Z', value: 3.695, unit: 'kW' });
    assert.deepEqual(telegram.monthlyPeaks?.[2], { month: '2020-02-29T23:00:00.000Z', at: '2020-02-10T02:54:21.000Z', value: 4.318, unit: 'kW' });
    assert.deepEqual([value(readings, '7-1:3.0.0'), iso(reading(readings, '7-1:3.0.0').time)], [112.384, '2020-05-12T11:45:58.000Z']);
    assert.deepEqual([value(readings, '8-2:1.0.0'), reading(readings, '8-2:1.0.0').unit], [872.234, 'm3']);
  });
});

describe('P1 telegram errors', () => {
  const good = fixture('dsmr-4.2-kaifa-1.txt').toString('latin1');
  it('names expected and received CRC of a corrupted telegram', () => {
    const bad = good.replace('02.027*kW', '02.028*kW');
    assert.throws(() => parseTelegram(bad), (e: Error) => e instanceof P1CrcError && e.expected !== '6796' && e.got === '6796' && new RegExp(`expected ${e.expected}`).test(e.message));
  });
  it('rejects telegrams without "/" or "!", and junk after "!"', () => {
    assert.throws(() => parseTelegram('1-0:1.8.1(1*kWh)\r\n!'), /"\/" .* not found/);
    assert.throws(() => parseTelegram('/ISk5\\2MT382\r\n\r\n1-0:1.8.1(1*kWh)\r\n'), /no "!"/);
    assert.throws(() => parseTelegram('/ISk5\\2MT382\r\n\r\n1-0:1.8.1(1*kWh)\r\n!ZZ'), /neither a 4-digit hex CRC/);
    assert.throws(() => parseTelegram('/ISk5\\2MT382\r\n\r\n1-0:1.8.1(1*kWh\r\n!'), /"\(" without "\)"|has no "\(value\)"/);
    assert.throws(() => parseTelegram(Buffer.from([0x2f, 0x41, 0xdb, 0x0d, 0x0a, 0x21])), /binary byte 0xdb at offset 2; an encrypted meter .* needs its decryption key/);
  });
  it('keeps a telegram of another meter family readable (no version, values without unit left out)', () => {
    const t = parseTelegram('/ABC5 TEST\r\n\r\n1-0:1.8.0(000441879*Wh)\r\n1-0:96.5.5(80)\r\n!\r\n');
    const { readings, telegram } = toP1Readings(t, { meter: 'x', now: NOW });
    assert.deepEqual(readings, [{ meter: 'x', time: NOW, obis: '1-0:1.8.0', value: 441.879, unit: 'kWh' }]);
    assert.equal(telegram.manufacturer, 'ABC');
  });
});

describe('ems-decode p1', () => {
  const entry = findDecoder('p1')!;
  it('decodes a capture of several telegrams and junk, and names the telegram with a bad CRC', () => {
    const a = fixture('dsmr-5.0-iskra.txt').toString('latin1');
    const b = fixture('dsmr-4.2-kaifa-1.txt').toString('latin1');
    const out = entry.decode(`noise\r\n${a}garbage!12\r\n${b}`) as { version: string; readings: Reading[] }[];
    assert.deepEqual(out.map((t) => t.version), ['5.0', '4.2']);
    assert.throws(() => entry.decode(a + b.replace('00.170*kW', '00.171*kW')), /telegram 2 of 2: CRC error: expected [0-9A-F]{4} .* got 6796/);
    const one = entry.decode(fixture('dsmr-2.2-iskra-mt382.txt').toString('latin1')) as { readings: Reading[]; sets: unknown[] };
    assert.equal(one.readings.length, 7);
    assert.ok(one.sets.length > 10);
  });
});
