/** The simulated gateway's state: users, meters, settings, event log, scan and firmware jobs. */
import { SimMeter } from './meter';
import { DEFAULT_METERS } from './meters-data';
import type { G13Access, G13MeterSpec, G13SimulatorOptions, G13User } from './types';

/** Gateway event ids (6.3.13). */
export const EV = {
  WS_STARTED: 0, GW_SETTIME: 2, GW_USER_ADDED: 4, GW_USER_DELETED: 5, GW_DEVICE_ADDED: 6, GW_DEVICE_DELETED: 7,
  GW_METER_NOTCONNECTED: 9, GW_REBOOT: 10, GW_STARTED: 11, GW_EVENTS_RESET: 12, GW_IP_ADDRESS_CHANGED: 13, GW_ALIAS_CHANGED: 14,
  GW_LD_FW_UPLOAD_COMPLETE: 15, GW_LD_FW_UPLOAD_FAIL: 16, GW_FW_UPGRADE_START: 17, GW_FW_UPGRADE_COMPLETE: 18,
  LD_FW_UPGRADE_START: 20, LD_FW_UPGRADE_COMPLETE: 21,
} as const;

export interface GwEvent { category: number; index: number; id: number; timestamp: string; type: number }
export interface UserState extends G13User { access: Record<string, G13Access>; session: boolean }

/** Local time without zone as the gateway prints it ("YYYY-MM-DDTHH:MM:SS"); the simulator's zone is UTC. */
export const fmtTime = (ms: number): string => new Date(ms).toISOString().slice(0, 19);

export const FACTORY_ADMIN: G13User = { name: 'admin', password: 'admin', admin: true };

export class Gateway {
  readonly clock: () => number;
  readonly latencyMs: number;
  readonly scanMs: number;
  users: UserState[];
  meters: SimMeter[];
  /** Gateway clock = clock() + offset; "not set" until POST /gateway/datetime when notSet. */
  clockOffset = 0;
  clockSet = true;
  info = { alias: 'Gateway', location: 'All Location', serial: 'ABB01E000000000001' };
  about = { cosemversion: 6, firmwareversion: 'G1.0.0.0', hardwareversion: 'H1.0', model: 'G13', jsonapiversion: '0.9', logicaldevicename: 'ABB01E00000000001', releasedate: '2012-08-30T14:06:26', serial: 1 };
  config = {
    ip: { dhcp: false, dns: false, gateway: '192.168.1.1', ip: '192.168.1.12', mac: '0.12.98.0.0.62', pdns: '0.0.0.0', sdns: '0.0.0.0', subnet: '255.255.255.0' },
    eqbus: { baudrate: 500000, interoctettimeout: 40 },
    'mbus-wired': { ack: 1000, delay_after_telegram: 1000, delay_before_requd2: 200, get_request: 0, meter_contact: 0, response_timeout: 0, response_timeout_base: 800 },
    'mbus-ir': { ack: 1000, delay_after_telegram: 1000, delay_before_requd2: 200, get_request: 0, meter_contact: 0, response_timeout: 0, response_timeout_base: 800 },
  };
  events: GwEvent[] = [];
  private eventIndex = 0;
  permitted: string[] = [];
  scan: { token: number; running: boolean; result: { token: number; serial: string; protocol: string; address: string }[]; timer: NodeJS.Timeout | null } =
    { token: 0, running: false, result: [], timer: null };
  firmware: { image: null | { size: number; kind: 'gateway' | 'meter' }; devices: { serial: string; status: string }[]; complete: number; timer: NodeJS.Timeout | null } =
    { image: null, devices: [], complete: 0, timer: null };
  /** /lasterror/<id> store; id 0 = no error. */
  private errors = new Map<number, string>();
  private errorId = 0;
  /** Fault injection: the next N per-meter GETs send 200 then a truncated body (recover via /lasterror). */
  truncateNext = 0;
  /** Fault injection: POST /gateway/reboot fails with 500 "Internal Server Error. Reboot failed.". */
  rebootFails = false;

  constructor(opts: G13SimulatorOptions = {}) {
    this.clock = opts.clock ?? Date.now;
    this.latencyMs = opts.latencyMs ?? 0;
    this.scanMs = opts.scanMs ?? 300;
    const factory = !opts.users;
    const force = opts.forcePasswordChange ?? factory;
    this.users = (opts.users ?? [FACTORY_ADMIN]).map((u) => ({
      ...u, access: { ...(u.access ?? {}) }, session: false, mustChangePassword: u.mustChangePassword ?? force,
    }));
    const now = this.clock();
    this.meters = (opts.meters ?? DEFAULT_METERS).map((m: G13MeterSpec) => new SimMeter(m, now));
    this.log(EV.GW_STARTED, 8, 1);
    this.log(EV.WS_STARTED, 8, 1);
  }

  now(): number { return this.clock() + this.clockOffset; }

  /** Appends a gateway event (newest first, at most 100 kept). */
  log(id: number, category = 8, type = 2): void {
    this.events.unshift({ category, index: ++this.eventIndex, id, timestamp: fmtTime(this.now()), type });
    if (this.events.length > 100) this.events.length = 100;
  }

  resetEvents(): void { this.events = []; this.eventIndex = 0; }

  recordError(des: string): number { this.errorId++; this.errors.set(this.errorId, des); if (this.errors.size > 32) this.errors.delete(this.errorId - 32); return this.errorId; }
  lastError(id: number): string | undefined { return id === 0 ? '' : this.errors.get(id); }

  findUser(name: string): UserState | undefined { return this.users.find((u) => u.name === name); }
  meter(serial: string): SimMeter | undefined { return this.meters.find((m) => m.spec.serial === serial); }
  registered(): SimMeter[] { return this.meters.filter((m) => m.registered); }

  /** A user's right on a meter; the gateway admin configures everything. */
  accessOf(user: UserState, serial: string): G13Access {
    if (user.admin) return 'configure';
    return user.access[serial] ?? 'none';
  }

  stop(): void {
    if (this.scan.timer) clearTimeout(this.scan.timer);
    if (this.firmware.timer) clearTimeout(this.firmware.timer);
    this.scan.timer = null; this.firmware.timer = null;
  }
}
