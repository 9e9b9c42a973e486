/**
 * Who may call what: the access token of a request (the access_token cookie or
 * `Authorization: Bearer`), the role an operation needs, and the folder scope of the caller.
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

/** The access token of a request: `Authorization: Bearer <token>` first, else the access_token cookie. */
export function accessTokenOf(req: RequestLike | undefined): string | undefined {
  const auth = req?.headers?.authorization;
  const header = Array.isArray(auth) ? auth[0] : auth;
  if (header) {
    const m = /^Bearer\s+(\S+)\s*$/i.exec(header);
    if (m) return m[1];
  }
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
    throw new ApiError(403, `this needs the ${needed} role; "${user.login}" is ${user.role === 'admin' ? 'an' : 'a'} ${user.role}`);
  }
}

export function canAccess(user: User | undefined, access: Access): boolean {
  if (access === 'public') return true;
  return user !== undefined && RANK[user.role] >= RANK[access];
}
