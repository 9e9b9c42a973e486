import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { decodeValue, encodeValue, rawUnsigned, registerCount, shortestFloat32 } from '../../lib/protocols/modbus/datatypes';
import type { DataType, Encoding } from '../../lib/protocols/modbus/types';

const hex = (s: string) => Buffer.from(s.replace(/\s/g, ''), 'hex');
const enc = (type: DataType, wordOrder: 'big' | 'little' = 'big', byteOrder: 'big' | 'little' = 'big'): Encoding => ({ type, wordOrder, byteOrder });

describe('Modbus data types', () => {
  it('knows how many registers each type takes', () => {
    assert.deepEqual(['int16', 'uint16', 'int32', 'uint32', 'int64', 'uint64', 'float32', 'float64'].map((t) => registerCount(t as DataType)), [1, 1, 2, 2, 4, 4, 2, 4]);
    assert.throws(() => registerCount('float' as DataType), /unknown data type "float"/);
  });

  // 230.5 as IEEE 754 single is 0x43668000: the four orders a meter manual calls ABCD, CDAB, BADC, DCBA.
  const orders: [string, 'big' | 'little', 'big' | 'little', string][] = [
    ['ABCD', 'big', 'big', '4366 8000'],
    ['CDAB', 'little', 'big', '8000 4366'],
    ['BADC', 'big', 'little', '6643 0080'],
    ['DCBA', 'little', 'little', '0080 6643'],
  ];
  for (const [name, word, byte, wire] of orders) {
    it(`decodes and encodes float32 in ${name} order`, () => {
      assert.equal(decodeValue(hex(wire), 0, enc('float32', word, byte)), 230.5);
      assert.deepEqual(encodeValue(230.5, enc('float32', word, byte)), hex(wire));
    });
  }

  it('decodes signed and unsigned 16-bit registers', () => {
    assert.equal(decodeValue(hex('FFFE'), 0, enc('int16')), -2);
    assert.equal(decodeValue(hex('FFFE'), 0, enc('uint16')), 65534);
    assert.equal(decodeValue(hex('FEFF'), 0, enc('int16', 'big', 'little')), -2);
  });

  it('decodes 32-bit integers in both word orders (EM24 sends the low word first)', () => {
    assert.equal(decodeValue(hex('0001 E240'), 0, enc('uint32')), 123456);
    assert.equal(decodeValue(hex('E240 0001'), 0, enc('uint32', 'little')), 123456);
    assert.equal(decodeValue(hex('FFFF FFFE'), 0, enc('int32')), -2);
    assert.equal(decodeValue(hex('FFFE FFFF'), 0, enc('int32', 'little')), -2);
  });

  it('decodes 64-bit energy counters (ABB and Schneider send Wh as int64/uint64)', () => {
    assert.equal(decodeValue(hex('0000 0000 075B CD15'), 0, enc('uint64')), 123456789);
    assert.equal(decodeValue(hex('CD15 075B 0000 0000'), 0, enc('uint64', 'little')), 123456789);
    assert.equal(decodeValue(hex('FFFF FFFF FFFF FF85'), 0, enc('int64')), -123);
  });

  it('decodes float32 to the decimal the meter displays, losing nothing', () => {
    assert.equal(decodeValue(encodeValue(231.7, enc('float32')), 0, enc('float32')), 231.7);
    assert.equal(decodeValue(encodeValue(12345.67, enc('float32')), 0, enc('float32')), 12345.67);
    assert.equal(decodeValue(encodeValue(0.1, enc('float32')), 0, enc('float32')), 0.1);
    const f = Math.fround(1 / 3);
    assert.equal(Math.fround(decodeValue(encodeValue(f, enc('float32')), 0, enc('float32'))), f);
  });

  it('finds the shortest round-tripping decimal for any float32 (checked against the plain definition)', () => {
    const bits = new DataView(new ArrayBuffer(4));
    let seed = 12345;
    for (let i = 0; i < 1_000_000; i++) {
      seed = (seed * 1103515245 + 12345) >>> 0;
      bits.setUint32(0, seed ^ (i << 7));
      const f = bits.getFloat32(0);
      if (!Number.isFinite(f)) continue;
      let expected = f;
      for (let digits = 1; digits <= 9; digits++) {
        const d = Number(f.toPrecision(digits));
        if (Math.fround(d) === f) { expected = d; break; }
      }
      const got = shortestFloat32(f);
      assert.equal(Math.fround(got), f, `round-trips ${f}`);
      assert.equal(got, expected, `shortest for bits ${bits.getUint32(0).toString(16)}`);
    }
  });

  it('decodes float64', () => {
    const wire = encodeValue(12345.678, enc('float64'));
    assert.deepEqual(wire, hex('40C8 1CD6 C8B4 3958'));
    assert.equal(decodeValue(wire, 0, enc('float64')), 12345.678);
    assert.equal(decodeValue(encodeValue(-0.5, enc('float64', 'little', 'little')), 0, enc('float64', 'little', 'little')), -0.5);
  });

  it('reads a value at a register offset inside a block', () => {
    const block = Buffer.concat([hex('0001 0002'), encodeValue(49.98, enc('float32')), hex('0003')]);
    assert.ok(Math.abs(decodeValue(block, 2, enc('float32')) - 49.98) < 1e-5);
    assert.equal(decodeValue(block, 4, enc('uint16')), 3);
  });

  it('round-trips every integer type and order at its limits', () => {
    const limits: [DataType, number[]][] = [
      ['int16', [-32768, 32767]], ['uint16', [0, 65535]], ['int32', [-2147483648, 2147483647]],
      ['uint32', [0, 4294967295]], ['int64', [-9007199254740991, 9007199254740991]], ['uint64', [0, 9007199254740991]],
    ];
    for (const [type, values] of limits) {
      for (const w of ['big', 'little'] as const) for (const b of ['big', 'little'] as const) {
        for (const v of values) assert.equal(decodeValue(encodeValue(v, enc(type, w, b)), 0, enc(type, w, b)), v, `${type} ${w}/${b} ${v}`);
      }
    }
  });

  it('refuses values that do not fit and short responses', () => {
    assert.throws(() => encodeValue(70000, enc('uint16')), /value 70000 does not fit uint16/);
    assert.throws(() => encodeValue(-1, enc('uint32')), /does not fit uint32/);
    assert.throws(() => decodeValue(hex('0001'), 0, enc('float32')), /float32 at register offset 0 needs 2 registers, only 1 received/);
  });

  it('gives the raw unsigned words for not-available markers', () => {
    assert.equal(rawUnsigned(hex('FFFF FFFF'), 0, enc('uint32')), 0xffffffff);
    assert.equal(rawUnsigned(hex('8000'), 0, enc('int16')), 0x8000);
  });
});
