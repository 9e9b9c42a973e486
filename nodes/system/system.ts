import os from 'node:os';
import path from 'node:path';
import type { Node, NodeAPI, NodeDef } from 'node-red';
import { BillStore } from '../../lib/billing/bill-store';
import type { Poller } from '../../lib/ems/api/types';
import { defineSystem, registerRunningServices, undefineSystem, unregisterRunningServices } from '../../lib/ems/running';
import { storeConsumption, storeSpoolFill } from '../../lib/ems/alarms/consumption';
import { openEmsServices, type EmsServices } from '../../lib/ems/services';
import { registryResolver, registryVirtualIds, withVirtualMeters } from '../../lib/ems/virtual-store';
import { isValidTimeZone, systemTimeZone, type ReadingStore } from '../../lib/store';
import { isPresentReading } from '../../lib/model/quality';
import type { StoreConfigNode } from '../store/store';
import { feedChannels, withNotifyEnv, type NotifyConfig } from '../../lib/ems/notify/config';
import { withoutUnsetEnv } from '../unset-env';

export interface SystemDef extends NodeDef {
  store: string;
  path: string;
  billsPath: string;
  timeZone: string;
  smtpHost?: string;
  smtpPort?: string;
  smtpSecurity?: string;
  smtpFrom?: string;
  smtpAllowSelfSigned?: boolean;
  mqttUrl?: string;
  mqttPrefix?: string;
  webhookUrl?: string;
  dashboardUrl?: string;
}

/** The secrets, kept as Node-RED credentials (never in the flow file). */
export interface SystemCredentials { smtpUser?: string; smtpPassword?: string; mqttUser?: string; mqttPassword?: string; webhookSecret?: string }

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
  function EmsSystem(this: SystemConfigNode & { credentials?: SystemCredentials }, configured: SystemDef): void {
    RED.nodes.createNode(this, configured);
    const def = withoutUnsetEnv(configured);
    const node = this;
    const userDir = (RED.settings as unknown as { userDir?: string }).userDir || path.join(os.homedir(), '.node-red');
    const storeNode = RED.nodes.getNode(def.store) as StoreConfigNode | null;
    const zone = (def.timeZone ?? '').trim() || storeNode?.timeZone || systemTimeZone();
    node.timeZone = zone;
    let bills: BillStore | null = null;
    let stopAlarmFeed: (() => void) | undefined;
    let opened: EmsServices | undefined;
    defineSystem(node.id); // the dashboard is behind the EMS login from now on (closed until the services open)

    const opening: Promise<EmsServices> = (async () => {
      if (!storeNode) throw new Error('ems-system: no reading store is configured');
      if (!isValidTimeZone(zone)) throw new Error(`ems-system: time zone ${JSON.stringify(def.timeZone)} is not an IANA zone (use e.g. Europe/Berlin or UTC)`);
      const file = resolveUnderUserDir(def.path, userDir, 'ems.db');
      const notify = notificationSettings(def, node.credentials ?? {});
      const feeds = feedChannels(notify, zone);
      const problems = [...feeds.problems];
      let dashboardUrl = notify.dashboardUrl;
      if (dashboardUrl && !/^https?:\/\/\S+$/i.test(dashboardUrl)) {
        problems.push(`dashboardUrl must be an http(s) URL, got ${JSON.stringify(dashboardUrl)}; notifications carry no link`);
        dashboardUrl = undefined;
      }
      for (const p of problems) node.error(p);
      const services = await openEmsServices({ file, env: process.env, timeZone: zone, notifications: { channels: feeds.channels, dashboardUrl } });
      for (const p of problems) services.events.add({ kind: 'system', level: 'error', event: p });
      // Alarm rules see every stored reading, and the store's consumption for window and anomaly rules.
      services.alarms.setConsumption(storeConsumption(() => node.getStore(), zone)); // node's: virtual meters too
      services.alarms.setSpool(storeSpoolFill(() => storeNode.getStore()));
      // Stale rules count from each meter's last stored reading, also across a restart.
      const cannotSeed = (err: Error) => node.warn(`alarm rules: the store's latest readings could not be read (stale rules count from now): ${err.message}`);
      try {
        storeNode.getStore().latest().then((latest) => services.alarms.noteLastReadings(latest), cannotSeed);
      } catch (err) {
        cannotSeed(err as Error); // a store that cannot open must not keep the EMS closed
      }
      // Values read afterwards from a meter's memory (backfill, billing periods) are history, not news: a backfilled
      // hour of high power raises nothing now, and an older value is not a register going backwards.
      stopAlarmFeed = storeNode.onWritten((readings) => {
        const present = readings.filter(isPresentReading);
        if (present.length) services.alarms.onReadings(present).catch((err: Error) => node.warn(`alarm evaluation failed: ${err.message}`));
      });
      if (services.adminWarning) node.warn(services.adminWarning);
      node.log(`EMS database ${file}`);
      registerRunningServices(services); // the dashboard gate checks sessions with these
      // ems-store-query and ems-bill nodes on this store see the EMS's virtual meters too.
      storeNode?.setReadingView((s) => withVirtualMeters(s, registryResolver(services.registry), registryVirtualIds(services.registry)));
      opened = services;
      return services;
    })();
    opening.catch((err: Error) => node.error(err.message));

    node.ready = () => opening;
    node.getStore = () => {
      if (!storeNode) throw new Error('ems-system: no reading store is configured');
      // Virtual meters answer from their meters (lib/ems/virtual-store.ts); a fresh wrapper per call caches per request.
      return opened ? withVirtualMeters(storeNode.getStore(), registryResolver(opened.registry), registryVirtualIds(opened.registry)) : storeNode.getStore();
    };
    node.getBills = () => (bills ??= new BillStore(resolveUnderUserDir(def.billsPath, userDir, 'ems-bills.db')));
    node.setPoller = (p) => { node.poller = p; };
    storeNode?.register(node);

    node.on('close', (_removed: boolean, done: () => void) => {
      stopAlarmFeed?.();
      storeNode?.setReadingView(undefined);
      opening.then((s) => { unregisterRunningServices(s); s.close(); }, () => undefined).finally(() => {
        try { bills?.close(); } catch { /* already closed */ }
        storeNode?.deregister(node);
        undefineSystem(node.id);
        done();
      });
    });
  }
  RED.nodes.registerType('ems-system', EmsSystem as unknown as (this: Node, def: SystemDef) => void, {
    credentials: { smtpUser: { type: 'text' }, smtpPassword: { type: 'password' }, mqttUser: { type: 'text' }, mqttPassword: { type: 'password' }, webhookSecret: { type: 'password' } },
  });
}

/** The node's notification settings and credentials, each falling back to its environment variable (lib/ems/notify/config.ts). */
function notificationSettings(def: SystemDef, creds: SystemCredentials): NotifyConfig {
  return withNotifyEnv({
    smtpHost: def.smtpHost, smtpPort: def.smtpPort, smtpSecurity: def.smtpSecurity, smtpFrom: def.smtpFrom,
    smtpAllowSelfSigned: def.smtpAllowSelfSigned ? 'true' : undefined, mqttUrl: def.mqttUrl, mqttPrefix: def.mqttPrefix,
    webhookUrl: def.webhookUrl, dashboardUrl: def.dashboardUrl, ...creds,
  }, process.env);
}
