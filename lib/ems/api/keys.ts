/** API keys for programs (section "API keys"): admin only. The plaintext key is answered once, at creation. */
import { sourceOf } from '../audit';
import { ROLES } from '../users';
import { bodyObject, callerOf, checkFoldersExist, onlyParams, pathParam } from './helpers';
import { DEFAULT_PAGE, listPage, nameKey, PAGE_KEYS, pageParams } from './paging';
import { ApiReply, type Operation } from './types';

const TAG = 'API keys';

const KEY_SCHEMA = {
  type: 'object',
  properties: {
    id: { type: 'string', description: '12 hex digits, also the middle part of the key' },
    name: { type: 'string' },
    role: { type: 'string', enum: [...ROLES] },
    open_folders: { type: 'array', items: { type: 'string' }, description: 'folder ids the key sees; empty = all' },
    expires_at: { type: 'integer', nullable: true, description: 'epoch ms; null = never' },
    created_by: { type: 'string', nullable: true },
    created_at: { type: 'integer' },
    last_used_at: { type: 'integer', nullable: true, description: 'epoch ms of the last use (updated at most once a minute)' },
    last_used_from: { type: 'string', nullable: true, description: 'the address of the last use' },
    revoked_at: { type: 'integer', nullable: true },
    revoked_by: { type: 'string', nullable: true },
    state: { type: 'string', enum: ['active', 'expired', 'revoked'] },
  },
};

export const KEYS_OPERATIONS: Operation[] = [
  {
    name: 'keys.list', method: 'GET', path: '/api/keys', access: 'admin', tag: TAG,
    summary: 'All API keys with their state and last use (never the key itself), by name, a page at a time',
    query: pageParams('/api/keys', DEFAULT_PAGE, 'keys'),
    response: { type: 'array', items: KEY_SCHEMA },
    run(ctx) {
      onlyParams(ctx.request.query, PAGE_KEYS);
      return listPage(ctx.request.query, 'keys', ctx.services.apiKeys.list(), (k) => nameKey(k.name, k.id));
    },
  },
  {
    name: 'keys.get', method: 'GET', path: '/api/keys/:id', access: 'admin', tag: TAG,
    summary: 'One API key',
    response: KEY_SCHEMA,
    run: (ctx) => ctx.services.apiKeys.get(pathParam(ctx, 'id')),
  },
  {
    name: 'keys.create', method: 'POST', path: '/api/keys', access: 'admin', tag: TAG,
    summary: 'Create an API key (answers 201 with the key, shown only this once)',
    description: 'The key (`emsk_<id>_<secret>`) is sent as `X-API-Key: <key>` or `Authorization: Bearer <key>`. '
      + 'It acts with its role and sees only its open_folders (empty = all), like a user. Only its hash is stored: a lost key cannot be shown again; '
      + 'revoke it and create another. A taken name is 409.',
    body: {
      type: 'object', required: ['name', 'role'],
      properties: {
        name: { type: 'string', description: '1-64 letters, digits or . _ - ; unique' },
        role: { type: 'string', enum: [...ROLES] },
        open_folders: { type: 'array', items: { type: 'string' }, description: 'folder ids; empty or absent = all folders' },
        expires_at: { type: 'string', description: 'optional: ISO date/time or epoch ms, in the future' },
      },
    },
    response: { ...KEY_SCHEMA, properties: { ...KEY_SCHEMA.properties, key: { type: 'string', description: 'the key; shown only in this answer' } } },
    run(ctx) {
      const body = bodyObject(ctx);
      checkFoldersExist(ctx, body.open_folders);
      const { key, apiKey } = ctx.services.apiKeys.create(body, callerOf(ctx).user.login);
      return new ApiReply({ data: { key, ...apiKey }, status: 201 });
    },
  },
  {
    name: 'keys.revoke', method: 'DELETE', path: '/api/keys/:id', access: 'admin', tag: TAG,
    summary: 'Revoke an API key (it stays listed, as revoked)',
    description: 'The key answers 401 from then on. Revoking a revoked key is 409.',
    response: KEY_SCHEMA,
    run(ctx) {
      const caller = callerOf(ctx);
      const key = ctx.services.apiKeys.revoke(pathParam(ctx, 'id'), caller.user.login);
      ctx.services.events.add({ kind: 'security', event: `API key "${key.name}" revoked`, value: key.id, source: sourceOf(caller.user.login, ctx.request.ip) });
      return key;
    },
  },
];
