import type { Node, NodeAPI, NodeDef, NodeMessage, NodeMessageInFlow } from 'node-red';
import { readingProblem, type Reading } from '../../lib/model';
import type { StoreConfigNode } from '../store/store';

export interface StoreWriteDef extends NodeDef {
  store: string;
  batchSize: string | number;
  flushInterval: string | number;
}

interface Pending {
  msg: NodeMessageInFlow & { stored?: number };
  send: (msg: NodeMessage) => void;
  done: (err?: Error) => void;
  readings: Reading[];
}

export const DEFAULT_BATCH_SIZE = 1000;
export const DEFAULT_FLUSH_INTERVAL = 1000;

function whole(value: unknown, fallback: number, min: number): number {
  if (value === '' || value === undefined || value === null) return fallback;
  const n = Number(value);
  return Number.isInteger(n) && n >= min ? n : fallback;
}

/** Checks msg.payload; returns the readings or throws an Error naming the index and field. */
export function readingsOf(payload: unknown): Reading[] {
  const list = Array.isArray(payload) ? payload : [payload];
  for (let i = 0; i < list.length; i++) {
    const problem = readingProblem(list[i]);
    if (problem) throw new Error(`payload${Array.isArray(payload) ? `[${i}]` : ''}: ${problem}`);
  }
  return list as Reading[];
}

export default function init(RED: NodeAPI): void {
  function EmsStoreWrite(this: Node, def: StoreWriteDef): void {
    RED.nodes.createNode(this, def);
    const node = this;
    const config = RED.nodes.getNode(def.store) as StoreConfigNode | null;
    const batchSize = whole(def.batchSize, DEFAULT_BATCH_SIZE, 1);
    const flushInterval = whole(def.flushInterval, DEFAULT_FLUSH_INTERVAL, 0);
    let pending: Pending[] = [];
    let pendingCount = 0;
    let timer: NodeJS.Timeout | undefined;
    let chain: Promise<void> = Promise.resolve();
    let total = 0;

    if (config) config.register(node);
    else node.status({ fill: 'red', shape: 'ring', text: 'ems-store-write.status.no-store' });

    /** Writes one batch; every msg of it is sent and done after the commit, or done(err) on failure. Never rejects. */
    async function writeBatch(batch: Pending[]): Promise<void> {
      let readings = batch[0].readings;
      if (batch.length > 1) { // one array of all the batch's readings (a plain copy: flatMap is slower)
        let n = 0;
        for (const p of batch) n += p.readings.length;
        readings = new Array(n);
        let k = 0;
        for (const p of batch) for (let i = 0; i < p.readings.length; i++) readings[k++] = p.readings[i];
      }
      try {
        await config!.getStore().write(readings);
      } catch (err) {
        node.status({ fill: 'red', shape: 'ring', text: 'ems-store-write.status.error' });
        const e = err instanceof Error ? err : new Error(String(err));
        for (const p of batch) p.done(e);
        return;
      }
      total += readings.length;
      config!.written?.(readings); // the EMS evaluates its alarm rules on stored readings
      // A store that buffers (InfluxDB during an outage) keeps that visible: the readings are safe on disk, not yet on the server.
      const store = config!.getStore() as { status?: () => { state: string; spooled: number } };
      const backlog = store.status?.();
      node.status(backlog && backlog.state !== 'connected' && backlog.spooled > 0
        ? { fill: 'yellow', shape: 'ring', text: RED._('ems-store-write.status.written-buffering', { count: total, spooled: backlog.spooled }) }
        : { fill: 'green', shape: 'dot', text: RED._('ems-store-write.status.written', { count: total }) });
      for (const p of batch) {
        p.msg.stored = p.readings.length;
        try {
          p.send(p.msg);
          p.done();
        } catch (err) {
          p.done(err instanceof Error ? err : new Error(String(err)));
        }
      }
    }

    function flush(): Promise<void> {
      if (timer) clearTimeout(timer);
      timer = undefined;
      if (pending.length > 0) {
        const batch = pending;
        pending = [];
        pendingCount = 0;
        chain = chain.then(() => writeBatch(batch));
      }
      return chain;
    }

    node.on('input', (msg, send, done) => {
      if (!config) {
        done(new Error('ems-store-write: no ems-store configured (pick one in the node\'s Store property)'));
        return;
      }
      let readings: Reading[];
      try {
        readings = readingsOf(msg.payload);
      } catch (err) {
        node.status({ fill: 'red', shape: 'ring', text: 'ems-store-write.status.bad-input' });
        done(err as Error);
        return;
      }
      if (readings.length === 0) {
        (msg as Pending['msg']).stored = 0;
        send(msg);
        done();
        return;
      }
      pending.push({ msg, send, done, readings });
      pendingCount += readings.length;
      if (pendingCount >= batchSize || flushInterval === 0) void flush();
      else if (!timer) timer = setTimeout(() => void flush(), flushInterval);
    });

    node.on('close', (_removed: boolean, done: () => void) => {
      // Write what is pending, then let the config node close the store.
      void flush().finally(() => {
        if (config) config.deregister(node, done);
        else done();
      });
    });
  }
  RED.nodes.registerType('ems-store-write', EmsStoreWrite);
}
