import crypto from 'node:crypto';
import os from 'node:os';
import path from 'node:path';
import type { Node, NodeAPI, NodeDef, NodeMessage } from 'node-red';
import type { Reading } from '../../lib/model';
import { backfillAnswer, isBackfill, parseBackfill, BACKFILL_CAP } from '../../lib/model/backfill-span';
import { serialise } from '../../lib/protocols/hex';
import type { ClockReading, RegisterSpec } from '../../lib/protocols/dlms/client';
import {
  LOAD_PROFILE, counterFile, discoveredRegisters, endpointOf, isSerialDevice, meterTarget, openMeter, parseObisList, sharedCounterStore,
  type MeterTarget, type OpenMeter,
} from '../../lib/protocols/dlms/meter';
import type { SystemConfigNode } from '../system/system';

/** A backfill reads the load profile one day per association, the newest day first. */
export const BACKFILL_CHUNK_MS = 86_400_000;
/** A whole poll (association, reads, clock, release) ends within this many answer timeouts. */
const POLL_TIMEOUTS = 20;

export interface DlmsMeterDef extends NodeDef {
  meterId: string;
  host: string;
  port: string;
  serverAddress: string;
  clientSap: string;
  security: string;
  systemTitle: string;
  obis: string;
  baud: string;
  timeout: string;
  timeDifference: string;
  system: string;
}

interface Creds { password?: string; encryptionKey?: string; authenticationKey?: string }

/** The EMS meter definition fields this node reads from msg.meter. */
interface MeterDef {
  _id?: unknown; name?: unknown; ip_address?: unknown; port?: unknown; connection_address?: unknown; client_sap?: unknown; security_level?: unknown;
  password?: unknown; encryption_key?: unknown; authentication_key?: unknown; profile?: unknown; waiting_time?: unknown; time_difference?: unknown; serial_line?: unknown;
}
type PollMsg = NodeMessage & { meter?: MeterDef; backfill?: unknown };

interface Job { meter: string; name?: string; target: MeterTarget; registers: RegisterSpec[] | 'discover'; toleranceSeconds: number }

const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : typeof v === 'number' ? String(v) : undefined);
const secret = (v: unknown, fallback?: string): string | undefined => (typeof v === 'string' && v !== '' ? v : fallback || undefined);

function whole(v: unknown, field: string, min: number, max: number): number {
  const n = typeof v === 'string' && v.trim() !== '' ? Number(v) : v;
  if (typeof n !== 'number' || !Number.isInteger(n) || n < min || n > max) throw new Error(`${field} must be a whole number ${min}..${max}, got ${JSON.stringify(v)}`);
  return n;
}

/** The client system title: the node's (16 hex digits), else "EMS" and 5 bytes of a hash of this host and user dir. */
export function clientSystemTitle(configured: string, userDir: string): Buffer {
  const hex = configured.replace(/[\s:]/g, '');
  if (hex) {
    if (!/^[0-9A-Fa-f]{16}$/.test(hex)) throw new Error(`system title ${JSON.stringify(configured)} must be 8 bytes (16 hex digits)`);
    return Buffer.from(hex, 'hex');
  }
  return Buffer.concat([Buffer.from('EMS'), crypto.createHash('sha256').update(`${os.hostname()}|${userDir}`).digest().subarray(0, 5)]);
}

export default function init(RED: NodeAPI): void {
  function DlmsMeter(this: Node, def: DlmsMeterDef): void {
    RED.nodes.createNode(this, def);
    const node = this;
    const system = def.system ? RED.nodes.getNode(def.system) as SystemConfigNode | null : null;
    const userDir = RED.settings.userDir ?? path.join(os.homedir(), '.node-red');
    const counterDir = path.join(userDir, 'ems-state', 'dlms-counters');
    const open = new Set<OpenMeter>();
    let closing = false;
    let title: Buffer;
    try {
      title = clientSystemTitle(def.systemTitle ?? '', userDir);
    } catch (err) {
      node.status({ fill: 'red', shape: 'ring', text: 'ems-dlms-meter.status.bad-config' });
      node.error(err);
      return;
    }

    /** OBIS lists parsed once (an EMS poll repeats its meter's list; at most 100 kept). */
    const lists = new Map<string, RegisterSpec[] | 'discover'>();
    function obisList(text: string): RegisterSpec[] | 'discover' {
      let l = lists.get(text);
      if (!l) {
        l = parseObisList(text);
        if (lists.size >= 100) lists.clear();
        lists.set(text, l);
      }
      return l;
    }

    /** The node's settings, overridden by an EMS poll message's msg.meter. */
    function job(msg: PollMsg): Job {
      const m: MeterDef = msg.meter && typeof msg.meter === 'object' ? msg.meter : {};
      const creds = (node.credentials ?? {}) as Creds;
      const host = String(m.ip_address ?? def.host ?? '').trim();
      const serial = isSerialDevice(host);
      const baud = serial ? whole(str(m.serial_line)?.split(' ')[0] || def.baud || '9600', 'baud', 300, 115_200) : 9600;
      const security = String(m.security_level || def.security || 'lowest');
      const base = {
        host,
        port: serial ? 0 : whole(m.port ?? (def.port || '4059'), m.port !== undefined ? 'msg.meter.port' : 'port', 1, 65535),
        serverAddress: String(m.connection_address ?? def.serverAddress ?? '1'),
        client: whole(m.client_sap ?? (def.clientSap || 0), 'client SAP', 0, 127),
        security,
        password: secret(m.password, creds.password),
        encryptionKey: secret(m.encryption_key, creds.encryptionKey),
        authenticationKey: secret(m.authentication_key, creds.authenticationKey),
        systemTitle: title,
        timeoutMs: whole(m.waiting_time ?? (def.timeout || 5000), 'waiting_time', 50, 600_000),
        serial: serial ? { baudRate: baud } : undefined,
      };
      const target = meterTarget({ ...base, counters: (t) => sharedCounterStore(counterFile(counterDir, t, title)) });
      const meter = typeof m._id === 'string' && m._id ? m._id : typeof msg.topic === 'string' && msg.topic ? msg.topic : (def.meterId || def.name || def.id);
      const list = typeof m.profile === 'string' && m.profile.trim() ? m.profile : def.obis ?? '';
      return {
        meter, name: typeof m.name === 'string' ? m.name : undefined, target,
        registers: obisList(list),
        toleranceSeconds: whole(m.time_difference ?? (def.timeDifference || 0), 'time_difference', 0, 86_400),
      };
    }

    /** One association on the meter's endpoint (one at a time per endpoint), bounded in time; always released. */
    function withMeter<T>(j: Job, work: (m: OpenMeter) => Promise<T>): Promise<T> {
      return serialise(`dlms ${endpointOf(j.target)}`, async () => {
        if (closing) throw new Error('the node is closing');
        const limit = POLL_TIMEOUTS * j.target.timeoutMs;
        let timer: NodeJS.Timeout | undefined;
        let m: OpenMeter | undefined;
        const deadline = new Promise<never>((_, reject) => {
          timer = setTimeout(() => { reject(new Error(`no complete answer within ${limit} ms`)); void m?.close(); }, limit);
        });
        try {
          return await Promise.race([deadline, (async () => {
            m = await openMeter(j.target, j.meter);
            open.add(m);
            return work(m);
          })()]);
        } finally {
          clearTimeout(timer);
          if (m) { open.delete(m); await m.close(); }
        }
      });
    }

    async function logClock(j: Job, drift: number, corrected: boolean, reason?: string): Promise<void> {
      if (!system) return;
      const s = await system.ready();
      s.events.add({
        kind: 'clock', level: corrected ? 'info' : 'warning', meter_id: j.meter, meter_name: j.name ?? j.meter, source: node.id, value: drift,
        event: corrected ? `meter clock corrected: it was ${drift} s ${drift > 0 ? 'ahead' : 'behind'}` : `meter clock ${drift} s off, not corrected: ${reason}`,
      });
    }

    /** Checks the meter clock against ours; beyond the tolerance it is set (LLS and HLS clients may write it). */
    async function syncClock(j: Job, m: OpenMeter): Promise<{ meter: string | null; driftSeconds: number; corrected: boolean; reason?: string } | undefined> {
      if (j.toleranceSeconds <= 0) return undefined;
      const c: ClockReading = await m.client.readClock();
      if (c.time === null) return { meter: null, driftSeconds: 0, corrected: false, reason: 'the meter clock is not set' };
      const drift = Math.round((c.time - Date.now()) / 1000);
      if (Math.abs(drift) <= j.toleranceSeconds) return { meter: new Date(c.time).toISOString(), driftSeconds: drift, corrected: false };
      let reason: string | undefined;
      if (j.target.security === 'lowest') reason = 'the public client may not set the clock (use LLS or HLS-GMAC)';
      else {
        try { await m.client.setClock(Date.now(), c.deviation ?? undefined); } catch (err) { reason = (err as Error).message; }
      }
      await logClock(j, drift, reason === undefined, reason);
      return { meter: new Date(c.time).toISOString(), driftSeconds: drift, corrected: reason === undefined, reason };
    }

    async function poll(msg: PollMsg): Promise<NodeMessage> {
      if (isBackfill(msg)) return backfill(msg);
      const j = job(msg);
      node.status({ fill: 'yellow', shape: 'ring', text: 'ems-dlms-meter.status.reading' });
      return withMeter(j, async (m) => {
        let registers = j.registers;
        let objects: number | undefined;
        if (registers === 'discover') {
          const list = await m.client.objectList();
          objects = list.length;
          registers = discoveredRegisters(list);
        }
        const readings: Reading[] = registers.length ? await m.client.readRegisters(registers) : [];
        const clock = await syncClock(j, m);
        const energy = readings.find((x) => x.obis === '1-0:1.8.0') ?? readings[0];
        node.status({ fill: 'green', shape: 'dot', text: energy ? `${energy.value} ${energy.unit}` : `${readings.length} readings` });
        return Object.assign(msg, {
          topic: j.meter,
          payload: readings,
          dlms: { endpoint: endpointOf(j.target), transport: j.target.transport, security: j.target.security, client: j.target.client, objects, clock },
        });
      });
    }

    /** msg.backfill: the load profile for the span, one association per day of it, the newest day first. */
    async function backfill(msg: PollMsg): Promise<NodeMessage> {
      const span = parseBackfill(msg.backfill);
      const j = job(msg);
      node.status({ fill: 'yellow', shape: 'ring', text: 'ems-dlms-meter.status.backfilling' });
      const found: Reading[] = [];
      let rows = 0;
      for (let to = span.to; to > span.from && found.length <= BACKFILL_CAP; to -= BACKFILL_CHUNK_MS) {
        const from = Math.max(span.from, to - BACKFILL_CHUNK_MS);
        await withMeter(j, async (m) => {
          const clock = await m.client.readClock();
          const p = await m.client.readProfile(LOAD_PROFILE, from, to, clock.deviation ?? 0);
          rows += p.rows.length;
          found.push(...await m.client.profileReadings(p));
        });
      }
      const { readings, truncated } = backfillAnswer(found, span);
      node.status({ fill: 'green', shape: 'dot', text: `backfill: ${readings.length} readings` });
      return Object.assign(msg, {
        topic: j.meter,
        payload: readings,
        backfill: { ...span, truncated: truncated || found.length > BACKFILL_CAP, records: rows },
      });
    }

    node.on('input', (msg, send, done) => {
      poll(msg as PollMsg).then((out) => { send(out); done(); }, (err: unknown) => {
        const e = err instanceof Error ? err : new Error(String(err));
        const m = (msg as PollMsg).meter;
        const meter = m && typeof m._id === 'string' && m._id ? m._id : typeof msg.topic === 'string' && msg.topic ? msg.topic : (def.meterId || def.name || def.id);
        if (!e.message.includes(meter)) e.message = `meter "${meter}": ${e.message}`;
        node.status({ fill: 'red', shape: 'ring', text: /authentication|password|key|refused|rejected/i.test(e.message) ? 'ems-dlms-meter.status.refused' : 'ems-dlms-meter.status.error' });
        done(e);
      });
    });

    node.on('close', (_removed: boolean, done: () => void) => {
      closing = true;
      node.status({});
      Promise.all([...open].map((m) => m.close())).then(() => done(), () => done());
    });
  }

  RED.nodes.registerType('ems-dlms-meter', DlmsMeter, {
    credentials: { password: { type: 'password' }, encryptionKey: { type: 'password' }, authenticationKey: { type: 'password' } },
  });
}
