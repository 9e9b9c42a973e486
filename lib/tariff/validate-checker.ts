/** The problem collector of validateTariff: typed field readers that record what is wrong where. */
import { Decimal } from '../money/decimal';
import { normalisePeriod } from './validate-schedule';
import { TOU_PERIODS, type TouPeriod } from './types';

export interface Problem { field: string; message: string }

export type Obj = Record<string, unknown>;
export const show = (v: unknown): string => (v === undefined ? 'missing' : JSON.stringify(v));
export const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

export class Checker {
  readonly problems: Problem[] = [];
  add(field: string, message: string): void {
    this.problems.push({ field, message });
  }
  /** A decimal string or JSON number, as normalised text; records a problem otherwise. */
  decimal(v: unknown, field: string, opts: { min?: string; positive?: boolean } = {}): string {
    let d: Decimal | undefined;
    if (typeof v === 'number' && Number.isFinite(v)) d = Decimal.from(v);
    else if (typeof v === 'string') d = Decimal.parse(v);
    if (!d) {
      this.add(field, `expected a decimal number, got ${show(v)}`);
      return '0';
    }
    if (opts.positive && d.cmp(0) <= 0) this.add(field, `must be above 0, got ${show(v)}`);
    else if (opts.min !== undefined && d.cmp(opts.min) < 0) this.add(field, `must be at least ${opts.min}, got ${show(v)}`);
    return typeof v === 'string' ? v.trim() : d.toString();
  }
  string(v: unknown, field: string): string {
    if (typeof v !== 'string' || v.trim() === '') this.add(field, `expected a non-empty string, got ${show(v)}`);
    return typeof v === 'string' ? v : '';
  }
  integer(v: unknown, field: string, min: number, max: number): number {
    if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) this.add(field, `expected a whole number ${min}..${max}, got ${show(v)}`);
    return v as number;
  }
  array(v: unknown, field: string, allowEmpty = false): unknown[] {
    if (!Array.isArray(v) || (!allowEmpty && v.length === 0)) {
      this.add(field, `expected ${allowEmpty ? 'an' : 'a non-empty'} array, got ${show(v)}`);
      return [];
    }
    return v;
  }
  object(v: unknown, field: string): Obj {
    if (!isObj(v)) {
      this.add(field, `expected an object, got ${show(v)}`);
      return {};
    }
    return v;
  }
  oneOf<T extends string>(v: unknown, allowed: readonly T[], field: string): T {
    if (!allowed.includes(v as T)) this.add(field, `expected one of ${allowed.join(', ')}, got ${show(v)}`);
    return v as T;
  }
  period(v: unknown, field: string): TouPeriod {
    const p = normalisePeriod(v);
    if (!p) this.add(field, `expected a period (${TOU_PERIODS.join(', ')} or a MyEMS alias), got ${show(v)}`);
    return p ?? 'flat';
  }
}
