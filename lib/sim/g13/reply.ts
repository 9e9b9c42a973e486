/** Request context, replies and the route type shared by the resource handlers. */
import type { Gateway, UserState } from './gateway';
import type { SimMeter } from './meter';

export interface Ctx {
  gw: Gateway;
  user: UserState;
  method: string;
  path: string;
  params: Record<string, string>;
  /** Parsed JSON body (undefined when the request had none). */
  body: unknown;
  raw: Buffer;
  contentType: string;
  /** Set on /meters/<serial>/... routes after the access check. */
  meter: SimMeter;
  /** The meter's own clock on per-meter routes (simulator clock + meter offset), else the gateway clock. */
  now: number;
}

export interface Reply {
  status: number;
  json?: unknown;
  text?: string;
  contentType?: string;
  headers?: Record<string, string>;
}

/** A refusal with the manual's error envelope {"status":"error","des":...}. */
export class G13Error extends Error {
  constructor(readonly status: number, readonly des: string, readonly extra?: { contentType?: string; text?: string; headers?: Record<string, string> }) {
    super(des);
  }
}

export const ok = (json: unknown): Reply => ({ status: 200, json });
export const SUCCESS: Reply = { status: 200, json: { status: 'success' } };
export const fail = (status: number, des: string): never => { throw new G13Error(status, des); };

/** Verbatim des strings of the manual (typos and the space before the period included). */
export const DES = {
  COSEM: 'received invalid response from COSEM.',
  DENIED_COSEM: 'received READ_WRITE_DENIED response from COSEM.',
  FORBIDDEN: 'Forbidden. Access Denied',
  PARSE: 'JSON parse error.',
  INVALID: 'Invalid Request.',
  NOT_FOUND: 'URI not found.',
  REBOOT_FAILED: 'Internal Server Error. Reboot failed.',
  EXECUTE: 'Inetrnal Server Error.',
  missing: (tag: string) => `missing ${tag} in JSON .`,
};

export type Access = 'view' | 'configure';

export interface Route {
  method: 'GET' | 'POST' | 'PUT' | 'DELETE';
  /** Segments; ":name" matches one segment. */
  path: string;
  /** Per-meter route: needs this access to params.serial (and the meter answering). */
  meter?: Access;
  /** Gateway-admin only. */
  admin?: boolean;
  handler(ctx: Ctx): Reply | Promise<Reply>;
}

// ---- small validators shared by handlers ----
export type Obj = Record<string, unknown>;
export const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
export function bodyObj(ctx: Ctx): Obj {
  if (!isObj(ctx.body)) fail(400, DES.PARSE);
  return ctx.body as Obj;
}
export const isInt = (v: unknown): v is number => typeof v === 'number' && Number.isInteger(v);
/** Accepts a number or a numeric string (the manual's examples often quote numbers). */
export function num(v: unknown): number | undefined {
  if (typeof v === 'number' && Number.isFinite(v)) return v;
  if (typeof v === 'string' && v.trim() !== '' && Number.isFinite(Number(v))) return Number(v);
  return undefined;
}

/**
 * Applies the items of a multi-transaction body in order and stops at the first failure (manual 6.1):
 * earlier items stay applied. All applied: {"status":"success"}. The first item failed: its 4xx/5xx.
 * Some applied: 200 (20x = "complete or partial success") with {"status":"error","des":<failing item>}.
 */
export function applyInOrder(items: [string, () => void][]): Reply {
  let applied = 0;
  for (const [, apply] of items) {
    try {
      apply();
      applied++;
    } catch (e) {
      if (!(e instanceof G13Error) || applied === 0) throw e;
      return { status: 200, json: { status: 'error', des: e.des } };
    }
  }
  return SUCCESS;
}
