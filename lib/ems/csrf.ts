/**
 * CSRF protection of cookie-authenticated writes: a POST/PUT/DELETE authenticated by the
 * access_token cookie (not by a Bearer token or an API key, which a foreign page cannot send)
 * must carry an Origin (or, without one, a Referer) whose host is the request's Host or is listed
 * in EMS_CORS_ORIGINS. (KEYS' placeholder of AUTH's lib/ems/csrf.ts; same signature.)
 */
import type { ApiRequest } from './api/types';
import { ApiError } from './envelope';

function header(req: ApiRequest, name: string): string | undefined {
  const v = req.headers[name];
  return Array.isArray(v) ? v[0] : v;
}

/** Throws 403 naming the origin unless a cookie-authenticated write comes from the EMS's own origin or an allowed one. */
export function checkCsrf(request: ApiRequest, viaCookie: boolean, allowedOrigins: readonly string[]): void {
  const method = (request.method ?? 'GET').toUpperCase();
  if (!viaCookie || method === 'GET' || method === 'HEAD' || method === 'OPTIONS') return;
  const origin = header(request, 'origin');
  const referer = origin === undefined ? header(request, 'referer') : undefined;
  const claimed = origin ?? referer;
  if (!claimed || claimed === 'null') {
    throw new ApiError(403, 'a write authenticated by the cookie must carry an Origin or Referer header (cross-site request refused)');
  }
  let url: URL;
  try {
    url = new URL(claimed);
  } catch {
    throw new ApiError(403, `origin ${JSON.stringify(claimed)} is not a URL (cross-site request refused)`);
  }
  const host = header(request, 'host');
  if (host && url.host.toLowerCase() === host.toLowerCase()) return;
  if (allowedOrigins.some((o) => o.replace(/\/+$/, '').toLowerCase() === url.origin.toLowerCase())) return;
  throw new ApiError(403, `origin ${JSON.stringify(url.origin)} may not write with the cookie: not this server (${host ?? 'no Host header'}) and not in EMS_CORS_ORIGINS`);
}
