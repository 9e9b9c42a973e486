import { after, afterEach, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import helper from 'node-red-node-test-helper';
import storeNode, { resolveStorePath, type StoreConfigNode } from '../../nodes/store/store';
import storeWriteNode from '../../nodes/store-write/store-write';
import storeQueryNode from '../../nodes/store-query/store-query';
import { SqliteStore } from '../../lib/store';
import type { Reading } from '../../lib/model';

helper.init(require.resolve('node-red'));

const nodes = [storeNode, storeWriteNode, storeQueryNode];
const E = '1-0:1.8.0';
type Msg = Record<string, any>;

function reading(meter: string, time: number, value: number, obis = E): Reading {
  return { meter, time, obis, value, unit: 'kWh' };
}

function next(id: string): Promise<Msg> {
  return new Promise((resolve) => helper.getNode(id).once('input', resolve));
}

function collect(id: string): Msg[] {
  const seen: Msg[] = [];
  helper.getNode(id).on('input', (m: Msg) => seen.push(m));
  return seen;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('ems-store, ems-store-write, ems-store-query', () => {
  let dir: string;
  let file: string;
  let n = 0;
  before(() => new Promise<void>((r) => helper.startServer(r)));
  after(() => new Promise<void>((r) => helper.stopServer(r)));
  before(() => { dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ems-store-nodes-')); });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));
  afterEach(async () => { await helper.unload(); });

  /** A flow: write w1 -> h1, query q1 -> h2, catch c1 -> hc, all on one sqlite file. */
  function flow(write: Record<string, unknown> = {}, query: Record<string, unknown> = {}): helper.TestFlows {
    file = path.join(dir, `readings-${++n}.sqlite`);
    const items = [
      { id: 'f1', type: 'tab' },
      { id: 's1', type: 'ems-store', backend: 'sqlite', path: file, timeZone: 'Europe/Berlin' },
      { id: 'w1', z: 'f1', type: 'ems-store-write', store: 's1', batchSize: '1000', flushInterval: '0', wires: [['h1']], ...write },
      { id: 'q1', z: 'f1', type: 'ems-store-query', store: 's1', mode: 'range', meter: 'm1', obis: '', range: '-24h', window: '', fn: 'mean', limit: '', wires: [['h2']], ...query },
      { id: 'c1', z: 'f1', type: 'catch', scope: null, uncaught: false, wires: [['hc']] },
      { id: 'h1', z: 'f1', type: 'helper' },
      { id: 'h2', z: 'f1', type: 'helper' },
      { id: 'hc', z: 'f1', type: 'helper' },
    ];
    return items;
  }

  it('writes readings, passes the msg on with msg.stored, then queries them raw and windowed', async () => {
    const f = flow();
    await helper.load(nodes, f);
    const now = Date.now();
    const t0 = now - (now % 3_600_000) - 3_600_000; // the start of the previous hour
    const readings = [reading('m1', t0, 10), reading('m1', t0 + 900_000, 12), reading('m1', t0 + 3_600_000, 20), reading('m2', t0, 1)];
    const written = next('h1');
    helper.getNode('w1').receive({ payload: readings, topic: 'batch-1' });
    const w = await written;
    assert.equal(w.stored, 4);
    assert.equal(w.topic, 'batch-1');
    assert.deepEqual(w.payload, readings);

    const raw = next('h2');
    helper.getNode('q1').receive({ payload: { from: t0, to: t0 + 7_200_000 } });
    const r = await raw;
    assert.deepEqual(r.payload, readings.slice(0, 3));
    assert.equal(r.topic, 'm1');

    const windowed = next('h2');
    helper.getNode('q1').receive({ payload: {}, from: String(t0), to: t0 + 7_200_000, window: '1h', fn: 'delta' });
    const agg = await windowed;
    assert.deepEqual(agg.payload.map((x: Msg) => [x.time - t0, x.value, x.count]), [[0, 10, 2], [3_600_000, 0, 1]]); // register 10 at the hour's start, 20 at its end
    assert.equal(agg.query.window.fn, 'delta');

    const latest = next('h2');
    helper.getNode('q1').receive({ payload: null, mode: 'latest', meter: 'm2' });
    assert.deepEqual((await latest).payload, [readings[3]]);
  });

  it('batches several messages into one write and sends each only after the commit', async () => {
    await helper.load(nodes, flow({ batchSize: '5', flushInterval: '60000' }));
    const store = (helper.getNode('s1') as unknown as StoreConfigNode).getStore();
    const writes: number[] = [];
    const write = store.write.bind(store);
    store.write = (rs) => { writes.push(rs.length); return write(rs); };
    const out = collect('h1');
    const t = Date.now() - 60_000;
    helper.getNode('w1').receive({ payload: [reading('m1', t, 1), reading('m1', t + 1, 2)] });
    helper.getNode('w1').receive({ payload: [reading('m1', t + 2, 3), reading('m1', t + 3, 4)] });
    await sleep(50);
    assert.equal(out.length, 0, 'nothing is passed on before the batch is written');
    assert.deepEqual(writes, []);
    helper.getNode('w1').receive({ payload: reading('m1', t + 4, 5) });
    for (let i = 0; i < 50 && out.length < 3; i++) await sleep(10);
    assert.deepEqual(writes, [5], 'one write for the three messages');
    assert.deepEqual(out.map((m) => m.stored), [2, 2, 1]);
    assert.equal(((await store.query({ meter: 'm1', from: t, to: t + 10 })) as Reading[]).length, 5);
  });

  it('flushes after flushInterval when the batch is not full', async () => {
    await helper.load(nodes, flow({ batchSize: '1000', flushInterval: '30' }));
    const written = next('h1');
    helper.getNode('w1').receive({ payload: reading('m1', Date.now(), 1) });
    assert.equal((await written).stored, 1);
  });

  it('sends a message with a bad reading to Catch naming the index and field, and writes none of it', async () => {
    await helper.load(nodes, flow());
    const caught = next('hc');
    const t = Date.now();
    helper.getNode('w1').receive({ payload: [reading('m1', t, 1), { meter: 'm1', time: t + 1, obis: E, value: '12,5', unit: 'kWh' }] });
    const c = await caught;
    assert.match(c.error.message, /payload\[1\]: reading\.value must be a finite number, got "12,5"/);
    const store = (helper.getNode('s1') as unknown as StoreConfigNode).getStore();
    assert.deepEqual(await store.query({ meter: 'm1', from: t - 1, to: t + 10 }), []);
  });

  it('fails every message of a batch when the write fails', async () => {
    await helper.load(nodes, flow({ batchSize: '2', flushInterval: '60000' }));
    const store = (helper.getNode('s1') as unknown as StoreConfigNode).getStore();
    store.write = () => Promise.reject(new Error('sqlite store x: write: SQLITE_FULL: database or disk is full'));
    const caught = collect('hc');
    const passed = collect('h1');
    helper.getNode('w1').receive({ payload: reading('m1', 1, 1), topic: 'a' });
    helper.getNode('w1').receive({ payload: reading('m1', 2, 1), topic: 'b' });
    for (let i = 0; i < 50 && caught.length < 2; i++) await sleep(10);
    assert.deepEqual(caught.map((m) => m.topic), ['a', 'b']);
    for (const m of caught) assert.match(m.error.message, /sqlite store x: write: SQLITE_FULL: database or disk is full/);
    assert.equal(passed.length, 0);
  });

  it('writes pending readings on close, so a reopened file has them', async () => {
    await helper.load(nodes, flow({ batchSize: '1000', flushInterval: '60000' }));
    const f = file;
    const t = Date.now();
    helper.getNode('w1').receive({ payload: [reading('m1', t, 7), reading('m1', t + 1, 8)] });
    await sleep(20);
    await helper.unload();
    const s = new SqliteStore(f);
    assert.deepEqual(await s.query({ meter: 'm1', from: t, to: t + 2 }), [reading('m1', t, 7), reading('m1', t + 1, 8)]);
    await s.close();
  });

  it('sends a query with a bad from to Catch naming the field and the value', async () => {
    await helper.load(nodes, flow());
    const caught = next('hc');
    helper.getNode('q1').receive({ payload: { from: 'yesterday' } });
    // Catch gets err.toString(), so the class name comes first.
    assert.equal((await caught).error.message, 'QueryParamError: from: "yesterday" is not a time (use epoch ms, ISO 8601 or -1h)');
    const caught2 = next('hc');
    helper.getNode('q1').receive({ payload: {}, obis: 'energy' });
    assert.match((await caught2).error.message, /obis: "energy" is not an OBIS code/);
  });

  it('reports a store with a bad time zone through the messages that need it', async () => {
    const f = flow();
    (f[1] as Record<string, unknown>).timeZone = 'Mars/Olympus';
    await helper.load(nodes, f);
    const caught = next('hc');
    helper.getNode('q1').receive({ payload: {} });
    assert.match((await caught).error.message, /time zone "Mars\/Olympus" is not an IANA zone/);
  });

  it('resolves the store file against the user directory', () => {
    assert.equal(resolveStorePath('', '/data'), path.join('/data', 'ems-readings.sqlite'));
    assert.equal(resolveStorePath('db/r.sqlite', '/data'), path.join('/data', 'db', 'r.sqlite'));
    assert.equal(resolveStorePath('/var/lib/r.sqlite', '/data'), '/var/lib/r.sqlite');
    assert.equal(resolveStorePath(':memory:', '/data'), ':memory:');
  });
});
