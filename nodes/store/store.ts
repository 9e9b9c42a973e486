import os from 'node:os';
import path from 'node:path';
import type { Node, NodeAPI, NodeDef, NodeStatus } from 'node-red';
import { BACKENDS, isValidTimeZone, openStore, systemTimeZone, type ReadingStore } from '../../lib/store';

export interface StoreDef extends NodeDef {
  backend: string;
  path: string;
  timeZone: string;
}

/** What user nodes (ems-store-write, ems-store-query, the API) see of an ems-store config node. */
export interface StoreConfigNode extends Node {
  backend: string;
  /** Resolved file path (sqlite). */
  filePath: string;
  /** IANA zone for window alignment and local times. */
  timeZone: string;
  /** The shared store, opened on first use; throws an Error naming the cause when it cannot be opened. */
  getStore(): ReadingStore;
  /** Users register so the store stays open while they need it and so they get its status. */
  register(user: Node): void;
  /** A user is done with the store (call after its last write); `done` is called at once. */
  deregister(user: Node, done?: () => void): void;
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

export default function init(RED: NodeAPI): void {
  function EmsStore(this: StoreConfigNode, def: StoreDef): void {
    RED.nodes.createNode(this, def);
    const node = this;
    const users = new Map<string, Node>();
    let store: ReadingStore | null = null;
    let status: NodeStatus = {};
    let problem: string | null = null;
    let closed = false;
    let usersGone: (() => void) | null = null;

    node.backend = def.backend || 'sqlite';
    node.timeZone = (def.timeZone ?? '').trim() || systemTimeZone();
    const userDir = (RED.settings as unknown as { userDir?: string }).userDir;
    node.filePath = resolveStorePath(def.path, userDir);
    if (!(BACKENDS as readonly string[]).includes(node.backend)) {
      problem = `ems-store: unknown backend ${JSON.stringify(node.backend)} (use ${BACKENDS.join(', ')})`;
    } else if (!isValidTimeZone(node.timeZone)) {
      problem = `ems-store: time zone ${JSON.stringify(def.timeZone)} is not an IANA zone (use e.g. Europe/Berlin or UTC)`;
    }
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

    node.getStore = (): ReadingStore => {
      if (problem) throw new Error(problem);
      if (closed) throw new Error('ems-store: the store is closed');
      if (store) return store;
      try {
        store = openStore({ backend: 'sqlite', path: node.filePath });
        fanOut({ fill: 'green', shape: 'dot', text: 'ems-store.status.open' });
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
        .catch((err: unknown) => node.error(`ems-store: closing ${node.filePath}: ${err instanceof Error ? err.message : String(err)}`))
        .finally(() => {
          store = null;
          closed = true;
          users.clear();
          done();
        });
    });
  }
  RED.nodes.registerType('ems-store', EmsStore);
}
