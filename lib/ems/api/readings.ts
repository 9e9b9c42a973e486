/** Raw and windowed readings of one meter from the reading store (section "Readings"). */
import { ApiError } from '../envelope';
import { checkPeriod, limitsText, MAX_RAW_ROWS } from '../limits';
import { MAX_POSTED_READINGS, parsePostedReadings } from '../manual-readings';
import { meterReadings } from '../meters-api';
import { parseRangeQuery } from '../../store/query-params';
import { callerOf, checkMeterVisible, pathParam } from './helpers';
import { ApiReply, type Operation } from './types';

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
    description: `Raw readings answer at most ${MAX_RAW_ROWS} rows (the oldest first; limit cuts them). A virtual meter answers from its meters (flagged CALCULATED): fn=delta is the expression over their consumption per window, a window where one of them has none is absent; raw readings are the expression over their registers. ${limitsText('meters.readings', `raw readings at most ${MAX_RAW_ROWS} rows`)}`,
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
      const defined = ctx.services.registry.definitionOf(id, callerOf(ctx).scope) !== undefined;
      return meterReadings(ctx.store, id, ctx.request.query, ctx.now(), ctx.timeZone, defined);
    },
  },
  {
    name: 'meters.readings.post', method: 'POST', path: '/api/meters/:id/readings', access: 'operator', tag: 'Readings',
    summary: 'Enter readings of one meter by hand (manual meters, corrections of polled ones)',
    description: 'The body is one reading { time, obis, value, unit } or { readings: [...] } with at most '
      + `${MAX_POSTED_READINGS} readings (the JSON body at most 1 MiB). time: ISO 8601 with an offset (2026-03-01T08:00:00+01:00, ...Z) or epoch ms, `
      + 'not in the future; value: a finite number or a decimal string; obis: an OBIS code (1-0:1.8.0, 8-0:1.0.0, ...); unit: a known unit that measures '
      + 'that quantity (kWh or Wh for 1-0:1.8.0, m3 or l for water). All or nothing: the first bad reading is a 400 naming its index, field and value. '
      + 'Readings are stored in the canonical unit with the MANUAL quality flag; a reading of the same meter, OBIS code and time replaces the one '
      + 'stored (re-posting changes nothing; a correction overwrites a polled value and is flagged MANUAL). Any meter defined in the caller\'s folders '
      + 'takes readings: a meter of protocol manual is never polled and gets its readings only this way; a virtual meter takes none (409). Answers 201 with the number written.',
    body: {
      type: 'object',
      properties: {
        time: { oneOf: [{ type: 'string', format: 'date-time' }, { type: 'integer' }] }, obis: { type: 'string' }, value: { oneOf: [{ type: 'number' }, { type: 'string' }] }, unit: { type: 'string' },
        readings: { type: 'array', maxItems: MAX_POSTED_READINGS, items: { type: 'object' } },
      },
    },
    response: { type: 'object', properties: { meter: { type: 'string' }, written: { type: 'integer' } } },
    async run(ctx) {
      const id = pathParam(ctx, 'id');
      checkMeterVisible(ctx, id);
      if (ctx.services.registry.definitionOf(id, callerOf(ctx).scope) === undefined) throw new ApiError(404, `unknown meter "${id}" (readings are posted for a meter defined in the EMS)`);
      const readings = parsePostedReadings(id, ctx.request.body, ctx.now());
      await ctx.store.write(readings);
      return new ApiReply({ status: 201, data: { meter: id, written: readings.length } });
    },
  },
];
