import type { Node, NodeAPI, NodeDef, NodeMessageInFlow } from 'node-red';
import {
  addressMatches, decodeWmbus, findWmbusMeter, parseKeyList, parseReceived, parseWmbusAddress, peekMeter, wmbusToReadings,
  WmbusDecodeError, type DecodedWmbus, type WmbusAddress,
} from '../../lib/protocols/wmbus';
import { STICK_TYPES, WmbusStick, type StickReceived, type StickType } from '../../lib/protocols/wmbus/stick';
import type { Im871aLinkMode } from '../../lib/protocols/wmbus/im871a';
import type { SystemConfigNode } from '../system/system';

export interface WmbusDef extends NodeDef {
  /** One meter per line: "<id or MAN+id> [meter name]"; empty = every meter (plain or with a key). */
  meters: string;
  /** Optional ems-system: meters with protocol "wmbus" (connection_address = id, password = key). */
  system?: string;
  /** At most one message per meter per this many seconds (0 = every telegram). */
  interval: string;
  /** Optional serial receiver: device path (empty = msg.payload input only), stick type, baud, link mode. */
  serial?: string;
  stick?: string;
  baud?: string;
  linkMode?: string;
}

interface Creds { keys?: string }
/** The EMS meter definition fields an input msg.meter may carry. */
interface MeterDef { _id?: unknown; connection_address?: unknown; password?: unknown }
type Msg = NodeMessageInFlow & { meter?: MeterDef };
interface Known { address: WmbusAddress; name?: string; key?: string }

const MAX_METERS = 10_000;
/** A meter whose telegrams keep failing (wrong key ...) logs its first failure, a changed cause, then one reminder an hour. */
const EVENT_REMINDER_MS = 3_600_000;
/** A serial receiver's problems are warned about at most once per this many ms. */
const STICK_WARN_MS = 10_000;

export default function init(RED: NodeAPI): void {
  function EmsWmbus(this: Node, def: WmbusDef): void {
    RED.nodes.createNode(this, def);
    const node = this;
    const creds = (node.credentials ?? {}) as Creds;
    const intervalMs = Math.max(0, Number(def.interval) || 0) * 1000;
    const system = def.system ? RED.nodes.getNode(def.system) as SystemConfigNode | null : null;
    const lastSent = new Map<string, number>();
    const lastEvent = new Map<string, { at: number; text: string }>();

    /** An EMS meter's failed telegram as an event of the EMS log (poll-failed, like a failed poll). */
    async function logFailure(meterId: string, name: string, err: Error): Promise<void> {
      const now = Date.now();
      const last = lastEvent.get(meterId);
      if (last && last.text === err.message && now - last.at < EVENT_REMINDER_MS) return;
      if (lastEvent.size < MAX_METERS || lastEvent.has(meterId)) lastEvent.set(meterId, { at: now, text: err.message });
      const s = await system!.ready();
      s.events.add({ kind: 'poll-failed', level: 'error', event: `telegram failed: ${err.message}`, meter_id: meterId, meter_name: name, source: node.id, time: now });
    }
    const counts = { telegrams: 0, unknown: 0, lastUnknown: '' };
    let problem: string | undefined;
    const known: Known[] = [];
    try {
      const lines = String(def.meters ?? '').split('\n').map((l) => l.trim()).filter((l) => l && !l.startsWith('#'));
      for (const [i, line] of lines.entries()) {
        const [addr, ...name] = line.split(/\s+/);
        known.push({ address: parseWmbusAddress(addr, `meters line ${i + 1}: meter id`), name: name.join(' ') || undefined });
      }
      for (const k of parseKeyList(creds.keys ?? '')) {
        const m = known.find((x) => x.address.id === k.address.id && (!x.address.manufacturer || !k.address.manufacturer || x.address.manufacturer === k.address.manufacturer));
        if (m) m.key = k.key;
        else known.push({ address: k.address, key: k.key });
      }
    } catch (err) {
      problem = (err as Error).message;
      node.status({ fill: 'red', shape: 'ring', text: 'ems-wmbus.status.bad-config' });
      node.error(problem);
    }

    /** "im871a /dev/ttyUSB0" when a serial receiver is configured, shown before the counts. */
    let stickLabel = '';
    function showCounts(fill: 'green' | 'grey' = 'green', last?: string): void {
      const unknown = counts.unknown ? `, ${counts.unknown} unknown (last ${counts.lastUnknown})` : '';
      node.status({ fill, shape: last ? 'dot' : 'ring', text: `${stickLabel ? `${stickLabel}: ` : ''}${last ? `${last}; ` : ''}${counts.telegrams} telegrams${unknown}`.slice(0, 120) });
    }

    /** The meter of a telegram and its key: msg.meter, then the EMS registry, then the node's list; undefined = unknown meter. */
    async function resolve(msg: Msg, who: { id: string; manufacturer: string }): Promise<{ meterId: string; key?: string; emsName?: string; anyMeter?: boolean } | undefined> {
      const m = msg.meter && typeof msg.meter === 'object' ? msg.meter : undefined;
      if (m && m.connection_address !== undefined) {
        const a = parseWmbusAddress(String(m.connection_address), 'msg.meter.connection_address');
        if (!addressMatches(a, who)) return undefined;
        const key = typeof m.password === 'string' && m.password ? m.password : undefined;
        return { meterId: typeof m._id === 'string' && m._id ? m._id : `${who.manufacturer}-${who.id}`, key };
      }
      if (system) {
        const s = await system.ready();
        const found = findWmbusMeter(s.registry.meters(), who);
        if (found) return { meterId: found._id, key: (found.definition as { password?: string }).password || undefined, emsName: String(found.definition.name ?? found._id) };
      }
      const k = known.find((x) => addressMatches(x.address, who));
      if (k) return { meterId: k.name ?? `${who.manufacturer}-${who.id}`, key: k.key };
      if (!system && known.length === 0) return { meterId: `${who.manufacturer}-${who.id}`, anyMeter: true };
      return undefined;
    }

    /** Decodes one telegram into the message to send, or undefined (unknown meter, interval not yet over). */
    async function handle(msg: Msg): Promise<Msg | undefined> {
      if (problem) throw new Error(problem);
      const bytes = parseReceived(msg.payload).bytes;
      let who: { id: string; manufacturer: string };
      try { who = peekMeter(bytes); } catch (e) { throw e instanceof WmbusDecodeError ? e : new WmbusDecodeError(String(e)); }
      const meter = await resolve(msg, who);
      counts.telegrams++;
      const unknown = () => {
        counts.unknown++;
        counts.lastUnknown = `${who.manufacturer} ${who.id}`;
        showCounts();
      };
      if (!meter) { unknown(); return undefined; }
      let d: DecodedWmbus;
      try {
        d = decodeWmbus(bytes, { key: meter.key });
      } catch (err) {
        // Without a meter list every meter heard is tried: an encrypted neighbour without a key is unknown, not an error.
        if (meter.anyMeter && err instanceof WmbusDecodeError && err.code === 'no-key') { unknown(); return undefined; }
        if (meter.emsName !== undefined) await logFailure(meter.meterId, meter.emsName, err as Error).catch((e: Error) => node.warn(`cannot log event: ${e.message}`));
        throw err;
      }
      if (meter.emsName !== undefined) lastEvent.delete(meter.meterId);
      const now = Date.now();
      if (intervalMs && now - (lastSent.get(meter.meterId) ?? 0) < intervalMs) return undefined;
      if (lastSent.size < MAX_METERS || lastSent.has(meter.meterId)) lastSent.set(meter.meterId, now);
      const readings = wmbusToReadings(d, { meter: meter.meterId, time: now });
      const prev = (msg as { wmbus?: { rssi?: number; mode?: string } }).wmbus;
      Object.assign(msg, {
        topic: meter.meterId, payload: readings,
        wmbus: {
          meter: d.meter, link: d.link, accessNumber: d.tpl.accessNumber, status: d.tpl.status, security: d.security, records: d.application.records.length,
          ...(prev?.rssi !== undefined ? { rssi: prev.rssi } : {}), ...(prev?.mode ? { mode: prev.mode } : {}),
        },
      });
      const first = readings[0];
      showCounts('green', first ? `${meter.meterId}: ${first.value} ${first.unit}` : meter.meterId);
      return msg;
    }

    const showError = (e: Error) => node.status({ fill: 'red', shape: 'ring', text: e.message.replace(/^wmbus: /, '').slice(0, 80) });

    node.on('input', (input, send, done) => {
      handle(input as Msg).then((out) => { if (out) send(out); done(); }, (err: unknown) => {
        const e = err instanceof Error ? err : new Error(String(err));
        showError(e);
        done(e);
      });
    });

    let closing = false;
    // The serial receiver: each telegram goes through the same path as msg.payload input.
    let stick: WmbusStick | undefined;
    const serialPath = String(def.serial ?? '').trim();
    if (serialPath && !problem) {
      try {
        const type = (def.stick || 'im871a') as StickType;
        if (!STICK_TYPES.includes(type)) throw new Error(`stick ${JSON.stringify(def.stick)} is not one of ${STICK_TYPES.join(', ')}`);
        const baud = String(def.baud ?? '').trim();
        stick = new WmbusStick({
          path: serialPath, stick: type, baudRate: baud ? Number(baud) : undefined,
          linkMode: type === 'im871a' ? ((def.linkMode || 'T1') as Im871aLinkMode) : undefined,
        });
      } catch (err) {
        problem = `serial receiver: ${(err as Error).message}`;
        node.status({ fill: 'red', shape: 'ring', text: 'ems-wmbus.status.bad-config' });
        node.error(problem);
      }
    }
    if (stick) {
      const s = stick;
      const label = `${s.o.stick} ${serialPath}`;
      stickLabel = label;
      let lastFailure = '';
      s.on('state', (state: string, why?: string) => {
        if (state === 'connecting') node.status({ fill: 'yellow', shape: 'ring', text: `${label}: opening` });
        else if (state === 'connected' || state === 'configured') {
          lastFailure = '';
          node.status({ fill: 'green', shape: 'ring', text: `${label}${why ? ` ${why}` : ''}: ${counts.telegrams} telegrams` });
          if (state === 'configured') node.log(`${label}: configured, ${why}`);
        } else if (!closing) node.status({ fill: 'red', shape: 'ring', text: `${label}: ${why ?? 'closed'}`.slice(0, 160) });
      });
      let lastWarnAt = 0;
      let suppressed = 0;
      s.on('failure', (e: Error) => {
        // A reason is logged when it changes (not for every retry), and at most one every 10 s on a noisy line.
        if (e.message === lastFailure) return;
        lastFailure = e.message;
        const now = Date.now();
        if (now - lastWarnAt < STICK_WARN_MS) { suppressed++; return; }
        lastWarnAt = now;
        node.warn(suppressed ? `${e.message} (${suppressed} other problems not shown)` : e.message);
        suppressed = 0;
      });
      s.on('telegram', (r: StickReceived) => {
        const msg = { _msgid: RED.util.generateId(), payload: r.bytes, wmbus: { rssi: r.rssi, mode: r.mode } } as unknown as Msg;
        handle(msg).then((out) => { if (out) node.send(out); }, (err: unknown) => {
          const e = err instanceof Error ? err : new Error(String(err));
          showError(e);
          node.error(e, msg);
        });
      });
      s.start();
    }
    node.on('close', (_removed: boolean, done: () => void) => {
      closing = true;
      node.status({});
      (stick ? stick.close() : Promise.resolve()).then(() => done(), () => done());
    });
  }
  RED.nodes.registerType('ems-wmbus', EmsWmbus, { credentials: { keys: { type: 'password' } } });
}
