import type { Node, NodeAPI, NodeDef, NodeMessage, NodeMessageInFlow } from 'node-red';
import { FlowAlarmEngine, type FlowResult } from '../../lib/ems/alarms/flow-engine';
import type { AlarmNotification, Severity } from '../../lib/ems/alarms/types';
import { configOf, secondsOf, type AlarmConfig } from './config';

export interface AlarmDef extends NodeDef, Omit<AlarmConfig, 'name'> {
  /** A second output with the open alarms after every change. */
  listOutput?: boolean | string;
}

/** The clock: stale meters, delays and clear_after_s are checked this often. */
export const TICK_MS = 10_000;
/** The state is written to the node context at most once per this many ms after a change, and on close. */
export const SAVE_DELAY_MS = 1000;
export const STATE_KEY = 'ems-alarm-state';
const RANK: Record<Severity, number> = { info: 0, warning: 1, critical: 2 };
/**
 * Snapshots of nodes stopped for a redeploy, by node id: without a configured context store Node-RED
 * clears a node's context when it stops, so the restarted node takes its state from here.
 */
const stopped = new Map<string, unknown>();

type Send = (msg: Array<NodeMessage | NodeMessage[] | null>) => void;
const isObject = (x: unknown): x is Record<string, unknown> => typeof x === 'object' && x !== null && !Array.isArray(x);

export default function init(RED: NodeAPI): void {
  function EmsAlarm(this: Node, def: AlarmDef): void {
    RED.nodes.createNode(this, def);
    const node = this;
    const listOutput = def.listOutput === true || def.listOutput === 'true';
    let engine: FlowAlarmEngine;
    try {
      const { rules, options } = configOf(def);
      engine = new FlowAlarmEngine(rules, options);
    } catch (err) {
      const e = new Error(`ems-alarm: ${(err as Error).message}`);
      node.status({ fill: 'red', shape: 'ring', text: 'ems-alarm.status.bad-config' });
      node.error(e.message);
      node.on('input', (_msg, _send, done) => done(e));
      return;
    }
    restore();
    let saveTimer: NodeJS.Timeout | undefined;
    const ticker = setInterval(() => void tick(), TICK_MS);
    showStatus();

    function restore(): void {
      try {
        const saved = stopped.get(node.id) ?? node.context().get(STATE_KEY);
        stopped.delete(node.id);
        if (saved !== undefined) engine.restore(saved, Date.now());
      } catch (err) {
        node.warn(`ems-alarm: ignoring the saved alarm state, starting afresh: ${(err as Error).message}`);
      }
    }

    function save(snapshot = engine.toJSON()): void {
      if (saveTimer) clearTimeout(saveTimer);
      saveTimer = undefined;
      node.context().set(STATE_KEY, snapshot, (err?: Error) => {
        if (err) node.warn(`ems-alarm: alarm state not saved in the node context: ${err.message}`);
      });
    }

    function changed(): void {
      if (!saveTimer) saveTimer = setTimeout(save, SAVE_DELAY_MS);
    }

    function showStatus(): void {
      const open = engine.openAlarms();
      const worst = open.reduce<Severity>((w, a) => (RANK[a.severity] > RANK[w] ? a.severity : w), 'info');
      if (worst === 'info') node.status({ fill: 'green', shape: 'dot', text: RED._('ems-alarm.status.ok', { count: open.length }) });
      else node.status({ fill: worst === 'critical' ? 'red' : 'yellow', shape: 'dot', text: RED._('ems-alarm.status.open', { count: open.length, severity: worst }) });
    }

    function listMsg(): NodeMessage {
      return { _msgid: RED.util.generateId(), topic: 'alarms', payload: engine.openAlarms() };
    }

    /** One message per transition (the input msg itself for the first when `reuse`), and the open alarms on the second output. */
    function emit(send: Send, transitions: AlarmNotification[], msg?: NodeMessageInFlow, reuse = false): void {
      if (transitions.length === 0) return;
      const msgs = transitions.map((t, i) => {
        const m: NodeMessage = reuse && i === 0 ? msg! : msg ? RED.util.cloneMessage({ ...msg, payload: null }) : { _msgid: RED.util.generateId() };
        return Object.assign(m, { topic: `alarm/${t.state}`, payload: t });
      });
      send(listOutput ? [msgs, listMsg()] : [msgs]);
      showStatus();
    }

    async function tick(): Promise<void> {
      try {
        const transitions = await engine.tick(Date.now());
        emit((m) => node.send(m), transitions);
        if (transitions.length) changed();
      } catch (err) {
        node.error(new Error(`ems-alarm: tick failed: ${(err as Error).message}`), { _msgid: RED.util.generateId(), topic: 'tick', payload: null } as NodeMessage);
      }
    }

    /** Readings and poll results ({meter, ok}; the meter may be msg.topic); refusals named by index. */
    async function feed(msg: NodeMessageInFlow): Promise<{ transitions: AlarmNotification[]; problems: string[] }> {
      const payload = msg.payload as unknown;
      const many = Array.isArray(payload);
      if (!many && !isObject(payload)) throw new Error(`payload must be a reading {meter, time, obis, value, unit}, an array of readings or a poll result {meter, ok}, got ${JSON.stringify(payload)}`);
      const items = many ? (payload as unknown[]) : [payload];
      const interval = (msg as { interval?: unknown }).interval;
      const intervalS = interval === undefined ? undefined : secondsOf(interval);
      if (Number.isNaN(intervalS)) throw new Error(`msg.interval ${JSON.stringify(interval)} must be seconds or a duration such as "15m"`);
      const isPoll = (x: unknown) => isObject(x) && 'ok' in x;
      const readings = items.map((x, i) => [x, i] as const).filter(([x]) => !isPoll(x));
      const polls = items.map((x, i) => [x, i] as const).filter(([x]) => isPoll(x))
        .map(([x, i]) => [{ meter: typeof msg.topic === 'string' && msg.topic ? msg.topic : undefined, ...(x as object) }, i] as const);
      const now = Date.now();
      const results: [FlowResult, number[]][] = [
        [await engine.onReadings(readings.map(([x]) => x), now, intervalS), readings.map(([, i]) => i)],
        [await engine.onPollResults(polls.map(([x]) => x), now), polls.map(([, i]) => i)],
      ];
      const problems = results.flatMap(([r, index]) => r.refused.map((p) => ({ at: index[p.index], message: p.message })))
        .sort((a, b) => a.at - b.at).map((p) => `${many ? `payload[${p.at}]` : 'payload'}: ${p.message}`);
      return { transitions: results.flatMap(([r]) => r.transitions), problems };
    }

    node.on('input', (msg, send, done) => {
      void (async () => {
        try {
          if (msg.topic === 'alarms') {
            msg.payload = engine.openAlarms();
            send(listOutput ? [null, msg] : [msg]);
            return done();
          }
          let transitions: AlarmNotification[];
          let problems: string[] = [];
          if (msg.topic === 'ack') {
            const p = msg.payload;
            if (!isObject(p)) throw new Error(`payload ${JSON.stringify(p)} must be {alarm, note?, by?} to acknowledge (msg.topic "ack")`);
            transitions = [await engine.ack(p.alarm, p.note, p.by ?? 'flow', Date.now()).catch((err: Error) => { throw new Error(`payload.${err.message}`); })];
          } else if (msg.topic === 'tick') transitions = await engine.tick(Date.now());
          else ({ transitions, problems } = await feed(msg));
          changed();
          // With an error to report, the transitions go out in copies so that Catch gets the input msg unchanged.
          emit(send, transitions, msg, problems.length === 0);
          if (problems.length === 0) return done();
          const more = problems.length > 1 ? ` (and ${problems.length - 1} more refused)` : '';
          done(new Error(problems[0] + more));
        } catch (err) {
          done(err instanceof Error ? err : new Error(String(err)));
        }
      })();
    });

    node.on('close', (removed: boolean, done: () => void) => {
      clearInterval(ticker);
      if (saveTimer) clearTimeout(saveTimer);
      if (!removed) {
        const snapshot = engine.toJSON();
        stopped.set(node.id, snapshot);
        save(snapshot);
      }
      node.status({});
      done();
    });
  }
  RED.nodes.registerType('ems-alarm', EmsAlarm);

  /** The editor's live check: the rules the dialog's fields make, or the problem naming the field. */
  RED.httpAdmin.post('/ems-alarm/check', RED.auth.needsPermission('ems-alarm.read'), (req, res) => {
    try {
      const { rules, options } = configOf((req.body ?? {}) as AlarmConfig);
      res.json({ ok: true, problem: null, rules: rules.map((r) => ({ name: r.name, subject: r.subject, condition: r.condition, severity: r.severity })), timeZone: options.timeZone });
    } catch (err) {
      res.json({ ok: false, problem: (err as Error).message, rules: [] });
    }
  });
}
