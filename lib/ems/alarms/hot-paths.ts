/**
 * The AlarmService's hot paths over the meter plans (pairs.ts): a batch of stored readings against the
 * threshold, register_sanity and stale rules of its meters, and the stale rules on the clock. They give
 * the same results, steps and actions as evaluateRule + step, in the same order, but a pair that is
 * idle and stays idle costs a few comparisons: no result, no tracker, no allocation.
 */
import { roundNoise, unitInfo, type Reading } from '../../model';
import { MAX_METERS_PER_EVALUATION, registerSanity, staleResult, staleResultOnReading, thresholdResult, thresholdState, type ConditionResult, type ConditionState } from './evaluate';
import { step, type Action, type StepContext } from './lifecycle';
import { stateOf, type MeterPlan, type MeterSlot, type PairStates, type PlanEntry, type Plans } from './pairs';
import type { AlarmRule, Condition } from './types';

export interface PendingAction { rule: AlarmRule; result: ConditionResult; action: Exclude<Action, 'none'> }

/** What a batch or tick evaluation asks of the service, in order: act, or tell that a rule's evaluation was cut (truncated). */
export type Pending = PendingAction | { truncated: AlarmRule };

/** from-unit to to-unit as value * factor + offset's parts (unitInfo's), null when they cannot convert. */
interface Conversion { fa: number; oa: number; ob: number; fb: number }
const conversions = new Map<string, Map<string, Conversion | null>>();
function conversion(from: string, to: string): Conversion | null {
  let byTo = conversions.get(from);
  if (!byTo) conversions.set(from, (byTo = new Map()));
  let conv = byTo.get(to);
  if (conv === undefined) {
    try {
      const a = unitInfo(from);
      const b = unitInfo(to);
      conv = a.dimension === b.dimension ? { fa: a.factor, oa: a.offset ?? 0, ob: b.offset ?? 0, fb: b.factor } : null;
    } catch {
      conv = null;
    }
    if (byTo.size < 1000) byTo.set(to, conv);
  }
  return conv;
}

type Threshold = Extract<Condition, { type: 'threshold' }>;

/**
 * A threshold's state for a reading, as thresholdState(convert(...)) answers it, and the converted value.
 * convert rounds to 15 significant digits (roundNoise); that can only matter within a hair of the limit or
 * the hysteresis edge, so elsewhere the state is taken from the unrounded value and no rounding is done.
 */
function thresholdOf(c: Threshold, hysteresis: number, r: Reading, conv: Conversion): { state: ConditionState; raw: number } {
  const raw = (r.value * conv.fa + conv.oa - conv.ob) / conv.fb;
  const margin = 1e-9 * (Math.abs(raw) + 1);
  const edge = c.direction === 'above' ? c.value - hysteresis : c.value + hysteresis;
  const near = Math.abs(raw - c.value) <= margin || (hysteresis > 0 && Math.abs(raw - edge) <= margin) || !Number.isFinite(raw);
  return { state: thresholdState(c, hysteresis, near ? roundNoise(raw) : raw), raw };
}

/**
 * Evaluates a batch's readings (grouped by meter in the slots of the meters in order of their first
 * reading, each meter's readings in time order) against the meters' plans at `now`: steps the pairs and
 * answers the actions in the order AlarmService.onReadings took them before the plans (rule by rule, in
 * the order the batch first came to each rule; meter by meter within a rule). Updates the registers'
 * previous readings (register_sanity) at the end of each meter.
 */
export function evaluateBatch(slots: readonly MeterSlot[], plans: Plans, states: PairStates, ctx: StepContext, batch: number,
  setPrevious: (register: MeterPlan['sanityRegisters'][number], r: Reading) => void, isOpen: (key: string) => boolean): Pending[] {
  const acts: { rank: number; act: Pending }[] = [];
  let nextRank = 0;
  /** Counts the meter for the entry's rule in this batch; false past MAX_METERS_PER_EVALUATION (evaluateRule's bound). */
  const take = (e: PlanEntry): boolean => {
    const run = e.run;
    if (run.stamp !== batch) { run.stamp = batch; run.rank = nextRank++; run.meters = 0; }
    if (++run.meters <= MAX_METERS_PER_EVALUATION) return true;
    // Told before the rule's actions, as evaluateRule does.
    if (run.meters === MAX_METERS_PER_EVALUATION + 1) acts.push({ rank: run.rank - 0.5, act: { truncated: run.rule } });
    return false;
  };
  const fold = (e: PlanEntry, result: ConditionResult) => {
    const s = stateOf(e, states);
    ctx.rule = e.rule;
    ctx.open = s.open;
    const { tracker, action } = step(s.tracker, result, ctx);
    states.settle(s, tracker, s.open);
    if (action !== 'none') acts.push({ rank: e.run.rank, act: { rule: e.rule, result, action } });
  };
  for (const slot of slots) {
    if (slot.plans !== plans) { slot.plans = plans; slot.plan = plans.byMeter.get(slot.id); }
    const plan = slot.plan;
    if (!plan) continue;
    const meter = slot.id;
    const list = slot.readings;
    for (const e of plan.entries) {
      const c = e.rule.condition;
      if (c.type === 'threshold') {
        if (!take(e)) continue;
        let last: Reading | undefined;
        for (const r of list) if (r.obis === c.obis && (!last || r.time >= last.time)) last = r;
        if (!last) continue;
        const conv = conversion(last.unit, c.unit);
        if (!conv) continue; // a reading of another dimension (a misconfigured rule): nothing to say
        const { state, raw } = thresholdOf(c, e.rule.hysteresis, last, conv);
        const s = stateOf(e, states);
        if (s.tracker === undefined && state !== 'true' && !s.open) continue; // idle, and stays so
        fold(e, thresholdResult(c, meter, state, roundNoise(raw)));
      } else if (c.type === 'register_sanity') {
        if (!take(e)) continue;
        const finding = registerSanity(c, meter, list, e.register!.previous, false);
        if (finding === null) continue; // no reading of the register
        const s = stateOf(e, states);
        if (finding === 'sane' && s.tracker === undefined && !s.open) continue;
        fold(e, finding === 'sane' ? registerSanity(c, meter, list, e.register!.previous, true)! : finding);
      } else if (c.type === 'stale') {
        // A reading makes "stale" false: that matters only to an open alarm or a pending raise (the clock raises).
        const s = e.state && !e.state.dead ? e.state : states.get(e.key);
        if (s ? s.tracker?.state !== 'true' && !s.open : !isOpen(e.key)) continue;
        if (!take(e)) continue;
        fold(e, staleResultOnReading(c, plan.info));
      }
    }
    for (const register of plan.sanityRegisters) {
      for (let i = list.length - 1; i >= 0; i--) if (list[i].obis === register.obis) { setPrevious(register, list[i]); break; }
    }
  }
  // Stable: meter by meter within a rule.
  return acts.sort((a, b) => a.rank - b.rank).map((a) => a.act);
}

/**
 * A stale rule on the clock over its plan entries (its subject, in order): the pairs that are due (no
 * reading for k intervals) or not idle are evaluated and stepped; an idle pair that is not due only gets
 * its state at its first evaluation (the order of first evaluation). Answers the actions in subject order.
 */
export function evaluateStale(rule: AlarmRule, entries: readonly PlanEntry[], states: PairStates, ctx: StepContext, since: number): Pending[] {
  const c = rule.condition as Extract<Condition, { type: 'stale' }>;
  const now = ctx.now;
  const acts: Pending[] = [];
  // evaluateRule's bound: the first MAX_METERS_PER_EVALUATION meters of the subject, told before their actions.
  if (entries.length > MAX_METERS_PER_EVALUATION) acts.push({ truncated: rule });
  for (let i = 0; i < entries.length && i < MAX_METERS_PER_EVALUATION; i++) {
    const e = entries[i];
    const meter = e.meter;
    const seen = e.slot.lastAt;
    const last = seen !== -Infinity ? seen : Math.max(since, meter.created_at ?? -Infinity);
    const due = Math.max(0, Math.round((now - last) / 1000)) >= c.intervals * meter.interval_s;
    const s = stateOf(e, states);
    if (!due && s.tracker === undefined && !s.open) continue;
    const result = staleResult(c, meter, now, last);
    ctx.rule = rule;
    ctx.open = s.open;
    const { tracker, action } = step(s.tracker, result, ctx);
    states.settle(s, tracker, s.open);
    if (action !== 'none') acts.push({ rule, result, action });
  }
  return acts;
}
