import type { Node, NodeAPI, NodeDef } from 'node-red';
import { UtilitarianClient } from '../../lib/clients/utilitarian';
import { withoutUnsetEnv } from '../unset-env';

export interface UtilitarianServerDef extends NodeDef {
  url: string;
  organization: string;
  /** Name of an environment variable holding the API token (shipped flows: EMS_UTILITARIAN_TOKEN). */
  tokenEnv: string;
  maxPages: string;
  timeout: string;
}
interface Credentials { token?: string; username?: string; password?: string }

/** What ems-utilitarian nodes see of the config node. */
export interface UtilitarianServerNode extends Node<Credentials> {
  /** Undefined when no URL is set: the server is "not configured". */
  client?: UtilitarianClient;
  /** Why the client could not be made (bad URL, no credentials). */
  problem?: string;
  /** Runs API work one job at a time (series and devices created on demand must not race). */
  run<T>(job: (client: UtilitarianClient) => Promise<T>): Promise<T>;
}

export default function init(RED: NodeAPI): void {
  function UtilitarianServer(this: UtilitarianServerNode, configured: UtilitarianServerDef): void {
    RED.nodes.createNode(this, configured);
    const def = withoutUnsetEnv(configured);
    const url = (def.url ?? '').trim();
    const creds = this.credentials ?? {};
    const token = creds.token || (def.tokenEnv ? process.env[def.tokenEnv.trim()] : undefined) || undefined;
    if (url) {
      try {
        this.client = new UtilitarianClient({
          url, token, username: creds.username || undefined, password: creds.password || undefined,
          organization: (def.organization ?? '').trim() || undefined,
          maxPages: Number(def.maxPages) > 0 ? Number(def.maxPages) : undefined,
          timeoutMs: Number(def.timeout) > 0 ? Number(def.timeout) : undefined,
        });
      } catch (err) {
        this.problem = (err as Error).message;
      }
    }
    let chain: Promise<unknown> = Promise.resolve();
    this.run = <T>(job: (client: UtilitarianClient) => Promise<T>): Promise<T> => {
      const client = this.client;
      if (!client) return Promise.reject(new Error(this.problem ?? 'ems-utilitarian-server: no URL configured'));
      const next = chain.then(() => job(client));
      chain = next.catch(() => undefined);
      return next;
    };
  }
  RED.nodes.registerType('ems-utilitarian-server', UtilitarianServer as unknown as (this: Node, def: UtilitarianServerDef) => void, {
    credentials: { token: { type: 'password' }, username: { type: 'text' }, password: { type: 'password' } },
  });
}
