/**
 * The Node-RED editor's accounts are the EMS users: settings.js's adminAuth (type 'credentials')
 * and its audit log handler use these. Admins get the editor with full rights ('*'), operators
 * read-only ('read'), viewers and unknown logins none. Passwords are checked by AuthService.login,
 * so the EMS's throttling and lockout apply to the editor too. The EMS services are opened lazily
 * on the EMS database file shared with the ems-system node.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { readLimited, sendEnvelope } from './http-guard';
import type { EmsServices, ServiceOptions } from './services';
import { openEmsServices } from './services';
import type { Role } from './users';

export interface EditorUser {
  username: string;
  permissions: '*' | 'read';
}

/** The editor permissions of a role; null = no editor. */
export function editorPermissions(role: Role | string): EditorUser['permissions'] | null {
  return role === 'admin' ? '*' : role === 'operator' ? 'read' : null;
}

type Opener = () => Promise<EmsServices>;

/**
 * Opens the services once (on first use). Two openers of a fresh database (this one and the ems-system
 * node) may both try to create the first admin: the loser's UNIQUE/409 error is met by opening again.
 */
export function lazyServices(options: ServiceOptions, open: (o: ServiceOptions) => Promise<EmsServices> = openEmsServices): Opener & { close(): void } {
  let pending: Promise<EmsServices> | null = null;
  const get = (async () => {
    if (!pending) {
      pending = (async () => {
        for (let attempt = 0; ; attempt++) {
          try {
            return await open(options);
          } catch (err) {
            const e = err as { status?: number; code?: string; message?: string };
            const race = e.status === 409 || /UNIQUE|SQLITE_CONSTRAINT/.test(`${e.code ?? ''} ${e.message ?? ''}`);
            if (!race || attempt >= 3) throw err;
            await new Promise((r) => setTimeout(r, 50 * (attempt + 1)));
          }
        }
      })();
      pending.catch(() => { pending = null; }); // a failed open is retried on the next use
    }
    return pending;
  }) as Opener & { close(): void };
  get.close = () => {
    const p = pending;
    pending = null;
    p?.then((s) => s.close(), () => undefined);
  };
  return get;
}

export interface EditorAuth {
  type: 'credentials';
  users(username: string): Promise<EditorUser | null>;
  authenticate(username: string, password: string): Promise<EditorUser | null>;
}

/**
 * Node-RED's token endpoint hands adminAuth only a username and password. editorLoginSource() appends
 * the client's address to the username (after this separator, which no login may contain), so the EMS
 * throttles editor logins per address like API logins, and Node-RED's own per-username attempt limit
 * counts per (login, address): a stranger's guesses cannot lock the admin out of the editor.
 */
export const LOGIN_SOURCE_SEPARATOR = '\u0001';

/** The login and client address of a username marked by editorLoginSource(). */
export function splitEditorLogin(username: string): { login: string; ip: string } {
  const at = username.lastIndexOf(LOGIN_SOURCE_SEPARATOR);
  return at < 0 ? { login: username, ip: 'unknown' } : { login: username.slice(0, at), ip: username.slice(at + 1) || 'unknown' };
}

const TOKEN_BODY_LIMIT = 8 * 1024;

/** httpAdminMiddleware for POST /auth/token: reads the (capped) login form and marks the username with the client's address. */
export function editorLoginSource(): (req: IncomingMessage & { body?: unknown; _body?: boolean; ip?: string }, res: ServerResponse, next: (err?: unknown) => void) => void {
  return (req, res, next) => {
    if (req.method !== 'POST' || (req.url ?? '').split('?')[0] !== '/auth/token' || req._body) { next(); return; }
    const type = String(req.headers['content-type'] ?? '').split(';')[0].trim().toLowerCase();
    readLimited(req, TOKEN_BODY_LIMIT).then((buf) => {
      let body: Record<string, unknown>;
      try {
        const text = buf.toString('utf8');
        body = type === 'application/json' ? JSON.parse(text || '{}') : Object.fromEntries(new URLSearchParams(text));
        if (body === null || typeof body !== 'object' || Array.isArray(body)) throw new Error('not an object');
      } catch {
        sendEnvelope(res, 400, 'the login form could not be read');
        return;
      }
      if (typeof body.username === 'string') {
        const login = body.username.replace(/[\u0000-\u001f]/g, '');
        body.username = `${login}${LOGIN_SOURCE_SEPARATOR}${req.ip ?? req.socket.remoteAddress ?? 'unknown'}`;
      }
      req.body = body;
      req._body = true;
      next();
    }, (err: { status?: number }) => sendEnvelope(res, err.status === 413 ? 413 : 400, err.status === 413 ? 'the login form is too large' : 'the login form could not be read'));
  };
}

/** Node-RED's adminAuth over the EMS users. */
export function editorAdminAuth(services: Opener, log: (msg: string) => void = () => undefined): EditorAuth {
  const toEditor = (login: string, role: string, active: boolean): EditorUser | null => {
    const permissions = active ? editorPermissions(role) : null;
    return permissions ? { username: login, permissions } : null;
  };
  return {
    type: 'credentials',
    async users(marked) {
      if (typeof marked !== 'string' || marked === '') return null;
      // Node-RED keeps the username of the token request (marked with the address) in its sessions.
      const s = await services();
      const row = s.users.credentialsByLogin(splitEditorLogin(marked).login);
      return row ? toEditor(row.login, row.role, row.active === 1) : null;
    },
    async authenticate(marked, password) {
      const { login: username, ip } = splitEditorLogin(String(marked));
      const s = await services();
      const auth = s.auth;
      try {
        const answer = await auth.login(username, password, { ip });
        auth.logout(answer.access_token); // the editor keeps its own token; no EMS session is left open
        const user = toEditor(answer.session.user.login, answer.session.user.role, true);
        if (!user) log(`editor login of "${answer.session.user.login}" refused: the ${answer.session.user.role} role has no editor access`);
        return user;
      } catch (err) {
        log(`editor login of ${JSON.stringify(String(username))} refused: ${(err as Error).message}`);
        return null;
      }
    },
  };
}

/** A Node-RED log message with audit: true (see @node-red/util log.audit). */
export interface AuditMessage {
  level?: number;
  event?: string;
  user?: { username?: string } | null;
  ip?: string;
  path?: string;
  [key: string]: unknown;
}

/** Audit events that change something (the rest, reads and sign-ins, are not recorded). */
const CHANGES = /^(flows\.set|flow\.(add|update|remove)|nodes\.(install|remove|module\.set|info\.set)|library\.set|context\.delete|settings\.update|projects\.(?!.*\.get$).+)$/;
const REFUSALS = /^(permission\.fail|auth\.login\.fail\..+)$/;
const SECRET = /pass|secret|token|key|credential/i;

/** The audit detail as text, secrets masked and size bounded. */
export function auditDetail(msg: AuditMessage): string | null {
  const rest: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(msg)) {
    if (['level', 'event', 'user', 'ip', 'path', 'timestamp', 'msg'].includes(k) || v === undefined) continue;
    rest[k] = SECRET.test(k) ? '***' : v;
  }
  const text = Object.keys(rest).length ? JSON.stringify(rest) : '';
  return text ? text.slice(0, 1000) : null;
}

export interface AuditEventRow {
  kind: 'audit' | 'security';
  event: string;
  source: string;
  value: string | null;
  level: 'info' | 'warning';
}

/** The EMS event for a Node-RED audit message, or null when it is not one to record. */
export function auditEvent(msg: AuditMessage): AuditEventRow | null {
  const name = typeof msg.event === 'string' ? msg.event : '';
  const change = CHANGES.test(name);
  const refusal = REFUSALS.test(name);
  if (!change && !refusal) return null;
  const marked = splitEditorLogin(msg.user?.username ?? (typeof msg.username === 'string' ? msg.username : 'anonymous'));
  const login = marked.login;
  const ip = typeof msg.ip === 'string' ? msg.ip : marked.ip;
  return {
    kind: change ? 'audit' : 'security',
    event: `editor ${name}${msg.path ? ` ${msg.path}` : ''}`,
    source: `editor:${login}@${ip}`,
    value: auditDetail(msg),
    level: change ? 'info' : 'warning',
  };
}

/** A Node-RED logging handler that writes the editor's changes as EMS events. */
export function editorAuditHandler(services: Opener, warn: (msg: string) => void = (m) => console.warn(m)): (msg: AuditMessage) => void {
  return (msg) => {
    const row = auditEvent(msg);
    if (!row) return;
    services().then((s) => {
      s.events.add(row as Parameters<EmsServices['events']['add']>[0]);
    }).catch((err: Error) => warn(`[ems] could not record the editor's ${row.event}: ${err.message}`));
  };
}
