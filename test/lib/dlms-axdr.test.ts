/** A-XDR data: every type decodes, encodes back to the same bytes, and bad input is a DlmsDecodeError. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { type DlmsData, dataToJson, dateTimeFromEpochMs, dateTimeToEpochMs, decodeData, decodeDateTime, encodeData, encodeDateTime } from '../../lib/protocols/dlms/axdr';
import { DlmsDecodeError } from '../../lib/protocols/dlms/errors';
import { obisFromBytes, obisToBytes, scaled, dlmsUnit } from '../../lib/protocols/dlms/units';
import { isKnownUnit } from '../../lib/model/units';

const H = (s: string) => Buffer.from(s.replace(/\s/g, ''), 'hex');
const roundTrip = (hex: string): DlmsData => {
  const { value, end } = decodeData(H(hex));
  assert.equal(end, H(hex).length, `consumed all of ${hex}`);
  assert.equal(encodeData(value).toString('hex'), H(hex).toString('hex'), `re-encodes ${hex}`);
  return value;
};
const decodeError = (hex: string, code?: string) => assert.throws(() => decodeData(H(hex)), (e: unknown) => e instanceof DlmsDecodeError && (!code || e.code === code), hex);

describe('A-XDR simple types', () => {
  it('numbers of every width and sign', () => {
    assert.deepEqual(roundTrip('0F FE'), { type: 'integer', value: -2 });
    assert.deepEqual(roundTrip('11 FE'), { type: 'unsigned', value: 254 });
    assert.deepEqual(roundTrip('10 FF38'), { type: 'long', value: -200 });
    assert.deepEqual(roundTrip('12 0904'), { type: 'long-unsigned', value: 2308 });
    assert.deepEqual(roundTrip('05 FFFFFFFE'), { type: 'double-long', value: -2 });
    assert.deepEqual(roundTrip('06 00001391'), { type: 'double-long-unsigned', value: 5009 });
    assert.deepEqual(roundTrip('14 FFFFFFFFFFFFFFFF'), { type: 'long64', value: -1n });
    assert.deepEqual(roundTrip('15 FFFFFFFFFFFFFFFF'), { type: 'long64-unsigned', value: 18446744073709551615n });
    assert.deepEqual(roundTrip('16 1E'), { type: 'enum', value: 30 });
    assert.deepEqual(roundTrip('0D 12'), { type: 'bcd', value: 0x12 });
    assert.deepEqual(roundTrip('17 3FC00000'), { type: 'float32', value: 1.5 });
    assert.deepEqual(roundTrip('18 400921FB54442D18'), { type: 'float64', value: Math.PI });
    assert.deepEqual(roundTrip('03 01'), { type: 'boolean', value: true });
    assert.deepEqual(roundTrip('00'), { type: 'null-data' });
    assert.equal(dataToJson(roundTrip('15 FFFFFFFFFFFFFFFF')), '18446744073709551615');
  });
  it('strings, bit strings and lengths above 127', () => {
    assert.deepEqual(roundTrip('09 06 0100010800FF'), { type: 'octet-string', value: H('0100010800FF') });
    assert.deepEqual(roundTrip('0A 0B 4149444F4E5F5630303031'), { type: 'visible-string', value: 'AIDON_V0001' });
    assert.deepEqual(roundTrip('0C 03 E282AC'), { type: 'utf8-string', value: '€' });
    assert.deepEqual(roundTrip('04 0A 8A40'), { type: 'bit-string', bits: 10, value: '1000101001' });
    const long = roundTrip('09 81C8' + '55'.repeat(200));
    assert.equal(long.type === 'octet-string' && long.value.length, 200);
    const longer = roundTrip('09 820134' + 'AA'.repeat(308));
    assert.equal(longer.type === 'octet-string' && longer.value.length, 308);
  });
});

describe('A-XDR date and time', () => {
  it('a date-time with deviation and clock status (TINETZ push: 2021-07-19 15:46:35 local, deviation -120, DST)', () => {
    const dt = decodeDateTime(H('07E50713010F2E2300FF888002'.slice(0, 24)));
    assert.deepEqual(dt, { year: 2021, month: 7, dayOfMonth: 19, dayOfWeek: 1, hour: 15, minute: 46, second: 35, hundredths: 0, deviation: -120, clockStatus: 0x80 });
    assert.equal(new Date(dateTimeToEpochMs(dt) as number).toISOString(), '2021-07-19T13:46:35.000Z');
    assert.equal(encodeDateTime(dt).toString('hex').toUpperCase(), '07E50713010F2E2300FF8880');
  });
  it('not-specified fields are null, deviation 0x8000 too, and such a date-time has no instant', () => {
    const dt = decodeDateTime(H('FFFF0C10FF07FFFFFF800000'));
    assert.equal(dt.year, null);
    assert.equal(dt.dayOfWeek, null);
    assert.equal(dt.deviation, null);
    assert.equal(dt.clockStatus, 0);
    assert.equal(dateTimeToEpochMs(dt), null);
    assert.equal(encodeDateTime(dt).toString('hex').toUpperCase(), 'FFFF0C10FF07FFFFFF800000');
  });
  it('date-time, date and time tags (25, 26, 27) round-trip; an instant round-trips through local time', () => {
    roundTrip('19 07E6011801123A32FF800000');
    const d = roundTrip('1A 07E60A0F06');
    assert.ok(d.type === 'date' && d.value.hour === null && d.value.dayOfMonth === 15);
    const t = roundTrip('1B 0C1E00FF');
    assert.ok(t.type === 'time' && t.value.year === null && t.value.minute === 30);
    const ms = Date.UTC(2026, 11, 7, 21, 15, 30, 120);
    assert.equal(dateTimeToEpochMs(dateTimeFromEpochMs(ms, 60)), ms);
    assert.equal(dateTimeFromEpochMs(ms, 60).deviation, -60);
    assert.equal(dateTimeFromEpochMs(Date.UTC(2026, 11, 7)).dayOfWeek, 1); // a Monday
  });
});

describe('A-XDR containers', () => {
  it('structures and arrays nest (register value with scaler-unit)', () => {
    const v = roundTrip('02 03 09 06 0100010800FF 06 00002394 02 02 0F 00 16 1E');
    assert.deepEqual(dataToJson(v), ['0100010800FF', 9108, [0, 30]]);
    const a = roundTrip('01 02 12 0001 12 0002');
    assert.deepEqual(dataToJson(a), [1, 2]);
  });
  it('compact arrays: simple elements and structures, described once', () => {
    const simple = roundTrip('13 12 0006 0001 0002 0003'.replace('13 12 0006', '13 12 06'));
    assert.deepEqual(dataToJson(simple), [1, 2, 3]);
    // structure {date-time octet-string, double-long-unsigned} x 2 (load profile rows)
    const rows = '09 0C 07E6011801123A32FF800000 00000010 09 0C 07E6011801130000FF800000 00000011'.replace(/09 0C /g, '0C ');
    const v = roundTrip(`13 02 02 09 06 ${(H(rows).length).toString(16).padStart(2, '0')} ${rows}`);
    assert.ok(v.type === 'compact-array' && v.items.length === 2);
    assert.deepEqual(dataToJson(v.items[1]), [{ octets: '07E6011801130000FF800000', dateTime: decodeDateTime(H('07E6011801130000FF800000')) }, 17]);
    const arr = roundTrip('13 01 0002 11 04 01020304');
    assert.deepEqual(dataToJson(arr), [[1, 2], [3, 4]]);
  });
});

describe('A-XDR bounds: only DlmsDecodeError, never a crash or a hang', () => {
  it('truncation, unknown tags and bad lengths', () => {
    decodeError('', 'truncated');
    decodeError('06 0000', 'truncated');
    decodeError('09 05 0102', 'truncated');
    decodeError('07 00', 'unsupported');
    decodeError('09 85 0000000001', 'format');
    decodeError('01 84 FFFFFFFF 00', 'truncated');
    decodeError('13 00 01 00', 'format'); // compact array of null-data takes no bytes
    decodeError('13 02 00 02 0000', 'format'); // compact array of empty structures
  });
  it('nesting deeper than the limit and too many elements', () => {
    decodeError('0201'.repeat(40) + '00', 'limit');
    assert.throws(() => decodeData(H('01 82 0200' + '00'.repeat(512)), 0, { maxElements: 100 }), (e: unknown) => e instanceof DlmsDecodeError && e.code === 'limit');
    decodeError('13 01 FFFF 01 FFFF 02 00 01 00', 'limit');
  });
});

describe('OBIS and units', () => {
  it('logical names convert both ways and F defaults to 255', () => {
    assert.equal(obisFromBytes(H('0100010800FF')), '1-0:1.8.0.255');
    assert.equal(obisToBytes('1-0:1.8.0').toString('hex'), '0100010800ff');
    assert.equal(obisToBytes('0-0:96.1.0.255').toString('hex'), '0000600100ff');
    assert.throws(() => obisToBytes('1-0:1.8'), /A-B:C.D.E/);
  });
  it('the DLMS unit codes map to the project units, and scalers apply exactly', () => {
    for (const [code, unit] of [[27, 'W'], [28, 'VA'], [29, 'var'], [30, 'Wh'], [31, 'VAh'], [32, 'varh'], [33, 'A'], [35, 'V'], [44, 'Hz'], [13, 'm3'], [9, 'degC'], [52, 'K'], [25, 'J'], [56, '%'], [255, '']] as const) {
      assert.equal(dlmsUnit(code).unit, unit, `unit ${code}`);
      assert.ok(isKnownUnit(unit), `${unit} in lib/model/units`);
    }
    assert.deepEqual(scaled(2308, -1, 35), { value: 230.8, unit: 'V', symbol: 'V' });
    assert.equal(scaled(16377725, 1, 30).value, 163777250);
    assert.equal(scaled(7, -3, 30).value, 0.007);
    assert.equal(dlmsUnit(200).unit, undefined);
  });
});
