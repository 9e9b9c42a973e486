/**
 * The audit trail of the API in the event log: every write (non-GET) by an authenticated caller,
 * answered or refused, is one 'audit' event naming who ("<login>@<ip>", "key:<name>@<ip>"), what
 * (operation, method, path, status) and the request body with secrets masked. Reads by API keys
 * are summed up in at most one event per key per minute; unauthenticated writes become 'security'
 * events at most once per minute per address. Rate-limit state is in memory and bounded.
 */
import type { EventLevel, EventLog } from './event-log';

const SECRET_KEY = /pass|secret|token|key|credential/i;
export const MAX_AUDIT_BODY = 2048;
export const AUDIT_WINDOW_MS = 60_000;
/** Entries kept per rate-limit map before old ones are dropped. */
const MAX_TRACKED = 10_000;

/** A copy of `value` with every property whose name looks secret replaced by "***", at any depth. */
export function maskSecrets(value: unknown, depth = 0): unknown {
  if (depth > 20) return '…';
  if (Buffer.isBuffer(value)) return `<${value.length} bytes>`;
  if (Array.isArray(value)) return value.map((v) => maskSecrets(v, depth + 1));
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = SECRET_KEY.test(k) ? '***' : maskSecrets(v, depth + 1);
    return out;
  }
  return value;
}

/** The masked body as JSON text, cut to about 2 KB; null without a body. */
export function auditBody(body: unknown): string | null {
  if (body === undefined || body === null || body === '') return null;
  let text: string;
  try {
    text = JSON.stringify(maskSecrets(body)) ?? String(body);
  } catch {
    text = String(body);
  }
  return text.length > MAX_AUDIT_BODY ? `${text.slice(0, MAX_AUDIT_BODY)}… (${text.length} characters)` : text;
}

/** "<login>@<ip>" (an API key's login is "key:<name>"); "flow" when the message came from inside a flow. */
export function sourceOf(login: string, ip: string | undefined): string {
  return `${login}@${ip || 'flow'}`;
}

export interface AuditEntry {
  /** The caller's login ("key:<name>" for a key). */
  login: string;
  ip?: string;
  operation: string;
  method: string;
  /** The path with its parameters filled in. */
  path: string;
  status: number;
  body?: unknown;
  /** The meter the operation is about, if any (lets the event log scope it). */
  meterId?: string | null;
  /** 'security' for refusals such as CSRF; default 'audit'. */
  kind?: 'audit' | 'security';
}

interface KeyReads { loggedAt: number; count: number }

export class AuditTrail {
  private readonly keyReads = new Map<string, KeyReads>();
  private readonly refusedAt = new Map<string, number>();

  constructor(private readonly events: EventLog, private readonly now: () => number = Date.now) {}

  /** One event for a write. */
  write(e: AuditEntry): void {
    const level: EventLevel = e.status >= 500 ? 'error' : e.status >= 400 ? 'warning' : 'info';
    this.events.add({
      kind: e.kind ?? 'audit', level, event: `${e.operation} ${e.method} ${e.path} ${e.status}`, value: auditBody(e.body),
      source: sourceOf(e.login, e.ip), meter_id: e.meterId ?? null,
    });
  }

  /**
   * Counts a read by an API key; writes "key:<name> used: N requests, last GET /api/..." when the
   * key's last such event is a minute old or more (the first read writes at once).
   */
  keyRead(keyName: string, ip: string | undefined, method: string, path: string, status: number): void {
    const t = this.now();
    const login = `key:${keyName}`;
    const seen = this.keyReads.get(login);
    if (seen && t - seen.loggedAt < AUDIT_WINDOW_MS) {
      seen.count++;
      return;
    }
    const n = (seen?.count ?? 0) + 1;
    this.track(this.keyReads, login, { loggedAt: t, count: 0 });
    this.events.add({
      kind: 'audit', event: `${login} used: ${n} request${n === 1 ? '' : 's'}${seen ? ` since ${new Date(seen.loggedAt).toISOString()}` : ''}, last ${method} ${path} ${status}`,
      source: sourceOf(login, ip),
    });
  }

  /** A write refused for want of (valid) credentials: a 'security' event, at most once per minute per address. */
  unauthenticated(ip: string | undefined, method: string, path: string, reason: string): void {
    const t = this.now();
    const where = ip || 'flow';
    const last = this.refusedAt.get(where);
    if (last !== undefined && t - last < AUDIT_WINDOW_MS) return;
    this.track(this.refusedAt, where, t);
    this.events.add({ kind: 'security', level: 'warning', event: `unauthenticated ${method} ${path} refused: ${reason}`, source: `anonymous@${where}` });
  }

  private track<V>(map: Map<string, V>, key: string, value: V): void {
    map.delete(key);
    map.set(key, value);
    if (map.size > MAX_TRACKED) map.delete(map.keys().next().value as string);
  }
}
