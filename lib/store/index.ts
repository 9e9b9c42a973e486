/**
 * The reading store: one interface (./types), its backends, and the helpers every backend and caller
 * shares (window arithmetic, query parameter parsing).
 */
import { SqliteStore } from './sqlite';
import { InfluxStore, type InfluxStoreOptions } from './influxdb/store';
import type { ReadingStore } from './types';

export * from './types';
export * from '../model/time';
export * from './query-params';
export * from './gaps';
export * from './events';
export { InfluxStore, type InfluxStoreOptions, type InfluxStoreStatus, type InfluxStoreState } from './influxdb/store';
export { SqliteStore, DEFAULT_RAW_LIMIT, DEFAULT_EVENT_LIMIT, type SqliteStoreOptions } from './sqlite';

export interface SqliteStoreConfig {
  backend: 'sqlite';
  /** File path (absolute, or relative to the process's working directory) or ":memory:". */
  path: string;
}

/** An InfluxDB server (1.x with version 1; 2.x, 3.x, Cloud with version 2); see ./influxdb/store. */
export interface InfluxStoreConfig extends InfluxStoreOptions {
  backend: 'influxdb';
}

export type StoreConfig = SqliteStoreConfig | InfluxStoreConfig;

export const BACKENDS = ['sqlite', 'influxdb'] as const;

/** Opens a store for a configuration. Throws an Error naming the backend and the cause when it cannot. */
export function openStore(config: StoreConfig): ReadingStore {
  switch (config?.backend) {
    case 'sqlite':
      if (typeof config.path !== 'string' || config.path === '') throw new Error('sqlite store: path is required (a file path or ":memory:")');
      return new SqliteStore({ path: config.path });
    case 'influxdb': {
      const { backend: _backend, ...options } = config;
      return new InfluxStore(options);
    }
    default:
      throw new Error(`unknown store backend ${JSON.stringify((config as { backend?: unknown })?.backend)} (use ${BACKENDS.join(', ')})`);
  }
}
export * from './ui-feed';
