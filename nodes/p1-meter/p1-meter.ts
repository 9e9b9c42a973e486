import type { Node, NodeAPI, NodeDef, NodeMessage } from 'node-red';
import {
  decodeP1Frame, DEFAULT_P1_TIME_ZONE, isSerialDevice, P1Source, SERIAL_DSMR2, SERIAL_DSMR4, type DecodedP1, type P1ReaderState,
} from '../../lib/protocols/p1';

export interface P1MeterDef extends NodeDef {
  meterId: string;
  /** TCP bridge host, or a serial device path; empty = only answer polls (msg.meter). */
  host: string;
  port: string;
  /** '4' = DSMR 4/5 (115200 8N1), '2' = DSMR 2.2/3.0 (9600 7E1). */
  dsmr: string;
  timeZone: string;
  /** At most one message per this many seconds (0 = every telegram). */
  interval: string;
}

interface Creds { key?: string; aad?: string }

/** The EMS meter definition fields a poll message's msg.meter may carry. */
interface MeterDef { _id?: unknown; ip_address?: unknown; port?: unknown; password?: unknown; connection_address?: unknown; waiting_time?: unknown }

/** The same error again within this window is counted, not reported again. */
const REPEAT_WINDOW_MS = 60_000;
/** A poll takes the latest telegram when it is at most this old (DSMR 4 sends every 10 s). */
const POLL_MAX_AGE_MS = 15_000;

export default function init(RED: NodeAPI): void {
  function P1Meter(this: Node, def: P1MeterDef): void {
    RED.nodes.createNode(this, def);
    const node = this;
    const meter = def.meterId || def.name || def.id;
    const creds = (node.credentials ?? {}) as Creds;
    const timeZone = def.timeZone || DEFAULT_P1_TIME_ZONE;
    const intervalMs = Math.max(0, Number(def.interval) || 0) * 1000;
    const old = def.dsmr === '2';
    const sources = new Map<string, P1Source>();
    let lastSent = 0;
    let lastError = { text: '', at: 0, repeats: 0 };

    /** Reports an error to Catch nodes, naming the meter; a run of the same error is reported once a minute with its count. */
    function report(err: Error): void {
      const text = `meter "${meter}": ${err.message}`;
      const now = Date.now();
      if (text === lastError.text && now - lastError.at < REPEAT_WINDOW_MS) { lastError.repeats++; return; }
      const repeats = text === lastError.text ? lastError.repeats : 0;
      lastError = { text, at: now, repeats: 0 };
      node.error(repeats ? `${text} (and ${repeats} more times in the last minute)` : text, { _msgid: RED.util.generateId(), topic: meter } as NodeMessage);
    }

    /** One open source per bridge or port (and plain/encrypted), shared by the node's own stream and polls. */
    function source(host: string, port: number, encrypted: boolean): P1Source {
      const key = `${isSerialDevice(host) ? host : `${host}:${port}`}${encrypted ? ' (encrypted)' : ''}`;
      let s = sources.get(key);
      if (!s) {
        s = new P1Source({ host, port, serial: old ? SERIAL_DSMR2 : SERIAL_DSMR4, sevenBit: old, encrypted });
        sources.set(key, s);
      }
      return s;
    }

    function showDecoded(d: DecodedP1): void {
      const power = d.readings.find((r) => r.obis === '1-0:1.7.0');
      node.status({ fill: 'green', shape: 'dot', text: power ? `${power.value} ${power.unit}` : `${d.readings.length} readings` });
    }

    const host = String(def.host ?? '').trim();
    const port = Number(def.port);
    if (host && !isSerialDevice(host) && !(Number.isInteger(port) && port >= 1 && port <= 65535)) {
      node.status({ fill: 'red', shape: 'ring', text: 'ems-p1-meter.status.bad-config' });
      node.error(`meter "${meter}": port ${JSON.stringify(def.port)} must be 1..65535`);
    } else if (host) {
      // The node's own port: a message per telegram.
      const own = source(host, port, Boolean(creds.key));
      own.reader.on('state', (s: P1ReaderState, detail?: string) => {
        if (s === 'connecting') node.status({ fill: 'yellow', shape: 'ring', text: 'ems-p1-meter.status.connecting' });
        else if (s === 'connected') node.status({ fill: 'yellow', shape: 'dot', text: 'ems-p1-meter.status.waiting' });
        else if (s === 'waiting') node.status({ fill: 'red', shape: 'ring', text: detail ?? 'ems-p1-meter.status.disconnected' });
      });
      own.reader.on('error', (e: Error) => report(e));
      own.reader.on('frame', (frame: Buffer) => {
        let decoded: DecodedP1;
        try {
          decoded = decodeP1Frame(frame, { meter, timeZone, key: creds.key, aad: creds.aad });
        } catch (e) {
          node.status({ fill: 'red', shape: 'ring', text: (e as Error).name === 'P1CrcError' ? 'ems-p1-meter.status.crc' : 'ems-p1-meter.status.error' });
          report(e as Error);
          return;
        }
        showDecoded(decoded);
        const now = Date.now();
        if (intervalMs && now - lastSent < intervalMs) return;
        lastSent = now;
        node.send({ topic: meter, payload: decoded.readings, telegram: decoded.telegram } as NodeMessage);
      });
    }

    /** A poll: the meter's latest telegram (msg.meter names another port), or the next one within waiting_time. */
    async function poll(msg: NodeMessage & { meter?: MeterDef }): Promise<NodeMessage> {
      const m: MeterDef = msg.meter && typeof msg.meter === 'object' ? msg.meter : {};
      const id = typeof m._id === 'string' && m._id ? m._id : typeof msg.topic === 'string' && msg.topic ? msg.topic : meter;
      const pHost = String(m.ip_address ?? host).trim();
      if (!pHost) throw new Error('host (msg.meter.ip_address) is empty: give a TCP bridge host or a serial device path');
      const pPort = isSerialDevice(pHost) ? 0 : Number(m.port ?? def.port);
      if (!isSerialDevice(pHost) && !(Number.isInteger(pPort) && pPort >= 1 && pPort <= 65535)) throw new Error(`port (msg.meter.port) ${JSON.stringify(m.port ?? def.port)} must be 1..65535`);
      const key = typeof m.password === 'string' && m.password ? m.password : creds.key;
      const aad = typeof m.connection_address === 'string' && m.connection_address ? m.connection_address : creds.aad;
      const wait = Number(m.waiting_time ?? 15_000);
      if (!Number.isInteger(wait) || wait < 100 || wait > 600_000) throw new Error(`waiting_time ${JSON.stringify(m.waiting_time)} must be 100..600000 ms`);
      const frame = await source(pHost, pPort, Boolean(key)).frame(POLL_MAX_AGE_MS, wait);
      const decoded = decodeP1Frame(frame, { meter: id, timeZone, key, aad });
      showDecoded(decoded);
      return Object.assign(msg, { topic: id, payload: decoded.readings, telegram: decoded.telegram });
    }

    node.on('input', (msg, send, done) => {
      poll(msg as NodeMessage & { meter?: MeterDef }).then((out) => { send(out); done(); }, (err: unknown) => {
        const e = err instanceof Error ? err : new Error(String(err));
        const m = (msg as { meter?: MeterDef }).meter;
        const id = m && typeof m._id === 'string' && m._id ? m._id : typeof msg.topic === 'string' && msg.topic ? msg.topic : meter;
        if (!e.message.includes(`"${id}"`)) e.message = `meter "${id}": ${e.message}`;
        node.status({ fill: 'red', shape: 'ring', text: e.name === 'P1CrcError' ? 'ems-p1-meter.status.crc' : 'ems-p1-meter.status.error' });
        done(e);
      });
    });

    node.on('close', (_removed: boolean, done: () => void) => {
      node.status({});
      Promise.all([...sources.values()].map((s) => s.close())).then(() => done(), () => done());
    });
  }

  RED.nodes.registerType('ems-p1-meter', P1Meter, { credentials: { key: { type: 'password' }, aad: { type: 'password' } } });
}
