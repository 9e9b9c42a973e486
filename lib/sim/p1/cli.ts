/** The ems-sim entry of the DSMR P1 meter simulator (a TCP P1 bridge). */
import { int, str, UsageError, type SimulatorEntry } from '../registry';
import { P1_INTERVAL_MS, type P1Version } from './meter';
import { P1Simulator, type P1SimulatorOptions } from './server';
import { parseLine } from '../serial/line';

export interface P1CliOptions extends P1SimulatorOptions {
  host: string;
  port: number;
  serial?: { path: string; line: string; baud: number };
}

export const p1Cli: SimulatorEntry<P1CliOptions> = {
  name: 'p1',
  description: 'A DSMR smart meter\'s P1 port behind a TCP bridge: a telegram every second (5.0) or 10 s (4.x, 2.2), rising registers, a gas channel.',
  options: [
    { name: 'port', type: 'string', arg: 'PORT', description: 'TCP port (0 = any free port)', default: '2001' },
    { name: 'host', type: 'string', arg: 'HOST', description: 'address to listen on', default: '127.0.0.1' },
    { name: 'version', type: 'string', arg: '5|4|2.2', description: 'DSMR version of the telegrams', default: '5' },
    { name: 'interval', type: 'string', arg: 'SECONDS', description: 'seconds between telegrams (default 1 for 5, 10 for 4 and 2.2)' },
    { name: 'speed', type: 'string', arg: 'N', description: 'simulated hours per real hour for the registers', default: '1' },
    { name: 'time-zone', type: 'string', arg: 'TZ', description: 'time zone of the meter clock', default: 'Europe/Amsterdam' },
    { name: 'key', type: 'string', arg: 'HEX', description: 'encrypt telegrams (Luxembourg/Austria) with this 32-hex-digit key' },
    { name: 'fault', type: 'string', arg: 'KIND', description: 'inject a fault: crc (corrupt every CRC)' },
    { name: 'serial', type: 'string', arg: 'PATH', description: 'also send on this serial device or pty, paced at the line rate' },
    { name: 'baud', type: 'string', arg: 'BAUD', description: 'baud rate on --serial (default 115200, 9600 for 2.2)' },
    { name: 'line', type: 'string', arg: 'FORMAT', description: 'frame format on --serial (default 8N1, 7E1 for 2.2)' },
  ],
  help: [
    'Examples:',
    '  ems-sim p1 --port 2001                       DSMR 5.0, a telegram a second',
    '  ems-sim p1 --version 4 --speed 60            DSMR 4.2 every 10 s, an hour of energy a minute',
    '  ems-sim p1 --fault crc                       every CRC wrong (the node reports each telegram)',
    '  ems-sim p1 --key 000102030405060708090A0B0C0D0E0F   encrypted frames (0xDB) like a Smarty meter',
    '  nc 127.0.0.1 2001                            watch the telegrams',
    '  socat pty,raw,echo=0,link=/tmp/ttyP1 pty,raw,echo=0,link=/tmp/ttyMETER &',
    '  ems-sim p1 --serial /tmp/ttyMETER            a P1 cable on /tmp/ttyP1 (115200 8N1)',
  ].join('\n'),

  parse(values) {
    const host = str(values, 'host') ?? '127.0.0.1';
    const port = int('port', str(values, 'port') ?? '2001', 0, 65535, 'a port number');
    const version = (str(values, 'version') ?? '5') as P1Version;
    if (!(version in P1_INTERVAL_MS)) throw new UsageError(`--version: ${JSON.stringify(version)} is not 5, 4 or 2.2`);
    const intervalText = str(values, 'interval');
    const seconds = intervalText === undefined ? P1_INTERVAL_MS[version] / 1000 : Number(intervalText);
    if (!Number.isFinite(seconds) || seconds < 0.05 || seconds > 3600) throw new UsageError(`--interval: ${JSON.stringify(intervalText)} is not a number of seconds 0.05..3600`);
    const speed = Number(str(values, 'speed') ?? '1');
    if (!Number.isFinite(speed) || speed <= 0) throw new UsageError(`--speed: ${JSON.stringify(str(values, 'speed'))} is not a positive number`);
    const timeZone = str(values, 'time-zone') ?? 'Europe/Amsterdam';
    try { new Intl.DateTimeFormat('en', { timeZone }); } catch { throw new UsageError(`--time-zone: ${JSON.stringify(timeZone)} is not an IANA time zone`); }
    const key = str(values, 'key');
    if (key !== undefined && !/^[0-9A-Fa-f]{32}$/.test(key)) throw new UsageError(`--key: must be 32 hex digits (16 bytes), got ${key.length} characters`);
    const fault = str(values, 'fault');
    if (fault !== undefined && fault !== 'crc') throw new UsageError(`--fault: ${JSON.stringify(fault)} is not crc`);
    if (fault === 'crc' && version === '2.2') throw new UsageError('--fault crc: DSMR 2.2 telegrams carry no CRC');
    const path = str(values, 'serial');
    const line = str(values, 'line') ?? (version === '2.2' ? '7E1' : '8N1');
    const baud = int('baud', str(values, 'baud') ?? (version === '2.2' ? '9600' : '115200'), 300, 4_000_000, 'a baud rate');
    try { parseLine(line, baud); } catch (err) { throw new UsageError(`--line: ${(err as Error).message}`); }
    const serial = path ? { path, line, baud } : undefined;
    return { host, port, version, intervalMs: Math.round(seconds * 1000), speed, timeZone, key, fault: fault as 'crc' | undefined, serial };
  },

  async start(o) {
    const sim = new P1Simulator(o);
    const port = await sim.listen(o.port, o.host);
    if (o.serial) await sim.openSerial(o.serial.path, o.serial.line, o.serial.baud);
    return {
      close: () => sim.close(),
      describe: () => `p1 listening on ${o.host}:${port}${o.serial ? ` and sending on ${o.serial.path} (${o.serial.baud} ${o.serial.line})` : ''}, DSMR ${o.version} every ${sim.intervalMs / 1000} s${o.key ? ', encrypted' : ''}${o.fault ? ` (fault ${o.fault})` : ''}`,
    };
  },
};
