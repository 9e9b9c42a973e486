/** The canonical reading every meter-facing node emits and every store and calculator consumes. */
export interface Reading {
  /** EMS meter id. */
  meter: string;
  /** Epoch milliseconds, UTC; the meter's own timestamp when it has one. */
  time: number;
  /** OBIS code "A-B:C.D.E", e.g. "1-0:1.8.0". */
  obis: string;
  value: number;
  /** A unit from the unit table (lib/model/units), already converted to its canonical form. */
  unit: string;
  /** Bit flags from {@link Quality}. */
  quality?: number;
}

/** Checks the shape of one reading; returns a message naming the bad field, or null when it is fine. */
export function readingProblem(r: unknown): string | null {
  if (r === null || typeof r !== 'object') return `reading must be an object, got ${JSON.stringify(r)}`;
  const x = r as Record<string, unknown>;
  if (typeof x.meter !== 'string' || x.meter === '') return `reading.meter must be a non-empty string, got ${JSON.stringify(x.meter)}`;
  if (typeof x.time !== 'number' || !Number.isFinite(x.time)) return `reading.time must be epoch milliseconds, got ${JSON.stringify(x.time)}`;
  if (typeof x.obis !== 'string' || x.obis === '') return `reading.obis must be an OBIS code, got ${JSON.stringify(x.obis)}`;
  if (typeof x.value !== 'number' || !Number.isFinite(x.value)) return `reading.value must be a finite number, got ${JSON.stringify(x.value)}`;
  if (typeof x.unit !== 'string') return `reading.unit must be a string, got ${JSON.stringify(x.unit)}`;
  if (x.quality !== undefined && (!Number.isInteger(x.quality) || (x.quality as number) < 0)) {
    return `reading.quality must be a non-negative integer of flags, got ${JSON.stringify(x.quality)}`;
  }
  return null;
}
