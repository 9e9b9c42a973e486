/**
 * The data and report endpoints without `meter` (the data dictionary's requests carry none): they
 * answer for the folder the caller may see (the dictionary's `location`), one answer per meter, at
 * most FOLDER_PAGE_METERS meters per answer (paged with `page`), and row limits shared among them.
 */
import { parseCount, DEFAULT_LIMIT, MAX_LIMIT } from '../data';
import { ApiError } from '../envelope';
import type { Registry } from '../registry';
import { callerOf } from './helpers';
import type { ApiContext, Operation, ParamDoc } from './types';

/** The most meters one answer covers; more are on the next pages. */
export const FOLDER_PAGE_METERS = 20;

export const FOLDER_PARAMS: ParamDoc[] = [
  { name: 'folder', description: 'Without meter: a folder id (the caller\'s folders only); default every folder the caller sees', schema: { type: 'string' } },
  { name: 'page', description: `Without meter: the page of meters, ${FOLDER_PAGE_METERS} meters a page (default 1)`, schema: { type: 'integer', minimum: 1 } },
];

export const FOLDER_FORM_DOC = `Without meter (the data dictionary's form) the answer covers the meters of the caller's folders (or of folder): `
  + `{ location, folder, meters_total, page, pages, page_size, meters: [{ meter, name, ...the one-meter answer }] }, at most ${FOLDER_PAGE_METERS} meters a page `
  + `(page=2, ...; a page past the last is 400); limit applies to each meter, and a page answers at most ${MAX_LIMIT} rows in all. CSV (format=csv) needs meter.`;

/** The folder path (root first) of a folder. */
function folderPath(registry: Registry, id: string): string[] {
  const names: string[] = [];
  for (let f: string | null = id, guard = 0; f !== null && guard < 100; guard++) {
    const folder = registry.folder(f);
    names.unshift(folder.name);
    f = folder.parent_id;
  }
  return names;
}

export async function folderForm(op: Operation, ctx: ApiContext): Promise<unknown> {
  const query = ctx.request.query;
  const caller = callerOf(ctx);
  const registry = ctx.services.registry;
  if (query.format !== undefined && query.format !== 'json') throw new ApiError(400, `format ${JSON.stringify(query.format)} needs meter (a report of one meter); without meter the answer is JSON`);
  const folder = query.folder;
  if (folder !== undefined && (typeof folder !== 'string' || folder.trim() === '')) throw new ApiError(400, `folder ${JSON.stringify(folder)} must be a folder id`);
  let meters = registry.meters(caller.scope);
  let location: string[] = [];
  if (typeof folder === 'string') {
    registry.folder(folder, caller.scope); // 404 outside the caller's folders
    const below = registry.scopeOf([folder]);
    meters = meters.filter((m) => below?.has(m.folder_id));
    location = folderPath(registry, folder);
  } else if (caller.user.open_folders.length === 1) {
    location = folderPath(registry, caller.user.open_folders[0]);
  }
  const total = meters.length;
  const pages = Math.ceil(total / FOLDER_PAGE_METERS);
  const page = parseCount('page', query.page, 1, Number.MAX_SAFE_INTEGER);
  if (page > Math.max(1, pages)) throw new ApiError(400, `page ${JSON.stringify(query.page)} is past the last page ${Math.max(1, pages)} (${total} meters, ${FOLDER_PAGE_METERS} a page)`);
  const onPage = meters.slice((page - 1) * FOLDER_PAGE_METERS, page * FOLDER_PAGE_METERS);
  const rest = Object.fromEntries(Object.entries(query).filter(([k]) => k !== 'folder' && k !== 'page' && k !== 'meter'));
  if (rest.limit !== undefined) parseCount('limit', rest.limit, DEFAULT_LIMIT, MAX_LIMIT); // 400 naming limit before sharing it
  const limit = rest.limit === undefined ? DEFAULT_LIMIT : Number(rest.limit);
  if (onPage.length && op.query?.some((p) => p.name === 'limit')) rest.limit = String(Math.max(1, Math.floor(Math.min(limit * onPage.length, MAX_LIMIT) / onPage.length)));
  const answers: Record<string, unknown>[] = [];
  for (const m of onPage) {
    const one = (await op.run({ ...ctx, request: { ...ctx.request, query: { ...rest, meter: m._id } } })) as Record<string, unknown>;
    answers.push({ meter: m._id, name: m.definition.name, ...one });
  }
  return { location, folder: folder ?? null, meters_total: total, page, pages, page_size: FOLDER_PAGE_METERS, meters: answers };
}
