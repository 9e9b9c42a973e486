/**
 * The DSMR P1 telegram CRC (from DSMR 4.0): CRC-16/ARC (polynomial 0x8005 reflected = 0xA001, initial
 * value 0, no final XOR) over every byte from '/' up to and including '!', sent after the '!' as four
 * hexadecimal digits, most significant first. The Modbus CRC uses the same table with another start.
 */
import { crc16 } from '../modbus/crc16';

/** CRC-16/ARC of `data[start..end)`. */
export function p1Crc(data: Uint8Array, start = 0, end = data.length): number {
  return crc16(data, start, end, 0);
}

export function crcHex(crc: number): string {
  return crc.toString(16).toUpperCase().padStart(4, '0');
}

/** The telegram's CRC does not match its bytes; names the CRC we computed and the one it carries. */
export class P1CrcError extends Error {
  constructor(readonly expected: string, readonly got: string) {
    super(`CRC error: expected ${expected} (computed over '/' to '!'), got ${got} (sent by the meter)`);
    this.name = 'P1CrcError';
  }
}
