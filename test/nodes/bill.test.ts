import { after, afterEach, before, beforeEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import helper from 'node-red-node-test-helper';
import tariffNode from '../../nodes/tariff/tariff';
import storeNode from '../../nodes/store/store';
import billNode from '../../nodes/bill/bill';
import { SqliteStore } from '../../lib/store';
import type { Bill } from '../../lib/billing';
import { FROM, TO, dayReadings, touTariff } from '../lib/billing-fixtures';

helper.init(require.resolve('node-red'));

/** Node-RED puts err.toString() in msg.error.message: "Error: ...". */
const why = (m: any): string => String(m?.error?.message).replace(/^Error: /, '');

describe('ems-bill', () => {
  let userDir: string;
  before(() => new Promise<void>((r) => helper.startServer(r)));
  after(() => new Promise<void>((r) => helper.stopServer(r)));
  beforeEach(() => {
    userDir = fs.mkdtempSync(path.join(os.tmpdir(), 'ems-bill-'));
    helper.settings({ userDir });
  });
  afterEach(async () => {
    await helper.unload();
    fs.rmSync(userDir, { recursive: true, force: true });
  });

  function flow(extra: Record<string, unknown> = {}, tariff = touTariff(), more: any[] = []): any[] {
    return [
      { id: 'f1', type: 'tab' },
      { id: 't1', type: 'ems-tariff', name: 'day/night', tariff: JSON.stringify(tariff) },
      ...more,
      { id: 'b1', z: 'f1', type: 'ems-bill', tariff: 't1', store: '', meter: '', period: 'custom', interval: '15m', format: 'json', issue: false, billFile: '', wires: [['out']], ...extra },
      { id: 'c1', z: 'f1', type: 'catch', scope: null, uncaught: false, wires: [['caught']] },
      { id: 'out', z: 'f1', type: 'helper' },
      { id: 'caught', z: 'f1', type: 'helper' },
    ];
  }

  /** Loads the nodes and a flow; one listener per helper node (once() does not mix with Node-RED's input callbacks). */
  let waiting: ((r: { out?: any; caught?: any }) => void) | null = null;
  async function load(nodes: any[], f: any[]): Promise<void> {
    await helper.load(nodes, f);
    helper.getNode('out').on('input', (m: any) => waiting?.({ out: m }));
    helper.getNode('caught').on('input', (m: any) => waiting?.({ caught: m }));
  }

  /** Sends msg to the bill node; resolves with the output or the caught error, whichever comes first. */
  function bill(msg: Record<string, unknown>): Promise<{ out?: any; caught?: any }> {
    const result = new Promise<{ out?: any; caught?: any }>((r) => { waiting = r; });
    helper.getNode('b1').receive(msg as any);
    return result;
  }

  const day = { from: '2026-01-05', to: '2026-01-06' }; // local dates in the tariff's zone (Berlin)

  it('bills readings given in msg.payload with the ems-tariff config node', async () => {
    await load([tariffNode, billNode], flow());
    const { out, caught } = await bill({ topic: 'M1', payload: { ...day, readings: dayReadings() } });
    assert.equal(caught, undefined, why(caught));
    const b = out.payload as Bill;
    // as in test/lib/billing-bill: peak 48 x 0.40 + valley 12 x 0.20 + 0.50 = 22.10, VAT 4.20, total 26.30
    assert.equal(b.totals.total, '26.30');
    assert.equal(b.status, 'draft');
    assert.deepEqual([b.from, b.to], [FROM, TO], 'local dates read in Europe/Berlin');
    assert.equal(b.subject.id, 'M1');
    assert.equal(out.topic, 'M1');
  });

  it('outputs CSV or HTML text with the bill in msg.bill', async () => {
    await load([tariffNode, billNode], flow({ format: 'csv', meter: 'M1' }));
    const csv = (await bill({ payload: { ...day, readings: dayReadings() } })).out;
    assert.match(csv.payload, /^bill,kind,subject,meter,line,/);
    assert.equal(csv.payload.split('\r\n').length, 6);
    assert.equal(csv.bill.totals.total, '26.30');
    const html = (await bill({ payload: { ...day, readings: dayReadings(), format: 'html' } })).out;
    assert.match(html.payload, /^<!DOCTYPE html>/);
    assert.match(html.payload, /26\.30 EUR/);
  });

  it('issues a bill once: the same again returns it, other amounts are refused', async () => {
    await load([tariffNode, billNode], flow({ issue: true, meter: 'M1' }));
    const first = (await bill({ payload: { ...day, readings: dayReadings() } })).out.payload as Bill;
    assert.equal(first.status, 'issued');
    assert.match(first.number!, /^B-\d{4}-000001$/);
    const again = (await bill({ payload: { ...day, readings: dayReadings() } })).out.payload as Bill;
    assert.equal(again.number, first.number);
    assert.equal(again.issuedAt, first.issuedAt);
    await helper.unload();
    // The tariff changes: the draft shows the new amounts, issuing it is refused.
    await load([tariffNode, billNode], flow({ meter: 'M1' }, touTariff('0.50')));
    const draft = (await bill({ payload: { ...day, readings: dayReadings() } })).out.payload as Bill;
    assert.equal(draft.totals.total, '32.01');
    const { caught } = await bill({ payload: { ...day, readings: dayReadings(), issue: true } });
    assert.match(why(caught), new RegExp(`meter M1 already has bill ${first.number}.*issue a credit note`));
    assert.ok(fs.existsSync(path.join(userDir, 'ems-bills.sqlite')));
  });

  it('reads the readings from the ems-store when the message has none', async () => {
    const file = path.join(userDir, 'readings.sqlite');
    const s = new SqliteStore(file);
    await s.write([...dayReadings(), { meter: 'M1', time: FROM, obis: '1-0:1.7.0', value: 5, unit: 'kW' }]);
    await s.close();
    const store = { id: 's1', type: 'ems-store', backend: 'sqlite', path: file, timeZone: 'Europe/Berlin' };
    await load([tariffNode, storeNode, billNode], flow({ store: 's1' }, touTariff(), [store]));
    const { out, caught } = await bill({ payload: { meter: 'M1', ...day } });
    assert.equal(caught, undefined, why(caught));
    assert.equal(out.payload.totals.total, '26.30');
    assert.deepEqual(out.payload.readings.map((r: any) => r.obis), ['1-0:1.8.0', '1-0:1.8.1', '1-0:1.8.2']);
  });

  it('fails bad input with the field and value, reaching a Catch node', async () => {
    await load([tariffNode, billNode], flow());
    assert.match(why((await bill({ payload: { meter: 'M1', from: 'yesterday', to: '2026-01-06', readings: [] } })).caught), /^from must be a time .* got "yesterday"$/);
    assert.match(why((await bill({ payload: { meter: 'M1', readings: [] } })).caught), /^from: missing \(the period is custom/);
    assert.match(why((await bill({ payload: { ...day, readings: [] } })).caught), /^meter: undefined is not a meter id/);
    assert.match(why((await bill({ payload: { ...day, meter: 'M1', format: 'pdf', readings: [] } })).caught), /^format: "pdf" is not an output format/);
    assert.match(why((await bill({ payload: { ...day, meter: 'M1' } })).caught), /^store: no ems-store configured/);
  });

  it('reports an invalid tariff', async () => {
    await load([tariffNode, billNode], flow({}, { ...touTariff(), currency: 'euro' } as any));
    const { caught } = await bill({ payload: { ...day, meter: 'M1', readings: dayReadings() } });
    assert.match(why(caught), /^tariff: ems-tariff "day\/night": invalid tariff: currency/);
  });
});
