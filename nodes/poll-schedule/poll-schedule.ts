import type { Node, NodeAPI, NodeDef, NodeMessage } from 'node-red';
import type { PollNowAnswer, Poller } from '../../lib/ems/api/types';
import { PROTOCOLS, PUSHED_PROTOCOLS } from '../../lib/ems/meter-definition';
import { PollJobs, type MeterPollState } from '../../lib/ems/poll-jobs';
import { Backfiller, BackfillSlots, backfillMaxDays } from '../../lib/ems/backfill';
import type { MeterRecord } from '../../lib/ems/registry';
import { PollScheduler, type PollBacklog } from '../../lib/ems/poll-scheduler';
import { DEFAULT_POLL_LIMITS, pollLimitsFromEnv, type PollLimits } from '../../lib/ems/poll-endpoints';
import type { EmsServices } from '../../lib/ems/services';
import type { SystemConfigNode } from '../system/system';

export interface PollScheduleDef extends NodeDef {
  system: string;
  /** Comma-separated protocols this node polls; empty = every protocol. */
  protocols: string;
}

/** One meter's line in GET /api/polling. */
export interface MeterPollStatus extends MeterPollState {
  meter: string; next_due: number | null;
  /** Due time of a poll waiting for a free slot of its endpoint, null when none waits. */
  waiting_since: number | null;
  /** Turns skipped because the previous poll still ran or waited. */
  skipped: number;
}

/** The poller a schedule node registers: poll now, per meter its schedule state (null = not scheduled here), and the backlog. */
export interface SchedulePoller extends Poller {
  status(meterId: string): MeterPollStatus | null;
  backlog(): PollBacklog;
}

/** The backlogs of several schedule nodes as one (lateness: the worst of them). */
export function mergeBacklogs(list: readonly PollBacklog[]): PollBacklog {
  const sum = (f: (b: PollBacklog) => number) => list.reduce((n, b) => n + f(b), 0);
  const worst = (f: (b: PollBacklog) => number | null, pick: (...v: number[]) => number) => {
    const v = list.map(f).filter((x): x is number => x !== null);
    return v.length ? pick(...v) : null;
  };
  return {
    meters: sum((b) => b.meters), running: sum((b) => b.running), waiting: sum((b) => b.waiting),
    oldest_waiting_due: worst((b) => b.oldest_waiting_due, Math.min), skipped: sum((b) => b.skipped), started: sum((b) => b.started),
    late_p50_ms: worst((b) => b.late_p50_ms, Math.max), late_p99_ms: worst((b) => b.late_p99_ms, Math.max),
    max_running: sum((b) => b.max_running), per_endpoint: list.length ? Math.max(...list.map((b) => b.per_endpoint)) : 0,
  };
}

interface AnswerMsg extends NodeMessage {
  poll?: { id?: unknown; kind?: unknown };
  backfill?: { truncated?: unknown };
  error?: { message?: unknown } | string;
}

export function parseProtocols(text: string | undefined): string[] {
  const list = (text ?? '').split(',').map((s) => s.trim()).filter(Boolean);
  for (const p of list) {
    if (!(PROTOCOLS as readonly string[]).includes(p)) throw new Error(`protocols "${text}": "${p}" is not a protocol (use ${PROTOCOLS.join(', ')})`);
  }
  return list;
}

/** The backfills running at once are counted per EMS, over all its schedule nodes. */
const backfillSlots = new Map<string, BackfillSlots>();

/** Several schedule nodes (one per protocol group) may serve one system: the API sees them as one poller. */
const bySystem = new Map<string, Set<SchedulePoller>>();

function register(system: SystemConfigNode, p: SchedulePoller, add: boolean): void {
  const set = bySystem.get(system.id) ?? new Set<SchedulePoller>();
  if (add) set.add(p); else set.delete(p);
  if (set.size === 0) {
    bySystem.delete(system.id);
    system.setPoller(undefined);
    return;
  }
  bySystem.set(system.id, set);
  const all = [...set];
  const composite: SchedulePoller = {
    pollNow(id): PollNowAnswer {
      const owner = all.find((x) => x.status(id) !== null);
      return owner ? owner.pollNow(id) : { meter: id, started: false, reason: 'not scheduled' };
    },
    status(id) {
      for (const x of all) {
        const s = x.status(id);
        if (s !== null) return s;
      }
      return null;
    },
    backlog: () => mergeBacklogs(all.map((x) => x.backlog())),
  };
  system.setPoller(composite);
}

export default function init(RED: NodeAPI): void {
  function PollSchedule(this: Node, def: PollScheduleDef): void {
    RED.nodes.createNode(this, def);
    const node = this;
    const system = RED.nodes.getNode(def.system) as SystemConfigNode | null;
    let protocols: string[];
    try {
      if (!system) throw new Error('no EMS (ems-system) is configured');
      protocols = parseProtocols(def.protocols);
    } catch (err) {
      node.status({ fill: 'red', shape: 'ring', text: 'ems-poll-schedule.status.bad-config' });
      node.error((err as Error).message);
      return;
    }

    let services: EmsServices | null = null;
    let closed = false;
    const records = new Map<string, MeterRecord>();
    let limits: PollLimits;
    try {
      limits = pollLimitsFromEnv(process.env);
    } catch (err) {
      node.warn(`${(err as Error).message}; using ${DEFAULT_POLL_LIMITS.maxRunning} polls at once, ${DEFAULT_POLL_LIMITS.perEndpoint} per endpoint`);
      limits = DEFAULT_POLL_LIMITS;
    }
    let maxDays: number;
    try {
      maxDays = backfillMaxDays(process.env);
    } catch (err) {
      node.warn(`${(err as Error).message}; backfills reach 31 days back`);
      maxDays = 31;
    }
    const addEvent = (e: Parameters<NonNullable<EmsServices['events']['add']>>[0]) => {
      try { services?.events.add(e); } catch (err) { node.warn(`cannot log event: ${(err as Error).message}`); }
    };
    // Reads what a meter stored during an outage once it answers again (never counted as a poll).
    const backfill = new Backfiller({
      send: (msg) => node.send(msg as unknown as NodeMessage),
      addEvent,
      newId: () => RED.util.generateId(),
      source: node.id,
      maxDays,
      slots: system ? (backfillSlots.get(system.id) ?? backfillSlots.set(system.id, new BackfillSlots()).get(system.id)!) : undefined,
      timeZone: system?.timeZone,
      prepare: (record) => jobs.prepare(record),
    });
    const jobs = new PollJobs({
      send: (msg) => node.send(msg as unknown as NodeMessage),
      addEvent,
      newId: () => RED.util.generateId(),
      source: node.id,
      onFinished: (info, result, failuresBefore) => {
        const record = records.get(info.meter);
        if (record && !closed) backfill.onPoll(record, info, result, failuresBefore);
      },
      onResult: (meter, result) => {
        showStatus();
        services?.alarms.onPollResult(meter, result.ok); // poll_failures alarm rules
      },
      networks: () => services?.registry.pollNetworks,
    });
    const scheduler = new PollScheduler((m, due) => {
      const record = records.get(m.id);
      return record ? jobs.start(record, due) : Promise.resolve();
    }, {
      timeZone: system!.timeZone,
      limits,
      onSkip: (m) => node.debug(`meter "${m.id}": still polling, this turn is skipped`),
    });

    // The status line from counters kept per result (no walk over the meters), at most once a second.
    let statusTimer: NodeJS.Timeout | undefined;
    let statusShown = 0;
    function showStatus(): void {
      if (closed || statusTimer) return;
      const wait = statusShown + 1000 - Date.now();
      if (wait > 0) {
        statusTimer = setTimeout(() => { statusTimer = undefined; showStatus(); }, wait);
        return;
      }
      statusShown = Date.now();
      const { running, failing } = jobs.summary();
      const { waiting } = scheduler.getStats();
      const next = scheduler.firstDue();
      const at = next === null ? 'none' : new Date(next).toLocaleTimeString('en-GB', { timeZone: system!.timeZone, hour12: false });
      const text = `${records.size} meters, ${running ? `polling ${running}` : `next ${at}`}${waiting ? `, ${waiting} waiting` : ''}${failing ? `, ${failing} failing` : ''}`;
      node.status({ fill: failing ? 'red' : running ? 'blue' : 'green', shape: failing ? 'ring' : 'dot', text });
    }

    // A burst of meter changes (an import, a bulk creation) reloads once; poll now and the status read it at once.
    let reloadPending: NodeJS.Immediate | undefined;
    function reloadSoon(): void {
      reloadPending ??= setImmediate(reload);
    }
    function reloadNow(): void {
      if (reloadPending) reload();
    }

    function reload(): void {
      if (reloadPending) clearImmediate(reloadPending);
      reloadPending = undefined;
      if (!services || closed) return;
      const wanted = services.registry.meters().filter((m) => !PUSHED_PROTOCOLS.includes(m.definition.protocol)
        && (protocols.length === 0 || protocols.includes(m.definition.protocol)));
      const ids = new Set(wanted.map((m) => m._id));
      for (const id of records.keys()) if (!ids.has(id)) { jobs.forget(id); backfill.forget(id); }
      records.clear();
      for (const m of wanted) records.set(m._id, m);
      scheduler.set(wanted.map((m) => ({ id: m._id, definition: m.definition })));
      showStatus();
    }

    const onChange = (c: { kind: string }) => { if (c.kind === 'meter') reloadSoon(); };
    const poller: SchedulePoller = {
      pollNow(id) {
        reloadNow();
        if (!records.has(id)) return { meter: id, started: false, reason: 'not scheduled' };
        const run = scheduler.pollNow(id);
        if (run === false) return { meter: id, started: false, reason: 'busy' };
        showStatus();
        return { meter: id, started: true };
      },
      status(id) {
        reloadNow();
        const s = records.has(id) ? scheduler.state(id) : null;
        if (!s) return null;
        return { meter: id, next_due: s.next_due, waiting_since: s.waiting_since, skipped: s.skipped, ...jobs.state(id) };
      },
      backlog() {
        reloadNow();
        return scheduler.backlog();
      },
    };

    node.status({ fill: 'yellow', shape: 'ring', text: 'ems-poll-schedule.status.starting' });
    system!.ready().then((s) => {
      if (closed) return;
      services = s;
      // After a restart, a meter whose newest stored reading is older than two intervals is backfilled on its first good poll.
      try {
        system!.getStore().latest().then((latest) => backfill.noteLastReadings(latest), (err: Error) => node.warn(`backfill: the store's latest readings could not be read: ${err.message}`));
      } catch (err) {
        node.warn(`backfill: the store's latest readings could not be read: ${(err as Error).message}`);
      }
      s.changes.on('change', onChange);
      reload();
      register(system!, poller, true);
    }, (err: Error) => {
      node.status({ fill: 'red', shape: 'ring', text: 'ems-poll-schedule.status.error' });
      node.error(`the EMS is not available: ${err.message}`);
    });

    // A poll message coming back (from the protocol node, or a Catch with msg.error) ends its poll.
    node.on('input', (msg, _send, done) => {
      const m = msg as AnswerMsg;
      const err = m.error === undefined || m.error === null ? null
        : typeof m.error === 'string' ? m.error : String(m.error.message ?? JSON.stringify(m.error));
      if (!jobs.answer(m.poll?.id, err) && !backfill.answer(m.poll?.id, err, m)) node.debug(`ignored a message that answers no open poll (poll ${JSON.stringify(m.poll?.id)})`);
      done();
    });

    node.on('close', (_removed: boolean, done: () => void) => {
      closed = true;
      if (statusTimer) clearTimeout(statusTimer);
      if (reloadPending) clearImmediate(reloadPending);
      scheduler.stop();
      jobs.stop();
      backfill.stop();
      services?.changes.off('change', onChange);
      if (services) register(system!, poller, false);
      node.status({});
      done();
    });
  }
  RED.nodes.registerType('ems-poll-schedule', PollSchedule);
}
