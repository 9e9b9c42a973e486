/** The common G13 reads as canonical Readings (what the ems-g13 node and the EMS poll use). */
import type { Reading } from '../../model/reading';
import { normaliseObis, parseObis } from '../../model/obis';
import { unitInfo } from '../../model/units';
import type { G13Client, Json } from './client';
import { G13Error } from './transport';
import { EVENT_CATEGORIES, EVENT_TYPES, GATEWAY_EVENTS, meterLogName } from './quantities';
import { energyReadings, instrumentReadings, loadProfileReadings, parseG13Time, parseValue, powerReadings, tariffReadings, toUnit } from './values';

/** Energies (active, import/export/net, per line and tariff), powers and the instrument values of one meter. */
export async function readMeterValues(client: G13Client, serial: string, meter = serial, now = Date.now): Promise<{ readings: Reading[]; raw: Record<string, Json> }> {
  const energy = await client.energy(serial, 'active');
  const t1 = now();
  const power = await client.power(serial);
  const t2 = now();
  const instrument = await client.instrument(serial);
  const t3 = now();
  const readings = [...energyReadings(energy, 'active', meter, t1), ...powerReadings(power, meter, t2), ...instrumentReadings(instrument, meter, t3)];
  if (readings.length === 0) throw new G13Error('malformed', client.name, `GET /meters/${serial}/energy/active`, 'the meter returned no value that maps to an OBIS code', 200, serial);
  return { readings, raw: { energy, power, instrument } };
}

/** Active energy import and export per tariff T1-T4 with the totals (1-0:1.8.0..4, 1-0:2.8.0..4). */
export async function readTariffEnergies(client: G13Client, serial: string, meter = serial, now = Date.now): Promise<{ readings: Reading[]; raw: Json }> {
  const raw = await client.energy(serial, 'active');
  return { readings: tariffReadings(raw, meter, now()), raw };
}

/** One load-profile channel between two dates -> Readings with the status bits as quality flags. */
export async function readLoadProfile(client: G13Client, serial: string, channel: number, from: unknown, to: unknown, meter = serial) {
  let quantity: number | undefined;
  const raw = await client.loadProfile(serial, channel, from, to);
  if (!raw || typeof raw !== 'object' || !('mapping' in raw)) {
    throw new G13Error('malformed', client.name, `GET /meters/${serial}/loadprofiles/${channel}`, `no mapping in ${JSON.stringify(raw)?.slice(0, 120)}`, 200, serial);
  }
  const mapping = (raw as { mapping?: Json }).mapping;
  if (!Array.isArray(mapping) || mapping.length === 0) {
    try {
      const cfg = (await client.loadProfileConfiguration(serial)) as { lpconfig?: number[][] };
      quantity = cfg?.lpconfig?.[channel - 1]?.[1];
    } catch { /* the mapping alone decides */ }
  }
  try {
    return { ...loadProfileReadings(raw, meter, client.timeZone, quantity), raw };
  } catch (e) {
    throw new G13Error('malformed', client.name, `GET /meters/${serial}/loadprofiles/${channel}`, (e as Error).message, 200, serial);
  }
}

/** "1-0:32.7.0" / "1.0.32.7.0.255" / [1,0,32,7,0,255] -> the Int[6] the gateway takes, and our code. */
export function obisArray(obis: unknown): { array: number[]; code: string } {
  if (Array.isArray(obis)) {
    if (obis.length !== 6 || !obis.every((n) => Number.isInteger(n) && n >= 0 && n <= 255)) throw new Error(`obis must be 6 numbers 0-255, got ${JSON.stringify(obis)}`);
    return { array: obis as number[], code: `${obis[0]}-${obis[1]}:${obis[2]}.${obis[3]}.${obis[4]}` };
  }
  const s = String(obis ?? '').trim();
  const six = /^(\d{1,3})[.-](\d{1,3})[.:](\d{1,3})\.(\d{1,3})\.(\d{1,3})[.*](\d{1,3})$/.exec(s);
  if (six) return obisArray(six.slice(1).map(Number));
  const c = parseObis(s);
  return { array: [c.medium, c.channel, c.quantity, c.processing, c.tariff, 255], code: normaliseObis(s) };
}

/** POST /gateway/execute across up to 5 meters -> one Reading per meter that answered with a number. */
export async function executeRead(client: G13Client, devices: string[], obis: unknown, classid = 3, attributes = [2, 3], now = Date.now) {
  let o: { array: number[]; code: string };
  try { o = obisArray(obis); } catch (e) { throw new G13Error('invalid', client.name, 'POST /gateway/execute', (e as Error).message); }
  const raw = (await client.execute(devices, o.array, classid, attributes)) as Record<string, Json>;
  const time = now();
  const readings: Reading[] = [];
  const failed: Record<string, string> = {};
  for (const serial of devices) {
    if (!raw || !(serial in raw)) { failed[serial] = 'no answer'; continue; }
    try {
      const v = parseValue(raw[serial], `execute ${serial}`);
      let unit = v.unit;
      let value = v.value;
      try { unit = unitInfo(v.unit).canonical; value = toUnit(v, unit); } catch { /* unknown unit: kept as given */ }
      readings.push({ meter: serial, time, obis: o.code, value, unit });
    } catch (e) { failed[serial] = (e as Error).message; }
  }
  return { readings, failed, raw };
}

export interface G13Event { time: number | null; datetime: string; id: number; name?: string; category: string | number; type?: string; index?: number; duration?: number; log?: string }

function eventTime(text: unknown, timeZone: string): number | null {
  try { return parseG13Time(text, timeZone); } catch { return null; }
}

/** GET /gateway/events -> events with names (newest first, as the gateway sends them). */
export function gatewayEvents(raw: Json, timeZone = 'UTC'): G13Event[] {
  const list = ((raw as { events?: Record<string, Json>[] })?.events ?? []);
  return list.map((e) => ({
    time: eventTime(e.timestamp, timeZone), datetime: String(e.timestamp ?? ''), id: Number(e.id), name: GATEWAY_EVENTS[Number(e.id)],
    category: EVENT_CATEGORIES[Number(e.category)] ?? Number(e.category), type: EVENT_TYPES[Number(e.type)], index: Number(e.index),
  }));
}

/** GET /meters/<serial>/events/<datetime> -> one list over the system, quality and event logs. */
export function meterEvents(raw: Json, timeZone = 'UTC'): G13Event[] {
  const out: G13Event[] = [];
  for (const [log, list] of Object.entries((raw ?? {}) as Record<string, Json>)) {
    if (!Array.isArray(list)) continue;
    for (const e of list as Record<string, Json>[]) {
      out.push({
        log, time: eventTime(e.datetime, timeZone), datetime: String(e.datetime ?? ''), id: Number(e.logid), name: meterLogName(Number(e.logid)),
        category: EVENT_CATEGORIES[Number(e.category)] ?? Number(e.category), duration: Number(e.duration ?? 0),
      });
    }
  }
  return out.sort((a, b) => (b.time ?? 0) - (a.time ?? 0));
}
