/**
 * Runs one API operation for one request: resolves the caller from the access token (or trusts a
 * flow-internal message), checks the role, runs the operation and shapes the HTTP answer with the
 * envelope { data, error, status }.
 */
import { accessTokenOf, requireRole } from '../access';
import { ApiError, failure, ok, type Envelope } from '../envelope';
import type { User } from '../users';
import { ApiReply, type ApiCaller, type ApiContext, type CookieSpec, type Operation } from './types';

export interface HttpAnswer {
  status: number;
  /** The envelope, or a raw body (CSV, HTML, the OpenAPI document). */
  body: Envelope | string | Buffer | Record<string, unknown>;
  headers: Record<string, string>;
  cookies?: Record<string, CookieSpec | null>;
  /** An unexpected error (a 500), for the node to log. */
  unexpected?: Error;
}

/** The identity of flow-internal calls (the dashboard): an administrator who sees everything. */
export const SYSTEM_CALLER_USER: User = {
  id: 'system', login: 'system', name: 'Node-RED flow', role: 'admin', active: true, last_active: null,
  open_page: null, open_folders: [], open_factory: null, created_at: 0, updated_at: 0,
};

const JSON_TYPE = 'application/json; charset=utf-8';

/** The caller behind the request's access token, with their folder scope; throws 401. */
export function resolveCaller(ctx: Pick<ApiContext, 'services' | 'request'>): ApiCaller {
  const { user, sessionId } = ctx.services.auth.authenticate(accessTokenOf(ctx.request));
  return scopedCaller(ctx, user, sessionId);
}

export function scopedCaller(ctx: Pick<ApiContext, 'services'>, user: User, sessionId: string | null): ApiCaller {
  const scope = ctx.services.registry.scopeOf(user.open_folders);
  const meters = scope === undefined ? undefined : new Set(ctx.services.registry.meters(scope).map((m) => m._id));
  return { user, sessionId, scope, meters };
}

/**
 * Runs `op`. `trusted` marks a message that did not come through http in (no msg.req): it runs as
 * the system administrator, so dashboard flows need no login.
 */
export async function runOperation(op: Operation, ctx: Omit<ApiContext, 'caller'>, trusted = false): Promise<HttpAnswer> {
  try {
    const full: ApiContext = { ...ctx };
    if (op.access !== 'public') {
      full.caller = trusted ? scopedCaller(ctx, SYSTEM_CALLER_USER, null) : resolveCaller(ctx);
      requireRole(full.caller.user, op.access);
    }
    const result = await op.run(full);
    if (!(result instanceof ApiReply)) {
      return { status: 200, body: ok(result ?? null), headers: { 'content-type': JSON_TYPE } };
    }
    const { data, status = 200, cookies, raw } = result.init;
    if (raw) {
      const headers: Record<string, string> = { 'content-type': raw.contentType };
      if (raw.filename) headers['content-disposition'] = `attachment; filename="${raw.filename.replace(/"/g, '')}"`;
      return { status, body: raw.body, headers, cookies };
    }
    return { status, body: ok(data ?? null, status), headers: { 'content-type': JSON_TYPE }, cookies };
  } catch (err) {
    if (err instanceof ApiError) return { status: err.status, body: failure(err.status, err.message), headers: { 'content-type': JSON_TYPE } };
    const e = err instanceof Error ? err : new Error(String(err));
    return { status: 500, body: failure(500, `internal error: ${e.message}`), headers: { 'content-type': JSON_TYPE }, unexpected: e };
  }
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
