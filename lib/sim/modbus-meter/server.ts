/**
 * A Modbus TCP server simulating one or more electricity meters (one per unit id), each with a
 * register-map profile and a meter model. MBAP framing (Modbus Messaging on TCP/IP V1.0b) or RTU
 * frames with CRC over TCP; function codes 3 and 4, and 6 and 16 on a writable holding area.
 * Faults can be injected per unit to test clients: no answer, exceptions, slow answers.
 */
import net from 'node:net';
import { appendCrc, checkCrc } from '../../protocols/modbus/crc16';
import { loadProfile } from '../../protocols/modbus/profile';
import type { Profile } from '../../protocols/modbus/types';
import { MeterModel, type MeterModelOptions } from './meter-model';
import { RegisterMap, type RegisterMapOptions } from './register-map';
import { LogRecorder, type SimLogRecord } from './log-recorder';

export const ExceptionCode = {
  ILLEGAL_FUNCTION: 0x01,
  ILLEGAL_DATA_ADDRESS: 0x02,
  ILLEGAL_DATA_VALUE: 0x03,
  SERVER_DEVICE_FAILURE: 0x04,
  GATEWAY_PATH_UNAVAILABLE: 0x0a,
  GATEWAY_TARGET_FAILED: 0x0b,
} as const;

/** An injected fault. timeout: the unit never answers; dead: the unit is absent (as an unknown unit id: no answer, or 0x0B behind a gateway); exception: answers every request with that code; slow: answers after delayMs. */
export type Fault =
  | { kind: 'timeout' }
  | { kind: 'dead' }
  | { kind: 'exception'; code: number }
  | { kind: 'slow'; delayMs: number };

export interface SimulatedUnit {
  /** Unit id (slave address) 1..247; 0 and 248..255 are also accepted on TCP. */
  unit: number;
  /** A profile id (loaded from profileDirs and the built-in folder) or a profile object. */
  profile: string | Profile;
  /** Model options; seed defaults to the unit id. clock, speed and start come from the simulator. */
  model?: Omit<MeterModelOptions, 'clock' | 'speed' | 'start'>;
  /** Gap policy, CT/VT ratios, writable area, pinned values. */
  map?: RegisterMapOptions;
  fault?: Fault;
}

export interface ModbusMeterSimulatorOptions {
  units: SimulatedUnit[];
  /** Folders searched for profile ids before the built-in one. */
  profileDirs?: string[];
  /** 'tcp' (MBAP, default) or 'rtu-over-tcp' (RTU frames with CRC-16 on a TCP stream). */
  framing?: 'tcp' | 'rtu-over-tcp';
  /** Requests for a unit id not configured (or a 'dead' unit): 'ignore' (default, no answer) or 'gateway-exception' (0x0B). */
  unknownUnit?: 'ignore' | 'gateway-exception';
  /** Real clock in epoch ms (default Date.now). */
  clock?: () => number;
  /** Simulated seconds per real second for every unit (default 1). */
  speed?: number;
  /** Simulated epoch ms at construction (default: the clock's now). */
  start?: number;
  /** Called for every well-formed request to a configured unit, as it arrives (e.g. an arrival-time log). */
  onRequest?: (unit: number, fc: number, address: number) => void;
}

export interface UnitStats {
  /** Requests received for the unit (well-formed frames). */
  requests: number;
  /** Normal responses sent. */
  responses: number;
  /** Exception responses sent. */
  exceptions: number;
  /** Requests left unanswered (faults, dead units). */
  dropped: number;
}

interface Unit {
  id: number;
  profile: Profile;
  model: MeterModel;
  map: RegisterMap;
  fault?: Fault;
  stats: UnitStats;
}

type Answer = { pdu: Buffer; delayMs: number } | undefined;

function exception(fc: number, code: number): Buffer {
  return Buffer.from([(fc | 0x80) & 0xff, code]);
}

function validFault(f: Fault): Fault {
  const kinds = ['timeout', 'dead', 'exception', 'slow'];
  if (!f || !kinds.includes(f.kind)) throw new Error(`fault kind must be one of ${kinds.join(', ')}, got ${JSON.stringify(f && f.kind)}`);
  if (f.kind === 'exception' && !(Number.isInteger(f.code) && f.code >= 1 && f.code <= 255)) throw new Error(`exception fault code must be 1..255, got ${f.code}`);
  if (f.kind === 'slow' && !(Number.isFinite(f.delayMs) && f.delayMs >= 0)) throw new Error(`slow fault delayMs must be a number >= 0, got ${f.delayMs}`);
  return { ...f };
}

export class ModbusMeterSimulator {
  readonly framing: 'tcp' | 'rtu-over-tcp';
  readonly unknownUnit: 'ignore' | 'gateway-exception';
  private readonly units = new Map<number, Unit>();
  private server?: net.Server;
  private readonly sockets = new Set<net.Socket>();
  private readonly timers = new Set<NodeJS.Timeout>();
  private unknownRequests = 0;
  private framingErrors = 0;
  private bound?: { host: string; port: number };
  private readonly onRequest?: (unit: number, fc: number, address: number) => void;

  constructor(options: ModbusMeterSimulatorOptions) {
    this.onRequest = options?.onRequest;
    if (!options || !Array.isArray(options.units) || options.units.length === 0) throw new Error('units must be a non-empty array');
    this.framing = options.framing ?? 'tcp';
    if (this.framing !== 'tcp' && this.framing !== 'rtu-over-tcp') throw new Error(`framing must be tcp or rtu-over-tcp, got ${JSON.stringify(this.framing)}`);
    this.unknownUnit = options.unknownUnit ?? 'ignore';
    for (const u of options.units) {
      if (!Number.isInteger(u.unit) || u.unit < 0 || u.unit > 255) throw new Error(`unit must be an integer 0..255, got ${u.unit}`);
      if (this.units.has(u.unit)) throw new Error(`unit ${u.unit} is configured twice`);
      const profile = typeof u.profile === 'string' ? loadProfile(u.profile, options.profileDirs ?? []) : u.profile;
      const model = new MeterModel({
        seed: u.unit,
        phases: isSinglePhase(profile) ? 1 : 3,
        ...u.model,
        clock: options.clock,
        speed: options.speed,
        start: options.start,
      });
      const map = new RegisterMap(profile, model, u.map);
      if (profile.log) map.log = new LogRecorder(profile, model);
      this.units.set(u.unit, {
        id: u.unit, profile, model, map, fault: u.fault ? validFault(u.fault) : undefined,
        stats: { requests: 0, responses: 0, exceptions: 0, dropped: 0 },
      });
    }
  }

  /** The configured unit ids, ascending. */
  get unitIds(): number[] {
    return [...this.units.keys()].sort((a, b) => a - b);
  }

  /** Requests per unit (a copy), plus requests for unknown units and discarded frames. */
  get stats(): { units: Record<number, UnitStats>; unknownUnit: number; framingErrors: number } {
    const units: Record<number, UnitStats> = {};
    for (const u of this.units.values()) units[u.id] = { ...u.stats };
    return { units, unknownUnit: this.unknownRequests, framingErrors: this.framingErrors };
  }

  private get(unit: number): Unit {
    const u = this.units.get(unit);
    if (!u) throw new Error(`unit ${unit} is not simulated (units: ${this.unitIds.join(', ')})`);
    return u;
  }

  profile(unit: number): Profile {
    return this.get(unit).profile;
  }

  model(unit: number): MeterModel {
    return this.get(unit).model;
  }

  /** What a unit shows now for an OBIS code, in its profile's unit (before scale): what a client should decode. */
  valueOf(unit: number, obis: string): number {
    return this.get(unit).map.valueOf(obis);
  }

  /** Pins a value of a unit (profile unit, before scale); undefined hands it back to the model. */
  setFixed(unit: number, obis: string, value: number | undefined): void {
    this.get(unit).map.setFixed(obis, value);
  }

  /** Changes a unit's base load (W over all phases) from the simulated time now on; see MeterModel.setBaseLoad. */
  setBaseLoad(unit: number, watts: number): void {
    const u = this.get(unit);
    u.map.log?.catchUp();
    u.model.setBaseLoad(watts);
  }

  /** The records a unit's register log holds (oldest first, raw register values); [] when its profile has no log. */
  logRecords(unit: number): SimLogRecord[] {
    return this.get(unit).map.log?.records() ?? [];
  }

  /** The fault of a unit now, if any. */
  faultOf(unit: number): Fault | undefined {
    return this.get(unit).fault;
  }

  setFault(unit: number, fault: Fault): void {
    this.get(unit).fault = validFault(fault);
  }

  clearFault(unit: number): void {
    this.get(unit).fault = undefined;
  }

  /** Host and port once listening. */
  address(): { host: string; port: number } | undefined {
    return this.bound && { ...this.bound };
  }

  /** Starts listening (port 0 = a free port); resolves with the bound port. */
  listen(port = 0, host = '127.0.0.1'): Promise<number> {
    if (this.server) return Promise.reject(new Error('already listening'));
    const server = net.createServer((socket) => this.accept(socket));
    this.server = server;
    return new Promise((resolve, reject) => {
      const onError = (err: Error) => {
        this.server = undefined;
        reject(err);
      };
      server.once('error', onError);
      server.listen(port, host, () => {
        server.off('error', onError);
        const a = server.address() as net.AddressInfo;
        this.bound = { host, port: a.port };
        resolve(a.port);
      });
    });
  }

  /** Stops listening, destroys open connections and pending delayed answers. */
  close(): Promise<void> {
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    for (const s of this.sockets) s.destroy();
    this.sockets.clear();
    const server = this.server;
    this.server = undefined;
    this.bound = undefined;
    if (!server) return Promise.resolve();
    return new Promise((resolve) => server.close(() => resolve()));
  }

  private accept(socket: net.Socket): void {
    this.sockets.add(socket);
    socket.setNoDelay(true);
    socket.on('error', () => { /* a client reset; nothing to do */ });
    socket.on('close', () => this.sockets.delete(socket));
    let buf: Buffer = Buffer.alloc(0);
    socket.on('data', (chunk: Buffer) => {
      buf = buf.length ? Buffer.concat([buf, chunk]) : chunk;
      buf = this.framing === 'tcp' ? this.drainMbap(socket, buf) : this.drainRtu(socket, buf);
    });
  }

  /** Handles every complete MBAP frame in buf; returns the rest. */
  private drainMbap(socket: net.Socket, buf: Buffer): Buffer {
    while (buf.length >= 7) {
      const length = buf.readUInt16BE(4);
      if (length < 2 || length > 254) {
        // No way to find the next frame boundary: drop the connection, as devices do.
        this.framingErrors++;
        socket.destroy();
        return Buffer.alloc(0);
      }
      if (buf.length < 6 + length) break;
      const frame = buf.subarray(0, 6 + length);
      buf = buf.subarray(6 + length);
      if (frame.readUInt16BE(2) !== 0) {
        this.framingErrors++; // not Modbus: ignore
        continue;
      }
      const tid = frame.readUInt16BE(0);
      const unit = frame[6];
      this.dispatch(socket, unit, Buffer.from(frame.subarray(7)), (pdu) => {
        const head = Buffer.alloc(7);
        head.writeUInt16BE(tid, 0);
        head.writeUInt16BE(0, 2);
        head.writeUInt16BE(pdu.length + 1, 4);
        head[6] = unit;
        return Buffer.concat([head, pdu]);
      });
    }
    return buf;
  }

  /** Handles every complete RTU frame in buf (length from the function code, CRC checked); returns the rest. */
  private drainRtu(socket: net.Socket, buf: Buffer): Buffer {
    while (buf.length >= 4) {
      const fc = buf[1];
      let n: number | undefined;
      if (fc === 3 || fc === 4 || fc === 6) n = 8;
      else if (fc === 16) {
        if (buf.length < 7) break;
        n = 9 + buf[6];
      } else {
        // Unknown function: its length is unknown too; take the shortest prefix with a valid CRC.
        for (let k = 4; k <= Math.min(buf.length, 256); k++) {
          if (checkCrc(buf.subarray(0, k))) {
            n = k;
            break;
          }
        }
        if (n === undefined) {
          if (buf.length >= 256) {
            this.framingErrors++;
            return Buffer.alloc(0);
          }
          break;
        }
      }
      if (buf.length < n) break;
      const frame = buf.subarray(0, n);
      buf = buf.subarray(n);
      if (!checkCrc(frame)) {
        // A device ignores a frame with a bad CRC; discard what we have to resynchronise.
        this.framingErrors++;
        return Buffer.alloc(0);
      }
      const unit = frame[0];
      this.dispatch(socket, unit, Buffer.from(frame.subarray(1, n - 2)), (pdu) => appendCrc(Buffer.concat([Buffer.from([unit]), pdu])));
    }
    return buf;
  }

  private dispatch(socket: net.Socket, unitId: number, pdu: Buffer, frame: (pdu: Buffer) => Buffer): void {
    const answer = this.answer(unitId, pdu);
    if (!answer) return;
    const send = () => {
      if (!socket.destroyed) socket.write(frame(answer.pdu));
    };
    if (answer.delayMs <= 0) send();
    else {
      const t = setTimeout(() => {
        this.timers.delete(t);
        send();
      }, answer.delayMs);
      this.timers.add(t);
    }
  }

  /** One RTU frame taken off a serial line: the answer frame and its delay, or undefined (bad CRC, no answer). */
  answerRtuFrame(frame: Buffer): { frame: Buffer; delayMs: number } | undefined {
    if (frame.length < 4 || !checkCrc(frame)) {
      this.framingErrors++; // a device ignores a frame it cannot check
      return undefined;
    }
    const unit = frame[0];
    const a = this.answer(unit, Buffer.from(frame.subarray(1, frame.length - 2)));
    return a && { frame: appendCrc(Buffer.concat([Buffer.from([unit]), a.pdu])), delayMs: a.delayMs };
  }

  /** The response PDU for a request PDU, with its delay; undefined for no answer. */
  private answer(unitId: number, pdu: Buffer): Answer {
    const fc = pdu[0] ?? 0;
    const unit = this.units.get(unitId);
    const absent = () => {
      if (this.unknownUnit === 'gateway-exception') return { pdu: exception(fc, ExceptionCode.GATEWAY_TARGET_FAILED), delayMs: 0 };
      return undefined;
    };
    if (!unit) {
      this.unknownRequests++;
      return absent();
    }
    const st = unit.stats;
    st.requests++;
    this.onRequest?.(unitId, fc, pdu.length >= 3 ? pdu.readUInt16BE(1) : -1);
    const fault = unit.fault;
    if (fault?.kind === 'timeout' || fault?.kind === 'dead') {
      const a = fault.kind === 'dead' ? absent() : undefined;
      if (a) st.exceptions++;
      else st.dropped++;
      return a;
    }
    if (fault?.kind === 'exception') {
      st.exceptions++;
      return { pdu: exception(fc, fault.code), delayMs: 0 };
    }
    const out = this.execute(unit, pdu);
    if (out[0] & 0x80) st.exceptions++;
    else st.responses++;
    return { pdu: out, delayMs: fault?.kind === 'slow' ? fault.delayMs : 0 };
  }

  private execute(unit: Unit, pdu: Buffer): Buffer {
    const fc = pdu[0];
    switch (fc) {
      case 3:
      case 4: {
        if (pdu.length !== 5) return exception(fc, ExceptionCode.ILLEGAL_DATA_VALUE);
        const address = pdu.readUInt16BE(1);
        const quantity = pdu.readUInt16BE(3);
        if (quantity < 1 || quantity > 125) return exception(fc, ExceptionCode.ILLEGAL_DATA_VALUE);
        if (address + quantity > 0x10000) return exception(fc, ExceptionCode.ILLEGAL_DATA_ADDRESS);
        const data = unit.map.read(fc === 3 ? 'holding' : 'input', address, quantity);
        if (typeof data === 'number') return exception(fc, data);
        return Buffer.concat([Buffer.from([fc, data.length]), data]);
      }
      case 6: {
        if (pdu.length !== 5) return exception(fc, ExceptionCode.ILLEGAL_DATA_VALUE);
        const code = unit.map.write(pdu.readUInt16BE(1), [pdu.readUInt16BE(3)]);
        return code ? exception(fc, code) : Buffer.from(pdu);
      }
      case 16: {
        if (pdu.length < 6) return exception(fc, ExceptionCode.ILLEGAL_DATA_VALUE);
        const address = pdu.readUInt16BE(1);
        const quantity = pdu.readUInt16BE(3);
        const bytes = pdu[5];
        if (quantity < 1 || quantity > 123 || bytes !== quantity * 2 || pdu.length !== 6 + bytes) {
          return exception(fc, ExceptionCode.ILLEGAL_DATA_VALUE);
        }
        if (address + quantity > 0x10000) return exception(fc, ExceptionCode.ILLEGAL_DATA_ADDRESS);
        const words: number[] = [];
        for (let i = 0; i < quantity; i++) words.push(pdu.readUInt16BE(6 + i * 2));
        const code = unit.map.write(address, words);
        return code ? exception(fc, code) : Buffer.from(pdu.subarray(0, 5));
      }
      default:
        return exception(fc, ExceptionCode.ILLEGAL_FUNCTION);
    }
  }
}

/** A profile is single-phase when it has no L2/L3 values (OBIS C 41..80). */
export function isSinglePhase(profile: Profile): boolean {
  return !profile.values.some((v) => {
    const m = /:(\d+)\./.exec(v.obis) ?? /^(\d+)\./.exec(v.obis);
    const c = m ? Number(m[1]) : 0;
    return c >= 41 && c <= 80;
  });
}
