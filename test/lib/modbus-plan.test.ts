import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { encodeValue } from '../../lib/protocols/modbus/datatypes';
import { decodeReadings, planReads } from '../../lib/protocols/modbus/plan';
import { validateProfile } from '../../lib/protocols/modbus/profile';
import type { Profile } from '../../lib/protocols/modbus/types';

function profile(over: Partial<Profile> = {}): Profile {
  return validateProfile({
    id: 'test', manufacturer: 'Test', model: 'T1', source: 'unit test',
    defaults: { type: 'float32', wordOrder: 'big', byteOrder: 'big', table: 'input' },
    maxBlock: 10,
    values: [
      { obis: '1-0:32.7.0', name: 'L1 voltage', register: 0, unit: 'V' },
      { obis: '1-0:31.7.0', name: 'L1 current', register: 6, unit: 'A', ratio: 'ct' },
      { obis: '1-0:14.7.0', name: 'Frequency', register: 70, unit: 'Hz' },
      { obis: '1-0:1.8.0', name: 'Import', register: 100, table: 'holding', type: 'uint32', unit: 'Wh', scale: 10 },
      { obis: '1-0:16.7.0', name: 'Power', register: 104, table: 'holding', type: 'int16', unit: 'W', scaleRegister: 105 },
      { obis: '1-0:13.7.0', name: 'PF', register: 106, table: 'holding', type: 'int16', unit: '', scale: 0.001, notAvailable: [0x8000] },
    ],
    ...over,
  });
}

describe('read plan', () => {
  it('keeps separate blocks across gaps when the meter refuses undefined registers (maxGap 0)', () => {
    const plan = planReads(profile());
    assert.deepEqual(plan.blocks, [
      { table: 'holding', start: 100, count: 2 },
      { table: 'holding', start: 104, count: 3 },
      { table: 'input', start: 0, count: 2 },
      { table: 'input', start: 6, count: 2 },
      { table: 'input', start: 70, count: 2 },
    ]);
  });

  it('bridges gaps up to maxGap and never exceeds maxBlock', () => {
    const plan = planReads(profile({ maxGap: 10 }));
    assert.deepEqual(plan.blocks, [
      { table: 'holding', start: 100, count: 7 },
      { table: 'input', start: 0, count: 8 },
      { table: 'input', start: 70, count: 2 },
    ]);
    for (const b of planReads(profile({ maxGap: 100, maxBlock: 4 })).blocks) assert.ok(b.count <= 4);
  });

  it('decodes blocks into canonical readings with scale, scale register, CT ratio and not-available markers', () => {
    const p = profile({ maxGap: 10 });
    const plan = planReads(p);
    const f32 = (v: number) => encodeValue(v, { type: 'float32', wordOrder: 'big', byteOrder: 'big' });
    const holding = Buffer.concat([
      encodeValue(123456, { type: 'uint32', wordOrder: 'big', byteOrder: 'big' }), // 1234560 Wh
      Buffer.alloc(4),
      encodeValue(1234, { type: 'int16', wordOrder: 'big', byteOrder: 'big' }), // power raw
      encodeValue(1, { type: 'int16', wordOrder: 'big', byteOrder: 'big' }), // scale factor 10^1
      Buffer.from([0x80, 0x00]), // PF not available
    ]);
    const input = Buffer.concat([f32(231.5), Buffer.alloc(8), f32(2.5)]);
    const { readings, sources } = decodeReadings(plan, [holding, input, f32(50)], { meter: 'm1', time: 1000, ctRatio: 40 });
    const byObis = Object.fromEntries(readings.map((r) => [r.obis, r]));
    assert.deepEqual(byObis['1-0:1.8.0'], { meter: 'm1', time: 1000, obis: '1-0:1.8.0', value: 1234.56, unit: 'kWh' });
    assert.deepEqual(byObis['1-0:16.7.0'], { meter: 'm1', time: 1000, obis: '1-0:16.7.0', value: 12.34, unit: 'kW' });
    assert.equal(byObis['1-0:32.7.0'].value, 231.5);
    assert.equal(byObis['1-0:31.7.0'].value, 100, 'current is multiplied by the CT ratio');
    assert.equal(byObis['1-0:14.7.0'].value, 50);
    assert.equal(byObis['1-0:13.7.0'], undefined, 'a not-available value gives no reading');
    assert.equal(readings.length, 5);
    assert.deepEqual(sources.find((s) => s.obis === '1-0:1.8.0'), { obis: '1-0:1.8.0', name: 'Import', table: 'holding', register: 100, type: 'uint32', raw: 123456 });
  });

  it('skips NaN floats and refuses short responses naming the registers', () => {
    const plan = planReads(profile());
    const nan = encodeValue(NaN, { type: 'float32', wordOrder: 'big', byteOrder: 'big' });
    const data: Buffer[] = plan.blocks.map((b) => Buffer.alloc(b.count * 2));
    data[2] = nan;
    const { readings } = decodeReadings(plan, data, { meter: 'm', time: 0 });
    assert.equal(readings.find((r) => r.obis === '1-0:32.7.0'), undefined);
    data[3] = Buffer.alloc(2);
    assert.throws(() => decodeReadings(plan, data, { meter: 'm', time: 0 }), /input registers 6..7: response has 1 registers, expected 2/);
  });

  it('scales integer counters to the exact decimal (0.01 kWh steps, Wh to kWh) with no float noise', () => {
    const p = validateProfile({
      id: 'dec', manufacturer: 'T', model: 'T', source: 'test',
      defaults: { type: 'uint32', wordOrder: 'big', byteOrder: 'big', table: 'holding' }, maxBlock: 10,
      values: [
        { obis: '1-0:1.8.0', name: 'centi kWh', register: 0, unit: 'kWh', scale: 0.01 },
        { obis: '1-0:2.8.0', name: 'Wh', register: 2, unit: 'Wh', type: 'int32' },
        { obis: '1-0:3.8.0', name: 'deci kvarh', register: 4, unit: 'kvarh', scale: 0.1 },
      ],
    });
    const plan = planReads(p);
    /** "123456789" with 2 decimals -> 1234567.89, built from the digits, not by arithmetic. */
    const shifted = (n: number, decimals: number) => {
      const digits = String(Math.abs(n)).padStart(decimals + 1, '0');
      return Number(`${n < 0 ? '-' : ''}${digits.slice(0, digits.length - decimals)}.${digits.slice(digits.length - decimals)}`);
    };
    let seed = 7;
    for (let i = 0; i < 20_000; i++) {
      seed = (seed * 1103515245 + 12345) >>> 0;
      const a = seed;
      const b = (seed ^ 0x5bd1e995) | 0;
      const buf = Buffer.concat([
        encodeValue(a, { type: 'uint32', wordOrder: 'big', byteOrder: 'big' }),
        encodeValue(b, { type: 'int32', wordOrder: 'big', byteOrder: 'big' }),
        encodeValue(a, { type: 'uint32', wordOrder: 'big', byteOrder: 'big' }),
      ]);
      const [r1, r2, r3] = decodeReadings(plan, [buf], { meter: 'm', time: 0 }).readings;
      assert.equal(r1.value, shifted(a, 2), `${a} * 0.01`);
      assert.equal(r2.value, shifted(b, 3), `${b} Wh`);
      assert.equal(r3.value, shifted(a, 1), `${a} * 0.1`);
    }
  });

  it('can plan a subset of values', () => {
    const plan = planReads(profile(), (v) => v.obis === '1-0:1.8.0');
    assert.deepEqual(plan.blocks, [{ table: 'holding', start: 100, count: 2 }]);
  });
});
