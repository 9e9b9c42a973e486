/**
 * Uplink events as network servers publish them over MQTT, normalised to one shape:
 * - ChirpStack v4, topic application/{applicationId}/device/{devEui}/event/up (JSON, protobuf JSON
 *   mapping): deviceInfo.devEui, fCnt, fPort, data (base64 FRMPayload, decrypted), object (codec
 *   output), rxInfo[] {gatewayId, rssi, snr}, time, deduplicationId.
 * - The Things Stack v3, topic v3/{app}@{tenant}/devices/{device}/up: end_device_ids.dev_eui,
 *   uplink_message {f_cnt, f_port, frm_payload, decoded_payload, rx_metadata[] {gateway_ids, rssi, snr},
 *   received_at}, received_at. Empty fields are omitted by TTS (f_cnt 0, f_port 0 ...).
 * - raw: {phyPayload | payload: hex/base64 PHYPayload, devEui?, gateway?, rssi?, snr?}.
 */
import { toBytes } from './phy';

export type UplinkFormat = 'chirpstack' | 'tts' | 'raw';

export interface Gateway { id: string; rssi?: number; snr?: number }

export interface Uplink {
  format: UplinkFormat;
  devEui?: string;
  devAddr?: string;
  /** Network-server frame counter (already 32-bit); raw frames fill it after the MIC check. */
  fCnt?: number;
  fPort?: number;
  /** Decrypted FRMPayload (ChirpStack, TTS); raw frames carry `phyPayload` instead. */
  payload?: Buffer;
  phyPayload?: Buffer;
  /** The NS codec's output (ChirpStack object, TTS decoded_payload). */
  object?: Record<string, unknown>;
  gateways: Gateway[];
  /** Epoch ms the NS received the uplink (or undefined). */
  time?: number;
  /** Device name / id on the NS, for messages. */
  deviceName?: string;
}

const CHIRPSTACK_TOPIC = /^application\/([^/]+)\/device\/([0-9a-fA-F]{16})\/event\/([^/]+)$/;
const TTS_TOPIC = /^v3\/([^/]+)\/devices\/([^/]+)\/([^/]+)$/;

export function normaliseEui(eui: unknown, field: string): string {
  const s = typeof eui === 'string' ? eui.replace(/[-:\s]/g, '').toLowerCase() : '';
  if (!/^[0-9a-f]{16}$/.test(s)) throw new Error(`${field} must be an EUI-64 (16 hex digits), got ${JSON.stringify(eui)}`);
  return s;
}

function parseTime(v: unknown): number | undefined {
  if (typeof v !== 'string') return undefined;
  const t = Date.parse(v.replace(/(\.\d{3})\d+/, '$1'));
  return Number.isFinite(t) ? t : undefined;
}

function num(v: unknown): number | undefined {
  const n = typeof v === 'string' && v.trim() !== '' ? Number(v) : v;
  return typeof n === 'number' && Number.isFinite(n) ? n : undefined;
}

function obj(v: unknown): Record<string, unknown> | undefined {
  return v !== null && typeof v === 'object' && !Array.isArray(v) ? v as Record<string, unknown> : undefined;
}

/** Which format a payload is in, from the topic first and the JSON shape second. */
export function detectFormat(topic: string | undefined, body: unknown): UplinkFormat {
  if (topic && CHIRPSTACK_TOPIC.test(topic)) return 'chirpstack';
  if (topic && TTS_TOPIC.test(topic)) return 'tts';
  const b = obj(body);
  if (b?.deviceInfo || b?.rxInfo) return 'chirpstack';
  if (b?.end_device_ids || b?.uplink_message) return 'tts';
  if (b?.phyPayload !== undefined || typeof body === 'string' || Buffer.isBuffer(body)) return 'raw';
  throw new Error(`cannot tell the uplink format of topic ${JSON.stringify(topic ?? '')}: expected a ChirpStack or TTS uplink event or a PHYPayload`);
}

/** Event topics other than uplinks (join, status, ack...) are ignored: returns the event name, or null for uplinks. */
export function nonUplinkEvent(topic: string | undefined): string | null {
  if (!topic) return null;
  const c = CHIRPSTACK_TOPIC.exec(topic);
  if (c) return c[3] === 'up' ? null : c[3];
  const t = TTS_TOPIC.exec(topic);
  if (t) return t[3] === 'up' ? null : t[3];
  return null;
}

export function parseChirpStack(body: unknown, topic?: string): Uplink {
  const b = obj(body);
  if (!b) throw new Error(`ChirpStack uplink must be a JSON object, got ${JSON.stringify(body)}`);
  const info = obj(b.deviceInfo) ?? {};
  const fromTopic = topic ? CHIRPSTACK_TOPIC.exec(topic)?.[2] : undefined;
  const devEui = normaliseEui(info.devEui ?? fromTopic, 'deviceInfo.devEui');
  const fCnt = num(b.fCnt) ?? 0; // protobuf JSON omits zero values
  const rx = Array.isArray(b.rxInfo) ? b.rxInfo : [];
  return {
    format: 'chirpstack',
    devEui,
    devAddr: typeof b.devAddr === 'string' ? b.devAddr.toLowerCase() : undefined,
    fCnt,
    fPort: num(b.fPort),
    payload: typeof b.data === 'string' && b.data !== '' ? toBytes(b.data, 'data') : undefined,
    object: obj(b.object),
    gateways: rx.map((r) => obj(r) ?? {}).map((r) => ({ id: String(r.gatewayId ?? r.gatewayID ?? ''), rssi: num(r.rssi), snr: num(r.snr) })),
    time: parseTime(b.time),
    deviceName: typeof info.deviceName === 'string' ? info.deviceName : undefined,
  };
}

export function parseTts(body: unknown, topic?: string): Uplink {
  const b = obj(body);
  if (!b) throw new Error(`TTS uplink must be a JSON object, got ${JSON.stringify(body)}`);
  const ids = obj(b.end_device_ids) ?? {};
  const up = obj(b.uplink_message);
  if (!up) throw new Error(`TTS message has no uplink_message (topic ${JSON.stringify(topic ?? '')})`);
  const devEui = normaliseEui(ids.dev_eui, 'end_device_ids.dev_eui');
  const rx = Array.isArray(up.rx_metadata) ? up.rx_metadata : [];
  return {
    format: 'tts',
    devEui,
    devAddr: typeof ids.dev_addr === 'string' ? ids.dev_addr.toLowerCase() : undefined,
    fCnt: num(up.f_cnt) ?? 0, // TTS omits zero values
    fPort: num(up.f_port),
    payload: typeof up.frm_payload === 'string' && up.frm_payload !== '' ? Buffer.from(up.frm_payload, 'base64') : undefined,
    object: obj(up.decoded_payload),
    gateways: rx.map((r) => obj(r) ?? {}).map((r) => {
      const g = obj(r.gateway_ids) ?? {};
      return { id: String(g.eui ?? g.gateway_id ?? ''), rssi: num(r.rssi), snr: num(r.snr) };
    }),
    time: parseTime(up.received_at) ?? parseTime(b.received_at),
    deviceName: typeof ids.device_id === 'string' ? ids.device_id : undefined,
  };
}

export function parseRaw(body: unknown): Uplink {
  const b = obj(body);
  const phy = b ? (b.phyPayload ?? b.payload) : body;
  const gateway = b && (b.gateway ?? b.gatewayId);
  return {
    format: 'raw',
    devEui: b && b.devEui !== undefined ? normaliseEui(b.devEui, 'devEui') : undefined,
    phyPayload: toBytes(phy, 'phyPayload'),
    gateways: gateway !== undefined ? [{ id: String(gateway), rssi: num(b!.rssi), snr: num(b!.snr) }] : [],
    time: b ? parseTime(b.time) : undefined,
  };
}

/** Parses an MQTT message (topic + JSON string/Buffer/object) in the given or detected format. */
export function parseUplink(topic: string | undefined, payload: unknown, format: 'auto' | UplinkFormat = 'auto'): Uplink {
  let body = payload;
  if (Buffer.isBuffer(body) && format !== 'raw') body = body.toString('utf8');
  if (typeof body === 'string' && /^\s*\{/.test(body)) {
    try { body = JSON.parse(body); } catch (err) { throw new Error(`uplink payload is not valid JSON: ${(err as Error).message}`); }
  }
  const f = format === 'auto' ? detectFormat(topic, body) : format;
  if (f === 'chirpstack') return parseChirpStack(body, topic);
  if (f === 'tts') return parseTts(body, topic);
  if (f === 'raw') return parseRaw(body);
  throw new Error(`format must be auto, chirpstack, tts or raw, got ${JSON.stringify(format)}`);
}
