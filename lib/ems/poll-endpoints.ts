/**
 * The endpoint a meter's polls go through, and how many polls may run on it at once. Meters behind one
 * serial bus, one single-connection converter (Modbus RTU over TCP, M-Bus, IEC 62056-21 and HEX over TCP,
 * P1/SML bridges) take turns, one poll at a time; meters behind one Modbus TCP gateway or one HTTP gateway/
 * platform share EMS_POLL_PER_ENDPOINT slots. EMS_POLL_MAX_RUNNING bounds the polls running in all.
 */
import type { MeterDefinition, MeterProtocol } from './meter-definition';
import { isSerialPath } from './poll-networks';

export interface PollLimits {
  /** Polls running at once over the whole schedule. */
  maxRunning: number;
  /** Polls running at once on one endpoint that takes more than one request at a time. */
  perEndpoint: number;
}

export const DEFAULT_POLL_LIMITS: PollLimits = { maxRunning: 1000, perEndpoint: 4 };

export interface PollEndpoint { key: string; limit: number }

/** Protocols whose endpoint answers one request at a time (a bus or a single-connection converter). */
const ONE_AT_A_TIME: ReadonlySet<MeterProtocol> = new Set<MeterProtocol>(['modbus-rtu', 'modbus-rtu-over-tcp', 'mbus', 'iec62056-21', 'hex', 'p1', 'sml']);

export function endpointOf(def: Pick<MeterDefinition, 'protocol' | 'ip_address' | 'port'>, limits: PollLimits): PollEndpoint {
  if (def.ip_address && isSerialPath(def.ip_address)) return { key: `serial ${def.ip_address}`, limit: 1 };
  const key = def.ip_address ? `${def.protocol} ${def.ip_address}:${def.port}` : def.protocol;
  return { key, limit: ONE_AT_A_TIME.has(def.protocol) ? 1 : limits.perEndpoint };
}

function positive(env: NodeJS.ProcessEnv, name: string, fallback: number): number {
  const text = env[name];
  if (text === undefined || text.trim() === '') return fallback;
  const n = Number(text);
  if (!Number.isInteger(n) || n < 1 || n > 100_000) throw new Error(`${name} "${text}" must be a whole number from 1 to 100000`);
  return n;
}

/** The limits from EMS_POLL_MAX_RUNNING and EMS_POLL_PER_ENDPOINT; throws naming a bad value. */
export function pollLimitsFromEnv(env: NodeJS.ProcessEnv): PollLimits {
  return {
    maxRunning: positive(env, 'EMS_POLL_MAX_RUNNING', DEFAULT_POLL_LIMITS.maxRunning),
    perEndpoint: positive(env, 'EMS_POLL_PER_ENDPOINT', DEFAULT_POLL_LIMITS.perEndpoint),
  };
}
