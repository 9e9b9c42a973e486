/**
 * Simulated wireless M-Bus meters: water, heat and gas meters whose registers rise with time, each sending
 * an OMS telegram (short header, security mode 5 or 7 with its key, or none) when asked.
 */
import { encodeWmbus, type FrameFormat } from '../../protocols/wmbus';

export type WmbusMeterKind = 'water' | 'heat' | 'gas';
export const KINDS: readonly WmbusMeterKind[] = ['water', 'heat', 'gas'];
const DEVICE_TYPE: Record<WmbusMeterKind, number> = { water: 0x07, heat: 0x04, gas: 0x03 };

export interface SimMeterSpec {
  id: string;
  kind: WmbusMeterKind;
  mode: 0 | 5 | 7;
  key?: Buffer;
  manufacturer?: string;
  format?: FrameFormat;
}

export class SimWmbusMeter {
  accessNumber: number;
  messageCounter = 1;
  /** Litres (water, gas, heat circuit volume) and kWh (heat). */
  litres: number;
  kwh: number;
  private lastAt: number;

  constructor(readonly spec: SimMeterSpec, start: number, seed: number) {
    this.accessNumber = seed & 0xff;
    this.litres = 10_000 + (seed % 1000) * 37;
    this.kwh = 5_000 + (seed % 1000) * 11;
    this.lastAt = start;
  }

  /** Advances the registers to `now` (a household's use: about 6 l and 0.5 kWh a minute, speeded up). */
  advance(now: number, speed = 1): void {
    const minutes = Math.max(0, now - this.lastAt) / 60_000 * speed;
    this.lastAt = now;
    this.litres += Math.round(minutes * 6);
    this.kwh += Math.round(minutes * 0.5 * 1000) / 1000;
  }

  /** The application records of the current values. */
  records(): Buffer {
    const out: number[] = [];
    const u32 = (dif: number, vif: number, v: number) => { const b = Buffer.alloc(4); b.writeUInt32LE(Math.round(v) >>> 0); out.push(dif, vif, ...b); };
    const i16 = (vif: number, v: number) => { const b = Buffer.alloc(2); b.writeInt16LE(Math.round(v)); out.push(0x02, vif, ...b); };
    if (this.spec.kind === 'heat') {
      u32(0x04, 0x06, this.kwh); // energy, kWh
      u32(0x04, 0x13, this.litres); // volume, litres
      i16(0x59, 6000 + (this.accessNumber % 50) * 10); // flow temperature, 0.01 degC
      i16(0x5d, 4000 + (this.accessNumber % 30) * 10); // return temperature
    } else {
      u32(0x04, 0x13, this.litres); // volume, litres
    }
    out.push(0x02, 0xfd, 0x17, 0x00, 0x00); // error flags: none
    return Buffer.from(out);
  }

  /** The next telegram (access number and message counter count up). */
  telegram(): Buffer {
    this.accessNumber = (this.accessNumber + 1) & 0xff;
    this.messageCounter++;
    return encodeWmbus({
      manufacturer: this.spec.manufacturer ?? 'EMS', id: this.spec.id, version: 1, deviceType: DEVICE_TYPE[this.spec.kind],
      accessNumber: this.accessNumber, records: this.records(), mode: this.spec.mode, key: this.spec.key,
      messageCounter: this.messageCounter, format: this.spec.format ?? 'none', tpl: this.spec.mode === 7 ? 'long' : 'short',
    });
  }
}
