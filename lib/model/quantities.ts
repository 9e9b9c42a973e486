/**
 * Readable names of the OBIS quantities the suite reads (value groups C.D per medium A), for labels a person
 * reads (chart series, gauges) and for picking quantities by name instead of by code. A tariff group E above 0
 * adds " T<E>" (1-0:1.8.1 is "energy import T1"); a channel B above 0 adds " channel <B>".
 */
import { parseObis } from './obis';

const ELECTRICITY: Record<string, string> = {
  '1.7': 'active power import', '2.7': 'active power export', '3.7': 'reactive power import', '4.7': 'reactive power export',
  '9.7': 'apparent power import', '10.7': 'apparent power export', '11.7': 'current', '12.7': 'voltage', '13.7': 'power factor',
  '14.7': 'frequency', '15.7': 'active power absolute', '16.7': 'active power',
  '21.7': 'active power import L1', '41.7': 'active power import L2', '61.7': 'active power import L3',
  '36.7': 'active power L1', '56.7': 'active power L2', '76.7': 'active power L3',
  '23.7': 'reactive power L1', '43.7': 'reactive power L2', '63.7': 'reactive power L3',
  '29.7': 'apparent power L1', '49.7': 'apparent power L2', '69.7': 'apparent power L3',
  '31.7': 'current L1', '51.7': 'current L2', '71.7': 'current L3', '91.7': 'neutral current',
  '32.7': 'voltage L1', '52.7': 'voltage L2', '72.7': 'voltage L3',
  '33.7': 'power factor L1', '53.7': 'power factor L2', '73.7': 'power factor L3',
  '1.8': 'energy import', '2.8': 'energy export', '3.8': 'reactive energy import', '4.8': 'reactive energy export',
  '9.8': 'apparent energy import', '10.8': 'apparent energy export', '15.8': 'energy absolute', '16.8': 'energy net',
  '21.8': 'energy import L1', '41.8': 'energy import L2', '61.8': 'energy import L3',
  '22.8': 'energy export L1', '42.8': 'energy export L2', '62.8': 'energy export L3',
};
const HEAT: Record<string, string> = {
  '1.0': 'heat energy', '2.0': 'volume', '3.0': 'mass', '8.0': 'heat power', '9.0': 'volume flow', '10.0': 'flow temperature',
  '11.0': 'return temperature', '12.0': 'temperature difference', '13.0': 'pressure',
};
const COOLING: Record<string, string> = { ...HEAT, '1.0': 'cooling energy', '8.0': 'cooling power' };
const GAS: Record<string, string> = { '3.0': 'volume', '13.0': 'volume at base conditions', '41.0': 'temperature', '42.0': 'pressure', '43.0': 'volume flow' };
const WATER: Record<string, string> = { '1.0': 'volume', '2.0': 'volume flow' };

/** Names by medium (OBIS group A), then by "C.D". */
export const QUANTITY_NAMES: Readonly<Record<number, Readonly<Record<string, string>>>> = {
  1: ELECTRICITY, 4: { '1.0': 'HCA units' }, 5: COOLING, 6: HEAT, 7: GAS, 8: WATER, 9: WATER,
};

/** Every name a quantity can be picked by (without tariff or channel), sorted. */
export function quantityNames(): string[] {
  const all = new Set<string>();
  for (const table of Object.values(QUANTITY_NAMES)) for (const n of Object.values(table)) all.add(n);
  return [...all].sort();
}

/** The readable name of an OBIS code, e.g. "1-0:16.7.0" -> "active power", "1-0:1.8.2" -> "energy import T2"; undefined when not in the table. */
export function quantityName(obis: string): string | undefined {
  let c;
  try { c = parseObis(obis); } catch { return undefined; }
  const base = QUANTITY_NAMES[c.medium]?.[`${c.quantity}.${c.processing}`];
  if (base === undefined) return undefined;
  return base + (c.tariff > 0 ? ` T${c.tariff}` : '') + (c.channel > 0 ? ` channel ${c.channel}` : '');
}
