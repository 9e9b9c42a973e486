import type { Node, NodeAPI, NodeDef } from 'node-red';
import { LorawanPlatformClient, endpointUrl, type ClientOptions } from '../../lib/clients/lorawan-platform';
import { withoutUnsetEnv } from '../unset-env';

export interface ServerDef extends NodeDef { url: string; utcOffset: string; timeout: string }
interface Credentials { username?: string; password?: string; apiToken?: string }

/** What user nodes see of the config node. */
export interface LorawanPlatformServerNode extends Node<Credentials> {
  /** The node's own settings: URL, account or apiToken, time offset, timeout (url may be ""). */
  defaults: Partial<ClientOptions>;
  /** One client per endpoint and account, kept for the node's lifetime (sessions are reused). */
  client(options?: ClientOptions): LorawanPlatformClient;
}

function int(v: string | undefined, fallback: number, field: string, min: number, max: number): number {
  if (v === undefined || String(v).trim() === '') return fallback;
  const n = Number(v);
  if (!Number.isInteger(n) || n < min || n > max) throw new Error(`${field} must be a whole number ${min}..${max}, got "${v}"`);
  return n;
}

/** The config node's properties as client options; throws naming the bad field. */
export function serverOptions(def: ServerDef, creds: Credentials = {}): Partial<ClientOptions> {
  const url = (def.url ?? '').trim();
  if (url) {
    try { endpointUrl(url); } catch { throw new Error(`url "${url}" is not a URL (e.g. http://english.energyy.ucskype.com/api/commonInternal.jsp)`); }
  }
  return {
    url: url || undefined,
    username: creds.username || undefined,
    password: creds.password || undefined,
    apiToken: creds.apiToken || undefined,
    utcOffsetMin: int(def.utcOffset, 0, 'utcOffset', -720, 840),
    timeoutMs: int(def.timeout, 10_000, 'timeout', 100, 120_000),
  };
}

export default function init(RED: NodeAPI): void {
  function LorawanPlatformServer(this: LorawanPlatformServerNode, configured: ServerDef): void {
    RED.nodes.createNode(this, configured);
    const def = withoutUnsetEnv(configured);
    const clients = new Map<string, LorawanPlatformClient>();
    try {
      this.defaults = serverOptions(def, this.credentials ?? {});
    } catch (err) {
      this.defaults = {};
      this.error((err as Error).message);
    }
    this.client = (options) => {
      const o = options ?? (this.defaults as ClientOptions);
      if (!o.url) throw new Error('the platform URL is not set (configure the server node\'s URL)');
      const key = JSON.stringify([o.url, o.username, o.password, o.apiToken, o.utcOffsetMin]);
      let c = clients.get(key);
      if (!c) {
        if (clients.size > 200) clients.clear();
        clients.set(key, (c = new LorawanPlatformClient(o)));
      }
      return c;
    };
    this.on('close', (_removed: boolean, done: () => void) => { clients.clear(); done(); });
  }
  RED.nodes.registerType<LorawanPlatformServerNode, ServerDef, unknown, Credentials>('ems-lorawan-platform-server', LorawanPlatformServer, {
    credentials: { username: { type: 'text' }, password: { type: 'password' }, apiToken: { type: 'password' } },
  });
}
