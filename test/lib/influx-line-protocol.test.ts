import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Reading } from '../../lib/model/reading';
import type { EmsEvent } from '../../lib/store/types';
import {
  chunkLines, encodeEvents, encodeReadings, escapeKey, escapeMeasurement, formatFloat, parseLine, quoteString, readingLine,
} from '../../lib/store/influxdb/line-protocol';
import { DEFAULT_SCHEMA, EVENT_MEASUREMENT, PRECISION, READING_MEASUREMENT } from '../../lib/store/influxdb/schema';

const T = 1_700_000_000_000;
const r = (over: Partial<Reading> = {}): Reading => ({ meter: 'm1', time: T, obis: '1-0:1.8.0', value: 1234.567, unit: 'kWh', ...over });

describe('influx schema', () => {
  test('measurements and precision', () => {
    assert.equal(READING_MEASUREMENT, 'ems_reading');
    assert.equal(EVENT_MEASUREMENT, 'ems_event');
    assert.equal(PRECISION, 'ms');
    assert.deepEqual(DEFAULT_SCHEMA, { readings: 'ems_reading', events: 'ems_event' });
  });
});

describe('line protocol escaping (InfluxDB line protocol reference, special characters)', () => {
  test('measurement: comma and space', () => {
    assert.equal(escapeMeasurement('my measurement,x=1'), 'my\\ measurement\\,x=1');
  });
  test('tag keys, tag values and field keys: comma, equals sign, space', () => {
    assert.equal(escapeKey('Haus A, Keller=1'), 'Haus\\ A\\,\\ Keller\\=1');
  });
  test('string field values: double quote and backslash', () => {
    assert.equal(quoteString('say "hi" to C:\\temp'), '"say \\"hi\\" to C:\\\\temp"');
    assert.equal(quoteString('a,b=c d'), '"a,b=c d"');
  });
});

describe('encodeReadings', () => {
  test('a plain reading: tags sorted, float value, quality 0i, ms timestamp', () => {
    assert.deepEqual(encodeReadings([r()]), ['ems_reading,meter=m1,obis=1-0:1.8.0,unit=kWh quality=0i,value=1234.567 1700000000000']);
  });

  test('escaped tags, canonical OBIS, empty unit omitted, quality as integer', () => {
    const line = readingLine(r({ meter: 'Haus A, Keller=1', obis: '1.8.0', unit: '', quality: 5, value: -0.5 }));
    assert.equal(line, 'ems_reading,meter=Haus\\ A\\,\\ Keller\\=1,obis=1-0:1.8.0 quality=5i,value=-0.5 1700000000000');
    assert.deepEqual(parseLine(line), {
      measurement: 'ems_reading', tags: { meter: 'Haus A, Keller=1', obis: '1-0:1.8.0' },
      fields: { quality: 5, value: -0.5 }, integers: ['quality'], time: T,
    });
  });

  test('a custom measurement name is escaped', () => {
    assert.equal(encodeReadings([r()], { readings: 'ems reading', events: 'x' })[0],
      'ems\\ reading,meter=m1,obis=1-0:1.8.0,unit=kWh quality=0i,value=1234.567 1700000000000');
  });

  test('whole numbers stay floats (no i suffix); exponents as JavaScript prints them', () => {
    assert.match(readingLine(r({ value: 5 })), / quality=0i,value=5 /);
    assert.match(readingLine(r({ value: 1e21 })), /,value=1e\+21 /);
    assert.match(readingLine(r({ value: 1e-7 })), /,value=1e-7 /);
    assert.match(readingLine(r({ value: -0 })), /,value=0 /);
    assert.equal(formatFloat(0.1), '0.1');
  });

  test('floats round-trip exactly', () => {
    const values = [1234.567, 0.1, 0.30000000000000004, 1e-7, 1e21, 123456789.12345679, Number.MAX_VALUE, Number.MIN_VALUE, -2.5e-300, 2 ** 53 + 2, 99999.99999];
    const lines = encodeReadings(values.map((value) => r({ value })));
    lines.forEach((line, i) => assert.equal(parseLine(line).fields.value, values[i], line));
  });

  test('a fractional ms timestamp is rounded', () => {
    assert.match(readingLine(r({ time: T + 0.6 })), / 1700000000001$/);
  });

  test('NaN and infinities are refused naming the reading index and field', () => {
    assert.throws(() => encodeReadings([r(), r(), r({ value: NaN })]), /^Error: readings\[2\]: reading\.value must be a finite number/);
    assert.throws(() => encodeReadings([r({ value: Infinity })]), /readings\[0\]: reading\.value/);
    assert.throws(() => encodeReadings([r(), r({ time: NaN })]), /readings\[1\]: reading\.time/);
    assert.throws(() => encodeReadings([r({ quality: -1 })]), /readings\[0\]: reading\.quality/);
    assert.throws(() => encodeReadings([r({ meter: '' })]), /readings\[0\]: reading\.meter/);
  });

  test('newlines and backslashes in tag values are refused', () => {
    assert.throws(() => encodeReadings([r(), r({ meter: 'a\nb' })]), /readings\[1\]: meter must not contain a newline/);
    assert.throws(() => encodeReadings([r({ unit: 'k\\Wh' })]), /readings\[0\]: unit must not contain a backslash/);
  });

  test('series heads are cached per schema and series; a bad tag is refused every time and not cached', () => {
    const custom = { readings: 'custom', events: 'x' };
    for (let round = 0; round < 3; round++) {
      assert.deepEqual(encodeReadings([r(), r({ unit: '' }), r({ obis: '1.8.0', value: 2 }), r({ meter: 'm2', quality: 3 })]), [
        'ems_reading,meter=m1,obis=1-0:1.8.0,unit=kWh quality=0i,value=1234.567 1700000000000',
        'ems_reading,meter=m1,obis=1-0:1.8.0 quality=0i,value=1234.567 1700000000000',
        'ems_reading,meter=m1,obis=1-0:1.8.0,unit=kWh quality=0i,value=2 1700000000000',
        'ems_reading,meter=m2,obis=1-0:1.8.0,unit=kWh quality=3i,value=1234.567 1700000000000',
      ]);
      assert.equal(encodeReadings([r()], custom)[0], 'custom,meter=m1,obis=1-0:1.8.0,unit=kWh quality=0i,value=1234.567 1700000000000');
      assert.throws(() => encodeReadings([r(), r({ meter: 'm1', unit: 'k\\Wh' })]), /readings\[1\]: unit must not contain a backslash/);
    }
  });

  test('many series (beyond the head cache bound) all encode correctly', () => {
    const rows = Array.from({ length: 120_000 }, (_, i) => r({ meter: `m${i}`, value: i }));
    const lines = encodeReadings(rows);
    for (const i of [0, 99_999, 100_000, 119_999]) assert.equal(lines[i], `ems_reading,meter=m${i},obis=1-0:1.8.0,unit=kWh quality=0i,value=${i} 1700000000000`);
    assert.equal(readingLine(r({ meter: 'm5' })), 'ems_reading,meter=m5,obis=1-0:1.8.0,unit=kWh quality=0i,value=1234.567 1700000000000');
  });

  test('an empty batch is no lines; a non-array is refused', () => {
    assert.deepEqual(encodeReadings([]), []);
    assert.throws(() => encodeReadings('x' as unknown as Reading[]), /readings must be an array/);
  });
});

describe('encodeEvents', () => {
  const e = (over: Partial<EmsEvent> = {}): EmsEvent => ({ time: T, level: 'error', kind: 'poll-failed', message: 'timeout', ...over });

  test('tags kind, level, meter; string fields quoted and escaped', () => {
    const lines = encodeEvents([
      e({ meter: 'm 1', source: 'node-1', message: 'timeout "slave 3" at C:\\path, x=1' }),
      e({ level: 'info', kind: 'login', message: '' }),
      e({ meter: '', source: '' }),
    ]);
    assert.deepEqual(lines, [
      'ems_event,kind=poll-failed,level=error,meter=m\\ 1 message="timeout \\"slave 3\\" at C:\\\\path, x=1",source="node-1" 1700000000000',
      'ems_event,kind=login,level=info message="" 1700000000000',
      'ems_event,kind=poll-failed,level=error message="timeout",source="" 1700000000000',
    ]);
    assert.deepEqual(parseLine(lines[0]), {
      measurement: 'ems_event', tags: { kind: 'poll-failed', level: 'error', meter: 'm 1' },
      fields: { message: 'timeout "slave 3" at C:\\path, x=1', source: 'node-1' }, integers: [], time: T,
    });
  });

  test('bad events are refused naming the index', () => {
    assert.throws(() => encodeEvents([e(), e({ level: 'fatal' as 'error' })]), /events\[1\]: event\.level must be one of info, warning, error/);
    assert.throws(() => encodeEvents([e({ message: 'line 1\nline 2' })]), /events\[0\]: message must not contain a newline/);
    assert.throws(() => encodeEvents([e({ kind: '' })]), /events\[0\]: event\.kind/);
  });
});

describe('chunkLines', () => {
  const lines = encodeReadings([1, 2, 3, 4, 5].map((i) => r({ time: T + i })));
  test('splits into chunks of at most N lines', () => {
    const chunks = chunkLines(lines, 2);
    assert.equal(chunks.length, 3);
    assert.equal(chunks[0], `${lines[0]}\n${lines[1]}`);
    assert.equal(chunks[2], lines[4]);
    assert.deepEqual(chunkLines(lines, 5), [lines.join('\n')]);
    assert.deepEqual(chunkLines(lines, 100), [lines.join('\n')]);
  });
  test('accepts an encoded body and drops empty lines', () => {
    assert.deepEqual(chunkLines(`${lines.join('\n')}\n`, 3), [lines.slice(0, 3).join('\n'), lines.slice(3).join('\n')]);
    assert.deepEqual(chunkLines('', 3), []);
    assert.deepEqual(chunkLines([], 3), []);
  });
  test('refuses a bad chunk size', () => {
    assert.throws(() => chunkLines(lines, 0), /positive integer/);
    assert.throws(() => chunkLines(lines, 1.5), /positive integer/);
  });
});
