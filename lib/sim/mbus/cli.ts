/** The ems-sim entry of the M-Bus simulator: options, parsing, start. */
import { int, list, str, UsageError, type SimulatorEntry } from '../registry';
import { MbusSimulator, type MbusSimOptions } from './server';
import { parseLine, type LineSettings } from '../serial/line';
import { MbusSerial } from '../serial/mbus';
import type { SlaveConfig, SlaveFault } from './slave';
import { TELEGRAMS, findTelegram } from './telegrams';

export interface MbusCliOptions {
  host: string;
  /** TCP port; undefined = no TCP (a serial-only bus). */
  port?: number;
  pty?: string;
  sim: MbusSimOptions;
  serial?: { path: string; line: LineSettings; answerDelayMs?: number };
}

export const DEFAULT_SLAVES = '1:slb-cf-integral,2:els-f96-plus,3:efe-waterstar,4:emu-professional';
const FAULTS: SlaveFault[] = ['silent', 'checksum', 'collision'];

/** PRIMARY:TELEGRAM[:ID][:split], e.g. 5:efe-waterstar:12345678:split */
export function parseSlave(text: string): SlaveConfig {
  const bad = (why: string) => new UsageError(`--slave: ${JSON.stringify(text)} ${why} (use PRIMARY:TELEGRAM[:ID][:split])`);
  const [p, name, ...rest] = text.split(':');
  if (!/^\d+$/.test(p ?? '') || Number(p) > 250) throw bad('does not start with a primary address 0..250');
  const sample = findTelegram(name ?? '');
  if (!sample) throw bad(`names no telegram; known: ${TELEGRAMS.map((t) => t.name).join(', ')}`);
  const cfg: SlaveConfig = { primary: Number(p), sample };
  for (const r of rest) {
    if (r === 'split') cfg.split = true;
    else if (/^\d{8}$/.test(r)) cfg.id = r;
    else throw bad(`has ${JSON.stringify(r)}, neither an 8-digit id nor "split"`);
  }
  return cfg;
}

export const mbusCli: SimulatorEntry<MbusCliOptions> = {
  name: 'mbus',
  description: 'M-Bus slaves (EN 13757-2/-3) behind a TCP port like a transparent gateway, serving real telegrams; optionally on a pty.',
  options: [
    { name: 'port', type: 'string', arg: 'PORT', description: 'TCP port (0 = any free port)', default: '10001' },
    { name: 'host', type: 'string', arg: 'HOST', description: 'address to listen on', default: '127.0.0.1' },
    { name: 'slave', type: 'string', arg: 'SPEC', multiple: true, description: 'a slave PRIMARY:TELEGRAM[:ID][:split]', default: DEFAULT_SLAVES },
    { name: 'fault', type: 'string', arg: 'PRIMARY:KIND', multiple: true, description: `fault of a slave: ${FAULTS.join(', ')}` },
    { name: 'pty', type: 'string', arg: 'PATH', description: 'also create a pseudo-terminal at PATH bridged to the bus (needs socat)' },
    { name: 'speed', type: 'string', arg: 'N', description: 'simulated seconds per real second for the counters', default: '1' },
    { name: 'delay', type: 'string', arg: 'MS', description: 'answer delay (on --serial: from the request\'s last character; default there 11 bit times)', default: '5' },
    { name: 'serial', type: 'string', arg: 'PATH', description: 'serve the bus on this serial device or pty instead of TCP (add --port for both), paced at the line rate' },
    { name: 'baud', type: 'string', arg: 'BAUD', description: 'baud rate on --serial', default: '2400' },
    { name: 'line', type: 'string', arg: 'FORMAT', description: 'frame format on --serial', default: '8E1' },
    { name: 'history', type: 'string', arg: 'SECONDS:COUNT', description: 'every slave keeps its counter at the last COUNT period ends as historic values (sent after an application reset 0x30), e.g. 3600:48' },
  ],
  help: [
    'Examples:',
    '  ems-sim mbus --port 10001',
    '  ems-sim mbus --slave 1:efe-waterstar:12345678 --slave 2:efe-waterstar:12345679 --fault 2:checksum',
    '  ems-sim mbus --pty /tmp/ttyMBUS0 --speed 3600',
    '  socat pty,raw,echo=0,link=/tmp/ttyMBUS pty,raw,echo=0,link=/tmp/ttySIM &',
    '  ems-sim mbus --serial /tmp/ttySIM --baud 2400        the slaves on one 2400 baud bus',
    '',
    'Slaves answer SND_NKE, REQ_UD2 (FCB honoured) and selection by secondary address with wildcards;',
    'several slaves answering at once give garbled bytes, as on a real bus. Faults: silent (no answer),',
    'checksum (RSP_UD with a wrong checksum), collision (garbled answers).',
  ].join('\n'),

  parse(values) {
    const host = str(values, 'host') ?? '127.0.0.1';
    const serialPath = str(values, 'serial');
    const portText = str(values, 'port');
    const port = serialPath && portText === undefined ? undefined : int('port', portText ?? '10001', 0, 65535, 'a port number');
    const specs = list(values, 'slave');
    const slaves = (specs.length ? specs : DEFAULT_SLAVES.split(',')).map(parseSlave);
    for (const f of list(values, 'fault')) {
      const [p, kind] = f.split(':');
      const s = slaves.find((x) => String(x.primary) === p);
      if (!s) throw new UsageError(`--fault: ${JSON.stringify(f)} names no configured slave address`);
      if (!FAULTS.includes(kind as SlaveFault)) throw new UsageError(`--fault: ${JSON.stringify(f)} has kind ${JSON.stringify(kind)}; use ${FAULTS.join(', ')}`);
      s.fault = kind as SlaveFault;
    }
    const speedText = str(values, 'speed') ?? '1';
    const speed = Number(speedText);
    if (!Number.isFinite(speed) || speed <= 0) throw new UsageError(`--speed: ${JSON.stringify(speedText)} is not a positive number`);
    const answerDelay = int('delay', str(values, 'delay') ?? '5', 0, 10_000, 'a delay in ms');
    const historyText = str(values, 'history');
    if (historyText !== undefined) {
      const m = /^(\d{1,6}):(\d{1,4})$/.exec(historyText);
      if (!m || Number(m[1]) < 1 || Number(m[2]) < 1 || Number(m[2]) > 1000) throw new UsageError(`--history: ${JSON.stringify(historyText)} is not SECONDS:COUNT (period 1..999999 s, 1..1000 values)`);
      for (const sl of slaves) sl.history = { periodSeconds: Number(m[1]), count: Number(m[2]) };
    }
    let serial: MbusCliOptions['serial'];
    if (serialPath !== undefined) {
      const baud = int('baud', str(values, 'baud') ?? '2400', 50, 4_000_000, 'a baud rate');
      let line: LineSettings;
      try { line = parseLine(str(values, 'line') ?? '8E1', baud); } catch (err) { throw new UsageError(`--line: ${(err as Error).message}`); }
      serial = { path: serialPath, line, answerDelayMs: str(values, 'delay') === undefined ? undefined : answerDelay };
    }
    if (port === undefined && str(values, 'pty')) throw new UsageError('--pty: bridges to the TCP port; give --port too, or use --serial alone');
    return { host, port, pty: str(values, 'pty'), sim: { slaves, speed, answerDelay }, serial };
  },

  async start(o) {
    const sim = new MbusSimulator(o.sim);
    if (o.port !== undefined) await sim.listen(o.port, o.host);
    if (o.pty) await sim.openPty(o.pty);
    const serial = o.serial ? await MbusSerial.open(sim, o.serial.path, o.serial.line, { answerDelayMs: o.serial.answerDelayMs }).catch(async (err) => { await sim.close(); throw err; }) : undefined;
    return {
      close: async () => { await serial?.close(); await sim.close(); },
      describe: () => sim.describe() + (o.pty ? `; pty ${o.pty}` : '') + (serial ? `; serial ${o.serial!.path} ${serial.describe()}` : ''),
    };
  },

  list() {
    return TELEGRAMS.map((t) => `  ${t.name.padEnd(18)} ${t.description}`);
  },
};
