/**
 * The operations of the ems-g13 node as plain functions (client + arguments in, result out), and the
 * mapping of an EMS meter definition (protocol "g13") to a gateway connection.
 */
import type { Reading } from '../../model/reading';
import type { G13Client, G13ClientOptions, Json } from './client';
import { G13Error, normaliseFingerprint, type TlsMode } from './transport';
import { executeRead, gatewayEvents, meterEvents, readLoadProfile, readMeterValues, readTariffEnergies } from './readings';

export const OPERATIONS = ['values', 'tariffs', 'loadprofile', 'events', 'meters', 'scan', 'add', 'settime', 'execute', 'request'] as const;
export type G13Operation = typeof OPERATIONS[number];

export interface OperationArgs {
  serial?: string;
  /** EMS meter id the readings carry (default: the serial). */
  meter?: string;
  channel?: number;
  from?: unknown;
  to?: unknown;
  devices?: string[];
  obis?: unknown;
  classid?: number;
  attributes?: number[];
  method?: string;
  path?: string;
  body?: unknown;
  datetime?: unknown;
  /** Scan: how long to wait for it to complete, ms. */
  waitMs?: number;
}

export interface OperationResult { payload: unknown; readings?: Reading[]; raw?: unknown; detail?: Record<string, unknown> }

const need = (client: G13Client, op: string, field: string, v: unknown): never => {
  throw new G13Error('invalid', client.name, op, `${field} is required for "${op}", got ${JSON.stringify(v)}`);
};

function serialsToAdd(body: unknown): { serial: string; alias?: string; location?: string }[] {
  const list = Array.isArray(body) ? body : body === undefined || body === null || body === '' ? [] : [body];
  return list.map((x) => (typeof x === 'string' ? { serial: x } : (x as { serial: string; alias?: string; location?: string })));
}

export async function runOperation(client: G13Client, op: G13Operation, a: OperationArgs): Promise<OperationResult> {
  const serial = a.serial?.trim();
  const meter = a.meter || serial || '';
  switch (op) {
    case 'values': {
      if (!serial) need(client, op, 'serial', a.serial);
      const r = await readMeterValues(client, serial!, meter);
      return { payload: r.readings, readings: r.readings, raw: r.raw };
    }
    case 'tariffs': {
      if (!serial) need(client, op, 'serial', a.serial);
      const r = await readTariffEnergies(client, serial!, meter);
      return { payload: r.readings, readings: r.readings, raw: r.raw };
    }
    case 'loadprofile': {
      if (!serial) need(client, op, 'serial', a.serial);
      if (a.from === undefined || a.from === '') need(client, op, 'from', a.from);
      const r = await readLoadProfile(client, serial!, a.channel ?? 1, a.from, a.to ?? Date.now(), meter);
      return { payload: r.readings, readings: r.readings, raw: r.raw, detail: { skipped: r.skipped, quantity: r.quantity?.name } };
    }
    case 'events': {
      if (serial) {
        const raw = await client.meterEvents(serial, a.to ?? Date.now());
        return { payload: meterEvents(raw, client.timeZone), raw };
      }
      const raw = await client.gatewayEvents();
      return { payload: gatewayEvents(raw, client.timeZone), raw };
    }
    case 'meters': {
      const r = await client.meters();
      return { payload: r.meters, raw: r.raw };
    }
    case 'scan': {
      const body = (a.body && typeof a.body === 'object' ? a.body : { eqbus: { start: 17, end: 49 } }) as Record<string, unknown>;
      const r = await client.scan(body, a.waitMs ?? 60_000);
      return { payload: r.results, raw: r.raw, detail: { token: r.token, scancomplete: r.scancomplete } };
    }
    case 'add': {
      const items = serialsToAdd(a.body ?? serial);
      if (!items.length || items.some((i) => !i?.serial)) need(client, op, 'payload (serials or {serial, alias, location} objects)', a.body);
      const results: { serial: string; ok: boolean; error?: string }[] = [];
      for (const i of items) {
        try { await client.addMeter(i.serial, i.alias ?? i.serial, i.location ?? ''); results.push({ serial: i.serial, ok: true }); }
        catch (e) { results.push({ serial: i.serial, ok: false, error: (e as Error).message }); }
      }
      if (results.every((r) => !r.ok)) throw new G13Error('server', client.name, 'PUT /meters', results.map((r) => r.error).join('; '));
      return { payload: results };
    }
    case 'settime': {
      const when = a.datetime === undefined || a.datetime === '' ? Date.now() : a.datetime;
      await client.setGatewayTime(when);
      const now = await client.gatewayTime();
      return { payload: now.datetime, raw: now.raw };
    }
    case 'execute': {
      const devices = a.devices ?? (serial ? [serial] : []);
      if (!a.obis) need(client, op, 'obis', a.obis);
      const r = await executeRead(client, devices, a.obis, a.classid ?? 3, a.attributes ?? [2, 3]);
      return { payload: r.readings, readings: r.readings, raw: r.raw, detail: { failed: r.failed } };
    }
    case 'request': {
      if (!a.path) need(client, op, 'path', a.path);
      const raw: Json = await client.request(a.method || 'GET', a.path!, a.body === '' ? undefined : a.body);
      return { payload: raw, raw };
    }
    default:
      throw new G13Error('invalid', client.name, String(op), `operation must be one of ${OPERATIONS.join(', ')}, got ${JSON.stringify(op)}`);
  }
}

/** What an EMS meter definition (protocol "g13") says about its gateway. */
export interface MeterGateway { options: G13ClientOptions; serial: string }

/**
 * ip_address/port = the gateway (or a full https:// / http:// URL in ip_address), connection_address =
 * the meter's serial on the gateway (number_meter when empty), password = "user:password" of a gateway
 * account or just a password for `defaultUser`, profile = how to trust its certificate: "" (defaults),
 * "sha256:<64 hex>" or the bare fingerprint, "verify", or "plain"/"http".
 */
export function gatewayOfMeter(m: Record<string, unknown>, defaults: Partial<G13ClientOptions> & { defaultUser?: string } = {}): MeterGateway {
  const s = (k: string) => (m[k] === undefined || m[k] === null ? '' : String(m[k]).trim());
  const bad = (field: string, rule: string): never => { throw new G13Error('invalid', s('ip_address') || '(no gateway)', 'meter definition', `${field} ${JSON.stringify(m[field])} ${rule}`); };
  const serial = s('connection_address') || s('number_meter');
  if (!serial || serial.length > 17) bad('connection_address', 'must be the meter\'s serial on the G13 gateway (1-17 characters)');
  const host = s('ip_address');
  if (!host || host.startsWith('/')) bad('ip_address', 'must be the G13 gateway\'s host name or IP address');
  const profile = s('profile');
  let tls: TlsMode | undefined = defaults.tls;
  let fingerprint = defaults.fingerprint;
  if (/^(plain|http)$/i.test(profile)) tls = 'plain';
  else if (/^verify$/i.test(profile)) tls = 'verify';
  else if (profile) {
    fingerprint = normaliseFingerprint(profile);
    if (fingerprint.length !== 64) bad('profile', 'must be empty, "verify", "plain" or the gateway certificate\'s SHA-256 fingerprint (sha256:AB:CD:...)');
    tls = 'fingerprint';
  }
  let url = host;
  if (!/^https?:\/\//i.test(host)) {
    const port = Number(m.port) || 0;
    const scheme = tls === 'plain' ? 'http' : 'https';
    url = `${scheme}://${host.includes(':') ? `[${host}]` : host}${port && port !== (scheme === 'http' ? 80 : 443) ? `:${port}` : ''}`;
  } else if (host.toLowerCase().startsWith('http:')) tls = 'plain';
  const password = s('password');
  const colon = password.indexOf(':');
  const user = colon > 0 ? password.slice(0, colon) : defaults.defaultUser || defaults.user || 'admin';
  const key = colon > 0 ? password.slice(colon + 1) : password || (defaults.password ?? '');
  if (colon > 0 && !/^[a-z0-9]+$/.test(user)) {
    throw new G13Error('invalid', url, 'meter definition', `password must be "user:password" with a G13 user name of lowercase letters and digits, got user ${JSON.stringify(user)}`);
  }
  return { serial, options: { ...defaults, url, user, password: key, tls, fingerprint } };
}
