/**
 * N simulated wM-Bus meters sending at an interval, as a radio receiver would pass their telegrams on:
 * published to an MQTT topic and/or written as lines to a stream (stdout, a file, a serial device).
 */
import fs from 'node:fs';
import mqtt, { type MqttClient } from 'mqtt';
import type { FrameFormat } from '../../protocols/wmbus';
import { KINDS, SimWmbusMeter, type WmbusMeterKind } from './meters';
import { SimIm871aStick } from './stick';

export type LineFormat = 'hex' | 'rtl-wmbus' | 'json';

export interface WmbusSimOptions {
  meters: number;
  /** Id of the first meter; the others count up. */
  firstId: string;
  kinds?: WmbusMeterKind[];
  /** 5, 7, 0, or 'mixed' (even meters mode 5, odd mode 7). */
  mode: 0 | 5 | 7 | 'mixed';
  key: Buffer;
  intervalMs: number;
  format?: FrameFormat;
  lineFormat?: LineFormat;
  mqttUrl?: string;
  topic?: string;
  /** A path (file, serial device) or '-' for stdout. */
  out?: string;
  speed?: number;
  manufacturer?: string;
  /** Act as this receiver stick on `serial` (telegrams without CRCs, wrapped in its protocol). */
  stick?: 'im871a';
  serial?: string;
}

export class WmbusSimulator {
  readonly meters: SimWmbusMeter[];
  sent = 0;
  private timer?: NodeJS.Timeout;
  private client?: MqttClient;
  private stream?: NodeJS.WritableStream;
  /** The simulated stick when `stick` and `serial` are given. */
  stick?: SimIm871aStick;

  constructor(readonly o: WmbusSimOptions) {
    const first = Number(o.firstId);
    const kinds = o.kinds?.length ? o.kinds : KINDS;
    // A stick passes telegrams on without their link layer CRCs.
    const format = o.stick ? 'none' : o.format;
    this.meters = Array.from({ length: o.meters }, (_, i) => new SimWmbusMeter({
      id: String(first + i).padStart(8, '0'), kind: kinds[i % kinds.length],
      mode: o.mode === 'mixed' ? (i % 2 ? 7 : 5) : o.mode, key: o.key, format, manufacturer: o.manufacturer,
    }, Date.now(), first + i));
  }

  async start(): Promise<void> {
    if (this.o.mqttUrl) {
      const client = mqtt.connect(this.o.mqttUrl, { reconnectPeriod: 1000, connectTimeout: 10_000 });
      this.client = client;
      client.on('error', () => undefined); // reconnects; publish waits in the queue meanwhile
    }
    if (this.o.stick && this.o.serial) {
      const stick = new SimIm871aStick();
      await stick.open(this.o.serial);
      this.stick = stick;
    }
    if (this.o.out === '-') this.stream = process.stdout;
    else if (this.o.out) this.stream = fs.createWriteStream(this.o.out, { flags: 'a' });
    this.tick();
    this.timer = setInterval(() => this.tick(), this.o.intervalMs);
  }

  /** One line as the chosen receiver format renders a telegram. */
  line(meter: SimWmbusMeter, t: Buffer): string {
    const hex = t.toString('hex').toUpperCase();
    if (this.o.lineFormat === 'rtl-wmbus') return `T1;1;1;${new Date().toISOString().replace('T', ' ').replace('Z', '')};-60;0;${meter.spec.id};0x${hex.toLowerCase()}`;
    if (this.o.lineFormat === 'json') return JSON.stringify({ telegram: hex, id: meter.spec.id, rssi: -60 });
    return hex;
  }

  tick(now = Date.now()): void {
    for (const m of this.meters) {
      m.advance(now, this.o.speed ?? 1);
      const t = m.telegram();
      this.stick?.send(t);
      const line = this.line(m, t);
      this.client?.publish(this.o.topic ?? 'wmbus/telegram', line, { qos: 1 });
      this.stream?.write(`${line}\n`);
      this.sent++;
    }
  }

  async close(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    const client = this.client;
    this.client = undefined;
    if (client) await new Promise<void>((resolve) => { const t = setTimeout(resolve, 3000); client.end(false, {}, () => { clearTimeout(t); resolve(); }); });
    if (this.stream && this.stream !== process.stdout) await new Promise<void>((r) => (this.stream as fs.WriteStream).end(() => r()));
    this.stream = undefined;
    await this.stick?.close();
  }
}
