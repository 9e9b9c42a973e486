/**
 * Modbus over a serial line (MODBUS over Serial Line V1.02, 2.5.1.1): frames are separated by at least
 * 3.5 character times, a fixed 1.750 ms above 19200 baud. A character is start + data + parity + stop
 * bits: 11 as the standard asks (8E1, 8N2), 10 on the common 8N1 lines. Gaps and answer timeouts follow
 * from the line settings and the frame lengths, never from round numbers.
 */
export const RTU_BITS_PER_CHAR = 11;

/** Bits of one character on a line: start + data + parity + stop. */
export function bitsPerChar(line: { dataBits?: number; parity?: string; stopBits?: number }): number {
  return 1 + (line.dataBits ?? 8) + (line.parity && line.parity !== 'none' ? 1 : 0) + (line.stopBits ?? 1);
}
/** Bytes of a read request (function 3 or 4): unit, function, start, count, CRC. */
export const READ_REQUEST_BYTES = 8;

function checkBaud(baudRate: number): void {
  if (!Number.isFinite(baudRate) || baudRate <= 0) throw new RangeError(`baud rate ${JSON.stringify(baudRate)} must be a positive number`);
}

/** One character on the wire, ms. */
export function charTimeMs(baudRate: number, bits = RTU_BITS_PER_CHAR): number {
  checkBaud(baudRate);
  return (bits * 1000) / baudRate;
}

/** t3.5, the silence that ends a frame: 3.5 characters, or 1.750 ms above 19200 baud. */
export function interFrameGapMs(baudRate: number, bits = RTU_BITS_PER_CHAR): number {
  return baudRate > 19200 ? 1.75 : 3.5 * charTimeMs(baudRate, bits);
}

/** Bytes of the answer to a read of `count` registers: unit, function, byte count, data, CRC. */
export function readAnswerBytes(count: number): number {
  return 5 + 2 * count;
}

/** Time a read of `count` registers keeps the line busy: request and answer frames, ms. */
export function readWireTimeMs(count: number, baudRate: number, bits = RTU_BITS_PER_CHAR): number {
  return (READ_REQUEST_BYTES + readAnswerBytes(count)) * charTimeMs(baudRate, bits);
}

/**
 * Answer timeout of one read: the device's turnaround allowance plus the request and the whole answer
 * on the wire and the gap that ends the answer (rounded up to whole ms). At 1200 baud an 80-register
 * answer alone takes 1.5 s, so a fixed 1000 ms could never be met.
 */
export function readTimeoutMs(count: number, baudRate: number, turnaroundMs: number, bits = RTU_BITS_PER_CHAR): number {
  return Math.ceil(turnaroundMs + readWireTimeMs(count, baudRate, bits) + interFrameGapMs(baudRate, bits));
}
