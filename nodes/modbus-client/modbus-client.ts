import type { Node, NodeAPI, NodeDef, NodeStatus } from 'node-red';
import { acquireBus, bitsPerChar, releaseBus, describeEndpoint, type BusOptions, type BusState, type Endpoint, type ModbusBus, type Transport } from '../../lib/protocols/modbus';
import { withoutUnsetEnv } from '../unset-env';

export interface ModbusClientDef extends NodeDef {
  transport: Transport;
  host: string;
  port: string;
  serialPath: string;
  baudRate: string;
  parity: 'none' | 'even' | 'odd';
  dataBits: string;
  stopBits: string;
  timeout: string;
  retries: string;
  interFrameGap: string;
  queueLimit: string;
}

/** What user nodes see of the config node. */
export interface ModbusClientNode extends Node {
  bus: ModbusBus;
  endpoint: Endpoint;
  /** Status users inherit while the link is not up; undefined when connected. */
  linkStatus(): NodeStatus | undefined;
  register(user: Node): void;
  deregister(user: Node): void;
}

function int(value: string | undefined, fallback: number, field: string, min: number, max: number): number {
  if (value === undefined || value === '') return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < min || n > max) throw new Error(`${field} must be an integer ${min}..${max}, got "${value}"`);
  return n;
}

/** Reads the editor's properties into an endpoint and bus options; throws naming the bad field. */
export function parseClientConfig(def: ModbusClientDef) {
  const transport = def.transport || 'tcp';
  if (!['tcp', 'rtu-over-tcp', 'rtu'].includes(transport)) throw new Error(`transport must be tcp, rtu-over-tcp or rtu, got "${transport}"`);
  const endpoint: Endpoint = transport === 'rtu'
    ? {
      transport, path: def.serialPath,
      baudRate: int(def.baudRate, 9600, 'baudRate', 50, 4_000_000),
      parity: def.parity || 'none',
      dataBits: int(def.dataBits, 8, 'dataBits', 5, 8) as Endpoint['dataBits'],
      stopBits: int(def.stopBits, 1, 'stopBits', 1, 2) as Endpoint['stopBits'],
    }
    : { transport, host: (def.host || '127.0.0.1').trim(), port: int(def.port, 502, 'port', 1, 65535) };
  if (transport === 'rtu' && !endpoint.path) throw new Error('serialPath is required for Modbus RTU (e.g. /dev/ttyUSB0)');
  // A serial line paces itself by its baud rate: t3.5 between frames, each read's timeout grows with its frames.
  const gap = def.interFrameGap === undefined || def.interFrameGap === '' ? undefined : int(def.interFrameGap, 0, 'interFrameGap', 0, 10_000);
  const options: Partial<BusOptions> = {
    timeout: int(def.timeout, 1000, 'timeout', 10, 60_000),
    retries: int(def.retries, 1, 'retries', 0, 10),
    queueLimit: int(def.queueLimit, 256, 'queueLimit', 1, 100_000),
    ...(transport === 'rtu' ? { baudRate: endpoint.baudRate, bitsPerChar: bitsPerChar(endpoint) } : {}),
    ...(gap !== undefined ? { interFrameGap: gap } : {}),
  };
  return { endpoint, options };
}

const STATE_STATUS: Record<BusState, NodeStatus | undefined> = {
  idle: undefined,
  connected: undefined,
  connecting: { fill: 'yellow', shape: 'ring', text: 'ems-modbus-client.status.connecting' },
  disconnected: { fill: 'red', shape: 'ring', text: 'ems-modbus-client.status.disconnected' },
  closed: { fill: 'grey', shape: 'ring', text: 'ems-modbus-client.status.closed' },
};

export default function init(RED: NodeAPI): void {
  function ModbusClient(this: ModbusClientNode, configured: ModbusClientDef): void {
    RED.nodes.createNode(this, configured);
    const def = withoutUnsetEnv(configured);
    const users = new Map<string, Node>();
    let config: ReturnType<typeof parseClientConfig>;
    try {
      config = parseClientConfig(def);
    } catch (err) {
      this.error(`${(err as Error).message}`);
      return;
    }
    this.endpoint = config.endpoint;
    this.bus = acquireBus(config.endpoint, config.options);
    const onState = (state: BusState, detail: string) => {
      const status = STATE_STATUS[state];
      if (state === 'disconnected' && detail) this.log(`${describeEndpoint(config.endpoint)}: ${detail}`);
      if (status) for (const u of users.values()) u.status(status);
    };
    this.bus.on('state', onState);
    this.linkStatus = () => STATE_STATUS[this.bus.state];
    this.register = (user) => { users.set(user.id, user); };
    this.deregister = (user) => { users.delete(user.id); };
    this.on('close', (_removed: boolean, done: () => void) => {
      this.bus.off('state', onState);
      releaseBus(this.bus).then(done, done);
    });
  }
  RED.nodes.registerType('ems-modbus-client', ModbusClient);
}
