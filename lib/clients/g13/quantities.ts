/**
 * G13 quantities as data: the /parametermapping ids (manual 6.3.28) with the OBIS code (IEC 62056-61,
 * not given by the manual) and the canonical unit we store them in. Quantities without a standard
 * OBIS code (line-to-line voltages, net reactive energy, THD, ...) have none and are not turned
 * into Readings; they stay in the raw response.
 */
export interface Quantity {
  id: number;
  name: string;
  obis?: string;
  /** Canonical unit (lib/model/units) of the reading. */
  unit?: string;
}

const E = (c: number, t = 0) => `1-0:${c}.8.${t}`;
const P = (c: number) => `1-0:${c}.7.0`;

/** [id, NAME, obis, unit] rows. */
const ROWS: [number, string, string | undefined, string | undefined][] = [
  [1, 'ACTIVE_ENERGY_IMPORT_TOTAL', E(1), 'kWh'], [2, 'ACTIVE_ENERGY_EXPORT_TOTAL', E(2), 'kWh'],
  [3, 'ACTIVE_ENERGY_IMPORT_L1', E(21), 'kWh'], [4, 'ACTIVE_ENERGY_IMPORT_L2', E(41), 'kWh'], [5, 'ACTIVE_ENERGY_IMPORT_L3', E(61), 'kWh'],
  [6, 'ACTIVE_ENERGY_EXPORT_L1', E(22), 'kWh'], [7, 'ACTIVE_ENERGY_EXPORT_L2', E(42), 'kWh'], [8, 'ACTIVE_ENERGY_EXPORT_L3', E(62), 'kWh'],
  [9, 'ACTIVE_ENERGY_IMPORT_TAR1', E(1, 1), 'kWh'], [10, 'ACTIVE_ENERGY_IMPORT_TAR2', E(1, 2), 'kWh'],
  [11, 'ACTIVE_ENERGY_IMPORT_TAR3', E(1, 3), 'kWh'], [12, 'ACTIVE_ENERGY_IMPORT_TAR4', E(1, 4), 'kWh'],
  [13, 'ACTIVE_ENERGY_NET_TOTAL', E(16), 'kWh'],
  [14, 'ACTIVE_ENERGY_NET_L1', E(36), 'kWh'], [15, 'ACTIVE_ENERGY_NET_L2', E(56), 'kWh'], [16, 'ACTIVE_ENERGY_NET_L3', E(76), 'kWh'],
  [17, 'REACTIVE_ENERGY_IMPORT_TAR1', E(3, 1), 'kvarh'], [18, 'REACTIVE_ENERGY_IMPORT_TAR2', E(3, 2), 'kvarh'],
  [19, 'REACTIVE_ENERGY_IMPORT_TAR3', E(3, 3), 'kvarh'], [20, 'REACTIVE_ENERGY_IMPORT_TAR4', E(3, 4), 'kvarh'],
  [21, 'REACTIVE_ENERGY_IMPORT_TOTAL', E(3), 'kvarh'], [22, 'REACTIVE_ENERGY_EXPORT_TOTAL', E(4), 'kvarh'],
  [23, 'REACTIVE_ENERGY_IMPORT_L1', E(23), 'kvarh'], [24, 'REACTIVE_ENERGY_IMPORT_L2', E(43), 'kvarh'], [25, 'REACTIVE_ENERGY_IMPORT_L3', E(63), 'kvarh'],
  [26, 'REACTIVE_ENERGY_EXPORT_L1', E(24), 'kvarh'], [27, 'REACTIVE_ENERGY_EXPORT_L2', E(44), 'kvarh'], [28, 'REACTIVE_ENERGY_EXPORT_L3', E(64), 'kvarh'],
  [29, 'REACTIVE_ENERGY_NET_TOTAL', undefined, 'kvarh'],
  [30, 'REACTIVE_ENERGY_NET_L1', undefined, 'kvarh'], [31, 'REACTIVE_ENERGY_NET_L2', undefined, 'kvarh'], [32, 'REACTIVE_ENERGY_NET_L3', undefined, 'kvarh'],
  [33, 'APPARENT_ENERGY_IMPORT_TOTAL', E(9), 'kVAh'], [34, 'APPARENT_ENERGY_EXPORT_TOTAL', E(10), 'kVAh'],
  [35, 'APPARENT_ENERGY_IMPORT_L1', E(29), 'kVAh'], [36, 'APPARENT_ENERGY_IMPORT_L2', E(49), 'kVAh'], [37, 'APPARENT_ENERGY_IMPORT_L3', E(69), 'kVAh'],
  [38, 'APPARENT_ENERGY_EXPORT_L1', E(30), 'kVAh'], [39, 'APPARENT_ENERGY_EXPORT_L2', E(50), 'kVAh'], [40, 'APPARENT_ENERGY_EXPORT_L3', E(70), 'kVAh'],
  [41, 'APPARENT_ENERGY_NET_TOTAL', undefined, 'kVAh'],
  [42, 'APPARENT_ENERGY_NET_L1', undefined, 'kVAh'], [43, 'APPARENT_ENERGY_NET_L2', undefined, 'kVAh'], [44, 'APPARENT_ENERGY_NET_L3', undefined, 'kVAh'],
  [69, 'VOLTAGE_L1', P(32), 'V'], [70, 'CURRENT_L1', P(31), 'A'], [71, 'POWER_FACTOR_L1', P(33), ''],
  [72, 'VOLTAGE_L2', P(52), 'V'], [73, 'CURRENT_L2', P(51), 'A'], [74, 'POWER_FACTOR_L2', P(53), ''],
  [75, 'VOLTAGE_L3', P(72), 'V'], [76, 'CURRENT_L3', P(71), 'A'], [77, 'POWER_FACTOR_L3', P(73), ''],
  [78, 'VOLTAGE_L1_L2', undefined, 'V'], [79, 'VOLTAGE_L2_L3', undefined, 'V'], [80, 'VOLTAGE_L1_L3', undefined, 'V'],
  [81, 'CURRENT_NEUTRAL', P(91), 'A'], [82, 'POWER_FACTOR_TOTAL', P(13), ''],
  [85, 'ACTIVE_ENERGY_EXPORT_TAR1', E(2, 1), 'kWh'], [86, 'ACTIVE_ENERGY_EXPORT_TAR2', E(2, 2), 'kWh'],
  [87, 'ACTIVE_ENERGY_EXPORT_TAR3', E(2, 3), 'kWh'], [88, 'ACTIVE_ENERGY_EXPORT_TAR4', E(2, 4), 'kWh'],
  [89, 'REACTIVE_ENERGY_EXPORT_TAR1', E(4, 1), 'kvarh'], [90, 'REACTIVE_ENERGY_EXPORT_TAR2', E(4, 2), 'kvarh'],
  [91, 'REACTIVE_ENERGY_EXPORT_TAR3', E(4, 3), 'kvarh'], [92, 'REACTIVE_ENERGY_EXPORT_TAR4', E(4, 4), 'kvarh'],
  [93, 'ACTIVE_POWER_L1', P(21), 'kW'], [94, 'ACTIVE_POWER_L2', P(41), 'kW'], [95, 'ACTIVE_POWER_L3', P(61), 'kW'], [96, 'ACTIVE_POWER_TOTAL', P(1), 'kW'],
  [97, 'REACTIVE_POWER_L1', P(23), 'kvar'], [98, 'REACTIVE_POWER_L2', P(43), 'kvar'], [99, 'REACTIVE_POWER_L3', P(63), 'kvar'], [100, 'REACTIVE_POWER_TOTAL', P(3), 'kvar'],
  [101, 'APPARENT_POWER_L1', P(29), 'kVA'], [102, 'APPARENT_POWER_L2', P(49), 'kVA'], [103, 'APPARENT_POWER_L3', P(69), 'kVA'], [104, 'APPARENT_POWER_TOTAL', P(9), 'kVA'],
  [170, 'FREQUENCY', P(14), 'Hz'],
];

export const QUANTITIES: ReadonlyMap<number, Quantity> = new Map(ROWS.map(([id, name, obis, unit]) => [id, { id, name, obis, unit }]));

/** Stored-value mapping names ("active_import_total": lowercase, without ENERGY_) to quantities. */
const BY_STORED_NAME = new Map<string, Quantity>();
for (const q of QUANTITIES.values()) {
  BY_STORED_NAME.set(q.name.toLowerCase(), q);
  BY_STORED_NAME.set(q.name.replace('_ENERGY_', '_').toLowerCase(), q);
}

/** The quantity of a stored-value mapping name or a parameter id; undefined when unknown. */
export function quantityOf(nameOrId: string | number): Quantity | undefined {
  if (typeof nameOrId === 'number' || /^\d+$/.test(nameOrId)) return QUANTITIES.get(Number(nameOrId));
  return BY_STORED_NAME.get(String(nameOrId).trim().toLowerCase().replace(/[\s-]+/g, '_'));
}

/** OBIS of one key path in the live resources (energy, power, instrument), e.g. ["importenergy","t2"]. */
export const ENERGY_KEYS: Record<string, Record<string, number>> = {
  active: { 'importenergy.total': 1, 'exportenergy.total': 2, 'importenergy.l1': 3, 'importenergy.l2': 4, 'importenergy.l3': 5,
    'exportenergy.l1': 6, 'exportenergy.l2': 7, 'exportenergy.l3': 8, 'importenergy.t1': 9, 'importenergy.t2': 10,
    'importenergy.t3': 11, 'importenergy.t4': 12, 'netenergy.total': 13, 'netenergy.l1': 14, 'netenergy.l2': 15, 'netenergy.l3': 16,
    'exportenergy.t1': 85, 'exportenergy.t2': 86, 'exportenergy.t3': 87, 'exportenergy.t4': 88 },
  reactive: { 'importenergy.total': 21, 'exportenergy.total': 22, 'importenergy.l1': 23, 'importenergy.l2': 24, 'importenergy.l3': 25,
    'exportenergy.l1': 26, 'exportenergy.l2': 27, 'exportenergy.l3': 28, 'importenergy.t1': 17, 'importenergy.t2': 18,
    'importenergy.t3': 19, 'importenergy.t4': 20, 'netenergy.total': 29, 'exportenergy.t1': 89, 'exportenergy.t2': 90,
    'exportenergy.t3': 91, 'exportenergy.t4': 92 },
  apparent: { 'importenergy.total': 33, 'exportenergy.total': 34, 'importenergy.l1': 35, 'importenergy.l2': 36, 'importenergy.l3': 37,
    'exportenergy.l1': 38, 'exportenergy.l2': 39, 'exportenergy.l3': 40, 'netenergy.total': 41 },
};

export const POWER_KEYS: Record<string, number> = {
  'active.l1': 93, 'active.l2': 94, 'active.l3': 95, 'active.total': 96,
  'reactive.l1': 97, 'reactive.l2': 98, 'reactive.l3': 99, 'reactive.total': 100,
  'apparent.l1': 101, 'apparent.l2': 102, 'apparent.l3': 103, 'apparent.total': 104,
};

export const INSTRUMENT_KEYS: Record<string, number> = {
  'l1.voltage': 69, 'l1.current': 70, 'l1.powerfactor': 71, 'l2.voltage': 72, 'l2.current': 73, 'l2.powerfactor': 74,
  'l3.voltage': 75, 'l3.current': 76, 'l3.powerfactor': 77, 'l1-l2.voltage': 78, 'l2-l3.voltage': 79, 'l1-l3.voltage': 80,
  'neutral.current': 81, 'total.powerfactor': 82, 'frequency.frequency': 170,
};

/** Gateway event ids (manual 6.3.13) and meter log ids (6.3.51). */
export const GATEWAY_EVENTS = ['WS_STARTED', 'WS_STOPPED', 'GW_SETTIME', 'GW_MAXUSER_LIMIT', 'GW_USER_ADDED', 'GW_USER_DELETED',
  'GW_DEVICE_ADDED', 'GW_DEVICE_DELETED', 'GW_CONNECTIONLIMIT', 'GW_METER_NOTCONNECTED', 'GW_REBOOT', 'GW_STARTED',
  'GW_EVENTS_RESET', 'GW_IP_ADDRESS_CHANGED', 'GW_ALIAS_CHANGED', 'GW_LD_FW_UPLOAD_COMPLETE', 'GW_LD_FW_UPLOAD_FAIL',
  'GW_FW_UPGRADE_START', 'GW_FW_UPGRADE_COMPLETE', 'GW_FW_UPGRADE_FAIL', 'LD_FW_UPGRADE_START', 'LD_FW_UPGRADE_COMPLETE', 'LD_FW_UPGRADE_FAIL'];
export const EVENT_CATEGORIES: Record<number, string> = { 1: 'exception', 2: 'error', 3: 'warning', 4: 'event', 8: 'information' };
export const EVENT_TYPES = ['empty', 'system', 'event', 'audit', 'quality', 'communication', 'transformer-ratio'];

export function meterLogName(id: number): string | undefined {
  const errors = ['AUDIT_LOG', 'PROGRAM_CRC', 'PERSISTENT_STORAGE', ...[1, 2, 3, 4, 5, 6, 7, 8].map((i) => `ABB_SPECIFIC_STR_${i}`), 'ACREF', 'TEMP_SENSOR', 'RTC_CIRCUIT'];
  const warnings = ['U1_MISSING', 'U2_MISSING', 'U3_MISSING', 'PHASE_CONN_NEUTRAL', 'NEG_POW_ELEMENT_1', 'NEG_POW_ELEMENT_2',
    'NEG_POW_ELEMENT_3', 'NEG_TOT_POW', 'FREQUENCY', 'EXTERNAL_INPUT', 'DATE_NOT_SET', 'TIME_NOT_SET'];
  if (id >= 40 && id <= 53) return `${errors[id - 40]}_ERROR`;
  if (id >= 1000 && id <= 1011) return `${warnings[id - 1000]}_WARNING`;
  if (id >= 2013 && id <= 2037) return `ALARM${id - 2012}_ACTIVE_INFO`;
  if (id === 2054) return 'PULSES_MERGED_INFO';
  if (id === 2055) return 'POWERFAIL_INFO';
  return undefined;
}
