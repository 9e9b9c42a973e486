/**
 * A virtual meter of the EMS answers in the nodes that read the store (ems-store-query, ems-bill) when an ems-system
 * uses that store, as it does in the API: `rest = main - hvac` per hour, and billed like a stored meter.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import helper from 'node-red-node-test-helper';
import { useEmsNodeServer } from '../fixtures/ems-node-server';
import billNode from '../../nodes/bill/bill';
import storeNode, { type StoreConfigNode } from '../../nodes/store/store';
import storeQueryNode from '../../nodes/store-query/store-query';
import systemNode, { type SystemConfigNode } from '../../nodes/system/system';
import tariffNode from '../../nodes/tariff/tariff';
import type { Reading } from '../../lib/model/reading';
import { within } from '../fixtures/within';
import { FROM, TO, touTariff } from '../lib/billing-fixtures';

helper.init(require.resolve('node-red'));
const QUARTER = 15 * 60_000;

describe('virtual meters in ems-store-query and ems-bill', () => {
  let dir: string;
  useEmsNodeServer(() => fs.rmSync(dir, { recursive: true, force: true }));

  /** The nodes, the EMS's meters main, hvac and rest = main - hvac, and a day of quarter-hour registers. */
  async function start(withSystem: boolean): Promise<void> {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ems-virtual-readers-'));
    const flow: any[] = [
      { id: 'tab', type: 'tab' },
      { id: 's1', type: 'ems-store', backend: 'sqlite', path: path.join(dir, 'r.sqlite'), timeZone: 'Europe/Berlin' },
      ...(withSystem ? [{ id: 'sys', type: 'ems-system', store: 's1', path: path.join(dir, 'ems.db'), billsPath: path.join(dir, 'bills.db'), timeZone: 'Europe/Berlin' }] : []),
      { id: 't1', type: 'ems-tariff', name: 'day/night', tariff: JSON.stringify(touTariff()) },
      { id: 'q1', z: 'tab', type: 'ems-store-query', store: 's1', mode: 'range', meter: 'rest', obis: '1-0:1.8.0', range: '', window: '1h', fn: 'delta', limit: '', wires: [['out']] },
      { id: 'b1', z: 'tab', type: 'ems-bill', tariff: 't1', store: 's1', meter: 'rest', period: 'custom', interval: '15m', format: 'json', issue: false, billFile: '', wires: [['out']] },
      { id: 'c1', z: 'tab', type: 'catch', scope: null, uncaught: false, wires: [['caught']] },
      { id: 'out', z: 'tab', type: 'helper' },
      { id: 'caught', z: 'tab', type: 'helper' },
    ];
    await helper.load([storeNode, systemNode, storeQueryNode, tariffNode, billNode], flow);
    if (withSystem) {
      const services = await within((helper.getNode('sys') as unknown as SystemConfigNode).ready(), 10_000, 'the EMS services');
      const folder = services.registry.createFolder({ name: 'Plant' });
      for (const id of ['main', 'hvac']) services.registry.createMeter({ name: id, folder_id: folder._id, protocol: 'manual' }, undefined, id);
      services.registry.createMeter({ name: 'Rest', folder_id: folder._id, protocol: 'virtual', expression: 'main - hvac' }, undefined, 'rest');
    }
    const readings: Reading[] = [];
    for (let t = FROM, k = 0; t <= TO; t += QUARTER, k++) {
      readings.push({ meter: 'main', time: t, obis: '1-0:1.8.0', value: 1000 + 2.5 * k, unit: 'kWh' }); // 10 kWh an hour
      readings.push({ meter: 'hvac', time: t, obis: '1-0:1.8.0', value: 500 + k, unit: 'kWh' }); // 4 kWh an hour
    }
    await (helper.getNode('s1') as unknown as StoreConfigNode).getStore().write(readings);
  }

  /** Sends msg to node `id`; the output or the caught error, whichever comes first (10 s at most). */
  function ask(id: string, msg: Record<string, unknown>): Promise<{ out?: any; caught?: any }> {
    const answer = new Promise<{ out?: any; caught?: any }>((resolve) => {
      helper.getNode('out').once('input', (m: any) => resolve({ out: m }));
      helper.getNode('caught').once('input', (m: any) => resolve({ caught: m }));
    });
    helper.getNode(id).receive(msg as any);
    return within(answer, 10_000, `the answer of ${id}`);
  }

  it('ems-store-query answers rest = main - hvac per hour, 6 kWh each', async () => {
    await start(true);
    const { out, caught } = await ask('q1', { from: FROM, to: TO });
    assert.equal(caught, undefined, caught && caught.error.message);
    assert.equal(out.payload.length, 24);
    for (const row of out.payload) assert.deepEqual([row.meter, row.value, row.unit], ['rest', 6, 'kWh']);
  });

  it('ems-bill bills the virtual meter like a stored one: 72 kWh peak, 72 kWh valley', async () => {
    await start(true);
    const { out, caught } = await ask('b1', { payload: { from: '2026-01-05', to: '2026-01-06' } });
    assert.equal(caught, undefined, caught && caught.error.message);
    // peak 72 x 0.40 = 28.80, valley 72 x 0.20 = 14.40, 0.50 a day: 43.70; VAT 19 % 8.30; total 52.00
    assert.equal(out.payload.totals.total, '52.00');
  });

  it('without an ems-system on the store there is no virtual meter: the query answers nothing for rest', async () => {
    await start(false);
    const { out, caught } = await ask('q1', { from: FROM, to: TO });
    assert.equal(caught, undefined, caught && caught.error.message);
    assert.deepEqual(out.payload, []);
  });
});
