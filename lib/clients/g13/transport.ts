/**
 * HTTP(S) to one G13 gateway: Basic auth on every request, TLS verified by CA, pinned by SHA-256
 * fingerprint (self-signed ABB certificate) or plain HTTP, one request at a time per gateway (it is
 * an embedded server), a timeout per request and /lasterror recovery after a truncated 200 body.
 */
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import tls from 'node:tls';
import { MiB, bounded, formatBytes, redactUrl } from '../bounded-fetch';

/** The gateway's JSON answers are small (a load profile page is tens of KB): 1 MiB by default, 16 MiB at most. */
export const DEFAULT_MAX_BYTES = 1 * MiB;
export const HARD_MAX_BYTES = 16 * MiB;

export type G13ErrorKind =
  | 'auth' | 'password-change' | 'forbidden' | 'not-found' | 'bad-request' | 'cosem' | 'server'
  | 'truncated' | 'malformed' | 'offline' | 'timeout' | 'too-large' | 'tls' | 'queue-full' | 'closed' | 'invalid';

/** An error naming the gateway, the meter (when the resource has one) and the resource. */
export class G13Error extends Error {
  constructor(
    readonly kind: G13ErrorKind,
    readonly gateway: string,
    readonly resource: string,
    readonly des: string,
    readonly status?: number,
    readonly meter?: string,
  ) {
    super(`G13 ${gateway}${meter ? ` meter ${meter}` : ''}: ${resource}: ${status ? `${status} ` : ''}${des}`);
    this.name = 'G13Error';
  }
}

export type TlsMode = 'verify' | 'fingerprint' | 'plain';

export interface TransportOptions {
  /** https://192.168.1.12 (or http:// for plain). */
  url: string;
  user: string;
  password: string;
  /** verify: the CA chain (ca); fingerprint: pin fingerprint256; plain: HTTP. Default from the URL's scheme. */
  tls?: TlsMode;
  /** SHA-256 fingerprint "AB:CD:..." (colons optional, any case) for tls "fingerprint". */
  fingerprint?: string;
  ca?: string | Buffer;
  /** Per-request deadline for headers and body, ms (default 15000: every per-meter call is a COSEM round trip). */
  timeout?: number;
  /** Largest answer accepted, bytes (default DEFAULT_MAX_BYTES, at most HARD_MAX_BYTES); a longer one is aborted. */
  maxBytes?: number;
  /** Requests allowed to wait per gateway (default 100). */
  queueLimit?: number;
}

export interface RawResponse { status: number; headers: http.IncomingHttpHeaders; text: string; complete: boolean }

/** Normalised SHA-256 fingerprint: upper-case hex without separators. */
export function normaliseFingerprint(fp: string): string {
  return String(fp).replace(/^sha-?256[:=\s]*/i, '').replace(/[^0-9a-fA-F]/g, '').toUpperCase();
}

/** One queue per gateway (host:port), shared by every client that talks to it. */
class GatewayQueue {
  private tail: Promise<unknown> = Promise.resolve();
  depth = 0;
  run<T>(job: () => Promise<T>, limit: number, fail: () => Error): Promise<T> {
    if (this.depth >= limit) return Promise.reject(fail());
    this.depth++;
    const result = this.tail.then(job);
    this.tail = result.then(() => undefined, () => undefined).finally(() => { this.depth--; });
    return result;
  }
}
const QUEUES = new Map<string, GatewayQueue>();

export function queueDepth(url: string): number {
  return QUEUES.get(new URL(url).host)?.depth ?? 0;
}

/** A non-JSON body (firmware image as multipart/form-data): sent as is, in 512-byte writes. */
export class RawBody {
  constructor(readonly data: Buffer, readonly contentType: string) {}
}

function writeBody(req: http.ClientRequest, payload?: Buffer): void {
  if (payload) for (let i = 0; i < payload.length; i += 512) req.write(payload.subarray(i, i + 512));
  req.end();
}

export class G13Transport {
  readonly url: URL;
  readonly tls: TlsMode;
  readonly name: string;
  private readonly auth: string;
  private readonly fingerprint?: string;
  private readonly queue: GatewayQueue;
  private readonly maxBytes: number;
  private closed = false;

  constructor(readonly options: TransportOptions) {
    let url: URL;
    try {
      url = new URL(/^[a-z]+:\/\//i.test(options.url) ? options.url : `https://${options.url}`);
    } catch {
      const shown = redactUrl(String(options.url));
      throw new G13Error('invalid', shown, 'url', `url ${JSON.stringify(shown)} is not a gateway URL such as https://192.168.1.12`);
    }
    if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new G13Error('invalid', redactUrl(options.url), 'url', `url must be https:// or http://, got ${JSON.stringify(redactUrl(options.url))}`);
    this.tls = options.tls ?? (url.protocol === 'http:' ? 'plain' : options.fingerprint ? 'fingerprint' : 'verify');
    if (this.tls === 'plain') url.protocol = 'http:';
    else url.protocol = 'https:';
    this.url = url;
    this.name = url.origin;
    if (this.tls === 'fingerprint') {
      this.fingerprint = normaliseFingerprint(options.fingerprint ?? '');
      if (this.fingerprint.length !== 64) throw new G13Error('invalid', this.name, 'tls', `fingerprint must be a SHA-256 fingerprint (64 hex digits), got ${JSON.stringify(options.fingerprint ?? '')}`);
    }
    if (!options.user) throw new G13Error('invalid', this.name, 'credentials', 'user is required (the gateway uses Basic auth on every resource)');
    try {
      this.maxBytes = bounded(options.maxBytes, DEFAULT_MAX_BYTES, 1024, HARD_MAX_BYTES, 'maxBytes');
    } catch (e) { throw new G13Error('invalid', this.name, 'maxBytes', (e as Error).message); }
    this.auth = `Basic ${Buffer.from(`${options.user}:${options.password ?? ''}`).toString('base64')}`;
    const key = url.host;
    let q = QUEUES.get(key);
    if (!q) QUEUES.set(key, (q = new GatewayQueue()));
    this.queue = q;
  }

  get depth(): number { return this.queue.depth; }

  close(): void { this.closed = true; }

  /** Sends one request through the gateway's queue; resolves with the raw response (any status). */
  send(method: string, path: string, body?: unknown, meter?: string): Promise<RawResponse> {
    const resource = `${method} ${path}`;
    if (this.closed) return Promise.reject(new G13Error('closed', this.name, resource, 'the client is closed', undefined, meter));
    return this.queue.run(() => this.exchange(method, path, body, meter), this.options.queueLimit ?? 100,
      () => new G13Error('queue-full', this.name, resource, `${this.queue.depth} requests already wait for this gateway`, undefined, meter));
  }

  /** Runs `job` holding the gateway's queue slot (for request + /lasterror pairs). */
  exclusive<T>(job: () => Promise<T>): Promise<T> {
    return this.queue.run(job, this.options.queueLimit ?? 100,
      () => new G13Error('queue-full', this.name, 'queue', `${this.queue.depth} requests already wait for this gateway`));
  }

  /** One HTTP exchange, outside the queue (callers hold the slot). */
  exchange(method: string, path: string, body?: unknown, meter?: string): Promise<RawResponse> {
    const resource = `${method} ${path}`;
    const fail = (kind: G13ErrorKind, des: string) => new G13Error(kind, this.name, resource, des, undefined, meter);
    if (path.includes('?')) return Promise.reject(fail('invalid', 'the gateway refuses query strings; put every argument in the path'));
    const raw = body instanceof RawBody ? body : undefined;
    const payload = raw ? raw.data : body === undefined || body === null ? undefined : Buffer.from(typeof body === 'string' ? body : JSON.stringify(body));
    if (!raw && payload && payload.length > 512 && method !== 'GET') {
      return Promise.reject(fail('invalid', `request body is ${payload.length} bytes; the gateway accepts at most 512 (send one item per request)`));
    }
    const timeout = this.options.timeout ?? 15_000;
    const port = Number(this.url.port) || (this.tls === 'plain' ? 80 : 443);
    const host = this.url.hostname.replace(/^\[|\]$/g, '');
    return new Promise<RawResponse>((resolve, reject) => {
      let settled = false;
      let req: http.ClientRequest | undefined;
      const finish = (err: Error | null, res?: RawResponse) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        req?.destroy();
        if (err) reject(err); else resolve(res!);
      };
      const timer = setTimeout(() => finish(fail('timeout', `no complete answer within ${timeout} ms`)), timeout);
      const onError = (err: NodeJS.ErrnoException) => {
        const tlsProblem = /CERT|SELF_SIGNED|UNABLE_TO|ERR_SSL|ERR_TLS_CERT/.test(String(err.code)) || /certificate/i.test(err.message);
        finish(fail(tlsProblem ? 'tls' : 'offline', tlsProblem ? `TLS: ${err.message}` : `gateway unreachable: ${err.code ?? err.message}`));
      };
      const pin = this.tls === 'fingerprint';
      const options: https.RequestOptions = {
        host, port, method, path, agent: false,
        headers: {
          Authorization: this.auth, Accept: 'application/json', Host: this.url.host,
          ...(payload ? { 'Content-Type': raw?.contentType ?? 'application/json', 'Content-Length': payload.length } : method === 'GET' ? {} : { 'Content-Length': 0 }),
        },
      };
      const onResponse = (res: http.IncomingMessage) => {
        const chunks: Buffer[] = [];
        let size = 0;
        const done = (complete: boolean) => finish(null, { status: res.statusCode ?? 0, headers: res.headers, text: Buffer.concat(chunks).toString('utf8'), complete });
        // An endless answer is cut off at the cap: finish() destroys the socket, nothing more is buffered.
        const tooLarge = () => finish(fail('too-large', `the answer exceeds the ${formatBytes(this.maxBytes)} cap; aborted`));
        if (Number(res.headers['content-length']) > this.maxBytes) return tooLarge();
        res.on('data', (c: Buffer) => {
          size += c.length;
          if (size > this.maxBytes) tooLarge(); else chunks.push(c);
        });
        res.on('end', () => done(res.complete));
        res.on('aborted', () => done(false));
        res.on('error', () => done(false));
      };
      if (this.tls === 'plain') {
        req = http.request(options, onResponse);
        req.on('error', onError);
        writeBody(req, payload);
        return;
      }
      // Nothing (not even the Authorization header) is written before the peer is checked: end() waits for it.
      req = https.request({ ...options, rejectUnauthorized: !pin, ca: this.options.ca, servername: net.isIP(host) ? undefined : host }, onResponse);
      req.on('error', onError);
      req.on('socket', (socket) => {
        (socket as tls.TLSSocket).once('secureConnect', () => {
          if (pin) {
            const got = normaliseFingerprint((socket as tls.TLSSocket).getPeerCertificate()?.fingerprint256 ?? '');
            if (got !== this.fingerprint) {
              finish(fail('tls', `certificate fingerprint ${got || '(none)'} does not match the trusted ${this.fingerprint}`));
              return;
            }
          }
          writeBody(req!, payload);
        });
      });
    });
  }
}
