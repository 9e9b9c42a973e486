/**
 * Utilitarian AMR API client: Token or user/password JWT auth (renewed before it expires), any spec
 * path, lists followed page by page up to a bound, meter devices, readings pushed as meter readings
 * (series created on demand) or staged, readings pulled back as our Readings, events and AMR tasks.
 * Request bodies are checked against the spec before sending; the error names the field.
 */
import type { Reading } from '../../model';
import { matchRoute, validateBody, UUID_RE, type Method } from '../../specs/utilitarian/spec';
import { AnswerLimitError, MiB, bounded, boundedFetch, redactUrl, scrub } from '../bounded-fetch';

/** A list page (limit unstated by the spec; the server may send more than asked): 8 MiB by default, 64 MiB at most. */
export const DEFAULT_MAX_BYTES = 8 * MiB;
export const HARD_MAX_BYTES = 64 * MiB;

const UUID0 = '00000000-0000-4000-8000-000000000000';
import { decimal, obisOfSeries, seriesBody, seriesName } from './series';

export interface UtilitarianClientOptions {
  /** API root, e.g. "https://amr.example.org/v1" (spec paths are appended). */
  url: string;
  token?: string;
  username?: string;
  password?: string;
  /** Organization uuid: for JWT the token's organization; for Token auth the one new rows belong to (default: the first listed). */
  organization?: string;
  /** Bounds for following `next` links. */
  maxPages?: number;
  maxItems?: number;
  /** Deadline of one request (headers and body), ms; default 15000. */
  timeoutMs?: number;
  /** Largest answer accepted, bytes (default DEFAULT_MAX_BYTES, at most HARD_MAX_BYTES). */
  maxBytes?: number;
  /** Renew the JWT when less than this many seconds remain. Default 120. */
  renewBeforeS?: number;
  now?: () => number;
}

export class UtilitarianError extends Error {
  constructor(message: string, readonly status?: number, readonly body?: unknown) {
    super(message);
    this.name = 'UtilitarianError';
  }
}

/** DRF error bodies as one line: detail, or "field: message; ...". */
export function describeErrors(body: unknown): string {
  if (body && typeof body === 'object' && !Array.isArray(body)) {
    const b = body as Record<string, unknown>;
    if (typeof b.detail === 'string') return b.detail;
    return Object.entries(b).map(([k, v]) => `${k}: ${Array.isArray(v) ? v.join(' ') : typeof v === 'object' ? describeErrors(v) : String(v)}`).join('; ');
  }
  if (Array.isArray(body)) return body.map((x, i) => (x && Object.keys(x).length ? `[${i}] ${describeErrors(x)}` : '')).filter(Boolean).join('; ');
  return String(body);
}

export interface Page<T> { count: number; next: string | null; previous: string | null; results: T[] }
export interface PushResult { readings: number; staged: number; devicesCreated: string[]; seriesCreated: string[] }
type Row = Record<string, any>;

export class UtilitarianClient {
  private jwt?: { token: string; exp: number };
  private orgId?: string;
  private seriesCache = new Map<string, Row>();
  readonly maxPages: number;
  readonly maxItems: number;
  private readonly now: () => number;
  private readonly bounds: { maxBytes: number; timeoutMs: number };

  constructor(readonly options: UtilitarianClientOptions) {
    if (!/^https?:\/\/[^\s]+$/.test(options.url ?? '')) throw new UtilitarianError(`url: ${JSON.stringify(scrub(String(options.url), options.password, options.token))} is not an http(s) URL`);
    if (/^https?:\/\/[^/]*@/.test(options.url)) throw new UtilitarianError(`url: ${JSON.stringify(redactUrl(options.url))} must not carry a user name or password (configure a token, or a username and password)`);
    if (!options.token && !(options.username && options.password)) throw new UtilitarianError('credentials: give a token, or a username and password');
    this.maxPages = options.maxPages ?? 100;
    this.maxItems = options.maxItems ?? 100_000;
    this.now = options.now ?? Date.now;
    this.orgId = options.organization || undefined;
    this.bounds = {
      maxBytes: bounded(options.maxBytes, DEFAULT_MAX_BYTES, 1024, HARD_MAX_BYTES, 'maxBytes'),
      timeoutMs: bounded(options.timeoutMs, 15_000, 1, 600_000, 'timeoutMs'),
    };
  }

  private get base(): string { return this.options.url.replace(/\/+$/, ''); }

  private async authHeader(): Promise<string> {
    if (this.options.token) return `Token ${this.options.token}`;
    const renewBefore = (this.options.renewBeforeS ?? 120) * 1000;
    if (this.jwt && this.jwt.exp - this.now() > renewBefore) return `JWT ${this.jwt.token}`;
    if (this.jwt && this.jwt.exp > this.now()) {
      try {
        const r = await this.send('get', '/auth/jwt/renew/', undefined, `JWT ${this.jwt.token}`);
        this.setJwt(r.token);
        return `JWT ${this.jwt!.token}`;
      } catch { /* fall back to logging in again */ }
    }
    const body = { username: this.options.username, password: this.options.password, ...(this.orgId ? { organization: this.orgId } : {}) };
    const r = await this.send('post', '/auth/jwt/token/', body, undefined);
    this.setJwt(r.token);
    return `JWT ${this.jwt!.token}`;
  }

  private setJwt(token: unknown): void {
    if (typeof token !== 'string') throw new UtilitarianError('the server answered no JWT ("token")');
    let claims: Row = {};
    try { claims = JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString('utf8')); } catch { /* opaque token */ }
    this.jwt = { token, exp: typeof claims.exp === 'number' ? claims.exp * 1000 : this.now() + 1_200_000 };
    if (typeof claims.organization === 'string') this.orgId = claims.organization;
  }

  /** Checks a body against the spec for this path and method; throws naming the field. */
  check(method: Method, path: string, body: unknown): void {
    const route = matchRoute(path.split('?')[0])?.route;
    const def = route?.ops[method]?.body;
    if (!def || body === undefined) return;
    const errors = validateBody(def, body, method === 'patch');
    if (errors) throw new UtilitarianError(`refused before sending ${method.toUpperCase()} ${path}: ${describeErrors(errors)}`, undefined, errors);
  }

  private async send(method: Method, path: string, body: unknown, auth: string | undefined): Promise<any> {
    const url = /^https?:/.test(path) ? path : `${this.base}${path}`;
    let res: Awaited<ReturnType<typeof boundedFetch>>;
    try {
      res = await boundedFetch('utilitarian', url, {
        method: method.toUpperCase(),
        headers: { accept: 'application/json', ...(auth ? { authorization: auth } : {}), ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
        body: body === undefined ? undefined : JSON.stringify(body),
      }, this.bounds);
    } catch (err) {
      if (err instanceof AnswerLimitError) throw new UtilitarianError(`${method.toUpperCase()} ${redactUrl(url)}: ${err.message}`);
      const cause = (err as any).cause;
      throw new UtilitarianError(this.safe(`${method.toUpperCase()} ${redactUrl(url)}: ${(err as Error).message}${cause ? ` (${cause.message ?? cause})` : ''}`));
    }
    const text = res.text;
    let data: unknown = undefined;
    if (text) { try { data = JSON.parse(text); } catch { data = text; } }
    if (!res.ok) throw new UtilitarianError(this.safe(`${method.toUpperCase()} ${path}: HTTP ${res.status}: ${describeErrors(data)}`), res.status, data);
    return data;
  }

  /** A message with URL credentials, the token, the password and the JWT masked. */
  private safe(text: string): string {
    return scrub(text, this.options.token, this.options.password, this.jwt?.token);
  }

  /** Any spec path (relative to the API root, query string allowed). */
  async request(method: Method, path: string, body?: unknown): Promise<any> {
    this.check(method, path, body);
    return this.send(method, path, body, await this.authHeader());
  }

  /** A list path followed page by page (`next`), at most maxPages pages and maxItems rows. */
  async list<T = Row>(path: string, query: Record<string, string | number | undefined> = {}, bound: { maxPages?: number; maxItems?: number } = {}): Promise<T[]> {
    const maxPages = bound.maxPages ?? this.maxPages;
    const maxItems = bound.maxItems ?? this.maxItems;
    const qs = new URLSearchParams(Object.entries(query).filter(([, v]) => v !== undefined && v !== '').map(([k, v]) => [k, String(v)]));
    let next: string | null = `${path}${qs.size ? `?${qs}` : ''}`;
    const out: T[] = [];
    for (let pages = 0; next && pages < maxPages && out.length < maxItems; pages++) {
      const page: Page<T> = await this.request('get', next);
      if (!page || !Array.isArray(page.results)) throw new UtilitarianError(`GET ${next}: not a paginated list`);
      out.push(...page.results.slice(0, maxItems - out.length));
      next = page.next;
    }
    return out;
  }

  /** The organization new rows belong to (Token auth: the configured one or the first the API lists). */
  async organization(): Promise<string> {
    if (this.orgId) return this.orgId;
    if (!this.options.token) await this.authHeader();
    if (!this.orgId) {
      const [org] = await this.list('/organizations/', {}, { maxPages: 1, maxItems: 1 });
      if (!org) throw new UtilitarianError('no organization: create one or set organization in the client options');
      this.orgId = org.id;
    }
    return this.orgId!;
  }

  // Meter devices
  listMeterDevices(filter: Record<string, string | undefined> = {}) { return this.list('/metering/meter-devices', filter); }
  getMeterDevice(id: string) { return this.request('get', `/metering/meter-devices/${encodeURIComponent(id)}`); }
  async createMeterDevice(body: Row) { return this.request('post', '/metering/meter-devices', { organization: await this.organization(), ...body }); }
  updateMeterDevice(id: string, body: Row, partial = true) { return this.request(partial ? 'patch' : 'put', `/metering/meter-devices/${encodeURIComponent(id)}`, body); }
  async findMeterDevice(name: string): Promise<Row | undefined> {
    return (await this.list('/metering/meter-devices', { name }, { maxPages: 1 })).find((d) => d.name === name);
  }

  /** The series for an OBIS code, created (with its unit) when missing. */
  async ensureSeries(obis: string, unit: string, created?: string[]): Promise<Row> {
    const name = seriesName(obis);
    const cached = this.seriesCache.get(name);
    if (cached) return cached;
    let s = (await this.list('/metering/meter-reading-series', { name }, { maxPages: 1 })).find((x) => x.name === name);
    if (!s) {
      s = await this.request('post', '/metering/meter-reading-series', seriesBody(obis, unit, await this.organization()));
      created?.push(name);
    }
    this.seriesCache.set(name, s!);
    return s!;
  }

  /**
   * Pushes Readings: each reading's meter is a device name. Known devices get meter readings;
   * unknown ones get a device created (`unknown: 'create'`) or staged readings (`'stage'`).
   */
  async pushReadings(readings: Reading[], opts: { unknown?: 'create' | 'stage'; protocol?: string; deviceName?: (meter: string) => string } = {}): Promise<PushResult> {
    const result: PushResult = { readings: 0, staged: 0, devicesCreated: [], seriesCreated: [] };
    const nameOf = opts.deviceName ?? ((m: string) => m);
    const byMeter = new Map<string, Reading[]>();
    for (const r of readings) byMeter.set(nameOf(r.meter), [...(byMeter.get(nameOf(r.meter)) ?? []), r]);
    for (const [name, rows] of byMeter) {
      let dev = await this.findMeterDevice(name);
      if (!dev && opts.unknown === 'create') {
        dev = await this.createMeterDevice({ name, protocol: opts.protocol ?? 'modbus' });
        result.devicesCreated.push(name);
      }
      for (const r of rows) {
        const timestamp = new Date(r.time).toISOString();
        if (!dev) {
          await this.request('post', '/metering/staged-meter-readings', { meter_device_name: name, series_name: seriesName(r.obis), timestamp, value: decimal(r.value) });
          result.staged++;
          continue;
        }
        const series = await this.ensureSeries(r.obis, r.unit, result.seriesCreated);
        await this.request('post', '/metering/meter-readings', { organization: dev.organization ?? await this.organization(), meter_device: dev.id, series: series.id, timestamp, value: decimal(r.value) });
        result.readings++;
      }
    }
    return result;
  }

  /** Name-addressed ingestion (POST /metering/new-meter-readings): the server stores, stages or drops each. */
  async newMeterReadings(readings: Reading[], deviceName: (meter: string) => string = (m) => m): Promise<number> {
    const body = readings.map((r) => ({ meter_device_name: deviceName(r.meter), series_name: seriesName(r.obis), timestamp: new Date(r.time).toISOString(), value: decimal(r.value) }));
    for (const [i, b] of body.entries()) {
      const e = validateBody('StagedMeterReading', b);
      if (e) throw new UtilitarianError(`refused before sending new-meter-readings[${i}]: ${describeErrors(e)}`, undefined, e);
    }
    await this.request('post', '/metering/new-meter-readings', body);
    return body.length;
  }

  /** Reads a device's readings back as Readings (meter = `meter` or the device name), optionally only some OBIS codes. */
  async pullReadings(device: string, range: { from?: number; to?: number; obis?: string[]; meter?: string } = {}): Promise<Reading[]> {
    const dev = /^[0-9a-f-]{36}$/i.test(device) ? await this.getMeterDevice(device) : await this.findMeterDevice(device);
    if (!dev) throw new UtilitarianError(`device: no meter device named ${JSON.stringify(device)}`);
    const wanted = range.obis?.map(seriesName);
    const series = (await this.list('/metering/meter-reading-series')).filter((s) => !wanted || wanted.includes(s.name));
    const out: Reading[] = [];
    for (const s of series) {
      const obis = obisOfSeries(s.name);
      if (!obis) continue;
      const rows = await this.list<{ timestamp: string; value: string }>('/metering/meter-readings', {
        meter_device: dev.id, series: s.id,
        start_time: range.from !== undefined ? new Date(range.from).toISOString() : undefined,
        end_time: range.to !== undefined ? new Date(range.to).toISOString() : undefined,
      });
      for (const r of rows) out.push({ meter: range.meter ?? dev.name, time: Date.parse(r.timestamp), obis, value: Number(r.value), unit: s.unit === '-' ? '' : s.unit });
    }
    return out.sort((a, b) => a.time - b.time || a.obis.localeCompare(b.obis));
  }

  listEvents(filter: { meter_device?: string; start_time?: string; end_time?: string } = {}) { return this.list('/metering/meter-system-events', filter); }
  async invokeTask(body: { meter_device: string; task_call: string; meter_execution_type: string; task_kwargs?: Row | null; run_offset_seconds?: number }) {
    // The spec gives invoke no body schema; its fields are AmrTask's, plus the device.
    const { meter_device, ...task } = body ?? {} as typeof body;
    const e = { ...(validateBody('AmrTask', { organization: UUID0, name: 'invoke', schedule: 'hourly', ...task }) ?? {}) };
    if (typeof meter_device !== 'string' || !UUID_RE.test(meter_device)) e.meter_device = [meter_device === undefined ? 'This field is required.' : 'Must be a valid UUID.'];
    if (Object.keys(e).length) throw new UtilitarianError(`refused before sending POST /metering/amr-tasks/invoke: ${describeErrors(e)}`, undefined, e);
    await this.request('post', '/metering/amr-tasks/invoke', body);
    return { invoked: true };
  }
}
