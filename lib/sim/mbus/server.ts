/**
 * A simulated M-Bus: several slaves behind one TCP port (as a transparent M-Bus gateway), and
 * optionally a pseudo-terminal bridged to it by socat for serial tests. Answers SND_NKE (ACK),
 * REQ_UD2 (RSP_UD), SND_UD selection by secondary address with wildcards (CI 0x52), and when
 * several slaves answer at once sends what the master would see on a real bus: garbled bytes.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import { ACK, ADDRESS, C, CI_SELECT, FrameSplitter, decodeFrame, decodeSecondary, secondaryMatches } from '../../protocols/mbus/frame';
import { SimSlave, type SlaveConfig, type SlaveFault } from './slave';

export interface MbusSimOptions {
  slaves: SlaveConfig[];
  /** Delay before an answer, ms (a real slave needs 11 bit times at least). */
  answerDelay?: number;
  /** Multiplies time for the advancing counters. */
  speed?: number;
}

/**
 * Superimposes the answers of several slaves talking at once: each later one a fraction of a bit
 * behind (wired-AND of shifted bits), as a master sees a collision. Never a clean frame.
 */
export function garble(answers: Buffer[]): Buffer {
  const n = Math.max(...answers.map((a) => a.length));
  const out = Buffer.alloc(n + 1, 0xff);
  answers.forEach((a, k) => {
    for (let i = 0; i < a.length; i++) out[i] &= k === 0 ? a[i] : ((a[i] >> k) | (0xff << (8 - k))) & 0xff;
  });
  out[n] = 0x00;
  if ([ACK, 0x10, 0x68].includes(out[0])) out[0] ^= 0x01;
  return out;
}

export class MbusSimulator {
  readonly slaves: SimSlave[];
  private server: net.Server | null = null;
  private sockets = new Set<net.Socket>();
  private bridges: ChildProcess[] = [];
  private answerDelay: number;
  readonly stats = { frames: 0, badFrames: 0, collisions: 0, selects: 0 };

  constructor(options: MbusSimOptions) {
    this.slaves = options.slaves.map((s) => new SimSlave(s));
    for (const s of this.slaves) s.speed = options.speed ?? 1;
    this.answerDelay = options.answerDelay ?? 5;
  }

  slave(idOrPrimary: string | number): SimSlave {
    const s = this.slaves.find((x) => (typeof idOrPrimary === 'number' ? x.primary === idOrPrimary : x.address.id === idOrPrimary));
    if (!s) throw new RangeError(`no simulated slave ${JSON.stringify(idOrPrimary)}`);
    return s;
  }

  setFault(idOrPrimary: string | number, fault: SlaveFault): void {
    this.slave(idOrPrimary).fault = fault;
  }

  /** The answer to one request frame, or null for silence. */
  handle(raw: Buffer): Buffer | null {
    let f;
    try {
      f = decodeFrame(raw);
    } catch {
      this.stats.badFrames++;
      return null; // a slave ignores a frame it cannot read
    }
    this.stats.frames++;
    if (f.kind === 'ack') return null;
    const target = (a: number) => (a === ADDRESS.SECONDARY ? this.slaves.filter((s) => s.selected)
      : a === ADDRESS.BROADCAST || a === ADDRESS.BROADCAST_REPLY ? this.slaves : this.slaves.filter((s) => s.primary === a));
    const answers = (list: (Buffer | null)[]) => {
      const got = list.filter((b): b is Buffer => b !== null);
      if (got.length === 0) return null;
      if (got.length === 1) return got[0];
      this.stats.collisions++;
      return garble(got);
    };
    const ack = (s: SimSlave) => (s.fault === 'silent' ? null : s.fault === 'collision' ? garble([Buffer.from([ACK]), Buffer.from([ACK])]) : Buffer.from([ACK]));
    if (f.kind === 'short') {
      const slaves = target(f.a);
      if ((f.c & 0xcf) === C.SND_NKE) {
        for (const s of slaves) { s.reset(); if (f.a === ADDRESS.SECONDARY) s.selected = false; }
        return f.a === ADDRESS.BROADCAST ? null : answers(slaves.map(ack));
      }
      if ((f.c & 0xcf) === (C.REQ_UD2 & 0xcf)) {
        return f.a === ADDRESS.BROADCAST ? null : answers(slaves.map((s) => {
          const r = s.respond(f.c, f.a);
          return r && s.fault === 'collision' ? garble([r, r]) : r;
        }));
      }
      return null;
    }
    if (f.kind === 'long' && (f.c & 0xcf) === (C.SND_UD & 0xcf) && f.a === ADDRESS.SECONDARY && f.ci === CI_SELECT) {
      this.stats.selects++;
      let mask;
      try { mask = decodeSecondary(f.data); } catch { return null; }
      const matching: SimSlave[] = [];
      for (const s of this.slaves) {
        s.selected = secondaryMatches(mask, s.address);
        if (s.selected) { s.reset(); matching.push(s); }
      }
      return answers(matching.map(ack));
    }
    if ((f.kind === 'long' || f.kind === 'control') && (f.c & 0xcf) === (C.SND_UD & 0xcf)) {
      // Application reset (CI 0x50) with a subcode chooses what the next readout holds; other SND_UD: acknowledged.
      if (f.ci === 0x50) for (const s of target(f.a)) s.applicationReset(f.kind === 'long' && f.data.length ? f.data[0] : 0);
      return answers(target(f.a).map(ack));
    }
    return null;
  }

  private attach(socket: net.Socket): void {
    this.sockets.add(socket);
    const splitter = new FrameSplitter();
    socket.on('data', (chunk) => {
      for (const frame of splitter.push(chunk).frames) {
        const answer = this.handle(frame);
        if (answer) setTimeout(() => { if (!socket.destroyed) socket.write(answer); }, this.answerDelay);
      }
    });
    socket.on('error', () => socket.destroy());
    socket.on('close', () => this.sockets.delete(socket));
  }

  /** Listens on TCP (port 0 = any free port) and resolves with the port. */
  listen(port = 0, host = '127.0.0.1'): Promise<number> {
    return new Promise((resolve, reject) => {
      const server = net.createServer((s) => this.attach(s));
      server.once('error', reject);
      server.listen(port, host, () => {
        this.server = server;
        resolve((server.address() as net.AddressInfo).port);
      });
    });
  }

  get port(): number | undefined {
    const a = this.server?.address();
    return a && typeof a === 'object' ? a.port : undefined;
  }

  /**
   * A pseudo-terminal at `link` (a symlink path) whose bytes reach this bus: socat bridges it to
   * our TCP port. Needs listen() first and socat installed (Debian package socat).
   */
  async openPty(link: string, socat = 'socat'): Promise<string> {
    const port = this.port;
    if (port === undefined) throw new Error('listen() before openPty()');
    const child = spawn(socat, ['-d', `pty,raw,echo=0,link=${link}`, `tcp:127.0.0.1:${port}`], { stdio: 'ignore' });
    this.bridges.push(child);
    const deadline = Date.now() + 10_000;
    while (!fs.existsSync(link)) {
      if (child.exitCode !== null) throw new Error(`socat exited with status ${child.exitCode}`);
      if (Date.now() > deadline) throw new Error(`socat did not create ${link} within 10 s`);
      await new Promise((r) => setTimeout(r, 50));
    }
    return link;
  }

  describe(): string {
    const where = this.port !== undefined ? `tcp 127.0.0.1:${this.port}` : 'no TCP port';
    return `M-Bus ${where}: ${this.slaves.map((s) => `${s.primary}/${s.address.id} ${s.address.manufacturer} ${s.config.sample.name}${s.fault !== 'none' ? ` [${s.fault}]` : ''}`).join(', ')}`;
  }

  async close(): Promise<void> {
    for (const b of this.bridges) if (b.exitCode === null) b.kill('SIGTERM');
    this.bridges = [];
    for (const s of this.sockets) s.destroy();
    const server = this.server;
    this.server = null;
    if (server) await new Promise<void>((r) => server.close(() => r()));
  }
}
