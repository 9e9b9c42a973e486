/**
 * Value information tables of EN 13757-3 as data: the primary VIF table (VIF 0x00-0x7F without the
 * extension bit) and the two extension tables reached through VIF 0xFB and 0xFD. A row covers a
 * range of codes; numeric rows scale by 10^(exp + code - from), time rows pick their unit by code.
 * `kind` says how the data is read: a date or date/time, an identification number shown as digits,
 * a bit field, or a plain number (default).
 */
export type VifKind = 'number' | 'date' | 'datetime' | 'id' | 'bits' | 'text';

export interface VifRow {
  from: number;
  to: number;
  quantity: string;
  description: string;
  /** SI unit (exponent rows), or one unit per code (time rows: s, min, h, d). */
  unit: string | string[];
  /** Decimal exponent of the first code; each following code adds one. */
  exp?: number;
  kind?: VifKind;
}

export interface VifInfo {
  quantity: string;
  description: string;
  unit: string;
  /** value = raw * 10^exponent */
  exponent: number;
  kind: VifKind;
}

const T4 = ['s', 'min', 'h', 'd'];

/** Primary VIF table, EN 13757-3 clause 8.4.3 (code = VIF & 0x7F). */
export const PRIMARY_VIF: VifRow[] = [
  { from: 0x00, to: 0x07, quantity: 'energy', description: 'Energy', unit: 'Wh', exp: -3 },
  { from: 0x08, to: 0x0f, quantity: 'energy', description: 'Energy', unit: 'J', exp: 0 },
  { from: 0x10, to: 0x17, quantity: 'volume', description: 'Volume', unit: 'm3', exp: -6 },
  { from: 0x18, to: 0x1f, quantity: 'mass', description: 'Mass', unit: 'kg', exp: -3 },
  { from: 0x20, to: 0x23, quantity: 'on-time', description: 'On time', unit: T4 },
  { from: 0x24, to: 0x27, quantity: 'operating-time', description: 'Operating time', unit: T4 },
  { from: 0x28, to: 0x2f, quantity: 'power', description: 'Power', unit: 'W', exp: -3 },
  { from: 0x30, to: 0x37, quantity: 'power', description: 'Power', unit: 'J/h', exp: 0 },
  { from: 0x38, to: 0x3f, quantity: 'volume-flow', description: 'Volume flow', unit: 'm3/h', exp: -6 },
  { from: 0x40, to: 0x47, quantity: 'volume-flow', description: 'Volume flow', unit: 'm3/min', exp: -7 },
  { from: 0x48, to: 0x4f, quantity: 'volume-flow', description: 'Volume flow', unit: 'm3/s', exp: -9 },
  { from: 0x50, to: 0x57, quantity: 'mass-flow', description: 'Mass flow', unit: 'kg/h', exp: -3 },
  { from: 0x58, to: 0x5b, quantity: 'flow-temperature', description: 'Flow temperature', unit: '°C', exp: -3 },
  { from: 0x5c, to: 0x5f, quantity: 'return-temperature', description: 'Return temperature', unit: '°C', exp: -3 },
  { from: 0x60, to: 0x63, quantity: 'temperature-difference', description: 'Temperature difference', unit: 'K', exp: -3 },
  { from: 0x64, to: 0x67, quantity: 'external-temperature', description: 'External temperature', unit: '°C', exp: -3 },
  { from: 0x68, to: 0x6b, quantity: 'pressure', description: 'Pressure', unit: 'bar', exp: -3 },
  { from: 0x6c, to: 0x6c, quantity: 'date', description: 'Time point (date, type G)', unit: 'date', kind: 'date' },
  { from: 0x6d, to: 0x6d, quantity: 'date-time', description: 'Time point (date/time, type F/I/J)', unit: 'date', kind: 'datetime' },
  { from: 0x6e, to: 0x6e, quantity: 'hca', description: 'Units for H.C.A.', unit: 'HCA', exp: 0 },
  { from: 0x70, to: 0x73, quantity: 'averaging-duration', description: 'Averaging duration', unit: T4 },
  { from: 0x74, to: 0x77, quantity: 'actuality-duration', description: 'Actuality duration', unit: T4 },
  { from: 0x78, to: 0x78, quantity: 'fabrication-number', description: 'Fabrication number', unit: '', kind: 'id' },
  { from: 0x79, to: 0x79, quantity: 'enhanced-identification', description: 'Enhanced identification', unit: '', kind: 'id' },
  { from: 0x7a, to: 0x7a, quantity: 'bus-address', description: 'Bus address', unit: '', exp: 0 },
];

/** Extension table reached by VIF 0xFD (EN 13757-3 table 14; code = VIFE & 0x7F). */
export const FD_TABLE: VifRow[] = [
  { from: 0x00, to: 0x03, quantity: 'credit', description: 'Credit (local currency)', unit: '', exp: -3 },
  { from: 0x04, to: 0x07, quantity: 'debit', description: 'Debit (local currency)', unit: '', exp: -3 },
  { from: 0x08, to: 0x08, quantity: 'access-number', description: 'Access number (transmission count)', unit: '', exp: 0 },
  { from: 0x09, to: 0x09, quantity: 'medium', description: 'Medium', unit: '', exp: 0 },
  { from: 0x0a, to: 0x0a, quantity: 'manufacturer', description: 'Manufacturer', unit: '', exp: 0 },
  { from: 0x0b, to: 0x0b, quantity: 'parameter-set', description: 'Parameter set identification', unit: '', kind: 'id' },
  { from: 0x0c, to: 0x0c, quantity: 'model-version', description: 'Model / version', unit: '', exp: 0 },
  { from: 0x0d, to: 0x0d, quantity: 'hardware-version', description: 'Hardware version', unit: '', exp: 0 },
  { from: 0x0e, to: 0x0e, quantity: 'firmware-version', description: 'Firmware version', unit: '', exp: 0 },
  { from: 0x0f, to: 0x0f, quantity: 'software-version', description: 'Software version', unit: '', exp: 0 },
  { from: 0x10, to: 0x10, quantity: 'customer-location', description: 'Customer location', unit: '', kind: 'id' },
  { from: 0x11, to: 0x11, quantity: 'customer', description: 'Customer', unit: '', kind: 'id' },
  { from: 0x12, to: 0x12, quantity: 'access-code-user', description: 'Access code user', unit: '', kind: 'id' },
  { from: 0x13, to: 0x13, quantity: 'access-code-operator', description: 'Access code operator', unit: '', kind: 'id' },
  { from: 0x14, to: 0x14, quantity: 'access-code-system-operator', description: 'Access code system operator', unit: '', kind: 'id' },
  { from: 0x15, to: 0x15, quantity: 'access-code-developer', description: 'Access code developer', unit: '', kind: 'id' },
  { from: 0x16, to: 0x16, quantity: 'password', description: 'Password', unit: '', kind: 'id' },
  { from: 0x17, to: 0x17, quantity: 'error-flags', description: 'Error flags (binary)', unit: '', kind: 'bits' },
  { from: 0x18, to: 0x18, quantity: 'error-mask', description: 'Error mask', unit: '', kind: 'bits' },
  { from: 0x1a, to: 0x1a, quantity: 'digital-output', description: 'Digital output (binary)', unit: '', kind: 'bits' },
  { from: 0x1b, to: 0x1b, quantity: 'digital-input', description: 'Digital input (binary)', unit: '', kind: 'bits' },
  { from: 0x1c, to: 0x1c, quantity: 'baud-rate', description: 'Baud rate', unit: 'Bd', exp: 0 },
  { from: 0x1d, to: 0x1d, quantity: 'response-delay', description: 'Response delay time (bit times)', unit: '', exp: 0 },
  { from: 0x1e, to: 0x1e, quantity: 'retry', description: 'Retry', unit: '', exp: 0 },
  { from: 0x1f, to: 0x1f, quantity: 'remote-control', description: 'Remote control (device specific)', unit: '', kind: 'bits' },
  { from: 0x20, to: 0x20, quantity: 'first-storage', description: 'First storage number for cyclic storage', unit: '', exp: 0 },
  { from: 0x21, to: 0x21, quantity: 'last-storage', description: 'Last storage number for cyclic storage', unit: '', exp: 0 },
  { from: 0x22, to: 0x22, quantity: 'storage-block-size', description: 'Size of storage block', unit: '', exp: 0 },
  { from: 0x24, to: 0x27, quantity: 'storage-interval', description: 'Storage interval', unit: T4 },
  { from: 0x28, to: 0x28, quantity: 'storage-interval', description: 'Storage interval', unit: 'month', exp: 0 },
  { from: 0x29, to: 0x29, quantity: 'storage-interval', description: 'Storage interval', unit: 'year', exp: 0 },
  { from: 0x2a, to: 0x2a, quantity: 'operator-data', description: 'Operator specific data', unit: '', kind: 'bits' },
  { from: 0x2b, to: 0x2b, quantity: 'time-point-second', description: 'Time point second', unit: 's', exp: 0 },
  { from: 0x2c, to: 0x2f, quantity: 'since-last-readout', description: 'Duration since last readout', unit: T4 },
  { from: 0x30, to: 0x30, quantity: 'tariff-start', description: 'Start (date/time) of tariff', unit: 'date', kind: 'datetime' },
  { from: 0x31, to: 0x33, quantity: 'tariff-duration', description: 'Duration of tariff', unit: ['min', 'h', 'd'] },
  { from: 0x34, to: 0x37, quantity: 'tariff-period', description: 'Period of tariff', unit: T4 },
  { from: 0x38, to: 0x38, quantity: 'tariff-period', description: 'Period of tariff', unit: 'month', exp: 0 },
  { from: 0x39, to: 0x39, quantity: 'tariff-period', description: 'Period of tariff', unit: 'year', exp: 0 },
  { from: 0x3a, to: 0x3a, quantity: 'dimensionless', description: 'Dimensionless / no VIF', unit: '', exp: 0 },
  { from: 0x3c, to: 0x3f, quantity: 'transmission-period', description: 'Period of nominal data transmissions', unit: T4 },
  { from: 0x40, to: 0x4f, quantity: 'voltage', description: 'Voltage', unit: 'V', exp: -9 },
  { from: 0x50, to: 0x5f, quantity: 'current', description: 'Current', unit: 'A', exp: -12 },
  { from: 0x60, to: 0x60, quantity: 'reset-counter', description: 'Reset counter', unit: '', exp: 0 },
  { from: 0x61, to: 0x61, quantity: 'cumulation-counter', description: 'Cumulation counter', unit: '', exp: 0 },
  { from: 0x62, to: 0x62, quantity: 'control-signal', description: 'Control signal', unit: '', kind: 'bits' },
  { from: 0x63, to: 0x63, quantity: 'day-of-week', description: 'Day of week', unit: '', exp: 0 },
  { from: 0x64, to: 0x64, quantity: 'week-number', description: 'Week number', unit: '', exp: 0 },
  { from: 0x65, to: 0x65, quantity: 'day-change', description: 'Time point of day change', unit: '', exp: 0 },
  { from: 0x66, to: 0x66, quantity: 'parameter-activation', description: 'State of parameter activation', unit: '', kind: 'bits' },
  { from: 0x67, to: 0x67, quantity: 'supplier-information', description: 'Special supplier information', unit: '', kind: 'bits' },
  { from: 0x68, to: 0x6b, quantity: 'since-last-cumulation', description: 'Duration since last cumulation', unit: ['h', 'd', 'month', 'year'] },
  { from: 0x6c, to: 0x6f, quantity: 'battery-operating-time', description: 'Operating time battery', unit: ['h', 'd', 'month', 'year'] },
  { from: 0x70, to: 0x70, quantity: 'battery-change', description: 'Date and time of battery change', unit: 'date', kind: 'datetime' },
  { from: 0x71, to: 0x71, quantity: 'rf-level', description: 'RF level', unit: 'dBm', exp: 0 },
  { from: 0x72, to: 0x72, quantity: 'daylight-saving', description: 'Daylight saving', unit: '', kind: 'bits' },
  { from: 0x73, to: 0x73, quantity: 'listening-window', description: 'Listening window management', unit: '', kind: 'bits' },
  { from: 0x74, to: 0x74, quantity: 'battery-remaining', description: 'Remaining battery life time', unit: 'd', exp: 0 },
  { from: 0x75, to: 0x75, quantity: 'meter-stops', description: 'Number of times the meter was stopped', unit: '', exp: 0 },
];

/** Extension table reached by VIF 0xFB (EN 13757-3 table 13; code = VIFE & 0x7F). */
export const FB_TABLE: VifRow[] = [
  { from: 0x00, to: 0x01, quantity: 'energy', description: 'Energy', unit: 'Wh', exp: 5 },
  { from: 0x02, to: 0x03, quantity: 'reactive-energy', description: 'Reactive energy', unit: 'varh', exp: 3 },
  { from: 0x08, to: 0x09, quantity: 'energy', description: 'Energy', unit: 'J', exp: 8 },
  { from: 0x0c, to: 0x0f, quantity: 'energy-cal', description: 'Energy (MCal)', unit: 'cal', exp: 5 },
  { from: 0x10, to: 0x11, quantity: 'volume', description: 'Volume', unit: 'm3', exp: 2 },
  { from: 0x14, to: 0x17, quantity: 'reactive-power', description: 'Reactive power', unit: 'var', exp: 0 },
  { from: 0x18, to: 0x19, quantity: 'mass', description: 'Mass', unit: 'kg', exp: 5 },
  { from: 0x1a, to: 0x1b, quantity: 'relative-humidity', description: 'Relative humidity', unit: '%', exp: -1 },
  { from: 0x21, to: 0x21, quantity: 'volume', description: 'Volume (0.1 ft3)', unit: 'ft3', exp: -1 },
  { from: 0x22, to: 0x23, quantity: 'volume-gallon', description: 'Volume (US gallon)', unit: 'gal', exp: -1 },
  { from: 0x24, to: 0x24, quantity: 'volume-flow-gallon', description: 'Volume flow (0.001 US gallon/min)', unit: 'gal/min', exp: -3 },
  { from: 0x25, to: 0x25, quantity: 'volume-flow-gallon', description: 'Volume flow (US gallon/min)', unit: 'gal/min', exp: 0 },
  { from: 0x26, to: 0x26, quantity: 'volume-flow-gallon', description: 'Volume flow (US gallon/h)', unit: 'gal/h', exp: 0 },
  { from: 0x28, to: 0x29, quantity: 'power', description: 'Power', unit: 'W', exp: 5 },
  { from: 0x2a, to: 0x2a, quantity: 'phase-u-u', description: 'Phase U-U (volt. to volt.)', unit: 'deg', exp: -1 },
  { from: 0x2b, to: 0x2b, quantity: 'phase-u-i', description: 'Phase U-I (volt. to current)', unit: 'deg', exp: -1 },
  { from: 0x2c, to: 0x2f, quantity: 'frequency', description: 'Frequency', unit: 'Hz', exp: -3 },
  { from: 0x30, to: 0x31, quantity: 'power', description: 'Power', unit: 'J/h', exp: 8 },
  { from: 0x34, to: 0x37, quantity: 'apparent-power', description: 'Apparent power', unit: 'VA', exp: 0 },
  { from: 0x58, to: 0x5b, quantity: 'flow-temperature', description: 'Flow temperature', unit: '°F', exp: -3 },
  { from: 0x5c, to: 0x5f, quantity: 'return-temperature', description: 'Return temperature', unit: '°F', exp: -3 },
  { from: 0x60, to: 0x63, quantity: 'temperature-difference', description: 'Temperature difference (°F)', unit: '°F', exp: -3 },
  { from: 0x64, to: 0x67, quantity: 'external-temperature', description: 'External temperature', unit: '°F', exp: -3 },
  { from: 0x70, to: 0x73, quantity: 'temperature-limit', description: 'Cold / warm temperature limit', unit: '°F', exp: -3 },
  { from: 0x74, to: 0x77, quantity: 'temperature-limit', description: 'Cold / warm temperature limit', unit: '°C', exp: -3 },
  { from: 0x78, to: 0x7f, quantity: 'max-power-count', description: 'Cumulative count max power', unit: 'W', exp: -3 },
];

function index(rows: VifRow[]): (VifInfo | undefined)[] {
  const out: (VifInfo | undefined)[] = new Array(128).fill(undefined);
  for (const r of rows) {
    for (let c = r.from; c <= r.to; c++) {
      const perCode = Array.isArray(r.unit);
      out[c] = {
        quantity: r.quantity,
        description: r.description,
        unit: perCode ? (r.unit as string[])[c - r.from] : (r.unit as string),
        exponent: perCode ? 0 : (r.exp ?? 0) + (c - r.from),
        kind: r.kind ?? 'number',
      };
    }
  }
  return out;
}

const PRIMARY_INDEX = index(PRIMARY_VIF);
const FD_INDEX = index(FD_TABLE);
const FB_INDEX = index(FB_TABLE);

/** Looks a code (without extension bit) up in one table; undefined for reserved codes. */
export function lookupVif(table: 'primary' | 'FB' | 'FD', code: number): VifInfo | undefined {
  const t = table === 'primary' ? PRIMARY_INDEX : table === 'FD' ? FD_INDEX : FB_INDEX;
  return t[code & 0x7f];
}
