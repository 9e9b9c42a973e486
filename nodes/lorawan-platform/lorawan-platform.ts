import type { Node, NodeAPI, NodeDef, NodeMessage } from 'node-red';
import {
  LorawanPlatformClient, meterConnection, recordsToReadings, toReading, platformTime, type Body, type ClientOptions,
} from '../../lib/clients/lorawan-platform';
import { readPlatformBackfill } from '../../lib/clients/lorawan-platform/history';
import { isBackfill, parseBackfill } from '../../lib/model/backfill-span';
import type { LorawanPlatformServerNode } from '../lorawan-platform-server/lorawan-platform-server';

export const OPERATIONS = ['poll', 'readings', 'realtime', 'meters', 'bills', 'topup', 'valve', 'call'] as const;
export type Operation = typeof OPERATIONS[number];

export interface LorawanPlatformDef extends NodeDef {
  server: string; operation: Operation; method: string; devEui: string; areaId: string; amount: string; valve: string;
  energyType: string; billDate: string; hours: string; params: string;
}

type Msg = NodeMessage & Record<string, any>;
const EUI = /^[0-9a-fA-F]{16}$/;
const obj = (v: unknown): Body => (v && typeof v === 'object' && !Array.isArray(v) ? v as Body : {});
const first = (...vs: unknown[]) => vs.find((v) => v !== undefined && v !== null && v !== '');

/** Runs one operation; resolves [payload, details]. */
export async function runOperation(client: LorawanPlatformClient, op: Operation, def: Partial<LorawanPlatformDef>, msg: Msg): Promise<[unknown, Body]> {
  const p: Body = { ...(def.params ? JSON.parse(def.params) : {}), ...obj(msg.payload) };
  const devEui = (): string => {
    const v = String(first(msg.devEui, p.devEui, def.devEui, EUI.test(String(msg.topic ?? '')) ? msg.topic : undefined) ?? '');
    if (!EUI.test(v)) throw new Error(`devEui ${JSON.stringify(v)} must be 16 hexadecimal characters (msg.devEui, payload.devEui, the node or msg.topic)`);
    return v;
  };
  const areaId = async (): Promise<string | number> => first(msg.areaId, p.areaId, p.areaid, p.areald, def.areaId) as string ?? (await client.areaIds())[0];
  switch (op) {
    case 'readings': {
      const hours = Number(first(msg.hours, def.hours) ?? 24);
      if (!(hours > 0)) throw new Error(`hours ${JSON.stringify(first(msg.hours, def.hours))} must be a positive number`);
      const end = first(msg.end, p.endDate) as number | string ?? Date.now();
      const start = first(msg.start, p.startDate) as number | string ?? (typeof end === 'number' ? end : Date.parse(String(end))) - hours * 3600_000;
      const rows = await client.readings({ areaId: await areaId(), start, end, energyType: first(p.energyType, def.energyType) as string, searchContent: p.searchContent as string });
      return [recordsToReadings(rows, client.utcOffsetMin), { records: rows }];
    }
    case 'realtime': {
      const rt = await client.realTime(devEui());
      const energyType = first(msg.energyType, p.energyType, def.energyType) as string | undefined;
      const payload = energyType && rt.cumulantFlow !== undefined ? [toReading(String(msg.topic || rt.devEui), energyType, rt.cumulantFlow, platformTime(rt.readTime, client.utcOffsetMin))] : rt;
      return [payload, { realTime: rt }];
    }
    case 'meters': return [await client.meters({ areaId: await areaId(), energyType: first(p.energyType, def.energyType) as string, searchContent: p.searchContent as string }), {}];
    case 'bills': return [await client.bills({ areaId: await areaId(), billDate: first(msg.billDate, p.billDate, def.billDate) as string, energyType: first(p.energyType, def.energyType) as string }), {}];
    case 'topup': {
      const eui = devEui();
      const amount = String(first(p.amount, p.topUpAmount, def.amount) ?? '');
      if (!/^\d+(\.\d+)?$/.test(amount) || Number(amount) <= 0) throw new Error(`amount ${JSON.stringify(amount)} must be a positive decimal number`);
      const valueId = await client.topUp(eui, amount);
      return [{ devEui: eui, amount, valueId }, {}];
    }
    case 'valve': {
      const eui = devEui();
      const v = String(first(p.valve, p.valveState, def.valve) ?? '').toLowerCase();
      const open = ['open', '1', 'on', 'true'].includes(v) ? true : ['close', 'closed', '0', 'off', 'false'].includes(v) ? false : undefined;
      if (open === undefined) throw new Error(`valve ${JSON.stringify(v)} must be open or close (payload.valve, payload.valveState 1/0 or the node)`);
      const valueId = await client.setValve(eui, open);
      return [{ devEui: eui, valve: open ? 'open' : 'close', valueId }, {}];
    }
    case 'call': {
      const method = String(first(typeof msg.method === 'string' && !(OPERATIONS as readonly string[]).includes(msg.method) ? msg.method : undefined, def.method) ?? '');
      if (!method) throw new Error('method is empty: name a platform method (e.g. getAreaOrg, lorawanApi.addMeter) in the node or msg.method');
      return [await client.call(method, p), { method }];
    }
    default: throw new Error(`operation ${JSON.stringify(op)} must be one of ${OPERATIONS.join(', ')}`);
  }
}

export default function init(RED: NodeAPI): void {
  function LorawanPlatform(this: Node, def: LorawanPlatformDef): void {
    RED.nodes.createNode(this, def);
    const node = this;
    const server = def.server ? RED.nodes.getNode(def.server) as LorawanPlatformServerNode | null : null;
    const own = new Map<string, LorawanPlatformClient>();
    const clientFor = (o: ClientOptions) => {
      if (server) return server.client(o);
      const key = JSON.stringify(o);
      if (!own.has(key)) own.set(key, new LorawanPlatformClient(o));
      return own.get(key)!;
    };
    try {
      if (def.params) JSON.parse(def.params);
    } catch {
      node.status({ fill: 'red', shape: 'ring', text: 'ems-lorawan-platform.status.bad-config' });
      node.error(`params ${JSON.stringify(def.params)} is not JSON`);
      return;
    }

    async function handle(msg: Msg): Promise<Msg> {
      const requested = typeof msg.method === 'string' && msg.method ? msg.method : def.operation || 'poll';
      const op = ((OPERATIONS as readonly string[]).includes(requested) ? requested : 'call') as Operation;
      if (msg.meter && typeof msg.meter === 'object' && (op === 'poll' || msg.meter.protocol === 'lorawan-platform')) {
        const conn = meterConnection(msg.meter, server?.defaults ?? {});
        const id = String(msg.meter._id ?? msg.topic ?? conn.number);
        if (isBackfill(msg)) {
          // msg.backfill {from, to}: the uplinks the platform kept for the span (EMS backfill after an outage).
          const span = parseBackfill(msg.backfill);
          const b = await readPlatformBackfill(clientFor(conn.options), id, conn.number, span).catch((e: Error) => {
            if (!e.message.includes(id)) e.message = `meter "${id}": ${e.message}`;
            throw e;
          });
          msg.payload = b.readings;
          msg.backfill = { ...span, truncated: b.truncated };
          msg.lorawanPlatform = { operation: 'backfill', archive: b.archive, requests: b.requests };
          return msg;
        }
        const out = await clientFor(conn.options).readMeter(id, conn.number).catch((e: Error) => {
          if (!e.message.includes(id)) e.message = `meter "${id}": ${e.message}`;
          throw e;
        });
        msg.payload = out.readings;
        msg.lorawanPlatform = { operation: 'poll', archive: out.archive, realTime: out.realTime };
        return msg;
      }
      if (op === 'poll') throw new Error('poll needs msg.meter (an EMS meter definition with protocol lorawan-platform)');
      if (!server) throw new Error('no platform server configured (choose an ems-lorawan-platform-server)');
      const [payload, details] = await runOperation(server.client(), op, def, msg);
      msg.payload = payload;
      msg.lorawanPlatform = { operation: op, ...details };
      return msg;
    }

    node.on('input', (msg, send, done) => {
      node.status({ fill: 'yellow', shape: 'ring', text: 'ems-lorawan-platform.status.requesting' });
      handle(msg as Msg).then((out) => {
        const n = Array.isArray(out.payload) ? `${out.payload.length}` : '';
        node.status({ fill: 'green', shape: 'dot', text: `${out.lorawanPlatform.operation}${n ? ` ${n}` : ''} ${new Date().toISOString().slice(11, 19)}` });
        send(out);
        done();
      }, (err: Error) => {
        node.status({ fill: 'red', shape: 'ring', text: err.message.slice(0, 60) });
        done(err);
      });
    });
    node.on('close', (_removed: boolean, done: () => void) => { own.clear(); node.status({}); done(); });
  }
  RED.nodes.registerType('ems-lorawan-platform', LorawanPlatform);
}
