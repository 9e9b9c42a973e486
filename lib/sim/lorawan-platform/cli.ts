/** The ems-sim entry of the LoRaWAN meter platform simulator. */
import { int, list, str, UsageError, type SimulatorEntry } from '../registry';
import { describeWindow, scheduleFault, splitFaultWindow, type FaultWindow } from '../fault-window';
import { LorawanPlatformSimulator } from './server';
import type { PlatformOptions } from './platform';

export interface LorawanPlatformCliOptions { host: string; port: number; speed: number; platform: PlatformOptions; faults?: FaultWindow[] }

export const lorawanPlatformCli: SimulatorEntry<LorawanPlatformCliOptions> = {
  name: 'lorawan-platform',
  description: 'The LoRaWAN meter platform API (commonInternal.jsp): price plans, meter files, households, readings, valves, top-ups, bills.',
  options: [
    { name: 'port', type: 'string', arg: 'PORT', description: 'TCP port (0 = any free port)', default: '8090' },
    { name: 'host', type: 'string', arg: 'HOST', description: 'address to listen on', default: '127.0.0.1' },
    { name: 'speed', type: 'string', arg: 'N', description: 'simulated seconds per real second', default: '1' },
    { name: 'uplink', type: 'string', arg: 'SECONDS', description: 'seconds between a meter\'s uplinks', default: '900' },
    { name: 'utc-offset', type: 'string', arg: 'MINUTES', description: 'platform local time offset from UTC (Dubai 240)', default: '0' },
    { name: 'on-uplink', type: 'boolean', description: 'apply valve commands and top-ups at the meter\'s next uplink (Class A) instead of at once' },
    { name: 'no-reopen', type: 'boolean', description: 'do not reopen a valve closed for balance after a top-up' },
    { name: 'fault', type: 'string', arg: 'unreachable[@AFTER[+FOR]]', multiple: true, description: 'the platform unreachable from AFTER s after start for FOR s (uplinks are still kept)' },
  ],
  help: [
    'Examples:',
    '  ems-sim lorawan-platform --port 8090 --speed 3600 --uplink 60',
    '  ems-sim lorawan-platform --speed 60 --fault unreachable@30+120   (an outage from 30 s to 150 s)',
    '',
    'Log in with karly / 123456 (comApi.toLogin). Seed meters: 8cf9572000010105 (water, prepaid),',
    '8cf9572000010106 (gas, postpaid), 8cf9572000010103 (electricity), 8cf9572000010104 (heating, prepaid).',
  ].join('\n'),

  parse(values) {
    const host = str(values, 'host') ?? '127.0.0.1';
    if (!host.trim()) throw new UsageError('--host: "" is not a host name or address');
    const speedText = str(values, 'speed') ?? '1';
    const speed = Number(speedText);
    if (!/^\s*[\d.]+\s*$/.test(speedText) || !(speed > 0)) throw new UsageError(`--speed: ${JSON.stringify(speedText)} is not a positive number`);
    const faults = list(values, 'fault').map((text) => {
      const { spec, window } = splitFaultWindow(text);
      if (spec !== 'unreachable') throw new UsageError(`--fault: ${JSON.stringify(text)} is not unreachable[@AFTER[+FOR]]`);
      return window ?? { afterMs: 0 };
    });
    return {
      host,
      faults,
      port: int('port', str(values, 'port') ?? '8090', 0, 65535, 'a port number'),
      speed,
      platform: {
        uplinkMs: int('uplink', str(values, 'uplink') ?? '900', 1, 86_400, 'a number of seconds') * 1000,
        utcOffsetMin: int('utc-offset', str(values, 'utc-offset') ?? '0', -720, 840, 'minutes'),
        delivery: values['on-uplink'] === true ? 'uplink' : 'immediate',
        autoReopen: values['no-reopen'] !== true,
      },
    };
  },

  async start(o) {
    const t0 = Date.now();
    const sim = new LorawanPlatformSimulator({ ...o.platform, now: () => t0 + (Date.now() - t0) * o.speed });
    const port = await sim.listen(o.port, o.host);
    const cancels = (o.faults ?? []).map((w) => scheduleFault(w, () => sim.setOffline(true), () => sim.setOffline(false)));
    const faults = (o.faults ?? []).map((w) => `unreachable${describeWindow(w)}`).join(', ');
    return {
      close: () => { cancels.forEach((c) => c()); return sim.close(); },
      describe: () => `lorawan-platform listening on http://${o.host}:${port}/internal/commonInternal.jsp (and /api/commonInternal.jsp), speed ${o.speed}x, ${sim.platform.archives.size} meters${faults ? `; faults ${faults}` : ''}`,
    };
  },
};
