/** Raw poll-server responses of one meter (the dictionary's "Meter data polling" storage). */
import { DEFAULT_RESPONSE_LIMIT, MAX_RESPONSE_LIMIT, RawResponses } from '../raw-responses';
import { checkMeterVisible, pathParam } from './helpers';
import { encodeCursor, parseTimeKey, timeKey } from './paging';
import { ApiReply } from './types';
import type { Operation } from './types';

export const RAW_RESPONSE_OPERATIONS: Operation[] = [
  {
    name: 'meters.responses', method: 'GET', path: '/api/meters/:id/responses', access: 'viewer', tag: 'Poll server',
    summary: 'Raw HEX responses of a meter polled by the HEX poll server, newest first',
    query: [
      { name: 'date1', description: 'From (inclusive): ISO date/time or epoch ms', schema: { type: 'string' } },
      { name: 'date2', description: 'To (inclusive); date1 after date2 is 400', schema: { type: 'string' } },
      { name: 'limit', description: `Most responses to answer (default ${DEFAULT_RESPONSE_LIMIT}, at most ${MAX_RESPONSE_LIMIT})`, schema: { type: 'integer', minimum: 1, maximum: MAX_RESPONSE_LIMIT } },
      { name: 'cursor', description: 'The next_cursor of the previous page (opaque): older responses. next_cursor is set when a page is full (the next page may be empty), null otherwise', schema: { type: 'string' } },
    ],
    response: { type: 'array', items: { type: 'object', properties: { meter_id: { type: 'string' }, date: { type: 'string', format: 'date-time' }, data: { type: 'string' } } } },
    run(ctx) {
      const id = pathParam(ctx, 'id');
      checkMeterVisible(ctx, id);
      const { cursor, ...query } = ctx.request.query;
      const page = new RawResponses(ctx.services.db).page(id, query, parseTimeKey('responses', cursor));
      return new ApiReply({ data: page.items, nextCursor: page.items.length >= page.limit && page.last ? encodeCursor('responses', timeKey(page.last)) : null });
    },
  },
];
