/**
 * What wireless M-Bus receivers publish, as telegram bytes:
 * - hex text, also wmbusmeters' logged form `telegram=|2E44..._2F2F...|+12` (| and _ ignored);
 * - rtl-wmbus output lines `T1;1;1;2019-04-03 19:00:42.000;97;148;88888888;0x6e44...` (mode; CRC ok;
 *   3-out-of-6 ok; time; RSSI; ...; id; frame): a line whose CRC field is 0 is refused;
 * - JSON (text or object) with the hex in `telegram` (wmbusmeters stdin:json), `frame` (ESPHome
 *   wM-Bus raw MQTT), `_raw` (wmbusmeters --addrawfield), `raw`, `hex` or `data`;
 * - a Buffer (raw bytes, as a serial receiver gives them).
 */
import { WmbusDecodeError } from './errors';

export interface ReceivedTelegram {
  bytes: Buffer;
  /** rtl-wmbus: radio mode (T1, C1, S1) and RSSI as the line gives them. */
  mode?: string;
  rssi?: number;
}

const JSON_FIELDS = ['telegram', 'frame', '_raw', 'raw', 'hex', 'data'] as const;
const MAX_TEXT = 4096;

function hexText(text: string, what: string): Buffer {
  const clean = text.trim().replace(/^telegram=/, '').replace(/\|\+\d+$/, '').replace(/^0x/i, '').replace(/[|_\s:]/g, '');
  if (clean === '' || clean.length % 2 || /[^0-9a-fA-F]/.test(clean)) {
    const shown = text.length > 60 ? `${text.slice(0, 60)}...` : text;
    throw new WmbusDecodeError(`${what} ${JSON.stringify(shown)} is not a hex telegram`);
  }
  return Buffer.from(clean, 'hex');
}

function fromObject(o: Record<string, unknown>): ReceivedTelegram {
  for (const f of JSON_FIELDS) {
    const v = o[f];
    if (typeof v === 'string' && v.trim() !== '') {
      const r: ReceivedTelegram = { bytes: hexText(v, `JSON field "${f}"`) };
      if (typeof o.rssi === 'number') r.rssi = o.rssi;
      else if (typeof o.rssi_dbm === 'number') r.rssi = o.rssi_dbm;
      if (typeof o.mode === 'string') r.mode = o.mode;
      return r;
    }
  }
  throw new WmbusDecodeError(`JSON object has no telegram field (one of ${JSON_FIELDS.join(', ')} with hex)`);
}

export function parseReceived(payload: unknown): ReceivedTelegram {
  if (Buffer.isBuffer(payload)) return { bytes: payload };
  if (payload instanceof Uint8Array) return { bytes: Buffer.from(payload) };
  if (payload && typeof payload === 'object' && !Array.isArray(payload)) return fromObject(payload as Record<string, unknown>);
  if (typeof payload !== 'string') throw new WmbusDecodeError(`payload must be a hex string, a Buffer or a JSON object with a telegram field, got ${Array.isArray(payload) ? 'an array' : typeof payload}`);
  if (payload.length > MAX_TEXT) throw new WmbusDecodeError(`payload of ${payload.length} characters is longer than any telegram (${MAX_TEXT})`);
  const text = payload.trim();
  if (text.startsWith('{')) {
    let o: unknown;
    try { o = JSON.parse(text); } catch { throw new WmbusDecodeError(`payload ${JSON.stringify(text.slice(0, 60))} starts with { but is not JSON`); }
    if (!o || typeof o !== 'object' || Array.isArray(o)) throw new WmbusDecodeError('JSON payload must be an object');
    return fromObject(o as Record<string, unknown>);
  }
  if (text.includes(';')) {
    const f = text.split(';');
    if (f.length < 8 || !/^[A-Z]\d?$/i.test(f[0])) throw new WmbusDecodeError(`line ${JSON.stringify(text.slice(0, 60))} is not an rtl-wmbus line (mode;crc;3of6;time;rssi;...;id;0xhex)`);
    if (f[1] === '0') throw new WmbusDecodeError(`rtl-wmbus line for meter ${f[f.length - 2]} reports a CRC error (CRC field 0)`);
    const r: ReceivedTelegram = { bytes: hexText(f[f.length - 1], 'rtl-wmbus frame'), mode: f[0] };
    const rssi = Number(f[4]);
    if (f[4] !== '' && Number.isFinite(rssi)) r.rssi = rssi;
    return r;
  }
  return { bytes: hexText(text, 'payload') };
}
