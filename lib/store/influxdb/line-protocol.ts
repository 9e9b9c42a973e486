/**
 * InfluxDB line protocol for readings and events. Pure: no I/O.
 *
 *   <measurement>[,<tag>=<value>...] <field>=<value>[,<field>=<value>...] <timestamp>
 *
 * Escaping (InfluxDB line protocol reference, "Special characters"):
 * - measurement: comma and space are escaped with a backslash;
 * - tag keys, tag values, field keys: comma, equals sign and space are escaped;
 * - string field values: double quote and backslash are escaped, the value is double-quoted;
 * - the newline character is not supported in tag or field values at all: it is refused.
 * Tag values must not be empty (the tag is omitted instead) and must not contain a backslash: InfluxDB
 * does not unescape `\\` in tags, so a backslash before an escaped character (or at the end) cannot
 * be written unambiguously; refusing every backslash keeps the rule simple. Tags are written sorted
 * by key (the order InfluxDB recommends).
 *
 * Numbers: floats in JavaScript's shortest round-trip form (1234.567 -> "1234.567", 1e21 ->
 * "1e+21", which Go's ParseFloat reads back to the same double), integers with the `i` suffix,
 * timestamps as integer epoch ms (precision "ms"; a fractional ms is rounded to the nearest).
 */
import { isObis, normaliseObis } from '../../model/obis';
import { readingProblem, type Reading } from '../../model/reading';
import type { EmsEvent } from '../types';
import { DEFAULT_SCHEMA, type InfluxSchema } from './schema';
import { eventProblem } from '../events';

export { eventProblem };


export function escapeMeasurement(name: string): string {
  return name.replace(/[, ]/g, (c) => `\\${c}`);
}

/** Escapes a tag key, tag value or field key. */
export function escapeKey(text: string): string {
  return text.replace(/[,= ]/g, (c) => `\\${c}`);
}

/** A string field value, quoted. */
export function quoteString(text: string): string {
  return `"${text.replace(/["\\]/g, (c) => `\\${c}`)}"`;
}

/** A float field value; throws on NaN and infinities. */
export function formatFloat(x: number): string {
  if (!Number.isFinite(x)) throw new RangeError(`${x} is not a finite number`);
  return Object.is(x, -0) ? '0' : String(x);
}

/** An integer field value with the `i` suffix; throws when not a safe integer. */
export function formatInteger(x: number): string {
  if (!Number.isSafeInteger(x)) throw new RangeError(`${x} is not a safe integer`);
  return `${x}i`;
}

function newlineProblem(text: string): boolean {
  return text.includes('\n') || text.includes('\r');
}

function tagValue(where: string, field: string, text: string): string {
  if (newlineProblem(text)) throw new Error(`${where}: ${field} must not contain a newline (line protocol does not support it), got ${JSON.stringify(text)}`);
  if (text.includes('\\')) throw new Error(`${where}: ${field} must not contain a backslash (it cannot be written as a tag value), got ${JSON.stringify(text)}`);
  return escapeKey(text);
}

function stringField(where: string, field: string, text: string): string {
  if (newlineProblem(text)) throw new Error(`${where}: ${field} must not contain a newline (line protocol does not support it), got ${JSON.stringify(text)}`);
  return quoteString(text);
}

function timestamp(where: string, time: number): string {
  const t = Math.round(time);
  if (!Number.isSafeInteger(t)) throw new Error(`${where}: time ${time} is out of range`);
  return String(t);
}

const obisCache = new Map<string, string>();

/** The canonical "A-B:C.D.E" form when the text is an OBIS code, else the text (like the sqlite store). */
export function canonicalObis(obis: string): string {
  let c = obisCache.get(obis);
  if (c === undefined) {
    c = isObis(obis) ? normaliseObis(obis) : obis;
    if (obisCache.size < 10_000) obisCache.set(obis, c);
  }
  return c;
}

/**
 * The head of a reading's line up to its fields, "<measurement>,meter=..,obis=..[,unit=..] ", checked
 * and escaped once per series (per schema, then meter, obis and unit). Bounded: the cache starts
 * again when it holds SERIES_CACHE_MAX heads.
 */
const SERIES_CACHE_MAX = 100_000;
let seriesCache = new WeakMap<InfluxSchema, Map<string, Map<string, Map<string, string>>>>();
let seriesCached = 0;

type SeriesHeads = Map<string, Map<string, Map<string, string>>>;

function seriesHeads(schema: InfluxSchema): SeriesHeads {
  let byMeter = seriesCache.get(schema);
  if (byMeter === undefined) seriesCache.set(schema, byMeter = new Map());
  return byMeter;
}

function seriesHead(r: Reading, index: number, schema: InfluxSchema, byMeter: SeriesHeads): string {
  const head = byMeter.get(r.meter)?.get(r.obis)?.get(r.unit);
  if (head !== undefined) return head;
  // not cached: check and escape (this throws on a bad tag, before anything is cached)
  const where = `readings[${index}]`;
  let text = `${escapeMeasurement(schema.readings)},meter=${tagValue(where, 'meter', r.meter)},obis=${tagValue(where, 'obis', canonicalObis(r.obis))}`;
  if (r.unit !== '') text += `,unit=${tagValue(where, 'unit', r.unit)}`;
  text += ' ';
  if (seriesCached >= SERIES_CACHE_MAX) { // start again (`byMeter`, still used by the current batch, is dropped after it)
    seriesCache = new WeakMap();
    seriesCached = 0;
  }
  let byObis = byMeter.get(r.meter);
  if (byObis === undefined) byMeter.set(r.meter, byObis = new Map());
  let byUnit = byObis.get(r.obis);
  if (byUnit === undefined) byObis.set(r.obis, byUnit = new Map());
  byUnit.set(r.unit, text);
  seriesCached++;
  return text;
}

/** One reading as a line; `index` names it in errors ("readings[3]: ..."). */
export function readingLine(r: Reading, index = 0, schema: InfluxSchema = DEFAULT_SCHEMA): string {
  return line(r, index, schema, seriesHeads(schema));
}

function line(r: Reading, index: number, schema: InfluxSchema, heads: SeriesHeads): string {
  const problem = readingProblem(r);
  if (problem) throw new Error(`readings[${index}]: ${problem}`);
  const head = seriesHead(r, index, schema, heads);
  let value: string;
  let quality: string;
  try {
    value = formatFloat(r.value);
  } catch (err) {
    throw new Error(`readings[${index}]: value: ${(err as Error).message}`);
  }
  try {
    quality = formatInteger(r.quality ?? 0);
  } catch (err) {
    throw new Error(`readings[${index}]: quality: ${(err as Error).message}`);
  }
  const t = Math.round(r.time);
  if (!Number.isSafeInteger(t)) throw new Error(`readings[${index}]: time ${r.time} is out of range`);
  return `${head}quality=${quality},value=${value} ${t}`;
}

/** Encodes a batch of readings, one line each (all or nothing: the first bad reading throws). */
export function encodeReadings(readings: readonly Reading[], schema: InfluxSchema = DEFAULT_SCHEMA): string[] {
  if (!Array.isArray(readings)) throw new Error('readings must be an array');
  const out: string[] = new Array(readings.length);
  const heads = seriesHeads(schema);
  for (let i = 0; i < readings.length; i++) out[i] = line(readings[i], i, schema, heads);
  return out;
}


export function eventLine(e: EmsEvent, index = 0, schema: InfluxSchema = DEFAULT_SCHEMA): string {
  const where = `events[${index}]`;
  const problem = eventProblem(e);
  if (problem) throw new Error(`${where}: ${problem}`);
  let line = `${escapeMeasurement(schema.events)},kind=${tagValue(where, 'kind', e.kind)},level=${tagValue(where, 'level', e.level)}`;
  if (e.meter !== undefined && e.meter !== '') line += `,meter=${tagValue(where, 'meter', e.meter)}`;
  line += ` message=${stringField(where, 'message', e.message)}`;
  if (e.source !== undefined) line += `,source=${stringField(where, 'source', e.source)}`;
  return `${line} ${timestamp(where, e.time)}`;
}

export function encodeEvents(events: readonly EmsEvent[], schema: InfluxSchema = DEFAULT_SCHEMA): string[] {
  if (!Array.isArray(events)) throw new Error('events must be an array');
  const out: string[] = new Array(events.length);
  for (let i = 0; i < events.length; i++) out[i] = eventLine(events[i], i, schema);
  return out;
}

/**
 * Splits a batch into request bodies of at most `linesPerChunk` lines each, joined with "\n". Accepts
 * the line array of the encoders or an encoded body (split at "\n": the encoders never put a newline
 * inside a line). Empty lines are dropped.
 */
export function chunkLines(batch: readonly string[] | string, linesPerChunk: number): string[] {
  if (!Number.isInteger(linesPerChunk) || linesPerChunk < 1) throw new RangeError(`lines per chunk must be a positive integer, got ${linesPerChunk}`);
  const lines = (typeof batch === 'string' ? batch.split('\n') : batch).filter((l) => l !== '');
  const out: string[] = [];
  for (let i = 0; i < lines.length; i += linesPerChunk) out.push(lines.slice(i, i + linesPerChunk).join('\n'));
  return out;
}

/** One parsed line (for tests and diagnostics): tags and fields unescaped, field values typed. */
export interface ParsedLine {
  measurement: string;
  tags: Record<string, string>;
  fields: Record<string, number | string | boolean>;
  /** Integer fields (written with `i`) are listed here as well as in `fields`. */
  integers: string[];
  time?: number;
}

/**
 * A small line protocol parser following the escaping rules above (not a full implementation:
 * no unsigned `u` integers). Throws on malformed lines.
 */
export function parseLine(line: string): ParsedLine {
  let i = 0;
  const n = line.length;
  const readUntil = (stops: string): string => {
    let s = '';
    while (i < n && !stops.includes(line[i])) {
      if (line[i] === '\\' && i + 1 < n && `${stops}, =`.includes(line[i + 1])) {
        s += line[i + 1];
        i += 2;
      } else s += line[i++];
    }
    return s;
  };
  const measurement = readUntil(', ');
  if (measurement === '') throw new Error(`no measurement in ${JSON.stringify(line)}`);
  const tags: Record<string, string> = {};
  while (line[i] === ',') {
    i++;
    const k = readUntil('=');
    if (line[i++] !== '=') throw new Error(`tag without "=" in ${JSON.stringify(line)}`);
    const v = readUntil(', ');
    if (k === '' || v === '') throw new Error(`empty tag key or value in ${JSON.stringify(line)}`);
    tags[k] = v;
  }
  if (line[i++] !== ' ') throw new Error(`no field set in ${JSON.stringify(line)}`);
  const fields: Record<string, number | string | boolean> = {};
  const integers: string[] = [];
  for (;;) {
    const k = readUntil('=');
    if (line[i++] !== '=' || k === '') throw new Error(`bad field in ${JSON.stringify(line)}`);
    if (line[i] === '"') {
      i++;
      let s = '';
      while (i < n && line[i] !== '"') {
        if (line[i] === '\\' && (line[i + 1] === '"' || line[i + 1] === '\\')) {
          s += line[i + 1];
          i += 2;
        } else s += line[i++];
      }
      if (line[i++] !== '"') throw new Error(`unterminated string in ${JSON.stringify(line)}`);
      fields[k] = s;
    } else {
      let raw = '';
      while (i < n && line[i] !== ',' && line[i] !== ' ') raw += line[i++];
      if (/^-?\d+i$/.test(raw)) {
        fields[k] = Number(raw.slice(0, -1));
        integers.push(k);
      } else if (/^(t|T|true|True|TRUE)$/.test(raw)) fields[k] = true;
      else if (/^(f|F|false|False|FALSE)$/.test(raw)) fields[k] = false;
      else if (/^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(raw)) fields[k] = Number(raw);
      else throw new Error(`bad field value ${JSON.stringify(raw)} in ${JSON.stringify(line)}`);
    }
    if (line[i] === ',') { i++; continue; }
    break;
  }
  const out: ParsedLine = { measurement, tags, fields, integers };
  if (line[i] === ' ') {
    const rest = line.slice(i + 1);
    if (!/^-?\d+$/.test(rest)) throw new Error(`bad timestamp ${JSON.stringify(rest)} in ${JSON.stringify(line)}`);
    out.time = Number(rest);
  } else if (i < n) throw new Error(`trailing text in ${JSON.stringify(line)}`);
  return out;
}
