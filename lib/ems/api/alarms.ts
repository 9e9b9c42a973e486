/**
 * Alarm rules and alarms (sections "Alarm rules" and "Alarms"). Rules: operators and admins write within
 * their folders (like meters: checkRuleScope), viewers read; everyone sees only the rules whose subject lies in
 * their folders. Alarms: scoped by the caller's open folders; operators and admins acknowledge (a viewer is
 * refused 403).
 */
import { CONDITION_TYPES, DEFAULT_HOLD_OFF_S, MAX_NOTIFY, SANITY_KINDS, WINDOWS } from '../alarms/rules';
import { DEFAULT_ALARM_LIMIT, MAX_ALARM_LIMIT } from '../alarms/query';
import { MAX_ACK_NOTE, MAX_RULES } from '../alarms/service';
import { ALARM_STATES, SEVERITIES } from '../alarms/types';
import { ApiError } from '../envelope';
import { bodyObject, callerOf, onlyParams, pathParam } from './helpers';
import { DEFAULT_PAGE, decodeCursor, fullPageCursor, listPage, nameKey, PAGE_KEYS, pageParams } from './paging';
import { ApiReply, type ApiContext, type Operation } from './types';

const RULE_PROPERTIES = {
  name: { type: 'string', description: '1-100 characters' },
  subject: {
    type: 'object', nullable: true,
    description: '{ "meter": id } or { "folder": id, "scope": "folder" | "subtree" (default) }; null only for license_expiring and spool_filling',
    properties: { meter: { type: 'string' }, folder: { type: 'string' }, scope: { type: 'string', enum: ['folder', 'subtree'] } },
  },
  condition: {
    type: 'object', required: ['type'],
    description: 'A tagged union by type. threshold { obis, direction: above|below, value, unit } (readings converted to unit); '
      + 'stale { intervals: k } (no reading for k x the meter\'s interval_time); poll_failures { count: N in a row }; '
      + `window_consumption { obis (default 1-0:1.8.0), window: ${Object.keys(WINDOWS).join('|')}, above?, below?, unit (default kWh) }; `
      + 'anomaly { obis, window: 1h, weeks: N (1-12), factor, min?, unit? } (the last hour above factor x the median of the same weekday-hour over N weeks); '
      + `register_sanity { obis, kinds: [${SANITY_KINDS.join(', ')}] }; prepaid_balance_below { amount }; license_expiring { days }; spool_filling { percent (default 80) } (the reading store's disk spool, InfluxDB outages).`,
    properties: { type: { type: 'string', enum: [...CONDITION_TYPES] } },
  },
  severity: { type: 'string', enum: [...SEVERITIES], description: 'default warning' },
  delay_s: { type: 'integer', description: 'the condition must hold this long before the alarm is raised (default 0)' },
  hysteresis: { type: 'number', description: 'threshold only: clears once the value is this far back from the limit (default 0)' },
  clear_after_s: { type: 'integer', description: 'the condition must be false this long before the alarm clears (default 0)' },
  hold_off_s: { type: 'integer', description: `a cleared alarm that comes back within this time reopens as the same alarm (default ${DEFAULT_HOLD_OFF_S})` },
  active: {
    type: 'object', nullable: true, description: 'local active hours in the EMS time zone; null = always. Outside them no alarm is raised (open ones still clear)',
    properties: { days: { type: 'array', items: { type: 'integer', minimum: 1, maximum: 7 }, description: 'ISO weekdays, 1 = Monday' }, from: { type: 'string', example: '22:00' }, to: { type: 'string', example: '06:00' } },
  },
  enabled: { type: 'boolean', description: 'default true; disabling clears its open alarms' },
  notify: { description: '"subscribers" (default) or a list of user ids', oneOf: [{ type: 'string', enum: ['subscribers'] }, { type: 'array', items: { type: 'string' } }] },
};

const RULE_SCHEMA = {
  type: 'object',
  properties: { id: { type: 'string' }, ...RULE_PROPERTIES, created_by: { type: 'string', nullable: true }, created_at: { type: 'integer' }, updated_at: { type: 'integer' } },
};

const ALARM_SCHEMA = {
  type: 'object',
  properties: {
    id: { type: 'integer' }, rule_id: { type: 'string' }, rule_name: { type: 'string' },
    meter_id: { type: 'string', nullable: true, description: 'null for an alarm about the EMS itself' }, meter_name: { type: 'string', nullable: true }, folder_id: { type: 'string', nullable: true },
    state: { type: 'string', enum: [...ALARM_STATES] }, severity: { type: 'string', enum: [...SEVERITIES] },
    raised_at: { type: 'integer' }, acked_at: { type: 'integer', nullable: true }, acked_by: { type: 'string', nullable: true }, ack_note: { type: 'string', nullable: true },
    cleared_at: { type: 'integer', nullable: true }, value: { type: 'number', nullable: true, description: 'the value that raised the alarm (or reopened it)' },
    cleared_value: { type: 'number', nullable: true, description: 'the value that cleared it; null while open or when the rule changed' }, limit: { type: 'number', nullable: true }, unit: { type: 'string' },
    message: { type: 'string' }, raise_count: { type: 'integer', description: '1 + reopenings within the hold-off' }, last_change: { type: 'integer' },
  },
};

function reader(ctx: ApiContext) {
  const c = callerOf(ctx);
  return { scope: c.scope, meters: c.meters };
}

const OUTSIDE = 'only rules whose subject lies in your open folders can be managed';

/**
 * Operators (and admins) with open_folders manage only rules within them: a subject (a meter in them, a folder in
 * them, whose subtree then lies in them too) outside them is 403 naming it; so is changing a rule whose current
 * subject lies outside them, or one about the EMS itself (needs every folder open, like its notifications).
 * An unknown meter or folder is left to the service (400 naming it).
 */
function checkRuleScope(ctx: ApiContext, subject: unknown, ruleId?: string): void {
  const c = callerOf(ctx);
  if (c.scope === undefined) return;
  if (ruleId !== undefined) {
    let rule;
    try { rule = ctx.services.alarms.getRule(ruleId); } catch { return; }
    const s = rule.subject;
    if (!s) throw new ApiError(403, `alarm rule "${ruleId}" is about the EMS itself: only users with every folder open may change it`);
    if ('meter' in s ? !c.meters?.has(s.meter) : !c.scope.has(s.folder)) {
      throw new ApiError(403, `alarm rule "${ruleId}" watches ${'meter' in s ? 'a meter' : 'a folder'} outside your folders: ${OUTSIDE}`);
    }
  }
  if (!subject || typeof subject !== 'object') return;
  const { meter, folder } = subject as Record<string, unknown>;
  if (typeof meter === 'string') {
    let known = true;
    try { ctx.services.registry.meter(meter); } catch { known = false; }
    if (known && !c.meters?.has(meter)) throw new ApiError(403, `subject.meter ${JSON.stringify(meter)} lies outside your folders: ${OUTSIDE}`);
  } else if (typeof folder === 'string') {
    let known = true;
    try { ctx.services.registry.folder(folder); } catch { known = false; }
    if (known && !c.scope.has(folder)) throw new ApiError(403, `subject.folder ${JSON.stringify(folder)} lies outside your folders: ${OUTSIDE}`);
  }
}

/** 400 naming the first user id of a rule's notify list that is no user. */
function checkNotifyUsers(ctx: ApiContext, notify: unknown): void {
  if (!Array.isArray(notify) || notify.length > MAX_NOTIFY) return;
  for (const id of notify) {
    if (typeof id !== 'string') continue;
    try { ctx.services.users.get(id); } catch { throw new ApiError(400, `notify: user ${JSON.stringify(id)} does not exist`); }
  }
}

function alarmId(ctx: ApiContext): number {
  const v = pathParam(ctx, 'id');
  if (!/^\d{1,15}$/.test(v)) throw new ApiError(404, `unknown alarm ${JSON.stringify(v)}`);
  return Number(v);
}

export const ALARM_OPERATIONS: Operation[] = [
  {
    name: 'alarmrules.list', method: 'GET', path: '/api/alarm-rules', access: 'viewer', tag: 'Alarm rules',
    summary: 'The alarm rules whose subject lies in the caller\'s folders',
    description: `At most ${MAX_RULES} rules exist. Rules about the EMS itself (license_expiring, spool_filling) are shown to users with every folder open.`,
    query: pageParams('/api/alarm-rules', DEFAULT_PAGE, 'rules'),
    response: { type: 'array', items: RULE_SCHEMA },
    run(ctx) {
      onlyParams(ctx.request.query, PAGE_KEYS);
      return listPage(ctx.request.query, 'alarm-rules', ctx.services.alarms.listRules(reader(ctx)), (r) => nameKey(r.name, r.id));
    },
  },
  {
    name: 'alarmrules.get', method: 'GET', path: '/api/alarm-rules/:id', access: 'viewer', tag: 'Alarm rules',
    summary: 'One alarm rule', response: RULE_SCHEMA,
    run: (ctx) => ctx.services.alarms.getRule(pathParam(ctx, 'id'), reader(ctx)),
  },
  {
    name: 'alarmrules.create', method: 'POST', path: '/api/alarm-rules', access: 'operator', tag: 'Alarm rules',
    summary: 'Create an alarm rule (201)',
    description: 'Operators and admins, within their folders: a subject (a meter, a folder) outside the caller\'s open folders is 403 naming it; '
      + 'rules about the EMS itself (license_expiring, spool_filling) need every folder open. A bad field is 400 naming the field and its value; '
      + 'notify names existing users. The call is in the audit trail.',
    body: { type: 'object', required: ['name', 'condition'], properties: RULE_PROPERTIES },
    response: RULE_SCHEMA,
    run(ctx) {
      const body = bodyObject(ctx);
      checkRuleScope(ctx, body.subject);
      checkNotifyUsers(ctx, body.notify);
      const rule = ctx.services.alarms.createRule(bodyObject(ctx), callerOf(ctx).user.login, reader(ctx));
      return new ApiReply({ data: rule, status: 201 });
    },
  },
  {
    name: 'alarmrules.update', method: 'PUT', path: '/api/alarm-rules/:id', access: 'operator', tag: 'Alarm rules',
    summary: 'Change an alarm rule (absent fields keep their value)',
    description: 'Operators and admins, within their folders: the rule\'s current subject and a new one must lie in the caller\'s open folders (else 403 naming them). '
      + 'A changed subject or condition, or enabled: false, clears the rule\'s open alarms. The call is in the audit trail.',
    body: { type: 'object', properties: RULE_PROPERTIES },
    response: RULE_SCHEMA,
    run: (ctx) => {
      const body = bodyObject(ctx);
      checkRuleScope(ctx, body.subject, pathParam(ctx, 'id'));
      checkNotifyUsers(ctx, body.notify);
      return ctx.services.alarms.updateRule(pathParam(ctx, 'id'), body, callerOf(ctx).user.login, reader(ctx));
    },
  },
  {
    name: 'alarmrules.delete', method: 'DELETE', path: '/api/alarm-rules/:id', access: 'operator', tag: 'Alarm rules',
    summary: 'Delete an alarm rule (its open alarms clear; their history stays)',
    description: 'Operators and admins, within their folders: a rule whose subject lies outside the caller\'s open folders is 403. The call is in the audit trail.',
    response: { type: 'object', properties: { deleted: { type: 'string' } } },
    run(ctx) {
      const id = pathParam(ctx, 'id');
      checkRuleScope(ctx, undefined, id);
      ctx.services.alarms.deleteRule(id, callerOf(ctx).user.login, reader(ctx));
      return { deleted: id };
    },
  },
  {
    name: 'alarms.list', method: 'GET', path: '/api/alarms', access: 'viewer', tag: 'Alarms',
    summary: 'Alarms of the caller\'s meters, newest first',
    description: 'Raised, acknowledged and cleared alarms. A user with open_folders sees only the alarms of their meters '
      + '(alarms about the EMS itself only with every folder open). Page with before=<the last id of the previous page>.',
    query: [
      { name: 'state', description: `${ALARM_STATES.join(', ')}, or active (raised or acknowledged)`, schema: { type: 'string', enum: [...ALARM_STATES, 'active'] } },
      { name: 'severity', description: SEVERITIES.join(', '), schema: { type: 'string', enum: [...SEVERITIES] } },
      { name: 'folder', description: 'Only the alarms of meters in this folder and below (a folder outside the caller\'s is 404)' },
      { name: 'meter', description: 'Only this meter\'s alarms (a meter outside the caller\'s folders is 404)' },
      { name: 'rule', description: 'Only this rule\'s alarms' },
      { name: 'limit', description: `Most alarms to answer (default ${DEFAULT_ALARM_LIMIT}, at most ${MAX_ALARM_LIMIT})`, schema: { type: 'integer', minimum: 1, maximum: MAX_ALARM_LIMIT } },
      { name: 'before', description: 'Only alarms with a smaller id (paging)', schema: { type: 'integer' } },
      { name: 'cursor', description: 'The next_cursor of the previous page (opaque; the same as before=<its last id>). next_cursor is set when a page is full (the next page may be empty), null otherwise', schema: { type: 'string' } },
    ],
    response: { type: 'array', items: ALARM_SCHEMA },
    run(ctx) {
      const { cursor, ...query } = ctx.request.query;
      if (cursor !== undefined && cursor !== '') {
        if (query.before !== undefined && query.before !== '') throw new ApiError(400, `send cursor or before, not both (before ${JSON.stringify(query.before)})`);
        query.before = String(decodeCursor('alarms', cursor, 'number'));
      }
      const alarms = ctx.services.alarms.list(query, reader(ctx));
      const limit = query.limit === undefined || query.limit === '' ? DEFAULT_ALARM_LIMIT : Number(query.limit);
      return new ApiReply({ data: alarms, nextCursor: fullPageCursor('alarms', alarms, limit, (a) => a.id) });
    },
  },
  {
    name: 'alarms.summary', method: 'GET', path: '/api/alarms/summary', access: 'viewer', tag: 'Alarms',
    summary: 'How many alarms of the caller\'s meters are active and unacknowledged, per severity',
    description: 'For a badge polled by every dashboard page: counts only, no alarm is read. Scoped like GET /api/alarms. '
      + '`active` counts raised and acknowledged alarms, `unacknowledged` the raised ones.',
    response: {
      type: 'object',
      properties: {
        active: { type: 'integer' }, unacknowledged: { type: 'integer' },
        by_severity: {
          type: 'object', description: `per severity (${SEVERITIES.join(', ')}), each { active, unacknowledged }`,
          properties: Object.fromEntries(SEVERITIES.map((s) => [s, { type: 'object', properties: { active: { type: 'integer' }, unacknowledged: { type: 'integer' } } }])),
        },
      },
    },
    run(ctx) {
      onlyParams(ctx.request.query, []);
      return ctx.services.alarms.summary(reader(ctx));
    },
  },
  {
    name: 'alarms.get', method: 'GET', path: '/api/alarms/:id', access: 'viewer', tag: 'Alarms',
    summary: 'One alarm', response: ALARM_SCHEMA,
    run: (ctx) => ctx.services.alarms.get(alarmId(ctx), reader(ctx)),
  },
  {
    name: 'alarms.ack', method: 'POST', path: '/api/alarms/:id/ack', access: 'operator', tag: 'Alarms',
    summary: 'Acknowledge a raised alarm, with a note',
    description: `Operators and admins; a viewer is refused (403). Only a raised alarm can be acknowledged (else 409). The note is at most ${MAX_ACK_NOTE} characters. `
      + 'The acknowledgement is an alarm event in the event log; the call is in the audit trail.',
    body: { type: 'object', properties: { note: { type: 'string' } } },
    response: ALARM_SCHEMA,
    run(ctx) {
      const body = ctx.request.body === undefined || ctx.request.body === null || ctx.request.body === '' ? {} : bodyObject(ctx);
      for (const k of Object.keys(body)) if (k !== 'note') throw new ApiError(400, `unknown field "${k}" (use note)`);
      return ctx.services.alarms.ack(alarmId(ctx), body.note, callerOf(ctx).user.login, reader(ctx));
    },
  },
];
