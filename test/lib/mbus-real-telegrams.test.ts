/**
 * Real M-Bus telegrams from public sources (test/fixtures/mbus/real/*.json, one file per source): every
 * telegram decodes, and every value the source published for it is found among the decoded records.
 * Expectations are written in the source's own words and units; this file maps them onto ours.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { decodeTelegram } from '../../lib/protocols/mbus/telegram';
import { parseHex } from '../../lib/protocols/mbus/frame';
import type { MbusFunction, MbusRecord, MbusTelegram } from '../../lib/protocols/mbus/types';

/** One published value. Fields the source does not state are left out and not checked. */
interface Expected {
  /** Record position, for sources that assert values by index. */
  index?: number;
  storage?: number;
  tariff?: number;
  subunit?: number;
  function?: string;
  description?: string;
  value?: number | string;
  /** Sources that print raw numbers with a decimal exponent: the value is value x 10^exponent. */
  exponent?: number;
  unit?: string;
  /** The record has a manufacturer-specific VIF (0x7F/0xFF): its data compared as a signed integer or text. */
  manufacturerVif?: boolean;
  /** The record holds these BCD digits (some A-F), which have no numeric value; `value` is what the source printed. */
  invalidBcd?: string;
  /** The source printed manufacturer data last byte first. */
  byteOrder?: 'reversed';
}
interface RealTelegram {
  manufacturer: string;
  device: string;
  source: string;
  hex: string;
  expected: Expected[];
  header?: Record<string, unknown>;
  /** A library's example frame, not a meter's: decoded like the rest, not counted as real. */
  example?: boolean;
}

const dir = path.resolve(__dirname, '../../../test/fixtures/mbus/real');
const corpora = fs.readdirSync(dir).filter((f) => f.endsWith('.json')).sort()
  .map((f) => ({ file: f, telegrams: JSON.parse(fs.readFileSync(path.join(dir, f), 'utf8')).telegrams as RealTelegram[] }));

/** The sources' function names. */
const FUNCTIONS: Record<string, MbusFunction> = {
  'Instantaneous value': 'instantaneous', 'Maximum value': 'maximum', 'Minimum value': 'minimum', 'Value during error state': 'error',
  InstantaneousValue: 'instantaneous',
};

const TO_SECONDS = [['s', 1], ['min', 60], ['h', 3600], ['d', 86400]] as [string, number][];
const TO_HOURS = TO_SECONDS.map(([u, f]) => [u, f / 3600]) as [string, number][];
/**
 * The sources' unit spellings -> our unit and the factor that turns our value into theirs. libmbus
 * normalised (m^3, s), libmbus raw ("Energy (10 Wh)": the unit text carries the scale), pyMeterBus
 * (WH, C, none), wmbusmeters field-name suffixes (kwh, c, m3h, h ...), m-bus-parser unit names.
 */
const UNITS: Record<string, [string, number][]> = {
  Wh: [['Wh', 1]], kWh: [['Wh', 1e-3]], J: [['J', 1]], W: [['W', 1]], V: [['V', 1]], A: [['A', 1]], K: [['K', 1]], '°C': [['°C', 1]],
  'm^3': [['m3', 1]], l: [['m3', 1e3]], 'm^3/h': [['m3/h', 1]], 'Units for H.C.A.': [['HCA', 1]], '': [['', 1]], s: TO_SECONDS,
  'Energy (kWh)': [['Wh', 1e-3]], 'Energy (10 Wh)': [['Wh', 0.1]], 'Volume ( m^3)': [['m3', 1]], 'Volume (m m^3)': [['m3', 1e3]],
  'Power (W)': [['W', 1]], 'Volume flow (m m^3/h)': [['m3/h', 1e3]], 'Flow temperature (deg C)': [['°C', 1]], 'Return temperature (deg C)': [['°C', 1]],
  'External temperature (1e-1  deg C)': [['°C', 10]], 'Temperature Difference ( deg C)': [['K', 1]], '1e-1  V': [['V', 10]], 'On time (hours)': TO_HOURS,
  'Fabrication number': [['', 1]], Customer: [['', 1]], 'Firmware version': [['', 1]], 'Hardware version': [['', 1]],
  WH: [['Wh', 1]], C: [['°C', 1]], none: [['', 1]],
  kwh: [['Wh', 1e-3], ['J', 1 / 3.6e6]], kw: [['W', 1e-3]], m3: [['m3', 1]], m3h: [['m3/h', 1]], c: [['°C', 1], ['K', 1]], h: TO_HOURS, rh: [['%', 1]],
  v: [['V', 1]], a: [['A', 1]], hca: [['HCA', 1]], txt: [['', 1]],
  'Watt Hour': [['Wh', 1]], 'ReactiveWatt Hour': [['varh', 1]], Watt: [['W', 1]], ReactiveWatt: [['var', 1]], ApparentWatt: [['VA', 1]],
  Volt: [['V', 1]], Ampere: [['A', 1]],
};
/** Date spellings: libmbus ISO with Z, libmbus raw without, wmbusmeters "YYYY-MM-DD" and "YYYY-MM-DD HH:MM". */
const DATE_UNITS = new Set(['-', 'Time Point (time & date)', 'date', 'datetime']);
/** libmbus prints a type F/I date/time with its invalid bit set as this. */
const LIBMBUS_INVALID_DATE = '1900-01-00T00:00:00Z';

const near = (a: number, b: number) => Math.abs(a - b) <= 1e-6 + 1e-9 * Math.abs(b);

/** Signed integer of a manufacturer-specific record's data (our value is its hex, most significant byte first). */
function signedHex(h: string): number {
  const bits = BigInt(h.length * 4);
  let v = BigInt(`0x${h}`);
  if (h.length && v >= 1n << (bits - 1n)) v -= 1n << bits;
  return Number(v);
}

function sameDate(r: MbusRecord, v: string): boolean {
  if (v === LIBMBUS_INVALID_DATE) return r.unit === 'date' && r.unknown === 'invalid date';
  const iso = /^\d{4}-\d\d-\d\d \d\d:\d\d$/.test(v) ? `${v.replace(' ', 'T')}:00` : v.replace(/Z$/, '');
  return r.unit === 'date' && r.value === iso;
}

function valueMatches(r: MbusRecord, e: Expected): boolean {
  const v = typeof e.value === 'number' && e.exponent !== undefined ? e.value * 10 ** e.exponent : e.value;
  if (e.invalidBcd !== undefined) return r.value === null && r.unknown === `invalid BCD digits ${e.invalidBcd}`;
  if (e.manufacturerVif || e.description === 'Manufacturer specific') {
    if (r.unknown !== 'manufacturer-specific VIF') return false;
    return typeof v === 'string' ? r.value === v : typeof r.value === 'string' && signedHex(r.value) === v;
  }
  if (typeof v === 'string' && DATE_UNITS.has(e.unit ?? '') && /^\d{4}-\d\d-\d\d/.test(v)) return sameDate(r, v);
  if (e.unit === '-') {
    // libmbus' "-" for anything else: a plain-text unit, which libmbus shows as the quantity (without
    // the "/s" a per-second VIFE adds to ours).
    if (r.unit !== e.description && !r.unit.startsWith(`${e.description}/`)) return false;
    return typeof v === 'number' ? typeof r.value === 'number' && near(r.value, v) : r.value === v;
  }
  const units = UNITS[e.unit ?? ''];
  assert.ok(units, `test has no mapping for the source unit ${JSON.stringify(e.unit)}`);
  const factor = units.find(([u]) => u === r.unit)?.[1];
  if (factor === undefined) return false;
  if (typeof v === 'string') return r.value === v;
  if (typeof r.value === 'string' && /^\d+$/.test(r.value)) return Number(r.value) === v; // ids and BCD digit strings
  return typeof r.value === 'number' && typeof v === 'number' && near(r.value * factor, v);
}

function recordMatches(r: MbusRecord, e: Expected): boolean {
  const same = (mine: number | string, theirs: number | string | undefined) => theirs === undefined || mine === theirs;
  return same(r.index, e.index) && same(r.storage, e.storage) && same(r.tariff, e.tariff) && same(r.subunit, e.subunit)
    && same(r.function, e.function === undefined ? undefined : FUNCTIONS[e.function]) && valueMatches(r, e);
}

const spaced = (h: string | undefined) => (h ?? '').replace(/(..)(?!$)/g, '$1 ');

function checkTelegram(t: RealTelegram, tg: MbusTelegram): void {
  const pool = [...tg.records];
  for (const e of t.expected) {
    if (e.function === 'Manufacturer specific' || e.function === 'More records follow') {
      if (e.function === 'More records follow') assert.equal(tg.moreRecordsFollow, true, 'DIF 0x1F: more records follow');
      if (e.value === undefined) continue;
      const bytes = String(e.value).split(' ').filter(Boolean);
      assert.equal(spaced(tg.manufacturerData), (e.byteOrder === 'reversed' ? bytes.reverse() : bytes).join(' '), 'manufacturer data');
      continue;
    }
    assert.ok(e.function === undefined || FUNCTIONS[e.function], `unknown function ${e.function}`);
    const i = pool.findIndex((r) => recordMatches(r, e));
    const shown = tg.records.map((r) => `${r.index} ${r.raw}: ${r.description} = ${JSON.stringify(r.value)} ${r.unit}`
      + ` (${r.function} s${r.storage} t${r.tariff} u${r.subunit})${r.unknown ? ` [${r.unknown}]` : ''}`);
    assert.ok(i >= 0, `expected ${JSON.stringify(e)}\namong the records not yet matched:\n  ${shown.filter((_, k) => pool.includes(tg.records[k])).join('\n  ')}`);
    pool.splice(i, 1);
  }
}

for (const { file, telegrams } of corpora) {
  describe(`real M-Bus telegrams: ${file}`, () => {
    for (const t of telegrams) {
      it(`${t.manufacturer} ${t.device}`, () => {
        const tg = decodeTelegram(parseHex(t.hex));
        for (const [k, v] of Object.entries(t.header ?? {})) assert.equal((tg.header as unknown as Record<string, unknown>)[k], v, `header.${k}`);
        checkTelegram(t, tg);
      });
    }
  });
}

describe('real M-Bus telegram corpus', () => {
  it('holds at least 60 telegrams of at least 10 manufacturers, each with a source', () => {
    const all = corpora.flatMap((c) => c.telegrams).filter((t) => !t.example);
    assert.ok(all.length >= 60, `${all.length} telegrams`);
    assert.ok(new Set(all.map((t) => t.manufacturer)).size >= 10);
    for (const t of all) assert.ok(t.source && t.expected.length > 0, `${t.device}: source and expected values`);
  });
});
