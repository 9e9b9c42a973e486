/**
 * Exact decimal numbers for money and priced quantities: a BigInt of units of 10^-scale. Sums and
 * products are exact; only `div` and `round` round, and they say how. No binary floats in amounts.
 */

export type RoundingMethod = 'half-up' | 'half-even' | 'down' | 'up';
export const ROUNDING_METHODS: readonly RoundingMethod[] = ['half-up', 'half-even', 'down', 'up'];

const DECIMAL_TEXT = /^([+-])?(\d+)(?:\.(\d*))?$|^([+-])?\.(\d+)$/;
const POW10: bigint[] = [1n];
function pow10(n: number): bigint {
  while (POW10.length <= n) POW10.push(POW10[POW10.length - 1] * 10n);
  return POW10[n];
}

/** Divide a by b (b > 0), rounding the quotient with `method` (half-up rounds halves away from zero). */
function divRound(a: bigint, b: bigint, method: RoundingMethod): bigint {
  const q = a / b; // truncates toward zero
  const r = a - q * b;
  if (r === 0n) return q;
  const sign = a < 0n ? -1n : 1n;
  const twice = (r < 0n ? -r : r) * 2n;
  switch (method) {
    case 'down': return q;
    case 'up': return q + sign;
    case 'half-up': return twice >= b ? q + sign : q;
    case 'half-even': return twice > b || (twice === b && (q & 1n) !== 0n) ? q + sign : q;
  }
}

export class Decimal {
  /** value = units * 10^-scale */
  private constructor(readonly units: bigint, readonly scale: number) {}

  static readonly ZERO = new Decimal(0n, 0);
  static readonly ONE = new Decimal(1n, 0);

  /**
   * From decimal text ("12.50", "-0.345", "1e-3" is refused), a bigint, or a finite number, which is
   * read as the shortest decimal that round-trips (0.1 -> 0.1, not 0.1000000000000000055...).
   */
  static from(value: string | number | bigint | Decimal): Decimal {
    if (value instanceof Decimal) return value;
    if (typeof value === 'bigint') return new Decimal(value, 0);
    if (typeof value === 'number') {
      if (!Number.isFinite(value)) throw new RangeError(`not a finite number: ${value}`);
      if (Number.isInteger(value) && Number.isSafeInteger(value)) return new Decimal(BigInt(value), 0);
      return Decimal.from(numberToPlainText(value));
    }
    const parsed = Decimal.parse(value);
    if (!parsed) throw new RangeError(`not a decimal number: ${JSON.stringify(value)}`);
    return parsed;
  }

  /** The decimal in `text`, or undefined when it is not plain decimal notation. */
  static parse(text: string): Decimal | undefined {
    const m = DECIMAL_TEXT.exec(text.trim());
    if (!m) return undefined;
    const sign = m[1] ?? m[4];
    const whole = m[2] ?? '0';
    const frac = m[3] ?? m[5] ?? '';
    const units = BigInt(whole + frac);
    return new Decimal(sign === '-' ? -units : units, frac.length);
  }

  /** units x 10^-scale, e.g. fromUnits(1234n, 2) = 12.34 (amounts in minor units). */
  static fromUnits(units: bigint | number, scale: number): Decimal {
    return new Decimal(BigInt(units), scale);
  }

  static sum(values: Iterable<Decimal>): Decimal {
    let total = Decimal.ZERO;
    for (const v of values) total = total.add(v);
    return total;
  }

  static max(a: Decimal, b: Decimal): Decimal {
    return a.cmp(b) >= 0 ? a : b;
  }

  static min(a: Decimal, b: Decimal): Decimal {
    return a.cmp(b) <= 0 ? a : b;
  }

  private rescaled(scale: number): bigint {
    return scale === this.scale ? this.units : this.units * pow10(scale - this.scale);
  }

  add(other: Decimal | string | number): Decimal {
    const o = Decimal.from(other);
    const scale = Math.max(this.scale, o.scale);
    return new Decimal(this.rescaled(scale) + o.rescaled(scale), scale);
  }

  sub(other: Decimal | string | number): Decimal {
    return this.add(Decimal.from(other).neg());
  }

  mul(other: Decimal | string | number): Decimal {
    const o = Decimal.from(other);
    return new Decimal(this.units * o.units, this.scale + o.scale).trimmed();
  }

  /** this / other rounded to `scale` decimals. */
  div(other: Decimal | string | number, scale: number, method: RoundingMethod = 'half-even'): Decimal {
    const o = Decimal.from(other);
    if (o.units === 0n) throw new RangeError('division by zero');
    // this/other = (tu/10^ts) / (ou/10^os); scaled by 10^scale: tu * 10^(scale+os-ts) / ou
    let num = this.units;
    let den = o.units;
    const shift = scale + o.scale - this.scale;
    if (shift >= 0) num *= pow10(shift);
    else den *= pow10(-shift);
    if (den < 0n) { num = -num; den = -den; }
    return new Decimal(divRound(num, den, method), scale);
  }

  /** Rounded to `scale` decimals (never adds precision it does not have). */
  round(scale: number, method: RoundingMethod = 'half-up'): Decimal {
    if (this.scale <= scale) return this;
    return new Decimal(divRound(this.units, pow10(this.scale - scale), method), scale);
  }

  neg(): Decimal {
    return new Decimal(-this.units, this.scale);
  }

  abs(): Decimal {
    return this.units < 0n ? this.neg() : this;
  }

  cmp(other: Decimal | string | number): number {
    const o = Decimal.from(other);
    const scale = Math.max(this.scale, o.scale);
    const a = this.rescaled(scale);
    const b = o.rescaled(scale);
    return a < b ? -1 : a > b ? 1 : 0;
  }

  eq(other: Decimal | string | number): boolean {
    return this.cmp(other) === 0;
  }

  isZero(): boolean {
    return this.units === 0n;
  }

  isNegative(): boolean {
    return this.units < 0n;
  }

  /** Without trailing zero decimals (12.500 -> 12.5). */
  trimmed(): Decimal {
    let { units, scale } = this;
    while (scale > 0 && units % 10n === 0n) {
      units /= 10n;
      scale--;
    }
    return scale === this.scale ? this : new Decimal(units, scale);
  }

  /** Plain text with at least `minDecimals` decimals ("12.5".toString(2) -> "12.50"). */
  toString(minDecimals = 0): string {
    const d = this.scale < minDecimals ? new Decimal(this.rescaled(minDecimals), minDecimals) : this;
    const negative = d.units < 0n;
    const digits = (negative ? -d.units : d.units).toString().padStart(d.scale + 1, '0');
    const whole = digits.slice(0, digits.length - d.scale);
    const frac = digits.slice(digits.length - d.scale);
    return (negative ? '-' : '') + whole + (frac ? `.${frac}` : '');
  }

  /** Exactly `decimals` decimals, rounded with `method`. */
  toFixed(decimals: number, method: RoundingMethod = 'half-up'): string {
    return this.round(decimals, method).toString(decimals);
  }

  /** The nearest binary float: for charts and comparisons, never for further money arithmetic. */
  toNumber(): number {
    return Number(this.toString());
  }

  toJSON(): string {
    return this.toString();
  }
}

/** A finite number as plain decimal text (no exponent), shortest round-trip digits. */
function numberToPlainText(value: number): string {
  const text = String(value);
  const m = /^(-?)(\d)(?:\.(\d+))?e([+-]\d+)$/.exec(text);
  if (!m) return text;
  const [, sign, lead, rest = '', expText] = m;
  const exp = Number(expText);
  const digits = lead + rest;
  if (exp < 0) return `${sign}0.${'0'.repeat(-exp - 1)}${digits}`;
  return sign + (digits.length > exp + 1 ? `${digits.slice(0, exp + 1)}.${digits.slice(exp + 1)}` : digits.padEnd(exp + 1, '0'));
}
