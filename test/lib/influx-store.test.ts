import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import zlib from 'node:zlib';
import type { AddressInfo } from 'node:net';
import { InfluxStore, type InfluxStoreOptions } from '../../lib/store/influxdb/store';
import type { Reading } from '../../lib/model';

type Mode = { status: number; body?: string; headers?: Record<string, string> };

interface Req { method: string; url: string; headers: http.IncomingHttpHeaders; body: string }

/** A fake InfluxDB: records requests; answers `mode` (or a function of the body); can go down and come back on the same port. */
class FakeInflux {
  requests: Req[] = [];
  mode: Mode | ((body: string) => Mode) = { status: 204 };
  queryAnswer = '{"results":[{"statement_id":0}]}';
  port = 0;
  private server?: http.Server;

  async start(): Promise<void> {
    this.server = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        let buf = Buffer.concat(chunks);
        if (req.headers['content-encoding'] === 'gzip') buf = zlib.gunzipSync(buf);
        const body = buf.toString('utf8');
        this.requests.push({ method: req.method!, url: req.url!, headers: req.headers, body });
        if (req.url!.startsWith('/query')) {
          res.writeHead(200, { 'Content-Type': 'application/json' });
          res.end(this.queryAnswer);
          return;
        }
        const m = typeof this.mode === 'function' ? this.mode(body) : this.mode;
        res.writeHead(m.status, { 'Content-Type': 'application/json', ...m.headers });
        res.end(m.body ?? '');
      });
    });
    await new Promise<void>((r) => this.server!.listen(this.port, '127.0.0.1', () => r()));
    this.port = (this.server!.address() as AddressInfo).port;
  }

  async stop(): Promise<void> {
    const s = this.server;
    this.server = undefined;
    if (!s) return;
    s.closeAllConnections();
    await new Promise<void>((r) => s.close(() => r()));
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /** Every line-protocol line written so far, in arrival order. */
  writtenLines(): string[] {
    return this.requests.filter((r) => !r.url.startsWith('/query')).flatMap((r) => r.body.split('\n').filter(Boolean));
  }
}

const T = Date.UTC(2026, 0, 1);
const reading = (i: number): Reading => ({ meter: 'm1', obis: '1-0:1.8.0', time: T + i * 1000, value: i, unit: 'kWh' });
const readings = (from: number, n: number): Reading[] => Array.from({ length: n }, (_, i) => reading(from + i));
const valueOf = (line: string): number => Number(/value=([^ ,]+)/.exec(line)![1]);

const tmpDirs: string[] = [];
function tmpDir(): string {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'ems-influx-'));
  tmpDirs.push(d);
  return d;
}
after(() => { for (const d of tmpDirs) fs.rmSync(d, { recursive: true, force: true }); });

const fast = { minDelay: 20, maxDelay: 100, factor: 2, jitter: 0.2 };

function v1(server: FakeInflux, extra: Partial<InfluxStoreOptions> = {}): InfluxStore {
  return new InfluxStore({ version: 1, url: server.url, database: 'ems', retentionPolicy: 'autogen', username: 'u', password: 'p', flushInterval: 0, spoolDir: tmpDir(), retry: fast, closeTimeout: 500, ...extra });
}

async function until(cond: () => boolean, ms = 3000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe('InfluxStore', () => {
  it('v1: writes arrive with the right URL, auth and body', async () => {
    const server = new FakeInflux();
    await server.start();
    const store = v1(server);
    try {
      assert.equal(await store.write(readings(0, 3)), 3);
      assert.equal(server.requests.length, 1);
      const r = server.requests[0];
      assert.equal(r.method, 'POST');
      const u = new URL(r.url, server.url);
      assert.equal(u.pathname, '/write');
      assert.equal(u.searchParams.get('db'), 'ems');
      assert.equal(u.searchParams.get('rp'), 'autogen');
      assert.equal(u.searchParams.get('precision'), 'ms');
      assert.equal(r.headers.authorization, `Basic ${Buffer.from('u:p').toString('base64')}`);
      assert.equal(r.body, `ems_reading,meter=m1,obis=1-0:1.8.0,unit=kWh quality=0i,value=0 ${T}\nems_reading,meter=m1,obis=1-0:1.8.0,unit=kWh quality=0i,value=1 ${T + 1000}\nems_reading,meter=m1,obis=1-0:1.8.0,unit=kWh quality=0i,value=2 ${T + 2000}`);
      assert.equal(store.status().state, 'connected');
      await assert.rejects(store.write([{ ...reading(0), value: NaN }]), /readings\[0\]/);
    } finally {
      await store.close();
      await server.stop();
    }
  });

  it('batches by batchSize and coalesces writes within flushInterval', async () => {
    const server = new FakeInflux();
    await server.start();
    const store = v1(server, { batchSize: 4, flushInterval: 50 });
    try {
      const results = await Promise.all([store.write(readings(0, 1)), store.write(readings(1, 2)), store.write(readings(3, 3))]);
      assert.deepEqual(results, [1, 2, 3]);
      assert.deepEqual(server.requests.map((r) => r.body.split('\n').length), [4, 2]);
      assert.deepEqual(server.writtenLines().map(valueOf), [0, 1, 2, 3, 4, 5]);
    } finally {
      await store.close();
      await server.stop();
    }
  });

  it('outage: write resolves, the spool grows; back: everything delivered exactly once, in order', async () => {
    const server = new FakeInflux();
    await server.start();
    const store = v1(server, { batchSize: 3 });
    const states: string[] = [];
    store.on('status', (s: { state: string }) => states.push(s.state));
    try {
      await store.write(readings(0, 2));
      server.mode = { status: 500, body: '{"error":"internal"}' };
      assert.equal(await store.write(readings(2, 2)), 2);
      assert.equal(store.status().state, 'buffering');
      assert.equal(store.status().spooled, 2);
      await server.stop(); // down
      assert.equal(await store.write(readings(4, 3)), 3);
      assert.equal(await store.write(readings(7, 1)), 1);
      assert.equal(store.status().spooled, 6);
      assert.match(store.status().lastError ?? '', /500|cannot reach/);
      await new Promise((r) => setTimeout(r, 150)); // a few failed retries while down
      server.requests = [];
      server.mode = { status: 204 };
      await server.start(); // back, same port
      await until(() => store.status().spooled === 0);
      assert.equal(await store.write(readings(8, 2)), 2);
      assert.deepEqual(server.writtenLines().map(valueOf), [2, 3, 4, 5, 6, 7, 8, 9]);
      assert.equal(store.status().state, 'connected');
      assert.ok(states.includes('buffering') && states.at(-1) === 'connected', states.join());
    } finally {
      await store.close();
      await server.stop();
    }
  });

  it('a failure in the middle of coalesced writes spools the undelivered tail in order, part of a write included', async () => {
    const server = new FakeInflux();
    await server.start();
    let requests = 0;
    server.mode = () => (++requests === 1 ? { status: 204 } : { status: 500, body: '{"error":"internal"}' });
    const store = v1(server, { batchSize: 4, flushInterval: 30 });
    try {
      // three writes coalesced into one flush: requests of 4 lines; the first is delivered, the second fails
      const writes = [store.write(readings(0, 3)), store.write(readings(3, 3)), store.write(readings(6, 2))];
      assert.deepEqual(await Promise.all(writes), [3, 3, 2]);
      assert.equal(store.status().spooled, 4); // lines 4..7: the tail of the second write and the third
      assert.deepEqual(server.requests[0].body.split('\n').map(valueOf), [0, 1, 2, 3]);
      server.requests = [];
      server.mode = { status: 204 };
      await until(() => store.status().spooled === 0);
      assert.deepEqual(server.writtenLines().map(valueOf), [4, 5, 6, 7]);
      assert.equal(store.status().state, 'connected');
    } finally {
      await store.close();
      await server.stop();
    }
  });

  it('honours Retry-After on 503', async () => {
    const server = new FakeInflux();
    await server.start();
    server.mode = { status: 503, headers: { 'Retry-After': '1' } };
    const store = v1(server);
    try {
      await store.write(readings(0, 1));
      const first = Date.now();
      server.mode = { status: 204 };
      await until(() => store.status().spooled === 0, 3000);
      assert.ok(Date.now() - first >= 900, `replayed after ${Date.now() - first} ms`);
    } finally {
      await store.close();
      await server.stop();
    }
  });

  it('restart mid-outage: a new store on the same spoolDir replays the spool', async () => {
    const server = new FakeInflux();
    await server.start();
    const spoolDir = tmpDir();
    server.mode = { status: 500 };
    const a = v1(server, { spoolDir });
    await a.write(readings(0, 4));
    await a.write(readings(4, 1));
    await a.close();
    assert.equal(a.status().spooled, 5);
    server.requests = [];
    server.mode = { status: 204 };
    const b = v1(server, { spoolDir });
    try {
      assert.equal(b.status().state, 'buffering');
      await until(() => b.status().spooled === 0);
      await b.write(readings(5, 1));
      assert.deepEqual(server.writtenLines().map(valueOf), [0, 1, 2, 3, 4, 5]);
    } finally {
      await b.close();
      await server.stop();
    }
  });

  it('400: the rejection names the server message, the other lines and later writes still flow', async () => {
    const server = new FakeInflux();
    await server.start();
    // refuse any request containing value=13
    server.mode = (body) => (body.includes('value=13 ')
      ? { status: 400, body: '{"error":"partial write: unable to parse \'x\': bad timestamp line 2"}' }
      : { status: 204 });
    const store = v1(server, { flushInterval: 30 });
    try {
      const ok1 = store.write(readings(10, 2));
      const bad = store.write(readings(12, 3));
      const ok2 = store.write(readings(15, 1));
      await assert.rejects(bad, /unable to parse 'x'.*line 2/);
      assert.equal(await ok1, 2);
      assert.equal(await ok2, 1);
      const delivered = new Set(server.requests.filter((r) => !r.body.includes('value=13 ')).flatMap((r) => r.body.split('\n')).map(valueOf));
      assert.deepEqual([...delivered].sort((x, y) => x - y), [10, 11, 12, 14, 15]);
      assert.equal(store.status().spooled, 0);
      assert.match(store.status().lastError ?? '', /unable to parse/);
      assert.equal(await store.write(readings(20, 1)), 1);
      assert.equal(server.writtenLines().map(valueOf).at(-1), 20);
    } finally {
      await store.close();
      await server.stop();
    }
  });

  it('spool full: write rejects with the spool error', async () => {
    const server = new FakeInflux();
    await server.start();
    server.mode = { status: 500 };
    const store = v1(server, { spoolMaxBytes: 300 });
    try {
      await store.write(readings(0, 2));
      await assert.rejects(store.write(readings(2, 10)), /spool .* is full/);
    } finally {
      await store.close();
      await server.stop();
    }
  });

  it('v2: writes to /api/v2/write with Token auth and gzip', async () => {
    const server = new FakeInflux();
    await server.start();
    const store = new InfluxStore({ version: 2, url: server.url, org: 'o', bucket: 'b', token: 'tok', flushInterval: 0, spoolDir: tmpDir(), retry: fast, closeTimeout: 500 });
    try {
      assert.equal(await store.write(readings(0, 2)), 2);
      const r = server.requests[0];
      const u = new URL(r.url, server.url);
      assert.equal(u.pathname, '/api/v2/write');
      assert.equal(u.searchParams.get('org'), 'o');
      assert.equal(u.searchParams.get('bucket'), 'b');
      assert.equal(u.searchParams.get('precision'), 'ms');
      assert.equal(r.headers.authorization, 'Token tok');
      assert.equal(r.headers['content-encoding'], 'gzip');
      assert.deepEqual(server.writtenLines().map(valueOf), [0, 1]);
      // outage then recovery through the client library
      server.mode = { status: 503 };
      assert.equal(await store.write(readings(2, 1)), 1);
      assert.equal(store.status().spooled, 1);
      server.mode = { status: 204 };
      await until(() => store.status().spooled === 0);
      server.mode = { status: 401, body: '{"code":"unauthorized","message":"unauthorized access"}' };
      await assert.rejects(store.write(readings(3, 1)), /401 unauthorized access/);
      assert.deepEqual(server.writtenLines().map(valueOf).slice(0, 3), [0, 1, 2]);
    } finally {
      await store.close();
      await server.stop();
    }
  });

  it('reads parse a canned /query answer', async () => {
    const server = new FakeInflux();
    await server.start();
    const store = new InfluxStore({ version: 2, url: server.url, org: 'o', bucket: 'b', token: 'tok', spoolDir: tmpDir(), closeTimeout: 100 });
    try {
      server.queryAnswer = JSON.stringify({ results: [{ statement_id: 0, series: [{ name: 'ems_reading', columns: ['time', 'value', 'quality', 'meter', 'obis', 'unit'], values: [[T, 1.5, 0, 'm1', '1-0:1.8.0', 'kWh'], [T + 1000, 2.5, 4, 'm1', '1-0:1.8.0', 'kWh']] }] }] });
      const rows = await store.query({ meter: 'm1', from: T, to: T + 60_000 });
      assert.deepEqual(rows, [
        { meter: 'm1', obis: '1-0:1.8.0', time: T, value: 1.5, unit: 'kWh' },
        { meter: 'm1', obis: '1-0:1.8.0', time: T + 1000, value: 2.5, unit: 'kWh', quality: 4 },
      ]);
      const q = server.requests.at(-1)!;
      const u = new URL(q.url, server.url);
      assert.equal(u.pathname, '/query');
      assert.equal(u.searchParams.get('db'), 'b');
      assert.equal(u.searchParams.get('epoch'), 'ms');
      assert.match(u.searchParams.get('q')!, /^SELECT .* FROM "ems_reading" WHERE "meter" = 'm1'/);
      assert.equal(q.headers.authorization, 'Token tok');
      server.queryAnswer = JSON.stringify({ results: [{ statement_id: 0, series: [{ name: 'ems_event', columns: ['time', 'message', 'source', 'level', 'kind', 'meter'], values: [[T, 'timeout', null, 'error', 'poll-failed', 'm1']] }] }] });
      assert.deepEqual(await store.events({ from: T, to: T + 1000 }), [{ time: T, level: 'error', kind: 'poll-failed', message: 'timeout', meter: 'm1' }]);
      server.queryAnswer = JSON.stringify({ results: [{ statement_id: 0, error: 'database not found: b' }] });
      await assert.rejects(store.latest(), /database not found: b/);
    } finally {
      await store.close();
      await server.stop();
    }
  });
});
