/**
 * The client side of the HDLC link (IEC 62056-46), as a pure state machine with no I/O or timers:
 * the caller writes the frames it returns and feeds it every frame received (checksums already
 * checked by decodeFrame). Window size 1 (what DLMS meters use): one I-frame in flight, segments
 * acknowledged one by one with RR.
 *
 *   const link = new HdlcClientLink({ client: clientAddress(16), server: serverAddress(1, 17) });
 *   write(link.connect());                 // SNRM with the proposed parameters
 *   for each received frame: const ev = link.receive(decodeFrame(bytes))
 *     ev.send  -> write it (RR asking for the next segment, the next segment of our APDU)
 *     ev.event -> 'connected' (parameters negotiated), 'apdu' (a whole APDU, LLC header removed),
 *                 'disconnected' (UA to DISC, or DM)
 *   write(link.sendApdu(apdu));            // first segment of an APDU (LLC E6 E6 00 added)
 *   write(link.disconnect());              // DISC
 * Protocol errors (unexpected N(S)/N(R), FRMR, a frame for another address) throw DlmsDecodeError
 * with code 'format'; the caller then disconnects. Retransmission after a timeout: resend() returns
 * the last frame sent (the caller owns the timer and the retry count).
 */
import { DlmsDecodeError } from './errors';
import {
  type HdlcAddress, type HdlcFrame, type HdlcParameters, DEFAULT_PARAMETERS, LLC_COMMAND,
  decodeParameters, encodeFrame, encodeParameters, formatAddress, negotiate, segment, splitLlc,
} from './hdlc';

export type LinkState = 'disconnected' | 'connecting' | 'connected' | 'disconnecting';
export interface LinkResult {
  /** A frame to write now. */
  send?: Buffer;
  event?: { type: 'connected'; parameters: HdlcParameters } | { type: 'apdu'; apdu: Buffer } | { type: 'disconnected'; reason: 'UA' | 'DM' };
}

export interface LinkOptions {
  client: HdlcAddress;
  server: HdlcAddress;
  /** What the client proposes in SNRM (default: 128-byte information fields, window 1). */
  proposed?: Partial<HdlcParameters>;
  /** Bound on a reassembled APDU (default 65 535 bytes). */
  maxApdu?: number;
}

export class HdlcClientLink {
  state: LinkState = 'disconnected';
  parameters: HdlcParameters = { ...DEFAULT_PARAMETERS };
  private vs = 0;
  private vr = 0;
  private outgoing: { info: Buffer; segmented: boolean }[] = [];
  private incoming: Buffer[] = [];
  private incomingLength = 0;
  private last?: Buffer;
  /** Our last I-frame is not yet acknowledged by the server's N(R). */
  private awaitingAck = false;
  private readonly proposed: HdlcParameters;
  private readonly maxApdu: number;

  constructor(private readonly o: LinkOptions) {
    this.proposed = { ...DEFAULT_PARAMETERS, ...o.proposed, windowTransmit: 1, windowReceive: 1 };
    this.maxApdu = o.maxApdu ?? 65_535;
  }

  connect(): Buffer {
    this.state = 'connecting';
    this.vs = this.vr = 0;
    this.awaitingAck = false;
    this.outgoing = [];
    this.incoming = [];
    this.incomingLength = 0;
    return this.frame({ kind: 'SNRM', pf: true }, encodeParameters(this.proposed));
  }

  disconnect(): Buffer {
    this.state = 'disconnecting';
    return this.frame({ kind: 'DISC', pf: true });
  }

  /** The first frame of an APDU; the others go out as the server acknowledges each with RR. */
  sendApdu(apdu: Buffer): Buffer {
    if (this.state !== 'connected') throw new Error(`HDLC link is ${this.state}, not connected`);
    if (this.outgoing.length || this.awaitingAck) throw new Error('an APDU is still being sent or not yet acknowledged (window 1)');
    this.outgoing = segment(Buffer.concat([LLC_COMMAND, apdu]), this.parameters.maxInfoTransmit);
    return this.nextSegment();
  }

  /** The last frame written, for a retransmission after a timeout. */
  resend(): Buffer | undefined {
    return this.last;
  }

  receive(f: HdlcFrame): LinkResult {
    if (f.destination.upper !== this.o.client.upper || formatAddress(f.source) !== formatAddress(this.o.server)) {
      throw new DlmsDecodeError(`frame from ${formatAddress(f.source)} to ${formatAddress(f.destination)}, expected from ${formatAddress(this.o.server)} to ${formatAddress(this.o.client)}`);
    }
    const c = f.control;
    switch (c.kind) {
      case 'UA':
        if (this.state === 'connecting') {
          this.parameters = negotiate(this.proposed, decodeParameters(f.info));
          this.state = 'connected';
          return { event: { type: 'connected', parameters: this.parameters } };
        }
        if (this.state === 'disconnecting') return this.closed('UA');
        throw new DlmsDecodeError(`UA while ${this.state}`);
      case 'DM':
        return this.closed('DM');
      case 'FRMR':
        throw new DlmsDecodeError(`the server rejected a frame (FRMR ${f.info.toString('hex')})`);
      case 'RR':
      case 'RNR':
        this.acknowledge(c.nr as number);
        if (c.kind === 'RR' && this.outgoing.length) return { send: this.nextSegment() };
        return {};
      case 'I':
        return this.information(f);
      case 'UI':
        return f.info.length ? { event: { type: 'apdu', apdu: splitLlc(f.info).apdu } } : {};
      default:
        throw new DlmsDecodeError(`${c.kind} frame from the server`);
    }
  }

  private information(f: HdlcFrame): LinkResult {
    if (this.state !== 'connected') throw new DlmsDecodeError(`I-frame while ${this.state}`);
    const { ns, nr } = f.control as { ns: number; nr: number };
    if (ns !== this.vr) throw new DlmsDecodeError(`I-frame N(S) ${ns}, ${this.vr} expected`);
    this.acknowledge(nr);
    this.vr = (this.vr + 1) & 7;
    this.incomingLength += f.info.length;
    if (this.incomingLength > this.maxApdu) throw new DlmsDecodeError(`APDU longer than ${this.maxApdu} bytes`, -1, 'limit');
    this.incoming.push(f.info);
    if (f.segmented) return { send: this.frame({ kind: 'RR', pf: true, nr: this.vr }) };
    const whole = Buffer.concat(this.incoming);
    this.incoming = [];
    this.incomingLength = 0;
    return { event: { type: 'apdu', apdu: splitLlc(whole).apdu } };
  }

  /** N(R) from the server acknowledges our frames up to N(R)-1; with window 1 it is V(S) or V(S)+1. */
  private acknowledge(nr: number): void {
    if (nr === this.vs) return;
    if (nr === ((this.vs + 1) & 7) && this.awaitingAck) {
      this.vs = nr;
      this.awaitingAck = false;
      return;
    }
    throw new DlmsDecodeError(`N(R) ${nr} from the server, ${this.vs} or ${(this.vs + 1) & 7} expected`);
  }

  private nextSegment(): Buffer {
    const s = this.outgoing.shift() as { info: Buffer; segmented: boolean };
    this.awaitingAck = true;
    return this.frame({ kind: 'I', pf: true, ns: this.vs, nr: this.vr }, s.info, s.segmented);
  }

  private closed(reason: 'UA' | 'DM'): LinkResult {
    this.state = 'disconnected';
    this.outgoing = [];
    this.incoming = [];
    this.awaitingAck = false;
    return { event: { type: 'disconnected', reason } };
  }

  private frame(control: HdlcFrame['control'], info: Buffer = Buffer.alloc(0), segmented = false): Buffer {
    this.last = encodeFrame({ destination: this.o.server, source: this.o.client, control, segmented, info });
    return this.last;
  }
}
