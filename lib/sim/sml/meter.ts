/**
 * A simulated eHZ household meter pushing SML telegrams: power 16.7.0 follows a 4-hour cycle from
 * -600 W (exporting, e.g. PV at noon) to +1200 W; import 1.8.0 and export 2.8.0 (Wh, 0.1 Wh steps)
 * integrate it. `speed` simulated hours pass per real hour.
 */
import { encodeTelegram, obisBytes, type EntrySpec } from '../../protocols/sml/encode';
import { num, octets } from '../../protocols/sml/tl';

export interface SimSmlMeterOptions {
  /** Server id bytes (default 0a 01 "EMH" 00 + serial 12345678). */
  serverId?: Buffer;
  speed?: number;
  /** Register start values, Wh. */
  importWh?: number;
  exportWh?: number;
  now?: () => number;
}

export const DEFAULT_SERVER_ID = Buffer.from('0a01454d480000bc614e', 'hex');

/** Power in W at simulated hour `h`. */
export function simPower(h: number): number {
  return 300 + 900 * Math.sin((2 * Math.PI * h) / 4);
}

export class SimSmlMeter {
  readonly serverId: Buffer;
  importWh: number;
  exportWh: number;
  powerW = 0;
  telegrams = 0;
  private readonly now: () => number;
  private readonly started: number;
  private last: number;
  /** Simulated seconds since start. */
  private simSeconds = 0;

  constructor(readonly o: SimSmlMeterOptions = {}) {
    this.serverId = o.serverId ?? DEFAULT_SERVER_ID;
    this.importWh = o.importWh ?? 12_345_678.9;
    this.exportWh = o.exportWh ?? 1_234_567.8;
    this.now = o.now ?? Date.now;
    this.started = this.now();
    this.last = this.started;
    this.powerW = simPower(0);
  }

  /** Integrates power up to now (steps of at most 60 simulated seconds). */
  advance(): void {
    const t = this.now();
    let left = ((t - this.last) / 1000) * (this.o.speed ?? 1);
    this.last = t;
    const steps = Math.min(10_000, Math.ceil(left / 60));
    const dt = steps ? left / steps : 0;
    for (let i = 0; i < steps; i++, left -= dt) {
      const p = simPower((this.simSeconds + dt / 2) / 3600);
      if (p >= 0) this.importWh += (p * dt) / 3600;
      else this.exportWh += (-p * dt) / 3600;
      this.simSeconds += dt;
    }
    this.powerW = simPower(this.simSeconds / 3600);
  }

  /** The registers as the telegram carries them (0.1 Wh, whole W). */
  registers(): { importWh: number; exportWh: number; powerW: number } {
    return { importWh: Math.floor(this.importWh * 10) / 10, exportWh: Math.floor(this.exportWh * 10) / 10, powerW: Math.round(this.powerW) };
  }

  /** Advances to now and builds the next telegram. */
  telegram(): Buffer {
    this.advance();
    const r = this.registers();
    const status = num(0x0182, 2);
    const entries: EntrySpec[] = [
      { objName: obisBytes('129-129:199.130.3'), value: octets('EMH') },
      { objName: obisBytes('1-0:0.0.9'), value: octets(this.serverId) },
      { objName: obisBytes('1-0:1.8.0'), status, unit: 30, scaler: -1, value: num(Math.round(r.importWh * 10), 8) },
      { objName: obisBytes('1-0:2.8.0'), status, unit: 30, scaler: -1, value: num(Math.round(r.exportWh * 10), 8) },
      { objName: obisBytes('1-0:16.7.0'), unit: 27, scaler: 0, value: num(r.powerW, 4, true) },
    ];
    const n = this.telegrams++;
    const secIndex = Math.floor((this.now() - this.started) / 1000) + 1_000_000;
    return encodeTelegram({ serverId: this.serverId, transaction: 0x10000 + n * 3, secIndex, entries });
  }
}
