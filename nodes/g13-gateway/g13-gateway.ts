import type { Node, NodeAPI, NodeDef } from 'node-red';
import { G13Client, type G13ClientOptions, type TlsMode } from '../../lib/clients/g13';
import { redactUrl } from '../../lib/clients/bounded-fetch';
import { withoutUnsetEnv } from '../unset-env';

export interface G13GatewayDef extends NodeDef {
  url: string;
  tls: TlsMode;
  fingerprint: string;
  timeZone: string;
  timeout: string;
}

interface Credentials { user?: string; password?: string }

/** What ems-g13 nodes see of the config node. */
export interface G13GatewayNode extends Node<Credentials> {
  /** The shared client, or undefined when the configuration is invalid (see configError). */
  client?: G13Client;
  configError?: string;
  /** Connection defaults for other gateways (msg.meter): TLS mode, time zone, timeout, user. */
  defaults?: Partial<G13ClientOptions>;
}

/** The editor's properties -> client options; throws naming the bad field. */
export function parseGatewayConfig(def: G13GatewayDef, creds: Credentials): G13ClientOptions {
  const url = (def.url || '').trim();
  if (!url) throw new Error('url is required (e.g. https://192.168.1.12)');
  const tls = def.tls || (url.startsWith('http:') ? 'plain' : 'verify');
  if (!['verify', 'fingerprint', 'plain'].includes(tls)) throw new Error(`tls must be verify, fingerprint or plain, got "${tls}"`);
  const timeout = def.timeout === undefined || def.timeout === '' ? 15_000 : Number(def.timeout);
  if (!Number.isInteger(timeout) || timeout < 100 || timeout > 600_000) throw new Error(`timeout must be 100..600000 ms, got "${def.timeout}"`);
  const timeZone = (def.timeZone || '').trim() || 'UTC';
  try { new Intl.DateTimeFormat('en-US', { timeZone }); } catch { throw new Error(`timeZone must be an IANA time zone such as Europe/Berlin, got "${timeZone}"`); }
  return { url, tls, fingerprint: def.fingerprint, timeZone, timeout, user: creds.user || 'admin', password: creds.password ?? '' };
}

export default function init(RED: NodeAPI): void {
  function G13Gateway(this: G13GatewayNode, configured: G13GatewayDef): void {
    RED.nodes.createNode(this, configured);
    const def = withoutUnsetEnv(configured);
    const creds = this.credentials ?? {};
    this.defaults = {};
    try {
      const options = parseGatewayConfig(def, creds);
      const { url: _url, fingerprint: _fp, password: _pw, ...defaults } = options;
      this.defaults = defaults;
      this.client = new G13Client(options);
    } catch (err) {
      this.configError = (err as Error).message;
      this.error(`G13 gateway "${def.name || redactUrl(def.url ?? '')}": ${this.configError}`);
    }
    this.on('close', (_removed: boolean, done: () => void) => {
      this.client?.close();
      done();
    });
  }
  RED.nodes.registerType<G13GatewayNode, G13GatewayDef, Record<string, never>, Credentials>('ems-g13-gateway', G13Gateway, {
    credentials: { user: { type: 'text' }, password: { type: 'password' } },
  });
}
