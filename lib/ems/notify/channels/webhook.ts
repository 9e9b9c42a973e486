/**
 * Webhook: HTTP POST of the notifications as JSON, signed with HMAC-SHA256 over
 * `<timestamp>.<body>` (header `X-EMS-Signature: sha256=<hex>`, `X-EMS-Timestamp: <unix seconds>`),
 * so a receiver can check origin and freshness. Bounded in time and answer size.
 */
import crypto from 'node:crypto';
import { boundedFetch, bounded, redactUrl, scrub, KiB } from '../../../clients/bounded-fetch';
import { ChannelError, type Batch, type Channel } from '../types';

export interface WebhookSettings {
  url: string;
  /** Deadline per POST (headers and answer), ms; default 10000. */
  timeoutMs?: number;
  /** Largest answer body read, bytes; default 16 KiB. */
  maxAnswerBytes?: number;
  /** Clock for the timestamp header (tests). */
  now?: () => number;
}

export interface WebhookCredentials { secret: string }

/** The signature header value for a timestamp (unix seconds) and body. */
export function webhookSignature(secret: string, timestamp: string, body: string): string {
  return `sha256=${crypto.createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex')}`;
}

/**
 * For receivers: true when the signature matches and the timestamp is within toleranceS of now
 * (constant-time comparison).
 */
export function verifyWebhookSignature(secret: string, timestamp: string, body: string, signature: string, nowMs = Date.now(), toleranceS = 300): boolean {
  const ts = Number(timestamp);
  if (!/^\d+$/.test(timestamp) || Math.abs(nowMs / 1000 - ts) > toleranceS) return false;
  const want = Buffer.from(webhookSignature(secret, timestamp, body));
  const got = Buffer.from(String(signature));
  return want.length === got.length && crypto.timingSafeEqual(want, got);
}

function checkUrl(url: unknown): URL {
  let u: URL;
  try { u = new URL(String(url)); } catch { throw new TypeError(`webhook.url must be an http(s) URL, got ${JSON.stringify(redactUrl(String(url)))}`); }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new TypeError(`webhook.url must be an http or https URL, got ${JSON.stringify(u.protocol)}`);
  if (u.username || u.password) throw new TypeError('webhook.url must not hold a user name or password; the secret signs the request');
  return u;
}

/** The JSON body posted for a batch. */
export function webhookBody(batch: Batch): string {
  return JSON.stringify({
    type: 'ems.alarm.notifications',
    digest: batch.digest,
    recipient: batch.recipient ? { userId: batch.recipient.userId } : undefined,
    notifications: batch.notifications,
  });
}

export function createWebhookChannel(settings: WebhookSettings, credentials: WebhookCredentials): Channel {
  const url = checkUrl(settings.url).toString();
  if (typeof credentials?.secret !== 'string' || credentials.secret.length < 16) {
    throw new TypeError('webhook secret must be a string of at least 16 characters');
  }
  const timeoutMs = bounded(settings.timeoutMs, 10_000, 100, 120_000, 'webhook.timeoutMs');
  const maxBytes = bounded(settings.maxAnswerBytes, 16 * KiB, 0, 1024 * KiB, 'webhook.maxAnswerBytes');
  const now = settings.now ?? Date.now;
  const where = redactUrl(url);
  const secret = credentials.secret;
  return {
    name: 'webhook',
    audience: 'shared',
    async send(batch: Batch): Promise<void> {
      const body = webhookBody(batch);
      const timestamp = String(Math.floor(now() / 1000));
      let res;
      try {
        res = await boundedFetch('webhook', url, {
          method: 'POST',
          redirect: 'manual',
          headers: {
            'content-type': 'application/json',
            'user-agent': 'node-red-contrib-ems',
            'x-ems-timestamp': timestamp,
            'x-ems-signature': webhookSignature(secret, timestamp, body),
          },
          body,
        }, { maxBytes, timeoutMs });
      } catch (e) {
        const cause = (e as { cause?: { code?: string } }).cause?.code;
        throw new ChannelError('webhook', `POST ${where} failed: ${scrub((e as Error).message, secret)}${cause ? ` (${cause})` : ''}`);
      }
      if (!res.ok) {
        const retryable = res.status >= 500 || res.status === 408 || res.status === 429;
        const snippet = scrub(res.text.slice(0, 200), secret).replace(/\s+/g, ' ').trim();
        throw new ChannelError('webhook', `POST ${where} answered ${res.status}${snippet ? `: ${snippet}` : ''}`, retryable);
      }
    },
  };
}

