import { test } from 'node:test';
import assert from 'node:assert/strict';
import { appendCrc, checkCrc, crc16 } from '../../lib/protocols/modbus/crc16';

const hex = (s: string) => Buffer.from(s.replace(/\s+/g, ''), 'hex');

/** Bitwise reference implementation, straight from the Modbus serial line spec's flow chart. */
function crcBitwise(data: Uint8Array): number {
  let crc = 0xffff;
  for (const byte of data) {
    crc ^= byte;
    for (let i = 0; i < 8; i++) crc = crc & 1 ? (crc >>> 1) ^ 0xa001 : crc >>> 1;
  }
  return crc;
}

test('CRC-16/MODBUS check value of "123456789" is 0x4B37', () => {
  assert.equal(crc16(Buffer.from('123456789', 'ascii')), 0x4b37);
});

test('known frames: CRC value, and bytes sent low byte first', () => {
  // Read 10 holding registers from 0 of slave 1: CRC 0xCDC5, on the wire C5 CD.
  assert.equal(crc16(hex('01 03 00 00 00 0A')), 0xcdc5);
  assert.deepEqual(appendCrc(hex('01 03 00 00 00 0A')), hex('01 03 00 00 00 0A C5 CD'));
  // Modbus over serial line spec example: slave 0x11 reads 3 registers from 0x006B.
  assert.deepEqual(appendCrc(hex('11 03 00 6B 00 03')), hex('11 03 00 6B 00 03 76 87'));
  assert.deepEqual(appendCrc(hex('01 04 00 00 00 01')), hex('01 04 00 00 00 01 31 CA'));
  // A response: slave 1, FC 3, 2 bytes, value 0x0001.
  assert.ok(checkCrc(hex('01 03 02 00 01 79 84')));
});

test('empty input gives the initial value; running CRC over parts equals CRC of the whole', () => {
  assert.equal(crc16(Buffer.alloc(0)), 0xffff);
  const data = hex('11 03 00 6B 00 03');
  assert.equal(crc16(data, 3), crc16(data.subarray(3)));
  assert.equal(crc16(data.subarray(3), 0, 3, crc16(data.subarray(0, 3))), crc16(data));
});

test('table-driven CRC equals the bitwise definition on pseudo-random frames', () => {
  let seed = 12345;
  for (let n = 0; n < 200; n++) {
    const len = n % 64;
    const b = Buffer.alloc(len);
    for (let i = 0; i < len; i++) {
      seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
      b[i] = seed >>> 24;
    }
    assert.equal(crc16(b), crcBitwise(b), `frame ${b.toString('hex')}`);
  }
});

test('checkCrc rejects a corrupted frame or a wrong byte order', () => {
  assert.ok(checkCrc(hex('01 03 00 00 00 0A C5 CD')));
  assert.equal(checkCrc(hex('01 03 00 00 00 0A CD C5')), false);
  assert.equal(checkCrc(hex('01 03 00 00 00 0B C5 CD')), false);
  assert.equal(checkCrc(hex('C5 CD')), false);
});
