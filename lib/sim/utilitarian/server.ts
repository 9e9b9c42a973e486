/**
 * A Utilitarian API v1.3.0 simulator over HTTP. Routing, request bodies, ids and list filters come
 * from the spec (lib/specs/utilitarian/spec.ts); generic list/create/retrieve/update/delete handlers
 * serve every resource, plus the special actions (JWT token/renew/change-organization,
 * new-meter-readings, amr-tasks/invoke). Token auth = staff, full access; JWT = read-only, filtered
 * to the token's organization. Errors are Django REST framework's bodies.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { definition, matchRoute, validateBody, UUID_RE, type FieldErrors, type Method, type Route } from '../../specs/utilitarian/spec';
import { signJwt, verifyJwt } from './jwt';
import { resourceInfo, TASK_CALLS } from './resources';
import { scheduleBoundaries } from './amr';
import { SimStore, drfTime, parseTime, decimalString, type Row, type SimUser } from './store';

export interface UtilitarianSimOptions {
  /** Staff API key (Token auth). Default the spec's example key. */
  token?: string;
  /** Non-staff user for JWT auth. */
  user?: { username: string; password: string };
  /** Path prefix served besides the bare paths. Default "/v1". */
  prefix?: string;
  jwtSecret?: string;
  /** JWT_EXPIRATION_TIME_SECONDS, default 1200. */
  jwtLifetimeS?: number;
  /** Default page size. */
  pageSize?: number;
  dataRetentionDays?: number;
  stagedRetentionDays?: number;
  now?: () => number;
  /** Run the AMR engine every second against the clock (ems-sim does). */
  scheduler?: boolean;
}

export const DEMO_ORG = '5d1c6a3e-7b0f-4c59-9d3a-0c1e2f3a4b5c';
export const DEFAULT_TOKEN = '9944b09199c62bcf9418ad846dd0e4bbdfc6ee4b';

class HttpError extends Error {
  constructor(readonly status: number, readonly body: unknown, readonly headers: Record<string, string> = {}) { super(JSON.stringify(body)); }
}
const detail = (status: number, text: string, headers?: Record<string, string>) => new HttpError(status, { detail: text }, headers);
const NOT_FOUND = () => detail(404, 'Not found.');

interface Caller { user: SimUser; jwt: boolean; org?: string }

export class UtilitarianSimulator {
  readonly store: SimStore;
  readonly options: Required<Omit<UtilitarianSimOptions, 'dataRetentionDays' | 'user' | 'scheduler'>> & Pick<UtilitarianSimOptions, 'dataRetentionDays' | 'user'>;
  private server?: http.Server;
  private timer?: NodeJS.Timeout;
  /** Every request seen: method and path (tests check what a client sent). */
  readonly requests: { method: string; path: string; auth?: string }[] = [];

  private readonly scheduler: boolean;

  constructor(options: UtilitarianSimOptions = {}) {
    this.scheduler = options.scheduler === true;
    this.options = {
      token: options.token ?? DEFAULT_TOKEN, prefix: options.prefix ?? '/v1', jwtSecret: options.jwtSecret ?? 'utilitarian-sim-secret',
      jwtLifetimeS: options.jwtLifetimeS ?? 1200, pageSize: options.pageSize ?? 100, stagedRetentionDays: options.stagedRetentionDays ?? 30,
      dataRetentionDays: options.dataRetentionDays, now: options.now ?? Date.now, user: options.user ?? { username: 'reader', password: 'reader-pass' },
    };
    this.store = new SimStore(() => this.options.now());
    this.seed();
  }

  private seed(): void {
    const s = this.store;
    const admin: SimUser = { id: '00000000-0000-4000-8000-000000000001', username: 'admin', password: 'admin-pass', is_staff: true, token: this.options.token };
    const reader: SimUser = { id: '00000000-0000-4000-8000-000000000002', username: this.options.user!.username, password: this.options.user!.password, is_staff: false };
    for (const u of [admin, reader]) s.users.set(u.id, u);
    const at = drfTime(this.options.now());
    s.table('/organizations').set(DEMO_ORG, { id: DEMO_ORG, name: 'Demo Utility', is_active: true, created_at: at, updated_at: at });
    s.insert('/organizations/memberships', 'integer', { organization: DEMO_ORG, user: reader.id });
  }

  listen(port = 0, host = '127.0.0.1'): Promise<number> {
    this.server = http.createServer((req, res) => { void this.handle(req, res); });
    if (this.scheduler) {
      let last = this.options.now();
      this.timer = setInterval(() => { const now = this.options.now(); this.runSchedule(last, now); last = now; }, 1000);
      this.timer.unref();
    }
    return new Promise((resolve, reject) => {
      this.server!.once('error', reject);
      this.server!.listen(port, host, () => resolve((this.server!.address() as AddressInfo).port));
    });
  }

  close(): Promise<void> {
    clearInterval(this.timer);
    const s = this.server;
    this.server = undefined;
    if (!s) return Promise.resolve();
    s.closeAllConnections();
    return new Promise((resolve) => s.close(() => resolve()));
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const url = new URL(req.url ?? '/', `http://${req.headers.host ?? 'localhost'}`);
    this.requests.push({ method: req.method ?? 'GET', path: url.pathname + url.search, auth: req.headers.authorization });
    let status = 200;
    let body: unknown;
    let headers: Record<string, string> = {};
    try {
      const text = Buffer.concat(chunks).toString('utf8');
      let json: unknown;
      if (text.trim()) {
        try { json = JSON.parse(text); } catch (e) { throw detail(400, `JSON parse error - ${(e as Error).message}`); }
      }
      [status, body] = this.dispatch((req.method ?? 'GET').toLowerCase(), url, req.headers.authorization, json);
    } catch (err) {
      if (!(err instanceof HttpError)) { status = 500; body = { detail: `simulator error: ${(err as Error).message}` }; }
      else { status = err.status; body = err.body; headers = err.headers; }
    }
    const payload = body === undefined ? '' : JSON.stringify(body);
    res.writeHead(status, { ...headers, ...(payload ? { 'content-type': 'application/json' } : {}), 'content-length': Buffer.byteLength(payload) });
    res.end(payload);
  }

  /** Routes one request; answers [status, body]. */
  dispatch(method: string, url: URL, authorization: string | undefined, body: unknown): [number, unknown] {
    this.store.purge(this.options.dataRetentionDays, this.options.stagedRetentionDays);
    let path = url.pathname;
    if (this.options.prefix && (path === this.options.prefix || path.startsWith(`${this.options.prefix}/`))) path = path.slice(this.options.prefix.length);
    if (path === '/_health' || path === '/_health/') return [200, { status: 'ok' }];
    const match = matchRoute(path);
    if (!match) throw NOT_FOUND();
    const { route, id } = match;
    if (path.startsWith('/auth/jwt/token')) {
      if (method !== 'post') throw detail(405, `Method "${method.toUpperCase()}" not allowed.`);
      return this.jwtToken(body);
    }
    const caller = this.authenticate(authorization);
    const op = route.ops[method as Method];
    if (!op) throw detail(405, `Method "${method.toUpperCase()}" not allowed.`, { allow: Object.keys(route.ops).map((m) => m.toUpperCase()).join(', ') });
    if (route.collection.startsWith('/auth/jwt')) return this.jwtAction(route, caller, body);
    if (method !== 'get' && caller.jwt) throw detail(403, 'You do not have permission to perform this action.');
    if (route.collection === '/metering/new-meter-readings') return this.newReadings(body);
    if (route.collection === '/metering/amr-tasks/invoke') return this.invoke(body);
    const info = resourceInfo(route.collection);
    if (!info) throw NOT_FOUND();
    const itemRoute = route.item ? route : matchRoute(`${route.collection}/{id}`.replace('{id}', '00000000-0000-4000-8000-000000000000'))?.route;
    const idType = itemRoute?.idType ?? 'uuid';
    // Each operation renders with its own response schema (list items, or the op's $ref).
    const outDef = defOf(op.response?.$ref ?? (op.response?.properties?.results?.items as { $ref?: string } | undefined)?.$ref)
      ?? defOf(itemRoute?.ops.get?.response?.$ref) ?? op.body!;
    const inDef = op.body ?? defOf(route.ops.post?.body) ?? outDef;
    if (!route.item) {
      if (method === 'get') return [200, this.list(route, url, caller, outDef)];
      const fields = this.validate(route.collection, inDef, body, false);
      const row = this.store.insert(route.collection, idType, fields);
      return [201, this.store.render(route.collection, outDef, row)];
    }
    const row = this.find(route.collection, idType, id!, caller);
    if (method === 'get') return [200, this.store.render(route.collection, outDef, row)];
    if (method === 'delete') {
      this.store.table(route.collection).delete(String(row.id));
      if (route.collection === '/metering/meter-devices') this.cascade(String(row.id));
      return [204, undefined];
    }
    const fields = this.validate(route.collection, op.body!, body, method === 'patch', row);
    Object.assign(row, fields, { updated_at: drfTime(this.options.now()) });
    return [200, this.store.render(route.collection, outDef, row)];
  }

  private authenticate(authorization: string | undefined): Caller {
    const [scheme, key, extra] = (authorization ?? '').trim().split(/\s+/);
    if (!scheme) throw detail(401, 'Authentication credentials were not provided.', { 'www-authenticate': 'Token' });
    if (extra !== undefined || !key) throw detail(401, 'Invalid token header. Token string should not contain spaces.', { 'www-authenticate': 'Token' });
    if (scheme === 'Token') {
      const user = [...this.store.users.values()].find((u) => u.token === key && u.is_staff);
      if (!user) throw detail(401, 'Invalid token.', { 'www-authenticate': 'Token' });
      return { user, jwt: false };
    }
    if (scheme === 'JWT') {
      const r = verifyJwt(key, this.options.jwtSecret, this.options.now());
      if (!r.ok) throw detail(401, r.reason === 'expired' ? 'Signature has expired.' : 'Error decoding signature.', { 'www-authenticate': 'JWT' });
      const user = this.store.users.get(r.claims.user_id);
      if (!user) throw detail(401, 'Invalid signature.', { 'www-authenticate': 'JWT' });
      return { user, jwt: true, org: r.claims.organization };
    }
    if (scheme === 'Basic') {
      const [username, password] = Buffer.from(key, 'base64').toString('utf8').split(':');
      const user = [...this.store.users.values()].find((u) => u.username === username && u.password === password);
      if (!user) throw detail(401, 'Invalid username/password.', { 'www-authenticate': 'Basic realm="api"' });
      return user.is_staff ? { user, jwt: false } : { user, jwt: true, org: this.store.userOrgs(user.id)[0] };
    }
    throw detail(401, 'Authentication credentials were not provided.', { 'www-authenticate': 'Token' });
  }

  private issue(user: SimUser, org: string): [number, unknown] {
    const now = Math.floor(this.options.now() / 1000);
    return [201, { token: signJwt({ user_id: user.id, username: user.username, organization: org, iat: now, exp: now + this.options.jwtLifetimeS }, this.options.jwtSecret) }];
  }

  private jwtToken(body: unknown): [number, unknown] {
    const errors = validateBody('GetTokenAuth', body);
    if (errors) throw new HttpError(400, errors);
    const b = body as { username: string; password: string; organization?: string | null };
    const user = [...this.store.users.values()].find((u) => u.username === b.username && u.password === b.password);
    if (!user) throw new HttpError(400, { non_field_errors: ['Unable to log in with provided credentials.'] });
    const orgs = this.store.userOrgs(user.id);
    const org = b.organization ?? orgs[0];
    if (!org || !orgs.includes(org)) throw new HttpError(400, { organization: [org ? 'User is not a member of this organization.' : 'User is not a member of any organization.'] });
    return this.issue(user, org);
  }

  private jwtAction(route: Route, caller: Caller, body: unknown): [number, unknown] {
    if (!caller.jwt) throw detail(403, 'You do not have permission to perform this action.');
    if (route.collection.endsWith('/renew')) return [200, (this.issue(caller.user, caller.org!)[1])];
    const errors = validateBody('TokenChangeOrg', body);
    if (errors) throw new HttpError(400, errors);
    const org = (body as { organization: string }).organization;
    if (!this.store.userOrgs(caller.user.id).includes(org)) throw new HttpError(400, { organization: ['User is not a member of this organization.'] });
    return this.issue(caller.user, org);
  }

  private list(route: Route, url: URL, caller: Caller, outDef: string): unknown {
    const info = resourceInfo(route.collection)!;
    const q = url.searchParams;
    let rows = [...this.store.table(route.collection).values()].filter((r) => this.visible(route.collection, r, caller));
    const filters = [...(route.ops.get?.query ?? []), ...Object.keys(info.filterPaths ?? {})].filter((f) => f !== 'limit' && f !== 'offset');
    for (const f of filters) {
      const v = q.get(f);
      if (v === null || v === '') continue;
      if (f === 'start_time' || f === 'end_time') {
        const t = parseTime(v);
        if (Number.isNaN(t)) throw new HttpError(400, { [f]: ['Enter a valid date/time.'] });
        rows = rows.filter((r) => (f === 'start_time' ? Date.parse(r.timestamp) >= t : Date.parse(r.timestamp) <= t));
        continue;
      }
      const path = (info.filterPaths?.[f] ?? f).split('.');
      rows = rows.filter((r) => {
        let x: any = r;
        if (path.length === 2) x = this.store.table('/metering/meter-devices').get(r.meter) ?? {};
        return String(x[path[path.length - 1]] ?? '') === v;
      });
    }
    if (info.orderBy) rows.sort((a, b) => Date.parse(a[info.orderBy!]) - Date.parse(b[info.orderBy!]) || Number(a.id) - Number(b.id));
    const int = (name: string, dflt: number, min: number) => { const n = Number(q.get(name)); return /^\d+$/.test(q.get(name) ?? '') && n >= min ? n : dflt; };
    const limit = int('limit', this.options.pageSize, 1);
    const offset = int('offset', 0, 0);
    const page = (o: number | undefined) => {
      if (o === undefined) return null;
      const u = new URL(url.href);
      u.searchParams.set('limit', String(limit));
      if (o > 0) u.searchParams.set('offset', String(o)); else u.searchParams.delete('offset');
      return u.href;
    };
    const isReadings = route.collection === '/metering/meter-readings';
    return {
      count: rows.length,
      next: page(offset + limit < rows.length ? offset + limit : undefined),
      previous: page(offset > 0 ? Math.max(0, offset - limit) : undefined),
      results: rows.slice(offset, offset + limit).map((r) => (isReadings ? { timestamp: r.timestamp, value: r.value } : this.store.render(route.collection, outDef, r))),
    };
  }

  private visible(collection: string, row: Row, caller: Caller): boolean {
    if (!caller.jwt) return true;
    const org = this.store.orgOf(collection, row);
    if (collection === '/metering/staged-meter-readings') return true;
    return org === caller.org;
  }

  private find(collection: string, idType: 'uuid' | 'integer', id: string, caller: Caller): Row {
    if (idType === 'uuid' ? !UUID_RE.test(id) : !/^\d+$/.test(id)) throw NOT_FOUND();
    const row = this.store.table(collection).get(idType === 'uuid' ? id.toLowerCase() : String(Number(id)));
    if (!row || !this.visible(collection, row, caller)) throw NOT_FOUND();
    return row;
  }

  /** Serializer validation: schema, references, uniqueness, allowed series. Answers the writable fields. */
  private validate(collection: string, defName: string, body: unknown, partial: boolean, existing?: Row): Row {
    const errors: FieldErrors = validateBody(defName, body, partial) ?? {};
    if (errors.non_field_errors) throw new HttpError(400, errors);
    const info = resourceInfo(collection)!;
    const b = body as Row;
    const fields: Row = {};
    for (const [name, p] of Object.entries(definitionProps(defName))) {
      if (p.readOnly || !(name in b) || b[name] === undefined || errors[name]) continue;
      let v = b[name];
      if (p.format === 'date-time' && v !== null) v = drfTime(parseTime(v));
      else if (p.format === 'decimal' && v !== null) v = decimalString(v);
      else if (p.format === 'uuid' && typeof v === 'string') v = v.toLowerCase();
      fields[name] = v;
    }
    const merged = { ...(existing ?? {}), ...fields };
    const org = collection === '/metering/meter-security-keys' ? undefined : merged.organization;
    for (const [field, target] of Object.entries(info.refs)) {
      if (!(field in fields) || fields[field] === null || errors[field]) continue;
      const ids: string[] = Array.isArray(fields[field]) ? fields[field] : [fields[field]];
      for (const id of ids) {
        const row = target === 'users' ? this.store.users.get(id) as Row | undefined : this.store.table(target).get(id);
        const sameOrg = target === '/organizations' || target === 'users' || !org || !row || row.organization === org;
        if (!row || !sameOrg) { errors[field] = [`Invalid pk "${id}" - object does not exist.`]; break; }
      }
    }
    for (const u of info.unique ?? []) {
      if (!(u.field in fields)) continue;
      const clash = [...this.store.table(collection).values()].find((r) => r[u.field] === fields[u.field] && r.id !== existing?.id);
      if (clash) errors[u.field] = [u.message];
    }
    if (collection === '/metering/meter-readings' && !errors.series && !errors.meter_device && merged.meter_device) {
      const allowed = this.store.allowedSeries(merged.meter_device);
      if (allowed && !allowed.includes(merged.series)) errors.series = ['Series is not allowed for the meter device type config of this meter device.'];
    }
    if (collection === '/metering/meter-security-keys' && !errors.meter && fields.meter
      && [...this.store.table(collection).values()].some((r) => r.meter === fields.meter)) errors.meter = ['meter security key collection with this meter already exists.'];
    if (Object.keys(errors).length) throw new HttpError(400, errors);
    return fields;
  }

  private cascade(deviceId: string): void {
    for (const c of ['/metering/meter-readings', '/metering/meter-system-events', '/metering/meter-security-keys']) {
      const t = this.store.table(c);
      for (const [id, r] of t) if (r.meter_device === deviceId || r.meter === deviceId) t.delete(id);
    }
  }

  private newReadings(body: unknown): [number, unknown] {
    const list = Array.isArray(body) ? body : [body];
    const errors = list.map((r) => validateBody('StagedMeterReading', r) ?? {});
    if (errors.some((e) => Object.keys(e).length)) throw new HttpError(400, Array.isArray(body) ? errors : errors[0]);
    for (const r of list) this.store.ingest(r);
    return [201, undefined];
  }

  /** Runs an AMR task on demand: one simulated reading per allowed series, plus a system event. */
  private invoke(body: unknown): [number, unknown] {
    const b = (typeof body === 'object' && body !== null && !Array.isArray(body) ? body : {}) as Row;
    const errors: FieldErrors = {};
    const dev = typeof b.meter_device === 'string' && UUID_RE.test(b.meter_device) ? this.store.table('/metering/meter-devices').get(b.meter_device.toLowerCase()) : undefined;
    if (b.meter_device === undefined) errors.meter_device = ['This field is required.'];
    else if (!dev) errors.meter_device = [`Invalid pk "${b.meter_device}" - object does not exist.`];
    const calls = TASK_CALLS[b.meter_execution_type];
    if (b.meter_execution_type === undefined) errors.meter_execution_type = ['This field is required.'];
    else if (!calls) errors.meter_execution_type = [`"${b.meter_execution_type}" is not a valid choice.`];
    if (b.task_call === undefined) errors.task_call = ['This field is required.'];
    else if (calls && !calls.includes(b.task_call)) errors.task_call = [`"${b.task_call}" is not a valid task call for ${b.meter_execution_type}.`];
    if (b.task_kwargs !== undefined && b.task_kwargs !== null && (typeof b.task_kwargs !== 'object' || Array.isArray(b.task_kwargs))) errors.task_kwargs = ['Expected a dictionary of items.'];
    if (Object.keys(errors).length) throw new HttpError(400, errors);
    this.execute(dev!, b.task_call, b.task_kwargs ?? {});
    return [201, undefined];
  }

  /** The UTC schedule boundaries of a schedule in (from, to] (see amr.ts). */
  static boundaries = scheduleBoundaries;

  /**
   * Runs the AMR engine for the clock interval (from, to]: every active task of every device (its
   * task groups' tasks plus its meter_tasks) fires at its schedule boundaries + run_offset_seconds.
   * Answers how many executions ran.
   */
  runSchedule(from: number, to: number): number {
    let runs = 0;
    const groups = this.store.table('/metering/amr-task-groups');
    const tasks = this.store.table('/metering/amr-tasks');
    for (const dev of this.store.table('/metering/meter-devices').values()) {
      const ids = new Set<string>([...(dev.meter_tasks ?? []), ...(dev.task_groups ?? []).flatMap((g: string) => groups.get(g)?.tasks ?? [])]);
      for (const id of ids) {
        const task = tasks.get(id);
        if (!task || task.is_active === false) continue;
        const offset = (task.run_offset_seconds ?? 0) * 1000;
        for (const b of UtilitarianSimulator.boundaries(task.schedule, from - offset, to - offset)) {
          void b;
          this.execute(dev, task.task_call, task.task_kwargs ?? {});
          runs++;
        }
      }
    }
    return runs;
  }

  /** Executes a task call against a device, blocking its network interface meanwhile. */
  execute(dev: Row, taskCall: string, kwargs: Row): void {
    const ni = dev.network_interface ? this.store.table('/metering/network-interfaces').get(dev.network_interface) : undefined;
    const at = drfTime(this.options.now());
    if (ni?.can_block) Object.assign(ni, { is_blocked: true, block_time: at });
    try {
      if (taskCall !== 'set_time') {
        const readings = this.store.table('/metering/meter-readings');
        for (const series of this.store.allowedSeries(dev.id) ?? []) {
          const last = [...readings.values()].filter((r) => r.meter_device === dev.id && r.series === series).pop();
          const value = decimalString((last ? Number(last.value) : 0) + 1);
          this.store.insert('/metering/meter-readings', 'integer', { organization: dev.organization, meter_device: dev.id, series, timestamp: at, value });
        }
      }
      if (dev.organization) {
        this.store.insert('/metering/meter-system-events', 'integer',
          { organization: dev.organization, meter_device: dev.id, timestamp: at, title: taskCall.slice(0, 50), content: `task invoked: ${JSON.stringify(kwargs)}`.slice(0, 500) });
      }
    } finally {
      if (ni?.can_block) ni.is_blocked = false;
    }
  }
}

const defOf = (ref: string | undefined) => ref?.replace('#/definitions/', '');
const definitionProps = (name: string) => definition(name).properties ?? {};
