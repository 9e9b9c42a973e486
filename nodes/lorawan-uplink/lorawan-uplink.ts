import type { Node, NodeAPI, NodeDef, NodeMessageInFlow } from 'node-red';
import {
  deviceFromMeter, findCodec, findLorawanMeter, nonUplinkEvent, parseDataFrame, parseSessionKeys, parseUplink,
  UplinkProcessor, type LorawanDevice, type Uplink, type UplinkFormat,
} from '../../lib/protocols/lorawan';
import type { SystemConfigNode } from '../system/system';

export interface LorawanUplinkDef extends NodeDef {
  /** auto | chirpstack | tts | raw */
  format: string;
  /** Default codec for devices whose EMS meter has no profile (or without an EMS); empty = the NS's decoded object. */
  codec: string;
  /** Optional ems-system: DevEUI -> EMS meter (protocol "lorawan"). */
  system?: string;
}

type Msg = NodeMessageInFlow & { payload: unknown; keys?: { nwkSKey?: string; appSKey?: string }; lorawan?: unknown };
const FORMATS = ['auto', 'chirpstack', 'tts', 'raw'];

export default function init(RED: NodeAPI): void {
  function EmsLorawanUplink(this: Node, def: LorawanUplinkDef): void {
    RED.nodes.createNode(this, def);
    const node = this;
    const format = (def.format || 'auto') as 'auto' | UplinkFormat;
    const codec = String(def.codec ?? '').trim();
    let problem: string | undefined;
    if (!FORMATS.includes(format)) problem = `format must be one of ${FORMATS.join(', ')}, got ${JSON.stringify(def.format)}`;
    try { if (codec) findCodec(codec); } catch (err) { problem = (err as Error).message; }
    if (problem) { node.status({ fill: 'red', shape: 'ring', text: 'ems-lorawan-uplink.status.bad-config' }); node.error(problem); }
    const system = def.system ? RED.nodes.getNode(def.system) as SystemConfigNode | null : null;
    const processor = new UplinkProcessor();
    let count = 0;

    /** The device of an uplink: the EMS meter of its DevEUI, or the DevEUI itself without an EMS. */
    async function device(up: Uplink, msg: Msg): Promise<LorawanDevice> {
      const devAddr = up.format === 'raw' ? parseDataFrame(up.phyPayload!).devAddr : up.devAddr;
      if (system) {
        const s = await system.ready();
        const meter = findLorawanMeter(s.registry.meters(), { devEui: up.devEui, devAddr: up.devEui ? undefined : devAddr });
        if (!meter) {
          throw new Error(up.devEui
            ? `unknown LoRaWAN device DevEUI ${up.devEui}: no EMS meter with protocol "lorawan" and number_meter ${up.devEui}`
            : `unknown LoRaWAN device DevAddr ${devAddr}: no EMS meter with protocol "lorawan" and connection_address ${devAddr}`);
        }
        const d = deviceFromMeter(meter);
        if (!d.codec && codec) d.codec = codec;
        return d;
      }
      const id = up.devEui ?? devAddr;
      if (!id) throw new Error('the uplink names no device (no DevEUI, no DevAddr)');
      const d: LorawanDevice = { meterId: id, devEui: up.devEui, codec: codec || undefined };
      const k = msg.keys;
      if (up.format === 'raw') {
        if (!k || typeof k !== 'object') throw new Error(`device ${id}: raw frames need msg.keys {nwkSKey, appSKey} (or an EMS meter whose password holds "NwkSKey:AppSKey")`);
        Object.assign(d, parseSessionKeys(`${k.nwkSKey}:${k.appSKey}`, 'msg.keys'));
      }
      return d;
    }

    node.on('input', (input, send, done) => {
      const msg = input as Msg;
      (async () => {
        if (problem) throw new Error(problem);
        const event = nonUplinkEvent(msg.topic);
        if (event) return; // join, status, ack ... events carry no meter data
        const up = parseUplink(msg.topic, msg.payload, format);
        const d = await device(up, msg);
        const result = processor.process(up, d);
        if (!result) {
          node.status({ fill: 'green', shape: 'ring', text: `${count} uplinks, ${processor.duplicates} repeats` });
          return;
        }
        count++;
        Object.assign(msg, { topic: d.meterId, payload: result.readings, lorawan: result.details });
        node.status({ fill: 'green', shape: 'dot', text: `${d.devEui ?? result.details.devAddr} FCnt ${result.details.fCnt}: ${result.readings.length} readings` });
        send(msg);
      })().then(() => done(), (err: Error) => {
        node.status({ fill: 'red', shape: 'ring', text: err.message.slice(0, 60) });
        done(err);
      });
    });

    node.on('close', (_removed: boolean, done: () => void) => { node.status({}); done(); });
  }
  RED.nodes.registerType('ems-lorawan-uplink', EmsLorawanUplink);
}
