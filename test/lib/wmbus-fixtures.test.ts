/**
 * Published wireless M-Bus telegrams (test/fixtures/wmbus/*.json: the OMS Vol. 2 Annex N and CEN/TR 17167
 * examples, and wmbusmeters' test telegrams with their keys): every one decodes, with the header and every
 * value its source states. Expected values are the sources' own numbers and units; this file maps units.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { decodeWmbus, deriveKey, parseReceived, wmbusToReadings, type DecodedWmbus } from '../../lib/protocols/wmbus';
import type { MbusRecord } from '../../lib/protocols/mbus/types';

interface Value { quantity: string; value: number | string; unit?: string; storage?: number }
interface Fixture {
  name: string; hex: string; key?: string; source?: string;
  expected: {
    link?: Record<string, unknown>; meter?: Record<string, unknown>; ell?: Record<string, unknown>;
    mode?: number; macChecked?: boolean; ellEncrypted?: boolean; receiverDecrypted?: boolean; status?: number;
    values: Value[]; readings?: { obis: string; value: number; unit: string; energyUnit?: 'kWh' | 'GJ' }[];
  };
}

const dir = path.resolve(__dirname, '../../../test/fixtures/wmbus');
const files = fs.readdirSync(dir).filter((f) => f.endsWith('.json')).sort();
const corpora = files.map((f) => ({ file: f, doc: JSON.parse(fs.readFileSync(path.join(dir, f), 'utf8')) }));

/** A record's value in the source's unit (sources print kWh, kW, degC where the decoder keeps SI units). */
function inUnit(r: MbusRecord, unit: string | undefined): number | string | null | undefined {
  if (typeof r.value !== 'number') return r.value;
  const scale: Record<string, [string, number]> = { kWh: ['Wh', 1e-3], kW: ['W', 1e-3], degC: ['°C', 1], K: ['K', 1], m3: ['m3', 1], 'm3/h': ['m3/h', 1], h: ['h', 1], V: ['V', 1] };
  if (!unit) return r.value;
  const s = scale[unit];
  if (unit === 'kWh' && r.unit === 'J') return Number.parseFloat((r.value / 3.6e6).toPrecision(12));
  if (!s || s[0] !== r.unit) return undefined;
  return Number.parseFloat((r.value * s[1]).toPrecision(12));
}

function check(t: Fixture, d: DecodedWmbus): void {
  const e = t.expected;
  for (const [k, v] of Object.entries(e.link ?? {})) assert.equal((d.link as unknown as Record<string, unknown>)[k], v, `link.${k}`);
  for (const [k, v] of Object.entries(e.meter ?? {})) assert.equal((d.meter as unknown as Record<string, unknown>)[k], v, `meter.${k}`);
  for (const [k, v] of Object.entries(e.ell ?? {})) assert.equal((d.ell as unknown as Record<string, unknown>)?.[k], v, `ell.${k}`);
  if (e.mode !== undefined) assert.equal(d.security.mode, e.mode, 'security mode');
  if (e.macChecked !== undefined) assert.equal(d.security.macChecked, e.macChecked, 'MAC checked');
  if (e.ellEncrypted !== undefined) assert.equal(d.security.ellEncrypted, e.ellEncrypted, 'ELL encrypted');
  if (e.receiverDecrypted !== undefined) assert.equal(d.security.receiverDecrypted, e.receiverDecrypted, 'decrypted by the receiver');
  if (e.status !== undefined) assert.equal(d.tpl.status, e.status, 'TPL status');
  for (const want of e.values) {
    const found = d.application.records.some((r) => r.quantity === want.quantity && (want.storage === undefined || r.storage === want.storage)
      && inUnit(r, want.unit) === want.value);
    assert.ok(found, `${want.quantity} = ${want.value} ${want.unit ?? ''} (storage ${want.storage ?? 'any'}) not among ${JSON.stringify(d.application.records.map((r) => [r.quantity, r.value, r.unit, r.storage]))}`);
  }
  for (const want of e.readings ?? []) {
    const readings = wmbusToReadings(d, { meter: 'm', time: Date.UTC(2026, 0, 1), energyUnit: want.energyUnit });
    assert.ok(readings.some((r) => r.obis === want.obis && r.value === want.value && r.unit === want.unit), `reading ${want.obis} ${want.value} ${want.unit} not in ${JSON.stringify(readings)}`);
  }
}

describe('wireless M-Bus fixtures from published sources', () => {
  let count = 0;
  for (const { file, doc } of corpora) {
    describe(file, () => {
      for (const t of doc.telegrams as Fixture[]) {
        it(t.name, () => {
          const d = decodeWmbus(parseReceived(t.hex).bytes, { key: t.key });
          check(t, d);
          count++;
        });
      }
      for (const k of (doc.kdf ?? []) as { name: string; key: string; dc: number; messageCounter: string; id: string; expected: string }[]) {
        it(`key derivation: ${k.name}`, () => {
          const mcr = Buffer.from(k.messageCounter, 'hex').readUInt32LE();
          assert.equal(deriveKey(Buffer.from(k.key, 'hex'), k.dc, mcr, Buffer.from(k.id, 'hex')).toString('hex').toUpperCase(), k.expected);
        });
      }
    });
  }
  it('the corpus holds at least 20 telegrams, with security modes 5 and 7 and ELL encryption', () => {
    const all = corpora.flatMap((c) => c.doc.telegrams as Fixture[]);
    assert.ok(all.length >= 20, `${all.length} telegrams`);
    assert.ok(all.some((t) => t.key && t.expected.mode === 5));
    assert.ok(all.some((t) => t.key && t.expected.mode === 7));
    assert.ok(all.some((t) => t.expected.ellEncrypted));
    assert.ok(all.some((t) => t.expected.link?.format === 'A'));
    assert.ok(count <= all.length);
  });
});
