/** The ems-sim entry of the DLMS/COSEM meter simulator. */
import crypto from 'node:crypto';
import { int, list, str, UsageError, type SimulatorEntry } from '../registry';
import { describeWindow, splitFaultWindow } from '../fault-window';
import { keyFrom } from '../../protocols/dlms/security';
import { type DlmsFault, type DlmsSimOptions, DlmsSimulator } from './simulator';
import type { PushCipherMode, SimPushOptions } from './push';

export interface DlmsCliOptions {
  host: string;
  /** Wrapper port; undefined = no wrapper. */
  port?: number;
  hdlcPort?: number;
  serial?: { path: string; baud: number };
  sim: DlmsSimOptions;
  push?: SimPushOptions;
}

/** Green Book example keys: what a fresh meter and the demo use. */
export const DEFAULT_EK = '000102030405060708090A0B0C0D0E0F';
export const DEFAULT_AK = 'D0D1D2D3D4D5D6D7D8D9DADBDCDDDEDF';

function hexOption(name: string, text: string, bytes?: number): Buffer {
  const clean = text.replace(/[\s:]/g, '');
  if (!/^([0-9a-fA-F]{2})+$/.test(clean) || (bytes !== undefined && clean.length !== bytes * 2)) {
    throw new UsageError(`--${name}: ${JSON.stringify(text)} is not ${bytes ?? 'an even number of'} ${bytes ? 'bytes of hex' : 'hex digits'}`);
  }
  return Buffer.from(clean, 'hex');
}
/** A key option; the message names the option, never the value (it is a secret). */
function keyOption(name: string, text: string): Buffer {
  try { return keyFrom(text, `--${name}`); } catch (e) { throw new UsageError((e as Error).message); }
}

function parseFault(text: string): DlmsFault {
  const { spec, window } = splitFaultWindow(text);
  const [kind, arg] = spec.split(':');
  if (kind === 'frame-errors') {
    const share = arg === undefined ? 0.25 : Number(arg);
    if (!(share > 0 && share <= 1)) throw new UsageError(`--fault: ${JSON.stringify(text)} has a share that is not a number in (0, 1]`);
    return { kind, share, window };
  }
  if ((kind === 'wrong-key' || kind === 'busy' || kind === 'offline') && arg === undefined) return { kind, window };
  throw new UsageError(`--fault: ${JSON.stringify(text)} is not wrong-key, frame-errors[:SHARE], busy or offline (each with an optional @AFTER+FOR)`);
}

const optionalPort = (name: string, text: string | undefined) => (text === undefined || text === 'off' ? undefined : int(name, text, 0, 65535, 'a port number'));

export const dlmsCli: SimulatorEntry<DlmsCliOptions> = {
  name: 'dlms',
  description: 'A DLMS/COSEM electricity meter (registers, clock, 15-min load profile, LLS and HLS-GMAC, ciphering) over the TCP wrapper, HDLC over TCP and HDLC on a serial port/pty.',
  options: [
    { name: 'port', type: 'string', arg: 'PORT', description: 'TCP wrapper port (0 = any free port, off = none)', default: '4059' },
    { name: 'hdlc-port', type: 'string', arg: 'PORT', description: 'also serve HDLC over TCP on this port (0 = any free port)' },
    { name: 'serial', type: 'string', arg: 'PATH', description: 'also serve HDLC on this serial device or pty (8N1)' },
    { name: 'baud', type: 'string', arg: 'N', description: 'serial speed', default: '9600' },
    { name: 'host', type: 'string', arg: 'HOST', description: 'address to listen on', default: '127.0.0.1' },
    { name: 'meter-id', type: 'string', arg: 'ID', description: 'serial number and seed of the energy curves', default: 'SIM0001' },
    { name: 'password', type: 'string', arg: 'TEXT', description: 'LLS password of client SAP 0x20', default: '12345678' },
    { name: 'password-hex', type: 'string', arg: 'HEX', description: 'LLS password as hex (instead of --password)' },
    { name: 'ek', type: 'string', arg: 'HEX', description: 'global unicast encryption key (16 bytes)', default: DEFAULT_EK },
    { name: 'ak', type: 'string', arg: 'HEX', description: 'authentication key (16 bytes)', default: DEFAULT_AK },
    { name: 'system-title', type: 'string', arg: 'HEX', description: 'server system title (8 bytes; default EMS + a hash of the meter id)' },
    { name: 'logical', type: 'string', arg: 'N', description: 'HDLC logical device address (upper) and wrapper wPort', default: '1' },
    { name: 'physical', type: 'string', arg: 'N', description: 'HDLC physical device address (lower)', default: '17' },
    { name: 'max-info', type: 'string', arg: 'BYTES', description: 'largest HDLC information field the meter offers', default: '128' },
    { name: 'pdu-size', type: 'string', arg: 'BYTES', description: 'max receive PDU size in the InitiateResponse', default: '1024' },
    { name: 'clock-offset', type: 'string', arg: 'SECONDS', description: 'meter clock minus real time', default: '0' },
    { name: 'utc-offset', type: 'string', arg: 'MINUTES', description: 'meter local time east of UTC (deviation = -offset)', default: '60' },
    { name: 'profile-period', type: 'string', arg: 'SECONDS', description: 'load profile capture period', default: '900' },
    { name: 'profile-entries', type: 'string', arg: 'N', description: 'load profile depth in rows', default: '2880' },
    { name: 'fault', type: 'string', arg: 'KIND[@AFTER+FOR]', multiple: true, description: 'wrong-key, frame-errors[:SHARE], busy or offline' },
    { name: 'push-to', type: 'string', arg: 'HOST:PORT', description: 'push a DataNotification to this TCP address every --push-interval' },
    { name: 'push-serial', type: 'boolean', description: 'push out of the --serial line too (a customer port)' },
    { name: 'push-interval', type: 'string', arg: 'SECONDS', description: 'seconds between pushes', default: '10' },
    { name: 'push-framing', type: 'string', arg: 'F', description: 'hdlc, wrapper or mbus', default: 'hdlc' },
    { name: 'push-cipher', type: 'string', arg: 'MODE', description: 'none, encrypted (SC 0x20) or authenticated (SC 0x30, --ek/--ak)', default: 'none' },
  ],
  help: [
    'Client SAPs: 0x10 public (lowest security), 0x20 LLS (--password), 0x30 HLS-GMAC (--ek/--ak); the',
    'ciphered context (glo- APDUs, security suite 0) works at every level that has keys.',
    'Examples:',
    '  ems-sim dlms --port 4059 --hdlc-port 4060 --meter-id 12345678',
    '  socat pty,raw,echo=0,link=/tmp/ttyEMS pty,raw,echo=0,link=/tmp/ttyMETER &',
    '  ems-sim dlms --port off --serial /tmp/ttyMETER --fault frame-errors:0.2',
    '  ems-sim dlms --fault offline@60+900     # silent for 15 min after a minute; the profile keeps recording',
    '  ems-sim dlms --port off --push-to 127.0.0.1:4070 --push-interval 2 --push-cipher authenticated   # push to a head end',
  ].join('\n'),

  parse(values) {
    const host = str(values, 'host') ?? '127.0.0.1';
    const meterId = str(values, 'meter-id') ?? 'SIM0001';
    if (!/^[\x20-\x7e]{1,32}$/.test(meterId)) throw new UsageError(`--meter-id: ${JSON.stringify(meterId)} is not 1..32 printable characters`);
    const pwHex = str(values, 'password-hex');
    const password = pwHex !== undefined ? hexOption('password-hex', pwHex) : Buffer.from(str(values, 'password') ?? '12345678');
    if (!password.length) throw new UsageError('--password: empty');
    const title = str(values, 'system-title');
    const systemTitle = title !== undefined ? hexOption('system-title', title, 8)
      : Buffer.concat([Buffer.from('EMS'), crypto.createHash('sha256').update(meterId).digest().subarray(0, 5)]);
    const serialPath = str(values, 'serial');
    const sim: DlmsSimOptions = {
      meterId, password, systemTitle,
      keys: { encryptionKey: keyOption('ek', str(values, 'ek') ?? DEFAULT_EK), authenticationKey: keyOption('ak', str(values, 'ak') ?? DEFAULT_AK) },
      logical: int('logical', str(values, 'logical') ?? '1', 0, 0x3fff),
      physical: int('physical', str(values, 'physical') ?? '17', 0, 0x3fff),
      maxInfo: int('max-info', str(values, 'max-info') ?? '128', 32, 2030, 'bytes'),
      pduSize: int('pdu-size', str(values, 'pdu-size') ?? '1024', 64, 65535, 'bytes'),
      clockOffsetMs: int('clock-offset', str(values, 'clock-offset') ?? '0', -31_536_000, 31_536_000, 'seconds') * 1000,
      utcOffsetMinutes: int('utc-offset', str(values, 'utc-offset') ?? '60', -720, 840, 'minutes'),
      profilePeriodSeconds: int('profile-period', str(values, 'profile-period') ?? '900', 1, 86_400, 'seconds'),
      profileEntries: int('profile-entries', str(values, 'profile-entries') ?? '2880', 1, 100_000, 'rows'),
      faults: list(values, 'fault').map(parseFault),
    };
    const pushTo = str(values, 'push-to');
    const pushSerial = values['push-serial'] === true;
    let push: SimPushOptions | undefined;
    if (pushTo !== undefined || pushSerial) {
      const m = pushTo === undefined ? undefined : /^([^:\s]+):(\d+)$/.exec(pushTo);
      if (pushTo !== undefined && !m) throw new UsageError(`--push-to: ${JSON.stringify(pushTo)} is not HOST:PORT`);
      if (pushSerial && !serialPath) throw new UsageError('--push-serial needs --serial PATH');
      const framing = str(values, 'push-framing') ?? 'hdlc';
      if (framing !== 'hdlc' && framing !== 'wrapper' && framing !== 'mbus') throw new UsageError(`--push-framing: ${JSON.stringify(framing)} is not hdlc, wrapper or mbus`);
      const cipher = str(values, 'push-cipher') ?? 'none';
      if (cipher !== 'none' && cipher !== 'encrypted' && cipher !== 'authenticated') throw new UsageError(`--push-cipher: ${JSON.stringify(cipher)} is not none, encrypted or authenticated`);
      push = {
        intervalMs: int('push-interval', str(values, 'push-interval') ?? '10', 1, 86_400, 'seconds') * 1000,
        framing, cipher: cipher as PushCipherMode, serial: pushSerial,
        to: m ? { host: m[1], port: int('push-to', m[2], 1, 65535, 'a port number') } : undefined,
      };
    }
    return {
      host, sim, push,
      port: optionalPort('port', str(values, 'port') ?? '4059'),
      hdlcPort: optionalPort('hdlc-port', str(values, 'hdlc-port')),
      serial: serialPath ? { path: serialPath, baud: int('baud', str(values, 'baud') ?? '9600', 50, 4_000_000, 'a baud rate') } : undefined,
    };
  },

  async start(o) {
    const sim = new DlmsSimulator(o.sim);
    const where: string[] = [];
    try {
      if (o.port !== undefined) where.push(`wrapper on ${o.host}:${await sim.listenWrapper(o.port, o.host)}`);
      if (o.hdlcPort !== undefined) where.push(`HDLC on ${o.host}:${await sim.listenHdlc(o.hdlcPort, o.host)}`);
      if (o.serial) { await sim.openSerial(o.serial.path, o.serial.baud); where.push(`HDLC on ${o.serial.path} at ${o.serial.baud} baud`); }
      if (o.push) {
        sim.startPush(o.push);
        const to = [o.push.to && `${o.push.to.host}:${o.push.to.port}`, o.push.serial && o.serial?.path].filter(Boolean).join(' and ');
        where.push(`${o.push.cipher === 'none' ? 'plain' : o.push.cipher} ${o.push.framing} pushes every ${o.push.intervalMs / 1000} s to ${to}`);
      }
    } catch (e) {
      await sim.close();
      throw e;
    }
    const faults = (o.sim.faults ?? []).map((f) => `${f.kind}${f.share !== undefined ? `:${f.share}` : ''}${describeWindow(f.window)}`);
    return {
      close: () => sim.close(),
      describe: () => `dlms meter ${o.sim.meterId} (server ${o.sim.logical}/${o.sim.physical}, system title ${o.sim.systemTitle.toString('hex').toUpperCase()}): ${where.join(', ') || 'nothing (give --port, --hdlc-port or --serial)'}${faults.length ? `; faults ${faults.join(', ')}` : ''}`,
    };
  },
};
