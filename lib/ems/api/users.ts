/** The EMS's users (section "Users", the dictionary's "Settings: users"): admin only. */
import { ApiError } from '../envelope';
import { MIN_PASSWORD_LENGTH } from '../passwords';
import { ROLES, type User, type UserInput } from '../users';
import { bodyObject, callerOf, checkFoldersExist, onlyParams, pathParam } from './helpers';
import { DEFAULT_PAGE, listPage, PAGE_KEYS, pageParams } from './paging';
import { ApiReply, type ApiContext, type Operation } from './types';

const TAG = 'Users';

const USER_SCHEMA = {
  type: 'object',
  properties: {
    id: { type: 'string' }, login: { type: 'string' }, name: { type: 'string' }, role: { type: 'string', enum: [...ROLES] },
    active: { type: 'boolean' }, last_active: { type: 'integer', nullable: true, description: 'epoch ms of the last request; read-only' },
    open_page: { type: 'string', nullable: true }, open_folders: { type: 'array', items: { type: 'string' } },
    open_factory: { type: 'string', nullable: true }, created_at: { type: 'integer' }, updated_at: { type: 'integer' },
  },
};

const INPUT_PROPERTIES = {
  login: { type: 'string', description: '1-64 letters, digits or . _ @ -' },
  name: { type: 'string' },
  password: { type: 'string', format: 'password', description: `at least ${MIN_PASSWORD_LENGTH} characters, not the login nor containing it, not a common password (400 naming the rule); never returned. Setting it clears password_change_required` },
  role: { type: 'string', enum: [...ROLES] },
  active: { type: 'boolean', description: 'default true; false ends the user\'s sessions' },
  open_page: { type: 'string', nullable: true, description: 'the page the user starts on' },
  open_folders: { type: 'array', items: { type: 'string' }, description: 'folder ids the user sees (with everything below); empty = all. Also accepted as "open folders" or a comma-separated string' },
  open_factory: { type: 'string', nullable: true, description: 'also accepted as "open factory"' },
  last_active: { type: 'string', description: 'read-only: ignored when sent (so are created_at, updated_at, and id/_id when they name this user)' },
};

/** The dictionary's spellings ("open folders", one-element lists, comma lists) as UserService input. */
function userInput(ctx: ApiContext, id?: string): UserInput {
  const body = { ...bodyObject(ctx) };
  // Read-only fields, so a user read with GET can be sent back with changes.
  for (const key of ['id', '_id']) {
    if (body[key] === undefined) continue;
    if (body[key] !== id) throw new ApiError(400, `${key} ${JSON.stringify(body[key])} cannot be set${id ? ` (this is user "${id}")` : ''}`);
    delete body[key];
  }
  for (const key of ['last_active', 'created_at', 'updated_at']) delete body[key];
  for (const [spaced, field] of [['open folders', 'open_folders'], ['open factory', 'open_factory'], ['open page', 'open_page']] as const) {
    if (body[spaced] === undefined) continue;
    if (body[field] !== undefined) throw new ApiError(400, `send either "${spaced}" or ${field}, not both`);
    body[field] = body[spaced];
    delete body[spaced];
  }
  for (const field of ['open_page', 'open_factory']) {
    const v = body[field];
    if (Array.isArray(v) && v.length <= 1) body[field] = v.length ? v[0] : null;
  }
  const folders = body.open_folders;
  if (typeof folders === 'string') body.open_folders = folders.split(',').map((f) => f.trim()).filter(Boolean);
  checkFoldersExist(ctx, body.open_folders);
  return body;
}

function logChange(ctx: ApiContext, action: string, user: User): void {
  ctx.services.events.add({ kind: 'config', event: `user ${action}`, value: user.login, source: callerOf(ctx).user.login });
}

export const USERS_OPERATIONS: Operation[] = [
  {
    name: 'users.list', method: 'GET', path: '/api/users', access: 'admin', tag: TAG,
    summary: 'All users (never their passwords), by login, a page at a time',
    query: pageParams('/api/users', DEFAULT_PAGE, 'users'),
    response: { type: 'array', items: USER_SCHEMA },
    run(ctx) {
      onlyParams(ctx.request.query, PAGE_KEYS);
      return listPage(ctx.request.query, 'users', ctx.services.users.list(), (u) => u.login);
    },
  },
  {
    name: 'users.get', method: 'GET', path: '/api/users/:id', access: 'admin', tag: TAG,
    summary: 'One user',
    response: USER_SCHEMA,
    run: (ctx) => ctx.services.users.get(pathParam(ctx, 'id')),
  },
  {
    name: 'users.create', method: 'POST', path: '/api/users', access: 'admin', tag: TAG,
    summary: 'Create a user (answers 201 with the user)',
    description: 'login, name, password and role are required; a taken login is 409.',
    body: { type: 'object', required: ['login', 'name', 'password', 'role'], properties: INPUT_PROPERTIES },
    response: USER_SCHEMA,
    async run(ctx) {
      const user = await ctx.services.users.create(userInput(ctx));
      logChange(ctx, 'created', user);
      return new ApiReply({ data: user, status: 201 });
    },
  },
  {
    name: 'users.update', method: 'PUT', path: '/api/users/:id', access: 'admin', tag: TAG,
    summary: 'Change some of a user\'s fields',
    description: 'Only the fields sent change. A new password (which also clears the user\'s password_change_required) or active=false ends the user\'s sessions. The last active admin cannot be demoted or deactivated (409).',
    body: { type: 'object', properties: INPUT_PROPERTIES },
    response: USER_SCHEMA,
    async run(ctx) {
      const id = pathParam(ctx, 'id');
      ctx.services.users.get(id); // 404 before judging the body
      const user = await ctx.services.users.update(id, userInput(ctx, id));
      logChange(ctx, 'updated', user);
      return user;
    },
  },
  {
    name: 'users.delete', method: 'DELETE', path: '/api/users/:id', access: 'admin', tag: TAG,
    summary: 'Delete a user and end their sessions',
    description: 'The last active admin cannot be deleted (409).',
    response: { type: 'string' },
    run(ctx) {
      const id = pathParam(ctx, 'id');
      const user = ctx.services.users.get(id);
      ctx.services.users.delete(id);
      logChange(ctx, 'deleted', user);
      return `deleted user "${user.login}"`;
    },
  },
];
