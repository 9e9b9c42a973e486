import type { Node, NodeAPI, NodeDef, NodeMessage } from 'node-red';
import { scanPrimary, scanSecondary, type ScanProgress, type SecondaryAddress } from '../../lib/protocols/mbus';
import type { MbusBusNode } from '../mbus-bus/mbus-bus';

export interface MbusScanDef extends NodeDef {
  bus: string;
  mode: 'primary' | 'secondary';
}

interface ScanMsg extends NodeMessage { mode?: unknown; mask?: unknown }

export default function init(RED: NodeAPI): void {
  function MbusScan(this: Node, def: MbusScanDef): void {
    RED.nodes.createNode(this, def);
    const node = this;
    const bus = RED.nodes.getNode(def.bus) as MbusBusNode | null;
    if (!bus || !bus.master) {
      node.status({ fill: 'red', shape: 'ring', text: 'ems-mbus-scan.status.bad-config' });
      node.error('no valid M-Bus connection (bus) is configured');
      return;
    }
    bus.register(node);
    let running = false;
    let closing = false;

    async function scan(msg: ScanMsg, send: (m: (NodeMessage | null)[]) => void): Promise<NodeMessage> {
      const mode = msg.mode ?? def.mode ?? 'secondary';
      if (mode !== 'primary' && mode !== 'secondary') throw new Error(`msg.mode must be "primary" or "secondary", got ${JSON.stringify(mode)}`);
      let mask: SecondaryAddress | undefined;
      if (msg.mask !== undefined) {
        if (typeof msg.mask !== 'string' || !/^[0-9F]{8}$/i.test(msg.mask)) throw new Error(`msg.mask must be 8 digits 0-9 or F (wildcard), got ${JSON.stringify(msg.mask)}`);
        mask = { id: msg.mask.toUpperCase(), manufacturer: null, version: null, medium: null };
      }
      const started = Date.now();
      let last = 0;
      const onProgress = (p: ScanProgress) => {
        const now = Date.now();
        node.status({ fill: 'yellow', shape: 'ring', text: p.mode === 'primary' ? `${p.done}/${p.total}, ${p.found} found` : `${p.at}, ${p.found} found` });
        if (now - last >= 250 || p.done === p.total) { // at most 4 progress messages a second
          last = now;
          send([null, { topic: msg.topic, payload: { ...p, elapsedMs: now - started } } as NodeMessage]);
        }
      };
      const aborted = () => closing;
      const result = mode === 'primary'
        ? await scanPrimary(bus!.master, { onProgress, aborted })
        : await scanSecondary(bus!.master, { onProgress, aborted, mask });
      node.status({ fill: 'green', shape: 'dot', text: `${result.meters.length} found` });
      return Object.assign(msg, {
        payload: result.meters,
        scan: { mode, probes: result.probes, collisions: result.collisions, durationMs: Date.now() - started, endpoint: bus!.master.description },
      });
    }

    node.on('input', (msg, send, done) => {
      if (running) { done(new Error('a scan is already running on this node; wait for its result')); return; }
      running = true;
      node.status({ fill: 'yellow', shape: 'ring', text: 'ems-mbus-scan.status.scanning' });
      scan(msg as ScanMsg, send as (m: (NodeMessage | null)[]) => void).then((out) => { running = false; send([out, null]); done(); }, (err: Error) => {
        running = false;
        node.status({ fill: 'red', shape: 'ring', text: 'ems-mbus-scan.status.error' });
        done(err);
      });
    });

    node.on('close', (_removed: boolean, done: () => void) => {
      closing = true;
      bus.deregister(node);
      node.status({});
      done();
    });
  }
  RED.nodes.registerType('ems-mbus-scan', MbusScan);
}
