/** Quality bit flags carried in Reading.quality. 0 (or absent) means a good, measured value. */
export const Quality = {
  ESTIMATED: 1 << 0,
  SUSPECT: 1 << 1,
  CLOCK_ADJUSTED: 1 << 2,
  COUNTER_RESET: 1 << 3,
  GAP_FILLED: 1 << 4,
  OVERFLOW: 1 << 5,
  MANUAL: 1 << 6,
  HISTORIC: 1 << 7,
  /** Read afterwards from the meter's own memory (load profile, storage numbers, log) to fill an outage. */
  BACKFILLED: 1 << 8,
  /** A window's consumption whose edge value lies between two readings (linear in time). */
  INTERPOLATED: 1 << 9,
  /** Came from a file import (POST /api/imports, CSV or XLSX); such readings carry MANUAL as well (entered by people). */
  IMPORTED: 1 << 10,
  /** A virtual meter's value: calculated from other meters' readings by its expression (lib/ems/virtual-meters.ts). */
  CALCULATED: 1 << 11,
} as const;

export type QualityFlag = keyof typeof Quality;

export function qualityFlags(quality: number | undefined): QualityFlag[] {
  const q = quality ?? 0;
  return (Object.keys(Quality) as QualityFlag[]).filter((k) => (q & Quality[k]) !== 0);
}

export function qualityOf(...flags: QualityFlag[]): number {
  return flags.reduce((q, f) => q | Quality[f], 0);
}

/**
 * Whether a reading tells the meter's state when it was read (a poll, an uplink), rather than a value read
 * afterwards from its memory: a backfilled load profile or log entry, or a billing-period (historic) value.
 * Live rules (thresholds, register sanity, stale meters) look at present readings only.
 */
export function isPresentReading(r: { quality?: number }): boolean {
  return ((r.quality ?? 0) & (Quality.BACKFILLED | Quality.HISTORIC)) === 0;
}
