/**
 * The DLMS/COSEM meter simulator: one meter (lib/protocols/dlms/server*.ts) served over the TCP
 * wrapper (IEC 62056-47, port 4059), HDLC over TCP (a serial-to-TCP converter) and HDLC on a serial
 * device or pty. Faults, each optionally in a time window (lib/sim/fault-window.ts):
 *   wrong-key          the server holds other keys (HLS pass 3 and ciphered AARQs fail)
 *   frame-errors:SHARE that share of the HDLC frames it sends has a bad FCS (default 0.25)
 *   busy               associations are refused (AARE rejected-transient; HDLC SNRM answered with DM)
 *   offline            nothing is answered; the load profile keeps recording (it is a function of time)
 */
import net from 'node:net';
import { decodeFrame, encodeFrame, splitFrames } from '../../protocols/dlms/hdlc';
import { HdlcServerLink } from '../../protocols/dlms/hdlc-server';
import { type DlmsAssociation, DlmsServer } from '../../protocols/dlms/server';
import { CosemMeter, type MeterModelOptions } from '../../protocols/dlms/server-objects';
import type { SecurityKeys } from '../../protocols/dlms/security';
import { encodeWrapper, splitWrapped } from '../../protocols/dlms/wrapper';
import { type FaultWindow, scheduleFault } from '../fault-window';
import { parseLine } from '../serial/line';
import { openLinePort } from '../serial/port';
import { type SimPushOptions, SimPusher } from './push';

export type DlmsFaultKind = 'wrong-key' | 'frame-errors' | 'busy' | 'offline';
export interface DlmsFault { kind: DlmsFaultKind; share?: number; window?: FaultWindow }

export interface DlmsSimOptions extends MeterModelOptions {
  password: Buffer;
  keys: SecurityKeys;
  systemTitle: Buffer;
  /** HDLC server address: logical device (upper) and physical (lower). */
  logical: number;
  physical: number;
  /** Largest HDLC information field (default 128). */
  maxInfo?: number;
  /** The server's max receive PDU size (default 1024). */
  pduSize?: number;
  faults?: DlmsFault[];
}

/** Bytes kept from a stream while waiting for the rest of a frame or PDU. */
const MAX_PENDING = 70_000;

/** The key held under the wrong-key fault: every byte inverted. */
const otherKey = (k: Buffer) => Buffer.from(k.map((b) => b ^ 0xff));

export class DlmsSimulator {
  readonly meter: CosemMeter;
  readonly server: DlmsServer;
  offline = false;
  frameErrorShare = 0;
  private framesSent = 0;
  private readonly servers: net.Server[] = [];
  private readonly sockets = new Set<net.Socket>();
  private readonly closers: (() => Promise<void>)[] = [];
  private readonly cancels: (() => void)[] = [];
  private serialWrite?: (b: Buffer) => void;
  pusher?: SimPusher;

  constructor(readonly o: DlmsSimOptions) {
    this.meter = new CosemMeter(o);
    this.server = new DlmsServer({ meter: this.meter, password: o.password, keys: o.keys, systemTitle: o.systemTitle, maxReceivePduSize: o.pduSize, serverSap: o.logical });
    const wrong: SecurityKeys = { encryptionKey: otherKey(o.keys.encryptionKey), authenticationKey: o.keys.authenticationKey && otherKey(o.keys.authenticationKey) };
    for (const f of o.faults ?? []) {
      const set = (on: boolean) => {
        if (f.kind === 'wrong-key') this.server.keys = on ? wrong : o.keys;
        if (f.kind === 'busy') this.server.busy = on;
        if (f.kind === 'offline') this.offline = on;
        if (f.kind === 'frame-errors') this.frameErrorShare = on ? f.share ?? 0.25 : 0;
      };
      this.cancels.push(scheduleFault(f.window, () => set(true), () => set(false)));
    }
  }

  /** Serves the wrapper on TCP; resolves with the port (0 = any free port). */
  listenWrapper(port = 4059, host = '127.0.0.1'): Promise<number> {
    return this.listen(port, host, (socket) => {
      const associations = new Map<number, DlmsAssociation>();
      let pending: Buffer = Buffer.alloc(0);
      socket.on('data', (d) => {
        pending = Buffer.concat([pending, d]);
        let pdus;
        try { ({ pdus, rest: pending } = splitWrapped(pending)); } catch { socket.destroy(); return; }
        if (pending.length > MAX_PENDING) { socket.destroy(); return; }
        for (const p of pdus) {
          if (this.offline || p.destination !== this.o.logical) continue;
          let a = associations.get(p.source);
          if (!a) associations.set(p.source, (a = this.server.associate(p.source)));
          const answer = a.handle(p.apdu);
          if (answer && !socket.destroyed) socket.write(encodeWrapper({ source: p.destination, destination: p.source, apdu: answer }));
        }
      });
    });
  }

  /** Serves HDLC on TCP (a converter in front of the meter's serial port); resolves with the port. */
  listenHdlc(port = 0, host = '127.0.0.1'): Promise<number> {
    return this.listen(port, host, (socket) => {
      const h = this.hdlc((b) => { if (!socket.destroyed) socket.write(b); });
      socket.on('data', h);
    });
  }

  /** Serves HDLC on a serial device or one end of a socat pty pair. */
  async openSerial(path: string, baudRate = 9600): Promise<void> {
    const port = await openLinePort(path, parseLine('8N1', baudRate));
    port.onData(this.hdlc((b) => port.write(b)));
    this.serialWrite = (b) => port.write(b);
    this.closers.push(() => port.close());
  }

  /** Pushes a DataNotification every interval to a TCP address and/or out of the serial line (push.ts). */
  startPush(o: SimPushOptions): SimPusher {
    const self = this;
    this.pusher = new SimPusher(o, {
      physics: this.meter.physics, meterNow: () => this.meter.meterNow(), utcOffsetMinutes: this.meter.utcOffsetMinutes,
      keys: this.o.keys, systemTitle: this.o.systemTitle, offline: () => this.offline,
      get serialWrite() { return self.serialWrite; },
    });
    this.pusher.start();
    this.closers.unshift(async () => this.pusher?.close());
    return this.pusher;
  }

  /** One HDLC line: frames in, frames out (damaged under frame-errors); returns the data handler. */
  private hdlc(write: (b: Buffer) => void): (d: Buffer) => void {
    const link = new HdlcServerLink({ logical: this.o.logical, physical: this.o.physical, maxInfo: this.o.maxInfo });
    let association: DlmsAssociation | undefined;
    let pending: Buffer = Buffer.alloc(0);
    const out = (frame: Buffer) => {
      const n = this.framesSent++;
      const s = this.frameErrorShare;
      // every 1/share-th frame, evenly spread
      if (s > 0 && Math.floor((n + 1) * s) > Math.floor(n * s)) {
        const bad = Buffer.from(frame);
        bad[bad.length - 2] ^= 0x5a;
        write(bad);
      } else {
        write(frame);
      }
    };
    return (d: Buffer) => {
      const split = splitFrames(Buffer.concat([pending, d]));
      pending = split.rest.length > MAX_PENDING ? Buffer.alloc(0) : split.rest;
      for (const bytes of split.frames) {
        if (this.offline) continue;
        let frame;
        try { frame = decodeFrame(bytes); } catch { continue; } // a damaged frame: the client repeats it
        if (this.server.busy && frame.control.kind === 'SNRM' && link.addressedToUs(frame.destination)) {
          out(encodeFrame({ destination: frame.source, source: frame.destination, control: { kind: 'DM', pf: true }, segmented: false, info: Buffer.alloc(0) }));
          continue;
        }
        const r = link.receive(frame);
        if (r.connected !== undefined) association = this.server.associate(r.connected);
        if (r.disconnected) association = undefined;
        for (const f of r.send) out(f);
        if (r.apdu && association) {
          const answer = association.handle(r.apdu);
          if (answer) for (const f of link.respond(answer)) out(f);
        }
      }
    };
  }

  private listen(port: number, host: string, onSocket: (s: net.Socket) => void): Promise<number> {
    const server = net.createServer((socket) => {
      this.sockets.add(socket);
      socket.on('error', () => socket.destroy());
      socket.on('close', () => this.sockets.delete(socket));
      onSocket(socket);
    });
    this.servers.push(server);
    return new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => resolve((server.address() as net.AddressInfo).port));
    });
  }

  async close(): Promise<void> {
    for (const c of this.cancels.splice(0)) c();
    for (const s of this.sockets) s.destroy();
    for (const c of this.closers.splice(0)) await c();
    await Promise.all(this.servers.splice(0).map((s) => new Promise<void>((r) => s.close(() => r()))));
  }
}
