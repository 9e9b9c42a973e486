/**
 * IEC 62056-21 (ex IEC 61107) framing: sign-on, identification, acknowledgement/option select,
 * data message (STX ... ! CR LF ETX BCC) and programming-mode commands (SOH C D STX data ETX BCC).
 * Characters are 7-bit ASCII; the BCC is the XOR of every byte after the first SOH/STX up to and
 * including the ETX (or EOT).
 */

export const SOH = 0x01;
export const STX = 0x02;
export const ETX = 0x03;
export const EOT = 0x04;
export const ACK = 0x06;
export const NAK = 0x15;
export const CRLF = '\r\n';

export type Mode = 'A' | 'B' | 'C';

/** Mode C (and E) baud characters '0'..'6'. */
export const MODE_C_BAUD: Record<string, number> = { 0: 300, 1: 600, 2: 1200, 3: 2400, 4: 4800, 5: 9600, 6: 19200 };
/** Mode B baud characters 'A'..'F' (the speed after the identification). */
export const MODE_B_BAUD: Record<string, number> = { A: 600, B: 1200, C: 2400, D: 4800, E: 9600, F: 19200 };

/** XOR of `data[start..end)`. */
export function bcc(data: Uint8Array, start = 0, end = data.length): number {
  let x = 0;
  for (let i = start; i < end; i++) x ^= data[i];
  return x;
}

/** Drops the parity bit of 7E1 characters read through a transparent (8N1) converter. */
export function strip7(data: Buffer): Buffer {
  const out = Buffer.allocUnsafe(data.length);
  for (let i = 0; i < data.length; i++) out[i] = data[i] & 0x7f;
  return out;
}

/** "/?" address "!" CR LF; the address (up to 32 characters of 0-9 A-Z a-z and space) may be empty. */
export function signOn(address = ''): Buffer {
  if (!/^[0-9A-Za-z ]{0,32}$/.test(address)) throw new Error(`address ${JSON.stringify(address)} must be up to 32 letters, digits or spaces`);
  return Buffer.from(`/?${address}!\r\n`, 'latin1');
}

export interface Identification {
  /** Three-letter manufacturer id (FLAG), e.g. "LGZ", "ISk", "EMH". */
  manufacturer: string;
  /** The baud character Z. */
  baudChar: string;
  /** Mode the baud character implies: 'C' for 0..6 (or E with \W), 'B' for A..I, 'A' otherwise. */
  mode: Mode;
  /** Highest speed the meter offers (300 for mode A). */
  baud: number;
  /** The device identification after the baud character (and after an optional "\W" sequence). */
  ident: string;
  /** Shorter reaction time: the manufacturer's third letter is lower case ("ISk"). */
  fast: boolean;
  raw: string;
}

/** Parses "/XXXZ<ident>" (with or without CR LF). */
export function parseIdentification(line: string): Identification {
  const raw = line.replace(/\r?\n$/, '').replace(/\r$/, '');
  const m = /^\/([A-Za-z]{3})(.)((?:\\\d)?)(.{0,32})$/.exec(raw);
  if (!m) throw new Error(`identification ${JSON.stringify(raw)} is not "/XXXZ<ident>"`);
  const [, manufacturer, z, , ident] = m;
  let mode: Mode = 'A';
  let baud = 300;
  if (z in MODE_C_BAUD) { mode = 'C'; baud = MODE_C_BAUD[z]; }
  else if (z in MODE_B_BAUD) { mode = 'B'; baud = MODE_B_BAUD[z]; }
  return { manufacturer, baudChar: z, mode, baud, ident, fast: /[a-z]/.test(manufacturer[2]), raw };
}

/** The mode C baud character for a speed (300 -> '0' ... 19200 -> '6'). */
export function modeCChar(baud: number): string {
  const c = Object.keys(MODE_C_BAUD).find((k) => MODE_C_BAUD[k] === baud);
  if (c === undefined) throw new Error(`baud ${baud} is not a mode C speed (${Object.values(MODE_C_BAUD).join(', ')})`);
  return c;
}

/** Acknowledgement/option select: ACK V Z Y CR LF (V '0' normal protocol, Y '0' readout, '1' programming). */
export function ackOption(baudChar: string, programming = false): Buffer {
  return Buffer.from(`\x060${baudChar}${programming ? '1' : '0'}\r\n`, 'latin1');
}

export interface AckOption {
  protocol: string;
  baudChar: string;
  programming: boolean;
}

/** Parses ACK V Z Y CR LF. */
export function parseAckOption(data: Buffer): AckOption {
  if (data.length < 4 || data[0] !== ACK) throw new Error(`option select ${JSON.stringify(data.toString('latin1'))} does not start with ACK`);
  const s = data.toString('latin1', 1).replace(/\r\n$/, '');
  if (!/^[0-9][0-9A-Z][0-9]$/.test(s)) throw new Error(`option select ${JSON.stringify(s)} is not V Z Y`);
  return { protocol: s[0], baudChar: s[1], programming: s[2] === '1' };
}

/** STX block ETX BCC (readout: the block ends with "!" CR LF). */
export function dataMessage(block: string, end: number = ETX): Buffer {
  const body = Buffer.from(block + String.fromCharCode(end), 'latin1');
  return Buffer.concat([Buffer.from([STX]), body, Buffer.from([bcc(body)])]);
}

/**
 * Finds a complete block in `buf`: from the first SOH/STX to ETX/EOT plus the BCC byte.
 * Returns its end offset, or -1 while incomplete.
 */
export function blockEnd(buf: Uint8Array, from = 0): number {
  let start = -1;
  for (let i = from; i < buf.length; i++) {
    if (start < 0) {
      if (buf[i] === STX || buf[i] === SOH) start = i;
      continue;
    }
    if (buf[i] === ETX || buf[i] === EOT) return i + 2 <= buf.length ? i + 2 : -1;
  }
  return -1;
}

export interface Block {
  /** SOH command frames: the command letter and type ("R1", "P1", "W1", "B0"). */
  command?: string;
  /** The data between STX and ETX/EOT ('' when there is none). */
  data: string;
  /** EOT ends a partial block (more follow). */
  partial: boolean;
}

/** Checks and unpacks one SOH/STX block (BCC included); the error names the expected and received BCC. */
export function parseBlock(buf: Uint8Array): Block {
  const b = Buffer.from(buf);
  const first = b[0];
  if (first !== STX && first !== SOH) throw new Error(`block starts with 0x${first?.toString(16)}, not SOH or STX`);
  const endAt = b.length - 2;
  if (endAt < 1 || (b[endAt] !== ETX && b[endAt] !== EOT)) throw new Error('block does not end with ETX/EOT and a BCC');
  const want = bcc(b, 1, endAt + 1);
  const got = b[endAt + 1];
  if ((want & 0x7f) !== (got & 0x7f)) throw new Error(`BCC error: computed 0x${want.toString(16).padStart(2, '0')}, received 0x${got.toString(16).padStart(2, '0')}`);
  const partial = b[endAt] === EOT;
  if (first === STX) return { data: b.toString('latin1', 1, endAt), partial };
  const command = b.toString('latin1', 1, 3);
  const stx = b.indexOf(STX, 1);
  return { command, data: stx > 0 && stx < endAt ? b.toString('latin1', stx + 1, endAt) : '', partial };
}

/** SOH C D STX data ETX BCC (data omitted: SOH C D ETX BCC, as the break B0). */
export function command(cmd: string, data?: string): Buffer {
  if (!/^[PWREB][0-9]$/.test(cmd)) throw new Error(`command ${JSON.stringify(cmd)} is not one of P0-9, W0-9, R0-9, E0-9, B0-9`);
  const body = Buffer.from(data === undefined ? `${cmd}\x03` : `${cmd}\x02${data}\x03`, 'latin1');
  return Buffer.concat([Buffer.from([SOH]), body, Buffer.from([bcc(body)])]);
}

/** The break command that ends a session. */
export function breakCommand(): Buffer {
  return command('B0');
}
