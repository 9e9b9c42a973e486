import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { checkProblem, chunks, crc16X25, parseHex, parsePollSpec, sum8, toHex, withCheck } from '../../lib/protocols/hex';
import { crc16 } from '../../lib/protocols/modbus/crc16';

const CHECK = Buffer.from('123456789', 'ascii');

describe('HEX poll server checks', () => {
  it('matches the CRC catalogue check values for "123456789"', () => {
    assert.equal(crc16(CHECK), 0x4b37); // CRC-16/MODBUS
    assert.equal(crc16X25(CHECK), 0x906e); // CRC-16/IBM-SDLC
    assert.equal(sum8(CHECK), 0xdd); // 477 mod 256
  });

  it('checks the trailing CRC of a response, low byte first, and names both values when it is wrong', () => {
    // The Modbus request of the data dictionary example: unit 1, read 2 holding registers from 0
    const req = parseHex('01 03 00 00 00 02 C4 0B');
    assert.equal(checkProblem('crc16-modbus', req), null);
    assert.equal(checkProblem('crc16-modbus', parseHex('010300000002C40C')), 'crc16-modbus error: computed 0x0BC4, received 0x0CC4');
    const x25 = withCheck('crc16-x25', CHECK);
    assert.equal(toHex(x25.subarray(-2)), '6E90');
    assert.equal(checkProblem('crc16-x25', x25), null);
    assert.equal(checkProblem('sum8', withCheck('sum8', CHECK)), null);
    assert.equal(checkProblem('sum8', Buffer.concat([CHECK, Buffer.from([0xde])])), 'sum8 error: computed 0xDD, received 0xDE');
  });

  it('parses HEX in the spellings integrators paste and names bad input', () => {
    assert.equal(toHex(parseHex('0x01,0x03 00:00')), '01030000');
    assert.throws(() => parseHex('0103F', 'command'), /command "0103F" is not an even number of HEX digits/);
    assert.throws(() => parseHex('01GG'), /not an even number of HEX digits/);
  });

  it('splits frames into package_size chunks', () => {
    const f = parseHex('0102030405060708090A');
    assert.deepEqual(chunks(f, 4).map(toHex), ['01020304', '05060708', '090A']);
    assert.deepEqual(chunks(f, 0).map(toHex), ['0102030405060708090A']);
  });

  it('reads poll specs from the meter profile and refuses bad ones by name', () => {
    assert.deepEqual(parsePollSpec('modbus-rtu:010300000002C40B').frames.map(toHex), ['010300000002C40B']);
    assert.equal(parsePollSpec('modbus-rtu:eastron-sdm630').profile, 'eastron-sdm630');
    assert.equal(parsePollSpec('raw:68 04 01:sum8').check, 'sum8');
    assert.deepEqual(parsePollSpec('iec62056-21').frames, []);
    assert.throws(() => parsePollSpec('modbus-rtu:010300000002C40C'), /frame 1 010300000002C40C does not end with its Modbus CRC-16/);
    assert.throws(() => parsePollSpec('dlms:00'), /profile "dlms:00" names no codec/);
    assert.throws(() => parsePollSpec('raw:0102:crc32'), /unknown check "crc32"/);
    assert.throws(() => parsePollSpec('raw:'), /needs the command frame/);
  });
});
