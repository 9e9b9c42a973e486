/** The ems-sim entry of the wireless M-Bus meters simulator. */
import { int, list, str, UsageError, type SimulatorEntry } from '../registry';
import { KINDS, type WmbusMeterKind } from './meters';
import { WmbusSimulator, type LineFormat, type WmbusSimOptions } from './sim';

export const WMBUS_SIM_DEFAULT_KEY = '000102030405060708090A0B0C0D0E0F';

export const wmbusCli: SimulatorEntry<WmbusSimOptions> = {
  name: 'wmbus',
  description: 'Wireless M-Bus / OMS water, heat and gas meters sending encrypted telegrams (mode 5 and 7) to MQTT and/or as hex lines.',
  options: [
    { name: 'meters', type: 'string', arg: 'N', description: 'number of meters', default: '3' },
    { name: 'first-id', type: 'string', arg: 'ID', description: '8-digit id of the first meter (the others count up)', default: '12345678' },
    { name: 'kinds', type: 'string', arg: 'LIST', description: 'meter kinds in turn: water, heat, gas', default: 'water,heat,gas' },
    { name: 'mode', type: 'string', arg: '5|7|0|mixed', description: 'security mode (mixed: even meters 5, odd 7)', default: 'mixed' },
    { name: 'key', type: 'string', arg: 'HEX', description: 'AES-128 key of every meter', default: WMBUS_SIM_DEFAULT_KEY },
    { name: 'interval', type: 'string', arg: 'SECONDS', description: 'seconds between each meter\'s telegrams', default: '10' },
    { name: 'frame', type: 'string', arg: 'A|B|none', description: 'link layer CRCs of frame format A or B, or none (as receivers pass frames on)', default: 'none' },
    { name: 'line', type: 'string', arg: 'hex|rtl-wmbus|json', description: 'how a telegram is written', default: 'hex' },
    { name: 'mqtt', type: 'string', arg: 'URL', description: 'publish to this broker, e.g. mqtt://127.0.0.1:1883' },
    { name: 'topic', type: 'string', arg: 'TOPIC', description: 'MQTT topic', default: 'wmbus/telegram' },
    { name: 'out', type: 'string', arg: 'PATH', description: 'write lines to a file or serial device; - for stdout (default when no --mqtt)' },
    { name: 'stick', type: 'string', arg: 'im871a', description: 'act as this USB receiver stick on --serial: telegrams as iM871A HCI receive indications, its configuration request answered' },
    { name: 'serial', type: 'string', arg: 'PATH', description: 'serial device of --stick (e.g. one end of a socat pty pair)' },
    { name: 'speed', type: 'string', arg: 'N', description: 'simulated minutes of use per real minute', default: '1' },
  ],
  help: [
    'Examples:',
    '  ems-sim wmbus --mqtt mqtt://127.0.0.1:1883             3 meters (water mode 5, heat mode 7, gas mode 5) on wmbus/telegram',
    '  ems-sim wmbus --meters 20 --interval 2 --line rtl-wmbus  rtl-wmbus lines on stdout',
    '  ems-sim wmbus --frame A --out /dev/pts/5              format A frames with CRCs, hex lines to a pty',
    '  ems-sim wmbus --stick im871a --serial /dev/pts/6       an iM871A stick on a pty (ems-wmbus reads the other end)',
    '  ems-sim wmbus --out - | head -1 | xargs ems-decode wmbus --key 000102030405060708090A0B0C0D0E0F',
  ].join('\n'),

  parse(values) {
    const meters = int('meters', str(values, 'meters') ?? '3', 1, 10_000, 'a number of meters');
    const firstId = str(values, 'first-id') ?? '12345678';
    if (!/^\d{8}$/.test(firstId) || Number(firstId) + meters - 1 > 99_999_999) throw new UsageError(`--first-id: ${JSON.stringify(firstId)} must be 8 digits leaving room for ${meters} meters`);
    const kinds = (list(values, 'kinds').length ? list(values, 'kinds') : [...KINDS]) as WmbusMeterKind[];
    for (const k of kinds) if (!KINDS.includes(k)) throw new UsageError(`--kinds: ${JSON.stringify(k)} is not water, heat or gas`);
    const modeText = str(values, 'mode') ?? 'mixed';
    if (!['0', '5', '7', 'mixed'].includes(modeText)) throw new UsageError(`--mode: ${JSON.stringify(modeText)} is not 5, 7, 0 or mixed`);
    const key = str(values, 'key') ?? WMBUS_SIM_DEFAULT_KEY;
    if (!/^[0-9A-Fa-f]{32}$/.test(key)) throw new UsageError(`--key: must be 32 hex digits (16 bytes), got ${key.length} characters`);
    const seconds = Number(str(values, 'interval') ?? '10');
    if (!Number.isFinite(seconds) || seconds < 0.05 || seconds > 86_400) throw new UsageError(`--interval: ${JSON.stringify(str(values, 'interval'))} is not a number of seconds 0.05..86400`);
    const frame = str(values, 'frame') ?? 'none';
    if (!['A', 'B', 'none'].includes(frame)) throw new UsageError(`--frame: ${JSON.stringify(frame)} is not A, B or none`);
    const line = str(values, 'line') ?? 'hex';
    if (!['hex', 'rtl-wmbus', 'json'].includes(line)) throw new UsageError(`--line: ${JSON.stringify(line)} is not hex, rtl-wmbus or json`);
    const mqttUrl = str(values, 'mqtt');
    if (mqttUrl !== undefined && !/^mqtts?:\/\/[^\s/]+(:\d+)?\/?$/.test(mqttUrl)) throw new UsageError(`--mqtt: ${JSON.stringify(mqttUrl)} is not a broker URL such as mqtt://127.0.0.1:1883`);
    const speed = Number(str(values, 'speed') ?? '1');
    if (!Number.isFinite(speed) || speed <= 0) throw new UsageError(`--speed: ${JSON.stringify(str(values, 'speed'))} is not a positive number`);
    const stick = str(values, 'stick');
    if (stick !== undefined && stick !== 'im871a') throw new UsageError(`--stick: ${JSON.stringify(stick)} is not im871a`);
    const serial = str(values, 'serial');
    if ((stick === undefined) !== (serial === undefined)) throw new UsageError(stick ? '--stick needs --serial PATH' : '--serial needs --stick im871a');
    if (serial !== undefined && serial.trim() === '') throw new UsageError('--serial: the device path is empty');
    const outText = str(values, 'out');
    const out = outText === '' ? undefined : outText ?? (mqttUrl || serial ? undefined : '-');
    return {
      meters, firstId, kinds, mode: modeText === 'mixed' ? 'mixed' : Number(modeText) as 0 | 5 | 7, key: Buffer.from(key, 'hex'),
      intervalMs: Math.round(seconds * 1000), format: frame as 'A' | 'B' | 'none', lineFormat: line as LineFormat, mqttUrl,
      topic: str(values, 'topic') ?? 'wmbus/telegram', out, speed, stick: stick as 'im871a' | undefined, serial,
    };
  },

  async start(o) {
    const sim = new WmbusSimulator(o);
    await sim.start();
    return {
      close: () => sim.close(),
      describe: () => `wmbus: ${o.meters} meters (ids ${o.firstId}..., mode ${o.mode}) every ${o.intervalMs / 1000} s${o.mqttUrl ? ` to ${o.mqttUrl} topic ${o.topic}` : ''}${o.out ? ` to ${o.out === '-' ? 'stdout' : o.out}` : ''}${o.serial ? ` as an ${o.stick} stick on ${o.serial}` : ''}`,
    };
  },
};
