/**
 * The contract between the HTTP API's operations and whoever runs them (the ems-api node, tests,
 * benches): an operation is data (method, path, access, docs) plus a `run` over an ApiContext.
 * The OpenAPI document and the shipped API flow are both generated from the operation table.
 */
import type { BillStore } from '../../billing/bill-store';
import type { ReadingStore } from '../../store/types';
import type { Access } from '../access';
import type { FolderScope } from '../registry';
import type { EmsServices } from '../services';
import type { User } from '../users';

export type HttpMethod = 'GET' | 'POST' | 'PUT' | 'DELETE';

/** An uploaded file (http in with "accept file uploads": multer's fields). */
export interface UploadedFile { fieldname: string; originalname?: string; buffer: Buffer }

/** The parts of an HTTP request an operation sees (from msg.req, or msg fields for flow-internal calls). */
export interface ApiRequest {
  params: Record<string, string>;
  query: Record<string, unknown>;
  body: unknown;
  headers: Record<string, string | string[] | undefined>;
  cookies: Record<string, string | undefined>;
  files?: UploadedFile[];
  /** The client's address (msg.req.ip); undefined for flow-internal messages. */
  ip?: string;
  /** The request came over TLS (msg.req.secure). */
  secure?: boolean;
  /** The HTTP method (msg.req.method); the operation's own method when absent. */
  method?: string;
  /** The URL path without the query (from msg.req.originalUrl). */
  path?: string;
}

/** Who is calling, resolved before `run`: the user, their folder scope and the meters they may see. */
export interface ApiCaller {
  user: User;
  /** The session of a login, null for an API key or a node acting as a configured user. */
  sessionId: string | null;
  /** The credential was the access_token cookie (cookie-authenticated writes are CSRF-checked). */
  viaCookie: boolean;
  /** The API key's id when the caller is an API key. */
  keyId?: string;
  /** Folder ids the caller sees in full; undefined = all. */
  scope: FolderScope;
  /** Meter ids the caller may see; undefined = all. */
  meters: ReadonlySet<string> | undefined;
}

export interface PollNowAnswer { meter: string; started: boolean; reason?: string }

/** Implemented by the ems-poll-schedule node and registered with the ems-system node. */
export interface Poller {
  pollNow(meterId: string): PollNowAnswer;
}

export interface ApiContext {
  services: EmsServices;
  store: ReadingStore;
  bills: BillStore;
  /** IANA zone for local dates (date1/date2 without offset, report steps). */
  timeZone: string;
  now: () => number;
  request: ApiRequest;
  /** Set for every operation whose access is not "public". */
  caller?: ApiCaller;
  /** Set when an ems-poll-schedule node runs. */
  poller?: Poller;
  /** Origins allowed beside the server's own for cookie-authenticated writes (EMS_CORS_ORIGINS). */
  allowedOrigins?: readonly string[];
}

/**
 * Whom an ems-api node acts for: the request's own credentials (default), a configured EMS user
 * (by login), a configured API key, or the user of the dashboard session the message came from.
 */
export type Identity =
  | { mode: 'request' }
  | { mode: 'user'; login: string }
  | { mode: 'key'; key: string }
  | { mode: 'dashboard'; sessionId: string | undefined };

export interface CookieSpec { value: string; maxAge?: number; httpOnly?: boolean; sameSite?: 'strict' | 'lax'; path?: string; secure?: boolean }

/** A non-default answer: another status, cookies to set (null clears), or a raw (non-JSON) body such as CSV. */
export class ApiReply {
  constructor(readonly init: {
    data?: unknown;
    status?: number;
    cookies?: Record<string, CookieSpec | null>;
    raw?: { contentType: string; body: string | Buffer; filename?: string };
    /** A paged list's next page (the envelope's next_cursor; null on the last page). */
    nextCursor?: string | null;
  }) {}
}

/** A documented query parameter. */
export interface ParamDoc {
  name: string;
  description: string;
  required?: boolean;
  schema?: Record<string, unknown>;
}

export interface Operation {
  /** Stable id chosen in the ems-api node, "<section>.<verb>", e.g. "users.list". */
  name: string;
  method: HttpMethod;
  /** Express-style path, e.g. "/api/users/:id". */
  path: string;
  access: Access;
  /** The API section (OpenAPI tag and flow group), e.g. "Users". */
  tag: string;
  summary: string;
  description?: string;
  query?: ParamDoc[];
  /** JSON schema of the request body. */
  body?: Record<string, unknown>;
  /** JSON schema of `data` in the answer. */
  response?: Record<string, unknown>;
  /** http in accepts multipart file uploads for this operation. */
  upload?: boolean;
  /** Answers a non-JSON body when asked (e.g. "text/csv" with format=csv). */
  produces?: string[];
  run(ctx: ApiContext): Promise<unknown> | unknown;
}
