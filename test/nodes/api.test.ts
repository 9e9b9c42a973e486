import { after, afterEach, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import helper from 'node-red-node-test-helper';
import apiNode from '../../nodes/api/api';
import storeNode from '../../nodes/store/store';
import { SqliteStore } from '../../lib/store/sqlite';

helper.init(require.resolve('node-red'));

describe('ems-api', () => {
  let dir: string;
  let file: string;
  const now = Date.now();
  before(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ems-api-'));
    file = path.join(dir, 'readings.sqlite');
    const store = new SqliteStore(file);
    await store.write([
      { meter: 'm1', time: now - 120_000, obis: '1-0:1.8.0', value: 10, unit: 'kWh' },
      { meter: 'm1', time: now - 60_000, obis: '1-0:1.8.0', value: 10.5, unit: 'kWh' },
      { meter: 'm1', time: now - 60_000, obis: '1-0:32.7.0', value: 229.8, unit: 'V' },
      { meter: 'm2', time: now - 30_000, obis: '1-0:1.8.0', value: 3, unit: 'kWh' },
    ]);
    await store.close();
    await new Promise<void>((r) => helper.startServer(r));
  });
  afterEach(() => helper.unload());
  after(async () => {
    await new Promise<void>((r) => helper.stopServer(r));
    fs.rmSync(dir, { recursive: true, force: true });
  });

  const flow = (operation: string): any[] => [
    { id: 'tab', type: 'tab' },
    { id: 's1', type: 'ems-store', backend: 'sqlite', path: file, timeZone: 'UTC' },
    { id: 'a1', z: 'tab', type: 'ems-api', store: 's1', operation, wires: [['out']] },
    { id: 'out', z: 'tab', type: 'helper' },
  ];
  const ask = async (operation: string, req: object) => {
    await helper.load([storeNode, apiNode], flow(operation));
    const got = new Promise<any>((r) => helper.getNode('out').once('input', r));
    helper.getNode('a1').receive({ req, payload: {} } as any);
    return got;
  };

  it('lists meters with their newest value per OBIS code', async () => {
    const msg = await ask('meters.list', {});
    assert.equal(msg.statusCode, 200);
    assert.equal(msg.headers['content-type'], 'application/json; charset=utf-8');
    assert.equal(msg.payload.error, null);
    assert.deepEqual(msg.payload.data.map((m: any) => [m.id, m.lastSeen]), [['m1', now - 60_000], ['m2', now - 30_000]]);
    assert.deepEqual(msg.payload.data[0].values, [
      { obis: '1-0:1.8.0', value: 10.5, unit: 'kWh', time: now - 60_000 },
      { obis: '1-0:32.7.0', value: 229.8, unit: 'V', time: now - 60_000 },
    ]);
  });

  it('answers a meter\'s readings for a range', async () => {
    const msg = await ask('meters.readings', { params: { id: 'm1' }, query: { obis: '1.8.0', from: '-1h' } });
    assert.equal(msg.statusCode, 200);
    assert.deepEqual(msg.payload.data.readings.map((r: any) => r.value), [10, 10.5]);
    assert.equal(msg.payload.data.window, null);
  });

  it('answers 400 naming the parameter, and 404 for an unknown meter', async () => {
    const bad = await ask('meters.readings', { params: { id: 'm1' }, query: { window: '1h', fn: 'median' } });
    assert.equal(bad.statusCode, 400);
    assert.equal(bad.payload.status, 400);
    assert.match(bad.payload.error, /^fn: "median"/);
    await helper.unload();
    const unknown = await ask('meters.readings', { params: { id: 'zz' }, query: {} });
    assert.deepEqual(unknown.payload, { data: null, error: 'unknown meter "zz"', status: 404 });
  });

  it('answers 500 and reports to Catch when the store cannot be read', async () => {
    const f = flow('meters.list');
    f[1].path = path.join(file, 'x.sqlite'); // under a regular file: cannot be created
    f.push({ id: 'c1', z: 'tab', type: 'catch', scope: null, uncaught: false, wires: [['caught']] }, { id: 'caught', z: 'tab', type: 'helper' });
    await helper.load([storeNode, apiNode], f);
    const out = new Promise<any>((r) => helper.getNode('out').once('input', r));
    const caught = new Promise<any>((r) => helper.getNode('caught').once('input', r));
    helper.getNode('a1').receive({ req: {} } as any);
    const msg = await out;
    assert.equal(msg.statusCode, 500);
    assert.match(msg.payload.error, /^internal error: /);
    assert.match((await caught).error.message, /x\.sqlite|directory|open/i);
  });
});
