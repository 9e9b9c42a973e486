/** Login (with the optional nonce handshake), refresh, logout, the current session and password change (section "Login"). */
import { accessTokenOf } from '../access';
import { AUTH_DEFAULTS, BAD_LOGIN_KEY, WRONG_LOGIN, type LoginAnswer } from '../auth';
import { ApiError } from '../envelope';
import { THROTTLE_DEFAULTS } from '../login-throttle';
import { MIN_PASSWORD_LENGTH } from '../passwords';
import { callerOf } from './helpers';
import { ApiReply, type ApiContext, type CookieSpec, type Operation } from './types';

const TAG = 'Login';

function accessCookie(ctx: ApiContext, token: string, expires: number): CookieSpec {
  const cookie: CookieSpec = { value: token, maxAge: Math.max(0, expires - ctx.now()), httpOnly: true, sameSite: 'strict', path: '/' };
  if ((ctx.request as { secure?: boolean }).secure === true) cookie.secure = true;
  return cookie;
}

function sourceOf(ctx: ApiContext): { ip?: string } {
  return { ip: (ctx.request as { ip?: string }).ip };
}

/** JSON only: 415 for another content type (a cross-site form), 400 for a body that is not an object. */
function jsonBody(ctx: ApiContext, optional = false): Record<string, unknown> {
  const raw = ctx.request.headers?.['content-type'];
  const type = (Array.isArray(raw) ? raw[0] : raw)?.split(';')[0].trim().toLowerCase();
  if (type && type !== 'application/json' && !(type.startsWith('application/') && type.endsWith('+json'))) {
    throw new ApiError(415, `only JSON is accepted here: content-type ${JSON.stringify(type)} is not application/json`);
  }
  const b = ctx.request.body;
  if (optional && (b === undefined || b === null || b === '')) return {};
  if (b === null || typeof b !== 'object' || Array.isArray(b)) throw new ApiError(400, 'the request body must be a JSON object');
  return b as Record<string, unknown>;
}

const PASSWORD_RULES = `at least ${MIN_PASSWORD_LENGTH} characters, not the login nor containing it, not a common password`;

const SESSION_SCHEMA = {
  type: 'object',
  properties: {
    refresh_token: { type: 'string', description: 'Exchanged at /api/auth/refresh for new tokens (7 days, single use)' },
    access_token: { type: 'string', description: 'Also set as the access_token cookie; send as Authorization: Bearer' },
    session: { type: 'object', description: 'id, user (id, login, name, role, open_page, open_folders, open_factory), access_expires, refresh_expires (epoch ms)' },
    password_change_required: { type: 'boolean', description: 'true until the user sets a password of their own (POST /api/auth/password); the demo admin starts with true' },
  },
};

function tokenReply(ctx: ApiContext, answer: LoginAnswer): ApiReply {
  return new ApiReply({ data: answer, cookies: { access_token: accessCookie(ctx, answer.access_token, answer.session.access_expires) } });
}

const throttle = THROTTLE_DEFAULTS;

export const AUTH_OPERATIONS: Operation[] = [
  {
    name: 'auth.nonce', method: 'POST', path: '/api/auth/nonce', access: 'public', tag: TAG,
    summary: 'Start the login handshake: get a single-use login key',
    description: `The data dictionary's handshake, step 1: send { hash } (optional, any client string) and get { secret_word, id }. `
      + `Send secret_word as \`key\` with username and password to POST /api/auth/login within ${AUTH_DEFAULTS.nonceTtlMs / 1000} s; `
      + 'it works once (a replayed, forged or expired key is refused, 401). Clients that skip the handshake log in with username and password alone.',
    body: { type: 'object', properties: { hash: { type: 'string', description: 'optional, at most 512 characters' } } },
    response: { type: 'object', properties: { secret_word: { type: 'string', description: 'the login key: single use' }, id: { type: 'string' } } },
    run(ctx) {
      return ctx.services.auth.issueNonce(jsonBody(ctx, true).hash);
    },
  },
  {
    name: 'auth.login', method: 'POST', path: '/api/auth/login', access: 'public', tag: TAG,
    summary: 'Log in with username and password (JSON only)',
    description: `Sets the access_token cookie (valid ${AUTH_DEFAULTS.accessTtlMs / 60_000} min; HttpOnly, SameSite=Strict, Secure over HTTPS) and answers `
      + '{ refresh_token, access_token, session, password_change_required }. The body must be JSON (another content type is 415). '
      + `With \`key\` (a secret_word from POST /api/auth/nonce) the key must be live and unused; it is used up either way, and a replayed, forged or expired key answers 401 "${BAD_LOGIN_KEY}". `
      + `An unknown login, a deactivated account and a wrong password all answer 401 "${WRONG_LOGIN}". Failed logins slow down: after ${throttle.source.after} failures from one address `
      + `(or for one login from one address) each attempt waits ${throttle.source.baseMs / 1000} s, doubling up to ${throttle.source.capMs / 60_000} min; after ${throttle.account.after} failures `
      + `for one account from anywhere, up to ${throttle.account.capMs / 1000} s (an address that logged in to the account before is not held back by that). `
      + 'During a wait the answer is 429 with retry_after (seconds) in the error.',
    body: {
      type: 'object', required: ['username', 'password'],
      properties: {
        username: { type: 'string', description: 'also accepted as login' },
        password: { type: 'string', format: 'password' },
        key: { type: 'string', description: 'optional: the secret_word of POST /api/auth/nonce (single use)' },
      },
    },
    response: SESSION_SCHEMA,
    async run(ctx) {
      const body = jsonBody(ctx);
      if (body.key !== undefined) ctx.services.auth.consumeNonce(body.key);
      const answer = await ctx.services.auth.login(body.username ?? body.login, body.password, sourceOf(ctx));
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
      return tokenReply(ctx, ctx.services.auth.refresh(jsonBody(ctx).refresh_token));
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
    description: 'Answers { session, user, password_change_required }.',
    run(ctx) {
      const { user, sessionId } = callerOf(ctx);
      return { session: sessionId, user, password_change_required: ctx.services.auth.passwordChangeRequired(user.id) };
    },
  },
  {
    name: 'auth.password', method: 'POST', path: '/api/auth/password', access: 'viewer', tag: TAG,
    summary: 'Change your own password',
    description: `Checks old_password (a wrong one is 403 and counts as a failed login), applies the password rules to new_password (${PASSWORD_RULES}; 400 naming the rule), `
      + 'clears password_change_required and ends your other sessions.',
    body: {
      type: 'object', required: ['old_password', 'new_password'],
      properties: { old_password: { type: 'string', format: 'password' }, new_password: { type: 'string', format: 'password', description: PASSWORD_RULES } },
    },
    response: { type: 'string' },
    async run(ctx) {
      const body = jsonBody(ctx);
      for (const k of Object.keys(body)) if (k !== 'old_password' && k !== 'new_password') throw new ApiError(400, `unknown field "${k}" (use old_password, new_password)`);
      const { user, sessionId } = callerOf(ctx);
      await ctx.services.auth.changePassword(user.id, sessionId, body.old_password, body.new_password, sourceOf(ctx));
      return `password of "${user.login}" changed`;
    },
  },
];
