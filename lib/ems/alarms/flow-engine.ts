/**
 * The alarm engine of the ems-alarm node: the EMS's rules (rules.ts), evaluation (evaluate.ts) and
 * lifecycle (lifecycle.ts) applied to what a flow feeds in, in memory, without Node-RED or a database.
 * Feed it readings, poll results and the clock (tick); each call answers the transitions it caused as
 * AlarmService emits them (AlarmNotification). Times are passed in, so it is deterministic.
 *
 * Differences from the EMS: a rule's subject is one meter or absent (every meter the engine is fed);
 * meters have no names or folders (meterName is the id, folderPath empty); window_consumption uses the
 * readings fed in (a window is evaluated when the first reading at or after its end arrives; a meter's
 * first, partial window is not); anomaly, prepaid and license rules are the EMS's only. State is a JSON
 * snapshot (toJSON / restore); at most `maxMeters` meters are tracked.
 */
import { normaliseObis, readingProblem, type Reading } from '../../model';
import { isValidTimeZone, windowStartOf } from '../../model/time';
import { evaluateRule, type Amount, type ConditionResult, type EvalInputs, type MeterInfo } from './evaluate';
import { recheck, step, type Action, type StepContext, type Tracker } from './lifecycle';
import { CONDITION_TYPES, checkRule, WINDOWS } from './rules';
import { MAX_ACK_NOTE } from './service';
import type { AlarmNotification, AlarmRule, AlarmState, AlarmTransition, AlarmWindow, Severity } from './types';

export const FLOW_CONDITIONS = ['threshold', 'stale', 'register_sanity', 'poll_failures', 'window_consumption'] as const;
export const MAX_FLOW_RULES = 100;
export const MAX_TRACKED_METERS = 10_000;
export const DEFAULT_INTERVAL_S = 900;
const MAX_BY = 100;

/** A rule of a flow: subject null means every meter the engine is fed. The id is the (unique) name. */
export function checkFlowRule(body: unknown): AlarmRule {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw new Error(`rule ${JSON.stringify(body)} must be an object {name, condition, ...}`);
  const b = body as Record<string, unknown>;
  const type = (b.condition as { type?: unknown } | null | undefined)?.type;
  if ((CONDITION_TYPES as readonly unknown[]).includes(type) && !(FLOW_CONDITIONS as readonly unknown[]).includes(type)) {
    throw new Error(`condition.type ${JSON.stringify(type)} is evaluated by the EMS only (ems-system); in a flow use one of ${FLOW_CONDITIONS.join(', ')}`);
  }
  const every = b.subject === undefined || b.subject === null;
  if (!every && (typeof b.subject !== 'object' || !('meter' in (b.subject as object)))) {
    throw new Error(`subject ${JSON.stringify(b.subject)} must be {"meter": id} or left out (every meter): folders are the EMS's`);
  }
  // checkRule wants a subject for meter rules; "every meter" has none, so a stand-in is checked and dropped.
  const input = checkRule(every ? { ...b, subject: { meter: 'every meter' } } : b);
  return { id: input.name, ...input, subject: every ? null : input.subject, created_by: null, created_at: 0, updated_at: 0 };
}

/** One rule or an array of rules with distinct names; an error names the rule. */
export function checkFlowRules(value: unknown): AlarmRule[] {
  const list = Array.isArray(value) ? value : [value];
  if (list.length === 0 || list.length > MAX_FLOW_RULES) throw new Error(`rules must be a rule or a list of 1 to ${MAX_FLOW_RULES} rules, got ${list.length}`);
  const rules: AlarmRule[] = [];
  list.forEach((body, i) => {
    const where = Array.isArray(value) ? `rules[${i}]` : 'rule';
    try {
      rules.push(checkFlowRule(body));
    } catch (err) {
      throw new Error(`${where}: ${(err as Error).message}`);
    }
    if (rules.slice(0, -1).some((r) => r.name === rules[i].name)) throw new Error(`${where}: name ${JSON.stringify(rules[i].name)} is used twice (rules are told apart by name)`);
  });
  return rules;
}

/** An alarm as the engine keeps it (the open ones are openAlarms(); cleared ones stay for hold_off_s). */
export interface FlowAlarm {
  id: number; rule: string; meter: string; state: AlarmState; severity: Severity;
  since: number; at: number; clearedAt: number | null; ackedBy: string | null; ackNote: string | null;
  value: number | null; limit: number | null; unit: string; message: string; raiseCount: number;
}

/** A register's consumption window being filled: its start, the register's value there (null: a partial first window), its last reading. */
interface WindowSeries { from: number; fromValue: number | null; last: { time: number; value: number; unit: string } }

interface MeterState {
  lastReadingAt?: number;
  /** The meter's interval from a message (stale); else the engine's. */
  interval_s?: number;
  failures?: number;
  /** register_sanity: the last value by OBIS code. */
  previous?: Record<string, { value: number; time: number }>;
  /** window_consumption: by "<obis> <window>". */
  windows?: Record<string, WindowSeries>;
}

export interface FlowEngineOptions {
  /** Active hours and consumption windows are local to this IANA zone; default UTC. */
  timeZone?: string;
  /** A meter's interval (stale) when no message gave one; default DEFAULT_INTERVAL_S. */
  intervalS?: number;
  maxMeters?: number;
}

/** A refused input item: its index and why. */
export interface Refusal { index: number; message: string }
export interface FlowResult { transitions: AlarmNotification[]; refused: Refusal[] }

export interface FlowEngineState {
  version: 1; since: number; nextId: number;
  /** What each rule watched (subject and condition), to drop the state of rules changed since. */
  rules: Record<string, string>;
  /** [meter id, state] and [rule + NUL + meter, tracker] pairs. */
  meters: [string, MeterState][]; trackers: [string, Tracker][]; alarms: FlowAlarm[];
}

const keyOf = (rule: string, meter: string) => `${rule}\u0000${meter}`;
/** A meter's state with its own records (their entries are replaced, never changed). */
const copyMeter = (m: MeterState): MeterState => ({ ...m, ...(m.previous ? { previous: { ...m.previous } } : {}), ...(m.windows ? { windows: { ...m.windows } } : {}) });
const fingerprint = (r: AlarmRule) => JSON.stringify([r.subject, r.condition]);

export class FlowAlarmEngine {
  readonly timeZone: string;
  readonly intervalS: number;
  readonly maxMeters: number;
  private readonly rules: Map<string, AlarmRule>;
  /** The enabled rules. */
  private readonly active: AlarmRule[];
  private since: number;
  private nextId = 1;
  private meters = new Map<string, MeterState>();
  private trackers = new Map<string, Tracker>();
  /** The latest alarm per rule and meter. */
  private alarms = new Map<string, FlowAlarm>();
  /** Transitions made outside a call (restore), answered by the next one. */
  private pending: AlarmNotification[] = [];
  private queue: Promise<unknown> = Promise.resolve();

  constructor(rules: readonly AlarmRule[], opts: FlowEngineOptions = {}, now = Date.now()) {
    this.timeZone = opts.timeZone ?? 'UTC';
    if (!isValidTimeZone(this.timeZone)) throw new Error(`timeZone ${JSON.stringify(opts.timeZone)} must be an IANA time zone such as "Europe/Berlin"`);
    this.intervalS = opts.intervalS ?? DEFAULT_INTERVAL_S;
    if (!(this.intervalS > 0)) throw new Error(`interval ${JSON.stringify(opts.intervalS)} must be a positive number of seconds`);
    this.maxMeters = opts.maxMeters ?? MAX_TRACKED_METERS;
    this.rules = new Map(rules.map((r) => [r.id, r]));
    this.active = rules.filter((r) => r.enabled);
    this.since = now;
  }

  /** Readings (canonical, any order); `intervalS` sets their meters' interval (stale). Bad readings are refused, the others count. */
  onReadings(list: readonly unknown[], now: number, intervalS?: number): Promise<FlowResult> {
    return this.serial(async () => {
      const out = this.drain();
      const refused: Refusal[] = [];
      const byMeter = new Map<string, Reading[]>();
      list.forEach((x, index) => {
        const problem = readingProblem(x);
        if (problem) return void refused.push({ index, message: problem });
        const r = x as Reading;
        let obis: string;
        try { obis = normaliseObis(r.obis); } catch { return void refused.push({ index, message: `reading.obis ${JSON.stringify(r.obis)} must be an OBIS code such as "1-0:1.8.0"` }); }
        if (!this.watched(r.meter)) return;
        if (!this.track(r.meter)) return void refused.push({ index, message: this.tooMany(r.meter) });
        let readings = byMeter.get(r.meter);
        if (!readings) byMeter.set(r.meter, (readings = []));
        readings.push({ ...r, obis });
      });
      for (const [meter, readings] of byMeter) {
        readings.sort((a, b) => a.time - b.time);
        const m = this.meters.get(meter)!;
        m.lastReadingAt = Math.max(m.lastReadingAt ?? -Infinity, readings[readings.length - 1].time);
        if (intervalS !== undefined) m.interval_s = intervalS;
      }
      const inputs: EvalInputs = { now, timeZone: this.timeZone, readings: byMeter, previous: (m, o) => this.meters.get(m)?.previous?.[o] };
      const onReadings = this.active.filter((r) => ['threshold', 'stale', 'register_sanity'].includes(r.condition.type));
      for (const rule of onReadings) await this.evaluate(rule, [...byMeter.keys()], inputs, now, out);
      for (const [meter, readings] of byMeter) {
        const m = this.meters.get(meter)!;
        for (const rule of onReadings) {
          if (rule.condition.type !== 'register_sanity' || !this.covers(rule, meter)) continue;
          const obis = rule.condition.obis;
          const last = readings.filter((r) => r.obis === obis).pop();
          if (last) (m.previous ??= {})[obis] = { value: last.value, time: last.time };
        }
        await this.windows(meter, readings, now, out);
      }
      return { transitions: out, refused };
    });
  }

  /** Poll results {meter, ok}: failures in a row count for poll_failures rules. */
  onPollResults(list: readonly unknown[], now: number): Promise<FlowResult> {
    return this.serial(async () => {
      const out = this.drain();
      const refused: Refusal[] = [];
      for (const [index, x] of list.entries()) {
        const p = x as { meter?: unknown; ok?: unknown } | null;
        if (typeof p !== 'object' || p === null) { refused.push({ index, message: `poll result must be an object {meter, ok}, got ${JSON.stringify(x)}` }); continue; }
        if (typeof p.meter !== 'string' || p.meter === '') { refused.push({ index, message: `poll result.meter must be a meter id, got ${JSON.stringify(p.meter)}` }); continue; }
        if (typeof p.ok !== 'boolean') { refused.push({ index, message: `poll result.ok must be true or false, got ${JSON.stringify(p.ok)}` }); continue; }
        if (!this.watched(p.meter)) continue;
        const m = this.track(p.meter);
        if (!m) { refused.push({ index, message: this.tooMany(p.meter) }); continue; }
        m.failures = p.ok ? 0 : (m.failures ?? 0) + 1;
        const inputs: EvalInputs = { now, timeZone: this.timeZone, pollFailures: new Map([[p.meter, m.failures]]) };
        for (const rule of this.active) if (rule.condition.type === 'poll_failures') await this.evaluate(rule, [p.meter], inputs, now, out);
      }
      return { transitions: out, refused };
    });
  }

  /** The clock: stale meters, and delays and clear_after_s that ran out. */
  tick(now: number): Promise<AlarmNotification[]> {
    return this.serial(async () => {
      const out = this.drain();
      const inputs: EvalInputs = { now, timeZone: this.timeZone, tick: true, since: this.since, lastReadingAt: (m) => this.meters.get(m)?.lastReadingAt };
      for (const rule of this.active) {
        if (rule.condition.type === 'stale') await this.evaluate(rule, rule.subject ? [(rule.subject as { meter: string }).meter] : [...this.meters.keys()], inputs, now, out);
      }
      for (const [key, t] of this.trackers) {
        const rule = this.rules.get(key.slice(0, key.indexOf('\u0000')));
        if (rule?.enabled) this.act(rule, t.last, recheck(t, this.context(rule, key, now)), now, out);
      }
      for (const [key, a] of this.alarms) {
        const holdOff = (this.rules.get(a.rule)?.hold_off_s ?? 0) * 1000;
        if (a.state === 'cleared' && a.clearedAt! < now - holdOff) this.alarms.delete(key);
      }
      return out;
    });
  }

  /** Acknowledges a raised alarm by its id (a transition's alarmId). */
  ack(alarm: unknown, note: unknown, by: unknown, now: number): Promise<AlarmNotification> {
    return this.serial(() => {
      const id = typeof alarm === 'string' && /^\d+$/.test(alarm) ? Number(alarm) : alarm;
      if (typeof id !== 'number' || !Number.isSafeInteger(id)) throw new Error(`alarm ${JSON.stringify(alarm)} must be an alarm id (the alarmId of a transition)`);
      if (note !== undefined && note !== null && (typeof note !== 'string' || note.length > MAX_ACK_NOTE)) throw new Error(`note ${JSON.stringify(note).slice(0, 60)} must be text of at most ${MAX_ACK_NOTE} characters`);
      if (typeof by !== 'string' || by.trim() === '' || by.length > MAX_BY) throw new Error(`by ${JSON.stringify(by)} must be a name of at most ${MAX_BY} characters`);
      const entry = [...this.alarms].find(([, a]) => a.id === id);
      if (!entry) throw new Error(`alarm ${id} is unknown (not an open or recently cleared alarm of this node)`);
      const [key, a] = entry;
      if (a.state !== 'raised') throw new Error(`alarm ${id} is ${a.state}${a.state === 'acknowledged' ? ` (by ${a.ackedBy})` : ''}; only a raised alarm can be acknowledged`);
      const acked: FlowAlarm = { ...a, state: 'acknowledged', at: now, ackedBy: by, ackNote: (note as string | undefined) || null };
      this.alarms.set(key, acked);
      return this.notification(acked, 'acknowledged');
    });
  }

  /** Open (raised or acknowledged) alarms, oldest first. */
  openAlarms(): FlowAlarm[] {
    return [...this.alarms.values()].filter((a) => a.state !== 'cleared').sort((a, b) => a.id - b.id).map((a) => ({ ...a }));
  }

  /** A snapshot of the state (JSON-safe). Trackers and alarms are replaced on every change, never changed, so it shares them. */
  toJSON(): FlowEngineState {
    return {
      version: 1, since: this.since, nextId: this.nextId, rules: Object.fromEntries([...this.rules.values()].map((r) => [r.id, fingerprint(r)])),
      meters: [...this.meters].map(([id, m]) => [id, copyMeter(m)]), trackers: [...this.trackers], alarms: [...this.alarms.values()],
    };
  }

  /**
   * Takes over a snapshot of toJSON (after a redeploy). The state of a rule that is gone, disabled or
   * watches something else now is dropped; its open alarms clear (answered by the next call). Throws,
   * changing nothing, when the snapshot is not one.
   */
  restore(saved: unknown, now: number): void {
    const s = saved as FlowEngineState;
    const isMap = (x: unknown) => typeof x === 'object' && x !== null && !Array.isArray(x);
    const isPairs = (x: unknown) => Array.isArray(x) && x.every((p) => Array.isArray(p) && p.length === 2 && typeof p[0] === 'string' && isMap(p[1]));
    if (!isMap(s) || s.version !== 1 || !Number.isFinite(s.since) || !Number.isSafeInteger(s.nextId) || !isMap(s.rules) || !isPairs(s.meters) || !isPairs(s.trackers) || !Array.isArray(s.alarms)
      || s.alarms.some((a) => !isMap(a) || !Number.isSafeInteger(a.id) || typeof a.rule !== 'string' || typeof a.meter !== 'string' || !['raised', 'acknowledged', 'cleared'].includes(a.state))) {
      throw new Error('the saved alarm state is not one of this engine (version 1)');
    }
    const same = (rule: string, meter: string) => {
      const r = this.rules.get(rule);
      return !!r && r.enabled && s.rules[rule] === fingerprint(r) && this.covers(r, meter);
    };
    this.since = s.since;
    this.nextId = s.nextId;
    this.meters = new Map(s.meters.filter(([m]) => this.watched(m)).slice(0, this.maxMeters).map(([id, m]) => [id, copyMeter(m)]));
    this.trackers = new Map(s.trackers.filter(([k]) => { const [r, m] = k.split('\u0000'); return same(r, m) && this.meters.has(m); }));
    this.alarms = new Map();
    for (const a of s.alarms) {
      if (same(a.rule, a.meter)) this.alarms.set(keyOf(a.rule, a.meter), a);
      else if (a.state !== 'cleared') this.pending.push(this.notification({ ...a, state: 'cleared', clearedAt: now, at: now }, 'cleared'));
    }
  }

  // ---- evaluation and lifecycle ----

  /** Runs calls one at a time: evaluation awaits, and state must not change under it. */
  private serial<T>(fn: () => T | Promise<T>): Promise<T> {
    const run = this.queue.then(fn);
    this.queue = run.catch(() => undefined);
    return run;
  }

  private drain(): AlarmNotification[] {
    const out = this.pending;
    this.pending = [];
    return out;
  }

  private covers(rule: AlarmRule, meter: string): boolean {
    return rule.subject === null || (rule.subject as { meter: string }).meter === meter;
  }

  private watched(meter: string): boolean {
    return this.active.some((r) => this.covers(r, meter));
  }

  /** The meter's state, created if there is room; undefined beyond maxMeters. */
  private track(meter: string): MeterState | undefined {
    let m = this.meters.get(meter);
    if (!m && this.meters.size < this.maxMeters) this.meters.set(meter, (m = {}));
    return m;
  }

  private tooMany(meter: string): string {
    return `meter ${JSON.stringify(meter)} refused: this node already tracks ${this.maxMeters} meters (the most one node holds); split the meters over several nodes`;
  }

  private async evaluate(rule: AlarmRule, meters: readonly string[], inputs: EvalInputs, now: number, out: AlarmNotification[]): Promise<void> {
    const infos: MeterInfo[] = meters.filter((m) => this.covers(rule, m))
      .map((id) => ({ id, name: id, folder_id: '', interval_s: this.meters.get(id)?.interval_s ?? this.intervalS }));
    if (infos.length === 0) return;
    const { results } = await evaluateRule(rule, infos, inputs);
    for (const r of results) {
      const key = keyOf(rule.id, r.meter!);
      const { tracker, action } = step(this.trackers.get(key), r, this.context(rule, key, now));
      this.trackers.set(key, tracker);
      this.act(rule, r, action, now, out);
    }
  }

  private context(rule: AlarmRule, key: string, now: number): StepContext {
    const a = this.alarms.get(key);
    return { rule, open: !!a && a.state !== 'cleared', now, timeZone: this.timeZone };
  }

  /** As AlarmService: raise (or reopen within hold_off_s), or clear an open alarm. */
  private act(rule: AlarmRule, r: ConditionResult, action: Action, now: number, out: AlarmNotification[]): void {
    const key = keyOf(rule.id, r.meter!);
    const before = this.alarms.get(key);
    if (action === 'raise') {
      const fields = { state: 'raised' as const, severity: rule.severity, at: now, clearedAt: null, ackedBy: null, ackNote: null, value: r.value, limit: r.limit, unit: r.unit, message: `${rule.name}: ${r.text} at ${r.meter}` };
      const reopen = before?.state === 'cleared' && before.clearedAt! >= now - rule.hold_off_s * 1000;
      const a: FlowAlarm = reopen
        ? { ...before!, ...fields, raiseCount: before!.raiseCount + 1 }
        : { id: this.nextId++, rule: rule.name, meter: r.meter!, since: now, raiseCount: 1, ...fields };
      this.alarms.set(key, a);
      out.push(this.notification(a, reopen ? 'reopened' : 'raised'));
    } else if (action === 'clear' && before && before.state !== 'cleared') {
      const a: FlowAlarm = { ...before, state: 'cleared', at: now, clearedAt: now, value: r.value ?? before.value };
      this.alarms.set(key, a);
      out.push(this.notification(a, 'cleared'));
    }
  }

  /** window_consumption: the windows these readings completed, each evaluated as the EMS does at its end. */
  private async windows(meter: string, readings: readonly Reading[], now: number, out: AlarmNotification[]): Promise<void> {
    const bySeries = new Map<string, AlarmRule[]>();
    for (const rule of this.active) {
      const c = rule.condition;
      if (c.type !== 'window_consumption' || !this.covers(rule, meter)) continue;
      const name = `${c.obis} ${c.window}`;
      bySeries.set(name, [...(bySeries.get(name) ?? []), rule]);
    }
    const m = this.meters.get(meter)!;
    for (const [name, rules] of bySeries) {
      const [obis, window] = name.split(' ') as [string, AlarmWindow];
      for (const r of readings) {
        const done = r.obis === obis ? feedWindow(m.windows ??= {}, name, r, WINDOWS[window], this.timeZone) : undefined;
        if (!done) continue;
        const consumption = async (_m: string, _o: string, from: number, to: number) => (from === done.from && to === done.to ? done.amount : null);
        for (const rule of rules) await this.evaluate(rule, [meter], { now: done.to, timeZone: this.timeZone, consumption }, now, out);
      }
    }
  }

  private notification(a: FlowAlarm, transition: AlarmTransition): AlarmNotification {
    return {
      alarmId: String(a.id), rule: a.rule, severity: a.severity, state: a.state, meterId: a.meter, meterName: a.meter, folderPath: [], since: a.since, at: a.at,
      ...(a.value !== null ? { value: a.value } : {}), ...(a.limit !== null ? { limit: a.limit } : {}), ...(a.unit ? { unit: a.unit } : {}),
      ...(transition === 'acknowledged' ? { by: a.ackedBy ?? undefined, ...(a.ackNote ? { note: a.ackNote } : {}) } : {}),
      transition, ruleId: a.rule, folderId: null, message: a.message, raiseCount: a.raiseCount, notify: this.rules.get(a.rule)?.notify ?? 'subscribers',
    };
  }
}

/**
 * Feeds a register reading into its window series; answers the window it completed, if any. A window's
 * consumption is the register's value at its end minus at its start, each the last reading at or before
 * the boundary (as the EMS's store query). Older or repeated readings and a register going backwards add nothing.
 */
function feedWindow(all: Record<string, WindowSeries>, name: string, r: Reading, every: number, timeZone: string): { from: number; to: number; amount: Amount } | undefined {
  const s = all[name];
  const last = { time: r.time, value: r.value, unit: r.unit };
  const start = windowStartOf(r.time, every, timeZone);
  if (!s || s.last.unit !== r.unit) { all[name] = { from: start, fromValue: r.time === start ? r.value : null, last }; return undefined; }
  if (r.time <= s.last.time) return undefined;
  if (start === s.from) { all[name] = { ...s, last }; return undefined; }
  const atEnd = r.time === start ? r.value : s.last.value;
  const from = windowStartOf(start - 1, every, timeZone);
  // Several windows passed (a gap): the last reading is the value at the start of the one that just ended.
  const atStart = from === s.from ? s.fromValue : s.last.value;
  all[name] = { from: start, fromValue: atEnd, last };
  return atStart !== null && atEnd >= atStart ? { from, to: start, amount: { value: atEnd - atStart, unit: r.unit } } : undefined;
}
