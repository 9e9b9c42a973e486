/** Small checks shared by the API operations: the caller, ids from the path, query values. */
import { ApiError } from '../envelope';
import type { ApiCaller, ApiContext } from './types';

export function callerOf(ctx: ApiContext): ApiCaller {
  if (!ctx.caller) throw new ApiError(401, 'log in first');
  return ctx.caller;
}

/** A path parameter, or 400 naming it. */
export function pathParam(ctx: ApiContext, name: string): string {
  const v = ctx.request.params[name];
  if (typeof v !== 'string' || v === '') throw new ApiError(400, `${name} is missing from the path`);
  return v;
}

/** Throws 404 (not 403: an id outside the caller's folders is not confirmed to exist) unless the caller may see the meter. */
export function checkMeterVisible(ctx: ApiContext, meterId: string): void {
  const meters = callerOf(ctx).meters;
  if (meters && !meters.has(meterId)) throw new ApiError(404, `unknown meter "${meterId}"`);
}

/** Refuses query parameters an operation does not know, naming them and the known ones. */
export function onlyParams(query: Record<string, unknown>, known: readonly string[]): void {
  for (const key of Object.keys(query)) {
    if (!known.includes(key)) throw new ApiError(400, `unknown parameter "${key}" (${known.length ? `use ${known.join(', ')}` : 'this operation takes no parameters'})`);
  }
}

/** The body as an object, or 400. */
export function bodyObject(ctx: ApiContext): Record<string, unknown> {
  const b = ctx.request.body;
  if (b === null || typeof b !== 'object' || Array.isArray(b)) throw new ApiError(400, 'the request body must be a JSON object');
  return b as Record<string, unknown>;
}

/** The most folder ids an open_folders list may hold (users and API keys alike). */
export const MAX_OPEN_FOLDERS = 10_000;

/**
 * 400 naming the first id of an open_folders list that is no folder. Anything that is not a list of
 * strings, or a list over MAX_OPEN_FOLDERS, is left to the service, which refuses it naming the value.
 */
export function checkFoldersExist(ctx: ApiContext, folders: unknown): void {
  if (!Array.isArray(folders) || folders.length > MAX_OPEN_FOLDERS) return;
  for (const id of folders) {
    if (typeof id !== 'string') continue;
    try {
      ctx.services.registry.folder(id);
    } catch {
      throw new ApiError(400, `open_folders: folder ${JSON.stringify(id)} does not exist`);
    }
  }
}
