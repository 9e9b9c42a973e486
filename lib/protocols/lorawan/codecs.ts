/**
 * Payload codecs per meter model (like ChirpStack's codec templates): FRMPayload bytes -> values with
 * OBIS codes and units. Chosen by the meter's profile ("axioma-qalcosonic-w1"); a profile may carry a
 * parameter after a colon ("milesight-em300-di:10" = 10 litres per pulse). Formats follow the
 * vendors' published payload documents; the known-answer examples are in test/lib/lorawan-codecs.test.ts.
 */
import { Quality } from '../../model/quality';

export interface CodecValue {
  obis: string;
  value: number;
  /** Any unit of lib/model/units (converted to the canonical unit by the caller). */
  unit: string;
  /** The meter's own timestamp, epoch ms. */
  time?: number;
  quality?: number;
}

export interface Codec {
  id: string;
  name: string;
  /** What the parameter after ":" in the profile means, if the codec takes one. */
  parameter?: string;
  decode(bytes: Buffer, fPort: number | undefined, param?: string): CodecValue[];
}

function need(cond: boolean, codec: string, what: string): void {
  if (!cond) throw new Error(`${codec}: ${what}`);
}

/** Reads `length` bits starting at bit `start` of `bytes` from `offset`, least significant bit first. */
function bitsLE(bytes: Buffer, offset: number, start: number, length: number): number {
  let v = 0;
  for (let i = 0; i < length; i++) {
    const bit = start + i;
    const byte = offset + (bit >> 3);
    if (byte < bytes.length && bytes[byte] & (1 << (bit & 7))) v += 2 ** i;
  }
  return v;
}

/**
 * Axioma Qalcosonic W1 ultrasonic water meter, "enhanced 24h" frame on FPort 100 (51 bytes):
 * version 0x01, meter time uint32 LE (unix s), status, volume at the start of the log uint32 LE (litres),
 * 23 hourly deltas of 14 bits LE-packed (litres). Current volume = log volume + sum of deltas.
 * Status bits: 0x04 low battery, 0x08 permanent error, 0x10 temporary error -> SUSPECT.
 */
const axiomaW1: Codec = {
  id: 'axioma-qalcosonic-w1',
  name: 'Axioma Qalcosonic W1 water meter (FPort 100, enhanced 24h frame)',
  decode(bytes, fPort) {
    need(fPort === undefined || fPort === 100, this.id, `expects FPort 100, got ${fPort}`);
    need(bytes.length === 51, this.id, `expects a 51-byte frame, got ${bytes.length} bytes`);
    need(bytes[0] === 0x01, this.id, `frame version 0x${bytes[0].toString(16)} is not supported (0x01)`);
    const time = bytes.readUInt32LE(1) * 1000;
    const status = bytes[5];
    const logLitres = bytes.readUInt32LE(6);
    let deltas = 0;
    for (let i = 0; i < 23; i++) deltas += bitsLE(bytes, 10, i * 14, 14);
    const quality = status & 0x18 ? Quality.SUSPECT : undefined;
    return [{ obis: '8-0:1.0.0', value: logLitres + deltas, unit: 'l', time, ...(quality ? { quality } : {}) }];
  },
};

/**
 * Milesight channel/type/value records (little-endian), as the WS52x smart socket and EM300-DI
 * pulse counter send them on FPort 85.
 */
function milesightRecords(bytes: Buffer, codec: string): Map<string, number> {
  const sizes: Record<string, number> = { '0175': 1, '0374': 2, '0480': 4, '0581': 1, '0683': 4, '07c9': 2, '0870': 1, '05c8': 4, 'ff01': 1, 'ff09': 2, 'ff0a': 2, 'ff0b': 1, 'ff0f': 1, 'ff16': 8, 'ff3f': 1 };
  const out = new Map<string, number>();
  for (let i = 0; i < bytes.length;) {
    need(i + 2 <= bytes.length, codec, `record header cut short at byte ${i}`);
    const key = bytes.subarray(i, i + 2).toString('hex');
    const size = sizes[key];
    need(size !== undefined, codec, `unknown channel 0x${key.slice(0, 2)} type 0x${key.slice(2)} at byte ${i}`);
    need(i + 2 + size <= bytes.length, codec, `record 0x${key} at byte ${i} needs ${size} bytes`);
    const v = bytes.subarray(i + 2, i + 2 + size);
    if (size <= 4) out.set(key, key === '0480' ? v.readInt32LE(0) : v.readUIntLE(0, size));
    i += 2 + size;
  }
  return out;
}

/** Milesight WS52x smart socket (electricity): voltage 0.1 V, active power W, power factor %, energy Wh, current mA. */
const milesightWs52x: Codec = {
  id: 'milesight-ws52x',
  name: 'Milesight WS52x smart socket (electricity, FPort 85)',
  decode(bytes) {
    const r = milesightRecords(bytes, this.id);
    const out: CodecValue[] = [];
    if (r.has('0683')) out.push({ obis: '1-0:1.8.0', value: r.get('0683')!, unit: 'Wh' });
    if (r.has('0374')) out.push({ obis: '1-0:32.7.0', value: r.get('0374')! / 10, unit: 'V' });
    if (r.has('0480')) out.push({ obis: '1-0:1.7.0', value: r.get('0480')!, unit: 'W' });
    if (r.has('07c9')) out.push({ obis: '1-0:31.7.0', value: r.get('07c9')!, unit: 'mA' });
    if (r.has('0581')) out.push({ obis: '1-0:13.7.0', value: r.get('0581')!, unit: '%' });
    return out;
  },
};

/** Milesight EM300-DI pulse counter on a water meter's pulse output: count x litres per pulse. */
const milesightEm300Di: Codec = {
  id: 'milesight-em300-di',
  name: 'Milesight EM300-DI pulse counter on a water meter (FPort 85)',
  parameter: 'litres per pulse (default 1)',
  decode(bytes, _fPort, param) {
    const factor = param === undefined || param === '' ? 1 : Number(param);
    need(Number.isFinite(factor) && factor > 0, this.id, `litres per pulse must be a positive number, got ${JSON.stringify(param)}`);
    const r = milesightRecords(bytes, this.id);
    return r.has('05c8') ? [{ obis: '8-0:1.0.0', value: r.get('05c8')! * factor, unit: 'l' }] : [];
  },
};

export const CODECS: Record<string, Codec> = Object.fromEntries([axiomaW1, milesightWs52x, milesightEm300Di].map((c) => [c.id, c]));

/** "milesight-em300-di:10" -> the codec and its parameter; throws naming the profile when unknown. */
export function findCodec(profile: string): { codec: Codec; param?: string } {
  const [id, ...rest] = profile.trim().split(':');
  const codec = CODECS[id.toLowerCase()];
  if (!codec) throw new Error(`unknown LoRaWAN codec ${JSON.stringify(profile)}: use one of ${Object.keys(CODECS).join(', ')} (or none for the network server's decoded object)`);
  return { codec, param: rest.length ? rest.join(':') : undefined };
}

/**
 * Field names of decoded objects (ChirpStack `object`, TTS `decoded_payload`) -> OBIS and unit.
 * Keys are compared lower-case without "_", "-" or spaces; a value may also be {value, unit}.
 */
const OBJECT_FIELDS: [names: string[], obis: string, unit: string][] = [
  [['energykwh', 'totalenergykwh', 'activeenergykwh', 'activeenergyimport', 'kwh', 'energyimportkwh'], '1-0:1.8.0', 'kWh'],
  [['energywh', 'totalenergywh', 'activeenergywh', 'wh', 'energy', 'powerconsumption'], '1-0:1.8.0', 'Wh'],
  [['energyexportkwh', 'activeenergyexport'], '1-0:2.8.0', 'kWh'],
  [['voltage', 'voltagev'], '1-0:32.7.0', 'V'],
  [['power', 'powerw', 'activepower', 'activepowerw'], '1-0:1.7.0', 'W'],
  [['currentvolumem3', 'volumem3', 'volume', 'watervolume', 'watervolumem3', 'indexm3', 'totalvolume', 'meterreadingm3'], '8-0:1.0.0', 'm3'],
  [['volumel', 'volumeliters', 'volumelitres', 'currentvolumel', 'waterl', 'totalvolumel'], '8-0:1.0.0', 'l'],
  [['gasvolume', 'gasvolumem3', 'gasm3'], '7-0:3.0.0', 'm3'],
  [['heatenergykwh', 'heatkwh'], '6-0:1.0.0', 'kWh'],
  [['heatenergymwh', 'heatmwh'], '6-0:1.0.0', 'MWh'],
  [['heatenergygj', 'heatgj', 'heatenergy'], '6-0:1.0.0', 'GJ'],
];
const BY_NAME = new Map<string, { obis: string; unit: string }>();
for (const [names, obis, unit] of OBJECT_FIELDS) for (const n of names) BY_NAME.set(n, { obis, unit });

/** Values of a network server's decoded object that the table knows; other fields are left out. */
export function valuesFromObject(object: Record<string, unknown>): CodecValue[] {
  const out: CodecValue[] = [];
  const seen = new Set<string>();
  for (const [key, raw] of Object.entries(object)) {
    const f = BY_NAME.get(key.toLowerCase().replace(/[_\-\s]/g, ''));
    if (!f || seen.has(f.obis)) continue;
    const v = raw !== null && typeof raw === 'object' ? (raw as Record<string, unknown>).value : raw;
    const unit = raw !== null && typeof raw === 'object' && typeof (raw as Record<string, unknown>).unit === 'string' ? (raw as { unit: string }).unit : f.unit;
    const n = typeof v === 'string' && v.trim() !== '' ? Number(v) : v;
    if (typeof n !== 'number' || !Number.isFinite(n)) continue;
    seen.add(f.obis);
    out.push({ obis: f.obis, value: n, unit });
  }
  return out;
}
