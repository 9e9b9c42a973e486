/**
 * A client written from the EMS data dictionary alone (shared/seeds/ems-api-data-dictionary.txt):
 * its sections, parameters and body shapes, nothing of the REST forms (no ids in paths, no REST-only
 * fields). The dictionary names no paths, so PATHS says which address serves each section; everything
 * else (query names, bodies, the access_token cookie, the { data, error, status } envelope) is the
 * dictionary's. Like a page served by the EMS it sends its Origin with writes.
 */

/** The dictionary's sections and the address each is served at (the dictionary itself names none). */
export const PATHS = {
  loginKey: '/api/auth/nonce', login: '/api/auth/login', logout: '/api/auth/logout', currentUser: '/api/auth/session',
  meterInformation: '/api/folders', meters: '/api/meters', objects: '/api/objects',
  dashboard: '/api/data/dashboard', graphics: '/api/data/graphics', vector: '/api/data/vector', dataTable: '/api/data/table',
  reports: '/api/reports/tariffs', eventLog: '/api/events', users: '/api/users', license: '/api/license',
} as const;

export interface Envelope<T = any> { data: T; error: string | null; status: number }
export interface DictAnswer<T = any> { httpStatus: number; body: Envelope<T>; cookies: Record<string, string> }

/** Every dictionary value is a String: the client sends them so. */
export type Fields = Record<string, string | string[] | Record<string, unknown> | boolean>;

/** The dictionary's "Poll server: Meter creating/updating" fields. */
export interface MeterFields {
  name: string; number_meter: string; connection_address: string; password: string; ip_address: string; port: string;
  waiting_time: string; interval_time: string; pause_time: string; package_size: string; time_difference: string;
  periodType: string; data_polling_length: string; days_of_week: string; days_of_month: string;
}

/** The dictionary's "Accounting objects: ... creating/updating" body: { data: { type, name, meter_id, date, tn1, tn2, tt } }. */
export interface ObjectFields { type: string; name: string; meter_id: string; date: string[]; tn1: Record<string, unknown>; tn2: Record<string, unknown>; tt: Record<string, unknown> }

/** The dictionary's "Settings: User creating/updating" fields. */
export interface UserFields { name: string; login: string; password?: string; open_page: string; open_folders: string; open_factory: string; role: string }

/** The request parameters of the dashboard, graphics, data table (date1, date2, type, limit), vector (no type) and reports (step). */
export type DataParams = { date1?: string; date2?: string; type?: string; limit?: string; step?: string; filter?: string };

export class DictionaryClient {
  private cookie = '';
  /** Waits at most this long for one answer. */
  readonly timeoutMs = 20_000;

  constructor(readonly baseUrl: string) {}

  private async send<T>(method: string, path: string, opts: { query?: Record<string, string | undefined>; json?: unknown; form?: FormData } = {}): Promise<DictAnswer<T>> {
    const url = new URL(path, this.baseUrl);
    for (const [k, v] of Object.entries(opts.query ?? {})) if (v !== undefined) url.searchParams.set(k, v);
    const headers: Record<string, string> = {};
    if (this.cookie) headers.cookie = `access_token=${this.cookie}`;
    if (method !== 'GET') headers.origin = new URL(this.baseUrl).origin;
    let body: string | FormData | undefined;
    if (opts.form) body = opts.form;
    else if (opts.json !== undefined) {
      headers['content-type'] = 'application/json';
      body = JSON.stringify(opts.json);
    }
    const res = await fetch(url, { method, headers, body, signal: AbortSignal.timeout(this.timeoutMs) }).catch((err: Error) => {
      throw new Error(`${method} ${url.pathname}${url.search}: no answer within ${this.timeoutMs} ms (${err.message})`);
    });
    const cookies: Record<string, string> = {};
    for (const c of res.headers.getSetCookie()) {
      const [pair] = c.split(';');
      const eq = pair.indexOf('=');
      cookies[pair.slice(0, eq).trim()] = pair.slice(eq + 1).trim();
    }
    const text = await res.text();
    let parsed: Envelope<T>;
    try {
      parsed = JSON.parse(text) as Envelope<T>;
    } catch {
      throw new Error(`${method} ${url.pathname}${url.search}: not the dictionary's JSON envelope (HTTP ${res.status}): ${text.slice(0, 200)}`);
    }
    return { httpStatus: res.status, body: parsed, cookies };
  }

  // ---- Login ----
  /** Login 1-2: { hash } answers { secret_word, id }. */
  loginKey(hash: string) { return this.send<{ secret_word: string; id: string }>('POST', PATHS.loginKey, { json: { hash } }); }
  /** Login 4, 9: { key, username, password }; the access_token cookie is kept for the next requests. */
  async login(key: string, username: string, password: string) {
    const a = await this.send<{ refresh_token: string; session: unknown }>('POST', PATHS.login, { json: { key, username, password } });
    if (a.cookies.access_token) this.cookie = a.cookies.access_token;
    return a;
  }
  /** Login 10-13: with the cookie, the logged-in user (_id, name, active, last_active, open_page, open folders, open factory, role). */
  currentUser() { return this.send('GET', PATHS.currentUser); }
  /** Logout 1-3: { username }. */
  async logout(username: string) {
    const a = await this.send('POST', PATHS.logout, { json: { username } });
    return a;
  }

  // ---- Poll server ----
  /** Meter information 1: Query: list. */
  meterInformation(list: string) { return this.send('GET', PATHS.meterInformation, { query: { list } }); }
  /** Meter information 5-6: one node by id (or _id). */
  meterInformationById(id: string, name: 'id' | '_id' = 'id') { return this.send('GET', PATHS.meterInformation, { query: { [name]: id } }); }
  /** Meter creating 1. */
  createMeter(fields: MeterFields) { return this.send('POST', PATHS.meters, { json: fields }); }
  /** Meter updating 2: the fields, the meter named by its id. */
  updateMeter(id: string, fields: Partial<MeterFields>) { return this.send('PUT', PATHS.meters, { query: { id }, json: fields }); }
  /** Meter deleting 1: Query: id. */
  deleteMeter(id: string) { return this.send('DELETE', PATHS.meters, { query: { id } }); }

  // ---- Accounting objects ----
  /** Objects information 1: Query: list (the model's list). */
  objects(list: string) { return this.send('GET', PATHS.objects, { query: { list } }); }
  /** Objects information 5: one object by id. */
  object(id: string) { return this.send('GET', PATHS.objects, { query: { id } }); }
  /** Object creating 1: { data: {...} } (model: the list the object belongs to). */
  createObject(list: string, data: ObjectFields) { return this.send('POST', PATHS.objects, { query: { list }, json: { data } }); }
  updateObject(id: string, data: Partial<ObjectFields>) { return this.send('PUT', PATHS.objects, { query: { id }, json: { data } }); }
  /** Object deleting 1: Query: id. */
  deleteObject(id: string) { return this.send('DELETE', PATHS.objects, { query: { id } }); }

  // ---- Data ----
  dashboard(p: DataParams) { return this.send('GET', PATHS.dashboard, { query: p }); }
  graphics(p: DataParams) { return this.send('GET', PATHS.graphics, { query: p }); }
  vector(p: DataParams) { return this.send('GET', PATHS.vector, { query: p }); }
  dataTable(p: DataParams) { return this.send('GET', PATHS.dataTable, { query: p }); }
  reports(p: DataParams) { return this.send('GET', PATHS.reports, { query: p }); }
  eventLog(p: DataParams) { return this.send('GET', PATHS.eventLog, { query: p }); }

  // ---- Settings ----
  users() { return this.send('GET', PATHS.users); }
  user(_id: string) { return this.send('GET', PATHS.users, { query: { _id } }); }
  createUser(fields: UserFields) { return this.send('POST', PATHS.users, { json: fields }); }
  updateUser(_id: string, fields: Partial<UserFields>) { return this.send('PUT', PATHS.users, { query: { _id }, json: fields }); }
  /** User deleting 1: _id. */
  deleteUser(_id: string) { return this.send('DELETE', PATHS.users, { json: { _id } }); }
  license() { return this.send('GET', PATHS.license); }
  /** License creating/updating 1: the license File. */
  uploadLicense(fileText: string) {
    const form = new FormData();
    form.append('license', new Blob([fileText], { type: 'application/json' }), 'license.json');
    return this.send('POST', PATHS.license, { form });
  }
}
