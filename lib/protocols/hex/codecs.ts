/**
 * Codecs of the HEX poll server: they build the command frames, tell when a response is complete,
 * check it and turn it into Readings. A poll spec (the EMS meter's `profile`) names one:
 *   raw:<HEX>[,<HEX>...][:<check>]      frames as given; check none | crc16-modbus | crc16-x25 | sum8
 *   modbus-rtu:<HEX>[,<HEX>...]         Modbus RTU requests as given (CRC-16 checked, registers in details)
 *   modbus-rtu:<profile-id>             requests built from a Modbus profile for unit connection_address; Readings
 *   iec62056-21[:<HEX>,<HEX>]           sign-on "/?<address>!" + ACK 0 0 0 (300 baud) by default; readout -> Readings
 */
import type { Reading } from '../../model/reading';
import { appendCrc, checkCrc } from '../modbus/crc16';
import { decodeReadings, planReads, type ReadPlan } from '../modbus/plan';
import { loadProfile } from '../modbus/profile';
import { ackOption, blockEnd, parseBlock, parseIdentification, signOn } from '../iec62056-21/frame';
import { parseDataBlock, meterClock, toReadings } from '../iec62056-21/datasets';
import { CHECKS, checkProblem, parseHex, toHex, type CheckKind } from './hex';
import type { Completeness } from './link';

export const CODECS = ['raw', 'modbus-rtu', 'iec62056-21'] as const;
export type CodecId = typeof CODECS[number];

export interface PollSpec {
  codec: CodecId;
  /** Explicit command frames (empty: built by the codec). */
  frames: Buffer[];
  check: CheckKind;
  /** A Modbus profile id (modbus-rtu built frames). */
  profile?: string;
}

const isHexList = (s: string) => /^[0-9A-Fa-f][0-9A-Fa-f\s,]*$/.test(s.replace(/0x/gi, ''));

/** Parses a poll spec; errors name the field and the value. */
export function parsePollSpec(text: string, field = 'profile'): PollSpec {
  const t = String(text ?? '').trim();
  const bad = (why: string): never => { throw new Error(`${field} ${JSON.stringify(text)} ${why} (use raw:<HEX>[:check], modbus-rtu:<HEX or profile>, iec62056-21[:<HEX>,<HEX>])`); };
  const colon = t.indexOf(':');
  const codec = (colon < 0 ? t : t.slice(0, colon)) as CodecId;
  let arg = colon < 0 ? '' : t.slice(colon + 1).trim();
  if (!CODECS.includes(codec)) bad(`names no codec of ${CODECS.join(', ')}`);
  let check: CheckKind = codec === 'modbus-rtu' ? 'crc16-modbus' : 'none';
  const last = arg.lastIndexOf(':');
  if (last >= 0) {
    const c = arg.slice(last + 1).trim() as CheckKind;
    if (!CHECKS.includes(c)) bad(`has an unknown check "${c}" (use ${CHECKS.join(', ')})`);
    check = c;
    arg = arg.slice(0, last).trim();
  }
  const hexFrames = () => arg.split(',').map((h, i) => parseHex(h, `${field} frame ${i + 1}`));
  if (codec === 'raw') {
    if (!arg) bad('needs the command frame in HEX after "raw:"');
    return { codec, frames: hexFrames(), check };
  }
  if (codec === 'modbus-rtu') {
    if (!arg) bad('needs a HEX request or a Modbus profile id after "modbus-rtu:"');
    if (isHexList(arg)) {
      const frames = hexFrames();
      frames.forEach((f, i) => { if (!checkCrc(f)) bad(`frame ${i + 1} ${toHex(f)} does not end with its Modbus CRC-16`); });
      return { codec, frames, check };
    }
    if (!/^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(arg)) bad('has neither HEX frames nor a profile id after "modbus-rtu:"');
    return { codec, frames: [], check, profile: arg };
  }
  return { codec, frames: arg ? hexFrames() : [], check };
}

export interface CodecContext {
  meter: string;
  /** connection_address: Modbus unit id or IEC device address. */
  address: string;
  time: number;
  timeZone?: string;
  profileDirs?: string[];
}

export interface Decoded {
  readings: Reading[];
  details: Record<string, unknown>;
}

export interface PreparedPoll {
  frames: Buffer[];
  complete(index: number): Completeness | undefined;
  /** Checks and decodes the responses; throws naming the frame and the problem. */
  decode(responses: Buffer[], ctx: CodecContext): Decoded;
}

function modbusLength(b: Buffer): number {
  if (b.length < 3) return -1;
  if (b[1] & 0x80) return b.length >= 5 ? 5 : -1;
  if (b[1] === 3 || b[1] === 4 || b[1] === 1 || b[1] === 2) return b.length >= 5 + b[2] ? 5 + b[2] : -1;
  return b.length >= 8 ? 8 : -1; // writes echo 6 bytes + CRC
}

function modbusUnit(address: string): number {
  const n = Number(address);
  if (!/^\d+$/.test(address.trim()) || n > 247) throw new Error(`connection_address ${JSON.stringify(address)} must be a Modbus unit id 0..247`);
  return n;
}

/** Registers of a read response, after the CRC and exception checks. */
function modbusRegisters(req: Buffer, res: Buffer, i: number): Buffer {
  if (!checkCrc(res)) throw new Error(`frame ${i + 1}: response ${toHex(res)} fails its Modbus CRC-16`);
  if (res[0] !== req[0]) throw new Error(`frame ${i + 1}: response from unit ${res[0]}, request was for unit ${req[0]}`);
  if (res[1] & 0x80) throw new Error(`frame ${i + 1}: Modbus exception ${res[2]} to function ${res[1] & 0x7f}`);
  return res.subarray(3, 3 + res[2]);
}

export function preparePoll(spec: PollSpec, ctx: Pick<CodecContext, 'address' | 'profileDirs'>): PreparedPoll {
  if (spec.codec === 'modbus-rtu') {
    let plan: ReadPlan | undefined;
    let frames = spec.frames;
    if (spec.profile) {
      plan = planReads(loadProfile(spec.profile, ctx.profileDirs ?? []));
      const unit = modbusUnit(ctx.address);
      frames = plan.blocks.map((b) => appendCrc(Buffer.from([unit, b.table === 'input' ? 4 : 3, b.start >> 8, b.start & 0xff, b.count >> 8, b.count & 0xff])));
    }
    return {
      frames,
      complete: () => modbusLength,
      decode(responses, c) {
        const regs = responses.map((r, i) => modbusRegisters(frames[i], r, i));
        if (!plan) return { readings: [], details: { registers: regs.map((r) => toHex(r)) } };
        const { readings, sources } = decodeReadings(plan, regs, { meter: c.meter, time: c.time });
        return { readings, details: { profile: plan.profile, sources } };
      },
    };
  }
  if (spec.codec === 'iec62056-21') {
    const frames = spec.frames.length ? spec.frames : [signOn(ctx.address === '' || /^[0-9A-Za-z ]{1,32}$/.test(ctx.address) ? ctx.address : ''), ackOption('0')];
    return {
      frames,
      complete: (i) => (i === frames.length - 1 ? (b) => blockEnd(b) : (b) => { const e = b.indexOf('\r\n'); return e < 0 ? -1 : e + 2; }),
      decode(responses, c) {
        const all = Buffer.concat(responses.map((r) => Buffer.from(r.map((x) => x & 0x7f))));
        const stx = all.indexOf(2);
        if (stx < 0) throw new Error(`no data message (STX) in the response ${JSON.stringify(all.toString('latin1').slice(0, 60))}`);
        const end = blockEnd(all, stx);
        if (end < 0) throw new Error('the data message has no ETX and BCC');
        const block = parseBlock(all.subarray(stx, end));
        const identLine = /\/[A-Za-z]{3}[^\r\n]*/.exec(all.subarray(0, stx).toString('latin1'))?.[0];
        const sets = parseDataBlock(block.data.replace(/!\r\n$/, ''));
        const clock = meterClock(sets, c.timeZone);
        return {
          readings: toReadings(sets, { meter: c.meter, time: clock ?? c.time, timeZone: c.timeZone }),
          details: { identification: identLine ? parseIdentification(identLine) : undefined, sets },
        };
      },
    };
  }
  return {
    frames: spec.frames,
    complete: () => undefined,
    decode(responses) {
      responses.forEach((r, i) => { const p = checkProblem(spec.check, r); if (p) throw new Error(`frame ${i + 1}: ${p}`); });
      return { readings: [], details: {} };
    },
  };
}
