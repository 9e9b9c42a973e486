import path from 'node:path';
import type { Node, NodeAPI, NodeDef, NodeMessage } from 'node-red';
import {
  acquireBus, bitsPerChar, describeEndpoint, releaseBus, listProfiles, loadProfile, planReads, pollMeter, readLogBackfill, validateProfile,
  type Endpoint, type ModbusBus, type Profile, type ReadPlan,
} from '../../lib/protocols/modbus';
import type { ModbusClientNode } from '../modbus-client/modbus-client';
import { isBackfill, parseBackfill } from '../../lib/model/backfill-span';

export interface ModbusMeterDef extends NodeDef {
  client: string;
  meterId: string;
  unit: string;
  profile: string;
  customProfile: string;
  ctRatio: string;
  vtRatio: string;
  interval: string;
}

interface MeterMsg extends NodeMessage {
  unit?: unknown;
  profile?: unknown;
  endpoint?: unknown;
  backfill?: unknown;
}

function positive(value: string | undefined, field: string, fallback: number): number {
  if (value === undefined || value === '') return fallback;
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0) throw new Error(`${field} must be a positive number, got "${value}"`);
  return n;
}

export function parseUnit(value: unknown, field = 'unit'): number {
  const n = typeof value === 'string' && value.trim() !== '' ? Number(value) : value;
  if (typeof n !== 'number' || !Number.isInteger(n) || n < 0 || n > 255) throw new Error(`${field} must be a Modbus unit id 0..255, got ${JSON.stringify(value)}`);
  return n;
}

function parseCustomMap(text: string | undefined): unknown {
  try {
    return JSON.parse(text || 'null');
  } catch (err) {
    throw new Error(`customProfile is not valid JSON: ${(err as Error).message}`);
  }
}

export default function init(RED: NodeAPI): void {
  const userProfileDirs = () => [path.join(RED.settings.userDir ?? '.', 'ems-profiles')];
  const plans = new WeakMap<Profile, ReadPlan>();
  /** The register map each plan was made from (its log is what a backfill reads). */
  const profiles = new WeakMap<ReadPlan, Profile>();

  /** A read plan for a profile id (a profile file edited on disk is picked up) or an inline register map. */
  function planFor(profile: unknown, field: string): ReadPlan {
    if (typeof profile === 'string') {
      const loaded = loadProfile(profile, userProfileDirs());
      let plan = plans.get(loaded);
      if (!plan) plans.set(loaded, (plan = planReads(loaded)));
      profiles.set(plan, loaded);
      return plan;
    }
    if (profile && typeof profile === 'object') {
      const valid = validateProfile(profile, field);
      const plan = planReads(valid);
      profiles.set(plan, valid);
      return plan;
    }
    throw new Error(`${field} must be a profile id or a register map object, got ${JSON.stringify(profile)}`);
  }

  function ModbusMeter(this: Node, def: ModbusMeterDef): void {
    RED.nodes.createNode(this, def);
    const node = this;
    const client = RED.nodes.getNode(def.client) as ModbusClientNode | null;
    const meterId = (def.meterId || def.name || def.id).trim();
    let unit: number;
    let plan: ReadPlan;
    let ctRatio: number;
    let vtRatio: number;
    let intervalMs: number;
    try {
      if (!client || !client.bus) throw new Error('no valid Modbus connection (client) is configured');
      unit = parseUnit(def.unit || '1');
      plan = def.profile === 'custom' ? planFor(parseCustomMap(def.customProfile), 'customProfile') : planFor(def.profile, 'profile');
      ctRatio = positive(def.ctRatio, 'ctRatio', 1);
      vtRatio = positive(def.vtRatio, 'vtRatio', 1);
      intervalMs = def.interval && Number(def.interval) !== 0 ? positive(def.interval, 'interval', 0) * 1000 : 0;
    } catch (err) {
      node.status({ fill: 'red', shape: 'ring', text: 'ems-modbus-meter.status.bad-config' });
      node.error(`meter "${meterId}": ${(err as Error).message}`);
      return;
    }
    client.register(node);
    node.status(client.linkStatus() ?? {});

    /**
     * msg.endpoint {host, port, transport?}: another TCP gateway than the client's, on a pooled bus; transport
     * 'tcp' (MBAP) or 'rtu-over-tcp' (RTU frames through a converter), default the client's own TCP framing.
     */
    const otherBuses = new Map<string, ModbusBus>();
    function busFor(endpoint: unknown): ModbusBus {
      if (endpoint === undefined) return client!.bus;
      if ((endpoint as { transport?: unknown })?.transport === 'rtu') return serialBusFor(endpoint);
      const e = endpoint as { host?: unknown; port?: unknown; transport?: unknown };
      const port = Number(e?.port);
      if (typeof e?.host !== 'string' || e.host.trim() === '' || !Number.isInteger(port) || port < 1 || port > 65535) {
        throw new Error(`msg.endpoint must be { host, port } with port 1..65535, got ${JSON.stringify(endpoint)}`);
      }
      const own = client!.endpoint;
      const transport = e.transport ?? (own.transport === 'rtu' ? undefined : own.transport);
      if (transport === undefined) throw new Error(`msg.endpoint ${e.host}:${port} needs a TCP client or msg.endpoint.transport; "${client!.name || client!.id}" is a serial bus`);
      if (transport !== 'tcp' && transport !== 'rtu-over-tcp') throw new Error(`msg.endpoint.transport must be tcp or rtu-over-tcp, got ${JSON.stringify(transport)}`);
      const host = e.host.trim();
      if (host === own.host && port === own.port && transport === own.transport) return client!.bus;
      const key = `${transport} ${host}:${port}`;
      let bus = otherBuses.get(key);
      if (!bus) otherBuses.set(key, (bus = acquireBus({ transport, host, port })));
      return bus;
    }

    /** msg.endpoint {transport: 'rtu', path, baudRate, parity, dataBits, stopBits}: a serial bus, shared by every meter naming its path. */
    function serialBusFor(endpoint: unknown): ModbusBus {
      const line = checkSerialEndpoint(endpoint);
      const own = client!.endpoint;
      if (own.transport === 'rtu' && own.path === line.path) {
        if (describeEndpoint(own) !== describeEndpoint(line)) throw new Error(`msg.endpoint asks for ${describeEndpoint(line)}, but "${client!.name || client!.id}" runs that port as ${describeEndpoint(own)}`);
        return client!.bus;
      }
      const key = `rtu ${line.path}`;
      const open = otherBuses.get(key);
      if (open) {
        const settings = serialSettings.get(key)!;
        if (settings !== describeEndpoint(line)) throw new Error(`msg.endpoint asks for ${describeEndpoint(line)}, but the port is open as ${settings}: meters on one bus share its line settings`);
        return open;
      }
      const bus = acquireBus(line, { baudRate: line.baudRate, bitsPerChar: bitsPerChar(line) });
      otherBuses.set(key, bus);
      serialSettings.set(key, describeEndpoint(line));
      return bus;
    }
    const serialSettings = new Map<string, string>();

    async function poll(msg: MeterMsg): Promise<MeterMsg> {
      const u = msg.unit !== undefined ? parseUnit(msg.unit, 'msg.unit') : unit;
      const p = msg.profile !== undefined ? planFor(msg.profile, 'msg.profile') : plan;
      const meter = typeof msg.topic === 'string' && msg.topic ? msg.topic : meterId;
      const bus = busFor(msg.endpoint);
      const started = Date.now();
      if (isBackfill(msg)) {
        // msg.backfill {from, to}: the records the meter's register log kept for the span (EMS backfill after an outage).
        const span = parseBackfill(msg.backfill);
        const b = await readLogBackfill(bus, u, profiles.get(p)!, meter, span);
        node.status({ fill: 'green', shape: 'dot', text: `backfill: ${b.readings.length} readings ${new Date().toTimeString().slice(0, 8)}` });
        return Object.assign(msg, {
          topic: meter,
          payload: b.readings,
          backfill: { ...span, truncated: b.truncated, ...(b.unsupported ? { unsupported: b.unsupported } : {}) },
          meter: { id: meter, unit: u, profile: p.profile, requests: b.requests, durationMs: Date.now() - started },
        });
      }
      const result = await pollMeter(bus, p, { meter, unit: u, ctRatio, vtRatio });
      const energy = result.readings.find((r) => r.obis === '1-0:1.8.0') ?? result.readings[0];
      const waiting = bus.depth;
      node.status({
        fill: 'green', shape: 'dot',
        text: (energy ? `${energy.value} ${energy.unit} ${new Date(energy.time).toTimeString().slice(0, 8)}` : 'no values')
          + (waiting > 0 ? ` (queue ${waiting})` : ''),
      });
      return Object.assign(msg, {
        topic: meter,
        payload: result.readings,
        meter: { id: meter, unit: u, profile: p.profile, requests: result.requests, durationMs: Date.now() - started },
        source: result.sources,
      });
    }

    function failed(err: unknown): Error {
      const e = err instanceof Error ? err : new Error(String(err));
      const code = (e as { cause?: { code?: string } }).cause?.code;
      node.status({ fill: 'red', shape: 'ring', text: code ? `ems-modbus-meter.status.${code}` : 'ems-modbus-meter.status.error' });
      return e;
    }

    node.on('input', (msg, send, done) => {
      poll(msg as MeterMsg).then((out) => { send(out); done(); }, (err) => done(failed(err)));
    });

    let timer: NodeJS.Timeout | undefined;
    let polling = false;
    if (intervalMs > 0) {
      timer = setInterval(() => {
        if (polling) return; // the previous poll is still waiting on the bus
        polling = true;
        const msg: MeterMsg = { _msgid: RED.util.generateId(), topic: meterId };
        poll(msg).then((out) => node.send(out), (err) => node.error(failed(err), msg)).finally(() => { polling = false; });
      }, intervalMs);
    }

    node.on('close', (_removed: boolean, done: () => void) => {
      if (timer) clearInterval(timer);
      client.deregister(node);
      node.status({});
      Promise.all([...otherBuses.values()].map((b) => releaseBus(b))).then(() => done(), () => done());
    });
  }
  RED.nodes.registerType('ems-modbus-meter', ModbusMeter);

  RED.httpAdmin.get('/ems-modbus/profiles', RED.auth.needsPermission('ems-modbus-meter.read'), (_req, res) => {
    try {
      res.json(listProfiles(userProfileDirs()));
    } catch (err) {
      res.status(500).json({ error: (err as Error).message });
    }
  });
}

/** A serial endpoint from a message, checked field by field. */
function checkSerialEndpoint(endpoint: unknown): Endpoint & { transport: 'rtu'; path: string; baudRate: number } {
  const e = endpoint as Record<string, unknown>;
  const fail = (field: string, want: string) => new Error(`msg.endpoint.${field} ${JSON.stringify(e[field])} must be ${want}`);
  if (typeof e.path !== 'string' || !/^(\/dev\/|COM\d+$)/.test(e.path)) throw fail('path', 'a serial device (/dev/... or COMn)');
  const baudRate = Number(e.baudRate ?? 9600);
  if (!Number.isInteger(baudRate) || baudRate < 50 || baudRate > 4_000_000) throw fail('baudRate', 'a baud rate');
  const parity = e.parity ?? 'even';
  if (parity !== 'none' && parity !== 'even' && parity !== 'odd') throw fail('parity', 'none, even or odd');
  const dataBits = Number(e.dataBits ?? 8);
  if (dataBits !== 7 && dataBits !== 8) throw fail('dataBits', '7 or 8');
  const stopBits = Number(e.stopBits ?? 1);
  if (stopBits !== 1 && stopBits !== 2) throw fail('stopBits', '1 or 2');
  return { transport: 'rtu', path: e.path, baudRate, parity, dataBits, stopBits };
}
