import type { Node, NodeAPI, NodeDef, NodeMessage } from 'node-red';
import { PUSH_FRAMINGS, type PushFraming, type PushMessage } from '../../lib/protocols/dlms/push';
import { type PushSource, PushReceiver, type PushReceiverState } from '../../lib/protocols/dlms/push-stream';
import { keyFrom, type SecurityKeys } from '../../lib/protocols/dlms/security';
import { isValidTimeZone, systemTimeZone } from '../../lib/model/time';

export interface DlmsPushDef extends NodeDef {
  meterId: string;
  /** 'tcp' connects to a bridge, 'listen' accepts the meter's connections, 'serial' opens a port. */
  mode: string;
  /** Bridge host (tcp), listen address (listen, empty = loopback only; 0.0.0.0 = every interface) or serial device path (serial). */
  host: string;
  port: string;
  baud: string;
  framing: string;
  timeZone: string;
  /** The meter's system title (16 hex digits), only for glo- pushes that do not carry one. */
  systemTitle: string;
}

interface Creds { key?: string; authKey?: string }

/** The same error again within this window is counted, not reported again. */
const REPEAT_WINDOW_MS = 60_000;

/** The receiver's source from the node's settings; throws naming the field and value. */
function sourceOf(def: DlmsPushDef): PushSource {
  const mode = def.mode || 'tcp';
  const host = String(def.host ?? '').trim();
  const port = Number(def.port);
  const portOk = Number.isInteger(port) && port >= 1 && port <= 65535;
  if (mode === 'serial') {
    const baud = Number(def.baud || 2400);
    if (!host) throw new Error('serial port path is empty: give a device such as /dev/ttyUSB0');
    if (!Number.isInteger(baud) || baud < 300 || baud > 4_000_000) throw new Error(`baud ${JSON.stringify(def.baud)} must be 300..4000000`);
    return { path: host, baudRate: baud };
  }
  if (!portOk) throw new Error(`port ${JSON.stringify(def.port)} must be 1..65535`);
  if (mode === 'listen') return { listen: port, host: host || undefined };
  if (mode !== 'tcp') throw new Error(`mode ${JSON.stringify(def.mode)} is not tcp, listen or serial`);
  if (!host) throw new Error('host is empty: give the serial-to-TCP bridge address');
  return { host, port };
}

function keysOf(c: Creds): SecurityKeys | undefined {
  if (!c.key) {
    if (c.authKey) throw new Error('an authentication key is set without the encryption key');
    return undefined;
  }
  return { encryptionKey: keyFrom(c.key, 'encryption key'), ...(c.authKey ? { authenticationKey: keyFrom(c.authKey, 'authentication key') } : {}) };
}

export default function init(RED: NodeAPI): void {
  function DlmsPush(this: Node, def: DlmsPushDef): void {
    RED.nodes.createNode(this, def);
    const node = this;
    const meter = def.meterId || def.name || def.id;
    const creds = (node.credentials ?? {}) as Creds;
    let lastError = { text: '', at: 0, repeats: 0 };
    let receiver: PushReceiver | undefined;

    /** To Catch nodes with the meter named; a run of the same error once a minute with its count. */
    function report(err: Error): void {
      const text = `meter "${meter}": ${err.message}`;
      const now = Date.now();
      if (text === lastError.text && now - lastError.at < REPEAT_WINDOW_MS) { lastError.repeats++; return; }
      const repeats = text === lastError.text ? lastError.repeats : 0;
      lastError = { text, at: now, repeats: 0 };
      node.error(repeats ? `${text} (and ${repeats} more times in the last minute)` : text, { _msgid: RED.util.generateId(), topic: meter } as NodeMessage);
    }

    function showCounts(fill: 'green' | 'red', last?: number): void {
      const s = receiver!.stats;
      const at = last === undefined ? '' : `${new Date(last).toISOString().slice(11, 19)}Z, `;
      node.status({ fill, shape: fill === 'green' ? 'dot' : 'ring', text: `${at}${s.pushes} pushes, ${s.errors} errors` });
    }

    try {
      const framing = (def.framing || 'auto') as PushFraming;
      if (!PUSH_FRAMINGS.includes(framing)) throw new Error(`framing ${JSON.stringify(def.framing)} is not auto, hdlc, wrapper or mbus`);
      const timeZone = def.timeZone || systemTimeZone();
      if (!isValidTimeZone(timeZone)) throw new Error(`time zone ${JSON.stringify(def.timeZone)} is not an IANA zone name`);
      const title = String(def.systemTitle ?? '').replace(/\s/g, '');
      if (title && !/^[0-9A-Fa-f]{16}$/.test(title)) throw new Error(`system title ${JSON.stringify(def.systemTitle)} is not 8 bytes of hex`);
      receiver = new PushReceiver({
        source: sourceOf(def),
        decoder: { meter, framing, timeZone, keys: keysOf(creds), systemTitle: title ? Buffer.from(title, 'hex') : undefined },
      });
    } catch (e) {
      node.status({ fill: 'red', shape: 'ring', text: 'ems-dlms-push.status.bad-config' });
      node.error(`meter "${meter}": ${(e as Error).message}`);
      return;
    }

    // The last accepted invocation counters survive a restart when the context store persists
    const context = node.context();
    const saved = context.get('counters') as Record<string, number> | undefined;
    if (saved && typeof saved === 'object') for (const [title, ic] of Object.entries(saved)) if (Number.isInteger(ic)) receiver.counters.set(title, ic);
    let lastPush: number | undefined;
    receiver.on('state', (s: PushReceiverState, detail?: string) => {
      if (s === 'connecting') node.status({ fill: 'yellow', shape: 'ring', text: 'ems-dlms-push.status.connecting' });
      else if (s === 'connected' && lastPush === undefined) node.status({ fill: 'yellow', shape: 'dot', text: 'ems-dlms-push.status.waiting' });
      else if (s === 'waiting') node.status({ fill: 'red', shape: 'ring', text: detail ?? 'ems-dlms-push.status.disconnected' });
    });
    receiver.on('error', (e: Error) => {
      report(e);
      if (receiver!.state === 'connected') showCounts('red', lastPush);
    });
    receiver.on('push', (m: PushMessage) => {
      lastPush = Date.now();
      showCounts('green', lastPush);
      if (m.systemTitle !== undefined) context.set('counters', Object.fromEntries(receiver!.counters));
      const push = {
        type: m.type, framing: m.framing, time: new Date(m.time).toISOString(), timeSource: m.timeSource, list: m.list, text: m.text,
        systemTitle: m.systemTitle, invocationCounter: m.invocationCounter, securityControl: m.securityControl, event: m.event,
      };
      node.send({ _msgid: RED.util.generateId(), topic: meter, payload: m.readings, push } as NodeMessage);
    });
    receiver.start();

    node.on('close', (_removed: boolean, done: () => void) => {
      node.status({});
      receiver!.close().then(() => done(), () => done());
    });
  }

  RED.nodes.registerType('ems-dlms-push', DlmsPush, { credentials: { key: { type: 'password' }, authKey: { type: 'password' } } });
}
