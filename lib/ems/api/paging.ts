/**
 * Paging of the API's lists: `?limit=` (1..the list's maximum; default its default page size) and
 * `?cursor=` (the `next_cursor` of the previous page's envelope). A cursor is opaque to clients: the
 * list's name and the sort key of the last item answered, base64url-encoded. Pages are read by key
 * ("items after this key"), not by offset, so an item added or deleted between two pages never makes
 * another item appear twice or be skipped; items added behind the cursor show up on a later page.
 */
import { ApiError } from '../envelope';
import { ApiReply, type ParamDoc } from './types';

export interface PageSize {
  /** Items per page when the request gives no limit. */
  default: number;
  /** The largest limit a request may give. */
  max: number;
}

/** The default page size of most lists, and the largest page a request may ask for. */
export const DEFAULT_PAGE: PageSize = { default: 1000, max: 1000 };

export type CursorKey = string | number;

export interface PageRequest<K extends CursorKey = CursorKey> {
  limit: number;
  /** The sort key of the last item of the previous page; undefined on the first page. */
  after?: K;
}

export interface Page<T> {
  items: T[];
  /** The cursor of the next page; null on the last page. */
  next: string | null;
}

const MAX_CURSOR_LENGTH = 512;

export function encodeCursor(list: string, key: CursorKey): string {
  return Buffer.from(JSON.stringify({ l: list, k: key })).toString('base64url');
}

/** The key a cursor holds, or 400 naming the value when it is not a cursor of this list. */
export function decodeCursor(list: string, raw: unknown, keyType: 'string' | 'number'): CursorKey {
  const refuse = (why: string) => new ApiError(400, `cursor ${JSON.stringify(typeof raw === 'string' ? raw.slice(0, 80) : raw)} ${why}: pass the next_cursor of the previous page of ${list} unchanged`);
  if (typeof raw !== 'string' || raw === '') throw refuse('must be a non-empty string');
  if (raw.length > MAX_CURSOR_LENGTH || !/^[A-Za-z0-9_-]+$/.test(raw)) throw refuse('is not a cursor');
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(raw, 'base64url').toString('utf8'));
  } catch {
    throw refuse('is not a cursor');
  }
  const c = parsed as { l?: unknown; k?: unknown };
  if (!c || typeof c !== 'object' || c.l !== list) throw refuse(c && typeof c === 'object' && typeof c.l === 'string' ? `belongs to the list ${c.l}` : 'is not a cursor');
  if (typeof c.k !== keyType || (keyType === 'number' && !Number.isFinite(c.k))) throw refuse('is not a cursor');
  return c.k as CursorKey;
}

/** limit and cursor of a request (absent: the default page from the start); 400 naming the field and the value. */
export function pageRequest<K extends CursorKey>(query: Record<string, unknown>, list: string, keyType: K extends number ? 'number' : 'string', size: PageSize = DEFAULT_PAGE): PageRequest<K> {
  const raw = query.limit;
  let limit = size.default;
  if (raw !== undefined && raw !== '') {
    const n = typeof raw === 'number' ? raw : typeof raw === 'string' && /^\s*\d{1,9}\s*$/.test(raw) ? Number(raw) : NaN;
    if (!Number.isInteger(n) || n < 1 || n > size.max) throw new ApiError(400, `limit ${JSON.stringify(raw)} must be an integer from 1 to ${size.max}`);
    limit = n;
  }
  const cursor = query.cursor;
  if (cursor === undefined || cursor === '') return { limit };
  return { limit, after: decodeCursor(list, cursor, keyType) as K };
}

/**
 * One page of `items` (any order): those whose key comes after `req.after` in key order (descending
 * with `desc`), at most `req.limit`. O(n log n) for n items: for lists held in full (users, tariffs, ...).
 */
export function pageOf<T, K extends CursorKey>(list: string, items: readonly T[], keyOf: (item: T) => K, req: PageRequest<K>, desc = false): Page<T> {
  const after = req.after;
  const sign = desc ? -1 : 1;
  const rest = after === undefined ? [...items] : items.filter((i) => sign * compareKeys(keyOf(i), after) > 0);
  rest.sort((a, b) => sign * compareKeys(keyOf(a), keyOf(b)));
  const page = rest.slice(0, req.limit);
  const next = rest.length > req.limit ? encodeCursor(list, keyOf(page[page.length - 1])) : null;
  return { items: page, next };
}

/** A list held in full, answered a page at a time: refuses parameters other than `known` and limit/cursor. */
export function listPage<T>(query: Record<string, unknown>, list: string, items: readonly T[], keyOf: (item: T) => string, size: PageSize = DEFAULT_PAGE): ApiReply {
  return pageReply(pageOf(list, items, keyOf, pageRequest<string>(query, list, 'string', size)));
}

/** The key of a newest-first list ordered by time, then id: "<time>:<id>". */
export interface TimeKey { time: number; id: number }

export function timeKey(k: TimeKey): string {
  return `${k.time}:${k.id}`;
}

/** A cursor's time key, or 400 naming the cursor. */
export function parseTimeKey(list: string, raw: unknown): TimeKey | undefined {
  if (raw === undefined || raw === '') return undefined;
  const k = decodeCursor(list, raw, 'string') as string;
  const m = /^(\d{1,16}):(\d{1,16})$/.exec(k);
  if (!m) throw new ApiError(400, `cursor ${JSON.stringify(raw)} is not a cursor: pass the next_cursor of the previous page of ${list} unchanged`);
  return { time: Number(m[1]), id: Number(m[2]) };
}

/** The cursor after a newest-first page: set when the page is full (the next page may then be empty). */
export function fullPageCursor<T>(list: string, items: readonly T[], limit: number, keyOf: (item: T) => CursorKey): string | null {
  return items.length > 0 && items.length >= limit ? encodeCursor(list, keyOf(items[items.length - 1])) : null;
}

/** A sort key of a name and a unique id: name order, the id deciding between equal names. */
export const nameKey = (name: string, id: string): string => `${name}\u0000${id}`;

export function compareKeys(a: CursorKey, b: CursorKey): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** The answer of a paged list: the items as `data`, the next page's cursor as `next_cursor` in the envelope. */
export function pageReply<T>(page: Page<T>, map?: (item: T) => unknown): ApiReply {
  return new ApiReply({ data: map ? page.items.map(map) : page.items, nextCursor: page.next });
}

/** The documented query parameters of a paged list. */
export function pageParams(list: string, size: PageSize = DEFAULT_PAGE, what = 'items'): ParamDoc[] {
  return [
    { name: 'limit', description: `Most ${what} per page (default ${size.default}, at most ${size.max}); the envelope's next_cursor is null on the last page`, schema: { type: 'integer', minimum: 1, maximum: size.max } },
    { name: 'cursor', description: `The next_cursor of the previous page of ${list} (opaque); absent = the first page`, schema: { type: 'string' } },
  ];
}

/** The paging parameters' names, for onlyParams. */
export const PAGE_KEYS = ['limit', 'cursor'] as const;
