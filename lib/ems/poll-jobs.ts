/**
 * The polls in flight of the ems-poll-schedule node: each due poll becomes one message for the
 * protocol nodes, and ends when that message (same poll id) comes back, with msg.error on failure,
 * or counts as failed ("no answer") after max(waiting_time * 3, 30 s). Failures and the first success
 * after them go to the event log; a failure never produces a value.
 *
 * Before a poll is sent its target is checked against the allowed poll networks (EMS_POLL_NETWORKS):
 * an IP at once, a host name after resolving it (every address must be allowed); a target outside
 * fails that poll alone, with a poll-failed event naming the meter and the address.
 */
import dns from 'node:dns';
import type { Clock } from './schedule';
import { realClock } from './schedule';
import { modbusSerialLine, type MeterDefinition, type MeterProtocol, type SerialLine } from './meter-definition';
import type { MeterRecord } from './registry';
import type { NewEvent } from './event-log';
import { isAllowedAddress, isSerialPath, parseIp, parsePollNetworks, type PollNetwork } from './poll-networks';

export interface PollInfo {
  id: string; meter: string; due: number; started: number;
  /** 'backfill': read what the meter stored for msg.backfill's span (lib/ems/backfill.ts); absent or 'poll': a normal poll. */
  kind?: 'poll' | 'backfill';
}

/** The message a due poll sends: everything a protocol node needs to read the meter. */
export interface PollMessage {
  _msgid: string;
  topic: string;
  meter: MeterDefinition & { _id: string; folder_id: string };
  poll: PollInfo;
  /** Modbus hints for ems-modbus-meter. */
  unit?: number;
  profile?: string;
  endpoint?: { host: string; port: number; transport: 'tcp' | 'rtu-over-tcp' } | ({ transport: 'rtu'; path: string } & SerialLine);
  /** A backfill (poll.kind 'backfill'): the readings the meter stored with from < time <= to, epoch ms. */
  backfill?: { from: number; to: number };
}

export interface PollResult { time: number; ok: boolean; error: string | null; durationMs: number }

export interface MeterPollState {
  running: boolean;
  last: PollResult | null;
  /** Failed polls in a row. */
  failures: number;
}

/** While the same failure repeats, it is logged again at most this often (a 10 s poll would log 8,640 a day). */
export const FAILURE_REMINDER_MS = 3_600_000;

export function answerTimeout(def: Pick<MeterDefinition, 'waiting_time'>): number {
  return Math.max(def.waiting_time * 3, 30_000);
}

/** The poll message for a meter record (Modbus meters also get unit, profile and endpoint). */
export function pollMessage(record: MeterRecord, poll: PollInfo): PollMessage {
  const def = record.definition;
  const msg: PollMessage = { _msgid: poll.id, topic: record._id, meter: { ...def, _id: record._id, folder_id: record.folder_id }, poll };
  if (def.protocol.startsWith('modbus')) {
    msg.unit = Number(def.connection_address);
    msg.profile = def.profile;
    if (def.protocol === 'modbus-rtu') msg.endpoint = { transport: 'rtu', path: def.ip_address, ...modbusSerialLine(def) };
    else if (!def.ip_address.startsWith('/')) {
      msg.endpoint = { host: def.ip_address, port: def.port, transport: def.protocol === 'modbus-rtu-over-tcp' ? 'rtu-over-tcp' : 'tcp' };
    }
  }
  return msg;
}

/**
 * Protocols whose node opens a plain TCP connection to ip_address: their polls go to the resolved, checked
 * address (DNS rebinding cannot move them). HTTP clients (G13, LoRaWAN platform) keep the name for TLS and Host.
 */
const PINNED_PROTOCOLS: ReadonlySet<string> = new Set<MeterProtocol>(['modbus-tcp', 'modbus-rtu-over-tcp', 'mbus', 'iec62056-21', 'hex', 'p1', 'sml', 'dlms']);

interface Pending { info: PollInfo; name: string; timer: unknown; finish: () => void }

export interface PollJobsOptions {
  send(msg: PollMessage): void;
  addEvent(e: NewEvent): void;
  newId(): string;
  clock?: Clock;
  /** Told after every finished poll (status display). */
  onResult?(meterId: string, result: PollResult): void;
  /** Told after every finished poll with the failed polls in a row before it (backfill). */
  onFinished?(info: PollInfo, result: PollResult, failuresBefore: number): void;
  source?: string;
  /** The networks poll targets must lie in (the registry's pollNetworks); default loopback, private and link-local. */
  networks?: readonly PollNetwork[] | (() => readonly PollNetwork[] | undefined);
  /** Resolves a host name to its addresses (default dns.lookup, every address). */
  lookup?: (host: string) => Promise<string[]>;
}

const defaultLookup = async (host: string): Promise<string[]> => (await dns.promises.lookup(host, { all: true, verbatim: true })).map((a) => a.address);

/** The network host a meter is polled at, or null (a serial device, a pushed meter). */
export function pollHost(def: Pick<MeterDefinition, 'ip_address' | 'protocol'>): string | null {
  if (def.protocol === 'lorawan' || def.protocol === 'manual' || def.protocol === 'virtual' || !def.ip_address || isSerialPath(def.ip_address)) return null;
  return def.ip_address.replace(/^\[(.*)\]$/, '$1');
}

function outside(host: string, addresses: readonly string[], networks: readonly PollNetwork[]): string | null {
  const bad = addresses.filter((a) => !isAllowedAddress(a, networks));
  if (bad.length === 0 && addresses.length > 0) return null;
  const shown = parseIp(host) ? `"${host}"` : `"${host}" (${bad.join(', ') || 'no address'})`;
  return `address ${shown} is outside the networks meters may be polled in (EMS_POLL_NETWORKS)`;
}

export class PollJobs {
  private pending = new Map<string, Pending>();
  private states = new Map<string, MeterPollState>();
  /** Open polls per meter, and the meters whose last poll failed: kept per result, never recounted. */
  private open = new Map<string, number>();
  private failingMeters = 0;

  constructor(private readonly opts: PollJobsOptions) {}

  private get clock(): Clock {
    return this.opts.clock ?? realClock;
  }

  /** Sends the poll message; resolves when the answer (or the timeout) ends the poll. */
  start(record: MeterRecord, due: number): Promise<void> {
    const info: PollInfo = { id: this.opts.newId(), meter: record._id, due, started: this.clock.now() };
    const state = this.stateOf(record._id);
    state.running = true;
    this.open.set(record._id, (this.open.get(record._id) ?? 0) + 1);
    return new Promise<void>((resolve) => {
      const p: Pending = {
        info, name: record.definition.name, finish: resolve,
        timer: this.clock.setTimeout(() => this.end(info.id, `no answer within ${answerTimeout(record.definition) / 1000} s`), answerTimeout(record.definition)),
      };
      this.pending.set(info.id, p);
      const send = (target: MeterRecord) => {
        if (!this.pending.has(info.id)) return; // stopped meanwhile
        try {
          this.opts.send(pollMessage(target, info));
        } catch (err) {
          this.end(info.id, (err as Error).message);
        }
      };
      const host = pollHost(record.definition);
      if (host === null || parseIp(host)) {
        try { send(this.prepareNow(record, host)); } catch (err) { this.end(info.id, (err as Error).message); }
        return;
      }
      this.prepare(record).then(send, (err: Error) => this.end(info.id, err.message));
    });
  }

  private prepareNow(record: MeterRecord, host: string | null): MeterRecord {
    if (host === null) return record;
    const refused = outside(host, [host], this.networks());
    if (refused) throw new Error(refused);
    return record;
  }

  /**
   * The record a message for this meter goes to: its target checked against the poll networks (a host
   * name resolved, every address allowed) and, for raw TCP protocols, pinned to the checked address so
   * a name cannot resolve elsewhere by the time the node connects. Rejects with the reason.
   */
  async prepare(record: MeterRecord): Promise<MeterRecord> {
    const host = pollHost(record.definition);
    if (host === null || parseIp(host)) return this.prepareNow(record, host);
    const networks = this.networks();
    let addresses: string[];
    try {
      addresses = await (this.opts.lookup ?? defaultLookup)(host);
    } catch (err) {
      throw new Error(`cannot resolve host "${host}": ${(err as Error).message}`);
    }
    const refused = outside(host, addresses, networks);
    if (refused) throw new Error(refused);
    return PINNED_PROTOCOLS.has(record.definition.protocol) ? { ...record, definition: { ...record.definition, ip_address: addresses[0] } } : record;
  }

  private defaultNetworks?: PollNetwork[];

  private networks(): readonly PollNetwork[] {
    const n = typeof this.opts.networks === 'function' ? this.opts.networks() : this.opts.networks;
    return n ?? (this.defaultNetworks ??= parsePollNetworks(undefined));
  }

  /** A message came back: ends its poll (failed when `error` is set). False for an unknown or finished poll. */
  answer(pollId: unknown, error?: string | null): boolean {
    if (typeof pollId !== 'string' || !this.pending.has(pollId)) return false;
    this.end(pollId, error ?? null);
    return true;
  }

  state(meterId: string): MeterPollState {
    return this.states.get(meterId) ?? { running: false, last: null, failures: 0 };
  }

  /** Polls open now and meters whose last poll failed (the node's status line), in O(1). */
  summary(): { running: number; failing: number } {
    return { running: this.pending.size, failing: this.failingMeters };
  }

  /** Forgets a deleted meter's history. */
  forget(meterId: string): void {
    if (this.open.has(meterId)) return;
    const s = this.states.get(meterId);
    if (s?.last && !s.last.ok) this.failingMeters--;
    this.states.delete(meterId);
    this.lastLogged.delete(meterId);
  }

  /** Ends every open poll without an event (the node is closing). */
  stop(): void {
    for (const p of this.pending.values()) {
      this.clock.clearTimeout(p.timer);
      p.finish();
    }
    this.pending.clear();
    this.open.clear();
  }

  /** The last poll-failed event logged per meter (time and cause), for the hourly reminder. */
  private readonly lastLogged = new Map<string, { time: number; error: string }>();

  private stateOf(meterId: string): MeterPollState {
    let s = this.states.get(meterId);
    if (!s) this.states.set(meterId, (s = { running: false, last: null, failures: 0 }));
    return s;
  }

  private end(pollId: string, error: string | null): void {
    const p = this.pending.get(pollId);
    if (!p) return;
    this.pending.delete(pollId);
    this.clock.clearTimeout(p.timer);
    const now = this.clock.now();
    const meter = p.info.meter;
    const state = this.stateOf(meter);
    const result: PollResult = { time: now, ok: error === null, error, durationMs: now - p.info.started };
    const base = { meter_id: meter, meter_name: p.name, source: this.opts.source ?? null, time: now };
    const failuresBefore = state.failures;
    try {
      if (error !== null) {
        // A meter that stays down logs its first failure, a changed cause, and then one reminder an hour.
        const logged = this.lastLogged.get(meter);
        if (state.failures === 0 || !logged || error !== logged.error || now - logged.time >= FAILURE_REMINDER_MS) {
          this.opts.addEvent({ ...base, kind: 'poll-failed', level: 'error', event: `poll failed: ${error}`, value: state.failures + 1 });
          this.lastLogged.set(meter, { time: now, error });
        }
      } else if (state.failures > 0) {
        this.opts.addEvent({ ...base, kind: 'poll-recovered', level: 'info', event: `poll recovered after ${state.failures} failed poll(s)`, value: state.failures });
      }
    } finally {
      state.failures = error === null ? 0 : state.failures + 1;
      this.failingMeters += (result.ok ? 0 : 1) - (state.last && !state.last.ok ? 1 : 0);
      state.last = result;
      const open = (this.open.get(meter) ?? 1) - 1;
      if (open > 0) this.open.set(meter, open); else this.open.delete(meter);
      state.running = open > 0;
      this.opts.onResult?.(meter, result);
      try { this.opts.onFinished?.(p.info, result, failuresBefore); } finally { p.finish(); }
    }
  }
}
