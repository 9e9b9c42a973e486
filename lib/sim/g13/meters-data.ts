/** Default meters behind the simulated gateway (data, not code). */
import type { G13MeterSpec } from './types';

export const DEFAULT_METERS: readonly G13MeterSpec[] = Object.freeze([
  // A44 512-100: 3-phase indirect, Advanced, Platinum (harmonics), RS-485 = EQ bus (Annexure 1 example).
  { serial: 'ABB_8', alias: 'ABB_8', location: 'Level1', protocol: 3, address: 17, label: 'A44 512-100', startEnergy: 12345.67, power: 4200 },
  // B23 312-100: 3-phase direct, Basic High, Silver, M-Bus.
  { serial: 'ABB_9', alias: 'ABB_9', location: 'Level1', protocol: 1, address: 18, label: 'B23 313-100', startEnergy: 2210.5, power: 1500 },
  // An M-Bus water meter (medium 0x07); simulator extension: energy/active gives the volume in m3.
  { serial: 'WTR_1', alias: 'Water main', location: 'Level2', protocol: 1, address: 12, kind: 'water', startEnergy: 431.275, power: 120 },
  // Found only by a scan (EQ bus address 19), then registered with PUT /meters.
  { serial: 'ABB_3', alias: 'ABB_3', location: 'Level2', protocol: 3, address: 19, label: 'A41 454-100', registered: false, startEnergy: 88.1, power: 300 },
] as G13MeterSpec[]);

/** M-Bus medium codes (EN 13757-3) for /mbusinfo "devicetype". */
export const MBUS_MEDIUM: Record<string, number> = { electricity: 0x02, water: 0x07 };
