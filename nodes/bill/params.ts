/** ems-bill: the bill request of a msg (msg.payload over the node's settings), checked field by field. */
import { billingPeriod, parseBillTime, PERIODS, type PeriodName } from '../../lib/billing';
import type { Reading } from '../../lib/model';
import { everyProblem, parseDuration } from '../../lib/store';
import type { ConsumptionInterval, Tariff } from '../../lib/tariff/types';
import { toInterval } from '../../lib/tariff/input';

export const FORMATS = ['json', 'csv', 'html'] as const;
export type Format = (typeof FORMATS)[number];

export interface BillDef {
  meter: string;
  /** this-month, last-month or custom (from/to in msg.payload). */
  period: string;
  interval: string;
  format: string;
  issue: boolean | string;
}

export interface BillRequest {
  meter: string;
  from: number;
  to: number;
  interval: number;
  format: Format;
  issue: boolean;
  readings?: Reading[];
  intervals?: ConsumptionInterval[];
}


const show = (v: unknown): string => (v === undefined ? 'undefined' : JSON.stringify(v));

function present(v: unknown): boolean {
  return v !== undefined && v !== null && v !== '';
}

/** Builds the request; throws an Error naming the field and value. */
export function billRequest(msg: { payload?: unknown; topic?: unknown }, def: BillDef, tariff: Tariff, now: number): BillRequest {
  const p = msg.payload !== null && typeof msg.payload === 'object' && !Array.isArray(msg.payload) ? (msg.payload as Record<string, unknown>) : {};
  const meterRaw = present(p.meter) ? p.meter : present(def.meter) ? def.meter : msg.topic;
  if ((typeof meterRaw !== 'string' && typeof meterRaw !== 'number') || String(meterRaw).trim() === '') {
    throw new Error(`meter: ${show(meterRaw)} is not a meter id (set the node's Meter, msg.payload.meter or msg.topic)`);
  }
  const meter = String(meterRaw).trim();
  let from: number;
  let to: number;
  if (present(p.from) || present(p.to)) {
    if (!present(p.from)) throw new Error(`from: missing (msg.payload.to is ${show(p.to)}: give both from and to)`);
    if (!present(p.to)) throw new Error(`to: missing (msg.payload.from is ${show(p.from)}: give both from and to)`);
    from = parseBillTime('from', p.from, tariff.timeZone);
    to = parseBillTime('to', p.to, tariff.timeZone);
    if (to <= from) throw new Error(`to: ${show(p.to)} is not after from ${show(p.from)}`);
  } else {
    const name = present(p.period) ? p.period : def.period || 'last-month';
    if (name === 'custom') throw new Error('from: missing (the period is custom: give msg.payload.from and msg.payload.to)');
    if (!(PERIODS as readonly unknown[]).includes(name)) throw new Error(`period: ${show(name)} is not a period (use ${PERIODS.join(', ')} or custom)`);
    ({ from, to } = billingPeriod(name as PeriodName, now, tariff.timeZone, tariff.cycleAnchorDay ?? 1));
  }
  const intervalRaw = present(p.interval) ? p.interval : def.interval || '15m';
  const interval = parseDuration(intervalRaw);
  if (Number.isNaN(interval) || everyProblem(interval)) throw new Error(`interval: ${show(intervalRaw)} is not an interval (use e.g. 15m, 1h or 1d)`);
  const formatRaw = present(p.format) ? p.format : def.format || 'json';
  if (!(FORMATS as readonly unknown[]).includes(formatRaw)) throw new Error(`format: ${show(formatRaw)} is not an output format (use ${FORMATS.join(', ')})`);
  const issueRaw = p.issue !== undefined ? p.issue : def.issue === true || def.issue === 'true';
  if (typeof issueRaw !== 'boolean') throw new Error(`issue: ${show(issueRaw)} must be true or false`);
  const out: BillRequest = { meter, from, to, interval, format: formatRaw as Format, issue: issueRaw };
  if (p.readings !== undefined) {
    if (!Array.isArray(p.readings)) throw new Error(`readings: must be an array of readings, got ${show(typeof p.readings)}`);
    out.readings = p.readings as Reading[];
  } else if (p.intervals !== undefined) {
    if (!Array.isArray(p.intervals)) throw new Error(`intervals: must be an array of intervals, got ${show(typeof p.intervals)}`);
    out.intervals = p.intervals.map((x, i) => toInterval(x, `intervals[${i}]`));
  }
  return out;
}
