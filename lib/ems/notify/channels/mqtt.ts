/**
 * MQTT: each alarm's current state retained on `<prefix>/alarms/<alarmId>` (a cleared alarm's
 * retained state says "cleared"), and every transition on `<prefix>/events/alarms` without retain.
 * QoS 1. Connecting and each publish are bounded in time; reconnects are spaced.
 */
import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';
import { bounded, redactUrl, scrub } from '../../../clients/bounded-fetch';
import { ChannelError, type AlarmNotification, type Batch, type Channel } from '../types';

export interface MqttSettings {
  /** mqtt://host:1883 or mqtts://host:8883 (also ws/wss). */
  url: string;
  /** Topic prefix, default "ems". */
  prefix?: string;
  clientId?: string;
  /** How long send() waits for a connection, and each publish for its PUBACK, ms; default 10000. */
  timeoutMs?: number;
  /** Pause between reconnect attempts, ms; default 5000. */
  reconnectPeriodMs?: number;
  /** PEM CA to trust for mqtts. */
  ca?: string;
  /** Accept any broker certificate; off unless set to true. */
  allowSelfSigned?: boolean;
}

export interface MqttCredentials { username?: string; password?: string }

const TOPIC_LEVEL = /^[^+#\u0000/]+$/;

function checkPrefix(prefix: string): string {
  if (typeof prefix !== 'string' || prefix === '' || prefix.split('/').some((l) => !TOPIC_LEVEL.test(l))) {
    throw new TypeError(`mqtt.prefix must be topic levels without +, # or empty levels, got ${JSON.stringify(prefix)}`);
  }
  return prefix;
}

/** The retained state topic of an alarm. */
export function alarmTopic(prefix: string, alarmId: string): string {
  if (!TOPIC_LEVEL.test(alarmId)) throw new ChannelError('mqtt', `alarmId ${JSON.stringify(alarmId)} cannot be a topic level (no /, + or #)`, false);
  return `${prefix}/alarms/${alarmId}`;
}

export function eventsTopic(prefix: string): string { return `${prefix}/events/alarms`; }

export function createMqttChannel(settings: MqttSettings, credentials: MqttCredentials = {}): Channel {
  let u: URL;
  try { u = new URL(settings.url); } catch { throw new TypeError(`mqtt.url must be a URL like mqtt://host:1883, got ${JSON.stringify(redactUrl(String(settings.url)))}`); }
  if (!['mqtt:', 'mqtts:', 'ws:', 'wss:'].includes(u.protocol)) throw new TypeError(`mqtt.url must use mqtt, mqtts, ws or wss, got ${JSON.stringify(u.protocol)}`);
  if (u.username || u.password) throw new TypeError('mqtt.url must not hold a user name or password; use the credentials');
  const prefix = checkPrefix(settings.prefix ?? 'ems');
  const timeoutMs = bounded(settings.timeoutMs, 10_000, 100, 120_000, 'mqtt.timeoutMs');
  const reconnectPeriod = bounded(settings.reconnectPeriodMs, 5_000, 100, 600_000, 'mqtt.reconnectPeriodMs');
  const where = redactUrl(settings.url);
  const opts: IClientOptions = {
    clientId: settings.clientId,
    username: credentials.username,
    password: credentials.password,
    connectTimeout: timeoutMs,
    reconnectPeriod,
    protocolVersion: 4,
    clean: true,
    rejectUnauthorized: settings.allowSelfSigned !== true,
    ...(settings.ca ? { ca: settings.ca } : {}),
  };
  let client: MqttClient | undefined;
  let lastError = '';
  const secret = credentials.password;

  function connected(): Promise<MqttClient> {
    if (!client) {
      client = mqtt.connect(settings.url, opts);
      client.on('error', (e) => { lastError = scrub(e.message, secret); });
    }
    const c = client;
    if (c.connected) return Promise.resolve(c);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => { c.off('connect', ok); reject(new ChannelError('mqtt', `not connected to ${where} within ${timeoutMs} ms${lastError ? `: ${lastError}` : ''}`)); }, timeoutMs);
      function ok() { clearTimeout(timer); resolve(c); }
      c.once('connect', ok);
    });
  }

  function publish(c: MqttClient, topic: string, payload: string, retain: boolean): Promise<void> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new ChannelError('mqtt', `no PUBACK from ${where} for ${topic} within ${timeoutMs} ms`)), timeoutMs);
      c.publish(topic, payload, { qos: 1, retain }, (err) => {
        clearTimeout(timer);
        if (err) reject(new ChannelError('mqtt', `publishing ${topic} to ${where} failed: ${scrub(err.message, secret)}`));
        else resolve();
      });
    });
  }

  return {
    name: 'mqtt',
    audience: 'shared',
    async send(batch: Batch): Promise<void> {
      const ordered: AlarmNotification[] = [...batch.notifications].sort((a, b) => a.at - b.at);
      const topics = ordered.map((n) => alarmTopic(prefix, n.alarmId));
      const c = await connected();
      for (let i = 0; i < ordered.length; i++) {
        const payload = JSON.stringify(ordered[i]);
        await publish(c, topics[i], payload, true);
        await publish(c, eventsTopic(prefix), payload, false);
      }
    },
    async close(): Promise<void> {
      const c = client;
      client = undefined;
      if (c) await new Promise<void>((r) => c.end(false, {}, () => r()));
    },
  };
}
