/**
 * Runs one API operation for one request: resolves the caller (the request's API key or access
 * token, or the identity an ems-api node is configured with), checks the role and, for
 * cookie-authenticated writes, the origin (CSRF); runs the operation, shapes the HTTP answer with
 * the envelope { data, error, status } and records writes (and API key reads) in the audit trail.
 */
import { credentialOf, requireRole } from '../access';
import { checkCsrf } from '../csrf';
import { ApiError, failure, ok, type Envelope } from '../envelope';
import type { User } from '../users';
import { ApiReply, type ApiCaller, type ApiContext, type CookieSpec, type Identity, type Operation } from './types';

export interface HttpAnswer {
  status: number;
  /** The envelope, or a raw body (CSV, HTML, the OpenAPI document). */
  body: Envelope | string | Buffer | Record<string, unknown>;
  headers: Record<string, string>;
  cookies?: Record<string, CookieSpec | null>;
  /** An unexpected error (a 500), for the node to log. */
  unexpected?: Error;
}

const JSON_TYPE = 'application/json; charset=utf-8';

export const NO_CREDENTIALS = 'log in first: no access token (access_token cookie or Authorization: Bearer) and no API key (X-API-Key)';

/** The caller behind the request's API key or access token, with their folder scope; throws 401. */
export function resolveCaller(ctx: Pick<ApiContext, 'services' | 'request'>): ApiCaller {
  const cred = credentialOf(ctx.request);
  if (!cred) throw new ApiError(401, NO_CREDENTIALS);
  if (cred.kind === 'key') {
    const { user, apiKey } = ctx.services.apiKeys.authenticate(cred.key, ctx.request.ip);
    return { ...scopedCaller(ctx, user, null), keyId: apiKey.id };
  }
  const { user, sessionId } = ctx.services.auth.authenticate(cred.token);
  return scopedCaller(ctx, user, sessionId, cred.viaCookie);
}

/** The caller an ems-api node acts for; throws 401 when that identity is unknown, inactive, expired or ended. */
/** The highest role the dashboard acts with: its pages read and poll, nothing of an admin's. */
export const DASHBOARD_MAX_ROLE = 'operator';

export function callerFor(identity: Identity, ctx: Pick<ApiContext, 'services' | 'request'>): ApiCaller {
  switch (identity.mode) {
    case 'request':
      return resolveCaller(ctx);
    case 'user': {
      const row = identity.login ? ctx.services.users.credentialsByLogin(identity.login) : undefined;
      if (!row || row.active !== 1) throw new ApiError(401, `the node's user ${JSON.stringify(identity.login)} is unknown or deactivated`);
      return scopedCaller(ctx, ctx.services.users.get(row.id), null);
    }
    case 'key': {
      const { user, apiKey } = ctx.services.apiKeys.authenticate(identity.key, ctx.request.ip);
      return { ...scopedCaller(ctx, user, null), keyId: apiKey.id };
    }
    case 'dashboard': {
      // The dashboard reads and acts (poll now) for its signed-in user, but never with admin rights.
      const { user, sessionId } = ctx.services.auth.sessionUser(identity.sessionId ?? '');
      return scopedCaller(ctx, user.role === 'admin' ? { ...user, role: DASHBOARD_MAX_ROLE } : user, sessionId);
    }
  }
}

export function scopedCaller(ctx: Pick<ApiContext, 'services'>, user: User, sessionId: string | null, viaCookie = false): ApiCaller {
  const scope = ctx.services.registry.scopeOf(user.open_folders);
  const meters = scope === undefined ? undefined : new Set(ctx.services.registry.meterIds(scope));
  return { user, sessionId, viaCookie, scope, meters };
}

/** The request's path, or the operation's with its parameters filled in. */
function pathOf(op: Operation, ctx: Pick<ApiContext, 'request'>): string {
  if (ctx.request.path) return ctx.request.path;
  return op.path.replace(/:([A-Za-z_]+)/g, (_m, name: string) => encodeURIComponent(ctx.request.params[name] ?? `:${name}`));
}

/** Runs `op` for the caller `identity` names (by default the request's own credentials). */
export async function runOperation(op: Operation, ctx: Omit<ApiContext, 'caller'>, identity: Identity = { mode: 'request' }): Promise<HttpAnswer> {
  const full: ApiContext = { ...ctx };
  let csrfRefused = false;
  let answer: HttpAnswer;
  try {
    if (op.access !== 'public') {
      full.caller = callerFor(identity, ctx);
      requireRole(full.caller.user, op.access);
      if (op.method !== 'GET') {
        try {
          // The operation's method decides (an http in wired with another method changes nothing about what it does).
          checkCsrf({ ...ctx.request, method: op.method }, full.caller.viaCookie, ctx.allowedOrigins ?? []);
        } catch (err) {
          csrfRefused = true;
          throw err;
        }
      }
    }
    answer = shape(await op.run(full));
  } catch (err) {
    answer = errorAnswer(err);
  }
  try {
    audit(op, full, answer, csrfRefused);
  } catch (err) {
    // An audit trail that cannot be written must not hide the answer; the node reports it.
    answer.unexpected ??= err instanceof Error ? err : new Error(String(err));
  }
  return answer;
}

function shape(result: unknown): HttpAnswer {
  if (!(result instanceof ApiReply)) {
    return { status: 200, body: ok(result ?? null), headers: { 'content-type': JSON_TYPE } };
  }
  const { data, status = 200, cookies, raw, nextCursor } = result.init;
  if (raw) {
    const headers: Record<string, string> = { 'content-type': raw.contentType };
    if (raw.filename) headers['content-disposition'] = `attachment; filename="${raw.filename.replace(/"/g, '')}"`;
    return { status, body: raw.body, headers, cookies };
  }
  const body: Envelope = ok(data ?? null, status);
  if (nextCursor !== undefined) body.next_cursor = nextCursor;
  return { status, body, headers: { 'content-type': JSON_TYPE }, cookies };
}

function errorAnswer(err: unknown): HttpAnswer {
  if (err instanceof ApiError) return { status: err.status, body: { ...failure(err.status, err.message), data: err.data ?? null }, headers: { 'content-type': JSON_TYPE } };
  const e = err instanceof Error ? err : new Error(String(err));
  return { status: 500, body: failure(500, `internal error: ${e.message}`), headers: { 'content-type': JSON_TYPE }, unexpected: e };
}

/** Writes by a known caller, reads by API keys, and refused unauthenticated writes go to the audit trail. */
function audit(op: Operation, ctx: ApiContext, answer: HttpAnswer, csrfRefused: boolean): void {
  if (op.access === 'public') return;
  const trail = ctx.services.audit;
  const { request, caller } = ctx;
  const method = request.method?.toUpperCase() ?? op.method;
  const path = pathOf(op, ctx);
  if (!caller) {
    const keyUsed = credentialOf(request)?.kind === 'key';
    if (answer.status === 401 && (op.method !== 'GET' || keyUsed)) {
      trail.unauthenticated(request.ip, method, path, (answer.body as Envelope).error ?? 'no credentials');
    }
    return;
  }
  if (op.method === 'GET') {
    if (caller.keyId) trail.keyRead(caller.user.login.slice('key:'.length), request.ip, method, path, answer.status);
    return;
  }
  trail.write({
    login: caller.user.login, ip: request.ip, operation: op.name, method, path, status: answer.status, body: request.body,
    meterId: op.path.startsWith('/api/meters/:id') ? request.params.id ?? null : op.path === '/api/meters' ? queryId(request.query) : null, kind: csrfRefused ? 'security' : 'audit',
  });
}

/** The meter a dictionary-form write names in its query (?id= or ?_id=), for the audit trail. */
function queryId(query: Record<string, unknown>): string | null {
  const id = query.id ?? query._id;
  return typeof id === 'string' && id !== '' ? id : null;
}

/** Finds the operation a method and path (without query) name, with the path parameters. */
export function matchOperation(ops: readonly Operation[], method: string, path: string): { op: Operation; params: Record<string, string> } | null {
  const parts = path.replace(/\/+$/, '').split('/');
  for (const op of ops) {
    if (op.method !== method.toUpperCase()) continue;
    const pattern = op.path.split('/');
    if (pattern.length !== parts.length) continue;
    const params: Record<string, string> = {};
    if (pattern.every((p, i) => (p.startsWith(':') ? ((params[p.slice(1)] = decodeURIComponent(parts[i])), parts[i] !== '') : p === parts[i]))) {
      return { op, params };
    }
  }
  return null;
}
