import type { Node, NodeAPI, NodeDef, NodeMessage } from 'node-red';
import { parseAddress, telegramToReadings, describeAddress, type MbusAddress, type MbusEndpoint, type ReadResult } from '../../lib/protocols/mbus';
import { parseSerialLine } from '../../lib/ems/meter-definition';
import { Quality } from '../../lib/model/quality';
import { backfillAnswer, isBackfill, parseBackfill as backfillSpan } from '../../lib/model/backfill-span';
import type { MbusBusNode } from '../mbus-bus/mbus-bus';

export interface MbusMeterDef extends NodeDef {
  bus: string;
  meterId: string;
  address: string;
  energyUnit: 'kWh' | 'GJ' | 'MWh';
}

/** The EMS poll message's meter (lib/ems/meter-definition.ts) as far as M-Bus uses it. */
interface PollMeter { _id?: unknown; ip_address?: unknown; port?: unknown; connection_address?: unknown; waiting_time?: unknown; serial_line?: unknown }
interface MeterMsg extends NodeMessage { meter?: PollMeter; address?: unknown; mbus?: unknown; backfill?: unknown }

/** Telegrams a backfill reads at most (a history spans several; the bus is held while they come, about 1 s each at 2400 baud). */
export const BACKFILL_MAX_TELEGRAMS = 32;
/** EN 13757-3 application reset subcode "enhanced billing": the readout holds the historic values. */
export const HISTORY_SUBCODE = 0x30;

const ENERGY_UNITS = ['kWh', 'GJ', 'MWh'] as const;

/** A meter definition's endpoint: a serial device path ("/dev/...") or host + port; null = the bus's own. */
export function endpointOf(meter: PollMeter, own: MbusEndpoint): MbusEndpoint | null {
  const ip = typeof meter.ip_address === 'string' ? meter.ip_address.trim() : '';
  if (!ip) return null;
  if (ip.startsWith('/')) {
    const line = typeof meter.serial_line === 'string' && meter.serial_line !== '' ? parseSerialLine(meter.serial_line) : null;
    if (own.kind === 'serial' && own.path === ip && (!line || (line.baudRate === own.baudRate && line.parity === (own.parity ?? 'even')))) return null;
    if (line) return { kind: 'serial', path: ip, baudRate: line.baudRate, parity: line.parity, dataBits: line.dataBits, stopBits: line.stopBits };
    return { kind: 'serial', path: ip, baudRate: own.kind === 'serial' ? own.baudRate : 2400, parity: own.kind === 'serial' ? own.parity : 'even' };
  }
  const port = Number(meter.port);
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw new Error(`msg.meter.port must be a TCP port 1..65535 for ip_address ${ip}, got ${JSON.stringify(meter.port)}`);
  if (own.kind === 'tcp' && own.host === ip && own.port === port) return null;
  return { kind: 'tcp', host: ip, port };
}

export default function init(RED: NodeAPI): void {
  function MbusMeter(this: Node, def: MbusMeterDef): void {
    RED.nodes.createNode(this, def);
    const node = this;
    const bus = RED.nodes.getNode(def.bus) as MbusBusNode | null;
    const meterId = (def.meterId || def.name || def.id).trim();
    let address: MbusAddress;
    const energyUnit = def.energyUnit || 'kWh';
    try {
      if (!bus || !bus.master) throw new Error('no valid M-Bus connection (bus) is configured');
      if (!ENERGY_UNITS.includes(energyUnit)) throw new Error(`energyUnit must be kWh, GJ or MWh, got "${energyUnit}"`);
      address = parseAddress(def.address || '0', 'address');
    } catch (err) {
      node.status({ fill: 'red', shape: 'ring', text: 'ems-mbus-meter.status.bad-config' });
      node.error(`meter "${meterId}": ${(err as Error).message}`);
      return;
    }
    bus.register(node);
    node.status(bus.linkStatus() ?? {});

    async function poll(msg: MeterMsg): Promise<MeterMsg> {
      const m: PollMeter = msg.meter && typeof msg.meter === 'object' ? msg.meter : {};
      const addr = msg.address !== undefined ? parseAddress(msg.address, 'msg.address')
        : m.connection_address !== undefined && String(m.connection_address).trim() !== '' ? parseAddress(m.connection_address, 'msg.meter.connection_address')
          : address;
      let timeout: number | undefined;
      if (m.waiting_time !== undefined) {
        timeout = Number(m.waiting_time);
        if (!Number.isInteger(timeout) || timeout < 10 || timeout > 600_000) throw new Error(`msg.meter.waiting_time must be 10..600000 ms, got ${JSON.stringify(m.waiting_time)}`);
      }
      const other = endpointOf(m, bus!.endpoint);
      const master = other ? bus!.masterFor(other) : bus!.master;
      const id = typeof m._id === 'string' && m._id ? m._id : typeof msg.topic === 'string' && msg.topic ? msg.topic : meterId;
      const started = Date.now();
      const span = isBackfill(msg) ? backfillSpan(msg.backfill) : null;
      let result: ReadResult;
      try {
        result = await master.read(addr, span ? { timeout, applicationReset: HISTORY_SUBCODE, maxTelegrams: BACKFILL_MAX_TELEGRAMS } : { timeout });
      } catch (err) {
        throw new Error(`M-Bus meter "${id}" at ${describeAddress(addr)} on ${master.description}: ${(err as Error).message}`);
      }
      let readings = telegramToReadings(result.telegram, { meter: id, time: Date.now(), energyUnit });
      let truncated = false;
      if (span) {
        // A backfill answers the historic values (storage numbers > 0 with their dates) in the span.
        ({ readings, truncated } = backfillAnswer(readings.filter((r) => ((r.quality ?? 0) & Quality.HISTORIC) !== 0), span));
        node.status({ fill: 'green', shape: 'dot', text: `backfill: ${readings.length} readings` });
        return Object.assign(msg, {
          topic: msg.topic ?? id, payload: readings, backfill: { ...span, truncated },
          mbus: { address: result.address, secondary: result.secondary, endpoint: master.description, durationMs: Date.now() - started, telegrams: result.telegrams.length },
        });
      }
      const energy = readings.find((r) => /^6-|^1-/.test(r.obis) && /Wh|GJ/.test(r.unit)) ?? readings[0];
      const waiting = master.depth;
      node.status({
        fill: 'green', shape: 'dot',
        text: (energy ? `${+energy.value.toFixed(3)} ${energy.unit} ${new Date().toTimeString().slice(0, 8)}` : 'no values') + (waiting > 0 ? ` (queue ${waiting})` : ''),
      });
      return Object.assign(msg, {
        topic: msg.topic ?? id,
        payload: readings,
        mbus: {
          address: result.address, secondary: result.secondary, endpoint: master.description, durationMs: Date.now() - started,
          telegram: result.telegram, telegrams: result.telegrams.length, frames: result.frames.map((f) => f.toString('hex')),
        },
      });
    }

    node.on('input', (msg, send, done) => {
      poll(msg as MeterMsg).then((out) => { send(out); done(); }, (err: Error) => {
        node.status({ fill: 'red', shape: 'ring', text: 'ems-mbus-meter.status.error' });
        done(err);
      });
    });

    node.on('close', (_removed: boolean, done: () => void) => {
      bus.deregister(node);
      node.status({});
      done();
    });
  }
  RED.nodes.registerType('ems-mbus-meter', MbusMeter);
}
