/**
 * AlarmService: the stored rules (alarm_rules) and alarms (alarms), evaluated on stored readings
 * (onReadings), poll results (onPollResult), prepaid balances (onPrepaidBalance) and the clock (tick:
 * stale meters, the license, window consumption and anomalies at window ends, delays running out).
 * Every transition is an event of kind "alarm" in the event log and a 'transition' event carrying an
 * AlarmNotification (types.ts). Alarms live in the database, so they survive a restart; what is only in
 * memory (pending delays, poll failure counts) starts afresh. Last-reading times are seeded from the
 * store at start (noteLastReadings); a meter without any reading counts as stale from the start.
 */
import crypto from 'node:crypto';
import { EventEmitter } from 'node:events';
import type { Reading } from '../../model';
import type { Statement } from 'better-sqlite3';
import type { EmsDatabase } from '../db';
import { ApiError } from '../envelope';
import type { EventLevel, EventLog } from '../event-log';
import type { Registry } from '../registry';
import { evaluateRule, lastWindow, type ConditionResult, type ConsumptionFn, type EvalInputs, type MeterInfo } from './evaluate';
import { evaluateBatch, evaluateStale, type Pending } from './hot-paths';
import { mayAct, recheck, step, type StepContext } from './lifecycle';
import { buildPlans, keyOf, newSlot, PairStates, type MeterSlot, type Plans, type Previous } from './pairs';
import { checkRule, toRule, type RuleInput, type RuleRow } from './rules';
import { alarmSummary, queryAlarms, toAlarm, type AlarmReader, type AlarmRow, type AlarmSummary } from './query';
import { alarmNotification, folderNames } from './notification';
import type { Alarm, AlarmRule, AlarmTransition, Severity } from './types';

export { licenseEnd } from './rules';
export { DEFAULT_ALARM_LIMIT, MAX_ALARM_LIMIT, type AlarmReader, type AlarmSummary } from './query';

export const MAX_RULES = 1000;
export const MAX_ACK_NOTE = 1000;
export const TICK_INTERVAL_MS = 30_000;
/** How long after a window's end it is evaluated (readings stamped at the edge come with the next poll or a late gateway). */
export const WINDOW_SETTLE_MS = 5 * 60_000;

export interface AlarmServiceOptions {
  now?: () => number;
  /** The EMS time zone (active hours, windows); default UTC. */
  timeZone?: string;
  /** The license's expiry (epoch ms), null without one. */
  licenseExpiresAt?: () => number | null;
  /** The reading store's consumption (window_consumption, anomaly); settable later with setConsumption. */
  consumption?: ConsumptionFn;
  /** The reading store's disk spool use (spool_filling); settable later with setSpool. */
  spool?: SpoolFn;
}

/** The reading store's disk spool use, null when the store has none. */
export type SpoolFn = () => { bytes: number; maxBytes: number } | null;


const LEVEL: Record<Severity, EventLevel> = { info: 'info', warning: 'warning', critical: 'error' };

export class AlarmService extends EventEmitter {
  private readonly now: () => number;
  timeZone: string;
  private consumption?: ConsumptionFn;
  private rules = new Map<string, AlarmRule>();
  private subjects = new Map<string, MeterInfo[]>();
  private subjectIds = new Map<string, Set<string>>();
  private byMeter: Map<string, AlarmRule[]> | null = null;
  private meterInfo: Map<string, MeterInfo> | null = null;
  /** The meters by folder, each in the registry's order (made with meterInfo). */
  private byFolder: Map<string, MeterInfo[]> | null = null;
  /** Per meter, the pairs evaluated on its readings; per stale rule, its pairs (pairs.ts). */
  private plans: Plans | null = null;
  /** Open (raised or acknowledged) alarm ids by keyOf(rule, meter); each change also goes to the pair's state. */
  private readonly open = new Map<string, number>();
  /** The (rule, meter) pairs evaluated so far: the order of first evaluation and, unless idle, the tracker. */
  private readonly states = new PairStates((key) => this.open.has(key));
  /** Per meter that reported or is watched: its latest reading's time and this batch's readings. */
  private readonly slots = new Map<string, MeterSlot>();
  private readonly failures = new Map<string, number>();
  /** The previous reading of a register by keyOf(meter, obis) (register_sanity). */
  private readonly previous = new Map<string, Previous>();
  private readonly windowDone = new Map<string, number>();
  private batches = 0;
  private readonly since: number;
  private timer?: NodeJS.Timeout;
  private ticking = false;

  constructor(private readonly db: EmsDatabase, private readonly registry: Registry, private readonly events: EventLog, private readonly opts: AlarmServiceOptions = {}) {
    super();
    this.now = opts.now ?? Date.now;
    this.timeZone = opts.timeZone ?? 'UTC';
    this.consumption = opts.consumption;
    this.since = this.now();
    for (const row of db.prepare('SELECT * FROM alarm_rules').all() as RuleRow[]) this.rules.set(row.id, toRule(row));
    for (const a of db.prepare("SELECT id, rule_id, meter_id FROM alarms WHERE state IN ('raised', 'acknowledged')").all() as { id: number; rule_id: string; meter_id: string }[]) {
      this.open.set(keyOf(a.rule_id, a.meter_id || null), a.id);
    }
  }

  setConsumption(fn: ConsumptionFn | undefined): void { this.consumption = fn; }
  setSpool(fn: SpoolFn | undefined): void { this.opts.spool = fn; }

  /** Folders or meters changed: subjects are resolved again. */
  invalidate(): void {
    this.plans = null;
    this.subjects.clear();
    this.subjectIds.clear();
    this.byMeter = null;
    this.meterInfo = null;
  }

  // ---- rules ----

  listRules(reader: AlarmReader = {}): AlarmRule[] {
    return [...this.rules.values()].filter((r) => this.ruleVisible(r, reader)).sort((a, b) => a.name.localeCompare(b.name) || a.id.localeCompare(b.id));
  }

  getRule(id: string, reader: AlarmReader = {}): AlarmRule {
    const r = this.rules.get(id);
    if (!r || !this.ruleVisible(r, reader)) throw new ApiError(404, `unknown alarm rule "${id}"`);
    return r;
  }

  createRule(body: unknown, by: string | null, reader: AlarmReader = {}): AlarmRule {
    if (this.rules.size >= MAX_RULES) throw new ApiError(409, `there are already ${MAX_RULES} alarm rules (the most the EMS evaluates); delete some first`);
    const input = checkRule(body);
    this.checkSubjectVisible(input, reader);
    const t = this.now();
    const rule: AlarmRule = { id: crypto.randomUUID(), ...input, created_by: by, created_at: t, updated_at: t };
    this.db.prepare('INSERT INTO alarm_rules (id, name, body, created_by, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?)').run(rule.id, rule.name, JSON.stringify(input), by, t, t);
    this.rules.set(rule.id, rule);
    this.invalidate();
    this.events.add({ kind: 'config', event: `alarm rule created: ${rule.name}`, value: rule.id, source: by });
    return rule;
  }

  updateRule(id: string, body: unknown, by: string | null, reader: AlarmReader = {}): AlarmRule {
    const before = this.getRule(id, reader);
    const input = checkRule(body, before);
    this.checkSubjectVisible(input, reader);
    const rule: AlarmRule = { ...before, ...input, updated_at: this.now() };
    this.db.prepare('UPDATE alarm_rules SET name = ?, body = ?, updated_at = ? WHERE id = ?').run(rule.name, JSON.stringify(input), rule.updated_at, id);
    this.rules.set(id, rule);
    this.forgetRule(id);
    this.invalidate();
    // A new subject or condition, or a disabled rule, leaves no alarm open that it no longer stands for.
    for (const [key, alarmId] of [...this.open]) if (key.startsWith(`${id}\u0000`) && (!rule.enabled || JSON.stringify(before.subject) !== JSON.stringify(rule.subject) || JSON.stringify(before.condition) !== JSON.stringify(rule.condition))) this.clear(alarmId, 'the rule changed');
    this.events.add({ kind: 'config', event: `alarm rule updated: ${rule.name}`, value: id, source: by });
    return rule;
  }

  deleteRule(id: string, by: string | null, reader: AlarmReader = {}): void {
    const rule = this.getRule(id, reader);
    for (const [key, alarmId] of [...this.open]) if (key.startsWith(`${id}\u0000`)) this.clear(alarmId, 'the rule was deleted');
    this.db.prepare('DELETE FROM alarm_rules WHERE id = ?').run(id);
    this.rules.delete(id);
    this.forgetRule(id);
    this.invalidate();
    this.events.add({ kind: 'config', event: `alarm rule deleted: ${rule.name}`, value: id, source: by });
  }

  private forgetRule(id: string): void {
    this.states.deleteRule(id);
    this.windowDone.delete(id);
  }

  private ruleVisible(r: AlarmRule, reader: AlarmReader): boolean {
    if (reader.scope === undefined) return true;
    if (!r.subject) return false;
    if ('meter' in r.subject) return reader.meters?.has(r.subject.meter) ?? false;
    return reader.scope.has(r.subject.folder);
  }

  private checkSubjectVisible(input: RuleInput, reader: AlarmReader): void {
    const s = input.subject;
    if (!s) {
      if (reader.scope !== undefined) throw new ApiError(403, 'only users with every folder open may manage rules about the EMS itself (license_expiring, spool_filling)');
      return;
    }
    if ('meter' in s) {
      try { this.registry.meter(s.meter, reader.scope); } catch { throw new ApiError(400, `subject.meter ${JSON.stringify(s.meter)} is not a meter`); }
    } else {
      try { this.registry.folder(s.folder, reader.scope); } catch { throw new ApiError(400, `subject.folder ${JSON.stringify(s.folder)} is not a folder`); }
    }
  }

  // ---- subjects ----

  private meters(): Map<string, MeterInfo> {
    if (!this.meterInfo) {
      this.meterInfo = new Map(this.registry.meters().map((m) => [m._id, { id: m._id, name: m.definition.name, folder_id: m.folder_id, interval_s: m.definition.interval_time, created_at: m.created_at }]));
      this.byFolder = new Map();
      for (const m of this.meterInfo.values()) {
        let list = this.byFolder.get(m.folder_id);
        if (!list) this.byFolder.set(m.folder_id, (list = []));
        list.push(m);
      }
    }
    return this.meterInfo;
  }

  /** The meters a rule watches (issue 18: a virtual meter subject resolves here). */
  private subjectOf(rule: AlarmRule): MeterInfo[] {
    let list = this.subjects.get(rule.id);
    if (list) return list;
    const all = this.meters();
    const s = rule.subject;
    if (!s) list = [];
    else if ('meter' in s) list = all.has(s.meter) ? [all.get(s.meter)!] : [];
    else {
      // In the registry's order of meters, as a filter over all of them would give.
      const folders = s.scope === 'folder' ? [s.folder] : [...this.registry.scopeOf([s.folder])!];
      const lists = folders.map((f) => this.byFolder!.get(f)).filter((l) => l !== undefined);
      const scope = new Set(folders);
      list = lists.length === 1 ? [...lists[0]] : [...all.values()].filter((m) => scope.has(m.folder_id));
    }
    this.subjects.set(rule.id, list);
    return list;
  }

  private watches(rule: AlarmRule, meter: string): boolean {
    let ids = this.subjectIds.get(rule.id);
    if (!ids) this.subjectIds.set(rule.id, (ids = new Set(this.subjectOf(rule).map((m) => m.id))));
    return ids.has(meter);
  }

  private rulesOf(meter: string): AlarmRule[] {
    if (!this.byMeter) {
      this.byMeter = new Map();
      for (const r of this.rules.values()) {
        if (!r.enabled) continue;
        for (const m of this.subjectOf(r)) {
          const list = this.byMeter.get(m.id);
          if (list) list.push(r);
          else this.byMeter.set(m.id, [r]);
        }
      }
    }
    return this.byMeter.get(meter) ?? [];
  }

  // ---- inputs ----

  /** Call after readings are stored. */
  async onReadings(readings: readonly Reading[]): Promise<void> {
    const batch = ++this.batches;
    const touched: MeterSlot[] = [];
    for (const r of readings) {
      const slot = this.slotOf(r.meter);
      if (r.time > slot.lastAt) slot.lastAt = r.time;
      if (slot.batch !== batch) { slot.batch = batch; slot.readings.length = 0; touched.push(slot); }
      slot.readings.push(r);
    }
    for (const { readings: list } of touched) {
      for (let i = 1; i < list.length; i++) if (list[i].time < list[i - 1].time) { list.sort((a, b) => a.time - b.time); break; }
    }
    const ctx: StepContext = { rule: undefined!, open: false, now: this.now(), timeZone: this.timeZone };
    const acts = evaluateBatch(touched, this.currentPlans(), this.states, ctx, batch, (register, r) => {
      if (register.previous) { register.previous.value = r.value; register.previous.time = r.time; } else this.previous.set(register.key, (register.previous = { value: r.value, time: r.time }));
    }, (key) => this.open.has(key));
    for (const slot of touched) slot.readings.length = 0;
    this.actAll(acts);
  }

  private slotOf(meter: string): MeterSlot {
    let slot = this.slots.get(meter);
    if (!slot) this.slots.set(meter, (slot = newSlot(meter)));
    return slot;
  }

  private currentPlans(): Plans {
    if (!this.plans) this.plans = buildPlans(this.rules.values(), (r) => this.subjectOf(r), this.states, (key) => this.previous.get(key), (m) => this.slotOf(m));
    return this.plans;
  }

  private actAll(acts: readonly Pending[]): void {
    for (const a of acts) {
      if ('truncated' in a) this.tellTruncated(a.truncated);
      else if (this.rules.has(a.rule.id)) this.act(a.rule, a.result, a.action);
    }
  }

  /** Seeds when each meter last reported (the store's latest readings at start), so a meter that fell silent before a restart is not given k fresh intervals. Evaluates nothing. */
  noteLastReadings(readings: readonly Reading[]): void {
    for (const r of readings) {
      const slot = this.slotOf(r.meter);
      if (r.time > slot.lastAt) slot.lastAt = r.time;
    }
  }

  /** Call after every finished poll. */
  onPollResult(meterId: string, ok: boolean): void {
    const n = ok ? 0 : (this.failures.get(meterId) ?? 0) + 1;
    this.failures.set(meterId, n);
    const info = this.meters().get(meterId);
    if (!info) return;
    for (const rule of this.rulesOf(meterId)) {
      if (rule.condition.type === 'poll_failures') this.background(rule, [info], { now: this.now(), timeZone: this.timeZone, pollFailures: new Map([[meterId, n]]) });
    }
  }

  /** Call with a prepaid account's balance (the account named like the meter). */
  onPrepaidBalance(meterId: string, balance: number): void {
    const info = this.meters().get(meterId);
    if (!info || !Number.isFinite(balance)) return;
    for (const rule of this.rulesOf(meterId)) {
      if (rule.condition.type === 'prepaid_balance_below') this.background(rule, [info], { now: this.now(), timeZone: this.timeZone, balances: new Map([[meterId, balance]]) });
    }
  }

  /** The clock: stale meters, the license, windows that ended, delays and clear_after_s that ran out. */
  async tick(): Promise<void> {
    if (this.ticking) return;
    this.ticking = true;
    try {
      const now = this.now();
      for (const rule of [...this.rules.values()]) {
        if (!rule.enabled) continue;
        const c = rule.condition;
        const inputs: EvalInputs = { now, timeZone: this.timeZone, tick: true, since: this.since, lastReadingAt: (m) => { const at = this.slots.get(m)?.lastAt; return at === -Infinity ? undefined : at; } };
        if (c.type === 'stale') {
          this.actAll(evaluateStale(rule, this.currentPlans().staleByRule.get(rule.id) ?? [], this.states, { rule, open: false, now, timeZone: this.timeZone }, this.since));
        }
        else if (c.type === 'license_expiring') await this.evaluate(rule, [], { ...inputs, licenseExpiresAt: this.opts.licenseExpiresAt?.() ?? null });
        else if (c.type === 'spool_filling') await this.evaluate(rule, [], { ...inputs, spool: this.opts.spool?.() ?? null });
        else if ((c.type === 'window_consumption' || c.type === 'anomaly') && this.consumption) {
          // A window is evaluated once, WINDOW_SETTLE_MS after its end, so the readings stamped on its edge have arrived.
          const settled = now - WINDOW_SETTLE_MS;
          const end = lastWindow(c.window, settled, this.timeZone).to;
          if (this.windowDone.get(rule.id) === end) continue;
          this.windowDone.set(rule.id, end);
          await this.evaluate(rule, this.subjectOf(rule), { ...inputs, now: settled, tick: false, consumption: this.consumption });
        }
      }
      // A meter deleted or moved out of a rule's subject leaves no alarm of that rule open.
      for (const [key, alarmId] of [...this.open]) {
        const [ruleId, meter] = key.split('\u0000');
        const rule = this.rules.get(ruleId);
        if (meter && rule && !this.watches(rule, meter)) {
          this.states.delete(key);
          this.clear(alarmId, 'the meter is no longer watched by the rule (deleted or moved)');
        }
      }
      // The pairs whose delay or clear_after_s may have run out, in the order of their first evaluation.
      for (const s of this.states.pendingInOrder()) {
        const t = s.tracker;
        if (!t || !mayAct(t, s.open)) continue;
        const rule = this.rules.get(s.key.slice(0, s.key.indexOf('\u0000')));
        if (!rule || !rule.enabled) continue;
        const action = recheck(t, { rule, open: s.open, now, timeZone: this.timeZone });
        if (action !== 'none') this.act(rule, t.last, action);
      }
    } finally {
      this.ticking = false;
    }
  }

  /** Ticks every `ms` (unref'd) until stop(); errors go to the event log. */
  start(ms = TICK_INTERVAL_MS): void {
    this.stop();
    this.timer = setInterval(() => {
      this.tick().catch((err: Error) => {
        try { this.events.add({ kind: 'system', level: 'error', event: `alarm evaluation failed: ${err.message}` }); } catch { /* closed */ }
      });
    }, ms);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  private truncatedTold = new Set<string>();

  private tellTruncated(rule: AlarmRule): void {
    if (this.truncatedTold.has(rule.id)) return;
    this.truncatedTold.add(rule.id);
    this.events.add({ kind: 'system', level: 'warning', event: `alarm rule "${rule.name}" covers more than one evaluation may do; only part of its meters is evaluated`, value: rule.id });
  }

  /** Runs an evaluation without awaiting it; a failure is logged, never an unhandled rejection. */
  private background(...args: Parameters<AlarmService['evaluate']>): void {
    this.evaluate(...args).catch((err: Error) => {
      try { this.events.add({ kind: 'system', level: 'error', event: `alarm evaluation failed: ${err.message}` }); } catch { /* closed */ }
    });
  }

  private async evaluate(rule: AlarmRule, meters: readonly MeterInfo[], inputs: EvalInputs): Promise<void> {
    const { results, truncated } = await evaluateRule(rule, meters, inputs);
    if (truncated) this.tellTruncated(rule);
    const ctx: StepContext = { rule, open: false, now: this.now(), timeZone: this.timeZone };
    for (const r of results) {
      if (!this.rules.has(rule.id)) return; // deleted meanwhile
      const s = this.states.ensure(keyOf(rule.id, r.meter));
      ctx.open = s.open;
      const { tracker, action } = step(s.tracker, r, ctx);
      this.states.settle(s, tracker, s.open);
      if (action !== 'none') this.act(rule, r, action);
    }
  }

  private act(rule: AlarmRule, r: ConditionResult, action: 'raise' | 'clear' | 'none'): void {
    const key = keyOf(rule.id, r.meter);
    if (action === 'raise') this.raise(rule, r);
    else if (action === 'clear' && this.open.has(key)) this.clear(this.open.get(key)!, r.text, r);
  }

  // ---- alarms ----

  private raise(rule: AlarmRule, r: ConditionResult): void {
    const now = this.now();
    const meter = r.meter ? this.meters().get(r.meter) : undefined;
    const message = `${rule.name}: ${r.text}${meter ? ` at ${meter.name}` : ''}`;
    const recent = this.statement("SELECT id FROM alarms WHERE rule_id = ? AND meter_id = ? AND state = 'cleared' AND cleared_at >= ? ORDER BY id DESC LIMIT 1")
      .get(rule.id, r.meter ?? '', now - rule.hold_off_s * 1000) as { id: number } | undefined;
    let id: number;
    let transition: AlarmTransition;
    if (recent) {
      id = recent.id;
      transition = 'reopened';
      this.statement("UPDATE alarms SET state = 'raised', severity = ?, cleared_at = NULL, cleared_value = NULL, acked_at = NULL, acked_by = NULL, ack_note = NULL, value = ?, limit_value = ?, unit = ?, message = ?, raise_count = raise_count + 1, last_change = ? WHERE id = ?")
        .run(rule.severity, r.value, r.limit, r.unit, message, now, id);
    } else {
      transition = 'raised';
      id = Number(this.statement(`INSERT INTO alarms (rule_id, rule_name, meter_id, meter_name, folder_id, state, severity, raised_at, value, limit_value, unit, message, raise_count, last_change)
        VALUES (?, ?, ?, ?, ?, 'raised', ?, ?, ?, ?, ?, ?, 1, ?)`).run(rule.id, rule.name, r.meter ?? '', meter?.name ?? null, meter?.folder_id ?? null, rule.severity, now, r.value, r.limit, r.unit, message, now).lastInsertRowid);
    }
    this.setOpen(keyOf(rule.id, r.meter), id);
    this.transition(id, transition, LEVEL[rule.severity], message);
  }

  private clear(id: number, why: string, r?: ConditionResult): void {
    const a = this.row(id);
    if (!a || a.state === 'cleared') return;
    const now = this.now();
    this.statement("UPDATE alarms SET state = 'cleared', cleared_at = ?, last_change = ?, cleared_value = ? WHERE id = ?").run(now, now, r?.value ?? null, id);
    this.setOpen(keyOf(a.rule_id, a.meter_id || null), undefined);
    this.transition(id, 'cleared', 'info', `${a.rule_name}: ${why}${a.meter_name ? ` at ${a.meter_name}` : ''}`);
  }

  /** Keeps `open` and the pair's state in step; a pair whose alarm closed with its condition not true goes idle. */
  private setOpen(key: string, id: number | undefined): void {
    if (id === undefined) this.open.delete(key); else this.open.set(key, id);
    const s = this.states.get(key);
    if (s) { s.open = id !== undefined; this.states.settle(s, s.tracker, s.open); }
  }

  /** Acknowledges a raised alarm (operator or admin; the API checks the role). */
  ack(id: number, note: unknown, by: string, reader: AlarmReader = {}): Alarm {
    if (note !== undefined && note !== null && (typeof note !== 'string' || note.length > MAX_ACK_NOTE)) throw new ApiError(400, `note ${JSON.stringify(note).slice(0, 60)} must be text of at most ${MAX_ACK_NOTE} characters`);
    const a = this.get(id, reader);
    if (a.state !== 'raised') throw new ApiError(409, `alarm ${id} is ${a.state}${a.state === 'acknowledged' ? ` (by ${a.acked_by})` : ''}; only a raised alarm can be acknowledged`);
    const now = this.now();
    this.db.prepare("UPDATE alarms SET state = 'acknowledged', acked_at = ?, acked_by = ?, ack_note = ?, last_change = ? WHERE id = ?").run(now, by, (note as string | undefined) || null, now, id);
    this.transition(id, 'acknowledged', 'info', `${a.rule_name}: acknowledged by ${by}${note ? `: ${note}` : ''}`, by);
    return this.get(id);
  }

  get(id: number, reader: AlarmReader = {}): Alarm {
    const a = Number.isSafeInteger(id) ? this.row(id) : undefined;
    if (!a || !this.alarmVisible(a, reader)) throw new ApiError(404, `unknown alarm ${JSON.stringify(id)}`);
    return toAlarm(a);
  }

  /** Newest change first; filters state (raised, acknowledged, cleared, or active), severity, meter, folder (its subtree), rule; bounded (query.ts). */
  list(query: Record<string, unknown>, reader: AlarmReader = {}): Alarm[] {
    return queryAlarms(this.db, this.registry, query, reader);
  }

  /** Counts of the active alarms the reader sees, per severity (query.ts). */
  summary(reader: AlarmReader = {}): AlarmSummary { return alarmSummary(this.db, reader); }

  private alarmVisible(a: AlarmRow, reader: AlarmReader): boolean {
    return reader.meters === undefined || (a.meter_id !== '' && reader.meters.has(a.meter_id));
  }

  private readonly statements = new Map<string, Statement<unknown[]>>();

  /** A prepared statement, made once (raising and clearing run them for every transition). */
  private statement(sql: string): Statement<unknown[]> {
    let st = this.statements.get(sql);
    if (!st) this.statements.set(sql, (st = this.db.prepare(sql)));
    return st;
  }

  private row(id: number): AlarmRow | undefined {
    return this.statement('SELECT * FROM alarms WHERE id = ?').get(id) as AlarmRow | undefined;
  }

  private transition(id: number, transition: AlarmTransition, level: EventLevel, text: string, by?: string): void {
    const stored = toAlarm(this.row(id)!);
    // A clear tells the value that cleared it (the alarm keeps the value that raised it).
    const a = transition === 'cleared' && stored.cleared_value !== null ? { ...stored, value: stored.cleared_value } : stored;
    this.events.add({ kind: 'alarm', level, event: `alarm #${id} ${transition}: ${text}`.slice(0, 2000), meter_id: a.meter_id, meter_name: a.meter_name, value: a.value, source: by ?? 'alarms' });
    const n = alarmNotification(a, transition, folderNames(a.folder_id, (f) => this.registry.folder(f)), this.rules.get(a.rule_id)?.notify ?? 'subscribers');
    try {
      this.emit('transition', n);
    } catch (err) {
      // A listener (a notification channel) that throws must not undo the transition: it is stored and logged.
      this.events.add({ kind: 'system', level: 'error', event: `alarm #${id} ${transition}: a transition listener failed: ${(err as Error).message}` });
    }
  }
}
