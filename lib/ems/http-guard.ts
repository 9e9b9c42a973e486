/**
 * HTTP hardening for everything Node-RED serves (settings.js wires these in as httpAdminMiddleware
 * and httpNodeMiddleware): security headers, no X-Powered-By, no CORS unless origins are listed, and
 * every /api request body read and capped here, before any authentication, with errors answered in
 * the EMS envelope { data: null, error, status }. Express-style (req, res, next) functions over
 * Node's http types; no Node-RED import.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { credentialOf, requireRole } from './access';
import { ApiError } from './envelope';
import { runningServices } from './running';

export type Next = (err?: unknown) => void;
export type GuardRequest = IncomingMessage & { path?: string; body?: unknown; _body?: boolean; user?: unknown; _emsGuard?: boolean };
export type Middleware = (req: GuardRequest, res: ServerResponse, next: Next) => void;

export interface GuardOptions {
  /** Path prefix of the EMS API, whose bodies are read here ('/api'). */
  apiPrefix?: string;
  /** Largest JSON body of an API request (bytes). */
  jsonLimit?: number;
  /** Largest license upload (multipart or text/plain to <apiPrefix>/license). */
  uploadLimit?: number;
  /** Largest reading import (multipart or a raw CSV/XLSX body to <apiPrefix>/imports). */
  importLimit?: number;
  /** Origins allowed to make cross-origin requests (EMS_CORS_ORIGINS); empty = none. */
  corsOrigins?: readonly string[];
  /** Largest body of any other request (the editor's admin API, your own http in routes). */
  otherLimit?: number;
}

export const GUARD_DEFAULTS = { apiPrefix: '/api', jsonLimit: 1024 * 1024, uploadLimit: 256 * 1024, importLimit: 10 * 1024 * 1024 + 64 * 1024, otherLimit: 5 * 1024 * 1024 };

/** Raw bodies an import takes (kept as bytes): CSV as text, XLSX as its zip. */
const IMPORT_TYPES = ['text/csv', 'text/plain', 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet', 'application/octet-stream'];

/** EMS_CORS_ORIGINS: a comma or space separated list of origins (scheme://host[:port]); '*' is refused. */
export function parseCorsOrigins(value: string | undefined): string[] {
  const list = (value ?? '').split(/[\s,]+/).map((s) => s.trim().replace(/\/+$/, '')).filter(Boolean);
  for (const o of list) {
    if (o === '*' || !/^https?:\/\/[^/\s]+$/.test(o)) throw new Error(`EMS_CORS_ORIGINS: ${JSON.stringify(o)} must be an origin like https://host:port (no "*")`);
  }
  return list;
}

/** The cors package's options for the listed origins, or false (CORS off). */
export function corsOptions(origins: readonly string[]): { origin: string[]; credentials: true; methods: string } | false {
  return origins.length ? { origin: [...origins], credentials: true, methods: 'GET,PUT,POST,DELETE' } : false;
}

/** Answers an error in the EMS envelope, without internals. */
export function sendEnvelope(res: ServerResponse, status: number, error: string): void {
  if (res.headersSent) { res.destroy(); return; }
  const body = JSON.stringify({ data: null, error, status });
  res.statusCode = status;
  res.setHeader('Content-Type', 'application/json; charset=utf-8');
  res.setHeader('Content-Length', Buffer.byteLength(body));
  res.setHeader('Cache-Control', 'no-store');
  res.end(body);
}

function pathOf(req: GuardRequest): string {
  return (req.url ?? '/').split('?')[0];
}

const API_CSP = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'";
// The API docs page: its own scripts and styles (inline included) and images; nothing else.
const DOCS_CSP = "default-src 'self'; script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'";
// The editor evaluates node editors' inline scripts; framing is what we can forbid without breaking it.
const EDITOR_CSP = "frame-ancestors 'none'; base-uri 'self'; object-src 'none'";

const inApi = (path: string, prefix: string) => path === prefix || path.startsWith(`${prefix}/`);
const isDocs = (path: string, prefix: string) => inApi(path, `${prefix}/docs`);

/** The security headers for a path (API, API docs, or anything else: editor, dashboard). */
export function securityHeaders(path: string, apiPrefix = GUARD_DEFAULTS.apiPrefix): Record<string, string> {
  const docs = isDocs(path, apiPrefix);
  return {
    'X-Content-Type-Options': 'nosniff',
    'X-Frame-Options': 'DENY',
    'Referrer-Policy': 'same-origin',
    'Cross-Origin-Opener-Policy': 'same-origin',
    'Cross-Origin-Resource-Policy': 'same-origin',
    'Content-Security-Policy': docs ? DOCS_CSP : inApi(path, apiPrefix) ? API_CSP : EDITOR_CSP,
  };
}

/** Drops X-Powered-By, and Access-Control-* headers for origins not listed, whoever sets them later. */
function filterHeaders(res: ServerResponse, origins: readonly string[]): void {
  const set = res.setHeader.bind(res);
  res.setHeader = ((name: string, value: number | string | readonly string[]) => {
    const n = name.toLowerCase();
    if (n === 'x-powered-by') return res;
    if (n === 'access-control-allow-origin' && !(typeof value === 'string' && origins.includes(value))) return res;
    if (n.startsWith('access-control-') && n !== 'access-control-allow-origin' && origins.length === 0) return res;
    // A handler's own Content-Security-Policy still forbids framing.
    if (n === 'content-security-policy' && typeof value === 'string' && !/frame-ancestors/.test(value)) return set(name, `${value}; frame-ancestors 'none'`);
    return set(name, value);
  }) as typeof res.setHeader;
  res.removeHeader('X-Powered-By');
}

const STATUS_TEXT: Record<number, string> = { 400: 'the request is malformed', 404: 'no such endpoint', 405: 'method not allowed', 413: 'the body is too large', 415: 'unsupported content type' };

/**
 * Any error answer on an API path that is not already JSON (Express's HTML 404 page, an http-in's
 * plain "Internal Server Error") becomes the envelope, without internals.
 */
function envelopeErrors(req: GuardRequest, res: ServerResponse): void {
  // API answers are small JSON: no compression, so a compressing middleware (node-red-dashboard installs one
  // for every http-in route) never holds the body in a stream this guard cannot reach.
  delete req.headers['accept-encoding'];
  let envelope: string | null = null;
  const replaces = (status: number) => status >= 400 && !/json/.test(String(res.getHeader('content-type') ?? '')) && req.method !== 'HEAD';
  const prepare = (status: number) => {
    envelope = JSON.stringify({ data: null, error: STATUS_TEXT[status] ?? (status >= 500 ? 'internal error' : 'the request was refused'), status });
    res.setHeader('Content-Type', 'application/json; charset=utf-8');
    res.setHeader('Content-Length', Buffer.byteLength(envelope));
    res.removeHeader('Content-Encoding');
  };
  // Whoever sends the headers first (Express's final handler, or a middleware's own writeHead), the
  // non-JSON error body of an API route is replaced by the envelope.
  const writeHead = res.writeHead.bind(res) as (...args: unknown[]) => ServerResponse;
  res.writeHead = ((status: number, ...rest: unknown[]) => {
    const headers = rest.find((a) => a && typeof a === 'object') as Record<string, unknown> | undefined;
    const type = headers && Object.entries(headers).find(([k]) => k.toLowerCase() === 'content-type')?.[1];
    if (envelope === null && replaces(status) && !/json/.test(String(type ?? ''))) {
      res.statusCode = status;
      prepare(status);
      return writeHead(status);
    }
    return writeHead(status, ...rest);
  }) as typeof res.writeHead;
  const write = res.write.bind(res) as (...args: unknown[]) => boolean;
  res.write = ((...args: unknown[]) => (envelope !== null ? true : write(...args))) as typeof res.write;
  const end = res.end.bind(res) as (...args: unknown[]) => ServerResponse;
  res.end = ((...args: unknown[]) => {
    if (envelope === null && !res.headersSent && replaces(res.statusCode)) prepare(res.statusCode);
    return envelope !== null ? end(envelope) : end(...args);
  }) as typeof res.end;
}

type BodyKind = 'json' | 'upload' | 'text-upload' | 'import-upload' | 'import-raw';

/** What an API body may be: JSON anywhere, multipart or text/plain for the license upload, multipart or a raw CSV/XLSX for imports. */
function bodyKind(req: GuardRequest, path: string, apiPrefix: string): BodyKind | string {
  const type = (req.headers['content-type'] ?? '').split(';')[0].trim().toLowerCase();
  if (type === 'application/json' || /^application\/[\w.+-]+\+json$/.test(type)) return 'json';
  if (path === `${apiPrefix}/imports` && type === 'multipart/form-data') return 'import-upload';
  if (path === `${apiPrefix}/imports` && IMPORT_TYPES.includes(type)) return 'import-raw';
  const upload = path === `${apiPrefix}/license`;
  if (upload && type === 'multipart/form-data') return 'upload';
  if (upload && type === 'text/plain') return 'text-upload';
  return type === '' ? 'a body without Content-Type' : `Content-Type ${type}`;
}

function hasBody(req: GuardRequest): boolean {
  const length = req.headers['content-length'];
  return req.headers['transfer-encoding'] !== undefined || (length !== undefined && length !== '0');
}

/** Reads at most `limit` bytes; rejects with 413 as soon as more arrive (the rest is not buffered). */
export function readLimited(req: IncomingMessage, limit: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const declared = Number(req.headers['content-length']);
    if (Number.isFinite(declared) && declared > limit) { reject(Object.assign(new Error('too large'), { status: 413 })); return; }
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (c: Buffer) => {
      size += c.length;
      if (size > limit) { cleanup(); reject(Object.assign(new Error('too large'), { status: 413 })); return; }
      chunks.push(c);
    };
    const onEnd = () => { cleanup(); resolve(Buffer.concat(chunks)); };
    const onError = (err: Error) => { cleanup(); reject(Object.assign(err, { status: 400 })); };
    const cleanup = () => { req.off('data', onData); req.off('end', onEnd); req.off('error', onError); };
    req.on('data', onData);
    req.on('end', onEnd);
    req.on('error', onError);
  });
}

function kib(n: number): string {
  return n >= 1024 * 1024 ? `${Number((n / 1024 / 1024).toFixed(2))} MiB` : `${n / 1024} KiB`;
}

/**
 * An import body is large (up to importLimit): it is read only for a caller the running EMS knows with the operator
 * role, so an anonymous client cannot make the server buffer megabytes. Answers the refusal, or null to go on
 * (also when no EMS runs: the operation answers that itself).
 */
function importRefusal(req: GuardRequest): { status: number; error: string } | null {
  const services = runningServices();
  if (!services) return null;
  const cred = credentialOf(req as never);
  if (!cred) return { status: 401, error: 'log in first: an import needs an access token or an API key' };
  try {
    const user = cred.kind === 'key' ? services.apiKeys.authenticate(cred.key, req.socket?.remoteAddress).user : services.auth.authenticate(cred.token).user;
    requireRole(user, 'operator');
    return null;
  } catch (err) {
    if (err instanceof ApiError) return { status: err.status, error: err.message };
    throw err;
  }
}

/** Reads and checks an API request's body (or refuses it), then marks it parsed for Node-RED's parsers. */
function guardApiBody(req: GuardRequest, res: ServerResponse, next: Next, path: string, o: Required<Omit<GuardOptions, 'corsOrigins'>>): void {
  if (req._body || !hasBody(req)) { next(); return; }
  const kind = bodyKind(req, path, o.apiPrefix);
  const refuse = (status: number, error: string) => { sendEnvelope(res, status, error); req.resume(); };
  if (kind !== 'json' && kind !== 'upload' && kind !== 'text-upload' && kind !== 'import-upload' && kind !== 'import-raw') {
    refuse(415, `${kind} is not accepted: send JSON (Content-Type: application/json)`);
    return;
  }
  if (kind === 'import-upload' || kind === 'import-raw') {
    const refusal = importRefusal(req);
    if (refusal) { refuse(refusal.status, refusal.error); return; }
  }
  if (kind === 'upload' || kind === 'import-upload') {
    // multer reads the stream itself: a declared length bounds it (Node never reads past Content-Length).
    const max = kind === 'upload' ? o.uploadLimit : o.importLimit;
    const length = Number(req.headers['content-length']);
    if (req.headers['content-length'] === undefined || !Number.isFinite(length)) { refuse(411, 'a multipart upload needs a Content-Length'); return; }
    if (length > max) { refuse(413, `the upload is larger than ${kib(max)}`); return; }
    next();
    return;
  }
  const limit = kind === 'json' ? o.jsonLimit : kind === 'import-raw' ? o.importLimit : o.uploadLimit;
  readLimited(req, limit).then((buf) => {
    if (kind === 'import-raw') {
      req.body = buf; // bytes: the import reads the BOM, the encoding or the XLSX zip itself
      req._body = true;
      next();
      return;
    }
    const text = buf.toString('utf8');
    if (kind === 'json') {
      if (text.trim() === '') req.body = {};
      else {
        try { req.body = JSON.parse(text); } catch { refuse(400, 'the body is not valid JSON'); return; }
      }
    } else req.body = text;
    req._body = true;
    next();
  }, (err: { status?: number }) => {
    if (err.status === 413) refuse(413, `the body is larger than ${kib(limit)}`);
    else refuse(400, 'the body could not be read');
  });
}

/**
 * One guard for every request: headers on every answer, then the API body check. Idempotent, so it
 * can sit in both httpAdminMiddleware and httpNodeMiddleware (with both roots at '/', every request
 * passes the admin app first).
 */
export function httpGuard(options: GuardOptions = {}): Middleware {
  const o = { ...GUARD_DEFAULTS, ...options };
  const origins = options.corsOrigins ?? [];
  return (req, res, next) => {
    const path = pathOf(req);
    if (!req._emsGuard) {
      req._emsGuard = true;
      filterHeaders(res, origins);
      for (const [k, v] of Object.entries(securityHeaders(path, o.apiPrefix))) res.setHeader(k, v);
      if (inApi(path, o.apiPrefix) && !isDocs(path, o.apiPrefix)) envelopeErrors(req, res);
    }
    if (inApi(path, o.apiPrefix)) guardApiBody(req, res, next, path, o);
    else if (capBody(req, res, o.otherLimit)) next();
  };
}

/**
 * Caps the body of a request whose parser is not ours: a declared length over `limit` is refused at once
 * (413); a body without one (chunked) is cut off where it passes `limit`, as the HTTP parser hands it over,
 * so no parser downstream buffers more. False when the request was answered.
 */
export function capBody(req: GuardRequest, res: ServerResponse, limit: number): boolean {
  if (!hasBody(req) || (req as { _emsCapped?: boolean })._emsCapped) return true;
  (req as { _emsCapped?: boolean })._emsCapped = true;
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > limit) {
    sendEnvelope(res, 413, `the body is larger than ${kib(limit)}`);
    req.resume();
    return false;
  }
  let size = 0;
  let cut = false;
  const push = req.push;
  req.push = function (this: IncomingMessage, chunk: unknown, encoding?: BufferEncoding) {
    if (cut) return false; // past the cap: nothing more reaches a parser
    if (chunk !== null && chunk !== undefined) {
      size += (chunk as { length: number }).length;
      if (size > limit) {
        cut = true;
        res.setHeader('Connection', 'close');
        res.once('finish', () => req.socket.destroy());
        sendEnvelope(res, 413, `the body is larger than ${kib(limit)}`);
        return false;
      }
    }
    return push.call(this, chunk, encoding);
  };
  return true;
}

/**
 * Node-RED's admin API answers 401 both without credentials and for a signed-in user who lacks the
 * permission; the latter becomes 403 (req.user is set once the token was accepted).
 */
export function forbiddenNotUnauthorized(): Middleware {
  return (req, res, next) => {
    const r = res as ServerResponse & { status?: (code: number) => unknown };
    const status = r.status;
    if (typeof status === 'function') r.status = (code: number) => status.call(res, code === 401 && req.user ? 403 : code);
    next();
  };
}
