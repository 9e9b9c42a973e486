/** The ems-sim entry of the IEC 62056-21 meter simulator. */
import { int, list, str, UsageError, type SimulatorEntry } from '../registry';
import type { IecFault, SimMeterOptions } from './meter';
import { findSimMeter, SIM_METERS } from './meters';
import { Iec62056Simulator } from './server';

export interface IecCliOptions {
  host: string;
  port: number;
  serial?: string;
  meters: SimMeterOptions[];
}

export const iec62056Cli: SimulatorEntry<IecCliOptions> = {
  name: 'iec62056',
  description: 'IEC 62056-21 optical meters (modes A/B/C readout, programming mode with P1, R1/W1 clock, R5 P.01 load profile) on TCP or a serial port/pty.',
  options: [
    { name: 'port', type: 'string', arg: 'PORT', description: 'TCP port (0 = any free port)', default: '6210' },
    { name: 'host', type: 'string', arg: 'HOST', description: 'address to listen on', default: '127.0.0.1' },
    { name: 'serial', type: 'string', arg: 'PATH', description: 'also serve on this serial device or pty (300 baud 7E1 start)' },
    { name: 'meter', type: 'string', arg: 'ADDR:PROFILE', multiple: true, description: 'a meter at a device address, e.g. 12345678:iskra-mt174', default: '12345678:iskra-mt174' },
    { name: 'password', type: 'string', arg: 'P1', description: 'programming-mode password of every meter', default: '00000000' },
    { name: 'clock-offset', type: 'string', arg: 'SECONDS', description: 'meter clock minus real time (a drifting clock)', default: '0' },
    { name: 'time-zone', type: 'string', arg: 'TZ', description: 'time zone of the meters\' clocks', default: 'UTC' },
    { name: 'speed', type: 'string', arg: 'N', description: 'simulated hours per real hour for the counters', default: '1' },
    { name: 'profile-period', type: 'string', arg: 'SECONDS', description: 'load profile 1 (P.01) period; under 60 s for fast tests', default: '900' },
    { name: 'fault', type: 'string', arg: 'ADDR:KIND', multiple: true, description: 'inject a fault: ADDR:dead, ADDR:bcc (corrupt BCC), ADDR:slow' },
  ],
  help: [
    'Examples:',
    '  ems-sim iec62056 --port 6210 --meter 12345678:iskra-mt174 --meter 87654321:landis-gyr-zmd310',
    '  socat pty,raw,echo=0,link=/tmp/ttyHHU pty,raw,echo=0,link=/tmp/ttyMETER &',
    '  ems-sim iec62056 --serial /tmp/ttyMETER --clock-offset 600',
  ].join('\n'),

  parse(values) {
    const host = str(values, 'host') ?? '127.0.0.1';
    const port = int('port', str(values, 'port') ?? '6210', 0, 65535, 'a port number');
    const offset = int('clock-offset', str(values, 'clock-offset') ?? '0', -31_536_000, 31_536_000, 'seconds');
    const speed = Number(str(values, 'speed') ?? '1');
    if (!Number.isFinite(speed) || speed <= 0) throw new UsageError(`--speed: ${JSON.stringify(str(values, 'speed'))} is not a positive number`);
    const profilePeriodSeconds = int('profile-period', str(values, 'profile-period') ?? '900', 1, 86_400, 'seconds');
    const timeZone = str(values, 'time-zone') ?? 'UTC';
    try { new Intl.DateTimeFormat('en', { timeZone }); } catch { throw new UsageError(`--time-zone: ${JSON.stringify(timeZone)} is not an IANA time zone`); }
    const faults = new Map<string, IecFault>();
    for (const f of list(values, 'fault')) {
      const m = /^([0-9A-Za-z ]*):(dead|bcc|slow)$/.exec(f);
      if (!m) throw new UsageError(`--fault: ${JSON.stringify(f)} is not ADDR:dead, ADDR:bcc or ADDR:slow`);
      faults.set(m[1], m[2] as IecFault);
    }
    const specs = list(values, 'meter');
    const meters = (specs.length ? specs : ['12345678:iskra-mt174']).map((spec): SimMeterOptions => {
      const m = /^([0-9A-Za-z ]{0,32}):([a-z0-9-]+)$/.exec(spec);
      if (!m) throw new UsageError(`--meter: ${JSON.stringify(spec)} is not ADDR:PROFILE (e.g. 12345678:iskra-mt174)`);
      const profile = findSimMeter(m[2]);
      if (!profile) throw new UsageError(`--meter: profile ${JSON.stringify(m[2])} is not one of ${SIM_METERS.map((p) => p.id).join(', ')}`);
      return { address: m[1], serial: m[1] || '12345678', profile, password: str(values, 'password') ?? '00000000', clockOffsetMs: offset * 1000, speed, timeZone, profilePeriodSeconds, fault: faults.get(m[1]) };
    });
    for (const a of faults.keys()) if (!meters.some((m) => m.address === a)) throw new UsageError(`--fault: no meter at address ${JSON.stringify(a)}`);
    return { host, port, serial: str(values, 'serial'), meters };
  },

  async start(o) {
    const sim = new Iec62056Simulator({ meters: o.meters });
    const port = await sim.listen(o.port, o.host);
    if (o.serial) await sim.openSerial(o.serial);
    return {
      close: () => sim.close(),
      describe: () => `iec62056 listening on ${o.host}:${port}${o.serial ? ` and ${o.serial}` : ''}, meters ${o.meters.map((m) => `${m.address}=${m.profile.id}${m.fault ? ` (${m.fault})` : ''}`).join(', ')}`,
    };
  },

  list: () => SIM_METERS.map((m) => `  meter ${m.id.padEnd(20)} /${m.identification}  ${m.description}`),
};
