/** Raw and windowed readings of one meter from the reading store (section "Readings"). */
import { ApiError } from '../envelope';
import { checkPeriod, limitsText, MAX_RAW_ROWS } from '../limits';
import { meterReadings } from '../meters-api';
import { parseRangeQuery } from '../../store/query-params';
import { callerOf, checkMeterVisible, pathParam } from './helpers';
import type { Operation } from './types';

/**
 * The bounds of the query (see ../limits): a raw query answers at most MAX_RAW_ROWS rows, a windowed
 * one covers at most PERIOD_LIMITS['meters.readings'].window days; dates in the allowed years. Bad
 * parameters are left to meterReadings, which names them.
 */
function checkBounds(id: string, query: Record<string, unknown>, now: number): void {
  let q;
  try {
    q = parseRangeQuery({ ...query, meter: id }, now, { maxLimit: Number.MAX_SAFE_INTEGER });
  } catch {
    return;
  }
  const p = { from: { name: 'from', value: query.from, time: q.from }, to: { name: 'to', value: query.to, time: q.to } };
  checkPeriod('meters.readings', q.window ? 'window' : 'raw', p);
  if (!q.window && q.limit !== undefined && q.limit > MAX_RAW_ROWS) throw new ApiError(400, `limit ${JSON.stringify(query.limit)} is more than ${MAX_RAW_ROWS} rows (the most raw readings one request answers)`);
}

export const READINGS_OPERATIONS: Operation[] = [
  {
    name: 'meters.readings', method: 'GET', path: '/api/meters/:id/readings', access: 'viewer', tag: 'Readings',
    summary: 'Readings of one meter, raw or aggregated per window',
    description: `Raw readings answer at most ${MAX_RAW_ROWS} rows (the oldest first; limit cuts them). ${limitsText('meters.readings', `raw readings at most ${MAX_RAW_ROWS} rows`)}`,
    query: [
      { name: 'obis', description: 'OBIS code, e.g. 1-0:1.8.0 (default: all)' },
      { name: 'from', description: 'Start: ISO date or epoch ms (default: 24 h ago)' },
      { name: 'to', description: 'End, exclusive (default: now)' },
      { name: 'window', description: 'Aggregate per window: 15m, 1h, 1d, 1mo (calendar-aligned in the EMS time zone)' },
      { name: 'fn', description: 'Window function: last, first, mean, min, max, sum, delta (a counter\'s consumption per window: its value at the window\'s end minus at its start, interpolated between the readings around an edge and then flagged INTERPOLATED)' },
      { name: 'limit', description: `Most rows to answer (raw: at most ${MAX_RAW_ROWS})`, schema: { type: 'integer', minimum: 1, maximum: MAX_RAW_ROWS } },
    ],
    response: { type: 'object', properties: { meter: { type: 'string' }, from: { type: 'integer' }, to: { type: 'integer' }, window: { type: 'object', nullable: true }, readings: { type: 'array', items: { type: 'object' } } } },
    run(ctx) {
      const id = pathParam(ctx, 'id');
      checkMeterVisible(ctx, id);
      checkBounds(id, ctx.request.query, ctx.now());
      const defined = ctx.services.registry.meters(callerOf(ctx).scope).some((m) => m._id === id);
      return meterReadings(ctx.store, id, ctx.request.query, ctx.now(), ctx.timeZone, defined);
    },
  },
];
