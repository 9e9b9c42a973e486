/**
 * A TCP HEX responder: answers configured request -> response pairs (e.g. the Modbus RTU frames of a
 * meter behind a GSM/Ethernet converter). Requests may arrive in chunks; a response goes out once the
 * bytes received end with a known request. Unknown requests get no answer, like a real converter.
 */
import net from 'node:net';
import { parseHex, toHex } from '../../protocols/hex/hex';

export interface HexPair {
  request: string;
  response: string;
}

export interface HexSimulatorOptions {
  pairs: HexPair[];
  /** Delay before each answer, ms. */
  delayMs?: number;
  /** Sends the answer in pieces of this many bytes, 20 ms apart (0 = at once). */
  replyChunk?: number;
}

export class HexSimulator {
  private server?: net.Server;
  private readonly sockets = new Set<net.Socket>();
  private readonly pairs: { request: Buffer; response: Buffer }[];
  /** Every data event received (chunk sizes show how the client split its frames) and the answers. */
  readonly stats = { chunks: [] as number[], answered: 0, unknown: [] as string[] };
  delayMs: number;

  constructor(readonly o: HexSimulatorOptions) {
    this.pairs = o.pairs.map((p, i) => ({ request: parseHex(p.request, `pairs[${i}].request`), response: parseHex(p.response, `pairs[${i}].response`) }));
    this.delayMs = o.delayMs ?? 0;
  }

  private answer(socket: net.Socket, data: Buffer): void {
    const piece = this.o.replyChunk ?? 0;
    if (!(piece > 0)) { socket.write(data); return; }
    for (let i = 0, k = 0; i < data.length; i += piece, k++) {
      const part = data.subarray(i, i + piece);
      setTimeout(() => { if (!socket.destroyed) socket.write(part); }, k * 20);
    }
  }

  listen(port = 0, host = '127.0.0.1'): Promise<number> {
    this.server = net.createServer((socket) => {
      this.sockets.add(socket);
      let buf = Buffer.alloc(0);
      socket.on('data', (d: Buffer) => {
        this.stats.chunks.push(d.length);
        buf = Buffer.concat([buf, d]);
        const hit = this.pairs.find((p) => buf.length >= p.request.length && buf.subarray(buf.length - p.request.length).equals(p.request));
        if (!hit) {
          if (buf.length > 4096) { this.stats.unknown.push(toHex(buf.subarray(0, 64))); buf = Buffer.alloc(0); }
          return;
        }
        buf = Buffer.alloc(0);
        this.stats.answered++;
        setTimeout(() => { if (!socket.destroyed) this.answer(socket, hit.response); }, this.delayMs);
      });
      socket.on('error', () => socket.destroy());
      socket.on('close', () => this.sockets.delete(socket));
    });
    return new Promise((resolve, reject) => {
      this.server!.once('error', reject);
      this.server!.listen(port, host, () => resolve((this.server!.address() as net.AddressInfo).port));
    });
  }

  close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    return new Promise((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }
}
