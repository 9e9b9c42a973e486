/**
 * COSEM reads on top of a DlmsSession: registers as canonical readings, the clock, load profiles by
 * time range, the association's object list.
 *
 *   const c = new DlmsClient(session, { meter: 'grid-1' });
 *   await c.readRegisters(['1-0:1.8.0.255', { obis: '1-0:1.6.0.255', classId: 5 }])   -> Reading[]
 *   await c.readClock() / await c.setClock(Date.now())
 *   await c.readProfile('1-0:99.1.0.255', from, to)  -> { captures, rows: [{ time, values }] }
 *   await c.profileReadings(profile)                  -> Reading[] (register columns, at each row's time)
 *   await c.objectList()                              -> [{ classId, version, obis }]
 *
 * Registers (class 3): value attr 2, scaler_unit attr 3, time = now. Extended registers (class 4): time =
 * capture_time attr 5. Demand registers (class 5): the last completed period, last_average_value attr 3
 * with scaler_unit attr 4 and capture_time attr 6. scaler_units are read once per object and kept.
 */
import type { Reading } from '../../model/reading';
import { type CosemDateTime, type DlmsData, dateTimeFromEpochMs, dateTimeToEpochMs, decodeDateTime, encodeDateTime } from './axdr';
import { type CaptureObject, type ScalerUnit, captureObjects, profileRows, rangeDescriptor, registerReading, scalerUnitOf } from './cosem';
import { DlmsDecodeError } from './errors';
import type { DlmsSession } from './session';
import { DlmsServiceError } from './session';
import { obisFromBytes } from './units';
import type { AttributeRequest } from './xdlms';

export type RegisterClass = 3 | 4 | 5;
export type RegisterSpec = string | { obis: string; classId: RegisterClass };

export interface ClientOptions {
  /** EMS meter id written into readings. */
  meter: string;
  /** Attributes per GET with-list (default 10; 1 reads one by one, for meters without multiple-references). */
  listSize?: number;
  /** Rows per profile read at most (default 10 000). */
  maxRows?: number;
  /** Objects in the object list at most (default 5000). */
  maxObjects?: number;
  /** Clock for readings of class 3 registers (default Date.now). */
  now?: () => number;
}

export interface ClockReading {
  /** Epoch ms, UTC; null when the meter's date-time is not fully specified. */
  time: number | null;
  dateTime: CosemDateTime;
  /** Deviation in minutes as the meter sends it (UTC = local + deviation); null when not specified. */
  deviation: number | null;
  clockStatus: number | null;
}

export interface ProfileResult {
  captures: CaptureObject[];
  rows: { time: number | null; values: { capture: CaptureObject; value: DlmsData }[] }[];
}

export interface CosemObject { classId: number; version: number; obis: string }

const CLOCK = '0-0:1.0.0.255';
const CURRENT_ASSOCIATION = '0-0:40.0.0.255';
/** Per class: [value attribute, scaler_unit attribute, capture_time attribute]. */
const ATTRIBUTES: Record<RegisterClass, [number, number, number | undefined]> = { 3: [2, 3, undefined], 4: [2, 3, 5], 5: [3, 4, 6] };

function dateTimeOf(d: DlmsData, what: string): CosemDateTime {
  if (d.type === 'octet-string' && d.value.length === 12) return decodeDateTime(d.value);
  if (d.type === 'date-time') return d.value;
  throw new DlmsDecodeError(`${what} is a ${d.type}${d.type === 'octet-string' ? ` of ${d.value.length} bytes` : ''}, a 12-byte date-time expected`);
}

export class DlmsClient {
  private readonly scalers = new Map<string, ScalerUnit>();
  private readonly captures = new Map<string, CaptureObject[]>();
  private readonly listSize: number;
  private readonly maxRows: number;
  private readonly maxObjects: number;
  private readonly now: () => number;

  constructor(readonly session: DlmsSession, private readonly o: ClientOptions) {
    this.listSize = o.listSize ?? 10;
    this.maxRows = o.maxRows ?? 10_000;
    this.maxObjects = o.maxObjects ?? 5000;
    this.now = o.now ?? Date.now;
    if (!Number.isInteger(this.listSize) || this.listSize < 1 || this.listSize > 64) throw new RangeError(`listSize ${o.listSize} is not 1..64`);
  }

  /** Reads registers as canonical readings; a register the meter refuses fails the whole read, naming it. */
  async readRegisters(specs: RegisterSpec[]): Promise<Reading[]> {
    const regs = specs.map((s) => (typeof s === 'string' ? { obis: s, classId: 3 as RegisterClass } : s));
    for (const r of regs) if (!ATTRIBUTES[r.classId]) throw new RangeError(`${r.obis}: class ${r.classId} is not a register (3), extended register (4) or demand register (5)`);
    const unknown = regs.filter((r) => !this.scalers.has(r.obis));
    const scalerData = await this.getMany(unknown.map((r) => ({ descriptor: { classId: r.classId, obis: r.obis, attribute: ATTRIBUTES[r.classId][1] } })));
    unknown.forEach((r, i) => this.scalers.set(r.obis, scalerUnitOf(scalerData[i])));
    const requests: AttributeRequest[] = [];
    for (const r of regs) {
      const [value, , capture] = ATTRIBUTES[r.classId];
      requests.push({ descriptor: { classId: r.classId, obis: r.obis, attribute: value } });
      if (capture !== undefined) requests.push({ descriptor: { classId: r.classId, obis: r.obis, attribute: capture } });
    }
    const data = await this.getMany(requests);
    const out: Reading[] = [];
    let k = 0;
    const now = this.now();
    for (const r of regs) {
      const value = data[k++];
      let time = now;
      if (ATTRIBUTES[r.classId][2] !== undefined) {
        const t = dateTimeToEpochMs(dateTimeOf(data[k++], `${r.obis} capture_time`));
        if (t !== null) time = t;
      }
      out.push(registerReading(this.o.meter, r.obis, value, this.scalers.get(r.obis) as ScalerUnit, time));
    }
    return out;
  }

  async readClock(): Promise<ClockReading> {
    const dt = dateTimeOf(await this.session.get({ classId: 8, obis: CLOCK, attribute: 2 }), `${CLOCK} time`);
    return { time: dateTimeToEpochMs(dt), dateTime: dt, deviation: dt.deviation, clockStatus: dt.clockStatus };
  }

  /**
   * Sets the meter's clock to `ms` in the meter's own time zone: its time_zone attribute (3, minutes
   * from UTC as the meter keeps it) unless `deviation` is given; clock status 0 (valid).
   */
  async setClock(ms: number, deviation?: number): Promise<CosemDateTime> {
    if (!Number.isFinite(ms)) throw new RangeError(`clock time ${ms} is not a number`);
    let dev = deviation;
    if (dev === undefined) {
      const tz = await this.session.get({ classId: 8, obis: CLOCK, attribute: 3 });
      dev = tz.type === 'long' ? tz.value : 0;
    }
    if (!Number.isInteger(dev) || dev < -720 || dev > 840) throw new RangeError(`clock deviation ${dev} is not -720..840 minutes`);
    const dt = dateTimeFromEpochMs(ms, -dev, 0);
    await this.session.set({ classId: 8, obis: CLOCK, attribute: 2 }, { type: 'octet-string', value: encodeDateTime(dt) });
    return dt;
  }

  /** Rows of a profile generic (class 7) whose clock lies in [from, to] (epoch ms); times in the meter's deviation. */
  async readProfile(obis: string, from: number, to: number, deviation = 0): Promise<ProfileResult> {
    if (!(from <= to)) throw new RangeError(`profile range from ${from} to ${to} is empty`);
    let captures = this.captures.get(obis);
    if (!captures) {
      captures = captureObjects(await this.session.get({ classId: 7, obis, attribute: 3 }));
      this.captures.set(obis, captures);
    }
    const selection = rangeDescriptor({ from: dateTimeFromEpochMs(from, -deviation), to: dateTimeFromEpochMs(to, -deviation) });
    const buffer = await this.session.get({ classId: 7, obis, attribute: 2 }, selection);
    if ((buffer.type === 'array' || buffer.type === 'compact-array') && buffer.items.length > this.maxRows) {
      throw new DlmsDecodeError(`${obis}: ${buffer.items.length} profile rows, more than ${this.maxRows}: ask for a shorter range`, -1, 'limit');
    }
    const rows = profileRows(buffer, captures).map((r) => ({ time: r.dateTime ? dateTimeToEpochMs(r.dateTime) : null, values: r.values }));
    return { captures, rows };
  }

  /**
   * The register columns of a profile (classes 3, 4, 5) as canonical readings at each row's time, with
   * each register's scaler_unit (read once); rows without a usable clock are left out, never given a time.
   */
  async profileReadings(p: ProfileResult): Promise<Reading[]> {
    const columns = p.captures.map((c, i) => ({ c, i })).filter(({ c }) => {
      const a = ATTRIBUTES[c.classId as RegisterClass];
      return a !== undefined && (c.attribute === a[0] || (c.classId === 5 && c.attribute === 2));
    });
    const unknown = columns.filter(({ c }) => !this.scalers.has(c.obis));
    const data = await this.getMany(unknown.map(({ c }) => ({ descriptor: { classId: c.classId, obis: c.obis, attribute: ATTRIBUTES[c.classId as RegisterClass][1] } })));
    unknown.forEach(({ c }, k) => this.scalers.set(c.obis, scalerUnitOf(data[k])));
    const out: Reading[] = [];
    for (const row of p.rows) {
      if (row.time === null) continue;
      for (const { c, i } of columns) out.push(registerReading(this.o.meter, c.obis, row.values[i].value, this.scalers.get(c.obis) as ScalerUnit, row.time));
    }
    return out;
  }

  /** The current association's object list (class 15 attribute 2): what this meter has. */
  async objectList(): Promise<CosemObject[]> {
    const list = await this.session.get({ classId: 15, obis: CURRENT_ASSOCIATION, attribute: 2 });
    if (list.type !== 'array') throw new DlmsDecodeError(`${CURRENT_ASSOCIATION} object_list is a ${list.type}, an array expected`);
    if (list.items.length > this.maxObjects) throw new DlmsDecodeError(`object list of ${list.items.length} objects, more than ${this.maxObjects}`, -1, 'limit');
    return list.items.map((it, i) => {
      const [c, v, n] = it.type === 'structure' ? it.items : [];
      if (c?.type !== 'long-unsigned' || v?.type !== 'unsigned' || n?.type !== 'octet-string' || n.value.length !== 6) throw new DlmsDecodeError(`object list entry ${i} is not {class_id, version, logical_name, access_rights}`);
      return { classId: c.value, version: v.value, obis: obisFromBytes(n.value) };
    });
  }

  /** GETs in lists of listSize; any refused attribute fails with a DlmsServiceError naming it. */
  private async getMany(requests: AttributeRequest[]): Promise<DlmsData[]> {
    const out: DlmsData[] = [];
    for (let i = 0; i < requests.length; i += this.listSize) {
      const part = requests.slice(i, i + this.listSize);
      if (part.length === 1 || this.listSize === 1) {
        for (const r of part) out.push(await this.session.get(r.descriptor));
        continue;
      }
      const results = await this.session.getList(part);
      results.forEach((r, k) => {
        const d = part[k].descriptor;
        if ('error' in r) throw new DlmsServiceError(`GET ${d.obis}/${d.attribute} (class ${d.classId})`, r.error);
        out.push(r.data);
      });
    }
    return out;
  }
}
