/**
 * M-Bus application layer (EN 13757-3) types: the decoded telegram, its header and its data records.
 * Values are as the meter sends them, scaled to the SI unit named in `unit` (before our unit normalisation).
 */

/** The fixed header of a long-header (CI 0x72/0x76) or fixed data structure (CI 0x73 ...) telegram. */
export interface MbusHeader {
  /** Identification number: 8 BCD digits as printed on the meter. */
  id: string;
  /** Manufacturer: 3 letters (EN 62056-21 / FLAG association). */
  manufacturer: string;
  version: number;
  /** Device type / medium code (e.g. 0x04 heat, 0x07 water, 0x03 gas, 0x02 electricity). */
  medium: number;
  mediumName: string;
  accessNumber: number;
  status: number;
  signature: number;
}

/** Access number, status and signature of a short-header telegram (CI 0x7A). */
export interface MbusShortHeader {
  accessNumber: number;
  status: number;
  signature: number;
}

export type MbusFunction = 'instantaneous' | 'maximum' | 'minimum' | 'error';

/** One variable data record (DIF, DIFEs, VIF, VIFEs, data). */
export interface MbusRecord {
  /** Position in the telegram's record list, from 0. */
  index: number;
  /** Offset of the DIF in the user data after CI. */
  offset: number;
  dif: number;
  dife: number[];
  vif: number;
  vife: number[];
  function: MbusFunction;
  /** Storage number: 0 current value, > 0 historic values (e.g. month ends). */
  storage: number;
  tariff: number;
  subunit: number;
  /** Machine name of what is measured: 'energy', 'volume', 'flow-temperature', ... */
  quantity: string;
  /** Human text, e.g. "Energy (Wh)" with VIFE notes such as "per hour". */
  description: string;
  /** SI unit of `value`: 'Wh', 'J', 'm3', 'kg', 'W', 'J/h', 'm3/h', 'kg/h', '°C', 'K', 'bar', 's', 'h', 'date', 'V', 'A', '' ... */
  unit: string;
  value: number | string | null;
  /** Epoch ms (UTC, the meter's local time read as UTC) for date and date/time records. */
  time?: number;
  /** The record's bytes, hex. */
  raw: string;
  /** Machine names of the combinable VIFEs ('per-hour', 'forward-flow', 'lower-limit', 'error', ...). */
  modifiers?: string[];
  /** Error state reported by an error VIFE (code 0 means none). */
  recordError?: { code: number; text: string };
  /** Why the record could not be understood (unknown VIF, manufacturer-specific, invalid data ...). */
  unknown?: string;
}

export interface MbusTelegram {
  /** Link layer control and address fields when decoded from a whole frame. */
  c?: number;
  a?: number;
  ci: number;
  /** Long header; null for a short-header telegram (then see shortHeader) or none. */
  header: MbusHeader | null;
  shortHeader?: MbusShortHeader;
  records: MbusRecord[];
  /** DIF 0x1F: the slave has more records to send (multi-telegram readout). */
  moreRecordsFollow: boolean;
  /** Bytes after DIF 0x0F/0x1F, hex. */
  manufacturerData?: string;
  /** CI 0x70 application error. */
  applicationError?: { code: number; text: string };
  /** CI 0x71 alarm status. */
  alarm?: { code: number; text: string };
}

/** User data that cannot be decoded; `offset` is into the user data after CI (or the frame for decodeTelegram). */
export class MbusDecodeError extends Error {
  constructor(readonly reason: string, readonly offset: number) {
    super(`M-Bus decode error at offset ${offset}: ${reason}`);
    this.name = 'MbusDecodeError';
  }
}
