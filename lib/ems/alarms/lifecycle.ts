/**
 * The lifecycle of one (rule, meter) pair, pure: a tracker remembers the condition's last state and
 * since when it holds; `step` folds in a new evaluation, `recheck` (the clock) re-applies the last one,
 * and both answer what the service must do: raise (after delay_s held, inside the active hours), clear
 * (after clear_after_s false; hysteresis shows as "hold", which never clears), or nothing.
 * The stored alarm (raised -> acknowledged -> cleared, reopened within hold_off_s) is AlarmService's.
 */
import { toLocal } from '../../model/time';
import type { ConditionResult, ConditionState } from './evaluate';
import type { ActiveHours, AlarmRule } from './types';

export interface Tracker {
  state: ConditionState;
  /** Since when `state` holds (epoch ms). */
  since: number;
  last: ConditionResult;
}

export type Action = 'raise' | 'clear' | 'none';

export interface StepContext {
  rule: Pick<AlarmRule, 'delay_s' | 'clear_after_s' | 'active'>;
  /** The pair has an open (raised or acknowledged) alarm. */
  open: boolean;
  now: number;
  timeZone: string;
}

/** True when `now` lies in the active hours (local weekday and time in the EMS zone); null = always. */
export function isActive(active: ActiveHours | null, now: number, timeZone: string): boolean {
  if (!active) return true;
  const l = toLocal(now, timeZone);
  const weekday = ((new Date(Date.UTC(l.year, l.month - 1, l.day)).getUTCDay() + 6) % 7) + 1;
  const minute = l.hour * 60 + l.minute;
  const [fh, fm] = active.from.split(':').map(Number);
  const [th, tm] = active.to.split(':').map(Number);
  const from = fh * 60 + fm;
  const to = th * 60 + tm;
  if (from < to) return active.days.includes(weekday) && minute >= from && minute < to;
  // Spans midnight: the part after midnight belongs to the day before.
  if (minute >= from) return active.days.includes(weekday);
  return minute < to && active.days.includes(weekday === 1 ? 7 : weekday - 1);
}

/**
 * Whether a tracker's last result may still be acted on: while the condition holds (raise), or while it
 * does not and an alarm is open (clear). Otherwise recheck answers 'none' whatever the rule and time,
 * until an evaluation in another state replaces the tracker (an alarm opens only on a 'true' one).
 */
export function mayAct(t: Tracker, open: boolean): boolean {
  return t.state === 'true' || (t.state === 'false' && open);
}

/**
 * Folds a new evaluation into the tracker. A result in the same state that cannot be acted on (mayAct)
 * leaves the tracker as it is: nothing would read it, and keeping it spares the memory of one per meter.
 */
export function step(t: Tracker | undefined, r: ConditionResult, ctx: StepContext): { tracker: Tracker; action: Action } {
  let tracker: Tracker = t!;
  if (!t || t.state !== r.state) tracker = { state: r.state, since: ctx.now, last: r };
  else if (mayAct(t, ctx.open)) tracker = { state: t.state, since: t.since, last: r };
  return { tracker, action: decide(tracker, ctx) };
}

/** Re-applies the tracker's last evaluation at a later time (delays and clear_after_s run out on the clock). */
export function recheck(t: Tracker, ctx: StepContext): Action {
  return decide(t, ctx);
}

function decide(t: Tracker, ctx: StepContext): Action {
  if (t.state === 'true') {
    if (ctx.open) return 'none';
    // A window's result is judged at the window's start: the hour 05:00-06:00 belongs to a rule active until 06:00.
    if (!isActive(ctx.rule.active, t.last.at ?? ctx.now, ctx.timeZone)) return 'none';
    return ctx.now - t.since >= ctx.rule.delay_s * 1000 ? 'raise' : 'none';
  }
  if (t.state === 'false' && ctx.open) return ctx.now - t.since >= ctx.rule.clear_after_s * 1000 ? 'clear' : 'none';
  return 'none';
}
