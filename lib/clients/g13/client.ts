/**
 * A typed client for the ABB G13 gateway's JSON API (manual chapter 6, digest shared/specs/003-g13.md).
 * request() reaches any resource; the typed methods cover the documented ones and tolerate both
 * readings of the manual's contradictions (/power or /powers, /tariff/seasonprofiles or /seasons,
 * loadprofiles with or without <channel>, DELETE /meters/<serial> or /meters, scancomplete 0/1/2,
 * numbers sent as strings, a protected DELETE answered 200 with an error status).
 */
import { G13Error, G13Transport, RawBody, type RawResponse, type TransportOptions } from './transport';
import { toG13Time } from './values';

export type Json = null | boolean | number | string | Json[] | { [k: string]: Json };
export type EnergyType = 'active' | 'reactive' | 'apparent';

export interface G13ClientOptions extends TransportOptions {
  /** IANA zone of the gateway's clock (its timestamps carry none). Default UTC. */
  timeZone?: string;
  /** Interval between GET /meters/scanned polls while waiting for a scan, ms (default 1000). */
  scanPollMs?: number;
}

export interface MeterEntry { serial: string; alias: string; location: string; protocol: number; address: string; status: number }

const NOT_METER = new Set(['scanned', 'firmware', 'firmwareupdatestatus']);
const enc = encodeURIComponent;

function meterOf(path: string): string | undefined {
  const m = /^\/meters\/([^/]+)/.exec(path);
  return m && !NOT_METER.has(m[1]) ? decodeURIComponent(m[1]) : undefined;
}

function parseJson(text: string): { ok: true; value: Json } | { ok: false } {
  if (text.trim() === '') return { ok: true, value: null };
  try { return { ok: true, value: JSON.parse(text) as Json }; } catch { return { ok: false }; }
}

function desOf(v: Json, text: string): string {
  if (v && typeof v === 'object' && !Array.isArray(v) && typeof v.des === 'string') return v.des;
  const plain = text.replace(/<[^>]+>/g, ' ').replace(/\s+/g, ' ').trim();
  return plain.slice(0, 200) || '(empty body)';
}

const num = (v: unknown): number => (typeof v === 'number' ? v : Number(String(v ?? '').trim()));

export class G13Client {
  readonly transport: G13Transport;
  readonly timeZone: string;
  /** Which spelling of a contradicted path this gateway answered (key -> path variant index). */
  private readonly variants = new Map<string, number>();

  constructor(readonly options: G13ClientOptions) {
    this.transport = new G13Transport(options);
    this.timeZone = options.timeZone || 'UTC';
  }

  get name(): string { return this.transport.name; }
  get depth(): number { return this.transport.depth; }
  close(): void { this.transport.close(); }

  /** Any resource: resolves with the parsed JSON body (null when empty); rejects with a G13Error. */
  request(method: string, path: string, body?: unknown): Promise<Json> {
    const m = String(method || 'GET').toUpperCase();
    if (!['GET', 'POST', 'PUT', 'DELETE'].includes(m)) return Promise.reject(new G13Error('invalid', this.name, `${method} ${path}`, `method must be GET, POST, PUT or DELETE, got ${JSON.stringify(method)}`));
    const p = String(path || '');
    if (!p.startsWith('/')) return Promise.reject(new G13Error('invalid', this.name, `${m} ${path}`, `path must start with "/", got ${JSON.stringify(path)}`));
    const meter = meterOf(p);
    return this.transport.exclusive(async () => {
      const res = await this.transport.exchange(m, p, body, meter);
      return this.interpret(m, p, res, meter);
    });
  }

  /** Status and body -> value or G13Error; a 200 whose body will not parse is explained by /lasterror/<id>. */
  private async interpret(method: string, path: string, res: RawResponse, meter?: string): Promise<Json> {
    const resource = `${method} ${path}`;
    const parsed = parseJson(res.text);
    const err = (kind: ConstructorParameters<typeof G13Error>[0], des: string) => new G13Error(kind, this.name, resource, des, res.status, meter);
    if (res.status >= 200 && res.status < 300) {
      if (!parsed.ok || !res.complete) {
        const link = String(res.headers.link ?? '').split(',')[0].trim().replace(/^<|>.*$/g, '') || '/lasterror/0';
        let detail = 'no detail from the gateway';
        try {
          const le = await this.transport.exchange('GET', link.startsWith('/') ? link : `/${link}`, undefined, meter);
          const v = parseJson(le.text);
          if (v.ok && le.status === 200) detail = desOf(v.value, le.text);
        } catch (e) { detail = `${link} failed: ${(e as Error).message}`; }
        throw err('truncated', `the body broke off after a 200 (${res.text.length} bytes); ${link}: ${detail}`);
      }
      const v = parsed.value;
      if (v && typeof v === 'object' && !Array.isArray(v) && v.status === 'error') {
        const des = desOf(v, res.text);
        throw err(/DENIED|Forbidden/i.test(des) ? 'forbidden' : /COSEM/i.test(des) ? 'cosem' : 'server', des);
      }
      return v;
    }
    const des = parsed.ok ? desOf(parsed.value, res.text) : desOf(null, res.text);
    if (res.status === 401) throw err('auth', `wrong user name or password (${des})`);
    if (res.status === 403 && /reset password/i.test(des)) throw err('password-change', `the gateway requires a password change: ${des}`);
    if (res.status === 403) throw err('forbidden', meter ? `no access to meter ${meter}: ${des}` : des);
    if (res.status === 404 || /URI not found/i.test(des)) throw err('not-found', des);
    if (res.status >= 400 && res.status < 500) throw err('bad-request', des);
    throw err(/COSEM/i.test(des) ? 'cosem' : 'server', des);
  }

  /** Tries each spelling of a contradicted path; remembers the one the gateway knows. */
  private async variant(key: string, method: string, paths: string[], body?: unknown): Promise<Json> {
    const first = this.variants.get(key) ?? 0;
    const order = [first, ...paths.map((_, i) => i).filter((i) => i !== first)];
    let last: unknown;
    for (const i of order) {
      try {
        const v = await this.request(method, paths[i], body);
        this.variants.set(key, i);
        return v;
      } catch (e) {
        last = e;
        if (!(e instanceof G13Error && (e.kind === 'not-found' || (e.kind === 'bad-request' && /parse|URI|Invalid Request/i.test(e.des))))) throw e;
      }
    }
    throw last;
  }

  private time(v: unknown, field: string): string {
    try { return toG13Time(v, this.timeZone, field); } catch (e) { throw new G13Error('invalid', this.name, field, (e as Error).message); }
  }

  /** "<from>/<count|to>" in both documented date forms (dashes, as in every example, then colons). */
  private rangePaths(base: string, from?: unknown, countOrTo?: unknown): string[] {
    if (from === undefined || from === null || from === '') return [base];
    const f = this.time(from, 'from');
    const tail = countOrTo === undefined || countOrTo === null || countOrTo === '' ? '' : /^\d{1,5}$/.test(String(countOrTo)) ? `/${countOrTo}` : `/${this.time(countOrTo, 'to')}`;
    const colons = (s: string) => s.replace(/^(\d{4})-(\d{2})-(\d{2})/, '$1:$2:$3');
    return [`${base}/${f}${tail}`, `${base}/${colons(f)}${tail.replace(/(\d{4})-(\d{2})-(\d{2})T/, '$1:$2:$3T')}`];
  }

  // ---- gateway and system (6.3.1-6.3.16, 6.3.91) ----
  about() { return this.request('GET', '/about'); }
  /** POST /login; with a new key it answers the forced password change ({name, oldkey, key}). */
  login(change?: { name: string; oldkey: string; key: string }) { return this.request('POST', '/login', change); }
  logout() { return this.request('POST', '/logout'); }
  configuration() { return this.request('GET', '/configuration'); }
  setIp(body: Record<string, unknown>) { return this.request('POST', '/configuration/ip', body); }
  setEqbus(body: { baudrate: number; interoctettimeout?: number }) { return this.request('POST', '/configuration/eqbus', body); }
  setMbusWired(body: Record<string, number>) { return this.request('POST', '/configuration/mbus-wired', body); }
  /** The manual spells the key delay_before_reqd2 here and requd2 in GET /configuration: either is accepted in. */
  setMbusIr(body: Record<string, number>) {
    const b = { ...body };
    if (b.delay_before_requd2 !== undefined && b.delay_before_reqd2 === undefined) { b.delay_before_reqd2 = b.delay_before_requd2; delete b.delay_before_requd2; }
    return this.request('POST', '/configuration/mbus-ir', b);
  }
  gateway() { return this.request('GET', '/gateway'); }
  setGateway(body: { serial?: string; alias?: string; location?: string }) { return this.request('POST', '/gateway', body); }
  async gatewayTime(): Promise<{ datetime: string; set: boolean; raw: Json }> {
    const v = (await this.request('GET', '/gateway/datetime')) as { datetime?: string; status?: string };
    return { datetime: String(v?.datetime ?? ''), set: v?.status === 'set', raw: v as Json };
  }
  /** Sets the gateway clock (default: now, in the gateway's time zone). */
  setGatewayTime(when: unknown = Date.now()) { return this.request('POST', '/gateway/datetime', { datetime: this.time(when, 'datetime') }); }
  gatewayEvents() { return this.request('GET', '/gateway/events'); }
  clearGatewayEvents() { return this.request('DELETE', '/gateway/events'); }
  reboot() { return this.request('POST', '/gateway/reboot'); }
  /** One OBIS read across up to 5 meters (one interface class per call). */
  execute(devices: string[], obis: number[] | string, classid = 3, attributes: number[] = [2, 3]) {
    if (!Array.isArray(devices) || devices.length < 1 || devices.length > 5) {
      return Promise.reject(new G13Error('invalid', this.name, 'POST /gateway/execute', `devices must list 1 to 5 meter serials, got ${JSON.stringify(devices)}`));
    }
    return this.request('POST', '/gateway/execute', { devices, obis, classid, attributes });
  }
  lastError(id: number | string = 0) { return this.request('GET', `/lasterror/${enc(String(id))}`); }

  // ---- users and bindings (6.3.17-6.3.23) ----
  async users(): Promise<string[]> { return (((await this.request('GET', '/users')) as { users?: Json[] })?.users ?? []).map(String); }
  changePassword(user: string, oldkey: string, key: string) { return this.request('POST', `/users/${enc(user)}`, { name: user, oldkey, key }); }
  addUser(name: string, key: string) { return this.request('PUT', '/users', { name, key }); }
  deleteUser(name: string) { return this.request('DELETE', `/users/${enc(name)}`, { name }); }
  bindings(user: string) { return this.request('GET', `/users/${enc(user)}/bindings`); }
  bind(user: string, serial: string, access: 'Configure' | 'View Only') { return this.request('PUT', `/users/${enc(user)}/bindings`, { name: user, serial, access }); }
  unbind(user: string, serial: string) { return this.request('DELETE', `/users/${enc(user)}/bindings`, { name: user, serial, access: 'No Access' }); }

  // ---- firmware (6.3.24-6.3.27) ----
  /** Stage 1: stores one firmware image (meter or gateway) on the gateway, multipart part "image". */
  uploadFirmware(image: Buffer, filename = 'firmware.bin') {
    const boundary = `----g13${Date.now().toString(16)}`;
    const head = Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="image"; filename="${filename.replace(/"/g, '')}"\r\nContent-Type: application/octet-stream\r\n\r\n`);
    const data = Buffer.concat([head, image, Buffer.from(`\r\n--${boundary}--\r\n`)]);
    return this.request('POST', '/firmware', new RawBody(data, `multipart/form-data; boundary=${boundary}`));
  }
  firmwareStatus() { return this.request('GET', '/meters/firmwareupdatestatus'); }
  updateGatewayFirmware() { return this.request('PUT', '/firmware'); }
  updateMeterFirmware(meters: string[]) { return this.request('PUT', '/meters/firmware', { meters }); }

  // ---- discovery and registration (6.3.28-6.3.40) ----
  parameterMapping() { return this.request('GET', '/parametermapping'); }
  storableQuantities() { return this.request('GET', '/storablequantities'); }
  associationObjects(serial: string) { return this.request('GET', `/meters/${enc(serial)}/associationobjects`); }
  /** GET /meters flattened: every meter with its location (protocol and status as numbers). */
  async meters(): Promise<{ meters: MeterEntry[]; raw: Json }> {
    const raw = await this.request('GET', '/meters');
    const out: MeterEntry[] = [];
    for (const loc of ((raw as { locations?: Json[] })?.locations ?? []) as { location?: string; meters?: Record<string, Json>[] }[]) {
      for (const m of loc.meters ?? []) {
        out.push({ serial: String(m.serial ?? ''), alias: String(m.alias ?? ''), location: String(loc.location ?? ''), protocol: num(m.protocol), address: String(m.address ?? ''), status: num(m.status) });
      }
    }
    return { meters: out, raw };
  }
  updateMeter(serial: string, alias: string, location: string) { return this.request('POST', `/meters/${enc(serial)}`, { alias, location, serial }); }
  /** Registers a scanned meter (PUT /meters). */
  addMeter(serial: string, alias = serial, location = '') { return this.request('PUT', '/meters', { alias, location, serial }); }
  removeMeter(serial: string, alias = serial, location = '') {
    return this.variant('delete-meter', 'DELETE', [`/meters/${enc(serial)}`, '/meters'], { alias, location, serial });
  }
  /** GET /meters/scanned; complete: 1 = done, 2 = running, 0 (the manual's example) = not running. */
  async scanned(): Promise<{ results: { token: number; serial: string; protocol: number; address: string }[]; scancomplete: number; raw: Json }> {
    const raw = (await this.request('GET', '/meters/scanned')) as { scanresult?: Record<string, Json>[]; scancomplete?: Json };
    const results = (raw?.scanresult ?? []).map((r) => ({ token: num(r.token), serial: String(r.serial ?? ''), protocol: num(r.protocol), address: String(r.address ?? '') }));
    return { results, scancomplete: num(raw?.scancomplete ?? 0), raw: raw as Json };
  }
  /** Starts a scan (only if none is running); the token is a Unix time unless given. */
  startScan(body: Record<string, unknown>): Promise<{ token: number; result: Json }> {
    const token = Number(body.token ?? Math.floor(Date.now() / 1000));
    return this.request('POST', `/meters/scanned/${token}`, { ...body, token }).then((result) => ({ token, result }));
  }
  /** Starts a scan and polls until it completes (or timeoutMs passes); resolves with the scanned meters. */
  async scan(body: Record<string, unknown>, timeoutMs = 60_000) {
    const { token } = await this.startScan(body);
    const deadline = Date.now() + timeoutMs;
    let sawRunning = false;
    let zeros = 0;
    for (;;) {
      await new Promise((r) => setTimeout(r, this.options.scanPollMs ?? 1000));
      const s = await this.scanned();
      if (s.scancomplete === 2) sawRunning = true;
      if (s.scancomplete === 0) zeros++;
      // 1 = complete per the text; 0 after "running" (or repeatedly) = idle again per the example.
      if (s.scancomplete === 1 || (s.scancomplete === 0 && (sawRunning || zeros >= 3))) return { token, ...s };
      if (Date.now() > deadline) throw new G13Error('timeout', this.name, 'GET /meters/scanned', `scan ${token} did not complete within ${timeoutMs} ms`);
    }
  }
  deleteScanned(serials?: string[]) {
    return this.request('DELETE', '/meters/scanned', serials?.length ? { deletescanned: serials.map((serial) => ({ serial })) } : undefined);
  }
  permittedMeters() { return this.request('GET', '/permittedmeters'); }
  permitMeters(meters: string[]) { return this.request('PUT', '/permittedmeters', { meters }); }
  unpermitMeters(meters: string[]) { return this.request('DELETE', '/permittedmeters', { meters }); }

  // ---- per meter (6.3.41-6.3.90) ----
  private m(serial: string, rest = ''): string {
    if (typeof serial !== 'string' || serial.trim() === '' || serial.length > 17) {
      throw new G13Error('invalid', this.name, `/meters/<serial>${rest}`, `meter serial must be 1-17 characters, got ${JSON.stringify(serial)}`);
    }
    return `/meters/${enc(serial.trim())}${rest}`;
  }
  meterTime(serial: string) { return this.request('GET', this.m(serial, '/datetime')); }
  setMeterTime(serial: string, body: { datetime?: unknown; dstenable?: boolean; dststart?: unknown; dstend?: unknown }) {
    return this.request('POST', this.m(serial, '/datetime'), { ...body, datetime: this.time(body.datetime ?? Date.now(), 'datetime') });
  }
  info(serial: string) { return this.request('GET', this.m(serial, '/info')); }
  conversionFactor(serial: string) { return this.request('GET', this.m(serial, '/energy/conversionfactor')); }
  setConversionFactor(serial: string, f: { co2?: number; currency?: number }) { return this.request('POST', this.m(serial, '/energy/conversionfactor'), { conversionfactor: f }); }
  hardwareVersion(serial: string) { return this.request('GET', this.m(serial, '/hardwareversion')); }
  mbusInfo(serial: string) { return this.request('GET', this.m(serial, '/mbusinfo')); }
  setTransformer(serial: string, r: { ctnum: number | string; ctdenum: number | string; vtnum: number | string; vtdenum: number | string }) {
    return this.request('POST', this.m(serial, '/transformersettings'), r);
  }
  /** The health check: 200 = the meter answers over its bus. */
  status(serial: string) { return this.request('GET', this.m(serial, '/status')); }
  statusFlags(serial: string) { return this.request('GET', this.m(serial, '/statusflags')); }
  /** Events up to `until` (default now), at most 100. */
  meterEvents(serial: string, until: unknown = Date.now(), count?: number) {
    return this.request('GET', this.m(serial, `/events/${this.time(until, 'until')}${count ? `/${Math.min(100, Math.max(1, Math.floor(count)))}` : ''}`));
  }
  alarms(serial: string) { return this.request('GET', this.m(serial, '/alarms/configuration')); }
  setAlarm(serial: string, alarm: Record<string, unknown>) { return this.request('POST', this.m(serial, '/alarms/configuration'), { alarmconfig: alarm }); }
  energy(serial: string, type: EnergyType = 'active') { return this.request('GET', this.m(serial, `/energy/${type}`)); }
  energyValue(serial: string, mode: 'co2' | 'currency') { return this.request('GET', this.m(serial, `/energy/active/${mode}`)); }
  resettableEnergy(serial: string) { return this.request('GET', this.m(serial, '/energy/resettable')); }
  resetEnergy(serial: string, which: Record<string, boolean>) { return this.request('POST', this.m(serial, '/energy/resettable'), { resettableenergy: which }); }
  resetCounter(serial: string) { return this.request('GET', this.m(serial, '/energy/resetcounter')); }
  power(serial: string) { return this.variant('power', 'GET', [this.m(serial, '/power'), this.m(serial, '/powers')]); }
  instrument(serial: string) { return this.request('GET', this.m(serial, '/instrument')); }
  harmonics(serial: string, kind: 'voltage' | 'current') { return this.request('GET', this.m(serial, `/harmonics/${kind}`)); }
  io(serial: string) { return this.request('GET', this.m(serial, '/io')); }
  setIo(serial: string, iostatus: Record<string, unknown>[]) { return this.request('POST', this.m(serial, '/io'), { iostatus }); }
  ioConfiguration(serial: string) { return this.request('GET', this.m(serial, '/io/configuration')); }
  setIoConfiguration(serial: string, ioconfig: number[]) { return this.request('POST', this.m(serial, '/io/configuration'), { ioconfig }); }
  pulse(serial: string) { return this.request('GET', this.m(serial, '/io/pulse')); }
  setPulse(serial: string, pulse: Record<string, unknown>[]) { return this.request('POST', this.m(serial, '/io/pulse'), { pulse }); }
  previousValues(serial: string, from?: unknown, countOrTo?: unknown) { return this.variant('pv-date', 'GET', this.rangePaths(this.m(serial, '/previousvalues'), from, countOrTo)); }
  previousValuesConfiguration(serial: string) { return this.request('GET', this.m(serial, '/previousvalues/configuration')); }
  setPreviousValuesConfiguration(serial: string, body: Record<string, unknown>) { return this.request('POST', this.m(serial, '/previousvalues/configuration'), body); }
  clearPreviousValues(serial: string) { return this.request('DELETE', this.m(serial, '/previousvalues')); }
  /** A load-profile channel 1-8 from a date to a date or count; the channel-less spelling is tried too. */
  loadProfile(serial: string, channel: number, from?: unknown, countOrTo?: unknown) {
    if (!Number.isInteger(channel) || channel < 1 || channel > 8) {
      return Promise.reject(new G13Error('invalid', this.name, this.m(serial, '/loadprofiles'), `channel must be 1-8, got ${JSON.stringify(channel)}`, undefined, serial));
    }
    const base = this.m(serial, '/loadprofiles');
    const withChannel = this.rangePaths(`${base}/${channel}`, from, countOrTo);
    const paths = channel === 1 ? [...withChannel, ...this.rangePaths(base, from, countOrTo)] : withChannel;
    return this.variant('lp', 'GET', paths);
  }
  loadProfileConfiguration(serial: string) { return this.request('GET', this.m(serial, '/loadprofiles/configuration')); }
  setLoadProfileConfiguration(serial: string, lpconfig: number[][]) { return this.request('POST', this.m(serial, '/loadprofiles/configuration'), { lpconfig }); }
  clearLoadProfiles(serial: string, channel?: number) { return this.request('DELETE', this.m(serial, `/loadprofiles${channel ? `/${channel}` : ''}`)); }
  demand(serial: string, channel?: number, from?: unknown, countOrTo?: unknown) {
    return this.variant('dm-date', 'GET', this.rangePaths(this.m(serial, `/demand${channel ? `/${channel}` : ''}`), from, countOrTo));
  }
  demandConfiguration(serial: string) { return this.request('GET', this.m(serial, '/demand/configuration')); }
  setDemandConfiguration(serial: string, body: Record<string, unknown>) { return this.request('POST', this.m(serial, '/demand/configuration'), body); }
  clearDemand(serial: string) { return this.request('DELETE', this.m(serial, '/demand')); }
  tariff(serial: string) { return this.request('GET', this.m(serial, '/tariff')); }
  setTariff(serial: string, body: { tariff?: number; source?: number; inputconfig?: number[] }) { return this.request('POST', this.m(serial, '/tariff'), body); }
  dayProfiles(serial: string) { return this.request('GET', this.m(serial, '/tariff/dayprofiles')); }
  setDayProfile(serial: string, profile: number, actions: [number, string][]) { return this.request('POST', this.m(serial, '/tariff/dayprofiles'), { actions, profile }); }
  weekProfiles(serial: string) { return this.request('GET', this.m(serial, '/tariff/weekprofiles')); }
  setWeekProfiles(serial: string, weekprofiles: Record<string, unknown>[]) { return this.request('POST', this.m(serial, '/tariff/weekprofiles'), { weekprofiles }); }
  seasonProfiles(serial: string) { return this.variant('seasons', 'GET', [this.m(serial, '/tariff/seasonprofiles'), this.m(serial, '/tariff/seasons')]); }
  setSeasonProfiles(serial: string, seasonprofiles: Record<string, unknown>[]) {
    return this.variant('seasons', 'POST', [this.m(serial, '/tariff/seasonprofiles'), this.m(serial, '/tariff/seasons')], { seasonprofiles });
  }
  specialDays(serial: string) { return this.request('GET', this.m(serial, '/tariff/specialdayprofiles')); }
  setSpecialDay(serial: string, body: Record<string, unknown>) { return this.request('POST', this.m(serial, '/tariff/specialdayprofiles'), body); }
}
