/** Gaps of one meter's readings: which expected interval slots hold no reading (section "Readings"). */
import { ApiError } from '../envelope';
import { checkYear } from '../limits';
import { gapsForStore } from '../../store/gaps';
import { normaliseObis } from '../../model/obis';
import { parseDuration, parseTime } from '../../store/query-params';
import { callerOf, checkMeterVisible, onlyParams, pathParam } from './helpers';
import type { Operation } from './types';

/** The most interval slots one request may check (per series). */
export const MAX_GAP_SLOTS = 10_000;
/** The most series (OBIS codes) of a meter one request checks. */
export const MAX_GAP_SERIES = 50;

const PARAMS = ['from', 'to', 'obis', 'interval'];

function time(name: string, value: unknown, fallback: number, now: number, timeZone: string): number {
  if (value === undefined || value === '') return fallback;
  const t = parseTime(value, now, timeZone);
  if (Number.isNaN(t)) throw new ApiError(400, `${name}: ${JSON.stringify(value)} is not a time (use epoch ms, ISO 8601 or -1h)`);
  checkYear(name, value, t);
  return t;
}

export const GAP_OPERATIONS: Operation[] = [
  {
    name: 'meters.gaps', method: 'GET', path: '/api/meters/:id/gaps', access: 'viewer', tag: 'Readings',
    summary: 'Missing interval slots of one meter\'s readings (what a backfill from meter memory should close)',
    description: `The period [from, to) is cut into slots of \`interval\` aligned as aggregated readings are (local midnight in the EMS time zone); runs of slots without a reading are gaps, per OBIS code. At most ${MAX_GAP_SLOTS} slots and ${MAX_GAP_SERIES} OBIS codes per request; beyond them 400 naming the parameter.`,
    query: [
      { name: 'from', description: 'Start: ISO date, epoch ms or -1h (default: 24 h ago)' },
      { name: 'to', description: 'End, exclusive (default: now)' },
      { name: 'obis', description: 'One OBIS code, e.g. 1-0:1.8.0 (default: every code of the meter)' },
      { name: 'interval', description: 'Slot length: 15m, 1h, 1d or ms (default: the meter\'s interval_time, else 15m)' },
    ],
    response: {
      type: 'object',
      properties: {
        meter: { type: 'string' }, from: { type: 'integer' }, to: { type: 'integer' }, interval: { type: 'integer' }, missing: { type: 'integer' },
        gaps: { type: 'array', items: { type: 'object', properties: { obis: { type: 'string' }, from: { type: 'integer' }, to: { type: 'integer' }, missing: { type: 'integer' } } } },
      },
    },
    async run(ctx) {
      const id = pathParam(ctx, 'id');
      checkMeterVisible(ctx, id);
      const q = ctx.request.query;
      onlyParams(q, PARAMS);
      const now = ctx.now();
      const definition = ctx.services.registry.definitionOf(id, callerOf(ctx).scope);
      let interval = definition ? definition.interval_time * 1000 : 15 * 60_000;
      if (q.interval !== undefined && q.interval !== '') {
        interval = parseDuration(q.interval);
        if (!(interval >= 1000)) throw new ApiError(400, `interval: ${JSON.stringify(q.interval)} is not a duration of at least 1 s (use 15m, 1h, 1d or ms)`);
      }
      const to = time('to', q.to, now, now, ctx.timeZone);
      const from = time('from', q.from, to - 86_400_000, now, ctx.timeZone);
      if (from >= to) throw new ApiError(400, `from (${new Date(from).toISOString()}) must be before to (${new Date(to).toISOString()})`);
      const slots = Math.ceil((to - from) / interval);
      if (slots > MAX_GAP_SLOTS) throw new ApiError(400, `interval: ${JSON.stringify(q.interval ?? `${interval / 1000} s`)} cuts from..to into ${slots} slots, more than ${MAX_GAP_SLOTS} (use a longer interval or a shorter period)`);
      let obis: string | undefined;
      if (q.obis !== undefined && q.obis !== '') {
        try { obis = normaliseObis(String(q.obis)); } catch { throw new ApiError(400, `obis: ${JSON.stringify(q.obis)} is not an OBIS code (use A-B:C.D.E such as 1-0:1.8.0)`); }
      }
      const series = await ctx.store.latest({ meter: id, ...(obis ? { obis } : {}) });
      if (!definition && series.length === 0) throw new ApiError(404, `unknown meter "${id}"`);
      if (!obis && series.length > MAX_GAP_SERIES) throw new ApiError(400, `obis: the meter has ${series.length} OBIS codes, more than ${MAX_GAP_SERIES}; name one`);
      let gaps;
      try {
        gaps = await gapsForStore(ctx.store, { meter: id, obis, from, to, interval, timeZone: ctx.timeZone, maxSlots: MAX_GAP_SLOTS + 2 });
      } catch (err) {
        if (err instanceof RangeError) throw new ApiError(400, `interval: ${err.message}`);
        throw err;
      }
      return {
        meter: id, from, to, interval,
        missing: gaps.reduce((n, g) => n + g.missing, 0),
        gaps: gaps.map((g) => ({ obis: g.obis, from: g.from, to: g.to, missing: g.missing })),
      };
    },
  },
];
