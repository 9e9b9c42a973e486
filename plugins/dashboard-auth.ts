/**
 * Node-RED plugin: puts Dashboard 2.0 behind the EMS login, in any Node-RED that loads this package.
 * - HTTP: /dashboard and everything under it passes only with a live EMS session (the access_token cookie);
 *   a page request without one is redirected to /dashboard-login (served here), XHR gets a 401 envelope.
 *   Registered at plugin load, i.e. before ui-base registers its routes.
 * - socket.io (/dashboard/socket.io, served by engine.io beside Express): a request or upgrade without a live
 *   session is answered 401 before engine.io sees it.
 * - Dashboard hooks: messages from a client carry msg._client.emsSessionId/emsLogin/emsRole (the ems-api node's
 *   identity "dashboard" acts as that user); a socket whose session ended receives nothing and is disconnected;
 *   client-targeted messages are never kept in the dashboard's shared stores.
 * - The classic node-red-dashboard (/ui, or settings.ui.path, and its socket.io at /ui/socket.io) is gated the same
 *   way: pages without a session go to the login page (which returns to /ui), XHR and socket.io get 401, and an
 *   open classic websocket is closed within RECHECK_MS once its session ends (logout, password change).
 * The EMS services come from the running ems-system node (lib/ems/running.ts).
 */
import { STATUS_CODES, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import type { NextFunction, Request, Response } from 'express';
import {
  classicBase, clientCredentials, dashboardSessionUser, gate, isClassicDashboardPath, isClassicDashboardSocketPath, isDashboardPath, isDashboardSocketPath,
  LOGIN_HEADERS, LOGIN_PATH, LOGIN_SCRIPT, LOGIN_STYLE,
  loginPage, sessionOfHeaders, type DashboardSession, type GateAnswer,
} from '../lib/ems/dashboard-gate';
import { emsGuardsDashboard, runningServices } from '../lib/ems/running';

interface PluginRED {
  settings: { httpNodeRoot?: string | false; ui?: { path?: unknown } };
  httpNode?: { use(fn: (req: Request, res: Response, next: NextFunction) => void): void; get(path: string, fn: (req: Request, res: Response) => void): void };
  server?: Server;
  plugins: { registerPlugin(id: string, definition: Record<string, unknown>): void };
  log: { info(m: string): void; warn(m: string): void };
}

/** What the plugin sees of a Dashboard 2.0 socket.io connection. */
interface Conn {
  id: string;
  handshake?: { headers?: Record<string, string | string[] | undefined> };
  disconnect?(close?: boolean): void;
  emit?(event: string, ...args: unknown[]): unknown;
}
interface ClientMsg { _client?: { socketId?: string; emsSessionId?: string } & Record<string, unknown> }

/** A socket's session is re-checked at most this often (a database read). */
const RECHECK_MS = 5_000;
const PATCHED = Symbol.for('node-red-contrib-ems.dashboard-socket-gate');
const JSON_TYPE = 'application/json; charset=utf-8';
/** Widgets per socket whose last client-targeted message is kept for a re-mounted widget. */
const MAX_REMEMBERED = 500;

export default function dashboardAuth(RED: PluginRED): void {
  const root = typeof RED.settings.httpNodeRoot === 'string' ? RED.settings.httpNodeRoot.replace(/\/+$/, '') : '';
  /** The classic node-red-dashboard's path under httpNodeRoot ("/ui"). */
  const classic = classicBase(RED.settings.ui?.path);
  const guarded = (path: string) => isDashboardPath(path) || isClassicDashboardPath(path, classic);
  const guardedSocket = (path: string) => isDashboardSocketPath(path) || isClassicDashboardSocketPath(path, classic);

  // --- HTTP: the login page and the gate -----------------------------------------------------------
  if (RED.httpNode) {
    const send = (res: Response, type: string, body: string) => { res.set({ ...LOGIN_HEADERS, 'content-type': type }); res.send(body); };
    RED.httpNode.get(LOGIN_PATH, (req, res) => send(res, 'text/html; charset=utf-8', loginPage(req.baseUrl)));
    RED.httpNode.get(`${LOGIN_PATH}/login.js`, (_req, res) => send(res, 'text/javascript; charset=utf-8', LOGIN_SCRIPT));
    RED.httpNode.get(`${LOGIN_PATH}/login.css`, (_req, res) => send(res, 'text/css; charset=utf-8', LOGIN_STYLE));
    RED.httpNode.use((req, res, next) => {
      if (!guarded(req.path) || !emsGuardsDashboard()) return next();
      const answer = gate({ method: req.method, path: req.path, headers: req.headers }, runningServices(), req.baseUrl);
      if (answer.kind === 'pass') return next();
      res.set({ 'cache-control': 'no-store', 'x-content-type-options': 'nosniff' });
      if (answer.kind === 'redirect') res.redirect(302, answer.location);
      else res.status(answer.status).type(JSON_TYPE).send(JSON.stringify(answer.body));
    });
  }

  // --- socket.io: engine.io answers its path before Express, so gate the server's events ------------
  const server = RED.server as (Server & { [PATCHED]?: boolean }) | undefined;
  if (server && typeof server.emit === 'function' && !server[PATCHED]) {
    server[PATCHED] = true;
    const emit = server.emit;
    server.emit = function (this: Server, event: string | symbol, ...args: unknown[]): boolean {
      if (event === 'request' || event === 'upgrade') {
        const req = args[0] as IncomingMessage;
        const path = pathUnder(req.url ?? '', root);
        if (path !== null && guardedSocket(path) && emsGuardsDashboard()) {
          const answer = gate({ method: req.method ?? 'GET', path, headers: req.headers }, runningServices());
          if (answer.kind !== 'pass') {
            if (event === 'request') refuseRequest(args[1] as ServerResponse, answer);
            else refuseUpgrade(args[1] as Duplex, answer);
            return true;
          }
          // The classic dashboard has no hooks: its open websocket is watched here and closed when the session ends.
          if (event === 'upgrade' && isClassicDashboardSocketPath(path, classic)) watchSocket(args[1] as Duplex, answer.session.sessionId);
        }
      }
      return emit.apply(this, [event, ...args] as Parameters<typeof emit>);
    } as typeof server.emit;
  } else if (!server) {
    RED.log.warn('[ems-dashboard-auth] no HTTP server: the dashboard socket.io gate is not active');
  }

  // --- classic dashboard websockets: closed within RECHECK_MS after their session ends ------------------
  const watched = new Map<Duplex, string>();
  let watchTimer: NodeJS.Timeout | undefined;
  function watchSocket(socket: Duplex, sessionId: string): void {
    watched.set(socket, sessionId);
    socket.once('close', () => {
      watched.delete(socket);
      if (watched.size === 0 && watchTimer) { clearInterval(watchTimer); watchTimer = undefined; }
    });
    watchTimer ??= setInterval(() => {
      const services = runningServices();
      for (const [s, id] of watched) {
        try {
          if (!services) throw new Error('no EMS running');
          dashboardSessionUser(services, id);
        } catch {
          watched.delete(s);
          s.destroy();
        }
      }
    }, RECHECK_MS).unref();
  }

  // --- Dashboard 2.0 hooks ---------------------------------------------------------------------------
  const sessions = new WeakMap<object, { session: DashboardSession | null; checked: number }>();
  /**
   * The last client-targeted message of each widget sent to a socket. Such messages are not in the dashboard's
   * store, so a widget that mounts (again) after its data arrived would load nothing: onLoad sends it again.
   */
  const lastSent = new WeakMap<object, Map<string, unknown>>();
  function remember(conn: Conn): void {
    if (lastSent.has(conn) || typeof conn.emit !== 'function') return;
    const sent = new Map<string, unknown>();
    lastSent.set(conn, sent);
    const emit = conn.emit;
    conn.emit = function (this: Conn, event: string, ...args: unknown[]) {
      const m = args[0] as ClientMsg | undefined;
      if (typeof event === 'string' && event.startsWith('msg-input:') && m?._client?.socketId === conn.id) {
        sent.delete(event);
        sent.set(event, m);
        if (sent.size > MAX_REMEMBERED) sent.delete(sent.keys().next().value as string);
      }
      return emit.apply(this, [event, ...args]);
    };
  }
  /** The live session of a socket (checked at its first message, re-checked every RECHECK_MS), or null. */
  function sessionOf(conn: Conn): DashboardSession | null {
    const services = runningServices();
    if (!services) return null;
    const now = Date.now();
    let known = sessions.get(conn);
    if (!known) {
      remember(conn);
      let session: DashboardSession | null = null;
      try { session = sessionOfHeaders(services, conn.handshake?.headers ?? {}); } catch { /* no live session */ }
      known = { session, checked: now };
      sessions.set(conn, known);
    } else if (known.session && now - known.checked >= RECHECK_MS) {
      try {
        dashboardSessionUser(services, known.session.sessionId);
        known.checked = now;
      } catch {
        known.session = null;
      }
    }
    if (!known.session) conn.disconnect?.(true);
    return known.session;
  }
  /** onAction/onChange/onSend(conn, id, msg): only a client with a live session may act. */
  const fromLiveClient = (conn: Conn, _id: string, msg: unknown) => (!emsGuardsDashboard() || sessionOf(conn) ? msg : null);

  RED.plugins.registerPlugin('ems-dashboard-auth', {
    type: 'node-red-dashboard-2',
    hooks: {
      /** Adds the EMS session of the client to every message coming from it. */
      onAddConnectionCredentials(conn: Conn, msg: ClientMsg) {
        if (!msg || typeof msg !== 'object') return msg;
        // Whatever a client sent as its own credentials is dropped; only the socket's live session counts.
        const { emsSessionId: _s, emsLogin: _l, emsRole: _r, ...rest } = msg._client ?? {};
        const s = emsGuardsDashboard() ? sessionOf(conn) : null;
        msg._client = s ? { ...rest, ...clientCredentials(s) } : rest;
        return msg;
      },
      /** Only sockets with a live session receive anything, and a message for a session only its own socket. */
      onIsValidConnection(conn: Conn, msg: ClientMsg) {
        if (!emsGuardsDashboard()) return true;
        const s = sessionOf(conn);
        if (!s) return false;
        const target = msg?._client?.emsSessionId;
        return target === undefined || target === s.sessionId;
      },
      /** Client-targeted messages are never stored for replay to others. */
      onCanSaveInStore(msg: ClientMsg) {
        return !(msg?._client?.socketId || msg?._client?.emsSessionId);
      },
      /**
       * A widget's stored value goes only to a live client, never one stored for another client; a widget without
       * one gets the last message sent to it for this client, right after the (empty) load answer.
       */
      onLoad(conn: Conn, id: string, msg: ClientMsg | undefined) {
        if (!emsGuardsDashboard()) return msg;
        if (!sessionOf(conn)) return undefined;
        const again = lastSent.get(conn)?.get(`msg-input:${id}`);
        if (!msg && again) setImmediate(() => conn.emit?.(`msg-input:${id}`, again));
        return msg?._client?.socketId && msg._client.socketId !== conn.id ? undefined : msg;
      },
      onAction: fromLiveClient,
      onChange: fromLiveClient,
      onSend: fromLiveClient,
    },
  });
}

/** The path of a URL under httpNodeRoot, without the query; null when outside the root. */
function pathUnder(url: string, root: string): string | null {
  const path = url.split('?')[0];
  if (root === '') return path;
  return path === root || path.startsWith(`${root}/`) ? path.slice(root.length) || '/' : null;
}

function refuseRequest(res: ServerResponse, answer: Exclude<GateAnswer, { kind: 'pass' }>): void {
  const status = answer.kind === 'refuse' ? answer.status : 401;
  const body = JSON.stringify(answer.kind === 'refuse' ? answer.body : { data: null, error: 'log in first', status });
  res.writeHead(status, { 'content-type': JSON_TYPE, 'content-length': Buffer.byteLength(body), 'cache-control': 'no-store', 'x-content-type-options': 'nosniff' });
  res.end(body);
}

function refuseUpgrade(socket: Duplex, answer: Exclude<GateAnswer, { kind: 'pass' }>): void {
  const status = answer.kind === 'refuse' ? answer.status : 401;
  const body = JSON.stringify(answer.kind === 'refuse' ? answer.body : { data: null, error: 'log in first', status });
  socket.end(`HTTP/1.1 ${status} ${STATUS_CODES[status] ?? ''}\r\nContent-Type: ${JSON_TYPE}\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`);
}
