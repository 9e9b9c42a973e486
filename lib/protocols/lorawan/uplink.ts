/**
 * From a normalised uplink to Readings: raw frames are checked (MIC, FCnt replay) and decrypted,
 * repeats of one uplink (several gateways, NS + replay) are dropped, the payload goes through the
 * device's codec or the NS's decoded object, values become canonical Readings.
 */
import { normaliseObis, parseObis } from '../../model/obis';
import type { Reading } from '../../model/reading';
import { roundNoise, toCanonical, unitInfo } from '../../model/units';
import { findCodec, valuesFromObject, type CodecValue } from './codecs';
import type { Gateway, Uplink } from './events';
import { computeMic, cryptFrmPayload, parseDataFrame, reconstructFCnt, toKey } from './phy';

export interface LorawanDevice {
  /** EMS meter id (or the DevEUI when there is no EMS). */
  meterId: string;
  devEui?: string;
  /** Big-endian hex, needed to match raw frames. */
  devAddr?: string;
  /** Codec profile, e.g. "axioma-qalcosonic-w1"; empty = the NS's decoded object. */
  codec?: string;
  nwkSKey?: Buffer;
  appSKey?: Buffer;
}

export interface UplinkDetails {
  format: Uplink['format'];
  devEui?: string;
  devAddr?: string;
  fCnt: number;
  fPort?: number;
  /** Hex of the decrypted FRMPayload. */
  payload?: string;
  codec?: string;
  gateways: Gateway[];
  /** Best RSSI / SNR over the gateways that heard it. */
  rssi?: number;
  snr?: number;
}

export interface UplinkResult {
  readings: Reading[];
  details: UplinkDetails;
}

/** "NwkSKey:AppSKey" (32 hex digits each) as stored in a lorawan meter's password. */
export function parseSessionKeys(text: string, field = 'password'): { nwkSKey: Buffer; appSKey: Buffer } {
  const parts = String(text ?? '').trim().split(/[:;,\s]+/);
  if (parts.length !== 2) throw new Error(`${field} must be "NwkSKey:AppSKey" (two times 32 hex digits), got ${parts.length === 1 && parts[0] === '' ? 'nothing' : `${parts.length} part(s)`}`);
  return { nwkSKey: toKey(parts[0], `${field} NwkSKey`), appSKey: toKey(parts[1], `${field} AppSKey`) };
}

/** Insertion-ordered map trimmed to a bound: the oldest entries go first. */
class Bounded<V> extends Map<string, V> {
  constructor(private readonly limit: number) { super(); }
  override set(key: string, value: V): this {
    if (this.has(key)) this.delete(key);
    super.set(key, value);
    while (this.size > this.limit) this.delete(this.keys().next().value as string);
    return this;
  }
}

export interface ProcessorOptions {
  /** Uplinks remembered for de-duplication (default 10000). */
  dedupSize?: number;
  /** Devices whose last FCnt is remembered (default 10000). */
  devices?: number;
  now?: () => number;
}

export class UplinkProcessor {
  private readonly seen: Bounded<true>;
  private readonly lastFCnt: Bounded<number>;
  private readonly now: () => number;
  duplicates = 0;

  constructor(opts: ProcessorOptions = {}) {
    this.seen = new Bounded(opts.dedupSize ?? 10_000);
    this.lastFCnt = new Bounded(opts.devices ?? 10_000);
    this.now = opts.now ?? Date.now;
  }

  /** Sets the last accepted FCnt of a device (e.g. restored after a restart). */
  setLastFCnt(device: string, fCnt: number): void { this.lastFCnt.set(device, fCnt); }
  getLastFCnt(device: string): number | undefined { return this.lastFCnt.get(device); }

  /** Returns null for a repeat of an uplink already counted; throws naming device, FCnt and reason. */
  process(up: Uplink, device: LorawanDevice): UplinkResult | null {
    const name = device.devEui ?? up.devEui ?? device.devAddr ?? device.meterId;
    let fCnt: number;
    let fPort = up.fPort;
    let payload = up.payload;
    let devAddr = up.devAddr;
    let key: string;
    if (up.format === 'raw') {
      const frame = parseDataFrame(up.phyPayload!);
      if (frame.dir !== 0) throw new Error(`device ${name}: frame is a downlink (${frame.mtype}), not an uplink`);
      devAddr = frame.devAddr;
      if (device.devAddr && device.devAddr.toLowerCase() !== frame.devAddr) throw new Error(`device ${name}: frame DevAddr ${frame.devAddr} is not the device's ${device.devAddr}`);
      if (!device.nwkSKey || !device.appSKey) throw new Error(`device ${name}: raw frames need the session keys NwkSKey and AppSKey`);
      const last = this.lastFCnt.get(name);
      fCnt = reconstructFCnt(frame.fCnt16, last);
      key = `${name}:${fCnt}:${frame.mic.toString('hex')}`;
      if (this.seen.has(key)) { this.duplicates++; return null; }
      const mic = computeMic(frame, device.nwkSKey, fCnt);
      if (!mic.equals(frame.mic)) throw new Error(`device ${name} FCnt ${fCnt}: bad MIC (frame ${frame.mic.toString('hex')}, computed ${mic.toString('hex')} with the NwkSKey): wrong key or corrupted frame, uplink dropped`);
      if (last !== undefined && fCnt <= last) throw new Error(`device ${name} FCnt ${fCnt}: replayed frame counter (last accepted ${last}), uplink dropped`);
      this.lastFCnt.set(name, fCnt);
      fPort = frame.fPort;
      payload = fPort === undefined ? undefined : cryptFrmPayload(frame, fPort === 0 ? device.nwkSKey : device.appSKey, fCnt);
    } else {
      fCnt = up.fCnt ?? 0;
      key = `${name}:${fCnt}`;
      if (this.seen.has(key)) { this.duplicates++; return null; }
    }
    this.seen.set(key, true);

    const values = this.values(up, device, name, fCnt, fPort, payload);
    const time = up.time ?? this.now();
    const readings = values.map((v) => toReading(device.meterId, v, time));
    const rssi = up.gateways.map((g) => g.rssi).filter((x): x is number => x !== undefined);
    const snr = up.gateways.map((g) => g.snr).filter((x): x is number => x !== undefined);
    return {
      readings,
      details: {
        format: up.format, devEui: device.devEui ?? up.devEui, devAddr, fCnt, fPort,
        payload: payload?.toString('hex'), codec: device.codec || undefined, gateways: up.gateways,
        rssi: rssi.length ? Math.max(...rssi) : undefined, snr: snr.length ? Math.max(...snr) : undefined,
      },
    };
  }

  private values(up: Uplink, device: LorawanDevice, name: string, fCnt: number, fPort: number | undefined, payload: Buffer | undefined): CodecValue[] {
    if (fPort === 0 || (fPort === undefined && !payload && !up.object)) return []; // MAC commands only
    try {
      if (device.codec) {
        const { codec, param } = findCodec(device.codec);
        if (!payload) throw new Error('the uplink carries no FRMPayload');
        return codec.decode(payload, fPort, param);
      }
      if (up.object) return valuesFromObject(up.object);
    } catch (err) {
      throw new Error(`device ${name} FCnt ${fCnt}: ${(err as Error).message}`);
    }
    throw new Error(`device ${name} FCnt ${fCnt}: no codec is chosen (meter profile) and the network server sent no decoded object`);
  }
}

/** A codec value as a canonical Reading; heat energy given in Wh/kWh/MWh becomes GJ. */
export function toReading(meter: string, v: CodecValue, defaultTime: number): Reading {
  const obis = normaliseObis(v.obis);
  let { value, unit } = toCanonical(v.value, v.unit);
  if (parseObis(obis).medium === 6 && unitInfo(unit).dimension === 'active energy') {
    value = roundNoise(value * 0.0036);
    unit = 'GJ';
  }
  return { meter, time: v.time ?? defaultTime, obis, value, unit, ...(v.quality ? { quality: v.quality } : {}) };
}
