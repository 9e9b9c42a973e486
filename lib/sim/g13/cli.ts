/** The ems-sim entry of the ABB G13 gateway simulator. */
import { int, list, str, UsageError, type ParsedValues, type SimulatorEntry } from '../registry';
import { DEFAULT_METERS } from './meters-data';
import { describeWindow, scheduleFault, splitFaultWindow, type FaultWindow } from '../fault-window';
import { G13Simulator } from './index';
import type { G13MeterSpec, G13SimulatorOptions, G13User } from './types';

/** An outage: one meter (its values unreadable, its load profile still recording) or the whole gateway unreachable. */
export interface G13Fault { target: string; window?: FaultWindow }

export interface G13CliOptions { host: string; port: number; sim: G13SimulatorOptions; faults?: G13Fault[] }

/** NAME:PASSWORD[:admin][:SERIAL=view|configure...] */
function parseUser(text: string): G13User {
  const [name, password, ...rest] = text.split(':');
  if (!name || !/^[a-z0-9]{1,16}$/.test(name) || password === undefined || password === '') {
    throw new UsageError(`--users: ${JSON.stringify(text)} is not NAME:PASSWORD[:admin][:SERIAL=view|configure] (name: lowercase letters and digits)`);
  }
  const user: G13User = { name, password, admin: false, access: {} };
  for (const r of rest) {
    if (r === 'admin') { user.admin = true; continue; }
    const [serial, level] = r.split('=');
    if (!serial || (level !== 'view' && level !== 'configure' && level !== 'none')) throw new UsageError(`--users: ${JSON.stringify(r)} in ${JSON.stringify(text)} is not admin or SERIAL=view|configure|none`);
    user.access![serial] = level;
  }
  return user;
}

/** SERIAL:PROTOCOL:ADDRESS[:LABEL|water][:offline] */
function parseMeter(text: string): G13MeterSpec {
  const [serial, p, a, ...rest] = text.split(':');
  const bad = (why: string) => new UsageError(`--meters: ${JSON.stringify(text)} ${why} (use SERIAL:PROTOCOL:ADDRESS[:LABEL|water][:offline][:unregistered])`);
  if (!serial || serial.length > 17) throw bad('needs a serial of 1..17 characters');
  if (!['1', '2', '3', '4'].includes(p ?? '')) throw bad('needs protocol 1 (M-Bus wired), 2 (M-Bus IR), 3 (EQ bus) or 4 (wireless)');
  if (!/^\d+$/.test(a ?? '') || Number(a) > 250) throw bad('needs an address 0..250');
  const spec: G13MeterSpec = { serial, protocol: Number(p) as 1, address: Number(a) };
  for (const r of rest) {
    if (r === 'offline') spec.offline = true;
    else if (r === 'unregistered') spec.registered = false;
    else if (r === 'water') spec.kind = 'water';
    else if (/^[A-Z]\d\d \d\d\d-\d\d\d$/.test(r)) spec.label = r;
    else throw bad(`has an unknown part ${JSON.stringify(r)}`);
  }
  return spec;
}

export const g13Cli: SimulatorEntry<G13CliOptions> = {
  name: 'g13',
  description: 'ABB G13 energy meter gateway: the chapter 6 JSON REST API over HTTPS (self-signed) with simulated ABB meters.',
  options: [
    { name: 'port', type: 'string', arg: 'PORT', description: 'TCP port (0 = any free port)', default: '8443' },
    { name: 'host', type: 'string', arg: 'HOST', description: 'address to listen on', default: '127.0.0.1' },
    { name: 'http', type: 'boolean', description: 'plain HTTP instead of HTTPS' },
    { name: 'users', type: 'string', arg: 'USER', multiple: true, description: 'NAME:PASSWORD[:admin][:SERIAL=view|configure] (default admin/admin, change forced)' },
    { name: 'meters', type: 'string', arg: 'METER', multiple: true, description: 'SERIAL:PROTOCOL:ADDRESS[:LABEL|water][:offline][:unregistered]' },
    { name: 'fault', type: 'string', arg: 'WHO:offline[@AFTER[+FOR]]', multiple: true, description: 'an outage of a meter (SERIAL) or of the gateway (gateway), from AFTER s after start for FOR s' },
  ],
  help: [
    'Examples:',
    '  ems-sim g13 --port 8443',
    '  ems-sim g13 --http --users admin:secret:admin --users viewer:pw:ABB_8=view',
    '  ems-sim g13 --meters "ABB_8:3:17:A44 512-100" --meters WTR_1:1:12:water --meters ABB_5:3:20:offline',
    '  ems-sim g13 --http --fault ABB_8:offline@60+600   (meter ABB_8 unreadable from 60 s to 660 s; its load profile keeps recording)',
    '',
    `Default meters: ${DEFAULT_METERS.map((m) => `${m.serial} (${m.label ?? m.kind})`).join(', ')}.`,
  ].join('\n'),

  parse(values: ParsedValues): G13CliOptions {
    const host = str(values, 'host') ?? '127.0.0.1';
    if (!host.trim()) throw new UsageError('--host: "" is not a host name or address');
    const port = int('port', str(values, 'port') ?? '8443', 0, 65535, 'a port number');
    const users = list(values, 'users').map(parseUser);
    const meters = (Array.isArray(values.meters) ? values.meters : values.meters === undefined ? [] : [values.meters])
      .filter((x): x is string => typeof x === 'string').map(parseMeter);
    const sim: G13SimulatorOptions = { tls: values.http !== true };
    if (users.length) sim.users = users;
    if (meters.length) sim.meters = meters;
    const serials = (meters.length ? meters : DEFAULT_METERS).map((m) => m.serial);
    const faults = list(values, 'fault').map((text): G13Fault => {
      const { spec, window } = splitFaultWindow(text);
      const [target, kind, ...rest] = spec.split(':');
      if (kind !== 'offline' || rest.length) throw new UsageError(`--fault: ${JSON.stringify(text)} is not WHO:offline[@AFTER[+FOR]] (WHO a meter serial or gateway)`);
      if (target !== 'gateway' && !serials.includes(target)) throw new UsageError(`--fault: ${JSON.stringify(text)} names ${JSON.stringify(target)}, which is neither gateway nor a simulated meter (${serials.join(', ')})`);
      return { target, window };
    });
    return { host, port, sim, faults };
  },

  async start(o) {
    const sim = new G13Simulator(o.sim);
    await sim.listen(o.port, o.host);
    const set = (target: string, on: boolean) => (target === 'gateway' ? sim.setOffline(on) : sim.setMeterOffline(target, on));
    const cancels = (o.faults ?? []).map((f) => scheduleFault(f.window, () => set(f.target, true), () => set(f.target, false)));
    const faults = (o.faults ?? []).map((f) => `${f.target} offline${describeWindow(f.window)}`).join(', ');
    return {
      close: () => { cancels.forEach((c) => c()); return sim.close(); },
      describe: () => `G13 gateway at ${sim.url}${sim.fingerprint256 ? ` (certificate SHA-256 ${sim.fingerprint256})` : ''}; meters ${sim.gateway.meters.map((m) => m.spec.serial).join(', ')}${faults ? `; faults ${faults}` : ''}`,
    };
  },
};
