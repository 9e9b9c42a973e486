import type { Node, NodeAPI, NodeDef, NodeMessage } from 'node-red';
import { decodeP1Frame, DEFAULT_P1_TIME_ZONE, isSerialDevice, P1Reader, SERIAL_DSMR2, SERIAL_DSMR4, type P1ReaderState } from '../../lib/protocols/p1';

export interface P1MeterDef extends NodeDef {
  meterId: string;
  /** TCP bridge host, or a serial device path. */
  host: string;
  port: string;
  /** '4' = DSMR 4/5 (115200 8N1), '2' = DSMR 2.2/3.0 (9600 7E1). */
  dsmr: string;
  timeZone: string;
  /** At most one message per this many seconds (0 = every telegram). */
  interval: string;
}

interface Creds { key?: string; aad?: string }

/** The same error again within this window is counted, not reported again. */
const REPEAT_WINDOW_MS = 60_000;

export default function init(RED: NodeAPI): void {
  function P1Meter(this: Node, def: P1MeterDef): void {
    RED.nodes.createNode(this, def);
    const node = this;
    const meter = def.meterId || def.name || def.id;
    const creds = (node.credentials ?? {}) as Creds;
    const timeZone = def.timeZone || DEFAULT_P1_TIME_ZONE;
    const intervalMs = Math.max(0, Number(def.interval) || 0) * 1000;
    const old = def.dsmr === '2';
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

    const host = String(def.host ?? '').trim();
    const port = Number(def.port);
    if (!host || (!isSerialDevice(host) && !(Number.isInteger(port) && port >= 1 && port <= 65535))) {
      node.status({ fill: 'red', shape: 'ring', text: 'ems-p1-meter.status.bad-config' });
      node.error(`meter "${meter}": ${!host ? 'host is empty: give a TCP bridge host or a serial device path' : `port ${JSON.stringify(def.port)} must be 1..65535`}`);
      return;
    }

    const reader = new P1Reader({
      host, port, serial: old ? SERIAL_DSMR2 : SERIAL_DSMR4, sevenBit: old,
      encrypted: Boolean(creds.key),
    });
    reader.on('state', (s: P1ReaderState, detail?: string) => {
      if (s === 'connecting') node.status({ fill: 'yellow', shape: 'ring', text: 'ems-p1-meter.status.connecting' });
      else if (s === 'connected') node.status({ fill: 'yellow', shape: 'dot', text: 'ems-p1-meter.status.waiting' });
      else if (s === 'waiting') node.status({ fill: 'red', shape: 'ring', text: detail ?? 'ems-p1-meter.status.disconnected' });
    });
    reader.on('error', (e: Error) => report(e));
    reader.on('frame', (frame: Buffer) => {
      let decoded;
      try {
        decoded = decodeP1Frame(frame, { meter, timeZone, key: creds.key, aad: creds.aad });
      } catch (e) {
        node.status({ fill: 'red', shape: 'ring', text: (e as Error).name === 'P1CrcError' ? 'ems-p1-meter.status.crc' : 'ems-p1-meter.status.error' });
        report(e as Error);
        return;
      }
      const now = Date.now();
      const power = decoded.readings.find((r) => r.obis === '1-0:1.7.0');
      node.status({ fill: 'green', shape: 'dot', text: power ? `${power.value} ${power.unit}` : `${decoded.readings.length} readings` });
      if (intervalMs && now - lastSent < intervalMs) return;
      lastSent = now;
      node.send({ topic: meter, payload: decoded.readings, telegram: decoded.telegram } as never);
    });
    reader.start();

    node.on('close', (_removed: boolean, done: () => void) => {
      node.status({});
      reader.close().then(() => done(), () => done());
    });
  }

  RED.nodes.registerType('ems-p1-meter', P1Meter, { credentials: { key: { type: 'password' }, aad: { type: 'password' } } });
}
