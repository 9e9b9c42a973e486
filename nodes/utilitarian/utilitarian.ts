import type { Node, NodeAPI, NodeDef, NodeMessageInFlow } from 'node-red';
import type { Reading } from '../../lib/model';
import { readingProblem } from '../../lib/model';
import type { UtilitarianClient } from '../../lib/clients/utilitarian';
import type { UtilitarianServerNode } from '../utilitarian-server/utilitarian-server';

export const OPERATIONS = ['push', 'new-readings', 'pull', 'list-devices', 'get-device', 'create-device', 'update-device', 'events', 'invoke', 'request'] as const;
export type Operation = typeof OPERATIONS[number];

export interface UtilitarianDef extends NodeDef {
  server: string;
  operation: Operation;
  /** push: what to do with readings of a meter the API has no device for. */
  unknown: 'create' | 'stage';
  /** Protocol of devices created on demand (MeterDevice.protocol). */
  protocol: string;
  device: string;
  method: string;
  path: string;
}

type Msg = NodeMessageInFlow & Record<string, any>;
const PROTOCOLS: Record<string, string> = { 'modbus-tcp': 'modbus', modbus: 'modbus', mbus: 'mbus', 'iec62056-21': 'iec62056-21', 'dlms-cosem': 'dlms-cosem' };

function time(v: unknown, field: string): number | undefined {
  if (v === undefined || v === null || v === '') return undefined;
  const t = typeof v === 'number' ? v : Date.parse(String(v));
  if (!Number.isFinite(t)) throw new Error(`${field}: ${JSON.stringify(v)} is not a time (epoch ms or ISO 8601)`);
  return t;
}

function readingsOf(payload: unknown): Reading[] {
  const list = Array.isArray(payload) ? payload : [payload];
  list.forEach((r, i) => { const p = readingProblem(r); if (p) throw new Error(`payload[${i}]: ${p}`); });
  return list as Reading[];
}

/** Runs one operation; answers [payload, details for msg.utilitarian]. */
export async function runOperation(client: UtilitarianClient, op: Operation, def: UtilitarianDef, msg: Msg): Promise<[unknown, unknown]> {
  const device = String(msg.device ?? def.device ?? '').trim();
  const needDevice = () => { if (!device) throw new Error(`device: required for ${op} (msg.device or the node's Device)`); return device; };
  const body = () => { if (typeof msg.payload !== 'object' || msg.payload === null) throw new Error(`payload: ${op} needs an object body, got ${JSON.stringify(msg.payload)}`); return msg.payload; };
  switch (op) {
    case 'push': {
      const readings = readingsOf(msg.payload);
      const protocol = PROTOCOLS[String(msg.meter?.protocol ?? '')] ?? (def.protocol || 'modbus');
      const r = await client.pushReadings(readings, { unknown: def.unknown === 'stage' ? 'stage' : 'create', protocol });
      return [msg.payload, r];
    }
    case 'new-readings':
      return [msg.payload, { sent: await client.newMeterReadings(readingsOf(msg.payload)) }];
    case 'pull': {
      const obis = msg.obis === undefined ? undefined : Array.isArray(msg.obis) ? msg.obis.map(String) : [String(msg.obis)];
      const readings = await client.pullReadings(needDevice(), { from: time(msg.from, 'msg.from'), to: time(msg.to, 'msg.to'), obis, meter: typeof msg.topic === 'string' && msg.topic ? msg.topic : undefined });
      return [readings, { device, count: readings.length }];
    }
    case 'list-devices': {
      const filter = typeof msg.filter === 'object' && msg.filter ? msg.filter : {};
      const rows = await client.listMeterDevices(filter);
      return [rows, { count: rows.length }];
    }
    case 'get-device': {
      const d = /^[0-9a-f-]{36}$/i.test(needDevice()) ? await client.getMeterDevice(device) : await client.findMeterDevice(device);
      if (!d) throw new Error(`device: no meter device named ${JSON.stringify(device)}`);
      return [d, { device }];
    }
    case 'create-device':
      return [await client.createMeterDevice(body()), {}];
    case 'update-device': {
      const id = /^[0-9a-f-]{36}$/i.test(needDevice()) ? device : (await client.findMeterDevice(device))?.id;
      if (!id) throw new Error(`device: no meter device named ${JSON.stringify(device)}`);
      return [await client.updateMeterDevice(id, body(), msg.method !== 'PUT'), { device: id }];
    }
    case 'events': {
      const query = { meter_device: msg.meter_device, start_time: msg.from !== undefined ? new Date(time(msg.from, 'msg.from')!).toISOString() : undefined, end_time: msg.to !== undefined ? new Date(time(msg.to, 'msg.to')!).toISOString() : undefined };
      const rows = await client.listEvents(query);
      return [rows, { count: rows.length }];
    }
    case 'invoke':
      return [await client.invokeTask(body() as Parameters<UtilitarianClient['invokeTask']>[0]), {}];
    case 'request': {
      const method = String(msg.method ?? def.method ?? 'GET').toLowerCase();
      const path = String(msg.path ?? def.path ?? '');
      if (!['get', 'post', 'put', 'patch', 'delete'].includes(method)) throw new Error(`method: ${JSON.stringify(method)} is not GET, POST, PUT, PATCH or DELETE`);
      if (!path.startsWith('/')) throw new Error(`path: ${JSON.stringify(path)} must start with / (a spec path, e.g. /metering/sim-cards)`);
      if (method === 'get' && msg.all === true) return [await client.list(path), { method, path }];
      return [await client.request(method as 'get', path, method === 'get' || method === 'delete' ? undefined : msg.payload), { method, path }];
    }
    default:
      throw new Error(`operation: ${JSON.stringify(op)} is not one of ${OPERATIONS.join(', ')}`);
  }
}

export default function init(RED: NodeAPI): void {
  function Utilitarian(this: Node, def: UtilitarianDef): void {
    RED.nodes.createNode(this, def);
    const node = this;
    const server = RED.nodes.getNode(def.server) as UtilitarianServerNode | null;
    const configured = !!server?.client;
    if (!server) node.status({ fill: 'red', shape: 'ring', text: 'ems-utilitarian.status.no-server' });
    else if (server.problem) node.status({ fill: 'red', shape: 'ring', text: server.problem });
    else if (!configured) node.status({ fill: 'grey', shape: 'ring', text: 'ems-utilitarian.status.not-configured' });

    node.on('input', (msg: Msg, send, done) => {
      if (!server || server.problem) {
        done(new Error(server?.problem ?? 'ems-utilitarian: no ems-utilitarian-server configured'));
        return;
      }
      if (!configured) { send(msg); done(); return; } // no URL: pass quietly
      const op = (msg.operation ?? def.operation ?? 'push') as Operation;
      if (!OPERATIONS.includes(op)) { done(new Error(`msg.operation: ${JSON.stringify(op)} is not one of ${OPERATIONS.join(', ')}`)); return; }
      node.status({ fill: 'yellow', shape: 'ring', text: op });
      server.run((client) => runOperation(client, op, def, msg)).then(([payload, details]) => {
        msg.payload = payload;
        msg.utilitarian = { operation: op, ...(details as object) };
        node.status({ fill: 'green', shape: 'dot', text: `${op} ${new Date().toISOString().slice(11, 19)}` });
        send(msg);
        done();
      }).catch((err: Error) => {
        node.status({ fill: 'red', shape: 'ring', text: 'ems-utilitarian.status.error' });
        done(err instanceof Error ? err : new Error(String(err)));
      });
    });
    node.on('close', (_removed: boolean, done: () => void) => { node.status({}); done(); });
  }
  RED.nodes.registerType('ems-utilitarian', Utilitarian);
}
