/**
 * Notifications (section "Notifications"): each user's subscription (which folders, severities and
 * channels, quiet hours, digest), the dashboard inbox, and for admins everyone's subscriptions and the
 * feeds' status. Secrets and channel settings are never answered.
 */
import { INBOX_KEEP, MAX_SUBSCRIPTION_FOLDERS, PERSONAL_CHANNELS } from '../notify/service';
import { DEFAULT_DIGEST_AFTER } from '../notify/subscriptions';
import { SEVERITIES } from '../alarms/types';
import { ApiError } from '../envelope';
import { bodyObject, callerOf, onlyParams, pathParam } from './helpers';
import { DEFAULT_PAGE, listPage, PAGE_KEYS, pageParams } from './paging';
import type { ApiContext, Operation } from './types';

const TAG = 'Notifications';

const SUBSCRIPTION_PROPERTIES = {
  channels: { type: 'array', items: { type: 'string', enum: [...PERSONAL_CHANNELS] }, description: 'default ["dashboard"]; email needs an email address. MQTT and webhook are system feeds (every alarm), set on the ems-system node' },
  email: { type: 'string', nullable: true, description: 'where email notifications go' },
  folders: { type: 'array', items: { type: 'string' }, description: `folder ids (each with its subtree), at most ${MAX_SUBSCRIPTION_FOLDERS}; empty = all of the user's folders` },
  severities: { type: 'array', items: { type: 'string', enum: [...SEVERITIES] }, description: 'empty or absent = every severity' },
  quiet_hours: {
    type: 'object', nullable: true, description: 'local times in the EMS time zone; non-critical notifications in this period are held until it ends (then one digest)',
    properties: { from: { type: 'string', example: '22:00' }, to: { type: 'string', example: '06:30' }, days: { type: 'array', items: { type: 'string', enum: ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'] } } },
  },
  digest_after: { type: 'integer', nullable: true, description: `more notifications than this within 15 minutes become one digest (default ${DEFAULT_DIGEST_AFTER})` },
};

const SUBSCRIPTION_SCHEMA = { type: 'object', properties: { user_id: { type: 'string' }, ...SUBSCRIPTION_PROPERTIES, updated_at: { type: 'integer' } } };

const SUBSCRIPTION_DESCRIPTION = 'Notifications reach a user only about meters in their open folders, and only for rules that notify "subscribers" or name the user. '
  + 'A bad field is 400 naming the field and its value.';

function intParam(ctx: ApiContext, name: string, def: number, max: number): number {
  const v = ctx.request.query[name];
  if (v === undefined || v === '') return def;
  if (typeof v !== 'string' || !/^\d{1,15}$/.test(v) || Number(v) > max) throw new ApiError(400, `${name} ${JSON.stringify(v)} must be a whole number from 0 to ${max}`);
  return Number(v);
}

export const NOTIFICATION_OPERATIONS: Operation[] = [
  {
    name: 'notifications.subscription.get', method: 'GET', path: '/api/notifications/subscription', access: 'viewer', tag: TAG,
    summary: 'The caller\'s notification subscription (null without one)', response: { ...SUBSCRIPTION_SCHEMA, nullable: true },
    run(ctx) {
      onlyParams(ctx.request.query, []);
      return ctx.services.notifications.getSubscription(callerOf(ctx).user.id);
    },
  },
  {
    name: 'notifications.subscription.set', method: 'PUT', path: '/api/notifications/subscription', access: 'viewer', tag: TAG,
    summary: 'Set the caller\'s notification subscription (replaces it)', description: SUBSCRIPTION_DESCRIPTION,
    body: { type: 'object', properties: SUBSCRIPTION_PROPERTIES }, response: SUBSCRIPTION_SCHEMA,
    run(ctx) {
      const c = callerOf(ctx);
      return ctx.services.notifications.setSubscription(c.user.id, bodyObject(ctx), c.user.login);
    },
  },
  {
    name: 'notifications.subscription.delete', method: 'DELETE', path: '/api/notifications/subscription', access: 'viewer', tag: TAG,
    summary: 'Stop the caller\'s notifications', response: { type: 'object', properties: { deleted: { type: 'boolean' } } },
    run(ctx) {
      const c = callerOf(ctx);
      return { deleted: ctx.services.notifications.deleteSubscription(c.user.id, c.user.login) };
    },
  },
  {
    name: 'notifications.inbox', method: 'GET', path: '/api/notifications/inbox', access: 'viewer', tag: TAG,
    summary: 'The caller\'s dashboard notifications, newest first',
    description: `What the dashboard channel delivered to the caller (single notifications and digests); the newest ${INBOX_KEEP} are kept. Poll with after=<the newest id seen>.`,
    query: [
      { name: 'after', description: 'Only entries with a larger id', schema: { type: 'integer' } },
      { name: 'limit', description: 'Most entries (default 50, at most 200)', schema: { type: 'integer', minimum: 1, maximum: 200 } },
    ],
    response: { type: 'array', items: { type: 'object', properties: { id: { type: 'integer' }, time: { type: 'integer' }, digest: { type: 'boolean' }, notifications: { type: 'array', items: { type: 'object' } } } } },
    run(ctx) {
      onlyParams(ctx.request.query, ['after', 'limit']);
      const limit = Math.max(1, intParam(ctx, 'limit', 50, 200));
      return ctx.services.notifications.inbox(callerOf(ctx).user.id, intParam(ctx, 'after', 0, Number.MAX_SAFE_INTEGER), limit);
    },
  },
  {
    name: 'notifications.subscriptions.list', method: 'GET', path: '/api/notifications/subscriptions', access: 'admin', tag: TAG,
    summary: 'Every user\'s notification subscription, by user id, a page at a time', query: pageParams('/api/notifications/subscriptions', DEFAULT_PAGE, 'subscriptions'),
    response: { type: 'array', items: SUBSCRIPTION_SCHEMA },
    run(ctx) {
      onlyParams(ctx.request.query, PAGE_KEYS);
      return listPage(ctx.request.query, 'subscriptions', ctx.services.notifications.listSubscriptions(), (s) => s.user_id);
    },
  },
  {
    name: 'notifications.subscriptions.set', method: 'PUT', path: '/api/notifications/subscriptions/:user_id', access: 'admin', tag: TAG,
    summary: 'Set a user\'s notification subscription', description: SUBSCRIPTION_DESCRIPTION,
    body: { type: 'object', properties: SUBSCRIPTION_PROPERTIES }, response: SUBSCRIPTION_SCHEMA,
    run: (ctx) => ctx.services.notifications.setSubscription(pathParam(ctx, 'user_id'), bodyObject(ctx), callerOf(ctx).user.login),
  },
  {
    name: 'notifications.subscriptions.delete', method: 'DELETE', path: '/api/notifications/subscriptions/:user_id', access: 'admin', tag: TAG,
    summary: 'Remove a user\'s notification subscription', response: { type: 'object', properties: { deleted: { type: 'boolean' } } },
    run: (ctx) => ({ deleted: ctx.services.notifications.deleteSubscription(pathParam(ctx, 'user_id'), callerOf(ctx).user.login) }),
  },
  {
    name: 'notifications.status', method: 'GET', path: '/api/notifications/status', access: 'admin', tag: TAG,
    summary: 'Which notification channels are configured and what is waiting',
    description: 'Channel settings and secrets are never shown; failed deliveries are events of kind system in the event log.',
    response: {
      type: 'object',
      properties: {
        channels: { type: 'object', properties: { email: { type: 'boolean' }, mqtt: { type: 'boolean' }, webhook: { type: 'boolean' }, dashboard: { type: 'boolean' } } },
        subscriptions: { type: 'integer' }, pending: { type: 'integer' }, held: { type: 'integer' }, inFlight: { type: 'integer' }, retrying: { type: 'integer' },
      },
    },
    run(ctx) {
      onlyParams(ctx.request.query, []);
      return ctx.services.notifications.status();
    },
  },
];
