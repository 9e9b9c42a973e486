/**
 * The unit dimensions (lib/model/units) an OBIS code's quantity may be given in, for checking values people
 * enter: 1-0:1.8.0 is active energy (Wh, kWh, ...), 8-0:1.0.0 is a volume. Codes not listed here take any
 * known unit (null).
 */
import { parseObis, Medium } from './obis';

/** Electricity quantities (group C) by what they measure; the per-phase codes are the total's plus 20, 40, 60. */
const ACTIVE = [1, 2, 15, 16];
const REACTIVE = [3, 4, 5, 6, 7, 8];
const APPARENT = [9, 10];
const perPhase = (cs: number[]): number[] => cs.flatMap((c) => [c, c + 20, c + 40, c + 60]);
/** Group D values of a register (time integral 1 and 2, load profile): energy rather than power. */
const INTEGRAL_D = [8, 9, 29];

function electricity(c: number, d: number): string[] | null {
  const integral = INTEGRAL_D.includes(d);
  if (perPhase(ACTIVE).includes(c)) return [integral ? 'active energy' : 'active power'];
  if (perPhase(REACTIVE).includes(c)) return [integral ? 'reactive energy' : 'reactive power'];
  if (perPhase(APPARENT).includes(c)) return [integral ? 'apparent energy' : 'apparent power'];
  if ([31, 51, 71, 91].includes(c)) return ['current'];
  if ([32, 52, 72].includes(c)) return ['voltage'];
  if (c === 14) return ['frequency'];
  if ([13, 33, 53, 73].includes(c)) return ['ratio'];
  return null;
}

/** The dimensions `obis` may be measured in, or null when any known unit will do; throws on a bad code. */
export function obisDimensions(obis: string): readonly string[] | null {
  const { medium, quantity: c, processing: d } = parseObis(obis);
  switch (medium) {
    case Medium.ELECTRICITY: return electricity(c, d);
    case Medium.HEAT:
    case Medium.COOLING:
      if (c === 1) return ['heat energy', 'active energy'];
      if (c === 2) return ['volume'];
      return null;
    case Medium.GAS: return c === 3 || c === 13 ? ['volume'] : null;
    case Medium.COLD_WATER:
    case Medium.HOT_WATER: return c === 1 ? ['volume'] : null;
    default: return null;
  }
}
