/**
 * Test transports to the DLMS simulator built from the codec layers: the TCP wrapper, and HDLC (the
 * client link state machine, hdlc-link.ts) over any byte stream (TCP or a pty), with a retry on
 * timeout so damaged frames are repeated. Every wait has a timeout that names what was awaited.
 */
import net from 'node:net';
import { decodeFrame, splitFrames, clientAddress, serverAddress, type HdlcParameters, type HdlcAddress } from '../../lib/protocols/dlms/hdlc';
import { HdlcClientLink, type LinkResult } from '../../lib/protocols/dlms/hdlc-link';
import { encodeWrapper, splitWrapped, type WrapperPdu } from '../../lib/protocols/dlms/wrapper';

export interface ByteStream { write(b: Buffer): void; onData(cb: (d: Buffer) => void): void; close(): Promise<void> }

export async function tcpStream(port: number): Promise<ByteStream> {
  const socket = net.connect(port, '127.0.0.1');
  await new Promise<void>((resolve, reject) => { socket.once('connect', resolve); socket.once('error', reject); });
  socket.on('error', () => undefined);
  return {
    write: (b) => { socket.write(b); },
    onData: (cb) => { socket.on('data', cb); },
    close: () => new Promise<void>((r) => { socket.once('close', () => r()); socket.destroy(); }),
  };
}

/** The wrapper: send(apdu) resolves with the answer, or undefined when none comes within `waitMs`. */
export async function wrapperClient(port: number, clientSap: number, serverSap = 1, waitMs = 2000) {
  const s = await tcpStream(port);
  let pending: Buffer = Buffer.alloc(0);
  const inbox: WrapperPdu[] = [];
  let wake: (() => void) | undefined;
  s.onData((d) => {
    const r = splitWrapped(Buffer.concat([pending, d]));
    pending = r.rest;
    inbox.push(...r.pdus);
    wake?.();
  });
  const send = async (apdu: Buffer): Promise<Buffer | undefined> => {
    s.write(encodeWrapper({ source: clientSap, destination: serverSap, apdu }));
    const deadline = Date.now() + waitMs;
    while (!inbox.length && Date.now() < deadline) await new Promise<void>((r) => { wake = r; setTimeout(r, 50); });
    const p = inbox.shift();
    if (p && (p.source !== serverSap || p.destination !== clientSap)) throw new Error(`wrapper answer from wPort ${p.source} to ${p.destination}`);
    return p?.apdu;
  };
  return { send, close: () => s.close() };
}

/** HDLC client over a byte stream: connect (SNRM/UA), send an APDU and await the answer, disconnect. */
export class HdlcTestClient {
  readonly link: HdlcClientLink;
  badFrames = 0;
  protocolErrors = 0;
  framesIn = 0;
  private pending: Buffer = Buffer.alloc(0);
  private events: NonNullable<LinkResult['event']>[] = [];
  private wake?: () => void;

  constructor(readonly stream: ByteStream, o: { client?: number; server?: HdlcAddress; proposed?: Partial<HdlcParameters> } = {}, readonly retryMs = 250, readonly tries = 12) {
    this.link = new HdlcClientLink({ client: clientAddress(o.client ?? 0x20), server: o.server ?? serverAddress(1, 17), proposed: o.proposed });
    stream.onData((d) => this.input(d));
  }

  private input(d: Buffer): void {
    const r = splitFrames(Buffer.concat([this.pending, d]));
    this.pending = r.rest;
    for (const bytes of r.frames) {
      this.framesIn++;
      let res: LinkResult;
      try { res = this.link.receive(decodeFrame(bytes)); } catch (e) {
        if ((e as { code?: string }).code === 'checksum') this.badFrames++; else this.protocolErrors++;
        continue;
      }
      if (res.send) this.stream.write(res.send);
      if (res.event) { this.events.push(res.event); this.wake?.(); }
    }
  }

  /** Writes `first`, then repeats the link's last frame every retryMs until an event comes; undefined after all tries. */
  private async await(first: Buffer, what: string, quiet = false): Promise<NonNullable<LinkResult['event']> | undefined> {
    this.events = [];
    this.stream.write(first);
    for (let i = 0; i < this.tries; i++) {
      const deadline = Date.now() + this.retryMs;
      while (!this.events.length && Date.now() < deadline) await new Promise<void>((r) => { this.wake = r; setTimeout(r, 20); });
      const ev = this.events.shift();
      if (ev) return ev;
      const again = this.link.resend();
      if (again) this.stream.write(again);
    }
    if (quiet) return undefined;
    throw new Error(`no ${what} within ${this.tries} tries of ${this.retryMs} ms`);
  }

  async connect(quiet = false) {
    return this.await(this.link.connect(), 'UA to SNRM', quiet);
  }

  /** Sends an APDU and resolves with the answer APDU (undefined: none). */
  send = async (apdu: Buffer): Promise<Buffer | undefined> => {
    const ev = await this.await(this.link.sendApdu(apdu), 'answer APDU', true);
    if (ev && ev.type !== 'apdu') throw new Error(`expected an APDU, got ${ev.type}`);
    return ev?.apdu;
  };

  async disconnect() {
    return this.await(this.link.disconnect(), 'UA to DISC');
  }
}
