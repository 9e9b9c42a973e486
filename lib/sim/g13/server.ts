/**
 * HTTP plumbing of the G13 JSON API (manual 6.1): embOS/IP headers, Basic auth with the verbatim 401
 * page, the 512-byte body limit, no query strings, JSON only, per-meter access checks, COSEM failures
 * of offline meters, chunked GET responses with a Link:/lasterror/<id> header, and the route table.
 */
import type http from 'node:http';
import type { Gateway, UserState } from './gateway';
import { EV } from './gateway';
import { DES, G13Error, type Ctx, type Reply, type Route } from './reply';
import { routes as systemRoutes } from './resources/system';
import { routes as userRoutes } from './resources/users';
import { routes as meterListRoutes } from './resources/meter-list';
import { routes as firmwareRoutes } from './resources/firmware';
import { routes as meterInfoRoutes } from './resources/meter-info';
import { routes as valueRoutes } from './resources/meter-values';
import { routes as ioRoutes } from './resources/meter-io';
import { routes as storedRoutes } from './resources/meter-stored';
import { routes as tariffRoutes } from './resources/meter-tariff';

/** Literal routes come before "/meters/:serial" ones (first match wins). */
export const ROUTES: Route[] = [
  ...systemRoutes, ...userRoutes, ...firmwareRoutes, ...meterListRoutes,
  ...meterInfoRoutes, ...valueRoutes, ...ioRoutes, ...storedRoutes, ...tariffRoutes,
];

export const MAX_BODY = 512;

/** The embOS 401 page (6.3.2). */
export const UNAUTHORIZED_HTML = '<HTML>\n  <HEAD><TITLE>401 Unauthorized</TITLE></HEAD>\n  <BODY>\n    <H1>401 Unauthorized</H1>\n    Browser not authentication-capable or\n    authentication failed.\n  </BODY>\n</HTML>\n';
export const RESET_PASSWORD_TEXT = 'Please reset password and try again.';

function match(route: Route, method: string, segs: string[]): Record<string, string> | null {
  if (route.method !== method) return null;
  const pat = route.path.split('/').filter(Boolean);
  if (pat.length !== segs.length) return null;
  const params: Record<string, string> = {};
  for (let i = 0; i < pat.length; i++) {
    if (pat[i].startsWith(':')) params[pat[i].slice(1)] = segs[i];
    else if (pat[i] !== segs[i]) return null;
  }
  return params;
}

function authenticate(gw: Gateway, header: string | undefined): UserState | null {
  const m = /^Basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(header ?? '');
  if (!m) return null;
  const text = Buffer.from(m[1], 'base64').toString('utf8');
  const i = text.indexOf(':');
  if (i < 0) return null;
  const user = gw.findUser(text.slice(0, i));
  return user && user.password === text.slice(i + 1) ? user : null;
}

function send(gw: Gateway, res: http.ServerResponse, r: Reply): void {
  const headers: Record<string, string> = { Server: 'embOS/IP' };
  if (r.status >= 400 || r.text !== undefined) {
    // Error replies carry a length and Accept-Ranges (the manual prints 57/64; the real length is sent).
    const body = r.text ?? JSON.stringify(r.json);
    if (r.status >= 400) headers['Accept-Ranges'] = 'bytes';
    headers['Content-Type'] = r.contentType ?? 'application/json';
    headers['Content-Length'] = String(Buffer.byteLength(body));
    if (r.status < 400) headers.Link = '/lasterror/0';
    res.writeHead(r.status, { ...headers, ...r.headers });
    res.end(body);
    return;
  }
  headers['Content-Type'] = 'application/json';
  headers.Link = '/lasterror/0';
  const body = r.json === undefined ? '' : JSON.stringify(r.json);
  if (!body) { res.writeHead(r.status, { ...headers, 'Content-Length': '0', ...r.headers }); res.end(); return; }
  // GET responses are streamed (Transfer-Encoding: chunked): no Content-Length.
  res.writeHead(r.status, { ...headers, ...r.headers });
  res.end(body);
}

function errorReply(gw: Gateway, e: G13Error): Reply {
  const id = gw.recordError(e.des);
  if (e.extra?.text !== undefined) return { status: e.status, text: e.extra.text, contentType: e.extra.contentType ?? 'text/html', headers: e.extra.headers };
  return { status: e.status, json: { status: 'error', des: e.des }, headers: { Link: `/lasterror/${id}`, ...e.extra?.headers } };
}

const delay = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function dispatch(gw: Gateway, req: http.IncomingMessage, raw: Buffer, res: http.ServerResponse): Promise<void> {
  const method = (req.method ?? 'GET').toUpperCase();
  const url = req.url ?? '/';
  const user = authenticate(gw, req.headers.authorization);
  if (!user) {
    send(gw, res, { status: 401, text: UNAUTHORIZED_HTML, contentType: 'text/html' });
    return;
  }
  if (url.includes('?')) throw new G13Error(400, DES.INVALID);
  const path = decodeURIComponent(url).replace(/\/+$/, '') || '/';
  const segs = path.split('/').filter(Boolean);
  let route: Route | undefined;
  let params: Record<string, string> | null = null;
  for (const r of ROUTES) { params = match(r, method, segs); if (params) { route = r; break; } }
  if (!route || !params) throw new G13Error(404, DES.NOT_FOUND);

  const contentType = String(req.headers['content-type'] ?? '').toLowerCase();
  let body: unknown;
  const isFirmwareUpload = method === 'POST' && path === '/firmware';
  if (method !== 'GET' && !isFirmwareUpload) {
    if (raw.length > MAX_BODY) throw new G13Error(400, DES.PARSE);
    if (contentType.includes('x-www-form-urlencoded') || contentType.includes('multipart/')) throw new G13Error(400, DES.PARSE);
    if (raw.length > 0 && raw.toString('utf8').trim() !== '') {
      try { body = JSON.parse(raw.toString('utf8')); } catch { throw new G13Error(400, DES.PARSE); }
    }
  }
  if (route.admin && !user.admin) throw new G13Error(403, DES.FORBIDDEN);

  const ctx: Ctx = { gw, user, method, path, params, body, raw, contentType, meter: undefined as never, now: gw.now() };
  if (route.meter) {
    const meter = gw.meter(params.serial);
    if (!meter || !meter.registered) throw new G13Error(404, DES.NOT_FOUND);
    const access = gw.accessOf(user, meter.spec.serial);
    if (access === 'none' || (route.meter === 'configure' && access !== 'configure')) throw new G13Error(403, DES.FORBIDDEN);
    if (gw.latencyMs > 0) await delay(gw.latencyMs);
    if (meter.spec.offline) {
      gw.log(EV.GW_METER_NOTCONNECTED, 2, 5);
      throw new G13Error(500, DES.COSEM);
    }
    ctx.meter = meter;
    ctx.now = gw.clock() + meter.clockOffset;
    const reply = await route.handler(ctx);
    if (method === 'GET' && reply.status === 200 && gw.truncateNext > 0) {
      // A failure after the 200 header went out: half a body, the detail at /lasterror/<id>.
      gw.truncateNext--;
      const id = gw.recordError(DES.COSEM);
      const text = JSON.stringify(reply.json);
      res.writeHead(200, { Server: 'embOS/IP', 'Content-Type': 'application/json', Link: `/lasterror/${id}` });
      res.end(text.slice(0, Math.floor(text.length / 2)));
      return;
    }
    send(gw, res, reply);
    return;
  }
  send(gw, res, await route.handler(ctx));
}

/** Handles one HTTP request against the gateway state. */
export function handleRequest(gw: Gateway, req: http.IncomingMessage, res: http.ServerResponse): void {
  const chunks: Buffer[] = [];
  let size = 0;
  req.on('data', (c: Buffer) => { size += c.length; if (size <= 1 << 20) chunks.push(c); });
  req.on('end', () => {
    dispatch(gw, req, Buffer.concat(chunks), res).catch((err: unknown) => {
      if (res.headersSent) { res.destroy(); return; }
      const e = err instanceof G13Error ? err : new G13Error(500, DES.COSEM);
      send(gw, res, errorReply(gw, e));
    });
  });
  req.on('error', () => res.destroy());
}
