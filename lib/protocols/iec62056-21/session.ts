/**
 * The HHU side of IEC 62056-21 modes A, B and C over a Link: sign-on, identification, option select
 * with baud switch-over, data readout with BCC check, programming mode (P1 password, R1/W1, B0),
 * and a meter clock check/correction.
 */
import { Link, sleep } from '../hex/link';
import { clockValues, meterClock, parseDataBlock, type DataSet } from './datasets';
import { loadProfileRequest } from './load-profile';
import {
  ACK, NAK, ackOption, blockEnd, breakCommand, command, modeCChar, parseBlock, parseIdentification, signOn, MODE_C_BAUD, type Identification, type Mode,
} from './frame';

export interface SessionOptions {
  /** Device address sent in the sign-on ('' = any meter on the port). */
  address?: string;
  /** Highest speed to select in mode C (the meter's offer caps it). */
  maxBaud?: number;
  /** Reply timeout per step (waiting_time), ms. */
  timeoutMs?: number;
  /** Time zone of the meter's clock (IANA), default UTC. */
  timeZone?: string;
  /** Expect this mode; an identification of another mode is an error. Default: follow the meter. */
  mode?: Mode;
}

export interface Readout {
  identification: Identification;
  /** The speed the data arrived at. */
  baud: number;
  /** The data block as sent (without STX, "!" CR LF, ETX and BCC). */
  block: string;
  sets: DataSet[];
  /** The meter's clock (0.9.1 + 0.9.2) or null when the readout has none. */
  clock: number | null;
}

const line = (buf: Buffer): number => {
  const i = buf.indexOf('\r\n');
  return i < 0 ? -1 : i + 2;
};

/** Reads the identification line, skipping an echo of our own sign-on (half-duplex optical heads). */
async function readIdentification(link: Link, timeoutMs: number): Promise<Identification> {
  for (let tries = 0; tries < 3; tries++) {
    const l = (await link.read(line, timeoutMs, 'identification from the meter')).toString('latin1');
    const slash = l.indexOf('/');
    if (slash < 0 || l.startsWith('/?', slash)) continue;
    return parseIdentification(l.slice(slash));
  }
  throw new Error('no identification from the meter (only echoes)');
}

/** Sign-on and, in mode C, option select; switches the link's speed as the mode demands. */
async function open(link: Link, o: SessionOptions, programming: boolean): Promise<{ id: Identification; baud: number }> {
  const timeout = o.timeoutMs ?? 1500;
  link.drop();
  if (link.canSwitchBaud) await link.setBaud(300);
  await link.write(signOn(o.address ?? ''));
  const id = await readIdentification(link, timeout);
  if (o.mode && o.mode !== id.mode) throw new Error(`the meter answered in mode ${id.mode} (identification ${JSON.stringify(id.raw)}), mode ${o.mode} expected`);
  if (programming && id.mode !== 'C') throw new Error(`programming mode needs mode C; the meter answered in mode ${id.mode}`);
  let baud = 300;
  if (id.mode === 'C') {
    baud = Math.min(id.baud, o.maxBaud ?? 19200);
    const z = modeCChar(Object.values(MODE_C_BAUD).filter((b) => b <= baud).pop() ?? 300);
    baud = MODE_C_BAUD[z];
    await sleep(id.fast ? 20 : 200); // the HHU waits at least the reaction time before answering
    await link.write(ackOption(z, programming));
    if (link.canSwitchBaud && baud !== 300) await link.setBaud(baud);
  } else if (id.mode === 'B' && link.canSwitchBaud) {
    baud = id.baud;
    await link.setBaud(baud);
  }
  return { id, baud };
}

/** A data readout (modes A, B, C); throws on timeout or a BCC error. */
export async function readout(link: Link, o: SessionOptions = {}): Promise<Readout> {
  const { id, baud } = await open(link, o, false);
  const raw = await link.read((b) => blockEnd(b), Math.max(o.timeoutMs ?? 1500, 3000), 'data message (STX ... ETX BCC)');
  const start = raw.indexOf(2);
  const block = parseBlock(raw.subarray(start));
  const text = block.data.replace(/!\r\n$/, '').replace(/!$/, '');
  const sets = parseDataBlock(text);
  if (link.canSwitchBaud) await link.setBaud(300); // the meter is back at 300 baud after a readout
  return { identification: id, baud, block: text, sets, clock: meterClock(sets, o.timeZone) };
}

async function reply(link: Link, timeoutMs: number, what: string): Promise<{ ack: boolean; data?: string }> {
  const b = await link.read((buf) => {
    if (buf.length && (buf[0] === ACK || buf[0] === NAK)) return 1;
    return blockEnd(buf);
  }, timeoutMs, what);
  if (b[0] === ACK) return { ack: true };
  if (b[0] === NAK) return { ack: false };
  const start = b.findIndex((x) => x === 1 || x === 2);
  const block = parseBlock(b.subarray(start));
  if (block.command === 'B0') throw new Error(`the meter ended the session (B0) after ${what}`);
  return { ack: true, data: block.data };
}

/** An open programming-mode session (after P1). */
export class ProgrammingSession {
  constructor(private readonly link: Link, private readonly timeoutMs: number, readonly identification: Identification, readonly baud: number) {}

  /** R1: reads one data set; returns its first value (with unit when the meter sends one). */
  async read(address: string): Promise<string> {
    await this.link.write(command('R1', `${address}()`));
    const r = await reply(this.link, this.timeoutMs, `R1 ${address}`);
    if (!r.ack || r.data === undefined) throw new Error(`the meter refused R1 ${address}`);
    const m = /\(([^)]*)\)/.exec(r.data);
    if (!m) throw new Error(`R1 ${address}: answer ${JSON.stringify(r.data)} has no (value)`);
    return m[1];
  }

  /** W1: writes one data set; throws when the meter answers NAK. */
  async write(address: string, value: string): Promise<void> {
    await this.link.write(command('W1', `${address}(${value})`));
    const r = await reply(this.link, this.timeoutMs, `W1 ${address}`);
    if (!r.ack) throw new Error(`the meter refused W1 ${address}(${value}) (NAK)`);
  }

  /**
   * R5 P.01(from;to): the load profile text for the span (meter local time in `timeZone`). Partial
   * blocks (EOT) are acknowledged and joined, at most `maxBlocks`; NAK or "(ERROR)" is an error.
   */
  async loadProfile(from: number, to: number, timeZone = 'UTC', dataTimeoutMs = 30_000, maxBlocks = 1000): Promise<string> {
    const request = loadProfileRequest(from, to, timeZone);
    await this.link.write(command('R5', request));
    let text = '';
    for (let n = 0; n < maxBlocks; n++) {
      const b = await this.link.read((buf) => (buf.length && buf[0] === NAK ? 1 : blockEnd(buf)), Math.max(this.timeoutMs, dataTimeoutMs), `load profile (R5 ${request})`);
      if (b[0] === NAK) throw new Error(`the meter refused R5 ${request} (NAK): no load profile 1, or not in this session`);
      const block = parseBlock(b.subarray(b.findIndex((x) => x === 1 || x === 2)));
      if (block.command === 'B0') throw new Error(`the meter ended the session (B0) after R5 ${request}`);
      text += block.data;
      if (!block.partial) {
        if (/^\s*\(?ERROR/i.test(text) || /^P\.01\(ERROR/i.test(text)) throw new Error(`the meter answered R5 ${request} with ${JSON.stringify(text.slice(0, 40))}`);
        return text;
      }
      await this.link.write(Buffer.from([ACK]));
    }
    throw new Error(`load profile (R5 ${request}): more than ${maxBlocks} partial blocks`);
  }

  /** B0: ends the session; the meter returns to 300 baud. */
  async close(): Promise<void> {
    await this.link.write(breakCommand());
    if (this.link.canSwitchBaud) {
      await sleep(50);
      await this.link.setBaud(300);
    }
  }
}

/** Signs on in programming mode and sends the password P1 ('' skips P1 for meters without one). */
export async function program(link: Link, password: string, o: SessionOptions = {}): Promise<ProgrammingSession> {
  const timeout = o.timeoutMs ?? 1500;
  const { id, baud } = await open(link, o, true);
  const p0 = await reply(link, Math.max(timeout, 2000), 'password request (P0)');
  if (!p0.ack) throw new Error('the meter refused programming mode');
  const session = new ProgrammingSession(link, timeout, id, baud);
  if (password !== '') {
    await link.write(command('P1', `(${password})`));
    // A half-duplex head echoes P1: a timeout's excerpt of the received bytes must not show the password.
    const r = await reply(link, timeout, 'P1 (password)').catch((e: Error) => {
      e.message = e.message.split(password).join('***');
      throw e;
    });
    if (!r.ack) {
      await session.close().catch(() => undefined);
      throw new Error('the meter refused the password P1 (NAK)');
    }
  }
  return session;
}

export interface ClockCheck {
  /** Meter clock minus ours, in seconds (positive: the meter is ahead). */
  driftSeconds: number;
  corrected: boolean;
  /** Why it was not corrected (no password, mode A/B). */
  reason?: string;
}

/**
 * Compares the readout's meter clock with `now`; when |drift| > toleranceSeconds (> 0) and a
 * password is given, writes 0.9.2 and 0.9.1 in programming mode.
 */
export async function checkClock(link: Link, r: Readout, o: SessionOptions & { password?: string; toleranceSeconds: number; now?: () => number }): Promise<ClockCheck | undefined> {
  if (r.clock === null || !(o.toleranceSeconds > 0)) return undefined;
  const now = o.now ?? Date.now;
  const driftSeconds = Math.round((r.clock - now()) / 1000);
  if (Math.abs(driftSeconds) <= o.toleranceSeconds) return { driftSeconds, corrected: false };
  if (!o.password) return { driftSeconds, corrected: false, reason: 'no password (P1) configured' };
  if (r.identification.mode !== 'C') return { driftSeconds, corrected: false, reason: `mode ${r.identification.mode} has no programming mode` };
  await sleep(300); // the meter is idle again after the readout
  const s = await program(link, o.password, o);
  try {
    const v = clockValues(now(), o.timeZone);
    await s.write('0.9.2', v.date);
    await s.write('0.9.1', clockValues(now(), o.timeZone).time);
  } finally {
    await s.close().catch(() => undefined);
  }
  return { driftSeconds, corrected: true };
}
