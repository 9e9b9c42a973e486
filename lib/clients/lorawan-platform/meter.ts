/**
 * How an EMS meter definition (protocol "lorawan-platform") names its platform: ip_address and port =
 * the platform server (https when the port is 443), profile = the URL path when not the default
 * /api/commonInternal.jsp, number_meter = the platform's meter (devEui, meter address or meter id),
 * password = "account:password" (logs in) or an apiToken (no colon). Empty fields fall back to `defaults`.
 */
import { DEFAULT_PATH, type ClientOptions } from './client';

export interface MeterConnection { options: ClientOptions; number: string }

interface MeterFields { ip_address?: string; port?: number | string; profile?: string; number_meter?: string; password?: string; name?: string }

export function meterConnection(meter: MeterFields, defaults: Partial<ClientOptions> = {}): MeterConnection {
  const number = String(meter.number_meter ?? '').trim();
  if (!number) throw new Error(`number_meter "" of meter ${JSON.stringify(meter.name ?? '')} must name the platform's meter (its devEui, meter address or id)`);
  let url = defaults.url;
  const host = String(meter.ip_address ?? '').trim();
  if (host) {
    if (host.startsWith('/')) throw new Error(`ip_address ${JSON.stringify(host)} must be the platform's host name or IP address, not a serial device`);
    const port = Number(meter.port ?? 80);
    if (!Number.isInteger(port) || port < 1 || port > 65535) throw new Error(`port ${JSON.stringify(meter.port)} must be 1-65535`);
    const path = String(meter.profile ?? '').trim() || DEFAULT_PATH;
    if (!path.startsWith('/')) throw new Error(`profile ${JSON.stringify(meter.profile)} must be the platform's URL path, e.g. /internal/commonInternal.jsp`);
    url = `${port === 443 ? 'https' : 'http'}://${host.includes(':') ? `[${host}]` : host}${port === 80 || port === 443 ? '' : `:${port}`}${path}`;
  }
  if (!url) throw new Error(`meter ${JSON.stringify(meter.name ?? number)} has no platform: set ip_address and port, or the node's server URL`);
  const options: ClientOptions = { ...defaults, url };
  const secret = String(meter.password ?? '');
  if (secret) {
    const colon = secret.indexOf(':');
    if (colon > 0) Object.assign(options, { username: secret.slice(0, colon), password: secret.slice(colon + 1), apiToken: undefined });
    else if (colon === 0) throw new Error('password must be "account:password" or an apiToken; the account before the colon is empty');
    else Object.assign(options, { apiToken: secret, username: undefined, password: undefined });
  }
  if (!options.username && !options.apiToken) throw new Error(`meter ${JSON.stringify(meter.name ?? number)} has no platform credentials: set password to "account:password" or an apiToken, or configure the server node`);
  return { options, number };
}
