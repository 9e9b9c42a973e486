/**
 * Email over SMTP with nodemailer. STARTTLS is required by default; implicit TLS (port 465) or plain
 * SMTP (a local relay) only when chosen. Certificates are verified; a pinned CA or, set explicitly,
 * self-signed certificates are the only ways around it. The password never appears in errors.
 */
import nodemailer from 'nodemailer';
import type SMTPTransport from 'nodemailer/lib/smtp-transport';
import { scrub } from '../../../clients/bounded-fetch';
import { renderBatch } from '../message';
import { ChannelError, type Batch, type Channel } from '../types';

export type SmtpSecurity = 'starttls' | 'tls' | 'none';

export interface EmailSettings {
  host: string;
  /** Default 587 (starttls), 465 (tls), 25 (none). */
  port?: number;
  /** 'starttls' (default): STARTTLS required; 'tls': implicit TLS; 'none': plain SMTP, for a local relay only. */
  security?: SmtpSecurity;
  /** Sender address, e.g. "EMS <ems@example.com>". */
  from: string;
  /** PEM of the CA (or the server certificate) to trust instead of the system CAs. */
  ca?: string;
  /** Accept any certificate (self-signed); off unless set to true. */
  allowSelfSigned?: boolean;
  /** Connection, greeting and socket timeouts, ms; default 15000. */
  timeoutMs?: number;
  /** EMS time zone for the times in messages. */
  timeZone: string;
  product?: string;
}

export interface EmailCredentials { user?: string; password?: string }

const ADDRESS = /^[^\s@<>",;]+@[^\s@<>",;]+\.?[^\s@<>",;]*$/;

function check(s: EmailSettings): Required<Pick<EmailSettings, 'port' | 'security' | 'timeoutMs'>> {
  if (typeof s.host !== 'string' || !/^[A-Za-z0-9.:[\]-]+$/.test(s.host)) throw new TypeError(`email.host must be a host name or address, got ${JSON.stringify(s.host)}`);
  const security = s.security ?? 'starttls';
  if (!['starttls', 'tls', 'none'].includes(security)) throw new TypeError(`email.security must be starttls | tls | none, got ${JSON.stringify(s.security)}`);
  const port = s.port ?? (security === 'tls' ? 465 : security === 'none' ? 25 : 587);
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw new RangeError(`email.port must be 1..65535, got ${JSON.stringify(s.port)}`);
  const addr = /<([^>]*)>\s*$/.exec(s.from ?? '')?.[1] ?? s.from;
  if (typeof addr !== 'string' || !ADDRESS.test(addr)) throw new TypeError(`email.from must be an email address, got ${JSON.stringify(s.from)}`);
  if (s.allowSelfSigned !== undefined && typeof s.allowSelfSigned !== 'boolean') throw new TypeError(`email.allowSelfSigned must be true or false, got ${JSON.stringify(s.allowSelfSigned)}`);
  if (s.ca !== undefined && !/-----BEGIN CERTIFICATE-----/.test(s.ca)) throw new TypeError('email.ca must be a PEM certificate (-----BEGIN CERTIFICATE-----)');
  const timeoutMs = s.timeoutMs ?? 15_000;
  if (!Number.isFinite(timeoutMs) || timeoutMs < 100 || timeoutMs > 300_000) throw new RangeError(`email.timeoutMs must be 100..300000, got ${JSON.stringify(s.timeoutMs)}`);
  return { port, security, timeoutMs };
}

/** Transport options for nodemailer (exported for tests: what TLS and auth settings are used). */
export function smtpOptions(s: EmailSettings, c: EmailCredentials = {}): SMTPTransport.Options {
  const { port, security, timeoutMs } = check(s);
  if (c.password && !c.user) throw new TypeError('email credentials: a password needs a user name');
  return {
    host: s.host,
    port,
    secure: security === 'tls',
    requireTLS: security === 'starttls',
    ignoreTLS: security === 'none',
    auth: c.user ? { user: c.user, pass: c.password ?? '' } : undefined,
    tls: { rejectUnauthorized: s.allowSelfSigned !== true, ...(s.ca ? { ca: s.ca } : {}) },
    connectionTimeout: timeoutMs,
    greetingTimeout: timeoutMs,
    socketTimeout: timeoutMs,
    disableFileAccess: true,
    disableUrlAccess: true,
  };
}

/** Errors a retry cannot fix: rejected login, rejected addresses, permanent (5xx) answers, bad certificates. */
function permanent(err: { code?: string; responseCode?: number; message?: string }): boolean {
  if (err.code === 'EAUTH' || err.code === 'EENVELOPE') return true;
  if (typeof err.responseCode === 'number' && err.responseCode >= 500) return true;
  return /certificate|self[- ]signed|CERT_/i.test(err.message ?? '');
}

export function createEmailChannel(settings: EmailSettings, credentials: EmailCredentials = {}): Channel {
  const options = smtpOptions(settings, credentials);
  const transport = nodemailer.createTransport(options);
  const server = `${options.host}:${options.port}`;
  return {
    name: 'email',
    audience: 'recipient',
    async send(batch: Batch): Promise<void> {
      const to = batch.recipient?.email;
      if (!to || !ADDRESS.test(to)) {
        throw new ChannelError('email', `recipient ${JSON.stringify(batch.recipient?.userId ?? null)} has no valid email address (got ${JSON.stringify(to ?? null)})`, false);
      }
      const m = renderBatch(batch, { timeZone: settings.timeZone, product: settings.product });
      try {
        await transport.sendMail({ from: settings.from, to, subject: m.subject, text: m.text, html: m.html });
      } catch (e) {
        const err = e as { code?: string; responseCode?: number; message?: string };
        const what = err.code === 'EAUTH'
          ? `the SMTP server ${server} rejected the login of user ${JSON.stringify(credentials.user ?? '')}`
          : `sending to ${to} through ${server} failed`;
        throw new ChannelError('email', `${what}: ${scrub(err.message ?? String(e), credentials.password)}`, !permanent(err));
      }
    },
    async close(): Promise<void> { transport.close(); },
  };
}
