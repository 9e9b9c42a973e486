import os from 'node:os';
import path from 'node:path';
import type { Node, NodeAPI, NodeDef } from 'node-red';
import { BillStore } from '../../lib/billing/bill-store';
import type { Poller } from '../../lib/ems/api/types';
import { defineSystem, registerRunningServices, undefineSystem, unregisterRunningServices } from '../../lib/ems/running';
import { storeConsumption } from '../../lib/ems/alarms/consumption';
import { openEmsServices, type EmsServices } from '../../lib/ems/services';
import { isValidTimeZone, systemTimeZone, type ReadingStore } from '../../lib/store';
import type { StoreConfigNode } from '../store/store';
import { withoutUnsetEnv } from '../unset-env';

export interface SystemDef extends NodeDef {
  store: string;
  path: string;
  billsPath: string;
  timeZone: string;
}

/** What the EMS nodes (ems-api, ems-poll-schedule, the dashboard's) see of the ems-system config node. */
export interface SystemConfigNode extends Node {
  /** The EMS services, opened once (database, migrations, first admin). Rejects with the cause. */
  ready(): Promise<EmsServices>;
  getStore(): ReadingStore;
  getBills(): BillStore;
  timeZone: string;
  /** The ems-poll-schedule node running for this system, if any. */
  poller?: Poller;
  setPoller(p: Poller | undefined): void;
}

/** empty = <userDir>/<fallback>, relative = under userDir. */
export function resolveUnderUserDir(configured: string | undefined, userDir: string, fallback: string): string {
  const p = (configured ?? '').trim();
  if (p === '') return path.join(userDir, fallback);
  if (p === ':memory:') return p;
  return path.resolve(userDir, p);
}

export default function init(RED: NodeAPI): void {
  function EmsSystem(this: SystemConfigNode, configured: SystemDef): void {
    RED.nodes.createNode(this, configured);
    const def = withoutUnsetEnv(configured);
    const node = this;
    const userDir = (RED.settings as unknown as { userDir?: string }).userDir || path.join(os.homedir(), '.node-red');
    const storeNode = RED.nodes.getNode(def.store) as StoreConfigNode | null;
    const zone = (def.timeZone ?? '').trim() || storeNode?.timeZone || systemTimeZone();
    node.timeZone = zone;
    let bills: BillStore | null = null;
    let stopAlarmFeed: (() => void) | undefined;
    defineSystem(node.id); // the dashboard is behind the EMS login from now on (closed until the services open)

    const opening: Promise<EmsServices> = (async () => {
      if (!storeNode) throw new Error('ems-system: no reading store is configured');
      if (!isValidTimeZone(zone)) throw new Error(`ems-system: time zone ${JSON.stringify(def.timeZone)} is not an IANA zone (use e.g. Europe/Berlin or UTC)`);
      const file = resolveUnderUserDir(def.path, userDir, 'ems.db');
      const services = await openEmsServices({ file, env: process.env, timeZone: zone });
      // Alarm rules see every stored reading, and the store's consumption for window and anomaly rules.
      services.alarms.setConsumption(storeConsumption(() => storeNode.getStore(), zone));
      stopAlarmFeed = storeNode.onWritten((readings) => {
        services.alarms.onReadings(readings).catch((err: Error) => node.warn(`alarm evaluation failed: ${err.message}`));
      });
      if (services.adminWarning) node.warn(services.adminWarning);
      node.log(`EMS database ${file}`);
      registerRunningServices(services); // the dashboard gate checks sessions with these
      return services;
    })();
    opening.catch((err: Error) => node.error(err.message));

    node.ready = () => opening;
    node.getStore = () => {
      if (!storeNode) throw new Error('ems-system: no reading store is configured');
      return storeNode.getStore();
    };
    node.getBills = () => (bills ??= new BillStore(resolveUnderUserDir(def.billsPath, userDir, 'ems-bills.db')));
    node.setPoller = (p) => { node.poller = p; };
    storeNode?.register(node);

    node.on('close', (_removed: boolean, done: () => void) => {
      stopAlarmFeed?.();
      opening.then((s) => { unregisterRunningServices(s); s.close(); }, () => undefined).finally(() => {
        try { bills?.close(); } catch { /* already closed */ }
        storeNode?.deregister(node);
        undefineSystem(node.id);
        done();
      });
    });
  }
  RED.nodes.registerType('ems-system', EmsSystem);
}
