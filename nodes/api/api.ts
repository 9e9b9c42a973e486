import type { Node, NodeAPI, NodeDef, NodeMessage } from 'node-red';
import { operationByName, OPERATIONS, runOperation, type ApiRequest, type HttpAnswer } from '../../lib/ems/api';
import { dashboardSessionUser } from '../../lib/ems/dashboard-gate';
import { ApiError } from '../../lib/ems/envelope';
import type { EmsServices } from '../../lib/ems/services';
import type { SystemConfigNode } from '../system/system';

export interface ApiDef extends NodeDef {
  system: string;
  operation: string;
  /** DASH shim: only 'dashboard' is handled here (the KEYS slice owns the identity property). */
  identity?: string;
}

// ---- DASH shim, to be replaced by the KEYS slice's identity handling --------------------------------
/**
 * identity 'dashboard': the operation runs as the user of the live EMS session in msg._client.emsSessionId
 * (set by the dashboard plugin), never as the system admin. Services whose auth answers that user.
 */
function asDashboardUser(services: EmsServices, msg: { _client?: { emsSessionId?: unknown } }): EmsServices {
  const session = dashboardSessionUser(services, msg._client?.emsSessionId);
  const auth = Object.assign(Object.create(services.auth), { authenticate: () => session });
  return Object.assign(Object.create(services), { auth }) as EmsServices;
}
// ---- end of DASH shim ------------------------------------------------------------------------------

interface HttpMsg extends NodeMessage {
  req?: Partial<ApiRequest> & { body?: unknown };
  params?: Record<string, string>;
  query?: Record<string, unknown>;
  statusCode?: number;
  headers?: Record<string, string>;
  cookies?: HttpAnswer['cookies'];
}

/** The request an operation sees: http in's msg.req, or msg.params/msg.query/msg.payload for flow-internal calls. */
function requestOf(msg: HttpMsg): { request: ApiRequest; trusted: boolean } {
  const req = msg.req;
  if (req) {
    return {
      trusted: false,
      request: {
        params: req.params ?? {}, query: req.query ?? {}, body: req.body ?? msg.payload,
        headers: req.headers ?? {}, cookies: req.cookies ?? {}, files: req.files,
      },
    };
  }
  return { trusted: true, request: { params: msg.params ?? {}, query: msg.query ?? {}, body: msg.payload, headers: {}, cookies: {} } };
}

export default function init(RED: NodeAPI): void {
  function Api(this: Node, def: ApiDef): void {
    RED.nodes.createNode(this, def);
    const node = this;
    const system = RED.nodes.getNode(def.system) as SystemConfigNode | null;
    const operation = operationByName(def.operation);
    if (!system || !operation) {
      node.status({ fill: 'red', shape: 'ring', text: 'ems-api.status.bad-config' });
      node.error(!system ? 'no EMS (ems-system) is configured' : `unknown operation "${def.operation}"`);
      return;
    }
    node.on('input', (msg, send, done) => {
      const m = msg as HttpMsg;
      const { request, trusted } = requestOf(m);
      const json = { 'content-type': 'application/json; charset=utf-8' };
      system.ready()
        .then((services) => {
          let store;
          try {
            store = system.getStore();
          } catch (err) {
            const e = err as Error;
            return { status: 500, body: { data: null, error: `internal error: ${e.message}`, status: 500 }, headers: json, unexpected: e } as HttpAnswer;
          }
          let caller = services;
          if (def.identity === 'dashboard') { // DASH shim (see asDashboardUser)
            try {
              caller = asDashboardUser(services, m as { _client?: { emsSessionId?: unknown } });
            } catch (err) {
              const e = err instanceof ApiError ? err : new ApiError(401, String(err));
              return { status: e.status, body: { data: null, error: e.message, status: e.status }, headers: json } as HttpAnswer;
            }
          }
          return runOperation(operation, {
            services: caller, store, bills: system.getBills(), timeZone: system.timeZone, now: Date.now, request, poller: system.poller,
          }, trusted && def.identity !== 'dashboard');
        }, (err: Error): HttpAnswer => ({
          status: 503, body: { data: null, error: `the EMS is not available: ${err.message}`, status: 503 }, headers: json,
        }))
        .then((answer) => {
          m.payload = answer.body;
          m.statusCode = answer.status;
          m.headers = { ...(m.headers ?? {}), ...answer.headers };
          if (answer.cookies) m.cookies = answer.cookies;
          node.status(answer.status >= 400
            ? { fill: answer.status >= 500 ? 'red' : 'yellow', shape: 'ring', text: `${answer.status}` }
            : { fill: 'green', shape: 'dot', text: `${answer.status}` });
          send(m);
          done(answer.unexpected);
        });
    });
    node.on('close', (_removed: boolean, done: () => void) => { node.status({}); done(); });
  }
  RED.nodes.registerType('ems-api', Api);

  RED.httpAdmin.get('/ems-api/operations', RED.auth.needsPermission('ems-api.read'), (_req, res) => {
    res.json(OPERATIONS.map((o) => ({ name: o.name, method: o.method, path: o.path, tag: o.tag, summary: o.summary, access: o.access })));
  });
}
