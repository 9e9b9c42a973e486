/**
 * SML GetListResponse entries -> canonical Readings: value x 10^scaler in the entry's DLMS unit,
 * converted to the EMS canonical unit (Wh -> kWh, W -> kW). Entries without a number, without a unit
 * the EMS table knows, or with an abstract or manufacturer-specific OBIS code (C = 0, C >= 96, any
 * group >= 128, e.g. 129-129:199.130.3) are left out. The time is the meter's UTC timestamp when it
 * sends one (valTime, actGatewayTime, actSensorTime of kind timestamp), else the receive time.
 */
import type { Reading } from '../../model/reading';
import type { GetListResponse, SmlListEntry, SmlMessage, SmlTime } from './messages';
import { canonicalUnit } from './units';

export interface ReadingOptions {
  /** EMS meter id; default: the server id in hex. */
  meter?: string;
  /** Receive time, epoch ms (used when the meter sends no UTC timestamp). */
  now: number;
}

/** The entry's number with its scaler applied (division for negative scalers keeps 0.1 steps exact). */
export function scaledValue(e: SmlListEntry): number | null {
  const v = e.value;
  if (typeof v !== 'number' && typeof v !== 'bigint') return null;
  const raw = Number(v);
  const s = e.scaler ?? 0;
  return s < 0 ? raw / 10 ** -s : raw * 10 ** s;
}

const utc = (t: SmlTime | null) => (t && t.kind !== 'secIndex' ? t.value * 1000 : null);

function measured(name: Buffer): boolean {
  return name.length === 6 && name[0] < 128 && name[1] < 128 && name[2] !== 0 && name[2] < 96 && name[3] < 128 && name[4] < 128;
}

export function entryReading(e: SmlListEntry, list: GetListResponse, meter: string, now: number): Reading | null {
  const unit = canonicalUnit(e.unit);
  if (!unit || !measured(e.objName)) return null;
  const value = scaledValue(e);
  if (value === null) return null;
  const time = utc(e.valTime) ?? utc(list.actGatewayTime) ?? utc(list.actSensorTime) ?? now;
  return { meter, time, obis: e.obis!, value: unit.convert(value), unit: unit.unit };
}

/** The server id as hex (the meter id used when none is configured). */
export function serverIdOf(messages: SmlMessage[]): string | null {
  for (const m of messages) {
    const b = m.body;
    if ((b.kind === 'getListResponse' || b.kind === 'openResponse') && b.serverId) return b.serverId.toString('hex');
  }
  return null;
}

export function toReadings(messages: SmlMessage[], o: ReadingOptions): Reading[] {
  const meter = o.meter || serverIdOf(messages) || 'sml';
  const out: Reading[] = [];
  for (const m of messages) {
    if (m.body.kind !== 'getListResponse') continue;
    for (const e of m.body.valList) {
      const r = entryReading(e, m.body, meter, o.now);
      if (r) out.push(r);
    }
  }
  return out;
}
