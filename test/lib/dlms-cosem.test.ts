/** COSEM helpers: a published profile range request byte for byte, register values to canonical readings, profile rows. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { captureObjects, profileRows, rangeDescriptor, registerReading, scalerUnitOf, CLOCK_CAPTURE } from '../../lib/protocols/dlms/cosem';
import { decodeApdu } from '../../lib/protocols/dlms/apdu';
import { decodeData, decodeDateTime, dateTimeToEpochMs } from '../../lib/protocols/dlms/axdr';
import { DEFAULT_INVOKE, encodeService } from '../../lib/protocols/dlms/xdlms';
import { DlmsDecodeError } from '../../lib/protocols/dlms/errors';

const H = (s: string) => Buffer.from(s.replace(/\s/g, ''), 'hex');

describe('profile generic selective access by range', () => {
  // u9n/dlms-cosem tests/test_xdlms/test_selective_access.py test_parse_range_descriptor:
  // "Profile 1 (15 minutes profile), From 01.10.2017 00:00, To 01.10.2017 01:00", restricting object the clock, all columns
  const published = H('C001C1 0007 0100630100FF 02 01 01 0204 0204 120008 0906 0000010000FF 0F02 120000'
    + '090C 07E10A0107000000 00FFC480' + '090C 07E10A0107010000 00FFC480' + '0100');
  it('decodes the published request and our encoder reproduces it byte for byte', () => {
    const a = decodeApdu(published);
    assert.ok(a.type === 'get-request' && a.form === 'normal');
    if (a.type !== 'get-request' || a.form !== 'normal') return;
    assert.deepEqual(a.request.descriptor, { classId: 7, obis: '1-0:99.1.0.255', attribute: 2 });
    const p = a.request.selection?.parameters;
    assert.ok(p && p.type === 'structure');
    if (!p || p.type !== 'structure') return;
    const [restricting, from, to] = p.items;
    assert.deepEqual(captureObjects({ type: 'array', items: [restricting] }), [CLOCK_CAPTURE]);
    assert.ok(from.type === 'octet-string' && to.type === 'octet-string');
    if (from.type !== 'octet-string' || to.type !== 'octet-string') return;
    const f = decodeDateTime(from.value), t = decodeDateTime(to.value);
    assert.deepEqual([f.year, f.month, f.dayOfMonth, f.hour, f.minute], [2017, 10, 1, 0, 0]);
    assert.deepEqual([t.year, t.month, t.dayOfMonth, t.hour, t.minute], [2017, 10, 1, 1, 0]);
    const ours = encodeService({ type: 'get-request', form: 'normal', invoke: DEFAULT_INVOKE, request: { descriptor: { classId: 7, obis: '1-0:99.1.0.255', attribute: 2 }, selection: rangeDescriptor({ from: f, to: t }) } });
    assert.equal(ours.toString('hex'), published.toString('hex'));
  });
  it('the capture object of the clock encodes as the published structure', () => {
    // same file, test_capture_object_definition
    assert.deepEqual(captureObjects(decodeData(H('0101 0204 120008 0906 0000010000FF 0F02 120000')).value), [CLOCK_CAPTURE]);
  });
});

describe('register values', () => {
  it('become canonical readings (TINETZ push values)', () => {
    const su = scalerUnitOf(decodeData(H('0202 0F00 161E')).value);
    assert.deepEqual(registerReading('m1', '1-0:1.8.0.255', { type: 'double-long-unsigned', value: 9108 }, su, 0), { meter: 'm1', time: 0, obis: '1-0:1.8.0', value: 9.108, unit: 'kWh' });
    assert.deepEqual(registerReading('m1', '1-0:32.7.0.255', { type: 'long-unsigned', value: 2308 }, { scaler: -1, unit: 35 }, 5), { meter: 'm1', time: 5, obis: '1-0:32.7.0', value: 230.8, unit: 'V' });
    assert.deepEqual(registerReading('m1', '1-0:1.7.0.255', { type: 'double-long', value: 1743 }, { scaler: 0, unit: 27 }, 5).unit, 'kW');
    assert.throws(() => registerReading('m1', '1-0:1.8.0.255', { type: 'octet-string', value: H('00') }, su, 0), /1-0:1.8.0.255: value is a octet-string/);
    assert.throws(() => registerReading('m1', '1-0:0.0.0.255', { type: 'unsigned', value: 1 }, { scaler: 0, unit: 10 }, 0), (e: unknown) => e instanceof DlmsDecodeError && /unit 10 \(currency\)/.test(e.message));
    assert.throws(() => scalerUnitOf({ type: 'unsigned', value: 1 }), /scaler_unit is a unsigned/);
  });
});

describe('profile rows', () => {
  it('pair each row with its capture objects and read the clock column', () => {
    const captures = [CLOCK_CAPTURE, { classId: 3, obis: '1-0:1.8.0.255', attribute: 2, dataIndex: 0 }];
    const buffer = decodeData(H('0102 0202 090C07E6011801120000FF800000 0600000010 0202 090C07E6011801130000FF800000 0600000011')).value;
    const rows = profileRows(buffer, captures);
    assert.equal(rows.length, 2);
    assert.equal(rows[1].values[1].value.type === 'double-long-unsigned' && rows[1].values[1].value.value, 17);
    assert.equal(rows[0].dateTime?.hour, 18);
    assert.equal(dateTimeToEpochMs({ ...(rows[0].dateTime as NonNullable<typeof rows[0]['dateTime']>), deviation: 0 }), Date.UTC(2022, 0, 24, 18));
    assert.throws(() => profileRows(buffer, [CLOCK_CAPTURE]), /profile row 0 has 2 columns, 1 captured/);
  });
});
