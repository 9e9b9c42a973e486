/** The event log (section "Events", the dictionary's "Event log data"), limited to the caller's meters. */
import { DEFAULT_EVENT_LIMIT, EVENT_KINDS, MAX_EVENT_LIMIT } from '../event-log';
import { callerOf, checkMeterVisible } from './helpers';
import { fullPageCursor, parseTimeKey, timeKey } from './paging';
import { ApiReply } from './types';
import type { Operation } from './types';

export const EVENT_OPERATIONS: Operation[] = [
  {
    name: 'events.list', method: 'GET', path: '/api/events', access: 'viewer', tag: 'Events',
    summary: 'Events, newest first',
    description: 'Poll failures and recoveries, alarms, prepaid cut-offs, configuration changes, logins and license uploads. '
      + 'A user with open_folders sees only the events of their meters. Events of kind login, audit, security, system and license '
      + 'are shown to administrators only; a viewer or operator sees their own login events.',
    query: [
      { name: 'date1', description: 'From (inclusive): ISO date/time (2026-11-21, 2026-11-21T08:00:00Z) or epoch ms', schema: { type: 'string' } },
      { name: 'date2', description: 'To (inclusive); date1 after date2 is 400', schema: { type: 'string' } },
      { name: 'filter', description: `An event kind (${EVENT_KINDS.join(', ')}), a level (info, warning, error), or text found in the event, meter id or meter name` },
      { name: 'limit', description: `Most events to answer (default ${DEFAULT_EVENT_LIMIT}, at most ${MAX_EVENT_LIMIT})`, schema: { type: 'integer', minimum: 1, maximum: MAX_EVENT_LIMIT } },
      { name: 'meter', description: 'Only this meter\'s events (a meter outside the caller\'s folders is 404)' },
      { name: 'cursor', description: 'The next_cursor of the previous page (opaque): the events after its last one. next_cursor is set when a page is full (the next page may be empty), null otherwise', schema: { type: 'string' } },
    ],
    response: {
      type: 'array',
      items: {
        type: 'object',
        properties: {
          id: { type: 'integer' }, meter_id: { type: 'string', nullable: true }, date: { type: 'string', format: 'date-time' },
          meter_name: { type: 'string', nullable: true }, event: { type: 'string' }, value: { type: 'string', nullable: true },
          kind: { type: 'string', enum: [...EVENT_KINDS] }, level: { type: 'string', enum: ['info', 'warning', 'error'] }, source: { type: 'string', nullable: true },
        },
      },
    },
    run(ctx) {
      const { cursor, ...query } = ctx.request.query;
      if (typeof query.meter === 'string' && query.meter !== '') checkMeterVisible(ctx, query.meter);
      const { user, meters } = callerOf(ctx);
      const events = ctx.services.events.query(query, { meters, admin: user.role === 'admin', login: user.login }, parseTimeKey('events', cursor));
      const limit = query.limit === undefined || query.limit === '' ? DEFAULT_EVENT_LIMIT : Number(query.limit);
      return new ApiReply({ data: events, nextCursor: fullPageCursor('events', events, limit, (e) => timeKey({ time: Date.parse(e.date), id: e.id })) });
    },
  },
];
