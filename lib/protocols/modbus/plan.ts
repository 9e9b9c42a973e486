import type { Reading } from '../../model/reading';
import { roundNoise, unitInfo } from '../../model/units';
import { decodeValue, rawUnsigned, registerCount } from './datatypes';
import { resolveValues } from './profile';
import type { Profile, RegisterTable, ResolvedValue } from './types';

/** One request: `count` registers from `start` in one table. */
export interface ReadBlock {
  table: RegisterTable;
  start: number;
  count: number;
}

/** A value with where it sits in the plan's responses and how it converts, worked out once per plan. */
export interface PlannedValue extends ResolvedValue {
  /** Index of the block holding the value, and the value's register offset in it. */
  block: number;
  offset: number;
  /** Same for the scale-factor register, when the value has one. */
  scaleBlock?: number;
  scaleOffset?: number;
  /** Conversion to the canonical unit: canonical = value * factor + shift. */
  canonical: string;
  factor: number;
  shift: number;
  /** Decoded exactly as sent and already canonical: nothing to scale, convert or round. */
  exact: boolean;
  /**
   * For an integer whose scale times unit factor is 10^k and which has no ratio or scale register:
   * 10^|k| and whether to divide. Division or multiplication by an exact power of ten is correctly
   * rounded, so 123456789 * 0.01 comes out as 1234567.89 without rounding off float noise.
   */
  decimal?: { power: number; divide: boolean };
}

/** The requests that read every value of a profile, and where each value sits in them. */
export interface ReadPlan {
  profile: string;
  blocks: ReadBlock[];
  values: PlannedValue[];
}

interface Span { table: RegisterTable; start: number; end: number }

/**
 * Coalesces the registers of all values (and their scale-factor registers) into as few block reads as
 * the meter allows: adjacent or close spans in the same table merge while the block stays within
 * `maxBlock` registers and the unused gap between spans is at most `maxGap`.
 */
export function planReads(profile: Profile, only?: (v: ResolvedValue) => boolean): ReadPlan {
  const values = resolveValues(profile).filter(only ?? (() => true));
  const spans: Span[] = [];
  for (const v of values) {
    spans.push({ table: v.table, start: v.register, end: v.register + registerCount(v.type) });
    if (v.scaleRegister !== undefined) spans.push({ table: v.table, start: v.scaleRegister, end: v.scaleRegister + 1 });
  }
  spans.sort((a, b) => (a.table === b.table ? a.start - b.start : a.table < b.table ? -1 : 1));
  const maxGap = profile.maxGap ?? 0;
  const blocks: ReadBlock[] = [];
  let cur: Span | undefined;
  for (const s of spans) {
    if (cur && s.table === cur.table && s.start - cur.end <= maxGap && Math.max(cur.end, s.end) - cur.start <= profile.maxBlock) {
      cur.end = Math.max(cur.end, s.end);
      continue;
    }
    if (cur) blocks.push({ table: cur.table, start: cur.start, count: cur.end - cur.start });
    cur = { ...s };
  }
  if (cur) blocks.push({ table: cur.table, start: cur.start, count: cur.end - cur.start });
  return { profile: profile.id, blocks, values: values.map((v) => place(v, blocks)) };
}

function locate(blocks: readonly ReadBlock[], table: RegisterTable, register: number, words: number): number {
  const i = blocks.findIndex((b) => b.table === table && register >= b.start && register + words <= b.start + b.count);
  if (i < 0) throw new Error(`${table} register ${register} is not covered by the read plan`);
  return i;
}

function place(v: ResolvedValue, blocks: readonly ReadBlock[]): PlannedValue {
  const block = locate(blocks, v.table, v.register, registerCount(v.type));
  const unit = unitInfo(v.unit);
  const planned: PlannedValue = {
    ...v, block, offset: v.register - blocks[block].start,
    canonical: unit.canonical, factor: unit.factor, shift: unit.offset ?? 0,
    exact: v.scale === 1 && v.scaleRegister === undefined && !v.ratio && unit.factor === 1 && !unit.offset && v.type !== 'float64',
  };
  const k = Math.round(Math.log10(v.scale * unit.factor));
  if (!planned.exact && v.type !== 'float32' && v.type !== 'float64' && v.scaleRegister === undefined && !v.ratio && !unit.offset
    && Math.abs(k) <= 22 && Math.abs(v.scale * unit.factor / 10 ** k - 1) < 1e-12) {
    planned.decimal = { power: 10 ** Math.abs(k), divide: k < 0 };
  }
  if (v.scaleRegister !== undefined) {
    planned.scaleBlock = locate(blocks, v.table, v.scaleRegister, 1);
    planned.scaleOffset = v.scaleRegister - blocks[planned.scaleBlock].start;
  }
  return planned;
}

/** Where a reading came from, carried in msg.source. */
export interface RegisterSource {
  obis: string;
  name: string;
  table: RegisterTable;
  register: number;
  type: string;
  raw: number;
}

export interface DecodeOptions {
  meter: string;
  time: number;
  /** Current transformer ratio (primary / secondary), applied to values marked ratio "ct" or "ct*vt". */
  ctRatio?: number;
  /** Voltage transformer ratio, applied to values marked "vt" or "ct*vt". */
  vtRatio?: number;
}

/**
 * Turns the block responses (one Buffer per plan block, raw register bytes) into canonical Readings.
 * Values the meter marks as not available (a declared marker or a NaN float) give no reading.
 */
export function decodeReadings(plan: ReadPlan, data: readonly Buffer[], opts: DecodeOptions): { readings: Reading[]; sources: RegisterSource[] } {
  if (data.length !== plan.blocks.length) throw new Error(`expected ${plan.blocks.length} block responses, got ${data.length}`);
  plan.blocks.forEach((b, i) => {
    if (data[i].length < b.count * 2) {
      throw new Error(`${b.table} registers ${b.start}..${b.start + b.count - 1}: response has ${data[i].length / 2} registers, expected ${b.count}`);
    }
  });
  const ct = opts.ctRatio ?? 1;
  const vt = opts.vtRatio ?? 1;
  const readings: Reading[] = [];
  const sources: RegisterSource[] = [];
  for (const v of plan.values) {
    const raw = decodeValue(data[v.block], v.offset, v);
    if (Number.isNaN(raw)) continue;
    if (v.notAvailable?.length && v.notAvailable.includes(rawUnsigned(data[v.block], v.offset, v))) continue;
    let value = raw;
    if (v.decimal) value = v.decimal.divide ? raw / v.decimal.power : raw * v.decimal.power;
    else if (!v.exact) {
      value *= v.scale;
      if (v.scaleBlock !== undefined) {
        const sf = data[v.scaleBlock].readInt16BE(v.scaleOffset! * 2);
        if (sf === -32768) continue; // SunSpec "not implemented"
        value *= 10 ** sf;
      }
      if (v.ratio === 'ct') value *= ct;
      else if (v.ratio === 'vt') value *= vt;
      else if (v.ratio === 'ct*vt') value *= ct * vt;
      value = roundNoise(value * v.factor + v.shift);
    }
    readings.push({ meter: opts.meter, time: opts.time, obis: v.obis, value, unit: v.canonical });
    sources.push({ obis: v.obis, name: v.name, table: v.table, register: v.register, type: v.type, raw });
  }
  return { readings, sources };
}
