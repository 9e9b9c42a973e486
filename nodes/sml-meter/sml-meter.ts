import type { Node, NodeAPI, NodeDef, NodeMessage } from 'node-red';
import type { Reading } from '../../lib/model';
import { entryJson } from '../../lib/protocols/sml/decode-cli';
import { toReadings } from '../../lib/protocols/sml/readings';
import { acquireSmlStream, releaseSmlStream, type SmlStream, type SmlStreamState } from '../../lib/protocols/sml/stream';
import type { SmlTelegram } from '../../lib/protocols/sml/telegram';
import { parseSerialLine } from '../../lib/ems/meter-definition';

export interface SmlMeterDef extends NodeDef {
  meterId: string;
  /** Host of an IR-head-to-TCP bridge, or a serial device path. */
  host: string;
  port: string;
  baud: string;
  /** Seconds without a valid telegram before reconnecting (0 = never). */
  silence: string;
}

function whole(v: string | undefined, field: string, min: number, max: number, dflt: number): number {
  const s = String(v ?? '').trim();
  if (s === '' && !Number.isNaN(dflt)) return dflt;
  const n = Number(s);
  if (!Number.isInteger(n) || n < min || n > max) throw new Error(`${field} must be a whole number ${min}..${max}, got ${JSON.stringify(v)}`);
  return n;
}

/** The EMS meter definition fields a poll message's msg.meter may carry. */
interface PollMeter { _id?: unknown; ip_address?: unknown; port?: unknown; serial_line?: unknown; waiting_time?: unknown }
/** A poll takes the latest telegram when it is at most this old (eHZ meters push every 1-4 s). */
const POLL_MAX_AGE_MS = 15_000;

/** A stream opened for polls, with its latest telegram. */
interface PollSource { stream: SmlStream; last?: { telegram: SmlTelegram; at: number } }

export default function init(RED: NodeAPI): void {
  function SmlMeter(this: Node, def: SmlMeterDef): void {
    RED.nodes.createNode(this, def);
    const node = this;
    const host = String(def.host ?? '').trim();
    const serial = host.startsWith('/') || /^COM\d+$/i.test(host);
    const meterOf = (t?: SmlTelegram) => def.meterId || t?.serverId || def.name || def.id;
    const entriesOf = (t: SmlTelegram) => {
      const list = t.messages.find((m) => m.body.kind === 'getListResponse')?.body;
      return list?.kind === 'getListResponse' ? list.valList.map(entryJson) : [];
    };
    const showReadings = (readings: Reading[]) => {
      const main = readings.find((r) => /:1\.8\.0$/.test(r.obis)) ?? readings[0];
      node.status({ fill: 'green', shape: 'dot', text: main ? `${main.obis.split(':')[1]} ${main.value} ${main.unit}` : `${readings.length} readings` });
    };
    const pollSources = new Map<string, PollSource>();
    let stream: SmlStream | undefined;

    if (host) {
      try {
        stream = acquireSmlStream({
          host,
          port: serial ? undefined : whole(def.port, 'port', 1, 65535, NaN),
          baudRate: whole(def.baud, 'baud', 300, 921_600, 9600),
          silenceMs: whole(def.silence, 'silence', 0, 86_400, 60) * 1000,
        });
      } catch (err) {
        node.status({ fill: 'red', shape: 'ring', text: 'ems-sml-meter.status.bad-config' });
        node.error(err instanceof Error ? err : new Error(String(err)));
        return;
      }
    }

    const onTelegram = (t: SmlTelegram) => {
      const meter = meterOf(t);
      const readings: Reading[] = toReadings(t.messages, { meter, now: Date.now() });
      showReadings(readings);
      node.send({ topic: meter, payload: readings, sml: { serverId: t.serverId, offset: t.frame.offset, sensorTime: t.sensorTime, entries: entriesOf(t) } } as NodeMessage);
    };
    const onFailure = (err: Error) => {
      const meter = meterOf();
      node.status({ fill: 'red', shape: 'ring', text: 'ems-sml-meter.status.error' });
      node.error(new Error(`meter "${meter}": ${err.message}`), { topic: meter, payload: null, sml: { error: err.message } } as NodeMessage);
    };
    const onState = (s: SmlStreamState) => {
      if (s === 'connecting') node.status({ fill: 'yellow', shape: 'ring', text: 'ems-sml-meter.status.connecting' });
      else if (s === 'connected') node.status({ fill: 'yellow', shape: 'dot', text: 'ems-sml-meter.status.waiting' });
      else node.status({ fill: 'red', shape: 'ring', text: 'ems-sml-meter.status.disconnected' });
    };
    if (stream) {
      stream.on('telegram', onTelegram);
      stream.on('failure', onFailure);
      stream.on('state', onState);
      onState(stream.state === 'disconnected' ? 'connecting' : stream.state);
    }

    /** The stream a poll reads (kept open for the next polls), with its latest telegram. */
    function pollSource(m: PollMeter): PollSource {
      const ip = typeof m.ip_address === 'string' ? m.ip_address.trim() : '';
      if (!ip) throw new Error('msg.meter.ip_address is empty: give the bridge host or the IR head\'s serial device');
      const onSerial = ip.startsWith('/') || /^COM\d+$/i.test(ip);
      const port = onSerial ? undefined : Number(m.port);
      if (!onSerial && !(Number.isInteger(port) && port! >= 1 && port! <= 65535)) throw new Error(`msg.meter.port ${JSON.stringify(m.port)} must be 1..65535`);
      const baudRate = onSerial && typeof m.serial_line === 'string' && m.serial_line ? parseSerialLine(m.serial_line).baudRate : 9600;
      const key = onSerial ? `${ip} ${baudRate}` : `${ip}:${port}`;
      let ps = pollSources.get(key);
      if (!ps) {
        const opened: PollSource = { stream: acquireSmlStream({ host: ip, port, baudRate }) };
        opened.stream.on('telegram', (t: SmlTelegram) => { opened.last = { telegram: t, at: Date.now() }; });
        opened.stream.on('failure', () => undefined); // a poll that gets no good telegram fails on its own
        pollSources.set(key, (ps = opened));
      }
      return ps;
    }

    /** A poll (msg.meter): the latest telegram of the meter's bridge or port, or the next one within waiting_time. */
    async function poll(msg: NodeMessage & { meter?: PollMeter }): Promise<NodeMessage> {
      const m: PollMeter = msg.meter && typeof msg.meter === 'object' ? msg.meter : {};
      const id = typeof m._id === 'string' && m._id ? m._id : meterOf();
      const wait = Number(m.waiting_time ?? 15_000);
      if (!Number.isInteger(wait) || wait < 100 || wait > 600_000) throw new Error(`waiting_time ${JSON.stringify(m.waiting_time)} must be 100..600000 ms`);
      const ps = pollSource(m);
      const telegram = ps.last && Date.now() - ps.last.at <= POLL_MAX_AGE_MS ? ps.last.telegram : await new Promise<SmlTelegram>((resolve, reject) => {
        const timer = setTimeout(() => { ps.stream.off('telegram', got); reject(new Error(`no valid SML telegram within ${wait} ms (stream ${ps.stream.state})`)); }, wait);
        function got(t: SmlTelegram) { clearTimeout(timer); resolve(t); }
        ps.stream.once('telegram', got);
      });
      const readings = toReadings(telegram.messages, { meter: id, now: Date.now() });
      showReadings(readings);
      return Object.assign(msg, { topic: id, payload: readings, sml: { serverId: telegram.serverId, sensorTime: telegram.sensorTime, entries: entriesOf(telegram) } });
    }

    node.on('input', (msg, send, done) => {
      poll(msg as NodeMessage & { meter?: PollMeter }).then((out) => { send(out); done(); }, (err: unknown) => {
        const e = err instanceof Error ? err : new Error(String(err));
        const m = (msg as { meter?: PollMeter }).meter;
        const id = m && typeof m._id === 'string' && m._id ? m._id : meterOf();
        node.status({ fill: 'red', shape: 'ring', text: 'ems-sml-meter.status.error' });
        done(new Error(`meter "${id}": ${e.message}`));
      });
    });

    node.on('close', (_removed: boolean, done: () => void) => {
      node.status({});
      const streams = [...pollSources.values()].map((p) => p.stream);
      if (stream) {
        stream.off('telegram', onTelegram);
        stream.off('failure', onFailure);
        stream.off('state', onState);
        streams.push(stream);
      }
      Promise.all(streams.map((st) => releaseSmlStream(st))).then(() => done(), () => done());
    });
  }

  RED.nodes.registerType('ems-sml-meter', SmlMeter);
}
