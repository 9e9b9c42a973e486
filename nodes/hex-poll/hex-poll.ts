import path from 'node:path';
import type { Node, NodeAPI, NodeDef, NodeMessage } from 'node-red';
import {
  exchange, isSerialPath, openLink, parseHex, parsePollSpec, preparePoll, serialise, toHex, type Link, type PollSpec,
} from '../../lib/protocols/hex';
import { RawResponses } from '../../lib/ems/raw-responses';
import type { SystemConfigNode } from '../system/system';

export interface HexPollDef extends NodeDef {
  meterId: string;
  host: string;
  port: string;
  /** Poll spec: raw:<HEX>[:check], modbus-rtu:<HEX|profile>, iec62056-21[:<HEX>,...]. */
  spec: string;
  address: string;
  waitingTime: string;
  pauseTime: string;
  packageSize: string;
  baudRate: string;
  dataBits: string;
  parity: string;
  stopBits: string;
  system: string;
}

interface MeterDef { _id?: unknown; ip_address?: unknown; port?: unknown; connection_address?: unknown; waiting_time?: unknown; pause_time?: unknown; package_size?: unknown; profile?: unknown }
type HexMsg = NodeMessage & { meter?: MeterDef; command?: unknown };

function num(v: unknown, field: string, min: number, max: number): number {
  const n = typeof v === 'string' && v.trim() !== '' ? Number(v) : v;
  if (typeof n !== 'number' || !Number.isInteger(n) || n < min || n > max) throw new Error(`${field} must be a whole number ${min}..${max}, got ${JSON.stringify(v)}`);
  return n;
}

export default function init(RED: NodeAPI): void {
  const profileDirs = () => [path.join(RED.settings.userDir ?? '.', 'ems-profiles')];

  function HexPoll(this: Node, def: HexPollDef): void {
    RED.nodes.createNode(this, def);
    const node = this;
    const system = def.system ? RED.nodes.getNode(def.system) as SystemConfigNode | null : null;
    const open = new Set<Link>();
    let ownSpec: PollSpec | undefined;
    try {
      if (def.spec) ownSpec = parsePollSpec(def.spec, 'spec');
    } catch (err) {
      node.status({ fill: 'red', shape: 'ring', text: 'ems-hex-poll.status.bad-config' });
      node.error(err);
      return;
    }

    /** The meter a message polls (msg.meter._id, msg.topic, the node's meter id). */
    function meterOf(msg: HexMsg): string {
      const m: MeterDef = msg.meter && typeof msg.meter === 'object' ? msg.meter : {};
      return typeof m._id === 'string' && m._id ? m._id : typeof msg.topic === 'string' && msg.topic ? msg.topic : (def.meterId || def.name || def.id);
    }

    async function poll(msg: HexMsg): Promise<NodeMessage> {
      const m: MeterDef = msg.meter && typeof msg.meter === 'object' ? msg.meter : {};
      let spec: PollSpec | undefined = ownSpec;
      if (typeof m.profile === 'string' && m.profile !== '') spec = parsePollSpec(m.profile, 'msg.meter.profile');
      if (msg.command !== undefined) {
        // A frame of its own: sent raw, checked only with the check of a raw spec.
        spec = { codec: 'raw', frames: [parseHex(String(msg.command), 'msg.command')], check: spec?.codec === 'raw' ? spec.check : 'none' };
      }
      if (!spec) throw new Error('no command: set the node\'s spec, msg.meter.profile or msg.command (HEX)');
      const host = String(m.ip_address ?? def.host ?? '').trim();
      if (!host) throw new Error('host (msg.meter.ip_address) is empty');
      const serial = isSerialPath(host);
      const port = serial ? 0 : num(m.port ?? def.port, m.port !== undefined ? 'msg.meter.port' : 'port', 1, 65535);
      const address = String(m.connection_address ?? def.address ?? '1').trim();
      const waitingMs = num(m.waiting_time ?? (def.waitingTime || 1000), 'waiting_time', 50, 600_000);
      const pauseMs = num(m.pause_time ?? (def.pauseTime || 0), 'pause_time', 0, 600_000);
      const packageSize = num(m.package_size ?? (def.packageSize || 0), 'package_size', 0, 65_536);
      const meter = meterOf(msg);
      const prepared = preparePoll(spec, { address, profileDirs: profileDirs() });
      node.status({ fill: 'yellow', shape: 'ring', text: 'ems-hex-poll.status.polling' });
      const key = serial ? host : `${host}:${port}`;
      return serialise(key, async () => {
        let link: Link | undefined;
        try {
          link = await openLink({
            host, port, connectTimeoutMs: waitingMs + 2000,
            serial: { baudRate: Number(def.baudRate) || 9600, dataBits: def.dataBits === '7' ? 7 : 8, parity: (['none', 'even', 'odd'].includes(def.parity) ? def.parity : 'none') as 'none', stopBits: def.stopBits === '2' ? 2 : 1 },
          });
          open.add(link);
          const result = await exchange(link, prepared.frames, { waitingMs, pauseMs, packageSize, complete: prepared.complete });
          const time = Date.now();
          const responseHex = result.responses.map(toHex);
          if (system) (await system.ready().then((s) => new RawResponses(s.db).add(meter, responseHex.join(''), time)));
          const decoded = prepared.decode(result.responses, { meter, address, time, timeZone: system?.timeZone, profileDirs: profileDirs() });
          node.status({ fill: 'green', shape: 'dot', text: `${result.responses.reduce((n, r) => n + r.length, 0)} bytes, ${decoded.readings.length} readings` });
          return Object.assign(msg, {
            topic: meter,
            payload: decoded.readings,
            hex: { codec: spec!.codec, command: prepared.frames.map(toHex), response: responseHex, chunks: result.chunks, durationMs: result.durationMs, ...decoded.details },
          });
        } finally {
          if (link) { open.delete(link); await link.close().catch(() => undefined); }
        }
      });
    }

    node.on('input', (msg, send, done) => {
      poll(msg as HexMsg).then((out) => { send(out); done(); }, (err: unknown) => {
        node.status({ fill: 'red', shape: 'ring', text: 'ems-hex-poll.status.error' });
        const e = err instanceof Error ? err : new Error(String(err));
        const meter = meterOf(msg as HexMsg);
        if (!e.message.includes(meter)) e.message = `meter "${meter}": ${e.message}`;
        done(e);
      });
    });

    node.on('close', (_removed: boolean, done: () => void) => {
      node.status({});
      Promise.all([...open].map((l) => l.close().catch(() => undefined))).then(() => done(), () => done());
    });
  }

  RED.nodes.registerType('ems-hex-poll', HexPoll);
}
