/** The read side of the InfluxDB store: InfluxQL over GET /query, planned and parsed by influxql.ts. */
import type { Reading } from '../../model/reading';
import type { EmsEvent, EventQuery, LatestQuery, RangeQuery, ReadingKey, WindowRow } from '../types';
import { deletePredicate, deleteQueries, eventsQuery, InfluxQueryError, latestQuery, parseEvents, parseLatest, parseQueryAnswer, planReadingQuery, rowsOfPlan } from './influxql';
import { QUERY_EPOCH, type InfluxSchema } from './schema';

/** The connection settings reads need (a subset of InfluxStoreOptions). */
export interface InfluxReadOptions {
  version: 1 | 2;
  database?: string;
  retentionPolicy?: string;
  username?: string;
  password?: string;
  bucket?: string;
  token?: string;
  timeZone?: string;
  timeZoneClause?: boolean;
}

/** The server's error text from an InfluxDB error body ({"error": ...} or {"message": ...}), else the body itself. */
export function serverMessage(body: string): string {
  try {
    const j = JSON.parse(body) as { error?: unknown; message?: unknown };
    if (typeof j.error === 'string') return j.error;
    if (typeof j.message === 'string') return j.message;
  } catch {
    // not JSON
  }
  return body.trim().slice(0, 1000);
}

export class InfluxReader {
  constructor(private readonly o: InfluxReadOptions, private readonly url: string, private readonly timeout: number, private readonly schema: InfluxSchema) {}

  private headers(): Record<string, string> {
    const o = this.o;
    const headers: Record<string, string> = { Accept: 'application/json' };
    if (o.version === 2) headers.Authorization = `Token ${o.token}`;
    else if (o.username) headers.Authorization = `Basic ${Buffer.from(`${o.username}:${o.password ?? ''}`).toString('base64')}`;
    return headers;
  }

  /** GET /query for reads; POST (a form body) for statements that change data, as InfluxDB 1.x requires. */
  private async influxql(q: string, method: 'GET' | 'POST' = 'GET'): Promise<unknown> {
    const o = this.o;
    const params = new URLSearchParams({ db: (o.version === 2 ? o.bucket : o.database)!, epoch: QUERY_EPOCH });
    if (o.version === 1 && o.retentionPolicy) params.set('rp', o.retentionPolicy);
    const what = method === 'GET' ? 'query' : 'delete';
    let res: Response;
    let body: string;
    try {
      res = method === 'GET'
        ? await fetch(`${this.url}/query?${params}&${new URLSearchParams({ q })}`, { headers: this.headers(), signal: AbortSignal.timeout(this.timeout) })
        : await fetch(`${this.url}/query?${params}`, { method, headers: this.headers(), body: new URLSearchParams({ q }), signal: AbortSignal.timeout(this.timeout) });
      body = await res.text();
    } catch (err) {
      const e = err as Error & { cause?: { code?: string } };
      throw new Error(`influxdb store ${this.url}: ${what} failed: cannot reach the server: ${e.cause?.code ?? e.message}`);
    }
    if (!res.ok) throw new InfluxQueryError(`influxdb store ${this.url}: ${what} failed: ${res.status} ${serverMessage(body) || res.statusText}`);
    return body;
  }

  /**
   * Deletes readings by exact key: InfluxQL DELETE over POST /query on 1.x; POST /api/v2/delete (one
   * request per reading, start = stop = its instant) on 2.x, whose /query serves reads only.
   */
  async remove(keys: readonly ReadingKey[], org?: string): Promise<void> {
    if (this.o.version === 1) {
      for (const q of deleteQueries(keys, this.schema)) {
        const answer = await this.influxql(q, 'POST');
        try {
          parseQueryAnswer(answer);
        } catch (err) {
          throw new InfluxQueryError(`influxdb store ${this.url}: delete failed: ${(err as Error).message}`);
        }
      }
      return;
    }
    const params = new URLSearchParams({ org: org ?? '', bucket: this.o.bucket! });
    for (const k of keys) {
      const predicate = deletePredicate(k, this.schema);
      let res: Response;
      let body: string;
      try {
        res = await fetch(`${this.url}/api/v2/delete?${params}`, {
          method: 'POST', headers: { ...this.headers(), 'Content-Type': 'application/json' }, body: JSON.stringify(predicate), signal: AbortSignal.timeout(this.timeout),
        });
        body = await res.text();
      } catch (err) {
        const e = err as Error & { cause?: { code?: string } };
        throw new Error(`influxdb store ${this.url}: delete failed: cannot reach the server: ${e.cause?.code ?? e.message}`);
      }
      if (!res.ok) throw new InfluxQueryError(`influxdb store ${this.url}: delete failed: ${res.status} ${serverMessage(body) || res.statusText}`);
    }
  }

  async query(q: RangeQuery): Promise<Reading[] | WindowRow[]> {
    const tz = q?.window && q.timeZone === undefined && this.o.timeZone !== undefined ? { ...q, timeZone: this.o.timeZone } : q;
    let plan;
    try {
      plan = planReadingQuery(tz, this.schema, { timeZoneClause: this.o.timeZoneClause });
    } catch (err) {
      throw new Error(`influxdb store: ${(err as Error).message}`);
    }
    if (!plan) return [];
    const answer = await this.influxql(plan.query);
    try {
      return rowsOfPlan(plan, answer);
    } catch (err) {
      throw new InfluxQueryError(`influxdb store ${this.url}: ${(err as Error).message}`);
    }
  }

  async latest(q: LatestQuery = {}): Promise<Reading[]> {
    const answer = await this.influxql(latestQuery(q, this.schema));
    try {
      return parseLatest(answer);
    } catch (err) {
      throw new InfluxQueryError(`influxdb store ${this.url}: ${(err as Error).message}`);
    }
  }

  async events(q: EventQuery): Promise<EmsEvent[]> {
    let text: string | null;
    try {
      text = eventsQuery(q, this.schema);
    } catch (err) {
      throw new Error(`influxdb store: ${(err as Error).message}`);
    }
    if (text === null) return [];
    const answer = await this.influxql(text);
    try {
      return parseEvents(answer);
    } catch (err) {
      throw new InfluxQueryError(`influxdb store ${this.url}: ${(err as Error).message}`);
    }
  }
}
