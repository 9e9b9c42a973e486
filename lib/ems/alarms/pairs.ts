/**
 * The AlarmService's state per (rule, meter) pair, kept small for 1,000 rules over 10,000 meters:
 * - PairStates: for every pair evaluated so far, its order of first evaluation (the clock acts on
 *   pending pairs in that order) and its tracker, but a tracker only while the pair is not idle. A pair
 *   is idle when its condition is not true and it has no open alarm: nothing can come of it until an
 *   evaluation in another state, so absence of a tracker stands for it.
 * - MeterPlans: per meter, the (rule, meter) pairs of the conditions evaluated on every reading
 *   (threshold, register_sanity, stale), made once per change of the rules or the registry.
 */
import type { Reading } from '../../model';
import type { Tracker } from './lifecycle';
import type { MeterInfo } from './evaluate';
import type { AlarmRule } from './types';

export const keyOf = (rule: string, meter: string | null) => `${rule}\u0000${meter ?? ''}`;

export interface PairState {
  readonly key: string;
  /** The order of the pair's first evaluation. */
  readonly seq: number;
  /** undefined while the pair is idle. */
  tracker: Tracker | undefined;
  /** The pair has an open (raised or acknowledged) alarm (AlarmService keeps it in step with its own map). */
  open: boolean;
  /** Set once the state is forgotten (a plan entry holding it looks it up again). */
  dead: boolean;
}

export class PairStates {
  private readonly states = new Map<string, PairState>();
  /** The states with a tracker. */
  readonly pending = new Set<PairState>();
  private nextSeq = 0;

  /** `isOpen` answers whether a pair has an open alarm when its state is made. */
  constructor(private readonly isOpen: (key: string) => boolean) {}

  get(key: string): PairState | undefined { return this.states.get(key); }

  /** The pair's state, made at its first evaluation. */
  ensure(key: string): PairState {
    let s = this.states.get(key);
    if (!s) this.states.set(key, (s = { key, seq: this.nextSeq++, tracker: undefined, open: this.isOpen(key), dead: false }));
    return s;
  }

  /** Keeps `tracker` unless the pair is idle with it (condition not true and no open alarm). */
  settle(s: PairState, tracker: Tracker | undefined, open: boolean): void {
    const keep = tracker !== undefined && (tracker.state === 'true' || open) ? tracker : undefined;
    s.tracker = keep;
    if (keep) this.pending.add(s);
    else this.pending.delete(s);
  }

  delete(key: string): void {
    const s = this.states.get(key);
    if (!s) return;
    s.dead = true;
    this.pending.delete(s);
    this.states.delete(key);
  }

  /** Forgets every pair of a rule (changed or deleted). */
  deleteRule(ruleId: string): void {
    const prefix = `${ruleId}\u0000`;
    for (const key of [...this.states.keys()]) if (key.startsWith(prefix)) this.delete(key);
  }

  /** The pending states in the order of first evaluation. */
  pendingInOrder(): PairState[] {
    return [...this.pending].sort((a, b) => a.seq - b.seq);
  }
}

/** A rule's run over one batch of readings: in which order the batch first came to it (raise order). */
export interface RuleRun {
  readonly rule: AlarmRule; stamp: number; rank: number;
  /** The meters the batch evaluated for the rule (at most MAX_METERS_PER_EVALUATION, as evaluateRule). */
  meters: number;
}

/** What AlarmService keeps per meter that reported: one lookup per reading finds it all. */
export interface MeterSlot {
  readonly id: string;
  /** The time of its latest reading; -Infinity before any. */
  lastAt: number;
  /** The batch its `readings` belong to, and the readings of that batch (the array is reused). */
  batch: number;
  readonly readings: Reading[];
  /** The meter's plan in `plans` (undefined: no rule evaluates its readings). */
  plans: Plans | null;
  plan: MeterPlan | undefined;
}

export function newSlot(id: string): MeterSlot {
  return { id, lastAt: -Infinity, batch: -1, readings: [], plans: null, plan: undefined };
}

/** The previous reading of a meter's register (register_sanity), kept between batches. */
export interface Previous { value: number; time: number }

/** A register of a meter with a register_sanity rule: its previous reading, cached from AlarmService's map. */
export interface SanityRegister { readonly obis: string; readonly key: string; previous: Previous | undefined }

/** A (rule, meter) pair in a meter's plan. */
export interface PlanEntry {
  readonly kind: 'threshold' | 'register_sanity' | 'stale';
  readonly rule: AlarmRule;
  readonly run: RuleRun;
  readonly meter: MeterInfo;
  readonly key: string;
  /** The pair's state once evaluated (PairStates.ensure), cached. */
  state: PairState | undefined;
  /** register_sanity: the register. */
  readonly register?: SanityRegister;
  /** The meter's slot (stale: its latest reading). */
  readonly slot: MeterSlot;
}

export interface MeterPlan {
  readonly info: MeterInfo;
  /** In the order of the rules. */
  readonly entries: PlanEntry[];
  readonly sanityRegisters: SanityRegister[];
}

export interface Plans {
  byMeter: Map<string, MeterPlan>;
  /** The plan entries of each enabled stale rule, in the order of its subject. */
  staleByRule: Map<string, PlanEntry[]>;
}

/** The plans of the enabled rules (in their order) over the meters their subjects resolve to. */
export function buildPlans(rules: Iterable<AlarmRule>, subjectOf: (rule: AlarmRule) => readonly MeterInfo[], states: PairStates, previous: (key: string) => Previous | undefined, slotOf: (meter: string) => MeterSlot): Plans {
  const byMeter = new Map<string, MeterPlan>();
  const staleByRule = new Map<string, PlanEntry[]>();
  for (const rule of rules) {
    const c = rule.condition;
    if (!rule.enabled || (c.type !== 'threshold' && c.type !== 'register_sanity' && c.type !== 'stale')) continue;
    const run: RuleRun = { rule, stamp: -1, rank: 0, meters: 0 };
    const list: PlanEntry[] = [];
    for (const meter of subjectOf(rule)) {
      let plan = byMeter.get(meter.id);
      if (!plan) byMeter.set(meter.id, (plan = { info: meter, entries: [], sanityRegisters: [] }));
      const key = keyOf(rule.id, meter.id);
      let register: SanityRegister | undefined;
      if (c.type === 'register_sanity') {
        register = plan.sanityRegisters.find((s) => s.obis === c.obis);
        if (!register) {
          const previousKey = keyOf(meter.id, c.obis);
          plan.sanityRegisters.push((register = { obis: c.obis, key: previousKey, previous: previous(previousKey) }));
        }
      }
      const entry: PlanEntry = { kind: c.type, rule, run, meter, key, state: states.get(key), register, slot: slotOf(meter.id) };
      plan.entries.push(entry);
      if (c.type === 'stale') list.push(entry);
    }
    if (c.type === 'stale') staleByRule.set(rule.id, list);
  }
  return { byMeter, staleByRule };
}

/** The entry's pair state, made at its first evaluation. */
export function stateOf(entry: PlanEntry, states: PairStates): PairState {
  let s = entry.state;
  if (s === undefined || s.dead) s = entry.state = states.ensure(entry.key);
  return s;
}
