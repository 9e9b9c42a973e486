import ModbusRTU from 'modbus-serial';
import { ModbusError, exceptionText } from './errors';
import type { RegisterTable } from './types';

export type Transport = 'tcp' | 'rtu-over-tcp' | 'rtu';

export interface Endpoint {
  transport: Transport;
  host?: string;
  port?: number;
  /** Serial device for rtu, e.g. /dev/ttyUSB0. */
  path?: string;
  baudRate?: number;
  parity?: 'none' | 'even' | 'odd';
  dataBits?: 5 | 6 | 7 | 8;
  stopBits?: 1 | 2;
}

/** One key per physical endpoint, so two config nodes for the same port share one owner. */
export function endpointKey(e: Endpoint): string {
  if (e.transport === 'rtu') return `rtu:${e.path}`;
  return `${e.transport}://${e.host}:${e.port}`;
}

export function describeEndpoint(e: Endpoint): string {
  if (e.transport === 'rtu') return `${e.path} ${e.baudRate ?? 9600} ${e.dataBits ?? 8}${(e.parity ?? 'none')[0].toUpperCase()}${e.stopBits ?? 1}`;
  return `${e.host}:${e.port}${e.transport === 'rtu-over-tcp' ? ' (RTU over TCP)' : ''}`;
}

/** What the queue needs from a link: open it, read registers with a timeout, close it. */
export interface RegisterIO {
  readonly isOpen: boolean;
  open(): Promise<void>;
  read(unit: number, table: RegisterTable, start: number, count: number, timeoutMs: number): Promise<Buffer>;
  close(): Promise<void>;
}

interface SerialError extends Error { errno?: string; modbusCode?: number }

/** RegisterIO over modbus-serial (Modbus TCP, RTU over TCP, RTU on a serial port). */
export class ModbusSerialIO implements RegisterIO {
  private client = new ModbusRTU();
  constructor(private readonly endpoint: Endpoint) {}

  get isOpen(): boolean {
    return this.client.isOpen;
  }

  async open(): Promise<void> {
    const e = this.endpoint;
    this.client = new ModbusRTU();
    try {
      if (e.transport === 'tcp') await this.client.connectTCP(e.host!, { port: e.port! });
      else if (e.transport === 'rtu-over-tcp') await this.client.connectTelnet(e.host!, { port: e.port! });
      else {
        await this.client.connectRTUBuffered(e.path!, {
          baudRate: e.baudRate ?? 9600, parity: e.parity ?? 'none', dataBits: e.dataBits ?? 8, stopBits: e.stopBits ?? 1,
        });
      }
    } catch (err) {
      throw new ModbusError('connection', `cannot open ${describeEndpoint(e)}: ${(err as Error).message}`);
    }
  }

  read(unit: number, table: RegisterTable, start: number, count: number, timeoutMs: number): Promise<Buffer> {
    this.client.setTimeout(timeoutMs);
    return new Promise((resolve, reject) => {
      const done = (err: SerialError | null, res?: { buffer: Buffer }) => {
        if (!err) return resolve(res!.buffer);
        if (err.modbusCode !== undefined) {
          reject(new ModbusError('exception', `exception ${err.modbusCode} (${exceptionText(err.modbusCode)})`, err.modbusCode));
        } else if (err.errno === 'ETIMEDOUT' || /timed out/i.test(err.message)) {
          reject(new ModbusError('timeout', `no answer within ${timeoutMs} ms`));
        } else {
          reject(new ModbusError('connection', `${describeEndpoint(this.endpoint)}: ${err.message}`));
        }
      };
      try {
        if (table === 'holding') this.client.writeFC3(unit, start, count, done as never);
        else this.client.writeFC4(unit, start, count, done as never);
      } catch (err) {
        done(err as SerialError);
      }
    });
  }

  close(): Promise<void> {
    return new Promise((resolve) => {
      if (!this.client.isOpen) return resolve();
      const timer = setTimeout(resolve, 2000);
      this.client.close(() => { clearTimeout(timer); resolve(); });
    });
  }
}
