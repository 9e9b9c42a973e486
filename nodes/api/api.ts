import type { Node, NodeAPI, NodeDef, NodeMessage } from 'node-red';
import { answer, listMeters, meterReadings } from '../../lib/ems';
import type { ReadingStore } from '../../lib/store/types';

export interface ApiDef extends NodeDef {
  store: string;
  operation: string;
}

/** What the API needs of the ems-store config node. */
interface StoreConfigNode extends Node {
  getStore(): ReadingStore;
  timeZone?: string;
}

interface HttpMsg extends NodeMessage {
  req?: { params?: Record<string, string>; query?: Record<string, unknown> };
  statusCode?: number;
  headers?: Record<string, string>;
}

type Operation = (store: ReadingStore, msg: HttpMsg, timeZone?: string) => Promise<unknown>;

/** The API operations, by the name chosen in the editor. Later issues add theirs here. */
export const OPERATIONS: Record<string, Operation> = {
  'meters.list': (store) => listMeters(store),
  'meters.readings': (store, msg, tz) => meterReadings(store, msg.req?.params?.id ?? '', msg.req?.query ?? {}, Date.now(), tz),
};

export default function init(RED: NodeAPI): void {
  function Api(this: Node, def: ApiDef): void {
    RED.nodes.createNode(this, def);
    const node = this;
    const storeNode = RED.nodes.getNode(def.store) as StoreConfigNode | null;
    const operation = OPERATIONS[def.operation];
    if (!storeNode || !operation) {
      node.status({ fill: 'red', shape: 'ring', text: 'ems-api.status.bad-config' });
      node.error(!storeNode ? 'no store is configured' : `unknown operation "${def.operation}"`);
      return;
    }
    node.on('input', (msg, send, done) => {
      const m = msg as HttpMsg;
      answer(() => operation(storeNode.getStore(), m, storeNode.timeZone)).then(({ envelope, unexpected }) => {
        m.payload = envelope;
        m.statusCode = envelope.status;
        m.headers = { ...(m.headers ?? {}), 'content-type': 'application/json; charset=utf-8' };
        node.status(envelope.error
          ? { fill: envelope.status >= 500 ? 'red' : 'yellow', shape: 'ring', text: `${envelope.status}` }
          : { fill: 'green', shape: 'dot', text: `${envelope.status}` });
        send(m);
        done(unexpected);
      });
    });
    node.on('close', (_removed: boolean, done: () => void) => { node.status({}); done(); });
  }
  RED.nodes.registerType('ems-api', Api);
}
