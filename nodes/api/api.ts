import type { Node, NodeAPI, NodeDef, NodeMessage } from 'node-red';
import { NO_CREDENTIALS, operationByName, OPERATIONS, runOperation, type ApiRequest, type HttpAnswer, type Identity } from '../../lib/ems/api';
import type { SystemConfigNode } from '../system/system';

export const IDENTITIES = ['request', 'user', 'key', 'dashboard'] as const;
export type IdentityMode = typeof IDENTITIES[number];

export interface ApiDef extends NodeDef {
  system: string;
  operation: string;
  /** Whom the node acts for; absent in flows older than the property = 'request'. */
  identity?: IdentityMode;
  /** The EMS login the node acts as with identity 'user'. */
  user?: string;
}

interface ApiCredentials { apiKey?: string }

interface HttpMsg extends NodeMessage {
  req?: Partial<ApiRequest> & { body?: unknown; originalUrl?: string; url?: string };
  res?: unknown;
  params?: Record<string, string>;
  query?: Record<string, unknown>;
  statusCode?: number;
  headers?: Record<string, string>;
  cookies?: HttpAnswer['cookies'];
  /** Set by the dashboard: the socket's client, with the EMS session id the dashboard plugin put there. */
  _client?: { emsSessionId?: string; socketIp?: string };
}

const JSON_TYPE = { 'content-type': 'application/json; charset=utf-8' };

/** The request an operation sees: http in's msg.req, or msg.params/msg.query/msg.payload for flow-internal calls. */
function requestOf(msg: HttpMsg): ApiRequest {
  const req = msg.req;
  if (req) {
    const url = req.originalUrl ?? req.url;
    return {
      params: req.params ?? {}, query: req.query ?? {}, body: req.body ?? msg.payload,
      headers: req.headers ?? {}, cookies: req.cookies ?? {}, files: req.files,
      ip: req.ip, secure: req.secure, method: req.method, path: typeof url === 'string' ? url.split('?')[0] : undefined,
    };
  }
  return { params: msg.params ?? {}, query: msg.query ?? {}, body: msg.payload, headers: {}, cookies: {}, ip: msg._client?.socketIp };
}

/** Origins allowed beside the server's own for cookie-authenticated writes, from EMS_CORS_ORIGINS (comma-separated). */
export function corsOrigins(env: string | undefined): string[] {
  return (env ?? '').split(',').map((o) => o.trim()).filter(Boolean);
}

export default function init(RED: NodeAPI): void {
  function Api(this: Node, def: ApiDef): void {
    RED.nodes.createNode(this, def);
    const node = this;
    const system = RED.nodes.getNode(def.system) as SystemConfigNode | null;
    const operation = operationByName(def.operation);
    const mode = def.identity || 'request';
    const apiKey = (node.credentials as ApiCredentials | undefined)?.apiKey ?? '';
    const problem = !system ? 'no EMS (ems-system) is configured'
      : !operation ? `unknown operation "${def.operation}"`
        : !IDENTITIES.includes(mode) ? `identity ${JSON.stringify(def.identity)} must be one of ${IDENTITIES.join(', ')}`
          : mode === 'user' && !(def.user ?? '').trim() ? 'identity "user" needs the login of an EMS user (property user)'
            : mode === 'key' && !apiKey ? 'identity "key" needs an API key (credential apiKey)'
              : null;
    if (problem || !system || !operation) {
      node.status({ fill: 'red', shape: 'ring', text: 'ems-api.status.bad-config' });
      node.error(problem);
      return;
    }
    const allowedOrigins = corsOrigins(process.env.EMS_CORS_ORIGINS);
    const label = def.name || def.operation;

    node.on('input', (msg, send, done) => {
      const m = msg as HttpMsg;
      const fromHttp = m.req !== undefined && m.req !== null;
      const answerWith = (answer: HttpAnswer): void => {
        // For http in, the envelope goes out as JSON text: http response's res.jsonp never runs (?callback= has no effect).
        const body = answer.body;
        m.payload = fromHttp && typeof body === 'object' && !Buffer.isBuffer(body) ? JSON.stringify(body) : body;
        m.statusCode = answer.status;
        m.headers = { ...(m.headers ?? {}), ...answer.headers };
        if (answer.cookies) m.cookies = answer.cookies;
        node.status(answer.status >= 400
          ? { fill: answer.status >= 500 ? 'red' : 'yellow', shape: 'ring', text: `${answer.status}` }
          : { fill: 'green', shape: 'dot', text: `${answer.status}` });
        send(m);
      };

      if (mode === 'request' && !fromHttp) {
        const err = new Error(`ems-api "${label}": the message has no msg.req (it did not come from an http in node) and the node's identity setting is "request"; `
          + 'to run messages from inside a flow, set the node\'s identity to an EMS user, an API key or the dashboard');
        if (m.res) answerWith({ status: 401, body: { data: null, error: NO_CREDENTIALS, status: 401 }, headers: JSON_TYPE });
        else node.status({ fill: 'red', shape: 'ring', text: 'ems-api.status.no-request' });
        done(err);
        return;
      }
      const identity: Identity = mode === 'user' ? { mode, login: (def.user ?? '').trim() }
        : mode === 'key' ? { mode, key: apiKey }
          : mode === 'dashboard' ? { mode, sessionId: m._client?.emsSessionId }
            : { mode: 'request' };
      const request = requestOf(m);
      system.ready()
        .then((services) => {
          let store;
          try {
            store = system.getStore();
          } catch (err) {
            const e = err as Error;
            return { status: 500, body: { data: null, error: `internal error: ${e.message}`, status: 500 }, headers: JSON_TYPE, unexpected: e } as HttpAnswer;
          }
          return runOperation(operation, {
            services, store, bills: system.getBills(), timeZone: system.timeZone, now: Date.now, request, poller: system.poller, allowedOrigins,
          }, identity);
        }, (err: Error): HttpAnswer => ({
          status: 503, body: { data: null, error: `the EMS is not available: ${err.message}`, status: 503 }, headers: JSON_TYPE,
        }))
        .then((answer) => {
          answerWith(answer);
          done(answer.unexpected);
        }, (err: Error) => done(err));
    });
    node.on('close', (_removed: boolean, done: () => void) => { node.status({}); done(); });
  }
  RED.nodes.registerType('ems-api', Api, { credentials: { apiKey: { type: 'password' } } });

  RED.httpAdmin.get('/ems-api/operations', RED.auth.needsPermission('ems-api.read'), (_req, res) => {
    res.json(OPERATIONS.map((o) => ({ name: o.name, method: o.method, path: o.path, tag: o.tag, summary: o.summary, access: o.access })));
  });
}
