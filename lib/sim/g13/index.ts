/**
 * ABB G13 energy meter gateway simulator: the RESTful JSON API of the G13 user manual
 * (2CMC489001M0201 Rev A, chapter 6) over HTTPS with a self-signed certificate (or plain HTTP).
 * State (users, meters, configuration, stored values) lives in a Gateway; server.ts does HTTP.
 */
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import { X509Certificate } from 'node:crypto';
import { Gateway } from './gateway';
import { handleRequest } from './server';
import type { G13SimulatorOptions } from './types';

export * from './types';
export { Gateway } from './gateway';
export { DEFAULT_METERS } from './meters-data';

/** The factory account (manual 4.x "Login": user name admin, password admin; change forced at first login). */
export const G13_FACTORY_ADMIN = Object.freeze({ name: 'admin', password: 'admin' });

export class G13Simulator {
  /** The gateway state; tests may inspect or adjust it (e.g. gateway.meter('ABB_8')!.spec.offline = true). */
  readonly gateway: Gateway;
  private readonly tls: boolean;
  private server: http.Server | https.Server | null = null;
  private readonly sockets = new Set<net.Socket>();
  private port = 0;
  private host = '127.0.0.1';
  private fp: string | null = null;
  private offline = false;

  constructor(opts: G13SimulatorOptions = {}) {
    this.tls = opts.tls !== false;
    this.gateway = new Gateway(opts);
  }

  /** Starts listening (port 0 = any free port); resolves with the port. */
  async listen(port = 0, host = '127.0.0.1'): Promise<number> {
    if (this.server) throw new Error('G13Simulator: already listening');
    const handler = (req: http.IncomingMessage, res: http.ServerResponse) => {
      if (this.offline) { req.socket.destroy(); return; }
      handleRequest(this.gateway, req, res);
    };
    let server: http.Server | https.Server;
    if (this.tls) {
      // selfsigned 5 is async-only (generate returns a Promise).
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      const selfsigned = require('selfsigned') as { generate(a: unknown, o: unknown): Promise<{ private: string; cert: string }> };
      const pems = await selfsigned.generate([{ name: 'commonName', value: 'ABB Energy Meter Gateway' }], {
        keyType: 'ec', days: 3650, algorithm: 'sha256',
        extensions: [{ name: 'subjectAltName', altNames: [{ type: 7, ip: '127.0.0.1' }, { type: 2, value: 'localhost' }] }],
      });
      this.fp = new X509Certificate(pems.cert).fingerprint256;
      server = https.createServer({ key: pems.private, cert: pems.cert }, handler);
    } else {
      server = http.createServer(handler);
    }
    server.on('connection', (s: net.Socket) => {
      if (this.offline) { s.destroy(); return; }
      this.sockets.add(s);
      s.on('close', () => this.sockets.delete(s));
    });
    server.on('secureConnection', (s: net.Socket) => { if (this.offline) s.destroy(); });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => { server.off('error', reject); resolve(); });
    });
    this.server = server;
    this.host = host;
    this.port = (server.address() as net.AddressInfo).port;
    return this.port;
  }

  /** https://127.0.0.1:PORT (or http:// with tls: false). */
  get url(): string {
    const h = this.host.includes(':') ? `[${this.host}]` : this.host === '0.0.0.0' ? '127.0.0.1' : this.host;
    return `${this.tls ? 'https' : 'http'}://${h}:${this.port}`;
  }

  /** SHA-256 fingerprint of the certificate as X509Certificate.fingerprint256 prints it; null on plain HTTP. */
  get fingerprint256(): string | null {
    return this.fp;
  }

  /** Gateway unreachable: open connections are dropped and new ones closed at once. */
  setOffline(on: boolean): void {
    this.offline = on;
    if (on) for (const s of this.sockets) s.destroy();
  }

  /**
   * A meter's outage: its per-meter resources answer 500 "received invalid response from COSEM." while
   * its load profile keeps recording (records exist for every interval, readable again once it is back).
   */
  setMeterOffline(serial: string, on: boolean): void {
    const m = this.gateway.meter(serial);
    if (!m) throw new Error(`meter ${JSON.stringify(serial)} is not simulated (${this.gateway.meters.map((x) => x.spec.serial).join(', ')})`);
    m.spec.offline = on;
  }

  async close(): Promise<void> {
    this.gateway.stop();
    const server = this.server;
    this.server = null;
    if (!server) return;
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}
