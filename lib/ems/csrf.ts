/**
 * Cross-site request forgery check for cookie-authenticated writes. Browsers send the access_token
 * cookie (SameSite=Strict) only to same-site pages, and this check is the second wall: a POST, PUT,
 * PATCH or DELETE authenticated by the cookie must carry an Origin (or, without one, a Referer)
 * whose host is the request's Host or whose origin is listed in EMS_CORS_ORIGINS. Requests
 * authenticated by a Bearer token or an API key are not checked (a foreign page cannot send those).
 */
import { ApiError } from './envelope';
import type { ApiRequest } from './api/types';

const SAFE_METHODS = ['GET', 'HEAD', 'OPTIONS'];

function header(request: ApiRequest, name: string): string | undefined {
  const v = request.headers?.[name];
  const s = Array.isArray(v) ? v[0] : v;
  return typeof s === 'string' && s.trim() !== '' ? s.trim() : undefined;
}

/** "https://host:port" of a URL, lower case, or null when it is not one. */
function originOf(url: string): string | null {
  try {
    const u = new URL(url);
    return u.protocol === 'http:' || u.protocol === 'https:' ? u.origin.toLowerCase() : null;
  } catch {
    return null;
  }
}

/** The Host header without a default port, lower case. */
function hostKey(host: string, protocol: string): string {
  const h = host.toLowerCase();
  if ((protocol === 'http:' && h.endsWith(':80')) || (protocol === 'https:' && h.endsWith(':443'))) return h.replace(/:\d+$/, '');
  return h;
}

/**
 * Throws 403 naming the origin unless a cookie-authenticated state-changing request comes from
 * this host or an allowed origin. A request without a method counts as state-changing.
 */
export function checkCsrf(request: ApiRequest, viaCookie: boolean, allowedOrigins: readonly string[]): void {
  if (!viaCookie) return;
  const method = ((request as { method?: string }).method ?? '').toUpperCase();
  if (SAFE_METHODS.includes(method)) return;
  const origin = header(request, 'origin');
  const referer = origin === undefined ? header(request, 'referer') : undefined;
  const claimed = origin ?? referer;
  if (claimed === undefined) {
    throw new ApiError(403, 'cross-site request refused: a write authenticated by the access_token cookie needs an Origin or Referer header (or use Authorization: Bearer)');
  }
  const from = originOf(claimed);
  const what = origin !== undefined ? 'origin' : 'referer';
  if (from !== null) {
    const host = header(request, 'host');
    const protocol = from.startsWith('https:') ? 'https:' : 'http:';
    if (host !== undefined && new URL(from).host === hostKey(host, protocol)) return;
    const allowed = allowedOrigins.map((o) => originOf(o.trim())).filter((o): o is string => o !== null);
    if (allowed.includes(from)) return;
  }
  const shown = JSON.stringify(from ?? claimed.slice(0, 200));
  throw new ApiError(403, `cross-site request refused: ${what} ${shown} is neither this host (${JSON.stringify(header(request, 'host') ?? '')}) nor listed in EMS_CORS_ORIGINS`);
}
