/**
 * The optical port's switch-over to HDLC, IEC 62056-21 protocol mode E: at 300 baud 7E1 the client
 * sends the sign-on "/?address!", the meter identifies itself with "/XXXZ\2ident" (the "\2" escape
 * offers HDLC), the client answers ACK '2' Z '2' CR LF (protocol HDLC, binary mode at the speed Z) and
 * both sides go on at that speed in 8N1 with HDLC frames.
 *
 * The port stays at 8N1 throughout: a 7E1 character is an 8N1 character whose eighth bit is the even
 * parity bit, so the sign-on is sent with that bit set and bit 7 is cleared on what the meter answers;
 * only the speed changes (serialport can update the speed of an open port, not its framing).
 */
import { ACK, MODE_C_BAUD, modeCChar, parseIdentification, signOn, type Identification } from '../iec62056-21/frame';
import type { ByteStream } from './transport';

export interface ModeEOptions {
  /** Device address in the sign-on ('' = whichever meter is at the head). */
  address?: string;
  /** Highest speed to select (the meter's offer caps it), default 9600. */
  maxBaud?: number;
  /** Wait for the identification (default 1500 ms). */
  timeoutMs?: number;
  /** After the option select, how long the meter may take to echo it before the speed changes (default 400 ms). */
  settleMs?: number;
}

/** Even parity in bit 7 of every character (7E1 as 8N1). */
export function withEvenParity(b: Buffer): Buffer {
  return Buffer.from(b.map((c) => {
    let ones = 0;
    for (let v = c & 0x7f; v; v >>= 1) ones += v & 1;
    return (c & 0x7f) | (ones % 2 ? 0x80 : 0);
  }));
}

/** Signs on at 300 baud and switches the stream to HDLC at the agreed speed; returns the identification and speed. */
export async function switchToModeE(stream: ByteStream, o: ModeEOptions = {}): Promise<{ identification: Identification; baud: number }> {
  if (!stream.setBaud) throw new Error(`${stream.name}: mode E needs a serial port whose speed can change`);
  const timeoutMs = o.timeoutMs ?? 1500;
  await stream.setBaud(300);
  let text = '';
  let onLine: (() => void) | undefined;
  stream.onData((chunk) => {
    text += Buffer.from(chunk.map((c) => c & 0x7f)).toString('latin1');
    if (text.length > 256) text = text.slice(-256); // an identification line is at most ~40 characters
    onLine?.();
  });
  const identification = await new Promise<Identification>((resolve, reject) => {
    const timer = setTimeout(() => { onLine = undefined; reject(new Error(`${stream.name}: no identification from the meter within ${timeoutMs} ms (mode E sign-on)`)); }, timeoutMs);
    onLine = () => {
      // skip the echo of our own sign-on ("/?...!") that half-duplex optical heads return
      const m = /(\/[A-Za-z]{3}[^\r\n/]*)\r\n/.exec(text.replace(/\/\?[^!]*!\r\n/g, ''));
      if (!m) return;
      onLine = undefined;
      clearTimeout(timer);
      try { resolve(parseIdentification(m[1])); } catch (e) { reject(e); }
    };
    stream.write(withEvenParity(signOn(o.address ?? ''))).catch((e: Error) => { clearTimeout(timer); reject(e); });
  });
  if (!/\\2/.test(identification.raw) || identification.mode !== 'C') {
    throw new Error(`${stream.name}: the meter does not offer HDLC (mode E): identification ${JSON.stringify(identification.raw)}`);
  }
  const offered = MODE_C_BAUD[identification.baudChar];
  const baud = Math.min(offered, o.maxBaud ?? 9600);
  const z = modeCChar(Object.values(MODE_C_BAUD).filter((b) => b <= baud).pop() as number);
  await stream.write(withEvenParity(Buffer.from(`${String.fromCharCode(ACK)}2${z}2\r\n`, 'latin1')));
  // the option select goes out at 300 baud (6 characters take 200 ms) and some meters echo it: wait, then switch
  await new Promise((r) => setTimeout(r, o.settleMs ?? 400));
  stream.onData(() => undefined);
  const agreed = MODE_C_BAUD[z];
  await stream.setBaud(agreed);
  return { identification, baud: agreed };
}
