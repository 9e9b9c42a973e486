/**
 * The notification feeds' settings as the ems-system node holds them (plain text fields, secrets as
 * Node-RED credentials), each falling back to an environment variable, and the channels built from them.
 * A feed whose main field is empty is off. A bad field throws naming the field and its value (never a secret).
 */
import { createEmailChannel, type SmtpSecurity } from './channels/email';
import { createMqttChannel } from './channels/mqtt';
import { createWebhookChannel } from './channels/webhook';
import type { FeedChannels } from './service';

export interface NotifyConfig {
  smtpHost?: string;
  smtpPort?: string | number;
  smtpSecurity?: string;
  smtpFrom?: string;
  smtpUser?: string;
  smtpPassword?: string;
  /** "true" accepts a self-signed server certificate. */
  smtpAllowSelfSigned?: string | boolean;
  mqttUrl?: string;
  mqttPrefix?: string;
  mqttUser?: string;
  mqttPassword?: string;
  webhookUrl?: string;
  webhookSecret?: string;
  /** The dashboard's base URL for links in messages. */
  dashboardUrl?: string;
}

/** Each field's environment variable. */
export const NOTIFY_ENV: Record<keyof NotifyConfig, string> = {
  smtpHost: 'EMS_SMTP_HOST',
  smtpPort: 'EMS_SMTP_PORT',
  smtpSecurity: 'EMS_SMTP_SECURITY',
  smtpFrom: 'EMS_SMTP_FROM',
  smtpUser: 'EMS_SMTP_USER',
  smtpPassword: 'EMS_SMTP_PASSWORD',
  smtpAllowSelfSigned: 'EMS_SMTP_ALLOW_SELF_SIGNED',
  mqttUrl: 'EMS_NOTIFY_MQTT_URL',
  mqttPrefix: 'EMS_NOTIFY_MQTT_PREFIX',
  mqttUser: 'EMS_NOTIFY_MQTT_USER',
  mqttPassword: 'EMS_NOTIFY_MQTT_PASSWORD',
  webhookUrl: 'EMS_WEBHOOK_URL',
  webhookSecret: 'EMS_WEBHOOK_SECRET',
  dashboardUrl: 'EMS_DASHBOARD_URL',
};

const text = (v: unknown): string | undefined => (typeof v === 'string' && v.trim() !== '' ? v.trim() : typeof v === 'number' ? String(v) : undefined);

/** The configured value of every field, else its environment variable's. */
export function withNotifyEnv(configured: NotifyConfig, env: Record<string, string | undefined>): NotifyConfig {
  const out: NotifyConfig = {};
  for (const [field, name] of Object.entries(NOTIFY_ENV) as [keyof NotifyConfig, string][]) {
    const v = text(configured[field]) ?? text(env[name]);
    if (v !== undefined) (out as Record<string, string>)[field] = v;
  }
  return out;
}

/** The feeds a configuration turns on; a feed with a bad setting stays off and its problem is listed (naming the field). */
export function feedChannels(c: NotifyConfig, timeZone: string): { channels: FeedChannels; problems: string[] } {
  const channels: FeedChannels = {};
  const problems: string[] = [];
  const build = (feed: string, make: () => void) => {
    try { make(); } catch (err) { problems.push(`${feed} notifications are off: ${(err as Error).message}`); }
  };
  if (c.smtpHost) {
    build('email', () => {
      if (!c.smtpFrom) throw new TypeError('smtpFrom (EMS_SMTP_FROM) is needed with an SMTP host: the sender address, e.g. "EMS <ems@example.com>"');
      let port: number | undefined;
      if (c.smtpPort !== undefined) {
        port = Number(c.smtpPort);
        if (!Number.isInteger(port)) throw new RangeError(`smtpPort must be a port number, got ${JSON.stringify(c.smtpPort)}`);
      }
      const allow = String(c.smtpAllowSelfSigned ?? 'false');
      if (allow !== 'true' && allow !== 'false') throw new TypeError(`smtpAllowSelfSigned must be true or false, got ${JSON.stringify(c.smtpAllowSelfSigned)}`);
      channels.email = createEmailChannel(
        { host: c.smtpHost!, port, security: c.smtpSecurity as SmtpSecurity | undefined, from: c.smtpFrom, allowSelfSigned: allow === 'true', timeZone },
        { user: c.smtpUser, password: c.smtpPassword },
      );
    });
  }
  if (c.mqttUrl) build('MQTT', () => { channels.mqtt = createMqttChannel({ url: c.mqttUrl!, prefix: c.mqttPrefix }, { username: c.mqttUser, password: c.mqttPassword }); });
  if (c.webhookUrl) {
    build('webhook', () => {
      if (!c.webhookSecret) throw new TypeError('webhookSecret (EMS_WEBHOOK_SECRET) is needed with a webhook URL: receivers check the signature with it');
      channels.webhook = createWebhookChannel({ url: c.webhookUrl! }, { secret: c.webhookSecret });
    });
  }
  return { channels, problems };
}
