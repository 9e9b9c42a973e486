/**
 * Client of the LoRaWAN meter platform API: one endpoint taking `requestParams` (form POST), the
 * argument key per method as the seed spells it, login with a session cookie and apiToken (re-login
 * once on errcode -31), errcode compared as text, pages fetched until a short page.
 */
import type { Reading } from '../../model/reading';
import { AnswerLimitError, MiB, bounded, boundedFetch, redactUrl, scrub } from '../bounded-fetch';
import { methodSpec } from './methods';
import { formatPlatformTime, platformTime, toReading } from './readings';

export const DEFAULT_PATH = '/api/commonInternal.jsp';
/** A page holds at most 1000 rows (seed: pageSize "Max 1000"), a few hundred KB: 4 MiB by default, 64 MiB at most. */
export const DEFAULT_MAX_BYTES = 4 * MiB;
export const HARD_MAX_BYTES = 64 * MiB;
export type Body = Record<string, unknown>;
export type Row = Record<string, unknown>;
export type TimeArg = number | string | Date;

export interface ClientOptions {
  /** Endpoint URL, e.g. http://english.energyy.ucskype.com/api/commonInternal.jsp (a bare origin gets DEFAULT_PATH). */
  url: string;
  username?: string;
  password?: string;
  /** A ready token (newer deployments): sent as top-level "apiToken"; without a username no re-login. */
  apiToken?: string;
  /** Deadline of one call (headers and body), ms; default 10000. */
  timeoutMs?: number;
  /** Largest answer accepted, bytes (default DEFAULT_MAX_BYTES, at most HARD_MAX_BYTES). */
  maxBytes?: number;
  /** The platform's local time offset from UTC in minutes (its dates carry no zone). */
  utcOffsetMin?: number;
}

export class LorawanPlatformError extends Error {
  constructor(readonly method: string, readonly errcode: string, readonly errmsg: string) {
    super(`lorawan-platform ${method} failed: errcode ${errcode}: ${errmsg}`);
    this.name = 'LorawanPlatformError';
  }
}

/** Numbers and booleans travel as strings (as in the seed's samples); arrays and objects stay. */
function stringify(params: Body): Body {
  const out: Body = {};
  for (const [k, v] of Object.entries(params)) {
    if (v === undefined) continue;
    out[k] = typeof v === 'number' || typeof v === 'boolean' ? String(v) : v;
  }
  return out;
}

export function endpointUrl(url: string): string {
  const u = new URL(url.trim());
  if (u.pathname === '/' || u.pathname === '') u.pathname = DEFAULT_PATH;
  return u.toString();
}

export class LorawanPlatformClient {
  readonly url: string;
  readonly utcOffsetMin: number;
  /** Where messages may say we talked to: the URL without credentials or query. */
  readonly safeUrl: string;
  private readonly bounds: { maxBytes: number; timeoutMs: number };
  private cookie?: string;
  private token?: string;
  private loggingIn?: Promise<Body>;
  /** The login profile (manageArea, equipmentModel), once logged in. */
  profile?: Body;

  constructor(readonly options: ClientOptions) {
    if (!options.url) throw new Error('url is required (e.g. http://host/api/commonInternal.jsp)');
    this.url = endpointUrl(options.url);
    this.safeUrl = redactUrl(this.url);
    this.bounds = {
      maxBytes: bounded(options.maxBytes, DEFAULT_MAX_BYTES, 1024, HARD_MAX_BYTES, 'maxBytes'),
      timeoutMs: bounded(options.timeoutMs, 10_000, 1, 600_000, 'timeoutMs'),
    };
    this.token = options.apiToken || undefined;
    this.utcOffsetMin = options.utcOffsetMin ?? 0;
  }

  /** Calls any method by name ("getAreaArchives", "lorawanApi.addMeter"); resolves the whole success body. */
  async call(method: string, params: Body = {}): Promise<Body> {
    const spec = methodSpec(method);
    if (spec.method !== 'toLogin' && !this.token && !this.cookie && this.options.username) await this.login();
    try {
      return await this.send(spec.action, spec.method, spec.key, params);
    } catch (err) {
      if (!(err instanceof LorawanPlatformError) || err.errcode !== '-31' || spec.method === 'toLogin' || !this.options.username) throw err;
      this.token = this.options.apiToken || undefined;
      this.cookie = undefined;
      await this.login();
      return this.send(spec.action, spec.method, spec.key, params);
    }
  }

  /** comApi.toLogin with the configured account: keeps the session cookie and apiToken. */
  login(): Promise<Body> {
    if (!this.options.username) return Promise.reject(new Error('username is required to log in (or configure an apiToken)'));
    this.loggingIn ??= this.send('comApi', 'toLogin', 'params', { username: this.options.username, password: this.options.password ?? '' })
      .then((body) => {
        const value = (body.value ?? {}) as Body;
        this.profile = value;
        if (typeof value.apiToken === 'string' && value.apiToken) this.token = value.apiToken;
        return value;
      })
      .finally(() => { this.loggingIn = undefined; });
    return this.loggingIn;
  }

  private async send(action: string, method: string, key: 'param' | 'params' | 'none', params: Body): Promise<Body> {
    const envelope: Body = { action, method };
    if (key !== 'none' || Object.keys(params).length) envelope[key === 'none' ? 'param' : key] = stringify(params);
    if (this.token && method !== 'toLogin') envelope.apiToken = this.token;
    const headers: Record<string, string> = { 'content-type': 'application/x-www-form-urlencoded;charset=UTF-8', accept: 'application/json' };
    if (this.cookie) headers.cookie = `JSESSIONID=${this.cookie}`;
    let res: Awaited<ReturnType<typeof boundedFetch>>;
    try {
      res = await boundedFetch('lorawan-platform', this.url, {
        method: 'POST', headers, body: new URLSearchParams({ requestParams: JSON.stringify(envelope) }).toString(),
      }, this.bounds);
    } catch (err) {
      if (err instanceof AnswerLimitError) throw new Error(`lorawan-platform ${method}: ${err.message.replace(/^lorawan-platform: /, '')}`);
      const e = err as Error & { cause?: { code?: string } };
      throw new Error(`lorawan-platform ${method}: ${this.safeUrl} did not answer (${e.cause?.code ?? scrub(e.message, this.options.password, this.options.apiToken)})`);
    }
    const cookie = /JSESSIONID=([^;]+)/.exec(res.headers.get('set-cookie') ?? '')?.[1];
    if (cookie) this.cookie = cookie;
    const text = res.text;
    // The platform may echo our form (password, apiToken): never into a message.
    const excerpt = () => scrub(text.slice(0, 120), this.options.password, this.options.apiToken, this.token);
    if (!res.ok) throw new Error(`lorawan-platform ${method}: HTTP ${res.status} from ${this.safeUrl}: ${excerpt()}`);
    let body: unknown;
    try { body = JSON.parse(text); } catch { throw new Error(`lorawan-platform ${method}: the answer is not JSON: ${excerpt()}`); }
    if (Array.isArray(body)) return { errcode: '0', data: body };
    const b = (body ?? {}) as Body;
    const errcode = b.errcode !== undefined ? String(b.errcode) : b.code !== undefined ? (Number(b.code) === 200 ? '0' : String(b.code)) : '0';
    if (errcode !== '0') throw new LorawanPlatformError(method, errcode, scrub(String(b.errmsg ?? b.msg ?? ''), this.options.password, this.options.apiToken, this.token));
    return b;
  }

  // ---- typed calls ----
  private time(t: TimeArg): string {
    if (typeof t === 'string' && /^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$/.test(t)) return t;
    const ms = t instanceof Date ? t.getTime() : typeof t === 'number' ? t : Date.parse(t);
    if (!Number.isFinite(ms)) throw new Error(`time ${JSON.stringify(t)} is not a date`);
    return formatPlatformTime(ms, this.utcOffsetMin);
  }

  /** All rows of a paged method (pageNumber from 1 until a page comes back short). */
  async pages(method: string, params: Body, pageSize = 100, maxRows = 100_000): Promise<Row[]> {
    const rows: Row[] = [];
    for (let pageNumber = 1; rows.length < maxRows; pageNumber++) {
      const body = await this.call(method, { ...params, pageNumber, pageSize });
      const values = (Array.isArray(body.values) ? body.values : Array.isArray(body.data) ? body.data : []) as Row[];
      rows.push(...values);
      if (values.length < pageSize) break;
    }
    return rows;
  }

  async areas(): Promise<Row[]> {
    const creds = this.options.username ? { username: this.options.username, password: this.options.password ?? '' } : {};
    return (await this.call('getAreaOrg', creds)).data as Row[];
  }
  /** The ids of the areas this account manages (login manageArea, else the roots of getAreaOrg). */
  async areaIds(): Promise<number[]> {
    if (!this.profile && this.options.username) await this.login();
    const managed = (this.profile?.manageArea ?? []) as Row[];
    if (managed.length) return managed.map((a) => Number(a.areaId ?? a.areaid));
    const all = await this.areas();
    const ids = new Set(all.map((a) => Number(a.areaid ?? a.areaId)));
    return all.filter((a) => !ids.has(Number(a.parentId))).map((a) => Number(a.areaid ?? a.areaId));
  }
  async prices(): Promise<Row[]> { return (await this.call('readAllPricesV2')).data as Row[]; }
  meters(q: { areaId: number | string; energyType?: string; searchContent?: string }): Promise<Row[]> { return this.pages('getAreaArchives', q, 100); }
  async meter(id: number | string): Promise<Row> { return (await this.call('getAreaArchiveInfo', { id })).value as Row; }
  households(q: { areaId: number | string; id?: number | string; searchContent?: string }): Promise<Row[]> { return this.pages('gethousehold', { areaid: q.areaId, id: q.id, searchContent: q.searchContent }, 100); }
  readings(q: { areaId: number | string; start: TimeArg; end: TimeArg; energyType?: string; searchContent?: string }): Promise<Row[]> {
    return this.pages('getMeterReadings', { areaId: q.areaId, startDate: this.time(q.start), endDate: this.time(q.end), energyType: q.energyType, searchContent: q.searchContent }, 1000);
  }
  valveRecords(q: { areaId: number | string; start: TimeArg; end: TimeArg; energyType?: string; username?: string; userNumber?: string; operationType?: 0 | 1 }): Promise<Row[]> {
    return this.pages('getValverecord', { ...q, start: undefined, end: undefined, startDate: this.time(q.start), endDate: this.time(q.end) }, 1000);
  }
  bills(q: { areaId: number | string; billDate?: string; energyType?: string; username?: string; userNumber?: string }): Promise<Row[]> { return this.pages('queryMonthBillInfo', q, 1000); }
  async realTime(devEui: string): Promise<Row> { return (await this.call('queryRealTimeData', { devEui })).data as Row; }
  async dailyConsumption(devEuis: string[], date?: string): Promise<Row[]> { return [(await this.call('queryAllDailyConsumption', { devEui: devEuis.join(','), date })).data].flat() as Row[]; }
  async monthlyConsumption(devEuis: string[], date?: string): Promise<Row[]> { return [(await this.call('queryAllMonthlyConsumption', { devEui: devEuis.join(','), date })).data].flat() as Row[]; }
  async valveStatus(devEui: string): Promise<number> { return Number((await this.call('readValveStatus', { devEui })).data); }
  async topUp(devEui: string, amount: string | number): Promise<string> { return String((await this.call('remotelyTopUp', { devEui, topUpAmount: amount })).valueId); }
  async setValve(devEui: string, open: boolean): Promise<string> { return String((await this.call('setValveState', { devEui, valveState: open ? 1 : 0 })).valueId); }
  async sendCommand(devEui: string, commandStr: string, commandParams: Body = {}): Promise<string> { return String((await this.call('sendCommand', { devEui, commandStr, commandParams })).valueId); }
  async payMode(devEuis: string[]): Promise<Row[]> { return [(await this.call('getPaymod', { devEuis })).data].flat() as Row[]; }
  async payOrders(devEuis: string[], q: { startDate?: string; endDate?: string } = {}): Promise<Row[]> { return this.pages('queryPayorders', { devEuis, ...q }, 100); }

  /** The meter file whose devEui, meter address, user number or id is `number`, searched in every managed area. */
  async findMeter(number: string): Promise<Row> {
    const n = number.trim().toLowerCase();
    if (!n) throw new Error('the meter number is empty (number_meter: a devEui, meter address or meter id)');
    for (const areaId of await this.areaIds()) {
      const rows = await this.meters({ areaId, searchContent: number.trim() });
      const hit = rows.find((r) => [r.deveui, r.devEui, r.serialnumber, r.customerSerialnumber, r.id].some((v) => v !== undefined && String(v).toLowerCase() === n));
      if (hit) return hit;
    }
    throw new Error(`meter number ${JSON.stringify(number)} is not on the platform (no meter file with that devEui, meter address or id)`);
  }

  /** Reads one meter now: its register at the meter's last uplink, as a Reading of EMS meter `meterId`. */
  async readMeter(meterId: string, number: string): Promise<{ readings: Reading[]; archive: Row; realTime?: Row }> {
    const archive = await this.findMeter(number);
    const devEui = String(archive.deveui ?? archive.devEui ?? '');
    if (/^[0-9a-fA-F]{16}$/.test(devEui) && archive.energyType !== 'LIQUEFIEDGAS') {
      const rt = await this.realTime(devEui);
      const value = rt.cumulantFlow ?? rt.positiveCumulantFlow;
      return { readings: [toReading(meterId, archive.energyType, value, platformTime(rt.readTime, this.utcOffsetMin))], archive, realTime: rt };
    }
    return { readings: [toReading(meterId, archive.energyType, archive.readings, Date.now())], archive };
  }
}
