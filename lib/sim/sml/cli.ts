/** The ems-sim entry of the SML (eHZ) meter simulator. */
import { int, str, UsageError, type SimulatorEntry } from '../registry';
import { SmlSimulator, type SmlSimulatorOptions } from './server';

export interface SmlCliOptions extends SmlSimulatorOptions {
  host: string;
  port: number;
  serial?: string;
  baud?: number;
}

export const smlCli: SimulatorEntry<SmlCliOptions> = {
  name: 'sml',
  description: 'An eHZ meter pushing SML 1.04 telegrams (1.8.0, 2.8.0, 16.7.0) through an IR-head-to-TCP bridge.',
  options: [
    { name: 'port', type: 'string', arg: 'PORT', description: 'TCP port of the bridge (0 = any free port)', default: '7259' },
    { name: 'host', type: 'string', arg: 'HOST', description: 'address to listen on', default: '127.0.0.1' },
    { name: 'interval', type: 'string', arg: 'SECONDS', description: 'seconds between telegrams (0.1..3600)', default: '2' },
    { name: 'server-id', type: 'string', arg: 'HEX', description: 'the meter\'s server id, 1..32 bytes as hex', default: '0a01454d480000bc614e' },
    { name: 'speed', type: 'string', arg: 'N', description: 'simulated hours per real hour for power and registers', default: '1' },
    { name: 'serial', type: 'string', arg: 'PATH', description: 'also send on this serial device or pty, paced at the line rate (8N1)' },
    { name: 'baud', type: 'string', arg: 'BAUD', description: 'baud rate on --serial', default: '9600' },
  ],
  help: [
    'Power 16.7.0 runs a 4-hour cycle between -600 W (export) and 1200 W; 1.8.0 and 2.8.0 (Wh) integrate it.',
    'Examples:',
    '  ems-sim sml --port 7259 --interval 1',
    '  socat pty,raw,echo=0,link=/tmp/ttyIR pty,raw,echo=0,link=/tmp/ttyMETER &',
    '  ems-sim sml --serial /tmp/ttyMETER          # an IR head on /tmp/ttyIR',
    '  ems-decode sml "$(nc -q 3 127.0.0.1 7259 | xxd -p)"',
  ].join('\n'),

  parse(values) {
    const host = str(values, 'host') ?? '127.0.0.1';
    const port = int('port', str(values, 'port') ?? '7259', 0, 65535, 'a port number');
    const interval = Number(str(values, 'interval') ?? '2');
    if (!Number.isFinite(interval) || interval < 0.1 || interval > 3600) throw new UsageError(`--interval: ${JSON.stringify(str(values, 'interval'))} is not a number of seconds 0.1..3600`);
    const speed = Number(str(values, 'speed') ?? '1');
    if (!Number.isFinite(speed) || speed <= 0) throw new UsageError(`--speed: ${JSON.stringify(str(values, 'speed'))} is not a positive number`);
    const id = (str(values, 'server-id') ?? '0a01454d480000bc614e').replace(/\s/g, '');
    if (!/^([0-9a-fA-F]{2}){1,32}$/.test(id)) throw new UsageError(`--server-id: ${JSON.stringify(id)} is not 1..32 bytes of hex`);
    const serial = str(values, 'serial');
    const baud = int('baud', str(values, 'baud') ?? '9600', 300, 4_000_000, 'a baud rate');
    return { host, port, intervalMs: Math.round(interval * 1000), speed, serverId: Buffer.from(id, 'hex'), ...(serial ? { serial, baud } : {}) };
  },

  async start(o) {
    const sim = new SmlSimulator(o);
    const port = await sim.listen(o.port, o.host);
    if (o.serial) await sim.openSerial(o.serial, o.baud);
    return {
      close: () => sim.close(),
      describe: () => `sml listening on ${o.host}:${port}${o.serial ? ` and sending on ${o.serial} (${o.baud ?? 9600} 8N1)` : ''}, server id ${sim.meter.serverId.toString('hex')}, a telegram every ${(o.intervalMs ?? 2000) / 1000} s`,
    };
  },
};
