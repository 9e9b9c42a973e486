/**
 * M-Bus application layer (EN 13757-3): the CI field and what follows it. Variable data responses
 * (CI 0x72 long header, 0x7A short header, 0x78 no header, 0x76 MSB first), the fixed data structure
 * (CI 0x73 / 0x77, EN 1434-3), application errors (0x70) and alarms (0x71).
 */
import { decodeFrame, manufacturerName } from './frame';
import { decodeFixed } from './fixed';
import { idDigits } from './ids';
import { decodeRecords } from './records';
import { MbusDecodeError, type MbusHeader, type MbusTelegram } from './types';

/** Device type / medium codes of the fixed header (EN 13757-3 table 3). */
export const MEDIUM_NAMES: Record<number, string> = {
  0x00: 'Other', 0x01: 'Oil', 0x02: 'Electricity', 0x03: 'Gas', 0x04: 'Heat (outlet)', 0x05: 'Steam',
  0x06: 'Warm water (30-90 °C)', 0x07: 'Water', 0x08: 'Heat cost allocator', 0x09: 'Compressed air',
  0x0a: 'Cooling load meter (outlet)', 0x0b: 'Cooling load meter (inlet)', 0x0c: 'Heat (inlet)',
  0x0d: 'Heat / cooling load meter', 0x0e: 'Bus / system component', 0x0f: 'Unknown medium',
  0x10: 'Irrigation water', 0x11: 'Water data logger', 0x12: 'Gas data logger', 0x13: 'Gas converter',
  0x14: 'Calorific value', 0x15: 'Hot water (>= 90 °C)', 0x16: 'Cold water', 0x17: 'Dual register (hot/cold) water',
  0x18: 'Pressure', 0x19: 'A/D converter', 0x1a: 'Smoke detector', 0x1b: 'Room sensor', 0x1c: 'Gas detector',
  0x20: 'Breaker (electricity)', 0x21: 'Valve (gas or water)', 0x25: 'Customer unit (display)',
  0x28: 'Waste water', 0x29: 'Garbage', 0x2a: 'Carbon dioxide', 0x31: 'Communication controller',
  0x32: 'Unidirectional repeater', 0x33: 'Bidirectional repeater', 0x36: 'Radio converter (system side)',
  0x37: 'Radio converter (meter side)',
};

/** Application error codes after CI 0x70 (EN 13757-3 table 11). */
export const APPLICATION_ERRORS: Record<number, string> = {
  0x00: 'unspecified error', 0x01: 'unimplemented CI field', 0x02: 'buffer too long, truncated', 0x03: 'too many records',
  0x04: 'premature end of record', 0x05: 'more than 10 DIFEs', 0x06: 'more than 10 VIFEs', 0x07: 'reserved',
  0x08: 'application too busy for handling readout request', 0x09: 'too many readouts',
};

export const CI = {
  APPLICATION_ERROR: 0x70, ALARM: 0x71, LONG: 0x72, FIXED: 0x73, LONG_MSB: 0x76, FIXED_MSB: 0x77, NONE: 0x78, SHORT: 0x7a,
} as const;

export function mediumName(m: number): string {
  return MEDIUM_NAMES[m] ?? `Reserved (0x${m.toString(16).padStart(2, '0')})`;
}


function longHeader(d: Uint8Array, msbFirst: boolean): MbusHeader {
  if (d.length < 12) throw new MbusDecodeError(`long header truncated: ${d.length} of 12 bytes`, d.length);
  const man = msbFirst ? (d[4] << 8) | d[5] : d[4] | (d[5] << 8);
  return {
    id: idDigits(d, 0, msbFirst),
    manufacturer: manufacturerName(man),
    version: d[6],
    medium: d[7],
    mediumName: mediumName(d[7]),
    accessNumber: d[8],
    status: d[9],
    signature: msbFirst ? (d[10] << 8) | d[11] : d[10] | (d[11] << 8),
  };
}

/** Decodes the user data after the CI field. Offsets in errors count from the first byte after CI. */
export function decodeUserData(ci: number, data: Uint8Array): MbusTelegram {
  switch (ci) {
    case CI.LONG:
    case CI.LONG_MSB: {
      const msb = ci === CI.LONG_MSB;
      const header = longHeader(data, msb);
      return { ci, header, ...decodeRecords(data, 12, data.length, msb) };
    }
    case CI.SHORT: {
      if (data.length < 4) throw new MbusDecodeError(`short header truncated: ${data.length} of 4 bytes`, data.length);
      return { ci, header: null, shortHeader: { accessNumber: data[0], status: data[1], signature: data[2] | (data[3] << 8) }, ...decodeRecords(data, 4) };
    }
    case CI.NONE:
      return { ci, header: null, ...decodeRecords(data, 0) };
    case CI.FIXED:
    case CI.FIXED_MSB:
      return decodeFixed(ci, data);
    case CI.APPLICATION_ERROR: {
      const code = data.length > 0 ? data[0] : 0;
      if (data.length > 1) throw new MbusDecodeError(`application error has ${data.length - 1} byte(s) after its code`, 1);
      return { ci, header: null, records: [], moreRecordsFollow: false, applicationError: { code, text: APPLICATION_ERRORS[code] ?? 'reserved error code' } };
    }
    case CI.ALARM: {
      if (data.length !== 1) throw new MbusDecodeError(`alarm status needs 1 byte, got ${data.length}`, Math.min(data.length, 1));
      return { ci, header: null, records: [], moreRecordsFollow: false, alarm: { code: data[0], text: `alarm status 0x${data[0].toString(16).padStart(2, '0')}` } };
    }
    default:
      throw new MbusDecodeError(`CI 0x${ci.toString(16).padStart(2, '0').toUpperCase()} is not a slave response this decoder knows`, -1);
  }
}

/** Decodes a whole RSP_UD long frame; errors name offsets counted from the frame's first byte. */
export function decodeTelegram(bytes: Uint8Array): MbusTelegram {
  const f = decodeFrame(bytes);
  if (f.kind !== 'long') throw new MbusDecodeError(`${f.kind === 'ack' ? 'an ACK' : `a ${f.kind}`} frame carries no user data`, 0);
  try {
    return { c: f.c, a: f.a, ...decodeUserData(f.ci, f.data) };
  } catch (e) {
    if (e instanceof MbusDecodeError) throw new MbusDecodeError(e.reason, e.offset + 7);
    throw e;
  }
}
