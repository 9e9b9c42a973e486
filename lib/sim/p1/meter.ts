/**
 * A simulated DSMR meter's P1 output: DSMR 5.0 (every second), 4.2 (every 10 s) or 2.2 (every 10 s,
 * no CRC, gas in the 0-1:24.3.0 format) telegrams with rising energy registers (tariff 1 at night and
 * at weekends, tariff 2 by day), instantaneous power, voltages and currents, a power failure log and a
 * gas meter on M-Bus channel 1 whose value and timestamp advance every 5 minutes (DSMR 5) or every
 * hour (DSMR 4 and 2.2). Optionally encrypted as Smarty meters do, or with corrupted CRCs.
 */
import { crcHex, p1Crc } from '../../protocols/p1/crc';
import { encryptFrame } from '../../protocols/p1/encrypted';
import { formatP1Timestamp } from '../../protocols/p1/timestamp';
import { HOUR_MS, MINUTE_MS, toLocal } from '../../model/time';

export type P1Version = '5' | '4' | '2.2';

export interface SimP1Options {
  version?: P1Version;
  /** Simulated hours per real hour for the registers (default 1). */
  speed?: number;
  timeZone?: string;
  /** Corrupt every telegram's CRC (DSMR 4/5). */
  fault?: 'crc';
  /** Encrypt each telegram with this AES-128 key (32 hex digits), AAD = 0x30 + the Smarty AK. */
  key?: string;
  equipmentId?: string;
  gasEquipmentId?: string;
}

/** The interval a real meter of each version sends at, ms. */
export const P1_INTERVAL_MS: Record<P1Version, number> = { 5: 1000, 4: 10_000, 2.2: 10_000 };

const hex = (s: string) => Buffer.from(s, 'latin1').toString('hex').toUpperCase();
const fixed = (v: number, int: number, dec: number) => v.toFixed(dec).padStart(int + dec + (dec ? 1 : 0), '0');

export class SimP1Meter {
  readonly version: P1Version;
  /** Energy registers, kWh: import T1, import T2, export T1, export T2. */
  readonly registers = { import1: 1234.567, import2: 2345.678, export1: 12.345, export2: 23.456 };
  gas = 1500.123;
  private last?: number;
  private frameCounter = 1;

  constructor(readonly o: SimP1Options = {}) {
    this.version = o.version ?? '5';
    if (o.fault === 'crc' && this.version === '2.2') throw new Error('DSMR 2.2 telegrams carry no CRC to corrupt');
  }

  private tz(): string {
    return this.o.timeZone ?? 'Europe/Amsterdam';
  }

  /** Tariff 1 (low) from 23:00 to 07:00 and at weekends, else tariff 2. */
  tariffAt(time: number): 1 | 2 {
    const l = toLocal(time, this.tz());
    const dow = new Date(Date.UTC(l.year, l.month - 1, l.day)).getUTCDay();
    return dow === 0 || dow === 6 || l.hour >= 23 || l.hour < 7 ? 1 : 2;
  }

  /** Import power in kW: a base load with a daily swing; export from noon sun. */
  powerAt(time: number): { import: number; export: number } {
    const h = toLocal(time, this.tz()).hour + toLocal(time, this.tz()).minute / 60;
    const sun = Math.max(0, Math.sin(((h - 7) / 12) * Math.PI)) * 1.5;
    const load = 0.35 + 0.25 * (1 + Math.sin((h / 24) * 2 * Math.PI * 2));
    return { import: Math.max(0, load - sun), export: Math.max(0, sun - load) };
  }

  /** Advances the registers to `now` (simulated time runs `speed` times faster). */
  private advance(now: number): void {
    if (this.last === undefined) { this.last = now; return; }
    const hours = (Math.max(0, now - this.last) / HOUR_MS) * (this.o.speed ?? 1);
    this.last = now;
    const p = this.powerAt(now);
    const t = this.tariffAt(now);
    if (t === 1) { this.registers.import1 += p.import * hours; this.registers.export1 += p.export * hours; }
    else { this.registers.import2 += p.import * hours; this.registers.export2 += p.export * hours; }
    this.gas += 0.12 * hours;
  }

  /** The next telegram (or encrypted frame) as sent at `now`. */
  telegram(now = Date.now()): Buffer {
    this.advance(now);
    const text = this.version === '2.2' ? this.dsmr22(now) : this.dsmr4(now);
    let bytes = Buffer.from(text, 'latin1');
    if (this.version !== '2.2') {
      let crc = p1Crc(bytes);
      if (this.o.fault === 'crc') crc ^= 0x5a5a;
      bytes = Buffer.concat([bytes, Buffer.from(`${crcHex(crc)}\r\n`, 'latin1')]);
    }
    if (!this.o.key) return bytes;
    return encryptFrame(bytes, { key: this.o.key, systemTitle: Buffer.from('SIMP1MTR', 'latin1'), frameCounter: this.frameCounter++ });
  }

  private dsmr4(now: number): string {
    const r = this.registers;
    const p = this.powerAt(now);
    const v5 = this.version === '5';
    const gasEvery = v5 ? 5 * MINUTE_MS : HOUR_MS;
    const gasAt = Math.floor(now / gasEvery) * gasEvery;
    const volts = [230.1, 229.8, 231.2];
    const phase = [0.5, 0.3, 0.2].map((f) => p.import * f);
    const lines = [
      `/SIM5\\2P1-SIMULATOR`, '',
      `1-3:0.2.8(${v5 ? '50' : '42'})`,
      `0-0:1.0.0(${formatP1Timestamp(now, this.tz())})`,
      `0-0:96.1.1(${hex(this.o.equipmentId ?? 'E0012345678901234')})`,
      `1-0:1.8.1(${fixed(r.import1, 6, 3)}*kWh)`, `1-0:1.8.2(${fixed(r.import2, 6, 3)}*kWh)`,
      `1-0:2.8.1(${fixed(r.export1, 6, 3)}*kWh)`, `1-0:2.8.2(${fixed(r.export2, 6, 3)}*kWh)`,
      `0-0:96.14.0(000${this.tariffAt(now)})`,
      `1-0:1.7.0(${fixed(p.import, 2, 3)}*kW)`, `1-0:2.7.0(${fixed(p.export, 2, 3)}*kW)`,
      '0-0:96.7.21(00004)', '0-0:96.7.9(00002)',
      `1-0:99.97.0(2)(0-0:96.7.19)(${formatP1Timestamp(now - 30 * 86_400_000, this.tz())})(0000000240*s)(${formatP1Timestamp(now - 3 * 86_400_000, this.tz())})(0000000301*s)`,
      '1-0:32.32.0(00002)', '1-0:52.32.0(00001)', '1-0:72.32.0(00000)', '1-0:32.36.0(00000)', '1-0:52.36.0(00003)', '1-0:72.36.0(00000)',
      '0-0:96.13.0()',
      ...(v5 ? volts.map((v, i) => `1-0:${32 + 20 * i}.7.0(${fixed(v, 3, 1)}*V)`) : []),
      ...phase.map((kw, i) => `1-0:${31 + 20 * i}.7.0(${fixed(Math.round((kw * 1000) / volts[i]), 3, 0)}*A)`),
      ...phase.map((kw, i) => `1-0:${21 + 20 * i}.7.0(${fixed(kw, 2, 3)}*kW)`),
      ...phase.map((_, i) => `1-0:${22 + 20 * i}.7.0(${fixed(p.export / 3, 2, 3)}*kW)`),
      '0-1:24.1.0(003)',
      `0-1:96.1.0(${hex(this.o.gasEquipmentId ?? 'G0098765432109876')})`,
      `0-1:24.2.1(${formatP1Timestamp(gasAt, this.tz())})(${fixed(this.gas, 5, 3)}*m3)`,
      '!',
    ];
    return lines.join('\r\n');
  }

  private dsmr22(now: number): string {
    const r = this.registers;
    const p = this.powerAt(now);
    const gasAt = Math.floor(now / HOUR_MS) * HOUR_MS;
    return [
      '/SIM5\\2P1-SIMULATOR-22', '',
      `0-0:96.1.1(${hex(this.o.equipmentId ?? 'E0012345678901234')})`,
      `1-0:1.8.1(${fixed(r.import1, 5, 3)}*kWh)`, `1-0:1.8.2(${fixed(r.import2, 5, 3)}*kWh)`,
      `1-0:2.8.1(${fixed(r.export1, 5, 3)}*kWh)`, `1-0:2.8.2(${fixed(r.export2, 5, 3)}*kWh)`,
      `0-0:96.14.0(000${this.tariffAt(now)})`,
      `1-0:1.7.0(${fixed(p.import, 4, 2)}*kW)`, `1-0:2.7.0(${fixed(p.export, 4, 2)}*kW)`,
      '0-0:17.0.0(0999.00*kW)', '0-0:96.3.10(1)', '0-0:96.13.1()', '0-0:96.13.0()',
      '0-1:24.1.0(3)',
      `0-1:96.1.0(${hex(this.o.gasEquipmentId ?? 'G0098765432109876')})`,
      `0-1:24.3.0(${formatP1Timestamp(gasAt, this.tz(), false)})(00)(60)(1)(0-1:24.2.1)(m3)`,
      `(${fixed(this.gas, 5, 3)})`,
      '0-1:24.4.0(1)',
      '!', '',
    ].join('\r\n');
  }
}
