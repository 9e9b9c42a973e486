/** Register data types a profile value can have. */
export type DataType = 'int16' | 'uint16' | 'int32' | 'uint32' | 'int64' | 'uint64' | 'float32' | 'float64';
export const DATA_TYPES: readonly DataType[] = ['int16', 'uint16', 'int32', 'uint32', 'int64', 'uint64', 'float32', 'float64'];

/** Which Modbus table a value is read from: holding registers (FC 3) or input registers (FC 4). */
export type RegisterTable = 'holding' | 'input';

/** Order of the 16-bit words of a multi-register value, and of the two bytes inside each word. */
export type Endian = 'big' | 'little';

/** Ratio a value is multiplied by: current transformer, voltage transformer, or both (power, energy). */
export type RatioKind = 'ct' | 'vt' | 'ct*vt';

export interface Encoding {
  type: DataType;
  /** big = most significant word first ("ABCD"); little = least significant word first ("CDAB"). */
  wordOrder: Endian;
  /** big = high byte first inside each word (Modbus standard); little swaps them ("BADC"). */
  byteOrder: Endian;
}

export interface ProfileValue extends Partial<Encoding> {
  /** Reading OBIS code, e.g. "1-0:1.8.0". */
  obis: string;
  /** Short description from the manufacturer's table, e.g. "Total import kWh". */
  name: string;
  /** 0-based register address (protocol address, not the 30001/40001 reference number). */
  register: number;
  /** Holding (FC 3) or input (FC 4); defaults to the profile's. */
  table?: RegisterTable;
  /** Unit of the raw value after scaling, before conversion to canonical (e.g. "Wh", "kWh", "V"). */
  unit: string;
  /** Fixed multiplier applied to the raw value (e.g. 0.01). Default 1. */
  scale?: number;
  /**
   * Register-based scale factor (SunSpec style): an int16 register at this address holds n, and the
   * value is multiplied by 10^n. Read from the same table as the value.
   */
  scaleRegister?: number;
  /** Multiply by the meter's CT and/or VT ratio (for meters that report secondary values). */
  ratio?: RatioKind;
  /** Raw values the meter uses for "not available" (e.g. 0x8000, 0xFFFFFFFF); such a value gives no reading. */
  notAvailable?: number[];
}

export interface Profile {
  /** File name without .json, e.g. "eastron-sdm630". */
  id: string;
  manufacturer: string;
  model: string;
  /** The manufacturer's document the map was taken from (title, version). */
  source: string;
  description?: string;
  /** Encoding and table used where a value does not say otherwise. */
  defaults: Encoding & { table: RegisterTable };
  /** Most registers one request may read (the meter's limit; never above 125). */
  maxBlock: number;
  /** Largest gap of unused registers a block read may span to save a request (some meters refuse reads of undefined registers: 0). */
  maxGap?: number;
  /** The meter's Modbus defaults, for the editor and the README. */
  serial?: { baudRate: number; parity: 'none' | 'even' | 'odd'; dataBits: number; stopBits: number };
  values: ProfileValue[];
  /** The meter's load-profile log, when its registers expose one (what a backfill reads). */
  log?: ProfileLog;
}

/** One value of a log record, in record order after the time (and status). */
export interface LogValue {
  obis: string;
  name: string;
  /** Default: the profile's type. Word and byte order are the profile's. */
  type?: DataType;
  /** Unit after scaling (e.g. "Wh", "kWh"). */
  unit: string;
  /** Multiplier of the raw value. Default 1. */
  scale?: number;
}

/**
 * A log kept as a ring of fixed-size records in registers: a uint32 at countRegister holds the number of
 * records written (the sequence number of the newest, 1-based; 0 = empty); record n lives in slot
 * (n - 1) % capacity, at firstRecord + slot * recordSize. A record is the interval end time (uint32,
 * seconds since 1970-01-01 UTC), an optional uint16 status word, then the values.
 */
export interface ProfileLog {
  /** What the manufacturer calls it, e.g. "load profile". */
  name: string;
  /** Default: the profile's table. */
  table?: RegisterTable;
  countRegister: number;
  firstRecord: number;
  /** Records the ring holds. */
  capacity: number;
  /** Seconds between records. */
  intervalSeconds: number;
  /** Status bits -> quality flags of every value of the record, e.g. { "1": "ESTIMATED", "2": "SUSPECT" }. */
  status?: Record<string, 'ESTIMATED' | 'SUSPECT' | 'CLOCK_ADJUSTED' | 'COUNTER_RESET' | 'OVERFLOW'>;
  values: LogValue[];
}

/** A value with every default filled in: what the codec works with. */
export interface ResolvedValue extends Required<Pick<ProfileValue, 'obis' | 'name' | 'register' | 'unit'>>, Encoding {
  table: RegisterTable;
  scale: number;
  scaleRegister?: number;
  ratio?: RatioKind;
  notAvailable?: number[];
}
