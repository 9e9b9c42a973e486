/** Login, refresh, logout and the current session (section "Login"). */
import { accessTokenOf } from '../access';
import { AUTH_DEFAULTS } from '../auth';
import { ApiError } from '../envelope';
import { bodyObject, callerOf } from './helpers';
import { ApiReply, type ApiContext, type CookieSpec, type Operation } from './types';

const TAG = 'Login';

function accessCookie(token: string, expires: number, now: number): CookieSpec {
  return { value: token, maxAge: Math.max(0, expires - now), httpOnly: true, sameSite: 'strict', path: '/' };
}

const SESSION_SCHEMA = {
  type: 'object',
  properties: {
    refresh_token: { type: 'string', description: 'Exchanged at /api/auth/refresh for new tokens (7 days, single use)' },
    access_token: { type: 'string', description: 'Also set as the access_token cookie; send as Authorization: Bearer' },
    session: { type: 'object', description: 'id, user (id, login, name, role, open_page, open_folders, open_factory), access_expires, refresh_expires (epoch ms)' },
  },
};

function tokenReply(ctx: ApiContext, answer: { access_token: string; refresh_token: string; session: { access_expires: number } }): ApiReply {
  return new ApiReply({
    data: answer,
    cookies: { access_token: accessCookie(answer.access_token, answer.session.access_expires, ctx.now()) },
  });
}

export const AUTH_OPERATIONS: Operation[] = [
  {
    name: 'auth.login', method: 'POST', path: '/api/auth/login', access: 'public', tag: TAG,
    summary: 'Log in with username and password',
    description: `Sets the access_token cookie (valid ${AUTH_DEFAULTS.accessTtlMs / 60_000} min) and answers { refresh_token, access_token, session }. `
      + `After ${AUTH_DEFAULTS.maxFailedLogins} failed attempts in a row the account is locked for ${AUTH_DEFAULTS.lockoutMs / 60_000} min (429).`,
    body: { type: 'object', required: ['username', 'password'], properties: { username: { type: 'string' }, password: { type: 'string', format: 'password' } } },
    response: SESSION_SCHEMA,
    async run(ctx) {
      const body = bodyObject(ctx);
      const login = body.username ?? body.login;
      const answer = await ctx.services.auth.login(login, body.password);
      return tokenReply(ctx, answer);
    },
  },
  {
    name: 'auth.refresh', method: 'POST', path: '/api/auth/refresh', access: 'public', tag: TAG,
    summary: 'Exchange a refresh token for new tokens',
    description: 'The refresh token is single use: the answer carries a new one, and the old session ends.',
    body: { type: 'object', required: ['refresh_token'], properties: { refresh_token: { type: 'string' } } },
    response: SESSION_SCHEMA,
    run(ctx) {
      return tokenReply(ctx, ctx.services.auth.refresh(bodyObject(ctx).refresh_token));
    },
  },
  {
    name: 'auth.logout', method: 'POST', path: '/api/auth/logout', access: 'viewer', tag: TAG,
    summary: 'Log out: ends the session and clears the cookie',
    response: { type: 'string' },
    run(ctx) {
      const token = accessTokenOf(ctx.request);
      if (!token) throw new ApiError(401, 'log in first');
      ctx.services.auth.logout(token);
      return new ApiReply({ data: `logged out ${callerOf(ctx).user.login}`, cookies: { access_token: null } });
    },
  },
  {
    name: 'auth.session', method: 'GET', path: '/api/auth/session', access: 'viewer', tag: TAG,
    summary: 'The logged-in user',
    run(ctx) {
      const { user, sessionId } = callerOf(ctx);
      return { session: sessionId, user };
    },
  },
];
