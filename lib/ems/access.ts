/**
 * Who may call what: the credential of a request (an API key in `X-API-Key` or
 * `Authorization: Bearer emsk_...`, else a session's access token from `Authorization: Bearer` or
 * the access_token cookie), the role an operation needs, and the folder scope of the caller.
 */
import { ApiError } from './envelope';
import type { Role, User } from './users';

/** What an operation requires: no login, or at least this role (admin > operator > viewer). */
export type Access = 'public' | Role;

const RANK: Record<Role, number> = { viewer: 1, operator: 2, admin: 3 };

export interface RequestLike {
  headers?: Record<string, string | string[] | undefined>;
  cookies?: Record<string, string | undefined>;
}

function headerOf(req: RequestLike | undefined, name: string): string | undefined {
  const v = req?.headers?.[name];
  return Array.isArray(v) ? v[0] : v;
}

function bearerOf(req: RequestLike | undefined): string | undefined {
  const header = headerOf(req, 'authorization');
  const m = header ? /^Bearer\s+(\S+)\s*$/i.exec(header) : null;
  return m ? m[1] : undefined;
}

/** What a request authenticates with. */
export type Credential =
  | { kind: 'key'; key: string }
  | { kind: 'token'; token: string; viaCookie: boolean };

/**
 * The credential of a request: `X-API-Key`, else `Authorization: Bearer` (a value starting with
 * `emsk_` is an API key, anything else a session token), else the access_token cookie.
 */
export function credentialOf(req: RequestLike | undefined): Credential | undefined {
  const key = headerOf(req, 'x-api-key')?.trim();
  if (key) return { kind: 'key', key };
  const bearer = bearerOf(req);
  if (bearer) return bearer.startsWith('emsk_') ? { kind: 'key', key: bearer } : { kind: 'token', token: bearer, viaCookie: false };
  const cookie = cookieTokenOf(req);
  return cookie ? { kind: 'token', token: cookie, viaCookie: true } : undefined;
}

/** The access token of a request: `Authorization: Bearer <token>` first, else the access_token cookie. */
export function accessTokenOf(req: RequestLike | undefined): string | undefined {
  return bearerOf(req) ?? cookieTokenOf(req);
}

function cookieTokenOf(req: RequestLike | undefined): string | undefined {
  if (req?.cookies?.access_token) return req.cookies.access_token;
  const cookie = req?.headers?.cookie;
  for (const part of (Array.isArray(cookie) ? cookie.join(';') : cookie ?? '').split(';')) {
    const [name, ...rest] = part.trim().split('=');
    if (name === 'access_token' && rest.length) return decodeURIComponent(rest.join('='));
  }
  return undefined;
}

/** Throws 403 unless the user's role reaches `needed`. */
export function requireRole(user: User, needed: Role): void {
  if (RANK[user.role] < RANK[needed]) {
    throw new ApiError(403, `this needs the ${needed} role; "${user.login}" is ${/^[aeiou]/.test(user.role) ? 'an' : 'a'} ${user.role}`);
  }
}

export function canAccess(user: User | undefined, access: Access): boolean {
  if (access === 'public') return true;
  return user !== undefined && RANK[user.role] >= RANK[access];
}
