/**
 * Misbehaving peers for the bounds tests: an HTTP server or a raw TCP device on 127.0.0.1 that
 * answers every request with a body that never ends, either as fast as the socket takes it
 * ('flood') or one byte every 100 ms ('trickle').
 */
import http from 'node:http';
import net from 'node:net';

export type Style = 'flood' | 'trickle';

export interface Fake { port: number; url: string; requests: number; close(): Promise<void> }

const CHUNK = Buffer.alloc(64 * 1024, 'a');

/** Writes `CHUNK`s while the peer reads them, or one byte every 100 ms; stops when the socket closes. */
function stream(w: NodeJS.WritableStream & { destroyed: boolean; once: (e: string, f: () => void) => unknown }, style: Style, byte: string): void {
  if (style === 'trickle') {
    const t = setInterval(() => { if (!w.destroyed) w.write(byte); }, 100);
    w.once('close', () => clearInterval(t));
    return;
  }
  const pump = () => { while (!w.destroyed && w.write(CHUNK)); };
  w.on('drain', pump);
  pump();
}

function track(server: net.Server): () => Promise<void> {
  const sockets = new Set<net.Socket>();
  server.on('connection', (s: net.Socket) => { sockets.add(s); s.on('close', () => sockets.delete(s)); s.on('error', () => undefined); });
  return () => new Promise<void>((resolve) => {
    for (const s of sockets) s.destroy();
    server.close(() => resolve());
  });
}

/** An HTTP server answering 200 with a JSON string that never ends. */
export async function endlessHttp(style: Style): Promise<Fake> {
  const fake = { port: 0, url: '', requests: 0 } as Fake;
  const server = http.createServer((req, res) => {
    fake.requests++;
    req.resume();
    res.writeHead(200, { 'content-type': 'application/json' });
    res.write('{"data":"');
    stream(res as unknown as Parameters<typeof stream>[0], style, 'a');
  });
  fake.close = track(server);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  fake.port = (server.address() as net.AddressInfo).port;
  fake.url = `http://127.0.0.1:${fake.port}`;
  return fake;
}

/** A TCP device that answers the first bytes it receives with an endless stream of `byte`. */
export async function endlessTcp(style: Style, byte = 'A', greeting = ''): Promise<Fake> {
  const fake = { port: 0, url: '', requests: 0 } as Fake;
  const server = net.createServer((s) => {
    s.once('data', () => {
      fake.requests++;
      if (greeting) s.write(greeting);
      stream(s as unknown as Parameters<typeof stream>[0], style, byte);
    });
  });
  fake.close = track(server);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  fake.port = (server.address() as net.AddressInfo).port;
  fake.url = `tcp://127.0.0.1:${fake.port}`;
  return fake;
}

/** Runs `job`, which must reject; returns the error, the time it took and the RSS growth in MB. */
export async function measure(job: () => Promise<unknown>): Promise<{ err: Error; ms: number; rssMb: number }> {
  const rss0 = process.memoryUsage().rss;
  const t0 = Date.now();
  let peak = rss0;
  const sampler = setInterval(() => { peak = Math.max(peak, process.memoryUsage().rss); }, 20);
  try {
    await job();
  } catch (err) {
    return { err: err as Error, ms: Date.now() - t0, rssMb: (Math.max(peak, process.memoryUsage().rss) - rss0) / 1e6 };
  } finally {
    clearInterval(sampler);
  }
  throw new Error('the call resolved although the answer never ends');
}
