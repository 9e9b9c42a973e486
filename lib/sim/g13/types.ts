/** Public option and state types of the ABB G13 gateway simulator (manual 2CMC489001M0201, chapter 6). */

/** Per-meter right of a user (6.3.21-23). */
export type G13Access = 'none' | 'view' | 'configure';

export interface G13User {
  /** Lowercase letters and digits only (manual 5.x user management). */
  name: string;
  password: string;
  /** Gateway admin: may change gateway settings, reboot, update gateway firmware, clear events. */
  admin: boolean;
  /** Per-meter rights keyed by meter serial; a meter not listed means 'none' (admins: 'configure'). */
  access?: Record<string, G13Access>;
  /** Still on the administrator-issued password: POST /login answers 403 until changed. */
  mustChangePassword?: boolean;
}

/** What kind of meter answers behind the gateway. */
export type G13MeterKind = 'electricity' | 'water';

export interface G13MeterSpec {
  /** Meter serial, <= 17 chars; the key of every /meters/<serial> path. */
  serial: string;
  alias?: string;
  location?: string;
  /** 1 M-Bus wired, 2 M-Bus IR, 3 EQ bus, 4 Wireless. */
  protocol: 1 | 2 | 3 | 4;
  /** HDLC address (EQ bus) or M-Bus primary address. */
  address: number;
  /** ABB type label "XYZ ABC-DEF" (Annexure 1), e.g. "A44 512-100"; drives phases and harmonics. */
  label?: string;
  /** Default 'electricity'. A water meter serves only status/info/mbusinfo and energy/active in m3. */
  kind?: G13MeterKind;
  /** false: not registered yet, only found by a scan (GET /meters/scanned) and added with PUT /meters. */
  registered?: boolean;
  /** Meter does not answer: every per-meter resource gives 500 "received invalid response from COSEM." */
  offline?: boolean;
  /** Active energy import total at the simulator's start, kWh (water: m3). */
  startEnergy?: number;
  /** Mean total active power, W (water: litres per hour). */
  power?: number;
  /** M-Bus identification number (mbusinfo id); default derived from the serial. */
  mbusId?: number;
}

export interface G13SimulatorOptions {
  /** HTTPS with a self-signed certificate made at start (default true); false = plain HTTP. */
  tls?: boolean;
  /** Default: the factory admin account G13_FACTORY_ADMIN (admin/admin). */
  users?: G13User[];
  /** Default: true only when users is left at the factory default. */
  forcePasswordChange?: boolean;
  /** Default: three meters (A44 on EQ bus, B23 on M-Bus, an M-Bus water meter) plus one unregistered. */
  meters?: G13MeterSpec[];
  /** Simulated wall clock, epoch ms (default Date.now). The gateway shows it as local time. */
  clock?: () => number;
  /** Added latency per per-meter request (a COSEM round trip), ms (default 0). */
  latencyMs?: number;
  /** Duration of a scan, ms (default 300). */
  scanMs?: number;
}
