/** Polling on demand and the polling state of each meter, served by the ems-poll-schedule node (section "Polling"). */
import { ApiError } from '../envelope';
import { callerOf, checkMeterVisible, onlyParams, pathParam } from './helpers';
import type { ApiContext, Operation, Poller } from './types';

/** What a poller may also tell per meter (ems-poll-schedule does); null = the meter is not scheduled. */
interface PollStatusSource {
  status?(meterId: string): {
    next_due: number | null; running: boolean; failures: number;
    last: { time: number; ok: boolean; error: string | null; durationMs: number } | null;
    waiting_since?: number | null; skipped?: number;
  } | null;
  /** The schedule's backlog (lib/ems/poll-scheduler.ts PollBacklog). */
  backlog?(): {
    meters: number; running: number; waiting: number; oldest_waiting_due: number | null; skipped: number; started: number;
    late_p50_ms: number | null; late_p99_ms: number | null; max_running: number; per_endpoint: number;
  };
}

function pollerOf(ctx: ApiContext): Poller & PollStatusSource {
  if (!ctx.poller) throw new ApiError(503, 'no poll schedule runs for this EMS (deploy an ems-poll-schedule node)');
  return ctx.poller;
}

const iso = (t: number | null | undefined): string | null => (t === null || t === undefined ? null : new Date(t).toISOString());

export const POLLING_OPERATIONS: Operation[] = [
  {
    name: 'meters.poll', method: 'POST', path: '/api/meters/:id/poll', access: 'operator', tag: 'Polling',
    summary: 'Poll one meter now',
    description: 'Starts a poll of the meter at once, outside its schedule; the readings arrive in the store as with a scheduled poll. '
      + '409 while the meter\'s previous poll still runs; 503 when no ems-poll-schedule node runs.',
    response: { type: 'object', properties: { meter: { type: 'string' }, started: { type: 'boolean' } } },
    run(ctx) {
      const id = pathParam(ctx, 'id');
      checkMeterVisible(ctx, id);
      const record = ctx.services.registry.meter(id, callerOf(ctx).scope);
      const answer = pollerOf(ctx).pollNow(record._id);
      if (!answer.started) {
        if (answer.reason === 'busy') throw new ApiError(409, `meter "${id}" is being polled; try again when that poll has ended`);
        throw new ApiError(503, `meter "${id}" is not polled by any poll schedule (${answer.reason ?? 'not scheduled'}; check the schedule node's protocols)`);
      }
      return { meter: record._id, started: true };
    },
  },
  {
    name: 'polling.status', method: 'GET', path: '/api/polling', access: 'viewer', tag: 'Polling',
    summary: 'Polling state of every visible meter',
    description: 'Per meter: the next due time, whether a poll runs, the last result and the failed polls in a row, '
      + 'waiting_since (the due time of a poll that waits for a free slot of its endpoint, null when none waits) and skipped '
      + '(turns skipped because the previous poll still ran or waited). Meters no schedule node polls have scheduled false. '
      + 'GET /api/polling/backlog sums up the whole schedule.',
    query: [{ name: 'meter', description: 'Only this meter id (default: every meter you can see)' }],
    response: {
      type: 'array',
      items: {
        type: 'object',
        properties: {
          meter: { type: 'string' }, name: { type: 'string' }, protocol: { type: 'string' }, interval_time: { type: 'integer' },
          scheduled: { type: 'boolean' }, running: { type: 'boolean' }, next_due: { type: 'string', format: 'date-time', nullable: true },
          failures: { type: 'integer' }, waiting_since: { type: 'string', format: 'date-time', nullable: true }, skipped: { type: 'integer' },
          last: {
            type: 'object', nullable: true,
            properties: { time: { type: 'string', format: 'date-time' }, ok: { type: 'boolean' }, error: { type: 'string', nullable: true }, duration_ms: { type: 'integer' } },
          },
        },
      },
    },
    run(ctx) {
      onlyParams(ctx.request.query, ['meter']);
      const poller = pollerOf(ctx);
      const only = ctx.request.query.meter;
      if (only !== undefined && (typeof only !== 'string' || only === '')) throw new ApiError(400, `meter ${JSON.stringify(only)} must be a meter id`);
      if (typeof only === 'string') checkMeterVisible(ctx, only);
      const meters = typeof only === 'string' ? [ctx.services.registry.meter(only, callerOf(ctx).scope)] : ctx.services.registry.meters(callerOf(ctx).scope);
      return meters.map((m) => {
        const s = poller.status?.(m._id) ?? null;
        return {
          meter: m._id, name: m.definition.name, protocol: m.definition.protocol, interval_time: m.definition.interval_time,
          scheduled: s !== null, running: s?.running ?? false, next_due: iso(s?.next_due), failures: s?.failures ?? 0,
          waiting_since: iso(s?.waiting_since), skipped: s?.skipped ?? 0,
          last: s?.last ? { time: iso(s.last.time), ok: s.last.ok, error: s.last.error, duration_ms: s.last.durationMs } : null,
        };
      });
    },
  },
  {
    name: 'polling.backlog', method: 'GET', path: '/api/polling/backlog', access: 'viewer', tag: 'Polling',
    summary: 'Backlog of the poll schedule',
    description: 'Over every scheduled meter: polls running, polls due but not started (waiting for a free slot: at most '
      + 'EMS_POLL_PER_ENDPOINT at once per Modbus TCP or HTTP endpoint, one per serial bus or single-connection converter, '
      + 'EMS_POLL_MAX_RUNNING in all), the due time and age of the poll waiting longest, turns skipped because a meter\'s previous '
      + 'poll still ran or waited, polls started, and how late the latest 1,024 polls started after their due time (p50, p99). '
      + 'It counts every meter, so only a caller who sees every folder may read it (403 otherwise).',
    response: {
      type: 'object',
      properties: {
        meters: { type: 'integer' }, running: { type: 'integer' }, waiting: { type: 'integer' },
        oldest_waiting_due: { type: 'string', format: 'date-time', nullable: true }, oldest_waiting_age_ms: { type: 'integer', nullable: true },
        skipped: { type: 'integer' }, started: { type: 'integer' },
        late_p50_ms: { type: 'number', nullable: true }, late_p99_ms: { type: 'number', nullable: true },
        max_running: { type: 'integer' }, per_endpoint: { type: 'integer' },
      },
    },
    run(ctx) {
      onlyParams(ctx.request.query, []);
      if (callerOf(ctx).meters) throw new ApiError(403, 'the backlog counts every meter; only a user who sees every folder may read it');
      const poller = pollerOf(ctx);
      if (!poller.backlog) throw new ApiError(503, 'the poll schedule tells no backlog');
      const b = poller.backlog();
      return { ...b, oldest_waiting_due: iso(b.oldest_waiting_due), oldest_waiting_age_ms: b.oldest_waiting_due === null ? null : Math.max(0, ctx.now() - b.oldest_waiting_due) };
    },
  },
];
