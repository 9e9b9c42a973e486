/** The ems-sim entry of the Modbus meter simulator: options, parsing, start. */
import fs from 'node:fs';
import path from 'node:path';
import { listProfiles, loadProfile } from '../../protocols/modbus/profile';
import type { Profile } from '../../protocols/modbus/types';
import { int, list, str, UsageError, type ParsedValues, type SimulatorEntry } from '../registry';
import { ModbusMeterSimulator, type Fault, type ModbusMeterSimulatorOptions } from './server';
import { parseLine, type LineSettings } from '../serial/line';
import { ModbusRtuSerial } from '../serial/modbus-rtu';
import { describeWindow, scheduleFault, splitFaultWindow, type FaultWindow } from '../fault-window';

export interface ModbusMeterCliOptions {
  host: string;
  /** TCP port; undefined = no TCP (a serial-only simulator). */
  port?: number;
  sim: ModbusMeterSimulatorOptions;
  serial?: { path: string; line: LineSettings; turnaroundMs: number };
  /** Faults switched on (and off) while running: UNIT:KIND@AFTER[+FOR]. */
  timed?: { unit: number; fault: Fault; window: FaultWindow }[];
  /** A file each request's arrival is appended to: "epoch-ms unit function-code address" per line. */
  arrivals?: string;
}

/** Unit ids "1,2,5-8": single ids and ranges. */
function parseUnits(items: string[]): number[] {
  return items.flatMap((item) => {
    const m = /^(\d+)-(\d+)$/.exec(item);
    if (!m) return [int('units', item, 0, 255, 'a unit id')];
    const [a, b] = [int('units', m[1], 0, 255, 'a unit id'), int('units', m[2], 0, 255, 'a unit id')];
    if (b < a) throw new UsageError(`--units: range ${JSON.stringify(item)} runs backwards`);
    return Array.from({ length: b - a + 1 }, (_, i) => a + i);
  });
}

function parseFault(text: string): [number, Fault] {
  // UNIT:dead | UNIT:timeout | UNIT:slow:MS | UNIT:exception:CODE
  const [u, kind, arg, ...rest] = text.split(':');
  const bad = (why: string) => new UsageError(`--fault: ${JSON.stringify(text)} ${why} (use UNIT:dead, UNIT:timeout, UNIT:slow:MS or UNIT:exception:CODE)`);
  if (u === undefined || !/^\d+$/.test(u) || Number(u) > 255) throw bad('does not start with a unit id 0..255');
  if (rest.length) throw bad('has too many parts');
  const unit = Number(u);
  switch (kind) {
    case 'dead': case 'timeout':
      if (arg !== undefined) throw bad(`takes no value after ${kind}`);
      return [unit, { kind }];
    case 'slow':
      if (arg === undefined || !/^\d+$/.test(arg)) throw bad('needs a delay in ms');
      return [unit, { kind, delayMs: Number(arg) }];
    case 'exception':
      if (arg === undefined || !/^\d+$/.test(arg) || Number(arg) < 1 || Number(arg) > 255) throw bad('needs an exception code 1..255');
      return [unit, { kind, code: Number(arg) }];
    default:
      throw bad(`has an unknown fault kind ${JSON.stringify(kind ?? '')}`);
  }
}

function profileDirs(values: ParsedValues): string[] {
  return list(values, 'profile-dir').map((d) => path.resolve(d));
}

function load(option: string, id: string, dirs: string[]): Profile {
  try {
    return loadProfile(id, dirs);
  } catch (err) {
    throw new UsageError(`--${option}: ${(err as Error).message}`);
  }
}

export const modbusMeterCli: SimulatorEntry<ModbusMeterCliOptions> = {
  name: 'modbus-meter',
  description: 'Modbus TCP electricity meters: one simulated meter per unit id, each serving a register-map profile.',
  options: [
    { name: 'port', type: 'string', arg: 'PORT', description: 'TCP port (0 = any free port)', default: '5020' },
    { name: 'host', type: 'string', arg: 'HOST', description: 'address to listen on', default: '127.0.0.1' },
    { name: 'units', type: 'string', arg: 'LIST', description: 'unit ids, e.g. 1,2,3', default: '1' },
    { name: 'profile', type: 'string', arg: 'ID', description: 'profile of every unit', default: 'eastron-sdm630' },
    { name: 'profiles', type: 'string', arg: 'MAP', multiple: true, description: 'per-unit profiles UNIT:ID,... (adds those units)' },
    { name: 'profile-dir', type: 'string', arg: 'DIR', multiple: true, description: 'folder of extra profiles (searched before the built-in ones)' },
    { name: 'rtu-over-tcp', type: 'boolean', description: 'RTU frames with CRC-16 over TCP instead of MBAP' },
    { name: 'gateway', type: 'boolean', description: 'answer requests for unknown or dead units with exception 0x0B instead of silence' },
    { name: 'gaps', type: 'string', arg: 'MODE', description: 'unmapped registers inside the map: profile, zero or refuse', default: 'profile' },
    { name: 'speed', type: 'string', arg: 'N', description: 'simulated seconds per real second', default: '1' },
    { name: 'fault', type: 'string', arg: 'UNIT:KIND[@AFTER[+FOR]]', multiple: true, description: 'inject a fault: UNIT:dead, UNIT:timeout, UNIT:slow:MS, UNIT:exception:CODE; @AFTER+FOR: from AFTER s after start for FOR s' },
    { name: 'serial', type: 'string', arg: 'PATH', description: 'serve Modbus RTU on this serial device or pty instead of TCP (add --port for both), paced at the line rate' },
    { name: 'baud', type: 'string', arg: 'BAUD', description: 'baud rate on --serial', default: '9600' },
    { name: 'line', type: 'string', arg: 'FORMAT', description: 'frame format on --serial: data bits, parity N/E/O, stop bits', default: '8E1' },
    { name: 'turnaround', type: 'string', arg: 'MS', description: 'on --serial: time from the end of a request (after t3.5) to the answer', default: '0' },
    { name: 'arrivals', type: 'string', arg: 'FILE', description: 'append a line per request received: epoch ms, unit id, function code, start address' },
  ],
  help: [
    'Examples:',
    '  ems-sim modbus-meter --port 5020 --profile eastron-sdm630 --units 1,2,3',
    '  ems-sim modbus-meter --profiles 1:abb-a44,2:eastron-sdm630 --fault 3:dead --units 3 --speed 60',
    '  socat pty,raw,echo=0,link=/tmp/ttyRS485 pty,raw,echo=0,link=/tmp/ttySIM &',
    '  ems-sim modbus-meter --serial /tmp/ttySIM --baud 9600 --line 8E1 --units 1-32   32 meters on one RTU bus',
    '  ems-sim modbus-meter --profile ems-logging-meter --speed 60 --fault 1:timeout@30+120   (an outage; the meter\'s log keeps recording)',
    '',
    'Energy counters integrate a daily load profile (tariff 1 06:00-22:00 local time, tariff 2 otherwise).',
    'Requests for unit ids not configured get no answer (or 0x0B with --gateway).',
  ].join('\n'),

  parse(values) {
    const host = str(values, 'host') ?? '127.0.0.1';
    if (!host.trim()) throw new UsageError('--host: "" is not a host name or address');
    const serialPath = str(values, 'serial');
    const portText = str(values, 'port');
    const port = serialPath && portText === undefined ? undefined : int('port', portText ?? '5020', 0, 65535, 'a port number');
    let serial: ModbusMeterCliOptions['serial'];
    if (serialPath !== undefined) {
      if (values['rtu-over-tcp'] === true && port !== undefined) throw new UsageError('--rtu-over-tcp: not with --serial (the serial line always carries RTU frames)');
      const baud = int('baud', str(values, 'baud') ?? '9600', 50, 4_000_000, 'a baud rate');
      let line: LineSettings;
      try { line = parseLine(str(values, 'line') ?? '8E1', baud); } catch (err) { throw new UsageError(`--line: ${(err as Error).message}`); }
      const turnaroundMs = int('turnaround', str(values, 'turnaround') ?? '0', 0, 10_000, 'a time in ms');
      serial = { path: serialPath, line, turnaroundMs };
    }
    const speedText = str(values, 'speed') ?? '1';
    const speed = Number(speedText);
    if (!/^\s*[\d.eE+]+\s*$/.test(speedText) || !Number.isFinite(speed) || speed <= 0) {
      throw new UsageError(`--speed: ${JSON.stringify(speedText)} is not a positive number`);
    }
    const gaps = str(values, 'gaps') ?? 'profile';
    if (!['profile', 'zero', 'refuse'].includes(gaps)) throw new UsageError(`--gaps: ${JSON.stringify(gaps)} is not one of profile, zero, refuse`);
    const dirs = profileDirs(values);
    const defaultId = str(values, 'profile') ?? 'eastron-sdm630';
    const perUnit = new Map<number, string>();
    for (const item of list(values, 'profiles')) {
      const m = /^(\d+):([A-Za-z0-9][A-Za-z0-9._-]*)$/.exec(item);
      if (!m || Number(m[1]) > 255) throw new UsageError(`--profiles: ${JSON.stringify(item)} is not UNIT:PROFILE (e.g. 1:abb-a44)`);
      perUnit.set(Number(m[1]), m[2]);
    }
    const unitTexts = list(values, 'units');
    const units = new Set<number>(unitTexts.length ? parseUnits(unitTexts) : perUnit.size ? [] : [1]);
    for (const u of perUnit.keys()) units.add(u);
    const faults = new Map<number, Fault>();
    const timed: { unit: number; fault: Fault; window: FaultWindow }[] = [];
    for (const f of list(values, 'fault')) {
      const { spec, window } = splitFaultWindow(f);
      const [u, fault] = parseFault(spec);
      if (!units.has(u)) throw new UsageError(`--fault: ${JSON.stringify(f)} names unit ${u}, which is not simulated (units ${[...units].join(',')})`);
      if (window) timed.push({ unit: u, fault, window });
      else faults.set(u, fault);
    }
    const cache = new Map<string, Profile>();
    const profileOf = (u: number): Profile => {
      const id = perUnit.get(u) ?? defaultId;
      const option = perUnit.has(u) ? 'profiles' : 'profile';
      let p = cache.get(id);
      if (!p) cache.set(id, (p = load(option, id, dirs)));
      return p;
    };
    const arrivals = str(values, 'arrivals');
    if (arrivals !== undefined && !arrivals.trim()) throw new UsageError('--arrivals: "" is not a file name');
    return {
      host,
      port,
      serial,
      timed,
      arrivals,
      sim: {
        framing: values['rtu-over-tcp'] === true ? 'rtu-over-tcp' : 'tcp',
        unknownUnit: values.gateway === true ? 'gateway-exception' : 'ignore',
        speed,
        profileDirs: dirs,
        units: [...units].sort((a, b) => a - b).map((unit) => ({
          unit, profile: profileOf(unit), fault: faults.get(unit), map: { gaps: gaps as 'profile' | 'zero' | 'refuse' },
        })),
      },
    };
  },

  async start(o) {
    const log = o.arrivals ? fs.createWriteStream(o.arrivals, { flags: 'a' }) : undefined;
    const onRequest = log && ((unit: number, fc: number, address: number) => { log.write(`${Date.now()} ${unit} ${fc} ${address}\n`); });
    const sim = new ModbusMeterSimulator({ ...o.sim, onRequest });
    const closeLog = () => new Promise<void>((resolve) => (log ? log.end(resolve) : resolve()));
    const port = o.port === undefined ? undefined : await sim.listen(o.port, o.host);
    const rtu = o.serial ? await ModbusRtuSerial.open(sim, o.serial.path, o.serial.line, { turnaroundMs: o.serial.turnaroundMs }).catch(async (err) => { await sim.close(); await closeLog(); throw err; }) : undefined;
    const cancels = (o.timed ?? []).map((t) => scheduleFault(t.window, () => sim.setFault(t.unit, t.fault), () => sim.clearFault(t.unit)));
    const timed = (o.timed ?? []).map((t) => `${t.unit} ${t.fault.kind}${describeWindow(t.window)}`).join(', ');
    const framing = o.sim.framing === 'rtu-over-tcp' ? 'RTU over TCP' : 'Modbus TCP';
    const where = [port !== undefined ? `listening on ${o.host}:${port} (${framing})` : '', rtu ? `on ${o.serial!.path} (${rtu.describe()})` : ''].filter(Boolean).join(' and ');
    const units = sim.unitIds.map((u) => {
      const f = o.sim.units.find((x) => x.unit === u)?.fault;
      return `${u}=${sim.profile(u).id}${f ? ` (${f.kind})` : ''}`;
    });
    return {
      close: async () => { cancels.forEach((c) => c()); await rtu?.close(); await sim.close(); await closeLog(); },
      describe: () => `modbus-meter ${where} (speed ${o.sim.speed ?? 1}x), units ${sim.unitIds.join(',')}, profiles ${units.join(', ')}${timed ? `; timed faults ${timed}` : ''}`,
    };
  },

  list(values) {
    const dirs = values ? profileDirs(values) : [];
    let profiles;
    try {
      profiles = listProfiles(dirs);
    } catch (err) {
      return [`  profiles: ${(err as Error).message}`];
    }
    return profiles.map((p) => `  profile ${p.id.padEnd(24)} ${p.manufacturer} ${p.model} (${p.values} values${p.builtIn ? '' : ', custom'})`);
  },
};
