import type { Node, NodeAPI, NodeDef, NodeMessage } from 'node-red';
import type { Reading } from '../../lib/model';
import { entryJson } from '../../lib/protocols/sml/decode-cli';
import { toReadings } from '../../lib/protocols/sml/readings';
import { acquireSmlStream, releaseSmlStream, type SmlStream, type SmlStreamState } from '../../lib/protocols/sml/stream';
import type { SmlTelegram } from '../../lib/protocols/sml/telegram';

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

export default function init(RED: NodeAPI): void {
  function SmlMeter(this: Node, def: SmlMeterDef): void {
    RED.nodes.createNode(this, def);
    const node = this;
    const host = String(def.host ?? '').trim();
    const serial = host.startsWith('/') || /^COM\d+$/i.test(host);
    let stream: SmlStream;
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
    const meterOf = (t?: SmlTelegram) => def.meterId || t?.serverId || def.name || def.id;

    const onTelegram = (t: SmlTelegram) => {
      const meter = meterOf(t);
      const readings: Reading[] = toReadings(t.messages, { meter, now: Date.now() });
      const list = t.messages.find((m) => m.body.kind === 'getListResponse')?.body;
      const main = readings.find((r) => /:1\.8\.0$/.test(r.obis)) ?? readings[0];
      node.status({ fill: 'green', shape: 'dot', text: main ? `${main.obis.split(':')[1]} ${main.value} ${main.unit}` : `${readings.length} readings` });
      node.send({
        topic: meter,
        payload: readings,
        sml: {
          serverId: t.serverId, offset: t.frame.offset, sensorTime: t.sensorTime,
          entries: list?.kind === 'getListResponse' ? list.valList.map(entryJson) : [],
        },
      } as NodeMessage);
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
    stream.on('telegram', onTelegram);
    stream.on('failure', onFailure);
    stream.on('state', onState);
    onState(stream.state === 'disconnected' ? 'connecting' : stream.state);

    node.on('close', (_removed: boolean, done: () => void) => {
      stream.off('telegram', onTelegram);
      stream.off('failure', onFailure);
      stream.off('state', onState);
      node.status({});
      releaseSmlStream(stream).then(() => done(), () => done());
    });
  }

  RED.nodes.registerType('ems-sml-meter', SmlMeter);
}
