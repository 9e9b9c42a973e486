import { after, afterEach, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import zlib from 'node:zlib';
import helper from 'node-red-node-test-helper';
import storeNode, { type StoreConfigNode } from '../../nodes/store/store';
import { influxOptions } from '../../nodes/store/influx-options';
import storeWriteNode from '../../nodes/store-write/store-write';
import storeQueryNode from '../../nodes/store-query/store-query';
import { freePort } from '../fixtures/services';
import type { Reading } from '../../lib/model';

helper.init(require.resolve('node-red'));

const nodes = [storeNode, storeWriteNode, storeQueryNode];
const E = '1-0:1.8.0';
type Msg = Record<string, any>;

interface Seen { method: string; url: string; auth?: string; body: string }

/** A fake InfluxDB 1.x: records every request and answers /write with 204. */
class FakeInflux {
  readonly seen: Seen[] = [];
  private server?: http.Server;
  constructor(readonly port: number) {}
  get url(): string { return `http://127.0.0.1:${this.port}`; }
  writes(): Seen[] { return this.seen.filter((s) => s.url.startsWith('/write')); }
  start(): Promise<void> {
    this.server = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        let body = Buffer.concat(chunks);
        if (req.headers['content-encoding'] === 'gzip') body = zlib.gunzipSync(body);
        this.seen.push({ method: req.method!, url: req.url!, auth: req.headers.authorization, body: body.toString('utf8') });
        res.statusCode = req.url!.startsWith('/write') ? 204 : 404;
        res.end();
      });
    });
    return new Promise((resolve) => this.server!.listen(this.port, '127.0.0.1', resolve));
  }
  stop(): Promise<void> {
    return new Promise((resolve) => { if (this.server) { this.server.closeAllConnections(); this.server.close(() => resolve()); } else resolve(); });
  }
}

function reading(meter: string, time: number, value: number): Reading {
  return { meter, time, obis: E, value, unit: 'kWh' };
}

function next(id: string): Promise<Msg> {
  return new Promise((resolve) => helper.getNode(id).once('input', resolve));
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function until<T>(ms: number, probe: () => T | undefined): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = probe();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > deadline) throw new Error(`condition not met within ${ms} ms`);
    await sleep(20);
  }
}

const basic = (user: string, pass: string) => `Basic ${Buffer.from(`${user}:${pass}`).toString('base64')}`;

describe('ems-store with the influxdb backend', () => {
  let dir: string;
  let fake: FakeInflux;
  let n = 0;
  before(() => new Promise<void>((r) => helper.startServer(r)));
  after(() => new Promise<void>((r) => helper.stopServer(r)));
  before(() => { dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ems-store-influx-')); });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));
  afterEach(async () => {
    await helper.unload();
    await fake?.stop();
    delete process.env.EMS_INFLUX_PASSWORD;
  });

  function flow(store: Record<string, unknown>): helper.TestFlows {
    const items = [
      { id: 'f1', type: 'tab' },
      {
        id: 's1', type: 'ems-store', backend: 'influxdb', version: '1', url: fake.url, database: 'ems', retentionPolicy: '',
        org: '', bucket: '', batchSize: '', flushInterval: '0', spoolDir: path.join(dir, `spool-${++n}`), path: '', timeZone: 'UTC', ...store,
      },
      { id: 'w1', z: 'f1', type: 'ems-store-write', store: 's1', batchSize: '1000', flushInterval: '0', wires: [['h1']] },
      { id: 'c1', z: 'f1', type: 'catch', scope: null, uncaught: false, wires: [['hc']] },
      { id: 'h1', z: 'f1', type: 'helper' },
      { id: 'hc', z: 'f1', type: 'helper' },
    ];
    return items;
  }

  /** Every status text the write node shows from now on. */
  function statuses(id: string): string[] {
    const seen: string[] = [];
    const node = helper.getNode(id) as any;
    const original = node.status.bind(node);
    node.status = (s: { text?: string }) => { seen.push(String(s.text ?? '')); return original(s); };
    return seen;
  }

  it('writes readings from ems-store-write to /write?db= with Basic auth from the credentials', async () => {
    fake = new FakeInflux(await freePort());
    await fake.start();
    await helper.load(nodes, flow({}), { s1: { username: 'ems-writer', password: 's3cret' } });
    const shown = statuses('w1');
    const t = Date.now() - 60_000;
    const written = next('h1');
    helper.getNode('w1').receive({ payload: [reading('main', t, 10.5), reading('main', t + 1000, 11)] });
    assert.equal((await written).stored, 2);
    const [w] = fake.writes();
    assert.ok(w, 'the server got a write');
    const q = new URL(w.url, fake.url).searchParams;
    assert.equal(q.get('db'), 'ems');
    assert.equal(q.get('precision'), 'ms');
    assert.equal(w.auth, basic('ems-writer', 's3cret'));
    assert.deepEqual(w.body.trim().split('\n'), [
      `ems_reading,meter=main,obis=${E},unit=kWh quality=0i,value=10.5 ${t}`,
      `ems_reading,meter=main,obis=${E},unit=kWh quality=0i,value=11 ${t + 1000}`,
    ]);
    assert.ok(shown.includes('ems-store.status.connected'), `statuses: ${JSON.stringify(shown)}`);
    // The credentials stay out of the node's properties (they are never exported with the flow).
    const s1 = helper.getNode('s1') as unknown as StoreConfigNode & Record<string, unknown>;
    assert.equal(s1.password, undefined);
  });

  it('takes the password from EMS_INFLUX_PASSWORD when the credential is empty', async () => {
    fake = new FakeInflux(await freePort());
    await fake.start();
    process.env.EMS_INFLUX_PASSWORD = 'from-env';
    await helper.load(nodes, flow({}), { s1: { username: 'ems', password: '' } });
    const written = next('h1');
    helper.getNode('w1').receive({ payload: reading('m1', Date.now(), 1) });
    await written;
    assert.equal(fake.writes()[0].auth, basic('ems', 'from-env'));
  });

  it('treats empty properties (unset env vars) as defaults: version 1, database ems, spool under the user dir', () => {
    const opts = influxOptions({ version: '', url: 'http://db:8086', database: '', batchSize: '', flushInterval: '${EMS_X}', spoolDir: '' }, {},
      { nodeId: 'ems-store-main', userDir: '/u', timeZone: 'UTC', env: {} });
    assert.equal(opts.version, 1);
    assert.equal(opts.database, 'ems');
    assert.equal(opts.batchSize, 5000);
    assert.equal(opts.flushInterval, 1000);
    assert.equal(opts.spoolDir, path.join('/u', 'ems-spool', 'ems-store-main'));
    const v2 = influxOptions({ version: '2', url: 'https://cloud', org: 'o', bucket: 'b' }, { token: '' },
      { nodeId: 's', userDir: '/u', timeZone: 'UTC', env: { EMS_INFLUX_TOKEN: 'tok' } });
    assert.equal(v2.token, 'tok');
    assert.throws(() => influxOptions({ version: '2', url: 'https://cloud', org: 'o', bucket: '' }, { token: 't' },
      { nodeId: 's', userDir: '/u', timeZone: 'UTC', env: {} }), /bucket is required/);
  });

  it('logs a bad url naming the field, and sends writes to Catch with the same error', async () => {
    fake = new FakeInflux(await freePort());
    await helper.load(nodes, flow({ url: 'localhost:8086' }));
    const logged = helper.log().args.map((a: any[]) => a[0]).filter((e: any) => e.level === 20 && e.id === 's1');
    assert.equal(logged.length, 1, JSON.stringify(logged));
    assert.match(String(logged[0].msg), /url "localhost:8086" is not an http\(s\) URL/);
    const caught = next('hc');
    helper.getNode('w1').receive({ payload: reading('m1', Date.now(), 1) });
    assert.match((await caught).error.message, /url "localhost:8086"/);
  });

  it('shows "buffering N" while the server is down, then delivers the spool and shows "connected"', async () => {
    fake = new FakeInflux(await freePort()); // not listening yet: connection refused
    await helper.load(nodes, flow({}));
    const shown = statuses('w1');
    const t = Date.now() - 60_000;
    const written = next('h1');
    helper.getNode('w1').receive({ payload: [reading('m1', t, 1), reading('m1', t + 1, 2), reading('m1', t + 2, 3)] });
    assert.equal((await written).stored, 3, 'the write succeeds: the points are safe in the spool');
    await until(3000, () => shown.some((s) => s === 'ems-store.status.buffering 3'));
    assert.ok(shown.includes('ems-store-write.status.written-buffering'), `store-write says its readings wait on disk: ${shown.join(' | ')}`);
    const spool = fs.readdirSync(path.join(dir, `spool-${n}`));
    assert.ok(spool.length > 0, 'the spool is on disk');

    await fake.start();
    await until(10_000, () => fake.writes().length > 0 && shown.at(-1) === 'ems-store.status.connected');
    assert.equal(fake.writes().flatMap((w) => w.body.trim().split('\n')).length, 3);
  });
});
