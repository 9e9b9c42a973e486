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

interface Expected {
  storage?: number;
  tariff?: number;
  subunit?: number;
  function: string;
  description?: string;
  value?: number | string;
  unit?: string;
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
}

const dir = path.resolve(__dirname, '../../../test/fixtures/mbus/real');
const corpora = fs.readdirSync(dir).filter((f) => f.endsWith('.json')).sort()
  .map((f) => ({ file: f, telegrams: JSON.parse(fs.readFileSync(path.join(dir, f), 'utf8')).telegrams as RealTelegram[] }));

/** The sources' function names. */
const FUNCTIONS: Record<string, MbusFunction> = {
  'Instantaneous value': 'instantaneous', 'Maximum value': 'maximum', 'Minimum value': 'minimum', 'Value during error state': 'error',
};

/** A source unit -> our unit and the factor that turns our value into the source's (durations all in seconds). */
const UNITS: Record<string, [string, number][]> = {
  Wh: [['Wh', 1]], kWh: [['Wh', 1e-3]], J: [['J', 1]], W: [['W', 1]], V: [['V', 1]], A: [['A', 1]], K: [['K', 1]], '°C': [['°C', 1]],
  'm^3': [['m3', 1]], l: [['m3', 1e3]], 'm^3/h': [['m3/h', 1]], 'Units for H.C.A.': [['HCA', 1]], '': [['', 1]],
  s: [['s', 1], ['min', 60], ['h', 3600], ['d', 86400]],
};
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

function valueMatches(r: MbusRecord, e: Expected): boolean {
  const v = e.value;
  if (e.invalidBcd !== undefined) return r.value === null && r.unknown === `invalid BCD digits ${e.invalidBcd}`;
  if (e.description === 'Manufacturer specific') return r.unknown === 'manufacturer-specific VIF' && typeof r.value === 'string' && signedHex(r.value) === v;
  if (e.unit === '-') {
    // libmbus' "-": a date (value in ISO form with Z) or a plain-text unit (the text is the quantity).
    if (v === LIBMBUS_INVALID_DATE) return r.unit === 'date' && r.unknown === 'invalid date';
    if (typeof v === 'string' && /^\d{4}-\d\d-\d\d/.test(v)) return r.unit === 'date' && r.value === v.replace(/Z$/, '');
    if (r.unit !== e.description) return false;
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
  return r.function === FUNCTIONS[e.function] && r.storage === (e.storage ?? 0) && r.tariff === (e.tariff ?? 0)
    && r.subunit === (e.subunit ?? 0) && valueMatches(r, e);
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
    assert.ok(FUNCTIONS[e.function], `unknown function ${e.function}`);
    const i = pool.findIndex((r) => recordMatches(r, e));
    const near = tg.records.filter((r) => r.storage === (e.storage ?? 0) && r.function === FUNCTIONS[e.function])
      .map((r) => `${r.raw}: ${r.description} = ${JSON.stringify(r.value)} ${r.unit} (t${r.tariff} u${r.subunit})${r.unknown ? ` [${r.unknown}]` : ''}`);
    assert.ok(i >= 0, `expected ${JSON.stringify(e)}\namong records of that storage and function:\n  ${near.join('\n  ')}`);
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
    const all = corpora.flatMap((c) => c.telegrams);
    assert.ok(all.length >= 60, `${all.length} telegrams`);
    assert.ok(new Set(all.map((t) => t.manufacturer)).size >= 10);
    for (const t of all) assert.ok(t.source && t.expected.length > 0, `${t.device}: source and expected values`);
  });
});
