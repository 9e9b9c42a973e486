/**
 * Housekeeping of the EMS database: old events and raw poll-server responses are deleted when the
 * services open and then once a day. Settings (environment of the Node-RED process):
 *
 *   EMS_EVENT_RETENTION_DAYS         events older than this are deleted (default 400)
 *   EMS_RAW_RESPONSE_RETENTION_DAYS  raw HEX responses older than this are deleted (default 90)
 *   EMS_RAW_RESPONSES_PER_METER      raw responses kept per meter, newest first (default 10000)
 */
import type { EmsDatabase } from './db';
import { DEFAULT_EVENT_RETENTION_DAYS, type EventLog } from './event-log';
import { DEFAULT_RESPONSE_RETENTION_DAYS, KEEP_PER_METER, RawResponses } from './raw-responses';

export interface Retention {
  eventDays: number;
  rawResponseDays: number;
  rawResponsesPerMeter: number;
}

export const DEFAULT_RETENTION: Retention = {
  eventDays: DEFAULT_EVENT_RETENTION_DAYS, rawResponseDays: DEFAULT_RESPONSE_RETENTION_DAYS, rawResponsesPerMeter: KEEP_PER_METER,
};

export const MAINTENANCE_INTERVAL_MS = 86_400_000;

export interface RetentionEnv {
  EMS_EVENT_RETENTION_DAYS?: string;
  EMS_RAW_RESPONSE_RETENTION_DAYS?: string;
  EMS_RAW_RESPONSES_PER_METER?: string;
}

function positive(env: RetentionEnv, name: keyof RetentionEnv, fallback: number): number {
  const v = env[name];
  if (v === undefined || v.trim() === '') return fallback;
  const n = Number(v);
  if (!Number.isSafeInteger(n) || n < 1) throw new Error(`${name} ${JSON.stringify(v)} must be a whole number of at least 1`);
  return n;
}

/** The retention settings from the environment (unset = the defaults); throws naming a bad variable. */
export function retentionFromEnv(env: RetentionEnv = {}): Retention {
  return {
    eventDays: positive(env, 'EMS_EVENT_RETENTION_DAYS', DEFAULT_RETENTION.eventDays),
    rawResponseDays: positive(env, 'EMS_RAW_RESPONSE_RETENTION_DAYS', DEFAULT_RETENTION.rawResponseDays),
    rawResponsesPerMeter: positive(env, 'EMS_RAW_RESPONSES_PER_METER', DEFAULT_RETENTION.rawResponsesPerMeter),
  };
}

/** Deletes what is past retention; returns how many events and raw responses went. */
export function pruneOnce(db: EmsDatabase, events: EventLog, retention: Retention, now: () => number = Date.now): { events: number; rawResponses: number } {
  return {
    events: events.prune(retention.eventDays),
    rawResponses: new RawResponses(db, now).prune(retention.rawResponseDays, retention.rawResponsesPerMeter),
  };
}

/** Prunes now and then every day (an unref'd timer); returns the function that stops it. */
export function startMaintenance(
  db: EmsDatabase, events: EventLog, retention: Retention, now: () => number = Date.now,
  onError: (err: Error) => void = () => {},
): () => void {
  const run = () => {
    try {
      if (db.open) pruneOnce(db, events, retention, now);
    } catch (err) {
      onError(err as Error);
    }
  };
  run();
  const timer = setInterval(run, MAINTENANCE_INTERVAL_MS);
  timer.unref();
  return () => clearInterval(timer);
}
