import type { Node, NodeAPI, NodeDef, NodeMessageInFlow } from 'node-red';
import { normaliseObis } from '../../lib/model';
import { everyProblem, formatDuration, gapsForStore, parseDuration, parseRangeQuery, QueryParamError, type GapQuery, type LatestQuery } from '../../lib/store';
import type { StoreConfigNode } from '../store/store';

export interface StoreQueryDef extends NodeDef {
  store: string;
  mode: 'range' | 'latest' | 'gaps';
  meter: string;
  obis: string;
  range: string;
  window: string;
  fn: string;
  limit: string | number;
  /** Slot length of gaps mode, e.g. "15m". */
  interval?: string;
}

/** Parameters a msg may set, in msg.payload (an object) or as msg.<name>; msg.<name> wins. */
export const QUERY_PARAMS = ['mode', 'meter', 'obis', 'from', 'to', 'range', 'window', 'fn', 'agg', 'tz', 'limit', 'interval'] as const;

export const MODES = ['range', 'latest', 'gaps'] as const;

/** Collects query parameters from msg.payload (when an object) and msg properties. */
export function paramsOf(msg: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  const payload = msg.payload;
  const sources = [payload !== null && typeof payload === 'object' && !Array.isArray(payload) ? (payload as Record<string, unknown>) : {}, msg];
  for (const src of sources) {
    for (const k of QUERY_PARAMS) {
      let v = src[k];
      // msg.meter may be a meter description from a meter node: use its id.
      if (k === 'meter' && v !== null && typeof v === 'object' && typeof (v as { id?: unknown }).id === 'string') v = (v as { id: string }).id;
      if (v !== undefined && v !== null && v !== '') out[k] = v;
    }
  }
  return out;
}

function latestQuery(params: Record<string, unknown>, def: StoreQueryDef): LatestQuery {
  const q: LatestQuery = {};
  const meter = params.meter ?? (def.meter || undefined);
  if (meter !== undefined) {
    if (typeof meter !== 'string' && typeof meter !== 'number') throw new QueryParamError('meter', `meter: ${JSON.stringify(meter)} is not a meter id (use a string)`, meter);
    q.meter = String(meter);
  }
  const obis = params.obis ?? (def.obis || undefined);
  if (obis !== undefined) {
    try {
      q.obis = normaliseObis(String(obis));
    } catch {
      throw new QueryParamError('obis', `obis: ${JSON.stringify(obis)} is not an OBIS code (use A-B:C.D.E such as 1-0:1.8.0)`, obis);
    }
  }
  return q;
}

/** The interval of gaps mode: msg.interval, else the node's setting, else 15m. */
export function gapInterval(params: Record<string, unknown>, def: StoreQueryDef): number {
  const raw = params.interval ?? (def.interval || '15m');
  const every = parseDuration(raw);
  if (Number.isNaN(every) || everyProblem(every)) {
    throw new QueryParamError('interval', `interval: ${JSON.stringify(raw)} is not an interval (use e.g. 15m, 1h or 1d; a day or longer must be whole days)`, raw);
  }
  return every;
}

/** Builds the gap query: meter (optional: absent = every meter), obis, from/to/range and tz as in range mode. */
export function gapQuery(params: Record<string, unknown>, def: StoreQueryDef, timeZone: string | undefined, now: number): GapQuery {
  const interval = gapInterval(params, def);
  const { window: _w, fn: _f, agg: _a, limit: _l, ...rest } = params;
  const hasMeter = rest.meter !== undefined || !!def.meter;
  const q = parseRangeQuery(hasMeter ? rest : { ...rest, meter: '*' }, now, {
    meter: def.meter || undefined, obis: def.obis || undefined, range: def.range || undefined, timeZone,
  });
  const out: GapQuery = { from: q.from, to: q.to, interval };
  if (hasMeter) out.meter = q.meter;
  if (q.obis !== undefined) out.obis = q.obis;
  if (q.timeZone !== undefined) out.timeZone = q.timeZone;
  return out;
}

export default function init(RED: NodeAPI): void {
  function EmsStoreQuery(this: Node, def: StoreQueryDef): void {
    RED.nodes.createNode(this, def);
    const node = this;
    const config = RED.nodes.getNode(def.store) as StoreConfigNode | null;
    if (config) config.register(node);
    else node.status({ fill: 'red', shape: 'ring', text: 'ems-store-query.status.no-store' });

    async function run(msg: NodeMessageInFlow): Promise<number> {
      if (!config) throw new Error('ems-store-query: no ems-store configured (pick one in the node\'s Store property)');
      const store = config.getReadingView(); // first: a store that cannot open is the error to report (virtual meters of an ems-system included)
      const params = paramsOf(msg as unknown as Record<string, unknown>);
      const out = msg as NodeMessageInFlow & { query?: unknown };
      const mode = params.mode ?? (def.mode || 'range');
      if (!(MODES as readonly unknown[]).includes(mode)) throw new QueryParamError('mode', `mode: ${JSON.stringify(mode)} is not a query mode (use ${MODES.join(', ')})`, mode);
      if (mode === 'gaps') {
        const q = gapQuery(params, def, config.timeZone, Date.now());
        try {
          out.payload = await gapsForStore(store, q);
        } catch (err) {
          if (err instanceof RangeError && /windows/.test(err.message)) {
            throw new QueryParamError('interval', `interval: ${formatDuration(q.interval)} gives too many slots from ${new Date(q.from).toISOString()} to ${new Date(q.to).toISOString()} (use a longer interval or a shorter range)`, q.interval);
          }
          throw err;
        }
        out.query = { mode: 'gaps', ...q };
        if (!out.topic && q.meter !== undefined) out.topic = q.meter;
      } else if (mode === 'latest') {
        const q = latestQuery(params, def);
        out.payload = await store.latest(q);
        out.query = { mode: 'latest', ...q };
        if (!out.topic && q.meter !== undefined) out.topic = q.meter;
      } else {
        const q = parseRangeQuery(params, Date.now(), {
          meter: def.meter || undefined, obis: def.obis || undefined, range: def.range || undefined,
          window: def.window || undefined, fn: def.fn || undefined, timeZone: config.timeZone,
          limit: def.limit === '' || def.limit === undefined ? undefined : Number(def.limit),
        });
        out.payload = await store.query(q);
        out.query = { mode: 'range', ...q };
        if (!out.topic) out.topic = q.meter;
      }
      return (out.payload as unknown[]).length;
    }

    node.on('input', (msg, send, done) => {
      void (async () => {
        let count: number;
        try {
          count = await run(msg);
        } catch (err) {
          node.status({ fill: 'red', shape: 'ring', text: 'ems-store-query.status.error' });
          done(err instanceof Error ? err : new Error(String(err)));
          return;
        }
        node.status({ fill: 'green', shape: 'dot', text: RED._('ems-store-query.status.rows', { count }) });
        try {
          send(msg);
          done();
        } catch (err) {
          done(err instanceof Error ? err : new Error(String(err)));
        }
      })();
    });

    node.on('close', (_removed: boolean, done: () => void) => {
      if (config) config.deregister(node, done);
      else done();
    });
  }
  RED.nodes.registerType('ems-store-query', EmsStoreQuery);
}
