import os from 'node:os';
import path from 'node:path';
import type { Node, NodeAPI, NodeDef, NodeStatus } from 'node-red';
import { BACKENDS, InfluxStore, isValidTimeZone, openStore, systemTimeZone, type InfluxStoreOptions, type InfluxStoreStatus, type ReadingStore } from '../../lib/store';
import type { Reading } from '../../lib/model';
import { influxOptions, text, type InfluxCredentials, type InfluxDef } from './influx-options';
import { withoutUnsetEnv } from '../unset-env';

export interface StoreDef extends NodeDef, InfluxDef {
  backend: string;
  path: string;
  timeZone: string;
}

/** What user nodes (ems-store-write, ems-store-query, the API) see of an ems-store config node. */
export interface StoreConfigNode extends Node {
  backend: string;
  /** Resolved file path (sqlite). */
  filePath: string;
  /** Resolved options (influxdb; credentials included). */
  influx?: InfluxStoreOptions;
  /** IANA zone for window alignment and local times. */
  timeZone: string;
  /** The shared store, opened on first use; throws an Error naming the cause when it cannot be opened. */
  getStore(): ReadingStore;
  /**
   * The store as readers (ems-store-query, ems-bill) see it: with the EMS's virtual meters when an ems-system uses
   * this store (it sets the view), else the store itself. Writers use getStore.
   */
  getReadingView(): ReadingStore;
  /** Set by ems-system when its services are open (undefined when it closes): wraps the store for readers. */
  setReadingView(view: ((store: ReadingStore) => ReadingStore) | undefined): void;
  /** Users register so the store stays open while they need it and so they get its status. */
  register(user: Node): void;
  /** A user is done with the store (call after its last write); `done` is called at once. */
  deregister(user: Node, done?: () => void): void;
  /** Writers tell the readings they stored (after the commit); listeners (the EMS's alarms) are told. */
  written(readings: readonly Reading[]): void;
  /** Listens to stored readings; returns the function that stops listening. */
  onWritten(listener: (readings: readonly Reading[]) => void): () => void;
}

const USERS_WAIT_MS = 10_000;

/** The file a sqlite store uses: empty = <userDir>/ems-readings.sqlite, relative = under userDir. */
export function resolveStorePath(configured: string | undefined, userDir: string | undefined): string {
  const dir = userDir || path.join(os.homedir(), '.node-red');
  const p = (configured ?? '').trim();
  if (p === '') return path.join(dir, 'ems-readings.sqlite');
  if (p === ':memory:') return p;
  return path.resolve(dir, p);
}

/** The status users show for an InfluxStore status (texts are i18n keys plus the detail). */
export function influxStatus(RED: NodeAPI, s: InfluxStoreStatus): NodeStatus {
  if (s.state === 'connected') return { fill: 'green', shape: 'dot', text: RED._('ems-store.status.connected') };
  if (s.state === 'buffering') return { fill: 'yellow', shape: 'ring', text: `${RED._('ems-store.status.buffering')} ${s.spooled}` };
  const why = (s.lastError ?? '').replace(/\s+/g, ' ');
  return { fill: 'red', shape: 'ring', text: `${RED._('ems-store.status.error')}: ${why.length > 40 ? `${why.slice(0, 39)}…` : why}` };
}

type StoreNode = StoreConfigNode & Node<InfluxCredentials>;

export default function init(RED: NodeAPI): void {
  function EmsStore(this: StoreNode, configured: StoreDef): void {
    RED.nodes.createNode(this, configured);
    const def = withoutUnsetEnv(configured);
    const node = this;
    const users = new Map<string, Node>();
    let store: ReadingStore | null = null;
    let status: NodeStatus = {};
    let problem: string | null = null;
    let closed = false;
    let usersGone: (() => void) | null = null;

    // Empty (an unset ${ENV} variable) means the default, for every property.
    node.backend = text(def.backend) || 'sqlite';
    node.timeZone = text(def.timeZone) || systemTimeZone();
    const userDir = (RED.settings as unknown as { userDir?: string }).userDir || path.join(os.homedir(), '.node-red');
    node.filePath = resolveStorePath(text(def.path), userDir);
    if (!(BACKENDS as readonly string[]).includes(node.backend)) {
      problem = `ems-store: unknown backend ${JSON.stringify(node.backend)} (use ${BACKENDS.join(', ')})`;
    } else if (!isValidTimeZone(node.timeZone)) {
      problem = `ems-store: time zone ${JSON.stringify(def.timeZone)} is not an IANA zone (use e.g. Europe/Berlin or UTC)`;
    } else if (node.backend === 'influxdb') {
      try {
        node.influx = influxOptions(def, node.credentials, { nodeId: node.id, userDir, timeZone: node.timeZone });
      } catch (err) {
        problem = err instanceof Error ? err.message : String(err);
      }
    }
    const where = node.influx ? `${node.influx.url} (${node.influx.version === 1 ? `db ${node.influx.database}` : `bucket ${node.influx.bucket}`})` : node.filePath;
    if (problem) {
      node.error(problem);
      status = { fill: 'red', shape: 'ring', text: 'ems-store.status.bad-config' };
    }

    function fanOut(s: NodeStatus): void {
      status = s;
      for (const u of users.values()) u.status(s);
    }

    node.register = (user: Node): void => {
      users.set(user.id, user);
      if (status.text) user.status(status);
    };

    node.deregister = (user: Node, done?: () => void): void => {
      users.delete(user.id);
      if (users.size === 0 && usersGone) usersGone();
      done?.();
    };

    const writtenListeners = new Set<(readings: readonly Reading[]) => void>();
    node.written = (readings) => {
      for (const l of writtenListeners) {
        try { l(readings); } catch (err) { node.warn(`ems-store: a listener of stored readings failed: ${(err as Error).message}`); }
      }
    };
    node.onWritten = (listener) => {
      writtenListeners.add(listener);
      return () => { writtenListeners.delete(listener); };
    };

    let readingView: ((s: ReadingStore) => ReadingStore) | undefined;
    node.setReadingView = (view) => { readingView = view; };
    node.getReadingView = () => (readingView ? readingView(node.getStore()) : node.getStore());

    node.getStore = (): ReadingStore => {
      if (problem) throw new Error(problem);
      if (closed) throw new Error('ems-store: the store is closed');
      if (store) return store;
      try {
        if (node.influx) {
          const influx = openStore({ backend: 'influxdb', ...node.influx }) as InfluxStore;
          influx.on('status', (s: InfluxStoreStatus) => {
            if (!closed) fanOut(influxStatus(RED, s));
          });
          influx.on('rejected', (message: string, lines: string[]) => {
            node.warn(`ems-store: ${where} refused ${lines.length} spooled line(s), dropped: ${message}`);
          });
          store = influx;
          fanOut(influxStatus(RED, influx.status()));
        } else {
          store = openStore({ backend: 'sqlite', path: node.filePath });
          fanOut({ fill: 'green', shape: 'dot', text: 'ems-store.status.open' });
        }
        return store;
      } catch (err) {
        fanOut({ fill: 'red', shape: 'ring', text: 'ems-store.status.error' });
        throw err instanceof Error ? err : new Error(String(err));
      }
    };

    node.on('close', (_removed: boolean, done: () => void) => {
      // Users flush their pending writes in their own close handlers, then deregister; wait for them.
      const wait = users.size === 0 ? Promise.resolve() : new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, USERS_WAIT_MS);
        usersGone = () => { clearTimeout(timer); resolve(); };
      });
      void wait
        .then(() => store?.close())
        .catch((err: unknown) => node.error(`ems-store: closing ${where}: ${err instanceof Error ? err.message : String(err)}`))
        .finally(() => {
          store = null;
          closed = true;
          users.clear();
          done();
        });
    });
  }
  RED.nodes.registerType<StoreNode, StoreDef, unknown, InfluxCredentials>('ems-store', EmsStore, {
    credentials: { username: { type: 'text' }, password: { type: 'password' }, token: { type: 'password' } },
  });
}
