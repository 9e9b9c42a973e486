/**
 * One DLMS meter as a node or the EMS describes it: where it is (TCP wrapper, HDLC over TCP or a serial
 * port), its addresses, the security level and secrets, and what to read. `openMeter` opens one
 * association (link, AARQ/AARE, HLS passes 3/4) and returns a DlmsClient on it; the caller closes it.
 *
 *   const t = meterTarget({ host: '10.0.0.7', port: 4059, serverAddress: '1', security: 'hls-gmac', keys, systemTitle, counters });
 *   const { client, close } = await openMeter(t, 'grid-1');
 *   try { await client.readRegisters(parseObisList('1-0:1.8.0, 1-0:1.7.0') as RegisterSpec[]); } finally { await close(); }
 *
 * Secrets (password, keys) appear in no error message.
 */
import crypto from 'node:crypto';
import path from 'node:path';
import type { SerialSettings } from '../hex/link';
import { DlmsClient, type ClientOptions, type RegisterClass, type RegisterSpec } from './client';
import { FileCounterStore, type CounterStore } from './counter';
import { clientAddress, serverAddress } from './hdlc';
import type { SecurityKeys } from './security';
import { DlmsSession } from './session';
import { HdlcChannel, WrapperChannel, type ApduChannel } from './transport-channel';
import { openSerialStream, openTcpStream, WRAPPER_PORT, type ByteStream } from './transport';

export const SECURITY_LEVELS = ['lowest', 'lls', 'hls-gmac'] as const;
export type SecurityLevel = typeof SECURITY_LEVELS[number];

/** The usual client SAP per level: public client 0x10, management client with LLS 0x20, with HLS 0x30. */
export const DEFAULT_CLIENT_SAP: Record<SecurityLevel, number> = { lowest: 0x10, lls: 0x20, 'hls-gmac': 0x30 };

/** What a meter read without an OBIS list: energy import/export, power import/export, L1 voltage and current. */
export const DEFAULT_OBIS = '1-0:1.8.0, 1-0:2.8.0, 1-0:1.7.0, 1-0:2.7.0, 1-0:32.7.0, 1-0:31.7.0';
/** The usual load profile (15-minute energy). */
export const LOAD_PROFILE = '1-0:99.1.0.255';

export interface MeterTarget {
  /** Host of the wrapper or HDLC converter, or a serial device path. */
  host: string;
  port: number;
  transport: 'wrapper' | 'hdlc';
  logical: number;
  physical?: number;
  client: number;
  security: SecurityLevel;
  password?: Buffer;
  keys?: SecurityKeys;
  systemTitle?: Buffer;
  counters?: CounterStore;
  timeoutMs: number;
  serial?: SerialSettings;
}

export interface TargetInput {
  host: string;
  port?: number;
  /** "1" (logical device: the wrapper's wPort) or "1/17" (HDLC logical/physical); a serial path needs the HDLC form. */
  serverAddress: string;
  /** Client SAP; 0 or undefined = the level's usual one. */
  client?: number;
  security: string;
  password?: string;
  encryptionKey?: string;
  authenticationKey?: string;
  systemTitle?: Buffer;
  /** The counter store, or a function of the checked target that picks it (HLS-GMAC only). */
  counters?: CounterStore | ((t: MeterTarget) => CounterStore);
  timeoutMs?: number;
  serial?: SerialSettings;
}

export const isSerialDevice = (host: string) => host.startsWith('/');

/** "1" -> logical 1; "1/17" -> logical 1, physical 17; throws naming the field and the value. */
export function parseServerAddress(text: string, field = 'server address'): { logical: number; physical?: number } {
  const m = /^\s*(\d{1,5})\s*(?:\/\s*(\d{1,5})\s*)?$/.exec(text);
  const logical = m ? Number(m[1]) : NaN;
  const physical = m?.[2] !== undefined ? Number(m[2]) : undefined;
  if (!m || logical > 0x3fff || (physical !== undefined && physical > 0x3fff)) {
    throw new RangeError(`${field} ${JSON.stringify(text)} must be a logical device address 0..16383 ("1", the wrapper's wPort) or logical/physical ("1/17", HDLC)`);
  }
  return { logical, physical };
}

/** Checks a meter's settings; every error names the field and (for non-secrets) the value. */
export function meterTarget(i: TargetInput): MeterTarget {
  const host = i.host.trim();
  if (!host) throw new RangeError('host is empty: give the meter\'s host, its HDLC converter or a serial device path');
  if (!(SECURITY_LEVELS as readonly string[]).includes(i.security)) throw new RangeError(`security level ${JSON.stringify(i.security)} must be one of ${SECURITY_LEVELS.join(', ')}`);
  const security = i.security as SecurityLevel;
  const { logical, physical } = parseServerAddress(i.serverAddress);
  const serial = isSerialDevice(host);
  if (serial && physical === undefined) throw new RangeError(`server address ${JSON.stringify(i.serverAddress)} must be logical/physical (e.g. "1/17") for HDLC on the serial port ${host}`);
  const port = serial ? 0 : i.port ?? WRAPPER_PORT;
  if (!serial && (!Number.isInteger(port) || port < 1 || port > 65535)) throw new RangeError(`port ${JSON.stringify(i.port)} must be 1..65535`);
  const client = i.client || DEFAULT_CLIENT_SAP[security];
  if (!Number.isInteger(client) || client < 1 || client > 0x7f) throw new RangeError(`client SAP ${JSON.stringify(i.client)} must be 1..127`);
  const timeoutMs = i.timeoutMs ?? 5000;
  if (!Number.isInteger(timeoutMs) || timeoutMs < 50 || timeoutMs > 600_000) throw new RangeError(`timeout ${JSON.stringify(i.timeoutMs)} must be 50..600000 ms`);
  const t: MeterTarget = { host, port, transport: physical === undefined ? 'wrapper' : 'hdlc', logical, physical, client, security, timeoutMs, serial: i.serial, systemTitle: i.systemTitle };
  if (security === 'lls') {
    if (!i.password) throw new RangeError('password is empty: the LLS security level needs the meter\'s password');
    t.password = Buffer.from(i.password);
  }
  if (security === 'hls-gmac') {
    if (!i.encryptionKey || !i.authenticationKey) throw new RangeError(`${!i.encryptionKey ? 'encryption key' : 'authentication key'} is empty: HLS-GMAC needs both keys (32 hex digits each)`);
    t.keys = { encryptionKey: keyOf(i.encryptionKey, 'encryption key'), authenticationKey: keyOf(i.authenticationKey, 'authentication key') };
    if (!t.systemTitle || t.systemTitle.length !== 8) throw new RangeError('client system title must be 8 bytes for HLS-GMAC');
    t.counters = typeof i.counters === 'function' ? i.counters(t) : i.counters;
    if (!t.counters) throw new RangeError('HLS-GMAC needs an invocation counter store');
  }
  return t;
}

/** A 16-byte key from 32 hex digits; the message names the key, never its value. */
function keyOf(text: string, what: string): Buffer {
  const clean = text.replace(/[\s:]/g, '');
  if (!/^[0-9a-fA-F]{32}$/.test(clean)) throw new RangeError(`${what} must be 32 hex digits (AES-128, security suite 0)`);
  return Buffer.from(clean, 'hex');
}

/** Where the meter is, for queues and messages: host:port (server address) or the serial path. */
export function endpointOf(t: Pick<MeterTarget, 'host' | 'port'>): string {
  return isSerialDevice(t.host) ? t.host : `${t.host}:${t.port}`;
}

/**
 * The counter file of one client system title at one meter (a meter checks the counters of each client
 * title it knows): `<dir>/<title hex>-<hash of endpoint and server address>.json`.
 */
export function counterFile(dir: string, t: Pick<MeterTarget, 'host' | 'port' | 'logical' | 'physical' | 'client'>, systemTitle: Buffer): string {
  const where = crypto.createHash('sha256').update(`${endpointOf(t)}|${t.logical}/${t.physical ?? ''}|${t.client}`).digest('hex').slice(0, 16);
  return path.join(dir, `${systemTitle.toString('hex')}-${where}.json`);
}

const counterStores = new Map<string, FileCounterStore>();
/**
 * One FileCounterStore per file in this process: two stores on one file would each hand out the same
 * counters from what they loaded. Kept for the life of the process (one small object per meter).
 */
export function sharedCounterStore(file: string): FileCounterStore {
  let s = counterStores.get(file);
  if (!s) counterStores.set(file, (s = new FileCounterStore(file)));
  return s;
}

/** "1-0:1.8.0, 4:1-0:1.6.0" -> register specs (class 3 unless "class:" precedes the code); "discover" -> 'discover'. */
export function parseObisList(text: string): RegisterSpec[] | 'discover' {
  const s = text.trim();
  if (s === '') return parseObisList(DEFAULT_OBIS);
  if (s.toLowerCase() === 'discover') return 'discover';
  const items = s.split(/[\s,;]+/).filter(Boolean);
  if (items.length > 200) throw new RangeError(`OBIS list has ${items.length} codes, at most 200`);
  return items.map((item) => {
    const m = /^(?:([345]):)?(\d{1,3})-(\d{1,3}):(\d{1,3})\.(\d{1,3})\.(\d{1,3})(?:\.(\d{1,3}))?$/.exec(item);
    if (!m || m.slice(2).some((x) => x !== undefined && Number(x) > 255)) {
      throw new RangeError(`OBIS code ${JSON.stringify(item)} must be A-B:C.D.E[.F] (each 0..255), optionally after a class id 3, 4 or 5 ("4:1-0:1.6.0")`);
    }
    const obis = `${m[2]}-${m[3]}:${m[4]}.${m[5]}.${m[6]}.${m[7] ?? '255'}`;
    return { obis, classId: Number(m[1] ?? 3) as RegisterClass };
  });
}

/** The registers (classes 3, 4, 5) of a meter's object list, as specs. */
export function discoveredRegisters(objects: { classId: number; obis: string }[]): RegisterSpec[] {
  return objects.filter((o) => o.classId === 3 || o.classId === 4 || o.classId === 5).map((o) => ({ obis: o.obis, classId: o.classId as RegisterClass }));
}

export interface OpenMeter { client: DlmsClient; session: DlmsSession; close(): Promise<void> }

/** Opens the stream and the association; on any failure everything opened is closed again. */
export async function openMeter(t: MeterTarget, meter: string, options: Partial<ClientOptions> = {}): Promise<OpenMeter> {
  const stream: ByteStream = isSerialDevice(t.host)
    ? await openSerialStream(t.host, t.serial ?? { baudRate: 9600 })
    : await openTcpStream(t.host, t.port, t.timeoutMs);
  const channel: ApduChannel = t.transport === 'wrapper'
    ? new WrapperChannel(stream, { client: t.client, server: t.logical, timeoutMs: t.timeoutMs })
    : new HdlcChannel(stream, { client: clientAddress(t.client), server: serverAddress(t.logical, t.physical), frameTimeoutMs: t.timeoutMs });
  const hls = t.security === 'hls-gmac';
  const session = new DlmsSession({
    channel,
    mechanism: hls ? 'high-gmac' : t.security === 'lls' ? 'low' : 'lowest',
    password: t.password, keys: t.keys, systemTitle: t.systemTitle, ciphered: hls, counters: t.counters,
  });
  try {
    await session.open();
  } catch (e) {
    await stream.close().catch(() => undefined);
    throw e;
  }
  return { client: new DlmsClient(session, { meter, ...options }), session, close: () => session.close().catch(() => stream.close()) };
}
