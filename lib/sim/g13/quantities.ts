/**
 * Quantity catalogues (manual 6.3.28 /parametermapping, 6.3.29 /storablequantities, 6.3.30
 * /associationobjects), as data. Ids follow the manual; see the digest 003-g13.md section 5.
 */

const L = ['L1', 'L2', 'L3'];
const entries: [number, string][] = [];
const add = (id: number, name: string) => entries.push([id, name]);
const seq = (start: number, names: string[]) => names.forEach((n, i) => add(start + i, n));

// 1-44 energies
seq(1, ['ACTIVE_ENERGY_IMPORT_TOTAL', 'ACTIVE_ENERGY_EXPORT_TOTAL', ...L.map((l) => `ACTIVE_ENERGY_IMPORT_${l}`), ...L.map((l) => `ACTIVE_ENERGY_EXPORT_${l}`)]);
seq(9, [1, 2, 3, 4].map((t) => `ACTIVE_ENERGY_IMPORT_TAR${t}`));
seq(13, ['ACTIVE_ENERGY_NET_TOTAL', ...L.map((l) => `ACTIVE_ENERGY_NET_${l}`)]);
seq(17, [1, 2, 3, 4].map((t) => `REACTIVE_ENERGY_IMPORT_TAR${t}`));
seq(21, ['REACTIVE_ENERGY_IMPORT_TOTAL', 'REACTIVE_ENERGY_EXPORT_TOTAL', ...L.map((l) => `REACTIVE_ENERGY_IMPORT_${l}`), ...L.map((l) => `REACTIVE_ENERGY_EXPORT_${l}`)]);
seq(29, ['REACTIVE_ENERGY_NET_TOTAL', ...L.map((l) => `REACTIVE_ENERGY_NET_${l}`)]);
seq(33, ['APPARENT_ENERGY_IMPORT_TOTAL', 'APPARENT_ENERGY_EXPORT_TOTAL', ...L.map((l) => `APPARENT_ENERGY_IMPORT_${l}`), ...L.map((l) => `APPARENT_ENERGY_EXPORT_${l}`), 'APPARENT_ENERGY_NET_TOTAL', ...L.map((l) => `APPARENT_ENERGY_NET_${l}`)]);
// 51-108 I/O and instantaneous values
seq(51, [1, 2, 3, 4].map((n) => `IO_INPUT_CUMULATION_${n}`));
seq(55, [1, 2, 3, 4].map((n) => `IO_STORED_INPUT_STATE_${n}`));
seq(59, ['L1', 'L2', 'L3', 'L1_L2', 'L2_L3', 'L1_L3'].map((l) => `THD_VOLTAGE_${l}`));
seq(65, ['L1', 'L2', 'L3', 'NEUTRAL'].map((l) => `THD_CURRENT_${l}`));
seq(69, L.flatMap((l) => [`VOLTAGE_${l}`, `CURRENT_${l}`, `POWER_FACTOR_${l}`]));
seq(78, ['VOLTAGE_L1_L2', 'VOLTAGE_L2_L3', 'VOLTAGE_L1_L3', 'CURRENT_NEUTRAL', 'POWER_FACTOR_TOTAL', 'NRG_CONVERSION_FACTOR_CURR', 'NRG_CONVERSION_FACTOR_CO2']);
seq(85, [1, 2, 3, 4].map((t) => `ACTIVE_ENERGY_EXPORT_TAR${t}`));
seq(89, [1, 2, 3, 4].map((t) => `REACTIVE_ENERGY_EXPORT_TAR${t}`));
for (const [i, kind] of ['ACTIVE_POWER', 'REACTIVE_POWER', 'APPARENT_POWER', 'PHASE_ANGLE_POWER'].entries()) {
  seq(93 + i * 4, ['L1', 'L2', 'L3', 'TOTAL'].map((l) => `${kind}_${l}`));
}
// 109-124 objects
seq(109, ['PREVIOUS_VALUES', 'DEMAND', 'LOAD_PROFILE_CH_1', 'ALARM_SETTINGS_1', 'NRG_ENERGY_VALUE_CURR', 'TARIFF_CALENDAR_CONFIG',
  'TARIFF_SPECIAL_DAYS_CONFIG', 'IO_SETTING', 'IO_PULSE_LENGTH_1', 'SYSTEM_STATUS_ERROR', 'SYSTEM_STATUS_WARNING', 'SYSTEM_STATUS_INFO',
  'LOG_SYSTEM', 'NRG_ENERGY_VALUE_CO2', 'LOG_EVENT', 'LOG_QUALITY']);
// 137-199 device and misc
seq(137, ['SERIAL_NR', 'TYPE_DESIGNATION', 'FIRMWARE_VERSION', 'HARDWARE_VERSION_0', 'TRAFO_CT_RATIO_NUMERATOR', 'TRAFO_CT_RATIO_DENOMINATOR',
  'TRAFO_VT_RATIO_NUMERATOR', 'TRAFO_VT_RATIO_DENOMINATOR']);
add(146, 'CLOCK');
seq(149, ['TARIFF_ACTIVE_DAY_TYPE', 'TARIFF_ACTIVE_SEASON', 'POWER_OUTAGE_TIME', 'POWER_FAIL_COUNTER']);
add(156, 'HDLCD_SLAVE_BACKPLANE_1');
seq(158, L.flatMap((l) => [`PHASE_ANGLE_VOLTAGE_${l}`, `PHASE_ANGLE_CURRENT_${l}`, `CURRENT_QUADRANT_${l}`]));
seq(169, ['CURRENT_QUADRANT_TOTAL', 'FREQUENCY', 'RSTREG_ACT_ENERGY_IMP', 'RSTREG_ACT_ENERGY_EXP', 'RSTREG_REACT_ENERGY_IMP', 'RSTREG_REACT_ENERGY_EXP',
  'RSTREG_ACT_CNTR_IMP', 'RSTREG_ACT_CNTR_EXP', 'RSTREG_REACT_CNTR_IMP', 'RSTREG_REACT_CNTR_EXP']);
seq(179, ['L1', 'L2', 'L3', 'L1_L2', 'L2_L3', 'L1_L3'].map((l) => `HARMONICS_VOLTAGE_${l}`));
seq(185, ['L1', 'L2', 'L3', 'NEUTRAL'].map((l) => `HARMONICS_CURRENT_${l}`));
seq(189, ['TARIFF_ACTIVE', 'TARIFF_SOURCE', ...[1, 2, 3, 4, 5, 6, 7].map((n) => `HARDWARE_VERSION_${n}`), 'MBUS_CLIENT_0', 'TARIFF_INPUT_CONFIG']);

/** GET /parametermapping: {"map":{"<id>":"NAME"}}. */
export const PARAMETER_MAP: Readonly<Record<string, string>> = Object.freeze(Object.fromEntries(entries.map(([id, n]) => [String(id), n])));

const range = (a: number, b: number) => Array.from({ length: b - a + 1 }, (_, i) => a + i);

/** GET /storablequantities: ids usable in previous values, load profiles, demand and alarms. */
export const STORABLE = Object.freeze({
  pv: [...range(1, 44), ...range(51, 54), 113, 122, ...range(85, 92), ...range(171, 174)],
  lp: [...range(1, 8), ...range(21, 28), ...range(33, 40), ...range(51, 54), 113, 122, ...range(69, 82), ...range(179, 188)],
  dm: [...range(51, 54), ...range(59, 70), 72, 73, 75, 76, ...range(78, 81), ...range(93, 104)],
  ac: [...range(59, 82), ...range(93, 104)],
});

/** Lowercase mapping names of stored values, e.g. 1 -> "active_import_total" (the manual's form). */
export function storedName(id: number): string {
  const name = PARAMETER_MAP[String(id)] ?? `quantity_${id}`;
  return name.toLowerCase().replace(/_energy_/, '_').replace(/^(active|reactive|apparent)_(import|export|net)_tar(\d)$/, '$1_$2_tariff$3');
}

/** Unit of a stored quantity (stored energies are Wh as in the manual's previous-values example). */
export function storedUnit(id: number): string {
  const n = PARAMETER_MAP[String(id)] ?? '';
  if (n.startsWith('ACTIVE_ENERGY')) return 'Wh';
  if (n.startsWith('REACTIVE_ENERGY')) return 'varh';
  if (n.startsWith('APPARENT_ENERGY')) return 'VAh';
  if (n.includes('POWER_FACTOR')) return '';
  if (n.includes('POWER')) return 'W';
  if (n.startsWith('VOLTAGE')) return 'V';
  if (n.startsWith('CURRENT')) return 'A';
  if (n.startsWith('THD') || n.startsWith('HARMONICS')) return '%';
  return '';
}

/**
 * The 256 association-object bits (6.3.30): 1-200 read, 201-220 reset, 221-256 configure.
 * The simulated meter firmware grants all; per meter type, harmonics (179-188, 59-68) only on Platinum
 * and the l2/l3 objects not on single-phase meters.
 */
export function associationBits(platinum: boolean, phases: number): number[] {
  const bits = Array.from({ length: 256 }, (_, i) => (i < 241 ? 1 : 0));
  const off = (ids: number[]) => ids.forEach((id) => { bits[id - 1] = 0; });
  if (!platinum) off([...range(59, 68), ...range(179, 188)]);
  if (phases === 1) off([4, 5, 7, 8, 15, 16, 24, 25, 27, 28, 31, 32, 72, 73, 74, 75, 76, 77, 78, 79, 80, 94, 95, 98, 99, 102, 103, 106, 107]);
  return bits;
}
