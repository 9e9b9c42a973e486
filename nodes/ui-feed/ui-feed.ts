import type { Node, NodeAPI, NodeDef, NodeMessage, NodeMessageInFlow } from 'node-red';
import {
  chartOf, classifyInput, FEED_MODES, liveMessages, MAX_POINTS_PER_SERIES, parseQuantities, type FeedMode, type QuantitySelection,
} from '../../lib/store/ui-feed';

export interface UiFeedDef extends NodeDef {
  /** OBIS codes or quantity names, comma separated; empty = every quantity. */
  quantities: string;
  /** auto (by msg.query), live or chart. */
  mode: string;
}

export default function init(RED: NodeAPI): void {
  function EmsUiFeed(this: Node, def: UiFeedDef): void {
    RED.nodes.createNode(this, def);
    const node = this;
    let sel: QuantitySelection | undefined;
    let configError: Error | undefined;
    const mode: FeedMode = (FEED_MODES as readonly string[]).includes(def.mode) ? (def.mode as FeedMode) : 'auto';
    try {
      if (def.mode && def.mode !== mode) throw new Error(`mode must be one of ${FEED_MODES.join(', ')}, got ${JSON.stringify(def.mode)}`);
      sel = parseQuantities(def.quantities);
    } catch (err) {
      configError = err instanceof Error ? err : new Error(String(err));
      node.status({ fill: 'red', shape: 'ring', text: 'ems-ui-feed.status.bad-config' });
      node.error(`ems-ui-feed: ${configError.message}`);
    }

    node.on('input', (msg, send, done) => {
      try {
        if (configError || !sel) throw new Error(`ems-ui-feed is not configured: ${configError?.message ?? 'no quantities'}`);
        const m = msg as NodeMessageInFlow & { query?: unknown };
        const input = classifyInput(m.payload, m.query, mode);
        if (input.kind === 'live') {
          const { messages, skipped } = liveMessages(input.readings, sel);
          if (messages.length === 0) {
            node.status({ fill: 'yellow', shape: 'ring', text: RED._('ems-ui-feed.status.none', { count: skipped }) });
            done();
            return;
          }
          const { payload: _p, source: _s, ...rest } = m as NodeMessageInFlow & { source?: unknown };
          const out: NodeMessage[] = messages.map((v) => ({ ...rest, topic: v.topic, payload: v.payload, timestamp: v.timestamp, reading: v.reading }) as NodeMessage);
          const last = messages[messages.length - 1];
          node.status({
            fill: 'green', shape: 'dot',
            text: RED._('ems-ui-feed.status.live', { count: messages.length, value: last.payload, unit: last.reading.unit, time: new Date(last.timestamp).toTimeString().slice(0, 8) }),
          });
          send([out]);
        } else {
          const { chart, points, thinned, skipped } = chartOf(input.rows, sel, input.window);
          Object.assign(m, { payload: [chart], chart: { series: chart.series.length, points, skipped, thinned, maxPointsPerSeries: MAX_POINTS_PER_SERIES } });
          node.status({
            fill: chart.series.length ? 'green' : 'yellow', shape: chart.series.length ? 'dot' : 'ring',
            text: RED._(thinned.length ? 'ems-ui-feed.status.thinned' : 'ems-ui-feed.status.chart', { series: chart.series.length, points }),
          });
          send(m);
        }
        done();
      } catch (err) {
        node.status({ fill: 'red', shape: 'ring', text: 'ems-ui-feed.status.error' });
        done(err instanceof Error ? err : new Error(String(err)));
      }
    });

    node.on('close', (_removed: boolean, done: () => void) => {
      node.status({});
      done();
    });
  }
  RED.nodes.registerType('ems-ui-feed', EmsUiFeed);
}
