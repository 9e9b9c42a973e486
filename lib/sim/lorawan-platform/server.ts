/**
 * The platform's single endpoint: `requestParams` (a JSON envelope {action, method, param|params,
 * apiToken?}) by GET query or POST form (a raw JSON body too), on /internal/commonInternal.jsp and
 * /api/commonInternal.jsp. HTTP status is always 200; the outcome is errcode "0" / "-1" / "-31".
 * Authentication: a JSESSIONID cookie or apiToken from toLogin, or username/password inside param(s).
 */
import { randomBytes } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { METHODS } from './methods';
import { Params, PlatformError } from './params';
import { Platform, type Admin, type PlatformOptions } from './platform';

export interface Session { admin: Admin; expires: number; apiToken: string; cookie: string }
export interface Handled { body: Record<string, unknown>; setCookie?: string }
export interface LoggedRequest { action: string; method: string; argKey: 'param' | 'params' | 'none'; params: Record<string, unknown>; apiToken?: string; path: string }

const obj = (v: unknown): Record<string, unknown> | undefined => (v && typeof v === 'object' && !Array.isArray(v) ? v as Record<string, unknown> : undefined);

export class LorawanPlatformSimulator {
  readonly platform: Platform;
  readonly requests: LoggedRequest[] = [];
  private sessions = new Map<string, Session>();
  private server?: http.Server;
  private offline = false;
  private readonly sockets = new Set<import('node:net').Socket>();

  constructor(options: PlatformOptions = {}) {
    this.platform = new Platform(options);
  }

  /** Handles one decoded requestParams text (or object); `cookie` is the JSESSIONID sent, if any. */
  handle(requestParams: unknown, cookie?: string, path = '/internal/commonInternal.jsp'): Handled {
    try {
      let env: unknown = requestParams;
      if (typeof env === 'string') {
        try { env = JSON.parse(env); } catch { throw new PlatformError("-1", `requestParams is not valid JSON: ${String(env).slice(0, 80)}`); }
      }
      const e = obj(env);
      if (!e) throw new PlatformError('-1', 'requestParams is missing or not a JSON object');
      const action = String(e.action ?? '');
      const method = String(e.method ?? '');
      const actions = METHODS[action] ?? (() => { throw new PlatformError('-1', `action ${JSON.stringify(action)} is unknown (comApi, lorawanApi, lorawanMeterApi)`); })();
      const entry = actions[method] ?? (() => { throw new PlatformError('-1', `method ${JSON.stringify(method)} is unknown in ${action}`); })();
      const raw = { ...obj(e.params), ...obj(e.param) };
      const apiToken = typeof e.apiToken === 'string' && e.apiToken ? e.apiToken : undefined;
      this.requests.push({ action, method, argKey: e.param !== undefined ? 'param' : e.params !== undefined ? 'params' : 'none', params: raw, apiToken, path });
      if (this.requests.length > 500) this.requests.shift();
      const platform = this.platform;
      platform.advance();
      const p = new Params(raw);
      let session: Session | undefined;
      let admin: Admin;
      if (action === 'comApi' && method === 'logout') {
        for (const [k, s] of this.sessions) if (k === apiToken || k === cookie || s.cookie === cookie) this.sessions.delete(k);
        return { body: { errcode: '0', errmsg: 'Logout successfully' } };
      }
      if (entry.open || (p.has('username') && p.has('password'))) {
        admin = this.check(p.str('username', true)!, p.str('password', true)!);
        if (entry.open) session = this.open(admin);
      } else {
        admin = this.session(apiToken, cookie);
      }
      const result = entry.handler({ platform, admin, p, session });
      return { body: { errcode: '0', ...result }, setCookie: session ? `JSESSIONID=${session.cookie}; Path=/; HttpOnly` : undefined };
    } catch (err) {
      if (err instanceof PlatformError) return { body: { errcode: err.errcode, errmsg: err.message } };
      return { body: { errcode: '-1', errmsg: `internal error: ${(err as Error).message}` } };
    }
  }

  private check(username: string, password: string): Admin {
    const admin = this.platform.admins.find((a) => a.username === username);
    if (!admin || admin.password !== password) throw new PlatformError('-31', 'wrong username or password');
    return admin;
  }

  private open(admin: Admin): Session {
    const s: Session = { admin, expires: this.platform.now() + this.platform.tokenTtlMs, apiToken: randomBytes(16).toString('hex'), cookie: randomBytes(12).toString('hex').toUpperCase() };
    this.sessions.set(s.apiToken, s);
    this.sessions.set(s.cookie, s);
    return s;
  }

  private session(apiToken?: string, cookie?: string): Admin {
    const s = (apiToken && this.sessions.get(apiToken)) || (cookie && this.sessions.get(cookie)) || undefined;
    if (!s) throw new PlatformError('-31', apiToken ? 'apiToken is invalid, log in again' : 'not logged in');
    if (s.expires <= this.platform.now()) {
      this.sessions.delete(s.apiToken);
      this.sessions.delete(s.cookie);
      throw new PlatformError('-31', 'session expired, log in again');
    }
    return s.admin;
  }

  /** Expires every session and token (a test of re-login). */
  expireSessions(): void {
    this.sessions.clear();
  }

  /**
   * The platform unreachable (an outage between the EMS and the platform): open connections are dropped,
   * new ones closed at once. Meters keep sending uplinks; the platform keeps them (served once back).
   */
  setOffline(on: boolean): void {
    this.offline = on;
    if (on) for (const s of this.sockets) s.destroy();
  }

  get isOffline(): boolean { return this.offline; }

  async listen(port = 0, host = '127.0.0.1'): Promise<number> {
    this.server = http.createServer((req, res) => {
      if (this.offline) { req.socket.destroy(); return; }
      this.serve(req, res);
    });
    this.server.on('connection', (s) => {
      if (this.offline) { s.destroy(); return; }
      this.sockets.add(s);
      s.on('close', () => this.sockets.delete(s));
    });
    await new Promise<void>((resolve, reject) => { this.server!.once('error', reject); this.server!.listen(port, host, () => resolve()); });
    return (this.server.address() as AddressInfo).port;
  }

  async close(): Promise<void> {
    const s = this.server;
    this.server = undefined;
    if (!s) return;
    s.closeAllConnections?.();
    await new Promise<void>((resolve) => s.close(() => resolve()));
  }

  private serve(req: http.IncomingMessage, res: http.ServerResponse): void {
    const url = new URL(req.url ?? '/', 'http://localhost');
    if (!/\/commonInternal\.jsp$/.test(url.pathname)) {
      res.writeHead(404, { 'content-type': 'text/plain' }).end(`no such page ${url.pathname} (use /internal/commonInternal.jsp or /api/commonInternal.jsp)`);
      return;
    }
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const text = Buffer.concat(chunks).toString('utf8');
      let rp: unknown = url.searchParams.get('requestParams') ?? undefined;
      if (rp === undefined && text.trim()) {
        const type = String(req.headers['content-type'] ?? '');
        if (type.includes('json') || text.trim().startsWith('{')) {
          try {
            const j = JSON.parse(text);
            rp = j && typeof j === 'object' && 'requestParams' in j ? j.requestParams : j;
          } catch { rp = text; }
        } else {
          rp = new URLSearchParams(text).get('requestParams') ?? undefined;
        }
      }
      const cookie = /(?:^|;\s*)JSESSIONID=([^;]+)/.exec(String(req.headers.cookie ?? ''))?.[1];
      const out = this.handle(rp, cookie, url.pathname);
      const headers: Record<string, string> = { 'content-type': 'application/json;charset=UTF-8' };
      if (out.setCookie) headers['set-cookie'] = out.setCookie;
      res.writeHead(200, headers).end(JSON.stringify(out.body));
    });
  }
}
