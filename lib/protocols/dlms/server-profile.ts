/**
 * The simulated meter's load profile (profile generic, class 7): rows at every capture period of the
 * meter's clock, computed on demand from the meter physics (server-energy.ts), so the buffer keeps
 * "recording" while nobody asks and while the simulator refuses to answer.
 *
 *   rows(selection) -> the buffer (attribute 2) with access selector 1 (range by clock, columns) or
 *                      2 (entries, columns), or the whole buffer; every answer bounded by profileEntries
 */
import { type DlmsData, dateTimeFromEpochMs, dateTimeToEpochMs, decodeDateTime, encodeDateTime } from './axdr';
import { type CaptureObject, captureObjects } from './cosem';
import type { AccessSelection } from './xdlms';

export interface ProfileSource {
  /** Meter clock now (epoch ms) and meter clock minus real time. */
  meterNow(): number;
  clockOffsetMs(): number;
  utcOffsetMinutes: number;
  /** Value of a captured register (class 3, attribute 2) at real time `t`, as the register encodes it. */
  registerAt(obis: string, t: number): DlmsData;
  periodSeconds: number;
  entries: number;
  /** Real time before which nothing was recorded (the meter's installation). */
  firstMs: number;
}

export const PROFILE_CAPTURES: CaptureObject[] = [
  { classId: 8, obis: '0-0:1.0.0.255', attribute: 2, dataIndex: 0 },
  { classId: 3, obis: '1-0:1.8.0.255', attribute: 2, dataIndex: 0 },
  { classId: 3, obis: '1-0:2.8.0.255', attribute: 2, dataIndex: 0 },
];

/** Thrown for a selective access the profile cannot answer; the server maps it to a data-access-result. */
export class SelectionError extends Error {
  constructor(message: string, readonly result: number) {
    super(message);
  }
}

const sameCapture = (a: CaptureObject, b: CaptureObject) => a.classId === b.classId && a.obis === b.obis && a.attribute === b.attribute;

/** Meter-clock times (epoch ms) of the rows recorded so far: the newest `entries` period boundaries. */
function rowTimes(p: ProfileSource): { first: number; last: number; step: number } {
  const step = p.periodSeconds * 1000;
  const last = Math.floor(p.meterNow() / step) * step;
  const installed = Math.ceil((p.firstMs + p.clockOffsetMs()) / step) * step;
  const first = Math.max(installed, last - (p.entries - 1) * step);
  return { first, last, step };
}

export function entriesInUse(p: ProfileSource): number {
  const { first, last, step } = rowTimes(p);
  return last < first ? 0 : (last - first) / step + 1;
}

function row(p: ProfileSource, meterTime: number, columns: number[]): DlmsData {
  const real = meterTime - p.clockOffsetMs();
  const all = (i: number): DlmsData => i === 0
    ? { type: 'octet-string', value: encodeDateTime(dateTimeFromEpochMs(meterTime, p.utcOffsetMinutes)) }
    : p.registerAt(PROFILE_CAPTURES[i].obis, real);
  return { type: 'structure', items: columns.map(all) };
}

function columnsOf(selected: DlmsData | undefined): number[] {
  if (!selected || (selected.type === 'array' && selected.items.length === 0)) return PROFILE_CAPTURES.map((_, i) => i);
  let wanted: CaptureObject[];
  try { wanted = captureObjects(selected); } catch (e) { throw new SelectionError(`selected values: ${(e as Error).message}`, 12); }
  return wanted.map((w) => {
    const i = PROFILE_CAPTURES.findIndex((c) => sameCapture(c, w));
    if (i < 0) throw new SelectionError(`selected value ${w.obis} attribute ${w.attribute} is not captured`, 12);
    return i;
  });
}

/** A range bound as epoch ms; a date-time without deviation is the meter's local time. */
function timeOf(d: DlmsData, what: string, localOffsetMs: number): number {
  const dt = d.type === 'octet-string' && d.value.length === 12 ? decodeDateTime(d.value) : d.type === 'date-time' ? d.value : undefined;
  if (!dt) throw new SelectionError(`${what} is a ${d.type}, a 12-byte date-time expected`, 12);
  const t = dateTimeToEpochMs({ ...dt, deviation: dt.deviation ?? 0 });
  if (t === null) throw new SelectionError(`${what} has unspecified fields`, 250);
  return dt.deviation === null ? t - localOffsetMs : t;
}

const num = (d: DlmsData | undefined) => (d && 'value' in d && typeof d.value === 'number' ? d.value : undefined);

/** The buffer, whole or selected; at most `entries` rows (the profile's depth). */
export function profileBuffer(p: ProfileSource, selection: AccessSelection | undefined): DlmsData {
  const { first, last, step } = rowTimes(p);
  let from = first, to = last, columns = PROFILE_CAPTURES.map((_, i) => i);
  if (selection) {
    const s = selection.parameters;
    if (s.type !== 'structure') throw new SelectionError(`access selector ${selection.selector} parameters are a ${s.type}, a structure expected`, 12);
    if (selection.selector === 1) {
      if (s.items.length < 3) throw new SelectionError('range descriptor needs restricting object, from and to', 12);
      const restricting = captureObjects({ type: 'array', items: [s.items[0]] })[0];
      if (!sameCapture(restricting, PROFILE_CAPTURES[0])) throw new SelectionError(`restricting object ${restricting.obis} is not the clock`, 250);
      const local = p.utcOffsetMinutes * 60_000;
      from = Math.max(first, Math.ceil(timeOf(s.items[1], 'from_value', local) / step) * step);
      to = Math.min(last, Math.floor(timeOf(s.items[2], 'to_value', local) / step) * step);
      columns = columnsOf(s.items[3]);
    } else if (selection.selector === 2) {
      const fromEntry = num(s.items[0]), toEntry = num(s.items[1]);
      const fromCol = num(s.items[2]) ?? 1, toCol = num(s.items[3]) ?? 0;
      if (fromEntry === undefined || toEntry === undefined) throw new SelectionError('entry descriptor needs from_entry and to_entry', 12);
      from = Math.max(first, first + (Math.max(1, fromEntry) - 1) * step);
      to = toEntry === 0 ? last : Math.min(last, first + (toEntry - 1) * step);
      const lastCol = toCol === 0 ? PROFILE_CAPTURES.length : Math.min(toCol, PROFILE_CAPTURES.length);
      columns = PROFILE_CAPTURES.map((_, i) => i).filter((i) => i + 1 >= Math.max(1, fromCol) && i + 1 <= lastCol);
    } else {
      throw new SelectionError(`access selector ${selection.selector} is not supported (1 range, 2 entry)`, 250);
    }
  }
  const items: DlmsData[] = [];
  for (let t = from; t <= to && items.length < p.entries; t += step) items.push(row(p, t, columns));
  return { type: 'array', items };
}
