import type { Node, NodeAPI, NodeDef, NodeMessage } from 'node-red';
import { Quality, type Reading } from '../../lib/model';
import { openLink, isSerialPath, serialise, withDeadline, type Link } from '../../lib/protocols/hex';
import { checkClock, parseLoadProfile, program, profileReadings, readout, toReadings, type ClockCheck, type Mode, type ProfileBlock } from '../../lib/protocols/iec62056-21';
import { backfillAnswer, isBackfill, parseBackfill as backfillSpan, BACKFILL_CAP as MAX_BACKFILL_READINGS } from '../../lib/model/backfill-span';
import type { SystemConfigNode } from '../system/system';

/** A whole session (sign-on, readout, clock check) ends within this, however slowly the meter trickles. */
export const SESSION_DEADLINE_MS = 120_000;
/** A backfill reads the load profile one day per session. */
export const BACKFILL_CHUNK_MS = 86_400_000;

export interface Iec62056MeterDef extends NodeDef {
  meterId: string;
  /** TCP host of an optical-to-TCP converter, or a serial device path. */
  host: string;
  port: string;
  mode: string;
  address: string;
  maxBaud: string;
  timeout: string;
  timeDifference: string;
  timeZone: string;
  system: string;
}

interface Creds { password?: string }

/** The EMS meter definition fields this node reads from msg.meter. */
interface MeterDef { _id?: unknown; name?: unknown; ip_address?: unknown; port?: unknown; connection_address?: unknown; password?: unknown; waiting_time?: unknown; time_difference?: unknown }

interface Target { meter: string; name?: string; host: string; port: number; address: string; password: string; timeoutMs: number; toleranceSeconds: number }

function num(v: unknown, field: string, min: number, max: number): number {
  const n = typeof v === 'string' && v.trim() !== '' ? Number(v) : v;
  if (typeof n !== 'number' || !Number.isInteger(n) || n < min || n > max) throw new Error(`${field} must be a whole number ${min}..${max}, got ${JSON.stringify(v)}`);
  return n;
}

export default function init(RED: NodeAPI): void {
  function Iec62056Meter(this: Node, def: Iec62056MeterDef): void {
    RED.nodes.createNode(this, def);
    const node = this;
    const system = def.system ? RED.nodes.getNode(def.system) as SystemConfigNode | null : null;
    const mode = (['A', 'B', 'C'].includes(def.mode) ? def.mode : undefined) as Mode | undefined;
    const maxBaud = Number(def.maxBaud) || 19200;
    const timeZone = () => def.timeZone || system?.timeZone || 'UTC';
    const open = new Set<Link>();

    /** The node's settings, overridden by an EMS poll message's msg.meter. */
    function target(msg: NodeMessage & { meter?: MeterDef }): Target {
      const m: MeterDef = msg.meter && typeof msg.meter === 'object' ? msg.meter : {};
      const host = String(m.ip_address ?? def.host ?? '').trim();
      if (!host) throw new Error('host (msg.meter.ip_address) is empty: give a converter host or a serial device path');
      const serial = isSerialPath(host);
      const address = String(m.connection_address ?? def.address ?? '').trim();
      if (!/^[0-9A-Za-z ]{0,32}$/.test(address)) throw new Error(`address (msg.meter.connection_address) ${JSON.stringify(address)} must be up to 32 letters or digits`);
      const id = typeof m._id === 'string' && m._id ? m._id : typeof msg.topic === 'string' && msg.topic ? msg.topic : (def.meterId || def.name || def.id);
      return {
        meter: id,
        name: typeof m.name === 'string' ? m.name : undefined,
        host,
        port: serial ? 0 : num(m.port ?? def.port, m.port !== undefined ? 'msg.meter.port' : 'port', 1, 65535),
        address,
        password: typeof m.password === 'string' && m.password !== '' ? m.password : (node.credentials as Creds | undefined)?.password ?? '',
        timeoutMs: num(m.waiting_time ?? (def.timeout || 1500), 'waiting_time', 50, 600_000),
        toleranceSeconds: num(m.time_difference ?? (def.timeDifference || 0), 'time_difference', 0, 86_400),
      };
    }

    async function logClock(t: Target, c: ClockCheck): Promise<void> {
      if (!system || (!c.corrected && !c.reason)) return;
      const s = await system.ready();
      s.events.add({
        kind: 'clock', level: c.corrected ? 'info' : 'warning', meter_id: t.meter, meter_name: t.name ?? t.meter, source: node.id, value: c.driftSeconds,
        event: c.corrected ? `meter clock corrected: it was ${c.driftSeconds} s ${c.driftSeconds > 0 ? 'ahead' : 'behind'}` : `meter clock ${c.driftSeconds} s off, not corrected: ${c.reason}`,
      });
    }

    /** One programming-mode session reading load profile 1 for [from, to] (P1 when a password is set). */
    async function profileSession(t: Target, key: string, from: number, to: number): Promise<ProfileBlock[]> {
      return serialise(key, async () => {
        let link: Link | undefined;
        try {
          link = await openLink({ host: t.host, port: t.port, serial: { baudRate: 300, dataBits: 7, parity: 'even', stopBits: 1 }, sevenBit: true, connectTimeoutMs: t.timeoutMs + 2000 });
          open.add(link);
          const l = link;
          const opts = { address: t.address, maxBaud, timeoutMs: t.timeoutMs, timeZone: timeZone(), mode };
          const text = await withDeadline(l, Math.max(SESSION_DEADLINE_MS, 10 * t.timeoutMs), 'the load profile readout', async () => {
            const s = await program(l, t.password, opts);
            try {
              return await s.loadProfile(from, to, timeZone(), Math.max(30_000, 4 * t.timeoutMs));
            } finally {
              await s.close().catch(() => undefined);
            }
          });
          return parseLoadProfile(text, timeZone(), 10 * MAX_BACKFILL_READINGS);
        } finally {
          if (link) { open.delete(link); await link.close().catch(() => undefined); }
        }
      });
    }

    /**
     * msg.backfill: load profile 1 (R5 P.01) for the span, one session per day of it, the newest first,
     * so polls of other meters on the port get their turn between sessions; stops once enough readings are in.
     */
    async function backfill(msg: NodeMessage & { meter?: MeterDef; backfill?: unknown }): Promise<NodeMessage> {
      const span = backfillSpan(msg.backfill);
      const t = target(msg);
      const key = isSerialPath(t.host) ? t.host : `${t.host}:${t.port}`;
      node.status({ fill: 'yellow', shape: 'ring', text: 'ems-iec62056-meter.status.backfilling' });
      const blocks: ProfileBlock[] = [];
      const found: Reading[] = [];
      for (let to = span.to; to > span.from && found.length <= MAX_BACKFILL_READINGS; to -= BACKFILL_CHUNK_MS) {
        const from = Math.max(span.from, to - BACKFILL_CHUNK_MS);
        const got = await profileSession(t, key, from, to);
        blocks.push(...got);
        found.push(...profileReadings(got, { meter: t.meter, from, to }));
      }
      const { readings, truncated } = backfillAnswer(found, span);
      node.status({ fill: 'green', shape: 'dot', text: `backfill: ${readings.length} readings` });
      return Object.assign(msg, {
        topic: t.meter,
        payload: readings,
        backfill: { ...span, truncated: truncated || found.length > MAX_BACKFILL_READINGS, records: blocks.reduce((n, b) => n + b.records.length, 0) },
        iec62056: { profile: blocks.map((b) => ({ start: new Date(b.start).toISOString(), status: b.statusText, periodMs: b.periodMs, channels: b.channels, records: b.records.length })) },
      });
    }

    async function poll(msg: NodeMessage & { meter?: MeterDef; backfill?: unknown }): Promise<NodeMessage> {
      if (isBackfill(msg)) return backfill(msg);
      const t = target(msg);
      const key = isSerialPath(t.host) ? t.host : `${t.host}:${t.port}`;
      node.status({ fill: 'yellow', shape: 'ring', text: 'ems-iec62056-meter.status.reading' });
      return serialise(key, async () => {
        let link: Link | undefined;
        try {
          link = await openLink({ host: t.host, port: t.port, serial: { baudRate: 300, dataBits: 7, parity: 'even', stopBits: 1 }, sevenBit: true, connectTimeoutMs: t.timeoutMs + 2000 });
          open.add(link);
          const l = link;
          const opts = { address: t.address, maxBaud, timeoutMs: t.timeoutMs, timeZone: timeZone(), mode };
          const { r, clock } = await withDeadline(l, Math.max(SESSION_DEADLINE_MS, 10 * t.timeoutMs), 'the readout', async () => {
            const r = await readout(l, opts);
            return { r, clock: await checkClock(l, r, { ...opts, password: t.password, toleranceSeconds: t.toleranceSeconds }) };
          });
          if (clock) await logClock(t, clock);
          const drifted = clock !== undefined && Math.abs(clock.driftSeconds) > t.toleranceSeconds;
          const readings: Reading[] = toReadings(r.sets, { meter: t.meter, time: r.clock !== null && !drifted ? r.clock : Date.now(), timeZone: timeZone() })
            .map((x) => (drifted && !x.quality ? { ...x, quality: Quality.CLOCK_ADJUSTED } : x));
          const energy = readings.find((x) => /:1\.8\.0$/.test(x.obis)) ?? readings[0];
          node.status({ fill: 'green', shape: 'dot', text: energy ? `${energy.value} ${energy.unit}` : `${r.sets.length} data sets` });
          return Object.assign(msg, {
            topic: t.meter,
            payload: readings,
            iec62056: {
              identification: r.identification, baud: r.baud, sets: r.sets,
              clock: r.clock !== null ? { meter: new Date(r.clock).toISOString(), ...clock } : undefined,
            },
          });
        } finally {
          if (link) { open.delete(link); await link.close().catch(() => undefined); }
        }
      });
    }

    node.on('input', (msg, send, done) => {
      poll(msg as NodeMessage & { meter?: MeterDef }).then((out) => { send(out); done(); }, (err: unknown) => {
        const e = err instanceof Error ? err : new Error(String(err));
        const m = (msg as { meter?: MeterDef }).meter;
        const meter = m && typeof m._id === 'string' && m._id ? m._id : typeof msg.topic === 'string' && msg.topic ? msg.topic : (def.meterId || def.name || def.id);
        if (!e.message.includes(meter)) e.message = `meter "${meter}": ${e.message}`;
        node.status({ fill: 'red', shape: 'ring', text: 'ems-iec62056-meter.status.error' });
        done(e);
      });
    });

    node.on('close', (_removed: boolean, done: () => void) => {
      node.status({});
      Promise.all([...open].map((l) => l.close().catch(() => undefined))).then(() => done(), () => done());
    });
  }

  RED.nodes.registerType('ems-iec62056-meter', Iec62056Meter, { credentials: { password: { type: 'password' } } });
}
