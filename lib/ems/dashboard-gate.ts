/**
 * The gate in front of the dashboards (Dashboard 2.0 at /dashboard, the classic node-red-dashboard at /ui, their
 * assets and socket.io endpoints): only a live EMS session
 * (the access_token cookie set by POST /api/auth/login, or a Bearer token) passes. A page request without one
 * is sent to a small login page; XHR and socket.io requests get a 401 envelope. Pure logic: the Node-RED plugin
 * (plugins/dashboard-auth.ts) wires it to HTTP and socket.io.
 */
import { accessTokenOf } from './access';
import { ApiError, failure, type Envelope } from './envelope';
import type { EmsServices } from './services';
import type { Role, User } from './users';

export const DASHBOARD_PATH = '/dashboard';
export const LOGIN_PATH = '/dashboard-login';
/** The classic node-red-dashboard's default path (settings.ui.path "ui"). */
export const CLASSIC_PATH = '/ui';

export interface GateRequest {
  method: string;
  /** Path under httpNodeRoot, without the query. */
  path: string;
  headers: Record<string, string | string[] | undefined>;
}

export interface DashboardSession { user: User; sessionId: string }

export type GateAnswer =
  | { kind: 'pass'; session: DashboardSession }
  | { kind: 'redirect'; location: string }
  | { kind: 'refuse'; status: number; body: Envelope<null> };

/** True for /dashboard and anything under it (not /dashboard-login), in any case (Express routes ignore it). */
export function isDashboardPath(path: string): boolean {
  const p = path.toLowerCase();
  return p === DASHBOARD_PATH || p.startsWith(`${DASHBOARD_PATH}/`);
}

/** True for the socket.io endpoint of the dashboard (a path under httpNodeRoot). */
export function isDashboardSocketPath(path: string): boolean {
  const p = path.toLowerCase();
  return p === `${DASHBOARD_PATH}/socket.io` || p.startsWith(`${DASHBOARD_PATH}/socket.io/`);
}

/** The classic dashboard's base path from its settings.ui.path ("ui" by default), e.g. "/ui". */
export function classicBase(settingsPath: unknown): string {
  const p = typeof settingsPath === 'string' ? settingsPath.replace(/^\/+|\/+$/g, '') : '';
  return p === '' ? CLASSIC_PATH : `/${p.toLowerCase()}`;
}

/** True for the classic dashboard (/ui, anything under it, its socket.io included), in any case. */
export function isClassicDashboardPath(path: string, base = CLASSIC_PATH): boolean {
  const p = path.toLowerCase();
  return p === base || p.startsWith(`${base}/`);
}

/** True for the classic dashboard's socket.io endpoint (/ui/socket.io). */
export function isClassicDashboardSocketPath(path: string, base = CLASSIC_PATH): boolean {
  const p = path.toLowerCase();
  return p === `${base}/socket.io` || p.startsWith(`${base}/socket.io/`);
}

/**
 * The user of a live session by its id (not ended, still refreshable, the user active), or a 401 ApiError.
 * A dashboard socket stays live as long as its session: logging out, a password change or deactivation end it.
 */
export function dashboardSessionUser(services: EmsServices, sessionId: unknown): DashboardSession {
  if (typeof sessionId !== 'string' || sessionId === '') throw new ApiError(401, 'log in to the dashboard first: the message carries no EMS session (msg._client.emsSessionId)');
  return services.auth.sessionUser(sessionId);
}

/** The session behind a request's access token (cookie or Bearer), or an ApiError (401; 503 while no EMS runs). */
export function sessionOfHeaders(services: EmsServices | undefined, headers: GateRequest['headers']): DashboardSession {
  if (!services) throw new ApiError(503, 'the EMS is not running (no ems-system node has opened its database); the dashboard is closed');
  const token = accessTokenOf({ headers });
  if (!token) throw new ApiError(401, 'log in first: no access token (access_token cookie)');
  return services.auth.authenticate(token);
}

/** A browser navigating to a page (not XHR, fetch or socket.io): it gets the login page rather than JSON. */
export function wantsPage(req: GateRequest): boolean {
  const h = (name: string) => {
    const v = req.headers[name];
    return (Array.isArray(v) ? v.join(',') : v ?? '').toLowerCase();
  };
  if (req.method !== 'GET' && req.method !== 'HEAD') return false;
  if (h('x-requested-with') || isDashboardSocketPath(req.path) || isClassicDashboardSocketPath(req.path)) return false;
  return h('sec-fetch-mode') === 'navigate' || h('accept').includes('text/html');
}

/** What to do with a request for the dashboard. `root` is httpNodeRoot without the trailing slash. */
export function gate(req: GateRequest, services: EmsServices | undefined, root = ''): GateAnswer {
  try {
    return { kind: 'pass', session: sessionOfHeaders(services, req.headers) };
  } catch (err) {
    const status = err instanceof ApiError ? err.status : 500;
    const message = err instanceof ApiError ? err.message : 'the dashboard could not check the session';
    if (status === 401 && wantsPage(req)) return { kind: 'redirect', location: `${root}${LOGIN_PATH}?next=${encodeURIComponent(safeNext(req.path))}` };
    return { kind: 'refuse', status, body: failure(status, message) };
  }
}

const NEXT = /^\/(dashboard|ui)(\/[A-Za-z0-9_~-][A-Za-z0-9._~-]*)*\/?$/i;

/** Where to go after the login: a path of either dashboard, never another site (anything else is /dashboard). */
export function safeNext(next: unknown): string {
  return typeof next === 'string' && NEXT.test(next) ? next : DASHBOARD_PATH;
}

/** What the dashboard plugin adds to msg._client for messages from a client with a live session. */
export function clientCredentials(s: DashboardSession): { emsSessionId: string; emsLogin: string; emsRole: Role } {
  return { emsSessionId: s.sessionId, emsLogin: s.user.login, emsRole: s.user.role };
}

/** Headers of the login page and its files: a strict CSP (no inline code), no framing, no referrer. */
export const LOGIN_HEADERS: Readonly<Record<string, string>> = {
  'content-security-policy': "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'",
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  'referrer-policy': 'no-referrer',
  'cache-control': 'no-store',
};

/** The login page; `root` is httpNodeRoot without the trailing slash. */
export function loginPage(root = ''): string {
  const base = root.replace(/[^A-Za-z0-9/._~-]/g, '');
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>EMS dashboard: log in</title>
<link rel="stylesheet" href="${base}${LOGIN_PATH}/login.css">
<script src="${base}${LOGIN_PATH}/login.js" defer></script>
</head>
<body>
<main>
<h1>EMS dashboard</h1>
<p>Log in with your EMS account.</p>
<form id="ems-login" autocomplete="on">
<label for="ems-username">User</label>
<input id="ems-username" name="username" autocomplete="username" required>
<label for="ems-password">Password</label>
<input id="ems-password" name="password" type="password" autocomplete="current-password" required>
<button type="submit" id="ems-submit">Log in</button>
<p id="ems-error" role="alert"></p>
</form>
</main>
</body>
</html>
`;
}

/** The login page's script: posts JSON to the API's login, then opens the dashboard page asked for. */
export const LOGIN_SCRIPT = `'use strict';
(function () {
  var form = document.getElementById('ems-login');
  var out = document.getElementById('ems-error');
  var button = document.getElementById('ems-submit');
  var root = location.pathname.replace(/\\/dashboard-login\\/?$/, '');
  var next = new URLSearchParams(location.search).get('next') || '/dashboard';
  if (!${NEXT.toString()}.test(next)) next = '/dashboard';
  form.addEventListener('submit', function (e) {
    e.preventDefault();
    out.textContent = '';
    button.disabled = true;
    var body = JSON.stringify({ username: form.elements.username.value, password: form.elements.password.value });
    fetch(root + '/api/auth/login', { method: 'POST', credentials: 'same-origin', headers: { 'content-type': 'application/json', accept: 'application/json' }, body: body })
      .then(function (r) {
        return r.json().catch(function () { return { error: 'HTTP ' + r.status }; }).then(function (b) { return { ok: r.ok, body: b }; });
      })
      .then(function (a) {
        if (a.ok) { location.assign(root + next); return; }
        out.textContent = (a.body && a.body.error) || 'the login was refused';
        button.disabled = false;
      }, function (err) {
        out.textContent = 'the EMS did not answer: ' + err.message;
        button.disabled = false;
      });
  });
})();
`;

export const LOGIN_STYLE = `body{font-family:system-ui,sans-serif;background:#f4f7f5;color:#1f2d27;margin:0}
main{max-width:22em;margin:12vh auto;padding:1.5em 2em;background:#fff;border:1px solid #cfd8d3;border-radius:6px}
h1{font-size:1.4em;color:#1f4e3d;margin-top:0}
label{display:block;margin-top:.8em}
input{width:100%;box-sizing:border-box;padding:.5em;margin-top:.2em}
button{margin-top:1.2em;padding:.5em 1.4em;background:#2e8b57;color:#fff;border:0;border-radius:4px;cursor:pointer}
button:disabled{opacity:.6}
#ems-error{color:#b00020;min-height:1.2em}
`;
