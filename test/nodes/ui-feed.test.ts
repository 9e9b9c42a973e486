import { after, afterEach, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import helper from 'node-red-node-test-helper';
import uiFeed from '../../nodes/ui-feed/ui-feed';
import storeNode from '../../nodes/store/store';
import storeQueryNode from '../../nodes/store-query/store-query';
import modbusClient from '../../nodes/modbus-client/modbus-client';
import modbusMeter from '../../nodes/modbus-meter/modbus-meter';
import { SqliteStore } from '../../lib/store';
import { ModbusMeterSimulator } from '../../lib/sim/modbus-meter';
import type { Reading } from '../../lib/model';
import { within } from '../fixtures/within';

helper.init(require.resolve('node-red'));

type Msg = Record<string, any>;
const T = Date.now() - 3_600_000;

function collect(id: string): Msg[] {
  const seen: Msg[] = [];
  helper.getNode(id).on('input', (m: Msg) => seen.push(m));
  return seen;
}
const next = (id: string) => within(new Promise<Msg>((r) => helper.getNode(id).once('input', r)), 5_000, `a message at ${id}`);

function flow(feed: Record<string, unknown>): any[] {
  const items: any[] = [
    { id: 'f1', type: 'tab' },
    { id: 'u1', z: 'f1', type: 'ems-ui-feed', quantities: '', mode: 'auto', wires: [['out']], ...feed },
    { id: 'c1', z: 'f1', type: 'catch', scope: null, uncaught: false, wires: [['caught']] },
    { id: 'out', z: 'f1', type: 'helper' },
    { id: 'caught', z: 'f1', type: 'helper' },
  ];
  return items;
}

describe('ems-ui-feed', () => {
  before(() => new Promise<void>((r) => helper.startServer(r)));
  after(() => new Promise<void>((r) => helper.stopServer(r)));
  afterEach(async () => { await helper.unload(); });

  it('turns a meter poll into one ui_chart/ui_gauge message per selected reading', async () => {
    await helper.load(uiFeed, flow({ quantities: '1-0:16.7.0, energy import' }));
    const seen = collect('out');
    helper.getNode('u1').receive({
      topic: 'main-incomer', meter: { id: 'main-incomer' }, source: [{ register: 52 }],
      payload: [
        { meter: 'main-incomer', time: T, obis: '1-0:32.7.0', value: 230.1, unit: 'V' },
        { meter: 'main-incomer', time: T, obis: '1-0:16.7.0', value: 1.5, unit: 'kW' },
        { meter: 'main-incomer', time: T, obis: '1-0:1.8.0', value: 5000.5, unit: 'kWh' },
      ],
    });
    await within((async () => { while (seen.length < 2) await new Promise((r) => setTimeout(r, 10)); })(), 5_000, 'two messages');
    assert.deepEqual(seen.map((m) => [m.topic, m.payload, m.timestamp]), [
      ['main-incomer active power (kW)', 1.5, T],
      ['main-incomer energy import (kWh)', 5000.5, T],
    ]);
    assert.equal(seen[0].reading.obis, '1-0:16.7.0');
    assert.deepEqual(seen[0].meter, { id: 'main-incomer' }, 'other properties are kept');
    assert.equal(seen[0].source, undefined, 'per-reading protocol detail is dropped');
    assert.notEqual(seen[0], seen[1]);
  });

  it('feeds a real meter node: the simulator\'s power reaches the output as a number', async () => {
    const sim = new ModbusMeterSimulator({ units: [{ unit: 1, profile: 'eastron-sdm630' }] });
    const port = await sim.listen(0);
    try {
      const items = flow({ quantities: 'active power' });
      items.push(
        { id: 'bus', type: 'ems-modbus-client', transport: 'tcp', host: '127.0.0.1', port: String(port), timeout: '1000', retries: '0' },
        { id: 'm1', z: 'f1', type: 'ems-modbus-meter', client: 'bus', unit: '1', profile: 'eastron-sdm630', meterId: 'main-incomer', interval: '0', ctRatio: '1', vtRatio: '1', wires: [['u1']] },
      );
      await helper.load([modbusClient, modbusMeter, uiFeed], items);
      const got = next('out');
      helper.getNode('m1').receive({ payload: 'tick' });
      const msg = await got;
      assert.equal(msg.topic, 'main-incomer active power (kW)');
      assert.equal(typeof msg.payload, 'number');
      assert.ok(msg.payload > 0 && msg.payload < 10, `power ${msg.payload} kW`);
      assert.ok(Math.abs(msg.timestamp - Date.now()) < 10_000);
    } finally {
      await helper.unload();
      await sim.close();
    }
  });

  it('turns an ems-store-query range result into one whole ui_chart', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ems-ui-feed-'));
    const file = path.join(dir, 'readings.sqlite');
    try {
      const store = new SqliteStore({ path: file });
      const rows: Reading[] = [];
      for (let i = 0; i < 6; i++) {
        rows.push({ meter: 'main-incomer', time: T + i * 60_000, obis: '1-0:16.7.0', value: 2 + i / 10, unit: 'kW' });
        rows.push({ meter: 'main-incomer', time: T + i * 60_000, obis: '1-0:1.8.0', value: 5000 + i, unit: 'kWh' });
      }
      await store.write(rows);
      await store.close();
      const items = flow({ quantities: '1-0:16.7.0' });
      items.push(
        { id: 's1', type: 'ems-store', backend: 'sqlite', path: file, timeZone: 'UTC' },
        { id: 'q1', z: 'f1', type: 'ems-store-query', store: 's1', mode: 'range', meter: 'main-incomer', obis: '', range: '-6h', window: '', fn: 'mean', limit: '', wires: [['u1']] },
      );
      await helper.load([storeNode, storeQueryNode, uiFeed], items);
      const got = next('out');
      helper.getNode('q1').receive({ payload: '' });
      const msg = await got;
      assert.deepEqual(msg.payload, [{
        series: ['main-incomer active power (kW)'],
        data: [rows.filter((r) => r.obis === '1-0:16.7.0').map((r) => ({ x: r.time, y: r.value }))],
        labels: [''],
      }]);
      assert.deepEqual(msg.chart, { series: 1, points: 6, skipped: 6, thinned: [], maxPointsPerSeries: 5000 });

      // 15-minute means: the label says so.
      const windowed = next('out');
      helper.getNode('q1').receive({ payload: { window: '15m', fn: 'mean' } });
      const w = await windowed;
      assert.deepEqual(w.payload[0].series, ['main-incomer active power (kW, 15m mean)']);
    } finally {
      await helper.unload();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('refuses anything else with an error naming what it got, to a Catch node', async () => {
    await helper.load(uiFeed, flow({}));
    const out = collect('out');
    const caught = next('caught');
    helper.getNode('u1').receive({ payload: 'hello', topic: 'x' });
    const c = await caught;
    assert.equal(c.error.message, 'Error: msg.payload must be an array of readings (a meter node\'s output) or an ems-store-query range result, got string "hello"');
    assert.equal(c.topic, 'x', 'the Catch node gets the message itself');
    const gaps = next('caught');
    helper.getNode('u1').receive({ payload: [], query: { mode: 'gaps' } });
    assert.match((await gaps).error.message, /gaps result/);
    assert.equal(out.length, 0);
  });

  it('a bad quantity list is reported at start and every message is refused', async () => {
    await helper.load(uiFeed, flow({ quantities: 'power-ish' }));
    const caught = next('caught');
    helper.getNode('u1').receive({ payload: [] });
    assert.match((await caught).error.message, /not configured: quantities: "power-ish" is neither an OBIS code/);
  });

  it('sends nothing when no reading is of a selected quantity', async () => {
    await helper.load(uiFeed, flow({ quantities: '1-0:2.8.0' }));
    const out = collect('out');
    const node = helper.getNode('u1');
    const statuses: any[] = [];
    const orig = node.status.bind(node);
    node.status = (s: any) => { statuses.push(s); return orig(s); };
    await new Promise<void>((resolve) => {
      node.receive({ payload: [{ meter: 'm', time: T, obis: '1-0:1.8.0', value: 1, unit: 'kWh' }] });
      setTimeout(resolve, 100);
    });
    assert.equal(out.length, 0);
    assert.deepEqual(statuses.map((s) => s.fill), ['yellow']);
  });
});
