/**
 * Combinable (orthogonal) VIFEs of EN 13757-3 clause 8.4.5: codes after a VIF that qualify it (per
 * hour, forward flow, limit values, correction factors, error states...). Each decodes to a short
 * note for the record description, a machine `modifier` name and, for correction factors, a scale.
 */
export interface VifeInfo {
  /** Machine name: 'per-hour', 'forward-flow', 'error', 'lower-limit', ... */
  modifier: string;
  note: string;
  /** Multiply the value by this (multiplicative correction factors). */
  factor?: number;
  /** Unit suffix for rate VIFEs ("/h"). */
  unitSuffix?: string;
  /** Error code (slave to master: VIFE 0x00-0x1F). */
  error?: number;
}

/** Record error codes, VIFE 0x00-0x1F in a slave's answer (EN 13757-3 table 16). */
export const RECORD_ERRORS: Record<number, string> = {
  0x00: 'none', 0x01: 'too many DIFEs', 0x02: 'storage number not implemented', 0x03: 'unit number not implemented',
  0x04: 'tariff number not implemented', 0x05: 'function not implemented', 0x06: 'data class not implemented',
  0x07: 'data size not implemented', 0x0b: 'too many VIFEs', 0x0c: 'illegal VIF-group', 0x0d: 'illegal VIF-exponent',
  0x0e: 'VIF/DIF mismatch', 0x0f: 'unimplemented action', 0x15: 'no data available (undefined value)',
  0x16: 'data overflow', 0x17: 'data underflow', 0x18: 'data error', 0x1c: 'premature end of record',
};

const PER = ['second', 'minute', 'hour', 'day', 'week', 'month', 'year', 'revolution / measurement'];
const PER_SUFFIX = ['/s', '/min', '/h', '/d', '/week', '/month', '/year', '/rev'];
const PER_UNIT: Record<number, string> = {
  0x2c: 'litre', 0x2d: 'm3', 0x2e: 'kg', 0x2f: 'K', 0x30: 'kWh', 0x31: 'GJ', 0x32: 'kW', 0x33: 'K*l', 0x34: 'V', 0x35: 'A',
};
const SIMPLE: Record<number, [string, string]> = {
  0x28: ['per-input-pulse-0', 'increment per input pulse on channel 0'],
  0x29: ['per-input-pulse-1', 'increment per input pulse on channel 1'],
  0x2a: ['per-output-pulse-0', 'increment per output pulse on channel 0'],
  0x2b: ['per-output-pulse-1', 'increment per output pulse on channel 1'],
  0x36: ['times-s', 'multiplied by s'],
  0x37: ['times-s-per-v', 'multiplied by s/V'],
  0x38: ['times-s-per-a', 'multiplied by s/A'],
  0x39: ['start-date', 'start date(/time) of'],
  0x3a: ['uncorrected', 'uncorrected unit (metering conditions)'],
  0x3b: ['forward-flow', 'accumulation of positive contributions (forward flow)'],
  0x3c: ['backward-flow', 'accumulation of negative contributions (backward flow)'],
  0x3d: ['non-metric', 'alternate non-metric unit system'],
  0x3e: ['base-conditions', 'value at base conditions'],
  0x3f: ['obis-declaration', 'OBIS declaration'],
  0x40: ['lower-limit', 'lower limit value'],
  0x48: ['upper-limit', 'upper limit value'],
  0x41: ['lower-limit-exceeds', 'number of exceeds of lower limit'],
  0x49: ['upper-limit-exceeds', 'number of exceeds of upper limit'],
  0x68: ['value-during-lower-limit-exceed', 'value during lower limit exceed'],
  0x6c: ['value-during-upper-limit-exceed', 'value during upper limit exceed'],
  0x69: ['leakage', 'leakage values'],
  0x6d: ['overflow', 'overflow values'],
  0x7e: ['future-value', 'future value'],
};
const DURATION = ['s', 'min', 'h', 'd'];

/** Second-level table after VIFE 0xFC (extension of the combinable VIFEs). */
const EXTENSION_FC: Record<number, [string, string]> = {
  0x01: ['phase-l1', 'at phase L1'], 0x02: ['phase-l2', 'at phase L2'], 0x03: ['phase-l3', 'at phase L3'],
  0x04: ['neutral', 'at neutral (N)'], 0x05: ['phase-l1-l2', 'between phase L1 and L2'],
  0x06: ['phase-l2-l3', 'between phase L2 and L3'], 0x07: ['phase-l3-l1', 'between phase L3 and L1'],
  0x08: ['quadrant-1', 'at quadrant Q1'], 0x09: ['quadrant-2', 'at quadrant Q2'], 0x0a: ['quadrant-3', 'at quadrant Q3'],
  0x0b: ['quadrant-4', 'at quadrant Q4'], 0x0c: ['delta-import-export', 'delta between import and export'],
  0x10: ['accumulation-abs', 'accumulation of absolute value for both positive and negative contribution'],
  0x11: ['data-source-channel', 'data source channel'],
};

/** Decodes one combinable VIFE code (extension bit removed); undefined when reserved. */
export function decodeVife(code: number): VifeInfo | undefined {
  const c = code & 0x7f;
  if (c <= 0x1f) return { modifier: 'error', note: `error: ${RECORD_ERRORS[c] ?? `reserved error code 0x${c.toString(16)}`}`, error: c };
  if (c <= 0x27) return { modifier: `per-${PER[c - 0x20].split(' ')[0]}`, note: `per ${PER[c - 0x20]}`, unitSuffix: PER_SUFFIX[c - 0x20] };
  if (PER_UNIT[c]) return { modifier: `per-${PER_UNIT[c]}`, note: `per ${PER_UNIT[c]}`, unitSuffix: `/${PER_UNIT[c]}` };
  if (SIMPLE[c]) return { modifier: SIMPLE[c][0], note: SIMPLE[c][1] };
  const ul = (c & 0x08) ? 'upper' : 'lower';
  const fl = (c & 0x04) ? 'last' : 'first';
  if ((c & 0x72) === 0x42) {
    return { modifier: `${ul}-limit-exceed-date`, note: `date(/time) of ${(c & 1) ? 'end' : 'begin'} of ${fl} ${ul} limit exceed` };
  }
  if ((c & 0x70) === 0x50) return { modifier: `${ul}-limit-exceed-duration`, note: `duration of ${fl} ${ul} limit exceed (${DURATION[c & 3]})` };
  if ((c & 0x78) === 0x60) return { modifier: 'duration', note: `duration of ${fl} (${DURATION[c & 3]})` };
  if ((c & 0x7a) === 0x6a) return { modifier: 'date-of', note: `date(/time) of ${(c & 1) ? 'end' : 'begin'} of ${fl}` };
  if (c >= 0x70 && c <= 0x77) {
    const e = (c & 7) - 6;
    return { modifier: 'correction-factor', note: `multiplicative correction factor 10^${e}`, factor: 10 ** e };
  }
  if (c >= 0x78 && c <= 0x7b) return { modifier: 'additive-correction', note: `additive correction constant 10^${(c & 3) - 3} x unit` };
  if (c === 0x7d) return { modifier: 'correction-factor', note: 'multiplicative correction factor 10^3', factor: 1000 };
  return undefined;
}

/** Decodes the code following VIFE 0xFC. */
export function decodeVifeExtension(code: number): VifeInfo | undefined {
  const e = EXTENSION_FC[code & 0x7f];
  return e ? { modifier: e[0], note: e[1] } : undefined;
}
