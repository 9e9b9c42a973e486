/**
 * A meter definition of the poll server (the data dictionary's "Meter creating/updating" fields,
 * plus protocol and profile): validated field by field with errors that name the field and value.
 * The dictionary sends every field as a string; numbers are accepted too. Units:
 * waiting_time and pause_time in ms, interval_time in seconds, time_difference in seconds,
 * package_size in bytes (0 = no splitting). periodType says how often a polling session starts and
 * data_polling_length how many seconds it polls (every interval_time; 0 = one poll): see schedule.ts.
 */
import { ApiError } from './envelope';
import { parsePollSpec } from '../protocols/hex/codecs';
import { listProfiles } from '../protocols/modbus/profile';
import { MAX_EXPRESSION_LENGTH, parseVirtualExpression } from './virtual-expression';
import { parseObisList, parseServerAddress, SECURITY_LEVELS } from '../protocols/dlms/meter';
import { describeNetworks, isAllowedAddress, isSerialPath, parseIp, type PollNetwork } from './poll-networks';

/**
 * The protocols the shipped EMS flow polls (or receives, LoRaWAN): a meter of any other protocol is refused when
 * it is defined, never routed to a dead end.
 */
export const PROTOCOLS = ['modbus-tcp', 'modbus-rtu-over-tcp', 'modbus-rtu', 'mbus', 'iec62056-21', 'hex', 'g13', 'lorawan', 'lorawan-platform', 'p1', 'sml', 'wmbus', 'dlms', 'manual', 'virtual'] as const;
/** Baud rates a serial_line may name. */
export const SERIAL_BAUD_RATES = [300, 600, 1200, 2400, 4800, 9600, 14400, 19200, 38400, 57600, 115200] as const;
/** A serial device a serial Modbus RTU meter may name: a tty (also /dev/serial/by-id/..., Bluetooth rfcomm, a pty). */
const SERIAL_DEVICE = /^\/dev\/(tty[A-Za-z0-9._-]*|serial\/[A-Za-z0-9._:/-]+|rfcomm\d+|pts\/\d+)$/;
export type MeterProtocol = typeof PROTOCOLS[number];
/**
 * Protocols whose meters send on their own (LoRaWAN uplinks, wireless M-Bus telegrams), whose readings people
 * enter (manual: POST /api/meters/:id/readings) or that are calculated from other meters (virtual: `expression`,
 * see virtual-meters.ts): the poll schedule never polls them.
 */
export const PUSHED_PROTOCOLS: readonly MeterProtocol[] = ['lorawan', 'wmbus', 'manual', 'virtual'];
export const PERIOD_TYPES = ['interval', 'hourly', 'daily', 'weekly', 'monthly'] as const;
export type PeriodType = typeof PERIOD_TYPES[number];

export interface MeterDefinition {
  name: string;
  /** The meter's own number (serial number on the nameplate). */
  number_meter: string;
  /** Address on its bus: Modbus unit id, M-Bus primary address, IEC 62056-21 device address. */
  connection_address: string;
  /** Meter password (IEC P1, gateway), stored but never returned by the API. */
  password: string;
  /** Host name or IP of the TCP endpoint, or a serial device path ("/dev/ttyUSB0"). */
  ip_address: string;
  port: number;
  waiting_time: number;
  interval_time: number;
  pause_time: number;
  package_size: number;
  time_difference: number;
  periodType: PeriodType;
  data_polling_length: number;
  /** ISO weekdays 1 (Monday) .. 7 (Sunday) the meter may be polled; empty = every day. */
  days_of_week: number[];
  /** Days of the month 1..31 the meter may be polled; empty = every day. */
  days_of_month: number[];
  protocol: MeterProtocol;
  /** Register map / codec profile, e.g. a Modbus profile id "eastron-sdm630". */
  profile: string;
  /** Serial line settings "<baud> <data bits><parity N|E|O><stop bits>", e.g. "9600 8N1" (serial device paths only; empty = the protocol's default). */
  serial_line: string;
  /** A virtual meter's weighted sum of other meters by id, e.g. "main - hvac" (virtual-expression.ts); empty for other protocols. */
  expression: string;
  /** The master meter this one is a sub-meter of (another meter's id), '' = none. Checked against the others in registry.ts. */
  parent_meter: string;
  /** The energy category id (energy-categories.ts), '' = derived from the meter's OBIS codes. */
  energy_category: string;
  /** DLMS: the client SAP (0 = by security level: 16 lowest, 32 LLS, 48 HLS-GMAC); 0 for other protocols. */
  client_sap: number;
  /** DLMS: lowest, lls (password) or hls-gmac (keys); '' for other protocols. */
  security_level: '' | typeof SECURITY_LEVELS[number];
  /** DLMS HLS-GMAC: global unicast encryption key, 32 hex digits; a secret like password (sealed, never returned). */
  encryption_key: string;
  /** DLMS HLS-GMAC: authentication key, 32 hex digits; a secret. */
  authentication_key: string;
}

/** Fields stored sealed and never returned by the API (only whether each is set: `<field>_set`). */
export const SECRET_FIELDS = ['password', 'encryption_key', 'authentication_key'] as const;
/** Fields only a dlms meter uses. */
const DLMS_FIELDS = ['client_sap', 'security_level', 'encryption_key', 'authentication_key'] as const;

/** Parsed serial_line settings. */
export interface SerialLine { baudRate: number; dataBits: 7 | 8; parity: 'none' | 'even' | 'odd'; stopBits: 1 | 2 }

/** "9600 8N1" as line settings; throws 400 naming the field and value. */
export function parseSerialLine(v: string): SerialLine {
  const m = /^(\d{3,6}) ([78])([NEO])([12])$/.exec(v);
  if (!m || !(SERIAL_BAUD_RATES as readonly number[]).includes(Number(m[1]))) {
    bad('serial_line', v, `must be "<baud> <data bits><parity N|E|O><stop bits>" such as "9600 8N1", with a baud rate of ${SERIAL_BAUD_RATES.join(', ')}`);
  }
  return { baudRate: Number(m[1]), dataBits: Number(m[2]) as 7 | 8, parity: ({ N: 'none', E: 'even', O: 'odd' } as const)[m[3] as 'N' | 'E' | 'O'], stopBits: Number(m[4]) as 1 | 2 };
}

/** A serial Modbus RTU meter's line: its serial_line, else 9600 8E1 (the standard's default). */
export function modbusSerialLine(def: Pick<MeterDefinition, 'serial_line'>): SerialLine {
  return parseSerialLine(def.serial_line || '9600 8E1');
}

export const METER_FIELDS: readonly (keyof MeterDefinition)[] = [
  'name', 'number_meter', 'connection_address', 'password', 'ip_address', 'port', 'waiting_time', 'interval_time',
  'pause_time', 'package_size', 'time_difference', 'periodType', 'data_polling_length', 'days_of_week', 'days_of_month',
  'protocol', 'profile', 'serial_line', 'expression', 'parent_meter', 'energy_category',
  'client_sap', 'security_level', 'encryption_key', 'authentication_key',
];

export const METER_DEFAULTS: Omit<MeterDefinition, 'name' | 'protocol'> = {
  number_meter: '', connection_address: '1', password: '', ip_address: '127.0.0.1', port: 502, waiting_time: 1000,
  interval_time: 60, pause_time: 0, package_size: 0, time_difference: 0, periodType: 'interval', data_polling_length: 0,
  days_of_week: [], days_of_month: [], profile: '', serial_line: '', expression: '', parent_meter: '', energy_category: '',
  client_sap: 0, security_level: '', encryption_key: '', authentication_key: '',
};

/** The usual TCP port of a protocol's endpoint, when a new meter gives none (else 502). */
const DEFAULT_PORTS: Partial<Record<MeterProtocol, number>> = { g13: 443, 'lorawan-platform': 80, 'modbus-rtu': 0, p1: 2001, sml: 7259, dlms: 4059 };
/**
 * How long a new meter of a pushing interface waits for a telegram, when it gives no waiting_time (else 1000 ms):
 * a DSMR 2.2/4 meter sends every 10 s, an SML meter every 1-4 s.
 */
const DEFAULT_WAITING_MS: Partial<Record<MeterProtocol, number>> = { p1: 11_000, sml: 5_000, dlms: 3_000 };

function defaultsOf(protocol: MeterProtocol): Pick<MeterDefinition, 'port' | 'waiting_time'> {
  return { port: DEFAULT_PORTS[protocol] ?? METER_DEFAULTS.port, waiting_time: DEFAULT_WAITING_MS[protocol] ?? METER_DEFAULTS.waiting_time };
}

function bad(field: string, value: unknown, rule: string): never {
  throw new ApiError(400, `${field} ${JSON.stringify(value)} ${rule}`);
}

function text(field: string, v: unknown, max: number, required = false): string {
  if (typeof v === 'number' && Number.isFinite(v)) v = String(v);
  if (typeof v !== 'string') bad(field, v, 'must be a string');
  if (v.length > max * 4) bad(field, `${v.slice(0, 40)}...`, `must be at most ${max} characters`);
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f]/.test(v)) bad(field, v, 'must not contain control characters');
  const s = v.trim();
  if (required && s === '') bad(field, v, 'must not be empty');
  if (s.length > max) bad(field, v, `must be at most ${max} characters`);
  return s;
}

function integer(field: string, v: unknown, min: number, max: number): number {
  const n = typeof v === 'string' && /^\s*-?\d+\s*$/.test(v) ? Number(v) : v;
  if (typeof n !== 'number' || !Number.isSafeInteger(n) || n < min || n > max) bad(field, v, `must be a whole number from ${min} to ${max}`);
  return n;
}

/** "1,2,5" / [1,2,5] / "" -> sorted unique numbers in [min, max]. */
function dayList(field: string, v: unknown, min: number, max: number): number[] {
  const items = Array.isArray(v) ? v : typeof v === 'string' ? (v.trim() === '' ? [] : v.split(',')) : bad(field, v, `must be a comma-separated list of days ${min}-${max}`);
  const days = items.map((d) => {
    const n = typeof d === 'string' && /^\s*\d+\s*$/.test(d) ? Number(d) : d;
    if (typeof n !== 'number' || !Number.isInteger(n) || n < min || n > max) bad(field, v, `must list days from ${min} to ${max} (got ${JSON.stringify(d)})`);
    return n;
  });
  return [...new Set(days)].sort((a, b) => a - b);
}

const CHECKS: { [K in keyof MeterDefinition]: (v: unknown) => MeterDefinition[K] } = {
  name: (v) => text('name', v, 100, true),
  number_meter: (v) => text('number_meter', v, 64),
  connection_address: (v) => text('connection_address', v, 64),
  password: (v) => text('password', v, 128),
  ip_address: (v) => {
    const s = text('ip_address', v, 255, true);
    if (s.startsWith('/')) {
      if (!/^\/dev\/[A-Za-z0-9._/-]+$/.test(s) || s.split('/').includes('..')) bad('ip_address', v, 'must be a serial device path under /dev (e.g. /dev/ttyUSB0)');
    } else if (!/^[A-Za-z0-9._:\-[\]%]+$/.test(s) || s.includes('..')) {
      bad('ip_address', v, 'must be a host name, an IP address or a serial device path');
    }
    return s;
  },
  port: (v) => integer('port', v, 0, 65535),
  waiting_time: (v) => integer('waiting_time', v, 50, 600_000),
  interval_time: (v) => integer('interval_time', v, 1, 31 * 86_400),
  pause_time: (v) => integer('pause_time', v, 0, 600_000),
  package_size: (v) => integer('package_size', v, 0, 65_536),
  time_difference: (v) => integer('time_difference', v, 0, 86_400),
  periodType: (v) => {
    if (!PERIOD_TYPES.includes(v as PeriodType)) bad('periodType', v, `must be one of ${PERIOD_TYPES.join(', ')}`);
    return v as PeriodType;
  },
  data_polling_length: (v) => integer('data_polling_length', v, 0, 100_000),
  days_of_week: (v) => dayList('days_of_week', v, 1, 7),
  days_of_month: (v) => dayList('days_of_month', v, 1, 31),
  protocol: (v) => {
    if (!PROTOCOLS.includes(v as MeterProtocol)) bad('protocol', v, `must be one of ${PROTOCOLS.join(', ')}`);
    return v as MeterProtocol;
  },
  profile: (v) => text('profile', v, 100),
  serial_line: (v) => {
    const s = text('serial_line', v, 20);
    if (s !== '') parseSerialLine(s);
    return s;
  },
  expression: (v) => {
    const s = text('expression', v, MAX_EXPRESSION_LENGTH);
    return s === '' ? s : parseVirtualExpression(s).text;
  },
  parent_meter: (v) => {
    const s = text('parent_meter', v, 64);
    if (s !== '' && !/^[A-Za-z0-9_.-]{1,64}$/.test(s)) bad('parent_meter', v, 'must be a meter id (letters, digits or . _ -) or empty');
    return s;
  },
  energy_category: (v) => {
    const s = text('energy_category', v, 64);
    if (s !== '' && !/^[a-z0-9_-]{1,64}$/.test(s)) bad('energy_category', v, 'must be an energy category id (lower-case letters, digits, _ -) or empty');
    return s;
  },
  client_sap: (v) => integer('client_sap', v, 0, 127),
  security_level: (v) => {
    const s = text('security_level', v, 20);
    if (s !== '' && !(SECURITY_LEVELS as readonly string[]).includes(s)) bad('security_level', v, `must be one of ${SECURITY_LEVELS.join(', ')}`);
    return s as MeterDefinition['security_level'];
  },
  encryption_key: (v) => hexKey('encryption_key', v),
  authentication_key: (v) => hexKey('authentication_key', v),
};

/** A 16-byte key as 32 hex digits (upper case), or ''; the error never shows the value. */
function hexKey(field: string, v: unknown): string {
  if (typeof v !== 'string') bad(field, '(hidden)', 'must be a string of 32 hex digits');
  const s = v.replace(/[\s:]/g, '');
  if (s !== '' && !/^[0-9A-Fa-f]{32}$/.test(s)) bad(field, '(hidden)', 'must be 32 hex digits (AES-128, DLMS security suite 0) or empty');
  return s.toUpperCase();
}

/** A dlms meter's own checks: server address, security level with its secrets, the OBIS list in profile. */
function checkDlms(def: MeterDefinition): void {
  try {
    const { physical } = parseServerAddress(def.connection_address, 'connection_address');
    if (physical === undefined && def.ip_address.startsWith('/')) bad('connection_address', def.connection_address, 'must be logical/physical (e.g. "1/17") for HDLC on a serial device');
  } catch (err) {
    if (err instanceof ApiError) throw err;
    throw new ApiError(400, (err as Error).message);
  }
  if (def.security_level === '') def.security_level = 'lowest';
  if (def.security_level === 'lls' && def.password === '') throw new ApiError(400, 'password is required for a dlms meter with security_level "lls"');
  if (def.security_level === 'hls-gmac') {
    for (const k of ['encryption_key', 'authentication_key'] as const) if (def[k] === '') throw new ApiError(400, `${k} is required for a dlms meter with security_level "hls-gmac" (32 hex digits)`);
  }
  try {
    parseObisList(def.profile);
  } catch (err) {
    bad('profile', def.profile, `must be empty, "discover" or a list of OBIS codes: ${(err as Error).message}`);
  }
}

/** What a definition is checked against beyond its own fields (the registry passes its settings). */
export interface DefinitionRules {
  /** Modbus register map ids a meter may name (default: the built-in profiles). */
  modbusProfiles?: () => readonly string[];
  /** Networks an ip_address given as an IP literal must lie in (EMS_POLL_NETWORKS); undefined = no check. */
  pollNetworks?: readonly PollNetwork[];
  /** Energy category ids an energy_category may name (undefined = no check). */
  energyCategories?: () => readonly string[];
}

/** The built-in Modbus profile ids (lib/protocols/modbus/profiles). */
export function builtInModbusProfiles(): string[] {
  return listProfiles().filter((p) => !p.error).map((p) => p.id);
}

/** Throws 400 when `address` is an IP literal outside the allowed poll networks (host names are checked at poll time). */
export function checkPollAddress(address: string, networks: readonly PollNetwork[]): void {
  if (isSerialPath(address) || !parseIp(address)) return;
  if (!isAllowedAddress(address, networks)) {
    throw new ApiError(400, `ip_address "${address}" is outside the networks meters may be polled in (EMS_POLL_NETWORKS: ${describeNetworks(networks)}); an administrator can allow it there`);
  }
}

/**
 * A full definition from a create body (name and protocol required, defaults for the rest), or the
 * merge of `base` and an update body. Unknown fields are refused, so a typo never passes silently.
 */
export function checkMeterDefinition(body: unknown, base?: MeterDefinition, rules: DefinitionRules = {}): MeterDefinition {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw new ApiError(400, 'the body must be a JSON object with the meter\'s fields');
  const input = body as Record<string, unknown>;
  for (const key of Object.keys(input)) {
    if (!(METER_FIELDS as readonly string[]).includes(key) && key !== 'folder_id') throw new ApiError(400, `unknown field "${key}" (use folder_id, ${METER_FIELDS.join(', ')})`);
  }
  if (!base) {
    for (const k of ['name', 'protocol'] as const) if (input[k] === undefined) throw new ApiError(400, `${k} is required`);
  }
  const out = { ...METER_DEFAULTS, ...(base ? {} : defaultsOf(input.protocol as MeterProtocol)), ...base } as Record<string, unknown>;
  for (const k of METER_FIELDS) {
    if (input[k] !== undefined) out[k] = (CHECKS[k] as (v: unknown) => unknown)(input[k]);
  }
  const def = out as unknown as MeterDefinition;
  if (def.protocol.startsWith('modbus')) {
    const unit = Number(def.connection_address);
    if (!/^\d+$/.test(def.connection_address) || unit < 0 || unit > 247) bad('connection_address', def.connection_address, 'must be a Modbus unit id from 0 to 247');
    if (!def.profile) throw new ApiError(400, 'profile is required for Modbus meters (a register map such as "eastron-sdm630")');
    const known = (rules.modbusProfiles ?? builtInModbusProfiles)();
    if (!known.includes(def.profile)) {
      const some = known.slice(0, 8).join(', ') + (known.length > 8 ? ', ...' : '');
      bad('profile', def.profile, `is not a known Modbus register map (known: ${some})`);
    }
  }
  if (['mbus', 'iec62056-21', 'lorawan'].includes(def.protocol) && !/^[A-Za-z0-9._:,=+@ -]*$/.test(def.profile)) {
    bad('profile', def.profile, `must be a profile name (letters, digits, spaces and . _ : , = + @ -) for ${def.protocol} meters`);
  }
  if (def.protocol === 'lorawan-platform' && def.profile !== '' && (!/^(\/[A-Za-z0-9._~-]+)+\/?$/.test(def.profile) || def.profile.split('/').some((p) => p === '..' || p === '.'))) {
    bad('profile', def.profile, 'must be empty or the platform\'s URL path (e.g. /internal/commonInternal.jsp)');
  }
  if (def.protocol === 'mbus' && !/^(\d{1,3}|[0-9A-Fa-f*]{8,16})$/.test(def.connection_address)) {
    bad('connection_address', def.connection_address, 'must be an M-Bus primary address (0-250) or a secondary address (8-16 hex digits, * wildcards)');
  }
  if (def.protocol === 'iec62056-21' && !/^[0-9A-Za-z ]{0,32}$/.test(def.connection_address)) {
    bad('connection_address', def.connection_address, 'must be an IEC 62056-21 device address (up to 32 letters, digits or spaces; empty = any meter)');
  }
  if (def.protocol === 'g13') {
    if (!/^\S{1,17}$/.test(def.connection_address)) bad('connection_address', def.connection_address, 'must be the meter\'s serial number on the G13 gateway (1-17 characters, no spaces)');
    if (!/^(|verify|plain|http|(sha256:)?([0-9a-f]{2}:?){31}[0-9a-f]{2})$/i.test(def.profile)) {
      bad('profile', def.profile, 'must be empty, "verify", "plain" or the gateway certificate\'s SHA-256 fingerprint (64 hex digits)');
    }
  }
  if (def.protocol === 'hex') {
    try {
      parsePollSpec(def.profile);
    } catch (err) {
      throw new ApiError(400, (err as Error).message);
    }
  }
  if (def.protocol === 'p1') {
    if (def.password !== '' && !/^[0-9A-Fa-f]{32}$/.test(def.password)) bad('password', '(hidden)', 'must be empty or the meter\'s 32-hex-digit decryption key (encrypted P1: Luxembourg, Austria)');
    if (input.connection_address === undefined && def.connection_address === METER_DEFAULTS.connection_address) def.connection_address = ''; // no bus address on P1
    if (def.connection_address !== '' && !/^[0-9A-Fa-f]{32,34}$/.test(def.connection_address)) {
      bad('connection_address', def.connection_address, 'must be empty or the 32-hex-digit authentication key (or the full AAD) of an encrypted P1 meter');
    }
    if (def.profile !== '') bad('profile', def.profile, 'must be empty for a p1 meter (the telegram says what it holds)');
  }
  if (def.protocol === 'sml') {
    if (input.connection_address === undefined && def.connection_address === METER_DEFAULTS.connection_address) def.connection_address = ''; // no bus address on SML
    if (def.profile !== '') bad('profile', def.profile, 'must be empty for an sml meter (the telegram says what it holds)');
  }
  if (def.protocol === 'wmbus') {
    if (!/^(?:[A-Za-z]{3}[-\s]?)?\d{8}$/.test(def.connection_address)) {
      bad('connection_address', def.connection_address, 'must be the wireless M-Bus meter\'s 8-digit id, optionally after its manufacturer code (e.g. 12345678 or ELS12345678)');
    }
    if (def.password !== '' && !/^[0-9A-Fa-f]{32}$/.test(def.password)) bad('password', '(hidden)', 'must be empty (unencrypted meter) or the meter\'s 32-hex-digit AES-128 key');
    if (def.profile !== '') bad('profile', def.profile, 'must be empty for a wmbus meter (the telegram says what it holds)');
  }
  if (def.protocol === 'dlms') checkDlms(def);
  else {
    for (const k of DLMS_FIELDS) {
      if (input[k] !== undefined && def[k] !== METER_DEFAULTS[k]) bad(k, SECRET_FIELDS.includes(k as never) ? '(hidden)' : def[k], `applies to dlms meters only (protocol is ${def.protocol})`);
      (def as unknown as Record<string, unknown>)[k] = METER_DEFAULTS[k];
    }
  }
  if (def.protocol === 'virtual') {
    if (def.expression === '') throw new ApiError(400, 'expression is required for a virtual meter (e.g. "main - hvac"; an id with - or . in braces: {main-1})');
    if (def.profile !== '') bad('profile', def.profile, 'must be empty for a virtual meter (its readings are calculated from its expression)');
  } else if (def.expression !== '' && input.expression === undefined) def.expression = ''; // no longer virtual
  else if (def.expression !== '') bad('expression', def.expression, `applies to virtual meters only (protocol is ${def.protocol})`);
  if (def.protocol === 'manual' && def.profile !== '') bad('profile', def.profile, 'must be empty for a manual meter (its readings are posted, never polled)');
  if (def.protocol === 'modbus-rtu') {
    if (!SERIAL_DEVICE.test(def.ip_address)) bad('ip_address', def.ip_address, 'must be the serial device of the RTU bus (e.g. /dev/ttyUSB0, /dev/ttyAMA0, /dev/serial/by-id/...) for a modbus-rtu meter; a converter on the network is modbus-rtu-over-tcp');
    def.port = 0;
  }
  if (def.serial_line !== '' && !def.ip_address.startsWith('/')) bad('serial_line', def.serial_line, 'applies to a serial device path only (ip_address starting with /dev/)');
  if (rules.pollNetworks && (!base || input.ip_address !== undefined)) checkPollAddress(def.ip_address, rules.pollNetworks);
  if (def.energy_category !== '' && rules.energyCategories && !rules.energyCategories().includes(def.energy_category)) {
    bad('energy_category', def.energy_category, `is not an energy category (known: ${rules.energyCategories().join(', ')})`);
  }
  if (def.port === 0 && !def.ip_address.startsWith('/')) bad('port', def.port, 'must be 1-65535 for a TCP endpoint (0 only with a serial device path)');
  return def;
}

export type PublicDefinition = Omit<MeterDefinition, typeof SECRET_FIELDS[number]> & { password_set: boolean; encryption_key_set?: boolean; authentication_key_set?: boolean };

/** The definition as the API shows it: each secret replaced by whether one is set (the keys only for dlms meters). */
export function publicDefinition(def: MeterDefinition): PublicDefinition {
  const { password, encryption_key, authentication_key, ...rest } = def;
  const out: PublicDefinition = { ...rest, password_set: password !== '' };
  if (def.protocol === 'dlms') Object.assign(out, { encryption_key_set: !!encryption_key, authentication_key_set: !!authentication_key });
  else for (const k of DLMS_FIELDS) delete (out as unknown as Record<string, unknown>)[k];
  return out;
}
