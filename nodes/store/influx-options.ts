import path from 'node:path';
import type { InfluxStoreOptions } from '../../lib/store';

/** The ems-store properties of the influxdb backend (strings: they may come from `${ENV}` substitution). */
export interface InfluxDef {
  version?: string | number;
  url?: string;
  database?: string;
  retentionPolicy?: string;
  org?: string;
  bucket?: string;
  batchSize?: string | number;
  flushInterval?: string | number;
  spoolDir?: string;
}

export interface InfluxCredentials {
  username?: string;
  password?: string;
  token?: string;
}

/** Environment variables used when a credential is empty. */
export const CREDENTIAL_ENV = { username: 'EMS_INFLUX_USER', password: 'EMS_INFLUX_PASSWORD', token: 'EMS_INFLUX_TOKEN' } as const;

export const DEFAULT_BATCH_SIZE = 5000;
export const DEFAULT_FLUSH_INTERVAL = 1000;

/** A property as a trimmed string; an unset env var (empty, or an unreplaced `${VAR}`) counts as empty. */
export function text(v: unknown): string {
  const s = v === undefined || v === null ? '' : String(v).trim();
  return /^\$\{[A-Za-z_][A-Za-z0-9_]*\}$/.test(s) ? '' : s;
}

function integer(field: string, v: unknown, dflt: number, min: number): number {
  const s = text(v);
  if (s === '') return dflt;
  const n = Number(s);
  if (!Number.isInteger(n) || n < min) throw new Error(`ems-store: ${field} ${JSON.stringify(s)} is not an integer >= ${min}`);
  return n;
}

/**
 * The InfluxStore options of an ems-store node. Empty properties take their defaults; empty
 * credentials fall back to EMS_INFLUX_USER / EMS_INFLUX_PASSWORD / EMS_INFLUX_TOKEN.
 * Throws an Error naming the field and the value when a property is bad.
 */
export function influxOptions(
  def: InfluxDef,
  creds: InfluxCredentials | undefined,
  ctx: { nodeId: string; userDir: string; timeZone: string; env?: NodeJS.ProcessEnv },
): InfluxStoreOptions {
  const env = ctx.env ?? process.env;
  const cred = (k: keyof typeof CREDENTIAL_ENV): string | undefined => text(creds?.[k]) || text(env[CREDENTIAL_ENV[k]]) || undefined;
  const versionText = text(def.version) || '1';
  if (versionText !== '1' && versionText !== '2') throw new Error(`ems-store: version ${JSON.stringify(versionText)} is not 1 or 2 (1 for InfluxDB 1.x, 2 for 2.x, 3.x and Cloud)`);
  const version = Number(versionText) as 1 | 2;
  const url = text(def.url);
  let parsed: URL | undefined;
  try { parsed = new URL(url); } catch { /* reported below */ }
  if (!parsed || !/^https?:$/.test(parsed.protocol)) throw new Error(`ems-store: url ${JSON.stringify(url)} is not an http(s) URL (e.g. http://localhost:8086)`);
  const opts: InfluxStoreOptions = {
    version,
    url,
    batchSize: integer('batch size', def.batchSize, DEFAULT_BATCH_SIZE, 1),
    flushInterval: integer('flush interval', def.flushInterval, DEFAULT_FLUSH_INTERVAL, 0),
    spoolDir: path.resolve(ctx.userDir, text(def.spoolDir) || path.join('ems-spool', ctx.nodeId.replace(/[^A-Za-z0-9_.-]/g, '_'))),
    timeZone: ctx.timeZone,
  };
  if (version === 1) {
    opts.database = text(def.database) || 'ems';
    const rp = text(def.retentionPolicy);
    if (rp) opts.retentionPolicy = rp;
    const username = cred('username');
    const password = cred('password');
    if (username) opts.username = username;
    if (password) opts.password = password;
    if (password && !username) throw new Error('ems-store: a password is set but no username (set the username, or EMS_INFLUX_USER)');
  } else {
    opts.org = text(def.org);
    opts.bucket = text(def.bucket);
    opts.token = cred('token');
    if (!opts.org) throw new Error('ems-store: org is required for InfluxDB 2.x/3.x (version 2)');
    if (!opts.bucket) throw new Error('ems-store: bucket is required for InfluxDB 2.x/3.x (version 2)');
    if (!opts.token) throw new Error('ems-store: token is required for InfluxDB 2.x/3.x (version 2): set the credential or EMS_INFLUX_TOKEN');
  }
  return opts;
}
