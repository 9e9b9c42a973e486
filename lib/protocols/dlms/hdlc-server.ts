/**
 * The server side of the HDLC link (IEC 62056-46) as a pure state machine, no I/O or timers: the
 * caller feeds every frame that decoded (bad HCS/FCS frames are dropped before, so the client retries)
 * and writes what comes back. Window 1, as DLMS meters use it.
 *
 *   const link = new HdlcServerLink({ logical: 1, physical: 17 });
 *   const r = link.receive(decodeFrame(bytes))   r.send: frames to write; r.apdu: a whole request (LLC removed);
 *                                                r.connected / r.disconnected: the client SAP came / went
 *   write(...link.respond(responseApdu))         first segment; the others go out as the client sends RR
 *
 * Addresses: a frame for another server address (upper = logical device, lower = physical, in 1, 2 or
 * 4 bytes; a 1-byte address names the logical device alone) is ignored, as on a multi-drop bus. SNRM
 * negotiates the information field lengths (the smaller of what each side offers) and resets N(S)/N(R);
 * DISC answers UA when connected, DM when not; any other frame while disconnected gets DM. A repeated
 * I-frame or an RR that does not acknowledge our last frame gets that frame again (a lost or damaged
 * answer); an I-frame out of sequence gets RR with the N(R) expected.
 */
import {
  type HdlcAddress, type HdlcFrame, type HdlcParameters, LLC_RESPONSE,
  decodeParameters, encodeFrame, encodeParameters, segment, splitLlc,
} from './hdlc';

export interface HdlcServerOptions {
  /** Logical device address (upper HDLC address), 1 = management logical device. */
  logical: number;
  /** Physical device address (lower HDLC address); undefined = any. */
  physical?: number;
  /** Largest information field the server sends and takes (default 128, at most 2030). */
  maxInfo?: number;
  /** Bound on a reassembled request APDU (default 65 535 bytes). */
  maxApdu?: number;
}

export interface ServerLinkResult {
  send: Buffer[];
  apdu?: Buffer;
  /** A client (its SAP) connected with SNRM. */
  connected?: number;
  /** The client disconnected (DISC). */
  disconnected?: boolean;
}

export class HdlcServerLink {
  state: 'disconnected' | 'connected' = 'disconnected';
  parameters?: HdlcParameters;
  client?: HdlcAddress;
  /** The server address as the client wrote it: answers use the same form. */
  private self?: HdlcAddress;
  private vs = 0;
  private vr = 0;
  private outgoing: { info: Buffer; segmented: boolean }[] = [];
  private incoming: Buffer[] = [];
  private incomingLength = 0;
  private last?: Buffer;
  private readonly maxInfo: number;
  private readonly maxApdu: number;

  constructor(private readonly o: HdlcServerOptions) {
    this.maxInfo = Math.min(2030, Math.max(32, o.maxInfo ?? 128));
    this.maxApdu = o.maxApdu ?? 65_535;
  }

  /** True when the frame is addressed to this server. */
  addressedToUs(a: HdlcAddress): boolean {
    if (a.upper !== this.o.logical) return false;
    return a.lower === undefined || this.o.physical === undefined || a.lower === this.o.physical;
  }

  receive(f: HdlcFrame): ServerLinkResult {
    if (!this.addressedToUs(f.destination)) return { send: [] };
    const c = f.control;
    if (c.kind === 'SNRM') return this.snrm(f);
    if (this.state === 'disconnected' || f.source.upper !== this.client?.upper) {
      return { send: [this.frame(f.source, f.destination, { kind: 'DM', pf: true })] };
    }
    switch (c.kind) {
      case 'DISC': {
        const ua = this.frame(f.source, f.destination, { kind: 'UA', pf: true });
        this.state = 'disconnected';
        this.outgoing = [];
        this.incoming = [];
        return { send: [ua], disconnected: true };
      }
      case 'I': return this.information(f);
      case 'RR': case 'RNR': {
        const nr = c.nr as number;
        if (nr !== this.vs && this.last) return { send: [this.last] };
        if (c.kind === 'RR' && this.outgoing.length) return { send: [this.nextSegment()] };
        return { send: [this.control({ kind: 'RR', pf: true, nr: this.vr })] };
      }
      default:
        return { send: [] };
    }
  }

  /** The first frame of the response APDU (LLC E6 E7 00 added). */
  respond(apdu: Buffer): Buffer[] {
    if (this.state !== 'connected' || !this.parameters) return [];
    this.outgoing = segment(Buffer.concat([LLC_RESPONSE, apdu]), this.parameters.maxInfoTransmit);
    return [this.nextSegment()];
  }

  private snrm(f: HdlcFrame): ServerLinkResult {
    let proposed: HdlcParameters;
    try { proposed = decodeParameters(f.info); } catch { return { send: [this.frame(f.source, f.destination, { kind: 'FRMR', pf: true })] }; }
    // what the server sends is bounded by what the client receives, and the other way round
    this.parameters = {
      maxInfoTransmit: Math.min(this.maxInfo, proposed.maxInfoReceive), maxInfoReceive: Math.min(this.maxInfo, proposed.maxInfoTransmit),
      windowTransmit: 1, windowReceive: 1,
    };
    this.state = 'connected';
    this.client = f.source;
    this.self = f.destination;
    this.vs = this.vr = 0;
    this.outgoing = [];
    this.incoming = [];
    this.incomingLength = 0;
    const ua = this.control({ kind: 'UA', pf: true }, encodeParameters(this.parameters));
    return { send: [ua], connected: f.source.upper };
  }

  private information(f: HdlcFrame): ServerLinkResult {
    const { ns, nr } = f.control as { ns: number; nr: number };
    if (ns === ((this.vr + 7) & 7) && this.last) return { send: [this.last] };
    if (ns !== this.vr) return { send: [this.control({ kind: 'RR', pf: true, nr: this.vr })] };
    if (nr !== this.vs) return { send: this.last ? [this.last] : [] };
    this.vr = (this.vr + 1) & 7;
    this.outgoing = [];
    this.incomingLength += f.info.length;
    if (this.incomingLength > this.maxApdu) {
      this.incoming = [];
      this.incomingLength = 0;
      return { send: [this.control({ kind: 'FRMR', pf: true })] };
    }
    this.incoming.push(f.info);
    if (f.segmented) return { send: [this.control({ kind: 'RR', pf: true, nr: this.vr })] };
    const whole = Buffer.concat(this.incoming);
    this.incoming = [];
    this.incomingLength = 0;
    return { send: [], apdu: splitLlc(whole).apdu };
  }

  private nextSegment(): Buffer {
    const s = this.outgoing.shift() as { info: Buffer; segmented: boolean };
    const frame = this.control({ kind: 'I', pf: true, ns: this.vs, nr: this.vr }, s.info, s.segmented);
    this.vs = (this.vs + 1) & 7;
    return frame;
  }

  private control(control: HdlcFrame['control'], info: Buffer = Buffer.alloc(0), segmented = false): Buffer {
    return this.frame(this.client as HdlcAddress, this.self as HdlcAddress, control, info, segmented);
  }

  private frame(to: HdlcAddress, from: HdlcAddress, control: HdlcFrame['control'], info: Buffer = Buffer.alloc(0), segmented = false): Buffer {
    this.last = encodeFrame({ destination: to, source: from, control, segmented, info });
    return this.last;
  }
}
