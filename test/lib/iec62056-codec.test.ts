import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import {
  ackOption, bcc, command, dataMessage, decodeReadout, meterClock, parseAckOption, parseBlock, parseDataBlock, parseIdentification, signOn, toReadings,
} from '../../lib/protocols/iec62056-21';
import { Quality } from '../../lib/model';
import { findDecoder } from '../../lib/protocols/decoders';

const FIX = path.resolve(__dirname, '../../../test/fixtures/iec62056');
const fixture = (name: string) => fs.readFileSync(path.join(FIX, name), 'latin1');

describe('IEC 62056-21 framing', () => {
  it('builds the sign-on and the mode C option select', () => {
    assert.equal(signOn('').toString('latin1'), '/?!\r\n');
    assert.equal(signOn('12345678').toString('latin1'), '/?12345678!\r\n');
    assert.throws(() => signOn('12/34'), /address "12\/34"/);
    // The field capture switches an MT174 to 9600 baud with ACK 0 5 0 CR LF
    assert.deepEqual([...ackOption('5')], [0x06, 0x30, 0x35, 0x30, 0x0d, 0x0a]);
    assert.deepEqual(parseAckOption(ackOption('6', true)), { protocol: '0', baudChar: '6', programming: true });
  });

  it('reads the baud character of each mode from the identification', () => {
    const iskra = parseIdentification('/ISk5MT174-0001\r\n');
    assert.deepEqual([iskra.manufacturer, iskra.mode, iskra.baud, iskra.ident, iskra.fast], ['ISk', 'C', 9600, 'MT174-0001', true]);
    const lgz = parseIdentification('/LGZ4\\2ZMD3102400.B31');
    assert.deepEqual([lgz.mode, lgz.baud, lgz.ident, lgz.fast], ['C', 4800, 'ZMD3102400.B31', false]);
    const modeB = parseIdentification('/EMHELZQJ');
    assert.deepEqual([modeB.mode, modeB.baud], ['B', 9600]);
    const modeA = parseIdentification('/XYZ:METER');
    assert.deepEqual([modeA.mode, modeA.baud], ['A', 300]);
    assert.throws(() => parseIdentification('ISk5MT174'), /is not "\/XXXZ<ident>"/);
  });

  it('checks the BCC of a real MT174 readout (0x19) and reports a corrupted one', () => {
    const cap = Buffer.from(fixture('iskra-mt174.bin'), 'latin1');
    const stx = cap.indexOf(2);
    assert.equal(cap[cap.length - 1], 0x19);
    assert.equal(bcc(cap, stx + 1, cap.length - 1), 0x19);
    const block = parseBlock(cap.subarray(stx));
    assert.match(block.data, /^1-0:0\.9\.2\*255\(0220127\)\r\n/);
    const bad = Buffer.from(cap.subarray(stx));
    bad[9] = 0x35; // one digit changed in transit: 0.9.2 -> 0.9.5
    assert.throws(() => parseBlock(bad), /BCC error: computed 0x1e, received 0x19/);
  });

  it('frames programming commands with SOH ... ETX BCC', () => {
    const p1 = command('P1', '(00000000)');
    assert.equal(p1.toString('latin1', 0, p1.length - 1), '\x01P1\x02(00000000)\x03');
    assert.equal(p1[p1.length - 1], bcc(p1, 1, p1.length - 1));
    assert.deepEqual(parseBlock(p1), { command: 'P1', data: '(00000000)', partial: false });
    assert.equal(command('B0').toString('latin1', 0, 4), '\x01B0\x03');
    assert.deepEqual(parseBlock(dataMessage('(123456)')), { data: '(123456)', partial: false });
  });
});

describe('IEC 62056-21 data sets', () => {
  it('parses the Iskra MT174 capture into OBIS, value and unit, and its clock', () => {
    const d = decodeReadout(fixture('iskra-mt174.bin'));
    assert.equal(d.bcc, 'ok');
    assert.equal(d.identification?.ident, 'MT174-0002');
    assert.deepEqual(d.sets.find((s) => s.obis === '1-0:1.8.0'), { address: '1-0:1.8.0*255', obis: '1-0:1.8.0', values: [{ value: '0000502.853', unit: 'kWh' }] });
    assert.equal(d.clock, '2022-01-27T10:56:44.000Z');
    const readings = toReadings(d.sets, { meter: 'm1', time: 1 });
    assert.deepEqual(readings.map((r) => [r.obis, r.value, r.unit]), [['1-0:1.8.0', 502.853, 'kWh'], ['1-0:2.8.0', 98697.318, 'kWh']]);
  });

  it('reads a Landis+Gyr ZMD list: 1-1: channel, historic values with their reset time, maximum demand time stamps', () => {
    const sets = parseDataBlock(fixture('landis-gyr-zmd-readout.txt'));
    assert.equal(sets.length, 18);
    assert.deepEqual(sets.find((s) => s.address === '1-1:1.6.0'), { address: '1-1:1.6.0', obis: '1-1:1.6.0', values: [{ value: '00.641', unit: 'kW' }, { value: '2608091845' }] });
    assert.equal(sets.find((s) => s.address === '1-1:1.8.0*62')?.billingPeriod, 62);
    assert.equal(sets.find((s) => s.address === '1-1:F.F')?.obis, undefined);
    const clock = meterClock(sets, 'Europe/Zurich');
    assert.equal(new Date(clock!).toISOString(), '2026-08-15T14:26:55.000Z'); // 16:26:55 CEST
    const r = toReadings(sets, { meter: 'zmd', time: clock!, timeZone: 'Europe/Zurich' });
    const get = (obis: string, historic = false) => r.find((x) => x.obis === obis && Boolean(x.quality) === historic);
    assert.deepEqual(get('1-1:1.8.0'), { meter: 'zmd', time: clock, obis: '1-1:1.8.0', value: 18788.9, unit: 'kWh' });
    // 1.8.0*62 has no unit: it takes kWh from 1.8.0, and the time of the reset 0.1.2*62 (2026-08-01 00:00 local)
    assert.deepEqual(get('1-1:1.8.0', true), { meter: 'zmd', time: Date.parse('2026-07-31T22:00:00Z'), obis: '1-1:1.8.0', value: 18750, unit: 'kWh', quality: Quality.HISTORIC });
    assert.equal(get('1-1:1.6.0')!.time, Date.parse('2026-08-09T16:45:00Z'));
    assert.equal(get('1-1:36.7.0')!.value, -2.54);
    assert.equal(get('1-1:32.7.0')!.unit, 'V');
    assert.equal(get('1-1:5.8.0')!.unit, 'kvarh');
    assert.equal(r.some((x) => x.obis.includes(':0.')), false, 'no service codes as readings');
  });

  it('reads the Metcom table 1 readout with short addresses (default medium 1)', () => {
    const sets = parseDataBlock(fixture('metcom-table1.txt'));
    const r = toReadings(sets, { meter: 'mc', time: 0 });
    assert.deepEqual(r.find((x) => x.obis === '1-0:1.8.0'), { meter: 'mc', time: 0, obis: '1-0:1.8.0', value: 1281.6601, unit: 'kWh' });
    const hist = r.find((x) => x.obis === '1-0:1.6.1' && x.quality === Quality.HISTORIC)!;
    assert.equal(hist.value, 0.39912);
    assert.equal(hist.time, Date.parse('2022-10-13T09:00:00Z'));
  });

  it('parses several data sets on one line and names the offset of a broken one', () => {
    const sets = parseDataBlock('1.8.1(000123.4*kWh)1.8.2(000045.6*kWh)\r\n');
    assert.deepEqual(sets.map((s) => s.obis), ['1-0:1.8.1', '1-0:1.8.2']);
    assert.throws(() => parseDataBlock('1.8.0(1*kWh)\r\n1.8.1 broken\r\n'), /offset 14/);
    assert.throws(() => parseDataBlock('1.8.0(0001'), /"\(" without "\)"/);
  });

  it('ems-decode iec62056 prints the data sets', () => {
    const entry = findDecoder('iec62056')!;
    assert.equal(entry.argument, 'file');
    const out = entry.decode(fixture('iskra-mt174.bin')) as ReturnType<typeof decodeReadout>;
    assert.equal(out.sets.length, 4);
    assert.throws(() => entry.decode(fixture('iskra-mt174.bin').replace('502', '503')), /BCC error/);
  });
});
