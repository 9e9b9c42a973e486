import { after, afterEach, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import helper from 'node-red-node-test-helper';
import storeNode, { type StoreConfigNode } from '../../nodes/store/store';
import storeQueryNode from '../../nodes/store-query/store-query';
import type { Reading } from '../../lib/model';

helper.init(require.resolve('node-red'));

const nodes = [storeNode, storeQueryNode];
const E = '1-0:1.8.0';
const M = 60_000;
type Msg = Record<string, any>;

function reading(meter: string, time: number, obis = E): Reading {
  return { meter, time, obis, value: 1, unit: 'kWh' };
}

/** The flow: gaps query q1 -> h1, catch c1 -> hc, on a sqlite store s1 (a fresh file per test). */
const FLOW = [
  { id: 'f1', type: 'tab' },
  { id: 's1', type: 'ems-store', backend: 'sqlite', path: '', timeZone: 'Europe/Berlin' },
  { id: 'q1', z: 'f1', type: 'ems-store-query', store: 's1', mode: 'gaps', meter: 'm1', obis: '', range: '-24h', window: '', fn: 'mean', limit: '', interval: '15m', wires: [['h1']] },
  { id: 'c1', z: 'f1', type: 'catch', scope: null, uncaught: false, wires: [['hc']] },
  { id: 'h1', z: 'f1', type: 'helper' },
  { id: 'hc', z: 'f1', type: 'helper' },
];

/** One 'input' listener per helper node; next() resolves with the next message in order. */
function inbox(id: string): { next(): Promise<Msg> } {
  const queue: Msg[] = [];
  const waiting: ((m: Msg) => void)[] = [];
  helper.getNode(id).on('input', (m: Msg) => {
    const w = waiting.shift();
    if (w) w(m);
    else queue.push(m);
  });
  return {
    next: () => (queue.length ? Promise.resolve(queue.shift()!) : new Promise((resolve) => waiting.push(resolve))),
  };
}

describe('ems-store-query gaps mode', () => {
  let dir: string;
  let n = 0;
  before(() => new Promise<void>((r) => helper.startServer(r)));
  after(() => new Promise<void>((r) => helper.stopServer(r)));
  before(() => { dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ems-store-gaps-')); });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));
  afterEach(async () => { await helper.unload(); });

  function load(): Promise<void> {
    const f = FLOW.map((x) => (x.id === 's1' ? { ...x, path: path.join(dir, `gaps-${++n}.sqlite`) } : x));
    return helper.load(nodes, f);
  }

  it('lists the missing intervals per meter and code, with msg.interval and the store zone', async () => {
    await load();
    const out = inbox('h1');
    const store = (helper.getNode('s1') as unknown as StoreConfigNode).getStore();
    // Berlin local 2026-01-10 08:00 to 09:00 (07:00Z to 08:00Z).
    const t0 = Date.parse('2026-01-10T07:00:00Z');
    await store.write([
      reading('m1', t0), reading('m1', t0 + 20 * M), reading('m1', t0 + 59 * M), // 08:30 missing
      reading('m1', t0 + 5 * M, '1-0:2.8.0'), // export: 08:15 to 09:00 missing
      reading('m2', t0 + 10 * M),
    ]);

    helper.getNode('q1').receive({ payload: { from: '2026-01-10T08:00', to: '2026-01-10T09:00' } });
    const a = await out.next();
    assert.deepEqual(a.payload, [
      { meter: 'm1', obis: E, from: t0 + 30 * M, to: t0 + 45 * M, missing: 1 },
      { meter: 'm1', obis: '1-0:2.8.0', from: t0 + 15 * M, to: t0 + 60 * M, missing: 3 },
    ]);
    assert.equal(a.topic, 'm1');
    assert.deepEqual(a.query, { mode: 'gaps', meter: 'm1', from: t0, to: t0 + 60 * M, interval: 15 * M, timeZone: 'Europe/Berlin' });

    // msg.interval overrides the node's 15m: at 30m only the export's 08:30 slot is empty.
    helper.getNode('q1').receive({ payload: {}, from: t0, to: t0 + 60 * M, interval: '30m' });
    assert.deepEqual((await out.next()).payload, [{ meter: 'm1', obis: '1-0:2.8.0', from: t0 + 30 * M, to: t0 + 60 * M, missing: 1 }]);

    // Another meter and one code.
    helper.getNode('q1').receive({ payload: { meter: 'm2', obis: '1.8.0', from: t0, to: t0 + 60 * M } });
    assert.deepEqual((await out.next()).payload, [{ meter: 'm2', obis: E, from: t0 + 15 * M, to: t0 + 60 * M, missing: 3 }]);
  });

  it('fails a bad interval to Catch naming it, and keeps range mode working', async () => {
    await load();
    const out = inbox('h1');
    const caught = inbox('hc');
    helper.getNode('q1').receive({ payload: {}, interval: 'often' });
    const c = await caught.next();
    assert.match(c.error.message, /interval: "often" is not an interval/);

    helper.getNode('q1').receive({ payload: {}, interval: '1s', from: '-30d' });
    assert.match((await caught.next()).error.message, /interval: 1s gives too many slots/);

    const store = (helper.getNode('s1') as unknown as StoreConfigNode).getStore();
    const t = Date.now() - 60_000;
    await store.write([reading('m1', t)]);
    helper.getNode('q1').receive({ payload: {}, mode: 'range' });
    assert.deepEqual((await out.next()).payload, [reading('m1', t)]);
  });
});
