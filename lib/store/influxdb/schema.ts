/**
 * The InfluxDB schema of the reading store, as data. Pure: no I/O.
 *
 * Readings: measurement `ems_reading`
 *   tags   meter  EMS meter id                       (series per meter ...)
 *          obis   canonical "A-B:C.D.E" code          (... and per code: the natural series key)
 *          unit   canonical unit ("kWh", "kW", ...)   omitted when the reading's unit is ""
 *   fields value   float (always written as a float, never with the `i` suffix, so the field type
 *                  never flips between integer and float)
 *          quality integer, ALWAYS written (0 when the reading has none)
 *   time   epoch ms (write precision "ms"; `precision=ms` on /write and /api/v2/write)
 *
 * Why `unit` is a tag and not a field:
 * - Cardinality: a tag multiplies the series count by its number of distinct values *per
 *   (meter, obis)*. The unit of a reading is determined by its OBIS code (lib/model converts every
 *   reading to the one canonical unit of its quantity on the way in), so each (meter, obis) has one
 *   unit and the tag adds no series: series count = meters x codes either way.
 * - A tag comes back for free in `GROUP BY ..., "unit"` (windowed and latest queries) and costs no
 *   per-point storage; a string field would be stored with every point and would need an extra
 *   `last("unit")` per window.
 * - VictoriaMetrics (which serves /api/v2/write) keeps tags as labels; a string field becomes a sample of value 0 (checked against 1.79.5).
 * Caveat: if a (meter, obis) is ever written with two different units they are two series, and a
 * point rewritten with another unit does not overwrite the old one. The query parsers tolerate this
 * (latest keeps the newest per meter/obis; see influxql.ts).
 *
 * Why `quality` is always written: InfluxDB overwrites a point (same series, same timestamp) by
 * merging field sets, so a rewrite without `quality` would keep an old quality. The sqlite backend
 * replaces the whole row; writing `quality=0i` when absent gives the same overwrite semantics. On
 * the way back a quality of 0 (no flags) is returned as absent, so a reading without quality
 * round-trips exactly (one written with an explicit `quality: 0` comes back without it).
 *
 * Events: measurement `ems_event`
 *   tags   level  info | warning | error  (3 values)
 *          kind   short machine-readable kind ("poll-failed", ...): a small closed set
 *          meter  the meter concerned, omitted when absent or ""
 *   fields message string (always, may be "")
 *          source  string, omitted when absent (node ids and user logins: unbounded, so a field)
 *   time   epoch ms
 * Caveat: two events with the same level, kind, meter and ms are the same InfluxDB point; the later
 * one overwrites the earlier (sqlite keeps both).
 *
 * Reads use InfluxQL over GET/POST /query with `epoch=ms`, so every `time` in the JSON answer is an
 * integer of epoch ms instead of an RFC3339 string (the parsers accept both).
 */

export const READING_MEASUREMENT = 'ems_reading';
export const EVENT_MEASUREMENT = 'ems_event';

export const READING_TAGS = { meter: 'meter', obis: 'obis', unit: 'unit' } as const;
export const READING_FIELDS = { value: 'value', quality: 'quality' } as const;
export const EVENT_TAGS = { level: 'level', kind: 'kind', meter: 'meter' } as const;
export const EVENT_FIELDS = { message: 'message', source: 'source' } as const;

/** Write precision of every point: epoch milliseconds. */
export const PRECISION = 'ms';
/** The `epoch` query parameter of /query that makes InfluxDB answer with epoch-ms times. */
export const QUERY_EPOCH = 'ms';

export interface InfluxSchema {
  /** Measurement of readings. */
  readings: string;
  /** Measurement of events. */
  events: string;
}

export const DEFAULT_SCHEMA: Readonly<InfluxSchema> = Object.freeze({ readings: READING_MEASUREMENT, events: EVENT_MEASUREMENT });
