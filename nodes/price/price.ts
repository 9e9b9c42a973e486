import type { Node, NodeAPI, NodeDef } from 'node-red';
import { toCsvSeparator, type CsvSeparator } from '../../lib/csv';
import { parseIntervalsCsv, priceConsumption } from '../../lib/tariff';
import { toIntervals, toTime } from '../../lib/tariff/input';
import type { ConsumptionInterval, EnergyType, PriceRequest } from '../../lib/tariff/types';
import type { TariffConfigNode } from '../tariff/tariff';

export interface PriceDef extends NodeDef {
  /** Id of the ems-tariff config node. */
  tariff: string;
  /** "result": payload is the PriceResult; "total": payload is the total as a number, the result in msg.price. */
  output: string;
  /** CSV payloads: "auto" (from the header line), ",", ";" or "tab". */
  separator?: string;
  /** CSV payloads: quantities with a decimal comma (1.234,56). */
  decimalComma?: boolean;
}

export interface CsvPayloadOptions {
  separator: 'auto' | CsvSeparator;
  decimalComma: boolean;
}

const show = (v: unknown): string => (v === undefined ? 'undefined' : JSON.stringify(v));

/** The intervals of msg.payload: an array of intervals/records, a single one, or CSV text (a string or Buffer) read in the tariff's zone. */
export function payloadIntervals(payload: unknown, timeZone = 'UTC', csv: CsvPayloadOptions = { separator: 'auto', decimalComma: false }): ConsumptionInterval[] {
  if (typeof payload === 'string' || Buffer.isBuffer(payload)) {
    try {
      return parseIntervalsCsv(payload, timeZone, csv);
    } catch (e) {
      throw new Error(`payload (CSV): ${(e as Error).message}`);
    }
  }
  return toIntervals(payload, 'payload');
}

/** The billing range and demand history from msg.from / msg.to / msg.demandHistory. */
export function toRequest(msg: Record<string, unknown>): PriceRequest {
  const req: PriceRequest = {};
  if (msg.from !== undefined && msg.from !== null && msg.from !== '') req.from = toTime(msg.from, 'msg.from');
  if (msg.to !== undefined && msg.to !== null && msg.to !== '') req.to = toTime(msg.to, 'msg.to');
  if (req.from !== undefined && req.to !== undefined && req.to <= req.from) {
    throw new Error(`msg.to (${show(msg.to)}) must be after msg.from (${show(msg.from)})`);
  }
  if (msg.demandHistory !== undefined) {
    if (!Array.isArray(msg.demandHistory)) throw new Error(`msg.demandHistory (${show(msg.demandHistory)}) must be an array of {cycleStart, value}`);
    req.demandHistory = msg.demandHistory.map((h, i) => {
      const x = (h ?? {}) as { cycleStart?: unknown; value?: unknown };
      const value = typeof x.value === 'number' ? String(x.value) : x.value;
      if (typeof value !== 'string' || !/^-?\d+(\.\d+)?$/.test(value.trim())) throw new Error(`msg.demandHistory[${i}].value (${show(x.value)}) must be a decimal such as "42.5"`);
      return { cycleStart: toTime(x.cycleStart, `msg.demandHistory[${i}].cycleStart`), value: value.trim() };
    });
  }
  return req;
}

export default function init(RED: NodeAPI): void {
  function EmsPrice(this: Node, def: PriceDef): void {
    RED.nodes.createNode(this, def);
    const node = this;
    const config = RED.nodes.getNode(def.tariff) as unknown as TariffConfigNode | null;
    const totalOnly = def.output === 'total';
    let csv: CsvPayloadOptions | undefined;
    try {
      csv = { separator: toCsvSeparator(def.separator), decimalComma: def.decimalComma === true };
    } catch (e) {
      node.error((e as Error).message);
    }
    if (!config) node.status({ fill: 'red', shape: 'ring', text: 'ems-price.status.no-tariff' });
    else if (!config.tariff) node.status({ fill: 'red', shape: 'ring', text: 'ems-price.status.bad-tariff' });
    else node.status({});

    node.on('input', (msg, send, done) => {
      try {
        if (!config) throw new Error('no tariff: pick an ems-tariff configuration node in this node\'s settings');
        if (!config.tariff) throw new Error(config.problem ?? 'the ems-tariff configuration node has no valid tariff');
        if (!csv) throw new Error(`separator (${JSON.stringify(def.separator)}) must be auto, ",", ";" or tab`);
        const intervals = payloadIntervals(msg.payload, config.tariff.timeZone, csv);
        const request = toRequest(msg as unknown as Record<string, unknown>);
        const result = priceConsumption(config.tariff, intervals, request);
        const meters = new Set(intervals.map((i) => i.meter));
        const m = msg as typeof msg & { price?: unknown };
        if (meters.size === 1 && typeof intervals[0].meter === 'string') m.topic = intervals[0].meter;
        if (totalOnly) {
          m.payload = Number(result.total);
          m.price = result;
        } else m.payload = result;
        node.status({ fill: 'green', shape: 'dot', text: `${result.total} ${result.currency}` });
        send(m);
        done();
      } catch (err) {
        node.status({ fill: 'red', shape: 'ring', text: 'ems-price.status.error' });
        done(err instanceof Error ? err : new Error(String(err)));
      }
    });

    node.on('close', (done: () => void) => {
      node.status({});
      done();
    });
  }
  RED.nodes.registerType('ems-price', EmsPrice);
}
