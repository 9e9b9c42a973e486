import path from 'node:path';
import type { Node, NodeAPI, NodeDef, NodeMessageInFlow } from 'node-red';
import { BillStore, billedReadingsFromStore, billToCsv, billToHtml, meterBill, type Bill } from '../../lib/billing';
import type { StoreConfigNode } from '../store/store';
import type { TariffConfigNode } from '../tariff/tariff';
import { billRequest, type BillDef, type Format } from './params';

export interface EmsBillDef extends NodeDef, BillDef {
  /** Id of the ems-tariff config node. */
  tariff: string;
  /** Id of the ems-store config node (optional: readings or intervals may come in msg.payload). */
  store: string;
  /** File of issued bills: empty = <userDir>/ems-bills.sqlite; relative = under userDir. */
  billFile: string;
}

/** The bill file a node uses. */
export function billFilePath(configured: string | undefined, userDir: string | undefined): string {
  const dir = userDir || path.join(process.env.HOME ?? '.', '.node-red');
  const p = (configured ?? '').trim();
  if (p === '') return path.join(dir, 'ems-bills.sqlite');
  return p === ':memory:' ? p : path.resolve(dir, p);
}

export default function init(RED: NodeAPI): void {
  function EmsBill(this: Node, def: EmsBillDef): void {
    RED.nodes.createNode(this, def);
    const node = this;
    const tariffNode = RED.nodes.getNode(def.tariff) as unknown as TariffConfigNode | null;
    const storeNode = def.store ? (RED.nodes.getNode(def.store) as StoreConfigNode | null) : null;
    if (storeNode) storeNode.register(node);
    let bills: BillStore | null = null;
    if (!tariffNode) node.status({ fill: 'red', shape: 'ring', text: 'ems-bill.status.no-tariff' });
    else if (tariffNode.problem || !tariffNode.tariff) node.status({ fill: 'red', shape: 'ring', text: 'ems-bill.status.bad-tariff' });

    async function run(msg: NodeMessageInFlow): Promise<{ bill: Bill; format: Format }> {
      if (!tariffNode) throw new Error('tariff: no ems-tariff configured (pick one in the node\'s Tariff property)');
      if (tariffNode.problem || !tariffNode.tariff) throw new Error(`tariff: ${tariffNode.problem ?? 'the ems-tariff node has no valid tariff'}`);
      const tariff = tariffNode.tariff;
      const req = billRequest(msg as { payload?: unknown; topic?: unknown }, def, tariff, Date.now());
      let readings = req.readings;
      if (!readings && !req.intervals) {
        if (!storeNode) throw new Error('store: no ems-store configured: set the node\'s Store, or give msg.payload.readings or msg.payload.intervals');
        readings = await billedReadingsFromStore(storeNode.getReadingView(), req.meter, req.from, req.to); // virtual meters too
      }
      const draft = meterBill({ tariff, meter: req.meter, from: req.from, to: req.to, interval: req.interval, readings, intervals: req.intervals });
      if (!req.issue) return { bill: draft, format: req.format };
      bills ??= new BillStore(billFilePath(def.billFile, RED.settings.userDir as string | undefined));
      return { bill: bills.issue(draft).bill, format: req.format };
    }

    node.on('input', (msg, send, done) => {
      void (async () => {
        let bill: Bill;
        let format: Format;
        try {
          ({ bill, format } = await run(msg));
        } catch (err) {
          node.status({ fill: 'red', shape: 'ring', text: 'ems-bill.status.error' });
          done(err instanceof Error ? err : new Error(String(err)));
          return;
        }
        const out = msg as NodeMessageInFlow & { bill?: Bill };
        if (format === 'json') out.payload = bill;
        else {
          out.payload = format === 'csv' ? billToCsv(bill) : billToHtml(bill);
          out.bill = bill;
        }
        if (!out.topic) out.topic = bill.subject.id;
        const text = `${bill.number ? `${bill.number}: ` : ''}${bill.totals.total} ${bill.currency}`;
        node.status(bill.quality.ok ? { fill: 'green', shape: 'dot', text } : { fill: 'yellow', shape: 'dot', text: `${text} (${RED._('ems-bill.status.check-data')})` });
        try {
          send(out);
          done();
        } catch (err) {
          done(err instanceof Error ? err : new Error(String(err)));
        }
      })();
    });

    node.on('close', (_removed: boolean, done: () => void) => {
      try {
        bills?.close();
      } catch { /* closing a closed file */ }
      bills = null;
      if (storeNode) storeNode.deregister(node, done);
      else done();
    });
  }
  RED.nodes.registerType('ems-bill', EmsBill);
}
