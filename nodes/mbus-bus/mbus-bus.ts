import type { Node, NodeAPI, NodeDef, NodeStatus } from 'node-red';
import {
  acquireMaster, releaseMaster, describeEndpoint, endpointKey,
  type MasterOptions, type MasterState, type MbusEndpoint, type MbusMaster, type Parity,
} from '../../lib/protocols/mbus';
import { withoutUnsetEnv } from '../unset-env';

export interface MbusBusDef extends NodeDef {
  transport: 'tcp' | 'serial';
  host: string;
  port: string;
  serialPath: string;
  baudRate: string;
  parity: Parity;
  ir: boolean;
  timeout: string;
  retries: string;
  queueLimit: string;
}

/** What user nodes see of the config node. */
export interface MbusBusNode extends Node {
  master: MbusMaster;
  endpoint: MbusEndpoint;
  options: Partial<MasterOptions>;
  /** The master for another endpoint (a meter's own gateway or port), pooled; released on close. */
  masterFor(endpoint: MbusEndpoint): MbusMaster;
  linkStatus(): NodeStatus | undefined;
  register(user: Node): void;
  deregister(user: Node): void;
}

function int(value: string | undefined, fallback: number, field: string, min: number, max: number): number {
  if (value === undefined || String(value).trim() === '') return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < min || n > max) throw new Error(`${field} must be an integer ${min}..${max}, got "${value}"`);
  return n;
}

/** The editor's properties as an endpoint and master options; throws naming the bad field. */
export function parseBusConfig(def: Partial<MbusBusDef>): { endpoint: MbusEndpoint; options: Partial<MasterOptions> } {
  const transport = def.transport || 'tcp';
  if (transport !== 'tcp' && transport !== 'serial') throw new Error(`transport must be tcp or serial, got "${transport}"`);
  const baudRate = int(def.baudRate, 2400, 'baudRate', 50, 921_600);
  let endpoint: MbusEndpoint;
  if (transport === 'serial') {
    const path = (def.serialPath ?? '').trim();
    if (!path) throw new Error('serialPath is required for a serial M-Bus (e.g. /dev/ttyUSB0)');
    const parity = def.parity || 'even';
    if (!['none', 'even', 'odd'].includes(parity)) throw new Error(`parity must be none, even or odd, got "${parity}"`);
    endpoint = { kind: 'serial', path, baudRate, parity, dataBits: 8, stopBits: 1, ir: !!def.ir };
  } else {
    endpoint = { kind: 'tcp', host: (def.host || '127.0.0.1').trim(), port: int(def.port, 10001, 'port', 1, 65535) };
  }
  const options: Partial<MasterOptions> = {
    baudRate,
    timeout: int(def.timeout, 0, 'timeout', 0, 60_000),
    retries: int(def.retries, 1, 'retries', 0, 10),
    queueLimit: int(def.queueLimit, 256, 'queueLimit', 1, 100_000),
  };
  return { endpoint, options };
}

const STATE_STATUS: Record<MasterState, NodeStatus | undefined> = {
  idle: undefined,
  connected: undefined,
  connecting: { fill: 'yellow', shape: 'ring', text: 'ems-mbus-bus.status.connecting' },
  disconnected: { fill: 'red', shape: 'ring', text: 'ems-mbus-bus.status.disconnected' },
  closed: { fill: 'grey', shape: 'ring', text: 'ems-mbus-bus.status.closed' },
};

export default function init(RED: NodeAPI): void {
  function MbusBus(this: MbusBusNode, configured: MbusBusDef): void {
    RED.nodes.createNode(this, configured);
    const def = withoutUnsetEnv(configured);
    const users = new Map<string, Node>();
    let config: ReturnType<typeof parseBusConfig>;
    try {
      config = parseBusConfig(def);
    } catch (err) {
      this.error((err as Error).message);
      return;
    }
    this.endpoint = config.endpoint;
    this.options = config.options;
    this.master = acquireMaster(config.endpoint, config.options);
    const others = new Map<string, MbusMaster>();
    this.masterFor = (endpoint) => {
      const key = endpointKey(endpoint);
      if (key === endpointKey(this.endpoint)) return this.master;
      let m = others.get(key);
      if (!m) others.set(key, (m = acquireMaster(endpoint, { ...config.options, baudRate: endpoint.kind === 'serial' ? endpoint.baudRate : config.options.baudRate })));
      return m;
    };
    const onState = (state: MasterState, detail: string) => {
      if (state === 'disconnected' && detail) this.log(`${describeEndpoint(config.endpoint)}: ${detail}`);
      const status = STATE_STATUS[state];
      if (status) for (const u of users.values()) u.status(status);
    };
    this.master.on('state', onState);
    this.linkStatus = () => STATE_STATUS[this.master.state];
    this.register = (user) => { users.set(user.id, user); };
    this.deregister = (user) => { users.delete(user.id); };
    this.on('close', (_removed: boolean, done: () => void) => {
      this.master.off('state', onState);
      Promise.all([this.master, ...others.values()].map((m) => releaseMaster(m))).then(() => done(), () => done());
    });
  }
  RED.nodes.registerType('ems-mbus-bus', MbusBus);
}
