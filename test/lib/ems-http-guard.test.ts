import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { openEmsServices } from '../../lib/ems/services';
import { registerRunningServices, unregisterRunningServices } from '../../lib/ems/running';
import { capBody, corsOptions, forbiddenNotUnauthorized, httpGuard, parseCorsOrigins, securityHeaders, type GuardRequest } from '../../lib/ems/http-guard';

/** A server running the guard, then echoing what reached the handler (as Node-RED's http-in would). */
function guarded(): http.Server {
  const guard = httpGuard({ jsonLimit: 1024, uploadLimit: 512, importLimit: 2048 });
  return http.createServer((req, res) => {
    res.setHeader('X-Powered-By', 'Express');
    guard(req as GuardRequest, res, (err) => {
      if (err) { res.statusCode = 500; res.end('error'); return; }
      if (req.url!.endsWith('/missing')) { res.statusCode = 404; res.setHeader('Content-Type', 'text/html'); res.end('<pre>Cannot GET /x at /usr/lib/node_modules/express</pre>'); return; }
      res.setHeader('Access-Control-Allow-Origin', '*');
      const r = req as GuardRequest;
      res.setHeader('Content-Type', 'application/json');
      res.end(JSON.stringify({ body: r.body ?? null, parsed: r._body === true }));
    });
  });
}

describe('http guard', () => {
  let server: http.Server;
  let url: string;
  before(async () => {
    server = guarded();
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(() => new Promise<void>((r) => server.close(() => r())));

  it('reads an import body only for a caller the running EMS knows with the operator role', async () => {
    const services = await openEmsServices({ file: ':memory:', env: { EMS_ADMIN_USER: 'boss', EMS_ADMIN_PASSWORD: 'chief-pass-0417' } });
    await services.users.create({ login: 'vic', name: 'vic', password: 'Viewer-pass-2026-x', role: 'viewer', open_folders: [] });
    const operator = (await services.auth.login('boss', 'chief-pass-0417')).access_token;
    const viewer = (await services.auth.login('vic', 'Viewer-pass-2026-x')).access_token;
    registerRunningServices(services);
    try {
      const send = (token?: string) => fetch(`${url}/api/imports`, { method: 'POST', body: 'meter;time\r\n', headers: { 'content-type': 'text/csv', ...(token ? { authorization: `Bearer ${token}` } : {}) } });
      const anonymous = await send();
      assert.equal(anonymous.status, 401);
      assert.match((await anonymous.json()).error, /an import needs an access token or an API key/);
      assert.equal((await send('not-a-token')).status, 401);
      const refused = await send(viewer);
      assert.equal(refused.status, 403);
      assert.match((await refused.json()).error, /needs the operator role/);
      assert.deepEqual((await (await send(operator)).json()).parsed, true, 'an operator\'s body is read');
      const upload = new FormData();
      upload.append('file', new Blob(['x'.repeat(100)]), 'readings.csv');
      assert.equal((await fetch(`${url}/api/imports`, { method: 'POST', body: upload })).status, 401, 'multipart too');
    } finally {
      unregisterRunningServices(services);
      services.close();
    }
  });

  it('sets the security headers and drops X-Powered-By and a wildcard CORS origin', async () => {
    const res = await fetch(`${url}/api/meters`);
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('x-content-type-options'), 'nosniff');
    assert.equal(res.headers.get('x-frame-options'), 'DENY');
    assert.equal(res.headers.get('referrer-policy'), 'same-origin');
    assert.match(res.headers.get('content-security-policy')!, /default-src 'none'.*frame-ancestors 'none'/);
    assert.equal(res.headers.get('x-powered-by'), null);
    assert.equal(res.headers.get('access-control-allow-origin'), null);
    const editor = await fetch(`${url}/`);
    assert.equal(editor.headers.get('content-security-policy'), "frame-ancestors 'none'; base-uri 'self'; object-src 'none'");
    assert.match(securityHeaders('/api/docs')['Content-Security-Policy'], /script-src 'self' 'unsafe-inline'/);
  });

  it('parses JSON bodies of the API itself and refuses other types, big and malformed bodies in the envelope', async () => {
    const post = (path: string, body: string, type?: string) => fetch(`${url}${path}`, { method: 'POST', body, headers: type ? { 'content-type': type } : {} });
    const okAnswer = await (await post('/api/auth/login', '{"login":"a"}', 'application/json')).json();
    assert.deepEqual(okAnswer, { body: { login: 'a' }, parsed: true });
    const form = await post('/api/auth/login', 'login=admin&password=ems-admin', 'application/x-www-form-urlencoded');
    assert.equal(form.status, 415);
    assert.deepEqual(await form.json(), { data: null, error: 'Content-Type application/x-www-form-urlencoded is not accepted: send JSON (Content-Type: application/json)', status: 415 });
    const big = await post('/api/users', JSON.stringify({ x: 'a'.repeat(2000) }), 'application/json');
    assert.equal(big.status, 413);
    assert.deepEqual(await big.json(), { data: null, error: 'the body is larger than 1 KiB', status: 413 });
    const bad = await post('/api/users', '{"x":', 'application/json');
    assert.equal(bad.status, 400);
    assert.deepEqual(await bad.json(), { data: null, error: 'the body is not valid JSON', status: 400 });
    assert.equal((await post('/api/users', 'hello', 'text/plain')).status, 415);
    // The license upload: text/plain and multipart, bounded.
    assert.deepEqual(await (await post('/api/license', 'LICENSE', 'text/plain')).json(), { body: 'LICENSE', parsed: true });
    assert.equal((await post('/api/license', 'x'.repeat(600), 'text/plain')).status, 413);
    const fd = new FormData();
    fd.append('license', new Blob(['x'.repeat(600)]), 'license.json');
    assert.equal((await fetch(`${url}/api/license`, { method: 'PUT', body: fd })).status, 413);
    // A reading import: multipart or a raw CSV / XLSX body (kept as bytes), bounded by its own limit; other paths refuse CSV.
    const csv = await (await post('/api/imports', 'meter;time\r\n', 'text/csv')).json() as { body: { type: string; data: number[] }; parsed: boolean };
    assert.deepEqual([Buffer.from(csv.body.data).toString(), csv.parsed], ['meter;time\r\n', true]);
    assert.equal((await post('/api/imports', 'x'.repeat(3000), 'text/csv')).status, 413);
    assert.equal((await post('/api/users', 'meter;time', 'text/csv')).status, 415);
    const upload = new FormData();
    upload.append('file', new Blob(['x'.repeat(1500)]), 'readings.csv');
    assert.equal((await fetch(`${url}/api/imports`, { method: 'POST', body: upload })).status, 200, 'a multipart import above the license limit, below the import limit');
    upload.append('more', new Blob(['x'.repeat(1500)]), 'more.csv');
    assert.equal((await fetch(`${url}/api/imports`, { method: 'POST', body: upload })).status, 413);
    // A chunked body over the limit is refused without buffering it all.
    const chunked = await new Promise<number>((resolve, reject) => {
      const req = http.request(`${url}/api/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json', 'transfer-encoding': 'chunked' } }, (res) => { res.resume(); resolve(res.statusCode!); });
      req.on('error', reject);
      for (let i = 0; i < 10; i++) req.write('a'.repeat(500));
      req.end();
    });
    assert.equal(chunked, 413);
    // Outside /api bodies are left to Node-RED; a body-less POST passes.
    assert.deepEqual(await (await post('/flows', 'x', 'text/plain')).json(), { body: null, parsed: false });
    assert.equal((await fetch(`${url}/api/auth/logout`, { method: 'POST' })).status, 200);
  });

  it('caps the body of any other route before its own parser buffers it: declared or chunked', async () => {
    // A handler that buffers whatever comes, as Node-RED's raw body parser does for an http in route.
    let buffered = 0;
    const sink = http.createServer((req, res) => {
      if (!capBody(req as GuardRequest, res, 64 * 1024)) return;
      req.on('data', (c: Buffer) => { buffered += c.length; });
      req.on('end', () => res.end(`got ${buffered}`));
      req.on('error', () => undefined);
    });
    await new Promise<void>((r) => sink.listen(0, '127.0.0.1', r));
    const at = `http://127.0.0.1:${(sink.address() as AddressInfo).port}/my-route`;
    try {
      const small = await fetch(at, { method: 'POST', body: 'x'.repeat(1000) });
      assert.equal(await small.text(), 'got 1000');
      buffered = 0;
      const declared = await fetch(at, { method: 'POST', headers: { 'content-type': 'text/plain' }, body: 'x'.repeat(200 * 1024) });
      assert.equal(declared.status, 413);
      assert.deepEqual(await declared.json(), { data: null, error: 'the body is larger than 64 KiB', status: 413 });
      assert.equal(buffered, 0);
      // Chunked, no length: an endless stream is cut where it passes the cap.
      let sent = 0;
      const endless = new ReadableStream({
        pull(controller) { sent += 16 * 1024; controller.enqueue(new Uint8Array(16 * 1024)); if (sent > 50 * 1024 * 1024) controller.close(); },
      });
      const chunked = await fetch(at, { method: 'POST', body: endless, duplex: 'half' } as RequestInit).catch((err: Error) => err);
      if (!(chunked instanceof Error)) assert.equal(chunked.status, 413);
      assert.ok(buffered <= 64 * 1024, `the route saw ${buffered} bytes`);
      assert.ok(sent < 50 * 1024 * 1024, `the client could send ${sent} bytes`);
    } finally {
      await new Promise<void>((r) => sink.close(() => r()));
    }
  });

  it('turns HTML error pages on API paths into the envelope, and leaves others alone', async () => {
    const api = await fetch(`${url}/api/missing`);
    assert.equal(api.status, 404);
    assert.deepEqual(await api.json(), { data: null, error: 'no such endpoint', status: 404 });
    const other = await fetch(`${url}/missing`);
    assert.equal(other.status, 404);
    assert.match(await other.text(), /^<pre>/);
  });

  it('lists CORS origins only when configured, never "*"', () => {
    assert.deepEqual(parseCorsOrigins(undefined), []);
    assert.equal(corsOptions([]), false);
    assert.deepEqual(parseCorsOrigins('https://scada.plant:8443, http://10.0.0.5/'), ['https://scada.plant:8443', 'http://10.0.0.5']);
    assert.deepEqual(corsOptions(['https://a.b']), { origin: ['https://a.b'], credentials: true, methods: 'GET,PUT,POST,DELETE' });
    assert.throws(() => parseCorsOrigins('*'), /EMS_CORS_ORIGINS: "\*" must be an origin/);
  });

  it('answers 403, not 401, to a signed-in user without the permission', () => {
    const statuses: number[] = [];
    const response = () => { const res = { status: (c: number) => { statuses.push(c); return res; } }; return res as any; };
    const signedIn = response();
    forbiddenNotUnauthorized()({ user: { username: 'olga' } } as any, signedIn, () => undefined);
    signedIn.status(401);
    const anonymous = response();
    forbiddenNotUnauthorized()({} as any, anonymous, () => undefined);
    anonymous.status(401);
    assert.deepEqual(statuses, [403, 401]);
  });
});
