/** Raw and windowed readings of one meter from the reading store (section "Readings"). */
import { meterReadings } from '../meters-api';
import { callerOf, checkMeterVisible, pathParam } from './helpers';
import type { Operation } from './types';

export const READINGS_OPERATIONS: Operation[] = [
  {
    name: 'meters.readings', method: 'GET', path: '/api/meters/:id/readings', access: 'viewer', tag: 'Readings',
    summary: 'Readings of one meter, raw or aggregated per window',
    query: [
      { name: 'obis', description: 'OBIS code, e.g. 1-0:1.8.0 (default: all)' },
      { name: 'from', description: 'Start: ISO date or epoch ms (default: 24 h ago)' },
      { name: 'to', description: 'End, exclusive (default: now)' },
      { name: 'window', description: 'Aggregate per window: 15m, 1h, 1d, 1mo (calendar-aligned in the EMS time zone)' },
      { name: 'fn', description: 'Window function: last, first, mean, min, max, sum, delta' },
      { name: 'limit', description: 'Most rows to answer', schema: { type: 'integer', minimum: 1 } },
    ],
    response: { type: 'object', properties: { meter: { type: 'string' }, from: { type: 'integer' }, to: { type: 'integer' }, window: { type: 'object', nullable: true }, readings: { type: 'array', items: { type: 'object' } } } },
    run(ctx) {
      const id = pathParam(ctx, 'id');
      checkMeterVisible(ctx, id);
      const defined = ctx.services.registry.meters(callerOf(ctx).scope).some((m) => m._id === id);
      return meterReadings(ctx.store, id, ctx.request.query, ctx.now(), ctx.timeZone, defined);
    },
  },
];
