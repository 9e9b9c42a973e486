/**
 * The simulated meter's COSEM objects (Blue Book interface classes) and who may do what with them.
 * Pure: the clock is passed in, values come from the meter physics (server-energy.ts).
 *
 *   0-0:1.0.0.255    clock (8): time with deviation and status, settable; shift_time, adjust_to_quarter
 *   1-0:1.8.0.255    active energy import (3), Wh      1-0:2.8.0.255 export (3), Wh
 *   1-0:1.7.0.255    active power import (3), W        1-0:2.7.0.255 export (3), W
 *   1-0:32.7.0.255   voltage L1 (3), 0.1 V             1-0:31.7.0.255 current L1 (3), 0.01 A
 *   1-0:1.6.0.255    maximum demand import today (4, extended register: value and capture time)
 *   1-0:1.4.0.255    current average demand import (5, demand register)
 *   1-0:99.1.0.255   load profile (7): clock, 1.8.0, 2.8.0 every capture period (server-profile.ts)
 *   0-0:40.0.0.255   current association (15): object list, partners, status (HLS method 1 in server.ts)
 *   0-0:42.0.0.255   logical device name (1)           0-0:96.1.0.255 serial number (1)
 * Access: the public client (lowest) reads the clock, names and the object list; LLS reads everything
 * and sets the clock; HLS also runs the clock's methods.
 */
import { type DlmsData, dateTimeFromEpochMs, dateTimeToEpochMs, decodeDateTime, encodeDateTime } from './axdr';
import { obisToBytes } from './units';
import { meterPhysics, ENERGY_ORIGIN_MS, type MeterPhysics } from './server-energy';
import { PROFILE_CAPTURES, entriesInUse, profileBuffer, type ProfileSource } from './server-profile';
import type { AccessSelection, AttributeDescriptor, MethodDescriptor } from './xdlms';

/** public = lowest security (client SAP 0x10), reader = LLS (0x20), manager = HLS-GMAC (0x30). */
export type AccessLevel = 'public' | 'reader' | 'manager';
const RANK: Record<AccessLevel, number> = { public: 0, reader: 1, manager: 2 };

export const DataAccess = { success: 0, readWriteDenied: 3, objectUndefined: 4, classInconsistent: 9, objectUnavailable: 11, typeUnmatched: 12, otherReason: 250 } as const;

export interface MeterModelOptions {
  /** Seed of the meter physics; also its serial number and logical device name. */
  meterId: string;
  /** Real time, epoch ms (tests pass a fixed clock). */
  now?: () => number;
  /** Meter clock minus real time at start, ms. */
  clockOffsetMs?: number;
  /** The meter's local time offset east of UTC in minutes (60 = CET); deviation = -offset. */
  utcOffsetMinutes?: number;
  profilePeriodSeconds?: number;
  profileEntries?: number;
}

/** What the association object reports about the association asking. */
export interface AssociationView { level: AccessLevel; clientSap: number; serverSap: number; mechanism: number; ciphered: boolean; authenticated: boolean }

interface ObjectDef { classId: number; version: number; obis: string; attributes: number; methods: number; read: number; write?: Record<number, number>; run?: Record<number, number> }

const int = (type: 'integer' | 'long' | 'unsigned' | 'long-unsigned' | 'double-long' | 'double-long-unsigned' | 'enum', value: number): DlmsData => ({ type, value });
const octets = (b: Buffer): DlmsData => ({ type: 'octet-string', value: b });
const struct = (...items: DlmsData[]): DlmsData => ({ type: 'structure', items });
const scalerUnit = (scaler: number, unit: number) => struct(int('integer', scaler), int('enum', unit));

/** Registers (class 3) as value functions of real time: [obis, data type, scaler, unit, value]. */
type Reg = [string, 'double-long-unsigned' | 'double-long' | 'long-unsigned', number, number, (p: MeterPhysics, t: number) => number];
const REGISTERS: Reg[] = [
  ['1-0:1.8.0.255', 'double-long-unsigned', 0, 30, (p, t) => Math.floor(p.importWh(t))],
  ['1-0:2.8.0.255', 'double-long-unsigned', 0, 30, (p, t) => Math.floor(p.exportWh(t))],
  ['1-0:1.7.0.255', 'double-long', 0, 27, (p, t) => Math.round(p.importW(t))],
  ['1-0:2.7.0.255', 'double-long', 0, 27, (p, t) => Math.round(p.exportW(t))],
  ['1-0:32.7.0.255', 'long-unsigned', -1, 35, (p, t) => Math.round(p.voltage(t) * 10)],
  ['1-0:31.7.0.255', 'long-unsigned', -2, 33, (p, t) => Math.round((p.importW(t) / p.voltage(t)) * 100)],
];

const HLS = 2, LLS = 1, PUBLIC = 0;
/** A date-time with every field not specified (daylight saving begin/end: none). */
const UNSPECIFIED = encodeDateTime({ year: null, month: null, dayOfMonth: null, dayOfWeek: null, hour: null, minute: null, second: null, hundredths: null, deviation: null, clockStatus: null });
const OBJECTS: ObjectDef[] = [
  { classId: 15, version: 1, obis: '0-0:40.0.0.255', attributes: 8, methods: 4, read: PUBLIC, run: { 1: PUBLIC } },
  { classId: 1, version: 0, obis: '0-0:42.0.0.255', attributes: 2, methods: 0, read: PUBLIC },
  { classId: 1, version: 0, obis: '0-0:96.1.0.255', attributes: 2, methods: 0, read: PUBLIC },
  { classId: 8, version: 0, obis: '0-0:1.0.0.255', attributes: 9, methods: 6, read: PUBLIC, write: { 2: LLS }, run: { 1: HLS, 6: HLS } },
  ...REGISTERS.map(([obis]): ObjectDef => ({ classId: 3, version: 0, obis, attributes: 3, methods: 1, read: LLS })),
  { classId: 4, version: 0, obis: '1-0:1.6.0.255', attributes: 5, methods: 1, read: LLS },
  { classId: 5, version: 0, obis: '1-0:1.4.0.255', attributes: 9, methods: 2, read: LLS },
  { classId: 7, version: 1, obis: '1-0:99.1.0.255', attributes: 8, methods: 4, read: LLS },
];

export type ActionResult = { result: number; returned?: DlmsData };

export class CosemMeter {
  readonly physics: MeterPhysics;
  readonly profile: ProfileSource;
  private offsetMs: number;
  private readonly now: () => number;
  readonly utcOffsetMinutes: number;
  readonly periodSeconds: number;

  constructor(readonly o: MeterModelOptions) {
    this.physics = meterPhysics(o.meterId);
    this.now = o.now ?? Date.now;
    this.offsetMs = o.clockOffsetMs ?? 0;
    this.utcOffsetMinutes = o.utcOffsetMinutes ?? 0;
    this.periodSeconds = o.profilePeriodSeconds ?? 900;
    const self = this;
    this.profile = {
      meterNow: () => self.meterNow(), clockOffsetMs: () => self.offsetMs, utcOffsetMinutes: this.utcOffsetMinutes,
      registerAt: (obis, t) => self.registerValue(obis, t), periodSeconds: this.periodSeconds, entries: o.profileEntries ?? 2880, firstMs: ENERGY_ORIGIN_MS,
    };
  }

  /** The meter's clock, epoch ms. */
  meterNow(): number { return this.now() + this.offsetMs; }
  clockOffsetMs(): number { return this.offsetMs; }

  private find(classId: number, obis: string): ObjectDef | undefined {
    return OBJECTS.find((d) => d.obis === obis && d.classId === classId);
  }

  /** A register's value at real time `t`, as the register encodes it. */
  registerValue(obis: string, t: number): DlmsData {
    const r = REGISTERS.find((x) => x[0] === obis);
    if (!r) throw new RangeError(`no register ${obis}`);
    return int(r[1], r[4](this.physics, t));
  }

  private dateTime(meterMs: number): DlmsData {
    return octets(encodeDateTime(dateTimeFromEpochMs(meterMs, this.utcOffsetMinutes)));
  }

  /** Average import demand in W over the period ending at meter time `end`. */
  private demand(endMeterMs: number): number {
    const step = this.periodSeconds * 1000;
    const t = endMeterMs - this.offsetMs;
    return Math.round(((this.physics.importWh(t) - this.physics.importWh(t - step)) * 3_600_000) / step);
  }

  get(level: AccessLevel, d: AttributeDescriptor, selection: AccessSelection | undefined, assoc: AssociationView): { data: DlmsData } | { error: number } {
    const def = OBJECTS.find((x) => x.obis === d.obis);
    if (!def) return { error: DataAccess.objectUndefined };
    if (def.classId !== d.classId) return { error: DataAccess.classInconsistent };
    if (d.attribute < 1 || d.attribute > def.attributes) return { error: DataAccess.objectUndefined };
    if (d.attribute > 1 && RANK[level] < def.read) return { error: DataAccess.readWriteDenied };
    if (selection && def.classId !== 7) return { error: DataAccess.otherReason };
    if (d.attribute === 1) return { data: octets(obisToBytes(def.obis)) };
    const v = this.attribute(def, d.attribute, selection, assoc);
    return v ? { data: v } : { error: DataAccess.objectUnavailable };
  }

  private attribute(def: ObjectDef, attr: number, selection: AccessSelection | undefined, assoc: AssociationView): DlmsData | undefined {
    const now = this.now();
    const meterNow = now + this.offsetMs;
    switch (def.classId) {
      case 1: return def.obis === '0-0:42.0.0.255' ? octets(Buffer.from(`EMS${this.o.meterId}`.slice(0, 16))) : { type: 'visible-string', value: this.o.meterId };
      case 3: {
        const r = REGISTERS.find((x) => x[0] === def.obis) as Reg;
        return attr === 2 ? int(r[1], r[4](this.physics, now)) : scalerUnit(r[2], r[3]);
      }
      case 4: {
        // maximum average demand of the completed periods of today (at most 96), with its period's end
        const step = this.periodSeconds * 1000;
        const local = this.utcOffsetMinutes * 60_000;
        const midnight = Math.floor((meterNow + local) / 86_400_000) * 86_400_000 - local;
        let best = 0, at = midnight;
        for (let end = Math.floor(meterNow / step) * step, n = 0; end > midnight && n < 96; end -= step, n++) {
          const v = this.demand(end);
          if (v > best) { best = v; at = end; }
        }
        return [undefined, undefined, int('double-long-unsigned', best), scalerUnit(0, 27), int('unsigned', 0), this.dateTime(at)][attr];
      }
      case 5: {
        const step = this.periodSeconds * 1000;
        const start = Math.floor(meterNow / step) * step;
        const p = this.physics, t0 = start - this.offsetMs;
        const current = meterNow > start ? Math.round(((p.importWh(now) - p.importWh(t0)) * 3_600_000) / (meterNow - start)) : 0;
        const values: (DlmsData | undefined)[] = [undefined, undefined, int('double-long-unsigned', current), int('double-long-unsigned', this.demand(start)),
          scalerUnit(0, 27), int('unsigned', 0), this.dateTime(start), this.dateTime(start), int('double-long-unsigned', this.periodSeconds), int('long-unsigned', 1)];
        return values[attr];
      }
      case 7: {
        const captures: DlmsData = { type: 'array', items: PROFILE_CAPTURES.map((c) => struct(int('long-unsigned', c.classId), octets(obisToBytes(c.obis)), int('integer', c.attribute), int('long-unsigned', c.dataIndex))) };
        const values: (DlmsData | undefined)[] = [undefined, undefined, attr === 2 ? profileBuffer(this.profile, selection) : undefined, captures,
          int('double-long-unsigned', this.periodSeconds), int('enum', 1), (captures as { items: DlmsData[] }).items[0],
          int('double-long-unsigned', entriesInUse(this.profile)), int('double-long-unsigned', this.profile.entries)];
        return values[attr];
      }
      case 8: {
        const values: (DlmsData | undefined)[] = [undefined, undefined, this.dateTime(meterNow), int('long', -this.utcOffsetMinutes), int('unsigned', 0),
          octets(UNSPECIFIED), octets(UNSPECIFIED), int('integer', 0), { type: 'boolean', value: false }, int('enum', 1)];
        return values[attr];
      }
      case 15: return this.associationAttribute(attr, assoc);
    }
    return undefined;
  }

  private associationAttribute(attr: number, a: AssociationView): DlmsData | undefined {
    if (attr === 2) return this.objectList(a.level);
    if (attr === 3) return struct(int('integer', a.clientSap), int('long-unsigned', a.serverSap));
    if (attr === 4) return octets(Buffer.from([0x60, 0x85, 0x74, 0x05, 0x08, 0x01, a.ciphered ? 3 : 1]));
    if (attr === 6) return octets(Buffer.from([0x60, 0x85, 0x74, 0x05, 0x08, 0x02, a.mechanism]));
    if (attr === 8) return int('enum', a.authenticated ? 2 : 1);
    return undefined;
  }

  /** Attribute 2 of the association: every object with the access rights of this level (class 15 version 1 layout). */
  objectList(level: AccessLevel): DlmsData {
    const rank = RANK[level];
    return {
      type: 'array',
      items: OBJECTS.map((d) => {
        const attrs: DlmsData[] = [];
        for (let a = 1; a <= d.attributes; a++) {
          const read = a === 1 || rank >= d.read;
          const write = d.write?.[a] !== undefined && rank >= (d.write[a] as number);
          const selectors: DlmsData = d.classId === 7 && a === 2 && read ? { type: 'array', items: [int('integer', 1), int('integer', 2)] } : { type: 'null-data' };
          attrs.push(struct(int('integer', a), int('enum', (read ? 1 : 0) + (write ? 2 : 0)), selectors));
        }
        const methods: DlmsData[] = [];
        for (let m = 1; m <= d.methods; m++) methods.push(struct(int('integer', m), int('enum', d.run?.[m] !== undefined && rank >= (d.run[m] as number) ? 1 : 0)));
        return struct(int('long-unsigned', d.classId), int('unsigned', d.version), octets(obisToBytes(d.obis)), struct({ type: 'array', items: attrs }, { type: 'array', items: methods }));
      }),
    };
  }

  set(level: AccessLevel, d: AttributeDescriptor, value: DlmsData): number {
    const def = this.find(d.classId, d.obis);
    if (!def) return OBJECTS.some((x) => x.obis === d.obis) ? DataAccess.classInconsistent : DataAccess.objectUndefined;
    const need = def.write?.[d.attribute];
    if (need === undefined || RANK[level] < need) return DataAccess.readWriteDenied;
    // the clock's time (the only writable attribute)
    const dt = value.type === 'octet-string' && value.value.length === 12 ? decodeDateTime(value.value) : value.type === 'date-time' ? value.value : undefined;
    if (!dt) return DataAccess.typeUnmatched;
    const t = dateTimeToEpochMs({ ...dt, deviation: dt.deviation ?? -this.utcOffsetMinutes });
    if (t === null) return DataAccess.otherReason;
    this.offsetMs = t - this.now();
    return DataAccess.success;
  }

  /** ACTION on the clock: method 1 adjust_to_quarter, 6 shift_time(long seconds). The association's method 1 is the server's. */
  action(level: AccessLevel, m: MethodDescriptor, parameters: DlmsData | undefined): ActionResult {
    const def = this.find(m.classId, m.obis);
    if (!def) return { result: OBJECTS.some((x) => x.obis === m.obis) ? DataAccess.classInconsistent : DataAccess.objectUndefined };
    const need = def.run?.[m.method];
    if (need === undefined || RANK[level] < need) return { result: DataAccess.readWriteDenied };
    if (def.classId !== 8) return { result: DataAccess.otherReason };
    if (m.method === 1) {
      const q = 900_000, meterNow = this.meterNow();
      this.offsetMs += Math.round(meterNow / q) * q - meterNow;
      return { result: DataAccess.success };
    }
    const shift = parameters && parameters.type === 'long' ? parameters.value : undefined;
    if (shift === undefined || shift < -900 || shift > 900) return { result: DataAccess.typeUnmatched };
    this.offsetMs += shift * 1000;
    return { result: DataAccess.success };
  }
}
