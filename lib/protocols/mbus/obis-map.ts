/**
 * M-Bus record -> OBIS code (value groups C.D of EN 13757-1 / IEC 62056-61 per medium). One table:
 * OBIS_BY_MEDIUM[A][quantity] = "C.D". A (medium) comes from the telegram's medium code; B is the
 * record's subunit; E is the record's tariff.
 *
 *   A  medium (M-Bus codes)                 quantity -> C.D
 *   1  electricity (0x02)                   energy 1.8 (backward flow 2.8), power 1.7 (2.7), reactive energy 3.8,
 *                                           reactive power 3.7, apparent power 9.7, voltage 12.7 (L1/L2/L3 32.7/52.7/72.7),
 *                                           current 11.7 (31.7/51.7/71.7), frequency 14.7
 *   4  heat cost allocator (0x08)           HCA units 1.0
 *   5  cooling (0x0A, 0x0B)                 as heat
 *   6  heat (0x04, 0x0C, 0x0D)              energy 1.0, volume 2.0, mass 3.0, power 8.0, volume flow 9.0,
 *                                           flow temp 10.0, return temp 11.0, temp difference 12.0, pressure 13.0
 *   7  gas (0x03)                           volume 3.0 (at base conditions 13.0), temperature 41.0, pressure 42.0,
 *                                           volume flow 43.0
 *   8  cold water (0x07, 0x16, 0x17, 0x28)  volume 1.0, volume flow 2.0
 *   9  hot water (0x06, 0x15)               as cold water
 * Media not listed (other, bus components ...) map nothing unless the caller names the medium.
 */
export const MEDIUM_TO_OBIS: Record<number, number> = {
  0x02: 1, 0x03: 7, 0x04: 6, 0x0c: 6, 0x0d: 6, 0x0a: 5, 0x0b: 5, 0x06: 9, 0x15: 9, 0x07: 8, 0x16: 8, 0x17: 8, 0x28: 8, 0x08: 4,
};

const HEAT: Record<string, string> = {
  energy: '1.0', volume: '2.0', mass: '3.0', power: '8.0', 'volume-flow': '9.0', 'flow-temperature': '10.0',
  'return-temperature': '11.0', 'temperature-difference': '12.0', pressure: '13.0',
};
const WATER: Record<string, string> = { volume: '1.0', 'volume-flow': '2.0' };

export const OBIS_BY_MEDIUM: Record<number, Record<string, string>> = {
  1: {
    energy: '1.8', 'energy:backward-flow': '2.8', power: '1.7', 'power:backward-flow': '2.7', 'reactive-energy': '3.8',
    'reactive-power': '3.7', 'apparent-power': '9.7', voltage: '12.7', 'voltage:phase-l1': '32.7', 'voltage:phase-l2': '52.7',
    'voltage:phase-l3': '72.7', current: '11.7', 'current:phase-l1': '31.7', 'current:phase-l2': '51.7', 'current:phase-l3': '71.7',
    frequency: '14.7',
  },
  4: { hca: '1.0' },
  5: HEAT,
  6: HEAT,
  7: {
    volume: '3.0', 'volume:base-conditions': '13.0', 'flow-temperature': '41.0', 'external-temperature': '41.0', pressure: '42.0',
    'volume-flow': '43.0',
  },
  8: WATER,
  9: WATER,
};

/** Modifiers (combinable VIFEs) that select a different OBIS code; other modifiers in ALLOWED keep it. */
export const OBIS_MODIFIERS = ['backward-flow', 'base-conditions', 'phase-l1', 'phase-l2', 'phase-l3'];
/** Modifiers that do not change what is measured. Records with any other modifier give no reading. */
export const ALLOWED_MODIFIERS = new Set(['forward-flow', 'uncorrected', 'error', 'correction-factor', ...OBIS_MODIFIERS]);

/** "A-B:C.D.E" for a record, or undefined when the table has nothing for it. */
export function obisFor(medium: number, quantity: string, modifiers: string[], subunit: number, tariff: number): string | undefined {
  const table = OBIS_BY_MEDIUM[medium];
  if (!table) return undefined;
  const mod = modifiers.find((m) => OBIS_MODIFIERS.includes(m));
  const cd = (mod && table[`${quantity}:${mod}`]) || (mod && mod !== 'phase-l1' && mod !== 'phase-l2' && mod !== 'phase-l3' ? undefined : table[quantity]);
  if (!cd || subunit > 255 || tariff > 255) return undefined;
  return `${medium}-${subunit}:${cd}.${tariff}`;
}
