/**
 * The ems-alarm node's configuration as the editor saves it (strings) turned into checked rules and
 * engine options; shared by the runtime and the editor's check endpoint. Errors name the field and value.
 */
import { checkFlowRules, DEFAULT_INTERVAL_S, type FlowEngineOptions } from '../../lib/ems/alarms/flow-engine';
import type { AlarmRule } from '../../lib/ems/alarms/types';
import { isValidTimeZone, systemTimeZone } from '../../lib/model/time';
import { parseDuration } from '../../lib/store/query-params';

export interface AlarmConfig {
  name?: string;
  /** "form": one rule from the fields below; "json": `rules`, a rule or an array of rules. */
  ruleMode?: string;
  rules?: string;
  ruleName?: string; condition?: string; meter?: string;
  obis?: string; direction?: string; threshold?: string; unit?: string;
  intervals?: string; count?: string; window?: string; above?: string; below?: string; kinds?: string;
  severity?: string; delay?: string; clearAfter?: string; hysteresis?: string; holdOff?: string;
  activeDays?: string; activeFrom?: string; activeTo?: string;
  timeZone?: string;
  /** The meters' reading interval for stale rules: seconds or a duration ("15m"). */
  interval?: string;
}

const blank = (v: unknown) => v === undefined || v === null || String(v).trim() === '';
const text = (v: unknown) => (blank(v) ? undefined : String(v).trim());
/** A number, or the text as given (so the rule check names it), or undefined when empty. */
const num = (v: unknown) => (blank(v) ? undefined : Number.isFinite(Number(v)) ? Number(v) : String(v).trim());
const list = (v: unknown) => (blank(v) ? undefined : String(v).split(/[\s,;]+/).filter(Boolean));

/** Seconds from a number of seconds, a numeric text or a duration ("15m"); NaN when it is none. */
export function secondsOf(v: unknown): number {
  if (typeof v === 'number') return v > 0 && Number.isFinite(v) ? v : Number.NaN;
  if (typeof v === 'string' && /^\s*\d+(\.\d+)?\s*$/.test(v)) return secondsOf(Number(v));
  return parseDuration(v) / 1000;
}

/** The rule body of the form fields (checked later by checkFlowRule, as a JSON rule is). */
export function ruleFromForm(c: AlarmConfig): Record<string, unknown> {
  const type = c.condition || 'threshold';
  const fields: Record<string, Record<string, unknown>> = {
    threshold: { obis: text(c.obis), direction: c.direction || 'above', value: num(c.threshold), unit: text(c.unit) },
    stale: { intervals: num(c.intervals) },
    poll_failures: { count: num(c.count) },
    window_consumption: { obis: text(c.obis), window: c.window || '1h', above: num(c.above), below: num(c.below), unit: text(c.unit) },
    register_sanity: { obis: text(c.obis), kinds: list(c.kinds) },
  };
  const body: Record<string, unknown> = {
    name: text(c.ruleName) ?? text(c.name) ?? type,
    condition: { type, ...fields[type] },
    severity: c.severity || undefined,
    delay_s: num(c.delay), clear_after_s: num(c.clearAfter), hold_off_s: num(c.holdOff),
    hysteresis: type === 'threshold' ? num(c.hysteresis) : undefined,
    subject: text(c.meter) ? { meter: text(c.meter) } : undefined,
    active: text(c.activeFrom) || text(c.activeTo) || text(c.activeDays)
      ? { days: list(c.activeDays)?.map(num), from: text(c.activeFrom), to: text(c.activeTo) } : undefined,
  };
  return JSON.parse(JSON.stringify(body)); // without the undefined fields
}

/** The node's rules and engine options; throws naming the field. */
export function configOf(c: AlarmConfig): { rules: AlarmRule[]; options: Required<Omit<FlowEngineOptions, 'maxMeters'>> } {
  let body: unknown;
  if (c.ruleMode === 'json') {
    try { body = JSON.parse(c.rules ?? ''); } catch (err) { throw new Error(`rules must be JSON (a rule or an array of rules): ${(err as Error).message}`); }
  } else body = ruleFromForm(c);
  const rules = checkFlowRules(body);
  const timeZone = text(c.timeZone) ?? systemTimeZone();
  if (!isValidTimeZone(timeZone)) throw new Error(`timeZone ${JSON.stringify(c.timeZone)} must be an IANA time zone such as "Europe/Berlin"`);
  const intervalS = blank(c.interval) ? DEFAULT_INTERVAL_S : secondsOf(c.interval);
  if (!(intervalS > 0)) throw new Error(`interval ${JSON.stringify(c.interval)} must be seconds or a duration such as "15m"`);
  return { rules, options: { timeZone, intervalS } };
}
