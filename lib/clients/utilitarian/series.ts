/**
 * Our OBIS codes and units <-> Utilitarian reading series. Series names are OBIS in the dotted
 * six-group form the API docs prefer ("1.0.1.8.0.255" for 1-0:1.8.0); the unit is our canonical
 * unit and si_multiplier converts it to the SI unit ("Ex 1 kPa = 1000 * 1 Pa").
 */
import { normaliseObis, unitInfo } from '../../model';

/** SI multipliers of our canonical units (energy in J, power in W, volume in m3, pressure in Pa...). */
const SI: Record<string, string> = {
  kWh: '3600000', kvarh: '3600000', kVAh: '3600000', GJ: '1000000000', kW: '1000', kvar: '1000', kVA: '1000',
  V: '1', A: '1', Hz: '1', m3: '1', 'm3/h': '0.000277777778', kg: '1', 'kg/h': '0.000277777778', degC: '1', K: '1',
  bar: '100000', s: '1', deg: '0.0174532925', HCA: '1', count: '1', '': '1',
};

export function seriesName(obis: string): string {
  let m: RegExpExecArray | null = null;
  try { m = /^(\d+)-(\d+):(\d+)\.(\d+)\.(\d+)$/.exec(normaliseObis(obis)); } catch { /* reported below */ }
  if (!m) throw new Error(`obis: ${JSON.stringify(obis)} is not an OBIS code A-B:C.D.E`);
  return `${m[1]}.${m[2]}.${m[3]}.${m[4]}.${m[5]}.255`;
}

/** OBIS of a series name: "1.0.1.8.0.255" -> "1-0:1.8.0"; undefined when the name is not OBIS. */
export function obisOfSeries(name: string): string | undefined {
  const m = /^(\d+)[.-](\d+)[.:](\d+)\.(\d+)\.(\d+)(?:[.*](\d+))?$/.exec(name.trim());
  return m ? `${m[1]}-${m[2]}:${m[3]}.${m[4]}.${m[5]}` : undefined;
}

export function seriesBody(obis: string, unit: string, organization?: string) {
  const info = unitInfo(unit);
  if (info.unit !== info.canonical) throw new Error(`unit: ${JSON.stringify(unit)} is not canonical (${info.canonical}); convert readings first`);
  if (unit.length > 10) throw new Error(`unit: ${JSON.stringify(unit)} is longer than the 10 characters a series unit may have`);
  return {
    ...(organization ? { organization } : {}),
    name: seriesName(obis), description: `OBIS ${normaliseObis(obis)} (${info.dimension})`,
    unit: unit || '-', si_multiplier: SI[unit] ?? '1', affected_by_ct_ratio: false, affected_by_vt_ratio: false,
  };
}

/** A number as a plain decimal string (never exponent notation), as the API's decimal fields want. */
export function decimal(value: number): string {
  if (!Number.isFinite(value)) throw new Error(`value: ${value} is not a finite number`);
  const s = String(value);
  if (!/e/i.test(s)) return s;
  return value.toFixed(20).replace(/(\.\d*?)0+$/, '$1').replace(/\.$/, '');
}
