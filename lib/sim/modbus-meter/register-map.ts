/**
 * The register image of one simulated meter: which profile value (or scale-factor register) every
 * register belongs to, and the bytes a read returns, computed from the meter model at read time.
 */
import { encodeValue, registerCount } from '../../protocols/modbus/datatypes';
import { resolveValues } from '../../protocols/modbus/profile';
import type { Encoding, Profile, RegisterTable, ResolvedValue } from '../../protocols/modbus/types';
import { normaliseObis } from '../../model/obis';
import { convert, unitInfo } from '../../model/units';
import type { MeterModel, MeterSnapshot } from './meter-model';
import { quantityFor, type QuantityFn } from './quantities';
import type { LogRecorder } from './log-recorder';

/** Modbus exception codes the register map can answer with. */
export const ILLEGAL_DATA_ADDRESS = 2;

export interface RegisterMapOptions {
  /**
   * Reads of unmapped registers between the first and last mapped register of a table: 'zero' reads
   * them as 0, 'refuse' answers exception 02. 'profile' (default): refuse when the profile's maxGap is
   * 0 (the meter refuses undefined registers), read as 0 otherwise. Reads outside [first, last] are
   * always refused.
   */
  gaps?: 'profile' | 'zero' | 'refuse';
  /** Current and voltage transformer ratios: values marked ratio ct / vt / ct*vt are served as secondary values. */
  ctRatio?: number;
  vtRatio?: number;
  /** Holding registers FC 6 / FC 16 may write (and reads return what was written, initially 0). */
  writable?: { start: number; count: number };
  /** Values pinned by OBIS code, in the profile's unit (before scale). */
  fixed?: Record<string, number>;
}

interface ValueSlot { kind: 'value'; rv: ResolvedValue; fn: QuantityFn; words: number }
interface ScaleSlot { kind: 'scale'; exponent: number; words: 1 }
type Slot = ValueSlot | ScaleSlot;

/** Exponent n of a SunSpec-style scale register (value = raw * 10^n), by the unit's dimension. */
function scaleExponent(unit: string, type: string): number {
  let dim = '';
  try {
    dim = unitInfo(unit).dimension;
  } catch { /* unknown unit: 0 */ }
  const small = type === 'int16' || type === 'uint16';
  switch (dim) {
    case 'voltage': return -1;
    case 'current': return small ? -2 : -3;
    case 'frequency': return -2;
    case 'ratio': return unit === '%' ? -1 : -3;
    case 'active energy': case 'reactive energy': case 'apparent energy': return small ? 3 : 0;
    default: return 0;
  }
}

const RANGES: Record<string, [number, number]> = {
  int16: [-0x8000, 0x7fff], uint16: [0, 0xffff], int32: [-0x80000000, 0x7fffffff], uint32: [0, 0xffffffff],
  int64: [Number.MIN_SAFE_INTEGER, Number.MAX_SAFE_INTEGER], uint64: [0, Number.MAX_SAFE_INTEGER],
};

/** Encodes a raw value, clamping integers into the type's range (a meter saturates rather than wrapping). */
export function encodeRaw(raw: number, enc: Encoding): Buffer {
  const range = RANGES[enc.type];
  if (!range) return encodeValue(Number.isFinite(raw) ? raw : 0, enc);
  const v = Number.isFinite(raw) ? Math.round(raw) : 0;
  return encodeValue(Math.min(range[1], Math.max(range[0], v)), enc);
}

export class RegisterMap {
  readonly profile: Profile;
  readonly values: ResolvedValue[];
  private readonly model: MeterModel;
  private readonly slots: Record<RegisterTable, Map<number, { slot: Slot; word: number }>> = { holding: new Map(), input: new Map() };
  private readonly bounds: Partial<Record<RegisterTable, [number, number]>> = {};
  private readonly gapsAllowed: boolean;
  private readonly ct: number;
  private readonly vt: number;
  private readonly writable?: { start: number; count: number };
  private readonly written = new Map<number, number>();
  private readonly fixed = new Map<string, number>();
  private readonly byObis = new Map<string, ValueSlot>();
  /** The meter's register log (profiles with a log): served from its own registers, brought up to date before every read of the model. */
  log?: LogRecorder;

  constructor(profile: Profile, model: MeterModel, options: RegisterMapOptions = {}) {
    this.profile = profile;
    this.model = model;
    this.values = resolveValues(profile);
    const gaps = options.gaps ?? 'profile';
    this.gapsAllowed = gaps === 'zero' || (gaps === 'profile' && profile.maxGap !== 0);
    this.ct = options.ctRatio ?? 1;
    this.vt = options.vtRatio ?? 1;
    this.writable = options.writable;
    for (const [obis, v] of Object.entries(options.fixed ?? {})) this.setFixed(obis, v);
    for (const rv of this.values) {
      const slot: ValueSlot = { kind: 'value', rv, fn: quantityFor(rv.obis, rv.name, rv.unit), words: registerCount(rv.type) };
      this.byObis.set(rv.obis, slot);
      this.place(rv.table, rv.register, slot);
      if (rv.scaleRegister !== undefined && !this.slots[rv.table].has(rv.scaleRegister)) {
        this.place(rv.table, rv.scaleRegister, { kind: 'scale', exponent: scaleExponent(rv.unit, rv.type), words: 1 });
      }
    }
    if (this.writable) this.extend('holding', this.writable.start, this.writable.start + this.writable.count - 1);
  }

  private place(table: RegisterTable, register: number, slot: Slot): void {
    for (let w = 0; w < slot.words; w++) this.slots[table].set(register + w, { slot, word: w });
    this.extend(table, register, register + slot.words - 1);
  }

  private extend(table: RegisterTable, first: number, last: number): void {
    const b = this.bounds[table];
    this.bounds[table] = b ? [Math.min(b[0], first), Math.max(b[1], last)] : [first, last];
  }

  /** Pins a value (in the profile's unit, before scale) by OBIS code; undefined returns it to the model. */
  setFixed(obis: string, value: number | undefined): void {
    const key = normaliseObis(obis);
    if (value === undefined) this.fixed.delete(key);
    else this.fixed.set(key, value);
  }

  private isWritable(address: number): boolean {
    const w = this.writable;
    return !!w && address >= w.start && address < w.start + w.count;
  }

  /** What the meter shows for a value, in the profile's unit (before scale and ratio), at the given snapshot (default now). */
  valueOf(obis: string, snapshot: MeterSnapshot = this.snapshot()): number {
    const key = normaliseObis(obis);
    const slot = this.byObis.get(key);
    if (!slot) throw new Error(`profile "${this.profile.id}" has no value ${key}`);
    return this.evaluate(slot, snapshot);
  }

  private evaluate(slot: ValueSlot, snapshot: MeterSnapshot): number {
    const pinned = this.fixed.get(slot.rv.obis);
    if (pinned !== undefined) return pinned;
    const q = slot.fn(snapshot);
    try {
      return convert(q.value, q.unit, slot.rv.unit);
    } catch {
      return q.value;
    }
  }

  private encode(slot: Slot, table: RegisterTable, snapshot: MeterSnapshot): Buffer {
    if (slot.kind === 'scale') return encodeRaw(slot.exponent, { type: 'int16', wordOrder: 'big', byteOrder: 'big' });
    const rv = slot.rv;
    let raw = this.evaluate(slot, snapshot) / rv.scale;
    if (rv.ratio) raw /= rv.ratio === 'ct' ? this.ct : rv.ratio === 'vt' ? this.vt : this.ct * this.vt;
    if (rv.scaleRegister !== undefined) {
      const s = this.slots[table].get(rv.scaleRegister)?.slot;
      if (s?.kind === 'scale') raw /= 10 ** s.exponent;
    }
    return encodeRaw(raw, rv);
  }

  /** The bytes of `quantity` registers from `address`, or an exception code (02) when the range is not served. */
  /** The model now, after the log has recorded every interval that ended before. */
  snapshot(): MeterSnapshot {
    this.log?.catchUp();
    return this.model.snapshot();
  }

  read(table: RegisterTable, address: number, quantity: number): Buffer | number {
    if (this.log && this.log.layout.table === table && this.log.covers(address, quantity)) return this.log.read(address, quantity);
    const b = this.bounds[table];
    if (!b || address < b[0] || address + quantity - 1 > b[1]) return ILLEGAL_DATA_ADDRESS;
    const out = Buffer.alloc(quantity * 2);
    const cache = new Map<Slot, Buffer>();
    let snapshot: MeterSnapshot | undefined;
    for (let i = 0; i < quantity; i++) {
      const a = address + i;
      if (table === 'holding' && this.isWritable(a)) {
        out.writeUInt16BE(this.written.get(a) ?? 0, i * 2);
        continue;
      }
      const hit = this.slots[table].get(a);
      if (!hit) {
        if (!this.gapsAllowed) return ILLEGAL_DATA_ADDRESS;
        continue; // reads as 0
      }
      let bytes = cache.get(hit.slot);
      if (!bytes) {
        snapshot ??= this.snapshot();
        bytes = this.encode(hit.slot, table, snapshot);
        cache.set(hit.slot, bytes);
      }
      bytes.copy(out, i * 2, hit.word * 2, hit.word * 2 + 2);
    }
    return out;
  }

  /** Writes holding registers (FC 6 / 16); exception 02 unless every address is in the writable area. */
  write(address: number, words: number[]): number | undefined {
    for (let i = 0; i < words.length; i++) if (!this.isWritable(address + i)) return ILLEGAL_DATA_ADDRESS;
    words.forEach((w, i) => this.written.set(address + i, w & 0xffff));
    return undefined;
  }
}
