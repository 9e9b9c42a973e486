import type { Node, NodeAPI, NodeDef, NodeMessage } from 'node-red';
import { G13Client, G13Error, OPERATIONS, gatewayOfMeter, readG13Backfill, runOperation, type G13Operation, type OperationArgs } from '../../lib/clients/g13';
import { isBackfill, parseBackfill } from '../../lib/model/backfill-span';
import type { G13GatewayNode } from '../g13-gateway/g13-gateway';

export interface G13Def extends NodeDef {
  gateway: string;
  operation: G13Operation;
  serial: string;
  meterId: string;
  channel: string;
  from: string;
  to: string;
  devices: string;
  obis: string;
  method: string;
  path: string;
  body: string;
  waitMs: string;
}

interface G13Msg extends NodeMessage {
  operation?: unknown; serial?: unknown; channel?: unknown; from?: unknown; to?: unknown; devices?: unknown;
  obis?: unknown; method?: unknown; path?: unknown; datetime?: unknown;
  meter?: Record<string, unknown>;
  g13?: Record<string, unknown>;
  backfill?: unknown;
}

const BODY_OPS = new Set<G13Operation>(['request', 'scan', 'add']);

function parseBody(text: string): unknown {
  if (!text || !text.trim()) return undefined;
  try { return JSON.parse(text); } catch (e) { throw new Error(`body is not valid JSON: ${(e as Error).message}`); }
}

/** The node's properties overridden by msg.* -> the operation and its arguments; throws naming the field. */
export function operationArgs(def: G13Def, msg: G13Msg): { op: G13Operation; args: OperationArgs } {
  const op = (msg.operation ?? def.operation ?? 'values') as G13Operation;
  if (!OPERATIONS.includes(op)) throw new Error(`operation must be one of ${OPERATIONS.join(', ')}, got ${JSON.stringify(op)}`);
  const str = (v: unknown) => (v === undefined || v === null ? undefined : String(v).trim() || undefined);
  const channel = Number(msg.channel ?? (def.channel || 1));
  if (!Number.isInteger(channel) || channel < 1 || channel > 8) throw new Error(`channel must be a load-profile channel 1-8, got ${JSON.stringify(msg.channel ?? def.channel)}`);
  let devices: unknown = msg.devices ?? (def.devices ? def.devices.split(',').map((s) => s.trim()).filter(Boolean) : undefined);
  if (devices !== undefined && (!Array.isArray(devices) || devices.length > 5 || devices.some((d) => typeof d !== 'string' || !d))) {
    throw new Error(`devices must be a list of 1 to 5 meter serials, got ${JSON.stringify(devices)}`);
  }
  const body = BODY_OPS.has(op) && msg.payload !== undefined && msg.payload !== '' && typeof msg.payload !== 'number' ? msg.payload : parseBody(def.body);
  const waitMs = Number(def.waitMs || 60_000);
  return {
    op,
    args: {
      serial: str(msg.serial) ?? str(def.serial), channel, from: msg.from ?? str(def.from), to: msg.to ?? str(def.to),
      devices: devices as string[] | undefined, obis: msg.obis ?? str(def.obis), method: str(msg.method) ?? (def.method || 'GET'),
      path: str(msg.path) ?? str(def.path), body, datetime: msg.datetime ?? (op === 'settime' && typeof msg.payload === 'string' ? msg.payload : undefined),
      waitMs: Number.isFinite(waitMs) && waitMs > 0 ? waitMs : 60_000,
    },
  };
}

export default function init(RED: NodeAPI): void {
  function G13(this: Node, def: G13Def): void {
    RED.nodes.createNode(this, def);
    const node = this;
    const config = def.gateway ? (RED.nodes.getNode(def.gateway) as G13GatewayNode | null) : null;
    /** Clients for gateways named by msg.meter (EMS meter definitions), one per gateway and account. */
    const pool = new Map<string, G13Client>();

    function clientFor(msg: G13Msg, args: OperationArgs): G13Client {
      const m = msg.meter;
      if (m && typeof m === 'object' && m.ip_address !== undefined) {
        const gw = gatewayOfMeter(m, config?.defaults ?? {});
        args.serial = gw.serial;
        const key = JSON.stringify(gw.options);
        let c = pool.get(key);
        if (!c) pool.set(key, (c = new G13Client(gw.options)));
        return c;
      }
      if (!config) throw new Error('no G13 gateway is configured (set the gateway property or send an EMS msg.meter)');
      if (!config.client) throw new Error(`G13 gateway configuration: ${config.configError ?? 'invalid'}`);
      return config.client;
    }

    node.on('input', (msg: G13Msg, send, done) => {
      (async () => {
        const { op, args } = operationArgs(def, msg);
        const client = clientFor(msg, args);
        const emsId = msg.meter && typeof msg.meter._id === 'string' ? msg.meter._id : undefined;
        args.meter = emsId ?? (typeof msg.topic === 'string' && msg.topic ? msg.topic : def.meterId || args.serial);
        if (isBackfill(msg)) {
          // msg.backfill {from, to}: what the meter's load profile stored for the span (EMS backfill after an outage).
          const span = parseBackfill(msg.backfill);
          if (!args.serial) throw new Error('msg.backfill needs the meter: msg.meter (EMS) or the serial');
          node.status({ fill: 'yellow', shape: 'ring', text: `backfill${client.depth ? ` (queue ${client.depth})` : ''}` });
          const b = await readG13Backfill(client, args.serial, args.meter!, span);
          msg.payload = b.readings as unknown as NodeMessage['payload'];
          msg.backfill = { ...span, truncated: b.truncated, ...(b.unsupported ? { unsupported: b.unsupported } : {}) };
          msg.g13 = { gateway: client.name, operation: 'backfill', serial: args.serial, requests: b.requests, skipped: b.skipped };
          if (!msg.topic && args.meter) msg.topic = args.meter;
          node.status({ fill: 'green', shape: 'dot', text: `backfill: ${b.readings.length} readings ${new Date().toTimeString().slice(0, 8)}` });
          send(msg);
          done();
          return;
        }
        node.status({ fill: 'yellow', shape: 'ring', text: `${op}${client.depth ? ` (queue ${client.depth})` : ''}` });
        const result = await runOperation(client, op, args);
        msg.payload = result.payload as NodeMessage['payload'];
        msg.g13 = { gateway: client.name, operation: op, serial: args.serial, raw: result.raw, ...result.detail };
        if (!msg.topic && args.meter) msg.topic = args.meter;
        const n = Array.isArray(result.payload) ? `${result.payload.length} ${result.readings ? 'readings' : 'items'}` : 'ok';
        node.status({ fill: 'green', shape: 'dot', text: `${op}: ${n} ${new Date().toTimeString().slice(0, 8)}` });
        send(msg);
        done();
      })().catch((err: unknown) => {
        const e = err instanceof Error ? err : new Error(String(err));
        const emsId = msg.meter && typeof msg.meter._id === 'string' ? msg.meter._id : typeof msg.topic === 'string' && msg.topic ? msg.topic : def.meterId;
        if (emsId && !e.message.includes(emsId)) e.message = `meter "${emsId}": ${e.message}`;
        node.status({ fill: 'red', shape: 'ring', text: e instanceof G13Error ? e.kind : 'error' });
        done(e);
      });
    });

    node.on('close', (_removed: boolean, done: () => void) => {
      for (const c of pool.values()) c.close();
      pool.clear();
      node.status({});
      done();
    });
  }
  RED.nodes.registerType('ems-g13', G13);
}
