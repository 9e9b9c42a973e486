/**
 * Settings of an asynchronous serial line (baud rate, data bits, parity, stop bits) and the time one
 * character takes on it: start bit + data bits + parity bit + stop bits, at the baud rate.
 */
export type Parity = 'none' | 'even' | 'odd';

export interface LineSettings {
  baudRate: number;
  dataBits: 5 | 6 | 7 | 8;
  parity: Parity;
  stopBits: 1 | 2;
}

/** Bits of one character: start + data + parity + stop. */
export function lineBits(l: LineSettings): number {
  return 1 + l.dataBits + (l.parity === 'none' ? 0 : 1) + l.stopBits;
}

/** One character on the wire, ms. */
export function charMs(l: LineSettings): number {
  return (lineBits(l) * 1000) / l.baudRate;
}

/** "9600 8E1" */
export function describeLine(l: LineSettings): string {
  return `${l.baudRate} ${l.dataBits}${l.parity[0].toUpperCase()}${l.stopBits}`;
}

/** Checks a baud rate (a positive integer up to 4 Mbaud); the error names the value. */
export function checkBaud(baudRate: number): number {
  if (!Number.isInteger(baudRate) || baudRate < 50 || baudRate > 4_000_000) {
    throw new RangeError(`baud rate ${JSON.stringify(baudRate)} must be an integer 50..4000000`);
  }
  return baudRate;
}

/** Parses a frame format such as "8E1", "7E1", "8N2" (data bits, parity N/E/O, stop bits). */
export function parseLine(format: string, baudRate: number): LineSettings {
  const m = /^([5-8])([NEO])([12])$/i.exec(format.trim());
  if (!m) throw new RangeError(`line format ${JSON.stringify(format)} is not DATA PARITY STOP such as 8E1, 8N1 or 7E1`);
  const parity = ({ N: 'none', E: 'even', O: 'odd' } as const)[m[2].toUpperCase() as 'N' | 'E' | 'O'];
  return { baudRate: checkBaud(baudRate), dataBits: Number(m[1]) as LineSettings['dataBits'], parity, stopBits: Number(m[3]) as 1 | 2 };
}
