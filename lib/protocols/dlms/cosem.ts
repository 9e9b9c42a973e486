/**
 * COSEM interface-class helpers on top of A-XDR (Blue Book 4.3, 4.5.1, 4.3.6): the pieces a client
 * needs to turn attribute values into canonical readings and to ask a profile for a time range.
 *
 *   scalerUnitOf(data) -> { scaler, unit }                     attribute 3 of register / extended / demand register
 *   registerReading(meter, obis, value, scalerUnit, time)      -> Reading (lib/model), unit converted to canonical
 *   captureObjects(data) -> CaptureObject[]                    profile generic attribute 3
 *   rangeDescriptor({ from, to, restricting?, columns? })      access selector 1 (range by clock), for get-request-normal
 *   profileRows(buffer, captures) -> ProfileRow[]              attribute 2 rows paired with their capture objects
 */
import { type CosemDateTime, type DlmsData, dataNumber, decodeDateTime, encodeDateTime } from './axdr';
import { DlmsDecodeError } from './errors';
import type { AccessSelection } from './xdlms';
import { canonicalObis, obisFromBytes, obisToBytes, scaled } from './units';
import type { Reading } from '../../model/reading';
import { toCanonical } from '../../model/units';

export interface ScalerUnit { scaler: number; unit: number }

export function scalerUnitOf(d: DlmsData): ScalerUnit {
  if (d.type !== 'structure' || d.items.length !== 2) throw new DlmsDecodeError(`scaler_unit is a ${d.type}, a structure of 2 expected`);
  const [s, u] = d.items;
  if (s.type !== 'integer' || u.type !== 'enum') throw new DlmsDecodeError(`scaler_unit holds ${s.type} and ${u.type}, integer and enum expected`);
  return { scaler: s.value, unit: u.value };
}

/** A register's value as a canonical reading (Wh -> kWh, W -> kW ...); throws naming the OBIS code when it is not numeric or its unit is unknown. */
export function registerReading(meter: string, obis: string, value: DlmsData, scalerUnit: ScalerUnit, time: number): Reading {
  const n = dataNumber(value);
  if (n === undefined || !Number.isFinite(n)) throw new DlmsDecodeError(`${obis}: value is a ${value.type}, not a number`);
  const s = scaled(n, scalerUnit.scaler, scalerUnit.unit);
  if (s.unit === undefined) throw new DlmsDecodeError(`${obis}: unit ${scalerUnit.unit} (${s.symbol}) has no EMS unit`, -1, 'unsupported');
  const c = toCanonical(s.value, s.unit);
  return { meter, time, obis: canonicalObis(obis), value: c.value, unit: c.unit };
}

export interface CaptureObject { classId: number; obis: string; attribute: number; dataIndex: number }

const captureData = (c: CaptureObject): DlmsData => ({
  type: 'structure', items: [
    { type: 'long-unsigned', value: c.classId }, { type: 'octet-string', value: obisToBytes(c.obis) },
    { type: 'integer', value: c.attribute }, { type: 'long-unsigned', value: c.dataIndex },
  ],
});

export function captureObjects(d: DlmsData): CaptureObject[] {
  if (d.type !== 'array') throw new DlmsDecodeError(`capture_objects is a ${d.type}, an array expected`);
  return d.items.map((it, i) => {
    if (it.type !== 'structure' || it.items.length !== 4) throw new DlmsDecodeError(`capture object ${i} is not a structure of 4`);
    const [c, o, a, x] = it.items;
    if (c.type !== 'long-unsigned' || o.type !== 'octet-string' || a.type !== 'integer' || x.type !== 'long-unsigned') throw new DlmsDecodeError(`capture object ${i} has the wrong element types`);
    return { classId: c.value, obis: obisFromBytes(o.value), attribute: a.value, dataIndex: x.value };
  });
}

export const CLOCK_CAPTURE: CaptureObject = { classId: 8, obis: '0-0:1.0.0.255', attribute: 2, dataIndex: 0 };

/** Access selector 1: rows whose restricting object (the clock by default) lies in [from, to]; all columns unless given. */
export function rangeDescriptor(o: { from: CosemDateTime; to: CosemDateTime; restricting?: CaptureObject; columns?: CaptureObject[] }): AccessSelection {
  return {
    selector: 1,
    parameters: {
      type: 'structure', items: [
        captureData(o.restricting ?? CLOCK_CAPTURE),
        { type: 'octet-string', value: encodeDateTime(o.from) },
        { type: 'octet-string', value: encodeDateTime(o.to) },
        { type: 'array', items: (o.columns ?? []).map(captureData) },
      ],
    },
  };
}

export interface ProfileRow {
  /** The row's clock column as a date-time, when the profile captures the clock. */
  dateTime?: CosemDateTime;
  values: { capture: CaptureObject; value: DlmsData }[];
}

/** Pairs each buffer row with the capture objects; rows of another width are an error naming the row. */
export function profileRows(buffer: DlmsData, captures: CaptureObject[]): ProfileRow[] {
  if (buffer.type !== 'array' && buffer.type !== 'compact-array') throw new DlmsDecodeError(`profile buffer is a ${buffer.type}, an array expected`);
  return buffer.items.map((row, i) => {
    if (row.type !== 'structure' || row.items.length !== captures.length) throw new DlmsDecodeError(`profile row ${i} has ${row.type === 'structure' ? row.items.length : 0} columns, ${captures.length} captured`);
    const values = row.items.map((value, k) => ({ capture: captures[k], value }));
    const clock = values.find((v) => v.capture.classId === 8 && v.capture.attribute === 2);
    const dt = clock?.value.type === 'octet-string' && clock.value.value.length === 12 ? decodeDateTime(clock.value.value) : clock?.value.type === 'date-time' ? clock.value.value : undefined;
    return { dateTime: dt, values };
  });
}
