/**
 * The data dictionary's own request forms beside the REST forms (the dictionary names no paths, so
 * its forms are served on the REST collections): `?list=` on the folder and object lists, one item by
 * `?id=` / `?_id=` on a list, changes and deletes by `?id=` / `?_id=` (or id/_id in the body) on the
 * collection, object bodies wrapped in { "data": {...} }, users with `_id`, the data and report
 * endpoints without `meter` (the caller's folder, see ./folder-data), meter creation with only the
 * dictionary's fields, and the license upload by POST. Operations are wrapped, never rewritten: the
 * REST forms answer as before.
 */
import { ApiError } from '../envelope';
import { PROTOCOLS, type MeterProtocol } from '../meter-definition';
import { FOLDER_TYPES, type TreeNode } from '../registry';
import { folderForm, FOLDER_PARAMS, FOLDER_FORM_DOC } from './folder-data';
import { callerOf } from './helpers';
import { ApiReply, type ApiContext, type ApiRequest, type Operation, type ParamDoc } from './types';

/** The protocol a meter created without one gets: the dictionary's fields (password, device address, clock difference) are an IEC 62056-21 readout's. */
export const DICTIONARY_DEFAULT_PROTOCOL: MeterProtocol = 'iec62056-21';

const show = (v: unknown): string => JSON.stringify(v);

/** Runs `op` with parts of the request replaced. */
function delegate(op: Operation, ctx: ApiContext, request: Partial<ApiRequest>): Promise<unknown> | unknown {
  return op.run({ ...ctx, request: { ...ctx.request, ...request } });
}

function withoutKeys(query: Record<string, unknown>, keys: readonly string[]): Record<string, unknown> {
  return Object.fromEntries(Object.entries(query).filter(([k]) => !keys.includes(k)));
}

/** A body `{ "data": {...} }` (and nothing else) as its inner object; any other body as it is. */
export function unwrapData(body: unknown): unknown {
  if (body && typeof body === 'object' && !Array.isArray(body)) {
    const keys = Object.keys(body);
    const inner = (body as Record<string, unknown>).data;
    if (keys.length === 1 && keys[0] === 'data') {
      if (!inner || typeof inner !== 'object' || Array.isArray(inner)) throw new ApiError(400, `data ${show(inner)} must be an object with the fields`);
      return inner;
    }
  }
  return body;
}

/** An id given as ?id=, ?_id= or (for writes) id/_id in the body; undefined when none; 400 when they differ or are not text. */
export function idOf(request: ApiRequest, fromBody: boolean): string | undefined {
  const body = unwrapData(request.body);
  const b = fromBody && body && typeof body === 'object' && !Array.isArray(body) ? (body as Record<string, unknown>) : {};
  const given = [['id', request.query.id], ['_id', request.query._id], ['id', b.id], ['_id', b._id]].filter(([, v]) => v !== undefined) as [string, unknown][];
  for (const [name, v] of given) if (typeof v !== 'string' || v.trim() === '') throw new ApiError(400, `${name} ${show(v)} must be an id`);
  const ids = [...new Set(given.map(([, v]) => (v as string).trim()))];
  if (ids.length > 1) throw new ApiError(400, `id ${show(ids[0])} and _id ${show(ids[1])} name different items`);
  return ids[0];
}

function requireId(request: ApiRequest, what: string): string {
  const id = idOf(request, true);
  if (id === undefined) throw new ApiError(400, `id is required: name the ${what} with ?id=<id> (or ?_id=, or id/_id in the body)`);
  return id;
}

/** A write body without id/_id fields that name `id` itself (the item is named by the query). */
function bodyWithoutId(body: unknown, id: string): unknown {
  const inner = unwrapData(body);
  if (!inner || typeof inner !== 'object' || Array.isArray(inner)) return inner;
  const out = { ...(inner as Record<string, unknown>) };
  for (const k of ['id', '_id']) if (out[k] === id) delete out[k];
  return out;
}

function findNode(nodes: readonly TreeNode[], id: string): TreeNode | undefined {
  for (const n of nodes) {
    if (n._id === id) return n;
    const inside = findNode(n.child_folders, id);
    if (inside) return inside;
  }
  return undefined;
}

const ALL_LIST = ['', 'all', 'true', '*'];

const ID_PARAMS: ParamDoc[] = [
  { name: 'id', description: 'The data dictionary\'s form: answer this one item instead of the list', schema: { type: 'string' } },
  { name: '_id', description: 'Same as id', schema: { type: 'string' } },
];
const LIST_PARAM = (what: string): ParamDoc => ({
  name: 'list', description: `The data dictionary's list query: empty, "all" or "true" answer the whole list; ${what}`, schema: { type: 'string' },
});

/** A list operation that also answers one item by ?id= / ?_id= (and ?list= where `list` says how). */
function listForms(op: Operation, get: Operation, list?: { doc: string; run(ctx: ApiContext, value: string): unknown }): Operation {
  return {
    ...op,
    query: [...(op.query ?? []), ...(list ? [LIST_PARAM(list.doc)] : []), ...ID_PARAMS],
    async run(ctx) {
      const query = ctx.request.query;
      const id = idOf(ctx.request, false);
      const rest = withoutKeys(query, ['id', '_id', 'list']);
      if (id !== undefined) {
        if (query.list !== undefined) throw new ApiError(400, `send either list or id, not both (list ${show(query.list)}, id ${show(id)})`);
        return delegate(get, ctx, { params: { ...ctx.request.params, id }, query: rest });
      }
      if (list && query.list !== undefined) {
        if (typeof query.list !== 'string') throw new ApiError(400, `list ${show(query.list)} must be text`);
        return list.run({ ...ctx, request: { ...ctx.request, query: rest } }, query.list.trim());
      }
      return op.run(ctx);
    },
  };
}

/** PUT or DELETE on the collection path, naming the item by ?id= / ?_id= or id/_id in the body. */
function collectionForm(item: Operation, name: string, what: string): Operation {
  const path = item.path.replace(/\/:id$/, '');
  return {
    ...item, name, path,
    summary: `${item.summary} (the data dictionary's form: the ${what} named by ?id=, ?_id= or id/_id in the body)`,
    query: [...(item.query ?? []), ...ID_PARAMS],
    run(ctx) {
      const id = requireId(ctx.request, what);
      const query = withoutKeys(ctx.request.query, ['id', '_id']);
      const body = item.method === 'DELETE' ? undefined : bodyWithoutId(ctx.request.body, id);
      return delegate(item, ctx, { params: { ...ctx.request.params, id }, query, ...(item.method === 'DELETE' ? {} : { body }) });
    },
  };
}

/** An operation whose body may come wrapped as { "data": {...} }. */
function wrappedBody(op: Operation): Operation {
  return {
    ...op,
    description: `${op.description ?? ''} The body may also be wrapped as { "data": { ... } } (the data dictionary's form).`.trim(),
    run: (ctx) => op.run({ ...ctx, request: { ...ctx.request, body: unwrapData(ctx.request.body) } }),
  };
}

/** ?model= (or ?list=) on an object create names the model the dictionary's two sections share one body for. */
function objectModelFromQuery(op: Operation): Operation {
  return {
    ...op,
    query: [{ name: 'model', description: 'electricity or calculation: the model of a created object whose body names none (the dictionary\'s two model sections share one body)', schema: { type: 'string' } }],
    run(ctx) {
      const model = ctx.request.query.model ?? ctx.request.query.list;
      const body = unwrapData(ctx.request.body);
      if (model === undefined || !body || typeof body !== 'object' || Array.isArray(body) || 'model' in body) return op.run(ctx);
      return op.run({ ...ctx, request: { ...ctx.request, body: { ...body, model } } });
    },
  };
}

/** Users (and the session's user) also carry `_id`, the dictionary's name for their id. */
function withUserId(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(withUserId);
  if (v && typeof v === 'object' && typeof (v as { id?: unknown }).id === 'string' && typeof (v as { login?: unknown }).login === 'string') {
    return { _id: (v as { id: string }).id, ...(v as object) };
  }
  return v;
}

function userIds(op: Operation): Operation {
  return {
    ...op,
    response: op.response && (op.response as { type?: string }).type === 'array'
      ? { ...op.response, items: addIdProp((op.response as { items: Record<string, unknown> }).items) }
      : op.response && addIdProp(op.response),
    async run(ctx) {
      const answer = await op.run(ctx);
      return answer instanceof ApiReply ? new ApiReply({ ...answer.init, data: withUserId(answer.init.data) }) : withUserId(answer);
    },
  };
}

function addIdProp(schema: Record<string, unknown>): Record<string, unknown> {
  const props = schema.properties as Record<string, unknown> | undefined;
  return props && 'id' in props ? { ...schema, properties: { _id: { type: 'string', description: 'the same as id (the data dictionary\'s name)' }, ...props } } : schema;
}

/** The folder a meter created without folder_id goes to: the caller's first open folder, else the first top-level folder by name. */
function defaultFolder(ctx: ApiContext): string {
  const { user } = callerOf(ctx);
  if (user.open_folders.length) return user.open_folders[0];
  const top = ctx.services.registry.tree(callerOf(ctx).scope).filter((n) => n.folder_type !== 'meter').sort((a, b) => a.name.localeCompare(b.name));
  if (!top.length) throw new ApiError(400, 'folder_id is required: no folder exists yet to put the meter in (create one with POST /api/folders)');
  return top[0]._id;
}

function meterDefaults(op: Operation): Operation {
  return {
    ...op,
    description: `${(op.description ?? '').replace('folder_id, name and protocol are required', 'name is required')} Without protocol the meter is ${DICTIONARY_DEFAULT_PROTOCOL} (the data dictionary's fields describe such a meter); `
      + 'without folder_id it goes to the caller\'s first open folder, else to the first top-level folder by name (400 when there is none). The body may be wrapped as { "data": { ... } }.',
    body: op.body && { ...op.body, required: ['name'] },
    run(ctx) {
      const raw = unwrapData(ctx.request.body);
      if (!raw || typeof raw !== 'object' || Array.isArray(raw)) return op.run(ctx);
      const body = { ...(raw as Record<string, unknown>) };
      if (body.protocol === undefined) body.protocol = DICTIONARY_DEFAULT_PROTOCOL;
      else if (!(PROTOCOLS as readonly unknown[]).includes(body.protocol)) throw new ApiError(400, `protocol ${show(body.protocol)} must be one of ${PROTOCOLS.join(', ')}`);
      if (body.folder_id === undefined) body.folder_id = defaultFolder(ctx);
      return op.run({ ...ctx, request: { ...ctx.request, body } });
    },
  };
}

/** Folder list forms: ?list=<folder id> answers that folder's subtree; ?id= / ?_id= a folder or meter node. */
function folderNode(ctx: ApiContext, id: string): TreeNode {
  const node = findNode(ctx.services.registry.tree(callerOf(ctx).scope), id);
  if (!node) throw new ApiError(404, `unknown folder or meter "${id}"`);
  return node;
}

function dataWithoutMeter(op: Operation): Operation {
  return {
    ...op,
    description: `${op.description ?? ''} ${FOLDER_FORM_DOC}`.trim(),
    query: [...(op.query ?? []).map((p) => (p.name === 'meter' ? { ...p, required: false, description: `${p.description}; without it: the meters of the caller's folder (see folder, page)` } : p)), ...FOLDER_PARAMS],
    run(ctx) {
      const meter = ctx.request.query.meter;
      if (meter !== undefined && meter !== '') {
        for (const k of ['folder', 'page']) if (ctx.request.query[k] !== undefined) throw new ApiError(400, `${k} ${show(ctx.request.query[k])} applies without meter only (meter ${show(meter)} is given)`);
        return op.run(ctx);
      }
      return folderForm(op, ctx);
    },
  };
}

/** The operation table with the dictionary's forms added (names of operations wrapped stay the same). */
export function withDictionaryForms(ops: readonly Operation[]): Operation[] {
  const byName = new Map(ops.map((o) => [o.name, o]));
  const get = (name: string): Operation => {
    const op = byName.get(name);
    if (!op) throw new Error(`dictionary forms: no operation "${name}"`);
    return op;
  };
  const wrap: Record<string, (op: Operation) => Operation> = {
    'folders.tree': (op) => listForms(op, { ...get('folders.get'), run: (ctx) => folderNode(ctx, ctx.request.params.id) }, {
      doc: `a folder id answers that folder with everything below it (folder types: ${FOLDER_TYPES.join(', ')})`,
      run: (ctx, v) => (ALL_LIST.includes(v.toLowerCase()) ? op.run(ctx) : folderNode(ctx, v)),
    }),
    'folders.create': wrappedBody,
    'folders.update': wrappedBody,
    'meters.list': (op) => listForms(op, get('meters.get'), {
      doc: 'a folder id answers the meters of that folder and the folders below it',
      run(ctx, v) {
        if (ALL_LIST.includes(v.toLowerCase())) return op.run(ctx);
        return op.run({ ...ctx, request: { ...ctx.request, query: { ...ctx.request.query, folder: v } } });
      },
    }),
    'meters.create': meterDefaults,
    'meters.update': wrappedBody,
    'objects.list': (op) => listForms(op, get('objects.get'), {
      doc: 'electricity or calculation answer that model\'s tree (like model=); another value is an object id and answers that object',
      run: (ctx, v) => {
        if (ALL_LIST.includes(v.toLowerCase())) return op.run(ctx);
        if (v === 'electricity' || v === 'calculation') return op.run({ ...ctx, request: { ...ctx.request, query: { ...ctx.request.query, model: v } } });
        return delegate(get('objects.get'), ctx, { params: { id: v } });
      },
    }),
    'objects.create': (op) => objectModelFromQuery(wrappedBody(op)),
    'objects.update': wrappedBody,
    'users.list': (op) => userIds(listForms(op, get('users.get'))),
    'users.get': userIds,
    'users.create': (op) => userIds(wrappedBody(op)),
    'users.update': (op) => userIds(wrappedBody(op)),
    'auth.session': (op) => ({ ...op, async run(ctx) { const a = (await op.run(ctx)) as Record<string, unknown>; return { ...a, user: withUserId(a.user) }; } }),
    'data.dashboard': dataWithoutMeter,
    'data.graphics': dataWithoutMeter,
    'data.table': dataWithoutMeter,
    'data.vector': dataWithoutMeter,
    'reports.tariffs': dataWithoutMeter,
  };
  const out = ops.map((op) => wrap[op.name]?.(op) ?? op);
  const wrapped = new Map(out.map((o) => [o.name, o]));
  const after = (name: string, extra: Operation[]): void => {
    const i = out.findIndex((o) => o.name === name);
    out.splice(i + 1, 0, ...extra);
  };
  after('folders.delete', [collectionForm(wrapped.get('folders.update')!, 'folders.updateByQuery', 'folder'), collectionForm(get('folders.delete'), 'folders.deleteByQuery', 'folder')]);
  after('meters.delete', [collectionForm(wrapped.get('meters.update')!, 'meters.updateByQuery', 'meter'), collectionForm(get('meters.delete'), 'meters.deleteByQuery', 'meter')]);
  after('objects.delete', [collectionForm(wrapped.get('objects.update')!, 'objects.updateByQuery', 'accounting object'), collectionForm(get('objects.delete'), 'objects.deleteByQuery', 'accounting object')]);
  after('users.delete', [collectionForm(wrapped.get('users.update')!, 'users.updateByQuery', 'user'), collectionForm(get('users.delete'), 'users.deleteByQuery', 'user')]);
  const upload = get('license.upload');
  after('license.upload', [{ ...upload, name: 'license.uploadPost', method: 'POST', summary: `${upload.summary} (POST, as the data dictionary's "License creating/updating"; same as PUT)` }]);
  return out;
}
