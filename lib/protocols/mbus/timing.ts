/**
 * EN 13757-2 link-layer timing. A character is 11 bits (start, 8 data, even parity, stop). A slave
 * must start its answer within 330 bit times plus 50 ms after the request's last character; a
 * whole frame then takes its own transmission time.
 */
export const BITS_PER_CHAR = 11;

/** Answer timeout (to the first byte) for a baud rate: 330 bit times + 50 ms, rounded up. */
export function answerTimeoutMs(baudRate: number): number {
  if (!Number.isFinite(baudRate) || baudRate <= 0) throw new RangeError(`baud rate ${JSON.stringify(baudRate)} must be a positive number`);
  return Math.ceil((330 * 1000) / baudRate) + 50;
}

/**
 * What the master's answer timer allows beyond the standard's limit for its own receive path: USB
 * serial adapters hold received bytes up to 16 ms (the FTDI latency timer's default) before the host
 * sees them, and a timer may fire up to 1 ms early. Without it a slave starting its answer just
 * inside 330 bit times + 50 ms would be timed out.
 */
export const RECEIVE_SLACK_MS = 20;

/** Time to transmit `bytes` characters at `baudRate`, ms (rounded up). */
export function frameTimeMs(bytes: number, baudRate: number): number {
  return Math.ceil((bytes * BITS_PER_CHAR * 1000) / baudRate);
}

/** Longest M-Bus frame: L = 255 plus start, L, L, start, checksum, stop. */
export const MAX_FRAME_BYTES = 261;

/**
 * Time allowed for a complete answer: the answer timeout, then the transmission of the longest
 * frame with 50 % slack for gateways that forward in chunks.
 */
export function completeAnswerMs(firstByteMs: number, baudRate: number): number {
  return firstByteMs + Math.ceil(frameTimeMs(MAX_FRAME_BYTES, baudRate) * 1.5);
}

/** Baud rates EN 13757-2 names (300 to 38400); others are accepted but flagged by the editor. */
export const STANDARD_BAUD_RATES = [300, 600, 1200, 2400, 4800, 9600, 19200, 38400] as const;
