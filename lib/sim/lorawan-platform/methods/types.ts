import type { Params } from '../params';
import type { Admin, Platform } from '../platform';

export interface MethodContext { platform: Platform; admin: Admin; p: Params; session?: { apiToken: string; cookie: string } }
/** A method handler returns the success body without errcode (added by the server) or throws PlatformError. */
export type Handler = (ctx: MethodContext) => Record<string, unknown>;
export interface MethodEntry { handler: Handler; /** Callable without a session (login). */ open?: boolean }
